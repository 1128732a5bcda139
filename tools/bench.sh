#!/usr/bin/env bash
# The gateway's performance benchmark (issue 13), on loopback only:
#
#   tools/bench.sh            full run, about 1.5 minutes after the build
#   tools/bench.sh --smoke    a small run (< 60 s after the build) that only
#                             checks that every figure was produced
#   tools/bench.sh --perf     also `perf record` the gateway during the
#                             50x10 run and print its top symbols
#   tools/bench.sh --only=d   only the sections named (letters a-e, e.g.
#                             --only=cd); with --smoke too
#   BENCH_WATCHERS=10000 tools/bench.sh --only=d
#                             (d) with that many watchers (default 1000)
#   tools/bench.sh --load     section (b) only, REPEAT times (default 1), as
#                             a table of slowest/median per round
#   BENCH_GATEWAY=PATH        run that gateway binary instead of the one
#                             built here (e.g. a copy built from main)
#   LIST_BASELINE_CTL=PATH tools/bench.sh --only=e
#                             (e) also runs the fivetranctl at PATH (e.g. built
#                             before a change) in the same rounds
#
# Builds the gateway, the emulator and //tools/bench:bench_client with
# -c opt, starts emulators and gateways on OS-chosen loopback ports, and
# prints, side by side, what the README's "Performance" section shows:
#   (a) sequential GetConnection: gateway vs the same GET straight to the
#       emulator over one keep-alive connection, and vs the smallest relay
#       that never blocks a gRPC thread (//tools/bench:relay_floor), in
#       alternating rounds; gateway CPU per call
#   (b) throughput, 50 gRPC connections x 10 calls in flight, vs 50 keep-alive
#       HTTP/1.1 connections straight to the emulator
#   (c) fan-in: N concurrent GetConnection of K connections, upstream latency L
#   (d) watchers: W WatchConnectionSync streams on K connections, poll 1 s
#   (e) listing: every connection of a group of LIST_ITEMS, as JSON lines, by
#       fivetranctl --all through the gateway vs a Python pager over REST
#       (tools/bench/list_bench.py)
# The machine is shared: compare figures of one run, not across runs.
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=0
perf=0
only=abcde
load_only=0
for arg in "$@"; do
  case "$arg" in
    --smoke) smoke=1 ;;
    --perf) perf=1 ;;
    --load) load_only=1 ;;
    --only=*)
      only="${arg#--only=}"
      if ! [[ "$only" =~ ^[a-e]+$ ]]; then
        echo "bench.sh: --only takes section letters a-e, e.g. --only=d" >&2
        exit 2
      fi
      ;;
    *) echo "usage: tools/bench.sh [--smoke] [--perf] [--only=SECTIONS] [--load]" >&2; exit 2 ;;
  esac
done
# run X: whether section X is measured.
run() { [[ "$only" == *"$1"* ]]; }

# Sizes. Connection ids bench_0000.. are GetConnection-identical copies of the
# seeded decent_dropsy; (a) and (b) cycle through all SEED_IDS of them, more
# than calls in flight, so no two concurrent calls share an id and the
# gateway cannot coalesce them: one upstream GET per call, as direct.
SEED_IDS=2000
SEQ_ROUNDS=5 SEQ_CALLS=1000 SEQ_WARMUP=200
LOAD_ROUNDS=3 LOAD_CONNS=50 LOAD_STREAMS=10 LOAD_SECONDS=5
FANIN_CALLS=10000 FANIN_IDS=100 FANIN_CHANNELS=20 LATENCY=1s
SAME_CALLS=1000
WATCHERS=1000 WATCH_IDS=100 WATCH_POLL=1s WATCH_SECONDS=6 WATCH_CHANNELS=10
LIST_ITEMS=20000 LIST_ROUNDS=3
if [ -n "${BENCH_WATCHERS:-}" ]; then WATCHERS="$BENCH_WATCHERS"; fi
if [ "$smoke" = 1 ]; then
  SEED_IDS=200
  SEQ_ROUNDS=1 SEQ_CALLS=200 SEQ_WARMUP=20
  LOAD_ROUNDS=1 LOAD_CONNS=5 LOAD_STREAMS=4 LOAD_SECONDS=2
  FANIN_CALLS=100 FANIN_IDS=10 FANIN_CHANNELS=2 LATENCY=500ms
  SAME_CALLS=50
  WATCHERS=40 WATCH_IDS=10 WATCH_SECONDS=3 WATCH_CHANNELS=2
  LIST_ITEMS=1000 LIST_ROUNDS=1
fi

bash tools/setup.sh
if [ "$perf" = 1 ] && ! command -v perf >/dev/null; then
  echo "bench.sh: --perf needs perf (Debian package linux-perf)" >&2
  exit 2
fi
bazel build -c opt //server:fivetran_gateway //emulator:fivetran_emulator \
  //tools/bench:bench_client //tools/bench:page_reader_bench //tools/bench:relay_floor \
  //client:fivetranctl
bin=$(bazel info -c opt bazel-bin 2>/dev/null)
emulator_bin="$bin/emulator/fivetran_emulator"
gateway_bin="${BENCH_GATEWAY:-$bin/server/fivetran_gateway}"
client="$bin/tools/bench/bench_client"
relay_bin="$bin/tools/bench/relay_floor"
fivetranctl_bin="$bin/client/fivetranctl"

work=$(mktemp -d)
pids=()
client_prefix=()  # (a) runs the client under taskset when it places processes
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# The built-in seed plus group bench_group with SEED_IDS copies of
# decent_dropsy (ids bench_0000...) and group list_group with LIST_ITEMS
# (ids list_00000...).
"$emulator_bin" --dump_seed | /usr/bin/python3 -c '
import copy, json, sys
seed = json.load(sys.stdin)
n = int(sys.argv[1])
seed["groups"].append({"id": "bench_group", "name": "Bench",
                       "created_at": "2024-01-01T00:00:00.000000Z"})
model = next(c for c in seed["connections"] if c["id"] == "decent_dropsy")
for i in range(n):
    c = copy.deepcopy(model)
    c["id"] = "bench_%04d" % i
    c["group_id"] = "bench_group"
    c["schema"] = "bench_%04d" % i
    seed["connections"].append(c)
seed["groups"].append({"id": "list_group", "name": "List",
                       "created_at": "2024-01-01T00:00:00.000000Z"})
for i in range(int(sys.argv[2])):
    c = copy.deepcopy(model)
    c["id"] = "list_%05d" % i
    c["group_id"] = "list_group"
    c["schema"] = "list_%05d" % i
    seed["connections"].append(c)
json.dump(seed, sys.stdout)
' "$SEED_IDS" "$LIST_ITEMS" >"$work/seed.json"

# wait_port FILE: the port a process wrote to FILE (10 s at most).
wait_port() {
  for _ in $(seq 100); do
    if [ -s "$1" ]; then cat "$1"; return; fi
    sleep 0.1
  done
  echo "bench.sh: no port in $1" >&2
  exit 1
}

# start_emulator NAME FLAGS...: sets NAME_url and NAME_pid.
start_emulator() {
  local name="$1"
  shift
  "$emulator_bin" --listen=127.0.0.1:0 --port_file="$work/$name.port" \
    --seed_file="$work/seed.json" --rate_limit_per_hour=2000000000 \
    --request_log_capacity=1000000 --threads=256 "$@" >/dev/null 2>"$work/$name.log" &
  pids+=($!)
  printf -v "${name}_pid" '%s' "$!"
  printf -v "${name}_url" 'http://127.0.0.1:%s' "$(wait_port "$work/$name.port")"
}

# start_server NAME BIN BASE_URL FLAGS...: BIN (the gateway or the relay)
# against BASE_URL with the emulator's credentials, on a free loopback port;
# sets NAME_addr and NAME_pid. Its output goes to NAME.log.
start_server() {
  local name="$1" server_bin="$2" base="$3"
  shift 3
  FIVETRAN_API_KEY=demo_api_key FIVETRAN_API_SECRET=demo_api_secret \
    "$server_bin" --listen=127.0.0.1:0 --port_file="$work/$name.port" \
    --fivetran_base_url="$base" "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  printf -v "${name}_pid" '%s' "$!"
  printf -v "${name}_addr" '127.0.0.1:%s' "$(wait_port "$work/$name.port")"
}

# start_gateway NAME BASE_URL FLAGS...: start_server with the gateway. Default
# flags, log level info (one line per RPC, to a file).
start_gateway() {
  local name="$1" base="$2"
  shift 2
  start_server "$name" "$gateway_bin" "$base" "$@"
  # The gateway logs how it asks for answers: a figure taken with another
  # compression than the header says would compare unlike things.
  if [[ " $* " == *" --upstream_compression=gzip "* ]] &&
    ! grep -q "upstream answers asked for gzip" "$work/$name.log"; then
    echo "bench.sh: gateway $name does not ask for gzip:" >&2
    cat "$work/$name.log" >&2
    exit 1
  fi
}

# start_relay NAME BASE_URL FLAGS...: start_server with //tools/bench:relay_floor.
start_relay() {
  local name="$1" base="$2"
  shift 2
  start_server "$name" "$relay_bin" "$base" "$@"
}

# run_client FLAGS...: one bench_client measurement; its key=value line.
run_client() {
  local out
  if ! out=$(${client_prefix[@]+"${client_prefix[@]}"} "$client" --id_prefix=bench_ --ids="$SEED_IDS" "$@" 2>"$work/client.err"); then
    echo "bench.sh: bench_client $* failed:" >&2
    cat "$work/client.err" >&2
    exit 1
  fi
  if [ -s "$work/client.err" ]; then cat "$work/client.err" >&2; fi
  echo " $out"
}

# get LINE KEY: the value of KEY in a key=value line.
get() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }
# medians LINES: one key=value line holding, for each key, the median of its
# values over the lines (one per line of LINES, all with the same keys in the
# same order): the middle value as printed, or the mean of the two middle
# ones.
medians() {
  awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); key[i] = kv[1]; v[i, NR] = kv[2] } n = NF }
    END {
      for (i = 1; i <= n; i++) {
        for (r = 1; r <= NR; r++) o[r] = r
        for (r = 2; r <= NR; r++) {
          x = o[r]
          for (j = r - 1; j >= 1 && v[i, o[j]] + 0 > v[i, x] + 0; j--) o[j + 1] = o[j]
          o[j + 1] = x
        }
        m = NR % 2 ? v[i, o[(NR + 1) / 2]] : (v[i, o[NR / 2]] + v[i, o[NR / 2 + 1]]) / 2
        printf "%s%s=%s", (i > 1 ? " " : ""), key[i], m
      }
      printf "\n"
    }' <<<"$1"
}
# ratio A B: A/B with one decimal.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "-" }'; }
ms() { awk -v a="$1" 'BEGIN { printf "%.1f ms", a / 1000 }'; }

start=$(date +%s)
start_emulator emu
# (a)-(d) compare the gateway with direct GETs that ask for gzip, as the
# gateway does against Fivetran; on loopback it would not by default
# (--upstream_compression=auto), and (e) keeps that default, as its Python
# pager does not ask for gzip either.
# (A BENCH_GATEWAY built before the flag existed always asks for gzip.)
gzip_flags=(--upstream_compression=gzip)
# (--helpfull exits 1, so its text is read first: under pipefail the pipe
# would fail whatever grep found.)
gateway_help=$("$gateway_bin" --helpfull 2>&1 || true)
if ! grep -q upstream_compression <<<"$gateway_help"; then gzip_flags=(); fi
seq_gw="" seq_relay="" seq_direct="" seq_plain="" seq_health="" load_gw="" load_relay="" load_direct="" fanin="" same="" watch=""
listing=""

# --load: (b) only, REPEAT rounds against the same gateway and emulator.
if [ "$load_only" = 1 ]; then
  start_gateway gw "$emu_url" "${gzip_flags[@]}"
  echo "(b) $LOAD_CONNS gRPC connections x $LOAD_STREAMS calls in flight vs $LOAD_CONNS HTTP/1.1 connections, ${LOAD_SECONDS} s; gateway $gateway_bin"
  printf '    %-6s %10s %10s %12s %12s %12s %12s %7s %7s\n' round "gw req/s" "dir req/s" "gw median" \
    "gw slowest" "dir median" "dir slowest" "gw x" "dir x"
  for round in $(seq "${REPEAT:-1}"); do
    g=$(run_client --mode=load --target="$gw_addr" --emulator="$emu_url" --pid="$gw_pid" \
      --connections="$LOAD_CONNS" --streams="$LOAD_STREAMS" --duration="${LOAD_SECONDS}s")
    d=$(run_client --mode=direct_load --emulator="$emu_url" \
      --connections="$LOAD_CONNS" --duration="${LOAD_SECONDS}s")
    printf '    %-6s %10s %10s %12s %12s %12s %12s %7s %7s\n' "$round" "$(get "$g" rps)" \
      "$(get "$d" rps)" "$(ms "$(get "$g" p50_us)")" "$(ms "$(get "$g" max_us)")" \
      "$(ms "$(get "$d" p50_us)")" "$(ms "$(get "$d" max_us)")" \
      "$(ratio "$(get "$g" max_us)" "$(get "$g" p50_us)")" \
      "$(ratio "$(get "$d" max_us)" "$(get "$d" p50_us)")"
  done
  exit 0
fi

# (a)'s placement: with two CPUs or more, the gateway and the relay get one
# to themselves while the client and the emulator share the others, as a
# gateway on its own host or container would. Left to the scheduler, the
# three processes on two CPUs fall into a fast and a slow mode by turns (e.g.
# a GetConnection p50 of 350 or 800 µs, seconds apart, on one gateway):
# where the kernel puts the threads that hand a call to each other decides.
# BENCH_PIN=0 leaves placement to the scheduler. Only (a) is placed: (b)-(e)
# measure the three sharing the machine.
# The CPUs are those this script may use (a container's may not start at 0).
pin=0
all_cpus=$(taskset -pc $$ 2>/dev/null | sed -n 's/.*list: *//p')
cpu_list=$(/usr/bin/python3 -c '
import sys
cpus = []
for part in sys.argv[1].split(","):
    a, _, b = part.partition("-")
    cpus += range(int(a), int(b or a) + 1)
print(" ".join(map(str, cpus)))' "${all_cpus:-0}" 2>/dev/null || true)
read -r -a cpus <<<"$cpu_list"
gw_cpu="${cpus[0]:-0}"
other_cpus=$(IFS=,; echo "${cpus[*]:1}")
if [ "${BENCH_PIN:-1}" = 1 ] && [ "${#cpus[@]}" -ge 2 ]; then pin=1; fi
# place CPUS PID: every thread of PID on CPUS (threads started later inherit
# their parent's set); a process whose threads change meanwhile is tried
# again, and a failure only warns (the figures are then unplaced).
place() {
  for _ in 1 2 3; do
    if taskset -a -p -c "$1" "$2" >/dev/null 2>&1; then return 0; fi
  done
  echo "bench.sh: warning: could not place process $2 on CPUs $1" >&2
}

# (a) sequential: the gateway, the minimal relay and direct GETs take turns,
# SEQ_ROUNDS times, so that a change in the machine's pace (it comes and goes
# over seconds here) falls on all three; each figure is the median of the
# rounds'.
if run a; then
  start_gateway gw "$emu_url" "${gzip_flags[@]}"
  start_relay relay "$emu_url"
  if [ "$pin" = 1 ]; then
    place "$gw_cpu" "$gw_pid"
    place "$gw_cpu" "$relay_pid"
    place "$other_cpus" "$emu_pid"
    client_prefix=(taskset -c "$other_cpus")
  fi
  gw_rounds="" relay_rounds="" direct_rounds=""
  for _ in $(seq "$SEQ_ROUNDS"); do
    gw_rounds+="$(run_client --mode=seq --target="$gw_addr" --pid="$gw_pid" \
      --calls="$SEQ_CALLS" --warmup="$SEQ_WARMUP")"$'\n'
    relay_rounds+="$(run_client --mode=seq --target="$relay_addr" --pid="$relay_pid" \
      --calls="$SEQ_CALLS" --warmup="$SEQ_WARMUP")"$'\n'
    direct_rounds+="$(run_client --mode=direct_seq --emulator="$emu_url" \
      --calls="$SEQ_CALLS" --warmup="$SEQ_WARMUP")"$'\n'
  done
  seq_gw=$(medians "${gw_rounds%$'\n'}")
  seq_relay=$(medians "${relay_rounds%$'\n'}")
  seq_direct=$(medians "${direct_rounds%$'\n'}")
  seq_plain=$(run_client --mode=direct_seq --emulator="$emu_url" --nogzip \
    --calls="$SEQ_CALLS" --warmup="$SEQ_WARMUP")
  # The gRPC path alone: a Health Check the gateway answers itself.
  seq_health=$(run_client --mode=seq --rpc=health_check --target="$gw_addr" --pid="$gw_pid" \
    --calls="$SEQ_CALLS" --warmup="$SEQ_WARMUP")
  if [ "$pin" = 1 ]; then
    place "$all_cpus" "$gw_pid"
    place "$all_cpus" "$emu_pid"
    client_prefix=()
  fi
fi

# (b) throughput (on (a)'s gateway when (a) ran): the gateway, the minimal
# relay (as many workers as the gateway has upstream connections by default)
# and direct GETs take turns, LOAD_ROUNDS times; each figure is the median of
# the rounds'.
if run b; then
  if ! run a; then start_gateway gw "$emu_url" "${gzip_flags[@]}"; fi
  start_relay relay_load "$emu_url" --workers=64
  perf_pid=""
  if [ "$perf" = 1 ]; then
    perf record -F 999 -g -p "$gw_pid" -o "$work/perf.data" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  gw_rounds="" relay_rounds="" direct_rounds=""
  for _ in $(seq "$LOAD_ROUNDS"); do
    gw_rounds+="$(run_client --mode=load --target="$gw_addr" --emulator="$emu_url" --pid="$gw_pid" \
      --connections="$LOAD_CONNS" --streams="$LOAD_STREAMS" --duration="${LOAD_SECONDS}s")"$'\n'
    relay_rounds+="$(run_client --mode=load --target="$relay_load_addr" --pid="$relay_load_pid" \
      --connections="$LOAD_CONNS" --streams="$LOAD_STREAMS" --duration="${LOAD_SECONDS}s")"$'\n'
    direct_rounds+="$(run_client --mode=direct_load --emulator="$emu_url" \
      --connections="$LOAD_CONNS" --duration="${LOAD_SECONDS}s")"$'\n'
  done
  if [ -n "$perf_pid" ]; then
    kill -INT "$perf_pid"
    wait "$perf_pid" || true
  fi
  load_gw=$(medians "${gw_rounds%$'\n'}")
  load_relay=$(medians "${relay_rounds%$'\n'}")
  load_direct=$(medians "${direct_rounds%$'\n'}")
fi

# (c) fan-in: a fresh gateway in front of an emulator answering after LATENCY
if run c; then
  start_emulator slow --latency="$LATENCY"
  start_gateway gw_fanin "$slow_url" "${gzip_flags[@]}"
  fanin=$(run_client --mode=fanin --target="$gw_fanin_addr" --emulator="$slow_url" \
    --pid="$gw_fanin_pid" --calls="$FANIN_CALLS" --ids="$FANIN_IDS" \
    --connections="$FANIN_CHANNELS")
  same=$(run_client --mode=fanin --target="$gw_fanin_addr" --emulator="$slow_url" \
    --pid="$gw_fanin_pid" --calls="$SAME_CALLS" --ids=1 --connections="$FANIN_CHANNELS")
fi

# (d) watchers: a fresh gateway in front of the emulator without latency
if run d; then
  start_gateway gw_watch "$emu_url" "${gzip_flags[@]}"
  watch=$(run_client --mode=watch --target="$gw_watch_addr" --emulator="$emu_url" \
    --pid="$gw_watch_pid" --watchers="$WATCHERS" --ids="$WATCH_IDS" --poll="$WATCH_POLL" \
    --duration="${WATCH_SECONDS}s" --connections="$WATCH_CHANNELS")
fi

# (e) listing: a fresh gateway in front of the emulator without latency
if run e; then
  start_gateway gw_list "$emu_url"
  listing=$(/usr/bin/python3 tools/bench/list_bench.py "$emu_url" "$gw_list_addr" \
    "$gw_list_pid" "$fivetranctl_bin" list_group "$LIST_ITEMS" "$LIST_ROUNDS" ${LIST_BASELINE_CTL:+"$LIST_BASELINE_CTL"})
  # The gateway's two ways of reading a page, on one thread, same run.
  page_reader=$("$bin/tools/bench/page_reader_bench" \
    --model=server/fivetran/testdata/connection_full.json --items=1000 \
    --rounds="$([ "$smoke" = 1 ] && echo 3 || echo 30)")
fi
list_row() { grep "way=$1 " <<<"$listing"; }
elapsed=$(($(date +%s) - start))

cat <<EOF
fivetran-gateway benchmark$([ "$smoke" = 1 ] && echo " (smoke sizes)")
$(date -u +%Y-%m-%d) $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, \
Debian $(cat /etc/debian_version 2>/dev/null || echo '?'), gateway/emulator/client built -c opt, loopback
gateway: default flags (64 upstream connections, tcmalloc, log level info to a file),
  with --upstream_compression=gzip in (a)-(d) like the direct GETs; (e) keeps the default
  (auto: no gzip from a loopback emulator), like its Python pager
EOF
echo
if run a; then
  # row LABEL KEY: gateway, relay, direct and the three ratios of KEY.
  row() {
    local g r d
    g=$(get "$seq_gw" "$2") r=$(get "$seq_relay" "$2") d=$(get "$seq_direct" "$2")
    printf '    %-16s %7s µs %7s µs %7s µs %10s %12s %10s' "$1" "$g" "$r" "$d" \
      "$(ratio "$g" "$d")" "$(ratio "$r" "$d")" "$(ratio "$g" "$r")"
  }
  cat <<EOF
(a) Sequential GetConnection, one caller: $SEQ_ROUNDS rounds of $SEQ_CALLS calls (after $SEQ_WARMUP warm-up) of each
    way in turn; each gateway, relay and direct figure is the median of the rounds'
    $(if [ "$pin" = 1 ]; then echo "placed: gateway and relay alone on CPU $gw_cpu, client and emulator on CPUs $other_cpus (taskset)"; else echo "placement left to the scheduler"; fi)
    gateway: gRPC unary over one channel
    relay: //tools/bench:relay_floor, the smallest gRPC-to-REST relay that never blocks a
      gRPC thread (callback API, one worker thread with a keep-alive libcurl GET, no JSON
      mapping: Fivetran's JSON text goes back as one string field; nothing else): what
      gRPC and one more hop cost on this machine
    direct: the same GET /v1/connections/{id} (Basic auth, Accept version=2, Accept-Encoding
      gzip: the emulator compresses, the client inflates) to the emulator over one
      keep-alive connection
$(printf '    %-16s %10s %10s %10s %10s %12s %10s' "" gateway relay direct gw/direct relay/direct gw/relay)
$(row "p50 latency" p50_us)
$(row "p99 latency" p99_us)
$(printf '    %-16s %7s µs %7s µs' "CPU per call" "$(get "$seq_gw" cpu_us_per_call)" "$(get "$seq_relay" cpu_us_per_call)")   (utime+stime of /proc/PID/stat, before/after, / calls)
$(printf '    %-16s %10s %10s' "switches/call" "$(get "$seq_gw" switches_per_call)" "$(get "$seq_relay" switches_per_call)")   (context switches, all threads: /proc/PID/task/*/status)
    direct without gzip (one run after the rounds): p50 $(get "$seq_plain" p50_us) µs, p99 $(get "$seq_plain" p99_us) µs
    the gRPC path alone (one run): grpc.health.v1 Check, answered by the gateway on its gRPC thread:
      p50 $(get "$seq_health" p50_us) µs, CPU $(get "$seq_health" cpu_us_per_call) µs and $(get "$seq_health" switches_per_call) context switches per call

EOF
fi
if run b; then
  # lrow LABEL VALUE_OF_LINE...: gateway, relay, direct.
  lrow() { printf '    %-22s %12s %12s %12s' "$1" "$2" "$3" "$4"; }
  cat <<EOF
(b) Throughput, closed loop: $LOAD_ROUNDS rounds of ${LOAD_SECONDS} s (after 1 s warm-up) of each way in
    turn; each figure is the median of the rounds'; placement left to the scheduler
    gateway: $LOAD_CONNS gRPC connections x $LOAD_STREAMS calls in flight, ids cycled
    ($(get "$load_gw" upstream_per_call) upstream GETs per call; 1.00 = nothing coalesced);
    relay: the same calls to //tools/bench:relay_floor with 64 workers (each one keep-alive
    connection, as the gateway's default 64 upstream connections);
    direct: $LOAD_CONNS keep-alive HTTP/1.1 connections, one GET (gzip) in flight each
$(lrow "" gateway relay direct)
$(lrow "requests/s" "$(get "$load_gw" rps)" "$(get "$load_relay" rps)" "$(get "$load_direct" rps)")
$(lrow "  of direct" "$(pct "$(get "$load_gw" rps)" "$(get "$load_direct" rps)")" "$(pct "$(get "$load_relay" rps)" "$(get "$load_direct" rps)")" "")
$(lrow "median call" "$(ms "$(get "$load_gw" p50_us)")" "$(ms "$(get "$load_relay" p50_us)")" "$(ms "$(get "$load_direct" p50_us)")")
$(lrow "slowest call" "$(ms "$(get "$load_gw" max_us)")" "$(ms "$(get "$load_relay" max_us)")" "$(ms "$(get "$load_direct" max_us)")")
$(lrow "slowest / median" "$(ratio "$(get "$load_gw" max_us)" "$(get "$load_gw" p50_us)")" "$(ratio "$(get "$load_relay" max_us)" "$(get "$load_relay" p50_us)")" "$(ratio "$(get "$load_direct" max_us)" "$(get "$load_direct" p50_us)")")
$(lrow "errors" "$(get "$load_gw" errors)" "$(get "$load_relay" errors)" "$(get "$load_direct" errors)")
$(lrow "CPU per call" "$(get "$load_gw" cpu_us_per_call) µs" "$(get "$load_relay" cpu_us_per_call) µs" "")

EOF
fi
if run c; then
  cat <<EOF
(c) Fan-in: calls started at once over $FANIN_CHANNELS channels, emulator --latency=$LATENCY --threads=256
    (upstream requests: the emulator's request log; RSS and threads: peaks of
    /proc/PID/status sampled every 20 ms; a fresh gateway; issued: how long the
    client took to start every call; re-read: connections read more than once,
    because calls for them came after their first read was answered)
$(printf '    %-22s %6s %6s %6s %9s %8s %9s %9s %11s %8s' "" calls ids ok upstream re-read issued wall "peak RSS" threads)
$(for row in "N=$FANIN_CALLS, K=$FANIN_IDS:$fanin" "same id (baseline's):$same"; do
  l="${row#*:}"
  printf '    %-22s %6s %6s %6s %9s %8s %7s s %7s s %8s MB %8s\n' "${row%%:*}" "$(get "$l" calls)" \
    "$(get "$l" ids)" "$(get "$l" ok)" "$(get "$l" upstream)" "$(get "$l" reread)" \
    "$(get "$l" issued_s)" "$(get "$l" wall_s)" "$(get "$l" peak_rss_mb)" "$(get "$l" peak_threads)"
done)

EOF
fi
if run d; then
  cat <<EOF
(d) Watchers: $WATCHERS WatchConnectionSync (no trigger) on $WATCH_IDS connections, poll_interval $WATCH_POLL,
    for $WATCH_SECONDS s over $WATCH_CHANNELS channels, emulator without latency; a fresh gateway
    upstream GETs per second since the first watcher started: $(get "$watch" upstream_per_s)
    total $(get "$watch" upstream_total); streams ended early: $(get "$watch" ended_early); \
gateway CPU $(get "$watch" cpu_pct)% of one core, peak RSS $(get "$watch" peak_rss_mb) MB, $(get "$watch" peak_threads) threads

EOF
fi
if run e; then
  cat <<EOF
(e) Listing: every connection of a group of $LIST_ITEMS as JSON lines, median of $LIST_ROUNDS rounds
    python: a Python pager (http.client keep-alive, limit=1000, json.dumps per item)
    straight to the emulator; fivetranctl: groups connections --all through a fresh
    gateway; CPU is the process's own user+sys (wait4); gateway CPU from /proc/PID/stat
$(printf '    %-22s %8s %8s %8s %10s %14s' "" "wall" "CPU" "RSS" "wall/python" "gateway/item")
$(for way in python jsonl table ${LIST_BASELINE_CTL:+jsonl_baseline table_baseline}; do
  l="$(list_row "$way")"
  label="$way"; [ "$way" != python ] && label="fivetranctl -o ${way%_baseline}"
  [[ "$way" == *_baseline ]] && label="$label (base)"
  gwi="$(get "$l" gateway_cpu_us_per_item) µs"; [ "$way" = python ] && gwi="-"
  printf '    %-22s %6s s %6s s %5s MB %10s %14s\n' "$label" "$(get "$l" wall_s)" "$(get "$l" cpu_s)" \
    "$(get "$l" rss_mb)" "$(ratio "$(get "$l" wall_s)" "$(get "$(list_row python)" wall_s)")" "$gwi"
done)
    reading one page of 1000 connections ($(get "$page_reader" bytes_per_item) bytes each, the model of
    server/fivetran/testdata/connection_full.json) to their protobuf wire form and freeing it, one thread
    (//tools/bench:page_reader_bench): fast reader $(get "$page_reader" fast_us_per_item) µs per item,
    general path $(get "$page_reader" general_us_per_item) µs per item ($(get "$page_reader" general_over_fast)x)

EOF
fi
echo "measured in ${elapsed} s"

if [ "$perf" = 1 ]; then
  echo
  echo "perf record -F 999 -g of the gateway during (b), top symbols (self):"
  # -g none: the samples have call graphs, the summary wants self time only;
  # awk rather than head, which would end perf early (SIGPIPE under pipefail).
  perf report -i "$work/perf.data" --no-children --sort dso,symbol -g none --stdio 2>/dev/null |
    grep -E '^ +[0-9]' | sed 's/ *$//' | cut -c1-140 | awk 'NR <= 30'
fi

# Every figure must be a number (the smoke run checks nothing else).
mapfile -t list_lines < <(sed 's/way=[a-z_]* //' <<<"$listing")
for line in "$seq_gw" "$seq_relay" "$seq_direct" "$seq_plain" "$seq_health" "$load_gw" "$load_relay" "$load_direct" "$fanin" "$same" \
  "$watch" "${list_lines[@]}"; do
  for kv in $line; do
    v="${kv#*=}"
    if ! [[ "$v" =~ ^[0-9][0-9.,]*$ ]]; then
      echo "bench.sh: not a number: $kv" >&2
      exit 1
    fi
  done
done

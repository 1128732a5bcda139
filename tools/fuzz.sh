#!/usr/bin/env bash
# Coverage-guided fuzzing of the JSON -> proto mapping, the connection-page
# fast path (differential: against the general path) and the Retry-After
# parser with clang's libFuzzer (+ AddressSanitizer, UBSan), for a bounded
# time per target. `bazel test //server/fivetran/fuzz/...` runs the same
# targets with a plain mutation driver under gcc; this is the real fuzzer.
#
#   tools/fuzz.sh [SECONDS_PER_TARGET]     (default 30)
#
# Crashes are written to $FUZZ_OUT (default a temp folder) and make the
# script fail; so do a missing or empty seed folder and a run that executed
# no input (libFuzzer's final stats).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
bash tools/setup.sh

bazel build //proto/fivetran/gateway/v1:gateway_cc_grpc @googleapis//:error_details_cc_proto \
  >/dev/null 2>&1
bin="$(bazel info bazel-bin 2>/dev/null)"
gen_api="$bin/proto/fivetran/gateway/v1/_virtual_imports/gateway_proto"
gen_rpc="$bin/external/googleapis"
out="${FUZZ_OUT:-$(mktemp -d)}"
mkdir -p "$out"

CXX="${CXX_FUZZ:-clang++-14}"
flags=(-std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
  -I. -I"$gen_api" -I"$gen_rpc"
  -DCPPHTTPLIB_OPENSSL_SUPPORT)
libs=(-lprotobuf -labsl_statusor -labsl_status -labsl_cord -labsl_cordz_info
  -labsl_cordz_functions -labsl_cord_internal -labsl_str_format_internal -labsl_strings
  -labsl_strings_internal -labsl_throw_delegate -labsl_int128 -labsl_raw_logging_internal
  -labsl_base -labsl_spinlock_wait -labsl_time -labsl_time_zone -labsl_synchronization
  -labsl_raw_hash_set -labsl_hash -labsl_city -labsl_low_level_hash -labsl_hashtablez_sampler
  -lcurl -lpthread)
protos=("$gen_api"/fivetran/gateway/v1/*.pb.cc)

# The project's own .cc files a Bazel target is built from, as paths: the
# fuzzers link exactly what the gateway links, however the sources are split.
sources_of() {
  bazel query "kind('source file', deps($1))" --output label 2>/dev/null |
    sed -n 's|^//\([^:]*\):\(.*\.cc\)$|\1/\2|p'
}
mapping_srcs=()
while IFS= read -r f; do mapping_srcs+=("$f"); done < <(sources_of //server/fivetran:mapping)
errors_srcs=()
while IFS= read -r f; do errors_srcs+=("$f"); done < <(sources_of //server/fivetran:errors)
# The fast path and the general path it is compared with, each source once.
page_srcs=()
while IFS= read -r f; do page_srcs+=("$f"); done < <(
  { sources_of //server/fivetran:connection_page_reader; sources_of //server/fivetran:general_path; } |
    sort -u)
if [ ${#mapping_srcs[@]} -eq 0 ] || [ ${#errors_srcs[@]} -eq 0 ] || [ ${#page_srcs[@]} -eq 0 ]; then
  echo "fuzz: could not list the sources of //server/fivetran:mapping, :errors and" \
    ":connection_page_reader and :general_path" >&2
  exit 1
fi

echo "fuzz: building with $CXX into $out" >&2
"$CXX" "${flags[@]}" server/fivetran/fuzz/mapping_fuzzer.cc "${mapping_srcs[@]}" \
  "${protos[@]}" "${libs[@]}" -o "$out/mapping_fuzzer"
"$CXX" "${flags[@]}" server/fivetran/fuzz/connection_page_fuzzer.cc "${page_srcs[@]}" \
  "${protos[@]}" "$gen_rpc"/google/rpc/error_details.pb.cc \
  "${libs[@]}" -lsimdjson -o "$out/connection_page_fuzzer"
"$CXX" "${flags[@]}" server/fivetran/fuzz/retry_after_fuzzer.cc "${errors_srcs[@]}" \
  "${protos[@]}" "$gen_rpc"/google/rpc/error_details.pb.cc \
  "${libs[@]}" -o "$out/retry_after_fuzzer"

# A number from libFuzzer's log: the last line "<prefix> N ...".
log_number() {
  sed -n "s/^$1 *\([0-9][0-9]*\).*/\1/p" "$2" | tail -1
}

run() {
  local name="$1"; shift
  local corpus="$out/corpus_$name"
  local log="$out/$name.log"
  mkdir -p "$corpus"
  local seeds=0 dir n
  for dir in "$@"; do
    if [[ ! -d "$dir" ]]; then
      echo "fuzz: $name: seed folder $dir does not exist" >&2
      exit 1
    fi
    n="$(find "$dir" -type f | wc -l)"
    if [[ "$n" -eq 0 ]]; then
      echo "fuzz: $name: seed folder $dir has no files" >&2
      exit 1
    fi
    cp -r "$dir/." "$corpus/"
    seeds=$((seeds + n))
  done
  # What libFuzzer must load: the seeds (and inputs of earlier runs in $FUZZ_OUT).
  local expected
  expected="$(find "$corpus" -type f | wc -l)"
  echo "fuzz: $name for ${seconds}s from $seeds seed files" >&2
  (cd "$out" && ASAN_OPTIONS=detect_leaks=1 "./${name}_fuzzer" -max_total_time="$seconds" \
    -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$corpus" \
    2>"$log") || { tail -40 "$log" >&2; echo "fuzz: $name FAILED" >&2; exit 1; }
  # The run must have read the seeds and executed inputs.
  local loaded units
  loaded="$(log_number "INFO: seed corpus: files:" "$log")"
  units="$(log_number "stat::number_of_executed_units:" "$log")"
  if [[ -z "$loaded" || "$loaded" -lt "$expected" ]]; then
    tail -40 "$log" >&2
    echo "fuzz: $name loaded ${loaded:-no} corpus files, expected $expected" >&2
    exit 1
  fi
  if [[ -z "$units" || "$units" -eq 0 ]]; then
    tail -40 "$log" >&2
    echo "fuzz: $name executed ${units:-no} inputs (no final stats?)" >&2
    exit 1
  fi
  echo "fuzz: $name: $loaded corpus files loaded, $units inputs executed" >&2
}
run mapping server/fivetran/fuzz/corpus/mapping server/fivetran/testdata
run connection_page server/fivetran/fuzz/corpus/connection_page
run retry_after server/fivetran/fuzz/corpus/retry_after
echo "fuzz: no crash" >&2

#!/usr/bin/env bash
# Runs a fuzz target built with the standalone driver over its seed folders
# for a bounded time and checks that it really ran: every seed folder exists
# and holds files, the driver read every seed file, and it executed mutated
# inputs. A crash fails the test through the driver's exit status.
#
#   fuzz_test.sh DRIVER_BINARY SECONDS SEED_FOLDER...
set -euo pipefail
binary="$1"
seconds="$2"
shift 2
if [[ $# -eq 0 ]]; then
  echo "FAIL: no seed folder given" >&2
  exit 1
fi

seeds=0
for dir in "$@"; do
  if [[ ! -d "$dir" ]]; then
    echo "FAIL: seed folder $dir does not exist" >&2
    exit 1
  fi
  # As the driver reads them: every file below, skipping names that start with '.'.
  n="$(find -L "$dir" -mindepth 1 -name '.*' -prune -o -type f -print | wc -l)"
  if [[ "$n" -eq 0 ]]; then
    echo "FAIL: seed folder $dir has no files" >&2
    exit 1
  fi
  seeds=$((seeds + n))
done

out="$("$binary" --seconds="$seconds" "$@")"
echo "$out"
# The driver's last line: "<N> seeds, <M> mutated inputs in <S> s: no crash".
last="$(tail -n 1 <<<"$out")"
if [[ ! "$last" =~ ^([0-9]+)\ seeds,\ ([0-9]+)\ mutated\ inputs\ in\ .*:\ no\ crash$ ]]; then
  echo "FAIL: no summary line from the driver" >&2
  exit 1
fi
read_seeds="${BASH_REMATCH[1]}"
runs="${BASH_REMATCH[2]}"
if [[ "$read_seeds" -ne "$seeds" ]]; then
  echo "FAIL: the driver read $read_seeds seeds, the folders hold $seeds files" >&2
  exit 1
fi
if [[ "$runs" -eq 0 ]]; then
  echo "FAIL: no mutated input was executed" >&2
  exit 1
fi
echo "PASS: $seeds seed files, $runs mutated inputs"

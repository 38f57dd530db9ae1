#!/bin/sh
# Short, bounded libFuzzer runs of every fuzz target (tests/fuzz/fuzz_*.c),
# as CI does: builds with clang, -DWIPEER_FUZZ=ON and ASan+UBSan in
# build-fuzz/ (the library gets coverage instrumentation too), then runs each
# target for N seconds (default 20) starting from its checked-in seeds.
# New inputs go to build-fuzz/fuzz-work/<name>/, never into the seeds; a
# crash leaves its input in build-fuzz/fuzz-artifacts/ and makes the script
# exit non-zero (after running the other targets).
#   scripts/fuzz-smoke.sh [SECONDS] [TARGET...]
set -eu
cd "$(dirname "$0")/.."
secs=${1:-20}
[ $# -gt 0 ] && shift
case "$secs" in *[!0-9]*|'') echo "usage: $0 [SECONDS] [TARGET...]" >&2; exit 2 ;; esac
command -v clang >/dev/null || { echo "fuzz-smoke: clang is required" >&2; exit 1; }

build=build-fuzz
if [ $# -gt 0 ]; then
  names="$*"
else
  names=$(ls tests/fuzz/fuzz_*.c | sed 's|.*/fuzz_||; s|\.c$||')
fi
targets=$(for n in $names; do printf 'fuzz_%s ' "$n"; done)

CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWIPEER_FUZZ=ON \
  -DWIPEER_SANITIZE=address,undefined -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link \
  -DWIPEER_BUILD_CLI=OFF -DWIPEER_BUILD_BENCH=OFF >/dev/null
# shellcheck disable=SC2086
cmake --build "$build" -j2 --target $targets

mkdir -p "$build/fuzz-artifacts"
failed=""
for n in $names; do
  work="$build/fuzz-work/$n"
  mkdir -p "$work"
  echo "== fuzz_$n for ${secs}s"
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
       UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
       "$build/tests/fuzz/fuzz_$n" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
         -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$n-" \
         "$work" "tests/fuzz/corpus/$n" 2>"$build/fuzz-work/$n.log"; then
    tail -40 "$build/fuzz-work/$n.log" >&2
    failed="$failed $n"
  else
    grep -E "stat::number_of_executed_units|stat::new_units_added" "$build/fuzz-work/$n.log" || true
  fi
done
if [ -n "$failed" ]; then
  echo "fuzz-smoke: FAILED:$failed (inputs in $build/fuzz-artifacts/)" >&2
  exit 1
fi
echo "fuzz-smoke: ok ($names)"

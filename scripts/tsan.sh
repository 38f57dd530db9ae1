#!/bin/sh
# ThreadSanitizer run of the tests labelled `tsan` (the thread-safe API under
# contention), in a separate build directory: TSan cannot share a build
# with ASan. Usage: scripts/tsan.sh [build-dir]   (default build-tsan)
set -eu
cd "$(dirname "$0")/.."
dir=${1:-build-tsan}
jobs=${JOBS:-$(nproc)}
cc=${CC:-cc}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DWIPEER_SANITIZE=thread \
  -DWIPEER_WERROR=ON -DWIPEER_BUILD_BENCH=OFF -DCMAKE_C_COMPILER="$cc" >/dev/null
cmake --build "$dir" -j "$jobs"
cd "$dir"
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  ctest --no-tests=error --output-on-failure -L tsan -j "$jobs"

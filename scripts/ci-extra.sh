#!/bin/sh
# Checks CI runs after the README's `make test`: packaging/ABI, then the
# optional stages below when their scripts exist (TSan, fuzzing).
set -eu
cd "$(dirname "$0")/.."
sh scripts/check-install.sh
# The thread-safe runtime API under ThreadSanitizer (tests labelled tsan).
sh scripts/tsan.sh build-tsan
if [ -x scripts/fuzz-smoke.sh ]; then
  scripts/fuzz-smoke.sh "${WP_FUZZ_SECONDS:-20}"
fi

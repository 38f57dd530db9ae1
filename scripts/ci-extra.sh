#!/bin/sh
# Extra CI steps, run by .ci/run after `make test`.
set -eu
cd "$(dirname "$0")/.."
# The thread-safe runtime API under ThreadSanitizer (tests labelled tsan).
scripts/tsan.sh build-tsan

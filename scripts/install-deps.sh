#!/bin/sh
# Install the Debian packages wipeer needs, only those that are missing.
#   scripts/install-deps.sh build   - to build the library and CLI
#   scripts/install-deps.sh test    - also what the test suite needs
#   scripts/install-deps.sh ci      - also fuzzing and interop peers
# As root it runs apt-get (after apt-get update); otherwise it prints the
# exact command to run and fails.
set -eu
level=${1:-build}

pkgs="build-essential cmake pkg-config libssl-dev libqrencode-dev"
case "$level" in
  build) ;;
  test) pkgs="$pkgs libcmocka-dev libjansson-dev iproute2 python3" ;;
  ci) pkgs="$pkgs libcmocka-dev libjansson-dev iproute2 python3 clang libclang-rt-dev llvm" ;;
  *) echo "usage: $0 build|test|ci" >&2; exit 2 ;;
esac
# Extra packages named by later stages (interop peers etc.) live here.
[ -f scripts/deps-extra.txt ] && [ "$level" != build ] && \
  pkgs="$pkgs $(grep -v '^#' scripts/deps-extra.txt | tr '\n' ' ')"

missing=""
for p in $pkgs; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ]; then
  echo "install-deps: installing:$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
  echo "install-deps: missing Debian packages. Run:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y$missing" >&2
  exit 1
fi

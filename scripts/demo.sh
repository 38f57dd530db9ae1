#!/bin/sh
# The README demo: show this machine's wipeer identity.
set -eu
build=${1:-build}
home=${WIPEER_DEMO_HOME:-$build/demo-home}
echo "== wipeer $("$build"/wipeer --version)"
echo "== device identity (state in $home)"
"$build"/wipeer id --home "$home"

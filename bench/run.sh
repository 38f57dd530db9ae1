#!/bin/sh
# Run every runtime benchmark (issue 4) against its anchors, in one go.
# Each benchmark forks a server and a client process and pins them with
# sched_setaffinity (what taskset does): "same CPU" = both on CPU 0,
# "split" = server on CPU 1, client on CPU 0 (see NOTES-testing.md:
# placement changes results a lot on this 2-vCPU machine).
# As root, also the discovery benchmark against Avahi (bench_discovery.sh:
# network namespaces; about 5 minutes).
#   bench/run.sh [build-dir]          (default: build, an optimised build)
set -eu
b=${1:-build}/bench
for x in bench_rt_bulk bench_rt_rtt bench_rt_handshake bench_rt_idle; do
  [ -x "$b/$x" ] || { echo "run.sh: $b/$x missing; build first (cmake --build)" >&2; exit 1; }
done
echo "== $(date -u +%Y-%m-%dT%H:%MZ) $(uname -r), $(nproc) CPUs, $(openssl version 2>/dev/null || true)"
"$b/bench_rt_bulk" "${WP_BENCH_BULK_MIB:-512}"
echo
"$b/bench_rt_rtt" "${WP_BENCH_RTT:-20000}"
echo
"$b/bench_rt_handshake" "${WP_BENCH_HS:-1000}"
echo
"$b/bench_rt_idle" "${WP_BENCH_IDLE:-10000}"
echo
if [ "$(id -u)" = 0 ]; then
  bash "$(dirname "$0")/bench_discovery.sh" "${1:-build}" "${WP_BENCH_DISC_TRIALS:-15}" \
    "${WP_BENCH_DISC_WINDOW:-60}" 2>/dev/null
else
  echo "== discovery: skipped (needs root for network namespaces)"
fi

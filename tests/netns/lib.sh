# shellcheck shell=bash
# tests/netns/lib.sh - hosts, links, processes and faults for tests that need
# several machines, built from network namespaces the test creates itself.
#
#   #!/bin/bash
#   . "$(dirname "$0")/lib.sh"         # sets -eu, traps, a time budget
#   require_root_netns                 # exit 77 (ctest SKIP) with the reason
#   require_zeroconf                   # or require_cmd avahi-browse avahi-utils
#   ns_new a; ns_new b; link_pair a b  # wp0 in each: 192.0.2.1/24 fe80::1, ...
#   spawn a pub "$WP_PY" "$WP_NETNS_DIR/zc_publish.py" --iface "$(ip4 a)" ...
#   wait_line pub '"published"' 5      # poll a spawned process's log
#   run b browse "$WP_PY" "$WP_NETNS_DIR/zc_browse.py" ... || fail "..."
#   json_find "$(logfile browse)" "j['port'] == 4242" || fail "wrong port"
#   pass "zeroconf -> zeroconf"        # or fail "why"; cleanup runs either way
#
# Helpers: nsx NS CMD (foreground), run NS LOG CMD (foreground, logged),
# spawn NS|- LOG CMD (background; $LAST_PID), stop_pid, wait_exit PID SECS
# ($WP_RC), wait_for SECS DESC CMD, wait_line, lan_join (3+ hosts on a
# bridge), loss_set/loss_report/loss_clear, dbus_start/avahi_start/avahi_stop,
# nsx_avahi/spawn_avahi, avahi_escape, json_find, ip4/ip6 NS.
#
# Names: every namespace is "wp-<pid of the test shell>-<short name>", so
# parallel ctest runs never clash; helpers take the short name. Host number n
# (1, 2, ... in creation order) gives the addresses 192.0.2.n/24 (TEST-NET-1,
# RFC 5737) and fe80::n/64 (added with nodad, usable at once) on wp0. Traffic
# never leaves the namespaces: the host's own interfaces are never touched.
#
# Cleanup (EXIT trap, also on failure, SIGINT and SIGTERM): stop the PIDs
# spawn started (TERM, then KILL after 3 s), newest first, delete
# the namespaces (their iptables rules go with them), print the tail of each
# log if the test failed, remove $WP_TMP. Nothing else is killed. Stale
# namespaces whose test shell is gone (e.g. after a SIGKILL) are deleted by
# the next run (each run lists its namespaces in $WP_TMP/namespaces). A
# watchdog sends SIGTERM to the test after $WP_BUDGET seconds (default 45)
# so cleanup runs before ctest's TIMEOUT (60 s), which kills outright. Wait
# with wait_for/wait_line (0.1 s steps): bash runs the TERM trap only
# between foreground commands.
#
# Avahi: avahi_start NS runs a private dbus-daemon (socket in $WP_TMP, never
# /run/dbus) and avahi-daemon inside NS with a private tmpfs on /run (its pid
# file and socket), limited to wp0. So several tests, and several avahi
# daemons, can run at once. avahi_env NS prints the DBUS_SYSTEM_BUS_ADDRESS
# setting that avahi-publish/-browse and avahi-client need: nsx_avahi NS cmd.

set -eu
set -o pipefail

WP_NETNS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WP_TAG="wp-$$"
WP_BUDGET=${WP_BUDGET:-45}
WP_PY=/usr/bin/python3 # Debian's python: the one that sees python3-zeroconf
WP_NS=()               # short names, creation order
WP_PIDS=()             # PIDs this test started, start order
WP_LOGS=()             # short log names of spawned processes
declare -A WP_HOSTNUM=()
WP_NEXT_HOST=1
WP_IFACE=wp0
WP_STATUS=fail         # set by pass/skip; anything else at exit is a failure
WP_TMP=$(mktemp -d "/tmp/$WP_TAG-XXXXXX")
WP_WATCHDOG=""

log() { printf '[%s %s] %s\n' "${0##*/}" "$(date +%T.%3N)" "$*" >&2; }
fail() { log "FAIL: $*"; WP_STATUS=fail; exit 1; }
skip() { log "SKIP: $*"; WP_STATUS=skip; exit 77; }
pass() { log "PASS: $*"; WP_STATUS=pass; exit 0; }

# ------------------------------------------------------------ cleanup
# wp_stop PID: TERM, wait up to 3 s, then KILL; reap it. Only for our PIDs.
wp_stop() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 30; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    # A zombie child still answers kill -0: check its state.
    [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" = Z ] && break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null && [ "$(ps -o stat= -p "$pid" | cut -c1)" != Z ]; then
    log "pid $pid ignored SIGTERM for 3 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

wp_cleanup() {
  local rc=$? i name
  trap - EXIT INT TERM
  set +e
  if [ -n "$WP_WATCHDOG" ]; then kill "$WP_WATCHDOG" 2>/dev/null; wait "$WP_WATCHDOG" 2>/dev/null; fi
  for ((i = ${#WP_PIDS[@]} - 1; i >= 0; i--)); do wp_stop "${WP_PIDS[$i]}"; done
  for name in "${WP_NS[@]}"; do ip netns del "$WP_TAG-$name" 2>/dev/null; done
  if [ "$WP_STATUS" = fail ] || { [ "$rc" != 0 ] && [ "$rc" != 77 ]; }; then
    for name in "${WP_LOGS[@]}"; do
      [ -s "$WP_TMP/$name.log" ] || continue
      echo "----- $name.log (last 40 lines)" >&2
      tail -n 40 "$WP_TMP/$name.log" >&2
    done
    [ "$rc" = 0 ] && rc=1
  fi
  if [ "${WP_KEEP_TMP:-0}" = 1 ]; then log "kept $WP_TMP"; else rm -rf "$WP_TMP"; fi
  exit "$rc"
}
trap wp_cleanup EXIT
trap 'log "SIGINT"; exit 130' INT
trap 'log "SIGTERM (watchdog after ${WP_BUDGET}s, or ctest)"; exit 143' TERM

# Delete what a test shell that no longer exists (SIGKILL) left behind: the
# namespaces it listed in its $WP_TMP/namespaces, then that directory.
# Processes still inside are reported, not killed: this run did not start them.
wp_gc_stale() {
  local f d pid ns pids
  for f in /tmp/wp-[0-9]*-*/namespaces; do
    [ -f "$f" ] || continue
    d=${f%/namespaces}; pid=${d#/tmp/wp-}; pid=${pid%%-*}
    [ -d "/proc/$pid" ] && continue
    while read -r ns; do
      pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
      [ -z "$pids" ] || log "stale namespace $ns still holds PIDs: $pids"
      ip netns del "$ns" 2>/dev/null && log "deleted stale namespace $ns"
    done <"$f"
    rm -rf "$d"
  done
  return 0
}

# The watchdog: its output goes nowhere so no pipe keeps ctest waiting.
# If the test shell died (SIGKILL), this subshell was re-parented: then $$
# may be another process by now, so it sends nothing.
( trap 'kill "$sp" 2>/dev/null; wait "$sp"; exit 0' TERM
  sleep "$WP_BUDGET" & sp=$!; wait "$sp"
  read -r _ _ _ ppid _ <"/proc/$BASHPID/stat"
  [ "$ppid" = $$ ] && kill -TERM $$ ) >/dev/null 2>&1 &
WP_WATCHDOG=$!

# ------------------------------------------------------------ requirements
# require_root_netns: SKIP (77) unless we can create a namespace and a veth.
require_root_netns() {
  local probe="$WP_TAG-probe" err
  [ "$(id -u)" = 0 ] || skip "needs root to create network namespaces (uid $(id -u))"
  command -v ip >/dev/null || skip "'ip' (iproute2) not installed"
  if ! err=$(ip netns add "$probe" 2>&1); then skip "cannot create a network namespace: $err"; fi
  if ! err=$(ip -n "$probe" link add wpt0 type veth peer name wpt1 2>&1); then
    ip netns del "$probe"; skip "cannot create a veth pair: $err"
  fi
  ip netns del "$probe"
  wp_gc_stale
}

# require_cmd CMD DEBIAN-PACKAGE: SKIP with the package to install.
require_cmd() {
  command -v "$1" >/dev/null 2>&1 || [ -x "$1" ] ||
    skip "'$1' not found: apt-get install $2 (scripts/deps-extra.txt)"
}

# require_zeroconf: Debian's python3-zeroconf under /usr/bin/python3.
require_zeroconf() {
  [ -x "$WP_PY" ] || skip "$WP_PY not found: apt-get install python3"
  "$WP_PY" -c 'import zeroconf' 2>/dev/null ||
    skip "$WP_PY cannot import zeroconf: apt-get install python3-zeroconf"
}

# ------------------------------------------------------------ hosts and links
nsname() { echo "$WP_TAG-$1"; }
# nsx NS CMD...: run CMD inside namespace NS (foreground).
nsx() { local n=$1; shift; ip netns exec "$WP_TAG-$n" "$@"; }
ip4() { echo "192.0.2.${WP_HOSTNUM[$1]}"; }
ip6() { echo "fe80::${WP_HOSTNUM[$1]}"; }

# ns_new NS: a namespace with lo up and a host number.
ns_new() {
  local n=$1
  [ -z "${WP_HOSTNUM[$n]:-}" ] || fail "ns_new: $n exists"
  ip netns add "$WP_TAG-$n" || fail "ip netns add $WP_TAG-$n"
  WP_NS+=("$n")
  echo "$WP_TAG-$n" >>"$WP_TMP/namespaces"
  WP_HOSTNUM[$n]=$WP_NEXT_HOST
  WP_NEXT_HOST=$((WP_NEXT_HOST + 1))
  ip -n "$WP_TAG-$n" link set lo up
}

# Address wp0 in NS, bring it up, route IPv4 multicast through it (without
# the route, sendto 224.0.0.251 fails with ENETUNREACH: no default route).
wp_if_setup() {
  local n=$1 ns="$WP_TAG-$1" h=${WP_HOSTNUM[$1]}
  ip -n "$ns" link set "$WP_IFACE" addrgenmode none
  ip -n "$ns" addr add "192.0.2.$h/24" dev "$WP_IFACE"
  ip -n "$ns" addr add "fe80::$h/64" dev "$WP_IFACE" nodad
  ip -n "$ns" link set "$WP_IFACE" up
  ip -n "$ns" route add 224.0.0.0/4 dev "$WP_IFACE"
}

# link_pair A B: one veth pair, named wp0 at both ends.
link_pair() {
  ip link add "$WP_IFACE" netns "$WP_TAG-$1" type veth peer name "$WP_IFACE" netns "$WP_TAG-$2" ||
    fail "veth $1 <-> $2"
  wp_if_setup "$1"
  wp_if_setup "$2"
}

# lan_join NS...: plug each NS into one bridge (a switch in namespace "lan"),
# for tests with three or more hosts. The bridge has no address.
lan_join() {
  local n i=0
  if [ -z "${WP_HOSTNUM[lan]:-}" ]; then
    ns_new lan
    ip -n "$WP_TAG-lan" link add br0 type bridge
    ip -n "$WP_TAG-lan" link set br0 up
  fi
  for n in "$@"; do
    while ip -n "$WP_TAG-lan" link show "p$i" >/dev/null 2>&1; do i=$((i + 1)); done
    ip link add "$WP_IFACE" netns "$WP_TAG-$n" type veth peer name "p$i" netns "$WP_TAG-lan" ||
      fail "veth $n <-> lan"
    ip -n "$WP_TAG-lan" link set "p$i" master br0 up
    wp_if_setup "$n"
  done
}

# ------------------------------------------------------------ processes
# spawn NS LOG CMD...: start CMD in NS in the background, output to
# $WP_TMP/LOG.log; its PID goes to $LAST_PID and to the cleanup list.
# NS "-" means the host namespace (only for things like dbus-daemon that
# open no network socket).
LAST_PID=""
spawn() {
  local n=$1 name=$2; shift 2
  [ ! -e "$WP_TMP/$name.log" ] || fail "spawn: log name $name reused"
  if [ "$n" = - ]; then
    "$@" >"$WP_TMP/$name.log" 2>&1 </dev/null &
  else
    ip netns exec "$WP_TAG-$n" "$@" >"$WP_TMP/$name.log" 2>&1 </dev/null &
  fi
  LAST_PID=$!
  WP_PIDS+=("$LAST_PID")
  WP_LOGS+=("$name")
}

# run NS LOG CMD...: run CMD in NS in the foreground, stdout and stderr to
# $WP_TMP/LOG.log (shown if the test fails); returns CMD's status.
run() {
  local n=$1 name=$2; shift 2
  [ ! -e "$WP_TMP/$name.log" ] || fail "run: log name $name reused"
  WP_LOGS+=("$name")
  ip netns exec "$WP_TAG-$n" "$@" >"$WP_TMP/$name.log" 2>&1 </dev/null
}

# forget_pid PID: drop a reaped PID from the cleanup list (it may be reused).
forget_pid() {
  local p keep=()
  for p in "${WP_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  WP_PIDS=("${keep[@]}")
}

# stop_pid PID: stop a spawned process now (TERM, then KILL after 3 s).
stop_pid() { wp_stop "$1"; forget_pid "$1"; }

# wait_exit PID SECS: wait until a spawned process exits by itself, reap it
# and set WP_RC to its exit status; fail after SECS.
WP_RC=0
wait_exit() {
  wait_for "$2" "process $1 to exit" wp_exited "$1"
  WP_RC=0
  wait "$1" || WP_RC=$?
  forget_pid "$1"
}
wp_exited() { ! kill -0 "$1" 2>/dev/null || [ "$(ps -o stat= -p "$1" | cut -c1)" = Z ]; }

# logfile NAME: path of a spawned process's log.
logfile() { echo "$WP_TMP/$1.log"; }

# wait_for SECS DESC CMD...: poll CMD every 0.1 s until it succeeds; fail
# with DESC after SECS. Returns at once when it succeeds.
wait_for() {
  local secs=$1 desc=$2 end ms; shift 2
  ms=$(awk -v s="$secs" 'BEGIN { printf "%d", s * 1000 }')
  end=$(($(date +%s%N) + ms * 1000000))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s%N)" -lt "$end" ] || fail "timed out after ${secs}s waiting for $desc"
    sleep 0.1
  done
}

# wait_line LOG REGEX SECS: wait for a line matching REGEX in a spawned log.
wait_line() { wait_for "$3" "/$2/ in $1.log" grep -qE -- "$2" "$WP_TMP/$1.log"; }

# alive PID: fail if a spawned process already exited.
alive() { kill -0 "$1" 2>/dev/null || fail "process $1 exited early"; }

# ------------------------------------------------------------ faults
# loss_set NS P: drop each incoming mDNS packet (UDP, source or destination
# port 5353) with probability P (0..1) on NS's INPUT. This kernel has no
# netem; on OUTPUT the sender would get EPERM instead of a silent loss.
# A counting rule before the DROP lets loss_report show what happened.
loss_set() {
  require_cmd iptables iptables
  nsx "$1" iptables -A INPUT -p udp -m multiport --ports 5353 -m comment --comment wp-seen ||
    fail "iptables in $1"
  nsx "$1" iptables -A INPUT -p udp -m multiport --ports 5353 \
    -m statistic --mode random --probability "$2" -j DROP || fail "iptables statistic in $1"
}
loss_clear() { nsx "$1" iptables -F INPUT; }
# loss_report NS: prints "SEEN DROPPED" packet counts of the two rules.
loss_report() {
  nsx "$1" iptables -L INPUT -v -n -x | awk '/multiport/ && !/DROP/ {s=$1} /DROP/ {d=$1} END {print s+0, d+0}'
}

# ------------------------------------------------------------ avahi
# dbus_start NS: a private D-Bus "system" bus for NS's avahi-daemon and its
# clients (socket $WP_TMP/avahi-NS/bus; never /run/dbus). Idempotent.
declare -A WP_AVAHI_BUS=()
declare -A WP_AVAHI_PID=()
dbus_start() {
  local n=$1 dir="$WP_TMP/avahi-$1"
  [ -z "${WP_AVAHI_BUS[$n]:-}" ] || return 0
  require_cmd dbus-daemon dbus
  mkdir -p "$dir"
  cat >"$dir/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$dir/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOF
  # --nopidfile: never touch /run/dbus/pid. No network socket: host namespace.
  spawn - "dbus-$n" dbus-daemon --config-file="$dir/bus.conf" --nofork --nopidfile
  wait_for 5 "dbus-daemon socket $dir/bus" test -S "$dir/bus"
  WP_AVAHI_BUS[$n]="unix:path=$dir/bus"
}

# avahi_start NS: dbus_start NS, then avahi-daemon serving wp0 in NS. Waits
# until Avahi has claimed its host name wp<pid>-NS.local.
avahi_start() {
  local n=$1 dir="$WP_TMP/avahi-$1"
  require_cmd avahi-daemon avahi-daemon
  dbus_start "$n"
  cat >"$dir/avahi-daemon.conf" <<EOF
[server]
host-name=wp$$-$n
domain-name=local
use-ipv4=yes
use-ipv6=yes
allow-interfaces=$WP_IFACE
enable-dbus=yes
ratelimit-interval-usec=1000000
ratelimit-burst=1000
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
[reflector]
[rlimits]
EOF
  # ip netns exec runs us in a fresh mount namespace whose / is a slave:
  # the tmpfs on /run stays private, so /run/avahi-daemon/pid never clashes.
  spawn "$n" "avahi-$n" env DBUS_SYSTEM_BUS_ADDRESS="${WP_AVAHI_BUS[$n]}" sh -c \
    'mount -t tmpfs -o size=1m,mode=755 wp-run /run && exec avahi-daemon -f "$1" --no-drop-root --no-chroot --no-rlimits --no-proc-title' \
    sh "$dir/avahi-daemon.conf"
  WP_AVAHI_PID[$n]=$LAST_PID
  wait_line "avahi-$n" 'Server startup complete' 10
}

# avahi_stop NS: stop NS's avahi-daemon (its dbus-daemon stays).
avahi_stop() { stop_pid "${WP_AVAHI_PID[$1]}"; }

avahi_env() { echo "DBUS_SYSTEM_BUS_ADDRESS=${WP_AVAHI_BUS[$1]}"; }
# nsx_avahi NS CMD...: run CMD in NS, talking to NS's avahi-daemon.
nsx_avahi() { local n=$1; shift; nsx "$n" env "$(avahi_env "$n")" "$@"; }
# spawn_avahi NS LOG CMD...: spawn, talking to NS's avahi-daemon.
spawn_avahi() { local n=$1 name=$2; shift 2; spawn "$n" "$name" env "$(avahi_env "$n")" "$@"; }

# avahi_escape TEXT: TEXT as avahi-browse -p prints a label: bytes outside
# [A-Za-z0-9_-] become \DDD (decimal), '.' and '\' get a backslash.
avahi_escape() {
  "$WP_PY" -c '
import sys
out = []
for c in sys.argv[1]:
    if (c.isascii() and c.isalnum()) or c in "-_":
        out.append(c)
    elif c in ".\\":
        out.append("\\" + c)
    else:
        out.extend("\\%03d" % b for b in c.encode())
print("".join(out))' "$1"
}

# ------------------------------------------------------------ JSON lines
# json_find FILE PYEXPR: succeed if some JSON line j in FILE makes PYEXPR true,
# e.g. json_find out 'j["name"] == "x" and j["port"] == 4242'. Prints it.
json_find() {
  "$WP_PY" - "$1" "$2" <<'EOF'
import json, sys
path, expr = sys.argv[1], sys.argv[2]
for line in open(path, encoding="utf-8", errors="replace"):
    line = line.strip()
    if not line.startswith("{"):
        continue
    j = json.loads(line)
    if eval(expr, {}, {"j": j}):
        print(line)
        sys.exit(0)
sys.exit(1)
EOF
}

#!/bin/bash
# lib.sh keeps its promises: after a failing test, a test stopped by the
# watchdog, or one that ran Avahi, no namespace, process or temp file of it
# is left; without root a test skips (77) with the reason.
. "$(dirname "$0")/lib.sh"
require_root_netns

CHILD="$WP_TMP/child.sh"
cat >"$CHILD" <<EOF
. "$WP_NETNS_DIR/lib.sh"
require_root_netns
ns_new x; ns_new y; link_pair x y
spawn x sleeper sleep 30
state="\$LAST_PID \$WP_TAG \$WP_TMP"
if [ "\$1" = avahi ]; then
  avahi_start x
  state="\$state \${WP_AVAHI_PID[x]} \$WP_TMP/avahi-x/bus"
fi
echo "\$state" >"$WP_TMP/state-\$1"
case "\$1" in
  hang) wait_for 30 "something that never happens" false ;;
  *) fail "deliberate failure" ;;
esac
EOF

# check_gone CASE WANT-RC RC: the child's PIDs, namespaces and files are gone.
check_gone() {
  local c=$1 want=$2 rc=$3 pid tag tmp extra p
  [ "$rc" = "$want" ] || fail "$c: child exit $rc, want $want"
  read -r pid tag tmp extra <"$WP_TMP/state-$c" || fail "$c: no state"
  ! kill -0 "$pid" 2>/dev/null || fail "$c: spawned PID $pid still runs"
  ! ip netns list | grep -q "^$tag-" || fail "$c: namespaces $tag-* left"
  [ ! -e "$tmp" ] || fail "$c: $tmp left"
  for p in $extra; do
    case "$p" in
      /*) [ ! -e "$p" ] || fail "$c: $p left" ;;
      *) ! kill -0 "$p" 2>/dev/null || fail "$c: avahi-daemon PID $p still runs" ;;
    esac
  done
}

rc=0; bash "$CHILD" fail >"$WP_TMP/fail.out" 2>&1 || rc=$?
check_gone fail 1 "$rc"
grep -q 'FAIL: deliberate failure' "$WP_TMP/fail.out" || fail "failure message not printed"
log "ok: a failing test leaves nothing behind"

start=$(date +%s)
rc=0; WP_BUDGET=2 bash "$CHILD" hang >"$WP_TMP/hang.out" 2>&1 || rc=$?
check_gone hang 143 "$rc"
[ $(($(date +%s) - start)) -le 8 ] || fail "watchdog took $(($(date +%s) - start)) s for a 2 s budget"
log "ok: the watchdog stops a hung test and cleans up"

if command -v avahi-daemon >/dev/null && command -v dbus-daemon >/dev/null; then
  rc=0; bash "$CHILD" avahi >"$WP_TMP/avahi.out" 2>&1 || rc=$?
  check_gone avahi 1 "$rc"
  log "ok: avahi-daemon and its private dbus-daemon are stopped, the bus socket removed"
fi

if command -v setpriv >/dev/null; then
  rc=0
  # The script on stdin: $WP_TMP (mode 0700) is not readable by nobody.
  setpriv --reuid=65534 --regid=65534 --clear-groups bash -s fail <"$CHILD" >"$WP_TMP/user.out" 2>&1 || rc=$?
  [ "$rc" = 77 ] || fail "unprivileged run: exit $rc, want 77 (skip)"
  grep -q 'SKIP: needs root' "$WP_TMP/user.out" || fail "skip reason not printed"
  log "ok: without root the test skips with the reason"
fi
pass "lib.sh cleans up after failure, watchdog and Avahi; skips without root"

#!/bin/bash
# The example programs (examples/lamp.c, examples/switch.c) as a user runs
# them: the lamp advertises on lo inside a namespace this test creates, the
# switch finds it by name and by fingerprint, turns it on, reads its status;
# a controller the lamp does not trust is refused; after SIGTERM the lamp
# is gone from discovery.
#   examples.sh WIPEER LAMP SWITCH
. "$(dirname "$0")/lib.sh"
require_root_netns
W=$1 LAMP=$2 SWITCH=$3
ns_new h
H=$WP_TMP
"$W" id --home "$H/lamp" >/dev/null 2>&1
"$W" id --home "$H/switch" >/dev/null 2>&1
"$W" id --home "$H/stranger" >/dev/null 2>&1
fp() { "$W" id --home "$1" --json | sed -n 's/.*"fingerprint":"\([^"]*\)".*/\1/p'; }
lamp_fp=$(fp "$H/lamp") switch_fp=$(fp "$H/switch")

spawn h lamp env WIPEER_HOME="$H/lamp" "$LAMP" --iface lo "Desk Lamp" "$switch_fp"
lamp_pid=$LAST_PID
wait_line lamp 'advertised as "Desk Lamp"' 10 || fail "the lamp did not advertise"

sw() { # sw HOME TARGET COMMAND -> stdout of the switch
  nsx h env WIPEER_HOME="$1" timeout 20 "$SWITCH" --iface lo "$2" "$3"
}
out=$(sw "$H/switch" "Desk Lamp" status) || fail "status by name failed"
[ "$out" = "lamp is off" ] || fail "status by name: got '$out'"
out=$(sw "$H/switch" "$lamp_fp" on) || fail "on by fingerprint failed"
[ "$out" = "lamp is on" ] || fail "on by fingerprint: got '$out'"
out=$(sw "$H/switch" "Desk Lamp" status) || fail "status after on failed"
[ "$out" = "lamp is on" ] || fail "the lamp forgot it is on: got '$out'"

rc=0
out=$(sw "$H/stranger" "Desk Lamp" off 2>"$H/stranger.err") || rc=$?
[ "$rc" = 1 ] || fail "an untrusted switch got exit $rc (want 1): $out"
grep -q 'not trusted' "$H/stranger.err" || fail "no clear denial: $(cat "$H/stranger.err")"
out=$(sw "$H/switch" "Desk Lamp" status) || fail "status after the stranger failed"
[ "$out" = "lamp is on" ] || fail "the stranger changed the lamp: got '$out'"

kill -TERM "$lamp_pid"
wait_exit "$lamp_pid" 10 || fail "the lamp did not stop on SIGTERM"
[ "$WP_RC" = 0 ] || fail "the lamp exited $WP_RC on SIGTERM"
rc=0
sw "$H/switch" "Desk Lamp" status >/dev/null 2>"$H/gone.err" || rc=$?
[ "$rc" = 1 ] || fail "a stopped lamp still answered (exit $rc)"
pass "lamp and switch: by name and fingerprint, untrusted switch refused, clean stop"

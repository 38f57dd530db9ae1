#!/bin/bash
# Link-local IPv6 with an interface scope (review 4, L6): `wipeer listen
# --bind fe80::1%wp0` (it was refused: inet_pton takes no %scope), `wipeer
# connect [fe80::1%wp0]:PORT` from the other end of the link, and both show
# the peer's address with its scope.
#   linklocal.sh WIPEER
. "$(dirname "$0")/lib.sh"
require_root_netns
W=$1
[ -x "$W" ] || fail "usage: linklocal.sh WIPEER"

ns_new a
ns_new b
link_pair a b
"$W" id --home "$WP_TMP/ha" >/dev/null 2>&1 || fail "wipeer id a"
"$W" id --home "$WP_TMP/hb" >/dev/null 2>&1 || fail "wipeer id b"

spawn a listen "$W" listen --home "$WP_TMP/ha" --bind "$(ip6 a)%$WP_IFACE" --accept-any \
  --no-advertise --no-stdin --json
LPID=$LAST_PID
wait_line listen '"event":"listening"' 10
port=$(sed -n 's/.*"event":"listening".*"port":\([0-9]*\).*/\1/p' "$(logfile listen)")
[ -n "$port" ] || fail "no port"
grep -q "\"address\":\"$(ip6 a)%$WP_IFACE\"" "$(logfile listen)" || fail "listen address"

echo "over link-local" >"$WP_TMP/msg"
nsx b "$W" connect "[$(ip6 a)%$WP_IFACE]:$port" --home "$WP_TMP/hb" --json \
  <"$WP_TMP/msg" >"$WP_TMP/c.out" 2>"$WP_TMP/connect.log" || fail "connect: exit $?"
WP_LOGS+=(connect)
wait_exit "$LPID" 10
[ "$WP_RC" = 0 ] || fail "listen: exit $WP_RC"
grep -q "\"remote\":\"\[$(ip6 a)%$WP_IFACE\]:$port\"" "$WP_TMP/connect.log" ||
  fail "connect shows the listener without its scope"
grep -q "\"remote\":\"\[$(ip6 b)%$WP_IFACE\]:" "$(logfile listen)" ||
  fail "listen shows the connector without its scope"
grep -q "over link-local" "$(logfile listen)" || fail "message not received"
pass "link-local listen and connect with %$WP_IFACE"

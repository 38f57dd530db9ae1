#!/bin/bash
# Connection attempts to several addresses (review 4, M4): a name resolves
# to an address that drops every packet (iptables DROP) and then to one
# that answers. The second is tried RT_ATTEMPT_DELAY_MS (250 ms) after the
# first (RFC 8305), so the connection is up in well under a second instead
# of failing when the whole connect timeout ran out on the first address.
#   happy_eyeballs.sh WIPEER HE_CONNECT
. "$(dirname "$0")/lib.sh"
require_root_netns
require_cmd iptables iptables
W=$1
HE=$2
[ -x "$W" ] && [ -x "$HE" ] || fail "usage: happy_eyeballs.sh WIPEER HE_CONNECT"

ns_new a
ns_new b
link_pair a b
BLACKHOLE=192.0.2.101
ip -n "$(nsname a)" addr add "$BLACKHOLE/24" dev "$WP_IFACE" || fail "second address"
nsx a iptables -A INPUT -p tcp -d "$BLACKHOLE" -j DROP || fail "iptables"

"$W" id --home "$WP_TMP/ha" >/dev/null 2>&1 || fail "wipeer id"
spawn a listen "$W" listen --home "$WP_TMP/ha" --accept-any --no-stdin --keep-open --no-advertise --json
wait_line listen '"event":"listening"' 10
port=$(sed -n 's/.*"event":"listening".*"port":\([0-9]*\).*/\1/p' "$(logfile listen)")
[ -n "$port" ] || fail "no port"

# The black hole first, then the listener: up through the second address.
run b first_dropped env WP_HE_ADDRS="$BLACKHOLE,$(ip4 a)" "$HE" "$WP_TMP/hb" "$port" 8000 ||
  fail "not connected through the second address: $(cat "$(logfile first_dropped)")"
read -r what ms remote <"$(logfile first_dropped)"
[ "$what" = authenticated ] || fail "$what"
[ "$remote" = "$(ip4 a):$port" ] || fail "connected to $remote"
[ "$ms" -lt 4000 ] || fail "took $ms ms: the dropped address held it up"
log "authenticated through the second address after $ms ms"

# Only the black hole: the connect timeout still ends it.
rc=0
run b only_dropped env WP_HE_ADDRS="$BLACKHOLE" "$HE" "$WP_TMP/hb" "$port" 1000 || rc=$?
[ "$rc" = 1 ] || fail "exit $rc: $(cat "$(logfile only_dropped)")"
grep -q '^closed WP_ETIMEDOUT' "$(logfile only_dropped)" || fail "$(cat "$(logfile only_dropped)")"
pass "an address that drops packets costs the attempt delay, not the connect timeout"

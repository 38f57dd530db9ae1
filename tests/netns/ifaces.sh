#!/bin/bash
# Interfaces that appear, change or go away are followed (issue 5, netlink in
# src/runtime/mdns_sock.c), seen through the CLI with the built-in backend.
#   ifaces.sh WIPEER
# 1. `wipeer listen` starts in A while A has only lo, `wipeer browse` in B
#    while B has only lo; then the veth pair appears: B must find "late" with
#    A's IPv4 address (both sides had to follow the new link).
# 2. A second IPv4 address on A's wp0: B reports "late" updated with both
#    (RFC 6762 §8.4: changed records are announced again).
# 3. A's wp0 goes down and up: A must probe and announce again (RFC 6762 §8,
#    "Link Change"); an AF_PACKET sniffer in B sees a probe for "late" from A
#    (QR=0, authority section) and then an unsolicited announcement (QR=1),
#    both after the link came back; a fresh browse in B finds "late" too.
. "$(dirname "$0")/lib.sh"
W=${1:?usage: ifaces.sh WIPEER}

require_root_netns
[ -x "$W" ] || skip "wipeer CLI not built: $W"
ns_new a
ns_new b
home() { echo "$WP_TMP/home-$1"; }
addrs_of() { # LOG PYEXPR-on-addresses: a found/updated line for "late" where it holds
  json_find "$(logfile "$1")" "j['event'] in ('found', 'updated') and j['name'] == 'late' and $2"
}
A4=$(ip4 a)
A4b=192.0.2.101

# 1. Nothing but lo in A and B when both start.
[ -z "$(ip -n "$(nsname a)" -o addr show scope global)" ] || fail "A already has an address"
spawn a lis "$W" listen --home "$(home a)" --json --discovery builtin --accept-any --no-stdin \
  --keep-open --name late
LIS=$LAST_PID
wait_line lis '"event":"listening"' 10
spawn b br "$W" browse --home "$(home b)" --json --discovery builtin --timeout 40
t0=$(date +%s%3N)
link_pair a b
wait_for 10 "B finding 'late' with $A4" addrs_of br "'$A4' in [x['address'] for x in j['addresses']]"
log "ok: B found 'late' at $A4 $(($(date +%s%3N) - t0)) ms after the link appeared"

# 2. A second address.
t0=$(date +%s%3N)
ip -n "$(nsname a)" addr add "$A4b/24" dev "$WP_IFACE"
wait_for 10 "B reporting 'late' with $A4 and $A4b" addrs_of br \
  "j['event'] == 'updated' and {'$A4', '$A4b'} <= {x['address'] for x in j['addresses']}"
log "ok: B updated 'late' with $A4b $(($(date +%s%3N) - t0)) ms after it was added"

# 3. Down and up. The sniffer prints one JSON line per mDNS packet from A
# that names "late": time (ms), QR, counts.
spawn b sniff "$WP_PY" -c '
import json, socket, struct, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
s.bind((sys.argv[1], 0x0800))
print(json.dumps({"ready": True}), flush=True)
end = time.time() + 30
while time.time() < end:
    s.settimeout(max(0.1, end - time.time()))
    try:
        p = s.recv(65535)
    except socket.timeout:
        break
    ihl = (p[0] & 15) * 4
    if len(p) < ihl + 20 or p[9] != 17 or socket.inet_ntoa(p[12:16]) != sys.argv[2]:
        continue
    if struct.unpack("!H", p[ihl + 2:ihl + 4])[0] != 5353:
        continue
    d = p[ihl + 8:]
    if b"\x04late" not in d:
        continue
    fl, qd, an, ns, ar = struct.unpack("!HHHHH", d[2:12])
    print(json.dumps({"t": int(time.time() * 1000), "qr": fl >> 15, "qd": qd, "an": an,
                      "ns": ns}), flush=True)
' "$WP_IFACE" "$A4"
wait_line sniff '"ready"' 5
ip -n "$(nsname a)" link set "$WP_IFACE" down
log "link down at $(date +%s%3N)"
sleep 1.5
t_up=$(date +%s%3N)
ip -n "$(nsname a)" link set "$WP_IFACE" up
log "link up at $t_up"
wait_for 10 "a probe for 'late' from A after the link came back" json_find "$(logfile sniff)" \
  "j.get('t', 0) >= $t_up and j['qr'] == 0 and j['ns'] > 0"
wait_for 10 "an announcement of 'late' from A after the link came back" json_find "$(logfile sniff)" \
  "j.get('t', 0) >= $t_up and j['qr'] == 1 and j['an'] > 0"
grep -q '"event":"removed","name":"late"' "$(logfile br)" && log "note: B dropped 'late' meanwhile"
run b br2 "$W" browse --home "$(home b)" --json --discovery builtin --timeout 3 ||
  fail "second browse exited $?"
addrs_of br2 "'$A4' in [x['address'] for x in j['addresses']]" >/dev/null ||
  fail "a fresh browse in B did not find 'late' at $A4 after down/up"
alive "$LIS"
pass "followed: new link (found), added address (updated), down/up (probe + announce again, found at $A4)"

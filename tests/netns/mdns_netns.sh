#!/bin/sh
# mdns_netns.sh PEER - the mDNS engine on real sockets (src/runtime/mdns_sock.c)
# between two network namespaces joined by a veth pair, IPv4 and IPv6:
# discovery both ways, a name conflict, a goodbye, and python3-zeroconf
# (when installed) publishing to us and browsing us. Never touches the
# host's own interfaces; the namespaces are deleted on every exit path.
set -u
PEER=$1
[ "$(id -u)" = 0 ] || { echo "skip: needs root"; exit 77; }
command -v ip >/dev/null || { echo "skip: needs iproute2"; exit 77; }
A=wpdns-a-$$ B=wpdns-b-$$
TMP=$(mktemp -d)
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    ip netns del "$A" 2>/dev/null
    ip netns del "$B" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; for f in "$TMP"/*.out; do echo "== $f"; cat "$f"; done; exit 1; }

ip netns add "$A" && ip netns add "$B" || { echo "skip: cannot create namespaces"; exit 77; }
ip link add va netns "$A" type veth peer name vb netns "$B" || fail "veth"
for ns in "$A" "$B"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
ip netns exec "$A" sysctl -qw net.ipv6.conf.va.accept_dad=0
ip netns exec "$B" sysctl -qw net.ipv6.conf.vb.accept_dad=0
ip -n "$A" addr add 10.77.0.1/24 dev va
ip -n "$B" addr add 10.77.0.2/24 dev vb
for ns in "$A" "$B"; do ip -n "$ns" link set lo up; done
ip -n "$A" link set va up && ip -n "$B" link set vb up || fail "link up"
sleep 1 # link-local IPv6 addresses

inA() { ip netns exec "$A" "$@"; }
inB() { ip netns exec "$B" "$@"; }

echo "== discovery both ways"
inA "$PEER" --iface va --host alpha --publish "Ay:7001" --txt v=1 --txt fp=AAAA-BBBB --browse \
    --expect Bee --linger 1500 --timeout 15000 >"$TMP/a1.out" 2>&1 &
PA=$!; PIDS="$PIDS $PA"
inB "$PEER" --iface vb --host beta --publish "Bee:7002" --txt v=1 --browse \
    --expect Ay --linger 1500 --timeout 15000 >"$TMP/b1.out" 2>&1 || fail "B did not find Ay"
wait "$PA" || fail "A did not find Bee"
grep -q '^FOUND Ay|alpha.local|7001|.*10.77.0.1.*|1|AAAA-BBBB|1$' "$TMP/b1.out" || fail "Ay resolved wrong"
grep '^FOUND Ay' "$TMP/b1.out" | grep -q 'fe80::' || fail "no IPv6 address for Ay"
grep -q '^FOUND Bee|beta.local|7002|.*10.77.0.2' "$TMP/a1.out" || fail "Bee resolved wrong"

echo "== same name on both sides: one renames"
inA "$PEER" --iface va --host alpha --publish "Same:7001" --txt v=1 --browse --expect-count 2 \
    --linger 2000 --timeout 15000 >"$TMP/a2.out" 2>&1 &
PA=$!; PIDS="$PIDS $PA"
inB "$PEER" --iface vb --host beta --publish "Same:7002" --txt v=1 --browse --expect-count 2 \
    --linger 2000 --timeout 15000 >"$TMP/b2.out" 2>&1 || fail "B did not see two services"
wait "$PA" || fail "A did not see two services"
[ "$(cat "$TMP/a2.out" "$TMP/b2.out" | grep -c '^RENAMED Same (2)$')" = 1 ] || fail "expected one rename"

echo "== goodbye: the browser drops a stopped service within a second"
inA "$PEER" --iface va --host alpha --publish "Gone:7001" --txt v=1 --browse --expect-count 99 \
    --timeout 3000 >"$TMP/a3.out" 2>&1 &
PA=$!; PIDS="$PIDS $PA"
inB "$PEER" --iface vb --browse --expect Gone --expect-removed Gone --timeout 15000 \
    >"$TMP/b3.out" 2>&1 || fail "B did not see Gone leave"
wait "$PA"
bye=$(sed -n 's/^BYE @//p' "$TMP/a3.out")
gone=$(sed -n 's/^REMOVED Gone @//p' "$TMP/b3.out")
[ -n "$bye" ] && [ -n "$gone" ] && [ $((gone - bye)) -le 1500 ] ||
    fail "removed $((gone - bye)) ms after the goodbye"

if /usr/bin/python3 -c 'import zeroconf' 2>/dev/null; then
    echo "== python3-zeroconf publishes, we browse; we publish, it browses"
    cat >"$TMP/zc.py" <<'PY'
import socket, sys, time
from zeroconf import Zeroconf, ServiceInfo, ServiceBrowser, IPVersion
zc = Zeroconf(interfaces=[sys.argv[1]], ip_version=IPVersion.V4Only)
info = ServiceInfo("_wipeerkit._tcp.local.", "Zed._wipeerkit._tcp.local.", port=7003,
                   properties={"v": "1", "fp": "ZZZZ-0000"}, server="zed.local.",
                   addresses=[socket.inet_aton(sys.argv[1])])
zc.register_service(info)
found = {}
class L:
    def add_service(self, z, t, n):
        i = z.get_service_info(t, n, 3000)
        if i: found[n] = i
    update_service = add_service
    def remove_service(self, z, t, n): pass
ServiceBrowser(zc, "_wipeerkit._tcp.local.", L())
end = time.time() + 12
while time.time() < end and "Bee._wipeerkit._tcp.local." not in found:
    time.sleep(0.2)
i = found.get("Bee._wipeerkit._tcp.local.")
ok = i is not None and i.port == 7002 and i.properties.get(b"v") == b"1" and \
     "10.77.0.2" in [socket.inet_ntoa(a) for a in i.addresses]
print("ZC-FOUND" if ok else "ZC-MISSING", i)
time.sleep(2)
zc.unregister_service(info); zc.close()
sys.exit(0 if ok else 1)
PY
    inA /usr/bin/python3 "$TMP/zc.py" 10.77.0.1 >"$TMP/zc.out" 2>&1 &
    PZ=$!; PIDS="$PIDS $PZ"
    inB "$PEER" --iface vb --host beta --publish "Bee:7002" --txt v=1 --browse --expect Zed \
        --linger 6000 --timeout 15000 >"$TMP/b4.out" 2>&1 || fail "we did not find zeroconf's Zed"
    grep -q '^FOUND Zed|zed.local|7003|10.77.0.1|1|ZZZZ-0000|1$' "$TMP/b4.out" || fail "Zed resolved wrong"
    wait "$PZ" || fail "zeroconf did not resolve Bee"
else
    echo "python3-zeroconf not installed: interop part skipped"
fi
[ -n "${MDNS_NETNS_VERBOSE:-}" ] && for f in "$TMP"/*.out; do echo "== $f"; cat "$f"; done
echo "PASS"

#!/bin/sh
# The README demo: two wipeer peers on this machine (two identities in two
# homes under the build directory). Alice listens and advertises herself by
# mDNS/DNS-SD; bob finds her with `wipeer browse`, connects by her
# fingerprint (the handshake must prove it), and they exchange a message each
# way over an encrypted, mutually authenticated connection.
#
# Discovery is pinned to the loopback interface (--iface lo): nothing goes
# out of this machine's network cards. Linux carries IPv4 multicast on lo
# but not IPv6, so discovery uses IPv4 there.
set -eu
build=${1:-build}
W=$build/wipeer
demo=${WIPEER_DEMO_HOME:-$build/demo}
alice=$demo/alice
bob=$demo/bob
mkdir -p "$demo"
chmod 700 "$demo"

echo "== wipeer $("$W" --version)"
echo "== two devices: alice and bob (identities in $demo)"
"$W" id --home "$alice" >/dev/null 2>&1
"$W" id --home "$bob" >/dev/null 2>&1
fa=$("$W" id --home "$alice" --json | sed -n 's/.*"fingerprint":"\([^"]*\)".*/\1/p')
fb=$("$W" id --home "$bob" --json | sed -n 's/.*"fingerprint":"\([^"]*\)".*/\1/p')
echo "alice  $fa"
echo "bob    $fb"

echo "== alice listens, advertises herself on lo as \"alice\", and accepts only bob"
printf 'hello bob, this is alice\n' >"$demo/alice.in"
rm -f "$demo/alice.err" "$demo/alice.out"
"$W" listen --home "$alice" --bind 127.0.0.1 --name alice --iface lo --discovery builtin --allow "$fb" \
    <"$demo/alice.in" >"$demo/alice.out" 2>"$demo/alice.err" &
lpid=$!
ok=
for _ in $(seq 50); do
    grep -q 'advertised as' "$demo/alice.err" 2>/dev/null && { ok=1; break; }
    kill -0 "$lpid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$ok" ]; then
    kill "$lpid" 2>/dev/null || true
    cat "$demo/alice.err" >&2
    echo "demo: alice did not start advertising" >&2
    exit 1
fi

echo "== bob browses lo for 3 seconds"
"$W" browse --home "$bob" --iface lo --discovery builtin --timeout 3 | tee "$demo/browse.out"
if ! grep -q "alice .*$fa" "$demo/browse.out"; then
    kill "$lpid" 2>/dev/null || true
    echo "demo: bob did not find alice" >&2
    exit 1
fi

echo "== bob connects to alice's fingerprint $fa and says hello"
rc=0
printf 'hello alice, this is bob\n' |
    "$W" connect "$fa" --home "$bob" --iface lo --discovery builtin >"$demo/bob.out" \
        2>"$demo/bob.err" || rc=$?
lrc=0
wait "$lpid" || lrc=$?
echo "-- alice's side (stderr):"
sed 's/^/   /' "$demo/alice.err"
echo "-- bob's side (stderr):"
sed 's/^/   /' "$demo/bob.err"
echo "== alice received: $(cat "$demo/alice.out")"
echo "== bob received:   $(cat "$demo/bob.out")"
if [ "$rc" != 0 ] || [ "$lrc" != 0 ]; then
    echo "demo: failed (connect exit $rc, listen exit $lrc)" >&2
    exit 1
fi
echo "== both ends authenticated each other; every byte travelled in AES-256-GCM records"

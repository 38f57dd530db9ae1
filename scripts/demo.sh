#!/bin/sh
# The README demo: two wipeer peers on this machine (two identities in two
# homes under the build directory) open an encrypted, mutually
# authenticated connection over 127.0.0.1 and exchange a message each way.
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

echo "== alice listens on 127.0.0.1 and accepts only bob"
printf 'hello bob, this is alice\n' >"$demo/alice.in"
rm -f "$demo/alice.err" "$demo/alice.out"
"$W" listen --home "$alice" --bind 127.0.0.1 --allow "$fb" \
    <"$demo/alice.in" >"$demo/alice.out" 2>"$demo/alice.err" &
lpid=$!
port=
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    port=$(sed -n 's/.*listening on 127.0.0.1 port \([0-9]*\) as.*/\1/p' "$demo/alice.err" \
        2>/dev/null || true)
    [ -n "$port" ] && break
    sleep 0.1
done
if [ -z "$port" ]; then
    kill "$lpid" 2>/dev/null || true
    cat "$demo/alice.err" >&2
    echo "demo: alice did not start listening" >&2
    exit 1
fi

echo "== bob connects to 127.0.0.1:$port, expecting alice's fingerprint, and says hello"
rc=0
printf 'hello alice, this is bob\n' |
    "$W" connect "127.0.0.1:$port" --home "$bob" --expect "$fa" >"$demo/bob.out" \
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

#!/bin/bash
# End-to-end tests of `wipeer listen` / `wipeer connect` over loopback, one
# case per invocation (each case is its own ctest test):
#   test_cli.sh CASE WIPEER RELAY
# Every process is started here and ended by PID; every wait is bounded.
set -euo pipefail
case_=$1
W=$2
RELAY=$3
tmp=$(mktemp -d /tmp/wp-cli-XXXXXX)
pids=()

cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
    echo "FAIL [$case_]: $*" >&2
    for f in "$tmp"/*.err; do
        [ -f "$f" ] && { echo "--- $f" >&2; cat "$f" >&2; }
    done
    exit 1
}

"$W" id --home "$tmp/a" >/dev/null 2>&1 || fail "wipeer id a"
"$W" id --home "$tmp/b" >/dev/null 2>&1 || fail "wipeer id b"
fp() { "$W" id --home "$1" --json | sed -n 's/.*"fingerprint":"\([^"]*\)".*/\1/p'; }
FA=$(fp "$tmp/a")
FB=$(fp "$tmp/b")
[ -n "$FA" ] && [ -n "$FB" ] || fail "no fingerprints"

# start_listener ARGS...: wipeer listen on 127.0.0.1 with stdin $LIN, stdout
# $LOUT; sets LPID and LPORT once it listens.
start_listener() {
    "$W" listen --home "$tmp/a" --bind 127.0.0.1 --no-advertise --json "$@" \
        <"${LIN:-/dev/null}" >"${LOUT:-$tmp/l.out}" 2>"$tmp/l.err" &
    LPID=$!
    pids+=("$LPID")
    for _ in $(seq 100); do
        LPORT=$(sed -n 's/.*"event":"listening".*"port":\([0-9]*\).*/\1/p' "$tmp/l.err" \
            2>/dev/null || true)
        [ -n "$LPORT" ] && return 0
        kill -0 "$LPID" 2>/dev/null || fail "listener died"
        sleep 0.1
    done
    fail "listener did not start"
}

# wait_exit PID [SECONDS]: sets RC to its exit status; fails if it hangs.
wait_exit() {
    local pid=$1 t=${2:-60}
    for _ in $(seq $((t * 10))); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && fail "process $pid still running after ${t}s"
    RC=0
    wait "$pid" || RC=$?
}

# start_relay ARGS...: the tampering relay in front of the listener; sets RPORT.
start_relay() {
    "$RELAY" "$tmp/relay.port" "$LPORT" "$tmp/relay.report" "$@" 2>"$tmp/relay.err" &
    pids+=($!)
    for _ in $(seq 100); do
        [ -s "$tmp/relay.port" ] && { RPORT=$(cat "$tmp/relay.port"); return 0; }
        sleep 0.1
    done
    fail "relay did not start"
}

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

expect_rc() { [ "$RC" = "$1" ] || fail "$2: exit $RC, expected $1"; }
expect_in() { grep -q -- "$2" "$1" || fail "'$2' not in $1"; }

case "$case_" in
stream)
    # N bytes (ctest: 1 GiB) one way and 1 MiB the other way at the same
    # time; both arrive with the same SHA-256. 1 GiB takes about 10 s under
    # ASan on the CI machine, so it runs in the default suite (label slow).
    n=${WP_STREAM_BYTES:-1073741824}
    head -c 1048576 /dev/urandom >"$tmp/back"
    LIN=$tmp/back LOUT=>(sha256sum | cut -d' ' -f1 >"$tmp/l.sha") start_listener --allow "$FB"
    RC=0
    head -c "$n" /dev/urandom | tee >(sha256sum | cut -d' ' -f1 >"$tmp/in.sha") |
        "$W" connect "127.0.0.1:$LPORT" --home "$tmp/b" --expect "$FA" >"$tmp/c.out" \
            2>"$tmp/c.err" || RC=$?
    expect_rc 0 connect
    wait_exit "$LPID"
    expect_rc 0 listen
    for _ in $(seq 100); do [ -s "$tmp/l.sha" ] && [ -s "$tmp/in.sha" ] && break; sleep 0.1; done
    [ "$(cat "$tmp/l.sha")" = "$(cat "$tmp/in.sha")" ] || fail "stream differs"
    cmp -s "$tmp/back" "$tmp/c.out" || fail "reverse stream differs"
    echo "streamed $n bytes: $(cat "$tmp/l.sha")"
    ;;
tamper)
    # One bit flipped inside the 6th DATA record: the listener fails with an
    # integrity error, exit 1, and its stdout holds exactly the records
    # before the tampered one (a prefix of the input), nothing after.
    head -c 4194304 /dev/urandom >"$tmp/in"
    start_listener --allow "$FB"
    start_relay --flip 5
    RC=0
    "$W" connect "127.0.0.1:$RPORT" --home "$tmp/b" --expect "$FA" <"$tmp/in" >/dev/null \
        2>"$tmp/c.err" || RC=$?
    # The failing listener lingers (FIN after its alert, input drained), so
    # the sender learns of the failure too instead of a clean exit.
    [ "$RC" != 0 ] || fail "connect reported success through a tampering relay"
    wait_exit "$LPID"
    expect_rc 1 listen
    expect_in "$tmp/l.err" '"status":"WP_EINTEGRITY"'
    want=$(cat "$tmp/relay.report")
    got=$(stat -c %s "$tmp/l.out")
    [ "$got" = "$want" ] || fail "listener wrote $got bytes, expected the $want before the tampered record"
    [ "$got" -gt 0 ] || fail "nothing delivered before the tampered record"
    cmp -s -n "$got" "$tmp/in" "$tmp/l.out" || fail "output is not a prefix of the input"
    ;;
truncate)
    # The relay ends the stream after 3 records: WP_ETRUNCATED, exit 1.
    head -c 4194304 /dev/urandom >"$tmp/in"
    start_listener --allow "$FB"
    start_relay --cut 3
    RC=0
    "$W" connect "127.0.0.1:$RPORT" --home "$tmp/b" --timeout 5 <"$tmp/in" >/dev/null \
        2>"$tmp/c.err" || RC=$?
    wait_exit "$LPID"
    expect_rc 1 listen
    expect_in "$tmp/l.err" '"status":"WP_ETRUNCATED"'
    [ "$(stat -c %s "$tmp/l.out")" = "$(cat "$tmp/relay.report")" ] || fail "truncated output size"
    cmp -s -n "$(cat "$tmp/relay.report")" "$tmp/in" "$tmp/l.out" || fail "output not a prefix"
    ;;
expect_wrong)
    start_listener --accept-any
    RC=0
    echo hi | "$W" connect "127.0.0.1:$LPORT" --home "$tmp/b" --expect "$FB" >/dev/null \
        2>"$tmp/c.err" || RC=$?
    expect_rc 3 connect
    expect_in "$tmp/c.err" "is not the expected $FB"
    wait_exit "$LPID"
    expect_rc 3 listen
    expect_in "$tmp/l.err" '"status":"WP_EDENIED"'
    ;;
not_allowed)
    start_listener --allow "$FA"
    RC=0
    echo hi | "$W" connect "127.0.0.1:$LPORT" --home "$tmp/b" >/dev/null 2>"$tmp/c.err" || RC=$?
    expect_rc 3 connect
    expect_in "$tmp/c.err" "refused our identity"
    wait_exit "$LPID"
    expect_rc 3 listen
    expect_in "$tmp/l.err" "is not allowed"
    expect_in "$tmp/l.err" "--allow"
    [ ! -s "$tmp/l.out" ] || fail "data from a refused peer reached stdout"
    ;;
refused)
    port=$(free_port)
    RC=0
    "$W" connect "127.0.0.1:$port" --home "$tmp/b" </dev/null >/dev/null 2>"$tmp/c.err" || RC=$?
    expect_rc 1 connect
    expect_in "$tmp/c.err" "refused"
    ;;
stall)
    # A raw client sends half a hello and sleeps: the listener gives up
    # after --timeout with a clear error and exit 4.
    start_listener --accept-any --timeout 1
    exec 3<>"/dev/tcp/127.0.0.1/$LPORT"
    printf '\000\000\000\120\211WIPEER' >&3
    wait_exit "$LPID" 15
    exec 3>&-
    expect_rc 4 listen
    expect_in "$tmp/l.err" '"status":"WP_ETIMEDOUT"'
    ;;
json_client)
    # The original iOS SDK's length-prefixed JSON: "not a wipeer peer".
    start_listener --accept-any
    exec 3<>"/dev/tcp/127.0.0.1/$LPORT"
    printf '\000\000\000\032{"type":"hello","v":1}' >&3
    wait_exit "$LPID" 15
    exec 3>&-
    expect_rc 1 listen
    expect_in "$tmp/l.err" '"status":"WP_ENOTWIPEER"'
    expect_in "$tmp/l.err" 'not a wipeer peer'
    ;;
human)
    # Without --json: readable status lines, fingerprints shown, exit 0.
    port=$(free_port)
    "$W" listen --home "$tmp/a" --bind 127.0.0.1 --no-advertise --port "$port" --allow "$FB" \
        </dev/null >"$tmp/l.out" 2>"$tmp/l.err" &
    LPID=$!
    pids+=("$LPID")
    for _ in $(seq 100); do
        grep -q "listening on 127.0.0.1 port $port as" "$tmp/l.err" 2>/dev/null && break
        sleep 0.1
    done
    LPORT=$port
    RC=0
    printf 'one line\n' | "$W" connect "127.0.0.1:$LPORT" --home "$tmp/b" >"$tmp/c.out" \
        2>"$tmp/c.err" || RC=$?
    expect_rc 0 connect
    wait_exit "$LPID"
    expect_rc 0 listen
    [ "$(cat "$tmp/l.out")" = "one line" ] || fail "message"
    long=$("$W" id --home "$tmp/a" --json | sed -n 's/.*"fingerprint_long":"\([^"]*\)".*/\1/p')
    expect_in "$tmp/c.err" "peer $long authenticated"
    expect_in "$tmp/l.err" "connection closed"
    ;;
json)
    # Every stderr line under --json is one JSON object with an "event".
    start_listener --allow "$FB"
    RC=0
    printf 'x' | "$W" connect "127.0.0.1:$LPORT" --home "$tmp/b" --json >/dev/null \
        2>"$tmp/c.err" || RC=$?
    expect_rc 0 connect
    wait_exit "$LPID"
    expect_rc 0 listen
    for f in "$tmp/l.err" "$tmp/c.err"; do
        /usr/bin/python3 - "$f" <<'EOF' || fail "bad JSON in $f"
import json, sys
events = [json.loads(line)["event"] for line in open(sys.argv[1])]
need = ["connected", "peer", "authenticated", "closed"]
assert all(e in events for e in need), events
EOF
    done
    expect_in "$tmp/l.err" '"status":"WP_OK"'
    ;;
keep_open)
    # --keep-open serves connections one after another; --no-stdin only
    # receives. Each connector still ends with exit 0.
    start_listener --accept-any --keep-open --no-stdin
    for i in 1 2 3; do
        RC=0
        echo "line $i" | "$W" connect "127.0.0.1:$LPORT" --home "$tmp/b" >/dev/null \
            2>"$tmp/c$i.err" || RC=$?
        expect_rc 0 "connect $i"
    done
    kill -0 "$LPID" 2>/dev/null || fail "listener exited despite --keep-open"
    kill "$LPID"
    wait_exit "$LPID" 10
    [ "$(cat "$tmp/l.out")" = "$(printf 'line 1\nline 2\nline 3')" ] || fail "keep-open output"
    [ "$(grep -c '"event":"authenticated"' "$tmp/l.err")" = 3 ] || fail "3 authentications"
    ;;
small_peer)
    # The listener accepts only the protocol's smallest messages (a small
    # device): connect cuts stdin to fit, and 1 MiB arrives intact.
    head -c 1048576 /dev/urandom >"$tmp/in"
    start_listener --allow "$FB" --max-message 4079
    RC=0
    "$W" connect "127.0.0.1:$LPORT" --home "$tmp/b" --expect "$FA" <"$tmp/in" >/dev/null \
        2>"$tmp/c.err" || RC=$?
    expect_rc 0 connect
    wait_exit "$LPID"
    expect_rc 0 listen
    cmp -s "$tmp/in" "$tmp/l.out" || fail "stream to a small-limit peer differs"
    ;;
keep_open_unsent)
    # --keep-open with stdin: the first peer stops reading (its stdout is a
    # pipe nobody reads) and is killed while a stdin chunk waits for room.
    # That chunk is reported and dropped, and the next peer gets the rest
    # of stdin and a clean close (the listener used to stall forever).
    head -c 33554432 /dev/urandom >"$tmp/in"
    LIN=$tmp/in start_listener --accept-any --keep-open
    mkfifo "$tmp/fifo"
    sleep 60 <"$tmp/fifo" &
    SPID=$!
    pids+=("$SPID")
    "$W" connect "127.0.0.1:$LPORT" --home "$tmp/b" --no-stdin >"$tmp/fifo" 2>"$tmp/c1.err" &
    C1=$!
    pids+=("$C1")
    # Wait until the listener stops reading stdin: every buffer is full.
    last=-1
    same=0
    for _ in $(seq 300); do
        pos=$(sed -n 's/^pos:[[:space:]]*//p' "/proc/$LPID/fdinfo/0" 2>/dev/null || echo 0)
        if [ "$pos" = "$last" ] && [ "$pos" -gt 0 ]; then
            same=$((same + 1))
            [ "$same" -ge 5 ] && break
        else
            same=0
        fi
        last=$pos
        sleep 0.1
    done
    [ "$same" -ge 5 ] || fail "the listener never stopped reading stdin"
    [ "$last" -lt 33554432 ] || fail "stdin was read to the end: nothing is pending"
    kill "$C1" "$SPID"
    wait_exit "$C1" 10
    RC=0
    "$W" connect "127.0.0.1:$LPORT" --home "$tmp/b" --no-stdin >"$tmp/c2.out" \
        2>"$tmp/c2.err" &
    C2=$!
    pids+=("$C2")
    wait_exit "$C2" 30
    expect_rc 0 "second connect"
    [ -s "$tmp/c2.out" ] || fail "the second peer got nothing"
    expect_in "$tmp/l.err" '"event":"stdin_unsent"'
    kill "$LPID"
    wait_exit "$LPID" 10
    ;;
epipe)
    # stdout into a reader that quits early (head): one clear line, exit 1,
    # and the peer learns of the abort.
    port=$(free_port)
    "$W" listen --home "$tmp/a" --bind 127.0.0.1 --no-advertise --port "$port" --accept-any \
        --no-stdin </dev/null > >(head -c 10 >/dev/null) 2>"$tmp/l.err" &
    LPID=$!
    pids+=("$LPID")
    for _ in $(seq 100); do
        grep -q "listening on" "$tmp/l.err" 2>/dev/null && break
        sleep 0.1
    done
    RC=0
    head -c 4194304 /dev/urandom | "$W" connect "127.0.0.1:$port" --home "$tmp/b" \
        >/dev/null 2>"$tmp/c.err" || RC=$?
    [ "$RC" != 0 ] || fail "connect succeeded although its data was not written"
    wait_exit "$LPID"
    expect_rc 1 listen
    expect_in "$tmp/l.err" "writing stdout: Broken pipe; connection aborted"
    [ "$(grep -c . "$tmp/l.err")" = 4 ] || fail "expected 4 lines (listening, connected, authenticated, the error)"
    ! grep -q "aborted by the application" "$tmp/l.err" || fail "the abort reported twice"
    ;;
dual_stack)
    # No --bind: one listener takes IPv4 and IPv6 (IPv6 skipped where its
    # loopback is off). Only loopback addresses are connected to.
    "$W" listen --home "$tmp/a" --json --accept-any --keep-open --no-stdin --no-advertise \
        </dev/null >"$tmp/l.out" 2>"$tmp/l.err" &
    LPID=$!
    pids+=("$LPID")
    for _ in $(seq 100); do
        LPORT=$(sed -n 's/.*"event":"listening".*"port":\([0-9]*\).*/\1/p' "$tmp/l.err" \
            2>/dev/null || true)
        [ -n "$LPORT" ] && break
        sleep 0.1
    done
    [ -n "$LPORT" ] || fail "listener did not start"
    hosts="127.0.0.1"
    if /usr/bin/python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' \
        2>/dev/null; then
        hosts="$hosts [::1]"
    fi
    n=0
    for h in $hosts; do
        n=$((n + 1))
        RC=0
        echo "via $h" | "$W" connect "$h:$LPORT" --home "$tmp/b" --json >/dev/null \
            2>"$tmp/c$n.err" || RC=$?
        expect_rc 0 "connect $h"
    done
    kill "$LPID"
    wait_exit "$LPID" 10
    [ "$(grep -c '"event":"authenticated"' "$tmp/l.err")" = "$n" ] || fail "$n authentications"
    expect_in "$tmp/l.err" '"remote":"127.0.0.1:'
    [ "$n" = 1 ] || expect_in "$tmp/l.err" '"remote":"\[::1\]:'
    ;;
ipv6)
    # Listen on ::1, connect to [::1]:PORT (skipped where IPv6 loopback is off).
    if ! /usr/bin/python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' \
        2>/dev/null; then
        echo "skip: no IPv6 loopback"
        exit 0
    fi
    "$W" listen --home "$tmp/a" --bind ::1 --no-advertise --json --allow "$FB" </dev/null >"$tmp/l.out" \
        2>"$tmp/l.err" &
    LPID=$!
    pids+=("$LPID")
    for _ in $(seq 100); do
        LPORT=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$tmp/l.err" 2>/dev/null || true)
        [ -n "$LPORT" ] && break
        sleep 0.1
    done
    RC=0
    echo v6 | "$W" connect "[::1]:$LPORT" --home "$tmp/b" --json >/dev/null 2>"$tmp/c.err" || RC=$?
    expect_rc 0 connect
    wait_exit "$LPID"
    expect_rc 0 listen
    [ "$(cat "$tmp/l.out")" = v6 ] || fail "ipv6 message"
    expect_in "$tmp/c.err" '"remote":"\[::1\]:'
    ;;
usage)
    for args in "listen --bogus" "listen --port 70000" "listen --allow nothex" "connect" \
        "connect nohost --discovery nosuch" "connect nohost --iface wp-no-such0" \
        "connect nohost --private" "browse --iface wp-no-such0" "browse --timeout 0" \
        "listen --discovery avahi --iface lo" "connect ::1:5" "connect 127.0.0.1:0" "connect h:1 --expect 12" \
        "listen --timeout -1" "listen --accept-any --allow $FA" "listen --max-message 4078" \
        "connect h:1 --max-message 16777200" "connect h:1 --max-message x"; do
        RC=0
        # shellcheck disable=SC2086
        "$W" $args --home "$tmp/a" </dev/null >/dev/null 2>"$tmp/u.err" || RC=$?
        expect_rc 2 "wipeer $args"
    done
    ;;
*)
    fail "unknown case"
    ;;
esac
echo "ok: $case_"

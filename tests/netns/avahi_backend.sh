#!/bin/bash
# The Avahi backend (src/runtime/avahi.h), driven by test_avahi_backend's own
# poll() loop, against a real avahi-daemon in namespace A; python3-zeroconf
# is the peer in namespace B across a veth.
#   usage: avahi_backend.sh /path/to/test_avahi_backend   ("" = built without Avahi: skip)
. "$(dirname "$0")/lib.sh"
BIN=${1:-}
[ -n "$BIN" ] || skip "built without the Avahi backend (apt-get install libavahi-client-dev)"

require_root_netns
require_zeroconf
ns_new a
ns_new b
link_pair a b
PORT=$((40000 + $$ % 20000))
FP=$(printf '%08x' $((RANDOM * 32768 + RANDOM)))
zcb() { # NS LOG ARGS...: zc_browse.py bound to NS's wp0, foreground
  local n=$1 lg=$2; shift 2
  run "$n" "$lg" timeout 20 "$WP_PY" "$WP_NETNS_DIR/zc_browse.py" --iface "$(ip4 "$n")" \
    --iface "$(ip6 "$n")" "$@"
}
found() { json_find "$(logfile "$1")" "$2" >/dev/null || fail "$3 (see $1.log)"; }

# --- probe: no bus, a bus without Avahi, then the daemon ------------------
rc=0
run a probe-nobus env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$WP_TMP/no-such-bus" "$BIN" probe || rc=$?
[ "$rc" = 1 ] || fail "probe without a bus: exit $rc, want 1"
grep -q 'unreachable WP_ENOTFOUND' "$(logfile probe-nobus)" || fail "probe without a bus: not WP_ENOTFOUND"
dbus_start a
rc=0
run a probe-nodaemon env "$(avahi_env a)" "$BIN" probe || rc=$?
[ "$rc" = 1 ] || fail "probe with a bus but no avahi-daemon: exit $rc, want 1"
avahi_start a
run a probe-up env "$(avahi_env a)" "$BIN" probe || fail "probe with avahi-daemon running failed"
log "ok: probe says no without a bus or a daemon, yes with one"

# --- argument checks and allocation-failure sweep -------------------------
run a selftest env "$(avahi_env a)" "$BIN" selftest || fail "selftest (see selftest.log)"
log "ok: $(grep -h 'sweep' "$(logfile selftest)")"

# --- register through the backend; zeroconf in B sees it -------------------
NAME="wipeer backend $$"
spawn_avahi a reg "$BIN" register "$NAME" "$PORT" v=1 "fp=$FP" paired --browse --timeout 40
REG=$LAST_PID
wait_line reg '"event":"registered"' 10
zcb b browse-reg --name "$NAME" --need-v4 --need-v6 --timeout 10 || fail "zc_browse did not resolve '$NAME'"
found browse-reg "j['name'] == '$NAME' and j['port'] == $PORT" "SRV port"
found browse-reg "j['name'] == '$NAME' and j['txt'] == {'v': '1', 'fp': '$FP', 'paired': None}" "TXT"
found browse-reg "j['name'] == '$NAME' and j['addresses'] == ['$(ip4 a)', '$(ip6 a)']" "addresses"
found browse-reg "j['name'] == '$NAME' and j['server'] == 'wp$$-a.local.'" "SRV target"
wait_for 5 "the backend's own browse finding '$NAME'" json_find "$(logfile reg)" \
  "j['event'] in ('found', 'updated') and j['name'] == '$NAME' and j['own'] and j['local']"
log "ok: registered through the backend, resolved by zeroconf and by its own browse (own)"

# --- the backend browses from A: its own host's service is marked local ---
NAME2="zc peer $$"
spawn_avahi a bro "$BIN" browse --name "$NAME2" --until-removed --timeout 25
BRO=$LAST_PID
wait_for 10 "the backend finding '$NAME' (same daemon)" json_find "$(logfile bro)" \
  "j['name'] == '$NAME' and j['local'] and not j['own']"
log "ok: the backend's browse sees A's service, marked local (not own: another client)"

# --- goodbye: stopping the registrant removes it from B's browser ---------
spawn b bye timeout 20 "$WP_PY" "$WP_NETNS_DIR/zc_browse.py" --iface "$(ip4 b)" \
  --iface "$(ip6 b)" --name "$NAME" --until-removed "$NAME" --timeout 15
BYE=$LAST_PID
wait_line bye '"event": "resolved"' 10
stop_pid "$REG"
wait_exit "$BYE" 3
[ "$WP_RC" = 0 ] || fail "zc_browse --until-removed exited $WP_RC"
log "ok: goodbye seen by zeroconf within 3 s of unregistering"

# --- zeroconf publishes in B; the backend's browse finds it, then its removal
spawn b pub "$WP_PY" "$WP_NETNS_DIR/zc_publish.py" --iface "$(ip4 b)" --iface "$(ip6 b)" \
  --name "$NAME2" --port $((PORT + 1)) --txt v=1 --txt "fp=$FP" --duration 30
PUB=$LAST_PID
wait_for 10 "the backend finding '$NAME2' with IPv4 and IPv6" json_find "$(logfile bro)" \
  "j['event'] in ('found', 'updated') and j['name'] == '$NAME2' and len(j['addresses']) == 2"
found bro "j['name'] == '$NAME2' and j['port'] == $((PORT + 1))" "browse: port"
found bro "j['name'] == '$NAME2' and list(j['txt'].items()) == [('v', '1'), ('fp', '$FP')]" \
  "browse: TXT (in record order)"
found bro "j['name'] == '$NAME2' and not j['local'] and not j['own']" "browse: B's service marked local"
found bro "j['name'] == '$NAME2' and j['addresses'] == ['$(ip4 b)', '$(ip6 b)']" "browse: addresses"
found bro "j['name'] == '$NAME2' and j['host'].startswith('zc-peer-$$-zc.local')" "browse: host"
stop_pid "$PUB"
wait_exit "$BRO" 5
[ "$WP_RC" = 0 ] || fail "backend browse exited $WP_RC after the goodbye"
found bro "j['event'] == 'removed' and j['name'] == '$NAME2'" "browse: removal"
log "ok: the backend found zeroconf's service (port, TXT, IPv4+IPv6) and its removal"

# --- name conflict: zeroconf holds NAME3 in B; the backend must rename ----
NAME3="taken $$"
spawn b pub3 "$WP_PY" "$WP_NETNS_DIR/zc_publish.py" --iface "$(ip4 b)" --iface "$(ip6 b)" \
  --name "$NAME3" --port 9 --txt v=1 --duration 30
wait_line pub3 '"event": "published"' 10
spawn_avahi a reg3 "$BIN" register "$NAME3" "$PORT" v=1 --timeout 30
REG3=$LAST_PID
wait_line reg3 '"event":"registered"' 10
found reg3 "j['event'] == 'renamed' and j['old'] == '$NAME3' and j['name'] == '$NAME3 #2'" "no rename to '$NAME3 #2'"
found reg3 "j['event'] == 'registered' and j['name'] == '$NAME3 #2'" "not registered as '$NAME3 #2'"
zcb b browse-3 --name "$NAME3" --name "$NAME3 #2" --count 2 --timeout 10 || fail "B does not see both names"
found browse-3 "j['name'] == '$NAME3' and j['port'] == 9" "zeroconf's own service changed"
found browse-3 "j['name'] == '$NAME3 #2' and j['port'] == $PORT" "renamed service not reachable"
log "ok: collision with zeroconf renamed the backend's service to '$NAME3 #2', both resolvable"

# --- the daemon goes away: a sticky failure, reported, no hang ------------
avahi_stop a
wait_exit "$REG3" 5
[ "$WP_RC" = 4 ] || fail "backend exit $WP_RC after avahi-daemon stopped, want 4 (failure event)"
found reg3 "j['event'] == 'failed' and j['status'] == 'WP_ENOTFOUND'" "no failure event"
log "ok: avahi-daemon stopping is reported as a sticky WP_ENOTFOUND failure"

pass "Avahi backend: probe, register, goodbye, browse, removal, rename, daemon loss"

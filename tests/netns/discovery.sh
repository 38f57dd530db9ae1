#!/bin/bash
# The wipeer CLI's discovery (issue 5) against peers that others wrote, in
# network namespaces joined by veth pairs (lib.sh). Every wipeer runs with
# --iface wp0 (or through the namespace's own avahi-daemon).
#   discovery.sh WIPEER zc        python3-zeroconf browses `wipeer listen`
#                                 (SRV port, IPv4+IPv6, TXT v and fp);
#                                 `wipeer browse` finds zeroconf's services,
#                                 one without v=1 marked not connectable
#   discovery.sh WIPEER avahi     avahi-daemon in A: avahi-browse resolves
#                                 `wipeer listen` (built-in) in B, `wipeer
#                                 browse` finds avahi-publish's service
#   discovery.sh WIPEER avahi-backend  `wipeer listen/browse/connect
#                                 --discovery avahi` in A (avahi-daemon) with
#                                 built-in wipeer and zeroconf in B
#   discovery.sh WIPEER conflict  two listeners claim one name in A and B: one
#                                 renames; C sees both and connects to each
#                                 by fingerprint, data flows
#   discovery.sh WIPEER goodbye   SIGINT / SIGTERM a listener: `wipeer browse`
#                                 in B drops it, timed from the exit
#   discovery.sh WIPEER loss      30 % of mDNS packets dropped on both INPUTs:
#                                 `wipeer connect NAME` still works (rounds)
#   discovery.sh WIPEER e2e       `wipeer connect NAME` from B, 1 MiB each way
#                                 (the listener --private: no fp in TXT)
. "$(dirname "$0")/lib.sh"
W=${1:?usage: discovery.sh WIPEER CASE}
case_=${2:?usage: discovery.sh WIPEER CASE}

require_root_netns
[ -x "$W" ] || skip "wipeer CLI not built: $W"
ns_new a
ns_new b

home() { echo "$WP_TMP/home-$1"; }
# fp NS: the short fingerprint of NS's identity (created on first use).
fp() { "$W" id --home "$(home "$1")" --json 2>/dev/null | sed -n 's/.*"fingerprint":"\([^"]*\)".*/\1/p'; }
# listener NS LOG ARGS...: `wipeer listen` in NS on wp0, background.
listener() {
  local n=$1 lg=$2; shift 2
  spawn "$n" "$lg" "$W" listen --home "$(home "$n")" --iface "$WP_IFACE" --json "$@"
}
# browse_json NS LOG SECS [ARGS]: `wipeer browse --json` in NS, background.
browse_json() {
  local n=$1 lg=$2 t=$3; shift 3
  spawn "$n" "$lg" "$W" browse --home "$(home "$n")" --json --timeout "$t" "$@"
}
found() { json_find "$(logfile "$1")" "$2" >/dev/null || fail "$3 (see $1.log)"; }
NAME="wipeer $$ ü"          # a space and UTF-8: instance names are free text

case "$case_" in
zc)
  require_zeroconf
  link_pair a b
  FA=$(fp a)
  listener a lis --name "$NAME" --no-stdin --keep-open --accept-any
  wait_line lis '"event":"advertised"' 10
  port=$(sed -n 's/.*"event":"listening".*"port":\([0-9]*\).*/\1/p' "$(logfile lis)")
  run b zb timeout 20 "$WP_PY" "$WP_NETNS_DIR/zc_browse.py" --iface "$(ip4 b)" --iface "$(ip6 b)" \
    --timeout 15 --need-v4 --need-v6 --name "$NAME" || fail "zeroconf did not resolve '$NAME'"
  found zb "j['name'] == '$NAME' and j['port'] == $port" "zeroconf: SRV port is not $port"
  found zb "j['name'] == '$NAME' and j['addresses'] == ['$(ip4 a)', '$(ip6 a)']" "zeroconf: addresses"
  found zb "j['name'] == '$NAME' and j['txt'] == {'v': '1', 'fp': '$FA'}" "zeroconf: TXT is not v=1 fp=$FA"
  log "ok: zeroconf resolved '$NAME': port $port, $(ip4 a) $(ip6 a), v=1 fp=$FA"
  # zeroconf publishes a wipeer service and an old-style one (no TXT keys).
  spawn a zpub "$WP_PY" "$WP_NETNS_DIR/zc_publish.py" --iface "$(ip4 a)" --iface "$(ip6 a)" \
    --name "Zed $$" --port 7003 --txt v=1 --txt "fp=0123-4567-89AB-CDEF" --txt app=x --duration 40
  spawn a zold "$WP_PY" "$WP_NETNS_DIR/zc_publish.py" --iface "$(ip4 a)" --iface "$(ip6 a)" \
    --name "Old $$" --port 7004 --duration 40
  wait_line zpub '"published"' 10
  wait_line zold '"published"' 10
  browse_json b br 15 --iface "$WP_IFACE"
  wait_for 12 "wipeer browse finding Zed, Old and '$NAME'" sh -c \
    "grep -q '\"name\":\"Zed $$\"' '$(logfile br)' && grep -q '\"name\":\"Old $$\"' '$(logfile br)' && grep -qF '\"name\":\"$NAME\"' '$(logfile br)'"
  found br "j['name'] == 'Zed $$' and j['port'] == 7003 and j['connectable'] and j['version'] == 1 and j['fingerprint'] == '0123-4567-89AB-CDEF' and j['txt'] == {'v': '1', 'fp': '0123-4567-89AB-CDEF', 'app': 'x'}" "browse: Zed"
  found br "j['name'] == 'Zed $$' and [a['address'] for a in j['addresses']] == ['$(ip4 a)', '$(ip6 a)%$WP_IFACE']" "browse: Zed's addresses"
  found br "j['name'] == 'Old $$' and j['port'] == 7004 and not j['connectable'] and j['version'] == 0 and j['fingerprint'] is None" "browse: Old must be listed, not connectable"
  found br "j['name'] == '$NAME' and j['port'] == $port and j['connectable'] and j['fingerprint'] == '$FA' and not j['own']" "browse: our listener"
  # Connecting to the old-style service fails clearly, without a TCP attempt.
  rc=0
  nsx b "$W" connect "Old $$" --home "$(home b)" --iface "$WP_IFACE" --no-stdin --timeout 8 \
    >/dev/null 2>"$WP_TMP/old.err" || rc=$?
  [ "$rc" = 1 ] && grep -q "does not speak the wipeer protocol\|no wipeer version" "$WP_TMP/old.err" ||
    fail "connect to a service without v=1: exit $rc, $(cat "$WP_TMP/old.err")"
  pass "zeroconf resolves wipeer listen (port, v4+v6, TXT); wipeer browse lists zeroconf's services (Old not connectable)"
  ;;
avahi)
  require_cmd avahi-browse avahi-utils
  link_pair a b
  avahi_start a
  FB=$(fp b)
  listener b lis --name "$NAME" --no-stdin --keep-open --accept-any --discovery builtin
  wait_line lis '"event":"advertised"' 10
  port=$(sed -n 's/.*"event":"listening".*"port":\([0-9]*\).*/\1/p' "$(logfile lis)")
  spawn_avahi a ab timeout 20 avahi-browse -rp _wipeerkit._tcp
  esc=$(avahi_escape "$NAME")
  want4="=;$WP_IFACE;IPv4;$esc;_wipeerkit._tcp;local;"
  wait_for 12 "avahi-browse resolving '$NAME' over IPv4" grep -qF -- "$want4" "$(logfile ab)"
  wait_for 10 "avahi-browse resolving '$NAME' over IPv6" \
    grep -qF -- "=;$WP_IFACE;IPv6;$esc;_wipeerkit._tcp;local;" "$(logfile ab)"
  row=$(grep -F -- "$want4" "$(logfile ab)" | head -n1)
  case "$row" in *";$(ip4 b);$port;"*) ;; *) fail "avahi resolved wrong address/port: $row" ;; esac
  case "$row" in *'"v=1"'*) ;; *) fail "TXT lacks v=1: $row" ;; esac
  case "$row" in *"\"fp=$FB\""*) ;; *) fail "TXT lacks fp=$FB: $row" ;; esac
  log "ok: avahi-browse resolved '$NAME' (IPv4+IPv6): $row"
  spawn_avahi a apub avahi-publish -s "Avi $$" _wipeerkit._tcp 7005 v=1 "fp=0123-4567-89AB-CDEF"
  browse_json b br 15 --iface "$WP_IFACE" --discovery builtin
  wait_for 12 "wipeer browse finding Avi $$" grep -q "\"name\":\"Avi $$\"" "$(logfile br)"
  found br "j['name'] == 'Avi $$' and j['port'] == 7005 and j['host'] == 'wp$$-a.local' and j['connectable'] and j['fingerprint'] == '0123-4567-89AB-CDEF' and '$(ip4 a)' in [x['address'] for x in j['addresses']]" "browse: Avahi's service"
  pass "avahi-browse resolves wipeer listen (v4+v6, TXT); wipeer browse finds avahi-publish's service"
  ;;
avahi-backend)
  [ "${WP_HAVE_AVAHI:-OFF}" = ON ] || skip "built without the Avahi backend (libavahi-client-dev)"
  require_zeroconf
  link_pair a b
  avahi_start a
  FA=$(fp a)
  FB=$(fp b)
  # A publishes through its avahi-daemon; B's built-in browser and zeroconf see it.
  spawn_avahi a lis "$W" listen --home "$(home a)" --json --discovery avahi --name "$NAME" \
    --no-stdin --keep-open --accept-any
  LIS=$LAST_PID
  wait_line lis '"event":"advertised".*"backend":"avahi"' 10
  port=$(sed -n 's/.*"event":"listening".*"port":\([0-9]*\).*/\1/p' "$(logfile lis)")
  run b zb timeout 20 "$WP_PY" "$WP_NETNS_DIR/zc_browse.py" --iface "$(ip4 b)" --iface "$(ip6 b)" \
    --timeout 15 --need-v4 --need-v6 --name "$NAME" || fail "zeroconf did not resolve '$NAME'"
  found zb "j['name'] == '$NAME' and j['port'] == $port and j['txt'] == {'v': '1', 'fp': '$FA'} and j['server'] == 'wp$$-a.local.'" "zeroconf: Avahi-published service"
  browse_json b br 20 --iface "$WP_IFACE" --discovery builtin
  wait_for 12 "built-in browse in B finding '$NAME'" grep -qF "\"name\":\"$NAME\"" "$(logfile br)"
  found br "j['name'] == '$NAME' and j['port'] == $port and j['fingerprint'] == '$FA' and j['connectable']" "browse in B"
  log "ok: wipeer listen --discovery avahi seen by zeroconf and the built-in browser"
  # B's built-in listener; A browses and connects through the Avahi backend.
  listener b lisb --name "Bee $$" --no-stdin --accept-any --discovery builtin
  LISB=$LAST_PID
  wait_line lisb '"event":"advertised"' 10
  spawn_avahi a abr "$W" browse --home "$(home a)" --json --timeout 20 --discovery avahi
  # Avahi reports a service once it resolved on one interface and protocol,
  # then UPDATED as the other address family resolves.
  wait_for 12 "wipeer browse --discovery avahi finding Bee $$ with IPv4" json_find "$(logfile abr)" \
    "j['name'] == 'Bee $$' and j['fingerprint'] == '$FB' and j['connectable'] and '$(ip4 b)' in [x['address'] for x in j['addresses']]"
  found abr "j['name'] == '$NAME' and j['own'] == False" "browse --discovery avahi: A's own listener (another process)"
  echo "via avahi $$" >"$WP_TMP/msg"
  nsx_avahi a "$W" connect "Bee $$" --home "$(home a)" --discovery avahi --timeout 10 \
    <"$WP_TMP/msg" >/dev/null 2>"$WP_TMP/ca.err" || fail "connect --discovery avahi: $(cat "$WP_TMP/ca.err")"
  wait_exit "$LISB" 10
  [ "$WP_RC" = 0 ] || fail "B's listener exit $WP_RC"
  grep -q "via avahi $$" "$(logfile lisb)" || fail "B did not receive A's message"
  # Goodbye through Avahi: stopping A's listener removes it from B's browser.
  stop_pid "$LIS"
  wait_for 5 "B's browser dropping '$NAME'" json_find "$(logfile br)" "j['event'] == 'removed' and j['name'] == '$NAME'"
  pass "Avahi backend: publish (zeroconf and built-in see it, with TXT), browse, connect, goodbye"
  ;;
conflict)
  lan_join a b
  ns_new c
  lan_join c
  FA=$(fp a)
  FB=$(fp b)
  fp c >/dev/null
  echo "from A $$" >"$WP_TMP/a.in"
  echo "from B $$" >"$WP_TMP/b.in"
  spawn a lisa sh -c "exec \"\$0\" \"\$@\" <'$WP_TMP/a.in'" "$W" listen --home "$(home a)" \
    --iface "$WP_IFACE" --json --name "Same $$" --accept-any
  spawn b lisb sh -c "exec \"\$0\" \"\$@\" <'$WP_TMP/b.in'" "$W" listen --home "$(home b)" \
    --iface "$WP_IFACE" --json --name "Same $$" --accept-any
  wait_line lisa '"event":"advertised"' 10
  wait_line lisb '"event":"advertised"' 10
  names=$(cat "$(logfile lisa)" "$(logfile lisb)" | sed -n 's/.*"event":"advertised","name":"\([^"]*\)".*/\1/p' | sort | tr '\n' '|')
  [ "$names" = "Same $$|Same $$ (2)|" ] || fail "advertised names: $names (want 'Same $$' and 'Same $$ (2)')"
  renames=$(cat "$(logfile lisa)" "$(logfile lisb)" | grep -c '"event":"renamed"' || true)
  [ "$renames" = 1 ] || fail "$renames renames, want 1"
  browse_json c br 20 --iface "$WP_IFACE"
  wait_for 10 "C seeing both" sh -c "grep -qF '\"name\":\"Same $$\"' '$(logfile br)' && grep -qF '\"name\":\"Same $$ (2)\"' '$(logfile br)'"
  found br "j['fingerprint'] == '$FA'" "C: A's fingerprint"
  found br "j['fingerprint'] == '$FB'" "C: B's fingerprint"
  for who in A B; do
    f=$FA; [ $who = B ] && f=$FB
    echo "to $who $$" | nsx c "$W" connect "$f" --home "$(home c)" --iface "$WP_IFACE" \
      --timeout 10 >"$WP_TMP/c$who.out" 2>"$WP_TMP/c$who.err" ||
      fail "connect to $who by fingerprint: $(cat "$WP_TMP/c$who.err")"
    grep -qx "from $who $$" "$WP_TMP/c$who.out" || fail "C did not receive $who's data"
  done
  wait_for 5 "A receiving C's data" grep -qx "to A $$" "$(logfile lisa)"
  wait_for 5 "B receiving C's data" grep -qx "to B $$" "$(logfile lisb)"
  pass "one rename ($names); C browsed both and connected to each by fingerprint, data both ways"
  ;;
goodbye)
  link_pair a b
  browse_json b br 30 --iface "$WP_IFACE"
  for sig in INT TERM; do
    listener a "lis$sig" --name "Bye $sig $$" --no-stdin --keep-open --accept-any
    pid=$LAST_PID
    wait_for 10 "B finding 'Bye $sig'" grep -q "\"event\":\"found\",\"name\":\"Bye $sig $$\"" "$(logfile br)"
    sleep 0.3
    kill -"$sig" "$pid"
    rc=0; wait "$pid" || rc=$?
    t_exit=$(date +%s%3N)
    forget_pid "$pid"
    [ "$rc" = $((128 + $(kill -l "$sig"))) ] || fail "listener exit $rc after SIG$sig"
    # Poll B's output every 10 ms (timing is measured to about that).
    gone="\"event\":\"removed\",\"name\":\"Bye $sig $$\""
    for ((i = 0; i < 500; i++)); do
      grep -q "$gone" "$(logfile br)" && break
      sleep 0.01
    done
    t_rm=$(date +%s%3N)
    grep -q "$gone" "$(logfile br)" || fail "B did not drop 'Bye $sig' within 5 s"
    dt=$((t_rm - t_exit))
    log "SIG$sig: removed in B $dt ms after the listener exited"
    # The browser reports REMOVED as soon as the goodbye (TTL 0) arrives; only
    # its cache keeps the records one more second (RFC 6762 §10.1). Expect a
    # few ms; the bound is the issue's "within a second" (dt includes the
    # 10 ms polling above).
    [ "$dt" -le 1000 ] || fail "SIG$sig: removed $dt ms after the listener exited (want <= 1000 ms)"
    eval "dt_$sig=$dt"
  done
  pass "goodbye on SIGINT and SIGTERM: B dropped the listener ${dt_INT} ms / ${dt_TERM} ms after it exited"
  ;;
loss)
  require_cmd iptables iptables
  link_pair a b
  loss_set a 0.3
  loss_set b 0.3
  lossy=0
  for round in 1 2 3 4 5 6; do
    read -r _ before < <(loss_report b)
    read -r _ before_a < <(loss_report a)
    listener a "l$round" --name "Lossy $round $$" --no-stdin --accept-any
    pid=$LAST_PID
    t0=$(date +%s%3N)
    nsx b "$W" connect "Lossy $round $$" --home "$(home b)" --iface "$WP_IFACE" --no-stdin \
      --timeout 10 >/dev/null 2>"$WP_TMP/c$round.err" ||
      fail "round $round: connect by name under 30 % loss: $(cat "$WP_TMP/c$round.err")"
    log "round $round: found and connected in $(($(date +%s%3N) - t0)) ms"
    wait_exit "$pid" 5
    read -r seen dropped < <(loss_report b)
    read -r seen_a dropped_a < <(loss_report a)
    [ $((dropped - before + dropped_a - before_a)) -gt 0 ] && lossy=$((lossy + 1))
    [ "$lossy" -lt 3 ] || break
  done
  [ "$lossy" -ge 3 ] || fail "only $lossy of $round rounds lost packets: is the loss rule working?"
  pass "connect by name worked in each of $round rounds under 30 % loss (B dropped $dropped of $seen, A $dropped_a of $seen_a)"
  ;;
e2e)
  link_pair a b
  head -c 1048576 /dev/urandom >"$WP_TMP/a.in"
  head -c 1048576 /dev/urandom >"$WP_TMP/b.in"
  spawn a lis sh -c "exec \"\$0\" \"\$@\" <'$WP_TMP/a.in' >'$WP_TMP/a.out'" "$W" listen \
    --home "$(home a)" --iface "$WP_IFACE" --json --name "$NAME" --accept-any --private
  pid=$LAST_PID
  wait_line lis '"event":"advertised"' 10
  # --private: no fp in TXT; --no-ipv6 on the browser: IPv4 addresses only.
  run b br "$W" browse --home "$(home b)" --iface "$WP_IFACE" --json --timeout 2 --no-ipv6 ||
    fail "browse exited $?"
  found br "j['name'] == '$NAME' and j['fingerprint'] is None and j['txt'] == {'v': '1'} and [x['address'] for x in j['addresses']] == ['$(ip4 a)']" \
    "--private / --no-ipv6 view"
  nsx b "$W" connect "$NAME" --home "$(home b)" --iface "$WP_IFACE" --timeout 10 \
    <"$WP_TMP/b.in" >"$WP_TMP/b.out" 2>"$WP_TMP/b.err" || fail "connect '$NAME': $(cat "$WP_TMP/b.err")"
  wait_exit "$pid" 10
  [ "$WP_RC" = 0 ] || fail "listener exit $WP_RC"
  cmp -s "$WP_TMP/a.in" "$WP_TMP/b.out" || fail "B received other bytes than A sent"
  cmp -s "$WP_TMP/b.in" "$WP_TMP/a.out" || fail "A received other bytes than B sent"
  grep -q "connected to $(ip4 a):\|connected to \[fe80::1" "$WP_TMP/b.err" || fail "connected where? $(cat "$WP_TMP/b.err")"
  pass "wipeer connect '$NAME' found A by discovery; 1 MiB each way, byte-exact"
  ;;
*) fail "unknown case $case_" ;;
esac

#!/bin/bash
# The built-in mDNS engine on real sockets (src/runtime/mdns_sock.c, driven by
# tests/netns/mdns_peer.c) across a veth pair between two namespaces:
#   mdns_sock.sh PEER wipeer  two wipeer peers: discovery both ways over IPv4
#                             and IPv6, a name conflict (one renames), and a
#                             goodbye dropping the service within a second
#   mdns_sock.sh PEER zc      python3-zeroconf publishes, we resolve it; we
#                             publish, zeroconf resolves us (port, TXT, v4+v6)
#   mdns_sock.sh PEER avahi   avahi-daemon publishes, we resolve it; we
#                             publish, avahi-browse -rp resolves us
#   mdns_sock.sh PEER loss    30 % of mDNS packets dropped on both sides'
#                             INPUT: rounds of fresh peers still resolve
. "$(dirname "$0")/lib.sh"
PEER=${1:?usage: mdns_sock.sh PEER wipeer|zc|avahi|loss}
case_=${2:?usage: mdns_sock.sh PEER wipeer|zc|avahi|loss}

require_root_netns
ns_new a
ns_new b
link_pair a b

NAME="wipeer $$ ü"           # spaces and UTF-8: instance names are free text
PORT=$((40000 + $$ % 20000))
FP=$(printf '%04X-%04X' $((RANDOM)) $((RANDOM)))

# peer NS LOG ARGS...: mdns_peer in NS on wp0 (foreground, logged).
peer() { local n=$1 lg=$2; shift 2; run "$n" "$lg" "$PEER" --iface "$WP_IFACE" "$@"; }
speer() { local n=$1 lg=$2; shift 2; spawn "$n" "$lg" "$PEER" --iface "$WP_IFACE" "$@"; }
# found LOG NAME: the FOUND line mdns_peer printed for NAME.
found() { grep -F -- "FOUND $2|" "$(logfile "$1")" | head -n1; }

case "$case_" in
wipeer)
  speer a pa --host alpha --publish "$NAME:$PORT" --txt v=1 --txt "fp=$FP" --browse \
    --expect Bee --linger 1500 --timeout 15000
  pa=$LAST_PID
  peer b pb --host beta --publish "Bee:7002" --txt v=1 --browse --expect "$NAME" \
    --linger 1500 --timeout 15000 || fail "B did not resolve '$NAME'"
  wait_exit "$pa" 10
  [ "$WP_RC" = 0 ] || fail "A did not resolve Bee"
  row=$(found pb "$NAME")
  [ "$row" = "FOUND $NAME|alpha.local|$PORT|$(ip4 a),$(ip6 a)|1|$FP|1" ] ||
    fail "A's service resolved as: $row"
  row=$(found pa Bee)
  [ "$row" = "FOUND Bee|beta.local|7002|$(ip4 b),$(ip6 b)|1||1" ] || fail "Bee resolved as: $row"

  # The same instance name on both sides: exactly one renames, both are seen.
  speer a ca --host alpha --publish "Same:7001" --txt v=1 --browse --expect-count 2 \
    --linger 2000 --timeout 15000
  pa=$LAST_PID
  peer b cb --host beta --publish "Same:7002" --txt v=1 --browse --expect-count 2 \
    --linger 2000 --timeout 15000 || fail "B did not see two services"
  wait_exit "$pa" 10
  [ "$WP_RC" = 0 ] || fail "A did not see two services"
  renames=$(cat "$(logfile ca)" "$(logfile cb)" | grep -c '^RENAMED Same (2)$' || true)
  [ "$renames" = 1 ] || fail "$renames renames, want 1"

  # Goodbye: A stops after 3 s; B must drop the service within a second (it
  # reports REMOVED when the goodbye arrives; the cache keeps the TTL 0
  # records one more second, RFC 6762 §10.1, without another event).
  speer a ga --host alpha --publish "Gone:7001" --txt v=1 --expect-count 99 --timeout 3000
  pa=$LAST_PID
  peer b gb --browse --expect Gone --expect-removed Gone --timeout 15000 ||
    fail "B did not see Gone leave"
  wait_exit "$pa" 10
  bye=$(sed -n 's/^BYE @//p' "$(logfile ga)")
  gone=$(sed -n 's/^REMOVED Gone @//p' "$(logfile gb)")
  [ -n "$bye" ] && [ -n "$gone" ] || fail "no BYE / REMOVED timestamps from the peers"
  [ $((gone - bye)) -le 1000 ] ||
    fail "removed $((gone - bye)) ms after the goodbye (want <= 1000 ms)"
  pass "wipeer <-> wipeer: both ways v4+v6, one rename, removed $((gone - bye)) ms after goodbye"
  ;;
zc)
  require_zeroconf
  spawn a zpub "$WP_PY" "$WP_NETNS_DIR/zc_publish.py" --iface "$(ip4 a)" --iface "$(ip6 a)" \
    --name "Zed $$" --port 7003 --txt v=1 --txt "fp=$FP" --duration 40
  speer b pb --host beta --publish "$NAME:$PORT" --txt v=1 --txt "fp=$FP" --browse \
    --expect "Zed $$" --linger 15000 --timeout 15000
  run a zbrowse timeout 20 "$WP_PY" "$WP_NETNS_DIR/zc_browse.py" --iface "$(ip4 a)" \
    --iface "$(ip6 a)" --timeout 15 --need-v4 --need-v6 --name "$NAME" ||
    fail "zeroconf did not resolve '$NAME'"
  json_find "$(logfile zbrowse)" "j['name'] == '$NAME' and j['port'] == $PORT and j['txt'] == {'v': '1', 'fp': '$FP'} and j['addresses'] == ['$(ip4 b)', '$(ip6 b)'] and j['server'] == 'beta.local.'" >/dev/null ||
    fail "zeroconf resolved '$NAME' wrongly"
  wait_line pb "^FOUND Zed $$\\|" 15
  row=$(found pb "Zed $$")
  case "$row" in
  "FOUND Zed $$|"*"|7003|"*"$(ip4 a)"*"|1|$FP|1") ;;
  *) fail "zeroconf's service resolved as: $row" ;;
  esac
  # We claim zeroconf's instance name: zeroconf defends, we become "Zed N (2)".
  peer b cb --host gamma --publish "Zed $$:7009" --txt v=1 --browse --expect "Zed $$ (2)" \
    --timeout 10000 || fail "no rename to 'Zed $$ (2)'"
  grep -qxF "RENAMED Zed $$ (2)" "$(logfile cb)" || fail "we did not rename"
  pass "python3-zeroconf <-> wipeer both ways, and zeroconf defended its name: $row"
  ;;
avahi)
  require_cmd avahi-publish avahi-utils
  avahi_start a
  spawn_avahi a apub avahi-publish -s "Avi $$" _wipeerkit._tcp 7005 v=1 "fp=$FP"
  speer b pb --host beta --publish "$NAME:$PORT" --txt v=1 --txt "fp=$FP" --browse \
    --expect "Avi $$" --linger 15000 --timeout 15000
  spawn_avahi a abrowse timeout 15 avahi-browse -rp _wipeerkit._tcp
  esc=$(avahi_escape "$NAME")
  want="=;$WP_IFACE;IPv4;$esc;_wipeerkit._tcp;local;beta.local;$(ip4 b);$PORT;"
  wait_for 12 "avahi-browse resolving '$NAME'" grep -qF -- "$want" "$(logfile abrowse)"
  row=$(grep -F -- "$want" "$(logfile abrowse)" | head -n1)
  case "$row" in *'"v=1"'*) ;; *) fail "TXT lacks v=1: $row" ;; esac
  case "$row" in *"\"fp=$FP\""*) ;; *) fail "TXT lacks fp=$FP: $row" ;; esac
  wait_for 10 "avahi-browse seeing '$NAME' over IPv6" \
    grep -qF -- "=;$WP_IFACE;IPv6;$esc;" "$(logfile abrowse)"
  wait_line pb "^FOUND Avi $$\\|" 12
  row2=$(found pb "Avi $$")
  case "$row2" in
  "FOUND Avi $$|wp$$-a.local|7005|"*"$(ip4 a)"*"|1|$FP|1") ;;
  *) fail "Avahi's service resolved as: $row2" ;;
  esac
  # We claim Avahi's instance name: Avahi defends, we become "Avi N (2)".
  peer b cb --host gamma --publish "Avi $$:7009" --txt v=1 --browse --expect "Avi $$ (2)" \
    --timeout 10000 || fail "no rename to 'Avi $$ (2)'"
  grep -qxF "RENAMED Avi $$ (2)" "$(logfile cb)" || fail "we did not rename"
  grep -q "collision" "$(logfile apub)" && fail "Avahi renamed instead of defending"
  # Avahi claims our name (the peer in B still runs): we defend, Avahi renames.
  spawn_avahi a apub2 avahi-publish -s "$NAME" _wipeerkit._tcp 7006 v=1
  wait_line apub2 "collision|Established" 10
  grep -q "collision" "$(logfile apub2)" || fail "Avahi took our name: $(cat "$(logfile apub2)")"
  pass "avahi-daemon <-> wipeer both ways, each defends its name against the other: $row2"
  ;;
loss)
  require_cmd iptables iptables
  loss_set a 0.3
  loss_set b 0.3
  lossy=0
  for round in $(seq 1 12); do
    read -r _ before < <(loss_report b)
    speer a "la$round" --host alpha --publish "L$round:$PORT" --txt v=1 --linger 20000 \
      --expect-count 99 --timeout 20000
    pa=$LAST_PID
    peer b "lb$round" --browse --expect "L$round" --timeout 12000 ||
      fail "round $round: not resolved within 12 s under 30 % loss"
    stop_pid "$pa"
    read -r seen dropped < <(loss_report b)
    [ "$dropped" -gt "$before" ] && lossy=$((lossy + 1))
    [ "$lossy" -lt 4 ] || break
  done
  [ "$lossy" -ge 4 ] || fail "only $lossy of $round rounds lost packets: is the loss rule working?"
  pass "resolved in each of $round rounds under 30 % loss ($dropped of $seen packets into B dropped)"
  ;;
*) fail "unknown case $case_" ;;
esac

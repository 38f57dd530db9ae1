#!/bin/bash
# Discovery between peers that others wrote (python3-zeroconf, Avahi), across
# a veth pair between two namespaces: proves the harness before wipeer joins.
#   peers.sh zc-zc     zeroconf publishes in A, zeroconf browses from B
#   peers.sh avahi-zc  avahi-publish (avahi-daemon in A), zeroconf browses from B
#   peers.sh zc-avahi  zeroconf publishes in B, avahi-browse -rp in A
#   peers.sh zc-zc-loss  zc-zc with 30 % of mDNS packets dropped on B's INPUT
# Each checks the instance name, SRV port, TXT and the publisher's addresses.
. "$(dirname "$0")/lib.sh"
case_=${1:?usage: peers.sh zc-zc|avahi-zc|zc-avahi|zc-zc-loss}

require_root_netns
require_zeroconf
ns_new a
ns_new b
link_pair a b

NAME="peer $$ ü"            # a space and UTF-8: instance names are free text
PORT=$((40000 + $$ % 20000))
FP=$(printf '%08x' $((RANDOM * 32768 + RANDOM)))

zc_publish() { # NS LOG
  spawn "$1" "$2" "$WP_PY" "$WP_NETNS_DIR/zc_publish.py" --iface "$(ip4 "$1")" \
    --iface "$(ip6 "$1")" --name "$NAME" --port "$PORT" --txt v=1 --txt "fp=$FP" --duration 40
}

# zc_browse_expect NS LOG TIMEOUT PUBLISHER-NS: browse from NS until NAME
# resolves with both address families, then check every field.
zc_browse_expect() {
  local n=$1 lg=$2 t=$3 pub=$4 rc=0
  run "$n" "$lg" timeout $((t + 5)) "$WP_PY" "$WP_NETNS_DIR/zc_browse.py" \
    --iface "$(ip4 "$n")" --iface "$(ip6 "$n")" --timeout "$t" \
    --need-v4 --need-v6 --name "$NAME" || rc=$?
  [ "$rc" = 0 ] || fail "zc_browse in $n exited $rc (see $lg.log)"
  json_find "$(logfile "$lg")" "j['event'] == 'resolved' and j['name'] == '$NAME'" >/dev/null ||
    fail "no resolved event for '$NAME'"
  json_find "$(logfile "$lg")" "j['name'] == '$NAME' and j['port'] == $PORT" >/dev/null ||
    fail "wrong SRV port (want $PORT)"
  json_find "$(logfile "$lg")" "j['name'] == '$NAME' and j['txt'] == {'v': '1', 'fp': '$FP'}" >/dev/null ||
    fail "wrong TXT (want v=1 fp=$FP)"
  json_find "$(logfile "$lg")" "j['name'] == '$NAME' and j['addresses'] == ['$(ip4 "$pub")', '$(ip6 "$pub")']" >/dev/null ||
    fail "wrong addresses (want $(ip4 "$pub") $(ip6 "$pub"))"
}

case "$case_" in
zc-zc)
  zc_publish a pub
  zc_browse_expect b browse 10 a
  wait_line pub '"event": "published"' 5
  pass "zeroconf in B resolved zeroconf's service in A: port, TXT, IPv4+IPv6"
  ;;
zc-zc-loss)
  # Rounds of fresh browsers until three rounds lost packets and still
  # resolved everything within their bound (a round sees ~3 packets, so
  # ~2 in 3 rounds lose one; 20 rounds with fewer than 3 such: < 1e-6).
  require_cmd iptables iptables
  loss_set b 0.3
  zc_publish a pub
  lossy=0
  dropped=0
  for round in $(seq 1 20); do
    before=$dropped
    zc_browse_expect b "browse$round" 15 a
    read -r seen dropped < <(loss_report b)
    [ "$dropped" -gt "$before" ] && lossy=$((lossy + 1))
    [ "$lossy" -lt 3 ] || break
  done
  log "$round rounds, $lossy with loss; mDNS packets into B: $seen, dropped: $dropped"
  [ "$lossy" -ge 3 ] || fail "only $lossy of $round rounds lost a packet: is the loss rule working?"
  pass "resolved in each of $round rounds across 30 % loss ($dropped of $seen packets dropped)"
  ;;
avahi-zc)
  avahi_start a
  require_cmd avahi-publish avahi-utils
  spawn_avahi a pub avahi-publish -s "$NAME" _wipeerkit._tcp "$PORT" v=1 "fp=$FP"
  zc_browse_expect b browse 10 a
  json_find "$(logfile browse)" "j['name'] == '$NAME' and j['server'] == 'wp$$-a.local.'" >/dev/null ||
    fail "SRV target is not Avahi's host name wp$$-a.local."
  wait_line pub "Established under name '$NAME'" 5
  pass "zeroconf in B resolved avahi-publish's service in A"
  ;;
zc-avahi)
  avahi_start a
  require_cmd avahi-browse avahi-utils
  zc_publish b pub
  # Continuous form under a bound: -t can return before a new service resolves.
  spawn_avahi a browse timeout 15 avahi-browse -rp _wipeerkit._tcp
  # avahi-browse -p escapes names: space -> \032, the bytes of ü -> \195\188.
  esc=$(avahi_escape "$NAME")
  want="=;$WP_IFACE;IPv4;$esc;_wipeerkit._tcp;local;"
  wait_for 10 "avahi-browse resolving $NAME" grep -qF -- "$want" "$(logfile browse)"
  row=$(grep -F -- "$want" "$(logfile browse)" | head -n1)
  IFS=';' read -r _ _ _ _ _ _ host addr port txt <<<"$row"
  [ "$host" = "$(avahi_escape "peer-$$-ü-zc").local" ] || fail "host $host"
  [ "$addr" = "$(ip4 b)" ] || fail "address $addr, want $(ip4 b)"
  [ "$port" = "$PORT" ] || fail "port $port, want $PORT"
  case "$txt" in *'"v=1"'*) ;; *) fail "TXT $txt lacks v=1" ;; esac
  case "$txt" in *"\"fp=$FP\""*) ;; *) fail "TXT $txt lacks fp=$FP" ;; esac
  wait_for 10 "avahi-browse seeing $NAME over IPv6" grep -qF -- "=;$WP_IFACE;IPv6;$esc;" "$(logfile browse)"
  pass "avahi-browse in A resolved zeroconf's service in B: $row"
  ;;
*) fail "unknown case $case_" ;;
esac

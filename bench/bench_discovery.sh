#!/bin/bash
# bench_discovery.sh - discovery (issue 5) against its anchor, Avahi, in the
# same network namespaces and the same run (tests/netns/lib.sh: two
# namespaces joined by a veth pair; needs root, avahi-daemon, avahi-utils).
#
#   bench/bench_discovery.sh [build-dir] [trials] [window-seconds]
#
# 1. Time from the start of advertising to a browser's resolved result: a
#    browser runs in B all along; each trial starts a publisher in A under a
#    new name and times until B's browser prints it resolved (SRV, address,
#    TXT). wipeer: `wipeer listen` -> `wipeer browse` (built-in backend).
#    Avahi: `avahi-publish -s` (avahi-daemon in A) -> `avahi-browse -rp`
#    (avahi-daemon in B). The clock starts when the publisher process is
#    launched, for both; lines are stamped as they arrive ($EPOCHREALTIME).
#    Trials alternate wipeer and Avahi; the median and the spread are shown.
# 2. Packets sent by an idle responder (one service) and a browser: every
#    UDP datagram to or from port 5353 leaving either namespace, counted by
#    an iptables OUTPUT rule, over the first and the second minute after
#    start (the browser's query back-off makes the second minute the quieter
#    one). wipeer and Avahi run at the same time in two separate namespace
#    pairs, so neither hears the other.
set -u
b=${1:-build}
TRIALS=${2:-15}
WINDOW=${3:-60}
W=$(cd "$b" && pwd)/wipeer
export WP_BUDGET=$((TRIALS * 8 + WINDOW * 2 + 120))
. "$(dirname "$0")/../tests/netns/lib.sh"
require_root_netns
require_cmd avahi-daemon avahi-daemon
require_cmd avahi-publish avahi-utils
require_cmd iptables iptables
[ -x "$W" ] || fail "no $W: build first"

ms_since() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d\n", (b - a) * 1000 }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
minmax() { sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "-" hi }'; }
# stamped NS LOG VAR=VALUE CMD...: CMD's output lines prefixed with their arrival time.
stamped() {
  local n=$1 lg=$2 var=$3; shift 3
  spawn "$n" "$lg" env "$var" bash -c \
    'stdbuf -oL "$@" 2>&1 | while IFS= read -r l; do printf "%s %s\n" "$EPOCHREALTIME" "$l"; done' _ "$@"
}
# first_stamp LOG FIXED-STRING: arrival time of the first line holding it.
first_stamp() { grep -F -- "$2" "$(logfile "$1")" | head -n1 | cut -d' ' -f1; }
wait_stamp() { wait_for 10 "$3" grep -qF -- "$2" "$(logfile "$1")"; }

# ------------------------------------------------------------ 1. time to resolve
ns_new a
ns_new b
link_pair a b
avahi_start a
avahi_start b
stamped b wbrowse WP_BENCH=1 "$W" browse --home "$WP_TMP/hb" --json --iface "$WP_IFACE" --discovery builtin
stamped b abrowse "$(avahi_env b)" avahi-browse -rp _wipeerkit._tcp
sleep 2
: >"$WP_TMP/w.ms"
: >"$WP_TMP/a.ms"
for i in $(seq 1 "$TRIALS"); do
  name="w$i-$$"
  t0=$EPOCHREALTIME
  spawn a "wl$i" "$W" listen --home "$WP_TMP/ha" --iface "$WP_IFACE" --discovery builtin \
    --name "$name" --no-stdin --keep-open --accept-any
  pid=$LAST_PID
  wait_stamp wbrowse "\"event\":\"found\",\"name\":\"$name\"" "wipeer browse finding $name"
  ms_since "$t0" "$(first_stamp wbrowse "\"event\":\"found\",\"name\":\"$name\"")" >>"$WP_TMP/w.ms"
  stop_pid "$pid"

  name="a$i-$$"
  t0=$EPOCHREALTIME
  spawn_avahi a "ap$i" avahi-publish -s "$name" _wipeerkit._tcp 7000 v=1
  pid=$LAST_PID
  wait_stamp abrowse "=;$WP_IFACE;IPv4;$name;" "avahi-browse resolving $name"
  ms_since "$t0" "$(first_stamp abrowse "=;$WP_IFACE;IPv4;$name;")" >>"$WP_TMP/a.ms"
  stop_pid "$pid"
  sleep 1.2 # both browsers see the goodbyes before the next trial
done
wmed=$(median <"$WP_TMP/w.ms")
amed=$(median <"$WP_TMP/a.ms")
echo "== discovery: advertise -> resolved in another namespace (veth), $TRIALS trials each, interleaved"
printf '  %-34s median %5d ms   range %s ms\n' "wipeer listen -> wipeer browse" "$wmed" "$(minmax <"$WP_TMP/w.ms")"
printf '  %-34s median %5d ms   range %s ms\n' "avahi-publish -> avahi-browse -r" "$amed" "$(minmax <"$WP_TMP/a.ms")"
awk -v w="$wmed" -v a="$amed" 'BEGIN { printf "  wipeer / Avahi: %.2f\n", w / a }'
log "samples wipeer: $(tr '\n' ' ' <"$WP_TMP/w.ms")"
log "samples Avahi:  $(tr '\n' ' ' <"$WP_TMP/a.ms")"

# ------------------------------------------------------------ 2. idle packets
# Fresh namespaces: c/d for wipeer, e/f for Avahi, both pairs at once.
ns_new c
ns_new d
link_pair c d
ns_new e
ns_new f
link_pair e f
for n in c d e f; do
  nsx "$n" iptables -A OUTPUT -p udp -m multiport --ports 5353 -m comment --comment wp-mdns-out ||
    fail "iptables in $n"
done
out_count() { nsx "$1" iptables -L OUTPUT -v -n -x | awk '/wp-mdns-out/ { print $1 + 0; exit }'; }
avahi_start e
avahi_start f
spawn c wresp "$W" listen --home "$WP_TMP/hc" --iface "$WP_IFACE" --discovery builtin \
  --name "idle-$$" --no-stdin --keep-open --accept-any
spawn d wbr "$W" browse --home "$WP_TMP/hd" --iface "$WP_IFACE" --discovery builtin
spawn_avahi e aresp avahi-publish -s "idle-$$" _wipeerkit._tcp 7000 v=1
spawn_avahi f abr avahi-browse -rp _wipeerkit._tcp
# The daemons' own start-up (host name probing) is not counted: zero now.
for n in c d e f; do nsx "$n" iptables -Z OUTPUT; done
sleep "$WINDOW"
w1=$(($(out_count c) + $(out_count d)))
a1=$(($(out_count e) + $(out_count f)))
for n in c d e f; do nsx "$n" iptables -Z OUTPUT; done
sleep "$WINDOW"
w2c=$(out_count c); w2d=$(out_count d); w2=$((w2c + w2d))
a2e=$(out_count e); a2f=$(out_count f); a2=$((a2e + a2f))
grep -qF "idle-$$" "$(logfile wbr)" || fail "wipeer browse never found the idle service"
grep -qF "=;$WP_IFACE;IPv4;idle-$$;" "$(logfile abr)" || fail "avahi-browse never resolved the idle service"
echo "== mDNS datagrams sent by one idle responder + one browser (iptables OUTPUT, UDP port 5353)"
printf '  %-8s  first %ds: %4d   next %ds: %4d  (responder %d, browser %d)\n' wipeer "$WINDOW" "$w1" "$WINDOW" "$w2" "$w2c" "$w2d"
printf '  %-8s  first %ds: %4d   next %ds: %4d  (responder %d, browser %d)\n' Avahi "$WINDOW" "$a1" "$WINDOW" "$a2" "$a2e" "$a2f"
awk -v w1="$w1" -v a1="$a1" -v w2="$w2" -v a2="$a2" \
  'BEGIN { printf "  wipeer / Avahi: first %.2f, next %.2f\n", w1 / (a1 ? a1 : 1), w2 / (a2 ? a2 : 1) }'
pass "bench_discovery done"

#!/bin/bash
# The public discovery API (test_disc_api.c) in a namespace of its own, on
# its loopback interface: advertise, browse, resolve, connect by name and by
# fingerprint (a forged fingerprint fails the handshake), own service,
# goodbye; the loop on a poll() thread, an epoll thread and wp_ctx_process.
#   usage: disc_api.sh TEST_DISC_API MDNS_PEER
. "$(dirname "$0")/lib.sh"
BIN=${1:?usage: disc_api.sh TEST_DISC_API MDNS_PEER}
PEER=${2:?usage: disc_api.sh TEST_DISC_API MDNS_PEER}
require_root_netns
ns_new a
run a api timeout 40 "$BIN" "$PEER" || fail "test_disc_api failed (see api.log)"
grep '^ok:' "$(logfile api)" >&2
pass "discovery API on lo: $(grep -c '^ok:' "$(logfile api)") steps"

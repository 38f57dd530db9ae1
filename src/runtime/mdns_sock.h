/*
 * mdns_sock.h - the sockets under the sans-IO mDNS engine (src/dns/mdns.h).
 *
 * Opens UDP port 5353 for IPv4 and IPv6 (SO_REUSEADDR + SO_REUSEPORT, so
 * avahi-daemon or another responder on the host keeps working), joins
 * 224.0.0.251 / ff02::fb on the chosen interfaces, learns the arrival
 * interface of each datagram (IP_PKTINFO / IPV6_RECVPKTINFO), sends with
 * IP TTL / hop limit 255 (RFC 6762 §11; datagrams arriving with TTL 1 are
 * accepted too), and follows interface and address changes through a
 * netlink socket (RTMGRP_LINK, RTMGRP_IPV4_IFADDR, RTMGRP_IPV6_IFADDR),
 * re-reading getifaddrs() and telling the engine (mdns_iface_set/remove).
 *
 * No loop of its own: the caller polls the fds of mdns_sock_fds() for
 * input, and calls mdns_sock_read() when one is readable and
 * mdns_sock_flush() after anything that may have queued datagrams (input,
 * tick, API calls). Everything is non-blocking.
 *
 *     mdns_sock_open(&cfg, &s, &err);
 *     mdns_sock_sync(s, m, now, &err);        // interfaces -> engine
 *     poll(mdns_sock_fds(...)) ...
 *     mdns_sock_read(s, fd, m, now, &err);    // datagrams / netlink -> engine
 *     mdns_tick(m, now);                      // at mdns_deadline_ms(m)
 *     mdns_sock_flush(s, m, &err);            // engine -> datagrams
 *
 * Interfaces: by name (cfg.ifnames), or by default every interface that is
 * up and multicast-capable, loopback excluded. "lo" can be named explicitly
 * (tests in a network namespace): Linux delivers IPv4 multicast on lo when
 * IP_MULTICAST_IF selects it, but not IPv6 multicast (see
 * /work/shared/NOTES-testing.md); use a veth pair for IPv6.
 *
 * Not thread-safe; one thread owns an mdns_sock and its engine.
 */
#ifndef WP_RUNTIME_MDNS_SOCK_H
#define WP_RUNTIME_MDNS_SOCK_H

#include "internal.h"
#include "dns/mdns.h"

#define MDNS_SOCK_MAX_FDS 3 /* IPv4, IPv6, netlink */

struct mdns_sock;

struct mdns_sock_config {
    const char *const *ifnames; /* NULL: all up, multicast-capable, non-loopback */
    size_t n_ifnames;
    bool no_v4;                 /* skip IPv4 */
    bool no_v6;                 /* skip IPv6 */
    bool no_netlink;            /* do not follow interface changes */
    uint16_t port;              /* 0 = 5353; another port only for tests */
};

struct mdns_sock_stats {
    uint64_t rx_datagrams, rx_truncated, rx_other_iface;
    uint64_t tx_datagrams, tx_errors;
    uint64_t iface_syncs;
};

/*
 * Open the sockets (no interface joined yet: call mdns_sock_sync). Either
 * family failing alone is tolerated (e.g. IPv6 disabled); both failing is
 * WP_ESYS. Errors: WP_ESYS (errno in err), WP_ENOMEM.
 */
WP_NODISCARD wp_status mdns_sock_open(const struct mdns_sock_config *cfg,
                                      struct mdns_sock **out, wp_err *err);
/* Close everything; NULL is a no-op. Leaves the engine untouched. */
void mdns_sock_close(struct mdns_sock *s);

/* The fds to poll for reading; returns how many were written (<= cap). */
size_t mdns_sock_fds(const struct mdns_sock *s, int *out_fds, size_t cap);

/*
 * Enumerate interfaces (getifaddrs), join/leave the groups, and tell the
 * engine about every selected interface's addresses. Called once after
 * open, and by mdns_sock_read when netlink reports a change.
 */
WP_NODISCARD wp_status mdns_sock_sync(struct mdns_sock *s, mdns *m, int64_t now_ms,
                                      wp_err *err);

/*
 * fd is readable: read every pending datagram (or netlink message) and feed
 * the engine. Malformed datagrams are the engine's business (its stats and
 * last error); only socket failures return an error here (WP_ESYS).
 */
WP_NODISCARD wp_status mdns_sock_read(struct mdns_sock *s, int fd, mdns *m, int64_t now_ms,
                                      wp_err *err);

/*
 * Send every datagram the engine has queued, on its interface. A datagram
 * that cannot be sent is dropped and counted (tx_errors); the first error
 * is returned as WP_ESYS after the queue is drained.
 */
WP_NODISCARD wp_status mdns_sock_flush(struct mdns_sock *s, mdns *m, wp_err *err);

void mdns_sock_get_stats(const struct mdns_sock *s, struct mdns_sock_stats *out);

#endif

/*
 * mdns.h - a sans-IO Multicast DNS / DNS-SD engine (RFC 6762, RFC 6763):
 * responder (probe, announce, answer, defend, goodbye) and browser
 * (continuous querying, cache, resolution) for one service type.
 *
 * Packets and time go in; packets to send, events and the next deadline
 * come out. Nothing here touches a socket, a clock or a global RNG:
 * randomness (the RFC's random delays) comes from cfg->rng, time from the
 * now_ms arguments (a monotonic clock in milliseconds, any origin).
 *
 * Driver (src/runtime/mdns_sock.c, or a test routing packets in memory):
 *
 *     mdns_new(&cfg, now, &m, &err);
 *     mdns_iface_set(m, ifindex, addrs, n, now);   // per interface, on every change
 *     mdns_service_add(m, &desc, now, &id);        // responder
 *     mdns_browse_start(m, MDNS_SERVICE_TYPE, now); // browser
 *     loop:
 *       mdns_input(m, bytes, n, &src, now);        // each datagram received
 *       while ((p = mdns_output(m)))               // datagrams to send
 *           { sendto(...p->data, p->len...); mdns_output_done(m); }
 *       while (mdns_next_event(m, &ev) == WP_OK)   // found/removed/renamed...
 *           handle(&ev);
 *       wait until mdns_deadline_ms(m) or a datagram; mdns_tick(m, now);
 *     mdns_shutdown(m, now); drain mdns_output(); mdns_free(m);
 *
 * Links. The caller tells the engine which interfaces exist and their
 * addresses (mdns_iface_set). Every (interface, address family) pair that
 * has at least one address of that family is a "link": an IPv4 link talks
 * to 224.0.0.251:5353, an IPv6 link to [ff02::fb]:5353. Probing, announcing,
 * rate limits and the cache are kept per link (as Avahi does). A and AAAA
 * records are published on both families of an interface, carrying that
 * interface's addresses only (RFC 6762 §15).
 *
 * Discovered services are merged by instance name across links: one
 * service, with the addresses from every link (each tagged with its
 * interface index, needed for IPv6 link-local scope).
 *
 * Limits (documented choices): at most MDNS_MAX_IFACES interfaces,
 * MDNS_MAX_ADDRS addresses per interface and per discovered service, one
 * browsed service type at a time, max_cache cached records (the soonest
 * to expire are evicted first), MDNS_MAX_SERVICES discovered services.
 *
 * Not implemented (optional in RFC 6762): duplicate question suppression
 * (§7.3), passive observation of failures (§10.5), the on-link source
 * address check of §11 (the socket layer only accepts datagrams from the
 * joined interfaces), sleep proxies and TCP for legacy truncated replies.
 *
 * Not thread-safe: one thread (the loop) owns an mdns engine.
 */
#ifndef WP_DNS_MDNS_H
#define WP_DNS_MDNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wipeer.h"
#include "util/err.h"

#define MDNS_PORT 5353
#define MDNS_SERVICE_TYPE "_wipeerkit._tcp" /* the domain is always "local" */
#define MDNS_MAX_IFACES 16
#define MDNS_MAX_ADDRS 16
#define MDNS_MAX_SERVICES 256       /* discovered services tracked at once */
#define MDNS_MAX_REGISTERED 32      /* services registered by this engine */
#define MDNS_PACKET_MAX 9000        /* largest datagram accepted (RFC 6762 §17) */
#define MDNS_DEFAULT_PACKET 1440    /* default size of datagrams we build */
#define MDNS_TTL_HOST 120           /* A, AAAA, SRV (RFC 6762 §10) */
#define MDNS_TTL_OTHER 4500         /* PTR, TXT */
#define MDNS_LABEL_STR_MAX 64       /* one label (63 bytes) + NUL */
#define MDNS_NAME_STR_MAX 1024      /* presentation name + NUL (= DNS_NAME_STR_MAX) */

typedef struct mdns mdns;

enum mdns_family {
    MDNS_INET = 4,
    MDNS_INET6 = 6,
};

/* An IP address: family MDNS_INET (addr[0..3]) or MDNS_INET6 (addr[0..15]). */
typedef struct mdns_ip {
    uint8_t family;
    uint8_t addr[16];
} mdns_ip;

/* A UDP endpoint on an interface. */
typedef struct mdns_endpoint {
    mdns_ip ip;
    uint16_t port;
    uint32_t ifindex; /* arrival / departure interface */
} mdns_endpoint;

/* Randomness hook: fill out with len bytes. Required. */
typedef wp_status (*mdns_rng_fn)(void *user, uint8_t *out, size_t len);

struct mdns_config {
    mdns_rng_fn rng;             /* required */
    void *rng_user;
    /*
     * Host label, e.g. "wipeer-3fa2" (becomes "wipeer-3fa2.local"): 1..63
     * bytes, letters/digits/hyphens recommended. On a conflict it is
     * renamed "wipeer-3fa2-2", "-3"... (host names cannot hold the spaces of
     * the "Name (2)" rule used for instance names). Required for services.
     */
    const char *host_label;
    size_t max_packet;           /* bytes per datagram we build; 0 = MDNS_DEFAULT_PACKET */
    /*
     * Continuous-query back-off cap (RFC 6762 §5.2: 1 s, doubling, capped
     * at 60 min). 0 = 3,600,000 ms. Refresh queries at 80-95 % of each TTL
     * keep known services live whatever this cap is.
     */
    uint32_t max_query_interval_ms;
    size_t max_cache;            /* cached records; 0 = 512 */
};

/* ---- lifecycle ---- */

/*
 * Create an engine. Errors: WP_EINVAL (no rng, bad host label), WP_ENOMEM.
 * *out_m is NULL on failure; err (optional) gets the detail.
 */
WP_NODISCARD wp_status mdns_new(const struct mdns_config *cfg, int64_t now_ms, mdns **out_m,
                                wp_err *err);
/* Free everything (no goodbyes: call mdns_shutdown and drain first). NULL is a no-op. */
void mdns_free(mdns *m);
/* The last error recorded by any call (bad packets, dropped output, rng failures...). */
const wp_err *mdns_last_error(const mdns *m);

/* ---- interfaces ---- */

/*
 * Set the complete address list of an interface (creating it). Links appear
 * for a family when its first address appears: probing and browsing start
 * there. Removed addresses get goodbye packets; changed ones are announced.
 * Errors: WP_EINVAL (ifindex 0, bad family), WP_ETOOBIG (> MDNS_MAX_ADDRS),
 * WP_EFULL (> MDNS_MAX_IFACES interfaces), WP_ENOMEM.
 */
WP_NODISCARD wp_status mdns_iface_set(mdns *m, uint32_t ifindex, const mdns_ip *addrs,
                                      size_t n_addrs, int64_t now_ms);
/* The interface went away: forget its links and what was learnt on them. WP_ENOTFOUND. */
WP_NODISCARD wp_status mdns_iface_remove(mdns *m, uint32_t ifindex, int64_t now_ms);

/* ---- responder ---- */

/*
 * Give an engine created without a host label one now: its A/AAAA records
 * are probed and announced on every link, and services can be added. A
 * browse-only engine has no host name, so it publishes nothing (and
 * cannot collide with the host it runs on). Errors: WP_EINVAL (bad
 * label), WP_ESTATE (already has one, or shut down), WP_ENOMEM.
 */
WP_NODISCARD wp_status mdns_host_set(mdns *m, const char *host_label, int64_t now_ms);

struct mdns_service_desc {
    const char *instance;  /* UTF-8 instance label, 1..63 bytes ("My Device") */
    const char *type;      /* NULL = MDNS_SERVICE_TYPE; "_x._tcp"/"_x._udp" */
    uint16_t port;
    const uint8_t *txt;    /* TXT rdata (build it with txt_add), copied; NULL/0 = empty */
    size_t txt_len;
};

/*
 * Register a service: it is probed on every link (3 probes 250 ms apart),
 * renamed on conflict ("Name (2)", MDNS_EV_RENAMED), then announced twice
 * 1 s apart (MDNS_EV_REGISTERED once the first announcement went out).
 * *out_id identifies it in later calls and events (never 0).
 * Errors: WP_EINVAL, WP_ESTATE (no host label / shut down), WP_EEXIST (same
 * instance and type already registered here), WP_EFULL, WP_ENOMEM.
 */
WP_NODISCARD wp_status mdns_service_add(mdns *m, const struct mdns_service_desc *desc,
                                        int64_t now_ms, uint32_t *out_id);
/* Withdraw: goodbye packets (TTL 0) now, then forget it. WP_ENOTFOUND. */
WP_NODISCARD wp_status mdns_service_remove(mdns *m, uint32_t id, int64_t now_ms);
/* Replace the TXT data and announce it (RFC 6762 §8.4). WP_ENOTFOUND, WP_ENOMEM. */
WP_NODISCARD wp_status mdns_service_set_txt(mdns *m, uint32_t id, const uint8_t *txt,
                                            size_t txt_len, int64_t now_ms);
/*
 * Current instance label of a service (after renames), NUL-terminated;
 * borrowed until the next call on m. NULL if id is unknown.
 */
const char *mdns_service_name(const mdns *m, uint32_t id);
/* Current host label (after renames); borrowed until the next call on m. */
const char *mdns_host_label(const mdns *m);

/* ---- browser ---- */

/*
 * Browse a service type ("_wipeerkit._tcp"; domain local): continuous
 * PTR queries with back-off, resolution of each instance (SRV, TXT, A,
 * AAAA), MDNS_EV_FOUND / UPDATED / REMOVED events. One type at a time:
 * WP_ESTATE if already browsing. WP_EINVAL: bad type.
 */
WP_NODISCARD wp_status mdns_browse_start(mdns *m, const char *type, int64_t now_ms);
/* Stop browsing and forget discovered services (no events). */
void mdns_browse_stop(mdns *m);

/* ---- I/O and time ---- */

/*
 * One received datagram. src: sender address and port and the interface it
 * arrived on (IP_PKTINFO). is_unicast_dst: the datagram was sent to one of
 * our unicast addresses rather than the group (false when unknown).
 * Errors: WP_EPROTO for a malformed message (detail in last error; the
 * engine's state is unchanged). Datagrams on unknown links, with a non-zero
 * opcode or rcode, or responses from a port other than 5353 (RFC 6762 §6.7,
 * §18.3, §18.11) are ignored and counted in stats. Replies that are due at
 * once are queued before this returns.
 */
WP_NODISCARD wp_status mdns_input(mdns *m, const uint8_t *pkt, size_t len,
                                  const mdns_endpoint *src, bool is_unicast_dst,
                                  int64_t now_ms);

struct mdns_packet {
    mdns_endpoint dst;    /* group address or unicast; port; the interface to send on */
    bool is_multicast;    /* dst is 224.0.0.251 or ff02::fb (port 5353) */
    const uint8_t *data;
    size_t len;
};

/* The oldest datagram to send, or NULL. Borrowed until mdns_output_done or mdns_free. */
const struct mdns_packet *mdns_output(const mdns *m);
/* Drop the datagram mdns_output returned (sent or not). */
void mdns_output_done(mdns *m);

/* When mdns_tick must next run (ms, same clock as now_ms); -1: nothing scheduled. */
int64_t mdns_deadline_ms(const mdns *m);
/* Run everything due at now_ms (probes, announcements, responses, queries, expiry). */
WP_NODISCARD wp_status mdns_tick(mdns *m, int64_t now_ms);

/*
 * Goodbye for every registered record (TTL 0) on every link, then the
 * engine stays quiet: no more probes, answers or queries. Drain the output.
 */
WP_NODISCARD wp_status mdns_shutdown(mdns *m, int64_t now_ms);

/* ---- events ---- */

enum mdns_event_type {
    MDNS_EV_REGISTERED = 1, /* our service probed and announced (service_id, name) */
    MDNS_EV_RENAMED = 2,    /* name conflict: our service now has `name` (service_id) */
    MDNS_EV_HOST_RENAMED = 3, /* host name conflict: now `name` (service_id 0) */
    MDNS_EV_FOUND = 4,      /* a browsed service resolved (info): SRV, >= 1 address, and its
                               TXT (or none after 2 unanswered TXT queries or an NSEC) */
    MDNS_EV_UPDATED = 5,    /* its port, host, addresses or TXT changed (info) */
    MDNS_EV_REMOVED = 6,    /* it left (goodbye or expiry) or stopped resolving (info.name) */
};

struct mdns_service_info {
    char name[MDNS_LABEL_STR_MAX];   /* instance label (may hold spaces, dots, UTF-8) */
    size_t name_len;                 /* bytes in name; a label may contain NUL bytes */
    char host[MDNS_NAME_STR_MAX];    /* SRV target, presentation form ("h.local") */
    uint16_t port;
    size_t n_addrs;
    mdns_endpoint addrs[MDNS_MAX_ADDRS]; /* ip + ifindex; port = the SRV port */
    bool has_txt;
    const uint8_t *txt;              /* TXT rdata; borrowed until the next mdns_next_event */
    size_t txt_len;
    /* From the TXT (src/dns/txt.h): a service with no TXT, no `v` or an older
       `v` (e.g. an app of the original iOS SDK) is reported, not connectable. */
    unsigned version;                /* `v`, 0 if absent */
    bool has_fp;
    char fp[65];                     /* `fp` short fingerprint if has_fp */
    bool is_connectable;
};

struct mdns_event {
    enum mdns_event_type type;
    uint32_t service_id;             /* REGISTERED, RENAMED */
    char name[MDNS_LABEL_STR_MAX];   /* REGISTERED, RENAMED, HOST_RENAMED: the new label */
    struct mdns_service_info info;   /* FOUND, UPDATED, REMOVED */
};

/* Pop the next event into *out: WP_OK, or WP_AGAIN when there is none. */
WP_NODISCARD wp_status mdns_next_event(mdns *m, struct mdns_event *out);

/* ---- statistics (benchmarks: packets per minute of an idle engine) ---- */

struct mdns_stats {
    uint64_t rx_packets, rx_bad, rx_ignored;
    uint64_t tx_packets, tx_bytes, tx_dropped;
    uint64_t tx_probes, tx_announces, tx_responses, tx_queries, tx_goodbyes;
    uint64_t conflicts;
};
void mdns_get_stats(const mdns *m, struct mdns_stats *out);

#endif

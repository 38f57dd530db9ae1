/*
 * mdns_int.h - the engine's internal state, shared by its files:
 *   mdns.c         lifecycle, interfaces/links, input dispatch, queues, tick
 *   mdns_resp.c    responder: our records, probing, announcing, conflicts
 *   mdns_service.c responder API: register, update, withdraw (goodbyes), shutdown
 *   mdns_answer.c  answering queries, building responses with additional records
 *   mdns_cache.c   the record cache (TTL, goodbye, cache-flush)
 *   mdns_browse.c  browser: continuous queries, refresh, resolution, events
 */
#ifndef WP_DNS_MDNS_INT_H
#define WP_DNS_MDNS_INT_H

#include "dns/mdns.h"
#include "dns/msg.h"
#include "dns/txt.h"

#define LINK_MAX (MDNS_MAX_IFACES * 2)
#define T_NEVER INT64_MAX   /* "no deadline" */
#define T_LONG_AGO INT64_MIN /* "never multicast" */
#define MDNS_TXT_MAX 1300   /* RFC 6763 §6.2: keep TXT below 1300 bytes */

/* RFC 6762 timings (ms). */
#define PROBE_WAIT_MAX 250   /* first probe after 0-250 ms (§8.1) */
#define PROBE_INTERVAL 250
#define PROBE_COUNT 3
#define PROBE_DEFER 1000     /* lost a simultaneous-probe tie-break (§8.2) */
#define PROBE_SLOW 5000      /* 15 conflicts in 10 s (§8.1) */
#define ANNOUNCE_COUNT 2
#define ANNOUNCE_INTERVAL 1000
#define RATE_LIMIT 1000      /* same record multicast at most once a second (§6) */
#define RATE_LIMIT_PROBE 250 /* except when defending against a probe */
#define SHARED_DELAY_MIN 20  /* shared answers wait 20-120 ms (§6) */
#define SHARED_DELAY_MAX 120
#define TC_DELAY_MIN 400     /* a query with more known answers coming (§6) */
#define TC_DELAY_MAX 500
#define GOODBYE_GRACE 1000   /* TTL 0 records stay cached 1 s (§10.1; cache_in_goodbye) */
#define FLUSH_GRACE 1000     /* cache-flush keeps records younger than 1 s (§10.2) */
#define QUERY_FIRST_MIN 20   /* first continuous query after 20-120 ms (§5.2) */
#define QUERY_FIRST_MAX 120
#define LEGACY_TTL_MAX 10    /* legacy unicast answers (§6.7) */
#define RESOLVE_TRIES 6      /* resolution queries 1, 2, 4... s apart before giving up */
#define TXT_WAIT_TRIES 2     /* report a service without TXT after this many asks */

struct mdns_iface {
    bool in_use;
    uint32_t ifindex;
    size_t n_addrs;
    mdns_ip addrs[MDNS_MAX_ADDRS];
};

struct mdns_link {
    bool in_use;
    uint32_t ifindex;
    uint8_t family;
    int64_t resp_due;        /* pending multicast response on this link */
    int64_t query_due;       /* next continuous browse query */
    uint32_t query_ivl;      /* current back-off interval */
    bool query_first;        /* the next browse query is the first: ask QU */
};

enum grp_state { GS_OFF = 0, GS_PROBING, GS_ANNOUNCING, GS_DONE };

struct grp_link {
    uint8_t state;
    uint8_t step;
    int64_t next;
};

/* A unique name we claim: the host ("h.local") or a service instance. */
struct grp {
    uint32_t id;             /* service id; 0 for the host */
    bool is_host;
    char base[MDNS_LABEL_STR_MAX]; /* label as registered, without a " (n)" suffix */
    unsigned suffix_n;       /* 0: none; else the " (n)" / "-n" suffix */
    char label[MDNS_LABEL_STR_MAX];
    dns_name name;
    dns_name type_name;      /* services: "_x._tcp.local" */
    uint16_t port;
    uint8_t *txt;
    size_t txt_len;
    bool reported;           /* MDNS_EV_REGISTERED sent */
    struct grp_link gl[LINK_MAX];
};

enum own_kind { OWN_ADDR, OWN_NSEC, OWN_SRV, OWN_TXT, OWN_PTR, OWN_ENUM };

/* One of our records, with its per-link multicast state. */
struct own_rr {
    dns_rr rr;               /* TXT data borrows g->txt */
    struct grp *g;
    uint8_t kind;
    bool is_unique;
    uint32_t ifindex;        /* OWN_ADDR and host OWN_NSEC: that interface only */
    uint8_t cand;            /* scratch while answering a query */
    uint32_t mark;           /* scratch: already in the packet being built */
    int64_t last_mc[LINK_MAX];
    bool pending[LINK_MAX];
};

struct cache_rr {
    dns_rr rr;               /* rr.data points at data */
    uint8_t *data;
    int link;
    int64_t created;
    int64_t expire;
    uint32_t ttl;            /* 0: under a goodbye (cache_in_goodbye) */
    uint8_t refresh_step;    /* next refresh at 80 + 5*step % of the TTL */
    int64_t refresh_at;
};

/* A discovered service (browser). */
struct bsvc {
    dns_name name;
    bool reported;
    bool mark;
    int64_t ptr_seen;        /* newest PTR receipt time */
    int64_t resolve_at;
    uint32_t resolve_ivl;
    unsigned resolve_tries;
    struct mdns_service_info snap; /* what was last reported */
    uint8_t *snap_txt;
};

struct ev_node {
    struct ev_node *next;
    struct mdns_event ev;
    uint8_t *txt;
};

struct pkt_node {
    struct pkt_node *next;
    struct mdns_packet p;
    uint8_t data[];
};

struct mdns {
    mdns_rng_fn rng;
    void *rng_user;
    size_t max_packet;
    uint32_t max_query_ivl;
    size_t max_cache;
    wp_err err;
    bool is_shutdown;
    struct mdns_iface ifaces[MDNS_MAX_IFACES];
    struct mdns_link links[LINK_MAX];
    /* responder */
    struct grp *host;        /* NULL without a host label */
    struct grp *svcs[MDNS_MAX_REGISTERED];
    uint32_t next_id;
    struct own_rr **own;
    size_t n_own, cap_own;
    uint32_t mark_gen;
    int64_t conflict_t[15];  /* ring of recent conflict times (§8.1) */
    size_t conflict_i;
    /* browser */
    bool browsing;
    dns_name browse_type;
    struct cache_rr **cache;
    size_t n_cache, cap_cache;
    struct bsvc **bsvcs;
    size_t n_bsvc;
    bool browse_dirty;
    /* queues */
    struct pkt_node *out_head, *out_tail;
    size_t n_out;
    struct ev_node *ev_head, *ev_tail;
    size_t n_ev;
    uint8_t *ev_txt_hold;
    struct mdns_stats stats;
};

enum tx_kind { TX_PROBE, TX_ANNOUNCE, TX_RESPONSE, TX_QUERY, TX_GOODBYE };

/* mdns.c */
uint32_t mdns_rand(mdns *m, uint32_t lo, uint32_t hi); /* uniform in [lo, hi] */
void mdns_emit(mdns *m, int link, const mdns_endpoint *ucast, const uint8_t *data, size_t len,
               enum tx_kind kind);
void mdns_event_push(mdns *m, const struct mdns_event *ev, const uint8_t *txt, size_t txt_len);
const struct mdns_iface *mdns_iface_get(const mdns *m, uint32_t ifindex);
bool mdns_iface_has_family(const struct mdns_iface *ifc, uint8_t family);
static inline int64_t t_min(int64_t a, int64_t b) { return a < b ? a : b; }
/* Milliseconds since t; "forever" for T_LONG_AGO (no overflow). */
static inline int64_t t_since(int64_t now, int64_t t)
{
    return t == T_LONG_AGO ? INT64_MAX : now - t;
}

/* mdns_resp.c */
void resp_own_remove(mdns *m, const struct grp *g);
wp_status resp_build_service(mdns *m, struct grp *g);
wp_status resp_set_name(mdns *m, struct grp *g); /* label = base + " (n)" / "-n" */
int64_t resp_probe_start(mdns *m, int64_t now);   /* now + 0-250 ms, or slowed (§8.1) */
void resp_restart(mdns *m, struct grp *g, int64_t at, int64_t now);
size_t resp_all_grps(const mdns *m, struct grp **out); /* host first, then services */
size_t resp_records(mdns *m, const struct grp *g, int link, bool unique_only,
                    struct own_rr **out, size_t cap, size_t n);
/* "_x._tcp" -> "_x._tcp.local", checking the RFC 6763 §7 form. */
wp_status mdns_type_name(const char *type, dns_name *out, wp_err *err);
wp_status resp_init(mdns *m, const char *host_label, wp_err *err);
void resp_free(mdns *m);
bool own_on_link(const mdns *m, const struct own_rr *o, int link);
bool grp_live(const struct grp *g, int link);
wp_status resp_rebuild_host(mdns *m);
void resp_addrs_removed(mdns *m, uint32_t ifindex, const mdns_ip *gone, size_t n_gone,
                        int64_t now);
void resp_host_changed(mdns *m, uint32_t ifindex, int64_t now);
void resp_link_up(mdns *m, int link, int64_t now);
void resp_link_down(mdns *m, int link);
void resp_tick(mdns *m, int64_t now);
int64_t resp_deadline(const mdns *m);
void resp_probe_in(mdns *m, int link, const uint8_t *pkt, size_t len, int64_t now);
void resp_response_rr(mdns *m, int link, const dns_rr *rr, int64_t now);

/* mdns_answer.c */
void ans_query(mdns *m, int link, const uint8_t *pkt, size_t len, const mdns_endpoint *src,
               bool is_unicast_dst, int64_t now);
void ans_flush(mdns *m, int link, int64_t now);
void ans_dup_suppress(mdns *m, int link, const dns_rr *rr);
/* Send records as unsolicited multicast responses (announce: ttl -1 keeps TTLs; goodbye: 0). */
void ans_send_records(mdns *m, int link, struct own_rr **recs, size_t n, long ttl,
                      enum tx_kind kind, int64_t now);

/* mdns_cache.c */
/*
 * RFC 6762 §10.1: a record received with TTL 0 (a goodbye) is not deleted at
 * once; the cache keeps it as if its TTL were 1 and drops it one second later
 * (expire = arrival + GOODBYE_GRACE; we keep ttl 0 as the marker). A
 * re-announcement within that second refreshes the same entry instead of
 * re-creating it, and such a record is never offered as a known answer
 * (§7.1). The record is still dead for the browser: its view of a service
 * (mdns_browse.c) skips records under a goodbye, so a service whose PTR or
 * SRV (or every address) got a goodbye is REMOVED as soon as the goodbye
 * arrives, and FOUND again if it is re-announced within the second.
 */
static inline bool cache_in_goodbye(const struct cache_rr *e) { return e->ttl == 0; }
void cache_add(mdns *m, int link, const dns_rr *rr, int64_t now);
void cache_expire(mdns *m, int64_t now);
int64_t cache_deadline(const mdns *m);
void cache_link_down(mdns *m, int link);
void cache_free(mdns *m);
/* Index of the next entry at or after from matching (link or -1, name, type), or SIZE_MAX. */
size_t cache_next(const mdns *m, size_t from, int link, const dns_name *name, uint16_t type);
void cache_refresh_done(mdns *m, struct cache_rr *e, int64_t now);

/* mdns_browse.c */
void browse_link_up(mdns *m, int link, int64_t now);
void browse_input(mdns *m, int link, const uint8_t *pkt, size_t len, int64_t now);
void browse_tick(mdns *m, int64_t now);
void browse_update(mdns *m, int64_t now);
int64_t browse_deadline(const mdns *m);
void browse_free(mdns *m);

#endif

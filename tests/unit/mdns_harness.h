/*
 * mdns_harness.h - an in-memory "network" of mDNS engines on a fake clock,
 * shared by test_mdns.c and test_mdns_net.c (header-only: each test file
 * is its own executable).
 *
 * Every node has one interface (ifindex 1 + node index) on one shared
 * link, with an IPv4 address 10.0.0.(1+i) and optionally an IPv6 address
 * fe80::(1+i). Multicast datagrams reach every node of that family,
 * the sender included (IP_MULTICAST_LOOP); unicast ones reach the node
 * owning the address. A fixed-seed PRNG drops a chosen share of datagrams.
 * Every datagram is logged with its send time for the timing tests; the
 * test itself can play a foreign host with net_inject().
 */
#ifndef MDNS_HARNESS_H
#define MDNS_HARNESS_H

#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "dns/mdns.h"
#include "dns/msg.h"
#include "dns/txt.h"

#define NET_NODES 8
#define NET_LOG_MAX 8000
#define NET_EV_MAX 512

struct logged {
    int64_t t;
    int from; /* node index, -1 for net_inject */
    struct mdns_packet p;
    uint8_t data[MDNS_DEFAULT_PACKET];
};

struct node {
    mdns *m;
    uint32_t ifindex;
    mdns_ip ip4, ip6;
    bool has_v6;
    uint64_t rng;
    size_t n_ev;
    struct mdns_event ev[NET_EV_MAX];
    uint8_t ev_txt[NET_EV_MAX][64];
};

struct net {
    struct node nodes[NET_NODES];
    size_t n;
    int64_t now;
    unsigned loss_pct;
    uint64_t loss_rng;
    size_t dropped;
    size_t n_log;
    struct logged *log;
};

static inline uint64_t xs64(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static inline wp_status node_rng(void *user, uint8_t *out, size_t len)
{
    uint64_t *s = user;
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(xs64(s) >> 32);
    return WP_OK;
}

static inline struct net *net_new(void)
{
    struct net *n = calloc(1, sizeof *n);
    assert_non_null(n);
    n->log = calloc(NET_LOG_MAX, sizeof *n->log);
    assert_non_null(n->log);
    n->loss_rng = 0x5eed5eed5eedULL;
    n->now = 1000000;
    return n;
}

/* Add a node; host may be NULL (browser only). max_ivl 0: the engine's default. */
static inline struct node *net_add(struct net *n, const char *host, bool v6, uint32_t max_ivl)
{
    size_t i = n->n++;
    assert_true(i < NET_NODES);
    struct node *nd = &n->nodes[i];
    memset(nd, 0, sizeof *nd);
    nd->rng = 0x9E3779B97F4A7C15ULL * (i + 1);
    nd->ifindex = (uint32_t)(1 + i);
    nd->ip4.family = MDNS_INET;
    memcpy(nd->ip4.addr, "\x0a\x00\x00", 3);
    nd->ip4.addr[3] = (uint8_t)(1 + i);
    nd->ip6.family = MDNS_INET6;
    nd->ip6.addr[0] = 0xfe, nd->ip6.addr[1] = 0x80, nd->ip6.addr[15] = (uint8_t)(1 + i);
    nd->has_v6 = v6;
    struct mdns_config cfg = {.rng = node_rng, .rng_user = &nd->rng, .host_label = host,
                              .max_query_interval_ms = max_ivl};
    wp_err e;
    assert_int_equal(mdns_new(&cfg, n->now, &nd->m, &e), WP_OK);
    mdns_ip addrs[2] = {nd->ip4, nd->ip6};
    assert_int_equal(mdns_iface_set(nd->m, nd->ifindex, addrs, v6 ? 2 : 1, n->now), WP_OK);
    return nd;
}

static inline void net_free(struct net *n)
{
    for (size_t i = 0; i < n->n; i++)
        mdns_free(n->nodes[i].m);
    free(n->log);
    free(n);
}

static inline void net_log(struct net *n, int from, const struct mdns_packet *p)
{
    if (n->n_log >= NET_LOG_MAX)
        return;
    assert_true(p->len <= MDNS_DEFAULT_PACKET);
    struct logged *l = &n->log[n->n_log++];
    l->t = n->now;
    l->from = from;
    l->p = *p;
    memcpy(l->data, p->data, p->len);
    l->p.data = l->data;
}

static inline void node_events(struct node *nd)
{
    struct mdns_event ev;
    while (mdns_next_event(nd->m, &ev) == WP_OK) {
        if (nd->n_ev < NET_EV_MAX) {
            size_t k = nd->n_ev++;
            size_t tl = WP_MIN(ev.info.txt_len, sizeof nd->ev_txt[k]);
            if (tl)
                memcpy(nd->ev_txt[k], ev.info.txt, tl);
            ev.info.txt = nd->ev_txt[k];
            ev.info.txt_len = tl;
            nd->ev[k] = ev;
        }
    }
}

static inline bool ip_match(const mdns_ip *a, const mdns_ip *b)
{
    return a->family == b->family && memcmp(a->addr, b->addr, a->family == MDNS_INET ? 4 : 16) == 0;
}

/* Deliver one datagram sent by node `from` (or injected, from = -1 with src given). */
static inline void net_deliver(struct net *n, int from, const mdns_endpoint *src0,
                               const struct mdns_packet *p)
{
    for (size_t i = 0; i < n->n; i++) {
        struct node *nd = &n->nodes[i];
        uint8_t fam = p->dst.ip.family;
        if (fam == MDNS_INET6 && !nd->has_v6)
            continue;
        if (!p->is_multicast && !ip_match(&p->dst.ip, fam == MDNS_INET ? &nd->ip4 : &nd->ip6))
            continue;
        if (n->loss_pct && xs64(&n->loss_rng) % 100 < n->loss_pct) {
            n->dropped++;
            continue;
        }
        mdns_endpoint src;
        if (src0) {
            src = *src0;
        } else {
            const struct node *s = &n->nodes[from];
            memset(&src, 0, sizeof src);
            src.ip = fam == MDNS_INET ? s->ip4 : s->ip6;
            src.port = MDNS_PORT;
        }
        src.ifindex = nd->ifindex;
        assert_int_equal(mdns_input(nd->m, p->data, p->len, &src, !p->is_multicast, n->now),
                         WP_OK);
    }
}

/* Move every queued datagram until the network is quiet. */
static inline void net_pump(struct net *n)
{
    for (int round = 0; round < 1000; round++) {
        bool any = false;
        for (size_t i = 0; i < n->n; i++) {
            const struct mdns_packet *p;
            while ((p = mdns_output(n->nodes[i].m))) {
                struct mdns_packet copy = *p;
                uint8_t data[MDNS_PACKET_MAX];
                memcpy(data, p->data, p->len);
                copy.data = data;
                mdns_output_done(n->nodes[i].m);
                net_log(n, (int)i, &copy);
                net_deliver(n, (int)i, NULL, &copy);
                any = true;
            }
            node_events(&n->nodes[i]);
        }
        if (!any)
            return;
    }
    fail_msg("network never went quiet");
}

/* Advance the fake clock to t, running every deadline on the way. */
static inline void net_run_until(struct net *n, int64_t t)
{
    net_pump(n);
    for (int steps = 0; steps < 1000000; steps++) {
        int64_t next = -1;
        for (size_t i = 0; i < n->n; i++) {
            int64_t d = mdns_deadline_ms(n->nodes[i].m);
            if (d >= 0 && (next < 0 || d < next))
                next = d;
        }
        if (next < 0 || next > t)
            break;
        if (next > n->now)
            n->now = next;
        for (size_t i = 0; i < n->n; i++) {
            int64_t d = mdns_deadline_ms(n->nodes[i].m);
            if (d >= 0 && d <= n->now)
                assert_int_equal(mdns_tick(n->nodes[i].m, n->now), WP_OK);
        }
        net_pump(n);
    }
    if (t > n->now)
        n->now = t;
}

static inline void net_run_for(struct net *n, int64_t ms)
{
    net_run_until(n, n->now + ms);
}

/* The test plays a foreign host: send a datagram it built from src. */
static inline void net_inject(struct net *n, const uint8_t *data, size_t len,
                              const mdns_endpoint *src, bool is_multicast, const mdns_ip *dst)
{
    struct mdns_packet p;
    memset(&p, 0, sizeof p);
    p.is_multicast = is_multicast;
    p.dst.ip = dst ? *dst : src->ip;
    p.dst.port = MDNS_PORT;
    p.data = data;
    p.len = len;
    net_log(n, -1, &p);
    net_deliver(n, -1, src, &p);
    net_pump(n);
}

static inline mdns_endpoint foreign(uint16_t port)
{
    mdns_endpoint e;
    memset(&e, 0, sizeof e);
    e.ip.family = MDNS_INET;
    memcpy(e.ip.addr, "\x0a\x00\x00\x63", 4); /* 10.0.0.99 */
    e.port = port;
    return e;
}

static inline dns_name nm(const char *s)
{
    dns_name n;
    assert_int_equal(dns_name_from_str(&n, s, NULL), WP_OK);
    return n;
}

/* Count events of a type on a node (optionally with a given instance name). */
static inline size_t count_ev(const struct node *nd, enum mdns_event_type t, const char *name)
{
    size_t c = 0;
    for (size_t i = 0; i < nd->n_ev; i++) {
        const struct mdns_event *e = &nd->ev[i];
        const char *en = (t == MDNS_EV_FOUND || t == MDNS_EV_UPDATED || t == MDNS_EV_REMOVED)
                             ? e->info.name
                             : e->name;
        if (e->type == t && (!name || strcmp(en, name) == 0))
            c++;
    }
    return c;
}

/* The newest event of a type; fails the test if there is none (never NULL). */
static inline const struct mdns_event *last_ev(const struct node *nd, enum mdns_event_type t)
{
    for (size_t i = nd->n_ev; i-- > 0;) {
        if (nd->ev[i].type == t)
            return &nd->ev[i];
    }
    fail_msg("no event of type %d", (int)t);
    return &nd->ev[0];
}

/* A registered wipeer service with v=1 and a fingerprint. */
static inline uint32_t add_service(struct node *nd, const char *instance, uint16_t port,
                                   int64_t now)
{
    uint8_t txt[64];
    wp_wbuf w;
    uint32_t id = 0;
    wbuf_init(&w, txt, sizeof txt);
    assert_int_equal(txt_add_str(&w, "v", "1", NULL), WP_OK);
    assert_int_equal(txt_add_str(&w, "fp", "A3F2-B1C4-D5E6-F8A9", NULL), WP_OK);
    struct mdns_service_desc d = {.instance = instance, .port = port, .txt = txt,
                                  .txt_len = w.len};
    assert_int_equal(mdns_service_add(nd->m, &d, now, &id), WP_OK);
    return id;
}

#define T_PTR "_wipeerkit._tcp.local"
#define T_INST "Dev._wipeerkit._tcp.local"

/* ------------------------------------------------------------ packet helpers */

static inline dns_reader rd_of(const struct logged *l)
{
    dns_reader rd;
    assert_int_equal(dns_reader_init(&rd, l->p.data, l->p.len, NULL), WP_OK);
    return rd;
}

static inline bool is_resp(const struct logged *l)
{
    dns_reader rd = rd_of(l);
    return (rd.hdr.flags & DNS_FLAG_QR) != 0;
}

static inline bool is_probe(const struct logged *l)
{
    dns_reader rd = rd_of(l);
    return !(rd.hdr.flags & DNS_FLAG_QR) && rd.hdr.count[DNS_SEC_AUTHORITY] > 0;
}

/* Find a record by section (or -1 any), name and type. */
static inline bool find_rr(const struct logged *l, int sec, const char *name, uint16_t type, dns_rr *out)
{
    dns_reader rd = rd_of(l);
    dns_name n = nm(name);
    enum dns_section s;
    dns_rr rr;
    if (out)
        memset(out, 0, sizeof *out);
    while (dns_reader_rr(&rd, &rr, &s, NULL) == WP_OK) {
        if ((sec < 0 || (int)s == sec) && rr.type == type && dns_name_eq(&rr.name, &n)) {
            if (out)
                *out = rr;
            return true;
        }
    }
    return false;
}

static inline bool find_q(const struct logged *l, const char *name, uint16_t type, bool *qu)
{
    dns_reader rd = rd_of(l);
    dns_name n = nm(name);
    dns_question q;
    while (dns_reader_question(&rd, &q, NULL) == WP_OK) {
        if (q.type == type && dns_name_eq(&q.name, &n)) {
            if (qu)
                *qu = q.is_qu;
            return true;
        }
    }
    return false;
}

/* Indices of the packets sent by node `from` since log index `since`. */
static inline size_t sent_by(const struct net *n, int from, size_t since, size_t *idx, size_t cap)
{
    size_t k = 0;
    for (size_t i = since; i < n->n_log && k < cap; i++) {
        if (n->log[i].from == from)
            idx[k++] = i;
    }
    return k;
}

/* A query for (name, type), optional known answers; returns its length. */
static inline size_t mk_query(uint8_t *buf, size_t cap, uint16_t id, const char *name, uint16_t type,
                       bool qu, const dns_rr *ka, size_t n_ka)
{
    dns_writer wr;
    dns_writer_init(&wr, buf, cap, id, 0);
    if (name) {
        dns_question q = {.name = nm(name), .type = type, .qclass = DNS_CLASS_IN, .is_qu = qu};
        assert_int_equal(dns_writer_question(&wr, &q), WP_OK);
    }
    for (size_t i = 0; i < n_ka; i++)
        assert_int_equal(dns_writer_rr(&wr, DNS_SEC_ANSWER, &ka[i]), WP_OK);
    return dns_writer_len(&wr);
}

static inline dns_rr rr_ptr(const char *name, const char *target, uint32_t ttl)
{
    dns_rr rr;
    memset(&rr, 0, sizeof rr);
    rr.name = nm(name);
    rr.type = DNS_TYPE_PTR;
    rr.rrclass = DNS_CLASS_IN;
    rr.ttl = ttl;
    rr.rd.ptr = nm(target);
    return rr;
}

static inline dns_rr rr_srv(const char *name, const char *target, uint16_t port, uint32_t ttl)
{
    dns_rr rr;
    memset(&rr, 0, sizeof rr);
    rr.name = nm(name);
    rr.type = DNS_TYPE_SRV;
    rr.rrclass = DNS_CLASS_IN;
    rr.cache_flush = true;
    rr.ttl = ttl;
    rr.rd.srv.port = port;
    rr.rd.srv.target = nm(target);
    return rr;
}

static inline dns_rr rr_a(const char *name, uint8_t last, uint32_t ttl)
{
    dns_rr rr;
    memset(&rr, 0, sizeof rr);
    rr.name = nm(name);
    rr.type = DNS_TYPE_A;
    rr.rrclass = DNS_CLASS_IN;
    rr.cache_flush = true;
    rr.ttl = ttl;
    memcpy(rr.rd.a, "\x0a\x00\x00", 3);
    rr.rd.a[3] = last;
    return rr;
}

static inline dns_rr rr_txt(const char *name, const void *data, uint16_t len, uint32_t ttl)
{
    dns_rr rr;
    memset(&rr, 0, sizeof rr);
    rr.name = nm(name);
    rr.type = DNS_TYPE_TXT;
    rr.rrclass = DNS_CLASS_IN;
    rr.cache_flush = true;
    rr.ttl = ttl;
    rr.data = data;
    rr.data_len = len;
    return rr;
}

static inline size_t mk_response(uint8_t *buf, size_t cap, const dns_rr *rr, size_t n)
{
    dns_writer wr;
    dns_writer_init(&wr, buf, cap, 0, DNS_FLAG_QR | DNS_FLAG_AA);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(dns_writer_rr(&wr, DNS_SEC_ANSWER, &rr[i]), WP_OK);
    return dns_writer_len(&wr);
}

/* Debugging aid: print the datagram log (set MDNS_TEST_DUMP=1). */
static inline void net_dump(const struct net *n)
{
    if (!getenv("MDNS_TEST_DUMP"))
        return;
    for (size_t i = 0; i < n->n_log; i++) {
        const struct logged *l = &n->log[i];
        dns_reader rd;
        dns_question q;
        dns_rr rr;
        enum dns_section sec;
        char name[DNS_NAME_STR_MAX];
        if (dns_reader_init(&rd, l->p.data, l->p.len, NULL) != WP_OK)
            continue;
        printf("%8lld from %d %s %s%s:", (long long)l->t, l->from,
               (rd.hdr.flags & DNS_FLAG_QR) ? "resp" : "query", l->p.is_multicast ? "mc" : "uc",
               l->p.dst.ip.family == MDNS_INET6 ? "6" : "4");
        while (dns_reader_question(&rd, &q, NULL) == WP_OK) {
            dns_name_to_str(&q.name, name, sizeof name);
            printf(" Q(%s %u%s)", name, q.type, q.is_qu ? " QU" : "");
        }
        while (dns_reader_rr(&rd, &rr, &sec, NULL) == WP_OK) {
            dns_name_to_str(&rr.name, name, sizeof name);
            printf(" %c(%s %u ttl %u)", "QANX"[sec], name, rr.type, rr.ttl);
        }
        printf("\n");
    }
}

#endif

/*
 * mdns_answer.c - answering queries (RFC 6762 §6) and building responses.
 *
 * Multicast answers are marked pending on the link and sent together when
 * the link's response is due (aggregation, §6.4): at once when only unique
 * records answer, after 20-120 ms when a shared record (PTR) does, after
 * 400-500 ms when the query announced more known answers (TC). QU questions
 * (§5.4) and direct unicast queries (§5.5) get a unicast reply unless the
 * record was not multicast for a quarter of its TTL; legacy queries from a
 * port other than 5353 get a classic unicast DNS reply (§6.7). Answers the
 * querier already knows are suppressed (§7.1), and so are answers another
 * responder just multicast (§7.4). Additional records follow RFC 6763 §12
 * and RFC 6762 §6.2 (the other address family, or an NSEC denying it).
 */
#include "internal.h"
#include "dns/mdns_int.h"

#define CAND_MC 1u
#define CAND_QU 2u
#define LEGACY_PACKET 512 /* classic DNS over UDP without EDNS0 */

struct rsp {
    int link;
    const mdns_endpoint *ucast; /* NULL: multicast to the group */
    bool legacy;
    uint16_t id;
    const uint8_t *query;       /* legacy: questions echoed from here */
    size_t query_len;
    long ttl;                   /* -1: the records' own; 0: goodbye */
    enum tx_kind kind;
    int64_t now;
};

static bool in_packet(const mdns *m, const struct own_rr *o)
{
    if (o->mark == m->mark_gen)
        return true;
    for (size_t k = 0; k < m->n_own; k++) {
        const struct own_rr *x = m->own[k];
        if (x->mark == m->mark_gen && dns_rr_same_key(&x->rr, &o->rr) &&
            dns_rr_same_data(&x->rr, &o->rr))
            return true;
    }
    return false;
}

static dns_rr prep(const struct rsp *r, const struct own_rr *o)
{
    dns_rr rr = o->rr;
    if (r->ttl >= 0)
        rr.ttl = (uint32_t)r->ttl;
    if (r->legacy) {
        rr.ttl = WP_MIN(rr.ttl, (uint32_t)LEGACY_TTL_MAX);
        rr.cache_flush = false; /* §10.2 */
    }
    return rr;
}

/* Host address records (and NSEC when a family is missing) for link. */
static size_t host_addrs(mdns *m, int link, struct own_rr **out, size_t cap, size_t n)
{
    if (!m->host || !grp_live(m->host, link))
        return n;
    const struct mdns_iface *ifc = mdns_iface_get(m, m->links[link].ifindex);
    bool both = mdns_iface_has_family(ifc, MDNS_INET) && mdns_iface_has_family(ifc, MDNS_INET6);
    for (size_t k = 0; k < m->n_own && n < cap; k++) {
        struct own_rr *o = m->own[k];
        if (o->g == m->host && own_on_link(m, o, link) && (o->kind == OWN_ADDR || !both))
            out[n++] = o;
    }
    return n;
}

/* RFC 6763 §12 and RFC 6762 §6.2. */
static size_t additionals(mdns *m, int link, const struct own_rr *a, struct own_rr **out,
                          size_t cap)
{
    size_t n = 0;
    switch (a->kind) {
    case OWN_PTR:
        for (size_t k = 0; k < m->n_own && n < cap; k++) {
            struct own_rr *o = m->own[k];
            if (o->g == a->g && (o->kind == OWN_SRV || o->kind == OWN_TXT) &&
                grp_live(o->g, link))
                out[n++] = o;
        }
        return host_addrs(m, link, out, cap, n);
    case OWN_SRV:
    case OWN_ADDR:
        return host_addrs(m, link, out, cap, n);
    default:
        return 0;
    }
}

static void write_legacy_questions(const struct rsp *r, dns_writer *wr)
{
    dns_reader rd;
    dns_question q;
    if (dns_reader_init(&rd, r->query, r->query_len, NULL) != WP_OK)
        return;
    while (dns_reader_question(&rd, &q, NULL) == WP_OK) {
        if (dns_writer_question(wr, &q) != WP_OK)
            return;
    }
}

/* Emit one or more response datagrams carrying ans[0..n) plus additional records. */
static void emit_response(mdns *m, const struct rsp *r, struct own_rr **ans, size_t n)
{
    uint8_t buf[MDNS_PACKET_MAX];
    struct own_rr *add[64];
    size_t cap = r->legacy ? LEGACY_PACKET : m->max_packet;
    size_t i = 0;
    while (i < n) {
        dns_writer wr;
        uint16_t flags = DNS_FLAG_QR | DNS_FLAG_AA;
        m->mark_gen++;
        dns_writer_init(&wr, buf, cap, r->legacy ? r->id : 0, flags);
        if (r->legacy)
            write_legacy_questions(r, &wr);
        size_t first = i;
        while (i < n) {
            if (in_packet(m, ans[i])) {
                i++;
                continue;
            }
            dns_rr rr = prep(r, ans[i]);
            if (dns_writer_rr(&wr, DNS_SEC_ANSWER, &rr) != WP_OK)
                break;
            ans[i++]->mark = m->mark_gen;
        }
        if (i == first) {
            (void)err_set(&m->err, WP_ETOOBIG, "mdns: a record does not fit a datagram");
            i++;
            continue;
        }
        if (r->legacy && i < n) {
            dns_writer_set_flags(&wr, flags | DNS_FLAG_TC);
            i = n;
        }
        for (size_t k = first; r->ttl != 0 && k < i; k++) {
            size_t na = additionals(m, r->link, ans[k], add, WP_ARRAY_LEN(add));
            for (size_t j = 0; j < na; j++) {
                if (in_packet(m, add[j]))
                    continue;
                dns_rr rr = prep(r, add[j]);
                if (dns_writer_rr(&wr, DNS_SEC_ADDITIONAL, &rr) == WP_OK)
                    add[j]->mark = m->mark_gen;
            }
        }
        if (dns_writer_count(&wr, DNS_SEC_ANSWER) == 0)
            continue;
        mdns_emit(m, r->link, r->ucast, buf, dns_writer_len(&wr), r->kind);
        for (size_t k = 0; !r->ucast && k < m->n_own; k++) {
            struct own_rr *o = m->own[k];
            if (o->mark == m->mark_gen) {
                o->last_mc[r->link] = r->now;
                o->pending[r->link] = false;
            }
        }
    }
}

void ans_send_records(mdns *m, int link, struct own_rr **recs, size_t n, long ttl,
                      enum tx_kind kind, int64_t now)
{
    struct rsp r = {.link = link, .ttl = ttl, .kind = kind, .now = now};
    emit_response(m, &r, recs, n);
}

void ans_flush(mdns *m, int link, int64_t now)
{
    struct own_rr **recs = NULL;
    size_t n = 0;
    m->links[link].resp_due = T_NEVER;
    for (size_t k = 0; k < m->n_own; k++)
        n += m->own[k]->pending[link];
    if (!n)
        return;
    if (!(recs = wp_calloc(n, sizeof *recs))) {
        (void)err_set(&m->err, WP_ENOMEM, "mdns: out of memory");
        return;
    }
    n = 0;
    for (size_t k = 0; k < m->n_own; k++) {
        if (m->own[k]->pending[link])
            recs[n++] = m->own[k];
    }
    struct rsp r = {.link = link, .ttl = -1, .kind = TX_RESPONSE, .now = now};
    emit_response(m, &r, recs, n);
    wp_free(recs);
}

/* Mark our records answering q on link; a unique name we own with no such type gets its NSEC. */
static void mark_answers(mdns *m, int link, const dns_question *q, uint8_t how)
{
    struct own_rr *nsec = NULL;
    bool any = false;
    for (size_t k = 0; k < m->n_own; k++) {
        struct own_rr *o = m->own[k];
        if (!own_on_link(m, o, link) || !grp_live(o->g, link) ||
            !dns_name_eq(&o->rr.name, &q->name))
            continue;
        if (o->kind == OWN_NSEC) {
            nsec = o;
            if (q->type != DNS_TYPE_NSEC)
                continue;
        } else if (q->type != DNS_TYPE_ANY && q->type != o->rr.type) {
            continue;
        }
        o->cand |= how;
        any = true;
    }
    if (!any && nsec && q->type != DNS_TYPE_ANY)
        nsec->cand |= how; /* §6.1 negative response */
}

static bool known(const struct own_rr *o, const dns_rr *rr)
{
    /* §7.1: suppress only when the querier's copy has at least half our TTL left. */
    return rr->ttl >= o->rr.ttl / 2 && dns_rr_same_key(&o->rr, rr) &&
           dns_rr_same_data(&o->rr, rr);
}

void ans_dup_suppress(mdns *m, int link, const dns_rr *rr)
{
    for (size_t k = 0; k < m->n_own; k++) {
        struct own_rr *o = m->own[k];
        if (o->pending[link] && known(o, rr))
            o->pending[link] = false;
    }
}

void ans_query(mdns *m, int link, const uint8_t *pkt, size_t len, const mdns_endpoint *src,
               bool is_unicast_dst, int64_t now)
{
    dns_reader rd;
    dns_question q;
    dns_rr rr;
    enum dns_section sec;
    struct own_rr **uc = NULL;
    bool legacy = src->port != MDNS_PORT;
    size_t nq = 0, nu = 0;
    if (dns_reader_init(&rd, pkt, len, NULL) != WP_OK)
        return;
    bool is_probe = rd.hdr.count[DNS_SEC_AUTHORITY] > 0;
    bool tc = (rd.hdr.flags & DNS_FLAG_TC) != 0;
    uint16_t id = rd.hdr.id;
    for (size_t k = 0; k < m->n_own; k++)
        m->own[k]->cand = 0;
    while (dns_reader_question(&rd, &q, NULL) == WP_OK) {
        nq++;
        if (q.qclass == DNS_CLASS_IN || q.qclass == DNS_CLASS_ANY)
            mark_answers(m, link, &q, q.is_qu ? CAND_QU : CAND_MC);
    }
    while (dns_reader_rr(&rd, &rr, &sec, NULL) == WP_OK) {
        if (sec != DNS_SEC_ANSWER || legacy)
            continue;
        for (size_t k = 0; k < m->n_own; k++) {
            struct own_rr *o = m->own[k];
            if (!known(o, &rr))
                continue;
            o->cand = 0;
            if (nq == 0)
                o->pending[link] = false; /* §7.2: known answers continued from a TC query */
        }
    }
    if (nq == 0 || !m->n_own)
        return;
    if (!(uc = wp_calloc(m->n_own, sizeof *uc))) {
        (void)err_set(&m->err, WP_ENOMEM, "mdns: out of memory");
        return;
    }
    bool any_mc = false, shared = false;
    for (size_t k = 0; k < m->n_own; k++) {
        struct own_rr *o = m->own[k];
        if (!o->cand)
            continue;
        bool fresh = t_since(now, o->last_mc[link]) < (int64_t)o->rr.ttl * 1000 / 4;
        if (legacy || is_unicast_dst || ((o->cand & CAND_QU) && !(o->cand & CAND_MC) && fresh)) {
            uc[nu++] = o;
            continue;
        }
        /* §6: at most once a second per record and link (250 ms to defend against a probe). */
        if (t_since(now, o->last_mc[link]) < (is_probe ? RATE_LIMIT_PROBE : RATE_LIMIT))
            continue;
        o->pending[link] = true;
        any_mc = true;
        shared |= !o->is_unique;
    }
    if (any_mc) {
        uint32_t delay = tc       ? mdns_rand(m, TC_DELAY_MIN, TC_DELAY_MAX)
                         : shared ? mdns_rand(m, SHARED_DELAY_MIN, SHARED_DELAY_MAX)
                                  : 0;
        m->links[link].resp_due = t_min(m->links[link].resp_due, now + delay);
    }
    if (nu) {
        mdns_endpoint dst = *src;
        struct rsp r = {.link = link, .ucast = &dst, .legacy = legacy, .id = id,
                        .query = pkt, .query_len = len, .ttl = -1, .kind = TX_RESPONSE,
                        .now = now};
        emit_response(m, &r, uc, nu);
    }
    wp_free(uc);
}

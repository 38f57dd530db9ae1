/*
 * mdns_browse.c - the browser (RFC 6762 §5.2, RFC 6763 §4-§6).
 *
 * Continuous PTR queries for "<type>.local" on every link: the first after
 * 20-120 ms (with the QU bit, §5.4), then 1 s, 2 s, 4 s... capped at
 * max_query_interval_ms, each carrying the known answers that still have
 * half their TTL (§7.1; TC and continuation packets when they do not fit,
 * §7.2). Cached records we still care about are re-asked at 80-95 % of
 * their TTL. Each instance is resolved (SRV, TXT, then A/AAAA of the SRV
 * target) from the additional records of responses, or by querying for
 * what is missing at 1, 2, 4... s, RESOLVE_TRIES times.
 *
 * The browser's view is derived from the cache after every change, so
 * FOUND / UPDATED / REMOVED follow TTL expiry, goodbyes and cache-flush
 * without separate bookkeeping. The view skips records under a goodbye:
 * the cache keeps a TTL 0 record for one more second (RFC 6762 §10.1, see
 * cache_in_goodbye), but the service it described is gone now, so a
 * goodbye for its PTR or SRV reports REMOVED at once rather than a second
 * later, and a re-announcement within that second reports FOUND again. A service is FOUND once it has an SRV, an
 * address and a TXT (or after TXT_WAIT_TRIES unanswered TXT queries, or an
 * NSEC denying TXT: an old peer publishing no TXT is still shown, as not
 * connectable).
 */
#include "internal.h"
#include "dns/mdns_int.h"

#include <stdio.h>

#define QS_MAX 64

struct qset {
    size_t n;
    struct {
        dns_name name;
        uint16_t type;
        bool is_qu;
    } q[QS_MAX];
};

static void qs_add(struct qset *qs, const dns_name *name, uint16_t type, bool is_qu)
{
    for (size_t i = 0; i < qs->n; i++) {
        if (qs->q[i].type == type && dns_name_eq(&qs->q[i].name, name))
            return;
    }
    if (qs->n < QS_MAX) {
        qs->q[qs->n].name = *name;
        qs->q[qs->n].type = type;
        qs->q[qs->n].is_qu = is_qu;
        qs->n++;
    }
}

/* cache_next, skipping records under a goodbye (§10.1: still cached, no longer live). */
static size_t live_next(const mdns *m, size_t from, int link, const dns_name *name,
                        uint16_t type)
{
    size_t at = from;
    while ((at = cache_next(m, at, link, name, type)) != SIZE_MAX &&
           cache_in_goodbye(m->cache[at]))
        at++;
    return at;
}

static bool is_instance(const mdns *m, const dns_name *n)
{
    dns_name parent;
    return dns_name_parent(n, &parent) && dns_name_eq(&parent, &m->browse_type);
}

static struct bsvc *bsvc_find(const mdns *m, const dns_name *name)
{
    for (size_t i = 0; i < m->n_bsvc; i++) {
        if (dns_name_eq(&m->bsvcs[i]->name, name))
            return m->bsvcs[i];
    }
    return NULL;
}

/* The SRV of a tracked service whose target is name? Records under a goodbye
 * count: a re-announcement within its second brings the addresses along. */
static bool is_target(const mdns *m, const dns_name *name)
{
    for (size_t i = 0; i < m->n_cache; i++) {
        const struct cache_rr *e = m->cache[i];
        if (e->rr.type == DNS_TYPE_SRV && dns_name_eq(&e->rr.rd.srv.target, name))
            return true;
    }
    return false;
}

/* see mdns.h */
wp_status mdns_browse_start(mdns *m, const char *type, int64_t now_ms)
{
    if (WP_MISUSE(!m || !type))
        return WP_EINVAL;
    if (m->browsing || m->is_shutdown)
        return err_set(&m->err, WP_ESTATE, "mdns: already browsing, or shut down");
    wp_status rc = mdns_type_name(type, &m->browse_type, &m->err);
    if (rc != WP_OK)
        return rc;
    m->browsing = true;
    for (int l = 0; l < LINK_MAX; l++) {
        if (m->links[l].in_use)
            browse_link_up(m, l, now_ms);
    }
    return WP_OK;
}

void browse_free(mdns *m)
{
    for (size_t i = 0; i < m->n_bsvc; i++) {
        wp_free(m->bsvcs[i]->snap_txt);
        wp_free(m->bsvcs[i]);
    }
    wp_free(m->bsvcs);
    m->bsvcs = NULL;
    m->n_bsvc = 0;
}

/* see mdns.h */
void mdns_browse_stop(mdns *m)
{
    if (!m)
        return;
    m->browsing = false;
    browse_free(m);
    cache_free(m);
    for (int l = 0; l < LINK_MAX; l++)
        m->links[l].query_due = T_NEVER;
}

void browse_link_up(mdns *m, int link, int64_t now)
{
    struct mdns_link *l = &m->links[link];
    if (!m->browsing)
        return;
    l->query_due = now + mdns_rand(m, QUERY_FIRST_MIN, QUERY_FIRST_MAX);
    l->query_ivl = 1000;
    l->query_first = true;
}

void browse_input(mdns *m, int link, const uint8_t *pkt, size_t len, int64_t now)
{
    dns_reader rd;
    dns_rr rr;
    enum dns_section sec;
    /* Pass 1: the PTRs of the browsed type and what is below its instances. */
    if (dns_reader_init(&rd, pkt, len, NULL) != WP_OK)
        return;
    while (dns_reader_rr(&rd, &rr, &sec, NULL) == WP_OK) {
        if (sec == DNS_SEC_AUTHORITY || rr.rrclass != DNS_CLASS_IN)
            continue;
        if (rr.type == DNS_TYPE_PTR && dns_name_eq(&rr.name, &m->browse_type)) {
            if (is_instance(m, &rr.rd.ptr))
                cache_add(m, link, &rr, now);
        } else if ((rr.type == DNS_TYPE_SRV || rr.type == DNS_TYPE_TXT ||
                    rr.type == DNS_TYPE_NSEC) &&
                   is_instance(m, &rr.name)) {
            cache_add(m, link, &rr, now);
        }
    }
    /* Pass 2: addresses of SRV targets (whatever their order in the packet). */
    if (dns_reader_init(&rd, pkt, len, NULL) != WP_OK)
        return;
    while (dns_reader_rr(&rd, &rr, &sec, NULL) == WP_OK) {
        if (sec != DNS_SEC_AUTHORITY && rr.rrclass == DNS_CLASS_IN &&
            (rr.type == DNS_TYPE_A || rr.type == DNS_TYPE_AAAA) && is_target(m, &rr.name))
            cache_add(m, link, &rr, now);
    }
}

/* ------------------------------------------------------------ queries */

static void emit_query(mdns *m, int link, dns_writer *wr, uint8_t *buf)
{
    if (dns_writer_count(wr, DNS_SEC_QUESTION) || dns_writer_count(wr, DNS_SEC_ANSWER))
        mdns_emit(m, link, NULL, buf, dns_writer_len(wr), TX_QUERY);
}

/* Questions with their known answers; TC and continuation packets as needed (§7.2). */
static void send_query(mdns *m, int link, const struct qset *qs, int64_t now)
{
    uint8_t buf[MDNS_PACKET_MAX];
    dns_writer wr;
    size_t i = 0;
    while (i < qs->n) {
        size_t first = i;
        dns_writer_init(&wr, buf, m->max_packet, 0, 0);
        for (; i < qs->n; i++) {
            dns_question q = {.name = qs->q[i].name, .type = qs->q[i].type,
                              .qclass = DNS_CLASS_IN, .is_qu = qs->q[i].is_qu};
            if (dns_writer_question(&wr, &q) != WP_OK)
                break;
        }
        if (i == first)
            return;
        for (size_t k = first; k < i; k++) {
            size_t at = 0;
            while ((at = cache_next(m, at, link, &qs->q[k].name, qs->q[k].type)) != SIZE_MAX) {
                const struct cache_rr *e = m->cache[at++];
                int64_t left = e->expire - now;
                if (cache_in_goodbye(e) || left < (int64_t)e->ttl * 1000 / 2)
                    continue; /* §7.1: only answers with half their TTL left */
                dns_rr rr = e->rr;
                rr.ttl = (uint32_t)(left / 1000);
                rr.cache_flush = false;
                if (dns_writer_rr(&wr, DNS_SEC_ANSWER, &rr) == WP_OK)
                    continue;
                dns_writer_set_flags(&wr, DNS_FLAG_TC);
                emit_query(m, link, &wr, buf);
                dns_writer_init(&wr, buf, m->max_packet, 0, 0);
                if (dns_writer_rr(&wr, DNS_SEC_ANSWER, &rr) != WP_OK)
                    break;
            }
        }
        emit_query(m, link, &wr, buf);
    }
}

static bool refresh_wanted(const mdns *m, const struct cache_rr *e)
{
    switch (e->rr.type) {
    case DNS_TYPE_PTR:
        return dns_name_eq(&e->rr.name, &m->browse_type);
    case DNS_TYPE_SRV:
    case DNS_TYPE_TXT:
        return bsvc_find(m, &e->rr.name) != NULL;
    case DNS_TYPE_A:
    case DNS_TYPE_AAAA:
        return is_target(m, &e->rr.name);
    default:
        return false;
    }
}

static bool have(const mdns *m, const dns_name *name, uint16_t type)
{
    return live_next(m, 0, -1, name, type) != SIZE_MAX;
}

static bool txt_denied(const mdns *m, const dns_name *name)
{
    size_t at = 0;
    while ((at = live_next(m, at, -1, name, DNS_TYPE_NSEC)) != SIZE_MAX) {
        if (!dns_nsec_has(&m->cache[at++]->rr, DNS_TYPE_TXT))
            return true;
    }
    return false;
}

static void resolve_questions(const mdns *m, const struct bsvc *s, struct qset *qs)
{
    size_t at = live_next(m, 0, -1, &s->name, DNS_TYPE_SRV);
    if (at == SIZE_MAX)
        qs_add(qs, &s->name, DNS_TYPE_SRV, false);
    if (!have(m, &s->name, DNS_TYPE_TXT) && !txt_denied(m, &s->name))
        qs_add(qs, &s->name, DNS_TYPE_TXT, false);
    if (at != SIZE_MAX) {
        const dns_name *t = &m->cache[at]->rr.rd.srv.target;
        if (!have(m, t, DNS_TYPE_A) && !have(m, t, DNS_TYPE_AAAA)) {
            qs_add(qs, t, DNS_TYPE_A, false);
            qs_add(qs, t, DNS_TYPE_AAAA, false);
        }
    }
}

void browse_tick(mdns *m, int64_t now)
{
    struct qset *qs;
    if (!m->browsing)
        return;
    if (!(qs = wp_malloc(sizeof *qs))) {
        (void)err_set(&m->err, WP_ENOMEM, "mdns: out of memory");
        return;
    }
    for (int l = 0; l < LINK_MAX; l++) {
        struct mdns_link *lk = &m->links[l];
        if (!lk->in_use)
            continue;
        qs->n = 0;
        if (lk->query_due <= now) {
            qs_add(qs, &m->browse_type, DNS_TYPE_PTR, lk->query_first);
            lk->query_first = false;
            lk->query_due = now + lk->query_ivl;
            lk->query_ivl = (uint32_t)WP_MIN((uint64_t)lk->query_ivl * 2, m->max_query_ivl);
        }
        for (size_t i = 0; i < m->n_cache; i++) {
            struct cache_rr *e = m->cache[i];
            if (e->link != l || e->refresh_at > now)
                continue;
            if (refresh_wanted(m, e))
                qs_add(qs, &e->rr.name, e->rr.type, false);
            cache_refresh_done(m, e, now);
        }
        for (size_t i = 0; i < m->n_bsvc; i++) {
            if (m->bsvcs[i]->resolve_at <= now)
                resolve_questions(m, m->bsvcs[i], qs);
        }
        if (qs->n)
            send_query(m, l, qs, now);
    }
    for (size_t i = 0; i < m->n_bsvc; i++) {
        struct bsvc *s = m->bsvcs[i];
        if (s->resolve_at > now)
            continue;
        s->resolve_tries++;
        s->resolve_at = s->resolve_tries >= RESOLVE_TRIES ? T_NEVER : now + s->resolve_ivl;
        s->resolve_ivl *= 2;
        m->browse_dirty = true;
    }
    wp_free(qs);
}

int64_t browse_deadline(const mdns *m)
{
    int64_t t = T_NEVER;
    if (!m->browsing)
        return t;
    for (int l = 0; l < LINK_MAX; l++) {
        if (m->links[l].in_use)
            t = t_min(t, m->links[l].query_due);
    }
    for (size_t i = 0; i < m->n_bsvc; i++)
        t = t_min(t, m->bsvcs[i]->resolve_at);
    return t;
}

/* ------------------------------------------------------------ events */

static bool ep_in(const mdns_endpoint *ep, const mdns_endpoint *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (list[i].ifindex == ep->ifindex && list[i].ip.family == ep->ip.family &&
            memcmp(list[i].ip.addr, ep->ip.addr, 16) == 0)
            return true;
    }
    return false;
}

/* The most recently received live record of (name, type) on any link, or SIZE_MAX. */
static size_t newest(const mdns *m, const dns_name *name, uint16_t type)
{
    size_t best = SIZE_MAX, at = 0;
    while ((at = live_next(m, at, -1, name, type)) != SIZE_MAX) {
        if (best == SIZE_MAX || m->cache[at]->created > m->cache[best]->created)
            best = at;
        at++;
    }
    return best;
}

/* The service as the live records of the cache describe it now (records under a
 * goodbye are left out); false if it has no SRV. */
static bool view(const mdns *m, const struct bsvc *s, struct mdns_service_info *v)
{
    const uint8_t *label;
    size_t label_len, at;
    memset(v, 0, sizeof *v);
    if (dns_name_first_label(&s->name, &label, &label_len)) {
        memcpy(v->name, label, label_len);
        v->name_len = label_len;
    }
    if ((at = newest(m, &s->name, DNS_TYPE_TXT)) != SIZE_MAX) {
        v->has_txt = true;
        v->txt = m->cache[at]->rr.data;
        v->txt_len = m->cache[at]->rr.data_len;
        txt_wipeer_info ti;
        txt_wipeer_parse(v->txt, v->txt_len, &ti);
        v->version = ti.version;
        v->has_fp = ti.has_fp;
        memcpy(v->fp, ti.fp, sizeof v->fp);
        v->is_connectable = ti.is_connectable;
    }
    if ((at = newest(m, &s->name, DNS_TYPE_SRV)) == SIZE_MAX)
        return false;
    const dns_rr *srv = &m->cache[at]->rr;
    v->port = srv->rd.srv.port;
    dns_name_to_str(&srv->rd.srv.target, v->host, sizeof v->host);
    for (size_t i = 0; i < m->n_cache && v->n_addrs < MDNS_MAX_ADDRS; i++) {
        const struct cache_rr *e = m->cache[i];
        if ((e->rr.type != DNS_TYPE_A && e->rr.type != DNS_TYPE_AAAA) || cache_in_goodbye(e) ||
            !dns_name_eq(&e->rr.name, &srv->rd.srv.target))
            continue;
        mdns_endpoint ep;
        memset(&ep, 0, sizeof ep);
        ep.ip.family = e->rr.type == DNS_TYPE_A ? MDNS_INET : MDNS_INET6;
        memcpy(ep.ip.addr, e->rr.type == DNS_TYPE_A ? e->rr.rd.a : e->rr.rd.aaaa,
               e->rr.type == DNS_TYPE_A ? 4 : 16);
        ep.port = v->port;
        ep.ifindex = m->links[e->link].ifindex;
        if (!ep_in(&ep, v->addrs, v->n_addrs))
            v->addrs[v->n_addrs++] = ep;
    }
    return true;
}

static bool same_view(const struct mdns_service_info *a, const struct mdns_service_info *b)
{
    if (a->port != b->port || strcmp(a->host, b->host) != 0 || a->n_addrs != b->n_addrs ||
        a->has_txt != b->has_txt || a->txt_len != b->txt_len ||
        (a->txt_len && memcmp(a->txt, b->txt, a->txt_len) != 0))
        return false;
    for (size_t i = 0; i < a->n_addrs; i++) {
        if (!ep_in(&a->addrs[i], b->addrs, b->n_addrs))
            return false;
    }
    return true;
}

static void report(mdns *m, struct bsvc *s, enum mdns_event_type type,
                   const struct mdns_service_info *v)
{
    struct mdns_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    ev.info = *v;
    mdns_event_push(m, &ev, v->txt, v->txt_len);
    if (type == MDNS_EV_REMOVED) {
        s->reported = false;
        return;
    }
    uint8_t *copy = v->txt_len ? wp_malloc(v->txt_len) : NULL;
    if (v->txt_len && copy)
        memcpy(copy, v->txt, v->txt_len);
    wp_free(s->snap_txt);
    s->snap_txt = copy;
    s->snap = *v;
    s->snap.txt = copy;
    s->snap.txt_len = copy ? v->txt_len : 0;
    s->reported = true;
}

static struct bsvc *bsvc_add(mdns *m, const dns_name *name)
{
    if (m->n_bsvc >= MDNS_MAX_SERVICES)
        return NULL;
    struct bsvc **p = wp_realloc(m->bsvcs, (m->n_bsvc + 1) * sizeof *p);
    if (!p)
        return NULL;
    m->bsvcs = p;
    struct bsvc *s = wp_calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->name = *name;
    s->resolve_at = T_NEVER;
    s->resolve_ivl = 1000;
    m->bsvcs[m->n_bsvc++] = s;
    return s;
}

void browse_update(mdns *m, int64_t now)
{
    struct mdns_service_info *v;
    if (!m->browsing || !m->browse_dirty)
        return;
    if (!(v = wp_malloc(sizeof *v))) {
        (void)err_set(&m->err, WP_ENOMEM, "mdns: out of memory");
        return;
    }
    m->browse_dirty = false;
    for (size_t i = 0; i < m->n_bsvc; i++)
        m->bsvcs[i]->mark = false;
    for (size_t i = 0; i < m->n_cache; i++) {
        const struct cache_rr *e = m->cache[i];
        /* A PTR under a goodbye no longer holds the service: unmarked, it is REMOVED
           now (§10.1 keeps the record one more second, not the service). */
        if (e->rr.type != DNS_TYPE_PTR || cache_in_goodbye(e) ||
            !dns_name_eq(&e->rr.name, &m->browse_type))
            continue;
        struct bsvc *s = bsvc_find(m, &e->rr.rd.ptr);
        if (!s && !(s = bsvc_add(m, &e->rr.rd.ptr)))
            continue;
        s->mark = true;
        if (e->created > s->ptr_seen) {
            if (s->ptr_seen && s->resolve_tries >= RESOLVE_TRIES) {
                s->resolve_tries = 0; /* the PTR came again: worth asking again */
                s->resolve_ivl = 1000;
            }
            s->ptr_seen = e->created;
        }
    }
    for (size_t i = m->n_bsvc; i-- > 0;) {
        struct bsvc *s = m->bsvcs[i];
        if (!s->mark) {
            if (s->reported)
                report(m, s, MDNS_EV_REMOVED, &s->snap);
            wp_free(s->snap_txt);
            wp_free(s);
            m->bsvcs[i] = m->bsvcs[--m->n_bsvc];
            continue;
        }
        bool has_srv = view(m, s, v);
        bool txt_ok = v->has_txt || txt_denied(m, &s->name);
        bool need = !has_srv || v->n_addrs == 0 || !txt_ok;
        if (!need) {
            s->resolve_at = T_NEVER;
        } else if (s->resolve_at == T_NEVER && s->resolve_tries < RESOLVE_TRIES) {
            s->resolve_at = now + mdns_rand(m, SHARED_DELAY_MIN, SHARED_DELAY_MAX);
        }
        bool complete = has_srv && v->n_addrs > 0 && (txt_ok || s->resolve_tries >= TXT_WAIT_TRIES);
        if (complete) {
            if (!s->reported)
                report(m, s, MDNS_EV_FOUND, v);
            else if (!same_view(&s->snap, v))
                report(m, s, MDNS_EV_UPDATED, v);
        } else if (s->reported && (!has_srv || v->n_addrs == 0)) {
            report(m, s, MDNS_EV_REMOVED, &s->snap);
        }
    }
    wp_free(v);
}

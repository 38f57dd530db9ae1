/*
 * mdns_cache.c - records learnt from responses, per link (RFC 6762 §10):
 * TTL expiry, goodbyes (TTL 0: kept 1 s more, then dropped, §10.1; the
 * browser ignores them at once, see cache_in_goodbye in mdns_int.h), cache-flush
 * (records of the same name, type and class received more than 1 s
 * earlier expire in 1 s, §10.2), and the refresh schedule (queries at
 * 80, 85, 90, 95 % of the TTL plus 0-2 %, §5.2). The browser decides which
 * records to keep and which refreshes to ask for.
 */
#include "internal.h"
#include "dns/mdns_int.h"

static void entry_free(struct cache_rr *e)
{
    if (e)
        wp_free(e->data);
    wp_free(e);
}

static void refresh_plan(mdns *m, struct cache_rr *e)
{
    if (e->ttl == 0 || e->refresh_step >= 4) {
        e->refresh_at = T_NEVER;
        return;
    }
    int64_t permille = (800 + 50 * (int64_t)e->refresh_step) + mdns_rand(m, 0, 20);
    e->refresh_at = e->created + (int64_t)e->ttl * permille;
}

void cache_refresh_done(mdns *m, struct cache_rr *e, int64_t now)
{
    WP_UNUSED(now);
    e->refresh_step++;
    refresh_plan(m, e);
}

static void remove_at(mdns *m, size_t i)
{
    entry_free(m->cache[i]);
    m->cache[i] = m->cache[--m->n_cache];
    m->browse_dirty = true;
}

void cache_add(mdns *m, int link, const dns_rr *rr, int64_t now)
{
    struct cache_rr *found = NULL;
    for (size_t i = 0; i < m->n_cache; i++) {
        struct cache_rr *e = m->cache[i];
        if (e->link != link || !dns_rr_same_key(&e->rr, rr))
            continue;
        if (dns_rr_same_data(&e->rr, rr)) {
            found = e;
        } else if (rr->cache_flush && now - e->created >= FLUSH_GRACE) {
            e->expire = t_min(e->expire, now + FLUSH_GRACE);
            e->refresh_at = T_NEVER;
            m->browse_dirty = true;
        }
    }
    m->browse_dirty = true;
    if (found) {
        if (rr->ttl == 0) { /* §10.1: as if TTL 1; see cache_in_goodbye */
            found->ttl = 0;
            found->expire = t_min(found->expire, now + GOODBYE_GRACE);
            found->refresh_at = T_NEVER;
        } else {
            found->created = now;
            found->ttl = rr->ttl;
            found->expire = now + (int64_t)rr->ttl * 1000;
            found->refresh_step = 0;
            found->rr.cache_flush = rr->cache_flush;
            refresh_plan(m, found);
        }
        return;
    }
    if (rr->ttl == 0)
        return; /* a goodbye for a record we do not hold */
    if (m->n_cache >= m->max_cache) {
        size_t victim = 0;
        for (size_t i = 1; i < m->n_cache; i++) {
            if (m->cache[i]->expire < m->cache[victim]->expire)
                victim = i;
        }
        remove_at(m, victim);
        (void)err_set(&m->err, WP_EFULL, "mdns: cache full (%zu records); evicted one",
                      m->max_cache);
    }
    if (m->n_cache == m->cap_cache) {
        size_t cap = m->cap_cache ? m->cap_cache * 2 : 32;
        struct cache_rr **p = wp_realloc(m->cache, cap * sizeof *p);
        if (!p) {
            (void)err_set(&m->err, WP_ENOMEM, "mdns: out of memory");
            return;
        }
        m->cache = p;
        m->cap_cache = cap;
    }
    struct cache_rr *e = wp_calloc(1, sizeof *e);
    if (!e || (rr->data_len && !(e->data = wp_malloc(rr->data_len)))) {
        entry_free(e);
        (void)err_set(&m->err, WP_ENOMEM, "mdns: out of memory");
        return;
    }
    e->rr = *rr;
    if (rr->data_len)
        memcpy(e->data, rr->data, rr->data_len);
    e->rr.data = e->data;
    e->link = link;
    e->created = now;
    e->ttl = rr->ttl;
    e->expire = now + (int64_t)rr->ttl * 1000;
    refresh_plan(m, e);
    m->cache[m->n_cache++] = e;
}

void cache_expire(mdns *m, int64_t now)
{
    for (size_t i = m->n_cache; i-- > 0;) {
        if (m->cache[i]->expire <= now)
            remove_at(m, i);
    }
}

int64_t cache_deadline(const mdns *m)
{
    int64_t t = T_NEVER;
    for (size_t i = 0; i < m->n_cache; i++)
        t = t_min(t, t_min(m->cache[i]->expire, m->cache[i]->refresh_at));
    return t;
}

void cache_link_down(mdns *m, int link)
{
    for (size_t i = m->n_cache; i-- > 0;) {
        if (m->cache[i]->link == link)
            remove_at(m, i);
    }
}

void cache_free(mdns *m)
{
    for (size_t i = 0; i < m->n_cache; i++)
        entry_free(m->cache[i]);
    wp_free(m->cache);
    m->cache = NULL;
    m->n_cache = m->cap_cache = 0;
}

size_t cache_next(const mdns *m, size_t from, int link, const dns_name *name, uint16_t type)
{
    for (size_t i = from; i < m->n_cache; i++) {
        const struct cache_rr *e = m->cache[i];
        if ((link < 0 || e->link == link) && e->rr.type == type && dns_name_eq(&e->rr.name, name))
            return i;
    }
    return SIZE_MAX;
}

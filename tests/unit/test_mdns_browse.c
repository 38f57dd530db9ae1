/*
 * Unit tests for the mDNS browser (src/dns/mdns_browse.c, mdns_cache.c):
 * one engine on a fake clock; the test plays the responders.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "mdns_harness.h"
#include "dns/mdns_int.h" /* white box: the cache's §10.1 goodbye entries */

static const uint8_t k_txt_v1[] = "\x03v=1\x16" "fp=A3F2-B1C4-D5E6-F8A9";

/* A browser-only node (no host name), browsing _wipeerkit._tcp. */
static struct net *browser(uint32_t max_ivl)
{
    struct net *n = net_new();
    struct node *b = net_add(n, NULL, false, max_ivl);
    assert_int_equal(mdns_browse_start(b->m, MDNS_SERVICE_TYPE, n->now), WP_OK);
    return n;
}

static void inject_service(struct net *n, uint32_t ttl, const void *txt, uint16_t txt_len,
                           uint8_t addr)
{
    uint8_t buf[1024];
    dns_rr rr[4] = {rr_ptr(T_PTR, T_INST, ttl), rr_srv(T_INST, "h.local", 4242, ttl),
                    rr_a("h.local", addr, ttl), rr_txt(T_INST, txt, txt_len, ttl)};
    size_t len = mk_response(buf, sizeof buf, rr, txt ? 4 : 3);
    mdns_endpoint src = foreign(MDNS_PORT);
    net_inject(n, buf, len, &src, true, NULL);
}

static void inject_rrs(struct net *n, const dns_rr *rr, size_t k)
{
    uint8_t buf[1024];
    size_t len = mk_response(buf, sizeof buf, rr, k);
    mdns_endpoint src = foreign(MDNS_PORT);
    net_inject(n, buf, len, &src, true, NULL);
}

/* Cache entries: how many, and how many are under a goodbye (TTL 0, §10.1). */
static size_t cached(const mdns *m, size_t *out_goodbye)
{
    size_t g = 0;
    for (size_t i = 0; i < m->n_cache; i++)
        g += cache_in_goodbye(m->cache[i]);
    *out_goodbye = g;
    return m->n_cache;
}

static void test_browse_backoff(void **state)
{
    (void)state;
    struct net *n = browser(16000);
    int64_t t0 = n->now;
    net_run_for(n, 70000);
    size_t idx[32];
    size_t k = sent_by(n, 0, 0, idx, 32);
    assert_int_equal(k, 8); /* +0.02..0.12, then 1, 2, 4, 8, 16, 16, 16 s apart */
    assert_true(n->log[idx[0]].t >= t0 + 20 && n->log[idx[0]].t <= t0 + 120);
    int64_t want[] = {1000, 2000, 4000, 8000, 16000, 16000, 16000};
    for (size_t i = 1; i < k; i++)
        assert_int_equal(n->log[idx[i]].t - n->log[idx[i - 1]].t, want[i - 1]);
    bool qu;
    assert_true(find_q(&n->log[idx[0]], T_PTR, DNS_TYPE_PTR, &qu) && qu);
    assert_true(find_q(&n->log[idx[1]], T_PTR, DNS_TYPE_PTR, &qu) && !qu);
    net_free(n);
}

static void test_browse_found_updated_removed(void **state)
{
    (void)state;
    struct net *n = browser(0);
    struct node *b = &n->nodes[0];
    net_run_for(n, 500);
    inject_service(n, 4500, k_txt_v1, sizeof k_txt_v1 - 1, 99);
    assert_int_equal(count_ev(b, MDNS_EV_FOUND, "Dev"), 1);
    const struct mdns_event *e = last_ev(b, MDNS_EV_FOUND);
    assert_string_equal(e->info.host, "h.local");
    assert_int_equal(e->info.port, 4242);
    assert_int_equal(e->info.n_addrs, 1);
    assert_int_equal(e->info.addrs[0].ip.family, MDNS_INET);
    assert_memory_equal(e->info.addrs[0].ip.addr, "\x0a\x00\x00\x63", 4);
    assert_int_equal(e->info.addrs[0].ifindex, b->ifindex);
    assert_int_equal(e->info.addrs[0].port, 4242);
    assert_true(e->info.has_txt && e->info.is_connectable);
    assert_int_equal(e->info.version, 1);
    assert_string_equal(e->info.fp, "A3F2-B1C4-D5E6-F8A9");
    /* The same records again: no event. New TXT: UPDATED. */
    inject_service(n, 4500, k_txt_v1, sizeof k_txt_v1 - 1, 99);
    assert_int_equal(b->n_ev, 1);
    net_run_for(n, 1500);
    inject_service(n, 4500, "\x03v=2", 4, 99);
    assert_int_equal(count_ev(b, MDNS_EV_UPDATED, "Dev"), 1);
    assert_int_equal(last_ev(b, MDNS_EV_UPDATED)->info.version, 2);
    /* The PTR's known answer rides on the next continuous query (RFC 6762 §7.1). */
    size_t before = n->n_log, idx[8];
    net_run_for(n, 2000);
    size_t k = sent_by(n, 0, before, idx, 8);
    assert_true(k >= 1);
    dns_rr ka;
    assert_true(find_rr(&n->log[idx[0]], DNS_SEC_ANSWER, T_PTR, DNS_TYPE_PTR, &ka));
    assert_true(ka.ttl > 4490 && ka.ttl <= 4500);
    assert_false(ka.cache_flush);
    /* Goodbye for the PTR: removed at once, with the last known data (the
       cache keeps the record one more second, §10.1: no second event then). */
    dns_rr bye = rr_ptr(T_PTR, T_INST, 0);
    inject_rrs(n, &bye, 1);
    assert_int_equal(count_ev(b, MDNS_EV_REMOVED, "Dev"), 1);
    assert_int_equal(last_ev(b, MDNS_EV_REMOVED)->info.port, 4242);
    net_run_for(n, 5000);
    assert_int_equal(count_ev(b, MDNS_EV_REMOVED, "Dev"), 1);
    assert_int_equal(count_ev(b, MDNS_EV_FOUND, "Dev"), 1);
    net_free(n);
}

/* RFC 6762 §10.1 in the cache, the goodbye at once in the browser's events. */
static void test_browse_goodbye_cache_keeps_one_second(void **state)
{
    (void)state;
    struct net *n = browser(0);
    struct node *b = &n->nodes[0];
    net_run_for(n, 500);
    inject_service(n, 4500, k_txt_v1, sizeof k_txt_v1 - 1, 99);
    assert_int_equal(count_ev(b, MDNS_EV_FOUND, "Dev"), 1);
    size_t g;
    assert_int_equal(cached(b->m, &g), 4);
    assert_int_equal(g, 0);
    /* The whole service says goodbye (PTR, SRV, A, TXT with TTL 0). */
    int64_t t = n->now;
    size_t before = n->n_log;
    inject_service(n, 0, k_txt_v1, sizeof k_txt_v1 - 1, 99);
    assert_int_equal(count_ev(b, MDNS_EV_REMOVED, "Dev"), 1);
    assert_int_equal(cached(b->m, &g), 4); /* kept, as if TTL 1 */
    assert_int_equal(g, 4);
    for (size_t i = 0; i < b->m->n_cache; i++)
        assert_int_equal(b->m->cache[i]->expire, t + 1000);
    /* In that second the continuous query goes out without the PTR as a known
       answer (§7.1), and nothing asks for the departed service's records. */
    net_run_until(n, t + 999);
    assert_int_equal(cached(b->m, &g), 4);
    size_t idx[16];
    size_t k = sent_by(n, 0, before, idx, 16);
    assert_true(k >= 1);
    for (size_t i = 0; i < k; i++) {
        assert_false(find_rr(&n->log[idx[i]], DNS_SEC_ANSWER, T_PTR, DNS_TYPE_PTR, NULL));
        assert_false(find_q(&n->log[idx[i]], T_INST, DNS_TYPE_SRV, NULL));
    }
    /* One second after the goodbye the cache drops it, without another event. */
    net_run_until(n, t + 1000);
    assert_int_equal(cached(b->m, &g), 0);
    assert_int_equal(count_ev(b, MDNS_EV_REMOVED, "Dev"), 1);
    assert_int_equal(b->n_ev, 2);
    net_free(n);
}

/* A goodbye then a re-announcement within the second: REMOVED, then FOUND again,
 * on the same cache entries (no flap); then the same for the SRV alone. */
static void test_browse_goodbye_then_reannounce(void **state)
{
    (void)state;
    struct net *n = browser(0);
    struct node *b = &n->nodes[0];
    net_run_for(n, 500);
    inject_service(n, 4500, k_txt_v1, sizeof k_txt_v1 - 1, 99);
    struct cache_rr *entries[4];
    size_t g;
    assert_int_equal(cached(b->m, &g), 4);
    memcpy(entries, b->m->cache, sizeof entries);
    int64_t t = n->now;
    inject_service(n, 0, k_txt_v1, sizeof k_txt_v1 - 1, 99);
    assert_int_equal(count_ev(b, MDNS_EV_REMOVED, "Dev"), 1);
    net_run_for(n, 300);
    inject_service(n, 4500, k_txt_v1, sizeof k_txt_v1 - 1, 99);
    assert_int_equal(count_ev(b, MDNS_EV_FOUND, "Dev"), 2);
    const struct mdns_event *e = last_ev(b, MDNS_EV_FOUND);
    assert_int_equal(e->info.port, 4242);
    assert_int_equal(e->info.n_addrs, 1);
    assert_true(e->info.is_connectable);
    assert_int_equal(cached(b->m, &g), 4);
    assert_int_equal(g, 0);
    assert_memory_equal(b->m->cache, entries, sizeof entries); /* refreshed in place */
    net_run_until(n, t + 5000); /* past the goodbye's second: nothing more */
    assert_int_equal(cached(b->m, &g), 4);
    assert_int_equal(count_ev(b, MDNS_EV_REMOVED, "Dev"), 1);
    assert_int_equal(count_ev(b, MDNS_EV_FOUND, "Dev"), 2);
    /* A goodbye for the SRV alone (the PTR stays): unresolvable, REMOVED at
       once; the browser asks for the SRV again, and the answer is FOUND. */
    size_t before = n->n_log;
    t = n->now;
    dns_rr srv_bye = rr_srv(T_INST, "h.local", 4242, 0);
    inject_rrs(n, &srv_bye, 1);
    assert_int_equal(count_ev(b, MDNS_EV_REMOVED, "Dev"), 2);
    net_run_for(n, 150);
    size_t idx[8];
    size_t k = sent_by(n, 0, before, idx, 8);
    bool asked = false;
    for (size_t i = 0; i < k; i++)
        asked |= find_q(&n->log[idx[i]], T_INST, DNS_TYPE_SRV, NULL);
    assert_true(asked);
    dns_rr srv = rr_srv(T_INST, "h.local", 4243, 120);
    inject_rrs(n, &srv, 1);
    assert_int_equal(count_ev(b, MDNS_EV_FOUND, "Dev"), 3);
    assert_int_equal(last_ev(b, MDNS_EV_FOUND)->info.port, 4243);
    net_run_until(n, t + 1000); /* the old SRV leaves the cache: no event */
    assert_int_equal(count_ev(b, MDNS_EV_REMOVED, "Dev"), 2);
    assert_int_equal(count_ev(b, MDNS_EV_UPDATED, "Dev"), 0);
    net_free(n);
}

static void test_browse_queries_what_is_missing(void **state)
{
    (void)state;
    struct net *n = browser(0);
    struct node *b = &n->nodes[0];
    net_run_for(n, 500);
    uint8_t buf[512];
    mdns_endpoint src = foreign(MDNS_PORT);
    dns_rr ptr = rr_ptr(T_PTR, T_INST, 4500);
    size_t len = mk_response(buf, sizeof buf, &ptr, 1);
    size_t before = n->n_log, idx[8];
    int64_t t = n->now;
    net_inject(n, buf, len, &src, true, NULL);
    net_run_for(n, 150);
    assert_int_equal(sent_by(n, 0, before, idx, 8), 1);
    const struct logged *q = &n->log[idx[0]];
    assert_true(q->t >= t + 20 && q->t <= t + 120);
    assert_true(find_q(q, T_INST, DNS_TYPE_SRV, NULL));
    assert_true(find_q(q, T_INST, DNS_TYPE_TXT, NULL));
    /* SRV and TXT arrive: now the host's addresses are asked for. */
    dns_rr rr[2] = {rr_srv(T_INST, "h.local", 4242, 120),
                    rr_txt(T_INST, k_txt_v1, sizeof k_txt_v1 - 1, 4500)};
    len = mk_response(buf, sizeof buf, rr, 2);
    net_inject(n, buf, len, &src, true, NULL);
    before = n->n_log;
    net_run_for(n, 1500);
    size_t k = sent_by(n, 0, before, idx, 8);
    bool asked = false;
    for (size_t i = 0; i < k; i++)
        asked |= find_q(&n->log[idx[i]], "h.local", DNS_TYPE_A, NULL) &&
                 find_q(&n->log[idx[i]], "h.local", DNS_TYPE_AAAA, NULL);
    assert_true(asked);
    assert_int_equal(count_ev(b, MDNS_EV_FOUND, NULL), 0);
    dns_rr a = rr_a("h.local", 99, 120);
    len = mk_response(buf, sizeof buf, &a, 1);
    net_inject(n, buf, len, &src, true, NULL);
    assert_int_equal(count_ev(b, MDNS_EV_FOUND, "Dev"), 1);
    net_free(n);
}

static void test_browse_refresh_and_expiry(void **state)
{
    (void)state;
    struct net *n = browser(0);
    struct node *b = &n->nodes[0];
    net_run_for(n, 500);
    int64_t t = n->now;
    inject_service(n, 100, k_txt_v1, sizeof k_txt_v1 - 1, 99);
    assert_int_equal(count_ev(b, MDNS_EV_FOUND, "Dev"), 1);
    net_run_for(n, 99000);
    assert_int_equal(count_ev(b, MDNS_EV_REMOVED, "Dev"), 0);
    /* SRV refreshes at 80, 85, 90 and 95 % of 100 s, plus up to 2 % (RFC 6762 §5.2). */
    size_t idx[64];
    size_t k = sent_by(n, 0, 0, idx, 64), hits = 0;
    for (size_t i = 0; i < k; i++) {
        const struct logged *l = &n->log[idx[i]];
        if (!find_q(l, T_INST, DNS_TYPE_SRV, NULL))
            continue;
        int64_t pct10 = (l->t - t) / 100; /* tenths of a percent of 100 s */
        assert_true((pct10 >= 800 && pct10 <= 820) || (pct10 >= 850 && pct10 <= 870) ||
                    (pct10 >= 900 && pct10 <= 920) || (pct10 >= 950 && pct10 <= 970));
        hits++;
    }
    assert_int_equal(hits, 4);
    net_run_until(n, t + 100000);
    assert_int_equal(count_ev(b, MDNS_EV_REMOVED, "Dev"), 1);
    net_free(n);
}

static void test_browse_cache_flush(void **state)
{
    (void)state;
    struct net *n = browser(0);
    struct node *b = &n->nodes[0];
    net_run_for(n, 500);
    inject_service(n, 4500, k_txt_v1, sizeof k_txt_v1 - 1, 99);
    /* Within one second a second address with the cache-flush bit is kept (§10.2). */
    uint8_t buf[512];
    mdns_endpoint src = foreign(MDNS_PORT);
    dns_rr a = rr_a("h.local", 98, 120);
    size_t len = mk_response(buf, sizeof buf, &a, 1);
    net_run_for(n, 500);
    net_inject(n, buf, len, &src, true, NULL);
    net_run_for(n, 5000);
    assert_int_equal(last_ev(b, MDNS_EV_UPDATED)->info.n_addrs, 2);
    /* Later, a new address with cache-flush: the older ones go 1 s later. */
    a = rr_a("h.local", 97, 120);
    len = mk_response(buf, sizeof buf, &a, 1);
    net_inject(n, buf, len, &src, true, NULL);
    assert_int_equal(last_ev(b, MDNS_EV_UPDATED)->info.n_addrs, 3);
    net_run_for(n, 1000);
    const struct mdns_event *e = last_ev(b, MDNS_EV_UPDATED);
    assert_int_equal(e->info.n_addrs, 1);
    assert_int_equal(e->info.addrs[0].ip.addr[3], 97);
    assert_int_equal(count_ev(b, MDNS_EV_REMOVED, NULL), 0);
    net_free(n);
}

static void test_browse_not_connectable(void **state)
{
    (void)state;
    /* Empty TXT (one zero-length string): shown, not connectable. */
    struct net *n = browser(0);
    struct node *b = &n->nodes[0];
    net_run_for(n, 500);
    inject_service(n, 4500, "\x00", 1, 99);
    const struct mdns_event *e = last_ev(b, MDNS_EV_FOUND);
    assert_non_null(e);
    assert_true(e->info.has_txt);
    assert_false(e->info.is_connectable);
    assert_int_equal(e->info.version, 0);
    net_free(n);
    /* No TXT at all (the original iOS SDK): reported after unanswered TXT queries. */
    n = browser(0);
    b = &n->nodes[0];
    net_run_for(n, 500);
    int64_t t = n->now;
    inject_service(n, 4500, NULL, 0, 99);
    assert_int_equal(count_ev(b, MDNS_EV_FOUND, NULL), 0);
    net_run_for(n, 5000);
    e = last_ev(b, MDNS_EV_FOUND);
    assert_non_null(e);
    assert_false(e->info.has_txt);
    assert_false(e->info.is_connectable);
    size_t idx[32];
    size_t k = sent_by(n, 0, 0, idx, 32), txt_q = 0;
    for (size_t i = 0; i < k; i++) {
        if (n->log[idx[i]].t > t && find_q(&n->log[idx[i]], T_INST, DNS_TYPE_TXT, NULL))
            txt_q++;
    }
    assert_true(txt_q >= 2);
    /* The TXT turns up later: UPDATED, now connectable. */
    uint8_t buf[512];
    dns_rr txt = rr_txt(T_INST, k_txt_v1, sizeof k_txt_v1 - 1, 4500);
    size_t len = mk_response(buf, sizeof buf, &txt, 1);
    mdns_endpoint src = foreign(MDNS_PORT);
    net_inject(n, buf, len, &src, true, NULL);
    e = last_ev(b, MDNS_EV_UPDATED);
    assert_non_null(e);
    assert_true(e->info.is_connectable);
    /* Resolution gives up after a few tries instead of asking forever. */
    n->n_log = 0;
    net_run_for(n, 600000);
    assert_true(sent_by(n, 0, 0, idx, 32) < 12);
    net_free(n);
}

/* A browse-only engine publishes no host name; mdns_host_set gives it one later. */
static void test_host_set_later(void **state)
{
    (void)state;
    struct net *n = net_new();
    struct node *b = net_add(n, NULL, false, 0);
    struct node *a = net_add(n, "h", false, 0);
    assert_int_equal(mdns_browse_start(b->m, MDNS_SERVICE_TYPE, n->now), WP_OK);
    assert_null(mdns_host_label(b->m));
    uint32_t id;
    struct mdns_service_desc d = {.instance = "Dev", .port = 1};
    assert_int_equal(mdns_service_add(b->m, &d, n->now, &id), WP_ESTATE);
    add_service(a, "Dev", 4242, n->now);
    net_run_for(n, 5000);
    size_t idx[64];
    size_t k = sent_by(n, 0, 0, idx, 64);
    assert_true(k >= 1);
    for (size_t i = 0; i < k; i++) /* queries only: no probe, no answer, no host record */
        assert_false(is_resp(&n->log[idx[i]]) || is_probe(&n->log[idx[i]]));
    assert_int_equal(count_ev(b, MDNS_EV_FOUND, "Dev"), 1);
    /* Now it advertises: the host name is probed (and defended: "h" is taken). */
    size_t before = n->n_log;
    assert_int_equal(mdns_host_set(b->m, "h", n->now), WP_OK);
    assert_int_equal(mdns_host_set(b->m, "x", n->now), WP_ESTATE);
    assert_int_equal(mdns_service_add(b->m, &d, n->now, &id), WP_OK);
    net_run_for(n, 5000);
    k = sent_by(n, 0, before, idx, 64);
    bool probed = false;
    for (size_t i = 0; i < k; i++)
        probed |= is_probe(&n->log[idx[i]]) && find_rr(&n->log[idx[i]], DNS_SEC_AUTHORITY,
                                                        "h.local", DNS_TYPE_A, NULL);
    assert_true(probed);
    assert_string_equal(mdns_host_label(b->m), "h-2");
    assert_int_equal(count_ev(b, MDNS_EV_FOUND, "Dev (2)"), 1); /* its own, renamed */
    net_free(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_set_later),
        cmocka_unit_test(test_browse_backoff),
        cmocka_unit_test(test_browse_found_updated_removed),
        cmocka_unit_test(test_browse_goodbye_cache_keeps_one_second),
        cmocka_unit_test(test_browse_goodbye_then_reannounce),
        cmocka_unit_test(test_browse_queries_what_is_missing),
        cmocka_unit_test(test_browse_refresh_and_expiry),
        cmocka_unit_test(test_browse_cache_flush),
        cmocka_unit_test(test_browse_not_connectable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

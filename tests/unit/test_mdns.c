/*
 * Unit tests for the mDNS responder (src/dns/mdns*.c), one engine on a
 * fake clock; the test plays the other hosts by building packets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "mdns_harness.h"

/* A node with host "h" and service "Dev" on port 4242, probed and announced. */
static struct net *established(void)
{
    struct net *n = net_new();
    struct node *a = net_add(n, "h", false, 0);
    add_service(a, "Dev", 4242, n->now);
    net_run_for(n, 3000);
    assert_int_equal(count_ev(a, MDNS_EV_REGISTERED, "Dev"), 1);
    return n;
}

/* ------------------------------------------------------------ responder */

static void test_probe_announce_timing(void **state)
{
    (void)state;
    struct net *n = net_new();
    int64_t t0 = n->now;
    struct node *a = net_add(n, "h", false, 0);
    add_service(a, "Dev", 4242, n->now);
    assert_true(mdns_deadline_ms(a->m) >= t0 && mdns_deadline_ms(a->m) <= t0 + 250);
    net_run_for(n, 10000);
    size_t idx[16];
    size_t k = sent_by(n, 0, 0, idx, 16);
    assert_int_equal(k, 5); /* 3 probes, 2 announcements: host and service share them */
    const struct logged *p1 = &n->log[idx[0]], *p2 = &n->log[idx[1]], *p3 = &n->log[idx[2]];
    const struct logged *a1 = &n->log[idx[3]], *a2 = &n->log[idx[4]];
    assert_true(is_probe(p1) && is_probe(p2) && is_probe(p3));
    assert_true(p1->t - t0 >= 0 && p1->t - t0 <= 250); /* RFC 6762 §8.1 */
    assert_int_equal(p2->t - p1->t, 250);
    assert_int_equal(p3->t - p2->t, 250);
    assert_int_equal(a1->t - p3->t, 250);               /* §8.3 */
    assert_int_equal(a2->t - a1->t, 1000);
    bool qu;
    assert_true(find_q(p1, "h.local", DNS_TYPE_ANY, &qu) && qu);
    assert_true(find_q(p1, T_INST, DNS_TYPE_ANY, &qu) && qu);
    assert_true(find_q(p2, T_INST, DNS_TYPE_ANY, &qu) && !qu);
    dns_rr rr;
    assert_true(find_rr(p1, DNS_SEC_AUTHORITY, T_INST, DNS_TYPE_SRV, &rr));
    assert_false(rr.cache_flush);
    assert_int_equal(rr.rd.srv.port, 4242);
    assert_true(find_rr(p1, DNS_SEC_AUTHORITY, T_INST, DNS_TYPE_TXT, NULL));
    assert_true(find_rr(p1, DNS_SEC_AUTHORITY, "h.local", DNS_TYPE_A, NULL));
    assert_false(find_rr(p1, DNS_SEC_AUTHORITY, T_PTR, DNS_TYPE_PTR, NULL));
    for (int i = 3; i < 5; i++) {
        const struct logged *an = &n->log[idx[i]];
        assert_true(is_resp(an));
        assert_true(an->p.is_multicast);
        assert_true(find_rr(an, DNS_SEC_ANSWER, T_PTR, DNS_TYPE_PTR, &rr));
        assert_false(rr.cache_flush);
        assert_int_equal(rr.ttl, 4500);
        assert_true(find_rr(an, DNS_SEC_ANSWER, T_INST, DNS_TYPE_SRV, &rr));
        assert_true(rr.cache_flush);
        assert_int_equal(rr.ttl, 120);
        assert_true(find_rr(an, DNS_SEC_ANSWER, T_INST, DNS_TYPE_TXT, &rr));
        assert_int_equal(rr.ttl, 4500);
        assert_true(find_rr(an, DNS_SEC_ANSWER, "_services._dns-sd._udp.local", DNS_TYPE_PTR,
                            NULL));
        assert_true(find_rr(an, DNS_SEC_ANSWER, "h.local", DNS_TYPE_A, &rr));
        assert_true(rr.cache_flush);
        assert_int_equal(rr.ttl, 120);
        /* IPv4 only: an NSEC says there is no AAAA (RFC 6762 §6.2). */
        assert_true(find_rr(an, DNS_SEC_ADDITIONAL, "h.local", DNS_TYPE_NSEC, &rr));
        assert_true(dns_nsec_has(&rr, DNS_TYPE_A));
        assert_false(dns_nsec_has(&rr, DNS_TYPE_AAAA));
    }
    assert_int_equal(count_ev(a, MDNS_EV_REGISTERED, "Dev"), 1);
    assert_int_equal(mdns_deadline_ms(a->m), -1); /* a responder alone is then silent */
    struct mdns_stats st;
    mdns_get_stats(a->m, &st);
    assert_int_equal(st.tx_probes, 3);
    assert_int_equal(st.tx_announces, 2);
    net_free(n);
}

static void test_answer_ptr_delayed_with_additionals(void **state)
{
    (void)state;
    struct net *n = established();
    uint8_t q[512];
    mdns_endpoint src = foreign(MDNS_PORT);
    size_t len = mk_query(q, sizeof q, 0, T_PTR, DNS_TYPE_PTR, false, NULL, 0);
    size_t before = n->n_log;
    int64_t t = n->now;
    net_inject(n, q, len, &src, true, NULL);
    size_t idx[4];
    assert_int_equal(sent_by(n, 0, before, idx, 4), 0); /* shared answer: 20-120 ms later */
    int64_t d = mdns_deadline_ms(n->nodes[0].m);
    assert_true(d >= t + 20 && d <= t + 120);
    net_run_for(n, 200);
    assert_int_equal(sent_by(n, 0, before, idx, 4), 1);
    const struct logged *r = &n->log[idx[0]];
    assert_true(r->p.is_multicast);
    assert_int_equal(r->t, d);
    assert_true(find_rr(r, DNS_SEC_ANSWER, T_PTR, DNS_TYPE_PTR, NULL));
    assert_true(find_rr(r, DNS_SEC_ADDITIONAL, T_INST, DNS_TYPE_SRV, NULL)); /* RFC 6763 §12.1 */
    assert_true(find_rr(r, DNS_SEC_ADDITIONAL, T_INST, DNS_TYPE_TXT, NULL));
    assert_true(find_rr(r, DNS_SEC_ADDITIONAL, "h.local", DNS_TYPE_A, NULL));
    dns_reader rd = rd_of(r);
    assert_int_equal(rd.hdr.count[DNS_SEC_QUESTION], 0); /* §6: no questions in responses */
    assert_int_equal(rd.hdr.id, 0);
    net_free(n);
}

static void test_unique_answer_immediate_and_aggregated(void **state)
{
    (void)state;
    struct net *n = established();
    uint8_t q[512];
    mdns_endpoint src = foreign(MDNS_PORT);
    net_run_for(n, 5000);
    size_t before = n->n_log, idx[4];
    size_t len = mk_query(q, sizeof q, 0, T_INST, DNS_TYPE_SRV, false, NULL, 0);
    net_inject(n, q, len, &src, true, NULL);
    assert_int_equal(sent_by(n, 0, before, idx, 4), 1); /* unique: at once */
    assert_true(find_rr(&n->log[idx[0]], DNS_SEC_ANSWER, T_INST, DNS_TYPE_SRV, NULL));
    assert_true(find_rr(&n->log[idx[0]], DNS_SEC_ADDITIONAL, "h.local", DNS_TYPE_A, NULL));
    /* Two shared-record queries 10 ms apart: one aggregated response. */
    net_run_for(n, 5000);
    before = n->n_log;
    len = mk_query(q, sizeof q, 0, T_PTR, DNS_TYPE_PTR, false, NULL, 0);
    net_inject(n, q, len, &src, true, NULL);
    net_run_for(n, 10);
    len = mk_query(q, sizeof q, 0, "_services._dns-sd._udp.local", DNS_TYPE_PTR, false, NULL, 0);
    net_inject(n, q, len, &src, true, NULL);
    net_run_for(n, 500);
    assert_int_equal(sent_by(n, 0, before, idx, 4), 1);
    assert_true(find_rr(&n->log[idx[0]], DNS_SEC_ANSWER, T_PTR, DNS_TYPE_PTR, NULL));
    dns_rr rr;
    assert_true(find_rr(&n->log[idx[0]], DNS_SEC_ANSWER, "_services._dns-sd._udp.local",
                        DNS_TYPE_PTR, &rr));
    dns_name want = nm(T_PTR);
    assert_true(dns_name_eq(&rr.rd.ptr, &want));
    net_free(n);
}

static void test_known_answer_suppression(void **state)
{
    (void)state;
    struct net *n = established();
    uint8_t q[512];
    mdns_endpoint src = foreign(MDNS_PORT);
    size_t idx[4];
    net_run_for(n, 5000);
    /* The querier knows the PTR with more than half its TTL: no answer (RFC 6762 §7.1). */
    dns_rr ka = rr_ptr(T_PTR, T_INST, 2250);
    size_t before = n->n_log;
    size_t len = mk_query(q, sizeof q, 0, T_PTR, DNS_TYPE_PTR, false, &ka, 1);
    net_inject(n, q, len, &src, true, NULL);
    net_run_for(n, 1000);
    assert_int_equal(sent_by(n, 0, before, idx, 4), 0);
    /* Less than half: answered. */
    ka.ttl = 2249;
    before = n->n_log;
    len = mk_query(q, sizeof q, 0, T_PTR, DNS_TYPE_PTR, false, &ka, 1);
    net_inject(n, q, len, &src, true, NULL);
    net_run_for(n, 1000);
    assert_int_equal(sent_by(n, 0, before, idx, 4), 1);
    /* A known answer for another instance suppresses nothing. */
    net_run_for(n, 1000);
    ka = rr_ptr(T_PTR, "Other._wipeerkit._tcp.local", 4500);
    before = n->n_log;
    len = mk_query(q, sizeof q, 0, T_PTR, DNS_TYPE_PTR, false, &ka, 1);
    net_inject(n, q, len, &src, true, NULL);
    net_run_for(n, 1000);
    assert_int_equal(sent_by(n, 0, before, idx, 4), 1);
    net_free(n);
}

static void test_tc_query_waits_for_known_answers(void **state)
{
    (void)state;
    struct net *n = established();
    uint8_t q[512];
    mdns_endpoint src = foreign(MDNS_PORT);
    size_t idx[4];
    net_run_for(n, 5000);
    size_t len = mk_query(q, sizeof q, 0, T_PTR, DNS_TYPE_PTR, false, NULL, 0);
    q[2] |= DNS_FLAG_TC >> 8;
    int64_t t = n->now;
    size_t before = n->n_log;
    net_inject(n, q, len, &src, true, NULL);
    int64_t d = mdns_deadline_ms(n->nodes[0].m);
    assert_true(d >= t + 400 && d <= t + 500); /* RFC 6762 §6 */
    /* The continuation carries our PTR as a known answer: nothing is sent (§7.2). */
    dns_rr ka = rr_ptr(T_PTR, T_INST, 4500);
    len = mk_query(q, sizeof q, 0, NULL, 0, false, &ka, 1);
    net_run_for(n, 100);
    net_inject(n, q, len, &src, true, NULL);
    net_run_for(n, 1000);
    assert_int_equal(sent_by(n, 0, before, idx, 4), 0);
    net_free(n);
}

static void test_qu_unicast_then_multicast(void **state)
{
    (void)state;
    struct net *n = established();
    uint8_t q[512];
    mdns_endpoint src = foreign(MDNS_PORT);
    size_t idx[4];
    /* Just announced: a QU question gets a unicast reply (RFC 6762 §5.4). */
    size_t before = n->n_log;
    size_t len = mk_query(q, sizeof q, 7, T_INST, DNS_TYPE_SRV, true, NULL, 0);
    net_inject(n, q, len, &src, true, NULL);
    assert_int_equal(sent_by(n, 0, before, idx, 4), 1);
    const struct logged *r = &n->log[idx[0]];
    assert_false(r->p.is_multicast);
    assert_true(ip_match(&r->p.dst.ip, &src.ip));
    assert_int_equal(r->p.dst.port, MDNS_PORT);
    assert_true(find_rr(r, DNS_SEC_ANSWER, T_INST, DNS_TYPE_SRV, NULL));
    /* More than a quarter of the SRV's 120 s TTL later: multicast instead. */
    net_run_for(n, 31000);
    before = n->n_log;
    net_inject(n, q, len, &src, true, NULL);
    assert_int_equal(sent_by(n, 0, before, idx, 4), 1);
    assert_true(n->log[idx[0]].p.is_multicast);
    /* A query sent to our unicast address is answered by unicast (§5.5). */
    net_run_for(n, 2000);
    before = n->n_log;
    len = mk_query(q, sizeof q, 7, T_INST, DNS_TYPE_SRV, false, NULL, 0);
    net_inject(n, q, len, &src, false, &n->nodes[0].ip4);
    assert_int_equal(sent_by(n, 0, before, idx, 4), 1);
    assert_false(n->log[idx[0]].p.is_multicast);
    net_free(n);
}

static void test_legacy_unicast(void **state)
{
    (void)state;
    struct net *n = established();
    uint8_t q[512];
    mdns_endpoint src = foreign(40000);
    size_t idx[4];
    size_t before = n->n_log;
    size_t len = mk_query(q, sizeof q, 0xbeef, T_INST, DNS_TYPE_SRV, false, NULL, 0);
    net_inject(n, q, len, &src, true, NULL);
    assert_int_equal(sent_by(n, 0, before, idx, 4), 1);
    const struct logged *r = &n->log[idx[0]];
    assert_false(r->p.is_multicast);
    assert_int_equal(r->p.dst.port, 40000);
    dns_reader rd = rd_of(r);
    assert_int_equal(rd.hdr.id, 0xbeef); /* RFC 6762 §6.7 */
    assert_int_equal(rd.hdr.count[DNS_SEC_QUESTION], 1);
    assert_true(find_q(r, T_INST, DNS_TYPE_SRV, NULL));
    dns_rr rr;
    assert_true(find_rr(r, DNS_SEC_ANSWER, T_INST, DNS_TYPE_SRV, &rr));
    assert_int_equal(rr.ttl, 10);
    assert_false(rr.cache_flush);
    assert_true(find_rr(r, DNS_SEC_ADDITIONAL, "h.local", DNS_TYPE_A, &rr));
    assert_int_equal(rr.ttl, 10);
    assert_false(rr.cache_flush);
    /* A response from a port other than 5353 is ignored (no conflict, no cache). */
    dns_rr bad = rr_srv(T_INST, "x.local", 1, 120);
    uint8_t resp[512];
    len = mk_response(resp, sizeof resp, &bad, 1);
    before = n->n_log;
    net_inject(n, resp, len, &src, true, NULL);
    net_run_for(n, 2000);
    assert_int_equal(sent_by(n, 0, before, idx, 4), 0);
    assert_int_equal(count_ev(&n->nodes[0], MDNS_EV_RENAMED, NULL), 0);
    net_free(n);
}

static void test_rate_limit_and_negative_answers(void **state)
{
    (void)state;
    struct net *n = established();
    uint8_t q[512];
    mdns_endpoint src = foreign(MDNS_PORT);
    size_t idx[4];
    net_run_for(n, 5000);
    size_t before = n->n_log;
    size_t len = mk_query(q, sizeof q, 0, T_INST, DNS_TYPE_TXT, false, NULL, 0);
    net_inject(n, q, len, &src, true, NULL);
    net_run_for(n, 500);
    net_inject(n, q, len, &src, true, NULL); /* within 1 s: not again (RFC 6762 §6) */
    net_run_for(n, 400);
    assert_int_equal(sent_by(n, 0, before, idx, 4), 1);
    net_run_for(n, 200);
    before = n->n_log;
    net_inject(n, q, len, &src, true, NULL);
    assert_int_equal(sent_by(n, 0, before, idx, 4), 1);
    /* AAAA of a v4-only host: an NSEC answer (§6.1). */
    before = n->n_log;
    len = mk_query(q, sizeof q, 0, "h.local", DNS_TYPE_AAAA, false, NULL, 0);
    net_inject(n, q, len, &src, true, NULL);
    assert_int_equal(sent_by(n, 0, before, idx, 4), 1);
    dns_rr rr;
    assert_true(find_rr(&n->log[idx[0]], DNS_SEC_ANSWER, "h.local", DNS_TYPE_NSEC, &rr));
    assert_false(dns_nsec_has(&rr, DNS_TYPE_AAAA));
    assert_false(find_rr(&n->log[idx[0]], -1, "h.local", DNS_TYPE_AAAA, NULL));
    /* Names we do not own: silence. */
    before = n->n_log;
    len = mk_query(q, sizeof q, 0, "other.local", DNS_TYPE_A, false, NULL, 0);
    net_inject(n, q, len, &src, true, NULL);
    net_run_for(n, 500);
    assert_int_equal(sent_by(n, 0, before, idx, 4), 0);
    net_free(n);
}

static void test_goodbye_and_shutdown(void **state)
{
    (void)state;
    struct net *n = net_new();
    struct node *a = net_add(n, "h", false, 0);
    uint32_t id1 = add_service(a, "Dev", 4242, n->now);
    add_service(a, "Two", 4243, n->now);
    net_run_for(n, 5000);
    size_t idx[8], before = n->n_log;
    assert_int_equal(mdns_service_remove(a->m, id1, n->now), WP_OK);
    net_pump(n);
    assert_int_equal(sent_by(n, 0, before, idx, 8), 1);
    const struct logged *g = &n->log[idx[0]];
    dns_rr rr;
    assert_true(find_rr(g, DNS_SEC_ANSWER, T_PTR, DNS_TYPE_PTR, &rr));
    assert_int_equal(rr.ttl, 0);
    assert_true(find_rr(g, DNS_SEC_ANSWER, T_INST, DNS_TYPE_SRV, &rr));
    assert_int_equal(rr.ttl, 0);
    assert_true(find_rr(g, DNS_SEC_ANSWER, T_INST, DNS_TYPE_TXT, &rr));
    assert_int_equal(rr.ttl, 0);
    /* "Two" still answers the service-type enumeration; the host stays. */
    assert_false(find_rr(g, -1, "_services._dns-sd._udp.local", DNS_TYPE_PTR, NULL));
    assert_false(find_rr(g, -1, "h.local", DNS_TYPE_A, NULL));
    assert_int_equal(mdns_service_remove(a->m, id1, n->now), WP_ENOTFOUND);
    before = n->n_log;
    assert_int_equal(mdns_shutdown(a->m, n->now), WP_OK);
    net_pump(n);
    assert_int_equal(sent_by(n, 0, before, idx, 8), 1);
    g = &n->log[idx[0]];
    assert_true(find_rr(g, DNS_SEC_ANSWER, "h.local", DNS_TYPE_A, &rr));
    assert_int_equal(rr.ttl, 0);
    assert_true(find_rr(g, DNS_SEC_ANSWER, "Two._wipeerkit._tcp.local", DNS_TYPE_SRV, &rr));
    assert_int_equal(rr.ttl, 0);
    assert_true(find_rr(g, DNS_SEC_ANSWER, "_services._dns-sd._udp.local", DNS_TYPE_PTR, &rr));
    assert_int_equal(rr.ttl, 0);
    /* Quiet afterwards. */
    assert_int_equal(mdns_deadline_ms(a->m), -1);
    uint8_t q[512];
    mdns_endpoint src = foreign(MDNS_PORT);
    before = n->n_log;
    size_t len = mk_query(q, sizeof q, 0, T_PTR, DNS_TYPE_PTR, false, NULL, 0);
    net_inject(n, q, len, &src, true, NULL);
    net_run_for(n, 1000);
    assert_int_equal(sent_by(n, 0, before, idx, 8), 0);
    net_free(n);
}

/* A simultaneous probe (RFC 6762 §8.2): the lexicographically later data wins. */
static void test_probe_tie_break(void **state)
{
    (void)state;
    for (int later = 0; later < 2; later++) {
        struct net *n = net_new();
        struct node *a = net_add(n, "h", false, 0);
        add_service(a, "Dev", 4242, n->now);
        net_run_until(n, mdns_deadline_ms(a->m)); /* first probe out */
        size_t idx[16];
        assert_int_equal(sent_by(n, 0, 0, idx, 16), 1);
        int64_t t_first = n->log[idx[0]].t;
        /* Their probe for Dev: our TXT, and an SRV with port 4241 (earlier) or 4243 (later). */
        uint8_t buf[512];
        dns_writer wr;
        dns_writer_init(&wr, buf, sizeof buf, 0, 0);
        dns_question q = {.name = nm(T_INST), .type = DNS_TYPE_ANY, .qclass = DNS_CLASS_IN};
        assert_int_equal(dns_writer_question(&wr, &q), WP_OK);
        dns_rr srv = rr_srv(T_INST, "h.local", later ? 4243 : 4241, 120);
        srv.cache_flush = false;
        static const uint8_t txt[] = "\x03v=1\x16" "fp=A3F2-B1C4-D5E6-F8A9";
        dns_rr t = rr_txt(T_INST, txt, sizeof txt - 1, 4500);
        t.cache_flush = false;
        assert_int_equal(dns_writer_rr(&wr, DNS_SEC_AUTHORITY, &srv), WP_OK);
        assert_int_equal(dns_writer_rr(&wr, DNS_SEC_AUTHORITY, &t), WP_OK);
        mdns_endpoint src = foreign(MDNS_PORT);
        net_run_for(n, 100);
        int64_t t_in = n->now;
        net_inject(n, buf, dns_writer_len(&wr), &src, true, NULL);
        net_run_for(n, 5000);
        size_t k = sent_by(n, 0, 0, idx, 16), dev_probes = 0;
        int64_t t_dev = -1;
        for (size_t i = 1; i < k; i++) {
            const struct logged *l = &n->log[idx[i]];
            if (is_probe(l) && find_q(l, T_INST, DNS_TYPE_ANY, NULL)) {
                dev_probes++;
                if (t_dev < 0)
                    t_dev = l->t;
            }
        }
        if (later) {
            /* We lost: wait 1 s, then three probes again (the host goes on meanwhile). */
            assert_int_equal(t_dev, t_in + 1000);
            assert_int_equal(dev_probes, 3);
        } else {
            assert_int_equal(t_dev, t_first + 250); /* undisturbed */
            assert_int_equal(dev_probes, 2);
        }
        assert_int_equal(count_ev(a, MDNS_EV_RENAMED, NULL), 0);
        assert_int_equal(count_ev(a, MDNS_EV_REGISTERED, "Dev"), 1);
        net_free(n);
    }
}

static void test_conflict_while_probing_renames(void **state)
{
    (void)state;
    struct net *n = net_new();
    struct node *a = net_add(n, "h", false, 0);
    uint32_t id = add_service(a, "Dev", 4242, n->now);
    net_run_until(n, mdns_deadline_ms(a->m));
    uint8_t buf[512];
    dns_rr theirs[2] = {rr_srv(T_INST, "other.local", 9, 120), rr_a("h.local", 77, 120)};
    size_t len = mk_response(buf, sizeof buf, theirs, 2);
    mdns_endpoint src = foreign(MDNS_PORT);
    net_inject(n, buf, len, &src, true, NULL);
    net_run_for(n, 5000);
    assert_int_equal(count_ev(a, MDNS_EV_RENAMED, "Dev (2)"), 1);
    assert_int_equal(count_ev(a, MDNS_EV_HOST_RENAMED, "h-2"), 1);
    assert_string_equal(mdns_service_name(a->m, id), "Dev (2)");
    assert_string_equal(mdns_host_label(a->m), "h-2");
    assert_int_equal(count_ev(a, MDNS_EV_REGISTERED, "Dev (2)"), 1);
    /* The announcement uses the new names, SRV pointing at the new host. */
    const struct logged *last = &n->log[n->n_log - 1];
    dns_rr rr;
    assert_true(find_rr(last, DNS_SEC_ANSWER, "Dev (2)._wipeerkit._tcp.local", DNS_TYPE_SRV, &rr));
    dns_name want = nm("h-2.local");
    assert_true(dns_name_eq(&rr.rd.srv.target, &want));
    assert_true(find_rr(last, DNS_SEC_ANSWER, "h-2.local", DNS_TYPE_A, NULL));
    struct mdns_stats st;
    mdns_get_stats(a->m, &st);
    assert_true(st.conflicts >= 1);
    net_free(n);
}

static void test_conflict_after_established_reprobes(void **state)
{
    (void)state;
    struct net *n = established();
    struct node *a = &n->nodes[0];
    uint8_t buf[512];
    mdns_endpoint src = foreign(MDNS_PORT);
    /* Our own data echoed back (e.g. by a proxy) is not a conflict. */
    dns_rr same = rr_srv(T_INST, "h.local", 4242, 120);
    size_t len = mk_response(buf, sizeof buf, &same, 1);
    size_t before = n->n_log, idx[16];
    net_inject(n, buf, len, &src, true, NULL);
    net_run_for(n, 3000);
    assert_int_equal(sent_by(n, 0, before, idx, 16), 0);
    /* Different data: probe again (RFC 6762 §9); nobody defends, so keep the name. */
    dns_rr other = rr_srv(T_INST, "h.local", 1, 120);
    len = mk_response(buf, sizeof buf, &other, 1);
    before = n->n_log;
    net_inject(n, buf, len, &src, true, NULL);
    net_run_for(n, 5000);
    size_t k = sent_by(n, 0, before, idx, 16);
    assert_int_equal(k, 5);
    assert_true(is_probe(&n->log[idx[0]]));
    assert_true(find_q(&n->log[idx[0]], T_INST, DNS_TYPE_ANY, NULL));
    assert_false(find_q(&n->log[idx[0]], "h.local", DNS_TYPE_ANY, NULL));
    assert_int_equal(count_ev(a, MDNS_EV_RENAMED, NULL), 0);
    net_free(n);
}

static void test_bad_input(void **state)
{
    (void)state;
    struct net *n = established();
    struct node *a = &n->nodes[0];
    mdns_endpoint src = foreign(MDNS_PORT);
    src.ifindex = a->ifindex;
    static const uint8_t junk[] = {0, 0, 0x84, 0, 0, 0, 0, 5, 0, 0};
    assert_int_equal(mdns_input(a->m, junk, sizeof junk, &src, false, n->now), WP_EPROTO);
    assert_non_null(strstr(mdns_last_error(a->m)->detail, "header"));
    /* Unknown interface and non-zero opcode are ignored. */
    uint8_t q[512];
    size_t len = mk_query(q, sizeof q, 0, T_PTR, DNS_TYPE_PTR, false, NULL, 0);
    mdns_endpoint other = src;
    other.ifindex = 99;
    assert_int_equal(mdns_input(a->m, q, len, &other, false, n->now), WP_OK);
    q[2] = 0x10; /* opcode 2 */
    assert_int_equal(mdns_input(a->m, q, len, &src, false, n->now), WP_OK);
    assert_null(mdns_output(a->m));
    struct mdns_stats st;
    mdns_get_stats(a->m, &st);
    assert_int_equal(st.rx_bad, 1);
    assert_int_equal(st.rx_ignored, 2);
    net_free(n);
}

static void test_address_changes(void **state)
{
    (void)state;
    struct net *n = established();
    struct node *a = &n->nodes[0];
    size_t idx[16], before = n->n_log;
    /* The same list again (netlink noise) changes nothing, not even rate limits. */
    uint8_t q[512];
    mdns_endpoint src = foreign(MDNS_PORT);
    size_t len = mk_query(q, sizeof q, 0, "h.local", DNS_TYPE_A, false, NULL, 0);
    net_run_for(n, 2000);
    net_inject(n, q, len, &src, true, NULL);
    assert_int_equal(sent_by(n, 0, before, idx, 16), 1);
    assert_int_equal(mdns_iface_set(a->m, a->ifindex, &a->ip4, 1, n->now), WP_OK);
    net_run_for(n, 300);
    net_inject(n, q, len, &src, true, NULL);
    net_run_for(n, 300);
    assert_int_equal(sent_by(n, 0, before, idx, 16), 1);
    before = n->n_log;
    /* A new IPv6 address: a new link probes; the IPv4 link re-announces the host. */
    mdns_ip both[2] = {a->ip4, a->ip6};
    a->has_v6 = true;
    assert_int_equal(mdns_iface_set(a->m, a->ifindex, both, 2, n->now), WP_OK);
    net_run_for(n, 5000);
    size_t k = sent_by(n, 0, before, idx, 16);
    bool v4_aaaa = false, v6_probe = false;
    for (size_t i = 0; i < k; i++) {
        const struct logged *l = &n->log[idx[i]];
        if (l->p.dst.ip.family == MDNS_INET && is_resp(l) &&
            find_rr(l, DNS_SEC_ANSWER, "h.local", DNS_TYPE_AAAA, NULL))
            v4_aaaa = true;
        if (l->p.dst.ip.family == MDNS_INET6 && is_probe(l))
            v6_probe = true;
    }
    assert_true(v4_aaaa && v6_probe);
    /* The IPv4 address goes: a goodbye for its A record, on the IPv4 link first. */
    before = n->n_log;
    assert_int_equal(mdns_iface_set(a->m, a->ifindex, &a->ip6, 1, n->now), WP_OK);
    net_pump(n);
    k = sent_by(n, 0, before, idx, 16);
    assert_true(k >= 1);
    dns_rr rr;
    assert_true(find_rr(&n->log[idx[0]], DNS_SEC_ANSWER, "h.local", DNS_TYPE_A, &rr));
    assert_int_equal(rr.ttl, 0);
    assert_int_equal(mdns_iface_remove(a->m, a->ifindex, n->now), WP_OK);
    assert_int_equal(mdns_iface_remove(a->m, a->ifindex, n->now), WP_ENOTFOUND);
    net_free(n);
}

/* Two interfaces on the same LAN: our own probes and announcements come back
 * on the other interface with the other interface's address. Not a conflict. */
static void test_two_interfaces_same_lan(void **state)
{
    (void)state;
    struct net *n = net_new();
    struct node *a = net_add(n, "h", false, 0);
    mdns_ip other = {.family = MDNS_INET, .addr = {10, 0, 1, 1}};
    assert_int_equal(mdns_iface_set(a->m, 50, &other, 1, n->now), WP_OK);
    add_service(a, "Dev", 4242, n->now);
    net_run_for(n, 10000);
    assert_int_equal(count_ev(a, MDNS_EV_RENAMED, NULL), 0);
    assert_int_equal(count_ev(a, MDNS_EV_HOST_RENAMED, NULL), 0);
    assert_int_equal(count_ev(a, MDNS_EV_REGISTERED, "Dev"), 1);
    struct mdns_stats st;
    mdns_get_stats(a->m, &st);
    assert_int_equal(st.conflicts, 0);
    assert_int_equal(st.tx_probes, 6); /* three per interface, no deferral */
    net_free(n);
}

static void test_api_errors(void **state)
{
    (void)state;
    mdns *m = NULL;
    uint64_t seed = 1;
    wp_err e;
    struct mdns_config cfg = {.rng = node_rng, .rng_user = &seed};
    assert_int_equal(mdns_new(&cfg, 0, &m, &e), WP_OK);
    uint32_t id;
    struct mdns_service_desc d = {.instance = "x", .port = 1};
    assert_int_equal(mdns_service_add(m, &d, 0, &id), WP_ESTATE); /* no host label */
    assert_int_equal(mdns_browse_start(m, "_bad", 0), WP_EINVAL);
    assert_int_equal(mdns_browse_start(m, MDNS_SERVICE_TYPE, 0), WP_OK);
    assert_int_equal(mdns_browse_start(m, MDNS_SERVICE_TYPE, 0), WP_ESTATE);
    mdns_free(m);
    cfg.host_label = "h";
    assert_int_equal(mdns_new(&cfg, 0, &m, &e), WP_OK);
    d.instance = "";
    assert_int_equal(mdns_service_add(m, &d, 0, &id), WP_EINVAL);
    d.instance = "x";
    d.type = "_x._sctp";
    assert_int_equal(mdns_service_add(m, &d, 0, &id), WP_EINVAL);
    d.type = NULL;
    d.txt = (const uint8_t *)"\x05v=1";
    d.txt_len = 4;
    assert_int_equal(mdns_service_add(m, &d, 0, &id), WP_EINVAL); /* malformed TXT */
    d.txt = NULL;
    d.txt_len = 0;
    assert_int_equal(mdns_service_add(m, &d, 0, &id), WP_OK);
    assert_int_equal(mdns_service_add(m, &d, 0, &id), WP_EEXIST);
    d.instance = "Name (7)";
    uint32_t id7;
    assert_int_equal(mdns_service_add(m, &d, 0, &id7), WP_OK);
    assert_string_equal(mdns_service_name(m, id7), "Name (7)");
    assert_null(mdns_service_name(m, 999));
    mdns_ip bad = {.family = 5};
    assert_int_equal(mdns_iface_set(m, 1, &bad, 1, 0), WP_EINVAL);
    mdns_free(m);
    cfg.host_label = "";
    assert_int_equal(mdns_new(&cfg, 0, &m, &e), WP_EINVAL);
    assert_null(m);
    mdns_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe_announce_timing),
        cmocka_unit_test(test_answer_ptr_delayed_with_additionals),
        cmocka_unit_test(test_unique_answer_immediate_and_aggregated),
        cmocka_unit_test(test_known_answer_suppression),
        cmocka_unit_test(test_tc_query_waits_for_known_answers),
        cmocka_unit_test(test_qu_unicast_then_multicast),
        cmocka_unit_test(test_legacy_unicast),
        cmocka_unit_test(test_rate_limit_and_negative_answers),
        cmocka_unit_test(test_goodbye_and_shutdown),
        cmocka_unit_test(test_probe_tie_break),
        cmocka_unit_test(test_conflict_while_probing_renames),
        cmocka_unit_test(test_conflict_after_established_reprobes),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_address_changes),
        cmocka_unit_test(test_two_interfaces_same_lan),
        cmocka_unit_test(test_api_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

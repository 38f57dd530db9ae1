/*
 * Several mDNS engines (src/dns/mdns*.c) on one in-memory network with a
 * fake clock: name conflicts between real engines, goodbyes, refresh over
 * hours, dual stack, and convergence under 30 % packet loss.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "mdns_harness.h"

/* The services a node currently knows, replaying its FOUND/REMOVED events. */
static size_t known_services(const struct node *nd, char names[][MDNS_LABEL_STR_MAX], size_t cap,
                             struct mdns_service_info *infos)
{
    size_t n = 0;
    for (size_t i = 0; i < nd->n_ev; i++) {
        const struct mdns_event *e = &nd->ev[i];
        size_t k = 0;
        while (k < n && strcmp(names[k], e->info.name) != 0)
            k++;
        if (e->type == MDNS_EV_FOUND || e->type == MDNS_EV_UPDATED) {
            if (k == n && n < cap)
                snprintf(names[n++], MDNS_LABEL_STR_MAX, "%s", e->info.name);
            if (k < cap && infos)
                infos[k] = e->info;
        } else if (e->type == MDNS_EV_REMOVED && k < n) {
            memmove(names[k], names[k + 1], (n - k - 1) * sizeof names[0]);
            if (infos)
                memmove(&infos[k], &infos[k + 1], (n - k - 1) * sizeof infos[0]);
            n--;
        }
    }
    return n;
}

static bool knows(const struct node *nd, const char *name)
{
    char names[16][MDNS_LABEL_STR_MAX];
    size_t n = known_services(nd, names, 16, NULL);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], name) == 0)
            return true;
    }
    return false;
}

static void test_same_instance_name(void **state)
{
    (void)state;
    struct net *n = net_new();
    struct node *a = net_add(n, "a", false, 0), *b = net_add(n, "b", false, 0);
    uint32_t ida = add_service(a, "Dev", 1111, n->now);
    uint32_t idb = add_service(b, "Dev", 2222, n->now);
    assert_int_equal(mdns_browse_start(a->m, MDNS_SERVICE_TYPE, n->now), WP_OK);
    assert_int_equal(mdns_browse_start(b->m, MDNS_SERVICE_TYPE, n->now), WP_OK);
    net_run_for(n, 20000);
    /* Exactly one of them renamed; both are announced under different names. */
    size_t renames = count_ev(a, MDNS_EV_RENAMED, NULL) + count_ev(b, MDNS_EV_RENAMED, NULL);
    assert_int_equal(renames, 1);
    const char *na = mdns_service_name(a->m, ida), *nb = mdns_service_name(b->m, idb);
    assert_string_not_equal(na, nb);
    assert_true(strcmp(na, "Dev (2)") == 0 || strcmp(nb, "Dev (2)") == 0);
    assert_int_equal(count_ev(a, MDNS_EV_REGISTERED, na), 1);
    assert_int_equal(count_ev(b, MDNS_EV_REGISTERED, nb), 1);
    /* Each browser sees both, with the right ports. */
    for (int i = 0; i < 2; i++) {
        struct mdns_service_info infos[4];
        char names[4][MDNS_LABEL_STR_MAX];
        size_t k = known_services(&n->nodes[i], names, 4, infos);
        assert_int_equal(k, 2);
        for (size_t j = 0; j < k; j++) {
            bool is_a = strcmp(names[j], na) == 0;
            assert_int_equal(infos[j].port, is_a ? 1111 : 2222);
            assert_int_equal(infos[j].n_addrs, 1);
            assert_int_equal(infos[j].addrs[0].ip.addr[3], is_a ? 1 : 2);
            assert_true(infos[j].is_connectable);
        }
    }
    net_free(n);
}

static void test_same_host_name(void **state)
{
    (void)state;
    struct net *n = net_new();
    struct node *a = net_add(n, "h", false, 0), *b = net_add(n, "h", false, 0);
    add_service(a, "A", 1111, n->now);
    add_service(b, "B", 2222, n->now);
    struct node *c = net_add(n, NULL, false, 0);
    assert_int_equal(mdns_browse_start(c->m, MDNS_SERVICE_TYPE, n->now), WP_OK);
    net_run_for(n, 20000);
    size_t renames =
        count_ev(a, MDNS_EV_HOST_RENAMED, "h-2") + count_ev(b, MDNS_EV_HOST_RENAMED, "h-2");
    assert_int_equal(renames, 1);
    assert_string_not_equal(mdns_host_label(a->m), mdns_host_label(b->m));
    struct mdns_service_info infos[4];
    char names[4][MDNS_LABEL_STR_MAX];
    assert_int_equal(known_services(c, names, 4, infos), 2);
    for (size_t j = 0; j < 2; j++) {
        bool is_a = strcmp(names[j], "A") == 0;
        const char *host = mdns_host_label(is_a ? a->m : b->m);
        char want[80];
        snprintf(want, sizeof want, "%s.local", host);
        assert_string_equal(infos[j].host, want);
        assert_int_equal(infos[j].n_addrs, 1); /* no address from the other "h" */
        assert_int_equal(infos[j].addrs[0].ip.addr[3], is_a ? 1 : 2);
    }
    net_free(n);
}

static void test_late_joiner_renames(void **state)
{
    (void)state;
    struct net *n = net_new();
    struct node *a = net_add(n, "a", false, 0);
    add_service(a, "Dev", 1111, n->now);
    net_run_for(n, 10000);
    struct node *b = net_add(n, "b", false, 0);
    uint32_t idb = add_service(b, "Dev", 2222, n->now);
    net_run_for(n, 10000);
    assert_int_equal(count_ev(a, MDNS_EV_RENAMED, NULL), 0); /* the owner defends */
    assert_int_equal(count_ev(b, MDNS_EV_RENAMED, "Dev (2)"), 1);
    assert_string_equal(mdns_service_name(b->m, idb), "Dev (2)");
    assert_int_equal(count_ev(b, MDNS_EV_REGISTERED, "Dev (2)"), 1);
    assert_int_equal(count_ev(b, MDNS_EV_REGISTERED, "Dev"), 0);
    net_free(n);
}

static void test_goodbye_reaches_browser(void **state)
{
    (void)state;
    struct net *n = net_new();
    struct node *a = net_add(n, "a", false, 0), *b = net_add(n, NULL, false, 0);
    uint32_t id = add_service(a, "Dev", 1111, n->now);
    add_service(a, "Other", 1112, n->now);
    assert_int_equal(mdns_browse_start(b->m, MDNS_SERVICE_TYPE, n->now), WP_OK);
    net_run_for(n, 5000);
    assert_true(knows(b, "Dev") && knows(b, "Other"));
    /* The goodbye drops it at once (the cache keeps the TTL 0 records one more
       second, RFC 6762 §10.1, but the browser reports REMOVED now). */
    assert_int_equal(mdns_service_remove(a->m, id, n->now), WP_OK);
    net_pump(n);
    assert_false(knows(b, "Dev"));
    assert_true(knows(b, "Other"));
    net_run_for(n, 2000);
    assert_int_equal(count_ev(b, MDNS_EV_REMOVED, "Dev"), 1);
    assert_int_equal(count_ev(b, MDNS_EV_REMOVED, "Other"), 0);
    assert_int_equal(mdns_shutdown(a->m, n->now), WP_OK);
    net_pump(n);
    assert_false(knows(b, "Other"));
    net_run_for(n, 2000);
    assert_int_equal(count_ev(b, MDNS_EV_REMOVED, NULL), 2);
    net_free(n);
}

static void test_refresh_keeps_services_for_hours(void **state)
{
    (void)state;
    struct net *n = net_new();
    struct node *a = net_add(n, "a", false, 0), *b = net_add(n, NULL, false, 0);
    add_service(a, "Dev", 1111, n->now);
    assert_int_equal(mdns_browse_start(b->m, MDNS_SERVICE_TYPE, n->now), WP_OK);
    net_run_for(n, 5000);
    assert_true(knows(b, "Dev"));
    struct mdns_stats sa0, sb0, sa1, sb1;
    mdns_get_stats(a->m, &sa0);
    mdns_get_stats(b->m, &sb0);
    net_run_for(n, 3 * 3600 * 1000); /* SRV/A live 120 s: refreshed ~90 times */
    assert_int_equal(count_ev(b, MDNS_EV_REMOVED, NULL), 0);
    assert_int_equal(count_ev(b, MDNS_EV_FOUND, NULL), 1);
    assert_true(knows(b, "Dev"));
    mdns_get_stats(a->m, &sa1);
    mdns_get_stats(b->m, &sb1);
    /* Idle traffic stays modest: refresh queries plus their answers. */
    uint64_t per_hour = (sa1.tx_packets - sa0.tx_packets + sb1.tx_packets - sb0.tx_packets) / 3;
    print_message("idle traffic: %llu datagrams/hour (responder + browser)\n",
                  (unsigned long long)per_hour);
    assert_true(per_hour < 400);
    net_free(n);
}

static void test_dual_stack(void **state)
{
    (void)state;
    struct net *n = net_new();
    struct node *a = net_add(n, "a", true, 0), *b = net_add(n, NULL, true, 0);
    add_service(a, "Dev", 1111, n->now);
    assert_int_equal(mdns_browse_start(b->m, MDNS_SERVICE_TYPE, n->now), WP_OK);
    net_run_for(n, 5000);
    struct mdns_service_info infos[2];
    char names[2][MDNS_LABEL_STR_MAX];
    assert_int_equal(known_services(b, names, 2, infos), 1);
    assert_int_equal(infos[0].n_addrs, 2); /* merged across the IPv4 and IPv6 links */
    bool v4 = false, v6 = false;
    for (size_t i = 0; i < 2; i++) {
        v4 |= infos[0].addrs[i].ip.family == MDNS_INET;
        v6 |= infos[0].addrs[i].ip.family == MDNS_INET6 && infos[0].addrs[i].ip.addr[0] == 0xfe;
        assert_int_equal(infos[0].addrs[i].ifindex, b->ifindex);
    }
    assert_true(v4 && v6);
    bool sent6 = false;
    for (size_t i = 0; i < n->n_log; i++)
        sent6 |= n->log[i].from == 0 && n->log[i].p.dst.ip.family == MDNS_INET6;
    assert_true(sent6);
    net_free(n);
}

/* Four engines, all named "Node", all browsing, 30 % of datagrams dropped. */
static void test_converges_under_loss(void **state)
{
    (void)state;
    struct net *n = net_new();
    uint32_t ids[4];
    char hosts[4][8];
    for (int i = 0; i < 4; i++) {
        snprintf(hosts[i], sizeof hosts[i], "n%d", i);
        struct node *nd = net_add(n, hosts[i], false, 0);
        ids[i] = add_service(nd, "Node", (uint16_t)(5000 + i), n->now);
        assert_int_equal(mdns_browse_start(nd->m, MDNS_SERVICE_TYPE, n->now), WP_OK);
    }
    n->loss_pct = 30;
    net_run_for(n, 120000);
    assert_true(n->dropped > 100);
    const char *final[4];
    for (int i = 0; i < 4; i++) {
        final[i] = mdns_service_name(n->nodes[i].m, ids[i]);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(final[i], final[j]);
    }
    for (int i = 0; i < 4; i++) {
        struct mdns_service_info infos[8];
        char names[8][MDNS_LABEL_STR_MAX];
        size_t k = known_services(&n->nodes[i], names, 8, infos);
        assert_int_equal(k, 4);
        for (int j = 0; j < 4; j++) {
            size_t x = 0;
            while (x < k && strcmp(names[x], final[j]) != 0)
                x++;
            if (x == k)
                fail_msg("node %d does not know %s", i, final[j]);
            assert_int_equal(infos[x].port, 5000 + j);
            assert_true(infos[x].is_connectable);
        }
    }
    net_free(n);
}

/* Every allocation failing in turn: no crash, no leak, and the engine keeps going. */
static void test_allocation_failures(void **state)
{
    (void)state;
    uint8_t resp[1024];
    static const uint8_t txt[] = "\x03v=1";
    dns_rr rr[4] = {rr_ptr(T_PTR, "Peer._wipeerkit._tcp.local", 4500),
                    rr_srv("Peer._wipeerkit._tcp.local", "p.local", 9, 120),
                    rr_txt("Peer._wipeerkit._tcp.local", txt, 4, 4500), rr_a("p.local", 9, 120)};
    size_t len = mk_response(resp, sizeof resp, rr, 4);
    size_t completed = 0;
    for (long n = 0; n < 300; n++) {
        uint64_t seed = 7;
        mdns *m = NULL;
        int64_t now = 1000;
        struct mdns_config cfg = {.rng = node_rng, .rng_user = &seed, .host_label = "h"};
        mem_fail_after(n);
        if (mdns_new(&cfg, now, &m, NULL) != WP_OK) {
            mem_fail_after(-1);
            assert_null(m);
            continue;
        }
        mdns_ip ip = {.family = MDNS_INET, .addr = {10, 0, 0, 1}};
        uint32_t id;
        struct mdns_service_desc d = {.instance = "Dev", .port = 1, .txt = txt, .txt_len = 4};
        mdns_endpoint src = foreign(MDNS_PORT);
        src.ifindex = 1;
        bool all_ok = mdns_iface_set(m, 1, &ip, 1, now) == WP_OK;
        all_ok &= mdns_service_add(m, &d, now, &id) == WP_OK;
        all_ok &= mdns_browse_start(m, MDNS_SERVICE_TYPE, now) == WP_OK;
        for (int step = 0; step < 40; step++) {
            if (step == 20)
                mem_fail_after(-1); /* recovery */
            if (step % 10 == 5)
                assert_int_equal(mdns_input(m, resp, len, &src, false, now), WP_OK);
            now += 250;
            assert_int_equal(mdns_tick(m, now), WP_OK);
            while (mdns_output(m))
                mdns_output_done(m);
            struct mdns_event ev;
            while (mdns_next_event(m, &ev) == WP_OK)
                ;
        }
        completed += all_ok;
        assert_int_equal(mdns_shutdown(m, now), WP_OK);
        mdns_free(m);
    }
    mem_fail_after(-1);
    assert_true(completed > 0); /* the sweep reached past the setup calls */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_instance_name),
        cmocka_unit_test(test_same_host_name),
        cmocka_unit_test(test_late_joiner_renames),
        cmocka_unit_test(test_goodbye_reaches_browser),
        cmocka_unit_test(test_refresh_keeps_services_for_hours),
        cmocka_unit_test(test_dual_stack),
        cmocka_unit_test(test_converges_under_loss),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

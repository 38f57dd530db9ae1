/*
 * 1000 concurrent connections to one listener over loopback: all are
 * started at once, every handshake completes, every connection carries its
 * own message and ends with an authenticated close on both sides.
 */
#include "rt_test.h"

#include <sys/resource.h>

#define N_CONNS 1000

struct many {
    int auth_a, auth_b, closed_ok_a, closed_ok_b, closed_bad;
    int max_open_a, open_a;
    unsigned char seen[N_CONNS];
    int dup_or_bad;
    wp_conn *conns[N_CONNS]; /* b's connections, closed once all are authenticated */
    char last_bad[WP_ERROR_DETAIL_MAX + 32];
};

static int on_a(const wp_event *ev, void *user)
{
    struct many *m = user;
    switch (ev->type) {
    case WP_EV_CONNECTED:
        if (++m->open_a > m->max_open_a)
            m->max_open_a = m->open_a;
        break;
    case WP_EV_PEER_IDENTITY:
        return WP_TRUST_ACCEPT;
    case WP_EV_AUTHENTICATED:
        m->auth_a++;
        break;
    case WP_EV_MESSAGE: {
        unsigned idx = 0;
        if (ev->len != 4) {
            m->dup_or_bad++;
            break;
        }
        idx = (unsigned)ev->data[0] << 24 | (unsigned)ev->data[1] << 16 |
              (unsigned)ev->data[2] << 8 | ev->data[3];
        if (idx >= N_CONNS || m->seen[idx]++)
            m->dup_or_bad++;
        break;
    }
    case WP_EV_PEER_CLOSED:
        assert_int_equal(wp_conn_close(ev->conn), WP_OK);
        break;
    case WP_EV_CLOSED:
        m->open_a--;
        if (ev->reason == WP_OK) {
            m->closed_ok_a++;
        } else {
            m->closed_bad++;
            snprintf(m->last_bad, sizeof m->last_bad, "a: %s %s", wp_status_name(ev->reason),
                     ev->detail);
        }
        break;
    default:
        break;
    }
    return 0;
}

static int on_b(const wp_event *ev, void *user)
{
    struct many *m = user;
    switch (ev->type) {
    case WP_EV_PEER_IDENTITY:
        return WP_TRUST_ACCEPT;
    case WP_EV_AUTHENTICATED: {
        unsigned idx = (unsigned)(uintptr_t)ev->conn_user;
        uint8_t msg[4] = {(uint8_t)(idx >> 24), (uint8_t)(idx >> 16), (uint8_t)(idx >> 8),
                          (uint8_t)idx};
        m->auth_b++;
        m->conns[idx] = ev->conn;
        assert_int_equal(wp_conn_send(ev->conn, msg, sizeof msg), WP_OK);
        /* Hold every connection open until all are up: 1000 at once for real. */
        if (m->auth_b == N_CONNS)
            for (unsigned i = 0; i < N_CONNS; i++)
                assert_int_equal(wp_conn_close(m->conns[i]), WP_OK);
        break;
    }
    case WP_EV_CLOSED:
        if (ev->reason == WP_OK) {
            m->closed_ok_b++;
        } else {
            m->closed_bad++;
            snprintf(m->last_bad, sizeof m->last_bad, "b: %s %s", wp_status_name(ev->reason),
                     ev->detail);
        }
        break;
    default:
        break;
    }
    return 0;
}

static bool all_done(void *arg)
{
    struct many *m = arg;
    return m->closed_ok_a + m->closed_ok_b + m->closed_bad >= 2 * N_CONNS;
}

static void test_thousand_concurrent(void **state)
{
    (void)state;
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    rlim_t need = 2 * N_CONNS + 256;
    if (rl.rlim_cur < need) {
        if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
            skip(); /* the hard limit forbids it; nothing this test can do */
        rl.rlim_cur = need;
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
    }
    char ha[64], hb[64];
    wp_identity *ida = rt_identity(ha), *idb = rt_identity(hb);
    static struct many m;
    wp_ctx_config cfg;
    wp_ctx *a, *b;
    wp_error err;
    wp_ctx_config_init(&cfg);
    cfg.identity = ida;
    cfg.on_event = on_a;
    cfg.user = &m;
    assert_int_equal(wp_ctx_new(&cfg, &a, &err), WP_OK);
    cfg.identity = idb;
    cfg.on_event = on_b;
    assert_int_equal(wp_ctx_new(&cfg, &b, &err), WP_OK);
    wp_listener *l;
    assert_int_equal(wp_listen(a, "127.0.0.1", 0, NULL, &l, &err), WP_OK);
    for (unsigned i = 0; i < N_CONNS; i++) {
        wp_conn_opts o;
        wp_conn *c;
        wp_conn_opts_init(&o);
        o.user = (void *)(uintptr_t)i;
        o.handshake_timeout_ms = 60000; /* 1000 handshakes at once under ASan take a while */
        assert_int_equal(wp_connect(b, "127.0.0.1", wp_listener_port(l), &o, &c, &err), WP_OK);
    }
    int64_t t0 = rt_now_ms();
    bool done = rt_run(a, b, all_done, &m, 240000);
    int64_t took = rt_now_ms() - t0;
    print_message("1000 connections: %lld ms, %d open at once on the listener\n",
                  (long long)took, m.max_open_a);
    if (m.closed_bad)
        print_message("a failure: %s\n", m.last_bad);
    assert_true(done);
    assert_int_equal(m.closed_bad, 0);
    assert_int_equal(m.max_open_a, N_CONNS);
    assert_int_equal(m.auth_a, N_CONNS);
    assert_int_equal(m.auth_b, N_CONNS);
    assert_int_equal(m.closed_ok_a, N_CONNS);
    assert_int_equal(m.closed_ok_b, N_CONNS);
    assert_int_equal(m.dup_or_bad, 0);
    for (unsigned i = 0; i < N_CONNS; i++)
        assert_int_equal(m.seen[i], 1);
    wp_ctx_free(a);
    wp_ctx_free(b);
    rt_identity_free(ida, ha);
    rt_identity_free(idb, hb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thousand_concurrent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

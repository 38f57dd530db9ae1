/*
 * The bounded send queue (review 4, M6):
 *  - what waits for the socket, queued or already sealed, stays within
 *    send_queue_max (it could be send_queue_max queued plus 256 KiB sealed
 *    plus one message);
 *  - WP_EV_WRITABLE comes once the refused message fits: a sender that
 *    retries on it is not refused again (big messages were, until the
 *    output drained completely).
 * The sender's peer stops reading for a while, so the kernel's buffers
 * fill and the runtime's own queue is what pushes back.
 */
#include "rt_test.h"

#include <stdatomic.h>

#include "core/conn.h"
#include "runtime/rt.h"

struct side {
    char home[64];
    wp_identity *id;
    wp_ctx *ctx;
    wp_conn *conn;
    bool auth;
    /* the sender (b) */
    size_t msg_len;
    int n_total, n_sent, n_writable, n_retry_full;
    uint8_t *msg;
    /* the receiver (a) */
    int n_received;
    size_t bad_len;
};

static void send_more(struct side *s)
{
    while (s->n_sent < s->n_total) {
        wp_status st = wp_conn_send(s->conn, s->msg, s->msg_len);
        if (st == WP_EFULL)
            return;
        assert_int_equal(st, WP_OK);
        s->n_sent++;
    }
}

static int on_ev(const wp_event *ev, void *user)
{
    struct side *s = user;
    switch (ev->type) {
    case WP_EV_PEER_IDENTITY:
        return WP_TRUST_ACCEPT;
    case WP_EV_AUTHENTICATED:
        s->auth = true;
        s->conn = ev->conn;
        if (s->msg)
            send_more(s); /* on the loop thread: sealed straight away */
        break;
    case WP_EV_WRITABLE:
        s->n_writable++;
        if (s->n_sent < s->n_total) {
            wp_status st = wp_conn_send(s->conn, s->msg, s->msg_len);
            if (st == WP_EFULL) {
                s->n_retry_full++;
                break;
            }
            assert_int_equal(st, WP_OK);
            s->n_sent++;
            send_more(s);
        }
        break;
    case WP_EV_MESSAGE:
        s->n_received++;
        if (ev->len != 200000)
            s->bad_len = ev->len;
        break;
    default:
        break;
    }
    return 0;
}

static void setup(struct side *a, struct side *b, uint32_t send_queue_max, wp_listener **l)
{
    wp_ctx_config cfg;
    wp_error err;
    wp_conn *c;
    wp_conn_opts o;
    struct side *sides[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        sides[i]->id = rt_identity(sides[i]->home);
        wp_ctx_config_init(&cfg);
        cfg.identity = sides[i]->id;
        cfg.on_event = on_ev;
        cfg.user = sides[i];
        assert_int_equal(wp_ctx_new(&cfg, &sides[i]->ctx, &err), WP_OK);
    }
    assert_int_equal(wp_listen(a->ctx, "127.0.0.1", 0, NULL, l, &err), WP_OK);
    wp_conn_opts_init(&o);
    o.send_queue_max = send_queue_max;
    assert_int_equal(wp_connect(b->ctx, "127.0.0.1", wp_listener_port(*l), &o, &c, &err), WP_OK);
}

static void teardown(struct side *a, struct side *b)
{
    wp_ctx_free(b->ctx);
    wp_ctx_free(a->ctx);
    rt_identity_free(a->id, a->home);
    rt_identity_free(b->id, b->home);
    free(b->msg);
}

static bool both_auth(void *arg)
{
    struct side **s = arg;
    return s[0]->auth && s[1]->auth;
}

/* What waits in b's runtime for the socket: queued plus sealed. */
static size_t held(const struct side *b)
{
    const struct wp_conn *c = b->conn;
    return atomic_load(&c->q_bytes) + conn_output_pending(c->core);
}

/* Sends from another thread than the loop's: queue plus sealed output within the bound. */
static void test_bound_holds_off_loop(void **state)
{
    (void)state;
    struct side a = {0}, b = {0};
    wp_listener *l;
    const uint32_t max = 64 * 1024;
    setup(&a, &b, max, &l);
    struct side *both[2] = {&a, &b};
    assert_true(rt_run(a.ctx, b.ctx, both_auth, both, 5000));
    static uint8_t m[4000];
    size_t worst = 0;
    int quiet = 0;
    long accepted = 0;
    for (int round = 0; round < 5000 && quiet < 20; round++) {
        int ok = 0;
        while (ok < 1000 && wp_conn_send(b.conn, m, sizeof m) == WP_OK)
            ok++;
        accepted += ok;
        quiet = ok ? 0 : quiet + 1;
        /* Only b runs: a reads nothing, the kernel's buffers fill up. */
        assert_int_equal(wp_ctx_process(b.ctx), WP_OK);
        worst = WP_MAX(worst, held(&b));
    }
    assert_true(quiet >= 20); /* it did fill up */
    if (worst > max)
        fail_msg("%zu bytes waited in the runtime, send_queue_max %u (%ld messages taken)", worst,
                 max, accepted);
    assert_true(held(&b) > max / 2);
    teardown(&a, &b);
}

static bool all_received(void *arg)
{
    struct side **s = arg;
    return s[0]->n_received == s[1]->n_total;
}

/* Big messages sent from callbacks: a retry on WP_EV_WRITABLE is never refused. */
static void test_writable_means_it_fits(void **state)
{
    (void)state;
    struct side a = {0}, b = {0};
    wp_listener *l;
    b.msg_len = 200000; /* above half of the bound, below the bound */
    b.n_total = 300;
    b.msg = calloc(1, b.msg_len);
    assert_non_null(b.msg);
    setup(&a, &b, 256 * 1024, &l);
    struct side *both[2] = {&a, &b};
    assert_true(rt_run(a.ctx, b.ctx, both_auth, both, 5000));
    for (int round = 0; round < 3; round++) {
        /* a pauses: b's output backs up; then a reads again and b's drains in steps. */
        int64_t end = rt_now_ms() + 200;
        while (rt_now_ms() < end) {
            assert_int_equal(wp_ctx_process(b.ctx), WP_OK);
            usleep(2000);
        }
        (void)rt_run(a.ctx, b.ctx, all_received, both, 300);
    }
    assert_true(rt_run(a.ctx, b.ctx, all_received, both, 30000));
    assert_int_equal(a.bad_len, 0);
    assert_true(b.n_writable > 0);
    assert_int_equal(b.n_retry_full, 0);
    teardown(&a, &b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bound_holds_off_loop),
        cmocka_unit_test(test_writable_means_it_fits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Connection handles shared with other threads (review 4, M5): references
 * (wp_conn_retain / wp_conn_release, wp_conn_opts.is_retained) keep a
 * handle valid after WP_EV_CLOSED, so a thread that is still using it
 * gets the reason the connection ended instead of a use after free; the
 * last release frees it. Accepted connections get their own user pointer
 * (wp_conn_set_user). Label tsan: loop threads of our own, and ASan in the
 * default run sees any access to a freed handle.
 */
#include "rt_test.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "runtime/rt.h"

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Is conn still one of ctx's connections? Compares pointers only. */
static bool ctx_has_conn(wp_ctx *ctx, const wp_conn *conn)
{
    bool found = false;
    pthread_mutex_lock(&ctx->mu); /* the loop is stopped: this only orders memory */
    for (const struct wp_conn *c = ctx->conns; c; c = c->next)
        if (c == conn)
            found = true;
    pthread_mutex_unlock(&ctx->mu);
    return found;
}

static wp_ctx *new_ctx(const wp_identity *id, wp_event_fn fn, void *user)
{
    wp_ctx_config cfg;
    wp_ctx *ctx;
    wp_error err;
    wp_ctx_config_init(&cfg);
    cfg.identity = id;
    cfg.on_event = fn;
    cfg.user = user;
    assert_int_equal(wp_ctx_new(&cfg, &ctx, &err), WP_OK);
    return ctx;
}

/* ---------------------------------------------------------------- refused, retained */

static atomic_int g_closed;

static int on_count_closed(const wp_event *ev, void *user)
{
    (void)user;
    if (ev->type == WP_EV_CLOSED)
        atomic_fetch_add(&g_closed, 1);
    return 0;
}

/*
 * A refused connection ends on the loop thread, maybe before wp_connect
 * has returned: with is_retained the handle still answers, from this
 * thread, with why it ended; after the release it is freed.
 */
static void test_retained_connect_outlives_close(void **state)
{
    (void)state;
    char home[64];
    wp_identity *id = rt_identity(home);
    wp_ctx *ctx = new_ctx(id, on_count_closed, NULL);
    wp_listener *l;
    wp_error err;
    assert_int_equal(wp_listen(ctx, "127.0.0.1", 0, NULL, &l, &err), WP_OK);
    uint16_t port = wp_listener_port(l);
    wp_listener_close(l); /* nobody listens there any more */
    assert_int_equal(wp_ctx_start(ctx), WP_OK);
    atomic_store(&g_closed, 0);
    wp_conn_opts o;
    wp_conn_opts_init(&o);
    o.is_retained = true;
    wp_conn *c[8];
    for (int i = 0; i < 8; i++)
        assert_int_equal(wp_connect(ctx, "127.0.0.1", port, &o, &c[i], &err), WP_OK);
    for (int i = 0; i < 5000 && atomic_load(&g_closed) < 8; i++)
        sleep_ms(1);
    assert_int_equal(atomic_load(&g_closed), 8);
    for (int i = 0; i < 8; i++) {
        wp_error e;
        assert_int_equal(wp_conn_send(c[i], "x", 1), WP_EREFUSED);
        assert_int_equal(wp_conn_close(c[i]), WP_EREFUSED);
        wp_conn_abort(c[i]);
        assert_int_equal(wp_conn_trust(c[i], true), WP_ESTATE);
        wp_conn_last_error(c[i], &e);
        assert_int_equal(e.code, WP_EREFUSED);
        wp_conn_retain(c[i]); /* a second owner, released below too */
    }
    assert_int_equal(wp_ctx_stop(ctx), WP_OK);
    for (int i = 0; i < 8; i++)
        assert_true(ctx_has_conn(ctx, c[i]));
    assert_int_equal(wp_ctx_start(ctx), WP_OK);
    for (int i = 0; i < 8; i++)
        wp_conn_release(c[i]);
    for (int i = 0; i < 8; i++)
        assert_int_equal(wp_conn_send(c[i], "x", 1), WP_EREFUSED); /* one ref left */
    for (int i = 0; i < 8; i++)
        wp_conn_release(c[i]); /* the last: freed by the loop */
    sleep_ms(50);
    assert_int_equal(wp_ctx_stop(ctx), WP_OK);
    for (int i = 0; i < 8; i++)
        assert_false(ctx_has_conn(ctx, c[i]));
    wp_ctx_free(ctx);
    rt_identity_free(id, home);
}

/* ---------------------------------------------------------------- a sender thread */

/*
 * A thread sends on a connection the peer aborts: it keeps calling
 * wp_conn_send until it learns the end, then releases its reference. The
 * server gives each accepted connection its own user pointer.
 */
struct srv_conn {
    int n_events;     /* events that carried this pointer (read after the loops stop) */
    atomic_bool got_closed;
};

static struct {
    struct srv_conn slots[4];
    atomic_int next_slot, srv_msgs, srv_wrong_user, cli_closed;
    wp_conn *_Atomic cli_conn;
} g;

static int on_srv(const wp_event *ev, void *user)
{
    (void)user;
    if (ev->type == WP_EV_CONNECTED) {
        int i = atomic_fetch_add(&g.next_slot, 1);
        assert_true(i < 4);
        assert_null(ev->conn_user); /* the listener's */
        wp_conn_set_user(ev->conn, &g.slots[i]);
        assert_ptr_equal(wp_conn_user(ev->conn), &g.slots[i]);
        return 0;
    }
    struct srv_conn *s = ev->conn_user;
    if (!s || s < g.slots || s >= g.slots + 4) {
        atomic_fetch_add(&g.srv_wrong_user, 1);
        return ev->type == WP_EV_PEER_IDENTITY ? WP_TRUST_ACCEPT : 0;
    }
    s->n_events++;
    switch (ev->type) {
    case WP_EV_PEER_IDENTITY:
        return WP_TRUST_ACCEPT;
    case WP_EV_MESSAGE:
        if (atomic_fetch_add(&g.srv_msgs, 1) == 100)
            wp_conn_abort(ev->conn);
        break;
    case WP_EV_CLOSED:
        atomic_store(&s->got_closed, true);
        break;
    default:
        break;
    }
    return 0;
}

static int on_cli(const wp_event *ev, void *user)
{
    (void)user;
    if (ev->type == WP_EV_AUTHENTICATED) {
        wp_conn_retain(ev->conn); /* for the sender thread: a callback is a safe place */
        atomic_store(&g.cli_conn, ev->conn);
    }
    if (ev->type == WP_EV_CLOSED)
        atomic_fetch_add(&g.cli_closed, 1);
    return ev->type == WP_EV_PEER_IDENTITY ? WP_TRUST_ACCEPT : 0;
}

static void *sender(void *arg)
{
    wp_status *out = arg;
    wp_conn *c = NULL;
    uint8_t m[256] = {0};
    for (int i = 0; i < 10000 && !(c = atomic_load(&g.cli_conn)); i++)
        sleep_ms(1);
    if (!c)
        return NULL;
    wp_status st = WP_OK;
    for (long i = 0; i < 10000000 && (st == WP_OK || st == WP_EFULL); i++) {
        st = wp_conn_send(c, m, sizeof m);
        if (st == WP_EFULL)
            sched_yield();
    }
    /* Ended, maybe long ago: the handle still answers the same. */
    for (int i = 0; i < 20 && atomic_load(&g.cli_closed) == 0; i++)
        sleep_ms(50);
    *out = wp_conn_send(c, m, sizeof m);
    wp_conn_release(c);
    return NULL;
}

static void test_sender_thread_after_abort(void **state)
{
    (void)state;
    char ha[64], hb[64];
    wp_identity *ida = rt_identity(ha), *idb = rt_identity(hb);
    wp_ctx *a = new_ctx(ida, on_srv, NULL), *b = new_ctx(idb, on_cli, NULL);
    wp_listener *l;
    wp_conn *c;
    wp_error err;
    memset(&g, 0, sizeof g);
    assert_int_equal(wp_listen(a, "127.0.0.1", 0, NULL, &l, &err), WP_OK);
    assert_int_equal(wp_ctx_start(a), WP_OK);
    assert_int_equal(wp_ctx_start(b), WP_OK);
    wp_status last = (wp_status)-1;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, sender, &last), 0);
    assert_int_equal(wp_connect(b, "127.0.0.1", wp_listener_port(l), NULL, &c, &err), WP_OK);
    pthread_join(th, NULL);
    for (int i = 0; i < 5000 && !atomic_load(&g.slots[0].got_closed); i++)
        sleep_ms(1);
    wp_ctx_free(b);
    wp_ctx_free(a);
    assert_int_equal(atomic_load(&g.cli_closed), 1);
    assert_int_equal(last, WP_EREFUSED); /* the peer's abort is a reset */
    assert_int_equal(atomic_load(&g.srv_wrong_user), 0);
    assert_int_equal(atomic_load(&g.next_slot), 1);
    assert_true(atomic_load(&g.slots[0].got_closed));
    assert_true(g.slots[0].n_events > 100);
    rt_identity_free(ida, ha);
    rt_identity_free(idb, hb);
}

/* ---------------------------------------------------------------- accepted, retained */

static atomic_int g_acc_closed;
static wp_conn *_Atomic g_acc[4];
static atomic_int g_acc_n;

static int on_acc(const wp_event *ev, void *user)
{
    (void)user;
    if (ev->type == WP_EV_CONNECTED && ev->listener) {
        int i = atomic_fetch_add(&g_acc_n, 1);
        if (i < 4)
            atomic_store(&g_acc[i], ev->conn);
    }
    if (ev->type == WP_EV_CLOSED && ev->listener)
        atomic_fetch_add(&g_acc_closed, 1);
    return ev->type == WP_EV_PEER_IDENTITY ? WP_TRUST_ACCEPT : 0;
}

/* A listener with is_retained: each accepted connection comes with a reference. */
static void test_retained_listener(void **state)
{
    (void)state;
    char home[64];
    wp_identity *id = rt_identity(home);
    wp_ctx *ctx = new_ctx(id, on_acc, NULL);
    wp_listener *l;
    wp_error err;
    wp_conn_opts o;
    wp_conn_opts_init(&o);
    o.is_retained = true;
    assert_int_equal(wp_listen(ctx, "127.0.0.1", 0, &o, &l, &err), WP_OK);
    assert_int_equal(wp_ctx_start(ctx), WP_OK);
    wp_conn *c;
    /* Connect to ourselves; the outgoing side is not retained. */
    assert_int_equal(wp_connect(ctx, "127.0.0.1", wp_listener_port(l), NULL, &c, &err), WP_OK);
    for (int i = 0; i < 5000 && atomic_load(&g_acc_n) == 0; i++)
        sleep_ms(1);
    wp_conn *acc = atomic_load(&g_acc[0]);
    assert_non_null(acc);
    wp_conn_abort(acc);
    for (int i = 0; i < 5000 && atomic_load(&g_acc_closed) == 0; i++)
        sleep_ms(1);
    assert_int_equal(wp_conn_send(acc, "x", 1), WP_ECLOSED); /* our abort */
    assert_int_equal(wp_ctx_stop(ctx), WP_OK);
    assert_true(ctx_has_conn(ctx, acc));
    assert_int_equal(wp_ctx_start(ctx), WP_OK);
    wp_conn_release(acc);
    sleep_ms(50);
    assert_int_equal(wp_ctx_stop(ctx), WP_OK);
    assert_false(ctx_has_conn(ctx, acc));
    wp_ctx_free(ctx);
    rt_identity_free(id, home);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retained_connect_outlives_close),
        cmocka_unit_test(test_sender_thread_after_abort),
        cmocka_unit_test(test_retained_listener),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

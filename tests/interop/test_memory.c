/*
 * Memory of live connections over real loopback sockets: after a burst
 * (one 1 MiB message each way) a connection that goes idle gives its engine
 * buffers back, so it holds no more than before the burst; a busy
 * connection (ping-pong from the message callbacks, echoing the borrowed
 * message data) allocates nothing per message. Measured through a counting
 * allocator (wp_set_allocator: every library allocation) and the engine's
 * own buffer accounting (conn_buffer_bytes).
 */
#include "rt_test.h"

#include <stdatomic.h>

#include "core/conn.h"
#include "runtime/rt.h"

/* ---------------------------------------------------------------- counting allocator */

#define HDR 16 /* keeps malloc's alignment */

static atomic_size_t g_live;   /* bytes allocated and not yet freed */
static atomic_size_t g_allocs; /* allocation calls (malloc, and realloc to a new size) */

static void *count_malloc(size_t n)
{
    uint8_t *p = malloc(n + HDR);
    if (!p)
        return NULL;
    memcpy(p, &n, sizeof n);
    atomic_fetch_add(&g_live, n);
    atomic_fetch_add(&g_allocs, 1);
    return p + HDR;
}

static void count_free(void *q)
{
    if (!q)
        return;
    uint8_t *p = (uint8_t *)q - HDR;
    size_t n;
    memcpy(&n, p, sizeof n);
    atomic_fetch_sub(&g_live, n);
    free(p);
}

static void *count_realloc(void *q, size_t n)
{
    if (!q)
        return count_malloc(n);
    uint8_t *p = (uint8_t *)q - HDR;
    size_t old;
    memcpy(&old, p, sizeof old);
    uint8_t *np = realloc(p, n + HDR);
    if (!np)
        return NULL;
    memcpy(np, &n, sizeof n);
    atomic_fetch_sub(&g_live, old);
    atomic_fetch_add(&g_live, n);
    atomic_fetch_add(&g_allocs, 1);
    return np + HDR;
}

/* ---------------------------------------------------------------- a pair of peers */

struct peer {
    wp_conn *conn;
    int n_auth, n_closed, n_msgs;
    bool echo;          /* answer every message with its own bytes, from the callback */
    size_t expect_len;  /* the length every message must have */
    uint8_t seed;       /* the content every message must have: rt_byte(seed, j) */
    int bad;            /* messages that were not what was expected */
};

static int on_event(const wp_event *ev, void *user)
{
    struct peer *p = user;
    switch (ev->type) {
    case WP_EV_PEER_IDENTITY:
        return WP_TRUST_ACCEPT;
    case WP_EV_AUTHENTICATED:
        p->conn = ev->conn;
        p->n_auth++;
        break;
    case WP_EV_MESSAGE:
        p->n_msgs++;
        if (ev->len != p->expect_len)
            p->bad++;
        for (size_t j = 0; j < ev->len && j < p->expect_len; j++)
            if (ev->data[j] != rt_byte(p->seed, j)) {
                p->bad++;
                break;
            }
        /* ev->data is the engine's frame buffer: sending it straight back must work. */
        if (p->echo && wp_conn_send(ev->conn, ev->data, ev->len) != WP_OK)
            p->bad++;
        break;
    case WP_EV_CLOSED:
        p->n_closed++;
        break;
    default:
        break;
    }
    return 0;
}

struct pair {
    char home_a[64], home_b[64];
    wp_identity *id_a, *id_b;
    wp_ctx *a, *b;
    struct peer pa, pb;
    int64_t until; /* for run_for */
};

static wp_ctx *new_ctx(const wp_identity *id, struct peer *p)
{
    wp_ctx_config cfg;
    wp_ctx *ctx = NULL;
    wp_ctx_config_init(&cfg);
    cfg.identity = id;
    cfg.on_event = on_event;
    cfg.user = p;
    assert_int_equal(wp_ctx_new(&cfg, &ctx, NULL), WP_OK);
    return ctx;
}

static bool both_auth(void *arg)
{
    struct pair *p = arg;
    return p->pa.n_auth && p->pb.n_auth;
}

static bool never(void *arg)
{
    struct pair *p = arg;
    return p->pa.n_closed || p->pb.n_closed; /* only a failure ends the wait early */
}

static void run_for(struct pair *p, int ms)
{
    assert_false(rt_run(p->a, p->b, never, p, ms));
}

static void pair_up(struct pair *p)
{
    wp_listener *l;
    wp_conn *c;
    memset(p, 0, sizeof *p);
    p->id_a = rt_identity(p->home_a);
    p->id_b = rt_identity(p->home_b);
    p->a = new_ctx(p->id_a, &p->pa);
    p->b = new_ctx(p->id_b, &p->pb);
    assert_int_equal(wp_listen(p->a, "127.0.0.1", 0, NULL, &l, NULL), WP_OK);
    assert_int_equal(wp_connect(p->b, "127.0.0.1", wp_listener_port(l), NULL, &c, NULL), WP_OK);
    assert_true(rt_run(p->a, p->b, both_auth, p, 10000));
}

static void pair_down(struct pair *p)
{
    wp_ctx_free(p->a);
    wp_ctx_free(p->b);
    rt_identity_free(p->id_a, p->home_a);
    rt_identity_free(p->id_b, p->home_b);
}

/* The engine buffers a connection holds now (its output and frame buffers). */
static size_t engine_bytes(wp_conn *c)
{
    return conn_buffer_bytes(c->core);
}

/* ---------------------------------------------------------------- tests */

struct got {
    struct pair *p;
    int want;
};

static bool both_got(void *arg)
{
    struct got *g = arg;
    return g->p->pa.n_msgs >= g->want && g->p->pb.n_msgs >= g->want;
}

/*
 * One 1 MiB message each way, then idle: both ends give their output and
 * frame buffers back, and hold no more library memory than before the
 * burst. The connection still works afterwards.
 */
static void test_burst_then_idle(void **state)
{
    (void)state;
    struct pair p;
    pair_up(&p);
    /* Idle after the handshake: even the handshake's buffers go. */
    run_for(&p, 2500);
    assert_int_equal(engine_bytes(p.pa.conn), 0);
    assert_int_equal(engine_bytes(p.pb.conn), 0);
    size_t live0 = atomic_load(&g_live);

    size_t n = WP_MESSAGE_MAX_DEFAULT;
    uint8_t *big = malloc(n);
    assert_non_null(big);
    for (size_t j = 0; j < n; j++)
        big[j] = rt_byte(7, j);
    p.pa.expect_len = p.pb.expect_len = n;
    p.pa.seed = p.pb.seed = 7;
    assert_int_equal(wp_conn_send(p.pb.conn, big, n), WP_OK);
    assert_int_equal(wp_conn_send(p.pa.conn, big, n), WP_OK);
    struct got g = {.p = &p, .want = 1};
    assert_true(rt_run(p.a, p.b, both_got, &g, 30000));
    /* The burst really grew them: a frame buffer of the message's size at least. */
    size_t grown_a = engine_bytes(p.pa.conn), grown_b = engine_bytes(p.pb.conn);
    assert_true(grown_a >= n);
    assert_true(grown_b >= n);

    run_for(&p, 2500);
    size_t live1 = atomic_load(&g_live);
    print_message("engine buffers: %zu / %zu B after the burst, %zu / %zu B idle; "
                  "library heap %zu B before, %zu B after\n",
                  grown_a, grown_b, engine_bytes(p.pa.conn), engine_bytes(p.pb.conn), live0,
                  live1);
    assert_int_equal(engine_bytes(p.pa.conn), 0);
    assert_int_equal(engine_bytes(p.pb.conn), 0);
    assert_true(live1 <= live0);

    /* Still a working connection: small messages after the trim. */
    p.pa.expect_len = p.pb.expect_len = 100;
    assert_int_equal(wp_conn_send(p.pb.conn, big, 100), WP_OK);
    assert_int_equal(wp_conn_send(p.pa.conn, big, 100), WP_OK);
    g.want = 2;
    assert_true(rt_run(p.a, p.b, both_got, &g, 10000));
    assert_int_equal(p.pa.bad + p.pb.bad, 0);
    assert_int_equal(p.pa.n_closed + p.pb.n_closed, 0);
    free(big);
    pair_down(&p);
}

/*
 * A busy connection keeps its buffers: messages bounce between the two
 * message callbacks (each echoing the data it borrows) for longer than the
 * idle period, and not one allocation happens meanwhile.
 */
static void test_busy_allocates_nothing(void **state)
{
    (void)state;
    struct pair p;
    pair_up(&p);
    uint8_t msg[300];
    for (size_t j = 0; j < sizeof msg; j++)
        msg[j] = rt_byte(3, j);
    p.pa.expect_len = p.pb.expect_len = sizeof msg;
    p.pa.seed = p.pb.seed = 3;
    p.pa.echo = p.pb.echo = true;
    assert_int_equal(wp_conn_send(p.pb.conn, msg, sizeof msg), WP_OK);
    struct got g = {.p = &p, .want = 10};
    assert_true(rt_run(p.a, p.b, both_got, &g, 10000));
    size_t allocs0 = atomic_load(&g_allocs);
    int msgs0 = p.pa.n_msgs;
    run_for(&p, 2500);
    size_t allocs = atomic_load(&g_allocs) - allocs0;
    print_message("%d messages, %zu allocations\n", p.pa.n_msgs - msgs0, allocs);
    assert_true(p.pa.n_msgs - msgs0 > 100);
    assert_int_equal(allocs, 0);
    assert_int_equal(p.pa.bad + p.pb.bad, 0);
    assert_int_equal(p.pa.n_closed + p.pb.n_closed, 0);
    pair_down(&p);
}

int main(void)
{
    /* Before any wipeer object exists. */
    if (wp_set_allocator(count_malloc, count_realloc, count_free) != WP_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_idle),
        cmocka_unit_test(test_busy_allocates_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

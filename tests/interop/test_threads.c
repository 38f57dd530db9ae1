/*
 * The thread-safe API under contention (label tsan: scripts/tsan.sh runs it
 * under ThreadSanitizer; the default run runs it under ASan).
 *
 * Two contexts on loop threads of their own (wp_ctx_start; one epoll, one
 * poll backend). Many application threads send on many connections at
 * once; the bounded send queues push back (WP_EFULL, then WP_EV_WRITABLE).
 * Every message names its sender thread and sequence number: the receiver
 * checks that each thread's messages on each connection arrive whole,
 * exactly once and in order. Then the main thread half-closes everything
 * and both sides see WP_OK.
 */
#include "rt_test.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#define N_CONNS 8
#define N_THREADS 8
#define N_MSGS 400 /* per thread per connection */
#define MSG_MAX 3000

struct shared {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    wp_conn *conns[N_CONNS]; /* b's connections, by index */
    int auth_b, auth_a, closed_ok, closed_bad, writable;
    uint32_t next_seq[N_CONNS][N_THREADS]; /* receiver side, per a-connection index */
    int errors;
    long received;
    char last_bad[WP_ERROR_DETAIL_MAX + 32];
};

static struct shared g;

static size_t msg_len(unsigned c, unsigned t, uint32_t seq)
{
    return 12 + (c * 7919u + t * 104729u + seq * 31u) % (MSG_MAX - 12);
}

static void fill(uint8_t *m, size_t len, unsigned c, unsigned t, uint32_t seq)
{
    m[0] = (uint8_t)c;
    m[1] = (uint8_t)t;
    m[2] = (uint8_t)(seq >> 24);
    m[3] = (uint8_t)(seq >> 16);
    m[4] = (uint8_t)(seq >> 8);
    m[5] = (uint8_t)seq;
    for (size_t j = 6; j < len; j++)
        m[j] = rt_byte(c * 1000003u + t * 1009u + seq, j);
}

static void closed(const wp_event *ev, const char *side)
{
    pthread_mutex_lock(&g.mu);
    if (ev->reason == WP_OK) {
        g.closed_ok++;
    } else {
        g.closed_bad++;
        snprintf(g.last_bad, sizeof g.last_bad, "%s: %s %s", side, wp_status_name(ev->reason),
                 ev->detail);
    }
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
}

static int on_a(const wp_event *ev, void *user)
{
    (void)user;
    switch (ev->type) {
    case WP_EV_PEER_IDENTITY:
        return WP_TRUST_ACCEPT;
    case WP_EV_AUTHENTICATED:
        pthread_mutex_lock(&g.mu);
        g.auth_a++;
        pthread_mutex_unlock(&g.mu);
        break;
    case WP_EV_MESSAGE: {
        /* Only the loop thread of a touches next_seq; the lock is for the totals. */
        uint8_t expect[MSG_MAX];
        if (ev->len < 12) {
            pthread_mutex_lock(&g.mu);
            g.errors++;
            pthread_mutex_unlock(&g.mu);
            break;
        }
        unsigned c = ev->data[0], t = ev->data[1];
        uint32_t seq = (uint32_t)ev->data[2] << 24 | (uint32_t)ev->data[3] << 16 |
                       (uint32_t)ev->data[4] << 8 | ev->data[5];
        bool ok = c < N_CONNS && t < N_THREADS && seq == g.next_seq[c][t] &&
                  ev->len == msg_len(c, t, seq);
        if (ok) {
            fill(expect, ev->len, c, t, seq);
            ok = memcmp(expect, ev->data, ev->len) == 0;
            g.next_seq[c][t]++;
        }
        pthread_mutex_lock(&g.mu);
        g.received++;
        if (!ok)
            g.errors++;
        pthread_cond_broadcast(&g.cv);
        pthread_mutex_unlock(&g.mu);
        break;
    }
    case WP_EV_PEER_CLOSED:
        assert_int_equal(wp_conn_close(ev->conn), WP_OK);
        break;
    case WP_EV_CLOSED:
        closed(ev, "a");
        break;
    default:
        break;
    }
    return 0;
}

static int on_b(const wp_event *ev, void *user)
{
    (void)user;
    switch (ev->type) {
    case WP_EV_PEER_IDENTITY:
        return WP_TRUST_ACCEPT;
    case WP_EV_AUTHENTICATED:
        pthread_mutex_lock(&g.mu);
        g.conns[(uintptr_t)ev->conn_user] = ev->conn;
        g.auth_b++;
        pthread_cond_broadcast(&g.cv);
        pthread_mutex_unlock(&g.mu);
        break;
    case WP_EV_WRITABLE:
        pthread_mutex_lock(&g.mu);
        g.writable++;
        pthread_cond_broadcast(&g.cv);
        pthread_mutex_unlock(&g.mu);
        break;
    case WP_EV_CLOSED:
        closed(ev, "b");
        break;
    default:
        break;
    }
    return 0;
}

static void *sender(void *arg)
{
    unsigned t = (unsigned)(uintptr_t)arg;
    uint8_t m[MSG_MAX];
    uint32_t seq[N_CONNS] = {0};
    bool left = true;
    while (left) {
        left = false;
        for (unsigned c = 0; c < N_CONNS; c++) {
            if (seq[c] == N_MSGS)
                continue;
            left = true;
            size_t len = msg_len(c, t, seq[c]);
            fill(m, len, c, t, seq[c]);
            pthread_mutex_lock(&g.mu);
            wp_conn *conn = g.conns[c];
            int w = g.writable;
            pthread_mutex_unlock(&g.mu);
            wp_status st = wp_conn_send(conn, m, len);
            if (st == WP_OK) {
                seq[c]++;
                continue;
            }
            assert_int_equal(st, WP_EFULL);
            /* Wait for any WRITABLE after our attempt (bounded: a lost wake-up is a bug). */
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 30;
            pthread_mutex_lock(&g.mu);
            while (g.writable == w && g.closed_bad == 0)
                if (pthread_cond_timedwait(&g.cv, &g.mu, &until) != 0)
                    break;
            pthread_mutex_unlock(&g.mu);
        }
    }
    return NULL;
}

static void wait_for(int *counter, int want, int seconds)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += seconds;
    pthread_mutex_lock(&g.mu);
    while (*counter < want && g.closed_bad == 0)
        if (pthread_cond_timedwait(&g.cv, &g.mu, &until) != 0)
            break;
    int got = *counter;
    pthread_mutex_unlock(&g.mu);
    if (got < want)
        fail_msg("waited for %d, got %d (%s)", want, got, g.last_bad);
}

static void test_many_threads_many_conns(void **state)
{
    (void)state;
    char ha[64], hb[64];
    wp_identity *ida = rt_identity(ha), *idb = rt_identity(hb);
    wp_ctx_config cfg;
    wp_ctx *a, *b;
    wp_error err;
    pthread_mutex_init(&g.mu, NULL);
    pthread_cond_init(&g.cv, NULL);
    wp_ctx_config_init(&cfg);
    cfg.identity = ida;
    cfg.on_event = on_a;
    cfg.backend = WP_LOOP_EPOLL;
    assert_int_equal(wp_ctx_new(&cfg, &a, &err), WP_OK);
    cfg.identity = idb;
    cfg.on_event = on_b;
    cfg.backend = WP_LOOP_POLL;
    assert_int_equal(wp_ctx_new(&cfg, &b, &err), WP_OK);
    assert_int_equal(wp_ctx_fd(b), -1); /* no aggregate fd with poll */
    assert_int_equal(wp_ctx_start(a), WP_OK);
    assert_int_equal(wp_ctx_start(b), WP_OK);
    assert_int_equal(wp_ctx_start(b), WP_ESTATE);
    assert_int_equal(wp_ctx_process(a), WP_ESTATE); /* our thread owns the loop */
    wp_listener *l;
    assert_int_equal(wp_listen(a, "127.0.0.1", 0, NULL, &l, &err), WP_OK);
    for (unsigned i = 0; i < N_CONNS; i++) {
        wp_conn_opts o;
        wp_conn *c;
        wp_conn_opts_init(&o);
        o.user = (void *)(uintptr_t)i;
        o.send_queue_max = 16 * 1024; /* small: force WP_EFULL and WRITABLE */
        assert_int_equal(wp_connect(b, "127.0.0.1", wp_listener_port(l), &o, &c, &err), WP_OK);
    }
    wait_for(&g.auth_b, N_CONNS, 60);
    wait_for(&g.auth_a, N_CONNS, 60);
    pthread_t th[N_THREADS];
    for (unsigned t = 0; t < N_THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, sender, (void *)(uintptr_t)t), 0);
    for (unsigned t = 0; t < N_THREADS; t++)
        pthread_join(th[t], NULL);
    for (unsigned c = 0; c < N_CONNS; c++)
        assert_int_equal(wp_conn_close(g.conns[c]), WP_OK);
    wait_for(&g.closed_ok, 2 * N_CONNS, 120);
    /* Stop and restart a loop thread: nothing is lost, it just pauses. */
    assert_int_equal(wp_ctx_stop(a), WP_OK);
    assert_int_equal(wp_ctx_stop(a), WP_ESTATE);
    assert_int_equal(wp_ctx_start(a), WP_OK);
    wp_ctx_free(a); /* stops the thread itself */
    wp_ctx_free(b);
    assert_int_equal(g.closed_bad, 0);
    assert_int_equal(g.errors, 0);
    assert_int_equal(g.received, (long)N_CONNS * N_THREADS * N_MSGS);
    assert_true(g.writable > 0);
    for (unsigned c = 0; c < N_CONNS; c++)
        for (unsigned t = 0; t < N_THREADS; t++)
            assert_int_equal(g.next_seq[c][t], N_MSGS);
    rt_identity_free(ida, ha);
    rt_identity_free(idb, hb);
}

/* ---------------------------------------------------------------- close vs. sends */

/*
 * A thread sends as fast as it can while the loop thread closes the same
 * connection from a callback: every send that returned WP_OK must reach the
 * peer before the clean close (review 4, C1: a send still in the context's
 * command queue was dropped while both ends reported WP_OK).
 */
static struct {
    atomic_int srv_msgs, cli_auth, cli_closed, srv_closed;
    atomic_int cli_reason, srv_reason;
    atomic_long ok_sends;
    atomic_bool stop;
    wp_conn *_Atomic cli_conn, *_Atomic srv_conn;
} cr;

static int cr_on_srv(const wp_event *ev, void *user)
{
    (void)user;
    switch (ev->type) {
    case WP_EV_PEER_IDENTITY:
        return WP_TRUST_ACCEPT;
    case WP_EV_AUTHENTICATED:
        atomic_store(&cr.srv_conn, ev->conn);
        break;
    case WP_EV_MESSAGE:
        atomic_fetch_add(&cr.srv_msgs, 1);
        break;
    case WP_EV_PEER_CLOSED:
        assert_int_equal(wp_conn_close(ev->conn), WP_OK);
        break;
    case WP_EV_CLOSED:
        atomic_store(&cr.srv_reason, (int)ev->reason);
        atomic_store(&cr.srv_closed, 1);
        break;
    default:
        break;
    }
    return 0;
}

static int cr_on_cli(const wp_event *ev, void *user)
{
    (void)user;
    switch (ev->type) {
    case WP_EV_PEER_IDENTITY:
        return WP_TRUST_ACCEPT;
    case WP_EV_AUTHENTICATED:
        atomic_store(&cr.cli_conn, ev->conn);
        atomic_store(&cr.cli_auth, 1);
        break;
    case WP_EV_MESSAGE: /* the server says stop: close our direction, on the loop thread */
        assert_int_equal(wp_conn_close(ev->conn), WP_OK);
        break;
    case WP_EV_CLOSED:
        atomic_store(&cr.cli_reason, (int)ev->reason);
        atomic_store(&cr.cli_closed, 1);
        atomic_store(&cr.stop, true);
        break;
    default:
        break;
    }
    return 0;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void *cr_sender(void *arg)
{
    (void)arg;
    uint8_t m[64] = {0};
    for (int i = 0; i < 10000 && !atomic_load(&cr.cli_auth) && !atomic_load(&cr.stop); i++)
        sleep_ms(1);
    wp_conn *c = atomic_load(&cr.cli_conn);
    while (c && !atomic_load(&cr.stop)) {
        wp_status st = wp_conn_send(c, m, sizeof m);
        if (st == WP_OK)
            atomic_fetch_add(&cr.ok_sends, 1);
        else if (st == WP_EFULL)
            sched_yield();
        else
            break; /* WP_ESTATE once the close is requested */
    }
    return NULL;
}

static void test_close_from_callback_keeps_accepted_sends(void **state)
{
    (void)state;
    char ha[64], hb[64];
    wp_identity *ida = rt_identity(ha), *idb = rt_identity(hb);
    for (int round = 0; round < 4; round++) {
        wp_ctx_config cfg;
        wp_ctx *a, *b;
        wp_error err;
        wp_listener *l;
        wp_conn *c;
        pthread_t th;
        memset(&cr, 0, sizeof cr);
        atomic_store(&cr.cli_reason, -1);
        atomic_store(&cr.srv_reason, -1);
        wp_ctx_config_init(&cfg);
        cfg.identity = ida;
        cfg.on_event = cr_on_srv;
        assert_int_equal(wp_ctx_new(&cfg, &a, &err), WP_OK);
        cfg.identity = idb;
        cfg.on_event = cr_on_cli;
        assert_int_equal(wp_ctx_new(&cfg, &b, &err), WP_OK);
        assert_int_equal(wp_listen(a, "127.0.0.1", 0, NULL, &l, &err), WP_OK);
        assert_int_equal(wp_ctx_start(a), WP_OK);
        assert_int_equal(wp_ctx_start(b), WP_OK);
        assert_int_equal(pthread_create(&th, NULL, cr_sender, NULL), 0);
        assert_int_equal(wp_connect(b, "127.0.0.1", wp_listener_port(l), NULL, &c, &err), WP_OK);
        for (int i = 0; i < 10000 && !atomic_load(&cr.srv_conn); i++)
            sleep_ms(1);
        assert_non_null(atomic_load(&cr.srv_conn));
        sleep_ms(20); /* let the sender fill the queues */
        assert_int_equal(wp_conn_send(atomic_load(&cr.srv_conn), "s", 1), WP_OK);
        for (int i = 0; i < 3000 && !(atomic_load(&cr.cli_closed) && atomic_load(&cr.srv_closed));
             i++)
            sleep_ms(10);
        atomic_store(&cr.stop, true);
        pthread_join(th, NULL);
        wp_ctx_free(b);
        wp_ctx_free(a);
        long sent = atomic_load(&cr.ok_sends);
        int got = atomic_load(&cr.srv_msgs);
        if (got != sent || atomic_load(&cr.cli_reason) != WP_OK ||
            atomic_load(&cr.srv_reason) != WP_OK)
            fail_msg("round %d: %ld sends accepted, %d received; client %s, server %s", round,
                     sent, got, wp_status_name((wp_status)atomic_load(&cr.cli_reason)),
                     wp_status_name((wp_status)atomic_load(&cr.srv_reason)));
        assert_true(sent > 0);
    }
    rt_identity_free(ida, ha);
    rt_identity_free(idb, hb);
}

/* ---------------------------------------------------------------- early trust answer */

/*
 * The PEER_IDENTITY callback hands the key to a verifier thread, which
 * answers before the callback has returned WP_TRUST_DEFER (review 4, H1:
 * that answer was refused with WP_ESTATE and the handshake timed out).
 */
static struct {
    atomic_int trust_rc, auth, closed, reason;
} et;

static void *et_decider(void *arg)
{
    atomic_store(&et.trust_rc, (int)wp_conn_trust(arg, true));
    return NULL;
}

static int et_on_srv(const wp_event *ev, void *user)
{
    (void)user;
    if (ev->type == WP_EV_PEER_IDENTITY) {
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, et_decider, ev->conn), 0);
        pthread_join(t, NULL); /* a fast verifier: answered before we return */
        return WP_TRUST_DEFER;
    }
    if (ev->type == WP_EV_AUTHENTICATED)
        atomic_store(&et.auth, 1);
    if (ev->type == WP_EV_CLOSED) {
        atomic_store(&et.reason, (int)ev->reason);
        atomic_store(&et.closed, 1);
    }
    return 0;
}

static int et_on_cli(const wp_event *ev, void *user)
{
    (void)user;
    return ev->type == WP_EV_PEER_IDENTITY ? WP_TRUST_ACCEPT : 0;
}

static void test_trust_answer_from_thread_before_defer(void **state)
{
    (void)state;
    char ha[64], hb[64];
    wp_identity *ida = rt_identity(ha), *idb = rt_identity(hb);
    wp_ctx_config cfg;
    wp_ctx *a, *b;
    wp_error err;
    wp_listener *l;
    wp_conn *c;
    wp_conn_opts o;
    atomic_store(&et.trust_rc, -1);
    wp_conn_opts_init(&o);
    o.handshake_timeout_ms = 3000;
    wp_ctx_config_init(&cfg);
    cfg.identity = ida;
    cfg.on_event = et_on_srv;
    assert_int_equal(wp_ctx_new(&cfg, &a, &err), WP_OK);
    cfg.identity = idb;
    cfg.on_event = et_on_cli;
    assert_int_equal(wp_ctx_new(&cfg, &b, &err), WP_OK);
    assert_int_equal(wp_listen(a, "127.0.0.1", 0, &o, &l, &err), WP_OK);
    assert_int_equal(wp_ctx_start(a), WP_OK);
    assert_int_equal(wp_ctx_start(b), WP_OK);
    assert_int_equal(wp_connect(b, "127.0.0.1", wp_listener_port(l), &o, &c, &err), WP_OK);
    for (int i = 0; i < 2000 && !atomic_load(&et.auth) && !atomic_load(&et.closed); i++)
        sleep_ms(1);
    wp_ctx_free(b);
    wp_ctx_free(a);
    assert_int_equal(atomic_load(&et.trust_rc), WP_OK);
    if (!atomic_load(&et.auth))
        fail_msg("not authenticated; closed: %d (%s)", atomic_load(&et.closed),
                 wp_status_name((wp_status)atomic_load(&et.reason)));
    rt_identity_free(ida, ha);
    rt_identity_free(idb, hb);
}

/* ---------------------------------------------------------------- concurrent stop */

/*
 * Two threads call wp_ctx_stop at once: one joins the loop thread, the
 * other gets WP_ESTATE (review 4, L3: both joined it, which is undefined).
 */
static struct {
    pthread_barrier_t go;
    wp_ctx *ctx;
} cs;

static void *cs_stopper(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&cs.go);
    return (void *)(uintptr_t)wp_ctx_stop(cs.ctx);
}

static int cs_on_event(const wp_event *ev, void *user)
{
    (void)ev;
    (void)user;
    return 0;
}

static void test_concurrent_stop(void **state)
{
    (void)state;
    char home[64];
    wp_identity *id = rt_identity(home);
    wp_ctx_config cfg;
    wp_error err;
    wp_ctx_config_init(&cfg);
    cfg.identity = id;
    cfg.on_event = cs_on_event;
    assert_int_equal(wp_ctx_new(&cfg, &cs.ctx, &err), WP_OK);
    for (int round = 0; round < 50; round++) {
        pthread_t th[2];
        void *rc[2];
        assert_int_equal(wp_ctx_start(cs.ctx), WP_OK);
        assert_int_equal(pthread_barrier_init(&cs.go, NULL, 2), 0);
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_create(&th[i], NULL, cs_stopper, NULL), 0);
        for (int i = 0; i < 2; i++)
            pthread_join(th[i], &rc[i]);
        pthread_barrier_destroy(&cs.go);
        wp_status a = (wp_status)(uintptr_t)rc[0], b = (wp_status)(uintptr_t)rc[1];
        if (!((a == WP_OK && b == WP_ESTATE) || (a == WP_ESTATE && b == WP_OK)))
            fail_msg("round %d: the two wp_ctx_stop returned %s and %s", round,
                     wp_status_name(a), wp_status_name(b));
        /* Stopped for good: process works again. */
        assert_int_equal(wp_ctx_process(cs.ctx), WP_OK);
    }
    wp_ctx_free(cs.ctx);
    rt_identity_free(id, home);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_threads_many_conns),
        cmocka_unit_test(test_close_from_callback_keeps_accepted_sends),
        cmocka_unit_test(test_trust_answer_from_thread_before_defer),
        cmocka_unit_test(test_concurrent_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

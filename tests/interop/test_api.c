/*
 * The public connection API over real loopback sockets, both ends in this
 * process, driven through the application-loop API (wp_ctx_fd,
 * wp_ctx_timeout_ms, wp_ctx_process). Each test is one behaviour users rely
 * on: messages whole and in order, half-close, trust decisions, expected
 * fingerprints, refused and stalled connections, foreign peers,
 * back-pressure, timeouts.
 */
#include "rt_test.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <sys/socket.h>

struct pair {
    char home_a[64], home_b[64];
    wp_identity *id_a, *id_b;
    struct rec ra, rb;
    wp_ctx *a, *b; /* a listens, b connects */
    wp_listener *l;
    uint16_t port;
    wp_conn *cb; /* b's connection */
};

static void pair_setup(struct pair *p, int trust_a, int trust_b, const wp_conn_opts *lopts)
{
    wp_error err;
    memset(p, 0, sizeof *p);
    p->id_a = rt_identity(p->home_a);
    p->id_b = rt_identity(p->home_b);
    rec_init(&p->ra, trust_a);
    rec_init(&p->rb, trust_b);
    p->a = rt_ctx(p->id_a, &p->ra, WP_LOOP_DEFAULT);
    p->b = rt_ctx(p->id_b, &p->rb, WP_LOOP_DEFAULT);
    wp_status st = wp_listen(p->a, "127.0.0.1", 0, lopts, &p->l, &err);
    if (st != WP_OK)
        fail_msg("listen: %s (%s)", wp_strerror(st), err.detail);
    p->port = wp_listener_port(p->l);
    assert_true(p->port > 0);
}

static void pair_connect(struct pair *p, const char *host, const wp_conn_opts *opts)
{
    wp_error err;
    wp_status st = wp_connect(p->b, host, p->port, opts, &p->cb, &err);
    if (st != WP_OK)
        fail_msg("connect: %s (%s)", wp_strerror(st), err.detail);
}

static void pair_teardown(struct pair *p)
{
    wp_ctx_free(p->a);
    wp_ctx_free(p->b);
    rt_identity_free(p->id_a, p->home_a);
    rt_identity_free(p->id_b, p->home_b);
    rec_clear(&p->ra);
    rec_clear(&p->rb);
}

static bool both_closed(void *arg)
{
    struct pair *p = arg;
    return p->ra.n_closed > 0 && p->rb.n_closed > 0;
}

static bool both_auth(void *arg)
{
    struct pair *p = arg;
    return p->ra.n_auth > 0 && p->rb.n_auth > 0;
}

static bool b_closed(void *arg)
{
    struct pair *p = arg;
    return p->rb.n_closed > 0;
}

static bool a_closed(void *arg)
{
    struct pair *p = arg;
    return p->ra.n_closed > 0;
}

/* Messages both ways, then a half-close from each side: WP_OK on both. */
static void test_exchange_and_half_close(void **state)
{
    (void)state;
    struct pair p;
    pair_setup(&p, WP_TRUST_ACCEPT, WP_TRUST_ACCEPT, NULL);
    p.ra.close_on_peer_closed = true;
    pair_connect(&p, "127.0.0.1", NULL);
    /* Queued before authentication: sent after it. */
    assert_int_equal(wp_conn_send(p.cb, "hello", 5), WP_OK);
    assert_int_equal(wp_conn_send(p.cb, "", 0), WP_OK);
    assert_true(rt_run(p.a, p.b, both_auth, &p, 5000));
    wp_fingerprint fa, fb;
    wp_identity_fingerprint(p.id_a, &fa);
    wp_identity_fingerprint(p.id_b, &fb);
    assert_true(wp_fingerprint_equal(&p.rb.peer_fp, &fa));
    assert_true(wp_fingerprint_equal(&p.ra.peer_fp, &fb));
    wp_fingerprint got;
    assert_int_equal(wp_conn_peer(p.cb, NULL, &got), WP_OK);
    assert_true(wp_fingerprint_equal(&got, &fa));
    char addr[WP_ADDRESS_STR];
    wp_conn_remote_address(p.cb, addr, sizeof addr);
    char want[32];
    snprintf(want, sizeof want, "127.0.0.1:%u", p.port);
    assert_string_equal(addr, want);
    /* a answers on its side while b half-closes. */
    assert_int_equal(wp_conn_send(p.ra.conn, "world", 5), WP_OK);
    assert_int_equal(wp_conn_close(p.cb), WP_OK);
    assert_int_equal(wp_conn_send(p.cb, "late", 4), WP_ESTATE);
    assert_true(rt_run(p.a, p.b, both_closed, &p, 5000));
    assert_int_equal(p.ra.reason, WP_OK);
    assert_int_equal(p.rb.reason, WP_OK);
    assert_int_equal(p.ra.n_msgs, 2);
    assert_int_equal(p.ra.lens[0], 5);
    assert_int_equal(p.ra.lens[1], 0);
    assert_memory_equal(p.ra.rx, "hello", 5);
    assert_int_equal(p.rb.n_msgs, 1);
    assert_memory_equal(p.rb.rx, "world", 5);
    assert_int_equal(p.ra.n_peer_closed, 1);
    assert_int_equal(p.rb.n_peer_closed, 0); /* b closed first: CLOSED only */
    assert_int_equal(p.ra.order_errors + p.rb.order_errors, 0);
    assert_int_equal(p.ra.n_connected, 1);
    assert_int_equal(p.rb.n_connected, 1);
    pair_teardown(&p);
}

static int raw_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

/* Nobody listens: WP_EREFUSED with the address in the detail. */
static void test_refused(void **state)
{
    (void)state;
    struct pair p;
    pair_setup(&p, WP_TRUST_ACCEPT, WP_TRUST_ACCEPT, NULL);
    wp_listener_close(p.l); /* frees the port */
    assert_int_equal(wp_ctx_process(p.a), WP_OK); /* the loop closes the socket */
    pair_connect(&p, "127.0.0.1", NULL);
    assert_true(rt_run(p.a, p.b, b_closed, &p, 5000));
    assert_int_equal(p.rb.reason, WP_EREFUSED);
    assert_non_null(strstr(p.rb.detail, "refused"));
    assert_int_equal(p.rb.n_connected, 0);
    pair_teardown(&p);
}

/* A raw TCP client that sends half a hello and stalls: the listener's handshake deadline. */
static void test_stalled_handshake(void **state)
{
    (void)state;
    struct pair p;
    wp_conn_opts o;
    wp_conn_opts_init(&o);
    o.handshake_timeout_ms = 300;
    pair_setup(&p, WP_TRUST_ACCEPT, WP_TRUST_ACCEPT, &o);
    int fd = raw_connect(p.port);
    const uint8_t half[] = {0, 0, 0, 200, 0x89, 'W', 'I', 'P'};
    assert_int_equal(send(fd, half, sizeof half, 0), (ssize_t)sizeof half);
    int64_t t0 = rt_now_ms();
    assert_true(rt_run(p.a, NULL, a_closed, &p, 5000));
    int64_t took = rt_now_ms() - t0;
    assert_int_equal(p.ra.reason, WP_ETIMEDOUT);
    assert_true(took >= 250 && took < 3000);
    close(fd);
    pair_teardown(&p);
}

/* A client speaking length-prefixed JSON (the original iOS SDK): "not a wipeer peer". */
static void test_not_wipeer(void **state)
{
    (void)state;
    struct pair p;
    pair_setup(&p, WP_TRUST_ACCEPT, WP_TRUST_ACCEPT, NULL);
    int fd = raw_connect(p.port);
    const char json[] = "\0\0\0\x14{\"type\":\"hello\",\"v\":1}";
    assert_int_equal(send(fd, json, sizeof json - 1, 0), (ssize_t)(sizeof json - 1));
    assert_true(rt_run(p.a, NULL, a_closed, &p, 5000));
    assert_int_equal(p.ra.reason, WP_ENOTWIPEER);
    close(fd);
    pair_teardown(&p);
}

/* The listener's application refuses the peer: both ends learn WP_EDENIED. */
static void test_trust_rejected(void **state)
{
    (void)state;
    struct pair p;
    pair_setup(&p, WP_TRUST_REJECT, WP_TRUST_ACCEPT, NULL);
    pair_connect(&p, "127.0.0.1", NULL);
    assert_true(rt_run(p.a, p.b, both_closed, &p, 5000));
    assert_int_equal(p.ra.reason, WP_EDENIED);
    assert_int_equal(p.rb.reason, WP_EDENIED);
    assert_int_equal(p.ra.n_auth + p.rb.n_auth, 0);
    assert_int_equal(p.ra.n_peer_id, 1);
    pair_teardown(&p);
}

/* The connector expects another fingerprint: WP_EIDENTITY there, WP_EDENIED at the listener. */
static void test_expected_mismatch(void **state)
{
    (void)state;
    struct pair p;
    wp_conn_opts o;
    pair_setup(&p, WP_TRUST_ACCEPT, WP_TRUST_ACCEPT, NULL);
    wp_conn_opts_init(&o);
    o.has_expected_peer = true;
    wp_identity_fingerprint(p.id_b, &o.expected_peer); /* ourselves: surely not a */
    pair_connect(&p, "127.0.0.1", &o);
    assert_true(rt_run(p.a, p.b, both_closed, &p, 5000));
    assert_int_equal(p.rb.reason, WP_EIDENTITY);
    assert_non_null(strstr(p.rb.detail, "not the expected"));
    assert_int_equal(p.ra.reason, WP_EDENIED);
    assert_int_equal(p.rb.n_peer_id, 0); /* the runtime decided, not the callback */
    pair_teardown(&p);
}

/* The right expected fingerprint authenticates without asking the callback. */
static void test_expected_match(void **state)
{
    (void)state;
    struct pair p;
    wp_conn_opts o;
    pair_setup(&p, WP_TRUST_ACCEPT, WP_TRUST_REJECT, NULL);
    wp_conn_opts_init(&o);
    o.has_expected_peer = true;
    wp_identity_fingerprint(p.id_a, &o.expected_peer);
    pair_connect(&p, "127.0.0.1", &o);
    assert_true(rt_run(p.a, p.b, both_auth, &p, 5000));
    assert_int_equal(p.rb.n_peer_id, 0);
    wp_conn_abort(p.cb);
    assert_true(rt_run(p.a, p.b, both_closed, &p, 5000));
    assert_int_equal(p.rb.reason, WP_ECLOSED);
    assert_int_equal(p.ra.reason, WP_EREFUSED); /* the abort resets the TCP connection */
    pair_teardown(&p);
}

static bool a_deferred(void *arg)
{
    struct pair *p = arg;
    return p->ra.deferred != NULL;
}

/* WP_TRUST_DEFER, then wp_conn_trust from outside the callback. */
static void test_trust_deferred(void **state)
{
    (void)state;
    struct pair p;
    pair_setup(&p, WP_TRUST_DEFER, WP_TRUST_ACCEPT, NULL);
    pair_connect(&p, "127.0.0.1", NULL);
    assert_true(rt_run(p.a, p.b, a_deferred, &p, 5000));
    assert_int_equal(p.ra.n_auth, 0);
    assert_int_equal(wp_conn_trust(p.ra.deferred, true), WP_OK);
    assert_int_equal(wp_conn_trust(p.ra.deferred, true), WP_ESTATE); /* answered already */
    assert_true(rt_run(p.a, p.b, both_auth, &p, 5000));
    pair_teardown(&p);
}

/*
 * wp_conn_abort: WP_ECLOSED here, a reset (WP_EREFUSED) at the peer, as
 * wipeer.h says (review 4, L1: it claimed WP_ECLOSED for the peer too).
 */
static void test_abort_seen_by_peer(void **state)
{
    (void)state;
    struct pair p;
    pair_setup(&p, WP_TRUST_ACCEPT, WP_TRUST_ACCEPT, NULL);
    pair_connect(&p, "127.0.0.1", NULL);
    assert_true(rt_run(p.a, p.b, both_auth, &p, 5000));
    wp_conn_abort(p.ra.conn);
    assert_true(rt_run(p.a, p.b, both_closed, &p, 5000));
    assert_int_equal(p.ra.reason, WP_ECLOSED);
    assert_non_null(strstr(p.ra.detail, "aborted"));
    assert_int_equal(p.rb.reason, WP_EREFUSED);
    assert_non_null(strstr(p.rb.detail, "reset"));
    pair_teardown(&p);
}

/*
 * wp_conn_trust called inside the PEER_IDENTITY callback, which then returns
 * WP_TRUST_DEFER: the early answer counts (review 4, H1: it was refused
 * with WP_ESTATE and the handshake timed out). With a non-deferring return
 * value, the return value decides.
 */
static void test_trust_answered_before_defer(void **state)
{
    (void)state;
    static const struct {
        int ret;
        bool early_accept;
        bool want_auth;
    } cases[] = {
        {WP_TRUST_DEFER, true, true},
        {WP_TRUST_DEFER, false, false},
        {WP_TRUST_ACCEPT, false, true},
        {WP_TRUST_REJECT, true, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct pair p;
        wp_conn_opts o;
        wp_conn_opts_init(&o);
        o.handshake_timeout_ms = 3000;
        pair_setup(&p, cases[i].ret, WP_TRUST_ACCEPT, &o);
        p.ra.trust_early = true;
        p.ra.trust_early_accept = cases[i].early_accept;
        p.ra.trust_early_rc = (wp_status)-1;
        pair_connect(&p, "127.0.0.1", NULL);
        int64_t t0 = rt_now_ms();
        if (cases[i].want_auth) {
            assert_true(rt_run(p.a, p.b, both_auth, &p, 5000));
        } else {
            assert_true(rt_run(p.a, p.b, both_closed, &p, 5000));
            assert_int_equal(p.ra.reason, WP_EDENIED);
            assert_int_equal(p.ra.n_auth, 0);
        }
        assert_true(rt_now_ms() - t0 < 2000); /* decided, not timed out */
        assert_int_equal(p.ra.trust_early_rc, WP_OK);
        pair_teardown(&p);
    }
}

/*
 * Empty messages fill the send queue too (review 4, M1: only payload bytes
 * were counted, so zero-length sends were never refused and memory grew
 * without bound). The loop does not run: everything stays queued.
 */
static void test_empty_messages_bounded(void **state)
{
    (void)state;
    char home[64];
    struct rec r;
    wp_identity *id = rt_identity(home);
    rec_init(&r, WP_TRUST_ACCEPT);
    wp_ctx *ctx = rt_ctx(id, &r, WP_LOOP_DEFAULT);
    wp_conn_opts o;
    wp_conn_opts_init(&o);
    o.send_queue_max = 64 * 1024;
    wp_conn *c;
    wp_error err;
    assert_int_equal(wp_connect(ctx, "127.0.0.1", 9, &o, &c, &err), WP_OK);
    long ok = 0;
    wp_status st = WP_OK;
    for (long i = 0; i < 100000 && st == WP_OK; i++) {
        st = wp_conn_send(c, NULL, 0);
        if (st == WP_OK)
            ok++;
    }
    assert_int_equal(st, WP_EFULL);
    assert_int_equal(ok, o.send_queue_max / WP_SEND_MSG_COST);
    /* Bytes and messages share the bound. */
    assert_int_equal(wp_conn_send(c, "x", 1), WP_EFULL);
    wp_ctx_free(ctx);
    rt_identity_free(id, home);
    rec_clear(&r);
}

/*
 * Before authentication only what any peer accepts is taken (review 4, M2:
 * a message up to our own limit was accepted, then killed the connection
 * when the peer announced a smaller one). After it, the peers' limits.
 */
static void test_limit_before_auth(void **state)
{
    (void)state;
    static uint8_t big[10000];
    struct pair p;
    wp_conn_opts lo;
    wp_conn_opts_init(&lo);
    lo.max_message = WP_MESSAGE_MAX_MIN; /* a small device */
    pair_setup(&p, WP_TRUST_ACCEPT, WP_TRUST_ACCEPT, &lo);
    p.ra.close_on_peer_closed = true;
    pair_connect(&p, "127.0.0.1", NULL);
    assert_int_equal(wp_conn_max_message(p.cb), WP_MESSAGE_MAX_MIN);
    assert_int_equal(wp_conn_send(p.cb, big, sizeof big), WP_ETOOBIG);
    assert_int_equal(wp_conn_send(p.cb, big, WP_MESSAGE_MAX_MIN), WP_OK);
    assert_true(rt_run(p.a, p.b, both_auth, &p, 5000));
    assert_int_equal(wp_conn_max_message(p.cb), WP_MESSAGE_MAX_MIN); /* the peer's */
    assert_int_equal(wp_conn_max_message(p.ra.conn), WP_MESSAGE_MAX_MIN); /* ours */
    assert_int_equal(wp_conn_close(p.cb), WP_OK);
    assert_true(rt_run(p.a, p.b, both_closed, &p, 5000));
    assert_int_equal(p.ra.reason, WP_OK);
    assert_int_equal(p.rb.reason, WP_OK);
    assert_int_equal(p.ra.n_msgs, 1);
    assert_int_equal(p.ra.lens[0], WP_MESSAGE_MAX_MIN);
    pair_teardown(&p);
    /* Two default peers: the default limit once authenticated. */
    pair_setup(&p, WP_TRUST_ACCEPT, WP_TRUST_ACCEPT, NULL);
    pair_connect(&p, "127.0.0.1", NULL);
    assert_int_equal(wp_conn_max_message(p.cb), WP_MESSAGE_MAX_MIN);
    assert_true(rt_run(p.a, p.b, both_auth, &p, 5000));
    assert_int_equal(wp_conn_max_message(p.cb), WP_MESSAGE_MAX_DEFAULT);
    assert_int_equal(wp_conn_send(p.cb, big, sizeof big), WP_OK);
    pair_teardown(&p);
}

struct stream {
    struct pair *p;
    size_t n, next;
    size_t *sizes;
    int efull;
};

static bool stream_step(void *arg)
{
    struct stream *s = arg;
    static uint8_t buf[WP_MESSAGE_MAX_DEFAULT];
    while (s->next < s->n && s->p->rb.n_auth) {
        size_t len = s->sizes[s->next];
        for (size_t j = 0; j < len; j++)
            buf[j] = rt_byte(s->next, j);
        wp_status st = wp_conn_send(s->p->cb, buf, len);
        if (st == WP_EFULL) {
            s->efull++;
            break;
        }
        assert_int_equal(st, WP_OK);
        s->next++;
    }
    return (size_t)s->p->ra.n_msgs == s->n;
}

/* Thousands of messages of random sizes (0 B .. the limit) arrive whole and in order. */
static void test_random_sizes_in_order(void **state)
{
    (void)state;
    struct pair p;
    struct stream s = {.p = &p, .n = 2000};
    wp_conn_opts o;
    wp_conn_opts_init(&o);
    o.send_queue_max = 256 * 1024; /* small, so back-pressure happens */
    pair_setup(&p, WP_TRUST_ACCEPT, WP_TRUST_ACCEPT, NULL);
    pair_connect(&p, "127.0.0.1", &o);
    s.sizes = calloc(s.n, sizeof *s.sizes);
    assert_non_null(s.sizes);
    srand(4);
    size_t total = 0;
    for (size_t i = 0; i < s.n; i++) {
        /* Log-uniform over 0..limit, with both ends included. */
        double f = (double)rand() / RAND_MAX;
        size_t len = (size_t)(exp(f * log((double)WP_MESSAGE_MAX_DEFAULT + 1)) - 1);
        if (i % 500 == 1)
            len = 0;
        if (i % 500 == 2)
            len = WP_MESSAGE_MAX_DEFAULT;
        s.sizes[i] = len < WP_MESSAGE_MAX_DEFAULT ? len : WP_MESSAGE_MAX_DEFAULT;
        total += s.sizes[i];
    }
    assert_true(rt_run(p.a, p.b, stream_step, &s, 120000));
    static uint8_t big[WP_MESSAGE_MAX_DEFAULT + 1];
    assert_int_equal(wp_conn_send(p.cb, big, sizeof big), WP_ETOOBIG);
    assert_int_equal(p.ra.rx_len, total);
    size_t off = 0;
    for (size_t i = 0; i < s.n; i++) {
        assert_int_equal(p.ra.lens[i], s.sizes[i]);
        for (size_t j = 0; j < s.sizes[i]; j++)
            if (p.ra.rx[off + j] != rt_byte(i, j))
                fail_msg("message %zu byte %zu differs", i, j);
        off += s.sizes[i];
    }
    assert_true(s.efull > 0);
    assert_true(p.rb.n_writable > 0);
    assert_int_equal(p.ra.n_closed + p.rb.n_closed, 0);
    free(s.sizes);
    pair_teardown(&p);
}

/* Nothing received for idle_timeout_ms: WP_ETIMEDOUT. */
static void test_idle_timeout(void **state)
{
    (void)state;
    struct pair p;
    wp_conn_opts o;
    wp_conn_opts_init(&o);
    o.idle_timeout_ms = 300;
    pair_setup(&p, WP_TRUST_ACCEPT, WP_TRUST_ACCEPT, &o);
    pair_connect(&p, "127.0.0.1", NULL);
    assert_true(rt_run(p.a, p.b, both_auth, &p, 5000));
    int64_t t0 = rt_now_ms();
    assert_true(rt_run(p.a, p.b, a_closed, &p, 5000));
    assert_int_equal(p.ra.reason, WP_ETIMEDOUT);
    assert_true(rt_now_ms() - t0 >= 200);
    pair_teardown(&p);
}

/* A host name goes through the resolver thread; "localhost" may list ::1 first. */
static void test_hostname(void **state)
{
    (void)state;
    struct pair p;
    pair_setup(&p, WP_TRUST_ACCEPT, WP_TRUST_ACCEPT, NULL);
    p.ra.close_on_peer_closed = true;
    p.rb.close_after_auth = true;
    pair_connect(&p, "localhost", NULL);
    assert_true(rt_run(p.a, p.b, both_closed, &p, 5000));
    assert_int_equal(p.rb.reason, WP_OK);
    assert_int_equal(p.ra.reason, WP_OK);
    pair_teardown(&p);
}

static void test_unknown_host(void **state)
{
    (void)state;
    struct pair p;
    pair_setup(&p, WP_TRUST_ACCEPT, WP_TRUST_ACCEPT, NULL);
    pair_connect(&p, "no-such-host.invalid", NULL);
    assert_true(rt_run(p.a, p.b, b_closed, &p, 15000));
    assert_int_equal(p.rb.reason, WP_ENOTFOUND);
    pair_teardown(&p);
}

/* IPv6 loopback, both on the wire and in wp_conn_remote_address. */
static void test_ipv6(void **state)
{
    (void)state;
    struct pair p;
    wp_error err;
    wp_listener *l6;
    pair_setup(&p, WP_TRUST_ACCEPT, WP_TRUST_ACCEPT, NULL);
    if (wp_listen(p.a, "::1", 0, NULL, &l6, &err) != WP_OK) {
        pair_teardown(&p);
        skip(); /* no IPv6 loopback on this machine */
    }
    p.port = wp_listener_port(l6);
    pair_connect(&p, "[::1]", NULL);
    assert_true(rt_run(p.a, p.b, both_auth, &p, 5000));
    char addr[WP_ADDRESS_STR];
    wp_conn_remote_address(p.cb, addr, sizeof addr);
    assert_int_equal(strncmp(addr, "[::1]:", 6), 0);
    pair_teardown(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exchange_and_half_close),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_stalled_handshake),
        cmocka_unit_test(test_not_wipeer),
        cmocka_unit_test(test_trust_rejected),
        cmocka_unit_test(test_expected_mismatch),
        cmocka_unit_test(test_expected_match),
        cmocka_unit_test(test_trust_deferred),
        cmocka_unit_test(test_trust_answered_before_defer),
        cmocka_unit_test(test_abort_seen_by_peer),
        cmocka_unit_test(test_empty_messages_bounded),
        cmocka_unit_test(test_limit_before_auth),
        cmocka_unit_test(test_random_sizes_in_order),
        cmocka_unit_test(test_idle_timeout),
        cmocka_unit_test(test_hostname),
        cmocka_unit_test(test_unknown_host),
        cmocka_unit_test(test_ipv6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exchange_and_half_close),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_stalled_handshake),
        cmocka_unit_test(test_not_wipeer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_limits.c - sizes, foreign peers and time: oversize length prefixes
 * refused before anything is allocated (before and after authentication),
 * JSON and raw text from a peer that is not a wipeer peer, handshake
 * timeouts on the fake clock in every state, allocation failures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "codec/buf.h"
#include "core/conn_int.h"

/* ---------------------------------------------------------------- a counting allocator */

static size_t g_alloc_bytes; /* bytes requested since the last reset */
static size_t g_alloc_max;   /* largest single request since the last reset */

static void *count_malloc(size_t n)
{
    g_alloc_bytes += n;
    if (n > g_alloc_max)
        g_alloc_max = n;
    return malloc(n);
}

static void *count_realloc(void *p, size_t n)
{
    g_alloc_bytes += n;
    if (n > g_alloc_max)
        g_alloc_max = n;
    return realloc(p, n);
}

static void alloc_reset(void)
{
    g_alloc_bytes = 0;
    g_alloc_max = 0;
}

/* ---------------------------------------------------------------- helpers */

static wp_status feed(struct peer *p, const void *bytes, size_t n, size_t *out_used)
{
    size_t used = 0, total = 0;
    wp_status st = WP_OK;
    const uint8_t *b = bytes;
    while (total < n) {
        st = conn_input(p->c, b + total, n - total, &used);
        total += used;
        peer_events(p);
        if (st != WP_OK || used == 0)
            break;
    }
    if (out_used)
        *out_used = total;
    return st;
}

static void expect(struct peer *p, wp_status want, const char *part)
{
    const wp_err *e = conn_last_error(p->c);
    if (p->close_reason != want || !strstr(e->detail, part))
        fprintf(stderr, "want %s (%s), got %s: %s\n", wp_status_name(want), part,
                wp_status_name(p->close_reason), e->detail);
    assert_true(p->closed);
    assert_int_equal(p->close_reason, want);
    assert_non_null(strstr(e->detail, part));
}

static void drain(struct peer *p)
{
    size_t n;
    conn_output(p->c, &n);
    conn_output_done(p->c, n);
}

/* ---------------------------------------------------------------- frame limits */

static void test_first_frame_oversize(void **state)
{
    (void)state;
    static const uint8_t hdrs[][4] = {{0, 0, 0x10, 0x01}, {0xff, 0xff, 0xff, 0xff}};
    for (int role = 0; role < 2; role++) {
        for (size_t i = 0; i < 2; i++) {
            struct peer p;
            size_t used;
            peer_init(&p, role == 0, "limits", "limits");
            assert_int_equal(peer_start(&p, 0), WP_OK);
            drain(&p);
            alloc_reset();
            assert_int_equal(feed(&p, hdrs[i], 4, &used), WP_ENOTWIPEER);
            assert_int_equal(used, 4);
            assert_int_equal(g_alloc_bytes, 0); /* refused before any buffer */
            expect(&p, WP_ENOTWIPEER, "> 4096: not a wipeer peer");
            assert_int_equal(conn_output_pending(p.c), 0); /* nothing said to a stranger */
            peer_free(&p);
        }
    }
}

static void test_handshake_frame_oversize(void **state)
{
    (void)state;
    static const uint8_t hdrs[][4] = {{0, 0, 0x10, 0x01}, {0xff, 0xff, 0xff, 0xff}};
    for (size_t i = 0; i < 2; i++) {
        struct pair pr;
        size_t used;
        pair_init(&pr, "limits hs");
        pr.a.trust = TRUST_MANUAL;
        assert_int_equal(pair_start(&pr), WP_OK);
        pair_pump(&pr); /* the responder now waits for msg3 */
        alloc_reset();
        assert_int_equal(feed(&pr.b, hdrs[i], 4, &used), WP_ETOOBIG);
        assert_int_equal(used, 4);
        assert_true(g_alloc_max < 4096);
        expect(&pr.b, WP_ETOOBIG, "> limit 4096");
        pair_free(&pr);
    }
}

static void test_record_frame_oversize(void **state)
{
    (void)state;
    for (int limit = 0; limit < 2; limit++) {
        uint32_t max = limit ? 8192 : WP_FRAME_MAX_DEFAULT;
        uint32_t bad[] = {max + 1, UINT32_MAX};
        for (size_t i = 0; i < 2; i++) {
            struct pair pr;
            uint8_t hdr[4];
            size_t used;
            char part[64];
            pair_init(&pr, "limits rec");
            pr.b.cfg.max_frame = limit ? max : 0;
            assert_true(pair_handshake(&pr));
            /* the sender knows the receiver's limit */
            assert_int_equal(conn_max_message(pr.a.c), max - WP_REC_OVERHEAD);
            assert_int_equal(conn_max_message(pr.b.c), WP_FRAME_MAX_DEFAULT - WP_REC_OVERHEAD);
            /* a maximal frame is accepted */
            uint8_t *big = calloc(1, max);
            assert_non_null(big);
            assert_int_equal(conn_send(pr.a.c, big, max - WP_REC_OVERHEAD), WP_OK);
            assert_int_equal(conn_send(pr.a.c, big, max - WP_REC_OVERHEAD + 1), WP_ETOOBIG);
            pair_pump(&pr);
            free(big);
            assert_int_equal(pr.b.n_msgs, 1);
            assert_int_equal(pr.b.last_msg_len, max - WP_REC_OVERHEAD);
            /* a forged length one over, or 2^32-1: refused before buffering */
            be32_store(hdr, bad[i]);
            alloc_reset();
            assert_int_equal(feed(&pr.b, hdr, 4, &used), WP_ETOOBIG);
            assert_int_equal(used, 4);
            assert_true(g_alloc_max < 4096);
            snprintf(part, sizeof part, "frame length %u > limit %u", bad[i], max);
            expect(&pr.b, WP_ETOOBIG, part);
            pair_free(&pr);
        }
    }
}

/* Once the buffers are at their high-water mark, records allocate nothing. */
static void test_no_allocation_on_data_path(void **state)
{
    (void)state;
    struct pair pr;
    static uint8_t msg[20000];
    pair_init(&pr, "noalloc");
    assert_true(pair_handshake(&pr));
    assert_int_equal(conn_send(pr.a.c, msg, sizeof msg), WP_OK);
    pair_pump(&pr);
    alloc_reset();
    for (int i = 0; i < 50; i++) {
        assert_int_equal(conn_send(pr.a.c, msg, sizeof msg - (size_t)i * 100), WP_OK);
        assert_int_equal(conn_send(pr.b.c, msg, 10), WP_OK);
        pair_pump(&pr);
    }
    assert_int_equal(pr.b.n_msgs, 51);
    /* the harness's own buffers stay out of wp_malloc; the engine allocated nothing */
    assert_int_equal(g_alloc_bytes, 0);
    pair_free(&pr);
}

/* Key updates, either direction, allocate nothing either (a peer may send them back to back). */
static void test_no_allocation_on_key_update(void **state)
{
    (void)state;
    struct pair pr;
    uint32_t atx, arx, btx, brx;
    pair_init(&pr, "noalloc rekey");
    pr.a.cfg.rekey_after_records = 2;
    pr.b.cfg.rekey_after_records = 3;
    assert_true(pair_handshake(&pr));
    assert_int_equal(conn_send(pr.a.c, "warm", 4), WP_OK);
    assert_int_equal(conn_send(pr.b.c, "warm", 4), WP_OK);
    pair_pump(&pr);
    alloc_reset();
    for (int i = 0; i < 20; i++) {
        assert_int_equal(conn_send(pr.a.c, "a to b", 6), WP_OK);
        assert_int_equal(conn_send(pr.b.c, "b to a", 6), WP_OK);
        pair_pump(&pr);
    }
    conn_test_key_generations(pr.a.c, &atx, &arx);
    conn_test_key_generations(pr.b.c, &btx, &brx);
    assert_true(atx >= 10 && brx == atx && btx >= 6 && arx == btx);
    assert_int_equal(pr.b.n_msgs, 21);
    assert_int_equal(pr.a.n_msgs, 21);
    assert_int_equal(g_alloc_bytes, 0);
    pair_free(&pr);
}

/* ---------------------------------------------------------------- not a wipeer peer */

static void test_json_first_frame(void **state)
{
    (void)state;
    static const char json[] = "{\"type\":\"hello\",\"device\":\"iPhone\"}";
    uint8_t frame[64];
    be32_store(frame, (uint32_t)(sizeof json - 1));
    memcpy(frame + 4, json, sizeof json - 1);
    for (int role = 0; role < 2; role++) {
        struct peer p;
        size_t used;
        peer_init(&p, role == 0, "json", "json");
        assert_int_equal(peer_start(&p, 0), WP_OK);
        drain(&p);
        /* decided on the first payload byte: no waiting for the rest of the frame */
        assert_int_equal(feed(&p, frame, 5, &used), WP_ENOTWIPEER);
        expect(&p, WP_ENOTWIPEER, "JSON");
        expect(&p, WP_ENOTWIPEER, "original iOS SDK");
        assert_int_equal(conn_output_pending(p.c), 0);
        assert_int_equal(conn_deadline_ms(p.c), -1);
        peer_free(&p);
    }
}

static void test_raw_text(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *part;
    } cases[] = {
        {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "(bytes \"GET \")"},
        {"hello there\n", "not a wipeer peer"},
        {"SSH-2.0-OpenSSH_9.2\r\n", "(bytes \"SSH-\")"},
        {"\x00\x00\x00\x05hello", "first frame length 5 < 10"},
        {"\x00\x00\x00\x0c\x89WIPEEX\n\x01\x01\x01", "byte 6 is 0x58"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct peer p;
        size_t used;
        size_t n = i >= 3 ? (i == 3 ? 9 : 16) : strlen(cases[i].text);
        peer_init(&p, false, "text", "text");
        assert_int_equal(peer_start(&p, 0), WP_OK);
        assert_int_equal(feed(&p, cases[i].text, n, &used), WP_ENOTWIPEER);
        assert_true(used <= 4 + 8);
        expect(&p, WP_ENOTWIPEER, cases[i].part);
        assert_int_equal(conn_output_pending(p.c), 0);
        peer_free(&p);
    }
    /* two bytes and a close: a truncated handshake, reported as such */
    struct peer p;
    size_t used;
    peer_init(&p, false, "text", "text");
    assert_int_equal(peer_start(&p, 0), WP_OK);
    assert_int_equal(feed(&p, "\x00\x00", 2, &used), WP_OK);
    assert_int_equal(conn_input_eof(p.c), WP_ETRUNCATED);
    peer_events(&p);
    expect(&p, WP_ETRUNCATED, "during the handshake");
    peer_free(&p);
}

/* ---------------------------------------------------------------- timeouts */

static void test_timeout_alone(void **state)
{
    (void)state;
    for (int role = 0; role < 2; role++) {
        struct peer p;
        peer_init(&p, role == 0, "timeout", "timeout");
        p.cfg.handshake_timeout_ms = role ? 0 : 500;
        int64_t t = role ? 10000 : 500;
        assert_int_equal(peer_start(&p, 1000), WP_OK);
        drain(&p);
        assert_int_equal(conn_deadline_ms(p.c), 1000 + t);
        conn_tick(p.c, 1000 + t - 1);
        peer_events(&p);
        assert_false(p.closed);
        conn_tick(p.c, 1000 + t);
        peer_events(&p);
        expect(&p, WP_ETIMEDOUT, role ? "waiting for message 1" : "waiting for message 2");
        assert_int_equal(conn_deadline_ms(p.c), -1);
        assert_int_equal(conn_output_pending(p.c), 0);
        peer_free(&p);
    }
}

static void test_timeout_waiting_for_peer(void **state)
{
    (void)state;
    /* each side stalls in turn at its trust decision; the other times out */
    for (int staller = 0; staller < 2; staller++) {
        struct pair pr;
        pair_init(&pr, "stall");
        struct peer *s = staller ? &pr.b : &pr.a;
        struct peer *w = staller ? &pr.a : &pr.b;
        s->trust = TRUST_MANUAL;
        assert_int_equal(pair_start(&pr), WP_OK);
        pair_pump(&pr);
        assert_true(s->got_identity);
        conn_tick(w->c, WP_HANDSHAKE_TIMEOUT_MS_DEFAULT);
        pair_pump(&pr);
        expect(w, WP_ETIMEDOUT, staller ? "waiting for the responder's READY"
                                        : "waiting for message 3");
        /* the staller hears one generic abort */
        expect(s, WP_ECLOSED, "peer aborted the handshake");
        assert_int_equal(conn_trust_decide(s->c, true), WP_ECLOSED);
        pair_free(&pr);
    }
}

/* ---------------------------------------------------------------- allocation failures */

static void test_allocation_failures(void **state)
{
    (void)state;
    bool ok_seen = false;
    for (long n = 0; n < 60; n++) {
        struct pair pr;
        pair_init(&pr, "nomem");
        mem_fail_after(n);
        wp_status st = pair_start(&pr);
        if (st == WP_OK)
            pair_pump(&pr);
        mem_fail_after(-1);
        if (st != WP_OK) {
            assert_int_equal(st, WP_ENOMEM);
        } else if (pr.a.authenticated && pr.b.authenticated) {
            ok_seen = true;
        } else {
            pair_eof(&pr);
            assert_true(pr.a.closed && pr.b.closed);
            assert_true(pr.a.close_reason == WP_ENOMEM || pr.b.close_reason == WP_ENOMEM);
        }
        pair_free(&pr);
    }
    assert_true(ok_seen);
}

int main(void)
{
    assert_int_equal(wp_set_allocator(count_malloc, count_realloc, free), WP_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_frame_oversize),
        cmocka_unit_test(test_handshake_frame_oversize),
        cmocka_unit_test(test_record_frame_oversize),
        cmocka_unit_test(test_no_allocation_on_data_path),
        cmocka_unit_test(test_no_allocation_on_key_update),
        cmocka_unit_test(test_json_first_frame),
        cmocka_unit_test(test_raw_text),
        cmocka_unit_test(test_timeout_alone),
        cmocka_unit_test(test_timeout_waiting_for_peer),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

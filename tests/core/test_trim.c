/*
 * test_trim.c - conn_trim: an engine gives back its output and frame
 * buffers when they hold nothing, keeps what it still needs (output not yet
 * taken, half a frame), and carries on afterwards with intact messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"

#define BIG ((1u << 20) - 17) /* the largest message under the default 1 MiB frames */

static uint8_t pattern(size_t i)
{
    return (uint8_t)(i * 31u + 7u);
}

static void send_big(struct peer *from)
{
    uint8_t *m = malloc(BIG);
    assert_non_null(m);
    for (size_t i = 0; i < BIG; i++)
        m[i] = pattern(i);
    assert_int_equal(conn_send(from->c, m, BIG), WP_OK);
    free(m);
}

static void check_big(const struct peer *p, size_t idx_from)
{
    assert_true(p->msgs_len >= idx_from + BIG);
    for (size_t i = 0; i < BIG; i++)
        if (p->msgs[idx_from + i] != pattern(i))
            fail_msg("byte %zu differs", i);
}

/* After a burst both ends hold about 1 MiB each; trimmed, nothing; then it works again. */
static void test_trim_after_burst(void **state)
{
    (void)state;
    struct pair pr;
    pair_init(&pr, "trim");
    assert_true(pair_handshake(&pr));
    send_big(&pr.a);
    send_big(&pr.b);
    pair_pump(&pr);
    assert_int_equal(pr.a.n_msgs, 1);
    assert_int_equal(pr.b.n_msgs, 1);
    check_big(&pr.a, 0);
    check_big(&pr.b, 0);
    /* Output drained to the wire, frame buffer grown to the message's frame. */
    assert_true(conn_buffer_bytes(pr.a.c) >= BIG);
    assert_true(conn_buffer_bytes(pr.b.c) >= BIG);
    assert_true(conn_trim(pr.a.c));
    assert_true(conn_trim(pr.b.c));
    assert_int_equal(conn_buffer_bytes(pr.a.c), 0);
    assert_int_equal(conn_buffer_bytes(pr.b.c), 0);
    /* Both directions still work, with fresh buffers. */
    assert_int_equal(conn_send(pr.a.c, "after", 5), WP_OK);
    send_big(&pr.b);
    pair_pump(&pr);
    assert_int_equal(pr.b.n_msgs, 2);
    assert_memory_equal(pr.b.msgs + BIG, "after", 5);
    assert_int_equal(pr.a.n_msgs, 2);
    check_big(&pr.a, BIG);
    assert_false(pr.a.closed || pr.b.closed);
    pair_free(&pr);
}

/* Output the transport has not taken, and half a frame, are kept. */
static void test_trim_keeps_what_is_needed(void **state)
{
    (void)state;
    struct pair pr;
    pair_init(&pr, "trim-keep");
    assert_true(pair_handshake(&pr));
    assert_int_equal(conn_send(pr.a.c, "queued", 6), WP_OK);
    size_t n;
    const uint8_t *out = conn_output(pr.a.c, &n);
    assert_non_null(out);
    assert_int_equal(n, 4 + 17 + 6);
    /* a cannot drop its unsent record. */
    assert_false(conn_trim(pr.a.c));
    const uint8_t *again = conn_output(pr.a.c, &n);
    assert_non_null(again);
    assert_int_equal(n, 4 + 17 + 6);
    uint8_t rec[27];
    memcpy(rec, again, n);
    conn_output_done(pr.a.c, n);
    /* b gets the first 10 bytes only: mid-frame, its frame buffer stays. */
    size_t used;
    assert_int_equal(conn_input(pr.b.c, rec, 10, &used), WP_OK);
    assert_int_equal(used, 10);
    assert_false(conn_trim(pr.b.c));
    assert_true(conn_buffer_bytes(pr.b.c) > 0);
    assert_int_equal(conn_input(pr.b.c, rec + 10, sizeof rec - 10, &used), WP_OK);
    peer_events(&pr.b);
    assert_int_equal(pr.b.n_msgs, 1);
    assert_memory_equal(pr.b.msgs, "queued", 6);
    /* Between frames now: everything goes. */
    assert_true(conn_trim(pr.a.c));
    assert_true(conn_trim(pr.b.c));
    assert_int_equal(conn_buffer_bytes(pr.b.c), 0);
    assert_false(pr.a.closed || pr.b.closed);
    pair_free(&pr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trim_after_burst),
        cmocka_unit_test(test_trim_keeps_what_is_needed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

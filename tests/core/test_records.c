/*
 * test_records.c - the record layer between two authenticated engines:
 * replayed, reordered, duplicated, dropped and reflected records; key
 * update by records and by bytes with data flowing across it; counter
 * exhaustion closing cleanly; a record at the last counter that is not a
 * close_notify; rekey limits enforced on the peer.
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

/* Up to 8 record frames a's engine wrote, split; returns the count. */
static size_t take_frames(struct conn *c, uint8_t frames[8][64], size_t lens[8])
{
    size_t n, k = 0;
    const uint8_t *p = conn_output(c, &n);
    size_t total = n;
    while (n >= 4 && k < 8) {
        size_t f = 4 + (size_t)be32_load(p);
        assert_true(f <= n && f <= 64);
        memcpy(frames[k], p, f);
        lens[k++] = f;
        p += f;
        n -= f;
    }
    assert_int_equal(n, 0);
    conn_output_done(c, total);
    return k;
}

static void feed(struct peer *p, const uint8_t *b, size_t n)
{
    size_t used = 0;
    while (n && !p->closed) {
        wp_status st = conn_input(p->c, b, n, &used);
        (void)st;
        peer_events(p);
        b += used;
        n -= used;
    }
}

static void setup(struct pair *pr, uint8_t frames[8][64], size_t lens[8])
{
    pair_init(pr, "records");
    assert_true(pair_handshake(pr));
    assert_int_equal(conn_send(pr->a.c, "m1", 2), WP_OK);
    assert_int_equal(conn_send(pr->a.c, "m2", 2), WP_OK);
    assert_int_equal(conn_send(pr->a.c, "m3", 2), WP_OK);
    assert_int_equal(take_frames(pr->a.c, frames, lens), 3);
}

/* Feed b the frames in the given order; expect `ok` messages then WP_EINTEGRITY. */
static void order(const int *idx, size_t n, size_t ok)
{
    uint8_t f[8][64];
    size_t l[8];
    struct pair pr;
    setup(&pr, f, l);
    for (size_t i = 0; i < n; i++)
        feed(&pr.b, f[idx[i]], l[idx[i]]);
    assert_int_equal(pr.b.n_msgs, ok);
    assert_true(pr.b.closed);
    assert_int_equal(pr.b.close_reason, WP_EINTEGRITY);
    assert_non_null(strstr(conn_last_error(pr.b.c)->detail, "failed authentication"));
    /* b answers with one generic abort, and a learns only that */
    pair_pump(&pr);
    assert_int_equal(pr.a.close_reason, WP_ECLOSED);
    pair_free(&pr);
}

static void test_replay_reorder_drop_dup(void **state)
{
    (void)state;
    static const int replay[] = {0, 0};
    static const int reorder[] = {1, 0};
    static const int drop[] = {0, 2};
    static const int dup[] = {0, 1, 1};
    static const int old[] = {0, 1, 2, 0};
    order(replay, 2, 1);
    order(reorder, 2, 0);
    order(drop, 2, 1);
    order(dup, 3, 2);
    order(old, 4, 3);
}

static void test_reflection_and_cross_connection(void **state)
{
    (void)state;
    uint8_t f[8][64], g[8][64];
    size_t l[8], m[8];
    struct pair pr, other;
    /* a's own record sent back to a: the directions have separate keys */
    setup(&pr, f, l);
    feed(&pr.a, f[0], l[0]);
    assert_int_equal(pr.a.close_reason, WP_EINTEGRITY);
    pair_free(&pr);
    /* a record of another connection (same identities, other randomness) */
    setup(&pr, f, l);
    pair_init(&other, "records other");
    assert_true(pair_handshake(&other));
    assert_int_equal(conn_send(other.a.c, "m1", 2), WP_OK);
    assert_int_equal(take_frames(other.a.c, g, m), 1);
    feed(&pr.b, g[0], m[0]);
    assert_int_equal(pr.b.n_msgs, 0);
    assert_int_equal(pr.b.close_reason, WP_EINTEGRITY);
    pair_free(&pr);
    pair_free(&other);
}

static void key_update(uint64_t records, uint64_t bytes, size_t n, size_t size)
{
    struct pair pr;
    uint32_t atx, arx, btx, brx;
    uint8_t msg[200];
    pair_init(&pr, "rekey");
    pr.a.cfg.rekey_after_records = records;
    pr.a.cfg.rekey_after_bytes = bytes;
    pr.b.cfg.rekey_after_records = records;
    pr.b.cfg.rekey_after_bytes = bytes;
    assert_true(pair_handshake(&pr));
    for (size_t i = 0; i < n; i++) {
        memset(msg, (int)i, size);
        assert_int_equal(conn_send(pr.a.c, msg, size), WP_OK);
        assert_int_equal(conn_send(pr.b.c, msg, size), WP_OK);
        if (i % 3 == 0)
            pair_pump(&pr);
    }
    pair_pump(&pr);
    assert_int_equal(pr.b.n_msgs, n);
    assert_int_equal(pr.a.n_msgs, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(pr.b.msgs[i * size], (uint8_t)i);
        assert_int_equal(pr.a.msgs[i * size + size - 1], (uint8_t)i);
    }
    conn_test_key_generations(pr.a.c, &atx, &arx);
    conn_test_key_generations(pr.b.c, &btx, &brx);
    assert_true(atx > 2);
    assert_int_equal(atx, brx);
    assert_int_equal(btx, arx);
    assert_false(pr.a.closed || pr.b.closed);
    pair_free(&pr);
}

static void test_key_update_by_records(void **state)
{
    (void)state;
    key_update(3, 0, 20, 10);
    key_update(1, 0, 5, 1);
}

static void test_key_update_by_bytes(void **state)
{
    (void)state;
    key_update(0, 100, 10, 50);
}

static void test_counter_exhaustion(void **state)
{
    (void)state;
    struct pair pr;
    pair_init(&pr, "wrap");
    assert_true(pair_handshake(&pr));
    conn_test_set_counters(pr.a.c, WP_COUNTER_LAST - 2, 0);
    conn_test_set_counters(pr.b.c, 0, WP_COUNTER_LAST - 2);
    assert_int_equal(conn_send(pr.a.c, "m1", 2), WP_OK);
    assert_int_equal(conn_send(pr.a.c, "m2", 2), WP_OK);
    /* the next counter is the last: only close_notify may use it */
    assert_int_equal(conn_send(pr.a.c, "m3", 2), WP_ECLOSED);
    assert_non_null(strstr(conn_last_error(pr.a.c)->detail, "exhausted"));
    assert_int_equal(conn_send(pr.a.c, "m4", 2), WP_ECLOSED);
    assert_int_equal(conn_close(pr.a.c), WP_OK);
    pair_pump(&pr);
    assert_int_equal(pr.b.n_msgs, 2);
    assert_true(pr.b.closed);
    assert_int_equal(pr.b.close_reason, WP_OK); /* a clean end, not a truncation */
    assert_int_equal(conn_input_eof(pr.b.c), WP_OK);
    /* the other direction still works */
    assert_int_equal(conn_send(pr.b.c, "back", 4), WP_OK);
    pair_pump(&pr);
    assert_int_equal(pr.a.n_msgs, 1);
    pair_free(&pr);
}

static void test_last_counter_not_close(void **state)
{
    (void)state;
    struct pair pr;
    uint8_t frame[64];
    wp_err err;
    pair_init(&pr, "wrap2");
    assert_true(pair_handshake(&pr));
    conn_test_set_counters(pr.b.c, 0, WP_COUNTER_LAST);
    /* a misbehaving sender: DATA sealed at the last counter */
    struct rec_key k;
    memset(&k, 0, sizeof k);
    struct conn *a = pr.a.c;
    assert_int_equal(rec_key_set(&k, a->tx.alg, a->tx.secret, &err), WP_OK);
    k.counter = WP_COUNTER_LAST;
    assert_int_equal(rec_seal(&k, WP_REC_DATA, (const uint8_t *)"x", 1, frame, &err), WP_OK);
    /* and past it, the counter is refused outright */
    assert_int_equal(rec_seal(&k, WP_REC_DATA, (const uint8_t *)"y", 1, frame + 32, &err),
                     WP_ECLOSED);
    rec_key_clear(&k);
    feed(&pr.b, frame, rec_frame_len(1));
    assert_int_equal(pr.b.close_reason, WP_EPROTO);
    assert_int_equal(pr.b.n_msgs, 0);
    pair_free(&pr);
}

static void test_peer_ignores_rekey(void **state)
{
    (void)state;
    struct pair pr;
    pair_init(&pr, "norekey");
    assert_true(pair_handshake(&pr));
    /* pretend b already received the protocol maximum under this key */
    pr.b.c->rx.key_records = WP_PEER_KEY_RECORDS_MAX;
    assert_int_equal(conn_send(pr.a.c, "x", 1), WP_OK);
    pair_pump(&pr);
    assert_int_equal(pr.b.close_reason, WP_EPROTO);
    assert_non_null(strstr(conn_last_error(pr.b.c)->detail, "key update"));
    pair_free(&pr);
}

static void test_data_after_close(void **state)
{
    (void)state;
    uint8_t f[8][64];
    size_t l[8];
    struct pair pr;
    pair_init(&pr, "after close");
    assert_true(pair_handshake(&pr));
    assert_int_equal(conn_send(pr.a.c, "m1", 2), WP_OK);
    assert_int_equal(conn_close(pr.a.c), WP_OK);
    assert_int_equal(take_frames(pr.a.c, f, l), 2);
    feed(&pr.b, f[0], l[0]);
    feed(&pr.b, f[1], l[1]);
    assert_int_equal(pr.b.close_reason, WP_OK);
    /* anything after close_notify is a violation, even a replayed record */
    pr.b.closed = false;
    feed(&pr.b, f[0], l[0]);
    assert_true(pr.b.closed);
    assert_int_equal(pr.b.close_reason, WP_EPROTO);
    pair_free(&pr);
}

/* Not even part of a frame may follow close_notify: it fails at once, and EOF is no clean end. */
static void test_bytes_after_close(void **state)
{
    (void)state;
    uint8_t f[8][64];
    size_t l[8];
    struct pair pr;
    pair_init(&pr, "after close");
    assert_true(pair_handshake(&pr));
    assert_int_equal(conn_send(pr.a.c, "m1", 2), WP_OK);
    assert_int_equal(conn_close(pr.a.c), WP_OK);
    assert_int_equal(take_frames(pr.a.c, f, l), 2);
    feed(&pr.b, f[0], l[0]);
    feed(&pr.b, f[1], l[1]);
    assert_int_equal(pr.b.close_reason, WP_OK);
    pr.b.closed = false;
    feed(&pr.b, f[0], 2); /* half a length prefix */
    assert_true(pr.b.closed);
    assert_int_equal(pr.b.close_reason, WP_EPROTO);
    assert_non_null(strstr(conn_last_error(pr.b.c)->detail, "after the peer's close_notify"));
    assert_int_equal(conn_input_eof(pr.b.c), WP_EPROTO);
    pair_free(&pr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_reorder_drop_dup),
        cmocka_unit_test(test_reflection_and_cross_connection),
        cmocka_unit_test(test_key_update_by_records),
        cmocka_unit_test(test_key_update_by_bytes),
        cmocka_unit_test(test_counter_exhaustion),
        cmocka_unit_test(test_last_counter_not_close),
        cmocka_unit_test(test_peer_ignores_rekey),
        cmocka_unit_test(test_data_after_close),
        cmocka_unit_test(test_bytes_after_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_tamper.c - every single-bit flip of every handshake message and of a
 * record is rejected, and the stream cut at every offset is detected; no
 * case hangs (each run ends with end of stream) and none authenticates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "core/protocol.h"

struct flip {
    int dir;
    size_t bit; /* absolute bit offset in the dir's stream */
};

static void flip_hook(void *user, int dir, uint8_t *bytes, size_t len, size_t off)
{
    struct flip *f = user;
    size_t byte = f->bit / 8;
    if (dir == f->dir && byte >= off && byte < off + len)
        bytes[byte - off] ^= (uint8_t)(1u << (f->bit % 8));
}

/* Handshake stream lengths per direction, from a clean run. */
static void clean_lengths(size_t *out_ab, size_t *out_ba)
{
    struct pair pr;
    pair_init(&pr, "tamper");
    assert_true(pair_handshake(&pr));
    *out_ab = pr.ab.off;
    *out_ba = pr.ba.off;
    assert_int_equal(*out_ab, 4 + 116 + 4 + WP_MSG3_LEN);
    assert_int_equal(*out_ba, 4 + WP_MSG2_LEN + 4 + WP_REC_OVERHEAD);
    pair_free(&pr);
}

static bool is_rejection(wp_status st)
{
    return st == WP_EPROTO || st == WP_EAUTH || st == WP_EINTEGRITY || st == WP_ENOTWIPEER ||
           st == WP_EVERSION || st == WP_ETOOBIG || st == WP_ETRUNCATED || st == WP_ECLOSED;
}

static void expect_rejected(struct pair *pr, const char *what, size_t where)
{
    bool ok = pr->a.closed && pr->b.closed && pr->a.close_reason != WP_OK &&
              pr->b.close_reason != WP_OK && is_rejection(pr->a.close_reason) &&
              is_rejection(pr->b.close_reason) && pr->a.n_msgs == 0 && pr->b.n_msgs == 0;
    if (!ok)
        fprintf(stderr, "%s %zu: a %s/%s (%s), b %s/%s (%s)\n", what, where,
                pr->a.authenticated ? "auth" : "-", wp_status_name(pr->a.close_reason),
                conn_last_error(pr->a.c)->detail, pr->b.authenticated ? "auth" : "-",
                wp_status_name(pr->b.close_reason), conn_last_error(pr->b.c)->detail);
    assert_true(ok);
}

/* Flip every bit of every handshake message; the handshake never succeeds. */
static void test_bit_flips_handshake(void **state)
{
    (void)state;
    size_t len[2];
    clean_lengths(&len[0], &len[1]);
    for (int dir = 0; dir < 2; dir++) {
        for (size_t bit = 0; bit < 8 * len[dir]; bit++) {
            struct pair pr;
            struct flip f = {dir, bit};
            pair_init(&pr, "tamper");
            pr.tamper = flip_hook;
            pr.tamper_user = &f;
            assert_int_equal(pair_start(&pr), WP_OK);
            /* the app would send at once; nothing may arrive */
            pair_pump(&pr);
            if (pr.a.authenticated && !pr.a.closed)
                assert_int_equal(conn_send(pr.a.c, "x", 1), WP_OK);
            if (pr.b.authenticated && !pr.b.closed)
                assert_int_equal(conn_send(pr.b.c, "y", 1), WP_OK);
            pair_eof(&pr);
            /* a flipped READY arrives after the responder authenticated: the initiator
               must still refuse, and its abort must end the responder too */
            assert_false(pr.a.authenticated);
            expect_rejected(&pr, dir ? "r2i bit" : "i2r bit", bit);
            pair_free(&pr);
        }
    }
}

/* Cut the handshake stream at every offset of either direction. */
static void test_truncation_handshake(void **state)
{
    (void)state;
    size_t len[2];
    clean_lengths(&len[0], &len[1]);
    for (int dir = 0; dir < 2; dir++) {
        for (size_t cut = 0; cut < len[dir]; cut++) {
            struct pair pr;
            pair_init(&pr, "tamper");
            (dir ? &pr.ba : &pr.ab)->cut_at = cut;
            assert_int_equal(pair_start(&pr), WP_OK);
            pair_eof(&pr);
            assert_false(pr.a.authenticated);
            expect_rejected(&pr, dir ? "r2i cut" : "i2r cut", cut);
            struct peer *rx = dir ? &pr.a : &pr.b;
            /* the side whose stream was cut sees truncation, or the other side's abort */
            assert_true(rx->close_reason == WP_ETRUNCATED || rx->close_reason == WP_ECLOSED ||
                        rx->close_reason == WP_EPROTO);
            pair_free(&pr);
        }
    }
}

/* Every bit of an application record, and every cut inside records + close. */
static void test_records_flips_and_cuts(void **state)
{
    (void)state;
    for (int mode = 0; mode < 2; mode++) {
        size_t start, total;
        {
            struct pair pr;
            pair_init(&pr, "tamper rec");
            assert_true(pair_handshake(&pr));
            start = pr.ab.off;
            assert_int_equal(conn_send(pr.a.c, "hello", 5), WP_OK);
            assert_int_equal(conn_send(pr.a.c, "world!", 6), WP_OK);
            assert_int_equal(conn_close(pr.a.c), WP_OK);
            pair_pump(&pr);
            total = pr.ab.off - start;
            assert_int_equal(pr.b.n_msgs, 2);
            pair_free(&pr);
        }
        size_t n = mode == 0 ? 8 * total : total;
        for (size_t k = 0; k < n; k++) {
            struct pair pr;
            struct flip f = {0, 8 * start + k};
            pair_init(&pr, "tamper rec");
            assert_true(pair_handshake(&pr));
            if (mode == 0) {
                pr.tamper = flip_hook;
                pr.tamper_user = &f;
            } else {
                pr.ab.cut_at = start + k;
            }
            assert_int_equal(conn_send(pr.a.c, "hello", 5), WP_OK);
            assert_int_equal(conn_send(pr.a.c, "world!", 6), WP_OK);
            assert_int_equal(conn_close(pr.a.c), WP_OK);
            pair_eof(&pr);
            assert_true(pr.b.closed);
            assert_int_not_equal(pr.b.close_reason, WP_OK);
            /* records are 26, 27 and 22 bytes: what arrived is the whole messages before
               the damage, never a part of one and nothing after it */
            size_t pos = mode == 0 ? k / 8 : k;
            size_t whole = (size_t)(pos >= 26) + (size_t)(pos >= 53);
            assert_int_equal(pr.b.n_msgs, whole);
            assert_memory_equal(pr.b.msgs, "helloworld!", pr.b.msgs_len);
            bool in_len = (pos < 4) || (pos >= 26 && pos < 30) || (pos >= 53 && pos < 57);
            if (mode == 0 && !in_len)
                assert_int_equal(pr.b.close_reason, WP_EINTEGRITY);
            if (mode == 1)
                assert_int_equal(pr.b.close_reason, WP_ETRUNCATED);
            pair_free(&pr);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bit_flips_handshake),
        cmocka_unit_test(test_truncation_handshake),
        cmocka_unit_test(test_records_flips_and_cuts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

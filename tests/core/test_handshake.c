/*
 * test_handshake.c - successful connections: both suites, messages both
 * ways, the exporter, half-close and authenticated close vs truncation,
 * configuration checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "core/conn_int.h"

static void assert_failed_with(struct peer *p, wp_status want)
{
    if (!p->closed || p->close_reason != want)
        fprintf(stderr, "expected %s, got closed=%d %s: %s\n", wp_status_name(want), p->closed,
                wp_status_name(p->close_reason), conn_last_error(p->c)->detail);
    assert_true(p->closed);
    assert_int_equal(p->close_reason, want);
    assert_int_equal(conn_last_error(p->c)->code, want);
    assert_true(conn_last_error(p->c)->detail[0] != '\0');
}

static void run_suite(uint32_t suites_a, uint32_t suites_b, uint16_t want)
{
    struct pair pr;
    pair_init(&pr, "suite");
    pr.a.cfg.suites = suites_a;
    pr.b.cfg.suites = suites_b;
    assert_true(pair_handshake(&pr));
    assert_int_equal(pr.a.suite, want);
    assert_int_equal(pr.b.suite, want);
    assert_memory_equal(pr.a.peer_pub, pr.b.id_pub, CRYPTO_P256_PUB_LEN);
    assert_memory_equal(pr.b.peer_pub, pr.a.id_pub, CRYPTO_P256_PUB_LEN);
    assert_true(conn_is_authenticated(pr.a.c));
    assert_true(conn_is_authenticated(pr.b.c));
    assert_int_equal(conn_deadline_ms(pr.a.c), -1);
    assert_int_equal(conn_deadline_ms(pr.b.c), -1);

    /* messages both ways, including an empty one and a maximal one */
    size_t max = conn_max_message(pr.a.c);
    assert_int_equal(max, WP_FRAME_MAX_DEFAULT - WP_REC_OVERHEAD);
    uint8_t *big = malloc(max);
    assert_non_null(big);
    for (size_t i = 0; i < max; i++)
        big[i] = (uint8_t)(i * 7);
    assert_int_equal(conn_send(pr.a.c, "hello", 5), WP_OK);
    assert_int_equal(conn_send(pr.a.c, "", 0), WP_OK);
    assert_int_equal(conn_send(pr.a.c, big, max), WP_OK);
    assert_int_equal(conn_send(pr.a.c, big, max + 1), WP_ETOOBIG);
    assert_int_equal(conn_send(pr.b.c, "world", 5), WP_OK);
    pair_pump(&pr);
    assert_int_equal(pr.b.n_msgs, 3);
    assert_int_equal(pr.b.msgs_len, 5 + max);
    assert_memory_equal(pr.b.msgs, "hello", 5);
    assert_memory_equal(pr.b.msgs + 5, big, max);
    assert_int_equal(pr.a.n_msgs, 1);
    assert_memory_equal(pr.a.msgs, "world", 5);
    free(big);

    /* half-close: a closes, b still sends, then b closes; EOF is clean */
    assert_int_equal(conn_close(pr.a.c), WP_OK);
    assert_int_equal(conn_send(pr.a.c, "x", 1), WP_ECLOSED);
    pair_pump(&pr);
    assert_true(pr.b.closed);
    assert_int_equal(pr.b.close_reason, WP_OK);
    assert_false(conn_is_closed(pr.b.c));
    assert_int_equal(conn_send(pr.b.c, "late", 4), WP_OK);
    assert_int_equal(conn_close(pr.b.c), WP_OK);
    pair_pump(&pr);
    assert_int_equal(pr.a.n_msgs, 2);
    assert_true(pr.a.closed);
    assert_int_equal(pr.a.close_reason, WP_OK);
    assert_true(conn_is_closed(pr.a.c));
    assert_true(conn_is_closed(pr.b.c));
    assert_int_equal(conn_input_eof(pr.a.c), WP_OK);
    assert_int_equal(conn_input_eof(pr.b.c), WP_OK);
    pair_free(&pr);
}

static void test_suite_aes(void **state)
{
    (void)state;
    run_suite(0, 0, WP_SUITE_AES256GCM);
    run_suite(CONN_SUITE_P256_AES256GCM_SHA256, 0, WP_SUITE_AES256GCM);
}

static void test_suite_chacha(void **state)
{
    (void)state;
    run_suite(CONN_SUITE_P256_CHACHA20POLY1305_SHA256, 0, WP_SUITE_CHACHA20);
    run_suite(0, CONN_SUITE_P256_CHACHA20POLY1305_SHA256, WP_SUITE_CHACHA20);
}

static void test_no_common_suite(void **state)
{
    (void)state;
    struct pair pr;
    pair_init(&pr, "nosuite");
    pr.a.cfg.suites = CONN_SUITE_P256_CHACHA20POLY1305_SHA256;
    pr.b.cfg.suites = CONN_SUITE_P256_AES256GCM_SHA256;
    assert_false(pair_handshake(&pr));
    assert_failed_with(&pr.b, WP_EVERSION);
    assert_failed_with(&pr.a, WP_EVERSION);
    assert_false(pr.a.authenticated || pr.b.authenticated);
    pair_free(&pr);
}

static void test_exporter(void **state)
{
    (void)state;
    uint8_t ea[32], eb[32], ec[32], e64[64];
    struct pair p1, p2;
    pair_init(&p1, "exporter one");
    pair_init(&p2, "exporter two");
    assert_true(pair_handshake(&p1));
    assert_true(pair_handshake(&p2));
    assert_int_equal(conn_exporter(p1.a.c, "test", ea, sizeof ea), WP_OK);
    assert_int_equal(conn_exporter(p1.b.c, "test", eb, sizeof eb), WP_OK);
    assert_memory_equal(ea, eb, sizeof ea);
    assert_int_equal(conn_exporter(p1.a.c, "other", ec, sizeof ec), WP_OK);
    assert_memory_not_equal(ea, ec, sizeof ea);
    assert_int_equal(conn_exporter(p2.a.c, "test", ec, sizeof ec), WP_OK);
    assert_memory_not_equal(ea, ec, sizeof ea);
    assert_int_equal(conn_exporter(p1.a.c, "test", e64, sizeof e64), WP_OK);
    assert_int_equal(conn_exporter(p1.a.c, "", ea, sizeof ea), WP_EINVAL);
    pair_free(&p1);
    pair_free(&p2);
}

static void test_exporter_before_trust(void **state)
{
    (void)state;
    uint8_t ea[32], eb[32];
    struct pair pr;
    pair_init(&pr, "exporter early");
    pr.a.trust = TRUST_MANUAL;
    pr.b.trust = TRUST_MANUAL;
    assert_int_equal(pair_start(&pr), WP_OK);
    assert_int_equal(conn_exporter(pr.a.c, "x", ea, sizeof ea), WP_ESTATE);
    pair_pump(&pr);
    /* the initiator knows the responder; a pairing layer can bind to the exporter now */
    assert_true(pr.a.got_identity);
    assert_false(pr.b.got_identity);
    assert_int_equal(conn_exporter(pr.a.c, "pair", ea, sizeof ea), WP_OK);
    assert_int_equal(conn_exporter(pr.b.c, "pair", eb, sizeof eb), WP_OK);
    assert_memory_equal(ea, eb, sizeof ea);
    assert_int_equal(conn_send(pr.a.c, "x", 1), WP_ESTATE);
    assert_int_equal(conn_trust_decide(pr.a.c, true), WP_OK);
    pair_pump(&pr);
    assert_true(pr.b.got_identity);
    assert_false(pr.a.authenticated);
    assert_int_equal(conn_send(pr.b.c, "x", 1), WP_ESTATE);
    assert_int_equal(conn_trust_decide(pr.b.c, true), WP_OK);
    assert_int_equal(conn_trust_decide(pr.b.c, true), WP_ESTATE);
    pair_pump(&pr);
    assert_true(pr.a.authenticated && pr.b.authenticated);
    pair_free(&pr);
}

static void test_truncation_after_auth(void **state)
{
    (void)state;
    struct pair pr;
    pair_init(&pr, "truncate");
    assert_true(pair_handshake(&pr));
    assert_int_equal(conn_send(pr.a.c, "data", 4), WP_OK);
    pair_pump(&pr);
    /* EOF without close_notify: truncation */
    assert_int_equal(conn_input_eof(pr.b.c), WP_ETRUNCATED);
    peer_events(&pr.b);
    assert_failed_with(&pr.b, WP_ETRUNCATED);
    /* sticky */
    assert_int_equal(conn_send(pr.b.c, "x", 1), WP_ETRUNCATED);
    size_t used;
    assert_int_equal(conn_input(pr.b.c, (const uint8_t *)"abc", 3, &used), WP_ETRUNCATED);
    assert_int_equal(conn_close(pr.b.c), WP_ETRUNCATED);
    assert_true(conn_is_closed(pr.b.c));
    pair_free(&pr);
}

static void test_truncation_mid_record(void **state)
{
    (void)state;
    struct pair pr;
    pair_init(&pr, "truncate mid");
    assert_true(pair_handshake(&pr));
    assert_int_equal(conn_send(pr.a.c, "data", 4), WP_OK);
    assert_int_equal(conn_close(pr.a.c), WP_OK);
    /* deliver all but the last byte of the close_notify */
    pr.ab.cut_at = pr.ab.off + conn_output_pending(pr.a.c) - 1;
    pair_eof(&pr);
    assert_int_equal(pr.b.n_msgs, 1);
    assert_failed_with(&pr.b, WP_ETRUNCATED);
    pair_free(&pr);
}

static void test_close_during_handshake(void **state)
{
    (void)state;
    struct pair pr;
    pair_init(&pr, "close hs");
    pr.b.trust = TRUST_MANUAL;
    assert_int_equal(pair_start(&pr), WP_OK);
    pair_pump(&pr);
    assert_true(pr.b.got_identity);
    assert_int_equal(conn_close(pr.b.c), WP_OK);
    pair_pump(&pr);
    assert_failed_with(&pr.b, WP_ECLOSED);
    assert_failed_with(&pr.a, WP_ECLOSED); /* the generic abort alert */
    pair_free(&pr);
}

static void test_config_checks(void **state)
{
    (void)state;
    struct peer p;
    wp_err err;
    struct conn *c = NULL;
    static const uint8_t zero[32];
    uint8_t secret[8] = {1};
    peer_init(&p, true, "cfg id", "cfg rng");
    struct conn_config cfg = p.cfg;
    cfg.rng = NULL;
    assert_int_equal(conn_new(&cfg, 0, &c, &err), WP_EINVAL);
    cfg = p.cfg;
    cfg.suites = 0x4;
    assert_int_equal(conn_new(&cfg, 0, &c, &err), WP_EINVAL);
    cfg = p.cfg;
    cfg.max_frame = 100;
    assert_int_equal(conn_new(&cfg, 0, &c, &err), WP_EINVAL);
    cfg = p.cfg;
    cfg.external_secret = secret;
    cfg.external_secret_len = sizeof secret;
    assert_int_equal(conn_new(&cfg, 0, &c, &err), WP_EINVAL);
    cfg.external_secret = zero;
    cfg.external_secret_len = sizeof zero;
    assert_int_equal(conn_new(&cfg, 0, &c, &err), WP_EINVAL);
    assert_string_equal(err.detail, "external secret is all zeros");
    cfg = p.cfg;
    cfg.rekey_after_records = WP_REKEY_RECORDS_MAX + 1;
    assert_int_equal(conn_new(&cfg, 0, &c, &err), WP_EINVAL);
    assert_null(c);
    peer_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suite_aes),
        cmocka_unit_test(test_suite_chacha),
        cmocka_unit_test(test_no_common_suite),
        cmocka_unit_test(test_exporter),
        cmocka_unit_test(test_exporter_before_trust),
        cmocka_unit_test(test_truncation_after_auth),
        cmocka_unit_test(test_truncation_mid_record),
        cmocka_unit_test(test_close_during_handshake),
        cmocka_unit_test(test_config_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_auth.c - authentication failures, each with its own status:
 * invalid curve points in the ephemeral and identity fields, wrong
 * signatures and Finished MACs, an identity other than the expected one,
 * our own identity on the other side (reflection), trust refused on either
 * side, external secret mismatch, a downgrade of
 * the offered suites, no common version.
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

static void expect(struct peer *p, wp_status want, const char *detail_part)
{
    const wp_err *e = conn_last_error(p->c);
    if (!p->closed || p->close_reason != want || (detail_part && !strstr(e->detail, detail_part)))
        fprintf(stderr, "want %s (%s), got %s: %s\n", wp_status_name(want),
                detail_part ? detail_part : "", wp_status_name(p->close_reason), e->detail);
    assert_true(p->closed);
    assert_int_equal(p->close_reason, want);
    if (detail_part)
        assert_non_null(strstr(e->detail, detail_part));
    assert_false(p->authenticated);
}

/* Move a's output to b by hand, letting `edit` change it first. */
static void deliver(struct peer *from, struct peer *to,
                    void (*edit)(void *u, uint8_t *p, size_t n), void *u)
{
    size_t n, used;
    const uint8_t *p = conn_output(from->c, &n);
    assert_non_null(p);
    uint8_t *copy = malloc(n);
    assert_non_null(copy);
    memcpy(copy, p, n);
    conn_output_done(from->c, n);
    if (edit)
        edit(u, copy, n);
    size_t off = 0;
    while (off < n && !to->closed) {
        wp_status st = conn_input(to->c, copy + off, n - off, &used);
        (void)st;
        peer_events(to);
        off += used;
    }
    free(copy);
}

/* ---------------------------------------------------------------- points */

static const uint8_t *g_point;

static void put_point(void *u, uint8_t *p, size_t n)
{
    size_t off = *(size_t *)u;
    assert_true(off + 65 <= n);
    memcpy(p + off, g_point, 65);
}

static void bad_points(uint8_t pts[5][65])
{
    struct peer tmp;
    peer_init(&tmp, true, "points", "points");
    memset(pts, 0, 5 * 65);
    memcpy(pts[0], tmp.id_pub, 65);
    pts[0][64] ^= 1;           /* off the curve */
    pts[1][0] = 0x00;          /* the point at infinity encoding */
    memcpy(pts[2], tmp.id_pub, 65);
    pts[2][0] = 0x02;          /* compressed prefix on an uncompressed body */
    memset(pts[3], 0xff, 65);  /* coordinates >= p */
    pts[3][0] = 0x04;
    memset(pts[4], 0, 65);     /* (0, 0): not on the curve */
    pts[4][0] = 0x04;
    peer_free(&tmp);
}

static void test_invalid_ephemeral(void **state)
{
    (void)state;
    uint8_t pts[5][65];
    bad_points(pts);
    for (int i = 0; i < 5; i++) {
        struct pair pr;
        pair_init(&pr, "points");
        assert_int_equal(pair_start(&pr), WP_OK);
        g_point = pts[i];
        size_t off = 4 + 8 + 1 + 1 + 2 + 1 + 4 + 32; /* E_I in msg1 (two suites) */
        deliver(&pr.a, &pr.b, put_point, &off);
        expect(&pr.b, WP_EPROTO, "initiator ephemeral key is not a valid P-256 point");
        pair_free(&pr);

        pair_init(&pr, "points");
        assert_int_equal(pair_start(&pr), WP_OK);
        deliver(&pr.a, &pr.b, NULL, NULL);
        off = 4 + 8 + 1 + 2 + 2 + 32; /* E_R in msg2 */
        deliver(&pr.b, &pr.a, put_point, &off);
        expect(&pr.a, WP_EPROTO, "responder ephemeral key is not a valid P-256 point");
        pair_free(&pr);
    }
}

/* Keylog capture of the handshake secrets, to re-seal edited encrypted parts. */
struct cap {
    uint8_t i_hs[32], r_hs[32];
};

static void cap_hook(void *user, const char *name, const uint8_t *v, size_t len)
{
    struct cap *c = user;
    if (strcmp(name, "i_hs") == 0 && len == 32)
        memcpy(c->i_hs, v, 32);
    if (strcmp(name, "r_hs") == 0 && len == 32)
        memcpy(c->r_hs, v, 32);
}

struct reseal {
    const uint8_t *secret;
    crypto_aead_alg alg;
    size_t body_off;   /* where the sealed body starts in the frame */
    size_t field_off;  /* offset inside the inner plaintext */
    const uint8_t *val;
    size_t val_len;
    bool flip;         /* flip the field's first bit instead of replacing it */
};

/* Open the encrypted body, change one inner field, seal it again (counter 0). */
static void reseal(void *u, uint8_t *p, size_t n)
{
    struct reseal *r = u;
    struct rec_key k;
    uint8_t type;
    size_t len;
    wp_err err;
    uint8_t aad[4];
    memcpy(aad, p, 4);
    memset(&k, 0, sizeof k);
    assert_int_equal(rec_key_set(&k, r->alg, r->secret, &err), WP_OK);
    assert_int_equal(rec_open_body(&k, aad, p + r->body_off, n - r->body_off, &type, &len, &err),
                     WP_OK);
    if (r->flip)
        p[r->body_off + r->field_off] ^= 0x01;
    else
        memcpy(p + r->body_off + r->field_off, r->val, r->val_len);
    assert_int_equal(rec_key_set(&k, r->alg, r->secret, &err), WP_OK);
    assert_int_equal(rec_seal_body(&k, aad, type, p + r->body_off + 1, len, p + r->body_off, &err),
                     WP_OK);
    rec_key_clear(&k);
}

/* field offsets in the 166-byte inner plaintext: type 0, max_frame 1, ID 5, sig 70, fin 134 */
static void edit_msg2(size_t field_off, const uint8_t *val, size_t len, bool flip,
                      wp_status want, const char *detail)
{
    struct pair pr;
    struct cap cap;
    pair_init(&pr, "reseal");
    pr.b.cfg.keylog = cap_hook;
    pr.b.cfg.keylog_user = &cap;
    assert_int_equal(pair_start(&pr), WP_OK);
    deliver(&pr.a, &pr.b, NULL, NULL);
    struct reseal r = {cap.r_hs, CRYPTO_AEAD_AES_256_GCM, 4 + WP_MSG2_HDR_LEN, field_off, val,
                       len, flip};
    deliver(&pr.b, &pr.a, reseal, &r);
    expect(&pr.a, want, detail);
    pair_pump(&pr);
    /* the responder learns only "abort" */
    expect(&pr.b, WP_ECLOSED, "peer aborted the handshake");
    pair_free(&pr);
}

static void edit_msg3(size_t field_off, const uint8_t *val, size_t len, bool flip,
                      wp_status want, const char *detail)
{
    struct pair pr;
    struct cap cap;
    pair_init(&pr, "reseal");
    pr.a.cfg.keylog = cap_hook;
    pr.a.cfg.keylog_user = &cap;
    assert_int_equal(pair_start(&pr), WP_OK);
    deliver(&pr.a, &pr.b, NULL, NULL);
    deliver(&pr.b, &pr.a, NULL, NULL);
    struct reseal r = {cap.i_hs, CRYPTO_AEAD_AES_256_GCM, 4, field_off, val, len, flip};
    deliver(&pr.a, &pr.b, reseal, &r);
    expect(&pr.b, want, detail);
    pair_pump(&pr);
    expect(&pr.a, WP_ECLOSED, "peer aborted the handshake");
    pair_free(&pr);
}

static void test_invalid_identity_point(void **state)
{
    (void)state;
    uint8_t pts[5][65];
    bad_points(pts);
    for (int i = 0; i < 5; i++) {
        edit_msg2(5, pts[i], 65, false, WP_EPROTO, "responder identity key is not a valid");
        edit_msg3(5, pts[i], 65, false, WP_EPROTO, "initiator identity key is not a valid");
    }
}

static void test_bad_signature_and_finished(void **state)
{
    (void)state;
    edit_msg2(70, NULL, 0, true, WP_EAUTH, "responder signature does not verify");
    edit_msg2(134, NULL, 0, true, WP_EAUTH, "responder Finished MAC is wrong");
    edit_msg3(70, NULL, 0, true, WP_EAUTH, "initiator signature does not verify");
    edit_msg3(134, NULL, 0, true, WP_EAUTH, "initiator Finished MAC is wrong");
    /* a different (valid) identity with the original signature */
    struct peer other;
    peer_init(&other, true, "someone else", "x");
    edit_msg2(5, other.id_pub, 65, false, WP_EAUTH, "responder signature does not verify");
    edit_msg3(5, other.id_pub, 65, false, WP_EAUTH, "initiator signature does not verify");
    peer_free(&other);
    /* max_frame out of range */
    static const uint8_t tiny[4] = {0, 0, 0, 16};
    edit_msg2(1, tiny, 4, false, WP_EPROTO, "max_frame");
}

/* A signer that uses the wrong key: the signature is well formed but not ours. */
static wp_status wrong_signer(void *user, const uint8_t *msg, size_t len, uint8_t out[64])
{
    return crypto_ecdsa_sign((const crypto_ec_key *)user, msg, len, out, NULL);
}

static void test_wrong_signing_key(void **state)
{
    (void)state;
    struct peer other;
    peer_init(&other, true, "impostor", "x");
    for (int side = 0; side < 2; side++) {
        struct pair pr;
        pair_init(&pr, "wrong key");
        struct peer *liar = side ? &pr.a : &pr.b;
        liar->cfg.sign = wrong_signer;
        liar->cfg.sign_user = other.id;
        assert_false(pair_handshake(&pr));
        pair_eof(&pr);
        expect(side ? &pr.b : &pr.a, WP_EAUTH, "signature does not verify");
        expect(liar, WP_ECLOSED, "peer aborted");
        pair_free(&pr);
    }
    peer_free(&other);
}

static void test_unexpected_identity(void **state)
{
    (void)state;
    struct peer other;
    peer_init(&other, true, "expected someone else", "x");
    for (int side = 0; side < 2; side++) {
        struct pair pr;
        pair_init(&pr, "expect");
        struct peer *checker = side ? &pr.b : &pr.a;
        checker->cfg.expected_peer = other.id_pub;
        assert_false(pair_handshake(&pr));
        expect(checker, WP_EIDENTITY, "not the expected one");
        assert_false(checker->got_identity); /* refused before the app is asked */
        expect(side ? &pr.a : &pr.b, WP_EDENIED, "peer refused our identity");
        pair_free(&pr);
    }
    /* the right expected identity passes */
    struct pair pr;
    pair_init(&pr, "expect");
    pr.a.cfg.expected_peer = pr.b.id_pub;
    pr.b.cfg.expected_peer = pr.a.id_pub;
    assert_true(pair_handshake(&pr));
    pair_free(&pr);
    peer_free(&other);
}

/*
 * Reflection: our own identity on the other side fails with WP_EIDENTITY
 * before the application is asked (an application on trust-on-first-use
 * would otherwise pin its own key under the peer's name).
 */
static void test_own_identity_refused(void **state)
{
    (void)state;
    /* a handshake bounced back to another engine with our key (or a cloned key) */
    struct pair pr;
    pair_init(&pr, "self");
    peer_free(&pr.b);
    peer_init(&pr.b, false, "initiator identity", "self responder rng");
    assert_memory_equal(pr.a.id_pub, pr.b.id_pub, 65);
    assert_false(pair_handshake(&pr));
    expect(&pr.a, WP_EIDENTITY, "responder presents our own identity");
    assert_false(pr.a.got_identity);
    expect(&pr.b, WP_EDENIED, "peer refused our identity");
    pair_free(&pr);

    /*
     * The responder's own check, against an initiator that does not check:
     * it holds the responder's key and sends it as ID_I (validly signed).
     */
    pair_init(&pr, "self");
    pr.a.cfg.sign = wrong_signer;
    pr.a.cfg.sign_user = pr.b.id;
    pr.a.trust = TRUST_MANUAL;
    assert_int_equal(pair_start(&pr), WP_OK);
    deliver(&pr.a, &pr.b, NULL, NULL);
    deliver(&pr.b, &pr.a, NULL, NULL);
    assert_true(pr.a.got_identity);
    memcpy(pr.a.c->my_id, pr.b.id_pub, 65);
    assert_int_equal(conn_trust_decide(pr.a.c, true), WP_OK);
    deliver(&pr.a, &pr.b, NULL, NULL);
    expect(&pr.b, WP_EIDENTITY, "initiator presents our own identity");
    assert_false(pr.b.got_identity);
    pair_pump(&pr);
    expect(&pr.a, WP_EDENIED, "peer refused our identity");
    pair_free(&pr);
}

static void test_trust_denied(void **state)
{
    (void)state;
    for (int side = 0; side < 2; side++) {
        struct pair pr;
        pair_init(&pr, "deny");
        struct peer *denier = side ? &pr.b : &pr.a;
        denier->trust = TRUST_DENY;
        assert_false(pair_handshake(&pr));
        pair_eof(&pr);
        expect(denier, WP_EDENIED, "local trust decision refused");
        expect(side ? &pr.a : &pr.b, WP_EDENIED, "peer refused our identity");
        if (side == 0) {
            /* identity hiding: the initiator never sent msg3, only msg1 and the alert */
            assert_int_equal(pr.a.sent_len, 4 + 116 + 4 + WP_REC_OVERHEAD + 1);
            assert_false(pr.b.got_identity);
        }
        pair_free(&pr);
    }
}

static void test_external_secret(void **state)
{
    (void)state;
    static const uint8_t s1[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    static const uint8_t s2[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17};
    uint8_t e_with[32], e_without[32];
    struct pair pr;
    /* same secret: works, and the secret changes the keys */
    pair_init(&pr, "psk");
    pr.a.cfg.external_secret = s1;
    pr.a.cfg.external_secret_len = sizeof s1;
    pr.b.cfg.external_secret = s1;
    pr.b.cfg.external_secret_len = sizeof s1;
    assert_true(pair_handshake(&pr));
    assert_int_equal(conn_exporter(pr.a.c, "x", e_with, 32), WP_OK);
    pair_free(&pr);
    pair_init(&pr, "psk");
    assert_true(pair_handshake(&pr));
    assert_int_equal(conn_exporter(pr.a.c, "x", e_without, 32), WP_OK);
    assert_memory_not_equal(e_with, e_without, 32);
    pair_free(&pr);
    /* different secrets, or only one side with a secret: both fail */
    for (int k = 0; k < 3; k++) {
        pair_init(&pr, "psk");
        if (k != 2) {
            pr.a.cfg.external_secret = s1;
            pr.a.cfg.external_secret_len = sizeof s1;
        }
        if (k != 1) {
            pr.b.cfg.external_secret = k == 0 ? s2 : s1;
            pr.b.cfg.external_secret_len = sizeof s1;
        }
        assert_false(pair_handshake(&pr));
        pair_eof(&pr);
        expect(&pr.a, WP_EAUTH, "external secrets differ");
        expect(&pr.b, WP_EAUTH, "external secrets differ");
        pair_free(&pr);
    }
}

/* Drop ChaCha20 from the initiator's offer (msg1 shrinks by 2 bytes). */
static void downgrade(void *u, uint8_t *p, size_t n)
{
    (void)u;
    assert_int_equal(n, 4 + 116);
    assert_int_equal(p[4 + 12], 2); /* n_suites */
    p[4 + 12] = 1;
    memmove(p + 4 + 15, p + 4 + 17, n - (4 + 17));
    be32_store(p, 114);
}

static void test_downgrade_detected(void **state)
{
    (void)state;
    struct pair pr;
    size_t n;
    pair_init(&pr, "downgrade");
    assert_int_equal(pair_start(&pr), WP_OK);
    const uint8_t *p = conn_output(pr.a.c, &n);
    uint8_t buf[120];
    memcpy(buf, p, n);
    conn_output_done(pr.a.c, n);
    downgrade(NULL, buf, n);
    size_t used;
    assert_int_equal(conn_input(pr.b.c, buf, n - 2, &used), WP_OK);
    assert_int_equal(used, n - 2);
    pair_pump(&pr);
    /* the responder answered normally (it cannot tell); the initiator's transcript differs */
    expect(&pr.a, WP_EAUTH, "message 2 does not authenticate");
    expect(&pr.b, WP_EAUTH, "message 3 does not authenticate");
    pair_free(&pr);
}

static void future_version(void *u, uint8_t *p, size_t n)
{
    (void)u;
    (void)n;
    p[4 + 10] = 0x00;
    p[4 + 11] = 0x02; /* versions = [0x0002] */
}

static void test_no_common_version(void **state)
{
    (void)state;
    struct pair pr;
    pair_init(&pr, "version");
    assert_int_equal(pair_start(&pr), WP_OK);
    deliver(&pr.a, &pr.b, future_version, NULL);
    expect(&pr.b, WP_EVERSION, "protocol version");
    deliver(&pr.b, &pr.a, NULL, NULL); /* the clear alert */
    expect(&pr.a, WP_EVERSION, "no protocol version or cipher suite");
    pair_free(&pr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invalid_ephemeral),
        cmocka_unit_test(test_invalid_identity_point),
        cmocka_unit_test(test_bad_signature_and_finished),
        cmocka_unit_test(test_wrong_signing_key),
        cmocka_unit_test(test_unexpected_identity),
        cmocka_unit_test(test_own_identity_refused),
        cmocka_unit_test(test_trust_denied),
        cmocka_unit_test(test_external_secret),
        cmocka_unit_test(test_downgrade_detected),
        cmocka_unit_test(test_no_common_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

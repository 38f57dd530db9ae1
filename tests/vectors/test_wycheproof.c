/*
 * Project Wycheproof vectors against the crypto layer (src/crypto/crypto.h).
 * Data: $WP_TEST_DATA_DIR/vectors/wycheproof/ (see PROVENANCE.md there).
 *
 * One cmocka test per file. Every in-profile test runs:
 *   valid      -> accepted, with the exact expected output;
 *   invalid    -> rejected (with the status the API promises);
 *   acceptable -> POLICY: REJECT. libwipeer takes only what its wire format
 *                 needs (65-byte uncompressed points), so "acceptable" inputs
 *                 must be refused; each is asserted.
 * Tests outside the profile (other key/IV/tag sizes the API cannot express)
 * are counted, never run. A file that is missing, has zero in-profile tests,
 * any mismatch, or counts that differ from the expected table fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include <jansson.h>

#include "internal.h"
#include "crypto/crypto.h"

/* What one test case did. */
typedef enum verdict {
    V_OUT_OF_PROFILE,
    V_ACCEPTED, /* for valid tests: with exactly the expected output */
    V_REJECTED, /* with the right status, output wiped */
    V_WRONG,    /* wrong output, or rejected with the wrong status */
} verdict;

/* Expected in-profile counts (the table in wycheproof/PROVENANCE.md). */
struct expect {
    unsigned valid, invalid, acceptable, oop;
};

typedef verdict (*case_fn)(json_t *group, json_t *tc);

/* ---------------------------------------------------------------- JSON helpers */

static const char *jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        fail_msg("missing string field '%s'", key);
    return json_string_value(v);
}

static long long jint(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        fail_msg("missing integer field '%s'", key);
    return json_integer_value(v);
}

/* A decoded hex field; data is never NULL (wp_malloc(0) gives a byte). */
struct bytes {
    uint8_t *data;
    size_t len;
};

static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static struct bytes jhex(json_t *o, const char *key)
{
    const char *h = jstr(o, key);
    size_t hl = strlen(h);
    if (hl % 2 != 0)
        fail_msg("odd-length hex in '%s'", key);
    struct bytes b = {wp_malloc(hl / 2), hl / 2};
    assert_non_null(b.data);
    for (size_t i = 0; i < b.len; i++) {
        int hi = nibble(h[2 * i]), lo = nibble(h[2 * i + 1]);
        if (hi < 0 || lo < 0)
            fail_msg("bad hex in '%s'", key);
        b.data[i] = (uint8_t)(hi * 16 + lo);
    }
    return b;
}

static void bfree(struct bytes *b)
{
    wp_free(b->data);
    b->data = NULL;
}

/* ---------------------------------------------------------------- the driver */

static void run_file(const char *name, case_fn fn, struct expect want)
{
    const char *dir = getenv("WP_TEST_DATA_DIR");
    if (dir == NULL)
        fail_msg("WP_TEST_DATA_DIR is not set");
    char path[1024];
    int pn = snprintf(path, sizeof path, "%s/vectors/wycheproof/%s", dir, name);
    assert_true(pn > 0 && (size_t)pn < sizeof path);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (root == NULL)
        fail_msg("%s: cannot load: %s (line %d)", path, jerr.text, jerr.line);
    json_t *groups = json_object_get(root, "testGroups");
    assert_true(json_is_array(groups));

    unsigned valid_ok = 0, invalid_rej = 0, accept_rej = 0, oop = 0, mismatches = 0, total = 0;
    size_t gi, ti;
    json_t *g, *tc;
    json_array_foreach(groups, gi, g)
    {
        json_t *tests = json_object_get(g, "tests");
        assert_true(json_is_array(tests));
        json_array_foreach(tests, ti, tc)
        {
            total++;
            const char *result = jstr(tc, "result");
            verdict v = fn(g, tc);
            if (!crypto_err_queue_empty()) {
                print_error("%s tcId %lld: OpenSSL error queue not empty\n", name,
                            jint(tc, "tcId"));
                mismatches++;
            }
            if (v == V_OUT_OF_PROFILE) {
                oop++;
                continue;
            }
            bool ok = false;
            if (strcmp(result, "valid") == 0) {
                ok = v == V_ACCEPTED;
                valid_ok += ok;
            } else if (strcmp(result, "invalid") == 0) {
                ok = v == V_REJECTED;
                invalid_rej += ok;
            } else if (strcmp(result, "acceptable") == 0) {
                ok = v == V_REJECTED; /* policy: REJECT */
                accept_rej += ok;
            } else {
                fail_msg("%s tcId %lld: unknown result '%s'", name, jint(tc, "tcId"), result);
            }
            if (!ok) {
                print_error("%s tcId %lld (%s, %s): mismatch, verdict %d\n", name,
                            jint(tc, "tcId"), result, jstr(tc, "comment"), (int)v);
                mismatches++;
            }
        }
    }
    long long declared = jint(root, "numberOfTests");
    json_decref(root);
    print_message("%s: %u valid ok, %u invalid rejected, %u acceptable rejected, %u out of "
                  "profile\n",
                  name, valid_ok, invalid_rej, accept_rej, oop);
    assert_int_equal(mismatches, 0);
    assert_int_equal(total, declared);
    assert_true(valid_ok + invalid_rej + accept_rej > 0);
    assert_int_equal(valid_ok, want.valid);
    assert_int_equal(invalid_rej, want.invalid);
    assert_int_equal(accept_rej, want.acceptable);
    assert_int_equal(oop, want.oop);
}

/* ---------------------------------------------------------------- ECDH */

static verdict ecdh_case(json_t *g, json_t *tc)
{
    if (strcmp(jstr(g, "curve"), "secp256r1") != 0)
        return V_OUT_OF_PROFILE;
    struct bytes pub = jhex(tc, "public"), priv = jhex(tc, "private"), shared = jhex(tc, "shared");
    verdict v = V_WRONG;
    crypto_ec_key *k = NULL, *peer = NULL;
    uint8_t scalar[32] = {0}, out[32];
    /* The private key is a big-endian integer, sometimes with a sign byte. */
    size_t off = 0;
    while (off < priv.len && priv.data[off] == 0)
        off++;
    if (priv.len - off > 32)
        goto out;
    memcpy(scalar + 32 - (priv.len - off), priv.data + off, priv.len - off);
    if (crypto_ec_from_scalar(scalar, &k, NULL) != WP_OK)
        goto out;
    wp_status rc = crypto_ec_from_public(pub.len ? pub.data : NULL, pub.len, &peer, NULL);
    if (rc != WP_OK) {
        /* Bad points must be refused at import, as a protocol error. */
        v = rc == WP_EPROTO ? V_REJECTED : V_WRONG;
        goto out;
    }
    if (crypto_ecdh(k, peer, out, NULL) != WP_OK)
        goto out; /* every point that imports must derive */
    if (shared.len == 32 && memcmp(out, shared.data, 32) == 0)
        v = V_ACCEPTED;
out:
    crypto_ec_free(k);
    crypto_ec_free(peer);
    wp_wipe(scalar, sizeof scalar);
    bfree(&pub);
    bfree(&priv);
    bfree(&shared);
    return v;
}

static void test_ecdh_ecpoint(void **state)
{
    (void)state;
    run_file("ecdh_secp256r1_ecpoint_test.json", ecdh_case, (struct expect){330, 24, 1, 0});
}

/* ---------------------------------------------------------------- ECDSA */

static verdict ecdsa_case(json_t *g, json_t *tc, bool der)
{
    json_t *pk = json_object_get(g, "publicKey");
    if (strcmp(jstr(pk, "curve"), "secp256r1") != 0 || strcmp(jstr(g, "sha"), "SHA-256") != 0)
        return V_OUT_OF_PROFILE;
    struct bytes pub = jhex(pk, "uncompressed"), msg = jhex(tc, "msg"), sig = jhex(tc, "sig");
    verdict v = V_WRONG;
    crypto_ec_key *k = NULL;
    if (crypto_ec_from_public(pub.data, pub.len, &k, NULL) != WP_OK)
        goto out; /* every group key is a valid P-256 point */
    wp_status rc = der ? crypto_ecdsa_verify_der(k, msg.data, msg.len, sig.data, sig.len, NULL)
                       : crypto_ecdsa_verify(k, msg.data, msg.len, sig.data, sig.len, NULL);
    if (rc == WP_OK)
        v = V_ACCEPTED;
    else if (rc == WP_EAUTH)
        v = V_REJECTED;
out:
    crypto_ec_free(k);
    bfree(&pub);
    bfree(&msg);
    bfree(&sig);
    return v;
}

static verdict ecdsa_p1363_case(json_t *g, json_t *tc)
{
    return ecdsa_case(g, tc, false);
}

static verdict ecdsa_der_case(json_t *g, json_t *tc)
{
    return ecdsa_case(g, tc, true);
}

static void test_ecdsa_p1363(void **state)
{
    (void)state;
    run_file("ecdsa_secp256r1_sha256_p1363_test.json", ecdsa_p1363_case,
             (struct expect){173, 89, 0, 0});
}

static void test_ecdsa_der(void **state)
{
    (void)state;
    run_file("ecdsa_secp256r1_sha256_test.json", ecdsa_der_case,
             (struct expect){174, 310, 0, 0});
}

/* ---------------------------------------------------------------- AEAD */

static verdict aead_case(json_t *g, json_t *tc, crypto_aead_alg alg)
{
    if (jint(g, "keySize") != 256 || jint(g, "ivSize") != 96 || jint(g, "tagSize") != 128)
        return V_OUT_OF_PROFILE;
    struct bytes key = jhex(tc, "key"), iv = jhex(tc, "iv"), aad = jhex(tc, "aad"),
                 msg = jhex(tc, "msg"), ct = jhex(tc, "ct"), tag = jhex(tc, "tag");
    verdict v = V_OUT_OF_PROFILE;
    crypto_aead *a = NULL;
    uint8_t *rec = NULL, *out = NULL;
    /* Groups say 96/256/128, but check each test's actual sizes too. */
    if (key.len != CRYPTO_AEAD_KEY_LEN || iv.len != CRYPTO_AEAD_NONCE_LEN ||
        tag.len != CRYPTO_AEAD_TAG_LEN || ct.len != msg.len)
        goto out;
    v = V_WRONG;
    size_t rec_len = ct.len + CRYPTO_AEAD_TAG_LEN;
    rec = wp_malloc(rec_len);
    out = wp_malloc(rec_len);
    assert_non_null(rec);
    assert_non_null(out);
    memcpy(rec, ct.data, ct.len);
    memcpy(rec + ct.len, tag.data, tag.len);
    if (crypto_aead_new(alg, key.data, &a, NULL) != WP_OK)
        goto out;
    /* Decrypt: a poisoned output buffer must come back as plaintext or zeros. */
    memset(out, 0xa5, rec_len);
    wp_status rc = crypto_aead_open(a, iv.data, aad.data, aad.len, rec, rec_len, out, NULL);
    if (rc == WP_EAUTH) {
        bool zeroed = true;
        for (size_t i = 0; i < ct.len; i++)
            zeroed = zeroed && out[i] == 0;
        v = zeroed ? V_REJECTED : V_WRONG;
        goto out;
    }
    if (rc != WP_OK || memcmp(out, msg.data, msg.len) != 0)
        goto out;
    /* Encrypt (in place) must reproduce ct || tag exactly. */
    memcpy(out, msg.data, msg.len);
    if (crypto_aead_seal(a, iv.data, aad.data, aad.len, out, msg.len, out, NULL) != WP_OK ||
        memcmp(out, rec, rec_len) != 0)
        goto out;
    v = V_ACCEPTED;
out:
    crypto_aead_free(a);
    wp_free(rec);
    wp_free(out);
    bfree(&key);
    bfree(&iv);
    bfree(&aad);
    bfree(&msg);
    bfree(&ct);
    bfree(&tag);
    return v;
}

static verdict aes_gcm_case(json_t *g, json_t *tc)
{
    return aead_case(g, tc, CRYPTO_AEAD_AES_256_GCM);
}

static verdict chacha_case(json_t *g, json_t *tc)
{
    return aead_case(g, tc, CRYPTO_AEAD_CHACHA20_POLY1305);
}

static void test_aes_gcm(void **state)
{
    (void)state;
    run_file("aes_gcm_test.json", aes_gcm_case, (struct expect){39, 27, 0, 250});
}

static void test_chacha20_poly1305(void **state)
{
    (void)state;
    run_file("chacha20_poly1305_test.json", chacha_case, (struct expect){256, 60, 0, 9});
}

/* ---------------------------------------------------------------- HKDF, HMAC */

static verdict hkdf_case(json_t *g, json_t *tc)
{
    (void)g;
    struct bytes ikm = jhex(tc, "ikm"), salt = jhex(tc, "salt"), info = jhex(tc, "info"),
                 okm = jhex(tc, "okm");
    long long size = jint(tc, "size");
    verdict v = V_WRONG;
    uint8_t prk[32];
    uint8_t *out = NULL;
    if (size < 0)
        goto out;
    out = wp_malloc((size_t)size);
    assert_non_null(out);
    if (crypto_hkdf_extract(salt.data, salt.len, ikm.data, ikm.len, prk, NULL) != WP_OK)
        goto out;
    wp_status rc = crypto_hkdf_expand(prk, sizeof prk, info.data, info.len, out, (size_t)size,
                                      NULL);
    if (rc == WP_EINVAL)
        v = V_REJECTED; /* output too long is refused, as the API promises */
    else if (rc == WP_OK && okm.len == (size_t)size && memcmp(out, okm.data, okm.len) == 0)
        v = V_ACCEPTED;
out:
    wp_free(out);
    bfree(&ikm);
    bfree(&salt);
    bfree(&info);
    bfree(&okm);
    return v;
}

static void test_hkdf(void **state)
{
    (void)state;
    run_file("hkdf_sha256_test.json", hkdf_case, (struct expect){83, 3, 0, 0});
}

static verdict hmac_case(json_t *g, json_t *tc)
{
    long long tag_bits = jint(g, "tagSize");
    if (tag_bits <= 0 || tag_bits > 256 || tag_bits % 8 != 0)
        return V_OUT_OF_PROFILE;
    size_t tlen = (size_t)tag_bits / 8;
    struct bytes key = jhex(tc, "key"), msg = jhex(tc, "msg"), tag = jhex(tc, "tag");
    verdict v = V_WRONG;
    uint8_t mac[32];
    if (crypto_hmac_sha256(key.data, key.len, msg.data, msg.len, mac, NULL) != WP_OK)
        goto out;
    /* A truncated tag is the prefix of the full one; compare in constant time. */
    if (tag.len == tlen && crypto_ct_eq(mac, tag.data, tlen))
        v = V_ACCEPTED;
    else
        v = V_REJECTED;
out:
    bfree(&key);
    bfree(&msg);
    bfree(&tag);
    return v;
}

static void test_hmac(void **state)
{
    (void)state;
    run_file("hmac_sha256_test.json", hmac_case, (struct expect){66, 108, 0, 0});
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ecdh_ecpoint), cmocka_unit_test(test_ecdsa_p1363),
        cmocka_unit_test(test_ecdsa_der),    cmocka_unit_test(test_aes_gcm),
        cmocka_unit_test(test_chacha20_poly1305), cmocka_unit_test(test_hkdf),
        cmocka_unit_test(test_hmac),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for encrypted PKCS#8 identity keys (crypto_ec_to_pem /
 * crypto_ec_from_pem): the scrypt parameters we write, checked on the DER
 * bytes by hand (not by asking OpenSSL), and old PBKDF2 files still loading.
 * (Plain round trips and corrupt input are in test_crypto.c.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "internal.h"
#include "crypto/crypto.h"

/* Expect status want, and an empty OpenSSL error queue afterwards. */
#define assert_status(call, want)                                                                 \
    do {                                                                                          \
        wp_status rc_ = (call);                                                                   \
        if (rc_ != (want))                                                                        \
            fail_msg("%s: got %s, want %s", #call, wp_status_name(rc_), wp_status_name(want));    \
        assert_true(crypto_err_queue_empty());                                                    \
    } while (0)

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;
    assert_true(strlen(hex) % 2 == 0 && n <= cap);
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        for (int j = 0; j < 2; j++) {
            char c = hex[2 * i + (size_t)j];
            unsigned d = (c >= '0' && c <= '9')   ? (unsigned)(c - '0')
                         : (c >= 'a' && c <= 'f') ? (unsigned)(c - 'a' + 10)
                                                  : 99u;
            assert_true(d < 16);
            v = v * 16 + d;
        }
        out[i] = (uint8_t)v;
    }
    return n;
}

static unsigned b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return (unsigned)(c - 'A');
    if (c >= 'a' && c <= 'z')
        return (unsigned)(c - 'a' + 26);
    if (c >= '0' && c <= '9')
        return (unsigned)(c - '0' + 52);
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return 64;
}

/* The DER inside a one-block PEM: base64 between the BEGIN and END lines. */
static size_t pem_der(const char *pem, uint8_t *out, size_t cap)
{
    const char *p = strstr(pem, "-----\n");
    const char *end = strstr(pem, "\n-----END ");
    assert_non_null(p);
    assert_non_null(end);
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t n = 0;
    for (p += 6; p < end; p++) {
        if (*p == '\n' || *p == '=')
            continue;
        unsigned v = b64_value(*p);
        assert_true(v < 64);
        acc = (acc << 6) | v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            assert_true(n < cap);
            out[n++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return n;
}

/* A one-block PEM of der, 64 base64 characters a line. */
static void der_pem(const uint8_t *der, size_t n, const char *label, char *out, size_t cap)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0, col = 0;
    int w = snprintf(out, cap, "-----BEGIN %s-----\n", label);
    assert_true(w > 0 && (size_t)w < cap);
    o = (size_t)w;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)der[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)der[i + 1] << 8;
        if (i + 2 < n)
            v |= der[i + 2];
        assert_true(o + 6 < cap);
        out[o++] = abc[(v >> 18) & 63];
        out[o++] = abc[(v >> 12) & 63];
        out[o++] = i + 1 < n ? abc[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? abc[v & 63] : '=';
        if ((col += 4) == 64 || i + 3 >= n) {
            out[o++] = '\n';
            col = 0;
        }
    }
    w = snprintf(out + o, cap - o, "-----END %s-----\n", label);
    assert_true(w > 0 && (size_t)w < cap - o);
}

/* Offset of needle in hay, or SIZE_MAX. */
static size_t find(const uint8_t *hay, size_t hay_len, const uint8_t *needle, size_t len)
{
    for (size_t i = 0; len <= hay_len && i <= hay_len - len; i++)
        if (memcmp(hay + i, needle, len) == 0)
            return i;
    return SIZE_MAX;
}

/* DER OBJECT IDENTIFIERs (tag, length, body). */
static const uint8_t k_oid_pbes2[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
                                      0x0d, 0x01, 0x05, 0x0d}; /* 1.2.840.113549.1.5.13 */
static const uint8_t k_oid_pbkdf2[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
                                       0x0d, 0x01, 0x05, 0x0c}; /* 1.2.840.113549.1.5.12 */
static const uint8_t k_oid_scrypt[] = {0x06, 0x09, 0x2b, 0x06, 0x01, 0x04, 0x01,
                                       0xda, 0x47, 0x04, 0x0b}; /* 1.3.6.1.4.1.11591.4.11 */
static const uint8_t k_oid_aes256cbc[] = {0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
                                          0x03, 0x04, 0x01, 0x2a}; /* 2.16.840.1.101.3.4.1.42 */

struct scrypt_fields {
    uint8_t salt[16];
    uint8_t iv[16];
};

/*
 * Check the EncryptedPrivateKeyInfo of pem is PBES2 / scrypt(salt[16],
 * N = 32768, r = 7, p = 1, no keyLength) / AES-256-CBC(iv[16]) and return
 * its salt and IV.
 */
static void check_scrypt_pem(const char *pem, struct scrypt_fields *f)
{
    uint8_t der[512];
    assert_non_null(strstr(pem, "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
    size_t n = pem_der(pem, der, sizeof der);
    assert_true(n > 100);
    assert_int_equal(der[0], 0x30);
    assert_int_not_equal(find(der, n, k_oid_pbes2, sizeof k_oid_pbes2), SIZE_MAX);
    assert_int_equal(find(der, n, k_oid_pbkdf2, sizeof k_oid_pbkdf2), SIZE_MAX);
    size_t at = find(der, n, k_oid_scrypt, sizeof k_oid_scrypt);
    assert_int_not_equal(at, SIZE_MAX);
    at += sizeof k_oid_scrypt;
    /* scrypt-params ::= SEQUENCE { salt OCTET STRING (16), cost 32768, blockSize 7, p 1 } */
    static const uint8_t head[] = {0x30, 0x1d, 0x04, 0x10};
    static const uint8_t tail[] = {0x02, 0x03, 0x00, 0x80, 0x00, 0x02, 0x01,
                                   0x07, 0x02, 0x01, 0x01};
    assert_true(at + sizeof head + 16 + sizeof tail <= n);
    assert_memory_equal(der + at, head, sizeof head);
    memcpy(f->salt, der + at + sizeof head, 16);
    assert_memory_equal(der + at + sizeof head + 16, tail, sizeof tail);
    at += sizeof head + 16 + sizeof tail;
    /* encryptionScheme ::= SEQUENCE { aes256-CBC, iv OCTET STRING (16) } */
    static const uint8_t enc_head[] = {0x30, 0x1d};
    assert_true(at + 2 + sizeof k_oid_aes256cbc + 2 + 16 <= n);
    assert_memory_equal(der + at, enc_head, 2);
    assert_memory_equal(der + at + 2, k_oid_aes256cbc, sizeof k_oid_aes256cbc);
    at += 2 + sizeof k_oid_aes256cbc;
    assert_int_equal(der[at], 0x04);
    assert_int_equal(der[at + 1], 0x10);
    memcpy(f->iv, der + at + 2, 16);
}

static void test_pem_encrypted_is_scrypt(void **state)
{
    (void)state;
    const char *pass = "correct horse battery staple";
    crypto_ec_key *k = NULL, *back = NULL;
    char *pem1 = NULL, *pem2 = NULL;
    size_t len1 = 0, len2 = 0;
    struct scrypt_fields f1, f2;
    uint8_t p1[65], p2[65];
    assert_status(crypto_ec_generate(&k, NULL), WP_OK);
    assert_status(crypto_ec_to_pem(k, pass, &pem1, &len1, NULL), WP_OK);
    assert_status(crypto_ec_to_pem(k, pass, &pem2, &len2, NULL), WP_OK);
    check_scrypt_pem(pem1, &f1);
    check_scrypt_pem(pem2, &f2);
    /* Fresh random salt and IV for every encoding. */
    assert_memory_not_equal(f1.salt, f2.salt, 16);
    assert_memory_not_equal(f1.iv, f2.iv, 16);
    assert_memory_not_equal(f1.salt, f1.iv, 16);
    /* And it loads back through the decoder. */
    assert_status(crypto_ec_from_pem(pem2, len2, pass, &back, NULL), WP_OK);
    assert_status(crypto_ec_public(k, p1, NULL), WP_OK);
    assert_status(crypto_ec_public(back, p2, NULL), WP_OK);
    assert_memory_equal(p1, p2, 65);
    crypto_ec_free(back);
    wp_free_secret(pem1, len1 + 1);
    wp_free_secret(pem2, len2 + 1);
    crypto_ec_free(k);
}

/*
 * PBES2 / PBKDF2-HMAC-SHA256 (2048 iterations) / AES-256-CBC, the form
 * earlier wipeer wrote. Made with
 *   openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out k.pem
 *   openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256 -in k.pem \
 *     -passout pass:'legacy pbkdf2 passphrase'
 * (OpenSSL 3.0.19); the public key from `openssl pkey -pubout`.
 */
static const char k_pbkdf2_pass[] = "legacy pbkdf2 passphrase";
static const char k_pbkdf2_pem[] =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAgbj4qEDSltnQICCAAw\n"
    "DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEMbtIWTJX66rsjVubx9+aR8EgZBc\n"
    "DXScNgXogVJPdKw1LBvv47dXTlWFX3CwwJgnawjHW28S+nVHgsfrfdaM/EXSbeG/\n"
    "8jGlkLesu/UJ3fx8EtWiL9EBN9pAx37r32EZ+MmzWZTdzjxN4WkKC8GEpKZLCs2P\n"
    "ABeqn1jNgDOPMep4IAZOfgN71chQNzQh46o3Xe6g7dhhAA9BHhF5k0gFEHr9GHs=\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";
#define HEX_PBKDF2_PUB                                                                            \
    "04bb3e862779ce5660d5d0d964955d9d9d7e1e7d15c154a3fd65a11306916df8db"                         \
    "e237c1c72a85336105a5177f29f95e93513e4e320ba4feff365c839682347f49"

static void test_pem_pbkdf2_still_loads(void **state)
{
    (void)state;
    uint8_t der[512], want[65], got[65];
    size_t n = pem_der(k_pbkdf2_pem, der, sizeof der);
    /* The fixture really is the PBKDF2 form. */
    assert_int_not_equal(find(der, n, k_oid_pbkdf2, sizeof k_oid_pbkdf2), SIZE_MAX);
    assert_int_equal(find(der, n, k_oid_scrypt, sizeof k_oid_scrypt), SIZE_MAX);
    unhex(HEX_PBKDF2_PUB, want, sizeof want);
    crypto_ec_key *k = NULL;
    size_t len = strlen(k_pbkdf2_pem);
    assert_status(crypto_ec_from_pem(k_pbkdf2_pem, len, k_pbkdf2_pass, &k, NULL), WP_OK);
    assert_true(crypto_ec_has_private(k));
    assert_status(crypto_ec_public(k, got, NULL), WP_OK);
    assert_memory_equal(got, want, 65);
    crypto_ec_free(k);
    k = NULL;
    wp_err e;
    err_clear(&e);
    assert_status(crypto_ec_from_pem(k_pbkdf2_pem, len, "legacy pbkdf2 passphrasE", &k, &e),
                  WP_EPASSPHRASE);
    assert_int_equal(e.code, WP_EPASSPHRASE);
    assert_status(crypto_ec_from_pem(k_pbkdf2_pem, len, NULL, &k, NULL), WP_EPASSPHRASE);
    assert_null(k);
}

/*
 * OpenSSL 3.0's PKCS#8 decoder hands the passphrase callback a 1024-byte
 * buffer: a longer passphrase would encrypt a key that can never be loaded
 * again, so the encoder refuses it up front.
 */
static void test_pem_passphrase_length_limit(void **state)
{
    (void)state;
    char pass[CRYPTO_PEM_PASS_MAX + 2];
    crypto_ec_key *k = NULL, *back = NULL;
    char *pem = NULL;
    size_t len = 0;
    memset(pass, 'x', sizeof pass - 1);
    pass[CRYPTO_PEM_PASS_MAX] = '\0';
    assert_status(crypto_ec_generate(&k, NULL), WP_OK);
    assert_status(crypto_ec_to_pem(k, pass, &pem, &len, NULL), WP_OK);
    assert_status(crypto_ec_from_pem(pem, len, pass, &back, NULL), WP_OK);
    crypto_ec_free(back);
    wp_free_secret(pem, len + 1);
    pem = NULL;
    pass[CRYPTO_PEM_PASS_MAX] = 'x';
    pass[CRYPTO_PEM_PASS_MAX + 1] = '\0';
    wp_err e;
    err_clear(&e);
    assert_status(crypto_ec_to_pem(k, pass, &pem, &len, &e), WP_EINVAL);
    assert_int_equal(e.code, WP_EINVAL);
    assert_null(pem);
    crypto_ec_free(k);
}

/*
 * OSSL_DECODER_from_data casts the length to int: 2^32 + n bytes would be
 * read as n (and 2^31..2^32-1 as "NUL-terminated"), so an over-long buffer
 * must be refused before it gets there. Only the first n bytes of the
 * buffer are real; with the length check they are never read at all.
 */
static void test_pem_length_limit(void **state)
{
    (void)state;
    crypto_ec_key *k = NULL;
    size_t n = strlen(k_pbkdf2_pem);
    wp_err e;
#if SIZE_MAX > UINT32_MAX
    err_clear(&e);
    size_t lie = ((size_t)1 << 32) + n;
    assert_status(crypto_ec_from_pem(k_pbkdf2_pem, lie, k_pbkdf2_pass, &k, &e), WP_ECORRUPT);
    assert_int_equal(e.code, WP_ECORRUPT);
    assert_null(k);
#endif
    /* Up to CRYPTO_PEM_MAX bytes (here: the key, then blank lines) is fine. */
    char *big = wp_malloc(CRYPTO_PEM_MAX + 1);
    assert_non_null(big);
    memset(big, '\n', CRYPTO_PEM_MAX + 1);
    memcpy(big, k_pbkdf2_pem, n);
    assert_status(crypto_ec_from_pem(big, CRYPTO_PEM_MAX, k_pbkdf2_pass, &k, NULL), WP_OK);
    crypto_ec_free(k);
    k = NULL;
    assert_status(crypto_ec_from_pem(big, CRYPTO_PEM_MAX + 1, k_pbkdf2_pass, &k, NULL),
                  WP_ECORRUPT);
    assert_null(k);
    wp_free(big);
}

/*
 * A PrivateKeyInfo whose ECPrivateKey carries a public key that is not d*G
 * (here: another valid key's point) is corrupt. Loading it as d would
 * silently give a different identity from the one the file claims.
 */
static void test_pem_public_key_mismatch(void **state)
{
    (void)state;
    crypto_ec_key *k = NULL, *other = NULL, *back = NULL;
    char *pem = NULL, forged[1024];
    size_t len = 0;
    uint8_t der[512], other_pub[65], k_pub[65];
    static const uint8_t bitstring[] = {0x03, 0x42, 0x00, 0x04}; /* BIT STRING, 65-byte point */
    assert_status(crypto_ec_generate(&k, NULL), WP_OK);
    assert_status(crypto_ec_generate(&other, NULL), WP_OK);
    assert_status(crypto_ec_public(k, k_pub, NULL), WP_OK);
    assert_status(crypto_ec_public(other, other_pub, NULL), WP_OK);
    assert_status(crypto_ec_to_pem(k, NULL, &pem, &len, NULL), WP_OK);
    size_t n = pem_der(pem, der, sizeof der);
    size_t at = find(der, n, bitstring, sizeof bitstring);
    assert_int_not_equal(at, SIZE_MAX);
    at += 3;
    assert_true(at + 65 == n); /* the point ends the structure */
    assert_memory_equal(der + at, k_pub, 65);
    /* Unchanged, re-encoded by this test: loads (the test's PEM writer works). */
    der_pem(der, n, "PRIVATE KEY", forged, sizeof forged);
    assert_status(crypto_ec_from_pem(forged, strlen(forged), NULL, &back, NULL), WP_OK);
    crypto_ec_free(back);
    back = NULL;
    /* Another key's public point in place of ours: corrupt. */
    memcpy(der + at, other_pub, 65);
    der_pem(der, n, "PRIVATE KEY", forged, sizeof forged);
    wp_err e;
    err_clear(&e);
    assert_status(crypto_ec_from_pem(forged, strlen(forged), NULL, &back, &e), WP_ECORRUPT);
    assert_int_equal(e.code, WP_ECORRUPT);
    assert_null(back);
    wp_free_secret(pem, len + 1);
    crypto_ec_free(k);
    crypto_ec_free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pem_encrypted_is_scrypt),
        cmocka_unit_test(test_pem_pbkdf2_still_loads),
        cmocka_unit_test(test_pem_passphrase_length_limit),
        cmocka_unit_test(test_pem_length_limit),
        cmocka_unit_test(test_pem_public_key_mismatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

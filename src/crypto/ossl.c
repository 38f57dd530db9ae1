/*
 * ossl.c - OpenSSL 3 backend: algorithm cache, error mapping, random,
 * SHA-256, HMAC-SHA256, HKDF-SHA256. See crypto.h.
 */
#include "internal.h"

#include <limits.h>
#include <stdio.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "crypto/ossl_int.h"

const uint8_t ossl_empty[1];

/* ---------------------------------------------------------------- errors */

/* Drain the queue, appending each entry's text to buf (NUL-terminated). */
static void drain_queue(char *buf, size_t cap, size_t used)
{
    unsigned long e;
    bool any = false;
    while ((e = ERR_get_error()) != 0) {
        char one[256];
        ERR_error_string_n(e, one, sizeof one);
        if (used + 3 < cap) {
            int n = snprintf(buf + used, cap - used, "%s%s", any ? "; " : ": ", one);
            if (n > 0)
                used = WP_MIN(cap - 1, used + (size_t)n);
        }
        any = true;
    }
}

wp_status ossl_fail(wp_err *err, const char *what)
{
    char detail[WP_ERROR_DETAIL_MAX];
    int n = snprintf(detail, sizeof detail, "%s", what);
    size_t used = n > 0 ? WP_MIN(sizeof detail - 1, (size_t)n) : 0;
    if (ERR_peek_error() == 0 && used + 24 < sizeof detail)
        snprintf(detail + used, sizeof detail - used, ": no OpenSSL error queued");
    else
        drain_queue(detail, sizeof detail, used);
    return err_set(err, WP_ECRYPTO, "%s", detail);
}

wp_status ossl_reject(wp_err *err, wp_status code, const char *what)
{
    char detail[WP_ERROR_DETAIL_MAX];
    int n = snprintf(detail, sizeof detail, "%s", what);
    size_t used = n > 0 ? WP_MIN(sizeof detail - 1, (size_t)n) : 0;
    drain_queue(detail, sizeof detail, used);
    return err_set(err, code, "%s", detail);
}

bool crypto_err_queue_empty(void)
{
    return ERR_peek_error() == 0;
}

/* ---------------------------------------------------------------- algorithm cache */

static CRYPTO_ONCE g_once = CRYPTO_ONCE_STATIC_INIT;
static struct ossl_algs g_algs;
static bool g_algs_ok;
static char g_algs_detail[WP_ERROR_DETAIL_MAX];

static void algs_release(struct ossl_algs *a)
{
    EVP_MD_free(a->sha256);
    EVP_MAC_free(a->hmac);
    EVP_KDF_free(a->hkdf);
    EVP_CIPHER_free(a->aes_256_gcm);
    EVP_CIPHER_free(a->chacha20_poly1305);
    EC_GROUP_free(a->p256);
    memset(a, 0, sizeof *a);
}

static void algs_init(void)
{
    struct ossl_algs a = {0};
    BIGNUM *p = BN_new();
    const char *what = "fetch SHA256";
    if ((a.sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
        goto out;
    what = "fetch HMAC";
    if ((a.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
        goto out;
    what = "fetch HKDF";
    if ((a.hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL)
        goto out;
    what = "fetch AES-256-GCM";
    if ((a.aes_256_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL)) == NULL)
        goto out;
    what = "fetch ChaCha20-Poly1305";
    if ((a.chacha20_poly1305 = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL)) == NULL)
        goto out;
    what = "P-256 group";
    if ((a.p256 = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)) == NULL)
        goto out;
    if ((a.p256_order = EC_GROUP_get0_order(a.p256)) == NULL)
        goto out;
    if (p == NULL || EC_GROUP_get_curve(a.p256, p, NULL, NULL, NULL) != 1)
        goto out;
    if (BN_bn2binpad(p, a.p256_p, (int)sizeof a.p256_p) != (int)sizeof a.p256_p)
        goto out;
    g_algs = a;
    g_algs_ok = true;
    what = NULL;
out:
    BN_free(p);
    if (what != NULL) {
        wp_err e;
        err_clear(&e);
        (void)ossl_fail(&e, what);
        memcpy(g_algs_detail, e.detail, sizeof g_algs_detail);
        algs_release(&a);
    }
}

const struct ossl_algs *ossl_algs(wp_err *err)
{
    if (CRYPTO_THREAD_run_once(&g_once, algs_init) != 1) {
        (void)ossl_fail(err, "crypto init: CRYPTO_THREAD_run_once");
        return NULL;
    }
    if (!g_algs_ok) {
        err_set(err, WP_ECRYPTO, "crypto init failed: %s", g_algs_detail);
        return NULL;
    }
    return &g_algs;
}

/* ---------------------------------------------------------------- random */

wp_status crypto_random(uint8_t *out, size_t len, wp_err *err)
{
    if (WP_MISUSE(out == NULL && len != 0))
        return err_set(err, WP_EINVAL, "crypto_random: NULL output");
    if (len == 0)
        return WP_OK;
    if (RAND_bytes_ex(NULL, out, len, 0) != 1) {
        wp_wipe(out, len);
        return ossl_fail(err, "RAND_bytes_ex");
    }
    return WP_OK;
}

/* ---------------------------------------------------------------- hashing */

wp_status crypto_sha256(const void *in, size_t len, uint8_t out[CRYPTO_SHA256_LEN], wp_err *err)
{
    if (WP_MISUSE(out == NULL || (in == NULL && len != 0)))
        return err_set(err, WP_EINVAL, "crypto_sha256: NULL argument");
    const struct ossl_algs *a = ossl_algs(err);
    if (a == NULL)
        return WP_ECRYPTO;
    unsigned int n = 0;
    if (EVP_Digest(in ? in : ossl_empty, len, out, &n, a->sha256, NULL) != 1 ||
        n != CRYPTO_SHA256_LEN)
        return ossl_fail(err, "EVP_Digest SHA-256");
    return WP_OK;
}

struct crypto_hash {
    EVP_MD_CTX *ctx;
    EVP_MD_CTX *scratch; /* peek finalises a copy here */
};

wp_status crypto_hash_new(crypto_hash **out, wp_err *err)
{
    wp_status rc = WP_OK;
    crypto_hash *h = NULL;
    if (WP_MISUSE(out == NULL))
        return err_set(err, WP_EINVAL, "crypto_hash_new: NULL out");
    *out = NULL;
    const struct ossl_algs *a = ossl_algs(err);
    if (a == NULL)
        return WP_ECRYPTO;
    if ((h = wp_calloc(1, sizeof *h)) == NULL) {
        rc = err_set(err, WP_ENOMEM, "crypto_hash_new: out of memory");
        goto out;
    }
    if ((h->ctx = EVP_MD_CTX_new()) == NULL || (h->scratch = EVP_MD_CTX_new()) == NULL) {
        rc = ossl_fail(err, "EVP_MD_CTX_new");
        goto out;
    }
    if (EVP_DigestInit_ex2(h->ctx, a->sha256, NULL) != 1) {
        rc = ossl_fail(err, "EVP_DigestInit_ex2 SHA-256");
        goto out;
    }
    *out = h;
    h = NULL;
out:
    crypto_hash_free(h);
    return rc;
}

wp_status crypto_hash_update(crypto_hash *h, const void *in, size_t len, wp_err *err)
{
    if (WP_MISUSE(h == NULL || (in == NULL && len != 0)))
        return err_set(err, WP_EINVAL, "crypto_hash_update: NULL argument");
    if (len == 0)
        return WP_OK;
    if (EVP_DigestUpdate(h->ctx, in, len) != 1)
        return ossl_fail(err, "EVP_DigestUpdate");
    return WP_OK;
}

wp_status crypto_hash_peek(const crypto_hash *h, uint8_t out[CRYPTO_SHA256_LEN], wp_err *err)
{
    wp_status rc = WP_OK;
    if (WP_MISUSE(h == NULL || out == NULL))
        return err_set(err, WP_EINVAL, "crypto_hash_peek: NULL argument");
    unsigned int n = 0;
    if (EVP_MD_CTX_copy_ex(h->scratch, h->ctx) != 1) {
        rc = ossl_fail(err, "EVP_MD_CTX_copy_ex");
        goto out;
    }
    if (EVP_DigestFinal_ex(h->scratch, out, &n) != 1 || n != CRYPTO_SHA256_LEN) {
        rc = ossl_fail(err, "EVP_DigestFinal_ex");
        goto out;
    }
out:
    /* The copy holds transcript state; reset wipes it (the md data is cleansed). */
    if (EVP_MD_CTX_reset(h->scratch) != 1 && rc == WP_OK)
        rc = ossl_fail(err, "EVP_MD_CTX_reset");
    if (rc != WP_OK)
        wp_wipe(out, CRYPTO_SHA256_LEN);
    return rc;
}

void crypto_hash_free(crypto_hash *h)
{
    if (h == NULL)
        return;
    EVP_MD_CTX_free(h->ctx);
    EVP_MD_CTX_free(h->scratch);
    wp_free(h);
}

/* ---------------------------------------------------------------- HMAC */

wp_status crypto_hmac_sha256(const uint8_t *key, size_t key_len, const void *msg, size_t msg_len,
                             uint8_t out[CRYPTO_SHA256_LEN], wp_err *err)
{
    wp_status rc = WP_OK;
    EVP_MAC_CTX *ctx = NULL;
    if (WP_MISUSE(out == NULL || (key == NULL && key_len != 0) || (msg == NULL && msg_len != 0)))
        return err_set(err, WP_EINVAL, "crypto_hmac_sha256: NULL argument");
    const struct ossl_algs *a = ossl_algs(err);
    if (a == NULL)
        return WP_ECRYPTO;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    size_t n = 0;
    if ((ctx = EVP_MAC_CTX_new(a->hmac)) == NULL) {
        rc = ossl_fail(err, "EVP_MAC_CTX_new");
        goto out;
    }
    /* A non-NULL key pointer: HMAC with an empty key is valid (RFC 2104). */
    if (EVP_MAC_init(ctx, key ? key : ossl_empty, key_len, params) != 1) {
        rc = ossl_fail(err, "EVP_MAC_init HMAC-SHA256");
        goto out;
    }
    if (msg_len != 0 && EVP_MAC_update(ctx, msg, msg_len) != 1) {
        rc = ossl_fail(err, "EVP_MAC_update");
        goto out;
    }
    if (EVP_MAC_final(ctx, out, &n, CRYPTO_SHA256_LEN) != 1 || n != CRYPTO_SHA256_LEN) {
        rc = ossl_fail(err, "EVP_MAC_final");
        goto out;
    }
out:
    EVP_MAC_CTX_free(ctx); /* cleanses the keyed state */
    if (rc != WP_OK)
        wp_wipe(out, CRYPTO_SHA256_LEN);
    return rc;
}

/* ---------------------------------------------------------------- HKDF */

/* One HKDF step (mode EXTRACT_ONLY or EXPAND_ONLY) into out[out_len]. */
static wp_status hkdf_run(int mode, const uint8_t *key, size_t key_len, const uint8_t *salt,
                          size_t salt_len, const uint8_t *info, size_t info_len, uint8_t *out,
                          size_t out_len, wp_err *err)
{
    wp_status rc = WP_OK;
    EVP_KDF_CTX *ctx = NULL;
    const struct ossl_algs *a = ossl_algs(err);
    if (a == NULL)
        return WP_ECRYPTO;
    OSSL_PARAM params[6];
    size_t i = 0;
    params[i++] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
    params[i++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                                    (void *)(uintptr_t)key, key_len);
    if (salt != NULL)
        params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
                                                        (void *)(uintptr_t)salt, salt_len);
    if (info != NULL && info_len != 0)
        params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
                                                        (void *)(uintptr_t)info, info_len);
    params[i] = OSSL_PARAM_construct_end();
    if ((ctx = EVP_KDF_CTX_new(a->hkdf)) == NULL) {
        rc = ossl_fail(err, "EVP_KDF_CTX_new");
        goto out;
    }
    if (EVP_KDF_derive(ctx, out, out_len, params) != 1) {
        rc = ossl_fail(err, "EVP_KDF_derive HKDF-SHA256");
        goto out;
    }
out:
    EVP_KDF_CTX_free(ctx); /* cleanses key, salt and info copies */
    if (rc != WP_OK)
        wp_wipe(out, out_len);
    return rc;
}

wp_status crypto_hkdf_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                              size_t ikm_len, uint8_t out_prk[CRYPTO_SHA256_LEN], wp_err *err)
{
    /* RFC 5869 §2.2: a missing salt is HashLen zero bytes (said explicitly). */
    static const uint8_t zero_salt[CRYPTO_SHA256_LEN];
    if (WP_MISUSE(out_prk == NULL || (ikm == NULL && ikm_len != 0) ||
                  (salt == NULL && salt_len != 0)))
        return err_set(err, WP_EINVAL, "crypto_hkdf_extract: NULL argument");
    if (salt == NULL || salt_len == 0) {
        salt = zero_salt;
        salt_len = sizeof zero_salt;
    }
    return hkdf_run(EVP_KDF_HKDF_MODE_EXTRACT_ONLY, ikm ? ikm : ossl_empty, ikm_len, salt,
                    salt_len, NULL, 0, out_prk, CRYPTO_SHA256_LEN, err);
}

wp_status crypto_hkdf_expand(const uint8_t *prk, size_t prk_len, const uint8_t *info,
                             size_t info_len, uint8_t *out, size_t out_len, wp_err *err)
{
    if (WP_MISUSE(prk == NULL || out == NULL || (info == NULL && info_len != 0)))
        return err_set(err, WP_EINVAL, "crypto_hkdf_expand: NULL argument");
    if (out_len == 0 || out_len > CRYPTO_HKDF_MAX_OUT)
        return err_set(err, WP_EINVAL, "HKDF output length %zu not in 1..%d", out_len,
                       CRYPTO_HKDF_MAX_OUT);
    return hkdf_run(EVP_KDF_HKDF_MODE_EXPAND_ONLY, prk, prk_len, NULL, 0, info, info_len, out,
                    out_len, err);
}

/* ---------------------------------------------------------------- misc */

bool crypto_ct_eq(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

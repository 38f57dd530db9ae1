/*
 * ossl_aead.c - AES-256-GCM and ChaCha20-Poly1305 on OpenSSL 3. See crypto.h.
 *
 * The EVP_CIPHER_CTX is keyed once in crypto_aead_new; seal and open only
 * set the nonce and direction, so no record allocates.
 *
 * Per record OpenSSL 3.0 spends more in its parameter plumbing than in
 * AES-GCM itself for small records (callgrind, 64-byte records: about 800
 * instructions to set the nonce, 500 for EVP_CIPHER_CTX_ctrl's tag get or
 * set, for some 250 of AES and GHASH). The tag goes through
 * EVP_CIPHER_CTX_get_params/set_params with an OSSL_PARAM array built once
 * per context (only its data pointer changes), which skips ctrl's translation
 * layer (about 130 instructions per record). Setting the nonce has no
 * cheaper documented path in 3.0 than EVP_CipherInit_ex2.
 */
#include "internal.h"

#include <limits.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>

#include "crypto/ossl_int.h"

struct crypto_aead {
    EVP_CIPHER_CTX *ctx;
    crypto_aead_alg alg;
    OSSL_PARAM tag[2]; /* { AEAD_TAG octet string, END }: data set per record */
};

/* Point the prepared tag parameter at buf (CRYPTO_AEAD_TAG_LEN bytes). */
static OSSL_PARAM *tag_param(crypto_aead *a, uint8_t *buf)
{
    a->tag[0].data = buf;
    a->tag[0].data_size = CRYPTO_AEAD_TAG_LEN;
    a->tag[0].return_size = OSSL_PARAM_UNMODIFIED;
    return a->tag;
}

/* EVP lengths are int: feed long inputs in chunks (aad when out is NULL). */
#define CHUNK_MAX ((size_t)1 << 30)

static bool update(EVP_CIPHER_CTX *ctx, uint8_t *out, const uint8_t *in, size_t len)
{
    if (len > 0 && len <= CHUNK_MAX) {
        /* The usual case: one call. */
        int outl = 0;
        return EVP_CipherUpdate(ctx, out, &outl, in, (int)len) == 1 &&
               (out == NULL || (size_t)outl == len);
    }
    while (len > 0) {
        size_t n = WP_MIN(len, CHUNK_MAX);
        int outl = 0;
        if (EVP_CipherUpdate(ctx, out, &outl, in, (int)n) != 1)
            return false;
        /* GCM and ChaCha20-Poly1305 are stream modes: all bytes come out now. */
        if (out != NULL && (size_t)outl != n)
            return false;
        in += n;
        if (out != NULL)
            out += n;
        len -= n;
    }
    return true;
}

wp_status crypto_aead_new(crypto_aead_alg alg, const uint8_t key[CRYPTO_AEAD_KEY_LEN],
                          crypto_aead **out, wp_err *err)
{
    wp_status rc = WP_OK;
    crypto_aead *a = NULL;
    if (WP_MISUSE(key == NULL || out == NULL))
        return err_set(err, WP_EINVAL, "crypto_aead_new: NULL argument");
    *out = NULL;
    const struct ossl_algs *algs = ossl_algs(err);
    if (algs == NULL)
        return WP_ECRYPTO;
    const EVP_CIPHER *cipher;
    switch (alg) {
    case CRYPTO_AEAD_AES_256_GCM:
        cipher = algs->aes_256_gcm;
        break;
    case CRYPTO_AEAD_CHACHA20_POLY1305:
        cipher = algs->chacha20_poly1305;
        break;
    default:
        return err_set(err, WP_EINVAL, "unknown AEAD algorithm %d", (int)alg);
    }
    if ((a = wp_calloc(1, sizeof *a)) == NULL) {
        rc = err_set(err, WP_ENOMEM, "crypto_aead_new: out of memory");
        goto out;
    }
    a->alg = alg;
    a->tag[0] = OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, NULL, 0);
    a->tag[1] = OSSL_PARAM_construct_end();
    if ((a->ctx = EVP_CIPHER_CTX_new()) == NULL) {
        rc = ossl_fail(err, "EVP_CIPHER_CTX_new");
        goto out;
    }
    if (EVP_CipherInit_ex2(a->ctx, cipher, key, NULL, 1, NULL) != 1) {
        rc = ossl_fail(err, "AEAD key setup");
        goto out;
    }
    /* Both ciphers default to 12-byte nonces; say so rather than rely on it. */
    if (EVP_CIPHER_CTX_get_iv_length(a->ctx) != CRYPTO_AEAD_NONCE_LEN) {
        rc = err_set(err, WP_ECRYPTO, "AEAD nonce length is not 12");
        goto out;
    }
    *out = a;
    a = NULL;
out:
    crypto_aead_free(a);
    return rc;
}

wp_status crypto_aead_rekey(crypto_aead *a, const uint8_t key[CRYPTO_AEAD_KEY_LEN], wp_err *err)
{
    if (WP_MISUSE(a == NULL || key == NULL))
        return err_set(err, WP_EINVAL, "crypto_aead_rekey: NULL argument");
    /* Same cipher, new key schedule in the existing context: nothing is allocated. */
    if (EVP_CipherInit_ex2(a->ctx, NULL, key, NULL, -1, NULL) != 1)
        return ossl_fail(err, "AEAD rekey");
    return WP_OK;
}

void crypto_aead_free(crypto_aead *a)
{
    if (a == NULL)
        return;
    EVP_CIPHER_CTX_free(a->ctx); /* the provider cleanses the key schedule */
    wp_free(a);
}

wp_status crypto_aead_seal(crypto_aead *a, const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN],
                           const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len,
                           uint8_t *out, wp_err *err)
{
    wp_status rc = WP_OK;
    int outl = 0;
    if (WP_MISUSE(a == NULL || nonce == NULL || out == NULL || (aad == NULL && aad_len != 0) ||
                  (pt == NULL && pt_len != 0)))
        return err_set(err, WP_EINVAL, "crypto_aead_seal: NULL argument");
    if (pt_len > SIZE_MAX - CRYPTO_AEAD_TAG_LEN)
        return err_set(err, WP_ETOOBIG, "AEAD plaintext too long");
    if (EVP_CipherInit_ex2(a->ctx, NULL, NULL, nonce, 1, NULL) != 1) {
        rc = ossl_fail(err, "AEAD seal: set nonce");
        goto out;
    }
    if (!update(a->ctx, NULL, aad, aad_len) || !update(a->ctx, out, pt, pt_len)) {
        rc = ossl_fail(err, "AEAD seal: update");
        goto out;
    }
    if (EVP_CipherFinal_ex(a->ctx, out + pt_len, &outl) != 1 || outl != 0) {
        rc = ossl_fail(err, "AEAD seal: final");
        goto out;
    }
    if (EVP_CIPHER_CTX_get_params(a->ctx, tag_param(a, out + pt_len)) != 1) {
        rc = ossl_fail(err, "AEAD seal: get tag");
        goto out;
    }
out:
    if (rc != WP_OK)
        wp_wipe(out, pt_len + CRYPTO_AEAD_TAG_LEN);
    return rc;
}

wp_status crypto_aead_open(crypto_aead *a, const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN],
                           const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
                           uint8_t *out, wp_err *err)
{
    wp_status rc = WP_OK;
    int outl = 0;
    uint8_t tag[CRYPTO_AEAD_TAG_LEN];
    if (WP_MISUSE(a == NULL || nonce == NULL || (aad == NULL && aad_len != 0) ||
                  (ct == NULL && ct_len != 0)))
        return err_set(err, WP_EINVAL, "crypto_aead_open: NULL argument");
    if (ct_len < CRYPTO_AEAD_TAG_LEN)
        return err_set(err, WP_EAUTH, "AEAD record of %zu bytes is shorter than its tag",
                       ct_len);
    size_t n = ct_len - CRYPTO_AEAD_TAG_LEN;
    if (WP_MISUSE(out == NULL && n != 0))
        return err_set(err, WP_EINVAL, "crypto_aead_open: NULL out");
    /* Copy the tag first: in place, out may overlap ct's body (never the tag). */
    memcpy(tag, ct + n, sizeof tag);
    if (EVP_CipherInit_ex2(a->ctx, NULL, NULL, nonce, 0, NULL) != 1) {
        rc = ossl_fail(err, "AEAD open: set nonce");
        goto out;
    }
    if (EVP_CIPHER_CTX_set_params(a->ctx, tag_param(a, tag)) != 1) {
        rc = ossl_fail(err, "AEAD open: set tag");
        goto out;
    }
    if (!update(a->ctx, NULL, aad, aad_len) || !update(a->ctx, out, ct, n)) {
        rc = ossl_fail(err, "AEAD open: update");
        goto out;
    }
    /* out + n: final writes nothing for these modes, but needs a valid pointer. */
    if (EVP_CipherFinal_ex(a->ctx, out != NULL ? out + n : tag, &outl) != 1 || outl != 0) {
        rc = ossl_reject(err, WP_EAUTH, "AEAD tag does not verify");
        goto out;
    }
out:
    /* Never release unauthenticated plaintext. */
    if (rc != WP_OK && out != NULL)
        wp_wipe(out, n);
    return rc;
}

/*
 * ossl_ec.c - P-256 keys, ECDH and ECDSA on OpenSSL 3. See crypto.h.
 */
#include "internal.h"

#include <limits.h>

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/params.h>

#include "crypto/ossl_int.h"

/* A DER ECDSA-Sig-Value for P-256 is at most 2 + 2 * (2 + 33) = 72 bytes. */
#define DER_SIG_MAX 72

struct crypto_ec_key {
    EVP_PKEY *pkey;
    bool has_private;
    uint8_t pub[CRYPTO_P256_PUB_LEN]; /* cached uncompressed encoding */
};

wp_status ossl_ec_wrap(EVP_PKEY *pkey, bool has_private, const uint8_t pub[CRYPTO_P256_PUB_LEN],
                       crypto_ec_key **out, wp_err *err)
{
    crypto_ec_key *k = wp_calloc(1, sizeof *k);
    if (k == NULL) {
        EVP_PKEY_free(pkey);
        return err_set(err, WP_ENOMEM, "crypto_ec_key: out of memory");
    }
    k->pkey = pkey;
    k->has_private = has_private;
    memcpy(k->pub, pub, CRYPTO_P256_PUB_LEN);
    *out = k;
    return WP_OK;
}

EVP_PKEY *ossl_ec_pkey(const crypto_ec_key *k)
{
    return k->pkey;
}

void crypto_ec_free(crypto_ec_key *k)
{
    if (k == NULL)
        return;
    EVP_PKEY_free(k->pkey); /* the EC keymgmt clears the private scalar */
    wp_free_secret(k, sizeof *k);
}

bool crypto_ec_has_private(const crypto_ec_key *k)
{
    return k != NULL && k->has_private;
}

wp_status crypto_ec_public(const crypto_ec_key *k, uint8_t out[CRYPTO_P256_PUB_LEN], wp_err *err)
{
    if (WP_MISUSE(k == NULL || out == NULL))
        return err_set(err, WP_EINVAL, "crypto_ec_public: NULL argument");
    memcpy(out, k->pub, CRYPTO_P256_PUB_LEN);
    return WP_OK;
}

/* ---------------------------------------------------------------- key construction */

/* Build an EVP_PKEY from P-256 params (pub, and priv if not NULL). */
static wp_status pkey_fromdata(const uint8_t pub[CRYPTO_P256_PUB_LEN], const BIGNUM *priv,
                               EVP_PKEY **out, wp_err *err)
{
    wp_status rc = WP_OK;
    EVP_PKEY_CTX *pctx = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    *out = NULL;
    if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, OSSL_P256_NAME, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub,
                                         CRYPTO_P256_PUB_LEN) != 1 ||
        (priv != NULL && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv) != 1) ||
        (params = OSSL_PARAM_BLD_to_param(bld)) == NULL) {
        rc = ossl_fail(err, "P-256 key parameters");
        goto out;
    }
    if ((pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
        EVP_PKEY_fromdata_init(pctx) != 1 ||
        EVP_PKEY_fromdata(pctx, out, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) != 1) {
        rc = ossl_fail(err, "EVP_PKEY_fromdata P-256");
        goto out;
    }
out:
    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params); /* clear-frees the block holding the scalar */
    OSSL_PARAM_BLD_free(bld);
    return rc;
}

wp_status crypto_ec_from_scalar(const uint8_t scalar[CRYPTO_P256_SCALAR_LEN], crypto_ec_key **out,
                                wp_err *err)
{
    wp_status rc = WP_OK;
    BIGNUM *d = NULL;
    EC_POINT *q = NULL;
    EVP_PKEY *pkey = NULL;
    uint8_t pub[CRYPTO_P256_PUB_LEN];
    if (WP_MISUSE(scalar == NULL || out == NULL))
        return err_set(err, WP_EINVAL, "crypto_ec_from_scalar: NULL argument");
    *out = NULL;
    const struct ossl_algs *a = ossl_algs(err);
    if (a == NULL)
        return WP_ECRYPTO;
    if ((d = BN_secure_new()) == NULL) {
        rc = ossl_fail(err, "BN_secure_new");
        goto out;
    }
    BN_set_flags(d, BN_FLG_CONSTTIME);
    if (BN_bin2bn(scalar, CRYPTO_P256_SCALAR_LEN, d) == NULL) {
        rc = ossl_fail(err, "BN_bin2bn");
        goto out;
    }
    if (BN_is_zero(d) || BN_cmp(d, a->p256_order) >= 0) {
        rc = err_set(err, WP_EINVAL, "P-256 scalar not in [1, n-1]");
        goto out;
    }
    if ((q = EC_POINT_new(a->p256)) == NULL ||
        EC_POINT_mul(a->p256, q, d, NULL, NULL, NULL) != 1 ||
        EC_POINT_point2oct(a->p256, q, POINT_CONVERSION_UNCOMPRESSED, pub, sizeof pub, NULL) !=
            sizeof pub) {
        rc = ossl_fail(err, "P-256 public point d*G");
        goto out;
    }
    if ((rc = pkey_fromdata(pub, d, &pkey, err)) != WP_OK)
        goto out;
    rc = ossl_ec_wrap(pkey, true, pub, out, err);
    pkey = NULL;
out:
    EVP_PKEY_free(pkey);
    EC_POINT_free(q);
    BN_clear_free(d);
    return rc;
}

wp_status crypto_ec_generate(crypto_ec_key **out, wp_err *err)
{
    wp_status rc = WP_OK;
    EVP_PKEY *pkey = NULL;
    uint8_t pub[CRYPTO_P256_PUB_LEN];
    size_t pub_len = 0;
    if (WP_MISUSE(out == NULL))
        return err_set(err, WP_EINVAL, "crypto_ec_generate: NULL out");
    *out = NULL;
    if ((pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", OSSL_P256_NAME)) == NULL) {
        rc = ossl_fail(err, "EVP_PKEY_Q_keygen P-256");
        goto out;
    }
    /* A fresh EC key encodes its public point uncompressed by default. */
    if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub,
                                        &pub_len) != 1) {
        rc = ossl_fail(err, "P-256 public key of a generated key");
        goto out;
    }
    if (pub_len != sizeof pub || pub[0] != 0x04) {
        rc = err_set(err, WP_ECRYPTO, "generated P-256 key is not 65-byte uncompressed");
        goto out;
    }
    rc = ossl_ec_wrap(pkey, true, pub, out, err);
    pkey = NULL;
out:
    EVP_PKEY_free(pkey);
    return rc;
}

wp_status crypto_ec_from_public(const uint8_t *pub, size_t pub_len, crypto_ec_key **out,
                                wp_err *err)
{
    wp_status rc = WP_OK;
    EC_POINT *q = NULL;
    EVP_PKEY *pkey = NULL;
    if (WP_MISUSE(out == NULL || (pub == NULL && pub_len != 0)))
        return err_set(err, WP_EINVAL, "crypto_ec_from_public: NULL argument");
    *out = NULL;
    const struct ossl_algs *a = ossl_algs(err);
    if (a == NULL)
        return WP_ECRYPTO;
    /* Only SEC1 uncompressed; this also excludes the 1-byte infinity 0x00. */
    if (pub_len != CRYPTO_P256_PUB_LEN)
        return err_set(err, WP_EPROTO, "P-256 public key is %zu bytes, not 65", pub_len);
    if (pub[0] != 0x04)
        return err_set(err, WP_EPROTO, "P-256 public key prefix 0x%02x is not 0x04", pub[0]);
    /* Coordinates are field elements: reject x >= p or y >= p outright. */
    if (memcmp(pub + 1, a->p256_p, 32) >= 0 || memcmp(pub + 33, a->p256_p, 32) >= 0)
        return err_set(err, WP_EPROTO, "P-256 public key coordinate >= p");
    /*
     * Explicit curve-equation check before the key can reach a scalar
     * multiplication: oct2point sets affine coordinates, which fails for
     * off-curve (incl. twist) points; is_on_curve says it again in words.
     * (0,0) is not on P-256 since b != 0, so infinity cannot slip through.
     */
    if ((q = EC_POINT_new(a->p256)) == NULL) {
        rc = ossl_fail(err, "EC_POINT_new");
        goto out;
    }
    if (EC_POINT_oct2point(a->p256, q, pub, pub_len, NULL) != 1) {
        rc = ossl_reject(err, WP_EPROTO, "P-256 public key is not a point on the curve");
        goto out;
    }
    int on = EC_POINT_is_on_curve(a->p256, q, NULL);
    if (on < 0) {
        rc = ossl_fail(err, "EC_POINT_is_on_curve");
        goto out;
    }
    if (on != 1 || EC_POINT_is_at_infinity(a->p256, q)) {
        rc = ossl_reject(err, WP_EPROTO, "P-256 public key is not a point on the curve");
        goto out;
    }
    if ((rc = pkey_fromdata(pub, NULL, &pkey, err)) != WP_OK)
        goto out;
    rc = ossl_ec_wrap(pkey, false, pub, out, err);
    pkey = NULL;
out:
    EVP_PKEY_free(pkey);
    EC_POINT_free(q);
    return rc;
}

/* ---------------------------------------------------------------- ECDH */

wp_status crypto_ecdh(const crypto_ec_key *priv, const crypto_ec_key *peer,
                      uint8_t out[CRYPTO_ECDH_LEN], wp_err *err)
{
    wp_status rc = WP_OK;
    EVP_PKEY_CTX *ctx = NULL;
    size_t n = CRYPTO_ECDH_LEN;
    if (WP_MISUSE(priv == NULL || peer == NULL || out == NULL || !priv->has_private))
        return err_set(err, WP_EINVAL, "crypto_ecdh: NULL argument or no private key");
    if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv->pkey, NULL)) == NULL ||
        EVP_PKEY_derive_init(ctx) != 1) {
        rc = ossl_fail(err, "ECDH init");
        goto out;
    }
    /* validate_peer = 0: every peer key passed the on-curve check on import. */
    if (EVP_PKEY_derive_set_peer_ex(ctx, peer->pkey, 0) != 1) {
        rc = ossl_fail(err, "EVP_PKEY_derive_set_peer_ex");
        goto out;
    }
    if (EVP_PKEY_derive(ctx, out, &n) != 1 || n != CRYPTO_ECDH_LEN) {
        rc = ossl_fail(err, "EVP_PKEY_derive ECDH");
        goto out;
    }
out:
    EVP_PKEY_CTX_free(ctx);
    if (rc != WP_OK)
        wp_wipe(out, CRYPTO_ECDH_LEN);
    return rc;
}

/* ---------------------------------------------------------------- ECDSA */

wp_status crypto_ecdsa_sign(const crypto_ec_key *priv, const void *msg, size_t msg_len,
                            uint8_t out_sig[CRYPTO_SIG_LEN], wp_err *err)
{
    wp_status rc = WP_OK;
    EVP_MD_CTX *mctx = NULL;
    ECDSA_SIG *sig = NULL;
    uint8_t der[DER_SIG_MAX];
    size_t der_len = sizeof der;
    if (WP_MISUSE(priv == NULL || out_sig == NULL || (msg == NULL && msg_len != 0) ||
                  !priv->has_private))
        return err_set(err, WP_EINVAL, "crypto_ecdsa_sign: NULL argument or no private key");
    const struct ossl_algs *a = ossl_algs(err);
    if (a == NULL)
        return WP_ECRYPTO;
    if ((mctx = EVP_MD_CTX_new()) == NULL ||
        EVP_DigestSignInit(mctx, NULL, a->sha256, NULL, priv->pkey) != 1) {
        rc = ossl_fail(err, "ECDSA sign init");
        goto out;
    }
    if (EVP_DigestSign(mctx, der, &der_len, msg ? msg : ossl_empty, msg_len) != 1) {
        rc = ossl_fail(err, "EVP_DigestSign ECDSA");
        goto out;
    }
    const unsigned char *p = der;
    const BIGNUM *r = NULL, *s = NULL;
    if (der_len > DER_SIG_MAX || (sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len)) == NULL) {
        rc = ossl_fail(err, "d2i_ECDSA_SIG of our own signature");
        goto out;
    }
    ECDSA_SIG_get0(sig, &r, &s);
    if (BN_bn2binpad(r, out_sig, 32) != 32 || BN_bn2binpad(s, out_sig + 32, 32) != 32) {
        rc = ossl_fail(err, "ECDSA r,s to P1363");
        goto out;
    }
out:
    ECDSA_SIG_free(sig);
    EVP_MD_CTX_free(mctx);
    if (rc != WP_OK)
        wp_wipe(out_sig, CRYPTO_SIG_LEN);
    return rc;
}

/* 0 < x < n; false also for negative x. */
static bool in_scalar_range(const BIGNUM *x, const BIGNUM *n)
{
    return !BN_is_negative(x) && !BN_is_zero(x) && BN_cmp(x, n) < 0;
}

/* Verify DER sig over msg. WP_OK, WP_EAUTH, or WP_ECRYPTO on setup failure. */
static wp_status verify_der(const struct ossl_algs *a, EVP_PKEY *pkey, const void *msg,
                            size_t msg_len, const uint8_t *der, size_t der_len, wp_err *err)
{
    wp_status rc = WP_OK;
    EVP_MD_CTX *mctx = NULL;
    if ((mctx = EVP_MD_CTX_new()) == NULL ||
        EVP_DigestVerifyInit(mctx, NULL, a->sha256, NULL, pkey) != 1) {
        rc = ossl_fail(err, "ECDSA verify init");
        goto out;
    }
    /* 1 is the only success; 0 (bad signature) and < 0 (error) both reject. */
    if (EVP_DigestVerify(mctx, der, der_len, msg ? msg : ossl_empty, msg_len) != 1) {
        rc = ossl_reject(err, WP_EAUTH, "ECDSA signature does not verify");
        goto out;
    }
out:
    EVP_MD_CTX_free(mctx);
    return rc;
}

wp_status crypto_ecdsa_verify(const crypto_ec_key *pub, const void *msg, size_t msg_len,
                              const uint8_t *sig, size_t sig_len, wp_err *err)
{
    wp_status rc = WP_OK;
    BIGNUM *r = NULL, *s = NULL;
    ECDSA_SIG *es = NULL;
    uint8_t der[DER_SIG_MAX];
    if (WP_MISUSE(pub == NULL || (msg == NULL && msg_len != 0) || (sig == NULL && sig_len != 0)))
        return err_set(err, WP_EINVAL, "crypto_ecdsa_verify: NULL argument");
    const struct ossl_algs *a = ossl_algs(err);
    if (a == NULL)
        return WP_ECRYPTO;
    if (sig_len != CRYPTO_SIG_LEN)
        return err_set(err, WP_EAUTH, "ECDSA signature is %zu bytes, not 64", sig_len);
    if ((r = BN_bin2bn(sig, 32, NULL)) == NULL || (s = BN_bin2bn(sig + 32, 32, NULL)) == NULL) {
        rc = ossl_fail(err, "BN_bin2bn");
        goto out;
    }
    if (!in_scalar_range(r, a->p256_order) || !in_scalar_range(s, a->p256_order)) {
        rc = err_set(err, WP_EAUTH, "ECDSA r or s not in [1, n-1]");
        goto out;
    }
    if ((es = ECDSA_SIG_new()) == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
        rc = ossl_fail(err, "ECDSA_SIG_set0");
        goto out;
    }
    r = s = NULL; /* owned by es */
    int der_len = i2d_ECDSA_SIG(es, NULL);
    unsigned char *p = der;
    if (der_len <= 0 || der_len > DER_SIG_MAX || i2d_ECDSA_SIG(es, &p) != der_len) {
        rc = ossl_fail(err, "i2d_ECDSA_SIG");
        goto out;
    }
    rc = verify_der(a, pub->pkey, msg, msg_len, der, (size_t)der_len, err);
out:
    ECDSA_SIG_free(es);
    BN_free(r);
    BN_free(s);
    return rc;
}

wp_status crypto_ecdsa_verify_der(const crypto_ec_key *pub, const void *msg, size_t msg_len,
                                  const uint8_t *der, size_t der_len, wp_err *err)
{
    wp_status rc = WP_OK;
    ECDSA_SIG *es = NULL;
    uint8_t again[DER_SIG_MAX];
    if (WP_MISUSE(pub == NULL || (msg == NULL && msg_len != 0) || (der == NULL && der_len != 0)))
        return err_set(err, WP_EINVAL, "crypto_ecdsa_verify_der: NULL argument");
    const struct ossl_algs *a = ossl_algs(err);
    if (a == NULL)
        return WP_ECRYPTO;
    if (der_len == 0 || der_len > DER_SIG_MAX)
        return err_set(err, WP_EAUTH, "DER ECDSA signature is %zu bytes", der_len);
    const unsigned char *p = der;
    if ((es = d2i_ECDSA_SIG(NULL, &p, (long)der_len)) == NULL) {
        rc = ossl_reject(err, WP_EAUTH, "ECDSA signature is not DER");
        goto out;
    }
    if (p != der + der_len) {
        rc = ossl_reject(err, WP_EAUTH, "trailing bytes after DER ECDSA signature");
        goto out;
    }
    /* Strict DER: the canonical re-encoding must be the very same bytes. */
    int n = i2d_ECDSA_SIG(es, NULL);
    unsigned char *w = again;
    if (n <= 0 || (size_t)n != der_len || i2d_ECDSA_SIG(es, &w) != n ||
        memcmp(again, der, der_len) != 0) {
        rc = ossl_reject(err, WP_EAUTH, "ECDSA signature is BER, not strict DER");
        goto out;
    }
    const BIGNUM *r = NULL, *s = NULL;
    ECDSA_SIG_get0(es, &r, &s);
    if (!in_scalar_range(r, a->p256_order) || !in_scalar_range(s, a->p256_order)) {
        rc = err_set(err, WP_EAUTH, "ECDSA r or s not in [1, n-1]");
        goto out;
    }
    rc = verify_der(a, pub->pkey, msg, msg_len, der, der_len, err);
out:
    ECDSA_SIG_free(es);
    return rc;
}

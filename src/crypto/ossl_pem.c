/*
 * ossl_pem.c - PKCS#8 PEM encoding and decoding of P-256 private keys on
 * OpenSSL 3 (OSSL_ENCODER / OSSL_DECODER). See crypto.h.
 */
#include "internal.h"

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/err.h>

#include "crypto/ossl_int.h"

wp_status crypto_ec_to_pem(const crypto_ec_key *k, const char *passphrase, char **out_pem,
                           size_t *out_len, wp_err *err)
{
    wp_status rc = WP_OK;
    OSSL_ENCODER_CTX *ectx = NULL;
    unsigned char *data = NULL;
    size_t len = 0;
    char *pem = NULL;
    if (WP_MISUSE(k == NULL || out_pem == NULL || out_len == NULL || !crypto_ec_has_private(k)))
        return err_set(err, WP_EINVAL, "crypto_ec_to_pem: NULL argument or no private key");
    *out_pem = NULL;
    *out_len = 0;
    bool encrypt = passphrase != NULL && passphrase[0] != '\0';
    ectx = OSSL_ENCODER_CTX_new_for_pkey(ossl_ec_pkey(k), EVP_PKEY_KEYPAIR, "PEM",
                                         "PrivateKeyInfo", NULL);
    if (ectx == NULL || OSSL_ENCODER_CTX_get_num_encoders(ectx) == 0) {
        rc = ossl_fail(err, "no PKCS#8 PEM encoder for EC keys");
        goto out;
    }
    /*
     * PBES2 with AES-256-CBC; OpenSSL 3.0's encoder derives the key with
     * PBKDF2-HMAC-SHA256, 2048 iterations, random 8-byte salt,
     * random 16-byte IV (checked with openssl asn1parse).
     */
    if (encrypt &&
        (OSSL_ENCODER_CTX_set_cipher(ectx, "AES-256-CBC", NULL) != 1 ||
         OSSL_ENCODER_CTX_set_passphrase(ectx, (const unsigned char *)passphrase,
                                         strlen(passphrase)) != 1)) {
        rc = ossl_fail(err, "PEM encryption setup");
        goto out;
    }
    if (OSSL_ENCODER_to_data(ectx, &data, &len) != 1 || data == NULL || len == 0) {
        rc = ossl_fail(err, "OSSL_ENCODER_to_data PKCS#8 PEM");
        goto out;
    }
    if (len > SIZE_MAX - 1 || (pem = wp_malloc(len + 1)) == NULL) {
        rc = err_set(err, WP_ENOMEM, "crypto_ec_to_pem: out of memory");
        goto out;
    }
    memcpy(pem, data, len);
    pem[len] = '\0';
    *out_pem = pem;
    *out_len = len;
out:
    if (data != NULL)
        OPENSSL_clear_free(data, len);
    OSSL_ENCODER_CTX_free(ectx);
    return rc;
}

/* Passphrase callback state: what we were given, and whether it was asked for. */
struct pass_state {
    const char *pass;
    bool asked;
};

static int pass_cb(char *buf, size_t size, size_t *out_len, const OSSL_PARAM params[], void *u)
{
    struct pass_state *ps = u;
    WP_UNUSED(params);
    ps->asked = true;
    *out_len = 0;
    if (ps->pass == NULL)
        return 0; /* no passphrase: abort the decrypt */
    size_t n = strlen(ps->pass);
    if (n > size)
        return 0;
    memcpy(buf, ps->pass, n);
    *out_len = n;
    return 1;
}

/* The P-256 scalar of pkey, big-endian; WP_ECORRUPT if pkey is not a P-256 private key. */
static wp_status p256_scalar(EVP_PKEY *pkey, uint8_t d[CRYPTO_P256_SCALAR_LEN], wp_err *err)
{
    wp_status rc = WP_OK;
    BIGNUM *priv = NULL;
    char group[64];
    size_t glen = 0;
    if (!EVP_PKEY_is_a(pkey, "EC")) {
        rc = ossl_reject(err, WP_ECORRUPT, "PEM key is not an EC key");
        goto out;
    }
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &glen) != 1 ||
        strcmp(group, OSSL_P256_NAME) != 0) {
        rc = ossl_reject(err, WP_ECORRUPT, "PEM key is not on the P-256 curve");
        goto out;
    }
    if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &priv) != 1 || priv == NULL) {
        rc = ossl_reject(err, WP_ECORRUPT, "PEM key has no private scalar");
        goto out;
    }
    if (BN_bn2binpad(priv, d, CRYPTO_P256_SCALAR_LEN) != CRYPTO_P256_SCALAR_LEN) {
        rc = ossl_reject(err, WP_ECORRUPT, "PEM private scalar too large for P-256");
        goto out;
    }
out:
    BN_clear_free(priv);
    return rc;
}

wp_status crypto_ec_from_pem(const char *pem, size_t pem_len, const char *passphrase,
                             crypto_ec_key **out, wp_err *err)
{
    wp_status rc = WP_OK;
    OSSL_DECODER_CTX *dctx = NULL;
    EVP_PKEY *pkey = NULL;
    uint8_t d[CRYPTO_P256_SCALAR_LEN];
    struct pass_state ps = {passphrase, false};
    if (WP_MISUSE(out == NULL || (pem == NULL && pem_len != 0)))
        return err_set(err, WP_EINVAL, "crypto_ec_from_pem: NULL argument");
    *out = NULL;
    if (ps.pass != NULL && ps.pass[0] == '\0')
        ps.pass = NULL; /* an empty passphrase means none (as in crypto_ec_to_pem) */
    if (pem_len == 0)
        return err_set(err, WP_ECORRUPT, "empty PEM");
    dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, "EC", EVP_PKEY_KEYPAIR, NULL, NULL);
    if (dctx == NULL || OSSL_DECODER_CTX_get_num_decoders(dctx) == 0) {
        rc = ossl_fail(err, "no PEM decoder for EC keys");
        goto out;
    }
    if (OSSL_DECODER_CTX_set_passphrase_cb(dctx, pass_cb, &ps) != 1) {
        rc = ossl_fail(err, "OSSL_DECODER_CTX_set_passphrase_cb");
        goto out;
    }
    const unsigned char *p = (const unsigned char *)pem;
    size_t left = pem_len;
    if (OSSL_DECODER_from_data(dctx, &p, &left) != 1 || pkey == NULL) {
        if (ps.asked)
            rc = ossl_reject(err, WP_EPASSPHRASE,
                             ps.pass ? "wrong passphrase for encrypted PEM key"
                                     : "PEM key is encrypted and no passphrase was given");
        else
            rc = ossl_reject(err, WP_ECORRUPT, "not a PEM P-256 private key");
        goto out;
    }
    /*
     * Rebuild the key from its scalar: this checks 0 < d < n and recomputes
     * the public point, so a public key stored in the file is never trusted.
     */
    if ((rc = p256_scalar(pkey, d, err)) != WP_OK)
        goto out;
    rc = crypto_ec_from_scalar(d, out, err);
    if (rc == WP_EINVAL)
        rc = err_set(err, WP_ECORRUPT, "PEM private scalar not in [1, n-1]");
out:
    OPENSSL_cleanse(d, sizeof d);
    EVP_PKEY_free(pkey);
    OSSL_DECODER_CTX_free(dctx);
    ERR_clear_error(); /* decoders that did not match leave entries behind */
    return rc;
}

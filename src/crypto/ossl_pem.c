/*
 * ossl_pem.c - PKCS#8 PEM encoding and decoding of P-256 private keys on
 * OpenSSL 3 (OSSL_ENCODER, PKCS#8/PBES2 for the encrypted form,
 * OSSL_DECODER). See crypto.h.
 */
#include "internal.h"

#include <limits.h>

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "crypto/ossl_int.h"

/*
 * scrypt for encrypted identity keys. OpenSSL 3.0 caps scrypt memory at
 * 32 MiB (SCRYPT_MAX_MEM) both when it builds the parameters
 * (PKCS5_pbe2_set_scrypt) and when OSSL_DECODER decrypts, and it needs
 * 128 * r * (N + p + 2) bytes: N = 2^15 with r = 8 is 3 KiB over and could
 * neither be written nor read. r = 7 is the largest block size that fits
 * with N = 2^15 (28 MiB, about 0.1 s here).
 */
#define PEM_SCRYPT_N ((uint64_t)1 << 15)
#define PEM_SCRYPT_R 7
#define PEM_SCRYPT_P 1
#define PEM_SALT_LEN 16
#define PEM_IV_LEN 16 /* AES-CBC */

/* Unencrypted PKCS#8 of k as "PEM" or "DER", from OSSL_ENCODER; *out wiped by the caller. */
static wp_status encode_plain(const crypto_ec_key *k, const char *type, unsigned char **out,
                              size_t *out_len, wp_err *err)
{
    wp_status rc = WP_OK;
    OSSL_ENCODER_CTX *ectx = NULL;
    *out = NULL;
    *out_len = 0;
    ectx = OSSL_ENCODER_CTX_new_for_pkey(ossl_ec_pkey(k), EVP_PKEY_KEYPAIR, type,
                                         "PrivateKeyInfo", NULL);
    if (ectx == NULL || OSSL_ENCODER_CTX_get_num_encoders(ectx) == 0) {
        rc = ossl_fail(err, "no PKCS#8 encoder for EC keys");
        goto out;
    }
    if (OSSL_ENCODER_to_data(ectx, out, out_len) != 1 || *out == NULL || *out_len == 0) {
        rc = ossl_fail(err, "OSSL_ENCODER_to_data PKCS#8");
        goto out;
    }
out:
    OSSL_ENCODER_CTX_free(ectx);
    return rc;
}

/*
 * EncryptedPrivateKeyInfo PEM of k: PBES2, scrypt, AES-256-CBC. The
 * PrivateKeyInfo is built here rather than by EVP_PKEY2PKCS8, which in 3.0
 * frees its DER copy of the key without cleansing it.
 */
static wp_status encode_scrypt(const crypto_ec_key *k, const char *pass, unsigned char **out,
                               size_t *out_len, wp_err *err)
{
    wp_status rc = WP_OK;
    unsigned char *der = NULL;
    size_t der_len = 0;
    PKCS8_PRIV_KEY_INFO *p8 = NULL;
    EVP_CIPHER *cbc = NULL;
    X509_ALGOR *pbe = NULL;
    X509_SIG *enc = NULL;
    BIO *bio = NULL;
    uint8_t salt[PEM_SALT_LEN], iv[PEM_IV_LEN];
    char *mem = NULL;
    *out = NULL;
    *out_len = 0;
    if ((rc = encode_plain(k, "DER", &der, &der_len, err)) != WP_OK)
        goto out;
    const unsigned char *p = der;
    if (der_len > LONG_MAX || (p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)der_len)) == NULL ||
        p != der + der_len) {
        rc = ossl_fail(err, "d2i_PKCS8_PRIV_KEY_INFO of our own key");
        goto out;
    }
    if ((cbc = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL)) == NULL ||
        EVP_CIPHER_get_iv_length(cbc) != PEM_IV_LEN) {
        rc = ossl_fail(err, "fetch AES-256-CBC");
        goto out;
    }
    if ((rc = crypto_random(salt, sizeof salt, err)) != WP_OK ||
        (rc = crypto_random(iv, sizeof iv, err)) != WP_OK)
        goto out;
    if ((pbe = PKCS5_pbe2_set_scrypt(cbc, salt, (int)sizeof salt, iv, PEM_SCRYPT_N, PEM_SCRYPT_R,
                                     PEM_SCRYPT_P)) == NULL) {
        rc = ossl_fail(err, "PKCS5_pbe2_set_scrypt");
        goto out;
    }
    /* Encrypts a DER copy of p8 (cleansed after use); pbe is ours until it succeeds. */
    if ((enc = PKCS8_set0_pbe_ex(pass, (int)strlen(pass), p8, pbe, NULL, NULL)) == NULL) {
        rc = ossl_fail(err, "PKCS8_set0_pbe_ex scrypt");
        goto out;
    }
    pbe = NULL;
    if ((bio = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_PKCS8(bio, enc) != 1) {
        rc = ossl_fail(err, "PEM_write_bio_PKCS8");
        goto out;
    }
    long n = BIO_get_mem_data(bio, &mem);
    if (n <= 0 || mem == NULL) {
        rc = ossl_fail(err, "BIO_get_mem_data");
        goto out;
    }
    if ((*out = OPENSSL_malloc((size_t)n)) == NULL) {
        rc = err_set(err, WP_ENOMEM, "crypto_ec_to_pem: out of memory");
        ERR_clear_error();
        goto out;
    }
    memcpy(*out, mem, (size_t)n);
    *out_len = (size_t)n;
out:
    BIO_free(bio);
    X509_SIG_free(enc);
    X509_ALGOR_free(pbe);
    EVP_CIPHER_free(cbc);
    PKCS8_PRIV_KEY_INFO_free(p8); /* cleanses the key octets */
    if (der != NULL)
        OPENSSL_clear_free(der, der_len);
    return rc;
}

wp_status crypto_ec_to_pem(const crypto_ec_key *k, const char *passphrase, char **out_pem,
                           size_t *out_len, wp_err *err)
{
    wp_status rc = WP_OK;
    unsigned char *data = NULL;
    size_t len = 0;
    char *pem = NULL;
    if (WP_MISUSE(k == NULL || out_pem == NULL || out_len == NULL || !crypto_ec_has_private(k)))
        return err_set(err, WP_EINVAL, "crypto_ec_to_pem: NULL argument or no private key");
    *out_pem = NULL;
    *out_len = 0;
    bool encrypt = passphrase != NULL && passphrase[0] != '\0';
    /* Longer would encrypt fine and never decrypt (the decoder's buffer is 1024). */
    if (encrypt && strlen(passphrase) > CRYPTO_PEM_PASS_MAX)
        return err_set(err, WP_EINVAL, "passphrase longer than %d bytes", CRYPTO_PEM_PASS_MAX);
    if (encrypt)
        rc = encode_scrypt(k, passphrase, &data, &len, err);
    else
        rc = encode_plain(k, "PEM", &data, &len, err);
    if (rc != WP_OK)
        goto out;
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

/*
 * WP_OK if the public point stored with pkey (the file's, or d*G that
 * OpenSSL computed when the file has none) is want; WP_ECORRUPT otherwise.
 */
static wp_status stored_pub_matches(EVP_PKEY *pkey, const uint8_t want[CRYPTO_P256_PUB_LEN],
                                    wp_err *err)
{
    wp_status rc = WP_OK;
    EC_POINT *q = NULL;
    uint8_t enc[CRYPTO_P256_PUB_LEN], got[CRYPTO_P256_PUB_LEN];
    size_t enc_len = 0;
    const struct ossl_algs *a = ossl_algs(err);
    if (a == NULL)
        return WP_ECRYPTO;
    /* The file may hold it compressed: compare points, not encodings. */
    if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, enc, sizeof enc,
                                        &enc_len) != 1 ||
        (q = EC_POINT_new(a->p256)) == NULL ||
        EC_POINT_oct2point(a->p256, q, enc, enc_len, NULL) != 1 ||
        EC_POINT_point2oct(a->p256, q, POINT_CONVERSION_UNCOMPRESSED, got, sizeof got, NULL) !=
            sizeof got) {
        rc = ossl_reject(err, WP_ECORRUPT, "PEM key has no readable P-256 public point");
        goto out;
    }
    if (memcmp(got, want, sizeof got) != 0) {
        rc = err_set(err, WP_ECORRUPT, "PEM public key does not match its private key");
        goto out;
    }
out:
    EC_POINT_free(q);
    return rc;
}

wp_status crypto_ec_from_pem(const char *pem, size_t pem_len, const char *passphrase,
                             crypto_ec_key **out, wp_err *err)
{
    wp_status rc = WP_OK;
    OSSL_DECODER_CTX *dctx = NULL;
    EVP_PKEY *pkey = NULL;
    uint8_t d[CRYPTO_P256_SCALAR_LEN], pub[CRYPTO_P256_PUB_LEN];
    struct pass_state ps = {passphrase, false};
    if (WP_MISUSE(out == NULL || (pem == NULL && pem_len != 0)))
        return err_set(err, WP_EINVAL, "crypto_ec_from_pem: NULL argument");
    *out = NULL;
    if (ps.pass != NULL && ps.pass[0] == '\0')
        ps.pass = NULL; /* an empty passphrase means none (as in crypto_ec_to_pem) */
    if (pem_len == 0)
        return err_set(err, WP_ECORRUPT, "empty PEM");
    /* OSSL_DECODER_from_data truncates the length to int: bound it first. */
    if (pem_len > CRYPTO_PEM_MAX)
        return err_set(err, WP_ECORRUPT, "PEM of %zu bytes is longer than %d", pem_len,
                       CRYPTO_PEM_MAX);
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
     * the public point, so a public key stored in the file is never used,
     * only checked.
     */
    if ((rc = p256_scalar(pkey, d, err)) != WP_OK)
        goto out;
    rc = crypto_ec_from_scalar(d, out, err);
    if (rc == WP_EINVAL)
        rc = err_set(err, WP_ECORRUPT, "PEM private scalar not in [1, n-1]");
    if (rc != WP_OK)
        goto out;
    /* A stored public key that is not d*G means the file is damaged or forged. */
    if ((rc = crypto_ec_public(*out, pub, err)) != WP_OK ||
        (rc = stored_pub_matches(pkey, pub, err)) != WP_OK) {
        crypto_ec_free(*out);
        *out = NULL;
        goto out;
    }
out:
    OPENSSL_cleanse(d, sizeof d);
    EVP_PKEY_free(pkey);
    OSSL_DECODER_CTX_free(dctx);
    ERR_clear_error(); /* decoders that did not match leave entries behind */
    return rc;
}

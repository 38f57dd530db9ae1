/*
 * ossl_int.h - shared helpers of the OpenSSL backend (src/crypto/ossl_*.c).
 *
 * Only files in src/crypto/ include this header (it pulls in OpenSSL).
 * Algorithms are fetched once from the default library context and cached
 * for the life of the process (ossl_algs()).
 */
#ifndef WP_CRYPTO_OSSL_INT_H
#define WP_CRYPTO_OSSL_INT_H

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "crypto/crypto.h"

/* The fetched algorithms and the P-256 group, shared read-only. */
struct ossl_algs {
    EVP_MD *sha256;
    EVP_MAC *hmac;
    EVP_KDF *hkdf;
    EVP_CIPHER *aes_256_gcm;
    EVP_CIPHER *chacha20_poly1305;
    EC_GROUP *p256;
    const BIGNUM *p256_order; /* n, owned by p256 */
    uint8_t p256_p[32];       /* the field prime p, big-endian */
};

/*
 * The cached algorithms, fetched on first use (CRYPTO_THREAD_run_once).
 * NULL, with err filled (WP_ECRYPTO), if the fetch failed.
 */
const struct ossl_algs *ossl_algs(wp_err *err);

/*
 * WP_ECRYPTO with "<what>: <OpenSSL error queue>" as the detail. Empties
 * the queue. Returns WP_ECRYPTO.
 */
wp_status ossl_fail(wp_err *err, const char *what);

/*
 * A rejection (WP_EAUTH, WP_EPROTO, WP_EPASSPHRASE, ...): empties the
 * queue, appending its text (if any) to the detail. Returns code.
 */
wp_status ossl_reject(wp_err *err, wp_status code, const char *what);

/* An empty, non-NULL pointer for OpenSSL calls that reject NULL with 0 length. */
extern const uint8_t ossl_empty[1];

/* The named group of P-256, as OpenSSL 3 spells it. */
#define OSSL_P256_NAME "prime256v1"

/* Wrap an EVP_PKEY (takes ownership) into a crypto_ec_key; frees pkey on failure. */
wp_status ossl_ec_wrap(EVP_PKEY *pkey, bool has_private, const uint8_t pub[CRYPTO_P256_PUB_LEN],
                       crypto_ec_key **out, wp_err *err);
/* The EVP_PKEY inside k (borrowed). */
EVP_PKEY *ossl_ec_pkey(const crypto_ec_key *k);

#endif

/*
 * crypto.h - libwipeer's interface to cryptography.
 *
 * Only src/crypto/ includes <openssl/...>; everything else calls these
 * functions. OpenSSL 3 (EVP, provider fetches) does all the math.
 *
 * Rules every function follows:
 *  - every OpenSSL return value is checked; a failure becomes WP_ECRYPTO with
 *    the OpenSSL error queue copied into err->detail, and the queue is left
 *    empty;
 *  - a failed verification or tag check is WP_EAUTH (never WP_ECRYPTO);
 *  - malformed input from the network (bad point encoding, wrong signature
 *    size) is rejected before any expensive operation;
 *  - secrets held by these objects are wiped when they are freed;
 *  - err may be NULL.
 * All functions are thread-safe; an individual object (hash, aead, key) must
 * not be used by two threads at once.
 */
#ifndef WP_CRYPTO_H
#define WP_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wipeer.h"
#include "util/err.h"

#define CRYPTO_SHA256_LEN 32
#define CRYPTO_P256_PUB_LEN 65    /* SEC1 uncompressed: 0x04 || X || Y */
#define CRYPTO_P256_SCALAR_LEN 32 /* big-endian private scalar */
#define CRYPTO_ECDH_LEN 32        /* x-coordinate of the shared point */
#define CRYPTO_SIG_LEN 64         /* IEEE P1363: r || s, 32 bytes each */
#define CRYPTO_AEAD_KEY_LEN 32
#define CRYPTO_AEAD_NONCE_LEN 12
#define CRYPTO_AEAD_TAG_LEN 16
#define CRYPTO_HKDF_MAX_OUT (255 * CRYPTO_SHA256_LEN)
#define CRYPTO_PEM_PASS_MAX 1024 /* bytes; OpenSSL 3.0's PKCS#8 decoder reads no more */
#define CRYPTO_PEM_MAX 65536     /* bytes of PEM text crypto_ec_from_pem accepts */

/* ---------------------------------------------------------------- random */

/* Fill out with len bytes from OpenSSL's CSPRNG. */
WP_NODISCARD wp_status crypto_random(uint8_t *out, size_t len, wp_err *err);

/* ---------------------------------------------------------------- hashing */

WP_NODISCARD wp_status crypto_sha256(const void *in, size_t len, uint8_t out[CRYPTO_SHA256_LEN],
                                     wp_err *err);

/* A running SHA-256 (handshake transcripts). */
typedef struct crypto_hash crypto_hash;
WP_NODISCARD wp_status crypto_hash_new(crypto_hash **out, wp_err *err);
WP_NODISCARD wp_status crypto_hash_update(crypto_hash *h, const void *in, size_t len, wp_err *err);
/*
 * The digest of everything so far; h keeps running. Uses scratch state
 * inside h, so like every call on h it must not run concurrently.
 */
WP_NODISCARD wp_status crypto_hash_peek(const crypto_hash *h, uint8_t out[CRYPTO_SHA256_LEN],
                                        wp_err *err);
void crypto_hash_free(crypto_hash *h);

WP_NODISCARD wp_status crypto_hmac_sha256(const uint8_t *key, size_t key_len, const void *msg,
                                          size_t msg_len, uint8_t out[CRYPTO_SHA256_LEN],
                                          wp_err *err);

/* RFC 5869. salt may be NULL/0 (a string of zeros is used, as the RFC says). */
WP_NODISCARD wp_status crypto_hkdf_extract(const uint8_t *salt, size_t salt_len,
                                           const uint8_t *ikm, size_t ikm_len,
                                           uint8_t out_prk[CRYPTO_SHA256_LEN], wp_err *err);
/* out_len must be 1..CRYPTO_HKDF_MAX_OUT, else WP_EINVAL. */
WP_NODISCARD wp_status crypto_hkdf_expand(const uint8_t *prk, size_t prk_len, const uint8_t *info,
                                          size_t info_len, uint8_t *out, size_t out_len,
                                          wp_err *err);

/* Constant-time equality (CRYPTO_memcmp). */
bool crypto_ct_eq(const void *a, const void *b, size_t len);

/* ---------------------------------------------------------------- P-256 */

/* A P-256 key: private (with its public half) or public only. */
typedef struct crypto_ec_key crypto_ec_key;

/* A fresh private key from OpenSSL's CSPRNG. */
WP_NODISCARD wp_status crypto_ec_generate(crypto_ec_key **out, wp_err *err);
/*
 * A private key from a 32-byte big-endian scalar (deterministic; used with
 * the engine's injected randomness so tests and protocol vectors can fix
 * ephemeral keys). The scalar must be in [1, n-1], else WP_EINVAL.
 */
WP_NODISCARD wp_status crypto_ec_from_scalar(const uint8_t scalar[CRYPTO_P256_SCALAR_LEN],
                                             crypto_ec_key **out, wp_err *err);
/*
 * A public key from the wire. Accepts exactly 65 bytes 0x04||X||Y with the
 * point on the curve; rejects every other length, compressed and hybrid
 * encodings, the point at infinity, coordinates >= p and off-curve (including
 * twist) points with WP_EPROTO, before any scalar multiplication.
 */
WP_NODISCARD wp_status crypto_ec_from_public(const uint8_t *pub, size_t pub_len,
                                             crypto_ec_key **out, wp_err *err);
/* The 65-byte uncompressed public point of k. */
WP_NODISCARD wp_status crypto_ec_public(const crypto_ec_key *k,
                                        uint8_t out[CRYPTO_P256_PUB_LEN], wp_err *err);
bool crypto_ec_has_private(const crypto_ec_key *k);
void crypto_ec_free(crypto_ec_key *k);

/* ECDH: x-coordinate of priv * peer. peer came from crypto_ec_from_public. */
WP_NODISCARD wp_status crypto_ecdh(const crypto_ec_key *priv, const crypto_ec_key *peer,
                                   uint8_t out[CRYPTO_ECDH_LEN], wp_err *err);

/* ECDSA P-256 over SHA-256(msg); the signature is P1363 r||s. */
WP_NODISCARD wp_status crypto_ecdsa_sign(const crypto_ec_key *priv, const void *msg,
                                         size_t msg_len, uint8_t out_sig[CRYPTO_SIG_LEN],
                                         wp_err *err);
/*
 * WP_OK if sig (P1363, exactly 64 bytes, 0 < r,s < n) is a valid signature
 * of SHA-256(msg) by pub; WP_EAUTH otherwise (any size, range or math
 * failure). Never WP_OK by accident on a library error.
 */
WP_NODISCARD wp_status crypto_ecdsa_verify(const crypto_ec_key *pub, const void *msg,
                                           size_t msg_len, const uint8_t *sig, size_t sig_len,
                                           wp_err *err);
/* The same with a strict-DER signature (identity files, interop only). */
WP_NODISCARD wp_status crypto_ecdsa_verify_der(const crypto_ec_key *pub, const void *msg,
                                               size_t msg_len, const uint8_t *der,
                                               size_t der_len, wp_err *err);

/*
 * PKCS#8 PEM of a private key. With a passphrase (non-NULL, non-empty, at
 * most CRYPTO_PEM_PASS_MAX bytes, else WP_EINVAL) the PEM is "ENCRYPTED
 * PRIVATE KEY": PBES2 with scrypt (N = 2^15, r = 7, p = 1, 16-byte random
 * salt) and AES-256-CBC (random IV); `openssl pkey` reads it. (r = 7, not
 * 8: OpenSSL 3.0 reads and writes scrypt only within 32 MiB; see
 * ossl_pem.c.) An empty passphrase means no encryption. *out_pem is
 * NUL-terminated, allocated with wp_malloc; free it with
 * wp_free_secret(*out_pem, *out_len + 1).
 */
WP_NODISCARD wp_status crypto_ec_to_pem(const crypto_ec_key *k, const char *passphrase,
                                        char **out_pem, size_t *out_len, wp_err *err);
/*
 * Parse a PKCS#8 PEM private key, plain or encrypted: PBES2 with scrypt as
 * written above, or with PBKDF2 as earlier wipeer (OpenSSL's encoder
 * default) wrote it. WP_EPASSPHRASE when it is encrypted and passphrase is
 * NULL or wrong; WP_ECORRUPT when it is malformed, longer than
 * CRYPTO_PEM_MAX bytes, not a P-256 key, or when the public key stored
 * with it is not d*G.
 */
WP_NODISCARD wp_status crypto_ec_from_pem(const char *pem, size_t pem_len, const char *passphrase,
                                          crypto_ec_key **out, wp_err *err);

/* ---------------------------------------------------------------- AEAD */

typedef enum crypto_aead_alg {
    CRYPTO_AEAD_AES_256_GCM = 1,
    CRYPTO_AEAD_CHACHA20_POLY1305 = 2,
} crypto_aead_alg;

/* A keyed AEAD, reused for many records without allocating. */
typedef struct crypto_aead crypto_aead;
WP_NODISCARD wp_status crypto_aead_new(crypto_aead_alg alg, const uint8_t key[CRYPTO_AEAD_KEY_LEN],
                                       crypto_aead **out, wp_err *err);
/*
 * Replace the key of a (same algorithm) without allocating: key updates on
 * a live connection. After a failure a must only be freed.
 */
WP_NODISCARD wp_status crypto_aead_rekey(crypto_aead *a, const uint8_t key[CRYPTO_AEAD_KEY_LEN],
                                         wp_err *err);
void crypto_aead_free(crypto_aead *a);
/*
 * out receives pt_len + CRYPTO_AEAD_TAG_LEN bytes: ciphertext || tag.
 * out may equal pt (in place).
 */
WP_NODISCARD wp_status crypto_aead_seal(crypto_aead *a, const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN],
                                        const uint8_t *aad, size_t aad_len, const uint8_t *pt,
                                        size_t pt_len, uint8_t *out, wp_err *err);
/*
 * ct is ciphertext || tag (ct_len >= CRYPTO_AEAD_TAG_LEN, else WP_EAUTH).
 * out receives ct_len - CRYPTO_AEAD_TAG_LEN bytes. On a bad tag: WP_EAUTH
 * and out is zeroed, so no unauthenticated plaintext escapes. out may equal
 * ct (in place).
 */
WP_NODISCARD wp_status crypto_aead_open(crypto_aead *a, const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN],
                                        const uint8_t *aad, size_t aad_len, const uint8_t *ct,
                                        size_t ct_len, uint8_t *out, wp_err *err);

/* ---------------------------------------------------------------- tests */

/* True when this thread's OpenSSL error queue is empty (tests assert it). */
bool crypto_err_queue_empty(void);

#endif

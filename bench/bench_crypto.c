/*
 * bench_crypto - speed of the crypto layer (src/crypto/crypto.h) against
 * raw OpenSSL in the same run.
 *
 * bench/ is not library code: it includes <openssl/...> directly, for the
 * anchors (raw EVP AES-256-GCM with one reused context; ECDH with OpenSSL's
 * default peer re-validation). Each figure runs for about BUDGET seconds,
 * so the whole program takes a few seconds.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "internal.h"
#include "crypto/crypto.h"

#include "bench_util.h"

static double g_budget = 0.15; /* seconds per figure */

#define CHECK(cond, what) BENCH_CHECK(cond, "bench_crypto", what)

/* Calls of fn(arg) per second, over the budget. */
static double rate(op_fn fn, void *arg)
{
    return bench_rate(fn, arg, g_budget, 1ul << 20);
}

/* ---------------------------------------------------------------- AEAD */

struct aead_arg {
    size_t len;
    uint8_t *buf; /* len + 16 */
    uint8_t nonce[12];
    crypto_aead *w;     /* wrapper */
    EVP_CIPHER_CTX *ec; /* anchor */
};

static void wrap_seal_open(void *p)
{
    struct aead_arg *a = p;
    a->nonce[11]++;
    CHECK(crypto_aead_seal(a->w, a->nonce, NULL, 0, a->buf, a->len, a->buf, NULL) == WP_OK,
          "seal");
    CHECK(crypto_aead_open(a->w, a->nonce, NULL, 0, a->buf, a->len + 16, a->buf, NULL) == WP_OK,
          "open");
}

static void raw_seal_open(void *p)
{
    struct aead_arg *a = p;
    int outl = 0;
    uint8_t tag[16];
    a->nonce[11]++;
    CHECK(EVP_CipherInit_ex2(a->ec, NULL, NULL, a->nonce, 1, NULL) == 1, "raw init");
    CHECK(EVP_CipherUpdate(a->ec, a->buf, &outl, a->buf, (int)a->len) == 1, "raw update");
    CHECK(EVP_CipherFinal_ex(a->ec, a->buf + a->len, &outl) == 1, "raw final");
    CHECK(EVP_CIPHER_CTX_ctrl(a->ec, EVP_CTRL_AEAD_GET_TAG, 16, a->buf + a->len) == 1, "raw tag");
    memcpy(tag, a->buf + a->len, 16);
    CHECK(EVP_CipherInit_ex2(a->ec, NULL, NULL, a->nonce, 0, NULL) == 1, "raw init");
    CHECK(EVP_CIPHER_CTX_ctrl(a->ec, EVP_CTRL_AEAD_SET_TAG, 16, tag) == 1, "raw set tag");
    CHECK(EVP_CipherUpdate(a->ec, a->buf, &outl, a->buf, (int)a->len) == 1, "raw update");
    CHECK(EVP_CipherFinal_ex(a->ec, a->buf + a->len, &outl) == 1, "raw verify");
}

static void bench_aead(void)
{
    static const size_t sizes[] = {1024, 16384, 1048576};
    uint8_t key[32] = {1};
    EVP_CIPHER *gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    CHECK(gcm != NULL, "fetch AES-256-GCM");
    printf("AEAD AES-256-GCM, seal+open round trip, in place, MB/s of plaintext\n");
    printf("  %-8s %12s %12s %8s\n", "size", "crypto_aead", "raw EVP", "ratio");
    for (size_t i = 0; i < WP_ARRAY_LEN(sizes); i++) {
        struct aead_arg a = {.len = sizes[i]};
        a.buf = calloc(1, sizes[i] + 16);
        CHECK(a.buf != NULL, "calloc");
        CHECK(crypto_aead_new(CRYPTO_AEAD_AES_256_GCM, key, &a.w, NULL) == WP_OK, "aead_new");
        CHECK((a.ec = EVP_CIPHER_CTX_new()) != NULL, "ctx");
        CHECK(EVP_CipherInit_ex2(a.ec, gcm, key, NULL, 1, NULL) == 1, "raw key");
        /* Best of three, alternating, so neither side gets the warmer cache or clock. */
        double w = 0, r = 0;
        for (int rep = 0; rep < 3; rep++) {
            w = WP_MAX(w, rate(wrap_seal_open, &a) * (double)sizes[i] / 1e6);
            r = WP_MAX(r, rate(raw_seal_open, &a) * (double)sizes[i] / 1e6);
        }
        printf("  %-8zu %12.1f %12.1f %8.3f\n", sizes[i], w, r, w / r);
        crypto_aead_free(a.w);
        EVP_CIPHER_CTX_free(a.ec);
        free(a.buf);
    }
    EVP_CIPHER_free(gcm);
}

/* ---------------------------------------------------------------- EC */

struct ec_arg {
    crypto_ec_key *priv, *peer;
    uint8_t peer_pub[65];
    uint8_t sig[64];
};

static void op_ecdh(void *p)
{
    struct ec_arg *a = p;
    uint8_t s[32];
    CHECK(crypto_ecdh(a->priv, a->peer, s, NULL) == WP_OK, "ecdh");
}

/* What a handshake pays: import the wire point (validated) + derive. */
static void op_import_ecdh(void *p)
{
    struct ec_arg *a = p;
    crypto_ec_key *peer = NULL;
    uint8_t s[32];
    CHECK(crypto_ec_from_public(a->peer_pub, 65, &peer, NULL) == WP_OK, "import");
    CHECK(crypto_ecdh(a->priv, peer, s, NULL) == WP_OK, "ecdh");
    crypto_ec_free(peer);
}

/* Anchor: plain EVP derive with OpenSSL's default peer re-validation. */
static EVP_PKEY *g_raw_priv, *g_raw_peer;
static void op_raw_ecdh(void *p)
{
    (void)p;
    uint8_t s[32];
    size_t n = sizeof s;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, g_raw_priv, NULL);
    CHECK(c != NULL && EVP_PKEY_derive_init(c) == 1, "raw derive init");
    CHECK(EVP_PKEY_derive_set_peer(c, g_raw_peer) == 1, "raw set peer");
    CHECK(EVP_PKEY_derive(c, s, &n) == 1, "raw derive");
    EVP_PKEY_CTX_free(c);
}

static void op_keygen(void *p)
{
    (void)p;
    crypto_ec_key *k = NULL;
    CHECK(crypto_ec_generate(&k, NULL) == WP_OK, "generate");
    crypto_ec_free(k);
}

static void op_sign(void *p)
{
    struct ec_arg *a = p;
    CHECK(crypto_ecdsa_sign(a->priv, "transcript", 10, a->sig, NULL) == WP_OK, "sign");
}

static void op_verify(void *p)
{
    struct ec_arg *a = p;
    CHECK(crypto_ecdsa_verify(a->peer, "transcript", 10, a->sig, 64, NULL) == WP_OK, "verify");
}

static void bench_ec(void)
{
    struct ec_arg a = {0};
    crypto_ec_key *other = NULL;
    CHECK(crypto_ec_generate(&a.priv, NULL) == WP_OK, "generate");
    CHECK(crypto_ec_generate(&other, NULL) == WP_OK, "generate");
    CHECK(crypto_ec_public(other, a.peer_pub, NULL) == WP_OK, "public");
    CHECK(crypto_ec_from_public(a.peer_pub, 65, &a.peer, NULL) == WP_OK, "import");
    g_raw_priv = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "prime256v1");
    g_raw_peer = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "prime256v1");
    CHECK(g_raw_priv && g_raw_peer, "raw keygen");
    printf("P-256, operations per second\n");
    printf("  %-44s %10.0f\n", "crypto_ecdh (peer validated at import)", rate(op_ecdh, &a));
    printf("  %-44s %10.0f\n", "crypto_ec_from_public + crypto_ecdh", rate(op_import_ecdh, &a));
    printf("  %-44s %10.0f\n", "anchor: raw EVP derive, set_peer validates", rate(op_raw_ecdh, NULL));
    printf("  %-44s %10.0f\n", "crypto_ec_generate", rate(op_keygen, NULL));
    /* Sign with priv, verify with the matching public-only key. */
    crypto_ec_free(a.peer);
    uint8_t pub[65];
    CHECK(crypto_ec_public(a.priv, pub, NULL) == WP_OK, "public");
    CHECK(crypto_ec_from_public(pub, 65, &a.peer, NULL) == WP_OK, "import");
    printf("  %-44s %10.0f\n", "crypto_ecdsa_sign", rate(op_sign, &a));
    printf("  %-44s %10.0f\n", "crypto_ecdsa_verify", rate(op_verify, &a));
    crypto_ec_free(a.priv);
    crypto_ec_free(a.peer);
    crypto_ec_free(other);
    EVP_PKEY_free(g_raw_priv);
    EVP_PKEY_free(g_raw_peer);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        g_budget = atof(argv[1]);
    if (!(g_budget > 0 && g_budget <= 10)) {
        fprintf(stderr, "usage: bench_crypto [seconds-per-figure (0..10], default 0.15]\n");
        return 2;
    }
    printf("%s, %.2f s per figure (AEAD: best of 3)\n", OpenSSL_version(OPENSSL_VERSION), g_budget);
    bench_aead();
    bench_ec();
    return 0;
}

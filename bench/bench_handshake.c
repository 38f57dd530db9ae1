/*
 * bench_handshake - the secure channel (src/core/) against OpenSSL in the
 * same run:
 *  - full handshakes per second, both engines in one process, pumped through
 *    memory, with real randomness and real signatures; anchor: an OpenSSL
 *    TLS 1.3 handshake with mutual ECDSA P-256 certificate authentication
 *    (P-256 key share, TLS_AES_256_GCM_SHA384, no tickets) over a BIO pair;
 *  - record seal + open throughput (conn_send, then the peer's conn_input
 *    delivering the message) at 1 KiB, 16 KiB and 1 MiB; anchor: raw EVP
 *    AES-256-GCM seal then open of the same size with reused contexts.
 * Figures are printed with their ratio (wipeer / anchor), each the best of
 * three alternating rounds. Not a test.
 *   bench_handshake [SECONDS_PER_FIGURE]      (default 1)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "internal.h"
#include "core/conn.h"
#include "crypto/crypto.h"

#include "bench_util.h"

static double g_budget = 1.0;

#define CHECK(cond, what) BENCH_CHECK(cond, "bench_handshake", what)

/*
 * The machine is shared and noisy: measure a figure and its anchor in three
 * alternating rounds of a third of the budget each and keep the best of each.
 */
static void best_of_3(op_fn a, void *aa, op_fn b, void *ba, double *out_a, double *out_b)
{
    *out_a = *out_b = 0;
    for (int i = 0; i < 3; i++) {
        double ra = bench_rate(a, aa, g_budget / 3, 1024);
        double rb = bench_rate(b, ba, g_budget / 3, 1024);
        *out_a = ra > *out_a ? ra : *out_a;
        *out_b = rb > *out_b ? rb : *out_b;
    }
}

/* ---------------------------------------------------------------- wipeer */

static wp_status rng(void *user, uint8_t *out, size_t len)
{
    (void)user;
    return crypto_random(out, len, NULL);
}

struct side {
    struct conn *c;
    struct conn_config cfg;
    bool is_auth;
    size_t n_msgs;
};

static void events(struct side *s)
{
    struct conn_event ev;
    while (conn_next_event(s->c, &ev) == WP_OK) {
        if (ev.type == CONN_EV_PEER_IDENTITY)
            CHECK(conn_trust_decide(s->c, true) == WP_OK, "trust");
        else if (ev.type == CONN_EV_AUTHENTICATED)
            s->is_auth = true;
        else if (ev.type == CONN_EV_MESSAGE)
            s->n_msgs++;
        else if (ev.type == CONN_EV_CLOSED)
            bench_fail("bench_handshake", conn_last_error(s->c)->detail);
    }
}

/* Move everything from wrote to `to`, handling to's events. */
static bool move(struct side *from, struct side *to)
{
    size_t n, used;
    const uint8_t *p = conn_output(from->c, &n);
    if (!p)
        return false;
    while (n) {
        CHECK(conn_input(to->c, p, n, &used) == WP_OK, "conn_input");
        events(to);
        conn_output_done(from->c, used);
        p += used;
        n -= used;
    }
    return true;
}

struct wp_bench {
    struct side a, b;
    uint8_t *msg;
    size_t len;
};

static void bench_wp_connect(struct wp_bench *w)
{
    wp_err err;
    w->a.is_auth = w->b.is_auth = false;
    CHECK(conn_new(&w->a.cfg, 0, &w->a.c, &err) == WP_OK, "conn_new");
    CHECK(conn_new(&w->b.cfg, 0, &w->b.c, &err) == WP_OK, "conn_new");
    for (int i = 0; i < 16 && !(w->a.is_auth && w->b.is_auth); i++) {
        move(&w->a, &w->b);
        move(&w->b, &w->a);
    }
    CHECK(w->a.is_auth && w->b.is_auth, "wipeer handshake");
}

static void wp_handshake(void *p)
{
    struct wp_bench *w = p;
    bench_wp_connect(w);
    conn_free(w->a.c);
    conn_free(w->b.c);
}

static void wp_record(void *p)
{
    struct wp_bench *w = p;
    size_t before = w->b.n_msgs;
    CHECK(conn_send(w->a.c, w->msg, w->len) == WP_OK, "conn_send");
    move(&w->a, &w->b);
    CHECK(w->b.n_msgs == before + 1, "delivery");
}

/* ---------------------------------------------------------------- OpenSSL TLS 1.3 */

static EVP_PKEY *ec_key(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    CHECK(k, "EVP_EC_gen");
    return k;
}

static X509 *self_signed(EVP_PKEY *k, const char *cn)
{
    X509 *x = X509_new();
    CHECK(x, "X509_new");
    CHECK(X509_set_version(x, 2) && ASN1_INTEGER_set(X509_get_serialNumber(x), 1) &&
              X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
              X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365) && X509_set_pubkey(x, k),
          "X509 fields");
    X509_NAME *name = X509_get_subject_name(x);
    CHECK(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1,
                                     -1, 0) &&
              X509_set_issuer_name(x, name) && X509_sign(x, k, EVP_sha256()),
          "X509 sign");
    return x;
}

static SSL_CTX *tls_ctx(bool is_server, EVP_PKEY *k, X509 *own, X509 *peer)
{
    SSL_CTX *ctx = SSL_CTX_new(is_server ? TLS_server_method() : TLS_client_method());
    CHECK(ctx, "SSL_CTX_new");
    CHECK(SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) &&
              SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) &&
              SSL_CTX_set_ciphersuites(ctx, "TLS_AES_256_GCM_SHA384") &&
              SSL_CTX_set1_groups_list(ctx, "P-256") &&
              SSL_CTX_set1_sigalgs_list(ctx, "ECDSA+SHA256") &&
              SSL_CTX_use_certificate(ctx, own) && SSL_CTX_use_PrivateKey(ctx, k) &&
              SSL_CTX_check_private_key(ctx) &&
              X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), peer) &&
              SSL_CTX_set_num_tickets(ctx, 0),
          "SSL_CTX setup");
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    return ctx;
}

struct tls_bench {
    SSL_CTX *client;
    SSL_CTX *server;
};

static void tls_handshake(void *p)
{
    struct tls_bench *t = p;
    SSL *c = SSL_new(t->client), *s = SSL_new(t->server);
    BIO *bc = NULL, *bs = NULL;
    CHECK(c && s && BIO_new_bio_pair(&bc, 0, &bs, 0), "SSL_new");
    SSL_set_bio(c, bc, bc);
    SSL_set_bio(s, bs, bs);
    SSL_set_connect_state(c);
    SSL_set_accept_state(s);
    int i;
    for (i = 0; i < 16 && !(SSL_is_init_finished(c) && SSL_is_init_finished(s)); i++) {
        int rc = SSL_do_handshake(c);
        if (rc != 1)
            CHECK(SSL_get_error(c, rc) == SSL_ERROR_WANT_READ, "TLS client handshake");
        rc = SSL_do_handshake(s);
        if (rc != 1)
            CHECK(SSL_get_error(s, rc) == SSL_ERROR_WANT_READ, "TLS server handshake");
    }
    CHECK(i < 16 && SSL_get_verify_result(c) == X509_V_OK &&
              SSL_get_verify_result(s) == X509_V_OK && SSL_get0_peer_certificate(s),
          "TLS mutual authentication");
    SSL_free(c);
    SSL_free(s);
}

/* ---------------------------------------------------------------- raw EVP AEAD */

struct evp_bench {
    EVP_CIPHER_CTX *enc, *dec;
    uint8_t *buf;
    size_t len;
    uint8_t nonce[12];
    uint8_t tag[16];
};

static void evp_seal_open(void *p)
{
    struct evp_bench *e = p;
    int n;
    e->nonce[11]++;
    CHECK(EVP_EncryptInit_ex(e->enc, NULL, NULL, NULL, e->nonce) &&
              EVP_EncryptUpdate(e->enc, e->buf, &n, e->buf, (int)e->len) &&
              EVP_EncryptFinal_ex(e->enc, e->buf + n, &n) &&
              EVP_CIPHER_CTX_ctrl(e->enc, EVP_CTRL_AEAD_GET_TAG, 16, e->tag),
          "EVP seal");
    CHECK(EVP_DecryptInit_ex(e->dec, NULL, NULL, NULL, e->nonce) &&
              EVP_CIPHER_CTX_ctrl(e->dec, EVP_CTRL_AEAD_SET_TAG, 16, e->tag) &&
              EVP_DecryptUpdate(e->dec, e->buf, &n, e->buf, (int)e->len) &&
              EVP_DecryptFinal_ex(e->dec, e->buf + n, &n) == 1,
          "EVP open");
}

int main(int argc, char **argv)
{
    if (argc > 1)
        g_budget = atof(argv[1]);
    if (!(g_budget > 0))
        g_budget = 1.0;

    /* wipeer: identities generated once, fresh ephemerals every handshake */
    struct wp_bench w;
    crypto_ec_key *ia = NULL, *ib = NULL;
    memset(&w, 0, sizeof w);
    CHECK(crypto_ec_generate(&ia, NULL) == WP_OK && crypto_ec_generate(&ib, NULL) == WP_OK,
          "identity");
    w.a.cfg.is_initiator = true;
    w.a.cfg.identity = ia;
    w.b.cfg.identity = ib;
    w.a.cfg.rng = w.b.cfg.rng = rng;
    w.a.cfg.suites = w.b.cfg.suites = CONN_SUITE_P256_AES256GCM_SHA256;
    w.a.cfg.max_frame = w.b.cfg.max_frame = 2u << 20; /* room for a 1 MiB message */

    struct tls_bench t;
    EVP_PKEY *kc = ec_key(), *ks = ec_key();
    X509 *xc = self_signed(kc, "client"), *xs = self_signed(ks, "server");
    t.client = tls_ctx(false, kc, xc, xs);
    t.server = tls_ctx(true, ks, xs, xc);

    printf("bench_handshake: %.2f s per figure\n\n", g_budget);
    double hw, ht;
    best_of_3(wp_handshake, &w, tls_handshake, &t, &hw, &ht);
    printf("%-58s %10s %10s %7s\n", "full handshake, both sides in one process", "wipeer/s",
           "anchor/s", "ratio");
    printf("%-58s %10.0f %10.0f %7.2f\n",
           "wipeer v1 vs OpenSSL TLS 1.3 mutual ECDSA P-256", hw, ht, hw / ht);

    /* records */
    static const size_t sizes[] = {1024, 16384, 1u << 20};
    bench_wp_connect(&w);
    struct evp_bench e;
    uint8_t key[32] = {1};
    memset(&e, 0, sizeof e);
    e.enc = EVP_CIPHER_CTX_new();
    e.dec = EVP_CIPHER_CTX_new();
    EVP_CIPHER *gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    CHECK(e.enc && e.dec && gcm && EVP_EncryptInit_ex(e.enc, gcm, NULL, key, NULL) &&
              EVP_DecryptInit_ex(e.dec, gcm, NULL, key, NULL),
          "EVP init");
    printf("\n%-58s %10s %10s %7s\n", "record seal + open (AES-256-GCM), MB/s of messages",
           "wipeer", "raw EVP", "ratio");
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        w.len = e.len = sizes[i];
        w.msg = calloc(1, sizes[i]);
        e.buf = calloc(1, sizes[i] + 16);
        CHECK(w.msg && e.buf, "calloc");
        double rw, re;
        best_of_3(wp_record, &w, evp_seal_open, &e, &rw, &re);
        rw *= (double)sizes[i] / 1e6;
        re *= (double)sizes[i] / 1e6;
        char label[64];
        snprintf(label, sizeof label, "%zu KiB message: conn_send + peer conn_input",
                 sizes[i] / 1024);
        printf("%-58s %10.0f %10.0f %7.2f\n", label, rw, re, rw / re);
        free(w.msg);
        free(e.buf);
    }
    conn_free(w.a.c);
    conn_free(w.b.c);
    crypto_ec_free(ia);
    crypto_ec_free(ib);
    EVP_CIPHER_free(gcm);
    EVP_CIPHER_CTX_free(e.enc);
    EVP_CIPHER_CTX_free(e.dec);
    SSL_CTX_free(t.client);
    SSL_CTX_free(t.server);
    X509_free(xc);
    X509_free(xs);
    EVP_PKEY_free(kc);
    EVP_PKEY_free(ks);
    return 0;
}

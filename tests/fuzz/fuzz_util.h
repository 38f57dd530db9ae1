/*
 * fuzz_util.h - helpers shared by the core fuzz targets: fixed peers from
 * tests/core/harness.h, feeding an engine until it has taken everything or
 * failed, and a keylog hook that captures the handshake secrets so a target
 * can seal fuzzed plaintext under the real keys and reach the parsers behind
 * the AEAD.
 */
#ifndef WP_TESTS_FUZZ_UTIL_H
#define WP_TESTS_FUZZ_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "codec/buf.h"
#include "core/conn_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz_keys {
    uint8_t i_hs[32];
    uint8_t r_hs[32];
};

static inline void fz_keylog(void *user, const char *name, const uint8_t *v, size_t len)
{
    struct fz_keys *k = user;
    if (len == 32 && strcmp(name, "i_hs") == 0)
        memcpy(k->i_hs, v, 32);
    if (len == 32 && strcmp(name, "r_hs") == 0)
        memcpy(k->r_hs, v, 32);
}

/* A peer with fixed identity and randomness (same bytes on every run). */
static inline void fz_peer(struct peer *p, bool is_initiator, struct fz_keys *keys)
{
    peer_init(p, is_initiator, is_initiator ? "fuzz initiator id" : "fuzz responder id",
              is_initiator ? "fuzz initiator rng" : "fuzz responder rng");
    if (keys) {
        p->cfg.keylog = fz_keylog;
        p->cfg.keylog_user = keys;
    }
    if (peer_start(p, 0) != WP_OK)
        abort();
}

/* Feed bytes until all are taken or the engine failed; events are drained (trust accepted). */
static inline void fz_feed(struct peer *p, const uint8_t *b, size_t n)
{
    while (n && !p->closed) {
        size_t used = 0;
        wp_status st = conn_input(p->c, b, n, &used);
        if (used > n)
            abort();
        peer_events(p);
        if (st != WP_OK) {
            if (!p->closed || p->close_reason != st)
                abort(); /* a failure is always reported as CLOSED with its code */
            break;
        }
        if (used == 0 && !p->c->ev_count)
            abort(); /* no progress without a reason */
        b += used;
        n -= used;
    }
}

/* Take everything p wrote (to hand to the other side). Caller frees. */
static inline uint8_t *fz_take(struct peer *p, size_t *out_len)
{
    size_t n;
    const uint8_t *o = conn_output(p->c, &n);
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy)
        abort();
    if (n)
        memcpy(copy, o, n);
    conn_output_done(p->c, n);
    *out_len = n;
    return copy;
}

/* Feed payload as one frame (its length prefix added). */
static inline void fz_feed_frame(struct peer *p, const uint8_t *payload, size_t n)
{
    uint8_t hdr[4];
    be32_store(hdr, (uint32_t)n);
    fz_feed(p, hdr, 4);
    fz_feed(p, payload, n);
}

/* Seal type||content with a fresh key from secret, counter 0, as one frame; feed it. */
static inline void fz_feed_sealed(struct peer *p, crypto_aead_alg alg, const uint8_t secret[32],
                                  const uint8_t *inner, size_t n)
{
    struct rec_key k;
    wp_err err;
    if (n == 0 || n > 8192)
        return;
    uint8_t *frame = malloc(rec_frame_len(n - 1));
    if (!frame)
        abort();
    memset(&k, 0, sizeof k);
    if (rec_key_set(&k, alg, secret, &err) != WP_OK ||
        rec_seal(&k, inner[0], inner + 1, n - 1, frame, &err) != WP_OK)
        abort();
    rec_key_clear(&k);
    fz_feed(p, frame, rec_frame_len(n - 1));
    free(frame);
}

#endif

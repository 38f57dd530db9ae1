/*
 * harness.h - two real connection engines pumped through memory, for the
 * core tests, the vector generator, fuzz targets and the benchmark.
 *
 * Each peer has a deterministic random source (SHA-256 of a seed and a
 * counter, or a fixed byte list for the protocol vectors), a real identity
 * key and a record of the events it reported. The pump moves bytes between
 * the two engines, through an optional tamper hook that sees every byte with
 * its offset in its direction's stream.
 */
#ifndef WP_TESTS_CORE_HARNESS_H
#define WP_TESTS_CORE_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include "core/conn.h"

enum trust_mode {
    TRUST_ACCEPT = 0, /* accept the peer identity as soon as it is reported */
    TRUST_DENY,       /* refuse it */
    TRUST_MANUAL,     /* leave the decision to the test */
};

struct test_rng {
    uint8_t seed[32];
    uint64_t counter;
    const uint8_t *fixed; /* when set: hand out these bytes in order, then fail */
    size_t fixed_len;
    size_t fixed_pos;
};

struct peer {
    struct conn *c;
    crypto_ec_key *id;
    uint8_t id_pub[CRYPTO_P256_PUB_LEN];
    struct conn_config cfg;
    struct test_rng rng;
    enum trust_mode trust;
    /* what the engine reported */
    bool got_identity;
    bool authenticated;
    bool closed;
    wp_status close_reason;
    uint8_t peer_pub[CRYPTO_P256_PUB_LEN];
    uint16_t suite;
    uint8_t *msgs; /* all received messages, concatenated */
    size_t msgs_len;
    size_t msgs_cap;
    size_t n_msgs;
    size_t last_msg_len;
    /* bytes this peer sent, in order (the wire as the peer wrote it) */
    uint8_t *sent;
    size_t sent_len;
    size_t sent_cap;
};

/* A deterministic rng seeded from a label. */
void test_rng_seed(struct test_rng *r, const char *label);
wp_status test_rng_fn(void *user, uint8_t *out, size_t len);

/*
 * Prepare a peer: identity from a fixed scalar derived from id_label, rng
 * seeded from rng_label, cfg defaults (is_initiator set). Does not create
 * the conn: adjust p->cfg, then call peer_start.
 */
void peer_init(struct peer *p, bool is_initiator, const char *id_label, const char *rng_label);
/* conn_new with p->cfg at time now_ms; WP_OK or the failure. */
wp_status peer_start(struct peer *p, int64_t now_ms);
void peer_free(struct peer *p);
/* Drain p's events (answering trust per p->trust). */
void peer_events(struct peer *p);

/* Called for every byte chunk moving from sender (0 = a, 1 = b) at stream offset off. */
typedef void (*tamper_fn)(void *user, int dir, uint8_t *bytes, size_t len, size_t off);

struct wire {
    uint8_t *buf; /* bytes written by one side, not yet taken by the other */
    size_t len;
    size_t cap;
    size_t off;       /* stream offset of the next byte entering the wire */
    size_t cut_at;    /* drop every byte from this stream offset on (SIZE_MAX: none) */
};

struct pair {
    struct peer a; /* initiator */
    struct peer b; /* responder */
    struct wire ab;
    struct wire ba;
    tamper_fn tamper;
    void *tamper_user;
    int64_t now_ms;
};

/* a: initiator, b: responder, with the given seeds; both started at now 0. */
void pair_init(struct pair *pr, const char *seed);
wp_status pair_start(struct pair *pr);
void pair_free(struct pair *pr);
/* Move bytes and events until nothing changes (bounded). Returns the number of rounds. */
int pair_pump(struct pair *pr);
/* Signal end of stream to both sides (after pumping). */
void pair_eof(struct pair *pr);
/* Full handshake; true if both sides authenticated. */
bool pair_handshake(struct pair *pr);

/* Hex helpers for vectors. */
void hex_encode(const uint8_t *p, size_t n, char *out);
/* Returns the number of bytes decoded or (size_t)-1. */
size_t hex_decode(const char *hex, uint8_t *out, size_t cap);

#endif

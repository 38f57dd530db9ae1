/*
 * conn_int.h - the inside of struct conn, shared by conn.c and the
 * handshake files (hs_*.c). Not for the runtime: it uses core/conn.h.
 */
#ifndef WP_CORE_CONN_INT_H
#define WP_CORE_CONN_INT_H

#include "core/conn.h"
#include "core/frame.h"
#include "core/protocol.h"
#include "core/record.h"

/* The handshake state machine (docs/PROTOCOL.md §7). */
enum hs_state {
    HS_I_WAIT_MSG2 = 1, /* initiator sent msg1 */
    HS_I_WAIT_TRUST,    /* initiator verified msg2; the application decides */
    HS_I_WAIT_READY,    /* initiator sent msg3 */
    HS_R_WAIT_MSG1,     /* responder, nothing received yet */
    HS_R_WAIT_MSG3,     /* responder sent msg2 */
    HS_R_WAIT_TRUST,    /* responder verified msg3; the application decides */
    HS_DONE,            /* authenticated: records flow */
    HS_FAILED,          /* sticky */
};

/* Handshake-only state; every secret here is wiped when the handshake ends. */
struct hs {
    crypto_hash *th;            /* running transcript (§5.1) */
    crypto_ec_key *eph;         /* our ephemeral private key */
    uint8_t early[WP_HASH_LEN];
    uint8_t hs_secret[WP_HASH_LEN];
    uint8_t i_hs[WP_HASH_LEN];
    uint8_t r_hs[WP_HASH_LEN];
    uint8_t i_ap[WP_HASH_LEN];  /* initiator app secret, until its key is installed */
    uint8_t r_ap[WP_HASH_LEN];
    uint16_t offered_suites[WP_MAX_SUITES]; /* initiator: what msg1 offered */
    size_t n_offered;
};

#define CONN_EVQ_LEN 4

struct conn {
    bool is_initiator;
    enum hs_state state;
    const crypto_ec_key *identity;
    uint8_t my_id[WP_PUB_LEN];
    conn_rng_fn rng;
    void *rng_user;
    conn_sign_fn sign;
    void *sign_user;
    conn_keylog_fn keylog;
    void *keylog_user;
    uint32_t suites;            /* enabled CONN_SUITE_* bits */
    uint32_t my_max_frame;
    uint32_t peer_max_frame;
    uint64_t rekey_records;
    uint64_t rekey_bytes;
    uint8_t expected[WP_PUB_LEN];
    bool has_expected;
    uint8_t psk[WP_EXT_SECRET_MAX];
    size_t psk_len;

    struct hs hs;
    uint16_t version;
    uint16_t suite;
    crypto_aead_alg alg;
    uint8_t peer_id[WP_PUB_LEN];
    bool has_peer_id;
    uint8_t exp[WP_HASH_LEN];
    bool has_exp;

    struct rec_key tx;
    struct rec_key rx;
    struct frame_dec dec;

    uint8_t *out;               /* pending output [out_start, out_end) of out_cap */
    size_t out_cap;
    size_t out_start;
    size_t out_end;

    struct conn_event evq[CONN_EVQ_LEN];
    size_t ev_head;
    size_t ev_count;

    int64_t deadline_ms;        /* handshake deadline; -1 once authenticated */
    int64_t timeout_ms;
    bool sent_close;
    bool recv_close;
    bool peer_alerted;          /* failure caused by the peer's alert: answer nothing */
    wp_err err;
};

/* ---- conn.c helpers used by the handshake files ---- */

/* Reserve n bytes at the end of the output; NULL (err set) on ENOMEM. */
uint8_t *conn_out_reserve(struct conn *c, size_t n);
/* Give back the last n reserved bytes (a seal failed). */
void conn_out_unreserve(struct conn *c, size_t n);
/* Seal one record with c->tx straight into the output. */
WP_NODISCARD wp_status conn_seal(struct conn *c, uint8_t type, const uint8_t *content,
                                 size_t len);
void conn_push_event(struct conn *c, const struct conn_event *ev);
/* Report a derived value to the keylog hook (tests and vectors only). */
void conn_keylog(struct conn *c, const char *name, const uint8_t *v, size_t len);
crypto_aead_alg conn_suite_alg(uint16_t suite);
bool conn_suite_enabled(const struct conn *c, uint16_t suite);
const char *conn_state_name(enum hs_state s);
/* The peer sent an alert during the handshake or after: its status (§6.3). */
WP_NODISCARD wp_status conn_peer_alert(struct conn *c, const uint8_t *content, size_t len);
/* Both sides accepted: raise the frame limit, end the handshake, report it. */
void conn_authenticated(struct conn *c);

/* ---- hs_common.c ---- */

/* The one transcript helper: add bytes, and if out_th, give the hash so far. */
WP_NODISCARD wp_status hs_transcript(struct conn *c, const uint8_t *p, size_t n,
                                     uint8_t out_th[WP_HASH_LEN]);
/* Draw 32 random bytes and an ephemeral key (scalar from the rng, §2). */
WP_NODISCARD wp_status hs_new_ephemeral(struct conn *c, uint8_t out_random[WP_RANDOM_LEN],
                                        uint8_t out_pub[WP_PUB_LEN]);
/* A public key from the wire; WP_EPROTO "<what> is not a valid P-256 point". */
WP_NODISCARD wp_status hs_parse_public(struct conn *c, const uint8_t *pub, const char *what,
                                       crypto_ec_key **out);
/* ECDH with our ephemeral and the peer's, then the handshake secrets (§5.3). */
WP_NODISCARD wp_status hs_derive_handshake(struct conn *c, const crypto_ec_key *peer_eph,
                                           const uint8_t th2[WP_HASH_LEN]);
/* The master secret, application secrets and exporter at TH_3 (§5.3). */
WP_NODISCARD wp_status hs_derive_master(struct conn *c, const uint8_t th3[WP_HASH_LEN]);
/* Sign ctx || 0x00 || th with our identity (or the sign hook). */
WP_NODISCARD wp_status hs_sign(struct conn *c, const char *ctx, const uint8_t th[WP_HASH_LEN],
                               uint8_t out_sig[WP_SIG_LEN]);
/* Verify the peer's signature over ctx || 0x00 || th. WP_EAUTH if bad. */
WP_NODISCARD wp_status hs_verify(struct conn *c, const crypto_ec_key *peer, const char *ctx,
                                 const uint8_t th[WP_HASH_LEN], const uint8_t *sig);
/* After a verified identity: the own-identity and expected-peer checks, then PEER_IDENTITY. */
WP_NODISCARD wp_status hs_peer_verified(struct conn *c, enum hs_state next);
/* Wipe every handshake secret. */
void hs_clear(struct hs *h);

/* ---- one file per message ---- */
WP_NODISCARD wp_status hs_initiator_create_msg1(struct conn *c);
WP_NODISCARD wp_status hs_responder_consume_msg1(struct conn *c, const uint8_t *p, size_t n);
WP_NODISCARD wp_status hs_responder_create_msg2(struct conn *c, const crypto_ec_key *peer_eph);
WP_NODISCARD wp_status hs_initiator_consume_msg2(struct conn *c, uint8_t *p, size_t n);
WP_NODISCARD wp_status hs_initiator_create_msg3(struct conn *c);
WP_NODISCARD wp_status hs_responder_consume_msg3(struct conn *c, uint8_t *p, size_t n);
WP_NODISCARD wp_status hs_responder_create_ready(struct conn *c);
WP_NODISCARD wp_status hs_initiator_consume_ready(struct conn *c);

/* ---- tests only ---- */

/* Jump the record counters (counter-exhaustion tests). */
void conn_test_set_counters(struct conn *c, uint64_t tx, uint64_t rx);
/* Current key generations (key update tests). */
void conn_test_key_generations(const struct conn *c, uint32_t *out_tx, uint32_t *out_rx);

#endif

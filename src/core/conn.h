/*
 * conn.h - one wipeer connection as a sans-IO state machine (docs/PROTOCOL.md).
 *
 * Bytes and time go in; bytes to send, events and the next deadline come
 * out. Nothing in src/core/ touches a socket, a clock or a global RNG:
 * randomness comes from cfg->rng, time from the now_ms arguments.
 *
 * Typical driver (src/runtime/ or a test pumping two engines in memory):
 *
 *     conn_new(&cfg, now, &c, &err);
 *     loop:
 *       conn_input(c, bytes, n, &used);          // bytes from the peer
 *       while (conn_next_event(c, &ev) == WP_OK) // handle events
 *           if (ev.type == CONN_EV_PEER_IDENTITY) conn_trust_decide(c, ok);
 *       while ((p = conn_output(c, &len)))       // bytes to the peer
 *           conn_output_done(c, write(fd, p, len));
 *       conn_tick(c, now);                       // at conn_deadline_ms()
 *
 * Failure is sticky: after a fatal error every call returns the same code
 * and conn_last_error() says why. A failed connection may still have bytes
 * to send (a generic alert); drain conn_output() before closing the socket.
 */
#ifndef WP_CORE_CONN_H
#define WP_CORE_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wipeer.h"
#include "util/err.h"
#include "crypto/crypto.h"

struct conn;

/* Randomness hook: fill out with len bytes or fail. */
typedef wp_status (*conn_rng_fn)(void *user, uint8_t *out, size_t len);

/*
 * Signing hook (optional): sign msg with the identity key. When NULL the
 * engine calls crypto_ecdsa_sign(cfg->identity, ...). Protocol vectors use
 * it to replay the recorded (randomized) ECDSA signatures.
 */
typedef wp_status (*conn_sign_fn)(void *user, const uint8_t *msg, size_t msg_len,
                                  uint8_t out_sig[CRYPTO_SIG_LEN]);

/*
 * Key log hook (optional; tests and protocol vectors only, never in
 * production): called with each value the key schedule derives, by name
 * ("dh", "th2", "i_hs", "r_ap_0", "exp", ...; see docs/PROTOCOL.md §5).
 */
typedef void (*conn_keylog_fn)(void *user, const char *name, const uint8_t *value, size_t len);

#define CONN_SUITE_P256_AES256GCM_SHA256 0x0001u        /* mandatory */
#define CONN_SUITE_P256_CHACHA20POLY1305_SHA256 0x0002u /* optional */

struct conn_config {
    bool is_initiator;                /* true: we connected (TCP client) */
    const crypto_ec_key *identity;    /* borrowed: our long-term private key; must outlive conn */
    conn_rng_fn rng;                  /* required */
    void *rng_user;
    conn_sign_fn sign;                /* optional, see above */
    void *sign_user;
    uint32_t suites;                  /* bitmask of CONN_SUITE_*, 0 = all supported, in
                                         preference order AES-GCM then ChaCha20 */
    uint32_t max_frame;               /* post-handshake frame limit; 0 = 1 MiB default */
    int64_t handshake_timeout_ms;     /* 0 = default (10 s); from conn_new to AUTHENTICATED,
                                         the trust decision included */
    const uint8_t *expected_peer;     /* optional 65-byte public key: anything else is
                                         WP_EIDENTITY before trust is even asked */
    const uint8_t *external_secret;   /* optional high-entropy secret (QR pairing) mixed into
                                         the key schedule; copied */
    size_t external_secret_len;
    uint64_t rekey_after_records;     /* 0 = protocol default; tests lower it */
    uint64_t rekey_after_bytes;       /* 0 = protocol default */
    conn_keylog_fn keylog;            /* optional, tests only; see above */
    void *keylog_user;
};

enum conn_event_type {
    /*
     * The peer proved possession of its identity key (signature verified).
     * The caller decides trust with conn_trust_decide() before the handshake
     * can complete; until then no application data flows.
     */
    CONN_EV_PEER_IDENTITY = 1,
    CONN_EV_AUTHENTICATED = 2, /* handshake complete; send/receive allowed */
    CONN_EV_MESSAGE = 3,       /* one whole application message */
    CONN_EV_CLOSED = 4,        /* the peer closed its direction with close_notify (reason
                                  WP_OK; we may still send until conn_close), or the conn
                                  failed (reason = the error, detail in conn_last_error) */
};

struct conn_event {
    enum conn_event_type type;
    const uint8_t *data; /* MESSAGE: borrowed from the frame buffer, valid until the next
                            conn_input, conn_input_eof, conn_trim or conn_free (conn_send
                            and conn_close write only the output: data may be echoed) */
    size_t len;
    uint8_t peer_pub[CRYPTO_P256_PUB_LEN]; /* PEER_IDENTITY, AUTHENTICATED */
    uint16_t suite;                        /* AUTHENTICATED: the chosen suite */
    wp_status reason;                      /* CLOSED: WP_OK for a clean authenticated close */
};

WP_NODISCARD wp_status conn_new(const struct conn_config *cfg, int64_t now_ms,
                                struct conn **out, wp_err *err);
void conn_free(struct conn *c); /* wipes all secrets; NULL is a no-op */

/*
 * Feed bytes received from the peer. *out_used says how many were taken;
 * the rest must be offered again (the engine stops taking input while
 * unread events are queued, to bound memory).
 */
WP_NODISCARD wp_status conn_input(struct conn *c, const uint8_t *in, size_t len,
                                  size_t *out_used);
/*
 * The transport reached end of stream (the peer's FIN); call it once every
 * byte received before the FIN was taken by conn_input. WP_OK after the
 * peer's authenticated close (close_notify); otherwise the conn fails with
 * WP_ETRUNCATED ("during the handshake" or "without close_notify") and that
 * code is returned.
 */
WP_NODISCARD wp_status conn_input_eof(struct conn *c);
/* Bytes waiting to be sent, or NULL when there are none. */
const uint8_t *conn_output(struct conn *c, size_t *out_len);
/* n bytes of conn_output() were sent. */
void conn_output_done(struct conn *c, size_t n);
/* How many bytes are waiting to be sent (for back-pressure). */
size_t conn_output_pending(const struct conn *c);

/*
 * Give back the buffers an idle connection does not need: the output buffer
 * when nothing waits to be sent, the frame buffer between frames (both are
 * wiped, then freed). The engine allocates them again on the next record,
 * so call this when the connection has gone quiet, not per record (the
 * runtime does it after a second without traffic). Invalidates the data of
 * a MESSAGE event. Returns whether no buffer is left.
 */
bool conn_trim(struct conn *c);
/* Bytes of buffer the engine holds now (output and frame buffers, capacity). */
size_t conn_buffer_bytes(const struct conn *c);

/*
 * Seal one application message (<= conn_max_message()) into the output.
 * WP_ESTATE before authentication, WP_ECLOSED after conn_close (or when the
 * record counter is exhausted: a close_notify is sent instead), WP_ETOOBIG
 * above the peer's limit, WP_ENOMEM if the output cannot grow (none of these
 * fail the conn); after a fatal error, its code.
 */
WP_NODISCARD wp_status conn_send(struct conn *c, const void *msg, size_t len);
/*
 * The largest message conn_send accepts: the peer's announced frame limit
 * minus 17 once authenticated; before that the protocol minimum (4079).
 */
size_t conn_max_message(const struct conn *c);
/*
 * Queue an authenticated close (close_notify) of our sending direction; no
 * more sends afterwards, but the peer's messages keep arriving until it
 * closes too (half-close, like TCP FIN). Before authentication it aborts the
 * handshake (the conn fails with WP_ECLOSED). Idempotent.
 */
WP_NODISCARD wp_status conn_close(struct conn *c);

/* WP_OK with *out_ev filled, or WP_AGAIN when no event is queued. */
WP_NODISCARD wp_status conn_next_event(struct conn *c, struct conn_event *out_ev);
/* Answer a CONN_EV_PEER_IDENTITY: accept, or fail the conn with WP_EDENIED. */
WP_NODISCARD wp_status conn_trust_decide(struct conn *c, bool accept);

/* The next time conn_tick() must be called, or -1 for none. */
int64_t conn_deadline_ms(const struct conn *c);
void conn_tick(struct conn *c, int64_t now_ms);

bool conn_is_authenticated(const struct conn *c);
/* Failed, or both directions closed by close_notify: drain conn_output(), then close. */
bool conn_is_closed(const struct conn *c);
const wp_err *conn_last_error(const struct conn *c);

/*
 * Channel binding (docs/PROTOCOL.md §5.4): a value both ends derive from the
 * handshake, for pairing layers (PIN PAKE, numeric comparison). Available
 * from the moment the transcript through the responder's Finished is known:
 * on the initiator when it reports CONN_EV_PEER_IDENTITY, on the responder
 * once it has sent message 2 (so both can bind to it before deciding
 * trust). WP_ESTATE before that and after a failure; WP_EINVAL unless
 * 1 <= strlen(label) <= 200 and 1 <= out_len <= 8160.
 */
WP_NODISCARD wp_status conn_exporter(const struct conn *c, const char *label, uint8_t *out,
                                     size_t out_len);

#endif

/*
 * record.h - the AEAD record layer of docs/PROTOCOL.md §6.
 *
 * One struct rec_key per direction: the traffic secret, the keyed AEAD, the
 * static iv and the 64-bit counter. nonce = iv XOR (0^4 || BE64(counter));
 * the counter is never sent, so a replayed, reordered or dropped record
 * fails to open. A record frame is BE32(L) || AEAD(type || content) with
 * the 4 length bytes as AAD.
 */
#ifndef WP_CORE_RECORD_H
#define WP_CORE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/protocol.h"

struct rec_key {
    crypto_aead *aead;
    crypto_aead_alg alg;
    uint8_t secret[WP_HASH_LEN];
    uint8_t iv[WP_IV_LEN];
    uint64_t counter;     /* the next record's counter */
    uint64_t key_records; /* records sealed/opened under the current key */
    uint64_t key_bytes;   /* plaintext bytes (type + content) under the current key */
    uint32_t generation;  /* key updates so far */
};

/* Key the direction from a traffic secret; counter and usage start at 0. */
WP_NODISCARD wp_status rec_key_set(struct rec_key *k, crypto_aead_alg alg,
                                   const uint8_t secret[WP_HASH_LEN], wp_err *err);
/* §6.4: S <- next(S), new key and iv; the counter keeps running. */
WP_NODISCARD wp_status rec_key_update(struct rec_key *k, wp_err *err);
/* Wipe and free; the struct is zeroed (is_set false). */
void rec_key_clear(struct rec_key *k);
static inline bool rec_key_is_set(const struct rec_key *k) { return k->aead != NULL; }

/* Bytes a record frame with content_len content bytes takes on the wire. */
static inline size_t rec_frame_len(size_t content_len)
{
    return WP_FRAME_HDR_LEN + WP_REC_OVERHEAD + content_len;
}

/*
 * Seal one record as a whole frame into out (at least rec_frame_len(len)
 * bytes). content may already sit at out + 5 (the engine copies application
 * data there and seals in place), otherwise it is copied. Uses and advances
 * the counter; refuses counter 2^64-1 (WP_ECLOSED).
 */
WP_NODISCARD wp_status rec_seal(struct rec_key *k, uint8_t type, const uint8_t *content,
                                size_t len, uint8_t *out, wp_err *err);

/*
 * The same without the frame header: seal type || content into out_body
 * (1 + len + 16 bytes; content may already be at out_body + 1) with the
 * given 4 bytes as AAD (msg2 embeds a record body in a larger frame).
 */
WP_NODISCARD wp_status rec_seal_body(struct rec_key *k, const uint8_t aad[WP_FRAME_HDR_LEN],
                                     uint8_t type, const uint8_t *content, size_t len,
                                     uint8_t *out_body, wp_err *err);
/* Open a record body in place with the given 4 AAD bytes; see rec_open. */
WP_NODISCARD wp_status rec_open_body(struct rec_key *k, const uint8_t aad[WP_FRAME_HDR_LEN],
                                     uint8_t *body, size_t len, uint8_t *out_type,
                                     size_t *out_len, wp_err *err);

/*
 * Open a record frame's payload in place. On success *out_type is the inner
 * type and the content is payload[1 .. 1 + *out_len). A bad tag is WP_EAUTH
 * (the caller maps it to WP_EAUTH or WP_EINTEGRITY), too short a payload is
 * WP_EPROTO. The plaintext is zeroed on failure.
 */
WP_NODISCARD wp_status rec_open(struct rec_key *k, uint8_t *payload, size_t len,
                                uint8_t *out_type, size_t *out_len, wp_err *err);

#endif

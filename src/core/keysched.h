/*
 * keysched.h - the key schedule of docs/PROTOCOL.md §5: HKDF-SHA256 with
 * TLS 1.3 style labels ("wipeer1 " prefix) over the ECDH secret, the running
 * transcript hash and an optional external secret.
 *
 * All outputs are secrets: callers wipe them. Every function may fail with
 * WP_ECRYPTO (err filled).
 */
#ifndef WP_CORE_KEYSCHED_H
#define WP_CORE_KEYSCHED_H

#include <stddef.h>
#include <stdint.h>

#include "core/protocol.h"

/* Expand-Label(secret, label, context, L) of §5.2; label without the prefix. */
WP_NODISCARD wp_status ks_expand_label(const uint8_t secret[WP_HASH_LEN], const char *label,
                                       size_t label_len, const uint8_t *ctx, size_t ctx_len,
                                       uint8_t *out, size_t out_len, wp_err *err);

/* early = HKDF-Extract(0^32, psk or 0^32). psk may be NULL. */
WP_NODISCARD wp_status ks_early(const uint8_t *psk, size_t psk_len,
                                uint8_t out_early[WP_HASH_LEN], wp_err *err);

/* hs, i_hs, r_hs from early, the ECDH secret and TH_2. */
WP_NODISCARD wp_status ks_handshake(const uint8_t early[WP_HASH_LEN],
                                    const uint8_t dh[CRYPTO_ECDH_LEN],
                                    const uint8_t th2[WP_HASH_LEN], uint8_t out_hs[WP_HASH_LEN],
                                    uint8_t out_i_hs[WP_HASH_LEN],
                                    uint8_t out_r_hs[WP_HASH_LEN], wp_err *err);

/* master, i_ap_0, r_ap_0, exp from hs and TH_3. */
WP_NODISCARD wp_status ks_master(const uint8_t hs[WP_HASH_LEN], const uint8_t th3[WP_HASH_LEN],
                                 uint8_t out_master[WP_HASH_LEN], uint8_t out_i_ap[WP_HASH_LEN],
                                 uint8_t out_r_ap[WP_HASH_LEN], uint8_t out_exp[WP_HASH_LEN],
                                 wp_err *err);

/* key(S) and iv(S). */
WP_NODISCARD wp_status ks_traffic(const uint8_t secret[WP_HASH_LEN], uint8_t out_key[WP_KEY_LEN],
                                  uint8_t out_iv[WP_IV_LEN], wp_err *err);

/* HMAC-SHA256(fin_key(S), th). */
WP_NODISCARD wp_status ks_finished(const uint8_t secret[WP_HASH_LEN],
                                   const uint8_t th[WP_HASH_LEN], uint8_t out_mac[WP_FIN_LEN],
                                   wp_err *err);

/* next(S), for key update; in place is allowed (out == secret). */
WP_NODISCARD wp_status ks_next(const uint8_t secret[WP_HASH_LEN], uint8_t out[WP_HASH_LEN],
                               wp_err *err);

/* Export(label, L) of §5.4; WP_EINVAL for out-of-range label or length. */
WP_NODISCARD wp_status ks_export(const uint8_t exp[WP_HASH_LEN], const char *label,
                                 size_t label_len, uint8_t *out, size_t out_len, wp_err *err);

#endif

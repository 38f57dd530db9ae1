/*
 * protocol.h - every constant of the wipeer secure channel, version 1.
 *
 * Each value is defined in docs/PROTOCOL.md (section in brackets); change
 * both together and regenerate the vectors only deliberately.
 */
#ifndef WP_CORE_PROTOCOL_H
#define WP_CORE_PROTOCOL_H

#include <stdint.h>

#include "crypto/crypto.h"

/* [§4] "\x89WIPEER\n" */
#define WP_MAGIC_LEN 8
#define WP_MAGIC_BYTES {0x89, 0x57, 0x49, 0x50, 0x45, 0x45, 0x52, 0x0A}

/* [§4.1, §2] versions and suites */
#define WP_PROTO_VERSION_1 0x0001u
#define WP_SUITE_AES256GCM 0x0001u  /* == CONN_SUITE_P256_AES256GCM_SHA256 */
#define WP_SUITE_CHACHA20 0x0002u   /* == CONN_SUITE_P256_CHACHA20POLY1305_SHA256 */
#define WP_MAX_VERSIONS 16
#define WP_MAX_SUITES 16

/* [§4] clear message types */
#define WP_MSG_HELLO 0x01u
#define WP_MSG_RESPONSE 0x02u
#define WP_MSG_ALERT 0x15u

/* [§6.2] inner (encrypted) record types */
#define WP_REC_RESPONSE 0x02u
#define WP_REC_FINISH 0x03u
#define WP_REC_READY 0x10u
#define WP_REC_DATA 0x11u
#define WP_REC_KEY_UPDATE 0x12u
#define WP_REC_ALERT 0x15u

/* [§6.3] alert codes */
#define WP_ALERT_CLOSE_NOTIFY 0x00u
#define WP_ALERT_ABORT 0x01u
#define WP_ALERT_DENIED 0x02u
#define WP_ALERT_NO_COMMON_VERSION 0x03u

/* [§3] frames */
#define WP_FRAME_HDR_LEN 4
#define WP_FRAME_MAX_HS 4096u              /* limit before authentication */
#define WP_FRAME_MAX_DEFAULT (1u << 20)    /* 1 MiB */
#define WP_FRAME_MAX_MIN 4096u
#define WP_FRAME_MAX_MAX (1u << 24)        /* 16 MiB */
#define WP_FIRST_FRAME_MIN 10u             /* [§8] clear alert: magic + type + code */

/* [§2] sizes */
#define WP_RANDOM_LEN 32
#define WP_PUB_LEN CRYPTO_P256_PUB_LEN     /* 65 */
#define WP_SIG_LEN CRYPTO_SIG_LEN          /* 64 */
#define WP_HASH_LEN CRYPTO_SHA256_LEN      /* 32 */
#define WP_FIN_LEN CRYPTO_SHA256_LEN       /* 32 */
#define WP_KEY_LEN CRYPTO_AEAD_KEY_LEN     /* 32 */
#define WP_IV_LEN CRYPTO_AEAD_NONCE_LEN    /* 12 */
#define WP_TAG_LEN CRYPTO_AEAD_TAG_LEN     /* 16 */
#define WP_SCALAR_LEN CRYPTO_P256_SCALAR_LEN
#define WP_SCALAR_TRIES 16

/* [§4.1] msg1: magic type nv versions ns suites random E ext_len ext */
#define WP_MSG1_MIN_LEN (WP_MAGIC_LEN + 1 + 1 + 2 + 1 + 2 + WP_RANDOM_LEN + WP_PUB_LEN + 2)
/* [§4.2] msg2 */
#define WP_MSG2_HDR_LEN (WP_MAGIC_LEN + 1 + 2 + 2 + WP_RANDOM_LEN + WP_PUB_LEN)  /* 110 */
#define WP_INNER_HEAD_LEN (1 + 4 + WP_PUB_LEN)                                  /* 70 */
#define WP_INNER_LEN (WP_INNER_HEAD_LEN + WP_SIG_LEN + WP_FIN_LEN)              /* 166 */
#define WP_INNER_ENC_LEN (WP_INNER_LEN + WP_TAG_LEN)                            /* 182 */
#define WP_MSG2_LEN (WP_MSG2_HDR_LEN + WP_INNER_ENC_LEN)                        /* 292 */
/* [§4.3] msg3 is one record */
#define WP_MSG3_LEN WP_INNER_ENC_LEN                                            /* 182 */
/* [§4.4] clear alert */
#define WP_CLEAR_ALERT_LEN (WP_MAGIC_LEN + 1 + 1)                               /* 10 */

/* [§6.1] record overhead: inner type + tag */
#define WP_REC_OVERHEAD (1 + WP_TAG_LEN)

/* [§5] signature contexts and labels */
#define WP_SIG_CTX_RESPONDER "wipeer/1 responder signature"
#define WP_SIG_CTX_INITIATOR "wipeer/1 initiator signature"
#define WP_LABEL_PREFIX "wipeer1 "
#define WP_LABEL_PREFIX_LEN 8

/* [§5.3] external secret */
#define WP_EXT_SECRET_MIN 16
#define WP_EXT_SECRET_MAX 64

/* [§5.4] exporter */
#define WP_EXPORT_LABEL_MAX 200
#define WP_EXPORT_OUT_MAX 8160

/* [§6.4] key update */
#define WP_REKEY_RECORDS_MAX (UINT64_C(1) << 24)
#define WP_REKEY_BYTES_MAX (UINT64_C(1) << 36)
/* what a receiver tolerates from its peer under one key */
#define WP_PEER_KEY_RECORDS_MAX (WP_REKEY_RECORDS_MAX + 1)
#define WP_PEER_KEY_BYTES_MAX (WP_REKEY_BYTES_MAX + (UINT64_C(1) << 24))

/* [§6.3] the last counter value, for close_notify only */
#define WP_COUNTER_LAST (UINT64_MAX - 1)

/* [§7.4] */
#define WP_HANDSHAKE_TIMEOUT_MS_DEFAULT 10000

#endif

/*
 * txt.h - DNS-SD TXT record data (RFC 6763 §6): a sequence of
 * <length><bytes> strings, each "key=value" or a bare "key" (boolean
 * attribute). Keys are printable US-ASCII (0x20-0x7E) without '=', compared
 * case-insensitively; the first occurrence of a key wins (§6.4); a string
 * that is empty or starts with '=' is ignored. An empty TXT record is one
 * zero-length string (a single 0 byte, §6.1).
 *
 * The wipeer service publishes (docs/PROTOCOL.md, issue 5):
 *   v=<protocol version>   "1"
 *   fp=<short fingerprint> omitted under a privacy setting
 *   plus free application keys.
 */
#ifndef WP_DNS_TXT_H
#define WP_DNS_TXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wipeer.h"
#include "codec/buf.h"
#include "util/err.h"

#define TXT_STRING_MAX 255
#define TXT_KEY_VERSION "v"
#define TXT_KEY_FINGERPRINT "fp"
#define TXT_WIPEER_VERSION 1u      /* what we publish */
#define TXT_WIPEER_MIN_VERSION 1u  /* oldest version we can connect to */
#define TXT_FP_MAX 64              /* longest fp value we keep */

typedef struct txt_item {
    const uint8_t *key; /* borrowed from the TXT data */
    size_t key_len;
    const uint8_t *value; /* NULL for a boolean attribute ("key" without '=') */
    size_t value_len;
    bool has_value;
} txt_item;

typedef struct txt_iter {
    wp_rbuf r;
} txt_iter;

/* Iterate over the attributes of TXT rdata (borrowed: must outlive it). */
void txt_iter_init(txt_iter *it, const uint8_t *txt, size_t len);
/* Next attribute: WP_OK, WP_AGAIN at the end, WP_EPROTO if malformed. */
WP_NODISCARD wp_status txt_iter_next(txt_iter *it, txt_item *out, wp_err *err);
/* Check the whole TXT rdata (strings fill it exactly). */
WP_NODISCARD wp_status txt_check(const uint8_t *txt, size_t len, wp_err *err);
/* First attribute named key: WP_OK, WP_ENOTFOUND, or WP_EPROTO if malformed. */
WP_NODISCARD wp_status txt_find(const uint8_t *txt, size_t len, const char *key,
                                txt_item *out, wp_err *err);

/*
 * Append "key=value" (value may hold any bytes) or, when value is NULL, the
 * boolean attribute "key". WP_EINVAL: bad key; WP_EEXIST: key already in w;
 * WP_ETOOBIG: the string exceeds 255 bytes or w is full.
 */
WP_NODISCARD wp_status txt_add(wp_wbuf *w, const char *key, const void *value,
                               size_t value_len, wp_err *err);
WP_NODISCARD wp_status txt_add_str(wp_wbuf *w, const char *key, const char *value,
                                   wp_err *err);

/*
 * Start a wipeer TXT record: "v=1" and, unless fp is NULL (the privacy
 * setting), "fp=<fp>". Add free application keys afterwards with txt_add
 * (which refuses another v or fp: WP_EEXIST). Errors as txt_add.
 */
WP_NODISCARD wp_status txt_wipeer_build(wp_wbuf *w, const char *fp, wp_err *err);

/* What a browser learns from a wipeer TXT record. */
typedef struct txt_wipeer_info {
    unsigned version;          /* value of v, 0 when missing or not a number */
    bool has_fp;
    char fp[TXT_FP_MAX + 1];   /* NUL-terminated printable ASCII */
    bool is_connectable;       /* version >= TXT_WIPEER_MIN_VERSION */
} txt_wipeer_info;

/* Never fails: malformed or missing data simply gives is_connectable false. */
void txt_wipeer_parse(const uint8_t *txt, size_t len, txt_wipeer_info *out);

#endif

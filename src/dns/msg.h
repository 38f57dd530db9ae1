/*
 * msg.h - DNS message codec (RFC 1035) with the Multicast DNS specifics of
 * RFC 6762 (QU bit, cache-flush bit, restricted NSEC bitmaps) and the
 * DNS-SD record types of RFC 6763.
 *
 * Reading is an iterator over one message (no allocation): questions first,
 * then resource records of the answer, authority and additional sections.
 * Every byte is read through a wp_rbuf. Names are decompressed on read with
 * strict pointer rules (see dns_reader_init); a decoded record borrows the
 * packet for its TXT/unknown rdata, so the packet must outlive the record.
 *
 * Writing appends questions and records to a caller buffer of fixed size,
 * compressing owner names and the names inside PTR, SRV and NSEC rdata
 * (RFC 6762 §18.14). A record that does not fit is rolled back and
 * reported as WP_ETOOBIG, leaving a valid, shorter message.
 *
 * Names are kept as label sequences in uncompressed wire form: a label may
 * hold any byte (dots, spaces, UTF-8: "My Device (2)" is one label).
 * Comparison is case-insensitive for ASCII letters only (RFC 6762 §16).
 */
#ifndef WP_DNS_MSG_H
#define WP_DNS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wipeer.h"
#include "codec/buf.h"
#include "util/err.h"

#define DNS_HEADER_LEN 12
#define DNS_LABEL_MAX 63
#define DNS_NAME_MAX 255     /* wire length, including the root label */
#define DNS_NAME_STR_MAX 1024 /* dns_name_to_str output incl. NUL (escapes \DDD) */

/* Header flags (RFC 1035 §4.1.1). */
#define DNS_FLAG_QR 0x8000u
#define DNS_FLAG_OPCODE_MASK 0x7800u
#define DNS_FLAG_AA 0x0400u
#define DNS_FLAG_TC 0x0200u
#define DNS_FLAG_RD 0x0100u
#define DNS_FLAG_RCODE_MASK 0x000Fu

/* Top bit of the class: QU in a question, cache-flush in a record (RFC 6762 §5.4, §10.2). */
#define DNS_CLASS_TOP_BIT 0x8000u
#define DNS_CLASS_IN 1u
#define DNS_CLASS_ANY 255u

enum dns_type {
    DNS_TYPE_A = 1,
    DNS_TYPE_PTR = 12,
    DNS_TYPE_TXT = 16,
    DNS_TYPE_AAAA = 28,
    DNS_TYPE_SRV = 33,
    DNS_TYPE_NSEC = 47,
    DNS_TYPE_ANY = 255,
};

enum dns_section {
    DNS_SEC_QUESTION = 0,
    DNS_SEC_ANSWER = 1,
    DNS_SEC_AUTHORITY = 2,
    DNS_SEC_ADDITIONAL = 3,
};

/* A domain name: labels in uncompressed wire form, ending with the root label 0. */
typedef struct dns_name {
    uint16_t len; /* bytes used in wire, 1..DNS_NAME_MAX; 0 means "unset" */
    uint8_t wire[DNS_NAME_MAX];
} dns_name;

typedef struct dns_header {
    uint16_t id;
    uint16_t flags;
    uint16_t count[4]; /* indexed by enum dns_section */
} dns_header;

typedef struct dns_question {
    dns_name name;
    uint16_t type;
    uint16_t qclass;   /* without the QU bit */
    bool is_qu;        /* unicast response requested (RFC 6762 §5.4) */
} dns_question;

typedef struct dns_rr {
    dns_name name;
    uint16_t type;
    uint16_t rrclass;  /* without the cache-flush bit */
    bool cache_flush;  /* RFC 6762 §10.2 */
    uint32_t ttl;
    union {
        uint8_t a[4];
        uint8_t aaaa[16];
        dns_name ptr;
        struct {
            uint16_t priority, weight, port;
            dns_name target;
        } srv;
        struct {
            dns_name next;
            uint8_t bitmap[32]; /* window 0: bit (0x80 >> (t % 8)) of byte t / 8 */
        } nsec;
    } rd;
    /* TXT and unknown types: the raw rdata (borrowed: the packet, or the
       writer's caller). A TXT with data_len 0 is written as one empty string. */
    const uint8_t *data;
    uint16_t data_len;
} dns_rr;

/* ---- names ---- */

/* Parse a presentation name ("_wipeerkit._tcp.local", escapes \. \\ \DDD). */
WP_NODISCARD wp_status dns_name_from_str(dns_name *out, const char *s, wp_err *err);
/* out = label . suffix (the label is raw bytes, may contain dots). */
WP_NODISCARD wp_status dns_name_prepend(dns_name *out, const void *label, size_t label_len,
                                        const dns_name *suffix, wp_err *err);
/* Presentation form with escapes; truncated names never occur (cap >= DNS_NAME_STR_MAX). */
void dns_name_to_str(const dns_name *n, char *out, size_t cap);
/* Case-insensitive (ASCII) equality. */
bool dns_name_eq(const dns_name *a, const dns_name *b);
/* True if n is suffix itself or ends with it (label-aligned). */
bool dns_name_ends_with(const dns_name *n, const dns_name *suffix);
/* Number of labels, not counting the root. */
size_t dns_name_label_count(const dns_name *n);
/* Borrow the first label; false for the root name. */
bool dns_name_first_label(const dns_name *n, const uint8_t **out, size_t *out_len);
/* out = n without its first label; false for the root name. */
bool dns_name_parent(const dns_name *n, dns_name *out);

/* ---- reading ---- */

typedef struct dns_reader {
    wp_rbuf r;
    dns_header hdr;
    uint16_t left[4];
    int section;       /* section of the next item */
} dns_reader;

/*
 * Start reading a message: parses the header. Name rules applied on every
 * later read: a compression pointer must point strictly before the start of
 * the label run that contains it (no loops, no forward pointers, always in
 * bounds); labels <= 63 bytes; names <= 255 bytes uncompressed; label types
 * 0x40/0x80 are rejected. Errors: WP_EPROTO with a detail.
 */
WP_NODISCARD wp_status dns_reader_init(dns_reader *rd, const uint8_t *pkt, size_t len,
                                       wp_err *err);
/* Next question; WP_AGAIN when the question section is done. */
WP_NODISCARD wp_status dns_reader_question(dns_reader *rd, dns_question *out, wp_err *err);
/*
 * Next resource record (skipping unread questions); *out_sec says its
 * section. WP_AGAIN at the end of the message. Bytes after the last record
 * are ignored.
 */
WP_NODISCARD wp_status dns_reader_rr(dns_reader *rd, dns_rr *out, enum dns_section *out_sec,
                                     wp_err *err);
/* Read a whole message, checking every item (the fuzz target). */
WP_NODISCARD wp_status dns_msg_check(const uint8_t *pkt, size_t len, wp_err *err);

/* ---- records ---- */

/* Equal type, class and rdata (names in rdata compared case-insensitively). */
bool dns_rr_same_data(const dns_rr *a, const dns_rr *b);
/* Equal name, type and class (the TTL and cache-flush bit are ignored). */
bool dns_rr_same_key(const dns_rr *a, const dns_rr *b);
/*
 * Compare for RFC 6762 §8.2 probe tie-breaking: class (without the
 * cache-flush bit), then type, then the raw uncompressed rdata bytes as
 * unsigned values (a shorter prefix sorts first). <0, 0, >0.
 */
int dns_rr_cmp_lex(const dns_rr *a, const dns_rr *b);
/* Set/test a type in an NSEC window-0 bitmap. */
void dns_nsec_set(dns_rr *rr, uint16_t type);
bool dns_nsec_has(const dns_rr *rr, uint16_t type);

/* ---- writing ---- */

#define DNS_COMP_MAX 128 /* remembered name offsets per message */

typedef struct dns_writer {
    wp_wbuf w;
    uint16_t count[4];
    int section;
    size_t n_comp;
    uint16_t comp[DNS_COMP_MAX]; /* offsets of labels written in full */
} dns_writer;

/* Start a message in mem (borrowed: must outlive wr); cap >= DNS_HEADER_LEN. */
void dns_writer_init(dns_writer *wr, uint8_t *mem, size_t cap, uint16_t id, uint16_t flags);
void dns_writer_set_flags(dns_writer *wr, uint16_t flags);
/*
 * Append a question / a record. Sections must come in order (WP_EINVAL
 * otherwise). WP_ETOOBIG: it did not fit; the message is unchanged.
 */
WP_NODISCARD wp_status dns_writer_question(dns_writer *wr, const dns_question *q);
WP_NODISCARD wp_status dns_writer_rr(dns_writer *wr, enum dns_section sec, const dns_rr *rr);
static inline size_t dns_writer_len(const dns_writer *wr) { return wr->w.len; }
static inline uint16_t dns_writer_count(const dns_writer *wr, enum dns_section s)
{
    return wr->count[s];
}

#endif

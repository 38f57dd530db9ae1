/*
 * frame.h - the incremental frame decoder (docs/PROTOCOL.md §3, §8).
 *
 * Feed bytes, pull frames [hiredis redisReaderFeed]. A frame is a 4-byte
 * big-endian length and that many payload bytes. The length is checked
 * against the current limit as soon as its 4 bytes are in, before anything
 * is allocated or buffered. In "first frame" mode the decoder also applies
 * the not-a-wipeer-peer rule (§8): length in [10, 4096] and a payload that
 * starts with the magic, checked byte by byte as it arrives.
 *
 * The payload buffer grows lazily to the largest frame seen (a power of two,
 * at least 4 KiB, at most the limit) and is then reused: no allocation on
 * the data path once traffic has reached its largest frame size. An idle
 * owner gives it back with frame_dec_trim (the next frame allocates again).
 */
#ifndef WP_CORE_FRAME_H
#define WP_CORE_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wipeer.h"
#include "util/err.h"

struct frame_dec {
    uint8_t hdr[4];
    size_t hdr_have;
    uint32_t len;      /* current frame's payload length, once hdr_have == 4 */
    uint32_t limit;    /* largest payload accepted */
    uint8_t *buf;      /* payload buffer, cap bytes */
    size_t cap;
    size_t have;       /* payload bytes received */
    bool is_first;     /* apply the first-frame rule (§8) */
    bool is_ready;     /* a whole frame is in buf */
};

void frame_dec_init(struct frame_dec *d, uint32_t limit, bool is_first);
/* Wipe and free the buffer. */
void frame_dec_clear(struct frame_dec *d);
void frame_dec_set_limit(struct frame_dec *d, uint32_t limit);

/*
 * Take bytes up to the end of the current frame (never beyond it).
 * *out_used: bytes taken. Returns WP_OK when a whole frame is ready (see
 * frame_dec_payload; call frame_dec_next before feeding again), WP_AGAIN when
 * more bytes are needed, or an error with err filled: WP_ENOTWIPEER (first
 * frame rule), WP_ETOOBIG (length over the limit), WP_EPROTO (length 0),
 * WP_ENOMEM. Errors are final for the stream.
 */
WP_NODISCARD wp_status frame_dec_feed(struct frame_dec *d, const uint8_t *in, size_t len,
                                      size_t *out_used, wp_err *err);
/* The ready frame's payload (writable: records are opened in place). */
uint8_t *frame_dec_payload(struct frame_dec *d, size_t *out_len);
/* Release the ready frame; the buffer is kept for the next one. */
void frame_dec_next(struct frame_dec *d);
/*
 * Between frames (nothing of the next one taken yet): wipe and free the
 * payload buffer. Returns whether it holds no buffer now (false mid-frame).
 */
bool frame_dec_trim(struct frame_dec *d);
/* Bytes of an unfinished frame held (header + payload); 0 at a frame boundary. */
size_t frame_dec_pending(const struct frame_dec *d);

/* Write a 4-byte frame header. */
void frame_put_header(uint8_t out[4], uint32_t len);

#endif

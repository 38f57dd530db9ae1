/*
 * buf.h - the bounded reader and writer every parser and encoder uses.
 *
 * Rule: no parser in libwipeer indexes raw network bytes itself; it reads
 * through a wp_rbuf, whose every read is bounds-checked. A failed read sets
 * a sticky error flag and returns zeros, so a parser can read a whole
 * structure and check rbuf_ok() once at the end (like c-ares ares_buf).
 *
 * A wp_wbuf writes into caller memory (fixed capacity) or grows on the heap
 * (wbuf_init_dyn). Overflow likewise sets a sticky flag.
 */
#ifndef WP_CODEC_BUF_H
#define WP_CODEC_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct wp_rbuf {
    const uint8_t *data; /* borrowed */
    size_t len;
    size_t pos;
    bool failed;
} wp_rbuf;

void rbuf_init(wp_rbuf *r, const uint8_t *data, size_t len);
static inline bool rbuf_ok(const wp_rbuf *r) { return !r->failed; }
static inline size_t rbuf_remaining(const wp_rbuf *r) { return r->failed ? 0 : r->len - r->pos; }
static inline size_t rbuf_pos(const wp_rbuf *r) { return r->pos; }
/* True when no error occurred and every byte was consumed. */
static inline bool rbuf_done(const wp_rbuf *r) { return !r->failed && r->pos == r->len; }

uint8_t rbuf_u8(wp_rbuf *r);
uint16_t rbuf_u16(wp_rbuf *r); /* big-endian */
uint32_t rbuf_u32(wp_rbuf *r); /* big-endian */
uint64_t rbuf_u64(wp_rbuf *r); /* big-endian */
/* Copy n bytes out; on failure out is zeroed. */
bool rbuf_copy(wp_rbuf *r, void *out, size_t n);
/* Borrow n bytes in place; NULL (and failed) if fewer remain. */
const uint8_t *rbuf_ptr(wp_rbuf *r, size_t n);
bool rbuf_skip(wp_rbuf *r, size_t n);
/* Move to an absolute offset <= len (DNS compression pointers). */
bool rbuf_seek(wp_rbuf *r, size_t pos);
/* A sub-reader over the next n bytes (advances r past them). */
bool rbuf_sub(wp_rbuf *r, size_t n, wp_rbuf *out_sub);

typedef struct wp_wbuf {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t max;    /* growth limit for dynamic buffers */
    bool is_dyn;
    bool failed;
} wp_wbuf;

/* Write into fixed caller memory (borrowed: must outlive w). */
void wbuf_init(wp_wbuf *w, uint8_t *mem, size_t cap);
/* Heap-backed, grows up to max bytes. Free with wbuf_clear. */
void wbuf_init_dyn(wp_wbuf *w, size_t max);
/* Free a dynamic buffer (wiping it); no-op for fixed ones. */
void wbuf_clear(wp_wbuf *w);
static inline bool wbuf_ok(const wp_wbuf *w) { return !w->failed; }

bool wbuf_u8(wp_wbuf *w, uint8_t v);
bool wbuf_u16(wp_wbuf *w, uint16_t v);
bool wbuf_u32(wp_wbuf *w, uint32_t v);
bool wbuf_u64(wp_wbuf *w, uint64_t v);
bool wbuf_bytes(wp_wbuf *w, const void *p, size_t n);
/* Reserve n bytes and return a pointer to fill, or NULL. */
uint8_t *wbuf_reserve(wp_wbuf *w, size_t n);
/* Overwrite a big-endian u16 at an earlier offset (length back-patching). */
bool wbuf_put_u16_at(wp_wbuf *w, size_t off, uint16_t v);
bool wbuf_put_u32_at(wp_wbuf *w, size_t off, uint32_t v);

/* Big-endian load/store helpers for fixed-size arrays already bounds-checked. */
static inline uint32_t be32_load(const uint8_t p[4])
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline void be32_store(uint8_t p[4], uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline void be64_store(uint8_t p[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}
static inline uint64_t be64_load(const uint8_t p[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

#endif

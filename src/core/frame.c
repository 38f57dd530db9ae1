#include "internal.h"
#include "codec/buf.h"
#include "core/frame.h"
#include "core/protocol.h"

static const uint8_t k_magic[WP_MAGIC_LEN] = WP_MAGIC_BYTES;

void frame_dec_init(struct frame_dec *d, uint32_t limit, bool is_first)
{
    memset(d, 0, sizeof *d);
    d->limit = limit;
    d->is_first = is_first;
}

void frame_dec_clear(struct frame_dec *d)
{
    wp_free_secret(d->buf, d->cap);
    memset(d, 0, sizeof *d);
}

bool frame_dec_trim(struct frame_dec *d)
{
    if (d->is_ready || d->hdr_have)
        return d->buf == NULL;
    wp_free_secret(d->buf, d->cap);
    d->buf = NULL;
    d->cap = 0;
    return true;
}

void frame_dec_set_limit(struct frame_dec *d, uint32_t limit)
{
    d->limit = limit;
}

void frame_put_header(uint8_t out[4], uint32_t len)
{
    be32_store(out, len);
}

size_t frame_dec_pending(const struct frame_dec *d)
{
    return d->is_ready ? 0 : d->hdr_have + d->have;
}

/* Printable rendering of the 4 length bytes, for "raw text" diagnostics. */
static void show_bytes(const uint8_t b[4], char out[5])
{
    for (size_t i = 0; i < 4; i++)
        out[i] = (b[i] >= 0x20 && b[i] < 0x7f) ? (char)b[i] : '.';
    out[4] = '\0';
}

/* §8: the 4 length bytes of the first frame. */
static wp_status check_first_len(const struct frame_dec *d, wp_err *err)
{
    char shown[5];
    if (d->len > WP_FRAME_MAX_HS) {
        show_bytes(d->hdr, shown);
        return err_set(err, WP_ENOTWIPEER,
                       "first frame length %u (bytes \"%s\") > %u: not a wipeer peer "
                       "(raw text or another protocol?)",
                       d->len, shown, WP_FRAME_MAX_HS);
    }
    if (d->len < WP_FIRST_FRAME_MIN)
        return err_set(err, WP_ENOTWIPEER, "first frame length %u < %u: not a wipeer peer",
                       d->len, WP_FIRST_FRAME_MIN);
    return WP_OK;
}

/* §8: payload bytes [from, to) of the first frame against the magic. */
static wp_status check_first_magic(const struct frame_dec *d, size_t from, size_t to,
                                   wp_err *err)
{
    for (size_t i = from; i < to && i < WP_MAGIC_LEN; i++) {
        if (d->buf[i] == k_magic[i])
            continue;
        if (d->buf[0] == '{')
            return err_set(err, WP_ENOTWIPEER,
                           "first frame is JSON ('{...', %u bytes): an app of the original "
                           "iOS SDK? not a wipeer peer",
                           d->len);
        return err_set(err, WP_ENOTWIPEER,
                       "first frame does not start with the wipeer magic (byte %zu is 0x%02x): "
                       "not a wipeer peer",
                       i, d->buf[i]);
    }
    return WP_OK;
}

/* Make room for a payload of d->len bytes; only called with nothing buffered. */
static wp_status reserve(struct frame_dec *d, wp_err *err)
{
    if (d->len <= d->cap)
        return WP_OK;
    size_t want = WP_FRAME_MAX_HS;
    while (want < d->len)
        want *= 2;
    if (want > d->limit)
        want = d->limit;
    uint8_t *p = wp_malloc(want);
    if (!p)
        return err_set(err, WP_ENOMEM, "frame buffer of %zu bytes", want);
    wp_free_secret(d->buf, d->cap);
    d->buf = p;
    d->cap = want;
    return WP_OK;
}

wp_status frame_dec_feed(struct frame_dec *d, const uint8_t *in, size_t len, size_t *out_used,
                         wp_err *err)
{
    wp_status rc = WP_AGAIN;
    size_t used = 0;
    wp_rbuf r;
    rbuf_init(&r, in, len);

    if (WP_MISUSE(d->is_ready)) {
        rc = err_set(err, WP_ESTATE, "frame_dec_feed with a frame not released");
        goto out;
    }
    if (d->hdr_have < 4) {
        size_t n = WP_MIN(4 - d->hdr_have, rbuf_remaining(&r));
        rbuf_copy(&r, d->hdr + d->hdr_have, n);
        d->hdr_have += n;
        if (d->hdr_have < 4)
            goto out;
        d->len = be32_load(d->hdr);
        d->have = 0;
        if (d->is_first) {
            rc = check_first_len(d, err);
            if (rc != WP_OK)
                goto out;
            rc = WP_AGAIN;
        }
        if (d->len == 0) {
            rc = err_set(err, WP_EPROTO, "frame of length 0");
            goto out;
        }
        if (d->len > d->limit) {
            rc = err_set(err, WP_ETOOBIG, "frame length %u > limit %u", d->len, d->limit);
            goto out;
        }
        rc = reserve(d, err);
        if (rc != WP_OK)
            goto out;
        rc = WP_AGAIN;
    }
    size_t n = WP_MIN((size_t)d->len - d->have, rbuf_remaining(&r));
    /* §8: judge a first frame on its magic before taking the rest of it */
    if (d->is_first && d->have < WP_MAGIC_LEN)
        n = WP_MIN(n, WP_MAGIC_LEN - d->have);
    size_t from = d->have;
    rbuf_copy(&r, d->buf + d->have, n);
    d->have += n;
    if (d->is_first) {
        rc = check_first_magic(d, from, d->have, err);
        if (rc != WP_OK)
            goto out;
        rc = WP_AGAIN;
    }
    if (d->have == d->len) {
        d->is_ready = true;
        d->is_first = false;
        rc = WP_OK;
    }
out:
    used = rbuf_pos(&r);
    *out_used = used;
    return rc;
}

uint8_t *frame_dec_payload(struct frame_dec *d, size_t *out_len)
{
    if (!d->is_ready) {
        *out_len = 0;
        return NULL;
    }
    *out_len = d->len;
    return d->buf;
}

void frame_dec_next(struct frame_dec *d)
{
    d->is_ready = false;
    d->hdr_have = 0;
    d->have = 0;
    d->len = 0;
}

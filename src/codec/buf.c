#include "internal.h"
#include "codec/buf.h"

void rbuf_init(wp_rbuf *r, const uint8_t *data, size_t len)
{
    r->data = data;
    r->len = data ? len : 0;
    r->pos = 0;
    r->failed = false;
}

static bool need(wp_rbuf *r, size_t n)
{
    if (r->failed || n > r->len - r->pos) {
        r->failed = true;
        return false;
    }
    return true;
}

uint8_t rbuf_u8(wp_rbuf *r)
{
    if (!need(r, 1))
        return 0;
    return r->data[r->pos++];
}

uint16_t rbuf_u16(wp_rbuf *r)
{
    if (!need(r, 2))
        return 0;
    uint16_t v = (uint16_t)((r->data[r->pos] << 8) | r->data[r->pos + 1]);
    r->pos += 2;
    return v;
}

uint32_t rbuf_u32(wp_rbuf *r)
{
    if (!need(r, 4))
        return 0;
    uint32_t v = be32_load(r->data + r->pos);
    r->pos += 4;
    return v;
}

uint64_t rbuf_u64(wp_rbuf *r)
{
    if (!need(r, 8))
        return 0;
    uint64_t v = be64_load(r->data + r->pos);
    r->pos += 8;
    return v;
}

bool rbuf_copy(wp_rbuf *r, void *out, size_t n)
{
    if (!need(r, n)) {
        if (out && n)
            memset(out, 0, n);
        return false;
    }
    if (n)
        memcpy(out, r->data + r->pos, n);
    r->pos += n;
    return true;
}

const uint8_t *rbuf_ptr(wp_rbuf *r, size_t n)
{
    if (!need(r, n))
        return NULL;
    const uint8_t *p = r->data + r->pos;
    r->pos += n;
    return p;
}

bool rbuf_skip(wp_rbuf *r, size_t n)
{
    if (!need(r, n))
        return false;
    r->pos += n;
    return true;
}

bool rbuf_seek(wp_rbuf *r, size_t pos)
{
    if (r->failed || pos > r->len) {
        r->failed = true;
        return false;
    }
    r->pos = pos;
    return true;
}

bool rbuf_sub(wp_rbuf *r, size_t n, wp_rbuf *out_sub)
{
    const uint8_t *p = rbuf_ptr(r, n);
    rbuf_init(out_sub, p, p ? n : 0);
    if (!p)
        out_sub->failed = true;
    return p != NULL;
}

void wbuf_init(wp_wbuf *w, uint8_t *mem, size_t cap)
{
    w->data = mem;
    w->len = 0;
    w->cap = mem ? cap : 0;
    w->max = w->cap;
    w->is_dyn = false;
    w->failed = false;
}

void wbuf_init_dyn(wp_wbuf *w, size_t max)
{
    w->data = NULL;
    w->len = 0;
    w->cap = 0;
    w->max = max;
    w->is_dyn = true;
    w->failed = false;
}

void wbuf_clear(wp_wbuf *w)
{
    if (w->is_dyn)
        wp_free_secret(w->data, w->cap);
    w->data = NULL;
    w->len = w->cap = 0;
}

static bool grow(wp_wbuf *w, size_t n)
{
    if (w->failed)
        return false;
    if (n <= w->cap - w->len)
        return true;
    if (!w->is_dyn || n > w->max - w->len) {
        w->failed = true;
        return false;
    }
    size_t want = w->len + n;
    size_t cap = w->cap ? w->cap : 64;
    while (cap < want)
        cap = cap > w->max / 2 ? w->max : cap * 2;
    uint8_t *p = wp_malloc(cap);
    if (!p) {
        w->failed = true;
        return false;
    }
    if (w->len)
        memcpy(p, w->data, w->len);
    wp_free_secret(w->data, w->cap);
    w->data = p;
    w->cap = cap;
    return true;
}

uint8_t *wbuf_reserve(wp_wbuf *w, size_t n)
{
    if (!grow(w, n))
        return NULL;
    uint8_t *p = w->data + w->len;
    w->len += n;
    return p;
}

bool wbuf_bytes(wp_wbuf *w, const void *p, size_t n)
{
    uint8_t *d = wbuf_reserve(w, n);
    if (!d)
        return false;
    if (n)
        memcpy(d, p, n);
    return true;
}

bool wbuf_u8(wp_wbuf *w, uint8_t v)
{
    return wbuf_bytes(w, &v, 1);
}

bool wbuf_u16(wp_wbuf *w, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    return wbuf_bytes(w, b, 2);
}

bool wbuf_u32(wp_wbuf *w, uint32_t v)
{
    uint8_t b[4];
    be32_store(b, v);
    return wbuf_bytes(w, b, 4);
}

bool wbuf_u64(wp_wbuf *w, uint64_t v)
{
    uint8_t b[8];
    be64_store(b, v);
    return wbuf_bytes(w, b, 8);
}

bool wbuf_put_u16_at(wp_wbuf *w, size_t off, uint16_t v)
{
    if (w->failed || off > w->len || w->len - off < 2) {
        w->failed = true;
        return false;
    }
    w->data[off] = (uint8_t)(v >> 8);
    w->data[off + 1] = (uint8_t)v;
    return true;
}

bool wbuf_put_u32_at(wp_wbuf *w, size_t off, uint32_t v)
{
    if (w->failed || off > w->len || w->len - off < 4) {
        w->failed = true;
        return false;
    }
    be32_store(w->data + off, v);
    return true;
}

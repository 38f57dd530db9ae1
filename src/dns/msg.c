#include "internal.h"
#include "dns/msg.h"

#include <stdio.h>

/* ------------------------------------------------------------------ names */

static uint8_t lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

static bool label_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (lower(a[i]) != lower(b[i]))
            return false;
    }
    return true;
}

/* A dns_name is well formed: labels of 1..63 bytes that end exactly at len. */
static bool name_valid(const dns_name *n)
{
    if (n->len < 1 || n->len > DNS_NAME_MAX)
        return false;
    size_t i = 0;
    while (i < n->len && n->wire[i] != 0) {
        if (n->wire[i] > DNS_LABEL_MAX)
            return false;
        i += 1u + n->wire[i];
    }
    return i == (size_t)n->len - 1u;
}

/* Decode one presentation character at *pp (escapes \\. \\\\ \\DDD); -1 on error. */
static int str_char(const char **pp)
{
    const char *p = *pp;
    int c = (unsigned char)*p++;
    if (c == '\\') {
        if (p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' &&
            p[2] <= '9') {
            c = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
            p += 3;
            if (c > 255)
                return -1;
        } else if (*p == '\0') {
            return -1;
        } else {
            c = (unsigned char)*p++;
        }
    }
    *pp = p;
    return c;
}

/* see msg.h */
wp_status dns_name_from_str(dns_name *out, const char *s, wp_err *err)
{
    uint8_t tmp[DNS_NAME_MAX + 2];
    size_t n = 0;
    const char *p = s;
    if (strcmp(s, ".") == 0)
        p++;
    while (*p) {
        size_t lab = n++;
        size_t ll = 0;
        while (*p && *p != '.') {
            int c = str_char(&p);
            if (c < 0)
                return err_set(err, WP_EINVAL, "bad escape in name \"%s\"", s);
            if (ll == DNS_LABEL_MAX)
                return err_set(err, WP_ETOOBIG, "label longer than 63 bytes in \"%s\"", s);
            if (n >= DNS_NAME_MAX)
                return err_set(err, WP_ETOOBIG, "name longer than 255 bytes: \"%s\"", s);
            tmp[n++] = (uint8_t)c;
            ll++;
        }
        if (ll == 0)
            return err_set(err, WP_EINVAL, "empty label in name \"%s\"", s);
        tmp[lab] = (uint8_t)ll;
        if (*p == '.')
            p++;
    }
    tmp[n++] = 0;
    if (n > DNS_NAME_MAX)
        return err_set(err, WP_ETOOBIG, "name longer than 255 bytes: \"%s\"", s);
    memcpy(out->wire, tmp, n);
    out->len = (uint16_t)n;
    return WP_OK;
}

/* see msg.h */
wp_status dns_name_prepend(dns_name *out, const void *label, size_t label_len,
                           const dns_name *suffix, wp_err *err)
{
    if (label_len < 1 || label_len > DNS_LABEL_MAX)
        return err_set(err, WP_EINVAL, "label length %zu not in 1..63", label_len);
    if (!name_valid(suffix))
        return err_set(err, WP_EINVAL, "malformed suffix name");
    if ((size_t)suffix->len + 1u + label_len > DNS_NAME_MAX)
        return err_set(err, WP_ETOOBIG, "name longer than 255 bytes");
    dns_name tmp;
    tmp.wire[0] = (uint8_t)label_len;
    memcpy(tmp.wire + 1, label, label_len);
    memcpy(tmp.wire + 1 + label_len, suffix->wire, suffix->len);
    tmp.len = (uint16_t)(suffix->len + 1u + label_len);
    *out = tmp;
    return WP_OK;
}

/* see msg.h */
void dns_name_to_str(const dns_name *n, char *out, size_t cap)
{
    size_t o = 0;
    if (cap == 0)
        return;
    out[0] = '\0';
    if (!name_valid(n))
        return;
    if (n->len == 1) {
        if (cap >= 2) {
            out[0] = '.';
            out[1] = '\0';
        }
        return;
    }
    for (size_t i = 0; n->wire[i] != 0; i += 1u + n->wire[i]) {
        if (i > 0 && o + 1 < cap)
            out[o++] = '.';
        for (size_t k = 0; k < n->wire[i]; k++) {
            uint8_t c = n->wire[i + 1 + k];
            char esc[5];
            int m;
            if (c == '.' || c == '\\')
                m = snprintf(esc, sizeof esc, "\\%c", c);
            else if (c < 0x20 || c == 0x7f)
                m = snprintf(esc, sizeof esc, "\\%03u", (unsigned)c);
            else
                m = snprintf(esc, sizeof esc, "%c", c);
            if (m < 0 || o + (size_t)m >= cap)
                goto out;
            memcpy(out + o, esc, (size_t)m);
            o += (size_t)m;
        }
    }
out:
    out[o] = '\0';
}

/* see msg.h */
bool dns_name_eq(const dns_name *a, const dns_name *b)
{
    return a->len == b->len && a->len > 0 && label_eq(a->wire, b->wire, a->len);
}

/* see msg.h */
bool dns_name_ends_with(const dns_name *n, const dns_name *suffix)
{
    if (!name_valid(n) || !name_valid(suffix) || suffix->len > n->len)
        return false;
    /* Walk labels so that the match is label-aligned. */
    size_t i = 0;
    while (n->len - i > suffix->len)
        i += 1u + n->wire[i];
    return n->len - i == suffix->len && label_eq(n->wire + i, suffix->wire, suffix->len);
}

/* see msg.h */
size_t dns_name_label_count(const dns_name *n)
{
    size_t count = 0;
    if (!name_valid(n))
        return 0;
    for (size_t i = 0; n->wire[i] != 0; i += 1u + n->wire[i])
        count++;
    return count;
}

/* see msg.h */
bool dns_name_first_label(const dns_name *n, const uint8_t **out, size_t *out_len)
{
    if (!name_valid(n) || n->wire[0] == 0)
        return false;
    *out = n->wire + 1;
    *out_len = n->wire[0];
    return true;
}

/* see msg.h */
bool dns_name_parent(const dns_name *n, dns_name *out)
{
    if (!name_valid(n) || n->wire[0] == 0)
        return false;
    size_t skip = 1u + n->wire[0];
    dns_name tmp;
    tmp.len = (uint16_t)(n->len - skip);
    memcpy(tmp.wire, n->wire + skip, tmp.len);
    *out = tmp;
    return true;
}

/* ---------------------------------------------------------------- reading */

/*
 * Read a possibly compressed name at r's position. A pointer must point
 * strictly before the start of the label run holding it, so every jump goes
 * backwards: no loop is possible and the walk ends within len steps.
 */
static wp_status read_name(wp_rbuf *r, dns_name *out, wp_err *err)
{
    wp_rbuf c = *r;
    size_t run_start = rbuf_pos(&c);
    size_t start = run_start;
    size_t end = 0;
    bool jumped = false;
    size_t n = 0;
    for (;;) {
        size_t at = rbuf_pos(&c);
        uint8_t b = rbuf_u8(&c);
        if (!rbuf_ok(&c))
            return err_set(err, WP_EPROTO, "name at offset %zu truncated", start);
        if (b == 0)
            break;
        if ((b & 0xC0) == 0) {
            const uint8_t *p = rbuf_ptr(&c, b);
            if (!p)
                return err_set(err, WP_EPROTO, "label at offset %zu truncated", at);
            if (n + 1u + b + 1u > DNS_NAME_MAX)
                return err_set(err, WP_EPROTO, "name at offset %zu longer than 255 bytes",
                               start);
            out->wire[n] = b;
            memcpy(out->wire + n + 1, p, b);
            n += 1u + b;
        } else if ((b & 0xC0) == 0xC0) {
            uint8_t lo = rbuf_u8(&c);
            if (!rbuf_ok(&c))
                return err_set(err, WP_EPROTO, "compression pointer at offset %zu truncated",
                               at);
            size_t off = ((size_t)(b & 0x3F) << 8) | lo;
            if (off >= run_start)
                return err_set(err, WP_EPROTO,
                               "compression pointer at offset %zu to %zu does not point back",
                               at, off);
            if (!jumped) {
                end = rbuf_pos(&c);
                jumped = true;
            }
            (void)rbuf_seek(&c, off);
            run_start = off;
        } else {
            return err_set(err, WP_EPROTO, "label type 0x%02x at offset %zu", b & 0xC0u, at);
        }
    }
    out->wire[n++] = 0;
    out->len = (uint16_t)n;
    (void)rbuf_seek(r, jumped ? end : rbuf_pos(&c));
    return WP_OK;
}

static void advance(dns_reader *rd)
{
    while (rd->section < 4 && rd->left[rd->section] == 0)
        rd->section++;
}

/* see msg.h */
wp_status dns_reader_init(dns_reader *rd, const uint8_t *pkt, size_t len, wp_err *err)
{
    memset(rd, 0, sizeof *rd);
    rbuf_init(&rd->r, pkt, len);
    rd->hdr.id = rbuf_u16(&rd->r);
    rd->hdr.flags = rbuf_u16(&rd->r);
    for (int s = 0; s < 4; s++) {
        rd->hdr.count[s] = rbuf_u16(&rd->r);
        rd->left[s] = rd->hdr.count[s];
    }
    if (!rbuf_ok(&rd->r)) {
        rd->section = 4;
        return err_set(err, WP_EPROTO, "message of %zu bytes shorter than the DNS header", len);
    }
    advance(rd);
    return WP_OK;
}

static wp_status fail(dns_reader *rd, wp_status rc)
{
    rd->section = 4;
    rd->r.failed = true;
    return rc;
}

/* see msg.h */
wp_status dns_reader_question(dns_reader *rd, dns_question *out, wp_err *err)
{
    wp_status rc;
    if (!rbuf_ok(&rd->r))
        return err_set(err, WP_EPROTO, "message already failed to parse");
    if (rd->section != DNS_SEC_QUESTION)
        return WP_AGAIN;
    size_t at = rbuf_pos(&rd->r);
    rc = read_name(&rd->r, &out->name, err);
    if (rc != WP_OK)
        return fail(rd, rc);
    out->type = rbuf_u16(&rd->r);
    uint16_t cls = rbuf_u16(&rd->r);
    if (!rbuf_ok(&rd->r))
        return fail(rd, err_set(err, WP_EPROTO, "question at offset %zu truncated", at));
    out->qclass = (uint16_t)(cls & ~DNS_CLASS_TOP_BIT);
    out->is_qu = (cls & DNS_CLASS_TOP_BIT) != 0;
    rd->left[DNS_SEC_QUESTION]--;
    advance(rd);
    return WP_OK;
}

/* TXT rdata is a sequence of <len><bytes> strings filling it exactly. */
static bool txt_well_formed(const uint8_t *p, size_t len)
{
    wp_rbuf r;
    rbuf_init(&r, p, len);
    while (rbuf_remaining(&r) > 0) {
        uint8_t n = rbuf_u8(&r);
        if (!rbuf_skip(&r, n))
            return false;
    }
    return rbuf_ok(&r);
}

/*
 * NSEC type bitmaps (RFC 4034 §4.1.2). Lenient on purpose: python-zeroconf
 * 0.47 (Debian 12) writes the window and length as 16-bit numbers, which
 * reads as an empty window-0 block followed by the real one; blocks of
 * length 0 and repeated windows are therefore accepted (window-0 blocks are
 * OR-ed). A block overrunning the rdata or longer than 32 bytes is an error.
 */
static wp_status read_nsec_bitmap(wp_rbuf *r, size_t end, dns_rr *out, wp_err *err)
{
    while (rbuf_ok(r) && rbuf_pos(r) < end) {
        uint8_t window = rbuf_u8(r);
        uint8_t blen = rbuf_u8(r);
        if (!rbuf_ok(r) || rbuf_pos(r) > end || blen > end - rbuf_pos(r))
            return err_set(err, WP_EPROTO, "NSEC bitmap truncated");
        if (blen > 32)
            return err_set(err, WP_EPROTO, "NSEC bitmap block (window %u, length %u) invalid",
                           window, blen);
        const uint8_t *p = rbuf_ptr(r, blen);
        for (size_t i = 0; window == 0 && p && i < blen; i++)
            out->rd.nsec.bitmap[i] |= p[i];
    }
    return WP_OK;
}

static wp_status read_rdata(wp_rbuf *r, dns_rr *out, uint16_t rdlen, wp_err *err)
{
    wp_status rc = WP_OK;
    size_t start = rbuf_pos(r);
    size_t end = start + rdlen;
    bool check_end = true;
    switch (out->type) {
    case DNS_TYPE_A:
    case DNS_TYPE_AAAA: {
        size_t want = out->type == DNS_TYPE_A ? 4 : 16;
        if (rdlen != want)
            return err_set(err, WP_EPROTO, "%s rdata of %u bytes, expected %zu",
                           out->type == DNS_TYPE_A ? "A" : "AAAA", rdlen, want);
        (void)rbuf_copy(r, out->type == DNS_TYPE_A ? out->rd.a : out->rd.aaaa, want);
        break;
    }
    case DNS_TYPE_PTR:
        rc = read_name(r, &out->rd.ptr, err);
        break;
    case DNS_TYPE_SRV:
        out->rd.srv.priority = rbuf_u16(r);
        out->rd.srv.weight = rbuf_u16(r);
        out->rd.srv.port = rbuf_u16(r);
        if (!rbuf_ok(r) || rbuf_pos(r) > end)
            return err_set(err, WP_EPROTO, "SRV rdata of %u bytes truncated", rdlen);
        rc = read_name(r, &out->rd.srv.target, err);
        break;
    case DNS_TYPE_NSEC:
        rc = read_name(r, &out->rd.nsec.next, err);
        if (rc == WP_OK && rbuf_pos(r) <= end)
            rc = read_nsec_bitmap(r, end, out, err);
        break;
    default:
        out->data = rbuf_ptr(r, rdlen);
        out->data_len = rdlen;
        check_end = false;
        if (out->type == DNS_TYPE_TXT && out->data && !txt_well_formed(out->data, rdlen))
            return err_set(err, WP_EPROTO, "TXT string overruns its rdata");
        break;
    }
    if (rc == WP_OK && !rbuf_ok(r))
        rc = err_set(err, WP_EPROTO, "rdata truncated");
    if (rc == WP_OK && check_end && rbuf_pos(r) != end)
        rc = err_set(err, WP_EPROTO, "type %u rdata length %u does not match its content",
                     out->type, rdlen);
    return rc;
}

static wp_status read_rr(wp_rbuf *r, dns_rr *out, wp_err *err)
{
    size_t at = rbuf_pos(r);
    memset(&out->rd, 0, sizeof out->rd);
    out->data = NULL;
    out->data_len = 0;
    wp_status rc = read_name(r, &out->name, err);
    if (rc != WP_OK)
        return rc;
    out->type = rbuf_u16(r);
    uint16_t cls = rbuf_u16(r);
    out->ttl = rbuf_u32(r);
    uint16_t rdlen = rbuf_u16(r);
    if (!rbuf_ok(r))
        return err_set(err, WP_EPROTO, "record at offset %zu truncated", at);
    out->rrclass = (uint16_t)(cls & ~DNS_CLASS_TOP_BIT);
    out->cache_flush = (cls & DNS_CLASS_TOP_BIT) != 0;
    if (rdlen > rbuf_remaining(r))
        return err_set(err, WP_EPROTO, "record at offset %zu: rdata length %u > %zu bytes left",
                       at, rdlen, rbuf_remaining(r));
    return read_rdata(r, out, rdlen, err);
}

/* see msg.h */
wp_status dns_reader_rr(dns_reader *rd, dns_rr *out, enum dns_section *out_sec, wp_err *err)
{
    wp_status rc;
    dns_question q;
    while (rd->section == DNS_SEC_QUESTION) {
        rc = dns_reader_question(rd, &q, err);
        if (rc != WP_OK)
            return rc;
    }
    if (!rbuf_ok(&rd->r))
        return err_set(err, WP_EPROTO, "message already failed to parse");
    if (rd->section >= 4)
        return WP_AGAIN;
    rc = read_rr(&rd->r, out, err);
    if (rc != WP_OK)
        return fail(rd, rc);
    *out_sec = (enum dns_section)rd->section;
    rd->left[rd->section]--;
    advance(rd);
    return WP_OK;
}

/* see msg.h */
wp_status dns_msg_check(const uint8_t *pkt, size_t len, wp_err *err)
{
    dns_reader rd;
    dns_rr rr;
    enum dns_section sec;
    wp_status rc = dns_reader_init(&rd, pkt, len, err);
    while (rc == WP_OK)
        rc = dns_reader_rr(&rd, &rr, &sec, err);
    return rc == WP_AGAIN ? WP_OK : rc;
}

/* ---------------------------------------------------------------- records */

static const uint8_t k_empty_txt[1] = {0};

static void txt_norm(const dns_rr *rr, const uint8_t **p, size_t *len)
{
    if (rr->type == DNS_TYPE_TXT && rr->data_len == 0) {
        *p = k_empty_txt;
        *len = 1;
    } else {
        *p = rr->data;
        *len = rr->data_len;
    }
}

/* see msg.h */
bool dns_rr_same_data(const dns_rr *a, const dns_rr *b)
{
    if (a->type != b->type || a->rrclass != b->rrclass)
        return false;
    switch (a->type) {
    case DNS_TYPE_A:
        return memcmp(a->rd.a, b->rd.a, 4) == 0;
    case DNS_TYPE_AAAA:
        return memcmp(a->rd.aaaa, b->rd.aaaa, 16) == 0;
    case DNS_TYPE_PTR:
        return dns_name_eq(&a->rd.ptr, &b->rd.ptr);
    case DNS_TYPE_SRV:
        return a->rd.srv.priority == b->rd.srv.priority &&
               a->rd.srv.weight == b->rd.srv.weight && a->rd.srv.port == b->rd.srv.port &&
               dns_name_eq(&a->rd.srv.target, &b->rd.srv.target);
    case DNS_TYPE_NSEC:
        return dns_name_eq(&a->rd.nsec.next, &b->rd.nsec.next) &&
               memcmp(a->rd.nsec.bitmap, b->rd.nsec.bitmap, 32) == 0;
    default: {
        const uint8_t *pa, *pb;
        size_t la, lb;
        txt_norm(a, &pa, &la);
        txt_norm(b, &pb, &lb);
        return la == lb && (la == 0 || memcmp(pa, pb, la) == 0);
    }
    }
}

/* see msg.h */
bool dns_rr_same_key(const dns_rr *a, const dns_rr *b)
{
    return a->type == b->type && a->rrclass == b->rrclass && dns_name_eq(&a->name, &b->name);
}

static size_t nsec_bitmap_len(const dns_rr *rr)
{
    size_t n = 32;
    while (n > 0 && rr->rd.nsec.bitmap[n - 1] == 0)
        n--;
    return n;
}

/* Uncompressed rdata into tmp (for fixed types) or borrowed (TXT/unknown). */
static void canon_rdata(const dns_rr *rr, uint8_t tmp[static 320], const uint8_t **p,
                        size_t *len)
{
    size_t n = 0;
    switch (rr->type) {
    case DNS_TYPE_A:
        memcpy(tmp, rr->rd.a, 4);
        n = 4;
        break;
    case DNS_TYPE_AAAA:
        memcpy(tmp, rr->rd.aaaa, 16);
        n = 16;
        break;
    case DNS_TYPE_PTR:
        memcpy(tmp, rr->rd.ptr.wire, rr->rd.ptr.len);
        n = rr->rd.ptr.len;
        break;
    case DNS_TYPE_SRV:
        tmp[0] = (uint8_t)(rr->rd.srv.priority >> 8);
        tmp[1] = (uint8_t)rr->rd.srv.priority;
        tmp[2] = (uint8_t)(rr->rd.srv.weight >> 8);
        tmp[3] = (uint8_t)rr->rd.srv.weight;
        tmp[4] = (uint8_t)(rr->rd.srv.port >> 8);
        tmp[5] = (uint8_t)rr->rd.srv.port;
        memcpy(tmp + 6, rr->rd.srv.target.wire, rr->rd.srv.target.len);
        n = 6u + rr->rd.srv.target.len;
        break;
    case DNS_TYPE_NSEC: {
        size_t bl = nsec_bitmap_len(rr);
        memcpy(tmp, rr->rd.nsec.next.wire, rr->rd.nsec.next.len);
        n = rr->rd.nsec.next.len;
        if (bl) {
            tmp[n++] = 0;
            tmp[n++] = (uint8_t)bl;
            memcpy(tmp + n, rr->rd.nsec.bitmap, bl);
            n += bl;
        }
        break;
    }
    default:
        txt_norm(rr, p, len);
        return;
    }
    *p = tmp;
    *len = n;
}

/* see msg.h */
int dns_rr_cmp_lex(const dns_rr *a, const dns_rr *b)
{
    uint8_t ta[320], tb[320];
    const uint8_t *pa, *pb;
    size_t la, lb;
    if (a->rrclass != b->rrclass)
        return a->rrclass < b->rrclass ? -1 : 1;
    if (a->type != b->type)
        return a->type < b->type ? -1 : 1;
    canon_rdata(a, ta, &pa, &la);
    canon_rdata(b, tb, &pb, &lb);
    size_t n = WP_MIN(la, lb);
    int c = n ? memcmp(pa, pb, n) : 0;
    if (c != 0)
        return c < 0 ? -1 : 1;
    return la == lb ? 0 : (la < lb ? -1 : 1);
}

/* see msg.h */
void dns_nsec_set(dns_rr *rr, uint16_t type)
{
    if (type < 256)
        rr->rd.nsec.bitmap[type / 8] |= (uint8_t)(0x80u >> (type % 8));
}

/* see msg.h */
bool dns_nsec_has(const dns_rr *rr, uint16_t type)
{
    return type < 256 && (rr->rd.nsec.bitmap[type / 8] & (0x80u >> (type % 8))) != 0;
}

/* ---------------------------------------------------------------- writing */

/* see msg.h */
void dns_writer_init(dns_writer *wr, uint8_t *mem, size_t cap, uint16_t id, uint16_t flags)
{
    memset(wr, 0, sizeof *wr);
    wbuf_init(&wr->w, mem, cap);
    (void)wbuf_u16(&wr->w, id);
    (void)wbuf_u16(&wr->w, flags);
    for (int i = 0; i < 4; i++)
        (void)wbuf_u16(&wr->w, 0);
}

/* see msg.h */
void dns_writer_set_flags(dns_writer *wr, uint16_t flags)
{
    (void)wbuf_put_u16_at(&wr->w, 2, flags);
}

/* Does the (possibly compressed) name at offset o equal n's suffix from byte i? */
static bool suffix_at(const dns_writer *wr, size_t o, const dns_name *n, size_t i)
{
    wp_rbuf c;
    rbuf_init(&c, wr->w.data, wr->w.len);
    if (!rbuf_seek(&c, o))
        return false;
    for (size_t hops = 0; hops < DNS_NAME_MAX;) {
        uint8_t b = rbuf_u8(&c);
        if (!rbuf_ok(&c))
            return false;
        if ((b & 0xC0) == 0xC0) {
            size_t off = ((size_t)(b & 0x3F) << 8) | rbuf_u8(&c);
            if (!rbuf_ok(&c) || !rbuf_seek(&c, off))
                return false;
            hops++;
            continue;
        }
        if (b != n->wire[i])
            return false;
        if (b == 0)
            return true;
        const uint8_t *p = rbuf_ptr(&c, b);
        if (!p || !label_eq(p, n->wire + i + 1, b))
            return false;
        i += 1u + b;
    }
    return false;
}

static void write_name(dns_writer *wr, const dns_name *n)
{
    size_t i = 0;
    while (n->wire[i] != 0) {
        for (size_t k = 0; k < wr->n_comp; k++) {
            if (suffix_at(wr, wr->comp[k], n, i)) {
                (void)wbuf_u16(&wr->w, (uint16_t)(0xC000u | wr->comp[k]));
                return;
            }
        }
        size_t here = wr->w.len;
        if (here <= 0x3FFF && wr->n_comp < DNS_COMP_MAX && !wr->w.failed)
            wr->comp[wr->n_comp++] = (uint16_t)here;
        (void)wbuf_bytes(&wr->w, n->wire + i, 1u + n->wire[i]);
        i += 1u + n->wire[i];
    }
    (void)wbuf_u8(&wr->w, 0);
}

/* Undo a partial append: the wbuf is ours, so reset its length and error. */
static void rollback(dns_writer *wr, size_t len, size_t n_comp)
{
    wr->w.len = len;
    wr->w.failed = false;
    wr->n_comp = n_comp;
}

static wp_status bump(dns_writer *wr, enum dns_section sec)
{
    wr->count[sec]++;
    wr->section = (int)sec;
    (void)wbuf_put_u16_at(&wr->w, 4u + 2u * (unsigned)sec, wr->count[sec]);
    return WP_OK;
}

/* see msg.h */
wp_status dns_writer_question(dns_writer *wr, const dns_question *q)
{
    if (wr->section != DNS_SEC_QUESTION || !name_valid(&q->name) || wr->count[0] == 0xFFFF)
        return WP_EINVAL;
    size_t len = wr->w.len, n_comp = wr->n_comp;
    write_name(wr, &q->name);
    (void)wbuf_u16(&wr->w, q->type);
    (void)wbuf_u16(&wr->w, (uint16_t)(q->qclass | (q->is_qu ? DNS_CLASS_TOP_BIT : 0)));
    if (!wbuf_ok(&wr->w)) {
        rollback(wr, len, n_comp);
        return WP_ETOOBIG;
    }
    return bump(wr, DNS_SEC_QUESTION);
}

static bool rr_valid(const dns_rr *rr)
{
    if (!name_valid(&rr->name))
        return false;
    switch (rr->type) {
    case DNS_TYPE_PTR:
        return name_valid(&rr->rd.ptr);
    case DNS_TYPE_SRV:
        return name_valid(&rr->rd.srv.target);
    case DNS_TYPE_NSEC:
        return name_valid(&rr->rd.nsec.next);
    case DNS_TYPE_A:
    case DNS_TYPE_AAAA:
        return true;
    default:
        return rr->data_len == 0 || rr->data != NULL;
    }
}

/* see msg.h */
wp_status dns_writer_rr(dns_writer *wr, enum dns_section sec, const dns_rr *rr)
{
    if (sec < DNS_SEC_ANSWER || sec > DNS_SEC_ADDITIONAL || (int)sec < wr->section ||
        !rr_valid(rr) || wr->count[sec] == 0xFFFF)
        return WP_EINVAL;
    size_t len = wr->w.len, n_comp = wr->n_comp;
    write_name(wr, &rr->name);
    (void)wbuf_u16(&wr->w, rr->type);
    (void)wbuf_u16(&wr->w, (uint16_t)(rr->rrclass | (rr->cache_flush ? DNS_CLASS_TOP_BIT : 0)));
    (void)wbuf_u32(&wr->w, rr->ttl);
    size_t rdlen_at = wr->w.len;
    (void)wbuf_u16(&wr->w, 0);
    size_t rd_start = wr->w.len;
    switch (rr->type) {
    case DNS_TYPE_A:
        (void)wbuf_bytes(&wr->w, rr->rd.a, 4);
        break;
    case DNS_TYPE_AAAA:
        (void)wbuf_bytes(&wr->w, rr->rd.aaaa, 16);
        break;
    case DNS_TYPE_PTR:
        write_name(wr, &rr->rd.ptr);
        break;
    case DNS_TYPE_SRV:
        (void)wbuf_u16(&wr->w, rr->rd.srv.priority);
        (void)wbuf_u16(&wr->w, rr->rd.srv.weight);
        (void)wbuf_u16(&wr->w, rr->rd.srv.port);
        write_name(wr, &rr->rd.srv.target);
        break;
    case DNS_TYPE_NSEC: {
        size_t bl = nsec_bitmap_len(rr);
        write_name(wr, &rr->rd.nsec.next);
        if (bl) {
            (void)wbuf_u8(&wr->w, 0);
            (void)wbuf_u8(&wr->w, (uint8_t)bl);
            (void)wbuf_bytes(&wr->w, rr->rd.nsec.bitmap, bl);
        }
        break;
    }
    default: {
        const uint8_t *p;
        size_t n;
        txt_norm(rr, &p, &n);
        (void)wbuf_bytes(&wr->w, p, n);
        break;
    }
    }
    size_t rdlen = wr->w.len - rd_start;
    if (!wbuf_ok(&wr->w) || rdlen > 0xFFFF) {
        rollback(wr, len, n_comp);
        return WP_ETOOBIG;
    }
    (void)wbuf_put_u16_at(&wr->w, rdlen_at, (uint16_t)rdlen);
    return bump(wr, sec);
}

#include "internal.h"
#include "dns/txt.h"

#include <stdio.h>

static bool key_eq(const uint8_t *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++) {
        uint8_t x = a[i], y = (uint8_t)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (uint8_t)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (uint8_t)(y + 32);
        if (x != y)
            return false;
    }
    return true;
}

/* see txt.h */
void txt_iter_init(txt_iter *it, const uint8_t *txt, size_t len)
{
    rbuf_init(&it->r, txt, len);
}

/* see txt.h */
wp_status txt_iter_next(txt_iter *it, txt_item *out, wp_err *err)
{
    for (;;) {
        if (!rbuf_ok(&it->r))
            return err_set(err, WP_EPROTO, "TXT data malformed");
        if (rbuf_remaining(&it->r) == 0)
            return WP_AGAIN;
        size_t at = rbuf_pos(&it->r);
        uint8_t n = rbuf_u8(&it->r);
        const uint8_t *s = rbuf_ptr(&it->r, n);
        if (!s)
            return err_set(err, WP_EPROTO, "TXT string at offset %zu overruns the data", at);
        /* §6.4: empty strings and strings starting with '=' are silently ignored. */
        if (n == 0 || s[0] == '=')
            continue;
        const uint8_t *eq = memchr(s, '=', n);
        out->key = s;
        out->key_len = eq ? (size_t)(eq - s) : n;
        out->has_value = eq != NULL;
        out->value = eq ? eq + 1 : NULL;
        out->value_len = eq ? n - out->key_len - 1 : 0;
        return WP_OK;
    }
}

/* see txt.h */
wp_status txt_check(const uint8_t *txt, size_t len, wp_err *err)
{
    txt_iter it;
    txt_item item;
    wp_status rc;
    txt_iter_init(&it, txt, len);
    while ((rc = txt_iter_next(&it, &item, err)) == WP_OK)
        ;
    return rc == WP_AGAIN ? WP_OK : rc;
}

/* see txt.h */
wp_status txt_find(const uint8_t *txt, size_t len, const char *key, txt_item *out, wp_err *err)
{
    txt_iter it;
    wp_status rc;
    txt_iter_init(&it, txt, len);
    while ((rc = txt_iter_next(&it, out, err)) == WP_OK) {
        if (key_eq(out->key, out->key_len, key))
            return WP_OK;
    }
    return rc == WP_AGAIN ? WP_ENOTFOUND : rc;
}

static bool key_valid(const char *key)
{
    if (key[0] == '\0')
        return false;
    for (const char *p = key; *p; p++) {
        if (*p < 0x20 || *p > 0x7E || *p == '=')
            return false;
    }
    return true;
}

/* see txt.h */
wp_status txt_add(wp_wbuf *w, const char *key, const void *value, size_t value_len,
                  wp_err *err)
{
    txt_item item;
    if (!key || !key_valid(key))
        return err_set(err, WP_EINVAL, "TXT key must be printable ASCII without '='");
    size_t klen = strlen(key);
    size_t n = klen + (value ? 1u + value_len : 0u);
    if (n > TXT_STRING_MAX)
        return err_set(err, WP_ETOOBIG, "TXT string for key \"%s\" is %zu bytes > 255", key, n);
    wp_status rc = txt_find(w->data, w->len, key, &item, err);
    if (rc == WP_OK)
        return err_set(err, WP_EEXIST, "TXT key \"%s\" already present", key);
    if (rc != WP_ENOTFOUND)
        return rc;
    size_t len0 = w->len;
    (void)wbuf_u8(w, (uint8_t)n);
    (void)wbuf_bytes(w, key, klen);
    if (value) {
        (void)wbuf_u8(w, '=');
        (void)wbuf_bytes(w, value, value_len);
    }
    if (!wbuf_ok(w)) {
        /* Roll back the partial string (the wbuf is plain data we own). */
        w->len = len0 <= w->len ? len0 : w->len;
        w->failed = false;
        return err_set(err, WP_ETOOBIG, "TXT data full");
    }
    return WP_OK;
}

/* see txt.h */
wp_status txt_add_str(wp_wbuf *w, const char *key, const char *value, wp_err *err)
{
    return txt_add(w, key, value, value ? strlen(value) : 0, err);
}

/* see txt.h */
wp_status txt_wipeer_build(wp_wbuf *w, const char *fp, wp_err *err)
{
    char v[12];
    (void)snprintf(v, sizeof v, "%u", TXT_WIPEER_VERSION);
    wp_status rc = txt_add_str(w, TXT_KEY_VERSION, v, err);
    if (rc == WP_OK && fp)
        rc = txt_add_str(w, TXT_KEY_FINGERPRINT, fp, err);
    return rc;
}

/* see txt.h */
void txt_wipeer_parse(const uint8_t *txt, size_t len, txt_wipeer_info *out)
{
    txt_item item;
    memset(out, 0, sizeof *out);
    if (!txt || txt_check(txt, len, NULL) != WP_OK)
        return;
    if (txt_find(txt, len, TXT_KEY_VERSION, &item, NULL) == WP_OK && item.has_value &&
        item.value_len >= 1 && item.value_len <= 5) {
        unsigned v = 0;
        bool ok = true;
        for (size_t i = 0; i < item.value_len; i++) {
            if (item.value[i] < '0' || item.value[i] > '9')
                ok = false;
            else
                v = v * 10u + (unsigned)(item.value[i] - '0');
        }
        if (ok && v <= 0xFFFF)
            out->version = v;
    }
    if (txt_find(txt, len, TXT_KEY_FINGERPRINT, &item, NULL) == WP_OK && item.has_value &&
        item.value_len >= 1 && item.value_len <= TXT_FP_MAX) {
        bool ok = true;
        for (size_t i = 0; i < item.value_len; i++) {
            if (item.value[i] < 0x21 || item.value[i] > 0x7E)
                ok = false;
        }
        if (ok) {
            memcpy(out->fp, item.value, item.value_len);
            out->fp[item.value_len] = '\0';
            out->has_fp = true;
        }
    }
    out->is_connectable = out->version >= TXT_WIPEER_MIN_VERSION;
}

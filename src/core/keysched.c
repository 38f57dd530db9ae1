#include "internal.h"
#include "codec/buf.h"
#include "core/keysched.h"

/* SHA-256("") */
static const uint8_t k_empty_hash[WP_HASH_LEN] = {
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
};
static const uint8_t k_zero[WP_HASH_LEN];

#define LBL(s) s, sizeof(s) - 1

wp_status ks_expand_label(const uint8_t secret[WP_HASH_LEN], const char *label, size_t label_len,
                          const uint8_t *ctx, size_t ctx_len, uint8_t *out, size_t out_len,
                          wp_err *err)
{
    /* HkdfLabel: BE16(L) || u8 || "wipeer1 " label || u8 || context (§5.2) */
    uint8_t info[2 + 1 + 255 + 1 + 255];
    wp_wbuf w;
    wp_status rc;
    if (WP_MISUSE(label_len > 255 - WP_LABEL_PREFIX_LEN || ctx_len > 255 || out_len == 0 ||
                  out_len > CRYPTO_HKDF_MAX_OUT)) {
        rc = err_set(err, WP_EINVAL, "expand-label: label %zu, context %zu, length %zu",
                     label_len, ctx_len, out_len);
        goto out;
    }
    wbuf_init(&w, info, sizeof info);
    wbuf_u16(&w, (uint16_t)out_len);
    wbuf_u8(&w, (uint8_t)(WP_LABEL_PREFIX_LEN + label_len));
    wbuf_bytes(&w, WP_LABEL_PREFIX, WP_LABEL_PREFIX_LEN);
    wbuf_bytes(&w, label, label_len);
    wbuf_u8(&w, (uint8_t)ctx_len);
    wbuf_bytes(&w, ctx, ctx_len);
    if (!wbuf_ok(&w)) {
        rc = err_set(err, WP_EINVAL, "expand-label: info too long");
        goto out;
    }
    rc = crypto_hkdf_expand(secret, WP_HASH_LEN, info, w.len, out, out_len, err);
out:
    return rc;
}

wp_status ks_early(const uint8_t *psk, size_t psk_len, uint8_t out_early[WP_HASH_LEN], wp_err *err)
{
    if (!psk || psk_len == 0) {
        psk = k_zero;
        psk_len = sizeof k_zero;
    }
    return crypto_hkdf_extract(k_zero, sizeof k_zero, psk, psk_len, out_early, err);
}

wp_status ks_handshake(const uint8_t early[WP_HASH_LEN], const uint8_t dh[CRYPTO_ECDH_LEN],
                       const uint8_t th2[WP_HASH_LEN], uint8_t out_hs[WP_HASH_LEN],
                       uint8_t out_i_hs[WP_HASH_LEN], uint8_t out_r_hs[WP_HASH_LEN], wp_err *err)
{
    uint8_t salt[WP_HASH_LEN];
    wp_status rc = ks_expand_label(early, LBL("derived"), k_empty_hash, WP_HASH_LEN, salt,
                                   sizeof salt, err);
    if (rc == WP_OK)
        rc = crypto_hkdf_extract(salt, sizeof salt, dh, CRYPTO_ECDH_LEN, out_hs, err);
    if (rc == WP_OK)
        rc = ks_expand_label(out_hs, LBL("i hs traffic"), th2, WP_HASH_LEN, out_i_hs,
                             WP_HASH_LEN, err);
    if (rc == WP_OK)
        rc = ks_expand_label(out_hs, LBL("r hs traffic"), th2, WP_HASH_LEN, out_r_hs,
                             WP_HASH_LEN, err);
    wp_wipe(salt, sizeof salt);
    return rc;
}

wp_status ks_master(const uint8_t hs[WP_HASH_LEN], const uint8_t th3[WP_HASH_LEN],
                    uint8_t out_master[WP_HASH_LEN], uint8_t out_i_ap[WP_HASH_LEN],
                    uint8_t out_r_ap[WP_HASH_LEN], uint8_t out_exp[WP_HASH_LEN], wp_err *err)
{
    uint8_t salt[WP_HASH_LEN];
    wp_status rc = ks_expand_label(hs, LBL("derived"), k_empty_hash, WP_HASH_LEN, salt,
                                   sizeof salt, err);
    if (rc == WP_OK)
        rc = crypto_hkdf_extract(salt, sizeof salt, k_zero, sizeof k_zero, out_master, err);
    if (rc == WP_OK)
        rc = ks_expand_label(out_master, LBL("i ap traffic"), th3, WP_HASH_LEN, out_i_ap,
                             WP_HASH_LEN, err);
    if (rc == WP_OK)
        rc = ks_expand_label(out_master, LBL("r ap traffic"), th3, WP_HASH_LEN, out_r_ap,
                             WP_HASH_LEN, err);
    if (rc == WP_OK)
        rc = ks_expand_label(out_master, LBL("exp master"), th3, WP_HASH_LEN, out_exp,
                             WP_HASH_LEN, err);
    wp_wipe(salt, sizeof salt);
    return rc;
}

wp_status ks_traffic(const uint8_t secret[WP_HASH_LEN], uint8_t out_key[WP_KEY_LEN],
                     uint8_t out_iv[WP_IV_LEN], wp_err *err)
{
    wp_status rc = ks_expand_label(secret, LBL("key"), NULL, 0, out_key, WP_KEY_LEN, err);
    if (rc == WP_OK)
        rc = ks_expand_label(secret, LBL("iv"), NULL, 0, out_iv, WP_IV_LEN, err);
    return rc;
}

wp_status ks_finished(const uint8_t secret[WP_HASH_LEN], const uint8_t th[WP_HASH_LEN],
                      uint8_t out_mac[WP_FIN_LEN], wp_err *err)
{
    uint8_t fk[WP_HASH_LEN];
    wp_status rc = ks_expand_label(secret, LBL("finished"), NULL, 0, fk, sizeof fk, err);
    if (rc == WP_OK)
        rc = crypto_hmac_sha256(fk, sizeof fk, th, WP_HASH_LEN, out_mac, err);
    wp_wipe(fk, sizeof fk);
    return rc;
}

wp_status ks_next(const uint8_t secret[WP_HASH_LEN], uint8_t out[WP_HASH_LEN], wp_err *err)
{
    uint8_t tmp[WP_HASH_LEN];
    wp_status rc = ks_expand_label(secret, LBL("traffic upd"), NULL, 0, tmp, sizeof tmp, err);
    if (rc == WP_OK)
        memcpy(out, tmp, sizeof tmp);
    wp_wipe(tmp, sizeof tmp);
    return rc;
}

wp_status ks_export(const uint8_t exp[WP_HASH_LEN], const char *label, size_t label_len,
                    uint8_t *out, size_t out_len, wp_err *err)
{
    if (label_len < 1 || label_len > WP_EXPORT_LABEL_MAX || out_len < 1 ||
        out_len > WP_EXPORT_OUT_MAX)
        return err_set(err, WP_EINVAL, "exporter: label length %zu (1..%d), output %zu (1..%d)",
                       label_len, WP_EXPORT_LABEL_MAX, out_len, WP_EXPORT_OUT_MAX);
    return ks_expand_label(exp, label, label_len, NULL, 0, out, out_len, err);
}

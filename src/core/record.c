#include "internal.h"
#include "codec/buf.h"
#include "core/frame.h"
#include "core/keysched.h"
#include "core/record.h"

static wp_status rekey(struct rec_key *k, wp_err *err)
{
    uint8_t key[WP_KEY_LEN];
    crypto_aead *a = NULL;
    wp_status rc = ks_traffic(k->secret, key, k->iv, err);
    if (rc != WP_OK)
        goto out;
    if (k->aead) {
        /* key update (§6.4): same AEAD object, new key; no allocation after the handshake */
        rc = crypto_aead_rekey(k->aead, key, err);
    } else {
        rc = crypto_aead_new(k->alg, key, &a, err);
        k->aead = a;
    }
    if (rc != WP_OK)
        goto out;
    k->key_records = 0;
    k->key_bytes = 0;
out:
    wp_wipe(key, sizeof key);
    return rc;
}

wp_status rec_key_set(struct rec_key *k, crypto_aead_alg alg, const uint8_t secret[WP_HASH_LEN],
                      wp_err *err)
{
    rec_key_clear(k);
    k->alg = alg;
    memcpy(k->secret, secret, WP_HASH_LEN);
    wp_status rc = rekey(k, err);
    if (rc != WP_OK)
        rec_key_clear(k);
    return rc;
}

wp_status rec_key_update(struct rec_key *k, wp_err *err)
{
    wp_status rc = ks_next(k->secret, k->secret, err);
    if (rc == WP_OK)
        rc = rekey(k, err);
    if (rc == WP_OK)
        k->generation++;
    return rc;
}

void rec_key_clear(struct rec_key *k)
{
    crypto_aead_free(k->aead);
    wp_wipe(k, sizeof *k);
    k->aead = NULL;
}

static void make_nonce(const struct rec_key *k, uint8_t nonce[WP_IV_LEN])
{
    uint8_t ctr[8];
    be64_store(ctr, k->counter);
    memcpy(nonce, k->iv, WP_IV_LEN);
    for (size_t i = 0; i < 8; i++)
        nonce[WP_IV_LEN - 8 + i] ^= ctr[i];
}

wp_status rec_seal_body(struct rec_key *k, const uint8_t aad[WP_FRAME_HDR_LEN], uint8_t type,
                        const uint8_t *content, size_t len, uint8_t *out_body, wp_err *err)
{
    uint8_t nonce[WP_IV_LEN];
    wp_status rc;
    if (WP_MISUSE(!k->aead)) {
        rc = err_set(err, WP_ESTATE, "seal without a key");
        goto out;
    }
    if (k->counter == UINT64_MAX) {
        rc = err_set(err, WP_ECLOSED, "record counter exhausted");
        goto out;
    }
    if (len && content != out_body + 1)
        memmove(out_body + 1, content, len);
    out_body[0] = type;
    make_nonce(k, nonce);
    rc = crypto_aead_seal(k->aead, nonce, aad, WP_FRAME_HDR_LEN, out_body, 1 + len, out_body,
                          err);
    if (rc != WP_OK)
        goto out;
    k->counter++;
    k->key_records++;
    k->key_bytes += 1 + len;
out:
    return rc;
}

wp_status rec_seal(struct rec_key *k, uint8_t type, const uint8_t *content, size_t len,
                   uint8_t *out, wp_err *err)
{
    size_t body = WP_REC_OVERHEAD + len;
    if (WP_MISUSE(body > UINT32_MAX))
        return err_set(err, WP_ETOOBIG, "record of %zu bytes", len);
    frame_put_header(out, (uint32_t)body);
    return rec_seal_body(k, out, type, content, len, out + WP_FRAME_HDR_LEN, err);
}

wp_status rec_open_body(struct rec_key *k, const uint8_t aad[WP_FRAME_HDR_LEN], uint8_t *body,
                        size_t len, uint8_t *out_type, size_t *out_len, wp_err *err)
{
    uint8_t nonce[WP_IV_LEN];
    wp_status rc;
    *out_type = 0;
    *out_len = 0;
    if (WP_MISUSE(!k->aead)) {
        rc = err_set(err, WP_ESTATE, "open without a key");
        goto out;
    }
    if (len < WP_REC_OVERHEAD) {
        rc = err_set(err, WP_EPROTO, "record of %zu bytes < %d", len, WP_REC_OVERHEAD);
        goto out;
    }
    if (k->counter == UINT64_MAX) {
        rc = err_set(err, WP_EPROTO, "record after the last counter value");
        goto out;
    }
    make_nonce(k, nonce);
    rc = crypto_aead_open(k->aead, nonce, aad, WP_FRAME_HDR_LEN, body, len, body, err);
    if (rc != WP_OK)
        goto out;
    k->counter++;
    k->key_records++;
    k->key_bytes += len - WP_TAG_LEN;
    *out_type = body[0];
    *out_len = len - WP_REC_OVERHEAD;
out:
    return rc;
}

wp_status rec_open(struct rec_key *k, uint8_t *payload, size_t len, uint8_t *out_type,
                   size_t *out_len, wp_err *err)
{
    uint8_t aad[WP_FRAME_HDR_LEN];
    if (WP_MISUSE(len > UINT32_MAX))
        return err_set(err, WP_EPROTO, "record of %zu bytes", len);
    frame_put_header(aad, (uint32_t)len);
    return rec_open_body(k, aad, payload, len, out_type, out_len, err);
}

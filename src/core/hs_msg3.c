/*
 * hs_msg3.c - message 3, FINISH (docs/PROTOCOL.md §4.3): once its
 * application has accepted the responder, the initiator sends, sealed under
 * i_hs: its receive limit, its identity ID_I, its signature over the
 * transcript and its Finished MAC. The initiator's identity never leaves
 * before the responder is authenticated and accepted.
 */
#include "internal.h"
#include "codec/buf.h"
#include "core/conn_int.h"
#include "core/keysched.h"

wp_status hs_initiator_create_msg3(struct conn *c)
{
    uint8_t inner[WP_INNER_LEN];
    uint8_t th[WP_HASH_LEN];
    wp_wbuf w;
    wp_status rc;

    wbuf_init(&w, inner, sizeof inner);
    wbuf_u8(&w, WP_REC_FINISH);
    wbuf_u32(&w, c->my_max_frame);
    wbuf_bytes(&w, c->my_id, WP_PUB_LEN);
    uint8_t *sig = wbuf_reserve(&w, WP_SIG_LEN);
    uint8_t *fin = wbuf_reserve(&w, WP_FIN_LEN);
    if (!wbuf_ok(&w) || !sig || !fin) {
        rc = err_set(&c->err, WP_EINVAL, "msg3 layout");
        goto out;
    }
    /* T6: type, max_frame_I, ID_I -> TH_sigI; Sig_I = Sign(ID_I, ctx_I || 0 || TH_sigI) */
    rc = hs_transcript(c, inner, WP_INNER_HEAD_LEN, th);
    if (rc == WP_OK)
        rc = hs_sign(c, WP_SIG_CTX_INITIATOR, th, sig);
    /* T7: Sig_I -> TH_finI; Fin_I = HMAC(fin_key(i_hs), TH_finI) */
    if (rc == WP_OK)
        rc = hs_transcript(c, sig, WP_SIG_LEN, th);
    if (rc == WP_OK)
        rc = ks_finished(c->hs.i_hs, th, fin, &c->err);
    /* T8: Fin_I closes the transcript */
    if (rc == WP_OK)
        rc = hs_transcript(c, fin, WP_FIN_LEN, NULL);
    /* one record under i_hs, counter 0; then our direction moves to i_ap_0 */
    if (rc == WP_OK)
        rc = conn_seal(c, WP_REC_FINISH, inner + 1, WP_INNER_LEN - 1);
    if (rc == WP_OK)
        rc = rec_key_set(&c->tx, c->alg, c->hs.i_ap, &c->err);
    if (rc != WP_OK)
        goto out;
    c->state = HS_I_WAIT_READY;
out:
    wp_wipe(inner, sizeof inner);
    wp_wipe(th, sizeof th);
    return rc;
}

wp_status hs_responder_consume_msg3(struct conn *c, uint8_t *p, size_t n)
{
    crypto_ec_key *peer_id = NULL;
    uint8_t th[WP_HASH_LEN];
    uint8_t fin[WP_FIN_LEN];
    uint8_t type;
    size_t len;
    wp_rbuf r;

    /* the initiator's one record under i_hs: FINISH, or an alert */
    wp_status rc = rec_open(&c->rx, p, n, &type, &len, &c->err);
    if (rc == WP_EAUTH) {
        rc = err_set(&c->err, WP_EAUTH,
                     "message 3 does not authenticate (tampered, or the external secrets differ)");
        goto out;
    }
    if (rc != WP_OK)
        goto out;
    if (type == WP_REC_ALERT) {
        rc = conn_peer_alert(c, p + 1, len);
        goto out;
    }
    rbuf_init(&r, p, n - WP_TAG_LEN);
    rbuf_skip(&r, 1);
    uint32_t max_frame = rbuf_u32(&r);
    const uint8_t *id = rbuf_ptr(&r, WP_PUB_LEN);
    const uint8_t *sig = rbuf_ptr(&r, WP_SIG_LEN);
    const uint8_t *peer_fin = rbuf_ptr(&r, WP_FIN_LEN);
    if (type != WP_REC_FINISH || !rbuf_done(&r) || !id || !sig || !peer_fin) {
        rc = err_set(&c->err, WP_EPROTO, "message 3: inner type 0x%02x, %zu bytes", type, len);
        goto out;
    }
    if (max_frame < WP_FRAME_MAX_MIN || max_frame > WP_FRAME_MAX_MAX) {
        rc = err_set(&c->err, WP_EPROTO, "initiator max_frame %u out of range", max_frame);
        goto out;
    }
    rc = hs_parse_public(c, id, "initiator identity key", &peer_id);
    if (rc != WP_OK)
        goto out;
    /* T6 -> TH_sigI; verify Sig_I with ID_I */
    rc = hs_transcript(c, p, WP_INNER_HEAD_LEN, th);
    if (rc == WP_OK)
        rc = hs_verify(c, peer_id, WP_SIG_CTX_INITIATOR, th, sig);
    /* T7 -> TH_finI; Fin_I must equal HMAC(fin_key(i_hs), TH_finI) */
    if (rc == WP_OK)
        rc = hs_transcript(c, sig, WP_SIG_LEN, th);
    if (rc == WP_OK)
        rc = ks_finished(c->hs.i_hs, th, fin, &c->err);
    if (rc != WP_OK)
        goto out;
    if (!crypto_ct_eq(fin, peer_fin, WP_FIN_LEN)) {
        rc = err_set(&c->err, WP_EAUTH, "initiator Finished MAC is wrong");
        goto out;
    }
    /* T8; the initiator now sends under i_ap_0 */
    rc = hs_transcript(c, peer_fin, WP_FIN_LEN, NULL);
    if (rc == WP_OK)
        rc = rec_key_set(&c->rx, c->alg, c->hs.i_ap, &c->err);
    if (rc != WP_OK)
        goto out;
    memcpy(c->peer_id, id, WP_PUB_LEN);
    c->peer_max_frame = max_frame;
    rc = hs_peer_verified(c, HS_R_WAIT_TRUST);
out:
    crypto_ec_free(peer_id);
    wp_wipe(th, sizeof th);
    wp_wipe(fin, sizeof fin);
    return rc;
}

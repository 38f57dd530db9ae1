/*
 * hs_msg2.c - message 2, RESPONSE (docs/PROTOCOL.md §4.2): the responder's
 * choice, random and ephemeral key E_R in the clear, then, sealed under the
 * responder handshake key r_hs: its receive limit, its identity ID_R, its
 * signature over the transcript and its Finished MAC.
 */
#include "internal.h"
#include "codec/buf.h"
#include "core/conn_int.h"
#include "core/keysched.h"

static const uint8_t k_magic[WP_MAGIC_LEN] = WP_MAGIC_BYTES;

wp_status hs_responder_create_msg2(struct conn *c, const crypto_ec_key *peer_eph)
{
    uint8_t buf[WP_FRAME_HDR_LEN + WP_MSG2_LEN];
    uint8_t random[WP_RANDOM_LEN];
    uint8_t pub[WP_PUB_LEN];
    uint8_t th[WP_HASH_LEN];
    wp_wbuf w;
    wp_status rc;

    /* random_R, then e_R from the rng */
    rc = hs_new_ephemeral(c, random, pub);
    if (rc != WP_OK)
        goto out;
    wbuf_init(&w, buf, sizeof buf);
    wbuf_u32(&w, WP_MSG2_LEN);
    wbuf_bytes(&w, k_magic, sizeof k_magic);
    wbuf_u8(&w, WP_MSG_RESPONSE);
    wbuf_u16(&w, c->version);
    wbuf_u16(&w, c->suite);
    wbuf_bytes(&w, random, sizeof random);
    wbuf_bytes(&w, pub, sizeof pub);
    /* inner plaintext, sealed in place below: type || max_frame_R || ID_R || Sig_R || Fin_R */
    size_t inner = w.len;
    wbuf_u8(&w, WP_REC_RESPONSE);
    wbuf_u32(&w, c->my_max_frame);
    wbuf_bytes(&w, c->my_id, WP_PUB_LEN);
    uint8_t *sig = wbuf_reserve(&w, WP_SIG_LEN);
    uint8_t *fin = wbuf_reserve(&w, WP_FIN_LEN);
    uint8_t *tag = wbuf_reserve(&w, WP_TAG_LEN);
    if (!wbuf_ok(&w) || !sig || !fin || !tag || w.len != sizeof buf) {
        rc = err_set(&c->err, WP_EINVAL, "msg2 layout");
        goto out;
    }
    /* T2: the clear part of msg2 -> TH_2 */
    rc = hs_transcript(c, buf + WP_FRAME_HDR_LEN, WP_MSG2_HDR_LEN, th);
    if (rc != WP_OK)
        goto out;
    /* ee: dh = ECDH(e_R, E_I); hs, i_hs, r_hs */
    rc = hs_derive_handshake(c, peer_eph, th);
    if (rc != WP_OK)
        goto out;
    /* T3: type, max_frame_R, ID_R -> TH_sigR; Sig_R = Sign(ID_R, ctx_R || 0 || TH_sigR) */
    rc = hs_transcript(c, buf + inner, WP_INNER_HEAD_LEN, th);
    if (rc == WP_OK)
        rc = hs_sign(c, WP_SIG_CTX_RESPONDER, th, sig);
    /* T4: Sig_R -> TH_finR; Fin_R = HMAC(fin_key(r_hs), TH_finR) */
    if (rc == WP_OK)
        rc = hs_transcript(c, sig, WP_SIG_LEN, th);
    if (rc == WP_OK)
        rc = ks_finished(c->hs.r_hs, th, fin, &c->err);
    /* T5: Fin_R -> TH_3: master, application secrets, exporter */
    if (rc == WP_OK)
        rc = hs_transcript(c, fin, WP_FIN_LEN, th);
    if (rc == WP_OK)
        rc = hs_derive_master(c, th);
    if (rc != WP_OK)
        goto out;
    /* seal the inner part under r_hs, counter 0, AAD = this frame's length bytes */
    rc = rec_key_set(&c->tx, c->alg, c->hs.r_hs, &c->err);
    if (rc == WP_OK)
        rc = rec_seal_body(&c->tx, buf, WP_REC_RESPONSE, buf + inner + 1, WP_INNER_LEN - 1,
                           buf + inner, &c->err);
    /* from now on: we send under r_ap_0, and expect msg3 under i_hs */
    if (rc == WP_OK)
        rc = rec_key_set(&c->tx, c->alg, c->hs.r_ap, &c->err);
    if (rc == WP_OK)
        rc = rec_key_set(&c->rx, c->alg, c->hs.i_hs, &c->err);
    if (rc != WP_OK)
        goto out;
    uint8_t *o = conn_out_reserve(c, sizeof buf);
    if (!o) {
        rc = c->err.code;
        goto out;
    }
    memcpy(o, buf, sizeof buf);
    c->state = HS_R_WAIT_MSG3;
out:
    wp_wipe(buf, sizeof buf);
    wp_wipe(random, sizeof random);
    wp_wipe(th, sizeof th);
    return rc;
}

/* §4.4: a clear alert in place of msg2. */
static wp_status clear_alert(struct conn *c, wp_rbuf *r, size_t n)
{
    uint8_t code = rbuf_u8(r);
    c->peer_alerted = true;
    if (n != WP_CLEAR_ALERT_LEN || !rbuf_done(r))
        return err_set(&c->err, WP_EPROTO, "clear alert of %zu bytes", n);
    if (code == WP_ALERT_NO_COMMON_VERSION)
        return err_set(&c->err, WP_EVERSION,
                       "responder shares no protocol version or cipher suite with us "
                       "(unauthenticated alert)");
    if (code == WP_ALERT_ABORT)
        return err_set(&c->err, WP_ECLOSED,
                       "responder aborted the handshake (unauthenticated alert; the reason is "
                       "in its log)");
    return err_set(&c->err, WP_EPROTO, "clear alert with unknown code 0x%02x", code);
}

static bool offered(const struct conn *c, uint16_t suite)
{
    for (size_t i = 0; i < c->hs.n_offered; i++)
        if (c->hs.offered_suites[i] == suite)
            return true;
    return false;
}

wp_status hs_initiator_consume_msg2(struct conn *c, uint8_t *p, size_t n)
{
    wp_rbuf r;
    wp_status rc;
    crypto_ec_key *peer_eph = NULL;
    crypto_ec_key *peer_id = NULL;
    uint8_t th[WP_HASH_LEN];
    uint8_t fin[WP_FIN_LEN];
    uint8_t aad[WP_FRAME_HDR_LEN];

    rbuf_init(&r, p, n);
    const uint8_t *magic = rbuf_ptr(&r, WP_MAGIC_LEN);
    uint8_t type = rbuf_u8(&r);
    if (!magic || !crypto_ct_eq(magic, k_magic, WP_MAGIC_LEN)) {
        rc = err_set(&c->err, WP_EPROTO, "message 2 without the magic");
        goto out;
    }
    if (type == WP_MSG_ALERT) {
        rc = clear_alert(c, &r, n);
        goto out;
    }
    if (type != WP_MSG_RESPONSE || n != WP_MSG2_LEN) {
        rc = err_set(&c->err, WP_EPROTO, "message 2: type 0x%02x, %zu bytes (expected 0x%02x, %d)",
                     type, n, WP_MSG_RESPONSE, WP_MSG2_LEN);
        goto out;
    }
    uint16_t version = rbuf_u16(&r);
    uint16_t suite = rbuf_u16(&r);
    rbuf_skip(&r, WP_RANDOM_LEN);
    const uint8_t *e_r = rbuf_ptr(&r, WP_PUB_LEN);
    uint8_t *enc = p + WP_MSG2_HDR_LEN;
    if (!e_r || rbuf_remaining(&r) != WP_INNER_ENC_LEN) {
        rc = err_set(&c->err, WP_EPROTO, "message 2 layout");
        goto out;
    }
    if (version != WP_PROTO_VERSION_1 || !offered(c, suite)) {
        rc = err_set(&c->err, WP_EVERSION,
                     "responder chose version 0x%04x suite 0x%04x, which we did not offer",
                     version, suite);
        goto out;
    }
    rc = hs_parse_public(c, e_r, "responder ephemeral key", &peer_eph);
    if (rc != WP_OK)
        goto out;
    c->version = version;
    c->suite = suite;
    c->alg = conn_suite_alg(suite);
    /* T2: the clear part -> TH_2; ee: dh = ECDH(e_I, E_R); hs, i_hs, r_hs */
    rc = hs_transcript(c, p, WP_MSG2_HDR_LEN, th);
    if (rc == WP_OK)
        rc = hs_derive_handshake(c, peer_eph, th);
    /* we may now answer with a sealed alert under i_hs; msg2's inner part is under r_hs */
    if (rc == WP_OK)
        rc = rec_key_set(&c->tx, c->alg, c->hs.i_hs, &c->err);
    if (rc == WP_OK)
        rc = rec_key_set(&c->rx, c->alg, c->hs.r_hs, &c->err);
    if (rc != WP_OK)
        goto out;
    frame_put_header(aad, (uint32_t)n);
    uint8_t itype;
    size_t ilen;
    rc = rec_open_body(&c->rx, aad, enc, WP_INNER_ENC_LEN, &itype, &ilen, &c->err);
    if (rc == WP_EAUTH) {
        rc = err_set(&c->err, WP_EAUTH,
                     "message 2 does not authenticate (tampered, or the external secrets differ)");
        goto out;
    }
    if (rc != WP_OK)
        goto out;
    wp_rbuf in;
    rbuf_init(&in, enc, WP_INNER_LEN);
    rbuf_skip(&in, 1);
    uint32_t max_frame = rbuf_u32(&in);
    const uint8_t *id = rbuf_ptr(&in, WP_PUB_LEN);
    const uint8_t *sig = rbuf_ptr(&in, WP_SIG_LEN);
    const uint8_t *peer_fin = rbuf_ptr(&in, WP_FIN_LEN);
    if (itype != WP_REC_RESPONSE || !rbuf_done(&in) || !id || !sig || !peer_fin) {
        rc = err_set(&c->err, WP_EPROTO, "message 2 inner type 0x%02x", itype);
        goto out;
    }
    if (max_frame < WP_FRAME_MAX_MIN || max_frame > WP_FRAME_MAX_MAX) {
        rc = err_set(&c->err, WP_EPROTO, "responder max_frame %u out of range", max_frame);
        goto out;
    }
    rc = hs_parse_public(c, id, "responder identity key", &peer_id);
    if (rc != WP_OK)
        goto out;
    /* T3 -> TH_sigR; verify Sig_R with ID_R */
    rc = hs_transcript(c, enc, WP_INNER_HEAD_LEN, th);
    if (rc == WP_OK)
        rc = hs_verify(c, peer_id, WP_SIG_CTX_RESPONDER, th, sig);
    /* T4 -> TH_finR; Fin_R must equal HMAC(fin_key(r_hs), TH_finR) */
    if (rc == WP_OK)
        rc = hs_transcript(c, sig, WP_SIG_LEN, th);
    if (rc == WP_OK)
        rc = ks_finished(c->hs.r_hs, th, fin, &c->err);
    if (rc != WP_OK)
        goto out;
    if (!crypto_ct_eq(fin, peer_fin, WP_FIN_LEN)) {
        rc = err_set(&c->err, WP_EAUTH, "responder Finished MAC is wrong");
        goto out;
    }
    /* T5 -> TH_3: master, application secrets, exporter; the responder now sends under r_ap */
    rc = hs_transcript(c, peer_fin, WP_FIN_LEN, th);
    if (rc == WP_OK)
        rc = hs_derive_master(c, th);
    if (rc == WP_OK)
        rc = rec_key_set(&c->rx, c->alg, c->hs.r_ap, &c->err);
    if (rc != WP_OK)
        goto out;
    memcpy(c->peer_id, id, WP_PUB_LEN);
    c->peer_max_frame = max_frame;
    rc = hs_peer_verified(c, HS_I_WAIT_TRUST);
out:
    crypto_ec_free(peer_eph);
    crypto_ec_free(peer_id);
    wp_wipe(th, sizeof th);
    wp_wipe(fin, sizeof fin);
    return rc;
}

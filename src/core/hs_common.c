/*
 * hs_common.c - what every handshake message uses: the transcript helper,
 * ephemeral keys, the ECDH + key-schedule steps, signatures and the
 * expected-peer check (docs/PROTOCOL.md §2, §4.5, §5).
 */
#include "internal.h"
#include "core/conn_int.h"
#include "core/keysched.h"

wp_status hs_transcript(struct conn *c, const uint8_t *p, size_t n, uint8_t out_th[WP_HASH_LEN])
{
    wp_status rc = crypto_hash_update(c->hs.th, p, n, &c->err);
    if (rc == WP_OK && out_th)
        rc = crypto_hash_peek(c->hs.th, out_th, &c->err);
    return rc;
}

wp_status hs_new_ephemeral(struct conn *c, uint8_t out_random[WP_RANDOM_LEN],
                           uint8_t out_pub[WP_PUB_LEN])
{
    uint8_t scalar[WP_SCALAR_LEN];
    wp_status rc = c->rng(c->rng_user, out_random, WP_RANDOM_LEN);
    if (rc != WP_OK) {
        err_set(&c->err, rc, "random source failed");
        goto out;
    }
    /* e = 32 random bytes as a big-endian scalar, redrawn while not in [1, n-1] (§2) */
    rc = WP_EINVAL;
    for (int i = 0; i < WP_SCALAR_TRIES && rc == WP_EINVAL; i++) {
        rc = c->rng(c->rng_user, scalar, sizeof scalar);
        if (rc != WP_OK) {
            err_set(&c->err, rc, "random source failed");
            goto out;
        }
        rc = crypto_ec_from_scalar(scalar, &c->hs.eph, &c->err);
    }
    if (rc == WP_EINVAL)
        rc = err_set(&c->err, WP_ECRYPTO, "no valid ephemeral scalar in %d draws",
                     WP_SCALAR_TRIES);
    if (rc != WP_OK)
        goto out;
    rc = crypto_ec_public(c->hs.eph, out_pub, &c->err);
out:
    wp_wipe(scalar, sizeof scalar);
    return rc;
}

wp_status hs_derive_handshake(struct conn *c, const crypto_ec_key *peer,
                              const uint8_t th2[WP_HASH_LEN])
{
    uint8_t dh[CRYPTO_ECDH_LEN];
    /* ee: dh = ECDH(e, E_peer), the only Diffie-Hellman of the handshake */
    wp_status rc = crypto_ecdh(c->hs.eph, peer, dh, &c->err);
    if (rc != WP_OK)
        goto out;
    rc = ks_early(c->psk_len ? c->psk : NULL, c->psk_len, c->hs.early, &c->err);
    if (rc != WP_OK)
        goto out;
    rc = ks_handshake(c->hs.early, dh, th2, c->hs.hs_secret, c->hs.i_hs, c->hs.r_hs, &c->err);
    if (rc != WP_OK)
        goto out;
    conn_keylog(c, "dh", dh, sizeof dh);
    conn_keylog(c, "th2", th2, WP_HASH_LEN);
    conn_keylog(c, "early", c->hs.early, WP_HASH_LEN);
    conn_keylog(c, "hs", c->hs.hs_secret, WP_HASH_LEN);
    conn_keylog(c, "i_hs", c->hs.i_hs, WP_HASH_LEN);
    conn_keylog(c, "r_hs", c->hs.r_hs, WP_HASH_LEN);
    /* our ephemeral has done its job: forward secrecy starts here */
    crypto_ec_free(c->hs.eph);
    c->hs.eph = NULL;
out:
    wp_wipe(dh, sizeof dh);
    return rc;
}

wp_status hs_parse_public(struct conn *c, const uint8_t *pub, const char *what,
                          crypto_ec_key **out)
{
    wp_status rc = crypto_ec_from_public(pub, WP_PUB_LEN, out, &c->err);
    if (rc == WP_EPROTO)
        err_set(&c->err, WP_EPROTO, "%s is not a valid P-256 point", what);
    else if (rc != WP_OK)
        err_set(&c->err, rc, "%s: %s", what, wp_strerror(rc));
    return rc;
}

wp_status hs_derive_master(struct conn *c, const uint8_t th3[WP_HASH_LEN])
{
    uint8_t master[WP_HASH_LEN];
    wp_status rc = ks_master(c->hs.hs_secret, th3, master, c->hs.i_ap, c->hs.r_ap, c->exp,
                             &c->err);
    if (rc != WP_OK)
        goto out;
    c->has_exp = true;
    conn_keylog(c, "th3", th3, WP_HASH_LEN);
    conn_keylog(c, "master", master, sizeof master);
    conn_keylog(c, "i_ap_0", c->hs.i_ap, WP_HASH_LEN);
    conn_keylog(c, "r_ap_0", c->hs.r_ap, WP_HASH_LEN);
    conn_keylog(c, "exp", c->exp, WP_HASH_LEN);
out:
    wp_wipe(master, sizeof master);
    return rc;
}

/* ctx || 0x00 || th: the signed message (§4.2, §4.3). */
static size_t sig_input(const char *ctx, const uint8_t th[WP_HASH_LEN], uint8_t out[96])
{
    size_t n = strlen(ctx);
    memcpy(out, ctx, n);
    out[n] = 0x00;
    memcpy(out + n + 1, th, WP_HASH_LEN);
    return n + 1 + WP_HASH_LEN;
}

wp_status hs_sign(struct conn *c, const char *ctx, const uint8_t th[WP_HASH_LEN],
                  uint8_t out_sig[WP_SIG_LEN])
{
    uint8_t msg[96];
    size_t n = sig_input(ctx, th, msg);
    wp_status rc;
    if (c->sign) {
        rc = c->sign(c->sign_user, msg, n, out_sig);
        if (rc != WP_OK)
            err_set(&c->err, rc, "signing hook failed");
    } else {
        rc = crypto_ecdsa_sign(c->identity, msg, n, out_sig, &c->err);
    }
    return rc;
}

wp_status hs_verify(struct conn *c, const crypto_ec_key *peer, const char *ctx,
                    const uint8_t th[WP_HASH_LEN], const uint8_t *sig)
{
    uint8_t msg[96];
    size_t n = sig_input(ctx, th, msg);
    wp_status rc = crypto_ecdsa_verify(peer, msg, n, sig, WP_SIG_LEN, &c->err);
    if (rc == WP_EAUTH)
        err_set(&c->err, WP_EAUTH, "%s signature does not verify",
                c->is_initiator ? "responder" : "initiator");
    return rc;
}

wp_status hs_peer_verified(struct conn *c, enum hs_state next)
{
    struct conn_event ev;
    /*
     * Reflection (§4.5): our own key on the other side is a handshake bounced
     * back to us (another engine of ours answering: a redirected connection,
     * or discovery finding our own service) or a cloned identity. Never a
     * peer to trust.
     */
    if (crypto_ct_eq(c->my_id, c->peer_id, WP_PUB_LEN))
        return err_set(&c->err, WP_EIDENTITY,
                       "%s presents our own identity (a reflected handshake, a connection to "
                       "ourselves, or a cloned key)",
                       c->is_initiator ? "responder" : "initiator");
    if (c->has_expected && !crypto_ct_eq(c->expected, c->peer_id, WP_PUB_LEN))
        return err_set(&c->err, WP_EIDENTITY,
                       "%s identity is not the expected one (its signature is valid)",
                       c->is_initiator ? "responder" : "initiator");
    c->has_peer_id = true;
    c->state = next;
    memset(&ev, 0, sizeof ev);
    ev.type = CONN_EV_PEER_IDENTITY;
    memcpy(ev.peer_pub, c->peer_id, WP_PUB_LEN);
    ev.suite = c->suite;
    conn_push_event(c, &ev);
    return WP_OK;
}

void hs_clear(struct hs *h)
{
    crypto_hash_free(h->th);
    crypto_ec_free(h->eph);
    wp_wipe(h, sizeof *h);
    h->th = NULL;
    h->eph = NULL;
}

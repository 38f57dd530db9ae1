/*
 * hs_msg1.c - message 1, HELLO (docs/PROTOCOL.md §4.1): the initiator
 * offers versions and suites, a random and its ephemeral key E_I, in the
 * clear. The responder chooses and answers with message 2.
 */
#include "internal.h"
#include "codec/buf.h"
#include "core/conn_int.h"

static const uint8_t k_magic[WP_MAGIC_LEN] = WP_MAGIC_BYTES;

/* Our suites in preference order: AES-256-GCM, then ChaCha20-Poly1305. */
static const uint16_t k_suite_pref[] = {WP_SUITE_AES256GCM, WP_SUITE_CHACHA20};

wp_status hs_initiator_create_msg1(struct conn *c)
{
    uint8_t buf[WP_FRAME_HDR_LEN + WP_MSG1_MIN_LEN + 2 * WP_MAX_SUITES];
    uint8_t random[WP_RANDOM_LEN];
    uint8_t pub[WP_PUB_LEN];
    wp_wbuf w;
    wp_status rc;

    /* random_I, then e_I from the rng (the order the vectors rely on) */
    rc = hs_new_ephemeral(c, random, pub);
    if (rc != WP_OK)
        goto out;
    c->hs.n_offered = 0;
    for (size_t i = 0; i < WP_ARRAY_LEN(k_suite_pref); i++)
        if (conn_suite_enabled(c, k_suite_pref[i]))
            c->hs.offered_suites[c->hs.n_offered++] = k_suite_pref[i];

    wbuf_init(&w, buf, sizeof buf);
    wbuf_u32(&w, 0); /* frame length, patched below */
    wbuf_bytes(&w, k_magic, sizeof k_magic);
    wbuf_u8(&w, WP_MSG_HELLO);
    wbuf_u8(&w, 1);
    wbuf_u16(&w, WP_PROTO_VERSION_1);
    wbuf_u8(&w, (uint8_t)c->hs.n_offered);
    for (size_t i = 0; i < c->hs.n_offered; i++)
        wbuf_u16(&w, c->hs.offered_suites[i]);
    wbuf_bytes(&w, random, sizeof random);
    wbuf_bytes(&w, pub, sizeof pub);
    wbuf_u16(&w, 0); /* ext_len: no extensions in v1 */
    wbuf_put_u32_at(&w, 0, (uint32_t)(w.len - WP_FRAME_HDR_LEN));
    if (!wbuf_ok(&w)) {
        rc = err_set(&c->err, WP_EINVAL, "msg1 does not fit");
        goto out;
    }
    /* T1: the whole msg1 payload */
    rc = hs_transcript(c, buf + WP_FRAME_HDR_LEN, w.len - WP_FRAME_HDR_LEN, NULL);
    if (rc != WP_OK)
        goto out;
    uint8_t *o = conn_out_reserve(c, w.len);
    if (!o) {
        rc = c->err.code;
        goto out;
    }
    memcpy(o, buf, w.len);
    c->state = HS_I_WAIT_MSG2;
out:
    wp_wipe(random, sizeof random);
    return rc;
}

wp_status hs_responder_consume_msg1(struct conn *c, const uint8_t *p, size_t n)
{
    wp_rbuf r;
    wp_status rc;
    crypto_ec_key *peer_eph = NULL;
    uint16_t version = 0, suite = 0;
    uint16_t first_suite = 0;

    rbuf_init(&r, p, n);
    const uint8_t *magic = rbuf_ptr(&r, WP_MAGIC_LEN);
    uint8_t type = rbuf_u8(&r);
    if (!magic || !crypto_ct_eq(magic, k_magic, WP_MAGIC_LEN) || type != WP_MSG_HELLO) {
        rc = err_set(&c->err, WP_EPROTO, "first message is not a HELLO (type 0x%02x)", type);
        goto out;
    }
    uint8_t nv = rbuf_u8(&r);
    if (nv < 1 || nv > WP_MAX_VERSIONS) {
        rc = err_set(&c->err, WP_EPROTO, "HELLO offers %u versions (1..%d)", nv,
                     WP_MAX_VERSIONS);
        goto out;
    }
    uint16_t first_version = 0;
    for (unsigned i = 0; i < nv; i++) {
        uint16_t v = rbuf_u16(&r);
        if (i == 0)
            first_version = v;
        if (version == 0 && v == WP_PROTO_VERSION_1)
            version = v;
    }
    uint8_t ns = rbuf_u8(&r);
    if (ns < 1 || ns > WP_MAX_SUITES) {
        rc = err_set(&c->err, WP_EPROTO, "HELLO offers %u suites (1..%d)", ns, WP_MAX_SUITES);
        goto out;
    }
    /* the first suite in the initiator's order that we have enabled (§4.1) */
    for (unsigned i = 0; i < ns; i++) {
        uint16_t s = rbuf_u16(&r);
        if (i == 0)
            first_suite = s;
        if (suite == 0 && conn_suite_enabled(c, s))
            suite = s;
    }
    const uint8_t *random = rbuf_ptr(&r, WP_RANDOM_LEN);
    const uint8_t *e_i = rbuf_ptr(&r, WP_PUB_LEN);
    uint16_t ext_len = rbuf_u16(&r);
    rbuf_skip(&r, ext_len); /* reserved for later versions; hashed, not interpreted */
    if (!rbuf_ok(&r) || !random || !e_i) {
        rc = err_set(&c->err, WP_EPROTO, "HELLO truncated (%zu bytes)", n);
        goto out;
    }
    if (!rbuf_done(&r)) {
        rc = err_set(&c->err, WP_EPROTO, "HELLO has %zu trailing bytes", rbuf_remaining(&r));
        goto out;
    }
    if (version == 0) {
        rc = err_set(&c->err, WP_EVERSION,
                     "initiator offers %u protocol version(s) (first 0x%04x), none is ours (0x%04x)",
                     nv, first_version, WP_PROTO_VERSION_1);
        goto out;
    }
    if (suite == 0) {
        rc = err_set(&c->err, WP_EVERSION,
                     "no common cipher suite: initiator offers %u (first 0x%04x), we enable mask "
                     "0x%x",
                     ns, first_suite, c->suites);
        goto out;
    }
    rc = hs_parse_public(c, e_i, "initiator ephemeral key", &peer_eph);
    if (rc != WP_OK)
        goto out;
    c->version = version;
    c->suite = suite;
    c->alg = conn_suite_alg(suite);
    /* T1: the whole msg1 payload */
    rc = hs_transcript(c, p, n, NULL);
    if (rc != WP_OK)
        goto out;
    rc = hs_responder_create_msg2(c, peer_eph);
out:
    crypto_ec_free(peer_eph);
    return rc;
}

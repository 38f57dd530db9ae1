/*
 * fuzz_hs_initiator_msg2.c - hs_initiator_consume_msg2 through a fresh
 * initiator with fixed randomness. Byte 0 picks the mode:
 *   0: the rest is the msg2 payload (one frame);
 *   1: the rest is the inner plaintext (type || max_frame || ID_R || Sig_R
 *      || Fin_R), sealed under the real r_hs after the real clear header of
 *      a responder's msg2, so the parser behind the AEAD is reached;
 *   2: the rest is a raw stream.
 */
#include "fuzz_util.h"

static uint8_t g_msg2[4 + WP_MSG2_LEN];
static struct fz_keys g_keys;
static bool g_ready;

/* One real responder answer to our fixed msg1, computed once. */
static void prepare(void)
{
    struct peer i, r;
    size_t n1, n2;
    fz_peer(&i, true, NULL);
    fz_peer(&r, false, &g_keys);
    uint8_t *m1 = fz_take(&i, &n1);
    fz_feed(&r, m1, n1);
    uint8_t *m2 = fz_take(&r, &n2);
    if (n2 != sizeof g_msg2)
        abort();
    memcpy(g_msg2, m2, n2);
    free(m1);
    free(m2);
    peer_free(&i);
    peer_free(&r);
    g_ready = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct peer i;
    if (size < 1 || size > 8192)
        return 0;
    if (!g_ready)
        prepare();
    fz_peer(&i, true, NULL);
    size_t n;
    free(fz_take(&i, &n));
    uint8_t mode = data[0] % 3;
    data++;
    size--;
    if (mode == 0) {
        fz_feed_frame(&i, data, size);
    } else if (mode == 2) {
        fz_feed(&i, data, size);
    } else if (size > 0) {
        size_t body = size + WP_TAG_LEN;
        size_t flen = 4 + WP_MSG2_HDR_LEN + body;
        uint8_t *f = malloc(flen);
        struct rec_key k;
        wp_err err;
        if (!f)
            abort();
        be32_store(f, (uint32_t)(flen - 4));
        memcpy(f + 4, g_msg2 + 4, WP_MSG2_HDR_LEN);
        memset(&k, 0, sizeof k);
        if (rec_key_set(&k, CRYPTO_AEAD_AES_256_GCM, g_keys.r_hs, &err) != WP_OK ||
            rec_seal_body(&k, f, data[0], data + 1, size - 1, f + 4 + WP_MSG2_HDR_LEN, &err) !=
                WP_OK)
            abort();
        rec_key_clear(&k);
        fz_feed(&i, f, flen);
        free(f);
    }
    peer_free(&i);
    return 0;
}

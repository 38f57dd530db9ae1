/*
 * fuzz_hs_responder_msg3.c - hs_responder_consume_msg3 through a fresh
 * responder that has answered a fixed msg1. Byte 0 picks the mode:
 *   0: the rest is the msg3 frame payload;
 *   1: the rest is the inner plaintext (type || max_frame || ID_I || Sig_I
 *      || Fin_I, or an alert), sealed under this run's real i_hs.
 */
#include "fuzz_util.h"

static uint8_t *g_msg1;
static size_t g_msg1_len;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct peer r;
    struct fz_keys keys;
    size_t n;
    if (size < 1 || size > 8192)
        return 0;
    if (!g_msg1) {
        struct peer i;
        fz_peer(&i, true, NULL);
        g_msg1 = fz_take(&i, &g_msg1_len);
        peer_free(&i);
    }
    fz_peer(&r, false, &keys);
    fz_feed(&r, g_msg1, g_msg1_len);
    free(fz_take(&r, &n)); /* msg2 */
    if (data[0] & 1)
        fz_feed_sealed(&r, CRYPTO_AEAD_AES_256_GCM, keys.i_hs, data + 1, size - 1);
    else
        fz_feed_frame(&r, data + 1, size - 1);
    peer_free(&r);
    return 0;
}

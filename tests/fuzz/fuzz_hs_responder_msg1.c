/*
 * fuzz_hs_responder_msg1.c - hs_responder_consume_msg1 (and the first-frame
 * rule) through a fresh responder. Byte 0: bit 0 set = the rest is a raw
 * stream; clear = the rest is one frame payload (its length is added).
 */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct peer r;
    if (size < 1)
        return 0;
    fz_peer(&r, false, NULL);
    if (data[0] & 1)
        fz_feed(&r, data + 1, size - 1);
    else
        fz_feed_frame(&r, data + 1, size - 1);
    peer_free(&r);
    return 0;
}

/*
 * fuzz_frame.c - the incremental frame decoder (src/core/frame.c).
 * Input: byte 0 picks the limit, the first-frame rule and the feed chunk
 * size; byte 1 scales the limit; the rest is the stream.
 */
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"
#include "core/frame.h"
#include "core/protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct frame_dec d;
    wp_err err;
    if (size < 2)
        return 0;
    uint32_t limit = (data[0] & 1) ? WP_FRAME_MAX_HS : 16u + 64u * data[1];
    size_t chunk = (size_t)(data[0] >> 2) + 1;
    frame_dec_init(&d, limit, (data[0] & 2) != 0);
    data += 2;
    size -= 2;
    while (size) {
        size_t n = size < chunk ? size : chunk, used = 0;
        wp_status st = frame_dec_feed(&d, data, n, &used, &err);
        if (used > n || (st == WP_AGAIN && used == 0))
            abort();
        data += used;
        size -= used;
        if (st == WP_OK) {
            size_t plen;
            uint8_t *p = frame_dec_payload(&d, &plen);
            if (!p || plen == 0 || plen > limit)
                abort();
            p[plen - 1] ^= 1; /* the whole payload is ours to write (records open in place) */
            frame_dec_next(&d);
        } else if (st != WP_AGAIN) {
            if (err.code != st || err.detail[0] == '\0')
                abort();
            break;
        }
    }
    frame_dec_clear(&d);
    return 0;
}

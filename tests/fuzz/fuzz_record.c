/*
 * fuzz_record.c - the record layer and its dispatch (READY, DATA,
 * KEY_UPDATE, ALERT, unknown types, wrong lengths) between two engines that
 * have completed a real handshake. Byte 0: bit 0 picks the receiver
 * (initiator or responder); bit 1 set = the rest is a raw stream; clear =
 * the rest is a list of (type u8, length u8, content) records, each sealed
 * with the sender's real key and counter, then end of stream.
 */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pair pr;
    if (size < 1 || size > 16384)
        return 0;
    pair_init(&pr, "fuzz record");
    if (!pair_handshake(&pr))
        abort();
    struct peer *rx = (data[0] & 1) ? &pr.a : &pr.b;
    struct peer *tx = (data[0] & 1) ? &pr.b : &pr.a;
    bool raw = (data[0] & 2) != 0;
    data++;
    size--;
    if (raw) {
        fz_feed(rx, data, size);
    } else {
        wp_rbuf r;
        uint8_t frame[4 + 1 + 255 + 16];
        wp_err err;
        rbuf_init(&r, data, size);
        while (rbuf_remaining(&r) >= 2 && !rx->closed) {
            uint8_t type = rbuf_u8(&r);
            size_t want = rbuf_u8(&r);
            size_t len = WP_MIN(want, rbuf_remaining(&r));
            const uint8_t *content = rbuf_ptr(&r, len);
            if (rec_seal(&tx->c->tx, type, content, len, frame, &err) != WP_OK)
                break;
            /* a sender that announces a key update moves to its next key */
            if (type == WP_REC_KEY_UPDATE && len == 0 &&
                rec_key_update(&tx->c->tx, &err) != WP_OK)
                abort();
            fz_feed(rx, frame, rec_frame_len(len));
        }
    }
    if (!rx->closed) {
        wp_status st = conn_input_eof(rx->c);
        peer_events(rx);
        if (st != WP_OK && (!rx->closed || rx->close_reason != st))
            abort();
    }
    pair_free(&pr);
    return 0;
}

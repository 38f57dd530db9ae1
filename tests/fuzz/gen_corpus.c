/*
 * gen_corpus.c - writes the seed corpora of the core fuzz targets
 * (tests/fuzz/corpus/<name>/seed-NN) from real messages of real engines
 * plus a few hand-made variants. Run it only to refresh the seeds:
 *     build/tests/fuzz/gen_corpus tests/fuzz/corpus
 */
#include <stdio.h>

#include "fuzz_util.h"

static const char *g_root;
static int g_seq;

static void put(const char *target, uint8_t mode, const uint8_t *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/seed-%02d", g_root, target, g_seq++);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    if (fwrite(&mode, 1, 1, f) != 1 || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0)
        exit(1);
}

static void put2(const char *target, uint8_t b0, uint8_t b1, const uint8_t *p, size_t n)
{
    uint8_t *q = malloc(n + 1);
    if (!q)
        exit(1);
    q[0] = b1;
    memcpy(q + 1, p, n);
    put(target, b0, q, n + 1);
    free(q);
}

/* Open a sealed body with a fresh key from secret (counter 0) into out. */
static size_t unseal(const uint8_t secret[32], const uint8_t aad[4], const uint8_t *body,
                     size_t n, uint8_t *out)
{
    struct rec_key k;
    uint8_t type;
    size_t len;
    wp_err err;
    memcpy(out, body, n);
    memset(&k, 0, sizeof k);
    if (rec_key_set(&k, CRYPTO_AEAD_AES_256_GCM, secret, &err) != WP_OK ||
        rec_open_body(&k, aad, out, n, &type, &len, &err) != WP_OK)
        exit(1);
    rec_key_clear(&k);
    return len + 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_corpus CORPUS_ROOT\n");
        return 2;
    }
    g_root = argv[1];
    struct fz_keys keys;
    struct peer i, r;
    size_t n1, n2, n3, n4;
    fz_peer(&i, true, &keys);
    fz_peer(&r, false, &keys);
    uint8_t *m1 = fz_take(&i, &n1);
    fz_feed(&r, m1, n1);
    uint8_t *m2 = fz_take(&r, &n2);
    fz_feed(&i, m2, n2);
    uint8_t *m3 = fz_take(&i, &n3);
    fz_feed(&r, m3, n3);
    uint8_t *m4 = fz_take(&r, &n4);
    fz_feed(&i, m4, n4);
    if (n2 != 4 + WP_MSG2_LEN || n3 != 4 + WP_MSG3_LEN || !i.authenticated) {
        fprintf(stderr, "gen_corpus: the handshake did not complete\n");
        return 1;
    }
    uint8_t inner2[WP_INNER_LEN], inner3[WP_INNER_LEN];
    unseal(keys.r_hs, m2, m2 + 4 + WP_MSG2_HDR_LEN, WP_INNER_ENC_LEN, inner2);
    unseal(keys.i_hs, m3, m3 + 4, WP_MSG3_LEN, inner3);

    /* frame: stream configurations */
    static const uint8_t json[] = "\x00\x00\x00\x0b{\"a\":\"b\"}..";
    static const uint8_t text[] = "GET / HTTP/1.1\r\n\r\n";
    static const uint8_t big[] = {0xff, 0xff, 0xff, 0xff, 1, 2, 3};
    static const uint8_t zero[] = {0, 0, 0, 0, 0, 0, 0, 1, 9};
    static const uint8_t three[] = {0, 0, 0, 1, 'a', 0, 0, 0, 2, 'b', 'c', 0, 0, 0, 3, 'd', 'e', 'f'};
    g_seq = 0;
    put2("frame", 0x03, 0, m1, n1);
    put2("frame", 0x03 | (7 << 2), 0, m2, n2);
    put2("frame", 0x01 | (63 << 2), 0, m3, n3);
    put2("frame", 0x00 | (2 << 2), 0x10, three, sizeof three);
    put2("frame", 0x03, 0, json, sizeof json - 1);
    put2("frame", 0x03, 0, text, sizeof text - 1);
    put2("frame", 0x01, 0, big, sizeof big);
    put2("frame", 0x00, 1, zero, sizeof zero);

    /* msg1 variants */
    g_seq = 0;
    const uint8_t *p1 = m1 + 4;
    size_t l1 = n1 - 4;
    put("hs_responder_msg1", 0x00, p1, l1);
    put("hs_responder_msg1", 0x01, m1, n1);
    put("hs_responder_msg1", 0x00, json + 4, sizeof json - 5);
    {
        /* 16 versions (ours last), one suite, 10 bytes of ext */
        uint8_t v[512];
        wp_wbuf w;
        wbuf_init(&w, v, sizeof v);
        wbuf_bytes(&w, p1, 10);
        w.len = 9;
        wbuf_u8(&w, 16);
        for (int k = 0; k < 15; k++)
            wbuf_u16(&w, (uint16_t)(0x100 + k));
        wbuf_u16(&w, 1);
        wbuf_u8(&w, 1);
        wbuf_u16(&w, 2);
        wbuf_bytes(&w, p1 + 17, 32 + 65);
        wbuf_u16(&w, 10);
        wbuf_bytes(&w, "extensions", 10);
        put("hs_responder_msg1", 0x00, v, w.len);
        /* an invalid ephemeral point */
        memcpy(v, p1, l1);
        v[17 + 32 + 64] ^= 1;
        put("hs_responder_msg1", 0x00, v, l1);
        /* only a future version */
        memcpy(v, p1, l1);
        v[11] = 2;
        put("hs_responder_msg1", 0x00, v, l1);
    }

    /* msg2: the real one, clear alerts, the inner plaintext */
    g_seq = 0;
    static const uint8_t alert_abort[] = {0x89, 'W', 'I', 'P', 'E', 'E', 'R', '\n', 0x15, 0x01};
    static const uint8_t alert_version[] = {0x89, 'W', 'I', 'P', 'E', 'E', 'R', '\n', 0x15, 0x03};
    put("hs_initiator_msg2", 0x00, m2 + 4, n2 - 4);
    put("hs_initiator_msg2", 0x00, alert_abort, sizeof alert_abort);
    put("hs_initiator_msg2", 0x00, alert_version, sizeof alert_version);
    put("hs_initiator_msg2", 0x01, inner2, sizeof inner2);
    inner2[0] = 0x03;
    put("hs_initiator_msg2", 0x01, inner2, sizeof inner2);
    put("hs_initiator_msg2", 0x02, m2, n2);

    /* msg3: the real frame payload, the inner plaintext, alerts */
    g_seq = 0;
    static const uint8_t a_abort[] = {0x15, 0x01}, a_denied[] = {0x15, 0x02},
                         a_close[] = {0x15, 0x00};
    put("hs_responder_msg3", 0x00, m3 + 4, n3 - 4);
    put("hs_responder_msg3", 0x01, inner3, sizeof inner3);
    put("hs_responder_msg3", 0x01, a_abort, sizeof a_abort);
    put("hs_responder_msg3", 0x01, a_denied, sizeof a_denied);
    put("hs_responder_msg3", 0x01, a_close, sizeof a_close);
    inner3[1] = 0xff;
    put("hs_responder_msg3", 0x01, inner3, sizeof inner3);

    /* records: (type, length, content) lists, and a raw real record */
    g_seq = 0;
    static const uint8_t r1[] = {0x11, 2, 'h', 'i'};
    static const uint8_t r2[] = {0x11, 0};
    static const uint8_t r3[] = {0x12, 0, 0x11, 3, 'a', 'b', 'c', 0x12, 0, 0x11, 0};
    static const uint8_t r4[] = {0x11, 1, 'x', 0x15, 1, 0x00};
    static const uint8_t r5[] = {0x15, 1, 0x01};
    static const uint8_t r6[] = {0x10, 0, 0x11, 1, 'x'};
    static const uint8_t r7[] = {0x7f, 1, 'x'};
    static const uint8_t r8[] = {0x15, 2, 0x00, 0x00, 0x12, 1, 0};
    put("record", 0x00, r1, sizeof r1);
    put("record", 0x01, r2, sizeof r2);
    put("record", 0x00, r3, sizeof r3);
    put("record", 0x01, r4, sizeof r4);
    put("record", 0x00, r5, sizeof r5);
    put("record", 0x01, r6, sizeof r6);
    put("record", 0x00, r7, sizeof r7);
    put("record", 0x00, r8, sizeof r8);
    put("record", 0x03, m4, n4);

    free(m1);
    free(m2);
    free(m3);
    free(m4);
    peer_free(&i);
    peer_free(&r);
    return 0;
}

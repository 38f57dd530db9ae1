/*
 * gen_dns_corpus.c - writes the seed corpora of fuzz_dns_msg, fuzz_txt and
 * fuzz_mdns from real traffic: the datagrams of a simulated network of
 * engines (tests/unit/mdns_harness.h: probes, conflicts, announcements,
 * queries with known answers, goodbyes), python3-zeroconf packets, and
 * the malformed messages of the unit tests.
 *     gen_dns_corpus tests/fuzz/corpus
 * Not a test; rerun it when the engine's traffic changes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/stat.h>

#include "mdns_harness.h"

static const char *g_dir;

static void put(const char *sub, const char *name, const uint8_t *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, sub);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", g_dir, sub, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static size_t unhex(const char *hex, uint8_t *out)
{
    size_t n = 0;
    for (; hex[0] && hex[1]; hex += 2) {
        unsigned v;
        sscanf(hex, "%2x", &v);
        out[n++] = (uint8_t)v;
    }
    return n;
}

/* The datagrams node `from` sent, as fuzz_mdns input, in chunks of up to 4 KiB. */
static void put_sequence(const struct net *n, int from)
{
    uint8_t seq[4096];
    size_t sl = 0, chunk = 0;
    int64_t t = n->log[0].t;
    char name[32];
    for (size_t i = 0; i < n->n_log; i++) {
        const struct logged *l = &n->log[i];
        if (l->from != from)
            continue;
        if (sl + 3 + l->p.len > sizeof seq) {
            snprintf(name, sizeof name, "sim%d-%02zu", from, chunk++);
            put("mdns", name, seq, sl);
            sl = 0;
        }
        int64_t dt = (l->t - t) / 64;
        t = l->t;
        seq[sl++] = (uint8_t)(l->p.len >> 8);
        seq[sl++] = (uint8_t)l->p.len;
        seq[sl++] = (uint8_t)((dt > 31 ? 31 : dt) << 3 | (l->p.dst.ip.family == MDNS_INET6));
        memcpy(seq + sl, l->data, l->p.len);
        sl += l->p.len;
    }
    if (sl) {
        snprintf(name, sizeof name, "sim%d-%02zu", from, chunk);
        put("mdns", name, seq, sl);
    }
}

static void gen(void **state)
{
    (void)state;
    /* A network with a name conflict, a browser, a removal and a shutdown. */
    struct net *n = net_new();
    struct node *a = net_add(n, "a", true, 0), *b = net_add(n, "a", true, 0);
    struct node *c = net_add(n, NULL, true, 0);
    uint32_t id = add_service(a, "Dev", 1111, n->now);
    add_service(b, "Dev", 2222, n->now);
    assert_int_equal(mdns_browse_start(c->m, MDNS_SERVICE_TYPE, n->now), WP_OK);
    net_run_for(n, 20000);
    assert_int_equal(mdns_service_remove(a->m, id, n->now), WP_OK);
    net_run_for(n, 2000);
    assert_int_equal(mdns_shutdown(b->m, n->now), WP_OK);
    net_run_for(n, 2000);
    /* Unique datagrams for fuzz_dns_msg; TXT rdata for fuzz_txt. */
    size_t kept = 0;
    for (size_t i = 0; i < n->n_log; i++) {
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = n->log[j].p.len == n->log[i].p.len &&
                  memcmp(n->log[j].data, n->log[i].data, n->log[i].p.len) == 0;
        if (dup)
            continue;
        char name[32];
        snprintf(name, sizeof name, "sim-%03zu", kept++);
        put("dns_msg", name, n->log[i].data, n->log[i].p.len);
        dns_reader rd;
        dns_rr rr;
        enum dns_section sec;
        assert_int_equal(dns_reader_init(&rd, n->log[i].data, n->log[i].p.len, NULL), WP_OK);
        while (dns_reader_rr(&rd, &rr, &sec, NULL) == WP_OK) {
            if (rr.type == DNS_TYPE_TXT && i < 40) {
                snprintf(name, sizeof name, "sim-%03zu", i);
                put("txt", name, rr.data, rr.data_len);
            }
        }
    }
    /* fuzz_mdns: what each node sent, as [len][ctl][datagram] records. */
    for (int from = 0; from < 3; from++)
        put_sequence(n, from);
    net_free(n);

    /* python3-zeroconf 0.47 packets (see tests/unit/test_dns_msg.c). */
    static const char *zc[] = {
        "0000840000000001000000050a5f7769706565726b6974045f746370056c6f63616c00000c0001000011940010"
        "0d4d792044657669636520283229c00cc02d002180010000007800140000000010920b7769706565722d336661"
        "32c01cc02d0010800100001194002103763d311666703d413346322d423143342d443545362d46384139056465"
        "627567c04f00018001000000780004c0a80114c04f001c8001000000780010fe80000000000000123456789abc"
        "def0c04f002f800100000078000ac04f0000000440000008",
        "0000000000010001000000000a5f7769706565726b6974045f746370056c6f63616c00000c8001c00c000c0001"
        "0000119400100d4d792044657669636520283229c00c",
    };
    uint8_t buf[600];
    for (size_t i = 0; i < 2; i++) {
        char name[32];
        snprintf(name, sizeof name, "zeroconf-%zu", i);
        put("dns_msg", name, buf, unhex(zc[i], buf));
    }
    /* Malformed: pointer loops, forward and out-of-bounds pointers, bad labels, bad rdata. */
    static const uint8_t bad[][20] = {
        {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1},
        {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 18, 0, 1, 0, 1, 0},
        {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41, 'a', 0, 0, 1, 0, 1},
        {0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x2f, 0, 1, 0, 0, 0},
    };
    for (size_t i = 0; i < WP_ARRAY_LEN(bad); i++) {
        char name[32];
        snprintf(name, sizeof name, "bad-%zu", i);
        put("dns_msg", name, bad[i], sizeof bad[i]);
    }
    put("txt", "empty", (const uint8_t *)"\x00", 1);
    put("txt", "rules", (const uint8_t *)"\x00\x04=bad\x03k=1\x03K=2\x05" "debug", 20);
    put("txt", "overrun", (const uint8_t *)"\x03v=1\x05" "a", 6);
    put("txt", "wipeer", (const uint8_t *)"\x03v=1\x16" "fp=A3F2-B1C4-D5E6-F8A9", 27);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    g_dir = argv[1];
    const struct CMUnitTest tests[] = {cmocka_unit_test(gen)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for the DNS message codec (src/dns/msg.c) and TXT helpers (src/dns/txt.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "internal.h"
#include "dns/msg.h"
#include "dns/txt.h"

/*
 * Packets built by python3-zeroconf 0.47 (Debian 12), an independent
 * implementation: an announcement of "My Device (2)._wipeerkit._tcp.local"
 * with SRV/TXT/A/AAAA/NSEC additionals, and a QU query with a known answer.
 */
static const char k_zc_response[] =
    "0000840000000001000000050a5f7769706565726b6974045f746370056c6f63616c00000c000100"
    "00119400100d4d792044657669636520283229c00cc02d002180010000007800140000000010920b"
    "7769706565722d33666132c01cc02d0010800100001194002103763d311666703d41334632"
    "2d423143342d443545362d46384139056465627567c04f00018001000000780004c0a80114c04f00"
    "1c8001000000780010fe80000000000000123456789abcdef0c04f002f800100000078000ac04f00"
    "00000440000008";
static const char k_zc_query[] =
    "0000000000010001000000000a5f7769706565726b6974045f746370056c6f63616c00000c8001c0"
    "0c000c00010000119400100d4d792044657669636520283229c00c";

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (; hex[0] && hex[1] && n < cap; hex += 2) {
        unsigned v;
        assert_int_equal(sscanf(hex, "%2x", &v), 1);
        out[n++] = (uint8_t)v;
    }
    return n;
}

static dns_name name(const char *s)
{
    dns_name n;
    assert_int_equal(dns_name_from_str(&n, s, NULL), WP_OK);
    return n;
}

static void assert_name(const dns_name *n, const char *want)
{
    char buf[DNS_NAME_STR_MAX];
    dns_name_to_str(n, buf, sizeof buf);
    assert_string_equal(buf, want);
}

/* ------------------------------------------------------------ names */

static void test_name_str(void **state)
{
    (void)state;
    dns_name n = name("_wipeerkit._tcp.local");
    assert_int_equal(n.len, 23);
    assert_int_equal(dns_name_label_count(&n), 3);
    assert_name(&n, "_wipeerkit._tcp.local");
    n = name("local.");
    assert_name(&n, "local");
    n = name(".");
    assert_int_equal(n.len, 1);
    assert_name(&n, ".");
    n = name("");
    assert_int_equal(n.len, 1);
    /* Escapes: a dot and a backslash inside a label, a decimal byte. */
    n = name("a\\.b\\\\c\\032d.local");
    assert_int_equal(dns_name_label_count(&n), 2);
    assert_int_equal(n.wire[0], 7);
    assert_memory_equal(n.wire + 1, "a.b\\c d", 7);
    assert_name(&n, "a\\.b\\\\c d.local");
    n = name("ctl\\007x");
    assert_name(&n, "ctl\\007x");

    dns_name bad;
    wp_err e;
    assert_int_equal(dns_name_from_str(&bad, "a..b", &e), WP_EINVAL);
    assert_int_equal(dns_name_from_str(&bad, ".a", NULL), WP_EINVAL);
    assert_int_equal(dns_name_from_str(&bad, "a\\", NULL), WP_EINVAL);
    assert_int_equal(dns_name_from_str(&bad, "a\\300", NULL), WP_EINVAL);
    char l63[64], l64[65];
    memset(l63, 'x', 63);
    l63[63] = 0;
    memset(l64, 'x', 64);
    l64[64] = 0;
    assert_int_equal(dns_name_from_str(&bad, l63, NULL), WP_OK);
    assert_int_equal(dns_name_from_str(&bad, l64, &e), WP_ETOOBIG);
    /* 255 bytes is the limit: 4 labels of 63 = 256 wire bytes with the root. */
    char big[300];
    snprintf(big, sizeof big, "%s.%s.%s.%.61s", l63, l63, l63, l63);
    assert_int_equal(dns_name_from_str(&bad, big, NULL), WP_OK);
    assert_int_equal(bad.len, 255);
    snprintf(big, sizeof big, "%s.%s.%s.%.62s", l63, l63, l63, l63);
    assert_int_equal(dns_name_from_str(&bad, big, NULL), WP_ETOOBIG);
}

static void test_name_ops(void **state)
{
    (void)state;
    dns_name type = name("_wipeerkit._tcp.local"), inst, parent;
    const char *label = "My Device (2) caf\xc3\xa9.v2";
    assert_int_equal(dns_name_prepend(&inst, label, strlen(label), &type, NULL), WP_OK);
    assert_int_equal(dns_name_label_count(&inst), 4);
    assert_name(&inst, "My Device (2) caf\xc3\xa9\\.v2._wipeerkit._tcp.local");
    const uint8_t *l;
    size_t ll;
    assert_true(dns_name_first_label(&inst, &l, &ll));
    assert_int_equal(ll, strlen(label));
    assert_memory_equal(l, label, ll);
    assert_true(dns_name_parent(&inst, &parent));
    assert_true(dns_name_eq(&parent, &type));
    assert_true(dns_name_ends_with(&inst, &type));
    /* ASCII case folds; UTF-8 bytes do not. */
    dns_name a = name("_WipeerKit._TCP.Local");
    assert_true(dns_name_eq(&a, &type));
    dns_name u1 = name("caf\xc3\xa9.local"), u2 = name("CAF\xc3\x89.local");
    assert_false(dns_name_eq(&u1, &u2));
    /* Label-aligned suffixes only. */
    dns_name x = name("xlocal"), local = name("local");
    assert_false(dns_name_ends_with(&x, &local));
    assert_true(dns_name_ends_with(&local, &local));
    dns_name root = name(".");
    assert_true(dns_name_ends_with(&local, &root));
    assert_false(dns_name_parent(&root, &parent));
    assert_int_equal(dns_name_prepend(&inst, "", 0, &type, NULL), WP_EINVAL);
    char l63[64];
    memset(l63, 'y', 63);
    dns_name big = name("a.b"), out;
    for (int i = 0; i < 3; i++)
        assert_int_equal(dns_name_prepend(&big, l63, 63, &big, NULL), WP_OK);
    assert_int_equal(dns_name_prepend(&out, l63, 63, &big, NULL), WP_ETOOBIG);
}

/* ------------------------------------------------------------ reading */

static void test_zeroconf_response(void **state)
{
    (void)state;
    uint8_t pkt[600];
    size_t len = unhex(k_zc_response, pkt, sizeof pkt);
    dns_reader rd;
    dns_rr rr;
    dns_question q;
    enum dns_section sec;
    assert_int_equal(dns_msg_check(pkt, len, NULL), WP_OK);
    assert_int_equal(dns_reader_init(&rd, pkt, len, NULL), WP_OK);
    assert_int_equal(rd.hdr.flags, DNS_FLAG_QR | DNS_FLAG_AA);
    assert_int_equal(rd.hdr.count[DNS_SEC_ANSWER], 1);
    assert_int_equal(rd.hdr.count[DNS_SEC_ADDITIONAL], 5);
    assert_int_equal(dns_reader_question(&rd, &q, NULL), WP_AGAIN);

    assert_int_equal(dns_reader_rr(&rd, &rr, &sec, NULL), WP_OK);
    assert_int_equal(sec, DNS_SEC_ANSWER);
    assert_int_equal(rr.type, DNS_TYPE_PTR);
    assert_false(rr.cache_flush);
    assert_int_equal(rr.ttl, 4500);
    assert_name(&rr.name, "_wipeerkit._tcp.local");
    assert_name(&rr.rd.ptr, "My Device (2)._wipeerkit._tcp.local");

    assert_int_equal(dns_reader_rr(&rd, &rr, &sec, NULL), WP_OK);
    assert_int_equal(sec, DNS_SEC_ADDITIONAL);
    assert_int_equal(rr.type, DNS_TYPE_SRV);
    assert_true(rr.cache_flush);
    assert_int_equal(rr.rrclass, DNS_CLASS_IN);
    assert_int_equal(rr.rd.srv.port, 4242);
    assert_name(&rr.rd.srv.target, "wipeer-3fa2.local");

    assert_int_equal(dns_reader_rr(&rd, &rr, &sec, NULL), WP_OK);
    assert_int_equal(rr.type, DNS_TYPE_TXT);
    txt_item it;
    assert_int_equal(txt_find(rr.data, rr.data_len, "FP", &it, NULL), WP_OK);
    assert_int_equal(it.value_len, 19);
    assert_memory_equal(it.value, "A3F2-B1C4-D5E6-F8A9", 19);
    assert_int_equal(txt_find(rr.data, rr.data_len, "debug", &it, NULL), WP_OK);
    assert_false(it.has_value);

    assert_int_equal(dns_reader_rr(&rd, &rr, &sec, NULL), WP_OK);
    assert_int_equal(rr.type, DNS_TYPE_A);
    assert_memory_equal(rr.rd.a, "\xc0\xa8\x01\x14", 4);
    assert_int_equal(dns_reader_rr(&rd, &rr, &sec, NULL), WP_OK);
    assert_int_equal(rr.type, DNS_TYPE_AAAA);
    assert_int_equal(rr.rd.aaaa[0], 0xfe);
    assert_int_equal(rr.rd.aaaa[15], 0xf0);
    assert_int_equal(dns_reader_rr(&rd, &rr, &sec, NULL), WP_OK);
    assert_int_equal(rr.type, DNS_TYPE_NSEC);
    assert_name(&rr.rd.nsec.next, "wipeer-3fa2.local");
    assert_true(dns_nsec_has(&rr, DNS_TYPE_A));
    assert_true(dns_nsec_has(&rr, DNS_TYPE_AAAA));
    assert_false(dns_nsec_has(&rr, DNS_TYPE_TXT));
    assert_int_equal(dns_reader_rr(&rd, &rr, &sec, NULL), WP_AGAIN);
}

static void test_zeroconf_query(void **state)
{
    (void)state;
    uint8_t pkt[200];
    size_t len = unhex(k_zc_query, pkt, sizeof pkt);
    dns_reader rd;
    dns_question q;
    dns_rr rr;
    enum dns_section sec;
    assert_int_equal(dns_reader_init(&rd, pkt, len, NULL), WP_OK);
    assert_int_equal(dns_reader_question(&rd, &q, NULL), WP_OK);
    assert_true(q.is_qu);
    assert_int_equal(q.qclass, DNS_CLASS_IN);
    assert_int_equal(q.type, DNS_TYPE_PTR);
    assert_int_equal(dns_reader_question(&rd, &q, NULL), WP_AGAIN);
    assert_int_equal(dns_reader_rr(&rd, &rr, &sec, NULL), WP_OK);
    assert_int_equal(sec, DNS_SEC_ANSWER);
    assert_name(&rr.rd.ptr, "My Device (2)._wipeerkit._tcp.local");
}

/* RFC 1035 §4.1.4: F.ISI.ARPA, FOO.F.ISI.ARPA and ARPA sharing labels. */
static void test_rfc1035_compression(void **state)
{
    (void)state;
    static const uint8_t pkt[] = {
        0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0,
        /* 12 */ 1, 'F', 3, 'I', 'S', 'I', 4, 'A', 'R', 'P', 'A', 0, 0, 1, 0, 1,
        /* 28 */ 3, 'F', 'O', 'O', 0xC0, 12, 0, 1, 0, 1,
        /* 38 */ 0xC0, 18, 0, 1, 0, 1,
    };
    dns_reader rd;
    dns_question q;
    assert_int_equal(dns_reader_init(&rd, pkt, sizeof pkt, NULL), WP_OK);
    assert_int_equal(dns_reader_question(&rd, &q, NULL), WP_OK);
    assert_name(&q.name, "F.ISI.ARPA");
    assert_int_equal(dns_reader_question(&rd, &q, NULL), WP_OK);
    assert_name(&q.name, "FOO.F.ISI.ARPA");
    assert_int_equal(dns_reader_question(&rd, &q, NULL), WP_OK);
    assert_name(&q.name, "ARPA");
    assert_int_equal(dns_reader_question(&rd, &q, NULL), WP_AGAIN);
}

static wp_status check(const uint8_t *p, size_t n, char *detail)
{
    wp_err e;
    err_clear(&e);
    wp_status rc = dns_msg_check(p, n, &e);
    if (detail)
        memcpy(detail, e.detail, WP_ERROR_DETAIL_MAX);
    return rc;
}

static void test_bad_pointers(void **state)
{
    (void)state;
    char d[WP_ERROR_DETAIL_MAX];
    /* A question name that points at itself. */
    uint8_t self[] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1};
    assert_int_equal(check(self, sizeof self, d), WP_EPROTO);
    assert_non_null(strstr(d, "does not point back"));
    /* Two labels pointing at each other. */
    uint8_t loop[] = {0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 1, 'a', 0xC0, 18, 0, 1, 0, 1,
                      1, 'b', 0xC0, 12, 0, 1, 0, 1};
    assert_int_equal(check(loop, sizeof loop, NULL), WP_EPROTO);
    /* Forward pointer and a pointer past the end. */
    uint8_t fwd[] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 18, 0, 1, 0, 1, 0};
    assert_int_equal(check(fwd, sizeof fwd, NULL), WP_EPROTO);
    uint8_t oob[] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 1, 0, 1};
    assert_int_equal(check(oob, sizeof oob, NULL), WP_EPROTO);
    /* A pointer cut in half. */
    uint8_t half[] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0};
    assert_int_equal(check(half, sizeof half, NULL), WP_EPROTO);
    /* Reserved label types 0x40 and 0x80. */
    uint8_t t40[] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41, 'a', 0, 0, 1, 0, 1};
    assert_int_equal(check(t40, sizeof t40, d), WP_EPROTO);
    assert_non_null(strstr(d, "label type 0x40"));
    uint8_t t80[] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x81, 'a', 0, 0, 1, 0, 1};
    assert_int_equal(check(t80, sizeof t80, NULL), WP_EPROTO);
}

/* Pointers that each go back legitimately but build a name over 255 bytes. */
static void test_name_too_long_via_pointers(void **state)
{
    (void)state;
    uint8_t pkt[600];
    size_t n = 12;
    memset(pkt, 0, 12);
    pkt[5] = 5; /* 5 questions */
    size_t prev = 0;
    for (int i = 0; i < 5; i++) {
        size_t start = n;
        pkt[n++] = 60;
        memset(pkt + n, 'a' + i, 60);
        n += 60;
        if (i == 0) {
            pkt[n++] = 0;
        } else {
            pkt[n++] = (uint8_t)(0xC0 | (prev >> 8));
            pkt[n++] = (uint8_t)prev;
        }
        pkt[n++] = 0, pkt[n++] = 1, pkt[n++] = 0, pkt[n++] = 1;
        prev = start;
    }
    dns_reader rd;
    dns_question q;
    wp_err e;
    assert_int_equal(dns_reader_init(&rd, pkt, n, NULL), WP_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(dns_reader_question(&rd, &q, NULL), WP_OK); /* 61..245 bytes */
    assert_int_equal(dns_reader_question(&rd, &q, &e), WP_EPROTO);  /* 306 bytes */
    assert_non_null(strstr(e.detail, "longer than 255"));
    /* The failure is sticky. */
    assert_int_equal(dns_reader_question(&rd, &q, NULL), WP_EPROTO);
}

static void test_truncated_everything(void **state)
{
    (void)state;
    uint8_t pkt[600];
    const char *vectors[] = {k_zc_response, k_zc_query};
    for (size_t v = 0; v < 2; v++) {
        size_t len = unhex(vectors[v], pkt, sizeof pkt);
        assert_int_equal(check(pkt, len, NULL), WP_OK);
        for (size_t cut = 0; cut < len; cut++) {
            /* Every prefix is a malformed message, never a crash or over-read. */
            uint8_t *copy = malloc(cut ? cut : 1);
            memcpy(copy, pkt, cut);
            assert_int_equal(check(copy, cut, NULL), WP_EPROTO);
            free(copy);
        }
    }
    /* Counts larger than the content. */
    uint8_t hdr[] = {0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0};
    assert_int_equal(check(hdr, sizeof hdr, NULL), WP_EPROTO);
}

static void test_bad_rdata(void **state)
{
    (void)state;
    char d[WP_ERROR_DETAIL_MAX];
    /* One answer "a" of a given type with the given rdata. */
    struct {
        uint16_t type;
        uint8_t rdlen;
        uint8_t rd[40];
        const char *why;
    } cases[] = {
        {DNS_TYPE_A, 5, {1, 2, 3, 4, 5}, "A rdata of 5"},
        {DNS_TYPE_AAAA, 4, {1, 2, 3, 4}, "AAAA rdata of 4"},
        {DNS_TYPE_PTR, 4, {1, 'b', 0, 0}, "does not match"},
        {DNS_TYPE_PTR, 2, {1, 'b', 0}, "does not match"},
        {DNS_TYPE_SRV, 5, {0, 0, 0, 0, 0}, "SRV rdata of 5"},
        {DNS_TYPE_TXT, 3, {5, 'a', 'b'}, "TXT string overruns"},
        {DNS_TYPE_NSEC, 2, {0, 0}, "NSEC bitmap truncated"},
        {DNS_TYPE_NSEC, 4, {0, 0, 2, 0}, "NSEC bitmap truncated"},
        {DNS_TYPE_NSEC, 37, {0, 0, 33}, "invalid"},
    };
    for (size_t i = 0; i < WP_ARRAY_LEN(cases); i++) {
        uint8_t pkt[100] = {0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 'a', 0};
        size_t n = 15;
        pkt[n++] = (uint8_t)(cases[i].type >> 8);
        pkt[n++] = (uint8_t)cases[i].type;
        pkt[n++] = 0, pkt[n++] = 1;
        pkt[n++] = 0, pkt[n++] = 0, pkt[n++] = 0, pkt[n++] = 120;
        pkt[n++] = 0, pkt[n++] = cases[i].rdlen;
        memcpy(pkt + n, cases[i].rd, cases[i].rdlen);
        n += cases[i].rdlen;
        if (cases[i].type == DNS_TYPE_PTR && cases[i].rdlen == 2)
            n++; /* the name's root byte lies outside the rdata */
        if (check(pkt, n, d) != WP_EPROTO || !strstr(d, cases[i].why))
            fail_msg("case %zu: detail \"%s\" lacks \"%s\"", i, d, cases[i].why);
    }
}

/* ------------------------------------------------------------ writing */

static void fill_records(dns_rr *rr, size_t *n)
{
    static const uint8_t txt[] = "\x03v=1\x05hello";
    static const uint8_t opaque[] = {0xde, 0xad, 0xbe, 0xef};
    dns_name type = name("_wipeerkit._tcp.local"), inst, host = name("wipeer-3fa2.local");
    assert_int_equal(dns_name_prepend(&inst, "My Device (2)", 13, &type, NULL), WP_OK);
    memset(rr, 0, 8 * sizeof *rr);
    for (int i = 0; i < 8; i++) {
        rr[i].rrclass = DNS_CLASS_IN;
        rr[i].ttl = 120;
        rr[i].cache_flush = true;
    }
    rr[0].name = type, rr[0].type = DNS_TYPE_PTR, rr[0].rd.ptr = inst, rr[0].cache_flush = false;
    rr[0].ttl = 4500;
    rr[1].name = inst, rr[1].type = DNS_TYPE_SRV, rr[1].rd.srv.port = 4242;
    rr[1].rd.srv.priority = 1, rr[1].rd.srv.weight = 2, rr[1].rd.srv.target = host;
    rr[2].name = inst, rr[2].type = DNS_TYPE_TXT, rr[2].data = txt, rr[2].data_len = sizeof txt - 1;
    rr[3].name = host, rr[3].type = DNS_TYPE_A, memcpy(rr[3].rd.a, "\x0a\x00\x00\x02", 4);
    rr[4].name = host, rr[4].type = DNS_TYPE_AAAA, rr[4].rd.aaaa[0] = 0xfe, rr[4].rd.aaaa[15] = 9;
    rr[5].name = host, rr[5].type = DNS_TYPE_NSEC, rr[5].rd.nsec.next = host;
    dns_nsec_set(&rr[5], DNS_TYPE_A);
    dns_nsec_set(&rr[5], DNS_TYPE_AAAA);
    rr[6].name = inst, rr[6].type = DNS_TYPE_TXT; /* empty TXT */
    rr[7].name = host, rr[7].type = 99, rr[7].data = opaque, rr[7].data_len = 4;
    rr[7].rrclass = 3;
    *n = 8;
}

static void test_write_read_roundtrip(void **state)
{
    (void)state;
    dns_rr rr[8], back;
    size_t n;
    uint8_t buf[1500];
    dns_writer wr;
    fill_records(rr, &n);
    dns_writer_init(&wr, buf, sizeof buf, 0x1234, DNS_FLAG_QR | DNS_FLAG_AA);
    dns_question q = {.name = rr[0].name, .type = DNS_TYPE_PTR, .qclass = DNS_CLASS_IN,
                      .is_qu = true};
    assert_int_equal(dns_writer_question(&wr, &q), WP_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(dns_writer_rr(&wr, i < 2 ? DNS_SEC_ANSWER : DNS_SEC_ADDITIONAL, &rr[i]),
                         WP_OK);
    /* Sections only move forward. */
    assert_int_equal(dns_writer_question(&wr, &q), WP_EINVAL);
    assert_int_equal(dns_writer_rr(&wr, DNS_SEC_ANSWER, &rr[0]), WP_EINVAL);
    size_t len = dns_writer_len(&wr);
    /* Compression: every name after the first costs at most label + pointer. */
    assert_true(len < 300);

    dns_reader rd;
    dns_question qb;
    enum dns_section sec;
    assert_int_equal(dns_reader_init(&rd, buf, len, NULL), WP_OK);
    assert_int_equal(rd.hdr.id, 0x1234);
    assert_int_equal(rd.hdr.count[DNS_SEC_QUESTION], 1);
    assert_int_equal(rd.hdr.count[DNS_SEC_ANSWER], 2);
    assert_int_equal(rd.hdr.count[DNS_SEC_ADDITIONAL], 6);
    assert_int_equal(dns_reader_question(&rd, &qb, NULL), WP_OK);
    assert_true(qb.is_qu);
    assert_true(dns_name_eq(&qb.name, &q.name));
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(dns_reader_rr(&rd, &back, &sec, NULL), WP_OK);
        assert_true(dns_rr_same_key(&back, &rr[i]));
        assert_true(dns_rr_same_data(&back, &rr[i]));
        assert_int_equal(back.ttl, rr[i].ttl);
        assert_int_equal(back.cache_flush, rr[i].cache_flush);
    }
    assert_int_equal(dns_reader_rr(&rd, &back, &sec, NULL), WP_AGAIN);
    /* The empty TXT went out as one zero-length string (RFC 6763 §6.1). */
    static const uint8_t empty_txt[] = {0, 0x10, 0x80, 1, 0, 0, 0, 0x78, 0, 1, 0};
    bool found = false;
    for (size_t i = 0; i + sizeof empty_txt <= len; i++)
        found |= memcmp(buf + i, empty_txt, sizeof empty_txt) == 0;
    assert_true(found);
}

/*
 * Our encoding of zeroconf's announcement is byte-identical to zeroconf's,
 * except the NSEC bitmap: zeroconf 0.47 writes its window and length as
 * 16-bit numbers ("00 00 00 04 ..."), RFC 4034 says one byte each.
 */
static void test_same_bytes_as_zeroconf(void **state)
{
    (void)state;
    uint8_t want[600], buf[600];
    size_t want_len = unhex(k_zc_response, want, sizeof want);
    dns_reader rd;
    dns_rr rr;
    enum dns_section sec;
    dns_writer wr;
    assert_int_equal(dns_reader_init(&rd, want, want_len, NULL), WP_OK);
    dns_writer_init(&wr, buf, sizeof buf, rd.hdr.id, rd.hdr.flags);
    while (dns_reader_rr(&rd, &rr, &sec, NULL) == WP_OK)
        assert_int_equal(dns_writer_rr(&wr, sec, &rr), WP_OK);
    static const uint8_t nsec_zc[] = {0, 0x0a, 0xc0, 0x4f, 0, 0, 0, 4, 0x40, 0, 0, 8};
    static const uint8_t nsec_rfc[] = {0, 0x08, 0xc0, 0x4f, 0, 4, 0x40, 0, 0, 8};
    size_t head = want_len - sizeof nsec_zc;
    assert_memory_equal(want + head, nsec_zc, sizeof nsec_zc);
    assert_int_equal(dns_writer_len(&wr), head + sizeof nsec_rfc);
    assert_memory_equal(buf, want, head);
    assert_memory_equal(buf + head, nsec_rfc, sizeof nsec_rfc);
}

static void test_writer_full_rolls_back(void **state)
{
    (void)state;
    dns_rr rr[8];
    size_t n;
    uint8_t buf[120];
    fill_records(rr, &n);
    for (size_t cap = DNS_HEADER_LEN; cap <= sizeof buf; cap++) {
        dns_writer wr;
        size_t added = 0;
        dns_writer_init(&wr, buf, cap, 0, DNS_FLAG_QR);
        for (size_t i = 0; i < n; i++) {
            wp_status rc = dns_writer_rr(&wr, DNS_SEC_ANSWER, &rr[i]);
            assert_true(rc == WP_OK || rc == WP_ETOOBIG);
            added += rc == WP_OK;
        }
        assert_true(dns_writer_len(&wr) <= cap);
        assert_int_equal(dns_writer_count(&wr, DNS_SEC_ANSWER), added);
        /* Whatever fitted is a valid message with matching counts. */
        assert_int_equal(check(buf, dns_writer_len(&wr), NULL), WP_OK);
    }
}

static void test_cmp_lex(void **state)
{
    (void)state;
    dns_rr a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.rrclass = b.rrclass = DNS_CLASS_IN;
    a.type = b.type = DNS_TYPE_A;
    memcpy(a.rd.a, "\x0a\x00\x00\x01", 4);
    memcpy(b.rd.a, "\x0a\x00\x00\x02", 4);
    assert_true(dns_rr_cmp_lex(&a, &b) < 0);
    assert_true(dns_rr_cmp_lex(&b, &a) > 0);
    assert_int_equal(dns_rr_cmp_lex(&a, &a), 0);
    b.type = DNS_TYPE_AAAA; /* type before rdata */
    memcpy(b.rd.aaaa, "\x00", 1);
    assert_true(dns_rr_cmp_lex(&a, &b) < 0);
    b.type = DNS_TYPE_A;
    b.cache_flush = true; /* the cache-flush bit is not part of the class */
    memcpy(b.rd.a, a.rd.a, 4);
    assert_int_equal(dns_rr_cmp_lex(&a, &b), 0);
    /* Raw bytes: a shorter prefix sorts first, bytes are unsigned. */
    static const uint8_t t1[] = {1, 'a'}, t2[] = {1, 'a', 1, 'b'}, t3[] = {1, 0xff};
    a.type = b.type = DNS_TYPE_TXT;
    a.data = t1, a.data_len = 2;
    b.data = t2, b.data_len = 4;
    assert_true(dns_rr_cmp_lex(&a, &b) < 0);
    b.data = t3, b.data_len = 2;
    assert_true(dns_rr_cmp_lex(&a, &b) < 0);
    /* SRV compares priority, weight, port, then the target's bytes. */
    a.type = b.type = DNS_TYPE_SRV;
    a.rd.srv.port = 80;
    b.rd.srv.port = 81;
    a.rd.srv.target = b.rd.srv.target = name("h.local");
    assert_true(dns_rr_cmp_lex(&a, &b) < 0);
}

/* ------------------------------------------------------------ TXT */

static void test_txt_build_find(void **state)
{
    (void)state;
    uint8_t mem[600];
    wp_wbuf w;
    wp_err e;
    txt_item it;
    wbuf_init(&w, mem, sizeof mem);
    assert_int_equal(txt_add_str(&w, "v", "1", NULL), WP_OK);
    assert_int_equal(txt_add_str(&w, "fp", "A3F2-B1C4-D5E6-F8A9", NULL), WP_OK);
    assert_int_equal(txt_add(&w, "debug", NULL, 0, NULL), WP_OK);   /* boolean */
    assert_int_equal(txt_add(&w, "empty", "", 0, NULL), WP_OK);     /* "empty=" */
    assert_int_equal(txt_add(&w, "bin", "\x00\xff=", 3, NULL), WP_OK);
    assert_int_equal(txt_add_str(&w, "V", "2", &e), WP_EEXIST);     /* keys ignore case */
    assert_int_equal(txt_add_str(&w, "a=b", "1", NULL), WP_EINVAL);
    assert_int_equal(txt_add_str(&w, "", "1", NULL), WP_EINVAL);
    assert_int_equal(txt_add_str(&w, "t\tab", "1", NULL), WP_EINVAL);
    char big[300];
    memset(big, 'x', 254);
    big[254] = 0;
    assert_int_equal(txt_add_str(&w, "k", big, &e), WP_ETOOBIG); /* 255 + 1 */
    big[253] = 0;
    assert_int_equal(txt_add_str(&w, "k", big, NULL), WP_OK);    /* exactly 255 */
    assert_int_equal(txt_check(w.data, w.len, NULL), WP_OK);

    assert_int_equal(txt_find(w.data, w.len, "V", &it, NULL), WP_OK);
    assert_true(it.has_value);
    assert_int_equal(it.value_len, 1);
    assert_int_equal(it.value[0], '1');
    assert_int_equal(txt_find(w.data, w.len, "DEBUG", &it, NULL), WP_OK);
    assert_false(it.has_value);
    assert_null(it.value);
    assert_int_equal(txt_find(w.data, w.len, "empty", &it, NULL), WP_OK);
    assert_true(it.has_value);
    assert_int_equal(it.value_len, 0);
    assert_int_equal(txt_find(w.data, w.len, "bin", &it, NULL), WP_OK);
    assert_int_equal(it.value_len, 3);
    assert_memory_equal(it.value, "\x00\xff=", 3);
    assert_int_equal(txt_find(w.data, w.len, "missing", &it, NULL), WP_ENOTFOUND);

    /* A full buffer leaves the data as it was. */
    uint8_t small[8];
    wbuf_init(&w, small, sizeof small);
    assert_int_equal(txt_add_str(&w, "v", "1", NULL), WP_OK);
    assert_int_equal(txt_add_str(&w, "key", "value", NULL), WP_ETOOBIG);
    assert_int_equal(w.len, 4);
    assert_int_equal(txt_add_str(&w, "x", "y", NULL), WP_OK);
}

static void test_txt_parse_rules(void **state)
{
    (void)state;
    txt_item it;
    /* §6.4: empty strings and "=..." are skipped; the first occurrence wins. */
    static const uint8_t t[] = "\x00\x04=bad\x03k=1\x03K=2";
    assert_int_equal(txt_find(t, sizeof t - 1, "k", &it, NULL), WP_OK);
    assert_int_equal(it.value[0], '1');
    assert_int_equal(txt_find(t, sizeof t - 1, "", &it, NULL), WP_ENOTFOUND);
    static const uint8_t empty[] = {0};
    assert_int_equal(txt_check(empty, 1, NULL), WP_OK);
    assert_int_equal(txt_find(empty, 1, "v", &it, NULL), WP_ENOTFOUND);
    static const uint8_t over[] = {3, 'v', '=', '1', 5, 'a'};
    wp_err e;
    assert_int_equal(txt_check(over, sizeof over, &e), WP_EPROTO);
    assert_non_null(strstr(e.detail, "offset 4"));
    assert_int_equal(txt_find(over, sizeof over, "zz", &it, NULL), WP_EPROTO);
}

static void test_txt_wipeer(void **state)
{
    (void)state;
    txt_wipeer_info info;
    struct {
        const char *txt;
        size_t len;
        unsigned version;
        bool fp, connectable;
    } cases[] = {
        {"\x03v=1\x16" "fp=A3F2-B1C4-D5E6-F8A9", 27, 1, true, true},
        {"\x03v=1", 4, 1, false, true}, /* privacy: no fp */
        {"\x03v=2", 4, 2, false, true},
        {"\x03v=0", 4, 0, false, false},
        {"\x05v=abc", 6, 0, false, false},
        {"\x02v=", 3, 0, false, false},
        {"\x01v", 2, 0, false, false},
        {"\x00", 1, 0, false, false},         /* empty TXT (the original iOS SDK) */
        {"\x09v=1234567", 10, 0, false, false}, /* too long to be a version */
        {"\x04" "fp=\x01", 5, 0, false, false}, /* unprintable fp */
        {"\x05v=1", 4, 0, false, false},        /* malformed */
    };
    for (size_t i = 0; i < WP_ARRAY_LEN(cases); i++) {
        txt_wipeer_parse((const uint8_t *)cases[i].txt, cases[i].len, &info);
        if (info.version != cases[i].version || info.has_fp != cases[i].fp ||
            info.is_connectable != cases[i].connectable)
            fail_msg("case %zu: v=%u fp=%d conn=%d", i, info.version, info.has_fp,
                     info.is_connectable);
    }
    txt_wipeer_parse(NULL, 0, &info);
    assert_false(info.is_connectable);
    /* The builder: v=1, fp unless private, then free keys (no second v or fp). */
    uint8_t mem[128];
    wp_wbuf w;
    wbuf_init(&w, mem, sizeof mem);
    assert_int_equal(txt_wipeer_build(&w, "A3F2-B1C4-D5E6-F8A9", NULL), WP_OK);
    assert_int_equal(txt_add_str(&w, "app", "chat", NULL), WP_OK);
    assert_int_equal(txt_add_str(&w, "FP", "x", NULL), WP_EEXIST);
    txt_wipeer_parse(w.data, w.len, &info);
    assert_true(info.is_connectable && info.has_fp);
    assert_int_equal(info.version, TXT_WIPEER_VERSION);
    wbuf_init(&w, mem, sizeof mem);
    assert_int_equal(txt_wipeer_build(&w, NULL, NULL), WP_OK);
    txt_wipeer_parse(w.data, w.len, &info);
    assert_true(info.is_connectable);
    assert_false(info.has_fp);
    txt_wipeer_parse((const uint8_t *)"\x16" "fp=A3F2-B1C4-D5E6-F8A9", 23, &info);
    assert_string_equal(info.fp, "A3F2-B1C4-D5E6-F8A9");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_str),
        cmocka_unit_test(test_name_ops),
        cmocka_unit_test(test_zeroconf_response),
        cmocka_unit_test(test_zeroconf_query),
        cmocka_unit_test(test_rfc1035_compression),
        cmocka_unit_test(test_bad_pointers),
        cmocka_unit_test(test_name_too_long_via_pointers),
        cmocka_unit_test(test_truncated_everything),
        cmocka_unit_test(test_bad_rdata),
        cmocka_unit_test(test_write_read_roundtrip),
        cmocka_unit_test(test_same_bytes_as_zeroconf),
        cmocka_unit_test(test_writer_full_rolls_back),
        cmocka_unit_test(test_cmp_lex),
        cmocka_unit_test(test_txt_build_find),
        cmocka_unit_test(test_txt_parse_rules),
        cmocka_unit_test(test_txt_wipeer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * fuzz_dns_msg.c - the DNS message reader (src/dns/msg.c).
 * Input: one DNS message. Oracle: whatever the reader accepts must
 * re-encode with the writer (with compression) and read back as the same
 * questions and records; names must print; lexicographic comparison must be
 * antisymmetric.
 */
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"
#include "dns/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ITEMS 64

static void check_name(const dns_name *n)
{
    char s[DNS_NAME_STR_MAX];
    dns_name back;
    dns_name_to_str(n, s, sizeof s);
    /* The presentation form parses back to the same name. */
    if (dns_name_from_str(&back, s, NULL) != WP_OK || !dns_name_eq(&back, n))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dns_reader rd;
    static dns_question qs[MAX_ITEMS];
    static dns_rr rrs[MAX_ITEMS];
    static enum dns_section secs[MAX_ITEMS];
    static uint8_t out[65536];
    size_t nq = 0, nr = 0;
    wp_status rc = dns_msg_check(data, size, NULL);
    if (dns_reader_init(&rd, data, size, NULL) != WP_OK) {
        if (rc == WP_OK)
            abort();
        return 0;
    }
    while (nq < MAX_ITEMS && dns_reader_question(&rd, &qs[nq], NULL) == WP_OK)
        check_name(&qs[nq++].name);
    while (nr < MAX_ITEMS && dns_reader_rr(&rd, &rrs[nr], &secs[nr], NULL) == WP_OK) {
        check_name(&rrs[nr].name);
        if (rrs[nr].type == DNS_TYPE_PTR)
            check_name(&rrs[nr].rd.ptr);
        nr++;
    }
    if (rc != WP_OK)
        return 0; /* rejected somewhere: only the prefix was exercised */
    for (size_t i = 0; i + 1 < nr; i++) {
        int a = dns_rr_cmp_lex(&rrs[i], &rrs[i + 1]), b = dns_rr_cmp_lex(&rrs[i + 1], &rrs[i]);
        if ((a < 0) != (b > 0) || (a == 0) != (b == 0) || dns_rr_cmp_lex(&rrs[i], &rrs[i]) != 0)
            abort();
        if (!dns_rr_same_data(&rrs[i], &rrs[i]))
            abort();
    }
    /* Round trip: re-encode what was read, read it again. */
    dns_writer wr;
    dns_writer_init(&wr, out, sizeof out, rd.hdr.id, rd.hdr.flags);
    for (size_t i = 0; i < nq; i++) {
        if (dns_writer_question(&wr, &qs[i]) != WP_OK)
            abort();
    }
    for (size_t i = 0; i < nr; i++) {
        if (dns_writer_rr(&wr, secs[i], &rrs[i]) != WP_OK)
            abort();
    }
    dns_reader back;
    if (dns_reader_init(&back, out, dns_writer_len(&wr), NULL) != WP_OK)
        abort();
    for (size_t i = 0; i < nq; i++) {
        dns_question q;
        if (dns_reader_question(&back, &q, NULL) != WP_OK || !dns_name_eq(&q.name, &qs[i].name) ||
            q.type != qs[i].type || q.qclass != qs[i].qclass || q.is_qu != qs[i].is_qu)
            abort();
    }
    for (size_t i = 0; i < nr; i++) {
        dns_rr rr;
        enum dns_section sec;
        if (dns_reader_rr(&back, &rr, &sec, NULL) != WP_OK || sec != secs[i] ||
            !dns_rr_same_key(&rr, &rrs[i]) || !dns_rr_same_data(&rr, &rrs[i]) ||
            rr.ttl != rrs[i].ttl || rr.cache_flush != rrs[i].cache_flush)
            abort();
    }
    return 0;
}

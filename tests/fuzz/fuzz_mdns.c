/*
 * fuzz_mdns.c - the mDNS engine (src/dns/mdns*.c) fed hostile datagrams.
 * Input: a sequence of [u16 length][u8 control][datagram]. control bit 0:
 * IPv6 source; bit 1: legacy source port; bit 2: sent to our unicast
 * address; bits 3-7: milliseconds x 64 to advance the clock first. The
 * engine runs a registered service and a browser on two links. Oracle:
 * no crash or sanitizer report, every datagram it emits is a well-formed
 * DNS message that fits max_packet, and deadlines never go backwards.
 */
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"
#include "dns/mdns.h"
#include "dns/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static wp_status rng(void *user, uint8_t *out, size_t len)
{
    uint32_t *s = user;
    for (size_t i = 0; i < len; i++) {
        *s = *s * 1103515245u + 12345u;
        out[i] = (uint8_t)(*s >> 16);
    }
    return WP_OK;
}

static void drain(mdns *m)
{
    const struct mdns_packet *p;
    struct mdns_event ev;
    while ((p = mdns_output(m))) {
        if (p->len > MDNS_DEFAULT_PACKET || dns_msg_check(p->data, p->len, NULL) != WP_OK)
            abort();
        mdns_output_done(m);
    }
    while (mdns_next_event(m, &ev) == WP_OK) {
        if (ev.info.n_addrs > MDNS_MAX_ADDRS || ev.info.name_len >= MDNS_LABEL_STR_MAX)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t seed = 1;
    int64_t now = 1000;
    mdns *m = NULL;
    struct mdns_config cfg = {.rng = rng, .rng_user = &seed, .host_label = "h"};
    if (mdns_new(&cfg, now, &m, NULL) != WP_OK)
        abort();
    mdns_ip addrs[2] = {{.family = MDNS_INET, .addr = {10, 0, 0, 1}},
                        {.family = MDNS_INET6, .addr = {0xfe, 0x80, [15] = 1}}};
    uint32_t id;
    struct mdns_service_desc d = {.instance = "Dev", .port = 4242,
                                  .txt = (const uint8_t *)"\x03v=1", .txt_len = 4};
    if (mdns_iface_set(m, 1, addrs, 2, now) != WP_OK || mdns_service_add(m, &d, now, &id) != WP_OK ||
        mdns_browse_start(m, MDNS_SERVICE_TYPE, now) != WP_OK)
        abort();
    /* Half the inputs meet an established responder, half a probing one. */
    if (size && (data[0] & 1)) {
        while (mdns_deadline_ms(m) >= 0 && mdns_deadline_ms(m) <= 5000) {
            now = mdns_deadline_ms(m);
            if (mdns_tick(m, now) != WP_OK)
                abort();
            drain(m);
        }
        now = 5000;
    }
    while (size >= 3) {
        size_t len = (size_t)data[0] << 8 | data[1];
        uint8_t ctl = data[2];
        data += 3;
        size -= 3;
        if (len > size)
            len = size;
        now += (int64_t)(ctl >> 3) * 64;
        int64_t dl;
        while ((dl = mdns_deadline_ms(m)) >= 0 && dl <= now) {
            if (mdns_tick(m, dl) != WP_OK)
                abort();
            drain(m);
            if (mdns_deadline_ms(m) >= 0 && mdns_deadline_ms(m) < dl)
                abort();
        }
        mdns_endpoint src = {.port = (ctl & 2) ? 40000 : MDNS_PORT, .ifindex = 1};
        src.ip.family = (ctl & 1) ? MDNS_INET6 : MDNS_INET;
        src.ip.addr[0] = (ctl & 1) ? 0xfe : 10;
        src.ip.addr[15] = src.ip.addr[3] = 99;
        wp_status rc = mdns_input(m, data, len, &src, (ctl & 4) != 0, now);
        if (rc != WP_OK && rc != WP_EPROTO)
            abort();
        drain(m);
        data += len;
        size -= len;
    }
    if (mdns_shutdown(m, now) != WP_OK)
        abort();
    drain(m);
    mdns_free(m);
    return 0;
}

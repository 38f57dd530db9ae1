#include "internal.h"
#include "dns/mdns_int.h"

/* The mDNS groups (RFC 6762 §3). */
static const uint8_t k_group4[4] = {224, 0, 0, 251};
static const uint8_t k_group6[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfb};

#define OUT_QUEUE_MAX 1024 /* datagrams waiting for the driver */
#define EV_QUEUE_MAX 4096  /* events waiting for the driver */

/* ------------------------------------------------------------ helpers */

uint32_t mdns_rand(mdns *m, uint32_t lo, uint32_t hi)
{
    uint8_t b[4];
    if (hi <= lo)
        return lo;
    if (m->rng(m->rng_user, b, sizeof b) != WP_OK) {
        /* A missing random delay only weakens collision avoidance: go on. */
        (void)err_set(&m->err, WP_ECRYPTO, "mdns: random source failed; using minimum delay");
        return lo;
    }
    return lo + be32_load(b) % (hi - lo + 1u);
}

void mdns_emit(mdns *m, int link, const mdns_endpoint *ucast, const uint8_t *data, size_t len,
               enum tx_kind kind)
{
    const struct mdns_link *l = &m->links[link];
    if (m->n_out >= OUT_QUEUE_MAX) {
        m->stats.tx_dropped++;
        (void)err_set(&m->err, WP_EFULL, "mdns: output queue full (%d datagrams); dropped one",
                      OUT_QUEUE_MAX);
        return;
    }
    struct pkt_node *n = wp_malloc(sizeof *n + len);
    if (!n) {
        m->stats.tx_dropped++;
        (void)err_set(&m->err, WP_ENOMEM, "mdns: no memory for a %zu-byte datagram", len);
        return;
    }
    memset(n, 0, sizeof *n);
    memcpy(n->data, data, len);
    n->p.data = n->data;
    n->p.len = len;
    if (ucast) {
        n->p.dst = *ucast;
        n->p.is_multicast = false;
    } else {
        n->p.dst.ip.family = l->family;
        if (l->family == MDNS_INET)
            memcpy(n->p.dst.ip.addr, k_group4, 4);
        else
            memcpy(n->p.dst.ip.addr, k_group6, 16);
        n->p.dst.port = MDNS_PORT;
        n->p.is_multicast = true;
    }
    n->p.dst.ifindex = l->ifindex;
    if (m->out_tail)
        m->out_tail->next = n;
    else
        m->out_head = n;
    m->out_tail = n;
    m->n_out++;
    m->stats.tx_packets++;
    m->stats.tx_bytes += len;
    switch (kind) {
    case TX_PROBE:
        m->stats.tx_probes++;
        break;
    case TX_ANNOUNCE:
        m->stats.tx_announces++;
        break;
    case TX_RESPONSE:
        m->stats.tx_responses++;
        break;
    case TX_QUERY:
        m->stats.tx_queries++;
        break;
    case TX_GOODBYE:
        m->stats.tx_goodbyes++;
        break;
    }
}

void mdns_event_push(mdns *m, const struct mdns_event *ev, const uint8_t *txt, size_t txt_len)
{
    if (m->n_ev >= EV_QUEUE_MAX) {
        (void)err_set(&m->err, WP_EFULL, "mdns: event queue full; dropped an event");
        return;
    }
    struct ev_node *node = wp_calloc(1, sizeof *node);
    if (!node) {
        (void)err_set(&m->err, WP_ENOMEM, "mdns: no memory for an event");
        return;
    }
    node->ev = *ev;
    node->ev.info.txt = NULL;
    if (txt && txt_len) {
        node->txt = wp_malloc(txt_len);
        if (!node->txt) {
            wp_free(node);
            (void)err_set(&m->err, WP_ENOMEM, "mdns: no memory for an event");
            return;
        }
        memcpy(node->txt, txt, txt_len);
    }
    node->ev.info.txt_len = node->txt ? txt_len : 0;
    if (m->ev_tail)
        m->ev_tail->next = node;
    else
        m->ev_head = node;
    m->ev_tail = node;
    m->n_ev++;
}

static struct mdns_iface *iface_find(mdns *m, uint32_t ifindex)
{
    for (size_t i = 0; i < MDNS_MAX_IFACES; i++) {
        if (m->ifaces[i].in_use && m->ifaces[i].ifindex == ifindex)
            return &m->ifaces[i];
    }
    return NULL;
}

const struct mdns_iface *mdns_iface_get(const mdns *m, uint32_t ifindex)
{
    for (size_t i = 0; i < MDNS_MAX_IFACES; i++) {
        if (m->ifaces[i].in_use && m->ifaces[i].ifindex == ifindex)
            return &m->ifaces[i];
    }
    return NULL;
}

bool mdns_iface_has_family(const struct mdns_iface *ifc, uint8_t family)
{
    for (size_t i = 0; ifc && i < ifc->n_addrs; i++) {
        if (ifc->addrs[i].family == family)
            return true;
    }
    return false;
}

static int link_find(const mdns *m, uint32_t ifindex, uint8_t family)
{
    for (int i = 0; i < LINK_MAX; i++) {
        if (m->links[i].in_use && m->links[i].ifindex == ifindex &&
            m->links[i].family == family)
            return i;
    }
    return -1;
}

static bool ip_eq(const mdns_ip *a, const mdns_ip *b)
{
    return a->family == b->family && memcmp(a->addr, b->addr, a->family == MDNS_INET ? 4 : 16) == 0;
}

static bool ip_in(const mdns_ip *ip, const mdns_ip *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (ip_eq(ip, &list[i]))
            return true;
    }
    return false;
}

/* ------------------------------------------------------------ lifecycle */

/* see mdns.h */
wp_status mdns_new(const struct mdns_config *cfg, int64_t now_ms, mdns **out_m, wp_err *err)
{
    wp_status rc;
    mdns *m = NULL;
    WP_UNUSED(now_ms);
    if (out_m)
        *out_m = NULL;
    if (WP_MISUSE(!cfg || !out_m || !cfg->rng)) {
        rc = err_set(err, WP_EINVAL, "mdns_new: cfg, out_m and cfg->rng are required");
        goto out;
    }
    m = wp_calloc(1, sizeof *m);
    if (!m) {
        rc = err_set(err, WP_ENOMEM, "mdns_new: out of memory");
        goto out;
    }
    m->rng = cfg->rng;
    m->rng_user = cfg->rng_user;
    m->max_packet = cfg->max_packet ? cfg->max_packet : MDNS_DEFAULT_PACKET;
    if (m->max_packet < 512 || m->max_packet > MDNS_PACKET_MAX) {
        rc = err_set(err, WP_EINVAL, "mdns_new: max_packet %zu not in 512..9000",
                     m->max_packet);
        goto out;
    }
    m->max_query_ivl = cfg->max_query_interval_ms ? cfg->max_query_interval_ms : 3600000u;
    if (m->max_query_ivl < 1000)
        m->max_query_ivl = 1000;
    m->max_cache = cfg->max_cache ? cfg->max_cache : 512;
    m->next_id = 1;
    for (int i = 0; i < LINK_MAX; i++)
        m->links[i].resp_due = m->links[i].query_due = T_NEVER;
    rc = resp_init(m, cfg->host_label, err);
    if (rc != WP_OK)
        goto out;
    *out_m = m;
    m = NULL;
out:
    mdns_free(m);
    return rc;
}

/* see mdns.h */
void mdns_free(mdns *m)
{
    if (!m)
        return;
    resp_free(m);
    browse_free(m);
    cache_free(m);
    while (m->out_head)
        mdns_output_done(m);
    for (struct ev_node *e = m->ev_head, *next; e; e = next) {
        next = e->next;
        wp_free(e->txt);
        wp_free(e);
    }
    wp_free(m->ev_txt_hold);
    wp_free(m);
}

/* see mdns.h */
const wp_err *mdns_last_error(const mdns *m)
{
    return &m->err;
}

/* see mdns.h */
void mdns_get_stats(const mdns *m, struct mdns_stats *out)
{
    *out = m->stats;
}

/* ------------------------------------------------------------ interfaces */

static void link_down(mdns *m, int link)
{
    resp_link_down(m, link);
    cache_link_down(m, link);
    memset(&m->links[link], 0, sizeof m->links[link]);
    m->links[link].resp_due = m->links[link].query_due = T_NEVER;
}

static wp_status link_up(mdns *m, uint32_t ifindex, uint8_t family, int64_t now)
{
    for (int i = 0; i < LINK_MAX; i++) {
        if (m->links[i].in_use)
            continue;
        struct mdns_link *l = &m->links[i];
        memset(l, 0, sizeof *l);
        l->in_use = true;
        l->ifindex = ifindex;
        l->family = family;
        l->resp_due = l->query_due = T_NEVER;
        if (!m->is_shutdown) {
            resp_link_up(m, i, now);
            browse_link_up(m, i, now);
        }
        return WP_OK;
    }
    return err_set(&m->err, WP_EFULL, "mdns: no free link slot");
}

/* see mdns.h */
wp_status mdns_iface_set(mdns *m, uint32_t ifindex, const mdns_ip *addrs, size_t n_addrs,
                         int64_t now_ms)
{
    mdns_ip uniq[MDNS_MAX_ADDRS], gone[MDNS_MAX_ADDRS];
    size_t n_uniq = 0, n_gone = 0;
    static const uint8_t fams[2] = {MDNS_INET, MDNS_INET6};

    if (WP_MISUSE(!m || ifindex == 0 || (n_addrs && !addrs)))
        return WP_EINVAL;
    if (n_addrs > MDNS_MAX_ADDRS)
        return err_set(&m->err, WP_ETOOBIG, "mdns: %zu addresses on interface %u > %d",
                       n_addrs, ifindex, MDNS_MAX_ADDRS);
    for (size_t i = 0; i < n_addrs; i++) {
        if (addrs[i].family != MDNS_INET && addrs[i].family != MDNS_INET6)
            return err_set(&m->err, WP_EINVAL, "mdns: address family %u", addrs[i].family);
        if (!ip_in(&addrs[i], uniq, n_uniq))
            uniq[n_uniq++] = addrs[i];
    }
    struct mdns_iface *ifc = iface_find(m, ifindex);
    if (!ifc) {
        if (n_uniq == 0)
            return WP_OK;
        for (size_t i = 0; i < MDNS_MAX_IFACES && !ifc; i++) {
            if (!m->ifaces[i].in_use)
                ifc = &m->ifaces[i];
        }
        if (!ifc)
            return err_set(&m->err, WP_EFULL, "mdns: more than %d interfaces", MDNS_MAX_IFACES);
        memset(ifc, 0, sizeof *ifc);
        ifc->ifindex = ifindex;
    }
    bool had[2], changed = false;
    for (size_t i = 0; i < ifc->n_addrs; i++) {
        if (!ip_in(&ifc->addrs[i], uniq, n_uniq))
            gone[n_gone++] = ifc->addrs[i];
    }
    for (size_t i = 0; i < n_uniq; i++) {
        if (!ip_in(&uniq[i], ifc->addrs, ifc->n_addrs))
            changed = true;
    }
    for (int f = 0; f < 2; f++)
        had[f] = mdns_iface_has_family(ifc, fams[f]);
    /* Goodbyes for vanished addresses go out while their links still exist. */
    if (n_gone && !m->is_shutdown)
        resp_addrs_removed(m, ifindex, gone, n_gone, now_ms);
    ifc->in_use = true;
    ifc->n_addrs = n_uniq;
    memcpy(ifc->addrs, uniq, n_uniq * sizeof uniq[0]);
    for (int f = 0; f < 2; f++) {
        int l = link_find(m, ifindex, fams[f]);
        if (had[f] && !mdns_iface_has_family(ifc, fams[f]) && l >= 0)
            link_down(m, l);
    }
    /* Rebuilding resets the records' rate-limit state: only when something changed. */
    wp_status rc = changed || n_gone ? resp_rebuild_host(m) : WP_OK;
    for (int f = 0; f < 2 && rc == WP_OK; f++) {
        if (!had[f] && mdns_iface_has_family(ifc, fams[f]) && link_find(m, ifindex, fams[f]) < 0)
            rc = link_up(m, ifindex, fams[f], now_ms);
    }
    if (changed || n_gone)
        resp_host_changed(m, ifindex, now_ms);
    if (n_uniq == 0)
        memset(ifc, 0, sizeof *ifc);
    m->browse_dirty = true;
    return rc;
}

/* see mdns.h */
wp_status mdns_iface_remove(mdns *m, uint32_t ifindex, int64_t now_ms)
{
    WP_UNUSED(now_ms);
    struct mdns_iface *ifc = iface_find(m, ifindex);
    if (!ifc)
        return err_set(&m->err, WP_ENOTFOUND, "mdns: no interface %u", ifindex);
    for (int i = 0; i < LINK_MAX; i++) {
        if (m->links[i].in_use && m->links[i].ifindex == ifindex)
            link_down(m, i);
    }
    memset(ifc, 0, sizeof *ifc);
    m->browse_dirty = true;
    return resp_rebuild_host(m);
}

/* ------------------------------------------------------------ I/O */

static void input_response(mdns *m, int link, const uint8_t *pkt, size_t len, int64_t now)
{
    dns_reader rd;
    dns_rr rr;
    enum dns_section sec;
    if (dns_reader_init(&rd, pkt, len, NULL) != WP_OK)
        return;
    while (dns_reader_rr(&rd, &rr, &sec, NULL) == WP_OK) {
        /* Authority records belong to probes; responses answer in the other two. */
        if (sec == DNS_SEC_AUTHORITY)
            continue;
        resp_response_rr(m, link, &rr, now);
        ans_dup_suppress(m, link, &rr);
    }
    if (m->browsing)
        browse_input(m, link, pkt, len, now);
}

/* see mdns.h */
wp_status mdns_input(mdns *m, const uint8_t *pkt, size_t len, const mdns_endpoint *src,
                     bool is_unicast_dst, int64_t now_ms)
{
    dns_reader rd;
    if (WP_MISUSE(!m || !src || (len && !pkt)))
        return WP_EINVAL;
    m->stats.rx_packets++;
    wp_status rc = dns_msg_check(pkt, len, &m->err);
    if (rc != WP_OK) {
        m->stats.rx_bad++;
        return rc;
    }
    int link = link_find(m, src->ifindex, src->ip.family);
    if (m->is_shutdown || link < 0 || dns_reader_init(&rd, pkt, len, NULL) != WP_OK) {
        m->stats.rx_ignored++;
        return WP_OK;
    }
    uint16_t flags = rd.hdr.flags;
    if ((flags & DNS_FLAG_OPCODE_MASK) != 0 || (flags & DNS_FLAG_RCODE_MASK) != 0) {
        m->stats.rx_ignored++; /* RFC 6762 §18.3, §18.11 */
        return WP_OK;
    }
    if (!(flags & DNS_FLAG_QR)) {
        if (src->port == MDNS_PORT && rd.hdr.count[DNS_SEC_AUTHORITY] > 0)
            resp_probe_in(m, link, pkt, len, now_ms);
        ans_query(m, link, pkt, len, src, is_unicast_dst, now_ms);
    } else if (src->port != MDNS_PORT) {
        m->stats.rx_ignored++; /* RFC 6762 §6: responses come from port 5353 */
        return WP_OK;
    } else {
        input_response(m, link, pkt, len, now_ms);
    }
    return mdns_tick(m, now_ms);
}

/* see mdns.h */
const struct mdns_packet *mdns_output(const mdns *m)
{
    return m->out_head ? &m->out_head->p : NULL;
}

/* see mdns.h */
void mdns_output_done(mdns *m)
{
    struct pkt_node *n = m->out_head;
    if (!n)
        return;
    m->out_head = n->next;
    if (!m->out_head)
        m->out_tail = NULL;
    m->n_out--;
    wp_free(n);
}

/* see mdns.h */
int64_t mdns_deadline_ms(const mdns *m)
{
    if (m->is_shutdown)
        return -1;
    int64_t t = t_min(resp_deadline(m), t_min(cache_deadline(m), browse_deadline(m)));
    for (int i = 0; i < LINK_MAX; i++) {
        if (m->links[i].in_use)
            t = t_min(t, m->links[i].resp_due);
    }
    return t == T_NEVER ? -1 : t;
}

/* see mdns.h */
wp_status mdns_tick(mdns *m, int64_t now_ms)
{
    if (WP_MISUSE(!m))
        return WP_EINVAL;
    if (m->is_shutdown)
        return WP_OK;
    resp_tick(m, now_ms);
    for (int i = 0; i < LINK_MAX; i++) {
        if (m->links[i].in_use && m->links[i].resp_due <= now_ms)
            ans_flush(m, i, now_ms);
    }
    cache_expire(m, now_ms);
    browse_tick(m, now_ms);
    browse_update(m, now_ms);
    return WP_OK;
}

/* see mdns.h */
wp_status mdns_next_event(mdns *m, struct mdns_event *out)
{
    struct ev_node *n = m->ev_head;
    if (!n)
        return WP_AGAIN;
    m->ev_head = n->next;
    if (!m->ev_head)
        m->ev_tail = NULL;
    m->n_ev--;
    wp_free(m->ev_txt_hold);
    m->ev_txt_hold = n->txt;
    *out = n->ev;
    out->info.txt = n->txt;
    wp_free(n);
    return WP_OK;
}

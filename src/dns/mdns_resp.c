/*
 * mdns_resp.c - the responder's records and their life: probing (RFC 6762
 * §8.1), simultaneous-probe tie-breaking (§8.2), announcing (§8.3),
 * updates (§8.4), conflicts and renaming (§9), goodbyes (§10.1).
 */
#include "internal.h"
#include "dns/mdns_int.h"

#include <stdio.h>
#include <stdlib.h>

#define PROBE_THEIRS_MAX 32 /* authority records compared per probe (§8.2) */

static const char k_enum_name[] = "_services._dns-sd._udp.local";

/* ------------------------------------------------------------ records */

bool own_on_link(const mdns *m, const struct own_rr *o, int link)
{
    return m->links[link].in_use && (o->ifindex == 0 || o->ifindex == m->links[link].ifindex);
}

bool grp_live(const struct grp *g, int link)
{
    return g->gl[link].state == GS_ANNOUNCING || g->gl[link].state == GS_DONE;
}

static struct own_rr *own_add(mdns *m, struct grp *g, uint8_t kind, bool is_unique,
                              uint32_t ifindex, const dns_name *name, uint16_t type,
                              uint32_t ttl)
{
    if (m->n_own == m->cap_own) {
        size_t cap = m->cap_own ? m->cap_own * 2 : 16;
        struct own_rr **p = wp_realloc(m->own, cap * sizeof *p);
        if (!p)
            return NULL;
        m->own = p;
        m->cap_own = cap;
    }
    struct own_rr *o = wp_calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->g = g;
    o->kind = kind;
    o->is_unique = is_unique;
    o->ifindex = ifindex;
    o->rr.name = *name;
    o->rr.type = type;
    o->rr.rrclass = DNS_CLASS_IN;
    o->rr.cache_flush = is_unique;
    o->rr.ttl = ttl;
    for (int i = 0; i < LINK_MAX; i++)
        o->last_mc[i] = T_LONG_AGO;
    m->own[m->n_own++] = o;
    return o;
}

void resp_own_remove(mdns *m, const struct grp *g)
{
    size_t k = 0;
    for (size_t i = 0; i < m->n_own; i++) {
        if (m->own[i]->g == g)
            wp_free(m->own[i]);
        else
            m->own[k++] = m->own[i];
    }
    m->n_own = k;
}

static wp_status build_host(mdns *m)
{
    struct grp *g = m->host;
    resp_own_remove(m, g);
    for (size_t i = 0; i < MDNS_MAX_IFACES; i++) {
        const struct mdns_iface *ifc = &m->ifaces[i];
        if (!ifc->in_use)
            continue;
        struct own_rr *o;
        for (size_t k = 0; k < ifc->n_addrs; k++) {
            bool v4 = ifc->addrs[k].family == MDNS_INET;
            o = own_add(m, g, OWN_ADDR, true, ifc->ifindex, &g->name,
                        v4 ? DNS_TYPE_A : DNS_TYPE_AAAA, MDNS_TTL_HOST);
            if (!o)
                return err_set(&m->err, WP_ENOMEM, "mdns: out of memory");
            memcpy(v4 ? o->rr.rd.a : o->rr.rd.aaaa, ifc->addrs[k].addr, v4 ? 4 : 16);
        }
        /* §6.1: an NSEC saying which address types this interface has. */
        o = own_add(m, g, OWN_NSEC, true, ifc->ifindex, &g->name, DNS_TYPE_NSEC,
                    MDNS_TTL_HOST);
        if (!o)
            return err_set(&m->err, WP_ENOMEM, "mdns: out of memory");
        o->rr.rd.nsec.next = g->name;
        if (mdns_iface_has_family(ifc, MDNS_INET))
            dns_nsec_set(&o->rr, DNS_TYPE_A);
        if (mdns_iface_has_family(ifc, MDNS_INET6))
            dns_nsec_set(&o->rr, DNS_TYPE_AAAA);
    }
    return WP_OK;
}

wp_status resp_build_service(mdns *m, struct grp *g)
{
    dns_name enum_name;
    struct own_rr *o[5];
    resp_own_remove(m, g);
    if (dns_name_from_str(&enum_name, k_enum_name, NULL) != WP_OK)
        return WP_EINVAL;
    o[0] = own_add(m, g, OWN_PTR, false, 0, &g->type_name, DNS_TYPE_PTR, MDNS_TTL_OTHER);
    o[1] = own_add(m, g, OWN_SRV, true, 0, &g->name, DNS_TYPE_SRV, MDNS_TTL_HOST);
    o[2] = own_add(m, g, OWN_TXT, true, 0, &g->name, DNS_TYPE_TXT, MDNS_TTL_OTHER);
    o[3] = own_add(m, g, OWN_ENUM, false, 0, &enum_name, DNS_TYPE_PTR, MDNS_TTL_OTHER);
    o[4] = own_add(m, g, OWN_NSEC, true, 0, &g->name, DNS_TYPE_NSEC, MDNS_TTL_HOST);
    for (int i = 0; i < 5; i++) {
        if (!o[i]) {
            resp_own_remove(m, g);
            return err_set(&m->err, WP_ENOMEM, "mdns: out of memory");
        }
    }
    o[0]->rr.rd.ptr = g->name;
    o[1]->rr.rd.srv.port = g->port;
    o[1]->rr.rd.srv.target = m->host->name;
    o[2]->rr.data = g->txt;
    o[2]->rr.data_len = (uint16_t)g->txt_len;
    o[3]->rr.rd.ptr = g->type_name;
    o[4]->rr.rd.nsec.next = g->name;
    dns_nsec_set(&o[4]->rr, DNS_TYPE_SRV);
    dns_nsec_set(&o[4]->rr, DNS_TYPE_TXT);
    return WP_OK;
}

wp_status resp_rebuild_host(mdns *m)
{
    return m->host ? build_host(m) : WP_OK;
}

/* ------------------------------------------------------------ names */

/* label = base + suffix, the base cut at a UTF-8 boundary to fit 63 bytes. */
wp_status resp_set_name(mdns *m, struct grp *g)
{
    char suffix[16] = "";
    dns_name local, *parent = &g->type_name;
    if (g->suffix_n)
        (void)snprintf(suffix, sizeof suffix, g->is_host ? "-%u" : " (%u)", g->suffix_n);
    size_t sl = strlen(suffix), bl = strlen(g->base);
    if (bl + sl > DNS_LABEL_MAX) {
        bl = DNS_LABEL_MAX - sl;
        while (bl > 0 && ((unsigned char)g->base[bl] & 0xC0) == 0x80)
            bl--;
    }
    memcpy(g->label, g->base, bl);
    memcpy(g->label + bl, suffix, sl + 1);
    if (g->is_host) {
        if (dns_name_from_str(&local, "local", NULL) != WP_OK)
            return WP_EINVAL;
        parent = &local;
    }
    return dns_name_prepend(&g->name, g->label, strlen(g->label), parent, &m->err);
}

/* ------------------------------------------------------------ states */

int64_t resp_probe_start(mdns *m, int64_t now)
{
    /* §8.1: 15 conflicts in 10 s slow probing down to one attempt per 5 s. */
    int64_t oldest = m->conflict_t[m->conflict_i];
    if (oldest != 0 && now - oldest < 10000)
        return now + PROBE_SLOW;
    return now + mdns_rand(m, 0, PROBE_WAIT_MAX);
}

/*
 * (Re)start probing g on every link at `at`. A normal start (within the
 * 0-250 ms window) joins another name whose first probe is still pending
 * on that link, so the host and its services share probe packets.
 */
void resp_restart(mdns *m, struct grp *g, int64_t at, int64_t now)
{
    for (int i = 0; i < LINK_MAX; i++) {
        int64_t t = at;
        for (size_t k = 0; at <= now + PROBE_WAIT_MAX && k <= MDNS_MAX_REGISTERED; k++) {
            const struct grp *o = k == 0 ? m->host : m->svcs[k - 1];
            if (o && o != g && o->gl[i].state == GS_PROBING && o->gl[i].step == 0 &&
                o->gl[i].next >= now && o->gl[i].next <= now + PROBE_WAIT_MAX)
                t = o->gl[i].next;
        }
        g->gl[i].state = m->links[i].in_use ? GS_PROBING : GS_OFF;
        g->gl[i].step = 0;
        g->gl[i].next = m->links[i].in_use ? t : T_NEVER;
    }
    for (size_t k = 0; k < m->n_own; k++) {
        if (m->own[k]->g == g)
            memset(m->own[k]->pending, 0, sizeof m->own[k]->pending);
    }
}

size_t resp_all_grps(const mdns *m, struct grp **out)
{
    size_t n = 0;
    if (m->host)
        out[n++] = m->host;
    for (size_t i = 0; i < MDNS_MAX_REGISTERED; i++) {
        if (m->svcs[i])
            out[n++] = m->svcs[i];
    }
    return n;
}

void resp_link_up(mdns *m, int link, int64_t now)
{
    struct grp *gs[1 + MDNS_MAX_REGISTERED];
    size_t n = resp_all_grps(m, gs);
    /* One delay for every name, so their probes share packets. */
    int64_t at = resp_probe_start(m, now);
    for (size_t i = 0; i < n; i++) {
        gs[i]->gl[link].state = GS_PROBING;
        gs[i]->gl[link].step = 0;
        gs[i]->gl[link].next = at;
    }
}

void resp_link_down(mdns *m, int link)
{
    struct grp *gs[1 + MDNS_MAX_REGISTERED];
    size_t n = resp_all_grps(m, gs);
    for (size_t i = 0; i < n; i++) {
        gs[i]->gl[link].state = GS_OFF;
        gs[i]->gl[link].next = T_NEVER;
    }
    for (size_t k = 0; k < m->n_own; k++) {
        m->own[k]->pending[link] = false;
        m->own[k]->last_mc[link] = T_LONG_AGO;
    }
}

int64_t resp_deadline(const mdns *m)
{
    int64_t t = T_NEVER;
    struct grp *gs[1 + MDNS_MAX_REGISTERED];
    size_t n = resp_all_grps(m, gs);
    for (size_t i = 0; i < n; i++) {
        for (int l = 0; l < LINK_MAX; l++) {
            if (gs[i]->gl[l].state == GS_PROBING || gs[i]->gl[l].state == GS_ANNOUNCING)
                t = t_min(t, gs[i]->gl[l].next);
        }
    }
    return t;
}

/* Records of g that go out on link (NSEC only as additional data). */
size_t resp_records(mdns *m, const struct grp *g, int link, bool unique_only,
                          struct own_rr **out, size_t cap, size_t n)
{
    for (size_t k = 0; k < m->n_own && n < cap; k++) {
        struct own_rr *o = m->own[k];
        if (o->g == g && o->kind != OWN_NSEC && own_on_link(m, o, link) &&
            (!unique_only || o->is_unique))
            out[n++] = o;
    }
    return n;
}

/* §8.1: questions for each name (type ANY, the first probe QU), proposed records in Authority. */
static bool probe_packet(mdns *m, int link, struct grp **gs, size_t n, int64_t now)
{
    uint8_t buf[MDNS_PACKET_MAX];
    dns_writer wr;
    struct own_rr *recs[64];
    WP_UNUSED(now);
    dns_writer_init(&wr, buf, m->max_packet, 0, 0);
    for (size_t i = 0; i < n; i++) {
        dns_question q = {.name = gs[i]->name, .type = DNS_TYPE_ANY, .qclass = DNS_CLASS_IN,
                          .is_qu = gs[i]->gl[link].step == 0};
        if (dns_writer_question(&wr, &q) != WP_OK)
            return false;
    }
    for (size_t i = 0; i < n; i++) {
        size_t nr = resp_records(m, gs[i], link, true, recs, WP_ARRAY_LEN(recs), 0);
        for (size_t k = 0; k < nr; k++) {
            dns_rr rr = recs[k]->rr;
            rr.cache_flush = false; /* §10.2: only in responses */
            if (dns_writer_rr(&wr, DNS_SEC_AUTHORITY, &rr) != WP_OK)
                return false;
        }
    }
    mdns_emit(m, link, NULL, buf, dns_writer_len(&wr), TX_PROBE);
    return true;
}

static void send_probes(mdns *m, int link, struct grp **gs, size_t n, int64_t now)
{
    if (probe_packet(m, link, gs, n, now))
        return;
    for (size_t i = 0; i < n; i++) {
        if (!probe_packet(m, link, &gs[i], 1, now))
            (void)err_set(&m->err, WP_ETOOBIG, "mdns: probe for %s does not fit a datagram",
                          gs[i]->label);
    }
}

static void send_announce(mdns *m, int link, struct grp **gs, size_t n_gs, int64_t now)
{
    struct own_rr *recs[256];
    size_t n = 0;
    for (size_t i = 0; i < n_gs; i++)
        n = resp_records(m, gs[i], link, false, recs, WP_ARRAY_LEN(recs), n);
    ans_send_records(m, link, recs, n, -1, TX_ANNOUNCE, now);
}

void resp_tick(mdns *m, int64_t now)
{
    struct grp *gs[1 + MDNS_MAX_REGISTERED], *due[1 + MDNS_MAX_REGISTERED];
    size_t n = resp_all_grps(m, gs);
    for (int l = 0; l < LINK_MAX; l++) {
        if (!m->links[l].in_use)
            continue;
        size_t nd = 0;
        for (size_t i = 0; i < n; i++) {
            struct grp_link *gl = &gs[i]->gl[l];
            if (gl->state != GS_PROBING || gl->next > now)
                continue;
            if (gl->step < PROBE_COUNT) {
                due[nd++] = gs[i];
            } else {
                gl->state = GS_ANNOUNCING; /* §8.3: 250 ms after the last probe, no conflict */
                gl->step = 0;
            }
        }
        if (nd) {
            send_probes(m, l, due, nd, now);
            for (size_t i = 0; i < nd; i++) {
                due[i]->gl[l].next = now + PROBE_INTERVAL;
                due[i]->gl[l].step++;
            }
        }
        nd = 0;
        for (size_t i = 0; i < n; i++) {
            if (gs[i]->gl[l].state == GS_ANNOUNCING && gs[i]->gl[l].next <= now)
                due[nd++] = gs[i];
        }
        if (!nd)
            continue;
        send_announce(m, l, due, nd, now);
        for (size_t i = 0; i < nd; i++) {
            struct grp *g = due[i];
            g->gl[l].next = now + ANNOUNCE_INTERVAL;
            if (++g->gl[l].step == ANNOUNCE_COUNT) {
                g->gl[l].state = GS_DONE;
                g->gl[l].next = T_NEVER;
            }
            if (!g->reported && !g->is_host) {
                struct mdns_event ev = {.type = MDNS_EV_REGISTERED, .service_id = g->id};
                (void)snprintf(ev.name, sizeof ev.name, "%s", g->label);
                mdns_event_push(m, &ev, NULL, 0);
            }
            g->reported = true;
        }
    }
}

/* ------------------------------------------------------------ conflicts */

static void note_conflict(mdns *m, int64_t now)
{
    m->stats.conflicts++;
    m->conflict_t[m->conflict_i] = now;
    m->conflict_i = (m->conflict_i + 1) % WP_ARRAY_LEN(m->conflict_t);
}

static void rename_grp(mdns *m, struct grp *g, int64_t now)
{
    g->suffix_n = g->suffix_n ? g->suffix_n + 1 : 2;
    if (resp_set_name(m, g) != WP_OK)
        return;
    struct mdns_event ev = {.type = g->is_host ? MDNS_EV_HOST_RENAMED : MDNS_EV_RENAMED,
                            .service_id = g->id};
    (void)snprintf(ev.name, sizeof ev.name, "%s", g->label);
    mdns_event_push(m, &ev, NULL, 0);
    int64_t at = resp_probe_start(m, now);
    if (!g->is_host) {
        if (resp_build_service(m, g) == WP_OK)
            resp_restart(m, g, at, now);
        return;
    }
    /* A new host name changes every SRV target: probe everything again. */
    struct grp *gs[1 + MDNS_MAX_REGISTERED];
    size_t n = resp_all_grps(m, gs);
    (void)build_host(m);
    for (size_t i = 0; i < n; i++) {
        if (!gs[i]->is_host)
            (void)resp_build_service(m, gs[i]);
        resp_restart(m, gs[i], at, now);
    }
}

static bool is_ours(const mdns *m, const struct grp *g, const dns_rr *rr)
{
    for (size_t k = 0; k < m->n_own; k++) {
        if (m->own[k]->g == g && dns_rr_same_data(&m->own[k]->rr, rr))
            return true;
    }
    return false;
}

static bool owns_type(const struct grp *g, uint16_t type)
{
    if (type == DNS_TYPE_NSEC)
        return true;
    return g->is_host ? (type == DNS_TYPE_A || type == DNS_TYPE_AAAA)
                      : (type == DNS_TYPE_SRV || type == DNS_TYPE_TXT);
}

/* A record in someone's response (§8.1 during probing, §9 afterwards). */
void resp_response_rr(mdns *m, int link, const dns_rr *rr, int64_t now)
{
    struct grp *gs[1 + MDNS_MAX_REGISTERED];
    if (rr->ttl == 0 || rr->rrclass != DNS_CLASS_IN)
        return;
    size_t n = resp_all_grps(m, gs);
    for (size_t i = 0; i < n; i++) {
        struct grp *g = gs[i];
        uint8_t st = g->gl[link].state;
        if (st == GS_OFF || !dns_name_eq(&rr->name, &g->name))
            continue;
        if ((st != GS_PROBING && !owns_type(g, rr->type)) || is_ours(m, g, rr))
            continue;
        note_conflict(m, now);
        if (st == GS_PROBING)
            rename_grp(m, g, now);
        else
            resp_restart(m, g, resp_probe_start(m, now), now); /* §9: probe again */
        return;
    }
}

static int cmp_rr(const void *a, const void *b)
{
    return dns_rr_cmp_lex(*(const dns_rr *const *)a, *(const dns_rr *const *)b);
}

/* §8.2: a probe for a name we are probing too; compare the proposed records. */
static void tie_break(mdns *m, int link, struct grp *g, const dns_rr *theirs, size_t n_theirs,
                      int64_t now)
{
    struct own_rr *recs[64];
    const dns_rr *ours[64], *their_p[PROBE_THEIRS_MAX];
    bool all_ours = true;
    for (size_t i = 0; i < n_theirs; i++)
        all_ours &= is_ours(m, g, &theirs[i]);
    if (all_ours)
        return; /* our own probe, back through another interface on the same LAN */
    size_t n_ours = resp_records(m, g, link, true, recs, WP_ARRAY_LEN(recs), 0);
    for (size_t i = 0; i < n_ours; i++)
        ours[i] = &recs[i]->rr;
    for (size_t i = 0; i < n_theirs; i++)
        their_p[i] = &theirs[i];
    qsort(ours, n_ours, sizeof ours[0], cmp_rr);
    qsort(their_p, n_theirs, sizeof their_p[0], cmp_rr);
    int c = 0;
    for (size_t i = 0; c == 0 && i < n_ours && i < n_theirs; i++)
        c = dns_rr_cmp_lex(ours[i], their_p[i]);
    if (c == 0 && n_ours != n_theirs)
        c = n_ours < n_theirs ? -1 : 1; /* the list with records left wins */
    if (c < 0)
        resp_restart(m, g, now + PROBE_DEFER, now); /* we lost: try again in 1 s */
}

void resp_probe_in(mdns *m, int link, const uint8_t *pkt, size_t len, int64_t now)
{
    struct grp *gs[1 + MDNS_MAX_REGISTERED];
    size_t n = resp_all_grps(m, gs);
    dns_rr *theirs = NULL;
    for (size_t i = 0; i < n; i++) {
        struct grp *g = gs[i];
        if (g->gl[link].state != GS_PROBING)
            continue;
        if (!theirs && !(theirs = wp_calloc(PROBE_THEIRS_MAX, sizeof *theirs))) {
            (void)err_set(&m->err, WP_ENOMEM, "mdns: out of memory");
            return;
        }
        dns_reader rd;
        enum dns_section sec;
        size_t nt = 0;
        if (dns_reader_init(&rd, pkt, len, NULL) != WP_OK)
            break;
        while (nt < PROBE_THEIRS_MAX && dns_reader_rr(&rd, &theirs[nt], &sec, NULL) == WP_OK) {
            if (sec == DNS_SEC_AUTHORITY && dns_name_eq(&theirs[nt].name, &g->name))
                nt++;
        }
        if (nt)
            tie_break(m, link, g, theirs, nt, now);
    }
    wp_free(theirs);
}

/* ------------------------------------------------------------ addresses */

void resp_addrs_removed(mdns *m, uint32_t ifindex, const mdns_ip *gone, size_t n_gone,
                        int64_t now)
{
    struct own_rr *recs[MDNS_MAX_ADDRS];
    size_t n = 0;
    if (!m->host)
        return;
    for (size_t k = 0; k < m->n_own && n < MDNS_MAX_ADDRS; k++) {
        struct own_rr *o = m->own[k];
        if (o->kind != OWN_ADDR || o->ifindex != ifindex)
            continue;
        for (size_t i = 0; i < n_gone; i++) {
            bool v4 = gone[i].family == MDNS_INET;
            if (o->rr.type == (v4 ? DNS_TYPE_A : DNS_TYPE_AAAA) &&
                memcmp(v4 ? o->rr.rd.a : o->rr.rd.aaaa, gone[i].addr, v4 ? 4 : 16) == 0)
                recs[n++] = o;
        }
    }
    for (int l = 0; l < LINK_MAX && n; l++) {
        if (m->links[l].in_use && m->links[l].ifindex == ifindex && grp_live(m->host, l))
            ans_send_records(m, l, recs, n, 0, TX_GOODBYE, now);
    }
}

void resp_host_changed(mdns *m, uint32_t ifindex, int64_t now)
{
    if (!m->host || m->is_shutdown)
        return;
    for (int l = 0; l < LINK_MAX; l++) {
        struct grp_link *gl = &m->host->gl[l];
        if (m->links[l].in_use && m->links[l].ifindex == ifindex && grp_live(m->host, l)) {
            gl->state = GS_ANNOUNCING; /* §8.4: announce the new data */
            gl->step = 0;
            gl->next = now;
        }
    }
}

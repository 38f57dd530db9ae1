/*
 * mdns_service.c - the responder's public API: registering, updating and
 * withdrawing services (goodbyes, RFC 6762 §10.1), and shutting down.
 */
#include "internal.h"
#include "dns/mdns_int.h"

#include <stdio.h>

/* Split "Name (7)" into base "Name" and 7 (services only, RFC 6763 Appendix D). */
static void split_suffix(struct grp *g, const char *label)
{
    size_t n = strlen(label);
    (void)snprintf(g->base, sizeof g->base, "%s", label);
    g->suffix_n = 0;
    if (g->is_host || n < 5 || label[n - 1] != ')')
        return;
    size_t close = n - 1, d = close; /* digits are label[d..close) */
    while (d > 0 && label[d - 1] >= '0' && label[d - 1] <= '9')
        d--;
    if (close - d < 1 || close - d > 5 || d < 3 || label[d - 1] != '(' ||
        label[d - 2] != ' ' || label[d] == '0')
        return;
    unsigned v = 0;
    for (size_t i = d; i < close; i++)
        v = v * 10u + (unsigned)(label[i] - '0');
    if (v < 2)
        return;
    g->base[d - 2] = '\0';
    g->suffix_n = v;
}

wp_status resp_init(mdns *m, const char *host_label, wp_err *err)
{
    if (!host_label)
        return WP_OK;
    size_t n = strlen(host_label);
    if (n < 1 || n > DNS_LABEL_MAX)
        return err_set(err, WP_EINVAL, "mdns: host label length %zu not in 1..63", n);
    struct grp *g = wp_calloc(1, sizeof *g);
    if (!g)
        return err_set(err, WP_ENOMEM, "mdns: out of memory");
    g->is_host = true;
    memcpy(g->base, host_label, n + 1);
    m->host = g;
    for (int i = 0; i < LINK_MAX; i++)
        g->gl[i].next = T_NEVER;
    return resp_set_name(m, g) == WP_OK ? WP_OK
                                       : err_set(err, WP_EINVAL, "mdns: bad host label");
}

static void grp_free(struct grp *g)
{
    if (g)
        wp_free(g->txt);
    wp_free(g);
}

void resp_free(mdns *m)
{
    for (size_t k = 0; k < m->n_own; k++)
        wp_free(m->own[k]);
    wp_free(m->own);
    m->own = NULL;
    m->n_own = m->cap_own = 0;
    for (size_t i = 0; i < MDNS_MAX_REGISTERED; i++) {
        grp_free(m->svcs[i]);
        m->svcs[i] = NULL;
    }
    grp_free(m->host);
    m->host = NULL;
}

static struct grp *svc_find(const mdns *m, uint32_t id)
{
    for (size_t i = 0; i < MDNS_MAX_REGISTERED; i++) {
        if (m->svcs[i] && m->svcs[i]->id == id)
            return m->svcs[i];
    }
    return NULL;
}

wp_status mdns_type_name(const char *type, dns_name *out, wp_err *err)
{
    char buf[300];
    if (strlen(type) > 200)
        return err_set(err, WP_EINVAL, "mdns: service type too long");
    (void)snprintf(buf, sizeof buf, "%s.local", type);
    wp_status rc = dns_name_from_str(out, buf, err);
    if (rc != WP_OK)
        return rc;
    const uint8_t *w = out->wire;
    /* "_name._tcp" or "_name._udp" (RFC 6763 §7): 2 labels plus "local". */
    if (dns_name_label_count(out) != 3 || w[0] < 2 || w[1] != '_' || w[w[0] + 1] != 4 ||
        w[w[0] + 2] != '_' ||
        !((memcmp(w + w[0] + 3, "tcp", 3) == 0) || memcmp(w + w[0] + 3, "udp", 3) == 0))
        return err_set(err, WP_EINVAL, "mdns: service type \"%s\" is not _name._tcp/_udp", type);
    return WP_OK;
}

static wp_status set_txt(struct grp *g, const uint8_t *txt, size_t len, wp_err *err)
{
    uint8_t *copy = NULL;
    if (len > MDNS_TXT_MAX)
        return err_set(err, WP_ETOOBIG, "mdns: TXT of %zu bytes > %d", len, MDNS_TXT_MAX);
    if (len && txt_check(txt, len, err) != WP_OK)
        return WP_EINVAL;
    if (len) {
        if (!(copy = wp_malloc(len)))
            return err_set(err, WP_ENOMEM, "mdns: out of memory");
        memcpy(copy, txt, len);
    }
    wp_free(g->txt);
    g->txt = copy;
    g->txt_len = len;
    return WP_OK;
}

/* see mdns.h */
wp_status mdns_service_add(mdns *m, const struct mdns_service_desc *d, int64_t now_ms,
                           uint32_t *out_id)
{
    wp_status rc;
    struct grp *g = NULL;
    size_t slot = MDNS_MAX_REGISTERED;
    if (WP_MISUSE(!m || !d || !d->instance || !out_id || (d->txt_len && !d->txt)))
        return WP_EINVAL;
    size_t il = strlen(d->instance);
    if (m->is_shutdown || !m->host)
        return err_set(&m->err, WP_ESTATE, "mdns: no host label, or shut down");
    if (il < 1 || il > DNS_LABEL_MAX)
        return err_set(&m->err, WP_EINVAL, "mdns: instance name of %zu bytes not in 1..63", il);
    for (size_t i = MDNS_MAX_REGISTERED; i-- > 0;) {
        if (!m->svcs[i])
            slot = i;
    }
    if (slot == MDNS_MAX_REGISTERED)
        return err_set(&m->err, WP_EFULL, "mdns: %d services registered", MDNS_MAX_REGISTERED);
    if (!(g = wp_calloc(1, sizeof *g)))
        return err_set(&m->err, WP_ENOMEM, "mdns: out of memory");
    rc = mdns_type_name(d->type ? d->type : MDNS_SERVICE_TYPE, &g->type_name, &m->err);
    if (rc == WP_OK)
        rc = set_txt(g, d->txt, d->txt_len, &m->err);
    if (rc != WP_OK)
        goto out;
    split_suffix(g, d->instance);
    g->port = d->port;
    if ((rc = resp_set_name(m, g)) != WP_OK)
        goto out;
    for (size_t i = 0; i < MDNS_MAX_REGISTERED; i++) {
        if (m->svcs[i] && dns_name_eq(&m->svcs[i]->name, &g->name)) {
            rc = err_set(&m->err, WP_EEXIST, "mdns: service \"%s\" already registered",
                         d->instance);
            goto out;
        }
    }
    if ((rc = resp_build_service(m, g)) != WP_OK)
        goto out;
    g->id = m->next_id++;
    if (m->next_id == 0)
        m->next_id = 1;
    m->svcs[slot] = g;
    resp_restart(m, g, resp_probe_start(m, now_ms), now_ms);
    *out_id = g->id;
    g = NULL;
out:
    grp_free(g);
    return rc;
}

/* Goodbye for a service's records on every link where it was announced. */
static void svc_goodbye(mdns *m, struct grp *g, int64_t now)
{
    struct own_rr *recs[8];
    bool keep_enum = false;
    for (size_t i = 0; i < MDNS_MAX_REGISTERED; i++) {
        if (m->svcs[i] && m->svcs[i] != g && dns_name_eq(&m->svcs[i]->type_name, &g->type_name))
            keep_enum = true; /* another service of this type still answers the enum PTR */
    }
    for (int l = 0; l < LINK_MAX; l++) {
        if (!m->links[l].in_use || !grp_live(g, l))
            continue;
        size_t n = resp_records(m, g, l, false, recs, WP_ARRAY_LEN(recs), 0), k = 0;
        for (size_t i = 0; i < n; i++) {
            if (!(keep_enum && recs[i]->kind == OWN_ENUM))
                recs[k++] = recs[i];
        }
        ans_send_records(m, l, recs, k, 0, TX_GOODBYE, now);
    }
}

/* see mdns.h */
wp_status mdns_service_remove(mdns *m, uint32_t id, int64_t now_ms)
{
    struct grp *g = m ? svc_find(m, id) : NULL;
    if (!g)
        return m ? err_set(&m->err, WP_ENOTFOUND, "mdns: no service %u", id) : WP_EINVAL;
    if (!m->is_shutdown)
        svc_goodbye(m, g, now_ms);
    resp_own_remove(m, g);
    for (size_t i = 0; i < MDNS_MAX_REGISTERED; i++) {
        if (m->svcs[i] == g)
            m->svcs[i] = NULL;
    }
    grp_free(g);
    return WP_OK;
}

/* see mdns.h */
wp_status mdns_service_set_txt(mdns *m, uint32_t id, const uint8_t *txt, size_t txt_len,
                               int64_t now_ms)
{
    struct grp *g = m ? svc_find(m, id) : NULL;
    if (!g)
        return m ? err_set(&m->err, WP_ENOTFOUND, "mdns: no service %u", id) : WP_EINVAL;
    if (WP_MISUSE(txt_len && !txt))
        return WP_EINVAL;
    wp_status rc = set_txt(g, txt, txt_len, &m->err);
    for (size_t k = 0; rc == WP_OK && k < m->n_own; k++) {
        if (m->own[k]->g == g && m->own[k]->kind == OWN_TXT) {
            m->own[k]->rr.data = g->txt;
            m->own[k]->rr.data_len = (uint16_t)g->txt_len;
        }
    }
    for (int l = 0; rc == WP_OK && l < LINK_MAX; l++) {
        if (grp_live(g, l)) {
            g->gl[l].state = GS_ANNOUNCING; /* §8.4 */
            g->gl[l].step = 0;
            g->gl[l].next = now_ms;
        }
    }
    return rc;
}

/* see mdns.h */
const char *mdns_service_name(const mdns *m, uint32_t id)
{
    const struct grp *g = svc_find(m, id);
    return g ? g->label : NULL;
}

/* see mdns.h */
wp_status mdns_host_set(mdns *m, const char *host_label, int64_t now_ms)
{
    if (WP_MISUSE(!m || !host_label))
        return WP_EINVAL;
    if (m->host || m->is_shutdown)
        return err_set(&m->err, WP_ESTATE, "mdns: host label already set, or shut down");
    wp_status rc = resp_init(m, host_label, &m->err);
    if (rc == WP_OK)
        rc = resp_rebuild_host(m);
    if (rc != WP_OK) {
        if (m->host)
            resp_own_remove(m, m->host);
        grp_free(m->host);
        m->host = NULL;
        return rc;
    }
    resp_restart(m, m->host, resp_probe_start(m, now_ms), now_ms);
    return WP_OK;
}

/* see mdns.h */
const char *mdns_host_label(const mdns *m)
{
    return m->host ? m->host->label : NULL;
}

/* see mdns.h */
wp_status mdns_shutdown(mdns *m, int64_t now_ms)
{
    struct grp *gs[1 + MDNS_MAX_REGISTERED];
    struct own_rr **recs = NULL;
    if (WP_MISUSE(!m))
        return WP_EINVAL;
    if (m->is_shutdown)
        return WP_OK;
    size_t n = resp_all_grps(m, gs);
    if (m->n_own && !(recs = wp_calloc(m->n_own, sizeof *recs)))
        return err_set(&m->err, WP_ENOMEM, "mdns: out of memory");
    for (int l = 0; l < LINK_MAX; l++) {
        size_t nr = 0;
        for (size_t i = 0; m->links[l].in_use && i < n; i++) {
            if (grp_live(gs[i], l))
                nr = resp_records(m, gs[i], l, false, recs, m->n_own, nr);
        }
        if (nr)
            ans_send_records(m, l, recs, nr, 0, TX_GOODBYE, now_ms);
    }
    wp_free(recs);
    for (size_t i = 0; i < n; i++)
        resp_restart(m, gs[i], T_NEVER, now_ms);
    for (size_t i = 0; i < n; i++) {
        for (int l = 0; l < LINK_MAX; l++)
            gs[i]->gl[l].state = GS_OFF;
    }
    m->is_shutdown = true;
    mdns_browse_stop(m);
    return WP_OK;
}

/*
 * disc_view.c - see disc_view.h.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <sys/socket.h>

#include "dns/txt.h"
#include "runtime/disc_view.h"

static void addr_text(const struct disc_addr *a, wp_service_addr *out)
{
    memset(out, 0, sizeof *out);
    out->family = a->family;
    memcpy(out->bytes, a->ip, a->family == 4 ? 4 : 16);
    out->ifindex = a->ifindex;
    if (a->ifindex == 0 || !if_indextoname(a->ifindex, out->ifname))
        out->ifname[0] = '\0';
    char ip[INET6_ADDRSTRLEN] = "";
    if (!inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->ip, ip, sizeof ip))
        ip[0] = '\0';
    /* fe80::/10 means nothing without its interface (RFC 4007 §11). */
    bool scoped = a->family == 6 && a->ip[0] == 0xfe && (a->ip[1] & 0xc0) == 0x80;
    char ifn[WP_IFNAME_MAX];
    memcpy(ifn, out->ifname, sizeof ifn);
    if (scoped && ifn[0])
        snprintf(out->text, sizeof out->text, "%s%%%s", ip, ifn);
    else if (scoped)
        snprintf(out->text, sizeof out->text, "%s%%%u", ip, a->ifindex);
    else
        snprintf(out->text, sizeof out->text, "%s", ip);
}

/* Count the attributes of a TXT record (stops at the first malformed string). */
static size_t txt_count(const struct disc_svc *s)
{
    txt_iter it;
    txt_item item;
    size_t n = 0;
    txt_iter_init(&it, s->txt, s->has_txt ? s->txt_len : 0);
    while (txt_iter_next(&it, &item, NULL) == WP_OK)
        n++;
    return n;
}

/* see disc_view.h */
struct disc_view *disc_view_new(const struct disc *d, const struct disc_svc *s)
{
    size_t n_txt = txt_count(s);
    /* Keys and values copied with a NUL each: at most the record plus 2 per item. */
    size_t store_len = s->txt_len + 2 * n_txt;
    size_t size = sizeof(struct disc_view) + n_txt * sizeof(wp_txt_entry) + store_len;
    struct disc_view *v = wp_calloc(1, size);
    if (!v)
        return NULL;
    v->txt = (wp_txt_entry *)(void *)(v + 1);
    char *store = (char *)(v->txt + n_txt);
    txt_iter it;
    txt_item item;
    txt_iter_init(&it, s->txt, s->has_txt ? s->txt_len : 0);
    while (v->n_txt < n_txt && txt_iter_next(&it, &item, NULL) == WP_OK) {
        wp_txt_entry *e = &v->txt[v->n_txt++];
        memcpy(store, item.key, item.key_len);
        store[item.key_len] = '\0';
        e->key = store;
        store += item.key_len + 1;
        e->has_value = item.has_value;
        if (item.value_len)
            memcpy(store, item.value, item.value_len);
        store[item.value_len] = '\0';
        e->value = (const uint8_t *)store;
        e->value_len = item.value_len;
        store += item.value_len + 1;
    }
    /* IPv4 first, then IPv6, each family in the order the backend gave. */
    for (int fam = 4; fam <= 6; fam += 2) {
        if ((fam == 4 && d->no_v4) || (fam == 6 && d->no_v6))
            continue;
        for (size_t i = 0; i < s->n_addrs && v->svc.n_addrs < WP_SERVICE_MAX_ADDRS; i++) {
            if (s->addrs[i].family == fam)
                addr_text(&s->addrs[i], &v->addrs[v->svc.n_addrs++]);
        }
    }
    txt_wipeer_info ti;
    txt_wipeer_parse(s->txt, s->has_txt ? s->txt_len : 0, &ti);
    wp_fingerprint fp;
    size_t fp_len;
    if (ti.has_fp && wp_fingerprint_parse(ti.fp, &fp, &fp_len) == WP_OK) {
        wp_fingerprint_format_short(&fp, v->fp);
        v->svc.fingerprint = v->fp;
    }
    v->svc.name = s->name;
    v->svc.host = s->host;
    v->svc.port = s->port;
    v->svc.addrs = v->addrs;
    v->svc.txt = v->txt;
    v->svc.n_txt = v->n_txt;
    v->svc.version = ti.version;
    v->svc.is_connectable = s->has_txt && ti.is_connectable;
    v->svc.is_own = s->is_own;
    return v;
}

/* see disc_view.h */
void disc_view_free(struct disc_view *v)
{
    wp_free(v);
}

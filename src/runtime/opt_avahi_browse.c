/*
 * opt_avahi_browse.c - browse a service type through avahi-daemon and keep
 * every instance resolved (avahi.h: FOUND, UPDATED, REMOVED).
 *
 * Avahi reports a service once per (interface, protocol) pair it is seen
 * on. Each pair gets a resolver that stays open, so later changes (a new
 * TXT, a new address) arrive as further results; the resolver asks for the
 * address family of the transport it was seen on (A over IPv4, AAAA over
 * IPv6). The events aggregate the pairs: one service, every address, and
 * host, port and TXT from the newest resolution.
 */
#include "internal.h"

#include <stdlib.h>

#include <avahi-common/domain.h>
#include <avahi-common/error.h>

#include "codec/buf.h"
#include "runtime/avahi_int.h"

#define RESOLVE_TRIES 3u /* a resolver times out (lost packets): retry this often */

/* ------------------------------------------------------------ lifetime */

static void inst_free(struct avb_inst *i)
{
    wp_free(i->host);
    wp_free(i->txt);
    wp_free(i);
}

static void svc_free(struct avb_svc *s)
{
    while (s->insts) {
        struct avb_inst *i = s->insts;
        s->insts = i->next;
        inst_free(i);
    }
    wp_free(s->name);
    wp_free(s->type);
    wp_free(s->domain);
    wp_free(s->host);
    wp_free(s->addrs);
    wp_free(s->txt);
    wp_free(s);
}

void avb_browse_sweep(avb_browser *br, bool is_all)
{
    for (struct avb_svc **ps = &br->svcs; *ps;) {
        struct avb_svc *s = *ps;
        if (s->is_gone || is_all) {
            *ps = s->next;
            svc_free(s);
            continue;
        }
        for (struct avb_inst **pi = &s->insts; *pi;) {
            struct avb_inst *i = *pi;
            if (i->is_gone) {
                *pi = i->next;
                inst_free(i);
            } else {
                pi = &i->next;
            }
        }
        ps = &s->next;
    }
}

static void inst_drop(struct avb_inst *i)
{
    if (i->res)
        avahi_service_resolver_free(i->res);
    i->res = NULL;
    i->is_gone = true;
}

/* ------------------------------------------------------------ events */

static int addr_cmp(const void *pa, const void *pb)
{
    const struct avb_addr *a = pa, *b = pb;
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    int c = memcmp(a->bytes, b->bytes, sizeof a->bytes);
    if (c != 0)
        return c;
    return a->ifindex < b->ifindex ? -1 : a->ifindex > b->ifindex;
}

static bool key_eq(const char *a, const char *b)
{
    size_t m = 0;
    while (a[m] && b[m] && (a[m] | 0x20) == (b[m] | 0x20))
        m++;
    return !a[m] && !b[m];
}

/*
 * TXT RDATA -> items (RFC 6763 §6.3-6.4). Keys are copied NUL-terminated
 * into *out_keys; values point into rdata. Skipped: empty strings, an empty
 * key ("=x"), keys with bytes outside 0x20-0x7E, and repeats of a key
 * (only the first counts).
 */
static wp_status txt_parse(const uint8_t *rdata, size_t len, struct avb_txt **out_txt,
                           size_t *out_n, char **out_keys)
{
    wp_rbuf r;
    struct avb_txt *items = NULL;
    char *keys = NULL;
    size_t n = 0, kpos = 0;
    *out_txt = NULL;
    *out_keys = NULL;
    *out_n = 0;
    if (len == 0)
        return WP_OK;
    items = wp_calloc(len, sizeof *items); /* at most one item per byte */
    keys = wp_malloc(len + 1);
    if (!items || !keys) {
        wp_free(items);
        wp_free(keys);
        return WP_ENOMEM;
    }
    rbuf_init(&r, rdata, len);
    while (rbuf_remaining(&r) > 0) {
        uint8_t slen = rbuf_u8(&r);
        const uint8_t *p = rbuf_ptr(&r, slen);
        if (!p)
            break; /* truncated string: stop at the last whole one */
        size_t klen = 0;
        bool is_ok = true;
        while (klen < slen && p[klen] != '=') {
            is_ok = is_ok && p[klen] >= 0x20 && p[klen] <= 0x7e;
            klen++;
        }
        if (klen == 0 || !is_ok)
            continue;
        char *key = keys + kpos;
        memcpy(key, p, klen);
        key[klen] = '\0';
        bool is_dup = false;
        for (size_t j = 0; j < n && !is_dup; j++)
            is_dup = key_eq(items[j].key, key);
        if (is_dup)
            continue;
        kpos += klen + 1;
        items[n].key = key;
        items[n].has_value = klen < slen;
        items[n].value = items[n].has_value ? p + klen + 1 : NULL;
        items[n].value_len = items[n].has_value ? (size_t)slen - klen - 1 : 0;
        n++;
    }
    *out_txt = items;
    *out_keys = keys;
    *out_n = n;
    return WP_OK;
}

/* A problem with one service (name) or one step; the browse goes on. */
static void emit_browse_error(avb_browser *br, const char *name, wp_status st, const char *what)
{
    wp_err e;
    err_clear(&e);
    err_set(&e, st, "%s", what);
    struct avb_event ev = {.kind = AVB_EV_FAILED, .browse = br, .name = name, .err = &e};
    avb_emit(br->b, &ev);
}

/* Report s (FOUND, UPDATED or REMOVED) from its snapshot. */
static void svc_emit(struct avb_svc *s, enum avb_event_kind kind)
{
    struct avb_txt *txt = NULL;
    char *keys = NULL;
    size_t n_txt = 0;
    if (txt_parse(s->txt, s->txt_len, &txt, &n_txt, &keys) != WP_OK) {
        emit_browse_error(s->br, s->name, WP_ENOMEM, "TXT of a found service");
        return;
    }
    struct avb_service view = {
        .name = s->name,
        .type = s->type,
        .domain = s->domain,
        .host = s->host,
        .port = s->port,
        .addrs = s->addrs,
        .n_addrs = s->n_addrs,
        .txt = txt,
        .n_txt = n_txt,
        .is_local = s->is_local,
        .is_own = s->is_own,
    };
    struct avb_event ev = {.kind = kind, .browse = s->br, .name = s->name, .svc = &view};
    avb_emit(s->br->b, &ev);
    wp_free(txt);
    wp_free(keys);
}

/* Recompute s from its resolved instances; report it if anything changed. */
static void svc_refresh(struct avb_svc *s)
{
    struct avb_inst *best = NULL;
    size_t n = 0;
    for (struct avb_inst *i = s->insts; i; i = i->next) {
        if (i->is_gone || !i->is_resolved)
            continue;
        n++;
        if (!best || i->seq > best->seq)
            best = i;
    }
    if (!best)
        return;
    struct avb_addr *addrs = wp_calloc(n, sizeof *addrs);
    size_t n_addrs = 0;
    if (!addrs) {
        emit_browse_error(s->br, s->name, WP_ENOMEM, "addresses of a found service");
        return;
    }
    for (struct avb_inst *i = s->insts; i; i = i->next) {
        if (i->is_gone || !i->is_resolved)
            continue;
        bool is_dup = false;
        for (size_t j = 0; j < n_addrs && !is_dup; j++)
            is_dup = addr_cmp(&addrs[j], &i->addr) == 0;
        if (!is_dup)
            addrs[n_addrs++] = i->addr;
    }
    qsort(addrs, n_addrs, sizeof *addrs, addr_cmp);
    bool is_same = s->is_announced && s->port == best->port && s->host &&
                   s->is_local == best->is_local && s->is_own == best->is_own &&
                   strcmp(s->host, best->host) == 0 && s->n_addrs == n_addrs &&
                   memcmp(s->addrs, addrs, n_addrs * sizeof *addrs) == 0 &&
                   s->txt_len == best->txt_len &&
                   (s->txt_len == 0 || memcmp(s->txt, best->txt, s->txt_len) == 0);
    if (is_same) {
        wp_free(addrs);
        return;
    }
    char *host = wp_strdup(best->host);
    uint8_t *txt = best->txt_len ? wp_malloc(best->txt_len) : NULL;
    if (!host || (best->txt_len && !txt)) {
        wp_free(addrs);
        wp_free(host);
        wp_free(txt);
        emit_browse_error(s->br, s->name, WP_ENOMEM, "a found service");
        return;
    }
    if (best->txt_len)
        memcpy(txt, best->txt, best->txt_len);
    wp_free(s->host);
    wp_free(s->addrs);
    wp_free(s->txt);
    s->host = host;
    s->port = best->port;
    s->addrs = addrs;
    s->n_addrs = n_addrs;
    s->txt = txt;
    s->txt_len = best->txt_len;
    s->is_local = best->is_local;
    s->is_own = best->is_own;
    bool was_announced = s->is_announced;
    s->is_announced = true;
    svc_emit(s, was_announced ? AVB_EV_UPDATED : AVB_EV_FOUND);
}

/* ------------------------------------------------------------ resolving */

static void resolver_cb(AvahiServiceResolver *r, AvahiIfIndex ifindex, AvahiProtocol proto,
                        AvahiResolverEvent event, const char *name, const char *type,
                        const char *domain, const char *host, const AvahiAddress *a,
                        uint16_t port, AvahiStringList *txt, AvahiLookupResultFlags flags,
                        void *user);

static void inst_resolve(struct avb_inst *i)
{
    struct avb_svc *s = i->svc;
    i->tries++;
    i->res = avahi_service_resolver_new(s->br->b->client, i->ifindex, i->proto, s->name, s->type,
                                        s->domain, i->proto, 0, resolver_cb, i);
    if (!i->res) {
        wp_err e;
        err_clear(&e);
        wp_status st = avb_fail_code(&e, avahi_client_errno(s->br->b->client), "resolver");
        emit_browse_error(s->br, s->name, st, e.detail);
    }
}

static void resolver_cb(AvahiServiceResolver *r, AvahiIfIndex ifindex, AvahiProtocol proto,
                        AvahiResolverEvent event, const char *name, const char *type,
                        const char *domain, const char *host, const AvahiAddress *a,
                        uint16_t port, AvahiStringList *txt, AvahiLookupResultFlags flags,
                        void *user)
{
    struct avb_inst *i = user;
    WP_UNUSED(name);
    WP_UNUSED(type);
    WP_UNUSED(domain);
    if (i->is_gone || (i->res && i->res != r))
        return;
    if (event != AVAHI_RESOLVER_FOUND || !a || !host) {
        /* Timed out (e.g. lost packets): a fresh resolver asks again. */
        avahi_service_resolver_free(r);
        i->res = NULL;
        if (i->tries < RESOLVE_TRIES) {
            inst_resolve(i);
        } else {
            wp_err e;
            err_clear(&e);
            err_set(&e, WP_ETIMEDOUT, "'%s' (interface %d, %s): not resolved after %u tries",
                    i->svc->name, (int)ifindex, proto == AVAHI_PROTO_INET6 ? "IPv6" : "IPv4",
                    i->tries);
            emit_browse_error(i->svc->br, i->svc->name, WP_ETIMEDOUT, e.detail);
        }
        return;
    }
    struct avb_addr addr = {.ifindex = ifindex < 0 ? 0u : (uint32_t)ifindex};
    if (a->proto == AVAHI_PROTO_INET) {
        addr.family = 4;
        memcpy(addr.bytes, &a->data.ipv4.address, 4); /* already network order */
    } else if (a->proto == AVAHI_PROTO_INET6) {
        addr.family = 6;
        memcpy(addr.bytes, a->data.ipv6.address, 16);
    } else {
        return;
    }
    /* Walk the list ourselves: the resolver hands it over in record order,
     * while avahi_string_list_serialize() assumes the reversed order of
     * lists built with avahi_string_list_add() and would reverse it
     * (measured with Avahi 0.8; avahi-browse prints TXT reversed too). */
    size_t cap = 0;
    for (AvahiStringList *l = txt; l; l = avahi_string_list_get_next(l))
        cap += 1 + WP_MIN(avahi_string_list_get_size(l), AVB_TXT_STRING_MAX);
    wp_wbuf w;
    wbuf_init_dyn(&w, cap ? cap : 1);
    for (AvahiStringList *l = txt; l; l = avahi_string_list_get_next(l)) {
        size_t n = WP_MIN(avahi_string_list_get_size(l), AVB_TXT_STRING_MAX);
        wbuf_u8(&w, (uint8_t)n);
        wbuf_bytes(&w, avahi_string_list_get_text(l), n);
    }
    char *h = wp_strdup(host);
    if (!wbuf_ok(&w) || !h) {
        wbuf_clear(&w);
        wp_free(h);
        emit_browse_error(i->svc->br, i->svc->name, WP_ENOMEM, "a resolved service");
        return;
    }
    wp_free(i->host);
    wp_free(i->txt);
    i->host = h;
    i->txt_len = w.len;
    i->txt = w.len ? wp_malloc(w.len) : NULL;
    if (w.len && !i->txt) {
        i->txt_len = 0;
        wbuf_clear(&w);
        emit_browse_error(i->svc->br, i->svc->name, WP_ENOMEM, "a resolved service");
        return;
    }
    if (w.len)
        memcpy(i->txt, w.data, w.len);
    wbuf_clear(&w);
    i->is_local = (flags & AVAHI_LOOKUP_RESULT_LOCAL) != 0;
    i->is_own = (flags & AVAHI_LOOKUP_RESULT_OUR_OWN) != 0;
    i->port = port;
    i->addr = addr;
    i->is_resolved = true;
    i->seq = ++i->svc->br->b->seq;
    svc_refresh(i->svc);
}

/* ------------------------------------------------------------ browsing */

static struct avb_svc *svc_find(avb_browser *br, const char *name, const char *type,
                                const char *domain)
{
    for (struct avb_svc *s = br->svcs; s; s = s->next) {
        if (!s->is_gone && strcmp(s->name, name) == 0 && strcmp(s->type, type) == 0 &&
            strcmp(s->domain, domain) == 0)
            return s;
    }
    return NULL;
}

static void on_new(avb_browser *br, AvahiIfIndex ifindex, AvahiProtocol proto, const char *name,
                   const char *type, const char *domain)
{
    struct avb_svc *s = svc_find(br, name, type, domain);
    if (!s) {
        s = wp_calloc(1, sizeof *s);
        if (!s) {
            emit_browse_error(br, name, WP_ENOMEM, "a new service");
            return;
        }
        s->br = br;
        s->name = wp_strdup(name);
        s->type = wp_strdup(type);
        s->domain = wp_strdup(domain);
        s->next = br->svcs;
        br->svcs = s; /* from here the sweep owns s */
        if (!s->name || !s->type || !s->domain) {
            s->is_gone = true;
            emit_browse_error(br, name, WP_ENOMEM, "a new service");
            return;
        }
    }
    for (struct avb_inst *i = s->insts; i; i = i->next) {
        if (!i->is_gone && i->ifindex == ifindex && i->proto == proto)
            return; /* already known */
    }
    struct avb_inst *i = wp_calloc(1, sizeof *i);
    if (!i) {
        emit_browse_error(br, name, WP_ENOMEM, "a new service");
        return;
    }
    i->svc = s;
    i->ifindex = ifindex;
    i->proto = proto;
    i->next = s->insts;
    s->insts = i;
    inst_resolve(i);
}

static void on_remove(avb_browser *br, AvahiIfIndex ifindex, AvahiProtocol proto,
                      const char *name, const char *type, const char *domain)
{
    struct avb_svc *s = svc_find(br, name, type, domain);
    bool is_left = false;
    if (!s)
        return;
    for (struct avb_inst *i = s->insts; i; i = i->next) {
        if (i->is_gone)
            continue;
        if (i->ifindex == ifindex && i->proto == proto)
            inst_drop(i);
        else
            is_left = true;
    }
    if (is_left) {
        svc_refresh(s); /* fewer addresses */
        return;
    }
    s->is_gone = true;
    if (s->is_announced)
        svc_emit(s, AVB_EV_REMOVED);
}

static void browser_cb(AvahiServiceBrowser *sb, AvahiIfIndex ifindex, AvahiProtocol proto,
                       AvahiBrowserEvent event, const char *name, const char *type,
                       const char *domain, AvahiLookupResultFlags flags, void *user)
{
    avb_browser *br = user;
    WP_UNUSED(flags);
    if (br->is_gone || (br->sb && br->sb != sb))
        return;
    switch (event) {
    case AVAHI_BROWSER_NEW:
        on_new(br, ifindex, proto, name, type, domain);
        break;
    case AVAHI_BROWSER_REMOVE:
        on_remove(br, ifindex, proto, name, type, domain);
        break;
    case AVAHI_BROWSER_FAILURE: {
        wp_err e;
        err_clear(&e);
        avb_fail_code(&e, avahi_client_errno(br->b->client), "browsing");
        br->is_failed = true;
        struct avb_event ev = {.kind = AVB_EV_FAILED, .browse = br, .err = &e};
        avb_emit(br->b, &ev);
        break;
    }
    case AVAHI_BROWSER_ALL_FOR_NOW:
    case AVAHI_BROWSER_CACHE_EXHAUSTED:
    default:
        break;
    }
}

wp_status avb_browse_start(avb_browser *br, wp_err *err)
{
    avb *b = br->b;
    if (br->sb || b->state == AVAHI_CLIENT_CONNECTING || b->state == AVAHI_CLIENT_FAILURE)
        return WP_OK; /* started, or started by the client callback once RUNNING */
    br->sb = avahi_service_browser_new(b->client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, br->type,
                                       NULL, 0, browser_cb, br);
    if (!br->sb)
        return avb_fail_code(err, avahi_client_errno(b->client), "browsing");
    return WP_OK;
}

void avb_browse_start_or_report(avb_browser *br)
{
    wp_err e;
    err_clear(&e);
    if (avb_browse_start(br, &e) != WP_OK) {
        br->is_failed = true;
        struct avb_event ev = {.kind = AVB_EV_FAILED, .browse = br, .err = &e};
        avb_emit(br->b, &ev);
    }
}

void avb_browse_drop(avb_browser *br)
{
    if (br->sb)
        avahi_service_browser_free(br->sb);
    br->sb = NULL;
    for (struct avb_svc *s = br->svcs; s; s = s->next) {
        for (struct avb_inst *i = s->insts; i; i = i->next)
            inst_drop(i);
        s->is_gone = true;
    }
    br->is_gone = true;
}

/* see avahi.h */
wp_status avb_browse(avb *b, const char *type, avb_browser **out_br, wp_err *err)
{
    wp_status rc = WP_OK;
    avb_browser *br = NULL;
    if (WP_MISUSE(!b || !type || !out_br))
        return err_set(err, WP_EINVAL, "avb_browse: NULL argument");
    *out_br = NULL;
    if (b->is_failed) {
        err_copy(err, &b->err);
        return b->err.code;
    }
    if (!avahi_is_valid_service_type_generic(type))
        return err_set(err, WP_EINVAL, "service type '%s' is not like _name._tcp", type);
    avb_enter(b);
    br = wp_calloc(1, sizeof *br);
    if (!br) {
        rc = err_set(err, WP_ENOMEM, "browse");
        goto out;
    }
    br->b = b;
    br->next = b->browses;
    b->browses = br; /* from here the sweep owns br */
    br->type = wp_strdup(type);
    if (!br->type) {
        rc = err_set(err, WP_ENOMEM, "browse");
        goto out;
    }
    rc = avb_browse_start(br, err);
    if (rc != WP_OK)
        goto out;
    *out_br = br;
out:
    if (rc != WP_OK && br)
        avb_browse_drop(br);
    avb_leave(b);
    return rc;
}

/* see avahi.h */
void avb_browse_stop(avb *b, avb_browser *br)
{
    if (!b || !br || br->is_gone)
        return;
    avb_enter(b);
    avb_browse_drop(br);
    avb_leave(b);
}

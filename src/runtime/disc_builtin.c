/*
 * disc_builtin.c - the built-in discovery backend: the sans-IO mDNS engine
 * (src/dns/mdns.h) on the multicast sockets of src/runtime/mdns_sock.h,
 * driven by the context's loop. The sockets' fds are loop watches; the
 * engine's deadline is the core's timer (disc_rearm asks ->deadline). After
 * every input, tick or call the engine's datagrams are sent and its events
 * handed to the core, which queues them for delivery (never delivered here).
 */
#include "internal.h"

#include <stdio.h>
#include <strings.h>

#include "crypto/crypto.h"
#include "runtime/disc.h"
#include "runtime/mdns_sock.h"
#include "runtime/rt.h"

struct disc_fdw {
    struct watch w;
    struct disc *d;
};

static wp_status rng(void *user, uint8_t *out, size_t len)
{
    WP_UNUSED(user);
    return crypto_random(out, len, NULL);
}

static struct wp_advert *advert_by_id(struct disc *d, uint32_t id)
{
    for (struct wp_advert *a = d->adverts; a; a = a->next) {
        if (a->is_added && a->mdns_id == id)
            return a;
    }
    return NULL;
}

static void to_svc(struct disc *d, const struct mdns_service_info *in, struct disc_svc *out)
{
    memset(out, 0, offsetof(struct disc_svc, txt));
    size_t n = WP_MIN(in->name_len, sizeof out->name - 1);
    memcpy(out->name, in->name, n);
    out->name[n] = '\0';
    size_t hl = strnlen(in->host, sizeof out->host - 1); /* longer ones are not real hosts */
    memcpy(out->host, in->host, hl);
    out->host[hl] = '\0';
    out->port = in->port;
    for (size_t i = 0; i < in->n_addrs && out->n_addrs < WP_SERVICE_MAX_ADDRS; i++) {
        struct disc_addr *a = &out->addrs[out->n_addrs++];
        a->family = in->addrs[i].ip.family == MDNS_INET ? 4 : 6;
        memcpy(a->ip, in->addrs[i].ip.addr, 16);
        a->ifindex = in->addrs[i].ifindex;
    }
    out->has_txt = in->has_txt && in->txt_len <= sizeof out->txt;
    out->txt_len = out->has_txt ? in->txt_len : 0;
    if (out->txt_len)
        memcpy(out->txt, in->txt, out->txt_len);
    /* Ours: one of our names on our host (another device may copy the name). */
    char host[MDNS_LABEL_STR_MAX + 8];
    const char *label = mdns_host_label(d->m);
    snprintf(host, sizeof host, "%s.local", label ? label : "");
    out->is_own = label && disc_is_own_name(d, out->name) && strcasecmp(out->host, host) == 0;
}

/* Send what the engine queued and hand its events to the core. */
static void pump(struct disc *d)
{
    wp_err e;
    struct mdns_event *ev = wp_malloc(sizeof *ev);
    struct disc_svc *s = wp_malloc(sizeof *s);
    /* A datagram that cannot be sent is dropped (mdns_sock counts it); mDNS retries. */
    (void)!mdns_sock_flush(d->sock, d->m, &e);
    while (ev && s && mdns_next_event(d->m, ev) == WP_OK) {
        switch (ev->type) {
        case MDNS_EV_REGISTERED:
        case MDNS_EV_RENAMED:
            disc_on_advertised(d, advert_by_id(d, ev->service_id), ev->name,
                               ev->type == MDNS_EV_RENAMED);
            break;
        case MDNS_EV_HOST_RENAMED:
            break; /* the engine republishes everything under the new host name */
        case MDNS_EV_FOUND:
        case MDNS_EV_UPDATED:
            to_svc(d, &ev->info, s);
            disc_on_found(d, s);
            break;
        case MDNS_EV_REMOVED:
            to_svc(d, &ev->info, s);
            disc_on_removed(d, s->name);
            break;
        }
    }
    wp_free(ev);
    wp_free(s);
    disc_rearm(d);
}

static void on_fd(struct watch *w, uint32_t revents)
{
    WP_UNUSED(revents);
    struct disc_fdw *f = RT_CONTAINER(w, struct disc_fdw, w);
    struct disc *d = f->d;
    wp_err e;
    if (!d->m)
        return;
    /* Socket errors are transient for mDNS (an interface going down): keep going. */
    (void)!mdns_sock_read(d->sock, w->fd, d->m, loop_now_ms(), &e);
    pump(d);
}

static void bi_stop(struct disc *d)
{
    wp_err e;
    if (d->m && d->sock && mdns_shutdown(d->m, loop_now_ms()) == WP_OK)
        (void)!mdns_sock_flush(d->sock, d->m, &e); /* goodbyes */
    for (size_t i = 0; i < d->n_fdw; i++)
        loop_del(&d->ctx->loop, &d->fdw[i].w);
    wp_free(d->fdw);
    d->fdw = NULL;
    d->n_fdw = 0;
    mdns_sock_close(d->sock);
    d->sock = NULL;
    mdns_free(d->m);
    d->m = NULL;
}

/* Linux delivers IPv4 multicast on loopback but never IPv6 (NOTES-testing.md). */
static bool all_loopback(const struct disc *d)
{
    for (size_t i = 0; i < d->n_ifnames; i++) {
        if (strcmp(d->ifnames[i], "lo") != 0)
            return false;
    }
    return d->n_ifnames > 0;
}

static wp_status bi_start(struct disc *d, wp_err *err)
{
    wp_status rc;
    int64_t now = loop_now_ms();
    int fds[MDNS_SOCK_MAX_FDS];
    /* No host name until something is advertised (mdns_host_set): a pure
       browser publishes nothing. */
    struct mdns_config cfg = {.rng = rng};
    struct mdns_sock_config sc = {.ifnames = (const char *const *)d->ifnames,
                                  .n_ifnames = d->n_ifnames,
                                  .no_v4 = d->no_v4,
                                  .no_v6 = d->no_v6 || all_loopback(d)};
    rc = mdns_new(&cfg, now, &d->m, err);
    if (rc == WP_OK)
        rc = mdns_sock_open(&sc, &d->sock, err);
    if (rc != WP_OK)
        return rc;
    size_t n = mdns_sock_fds(d->sock, fds, MDNS_SOCK_MAX_FDS);
    d->fdw = wp_calloc(n, sizeof *d->fdw);
    if (!d->fdw)
        return err_set(err, WP_ENOMEM, "discovery watches");
    for (size_t i = 0; i < n; i++) {
        d->fdw[i].d = d;
        d->fdw[i].w.fd = -1;
        rc = loop_add(&d->ctx->loop, &d->fdw[i].w, fds[i], LOOP_IN, on_fd, err);
        if (rc != WP_OK)
            return rc;
        d->n_fdw++;
    }
    rc = mdns_sock_sync(d->sock, d->m, now, err);
    if (rc != WP_OK)
        return rc;
    pump(d);
    return WP_OK;
}

static wp_status bi_advert_add(struct disc *d, struct wp_advert *a, wp_err *err)
{
    struct mdns_service_desc desc = {.instance = a->name, .port = a->port, .txt = a->txt,
                                     .txt_len = a->txt_len};
    wp_status rc = WP_OK;
    if (!mdns_host_label(d->m))
        rc = mdns_host_set(d->m, d->host_label, loop_now_ms());
    if (rc == WP_OK)
        rc = mdns_service_add(d->m, &desc, loop_now_ms(), &a->mdns_id);
    if (rc != WP_OK)
        err_set(err, rc, "advertise \"%s\": %s", a->name, mdns_last_error(d->m)->detail);
    pump(d);
    return rc;
}

static void bi_advert_remove(struct disc *d, struct wp_advert *a)
{
    /* Goodbyes (TTL 0) go out now; WP_ENOTFOUND means it was never added. */
    (void)!mdns_service_remove(d->m, a->mdns_id, loop_now_ms());
    pump(d);
}

static wp_status bi_browse(struct disc *d, bool on, wp_err *err)
{
    wp_status rc = WP_OK;
    if (on) {
        rc = mdns_browse_start(d->m, DISC_TYPE, loop_now_ms());
        if (rc != WP_OK)
            err_set(err, rc, "browse: %s", mdns_last_error(d->m)->detail);
    } else {
        mdns_browse_stop(d->m);
    }
    pump(d);
    return rc;
}

static int64_t bi_deadline(struct disc *d)
{
    return d->m ? mdns_deadline_ms(d->m) : -1;
}

static void bi_tick(struct disc *d, int64_t now_ms)
{
    int64_t dl = mdns_deadline_ms(d->m);
    if (dl < 0 || dl > now_ms)
        return;
    /* A failing tick (the RNG) is recorded in the engine; the next one retries. */
    (void)!mdns_tick(d->m, now_ms);
    pump(d);
}

const struct disc_backend disc_builtin = {
    .kind = WP_DISCOVERY_BUILTIN,
    .start = bi_start,
    .stop = bi_stop,
    .advert_add = bi_advert_add,
    .advert_remove = bi_advert_remove,
    .browse = bi_browse,
    .deadline = bi_deadline,
    .tick = bi_tick,
};

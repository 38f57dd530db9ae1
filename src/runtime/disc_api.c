/*
 * disc_api.c - the thread-safe public calls of discovery (wipeer.h). Each
 * checks and copies its arguments on the caller's thread, then hands a
 * struct disc_op to the loop (CMD_DISC), or runs it directly when called
 * on the loop thread. disc_exec runs the op there.
 */
#include "internal.h"

#include <net/if.h>
#include <stdio.h>
#include <strings.h>
#include <unistd.h>

#include "dns/txt.h"
#include "runtime/disc.h"
#include "runtime/rt.h"

/* A command with its op in the same allocation (freed with the command). */
static struct cmd *op_cmd(enum disc_op_type type)
{
    struct cmd *c = wp_calloc(1, sizeof *c + sizeof(struct disc_op));
    if (c) {
        c->type = CMD_DISC;
        c->dop = (struct disc_op *)(void *)c->data;
        c->dop->type = type;
    }
    return c;
}

static void submit(struct wp_ctx *ctx, struct cmd *c)
{
    if (ctx_on_loop(ctx))
        ctx_exec(ctx, c);
    else
        ctx_enqueue(ctx, c);
}

/* Discovery starts with this call: the configuration is frozen. */
static wp_status start(struct wp_ctx *ctx, struct disc **out, wp_err *err)
{
    wp_status rc = disc_get(ctx, out, err);
    if (rc == WP_OK) {
        pthread_mutex_lock(&ctx->mu);
        (*out)->is_started = true;
        pthread_mutex_unlock(&ctx->mu);
    }
    return rc;
}

/* ---------------------------------------------------------------- config */

/* see wipeer.h */
void wp_discovery_config_init(wp_discovery_config *cfg)
{
    if (WP_MISUSE(!cfg))
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->backend = WP_DISCOVERY_AUTO;
}

static bool host_label_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= MDNS_LABEL_STR_MAX || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return false;
    }
    return true;
}

static wp_status check_config(const wp_discovery_config *cfg, wp_err *err)
{
    if (cfg->backend != WP_DISCOVERY_AUTO && cfg->backend != WP_DISCOVERY_BUILTIN &&
        cfg->backend != WP_DISCOVERY_AVAHI)
        return err_set(err, WP_EINVAL, "unknown discovery backend %d", (int)cfg->backend);
    if (cfg->n_ifaces > WP_DISCOVERY_MAX_IFACES || (cfg->n_ifaces && !cfg->ifaces))
        return err_set(err, WP_EINVAL, "at most %d interfaces", WP_DISCOVERY_MAX_IFACES);
    if (cfg->n_ifaces && cfg->backend == WP_DISCOVERY_AVAHI)
        return err_set(err, WP_EINVAL,
                       "the Avahi backend uses avahi-daemon's interfaces: an interface list "
                       "needs the built-in backend");
#ifndef WP_HAVE_AVAHI
    if (cfg->backend == WP_DISCOVERY_AVAHI)
        return err_set(err, WP_EUNSUPPORTED,
                       "built without Avahi (install libavahi-client-dev and rebuild)");
#endif
    for (size_t i = 0; i < cfg->n_ifaces; i++) {
        const char *n = cfg->ifaces[i];
        if (!n || !*n || strlen(n) >= WP_IFNAME_MAX)
            return err_set(err, WP_EINVAL, "bad interface name");
        if (if_nametoindex(n) == 0)
            return err_set(err, WP_ENOTFOUND, "no network interface named \"%s\"", n);
    }
    if (cfg->no_ipv4 && cfg->no_ipv6)
        return err_set(err, WP_EINVAL, "discovery needs IPv4 or IPv6");
    if (cfg->host_name && !host_label_ok(cfg->host_name))
        return err_set(err, WP_EINVAL,
                       "host name \"%s\": 1..63 letters, digits and inner '-'", cfg->host_name);
    return WP_OK;
}

/* see wipeer.h */
wp_status wp_discovery_configure(wp_ctx *ctx, const wp_discovery_config *cfg, wp_error *out_err)
{
    wp_status rc;
    wp_err err;
    struct disc *d = NULL;
    char **names = NULL;
    err_clear(&err);
    if (WP_MISUSE(!ctx || !cfg)) {
        rc = err_set(&err, WP_EINVAL, "NULL argument");
        goto out;
    }
    if ((rc = check_config(cfg, &err)) != WP_OK || (rc = disc_get(ctx, &d, &err)) != WP_OK)
        goto out;
    if (cfg->n_ifaces && !(names = wp_calloc(cfg->n_ifaces, sizeof *names))) {
        rc = err_set(&err, WP_ENOMEM, "interface list");
        goto out;
    }
    for (size_t i = 0; i < cfg->n_ifaces; i++) {
        if (!(names[i] = wp_strdup(cfg->ifaces[i]))) {
            rc = err_set(&err, WP_ENOMEM, "interface list");
            goto out;
        }
    }
    pthread_mutex_lock(&ctx->mu);
    if (d->is_started) {
        rc = err_set(&err, WP_ESTATE, "discovery already started: configure it first");
    } else {
        char **old = d->ifnames;
        size_t n_old = d->n_ifnames;
        d->want = cfg->backend;
        d->ifnames = names;
        d->n_ifnames = cfg->n_ifaces;
        d->no_v4 = cfg->no_ipv4;
        d->no_v6 = cfg->no_ipv6;
        d->is_private = cfg->is_private;
        if (cfg->host_name)
            snprintf(d->host_label, sizeof d->host_label, "%s", cfg->host_name);
        names = old;
        cfg = NULL;
        pthread_mutex_unlock(&ctx->mu);
        for (size_t i = 0; i < n_old; i++)
            wp_free(names[i]);
        wp_free(names);
        goto out;
    }
    pthread_mutex_unlock(&ctx->mu);
out:
    if (cfg && names) {
        for (size_t i = 0; i < cfg->n_ifaces; i++)
            wp_free(names[i]);
        wp_free(names);
    }
    err_copy(out_err, &err);
    return rc;
}

/* see wipeer.h */
wp_discovery_backend wp_discovery_backend_used(const wp_ctx *ctx)
{
    if (WP_MISUSE(!ctx))
        return WP_DISCOVERY_AUTO;
    struct wp_ctx *c = (struct wp_ctx *)(uintptr_t)ctx;
    pthread_mutex_lock(&c->mu);
    wp_discovery_backend b = c->disc ? c->disc->used : WP_DISCOVERY_AUTO;
    pthread_mutex_unlock(&c->mu);
    return b;
}

/* ---------------------------------------------------------------- advertise */

/* see wipeer.h */
void wp_advert_opts_init(wp_advert_opts *opts)
{
    if (WP_MISUSE(!opts))
        return;
    memset(opts, 0, sizeof *opts);
}

/* The host name as a default instance name, cut at a UTF-8 boundary. */
static void default_name(char out[WP_SERVICE_NAME_MAX])
{
    char h[256] = "";
    if (gethostname(h, sizeof h - 1) != 0 || !h[0])
        snprintf(h, sizeof h, "wipeer");
    size_t n = strlen(h);
    if (n > WP_SERVICE_NAME_MAX - 1) {
        n = WP_SERVICE_NAME_MAX - 1;
        while (n > 0 && ((unsigned char)h[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(out, h, n);
    out[n] = '\0';
}

static wp_status build_txt(struct wp_advert *a, const wp_advert_opts *o, const char *fp,
                           wp_err *err)
{
    wp_wbuf w;
    wbuf_init(&w, a->txt, sizeof a->txt);
    wp_status rc = txt_wipeer_build(&w, fp, err);
    for (size_t i = 0; rc == WP_OK && i < o->n_txt; i++) {
        const wp_txt_entry *t = &o->txt[i];
        if (!t->key || (t->has_value && !t->value && t->value_len))
            return err_set(err, WP_EINVAL, "TXT entry %zu: no key or value", i);
        /* fp is ours even when is_private leaves it out. */
        if (!strcasecmp(t->key, TXT_KEY_FINGERPRINT) || !strcasecmp(t->key, TXT_KEY_VERSION))
            return err_set(err, WP_EEXIST, "TXT key \"%s\" is set by wipeer", t->key);
        rc = txt_add(&w, t->key, t->has_value ? (t->value ? (const void *)t->value : "") : NULL,
                     t->value_len, err);
    }
    a->txt_len = w.len;
    return rc;
}

/* see wipeer.h */
wp_status wp_advertise(wp_ctx *ctx, const wp_advert_opts *opts, wp_advert **out,
                       wp_error *out_err)
{
    wp_status rc;
    wp_err err;
    struct disc *d;
    struct wp_advert *a = NULL;
    struct cmd *c = NULL;
    err_clear(&err);
    if (WP_MISUSE(!ctx || !opts || !out)) {
        rc = err_set(&err, WP_EINVAL, "NULL argument");
        goto out;
    }
    *out = NULL;
    if (opts->port == 0 || (opts->n_txt && !opts->txt)) {
        rc = err_set(&err, WP_EINVAL, "wp_advertise needs a port");
        goto out;
    }
    if (opts->name && (!*opts->name || strlen(opts->name) >= WP_SERVICE_NAME_MAX)) {
        rc = err_set(&err, WP_EINVAL, "a service name is 1..%d bytes", WP_SERVICE_NAME_MAX - 1);
        goto out;
    }
    a = wp_calloc(1, sizeof *a);
    c = op_cmd(DOP_ADVERTISE);
    if (!a || !c || !(a->stop_cmd = op_cmd(DOP_ADVERT_STOP))) {
        rc = err_set(&err, WP_ENOMEM, "advertisement");
        goto out;
    }
    if ((rc = disc_get(ctx, &d, &err)) != WP_OK)
        goto out;
    /* The TXT depends on is_private: build it and freeze the configuration at once. */
    pthread_mutex_lock(&ctx->mu);
    rc = build_txt(a, opts, d->is_private ? NULL : d->fp_text, &err);
    if (rc == WP_OK)
        d->is_started = true;
    pthread_mutex_unlock(&ctx->mu);
    if (rc != WP_OK)
        goto out;
    a->ctx = ctx;
    if (opts->name)
        snprintf(a->name, sizeof a->name, "%s", opts->name);
    else
        default_name(a->name);
    a->port = opts->port;
    a->fn = opts->on_event;
    a->user = opts->user;
    a->stop_cmd->dop->adv = a;
    c->dop->adv = a;
    *out = a;
    submit(ctx, c);
    a = NULL;
    c = NULL;
out:
    if (a)
        wp_free(a->stop_cmd);
    wp_free(a);
    wp_free(c);
    err_copy(out_err, &err);
    return rc;
}

/* see wipeer.h */
void wp_advert_stop(wp_advert *a)
{
    if (!a || WP_MISUSE(!a->stop_cmd))
        return; /* NULL, or stopped twice */
    struct cmd *c = a->stop_cmd;
    a->stop_cmd = NULL;
    submit(a->ctx, c);
}

/* ---------------------------------------------------------------- browse */

/* see wipeer.h */
wp_status wp_browse(wp_ctx *ctx, wp_discovery_fn on_event, void *user, wp_browser **out,
                    wp_error *out_err)
{
    wp_status rc;
    wp_err err;
    struct disc *d;
    struct wp_browser *b = NULL;
    struct cmd *c = NULL;
    err_clear(&err);
    if (WP_MISUSE(!ctx || !out)) {
        rc = err_set(&err, WP_EINVAL, "NULL argument");
        goto out;
    }
    *out = NULL;
    if (!on_event) {
        rc = err_set(&err, WP_EINVAL, "wp_browse needs a callback");
        goto out;
    }
    b = wp_calloc(1, sizeof *b);
    c = op_cmd(DOP_BROWSE);
    if (!b || !c || !(b->stop_cmd = op_cmd(DOP_BROWSE_STOP))) {
        rc = err_set(&err, WP_ENOMEM, "browser");
        goto out;
    }
    if ((rc = start(ctx, &d, &err)) != WP_OK)
        goto out;
    b->ctx = ctx;
    b->fn = on_event;
    b->user = user;
    b->stop_cmd->dop->br = b;
    c->dop->br = b;
    *out = b;
    submit(ctx, c);
    b = NULL;
    c = NULL;
out:
    if (b)
        wp_free(b->stop_cmd);
    wp_free(b);
    wp_free(c);
    err_copy(out_err, &err);
    return rc;
}

/* see wipeer.h */
void wp_browser_stop(wp_browser *b)
{
    if (!b || WP_MISUSE(!b->stop_cmd))
        return;
    struct cmd *c = b->stop_cmd;
    b->stop_cmd = NULL;
    submit(b->ctx, c);
}

/* ---------------------------------------------------------------- resolve */

/* see wipeer.h */
wp_status wp_resolve(wp_ctx *ctx, const char *target, uint32_t timeout_ms,
                     wp_discovery_fn on_event, void *user, wp_error *out_err)
{
    wp_status rc;
    wp_err err;
    struct disc *d;
    struct disc_query *q = NULL;
    struct cmd *c = NULL;
    err_clear(&err);
    if (WP_MISUSE(!ctx) || !on_event) {
        rc = err_set(&err, WP_EINVAL, "wp_resolve needs a context and a callback");
        goto out;
    }
    q = wp_calloc(1, sizeof *q);
    c = op_cmd(DOP_RESOLVE);
    if (!q || !c) {
        rc = err_set(&err, WP_ENOMEM, "resolve");
        goto out;
    }
    if ((rc = disc_target_parse(target, &q->tgt, &err)) != WP_OK ||
        (rc = start(ctx, &d, &err)) != WP_OK)
        goto out;
    q->deadline = loop_now_ms() + (timeout_ms ? timeout_ms : DISC_RESOLVE_DEFAULT_MS);
    q->fn = on_event;
    q->user = user;
    q->is_new = true;
    c->dop->q = q;
    submit(ctx, c);
    q = NULL;
    c = NULL;
out:
    wp_free(q);
    wp_free(c);
    err_copy(out_err, &err);
    return rc;
}

/* ---------------------------------------------------------------- loop side */

static void unlink_advert(struct disc *d, struct wp_advert *a)
{
    for (struct wp_advert **pp = &d->adverts; *pp; pp = &(*pp)->next) {
        if (*pp == a) {
            *pp = a->next;
            break;
        }
    }
    a->next = d->dead_adverts;
    d->dead_adverts = a;
}

static void unlink_browser(struct disc *d, struct wp_browser *b)
{
    for (struct wp_browser **pp = &d->browsers; *pp; pp = &(*pp)->next) {
        if (*pp == b) {
            *pp = b->next;
            break;
        }
    }
    b->next = d->dead_browsers;
    d->dead_browsers = b;
}

/* see disc.h */
void disc_exec(struct wp_ctx *ctx, struct disc_op *op)
{
    struct disc *d = ctx->disc; /* created by the public call */
    wp_err e;
    disc_ensure(d);
    switch (op->type) {
    case DOP_ADVERTISE:
        op->adv->next = d->adverts;
        d->adverts = op->adv;
        if (d->be && !d->is_failed) {
            if (d->be->advert_add(d, op->adv, &e) == WP_OK)
                op->adv->is_added = true;
            else
                disc_on_advert_failed(d, op->adv, &e);
        }
        break;
    case DOP_ADVERT_STOP:
        if (op->adv->is_added && d->be)
            d->be->advert_remove(d, op->adv);
        op->adv->is_added = false;
        op->adv->is_dead = true;
        unlink_advert(d, op->adv);
        break;
    case DOP_BROWSE:
        op->br->is_new = true;
        op->br->next = d->browsers;
        d->browsers = op->br;
        break;
    case DOP_BROWSE_STOP:
        op->br->is_dead = true;
        unlink_browser(d, op->br);
        break;
    case DOP_RESOLVE:
        op->q->next = d->queries;
        d->queries = op->q;
        break;
    }
    disc_update(d);
}

/* see disc.h */
void disc_op_discard(struct disc_op *op)
{
    /* Not executed: the object was never linked (stops: freed with the ctx's lists). */
    switch (op->type) {
    case DOP_ADVERTISE:
        wp_free(op->adv->stop_cmd);
        wp_free(op->adv);
        break;
    case DOP_BROWSE:
        wp_free(op->br->stop_cmd);
        wp_free(op->br);
        break;
    case DOP_RESOLVE:
        wp_free(op->q);
        break;
    case DOP_ADVERT_STOP:
    case DOP_BROWSE_STOP:
        break;
    }
}

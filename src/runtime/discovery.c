/*
 * discovery.c - the core of discovery (see disc.h): the choice of backend,
 * the table of discovered services, the queue of application events and
 * their delivery, wp_resolve / wp_connect_discovered queries, teardown.
 */
#include "internal.h"

#include <net/if.h>
#include <stdio.h>
#include <unistd.h>

#include "dns/txt.h"
#include "runtime/disc.h"
#include "runtime/disc_view.h"
#include "runtime/rt.h"

static void on_timer(struct timer *t, int64_t now_ms);

/* ASCII case-insensitive equality: DNS labels compare that way (RFC 6762 §16). */
static bool name_eq(const char *a, const char *b)
{
    for (;; a++, b++) {
        unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y + 32);
        if (x != y)
            return false;
        if (!x)
            return true;
    }
}

/* The host name reduced to a DNS host label: letters, digits, '-'. */
static void default_host_label(char out[MDNS_LABEL_STR_MAX])
{
    char h[256] = "";
    size_t n = 0;
    if (gethostname(h, sizeof h - 1) != 0)
        h[0] = '\0';
    for (const char *p = h; *p && *p != '.' && n < MDNS_LABEL_STR_MAX - 1; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (ok || (c == '-' && n > 0))
            out[n++] = c;
    }
    while (n > 0 && out[n - 1] == '-')
        n--;
    if (n == 0) {
        memcpy(out, "wipeer", 7);
        return;
    }
    out[n] = '\0';
}

/* see disc.h */
wp_status disc_get(struct wp_ctx *ctx, struct disc **out, wp_err *err)
{
    wp_status rc = WP_OK;
    pthread_mutex_lock(&ctx->mu);
    if (!ctx->disc) {
        struct disc *d = wp_calloc(1, sizeof *d);
        if (!d) {
            rc = err_set(err, WP_ENOMEM, "discovery");
        } else {
            d->ctx = ctx;
            d->want = WP_DISCOVERY_AUTO;
            d->used = WP_DISCOVERY_AUTO;
            default_host_label(d->host_label);
            wp_identity_fingerprint(ctx->identity, &d->fp);
            wp_fingerprint_format_short(&d->fp, d->fp_text);
            timer_init(&d->t, on_timer);
            ctx->disc = d;
        }
    }
    *out = ctx->disc;
    pthread_mutex_unlock(&ctx->mu);
    return rc;
}

/* ---------------------------------------------------------------- targets */

/* see disc.h */
wp_status disc_target_parse(const char *text, struct disc_target *out, wp_err *err)
{
    size_t n = text ? strlen(text) : 0;
    memset(out, 0, sizeof *out);
    if (n == 0 || n >= DISC_TARGET_MAX)
        return err_set(err, WP_EINVAL, "a discovery target is 1..%d bytes", DISC_TARGET_MAX - 1);
    memcpy(out->text, text, n + 1);
    out->is_fp = wp_fingerprint_parse(text, &out->fp, &out->fp_len) == WP_OK;
    return WP_OK;
}

/* The fingerprint a service publishes (TXT fp), if it parses as one. */
static bool svc_fp(const struct disc_svc *s, wp_fingerprint *fp, size_t *len)
{
    txt_wipeer_info ti;
    if (!s->has_txt)
        return false;
    txt_wipeer_parse(s->txt, s->txt_len, &ti);
    return ti.has_fp && wp_fingerprint_parse(ti.fp, fp, len) == WP_OK;
}

/* see disc.h */
bool disc_target_matches(const struct disc_target *t, const struct disc_svc *s)
{
    if (!t->is_fp)
        return name_eq(t->text, s->name);
    wp_fingerprint fp;
    size_t len;
    if (s->is_own || !svc_fp(s, &fp, &len))
        return false;
    /* TXT carries a hint (usually 8 bytes); the handshake proves the rest. */
    return memcmp(fp.bytes, t->fp.bytes, WP_MIN(len, t->fp_len)) == 0;
}

/* see disc.h */
bool disc_is_own_name(const struct disc *d, const char *name)
{
    for (const struct wp_advert *a = d->adverts; a; a = a->next) {
        if (a->is_added && !a->is_failed && name_eq(a->name, name))
            return true;
    }
    return false;
}

/* ---------------------------------------------------------------- events */

static struct disc_ev *ev_new(struct disc *d, enum disc_ev_type kind,
                              wp_discovery_event_type type)
{
    struct disc_ev *e = wp_calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->kind = kind;
    e->type = type;
    if (d->ev_tail)
        d->ev_tail->next = e;
    else
        d->ev_head = e;
    d->ev_tail = e;
    return e;
}

static void ev_free(struct disc_ev *e)
{
    wp_free(e->svc);
    wp_free(e);
}

static struct disc_svc *svc_copy(const struct disc_svc *s)
{
    struct disc_svc *c = wp_malloc(sizeof *c);
    if (c) {
        *c = *s;
        c->next = NULL;
    }
    return c;
}

static struct disc_svc **svc_find(struct disc *d, const char *name)
{
    struct disc_svc **pp = &d->svcs;
    while (*pp && !name_eq((*pp)->name, name))
        pp = &(*pp)->next;
    return pp;
}

static bool svc_same(const struct disc_svc *a, const struct disc_svc *b)
{
    return strcmp(a->name, b->name) == 0 && strcmp(a->host, b->host) == 0 &&
           a->port == b->port && a->n_addrs == b->n_addrs && a->has_txt == b->has_txt &&
           a->is_own == b->is_own && a->txt_len == b->txt_len &&
           memcmp(a->addrs, b->addrs, a->n_addrs * sizeof a->addrs[0]) == 0 &&
           memcmp(a->txt, b->txt, a->txt_len) == 0;
}

/* Queue a browser event carrying a copy of s. Out of memory drops the event. */
static void queue_service(struct disc *d, wp_discovery_event_type type, const struct disc_svc *s)
{
    struct disc_svc *c = svc_copy(s);
    struct disc_ev *e = c ? ev_new(d, DEV_SERVICE, type) : NULL;
    if (!e) {
        wp_free(c);
        return;
    }
    e->svc = c;
}

/* see disc.h */
void disc_on_found(struct disc *d, const struct disc_svc *s)
{
    struct disc_svc **pp = svc_find(d, s->name);
    if (*pp) {
        if (svc_same(*pp, s))
            return;
        struct disc_svc *next = (*pp)->next;
        **pp = *s;
        (*pp)->next = next;
        queue_service(d, WP_DISC_UPDATED, s);
    } else {
        if (d->n_svcs >= MDNS_MAX_SERVICES)
            return;
        struct disc_svc *c = svc_copy(s);
        if (!c)
            return;
        *pp = c;
        d->n_svcs++;
        queue_service(d, WP_DISC_FOUND, s);
    }
    disc_rearm(d);
}

/* see disc.h */
void disc_on_removed(struct disc *d, const char *name)
{
    struct disc_svc **pp = svc_find(d, name);
    struct disc_svc *s = *pp;
    if (!s)
        return;
    *pp = s->next;
    d->n_svcs--;
    struct disc_ev *e = ev_new(d, DEV_SERVICE, WP_DISC_REMOVED);
    if (e)
        e->svc = s;
    else
        wp_free(s);
    disc_rearm(d);
}

/* Forget every service (browsing stopped, backend switched); REMOVED if reported. */
static void clear_services(struct disc *d, bool report)
{
    while (d->svcs) {
        struct disc_svc *s = d->svcs;
        d->svcs = s->next;
        struct disc_ev *e = report ? ev_new(d, DEV_SERVICE, WP_DISC_REMOVED) : NULL;
        if (e)
            e->svc = s;
        else
            wp_free(s);
    }
    d->n_svcs = 0;
}

/* see disc.h */
void disc_on_advertised(struct disc *d, struct wp_advert *a, const char *name, bool is_rename)
{
    if (!a || a->is_dead || a->is_failed)
        return;
    snprintf(a->name, sizeof a->name, "%s", name);
    struct disc_ev *e = ev_new(d, DEV_ADVERT, is_rename ? WP_DISC_RENAMED : WP_DISC_ADVERTISED);
    if (e) {
        e->adv = a;
        snprintf(e->name, sizeof e->name, "%s", name);
    }
    disc_rearm(d);
}

/* see disc.h */
void disc_on_advert_failed(struct disc *d, struct wp_advert *a, const wp_err *err)
{
    if (!a || a->is_dead || a->is_failed)
        return;
    a->is_failed = true;
    struct disc_ev *e = ev_new(d, DEV_ADVERT, WP_DISC_FAILED);
    if (e) {
        e->adv = a;
        snprintf(e->name, sizeof e->name, "%s", a->name);
        e->err = *err;
    }
    disc_rearm(d);
}

/* ---------------------------------------------------------------- backends */

static void set_used(struct disc *d, wp_discovery_backend b)
{
    pthread_mutex_lock(&d->ctx->mu);
    d->used = b;
    pthread_mutex_unlock(&d->ctx->mu);
}

/* Start backend be and give it every live advert; false if it cannot start. */
static bool run_backend(struct disc *d, const struct disc_backend *be, wp_err *err)
{
    if (be->start(d, err) != WP_OK) {
        be->stop(d);
        return false;
    }
    d->be = be;
    d->is_browsing = false;
    set_used(d, be->kind);
    for (struct wp_advert *a = d->adverts; a; a = a->next) {
        wp_err e;
        a->is_added = false;
        if (a->is_failed)
            continue;
        if (be->advert_add(d, a, &e) == WP_OK)
            a->is_added = true;
        else
            disc_on_advert_failed(d, a, &e);
    }
    return true;
}

/* see disc.h */
void disc_ensure(struct disc *d)
{
    wp_err err;
    if (d->has_run)
        return;
    d->has_run = true;
    d->ctx->disc_loop = d; /* from now on the loop reaps it without taking ctx->mu */
    err_clear(&err);
    /* Configuration is frozen now (is_started was set by the public call). */
    bool try_avahi = d->want == WP_DISCOVERY_AVAHI ||
                     (d->want == WP_DISCOVERY_AUTO && d->n_ifnames == 0 && avb_probe(NULL));
    if (try_avahi && run_backend(d, &disc_avahi, &err))
        goto out;
    if (d->want == WP_DISCOVERY_AVAHI)
        goto failed;
    if (run_backend(d, &disc_builtin, &err))
        goto out;
failed:
    d->is_failed = true;
    d->fail = err;
out:
    disc_update(d);
}

/* see disc.h */
void disc_on_backend_failed(struct disc *d, const wp_err *err)
{
    /* Called from inside a backend callback: the switch happens in on_timer. */
    if (d->is_failed)
        return;
    d->fail = *err;
    d->is_failed = true;
    disc_rearm(d);
}

/* The backend broke (Avahi gone): under AUTO move to the built-in one. */
static void fall_back(struct disc *d)
{
    wp_err err = d->fail;
    const struct disc_backend *old = d->be;
    if (!old)
        return;
    old->stop(d);
    d->be = NULL;
    d->is_browsing = false;
    clear_services(d, true);
    if (d->want == WP_DISCOVERY_AUTO && old->kind == WP_DISCOVERY_AVAHI &&
        run_backend(d, &disc_builtin, &err)) {
        d->is_failed = false;
        err_clear(&d->fail);
        return;
    }
    d->fail = err;
}

/* see disc.h */
void disc_update(struct disc *d)
{
    bool need = d->queries != NULL;
    for (const struct wp_browser *b = d->browsers; b && !need; b = b->next)
        need = !b->is_dead;
    if (d->be && !d->is_failed && need != d->is_browsing) {
        wp_err e;
        if (d->be->browse(d, need, &e) == WP_OK) {
            d->is_browsing = need;
            if (!need)
                clear_services(d, false);
        } else if (need) {
            d->is_failed = true; /* browsing is all a browser and a query have */
            d->fail = e;
        }
    }
    disc_rearm(d);
}

/* see disc.h */
void disc_rearm(struct disc *d)
{
    struct wp_ctx *ctx = d->ctx;
    int64_t now = loop_now_ms(), when = -1;
    bool due = d->ev_head != NULL || d->is_failed;
    for (const struct wp_browser *b = d->browsers; b && !due; b = b->next)
        due = b->is_new;
    for (const struct disc_query *q = d->queries; q && !due; q = q->next)
        due = q->is_new; /* the service may be known already */
    if (due)
        when = now;
    if (d->be && d->be->deadline) {
        int64_t b = d->be->deadline(d);
        if (b >= 0 && (when < 0 || b < when))
            when = b;
    }
    for (const struct disc_query *q = d->queries; q; q = q->next) {
        if (when < 0 || q->deadline < when)
            when = q->deadline;
    }
    if (when < 0) {
        timer_disarm(&ctx->loop, &d->t);
        return;
    }
    /* Out of memory for the heap: the next loop iteration retries. */
    if (timer_arm(&ctx->loop, &d->t, when) != WP_OK)
        loop_wake(&ctx->loop);
}

/* ---------------------------------------------------------------- delivery */

static void deliver(wp_discovery_fn fn, void *user, wp_discovery_event *ev)
{
    if (!ev->name)
        ev->name = "";
    if (!ev->detail)
        ev->detail = "";
    if (fn)
        fn(ev, user);
}

static void deliver_service(struct disc *d, struct wp_browser *only, wp_discovery_event_type type,
                            const struct disc_svc *s)
{
    struct disc_view *v = disc_view_new(d, s);
    if (!v)
        return; /* out of memory: the event is lost, the table stays right */
    for (struct wp_browser *b = d->browsers; b; b = b->next) {
        if (b->is_dead || b->is_new || (only && b != only))
            continue;
        wp_discovery_event ev = {.type = type, .browser = b, .name = s->name,
                                 .service = &v->svc};
        deliver(b->fn, b->user, &ev);
    }
    disc_view_free(v);
}

/* Everything failed: tell every advert, browser and query once. */
static void deliver_failure(struct disc *d)
{
    const wp_err *e = &d->fail;
    for (struct wp_advert *a = d->adverts; a; a = a->next) {
        if (a->is_dead || a->is_failed)
            continue;
        a->is_failed = true;
        wp_discovery_event ev = {.type = WP_DISC_FAILED, .advert = a, .name = a->name,
                                 .reason = e->code, .detail = e->detail};
        deliver(a->fn, a->user, &ev);
    }
    for (struct wp_browser *b = d->browsers; b; b = b->next) {
        if (b->is_dead)
            continue;
        b->is_dead = true; /* stopped; the handle stays valid until wp_browser_stop */
        b->is_new = false;
        wp_discovery_event ev = {.type = WP_DISC_FAILED, .browser = b, .reason = e->code,
                                 .detail = e->detail};
        deliver(b->fn, b->user, &ev);
    }
}

static void query_free(struct disc_query *q)
{
    if (q->conn)
        ctx_conn_unref(q->conn);
    wp_free(q);
}

/* Complete what can be: a match, a timeout, a connection that ended. */
static void run_queries(struct disc *d, int64_t now)
{
    struct disc_query **pp = &d->queries;
    while (*pp) {
        struct disc_query *q = *pp;
        const struct disc_svc *s = NULL;
        q->is_new = false;
        if (q->conn && q->conn->state != RT_RESOLVING)
            goto done; /* the connection ended (timeout, abort) */
        if (!d->is_failed) {
            for (s = d->svcs; s && !disc_target_matches(&q->tgt, s); s = s->next) {
            }
        }
        if (s) {
            if (q->conn) {
                disc_connect_found(d, q->conn, s);
            } else {
                struct disc_view *v = disc_view_new(d, s);
                wp_discovery_event ev = {.type = WP_DISC_RESOLVED, .name = s->name,
                                         .service = v ? &v->svc : NULL};
                if (!v) {
                    ev.type = WP_DISC_FAILED;
                    ev.reason = WP_ENOMEM;
                    ev.detail = "out of memory";
                }
                *pp = q->next; /* unlinked first: the callback may resolve again */
                deliver(q->fn, q->user, &ev);
                disc_view_free(v);
                query_free(q);
                continue;
            }
            goto done;
        }
        if (d->is_failed || now >= q->deadline) {
            char detail[WP_ERROR_DETAIL_MAX];
            wp_status code = d->is_failed ? d->fail.code : WP_ENOTFOUND;
            if (d->is_failed)
                snprintf(detail, sizeof detail, "%s", d->fail.detail);
            else
                snprintf(detail, sizeof detail, "no service %.200s found by discovery",
                         q->tgt.text);
            *pp = q->next;
            if (q->conn) {
                if (d->is_failed)
                    session_fail(q->conn, code, "discovery: %s", detail);
                else
                    disc_connect_timeout(q->conn);
            } else {
                wp_discovery_event ev = {.type = WP_DISC_FAILED, .name = q->tgt.text,
                                         .reason = code, .detail = detail};
                deliver(q->fn, q->user, &ev);
            }
            query_free(q);
            continue;
        }
        pp = &q->next;
        continue;
    done:
        *pp = q->next;
        query_free(q);
    }
}

static void deliver_all(struct disc *d, int64_t now)
{
    /* New browsers first get the table as it is; the queue holds only later news. */
    for (struct wp_browser *b = d->browsers; b; b = b->next) {
        if (!b->is_new)
            continue;
        b->is_new = false;
        for (struct disc_svc *s = d->svcs; s && !b->is_dead; s = s->next)
            deliver_service(d, b, WP_DISC_FOUND, s);
    }
    while (d->ev_head) {
        struct disc_ev *e = d->ev_head;
        d->ev_head = e->next;
        if (!d->ev_head)
            d->ev_tail = NULL;
        if (e->kind == DEV_SERVICE) {
            deliver_service(d, NULL, e->type, e->svc);
        } else if (e->kind == DEV_ADVERT && !e->adv->is_dead) {
            wp_discovery_event ev = {.type = e->type, .advert = e->adv, .name = e->name,
                                     .reason = e->err.code, .detail = e->err.detail};
            deliver(e->adv->fn, e->adv->user, &ev);
        }
        ev_free(e);
    }
    if (d->is_failed)
        deliver_failure(d);
    run_queries(d, now);
}

static void on_timer(struct timer *t, int64_t now_ms)
{
    struct disc *d = RT_CONTAINER(t, struct disc, t);
    if (d->is_failed && d->be)
        fall_back(d);
    if (d->be && d->be->tick)
        d->be->tick(d, now_ms);
    deliver_all(d, now_ms);
    disc_update(d);
}

/* ---------------------------------------------------------------- teardown */

static void free_adverts(struct wp_advert *a)
{
    while (a) {
        struct wp_advert *next = a->next;
        wp_free(a->stop_cmd);
        wp_free(a);
        a = next;
    }
}

static void free_browsers(struct wp_browser *b)
{
    while (b) {
        struct wp_browser *next = b->next;
        wp_free(b->stop_cmd);
        wp_free(b);
        b = next;
    }
}

/* see disc.h */
void disc_reap(struct wp_ctx *ctx)
{
    struct disc *d = ctx->disc_loop;
    if (!d)
        return;
    free_adverts(d->dead_adverts);
    d->dead_adverts = NULL;
    free_browsers(d->dead_browsers);
    d->dead_browsers = NULL;
    disc_avahi_reap(d);
}

/* see disc.h */
void disc_free(struct wp_ctx *ctx)
{
    struct disc *d = ctx->disc;
    if (!d)
        return;
    if (d->be)
        d->be->stop(d); /* goodbyes */
    d->be = NULL;
    timer_disarm(&ctx->loop, &d->t);
    disc_reap(ctx);
    free_adverts(d->adverts);
    free_browsers(d->browsers);
    /* The connections are freed by wp_ctx_free itself: drop the queries only. */
    while (d->queries) {
        struct disc_query *q = d->queries;
        d->queries = q->next;
        wp_free(q);
    }
    clear_services(d, false);
    while (d->ev_head) {
        struct disc_ev *e = d->ev_head;
        d->ev_head = e->next;
        ev_free(e);
    }
    for (size_t i = 0; i < d->n_ifnames; i++)
        wp_free(d->ifnames[i]);
    wp_free(d->ifnames);
    wp_free(d);
    ctx->disc = NULL;
    ctx->disc_loop = NULL;
}

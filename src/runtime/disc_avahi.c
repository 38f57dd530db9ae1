/*
 * disc_avahi.c - the Avahi discovery backend: src/runtime/avahi.h on the
 * context's loop. Each fd Avahi wants watched becomes a loop watch, each
 * of its timeouts a loop timer (struct avb_loop hooks). Objects Avahi
 * removes while a batch may still name them go to dead lists, freed by
 * disc_avahi_reap at the end of the loop iteration (loop.h invariant).
 * Avahi's events are handed to the core, which queues them for delivery.
 */
#include "internal.h"

#include <stdio.h>

#include "dns/txt.h"
#include "runtime/disc.h"
#include "runtime/rt.h"

struct disc_aw {
    struct disc_aw *next;
    struct disc *d;
    avb_watch *aw;
    struct watch w;
};

struct disc_at {
    struct disc_at *next;
    struct disc *d;
    avb_timer *at;
    struct timer t;
};

/* ---------------------------------------------------------------- loop glue */

static uint32_t to_loop(unsigned events)
{
    return ((events & AVB_IN) ? LOOP_IN : 0u) | ((events & AVB_OUT) ? LOOP_OUT : 0u);
}

static void on_aw(struct watch *w, uint32_t revents)
{
    struct disc_aw *x = RT_CONTAINER(w, struct disc_aw, w);
    unsigned ev = ((revents & LOOP_IN) ? AVB_IN : 0u) | ((revents & LOOP_OUT) ? AVB_OUT : 0u) |
                  ((revents & LOOP_ERR) ? (AVB_ERR | AVB_HUP) : 0u);
    struct disc *d = x->d;
    avb_watch_ready(x->aw, ev);
    disc_rearm(d);
}

static void on_at(struct timer *t, int64_t now_ms)
{
    WP_UNUSED(now_ms);
    struct disc_at *x = RT_CONTAINER(t, struct disc_at, t);
    struct disc *d = x->d;
    avb_timer_fire(x->at);
    disc_rearm(d);
}

static struct disc_aw **aw_find(struct disc *d, const avb_watch *aw)
{
    struct disc_aw **pp = &d->aws;
    while (*pp && (*pp)->aw != aw)
        pp = &(*pp)->next;
    return pp;
}

static struct disc_at **at_find(struct disc *d, const avb_timer *at)
{
    struct disc_at **pp = &d->ats;
    while (*pp && (*pp)->at != at)
        pp = &(*pp)->next;
    return pp;
}

static bool h_watch_add(void *user, avb_watch *aw, int fd, unsigned events)
{
    struct disc *d = user;
    wp_err e;
    struct disc_aw *x = wp_calloc(1, sizeof *x);
    if (!x)
        return false;
    x->d = d;
    x->aw = aw;
    if (loop_add(&d->ctx->loop, &x->w, fd, to_loop(events), on_aw, &e) != WP_OK) {
        wp_free(x);
        return false;
    }
    x->next = d->aws;
    d->aws = x;
    return true;
}

static void h_watch_update(void *user, avb_watch *aw, int fd, unsigned events)
{
    struct disc *d = user;
    struct disc_aw *x = *aw_find(d, aw);
    wp_err e;
    WP_UNUSED(fd);
    /* epoll_ctl(MOD) on a registered fd does not fail short of memory. */
    if (x)
        (void)!loop_mod(&d->ctx->loop, &x->w, to_loop(events), &e);
}

static void h_watch_remove(void *user, avb_watch *aw, int fd)
{
    struct disc *d = user;
    struct disc_aw **pp = aw_find(d, aw);
    struct disc_aw *x = *pp;
    WP_UNUSED(fd);
    if (!x)
        return;
    loop_del(&d->ctx->loop, &x->w);
    *pp = x->next;
    x->next = d->dead_aws;
    d->dead_aws = x;
}

static bool h_timeout_add(void *user, avb_timer *at, int64_t due_ms)
{
    struct disc *d = user;
    struct disc_at *x = wp_calloc(1, sizeof *x);
    if (!x)
        return false;
    x->d = d;
    x->at = at;
    timer_init(&x->t, on_at);
    if (due_ms >= 0 && timer_arm(&d->ctx->loop, &x->t, due_ms) != WP_OK) {
        wp_free(x);
        return false;
    }
    x->next = d->ats;
    d->ats = x;
    return true;
}

static void h_timeout_update(void *user, avb_timer *at, int64_t due_ms)
{
    struct disc *d = user;
    struct disc_at *x = *at_find(d, at);
    if (!x)
        return;
    if (due_ms < 0)
        timer_disarm(&d->ctx->loop, &x->t);
    else if (timer_arm(&d->ctx->loop, &x->t, due_ms) != WP_OK)
        loop_wake(&d->ctx->loop); /* no memory for the heap: Avahi's timeout is late */
}

static void h_timeout_remove(void *user, avb_timer *at)
{
    struct disc *d = user;
    struct disc_at **pp = at_find(d, at);
    struct disc_at *x = *pp;
    if (!x)
        return;
    timer_disarm(&d->ctx->loop, &x->t);
    *pp = x->next;
    x->next = d->dead_ats;
    d->dead_ats = x;
}

/* see disc.h */
void disc_avahi_reap(struct disc *d)
{
    while (d->dead_aws) {
        struct disc_aw *x = d->dead_aws;
        d->dead_aws = x->next;
        wp_free(x);
    }
    while (d->dead_ats) {
        struct disc_at *x = d->dead_ats;
        d->dead_ats = x->next;
        wp_free(x);
    }
}

/* ---------------------------------------------------------------- events */

static struct wp_advert *advert_by_reg(struct disc *d, const avb_reg *r)
{
    for (struct wp_advert *a = d->adverts; a; a = a->next) {
        if (r && a->reg == r)
            return a;
    }
    return NULL;
}

/* Append one TXT string to rdata; false when it does not fit. */
static bool txt_put(struct disc_svc *s, const struct avb_txt *t)
{
    size_t kl = strlen(t->key);
    size_t n = kl + (t->has_value ? 1 + t->value_len : 0);
    if (n > 255 || s->txt_len + 1 + n > sizeof s->txt)
        return false;
    uint8_t *p = s->txt + s->txt_len;
    *p++ = (uint8_t)n;
    memcpy(p, t->key, kl);
    p += kl;
    if (t->has_value) {
        *p++ = '=';
        if (t->value_len)
            memcpy(p, t->value, t->value_len);
    }
    s->txt_len += 1 + n;
    return true;
}

static void to_svc(const struct avb_service *in, struct disc_svc *out)
{
    memset(out, 0, offsetof(struct disc_svc, txt));
    snprintf(out->name, sizeof out->name, "%s", in->name);
    snprintf(out->host, sizeof out->host, "%s", in->host ? in->host : "");
    out->port = in->port;
    for (size_t i = 0; i < in->n_addrs && out->n_addrs < WP_SERVICE_MAX_ADDRS; i++) {
        struct disc_addr *a = &out->addrs[out->n_addrs++];
        a->family = in->addrs[i].family;
        memcpy(a->ip, in->addrs[i].bytes, 16);
        a->ifindex = in->addrs[i].ifindex;
    }
    /* Avahi hands TXT strings over parsed; the core keeps rdata. An empty
       record is one empty string (RFC 6763 §6.1). */
    out->has_txt = true;
    for (size_t i = 0; i < in->n_txt; i++)
        (void)txt_put(out, &in->txt[i]);
    if (out->txt_len == 0) {
        out->txt[0] = 0;
        out->txt_len = 1;
    }
    out->is_own = in->is_own;
}

static void on_event(void *user, const struct avb_event *ev)
{
    struct disc *d = user;
    struct disc_svc *s;
    switch (ev->kind) {
    case AVB_EV_REGISTERED:
    case AVB_EV_RENAMED:
        disc_on_advertised(d, advert_by_reg(d, ev->reg), ev->name,
                           ev->kind == AVB_EV_RENAMED);
        break;
    case AVB_EV_FOUND:
    case AVB_EV_UPDATED:
    case AVB_EV_REMOVED:
        if (!(s = wp_malloc(sizeof *s)))
            break; /* out of memory: this news is lost; later ones repair the table */
        to_svc(ev->svc, s);
        if (ev->kind == AVB_EV_REMOVED)
            disc_on_removed(d, s->name);
        else
            disc_on_found(d, s);
        wp_free(s);
        break;
    case AVB_EV_FAILED:
        if (ev->reg)
            disc_on_advert_failed(d, advert_by_reg(d, ev->reg), ev->err);
        else if (!ev->name)
            disc_on_backend_failed(d, ev->err); /* the daemon, or our browse, is gone */
        break; /* one service that does not resolve: the browse goes on */
    }
}

/* ---------------------------------------------------------------- backend */

static wp_status av_start(struct disc *d, wp_err *err)
{
    const struct avb_loop loop = {
        .user = d,
        .watch_add = h_watch_add,
        .watch_update = h_watch_update,
        .watch_remove = h_watch_remove,
        .timeout_add = h_timeout_add,
        .timeout_update = h_timeout_update,
        .timeout_remove = h_timeout_remove,
    };
    return avb_new(&loop, on_event, d, &d->avb, err);
}

static void av_stop(struct disc *d)
{
    /* Unregisters every service (the daemon sends the goodbyes), stops browsing. */
    avb_free(d->avb);
    d->avb = NULL;
    d->avb_br = NULL;
    for (struct wp_advert *a = d->adverts; a; a = a->next)
        a->reg = NULL;
}

static wp_status av_advert_add(struct disc *d, struct wp_advert *a, wp_err *err)
{
    struct avb_txt items[WP_TXT_MAX / 2];
    char keys[WP_TXT_MAX + WP_TXT_MAX / 2];
    size_t n = 0, used = 0;
    txt_iter it;
    txt_item item;
    txt_iter_init(&it, a->txt, a->txt_len);
    while (n < WP_ARRAY_LEN(items) && txt_iter_next(&it, &item, NULL) == WP_OK) {
        /* avahi.h wants NUL-terminated keys; the values are length-counted. */
        memcpy(keys + used, item.key, item.key_len);
        keys[used + item.key_len] = '\0';
        items[n++] = (struct avb_txt){.key = keys + used, .value = item.value,
                                      .value_len = item.value_len,
                                      .has_value = item.has_value};
        used += item.key_len + 1;
    }
    return avb_register(d->avb, a->name, DISC_TYPE, a->port, items, n, &a->reg, err);
}

static void av_advert_remove(struct disc *d, struct wp_advert *a)
{
    avb_unregister(d->avb, a->reg);
    a->reg = NULL;
}

static wp_status av_browse(struct disc *d, bool on, wp_err *err)
{
    if (!on) {
        avb_browse_stop(d->avb, d->avb_br);
        d->avb_br = NULL;
        return WP_OK;
    }
    return avb_browse(d->avb, DISC_TYPE, &d->avb_br, err);
}

const struct disc_backend disc_avahi = {
    .kind = WP_DISCOVERY_AVAHI,
    .start = av_start,
    .stop = av_stop,
    .advert_add = av_advert_add,
    .advert_remove = av_advert_remove,
    .browse = av_browse,
    .deadline = NULL,
    .tick = NULL,
};

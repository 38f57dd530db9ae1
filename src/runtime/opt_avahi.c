/*
 * opt_avahi.c - the Avahi backend (avahi.h): AvahiPoll on the caller's loop
 * hooks, the client connection, and service registration with renaming.
 * Browsing and resolving are in opt_avahi_browse.c.
 *
 * Built only when pkg-config finds avahi-client (cmake/optional.cmake).
 */
#include "internal.h"

#include <poll.h>
#include <sys/time.h>

#include <avahi-common/alternative.h>
#include <avahi-common/domain.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>

#include "codec/buf.h"
#include "runtime/avahi_int.h"

_Static_assert(AVB_IN == POLLIN && AVB_OUT == POLLOUT && AVB_ERR == POLLERR &&
                   AVB_HUP == POLLHUP,
               "AVB_* are the poll(2) bits, as AvahiWatchEvent");

/* ------------------------------------------------------------ lifetime */

void avb_enter(avb *b)
{
    b->depth++;
}

static void sweep(avb *b, bool is_all)
{
    for (struct avb_watch **pw = &b->watches; *pw;) {
        struct avb_watch *w = *pw;
        if (w->is_gone || is_all) {
            *pw = w->next;
            wp_free(w);
        } else {
            pw = &w->next;
        }
    }
    for (struct avb_timer **pt = &b->timers; *pt;) {
        struct avb_timer *t = *pt;
        if (t->is_gone || is_all) {
            *pt = t->next;
            wp_free(t);
        } else {
            pt = &t->next;
        }
    }
    for (avb_reg **pr = &b->regs; *pr;) {
        avb_reg *r = *pr;
        if (r->is_gone || is_all) {
            *pr = r->next;
            wp_free(r->name);
            wp_free(r->type);
            avahi_string_list_free(r->txt);
            wp_free(r);
        } else {
            pr = &r->next;
        }
    }
    for (avb_browser **pb = &b->browses; *pb;) {
        avb_browser *br = *pb;
        bool is_dead = br->is_gone || is_all;
        avb_browse_sweep(br, is_dead);
        if (is_dead) {
            *pb = br->next;
            wp_free(br->type);
            wp_free(br);
        } else {
            pb = &br->next;
        }
    }
}

void avb_leave(avb *b)
{
    if (--b->depth == 0)
        sweep(b, false);
}

void avb_emit(avb *b, const struct avb_event *ev)
{
    if (b->cb && !b->is_creating)
        b->cb(b->user, ev);
}

wp_status avb_fail_code(wp_err *err, int aerr, const char *what)
{
    wp_status st;
    switch (aerr) {
    case AVAHI_ERR_NO_MEMORY:
        st = WP_ENOMEM;
        break;
    case AVAHI_ERR_NO_DAEMON:
    case AVAHI_ERR_DISCONNECTED:
        st = WP_ENOTFOUND;
        break;
    case AVAHI_ERR_INVALID_HOST_NAME:
    case AVAHI_ERR_INVALID_DOMAIN_NAME:
    case AVAHI_ERR_INVALID_SERVICE_NAME:
    case AVAHI_ERR_INVALID_SERVICE_TYPE:
    case AVAHI_ERR_INVALID_PORT:
    case AVAHI_ERR_INVALID_RECORD:
        st = WP_EINVAL;
        break;
    default:
        st = WP_ESYS;
        break;
    }
    return err_set(err, st, "%s: %s (avahi error %d)", what, avahi_strerror(aerr), aerr);
}

/* ------------------------------------------------------------ AvahiPoll on the loop hooks */

/* Avahi's deadlines are absolute gettimeofday() times; the loop's clock is
 * CLOCK_MONOTONIC. Round up so a timer never fires early. */
static int64_t due_ms(const struct timeval *tv)
{
    struct timeval now;
    if (!tv)
        return -1;
    gettimeofday(&now, NULL);
    int64_t us = ((int64_t)tv->tv_sec - (int64_t)now.tv_sec) * 1000000 +
                 ((int64_t)tv->tv_usec - (int64_t)now.tv_usec);
    if (us < 0)
        us = 0;
    return avb_now_ms() + (us + 999) / 1000;
}

static AvahiWatch *aw_new(const AvahiPoll *api, int fd, AvahiWatchEvent event,
                          AvahiWatchCallback cb, void *cb_user)
{
    avb *b = api->userdata;
    struct avb_watch *w = wp_calloc(1, sizeof *w);
    if (!w) {
        b->is_oom = true;
        return NULL;
    }
    w->b = b;
    w->fd = fd;
    w->cb = cb;
    w->cb_user = cb_user;
    if (!b->loop.watch_add(b->loop.user, w, fd, (unsigned)event & (AVB_IN | AVB_OUT))) {
        wp_free(w);
        b->is_hook_failed = true;
        return NULL;
    }
    w->next = b->watches;
    b->watches = w;
    return (AvahiWatch *)(void *)w;
}

static void aw_update(AvahiWatch *aw, AvahiWatchEvent event)
{
    struct avb_watch *w = (struct avb_watch *)(void *)aw;
    if (w && !w->is_gone)
        w->b->loop.watch_update(w->b->loop.user, w, w->fd, (unsigned)event & (AVB_IN | AVB_OUT));
}

static AvahiWatchEvent aw_get_events(AvahiWatch *aw)
{
    const struct avb_watch *w = (const struct avb_watch *)(void *)aw;
    return (AvahiWatchEvent)(w ? w->revents : 0);
}

static void aw_free(AvahiWatch *aw)
{
    struct avb_watch *w = (struct avb_watch *)(void *)aw;
    if (!w || w->is_gone)
        return;
    w->is_gone = true;
    w->b->loop.watch_remove(w->b->loop.user, w, w->fd);
    if (w->b->depth == 0)
        sweep(w->b, false);
}

static AvahiTimeout *at_new(const AvahiPoll *api, const struct timeval *tv,
                            AvahiTimeoutCallback cb, void *cb_user)
{
    avb *b = api->userdata;
    struct avb_timer *t = wp_calloc(1, sizeof *t);
    if (!t) {
        b->is_oom = true;
        return NULL;
    }
    t->b = b;
    t->cb = cb;
    t->cb_user = cb_user;
    if (!b->loop.timeout_add(b->loop.user, t, due_ms(tv))) {
        wp_free(t);
        b->is_hook_failed = true;
        return NULL;
    }
    t->next = b->timers;
    b->timers = t;
    return (AvahiTimeout *)(void *)t;
}

static void at_update(AvahiTimeout *at, const struct timeval *tv)
{
    struct avb_timer *t = (struct avb_timer *)(void *)at;
    if (t && !t->is_gone)
        t->b->loop.timeout_update(t->b->loop.user, t, due_ms(tv));
}

static void at_free(AvahiTimeout *at)
{
    /* NULL happens: avahi-client's D-Bus glue frees the timeout it failed to
     * create when our timeout_new returned NULL (seen with Avahi 0.8). */
    struct avb_timer *t = (struct avb_timer *)(void *)at;
    if (!t || t->is_gone)
        return;
    t->is_gone = true;
    t->b->loop.timeout_remove(t->b->loop.user, t);
    if (t->b->depth == 0)
        sweep(t->b, false);
}

/* see avahi.h */
void avb_watch_ready(avb_watch *w, unsigned revents)
{
    if (!w || w->is_gone)
        return;
    avb *b = w->b;
    avb_enter(b);
    w->revents = revents;
    w->cb((AvahiWatch *)(void *)w, w->fd, (AvahiWatchEvent)revents, w->cb_user);
    w->revents = 0;
    avb_leave(b);
}

/* see avahi.h */
void avb_timer_fire(avb_timer *t)
{
    if (!t || t->is_gone)
        return;
    avb *b = t->b;
    avb_enter(b);
    b->loop.timeout_update(b->loop.user, t, -1); /* one-shot; Avahi may re-arm */
    t->cb((AvahiTimeout *)(void *)t, t->cb_user);
    avb_leave(b);
}

/* ------------------------------------------------------------ registration */

/* A registration failed after avb_register returned: tell the user. */
static void reg_fail(avb_reg *r, const wp_err *e)
{
    r->is_failed = true;
    struct avb_event ev = {.kind = AVB_EV_FAILED, .reg = r, .name = r->name, .err = e};
    avb_emit(r->b, &ev);
}

/* Take the next alternative name ("x" -> "x #2" -> "x #3"). */
static wp_status reg_rename(avb_reg *r, wp_err *err)
{
    if (r->renames >= AVB_RENAME_MAX)
        return err_set(err, WP_EEXIST, "'%s': still colliding after %u renames", r->name,
                       r->renames);
    char *alt = avahi_alternative_service_name(r->name);
    char *name = alt ? wp_strdup(alt) : NULL;
    avahi_free(alt);
    if (!name)
        return err_set(err, WP_ENOMEM, "renaming '%s'", r->name);
    char *old = r->name;
    r->name = name;
    r->renames++;
    struct avb_event ev = {.kind = AVB_EV_RENAMED, .reg = r, .name = r->name, .old_name = old};
    avb_emit(r->b, &ev);
    wp_free(old);
    return WP_OK;
}

static void group_cb(AvahiEntryGroup *g, AvahiEntryGroupState state, void *user);

/* Add r's service to its entry group and commit (probing starts). Only in
 * client state RUNNING; otherwise the client callback calls us later. */
static wp_status reg_add(avb_reg *r, wp_err *err)
{
    avb *b = r->b;
    wp_status rc = WP_OK;
    int aerr = AVAHI_OK;
    if (r->is_gone || r->is_failed || r->is_added || b->state != AVAHI_CLIENT_S_RUNNING)
        return WP_OK;
    if (!r->group) {
        r->group = avahi_entry_group_new(b->client, group_cb, r);
        if (!r->group)
            return avb_fail_code(err, avahi_client_errno(b->client), "entry group");
    }
    for (;;) {
        aerr = avahi_entry_group_add_service_strlst(r->group, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
                                                    0, r->name, r->type, NULL, NULL, r->port,
                                                    r->txt);
        if (aerr != AVAHI_ERR_COLLISION)
            break;
        /* Another service of this daemon has the name: rename locally. */
        rc = reg_rename(r, err);
        if (rc != WP_OK || r->is_gone)
            return rc;
    }
    if (aerr == AVAHI_OK)
        aerr = avahi_entry_group_commit(r->group);
    if (aerr != AVAHI_OK)
        return avb_fail_code(err, aerr, "publishing");
    r->is_added = true;
    return WP_OK;
}

/* reg_add from a callback: a failure becomes an event. */
static void reg_add_or_report(avb_reg *r)
{
    wp_err e;
    err_clear(&e);
    if (reg_add(r, &e) != WP_OK)
        reg_fail(r, &e);
}

static void group_cb(AvahiEntryGroup *g, AvahiEntryGroupState state, void *user)
{
    avb_reg *r = user;
    wp_err e;
    err_clear(&e);
    if (r->is_gone || r->group != g)
        return; /* a call from inside avahi_entry_group_new(): nothing to do yet */
    switch (state) {
    case AVAHI_ENTRY_GROUP_ESTABLISHED: {
        struct avb_event ev = {.kind = AVB_EV_REGISTERED, .reg = r, .name = r->name};
        avb_emit(r->b, &ev);
        break;
    }
    case AVAHI_ENTRY_GROUP_COLLISION:
        /* Probing found the name taken on the network (RFC 6762 §9). */
        avahi_entry_group_reset(g);
        r->is_added = false;
        if (reg_rename(r, &e) != WP_OK)
            reg_fail(r, &e);
        else
            reg_add_or_report(r);
        break;
    case AVAHI_ENTRY_GROUP_FAILURE:
        avb_fail_code(&e, avahi_client_errno(r->b->client), "registration");
        reg_fail(r, &e);
        break;
    case AVAHI_ENTRY_GROUP_UNCOMMITED:
    case AVAHI_ENTRY_GROUP_REGISTERING:
    default:
        break;
    }
}

/* TXT strings -> an Avahi string list, through the RDATA wire form so the
 * record order is exactly the caller's (RFC 6763 §6). */
static wp_status txt_build(const struct avb_txt *txt, size_t n_txt, AvahiStringList **out,
                           wp_err *err)
{
    wp_wbuf w;
    wp_status rc = WP_OK;
    size_t total = 0;
    *out = NULL;
    wbuf_init_dyn(&w, AVB_TXT_MAX);
    for (size_t i = 0; i < n_txt && rc == WP_OK; i++) {
        const struct avb_txt *t = &txt[i];
        size_t klen = t->key ? strlen(t->key) : 0;
        if (klen == 0 || (t->value_len > 0 && !t->value) || (!t->has_value && t->value_len)) {
            rc = err_set(err, WP_EINVAL, "TXT item %zu: empty key or inconsistent value", i);
            break;
        }
        for (size_t k = 0; k < klen && rc == WP_OK; k++) {
            unsigned char c = (unsigned char)t->key[k];
            if (c < 0x20 || c > 0x7e || c == '=')
                rc = err_set(err, WP_EINVAL, "TXT key '%s': byte 0x%02x not allowed (RFC 6763 §6.4)",
                             t->key, c);
        }
        for (size_t j = 0; j < i && rc == WP_OK; j++) {
            const char *a = txt[j].key, *k = t->key;
            size_t m = 0;
            while (a[m] && k[m] && (a[m] | 0x20) == (k[m] | 0x20))
                m++;
            if (!a[m] && !k[m])
                rc = err_set(err, WP_EINVAL, "TXT key '%s' given twice (keys are case-insensitive)",
                             t->key);
        }
        size_t len = klen + (t->has_value ? 1 + t->value_len : 0);
        if (rc == WP_OK && len > AVB_TXT_STRING_MAX)
            rc = err_set(err, WP_ETOOBIG, "TXT string '%s=...' is %zu bytes > %u", t->key, len,
                         AVB_TXT_STRING_MAX);
        total += 1 + len;
        if (rc == WP_OK && total > AVB_TXT_MAX)
            rc = err_set(err, WP_ETOOBIG, "TXT record exceeds %u bytes", AVB_TXT_MAX);
        if (rc != WP_OK)
            break;
        wbuf_u8(&w, (uint8_t)len);
        wbuf_bytes(&w, t->key, klen);
        if (t->has_value) {
            wbuf_u8(&w, '=');
            wbuf_bytes(&w, t->value, t->value_len);
        }
    }
    if (rc == WP_OK && !wbuf_ok(&w))
        rc = err_set(err, WP_ENOMEM, "TXT record"); /* the size was checked above */
    if (rc == WP_OK && w.len > 0 && avahi_string_list_parse(w.data, w.len, out) < 0)
        rc = err_set(err, WP_ENOMEM, "TXT string list");
    wbuf_clear(&w);
    return rc;
}

/* see avahi.h */
wp_status avb_register(avb *b, const char *name, const char *type, uint16_t port,
                       const struct avb_txt *txt, size_t n_txt, avb_reg **out_reg, wp_err *err)
{
    wp_status rc = WP_OK;
    avb_reg *r = NULL;
    if (WP_MISUSE(!b || !name || !type || !out_reg || (n_txt && !txt)))
        return err_set(err, WP_EINVAL, "avb_register: NULL argument");
    *out_reg = NULL;
    if (b->is_failed) {
        err_copy(err, &b->err);
        return b->err.code;
    }
    if (strlen(name) == 0 || strlen(name) > 63 || !avahi_is_valid_service_name(name))
        return err_set(err, WP_EINVAL, "service name '%s': 1 to 63 bytes of UTF-8", name);
    if (!avahi_is_valid_service_type_strict(type))
        return err_set(err, WP_EINVAL, "service type '%s' is not like _name._tcp", type);
    avb_enter(b);
    r = wp_calloc(1, sizeof *r);
    if (!r) {
        rc = err_set(err, WP_ENOMEM, "registration");
        goto out;
    }
    r->b = b;
    r->port = port;
    r->name = wp_strdup(name);
    r->type = wp_strdup(type);
    r->next = b->regs;
    b->regs = r; /* from here the sweep owns r */
    if (!r->name || !r->type) {
        rc = err_set(err, WP_ENOMEM, "registration");
        goto out;
    }
    rc = txt_build(txt, n_txt, &r->txt, err);
    if (rc != WP_OK)
        goto out;
    rc = reg_add(r, err);
    if (rc != WP_OK)
        goto out;
    *out_reg = r;
out:
    if (rc != WP_OK && r) {
        if (r->group)
            avahi_entry_group_free(r->group);
        r->group = NULL;
        r->is_gone = true;
    }
    avb_leave(b);
    return rc;
}

/* see avahi.h */
void avb_unregister(avb *b, avb_reg *r)
{
    if (!b || !r || r->is_gone)
        return;
    avb_enter(b);
    r->is_gone = true;
    if (r->group)
        avahi_entry_group_free(r->group); /* the daemon sends goodbyes (TTL 0) */
    r->group = NULL;
    avb_leave(b);
}

/* see avahi.h */
const char *avb_reg_name(const avb_reg *r)
{
    return r ? r->name : NULL;
}

/* ------------------------------------------------------------ client */

static void client_cb(AvahiClient *c, AvahiClientState state, void *user)
{
    avb *b = user;
    b->client = c; /* the first call comes from inside avahi_client_new() */
    b->state = state;
    switch (state) {
    case AVAHI_CLIENT_S_RUNNING:
        for (avb_reg *r = b->regs; r; r = r->next)
            reg_add_or_report(r);
        for (avb_browser *br = b->browses; br; br = br->next)
            if (!br->is_gone && !br->is_failed && !br->sb)
                avb_browse_start_or_report(br);
        break;
    case AVAHI_CLIENT_S_COLLISION:
    case AVAHI_CLIENT_S_REGISTERING:
        /* The host name is being (re)probed: withdraw, re-add when RUNNING. */
        for (avb_reg *r = b->regs; r; r = r->next) {
            if (r->group && !r->is_gone) {
                avahi_entry_group_reset(r->group);
                r->is_added = false;
            }
        }
        break;
    case AVAHI_CLIENT_FAILURE:
        if (!b->is_failed && !b->is_creating) {
            b->is_failed = true;
            avb_fail_code(&b->err, avahi_client_errno(c), "avahi-daemon connection");
            struct avb_event ev = {.kind = AVB_EV_FAILED, .err = &b->err};
            avb_emit(b, &ev);
        }
        break;
    case AVAHI_CLIENT_CONNECTING:
    default:
        break;
    }
}

/* see avahi.h */
wp_status avb_new(const struct avb_loop *loop, avb_event_fn cb, void *user, avb **out_b,
                  wp_err *err)
{
    wp_status rc = WP_OK;
    int aerr = 0;
    avb *b = NULL;
    if (WP_MISUSE(!loop || !out_b || !loop->watch_add || !loop->watch_update ||
                  !loop->watch_remove || !loop->timeout_add || !loop->timeout_update ||
                  !loop->timeout_remove))
        return err_set(err, WP_EINVAL, "avb_new: NULL loop hook");
    *out_b = NULL;
    b = wp_calloc(1, sizeof *b);
    if (!b)
        return err_set(err, WP_ENOMEM, "avahi backend");
    b->loop = *loop;
    b->cb = cb;
    b->user = user;
    b->poll = (AvahiPoll){.userdata = b,
                          .watch_new = aw_new,
                          .watch_update = aw_update,
                          .watch_get_events = aw_get_events,
                          .watch_free = aw_free,
                          .timeout_new = at_new,
                          .timeout_update = at_update,
                          .timeout_free = at_free};
    err_clear(&b->err);
    avb_enter(b);
    b->is_creating = true;
    b->client = avahi_client_new(&b->poll, 0, client_cb, b, &aerr);
    b->is_creating = false;
    if (!b->client) {
        /* Avahi reports our failed watch/timeout as a D-Bus failure: say why. */
        if (b->is_oom)
            rc = err_set(err, WP_ENOMEM, "connecting to avahi-daemon: watch or timeout");
        else if (b->is_hook_failed)
            rc = err_set(err, WP_ESYS, "connecting to avahi-daemon: the loop refused a "
                                       "watch or timeout");
        else
            rc = avb_fail_code(err, aerr, "connecting to avahi-daemon");
        goto out;
    }
    b->state = avahi_client_get_state(b->client);
    if (b->state == AVAHI_CLIENT_FAILURE) {
        rc = avb_fail_code(err, avahi_client_errno(b->client), "connecting to avahi-daemon");
        goto out;
    }
out:
    if (rc != WP_OK) {
        if (b->client)
            avahi_client_free(b->client);
        b->client = NULL;
    }
    avb_leave(b);
    if (rc != WP_OK) {
        sweep(b, true);
        wp_free(b);
        return rc;
    }
    *out_b = b;
    return WP_OK;
}

/* see avahi.h */
void avb_free(avb *b)
{
    if (!b)
        return;
    if (WP_MISUSE(b->depth != 0))
        return;
    avb_enter(b);
    for (avb_reg *r = b->regs; r; r = r->next)
        avb_unregister(b, r);
    for (avb_browser *br = b->browses; br; br = br->next)
        avb_browse_stop(b, br);
    if (b->client)
        avahi_client_free(b->client); /* frees its watches and timers through our hooks */
    b->client = NULL;
    avb_leave(b);
    sweep(b, true);
    wp_free(b);
}

/* see avahi.h */
const wp_err *avb_last_error(const avb *b)
{
    return b && b->is_failed ? &b->err : NULL;
}

/* ------------------------------------------------------------ probe */

static bool nop_add(void *u, avb_watch *w, int fd, unsigned ev)
{
    WP_UNUSED(u);
    WP_UNUSED(w);
    WP_UNUSED(fd);
    WP_UNUSED(ev);
    return true;
}
static void nop_update(void *u, avb_watch *w, int fd, unsigned ev)
{
    WP_UNUSED(u);
    WP_UNUSED(w);
    WP_UNUSED(fd);
    WP_UNUSED(ev);
}
static void nop_remove(void *u, avb_watch *w, int fd)
{
    WP_UNUSED(u);
    WP_UNUSED(w);
    WP_UNUSED(fd);
}
static bool nop_tadd(void *u, avb_timer *t, int64_t due)
{
    WP_UNUSED(u);
    WP_UNUSED(t);
    WP_UNUSED(due);
    return true;
}
static void nop_tupdate(void *u, avb_timer *t, int64_t due)
{
    WP_UNUSED(u);
    WP_UNUSED(t);
    WP_UNUSED(due);
}
static void nop_tremove(void *u, avb_timer *t)
{
    WP_UNUSED(u);
    WP_UNUSED(t);
}

/* see avahi.h. Connecting is synchronous (D-Bus calls inside
 * avahi_client_new), so no loop is needed: the hooks only accept. */
bool avb_probe(wp_err *err)
{
    static const struct avb_loop nop = {
        .watch_add = nop_add,
        .watch_update = nop_update,
        .watch_remove = nop_remove,
        .timeout_add = nop_tadd,
        .timeout_update = nop_tupdate,
        .timeout_remove = nop_tremove,
    };
    avb *b = NULL;
    if (avb_new(&nop, NULL, NULL, &b, err) != WP_OK)
        return false;
    avb_free(b);
    err_clear(err);
    return true;
}

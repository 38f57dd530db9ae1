/*
 * listener.c - accepting connections: a non-blocking listening socket on
 * the loop; each accepted socket becomes a responder-side wp_conn.
 *
 * Out of file descriptors (EMFILE, ENFILE) or socket memory, accept fails
 * while the connection stays queued, so a level-triggered watch would fire
 * again at once: the listener stops watching and resumes RT_EMFILE_BACKOFF_MS
 * later (the queued connections wait in the kernel's backlog). A listener
 * the loop cannot watch (registering or resuming it failed) is dead: the
 * application learns it from WP_EV_LISTENER_FAILED, never by silence.
 */
/* accept4 (Linux): accept non-blocking and close-on-exec in one call. */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/rt.h"

static void accept_one(struct wp_listener *l, int fd)
{
    struct wp_ctx *ctx = l->ctx;
    struct wp_conn *conn = NULL;
    wp_err err;
    if (session_new(ctx, &l->opts, &conn, &err) != WP_OK) {
        close(fd);
        return;
    }
    conn->listener = l;
    session_link(conn);
    net_tune(fd, &conn->opts);
    if (session_attach(conn, fd, false, &err) != WP_OK) {
        /* Not yet announced to the application: drop it quietly. */
        if (!conn->w.is_added)
            close(fd);
        conn->state = RT_DEAD;
        ctx->nconns--;
        ctx_conn_unref(conn);
        return;
    }
    wp_event ev;
    session_event(conn, WP_EV_CONNECTED, &ev);
    (void)ctx_deliver(ctx, &ev);
}

/* The listener can no longer accept: stop it and have WP_EV_LISTENER_FAILED delivered. */
static void listener_failed(struct wp_listener *l, const char *what, const wp_err *e)
{
    struct wp_ctx *ctx = l->ctx;
    if (l->is_dead)
        return;
    l->is_dead = true;
    loop_del(&ctx->loop, &l->w);
    timer_disarm(&ctx->loop, &l->t);
    err_set(&l->fail, e->code, "listener on port %u: %s: %s", l->port, what, e->detail);
    l->fail.sys_errno = e->sys_errno;
    l->needs_report = true;
    ctx->listener_reports++;
}

void listener_report(struct wp_ctx *ctx)
{
    /* Rescan after each callback: it may close listeners (ours included). */
    while (ctx->listener_reports) {
        struct wp_listener *l = ctx->listeners;
        while (l && !l->needs_report)
            l = l->next;
        if (!l) {
            ctx->listener_reports = 0;
            break;
        }
        l->needs_report = false;
        ctx->listener_reports--;
        wp_event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = WP_EV_LISTENER_FAILED;
        ev.listener = l;
        ev.conn_user = l->opts.user;
        ev.reason = l->fail.code;
        ev.detail = l->fail.detail;
        (void)ctx_deliver(ctx, &ev);
    }
}

static void on_backoff(struct timer *t, int64_t now_ms)
{
    WP_UNUSED(now_ms);
    struct wp_listener *l = RT_CONTAINER(t, struct wp_listener, t);
    wp_err err;
    if (!l->is_dead && loop_mod(&l->ctx->loop, &l->w, LOOP_IN, &err) != WP_OK)
        listener_failed(l, "cannot resume accepting", &err);
}

static void on_accept(struct watch *w, uint32_t revents)
{
    WP_UNUSED(revents);
    struct wp_listener *l = RT_CONTAINER(w, struct wp_listener, w);
    wp_err err;
    for (int i = 0; i < RT_ACCEPT_BATCH && !l->is_dead; i++) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors: a level-triggered listener would spin. Pause. */
                if (loop_mod(&l->ctx->loop, &l->w, 0, &err) != WP_OK)
                    listener_failed(l, "cannot pause accepting", &err);
                else if (timer_arm(&l->ctx->loop, &l->t,
                                   loop_now_ms() + RT_EMFILE_BACKOFF_MS) != WP_OK)
                    listener_failed(l, "cannot pause accepting",
                                    &(wp_err){.code = WP_ENOMEM, .detail = "timer heap"});
            }
            break;
        }
        accept_one(l, fd);
    }
}

void listener_start(struct wp_listener *l)
{
    struct wp_ctx *ctx = l->ctx;
    wp_err err;
    l->next = ctx->listeners;
    ctx->listeners = l;
    timer_init(&l->t, on_backoff);
    if (loop_add(&ctx->loop, &l->w, l->fd, LOOP_IN, on_accept, &err) != WP_OK)
        listener_failed(l, "cannot watch it", &err);
}

void listener_close(struct wp_listener *l)
{
    struct wp_ctx *ctx = l->ctx;
    for (struct wp_listener **pp = &ctx->listeners; *pp; pp = &(*pp)->next) {
        if (*pp == l) {
            *pp = l->next;
            break;
        }
    }
    l->is_dead = true;
    if (l->needs_report) {
        l->needs_report = false;
        ctx->listener_reports--;
    }
    loop_del(&ctx->loop, &l->w);
    timer_disarm(&ctx->loop, &l->t);
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    /* An I/O batch may still name it: free at the end of the iteration. */
    l->next = ctx->dead_listeners;
    ctx->dead_listeners = l;
}

void listener_free(struct wp_listener *l)
{
    if (l->w.is_added)
        loop_del(&l->ctx->loop, &l->w);
    timer_disarm(&l->ctx->loop, &l->t);
    if (l->fd >= 0)
        close(l->fd);
    wp_free(l);
}

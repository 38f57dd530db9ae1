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
 *
 * At most opts.max_pending accepted connections handshake at once, so
 * peers that connect and stall cannot use up the descriptors. At the limit
 * the listener pauses (newcomers wait in the backlog) until one of them
 * finishes its handshake, or until the oldest has had RT_PENDING_GRACE_MS:
 * the next newcomer then displaces it. A burst of honest peers thus queues
 * instead of displacing each other, and stalled ones hold a slot for a
 * second, not for the whole handshake timeout.
 */
/* accept4 (Linux): accept non-blocking and close-on-exec in one call. */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/rt.h"

static void resume_accepting(struct wp_listener *l);

void listener_unpend(struct wp_conn *conn)
{
    struct wp_listener *l = conn->pending_in;
    if (!l)
        return;
    if (conn->pend_prev)
        conn->pend_prev->pend_next = conn->pend_next;
    else
        l->pend_head = conn->pend_next;
    if (conn->pend_next)
        conn->pend_next->pend_prev = conn->pend_prev;
    else
        l->pend_tail = conn->pend_prev;
    conn->pend_prev = conn->pend_next = NULL;
    conn->pending_in = NULL;
    l->npending--;
    if (l->is_full && !l->is_dead) {
        l->is_full = false;
        resume_accepting(l); /* a slot is free */
    }
}

/* The oldest handshake makes room for a newcomer: reset, WP_ETIMEDOUT. */
static void displace_oldest(struct wp_listener *l)
{
    struct wp_conn *old = l->pend_head;
    old->is_aborted = true; /* reset: its descriptor is what we want back */
    session_fail(old, WP_ETIMEDOUT,
                 "handshake not finished after %d ms, displaced by a newer connection "
                 "(max_pending %u)",
                 RT_PENDING_GRACE_MS, l->opts.max_pending);
}

/* Track a new handshaking conn (oldest first). */
static void pend(struct wp_listener *l, struct wp_conn *conn)
{
    conn->pending_in = l;
    conn->pend_next = NULL;
    conn->pend_prev = l->pend_tail;
    if (l->pend_tail)
        l->pend_tail->pend_next = conn;
    else
        l->pend_head = conn;
    l->pend_tail = conn;
    l->npending++;
}

/* The listener goes away: its conns no longer point at it. */
static void unpend_all(struct wp_listener *l)
{
    while (l->pend_head)
        listener_unpend(l->pend_head);
}

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
        /* Not yet announced to the application: drop it quietly. Unless the
           watch took fd (it did not: see loop_add), it is ours to close. */
        if (conn->w.fd < 0)
            close(fd);
        conn->state = RT_DEAD;
        ctx->nconns--;
        ctx_conn_unref(conn);
        return;
    }
    if (conn->state < RT_CLOSING) /* attach may have failed it already (timer heap) */
        pend(l, conn);
    if (conn->opts.is_retained)
        ctx_conn_retain(conn); /* the application's, from WP_EV_CONNECTED on */
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

/* Stop watching the socket until when_ms (or an earlier resume_accepting). */
static void pause_accepting(struct wp_listener *l, int64_t when_ms)
{
    wp_err err;
    if (loop_mod(&l->ctx->loop, &l->w, 0, &err) != WP_OK)
        listener_failed(l, "cannot pause accepting", &err);
    else if (timer_arm(&l->ctx->loop, &l->t, when_ms) != WP_OK)
        listener_failed(l, "cannot pause accepting",
                        &(wp_err){.code = WP_ENOMEM, .detail = "timer heap"});
}

static void resume_accepting(struct wp_listener *l)
{
    wp_err err;
    timer_disarm(&l->ctx->loop, &l->t);
    if (loop_mod(&l->ctx->loop, &l->w, LOOP_IN, &err) != WP_OK)
        listener_failed(l, "cannot resume accepting", &err);
}

static void on_backoff(struct timer *t, int64_t now_ms)
{
    WP_UNUSED(now_ms);
    struct wp_listener *l = RT_CONTAINER(t, struct wp_listener, t);
    l->is_full = false; /* on_accept looks again */
    if (!l->is_dead)
        resume_accepting(l);
}

static void on_accept(struct watch *w, uint32_t revents)
{
    WP_UNUSED(revents);
    struct wp_listener *l = RT_CONTAINER(w, struct wp_listener, w);
    for (int i = 0; i < RT_ACCEPT_BATCH && !l->is_dead; i++) {
        bool is_full = l->npending >= l->opts.max_pending && l->pend_head;
        if (is_full) {
            int64_t grace_end = l->pend_head->created_ms + RT_PENDING_GRACE_MS;
            if (loop_now_ms() < grace_end) {
                /* Every slot is young: newcomers wait in the backlog. */
                l->is_full = true;
                pause_accepting(l, grace_end);
                break;
            }
        }
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors: a level-triggered listener would spin. Pause. */
                pause_accepting(l, loop_now_ms() + RT_EMFILE_BACKOFF_MS);
            }
            break;
        }
        if (is_full)
            displace_oldest(l); /* only now that a newcomer is really there */
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
    unpend_all(l);
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
    l->is_dead = true;
    unpend_all(l);
    if (l->w.is_added)
        loop_del(&l->ctx->loop, &l->w);
    timer_disarm(&l->ctx->loop, &l->t);
    if (l->fd >= 0)
        close(l->fd);
    wp_free(l);
}

/*
 * connect.c - outgoing connections: name resolution on a helper thread
 * (getaddrinfo blocks; the loop must not), then a non-blocking connect to
 * each address in turn until one answers or the connect deadline passes.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/disc.h"
#include "runtime/rt.h"

/* ---------------------------------------------------------------- resolver */

static void *resolve_main(void *arg)
{
    struct resolver *r = arg;
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    r->gai_err = getaddrinfo(r->host, r->service, &hints, &r->res);
    struct cmd *c = r->done;
    r->done = NULL;
    ctx_enqueue(r->ctx, c);
    return NULL;
}

wp_status resolver_start(struct wp_ctx *ctx, struct wp_conn *conn, wp_err *err)
{
    wp_status rc = WP_OK;
    struct resolver *r = wp_calloc(1, sizeof *r);
    struct cmd *c = wp_calloc(1, sizeof *c);
    if (!r || !c) {
        rc = err_set(err, WP_ENOMEM, "resolver");
        goto out;
    }
    r->host = wp_strdup(conn->host);
    if (!r->host) {
        rc = err_set(err, WP_ENOMEM, "resolver");
        goto out;
    }
    snprintf(r->service, sizeof r->service, "%u", conn->port);
    r->ctx = ctx;
    r->conn = conn;
    c->type = CMD_RESOLVED;
    c->res = r;
    r->done = c;
    /*
     * Hold the lock across pthread_create: the thread's ctx_enqueue waits
     * for it, so r->th is set before the loop can see CMD_RESOLVED.
     */
    pthread_mutex_lock(&ctx->mu);
    int e = pthread_create(&r->th, NULL, resolve_main, r);
    if (e == 0) {
        conn->refs++;
        r->next = ctx->resolvers;
        ctx->resolvers = r;
    }
    pthread_mutex_unlock(&ctx->mu);
    if (e != 0) {
        rc = err_sys(err, e, "cannot start a name resolution thread");
        goto out;
    }
    r = NULL;
    c = NULL;
out:
    if (r)
        wp_free(r->host);
    wp_free(r);
    wp_free(c);
    return rc;
}

void resolver_discard(struct resolver *r)
{
    if (r->res)
        freeaddrinfo(r->res);
    wp_free(r->done);
    wp_free(r->host);
    wp_free(r);
}

void resolver_finish(struct resolver *r)
{
    struct wp_ctx *ctx = r->ctx;
    struct wp_conn *conn = r->conn;
    pthread_mutex_lock(&ctx->mu);
    for (struct resolver **pp = &ctx->resolvers; *pp; pp = &(*pp)->next) {
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    }
    pthread_mutex_unlock(&ctx->mu);
    /* It enqueued us as its last act: this join returns at once. */
    pthread_join(r->th, NULL);
    if (conn->state == RT_RESOLVING) {
        if (r->gai_err) {
            session_fail(conn, WP_ENOTFOUND, "cannot resolve %s: %s", conn->host,
                         gai_strerror(r->gai_err));
        } else {
            conn->ai = r->res;
            conn->ai_next = r->res;
            r->res = NULL;
            conn->state = RT_CONNECTING;
            session_try_next(conn);
        }
    }
    resolver_discard(r);
    ctx_conn_unref(conn);
}

/* ---------------------------------------------------------------- connect */

static void arm_deadline(struct wp_conn *conn)
{
    if (timer_arm(&conn->ctx->loop, &conn->t, conn->connect_deadline) != WP_OK)
        session_fail(conn, WP_ENOMEM, "timer heap");
}

void session_try_next(struct wp_conn *conn)
{
    wp_err e;
    while (conn->state == RT_CONNECTING && conn->ai_next) {
        struct addrinfo *ai = conn->ai_next;
        conn->ai_next = ai->ai_next;
        int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            err_sys(&conn->connect_err, errno, "socket");
            continue;
        }
        net_tune(fd, &conn->opts);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
            err_sys(&conn->connect_err, errno, "connect");
            close(fd);
            continue;
        }
        if (session_watch(conn, fd, LOOP_OUT, &e) != WP_OK) {
            close(fd);
            session_fail(conn, e.code, "%s", e.detail);
            return;
        }
        return; /* wait for LOOP_OUT: session_connect_ready */
    }
    if (conn->state != RT_CONNECTING)
        return;
    const wp_err *ce = &conn->connect_err;
    wp_status code = ce->sys_errno ? net_status_from_errno(ce->sys_errno) : WP_ENOTFOUND;
    char detail[WP_ERROR_DETAIL_MAX];
    snprintf(detail, sizeof detail, "connect to %s port %u: %s", conn->host, conn->port,
             ce->sys_errno ? strerror(ce->sys_errno) : "no address");
    session_finish(conn, code, ce->sys_errno, detail);
}

void session_connect_ready(struct wp_conn *conn)
{
    int fd = conn->w.fd;
    int e = 0;
    socklen_t sl = sizeof e;
    wp_err err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) < 0)
        e = errno;
    if (e == 0) {
        struct sockaddr_storage ss;
        sl = sizeof ss;
        /* A stale readiness (an earlier fd in the same batch) is not a connection. */
        if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0 && errno == ENOTCONN)
            return;
    }
    if (e != 0) {
        err_sys(&conn->connect_err, e, "connect");
        loop_del(&conn->ctx->loop, &conn->w);
        close(fd);
        conn->w.fd = -1;
        session_try_next(conn);
        return;
    }
    if (session_attach(conn, fd, true, &err) != WP_OK) {
        session_fail(conn, err.code, "%s", err.detail);
        return;
    }
    wp_event ev;
    session_event(conn, WP_EV_CONNECTED, &ev);
    (void)ctx_deliver(conn->ctx, &ev);
    session_pump(conn);
}

void session_start_connect(struct wp_conn *conn)
{
    wp_err err;
    session_link(conn);
    conn->connect_deadline = conn->created_ms + conn->opts.connect_timeout_ms;
    if (conn->state >= RT_CLOSING)
        return;
    if (conn->disc_target) {
        disc_connect_start(conn);
    } else if (!conn->ai) {
        conn->state = RT_RESOLVING;
        if (resolver_start(conn->ctx, conn, &err) != WP_OK) {
            session_fail(conn, err.code, "%s", err.detail);
            return;
        }
    } else {
        conn->ai_next = conn->ai;
        conn->state = RT_CONNECTING;
        session_try_next(conn);
    }
    if (conn->state < RT_CLOSING)
        arm_deadline(conn);
}

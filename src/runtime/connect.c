/*
 * connect.c - outgoing connections: name resolution on a helper thread
 * (getaddrinfo blocks; the loop must not), then non-blocking connects to
 * the addresses, staggered (Happy Eyeballs), until one answers or the
 * connect deadline passes.
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>
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
     * No lock across pthread_create (it may mmap a stack): this runs on the
     * loop thread (CMD_CONNECT), and CMD_RESOLVED is only handled there
     * too, so r->th, the ref and the list entry are in place before the
     * loop can see the thread's result. A small stack: getaddrinfo needs
     * far less than the default 8 MiB of address space per thread.
     */
    pthread_attr_t attr;
    bool has_attr = pthread_attr_init(&attr) == 0;
    if (has_attr)
        (void)pthread_attr_setstacksize(&attr, WP_MAX((size_t)RT_RESOLVER_STACK,
                                                      (size_t)PTHREAD_STACK_MIN));
    int e = pthread_create(&r->th, has_attr ? &attr : NULL, resolve_main, r);
    if (has_attr)
        pthread_attr_destroy(&attr);
    if (e == 0) {
        pthread_mutex_lock(&ctx->mu);
        conn->refs++;
        r->next = ctx->resolvers;
        ctx->resolvers = r;
        pthread_mutex_unlock(&ctx->mu);
    }
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

/*
 * Connection attempts, after RFC 8305 (Happy Eyeballs v2) §5: the
 * addresses are tried in getaddrinfo's order (RFC 6724), a new one every
 * RT_ATTEMPT_DELAY_MS while the earlier ones are still pending, and at
 * once when one fails; the first to connect wins and the others are
 * closed. So an address that drops packets costs a quarter second, not
 * the whole connect timeout. At most RT_MAX_ATTEMPTS are in flight.
 */

static void on_attempt_io(struct watch *w, uint32_t revents);

static size_t attempts_in_flight(const struct wp_conn *conn)
{
    size_t n = 0;
    for (size_t i = 0; i < RT_MAX_ATTEMPTS; i++)
        n += conn->att[i].w.fd >= 0;
    return n;
}

static void close_attempt(struct wp_conn *conn, struct attempt *a)
{
    if (a->w.fd < 0)
        return;
    loop_del(&conn->ctx->loop, &a->w);
    close(a->w.fd);
    a->w.fd = -1;
}

void connect_close_attempts(struct wp_conn *conn)
{
    for (size_t i = 0; i < RT_MAX_ATTEMPTS; i++)
        close_attempt(conn, &conn->att[i]);
}

/* The conn's timer: the connect deadline, or the next attempt if sooner. */
static void arm_connect_timer(struct wp_conn *conn)
{
    int64_t d = conn->connect_deadline;
    if (conn->next_attempt_ms >= 0 && conn->next_attempt_ms < d)
        d = conn->next_attempt_ms;
    if (timer_arm(&conn->ctx->loop, &conn->t, d) != WP_OK)
        session_fail(conn, WP_ENOMEM, "timer heap");
}

/* Nothing left to try and nothing in flight: fail with the last error. */
static void give_up(struct wp_conn *conn)
{
    const wp_err *ce = &conn->connect_err;
    wp_status code = ce->sys_errno ? net_status_from_errno(ce->sys_errno) : WP_ENOTFOUND;
    char detail[WP_ERROR_DETAIL_MAX];
    snprintf(detail, sizeof detail, "connect to %s port %u: %s", conn->host, conn->port,
             ce->sys_errno ? strerror(ce->sys_errno) : "no address");
    session_finish(conn, code, ce->sys_errno, detail);
}

void session_try_next(struct wp_conn *conn)
{
    wp_err e;
    conn->next_attempt_ms = -1;
    while (conn->state == RT_CONNECTING && conn->ai_next) {
        struct attempt *a = NULL;
        for (size_t i = 0; i < RT_MAX_ATTEMPTS && !a; i++)
            if (conn->att[i].w.fd < 0)
                a = &conn->att[i];
        if (!a)
            break; /* all slots busy: the next starts when one fails */
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
        if (loop_add(&conn->ctx->loop, &a->w, fd, LOOP_OUT, on_attempt_io, &e) != WP_OK) {
            close(fd); /* the watch did not take it (loop_add) */
            session_fail(conn, e.code, "%s", e.detail);
            return;
        }
        if (conn->ai_next)
            conn->next_attempt_ms = loop_now_ms() + RT_ATTEMPT_DELAY_MS;
        break; /* wait for LOOP_OUT (on_attempt_io) or the attempt delay */
    }
    if (conn->state != RT_CONNECTING)
        return;
    if (!attempts_in_flight(conn)) {
        give_up(conn);
        return;
    }
    arm_connect_timer(conn);
}

void connect_on_timer(struct wp_conn *conn, int64_t now_ms)
{
    if (conn->state == RT_CONNECTING && conn->next_attempt_ms >= 0 &&
        now_ms >= conn->next_attempt_ms)
        session_try_next(conn); /* the earlier ones are slow: one more in parallel */
}

int64_t connect_next_deadline(const struct wp_conn *conn)
{
    int64_t d = conn->connect_deadline;
    if (conn->state == RT_CONNECTING && conn->next_attempt_ms >= 0 &&
        (d < 0 || conn->next_attempt_ms < d))
        d = conn->next_attempt_ms;
    return d;
}

static void on_attempt_io(struct watch *w, uint32_t revents)
{
    WP_UNUSED(revents);
    struct attempt *a = RT_CONTAINER(w, struct attempt, w);
    struct wp_conn *conn = a->conn;
    int fd = w->fd;
    int e = 0;
    socklen_t sl = sizeof e;
    wp_err err;
    if (conn->state != RT_CONNECTING)
        return;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) < 0)
        e = errno;
    if (e == 0) {
        struct sockaddr_storage ss;
        sl = sizeof ss;
        /* A stale readiness (an earlier fd in this slot, same batch) is not a connection. */
        if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0 && errno == ENOTCONN)
            return;
    }
    if (e != 0) {
        err_sys(&conn->connect_err, e, "connect");
        close_attempt(conn, a);
        session_try_next(conn); /* at once (RFC 8305 §5), or give up */
        return;
    }
    /* The winner: its socket becomes the connection's; the others go. */
    loop_del(&conn->ctx->loop, &a->w);
    a->w.fd = -1;
    connect_close_attempts(conn);
    conn->next_attempt_ms = -1;
    if (session_attach(conn, fd, true, &err) != WP_OK) {
        if (conn->w.fd < 0)
            close(fd); /* not taken by the connection's watch */
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
    /* The connect deadline (resolving or discovering too), or the next attempt. */
    if (conn->state < RT_CLOSING)
        arm_connect_timer(conn);
}

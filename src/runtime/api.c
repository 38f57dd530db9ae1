/*
 * api.c - the thread-safe public calls on listeners and connections. Each
 * checks what it can under ctx->mu, then acts directly when called on the
 * loop thread (from a callback) or enqueues a command for the loop.
 */
#include "internal.h"

#include <stdio.h>
#include <unistd.h>

#include "runtime/rt.h"

/* see wipeer.h */
void wp_conn_opts_init(wp_conn_opts *opts)
{
    if (WP_MISUSE(!opts))
        return;
    memset(opts, 0, sizeof *opts);
}

/* Run c now on the loop thread, or queue it for the loop. */
static void submit(struct wp_ctx *ctx, struct cmd *c)
{
    if (ctx_on_loop(ctx))
        ctx_exec(ctx, c);
    else
        ctx_enqueue(ctx, c);
}

static struct cmd *new_cmd(enum cmd_type type, struct wp_conn *conn, size_t extra)
{
    struct cmd *c = wp_malloc(sizeof *c + extra);
    if (c) {
        memset(c, 0, sizeof *c);
        c->type = type;
        c->conn = conn;
    }
    return c;
}

/* ---------------------------------------------------------------- listeners */

/* see wipeer.h */
wp_status wp_listen(wp_ctx *ctx, const char *addr, uint16_t port, const wp_conn_opts *opts,
                    wp_listener **out, wp_error *out_err)
{
    wp_status rc = WP_OK;
    wp_err err;
    struct wp_listener *l = NULL;
    struct cmd *c = NULL;
    wp_conn_opts o;
    int fd = -1;
    err_clear(&err);
    if (WP_MISUSE(!ctx || !out)) {
        rc = err_set(&err, WP_EINVAL, "NULL argument");
        goto out;
    }
    *out = NULL;
    rc = session_opts(opts, &o, &err);
    if (rc != WP_OK)
        goto out;
    l = wp_calloc(1, sizeof *l);
    c = new_cmd(CMD_LISTENER_ADD, NULL, 0);
    if (!l || !c) {
        rc = err_set(&err, WP_ENOMEM, "listener");
        goto out;
    }
    rc = net_listen_socket(addr, port, &fd, &l->port, &err);
    if (rc != WP_OK)
        goto out;
    l->ctx = ctx;
    l->fd = fd;
    l->opts = o;
    l->w.fd = -1;
    timer_init(&l->t, NULL);
    c->listener = l;
    *out = l;
    submit(ctx, c);
    l = NULL;
    c = NULL;
out:
    if (l && fd >= 0)
        close(fd);
    wp_free(l);
    wp_free(c);
    err_copy(out_err, &err);
    return rc;
}

/* see wipeer.h */
uint16_t wp_listener_port(const wp_listener *l)
{
    if (WP_MISUSE(!l))
        return 0;
    return l->port;
}

/* see wipeer.h */
void wp_listener_close(wp_listener *l)
{
    if (!l)
        return;
    struct cmd *c = new_cmd(CMD_LISTENER_CLOSE, NULL, 0);
    if (!c)
        return; /* out of memory: the listener keeps running until wp_ctx_free */
    c->listener = l;
    submit(l->ctx, c);
}

/* ---------------------------------------------------------------- connect */

/* see wipeer.h */
wp_status wp_connect(wp_ctx *ctx, const char *host, uint16_t port, const wp_conn_opts *opts,
                     wp_conn **out, wp_error *out_err)
{
    wp_status rc = WP_OK;
    wp_err err;
    struct wp_conn *conn = NULL;
    struct cmd *c = NULL;
    err_clear(&err);
    if (WP_MISUSE(!ctx || !out)) {
        rc = err_set(&err, WP_EINVAL, "NULL argument");
        goto out;
    }
    *out = NULL;
    if (!host || !*host || port == 0) {
        rc = err_set(&err, WP_EINVAL, "wp_connect needs a host and a non-zero port");
        goto out;
    }
    rc = session_new(ctx, opts, &conn, &err);
    if (rc != WP_OK)
        goto out;
    /* "[::1]" is accepted as well as "::1". */
    size_t n = strlen(host);
    bool bracketed = n >= 2 && host[0] == '[' && host[n - 1] == ']';
    conn->host = wp_malloc(n + 1);
    c = new_cmd(CMD_CONNECT, NULL, 0);
    if (!conn->host || !c) {
        rc = err_set(&err, WP_ENOMEM, "connection");
        goto out;
    }
    if (bracketed) {
        memcpy(conn->host, host + 1, n - 2);
        conn->host[n - 2] = '\0';
    } else {
        memcpy(conn->host, host, n + 1);
    }
    conn->port = port;
    rc = net_resolve_numeric(conn->host, port, &conn->ai, &err);
    if (rc == WP_AGAIN)
        rc = WP_OK; /* a name: resolved on a helper thread by the loop */
    if (rc != WP_OK)
        goto out;
    c->conn = conn;
    *out = conn;
    if (conn->opts.is_retained)
        ctx_conn_retain(conn); /* before the loop can see it: no race with its end */
    submit(ctx, c);
    conn = NULL;
    c = NULL;
out:
    if (conn)
        session_free(conn);
    wp_free(c);
    err_copy(out_err, &err);
    return rc;
}

/* ---------------------------------------------------------------- conns */

/* see wipeer.h */
wp_status wp_conn_send(wp_conn *conn, const void *data, size_t len)
{
    if (WP_MISUSE(!conn || (!data && len)))
        return WP_EINVAL;
    struct wp_ctx *ctx = conn->ctx;
    wp_status rc = WP_OK;
    /* Refuse an oversize message before allocating or copying anything. */
    pthread_mutex_lock(&ctx->mu);
    size_t max = conn->max_msg;
    wp_status now = conn->status != WP_OK ? conn->status
                    : conn->close_requested ? WP_ESTATE
                                            : WP_OK;
    pthread_mutex_unlock(&ctx->mu);
    if (len > max)
        return WP_ETOOBIG;
    bool on_loop = ctx_on_loop(ctx);
    if (on_loop) {
        if (now != WP_OK)
            return now;
        if (session_send_direct(conn, data, len, &rc))
            return rc;
    }
    struct cmd *c = new_cmd(CMD_SEND, conn, len);
    if (!c)
        return WP_ENOMEM;
    if (len)
        memcpy(c->data, data, len);
    c->len = len;
    bool was_empty = false;
    size_t cost = len + WP_SEND_MSG_COST; /* an empty message is not free */
    pthread_mutex_lock(&ctx->mu);
    if (conn->status != WP_OK)
        rc = conn->status;
    else if (conn->close_requested)
        rc = WP_ESTATE;
    else if (len > conn->max_msg)
        rc = WP_ETOOBIG;
    else if (rt_queue_full(atomic_load_explicit(&conn->q_bytes, memory_order_relaxed),
                           atomic_load_explicit(&conn->out_pub, memory_order_relaxed), cost,
                           conn->opts.send_queue_max)) {
        conn->want_writable = true;
        conn->want_cost = WP_MAX(conn->want_cost, cost);
        rc = WP_EFULL;
    } else {
        atomic_store_explicit(&conn->q_bytes,
                              atomic_load_explicit(&conn->q_bytes, memory_order_relaxed) + cost,
                              memory_order_relaxed);
        if (!on_loop) /* one lock round for the check and the queue */
            was_empty = ctx_enqueue_locked(ctx, c);
    }
    pthread_mutex_unlock(&ctx->mu);
    if (rc != WP_OK) {
        wp_free(c);
        return rc;
    }
    if (on_loop)
        session_queue_send(conn, c);
    else if (was_empty)
        loop_wake(&ctx->loop);
    return WP_OK;
}

/* see wipeer.h */
wp_status wp_conn_close(wp_conn *conn)
{
    if (WP_MISUSE(!conn))
        return WP_EINVAL;
    struct wp_ctx *ctx = conn->ctx;
    wp_status rc = WP_OK;
    bool already = false;
    struct cmd *c = new_cmd(CMD_CLOSE, conn, 0);
    if (!c)
        return WP_ENOMEM;
    pthread_mutex_lock(&ctx->mu);
    if (conn->status != WP_OK)
        rc = conn->status;
    already = conn->close_requested;
    conn->close_requested = true;
    pthread_mutex_unlock(&ctx->mu);
    if (rc != WP_OK || already) {
        wp_free(c);
        return rc;
    }
    /*
     * Always through the queue, even on the loop thread: a send another
     * thread had accepted (WP_OK) before close_requested was set is still
     * in that queue, and must reach the engine before the close does.
     */
    ctx_enqueue(ctx, c);
    return WP_OK;
}

/* see wipeer.h */
void wp_conn_abort(wp_conn *conn)
{
    if (WP_MISUSE(!conn))
        return;
    struct wp_ctx *ctx = conn->ctx;
    pthread_mutex_lock(&ctx->mu);
    bool ended = conn->status != WP_OK;
    pthread_mutex_unlock(&ctx->mu);
    if (ended)
        return;
    struct cmd *c = new_cmd(CMD_ABORT, conn, 0);
    if (!c)
        return; /* out of memory: nothing sensible to do */
    submit(ctx, c);
}

/* see wipeer.h */
wp_status wp_conn_trust(wp_conn *conn, bool accept)
{
    if (WP_MISUSE(!conn))
        return WP_EINVAL;
    struct wp_ctx *ctx = conn->ctx;
    struct cmd *c = new_cmd(CMD_TRUST, conn, 0);
    if (!c)
        return WP_ENOMEM;
    c->accept = accept;
    pthread_mutex_lock(&ctx->mu);
    bool pending = conn->trust_pending;
    conn->trust_pending = false;
    if (pending) {
        /* Kept in case the PEER_IDENTITY callback has not returned yet (events.c). */
        conn->trust_answered = true;
        conn->trust_accept = accept;
    }
    pthread_mutex_unlock(&ctx->mu);
    if (!pending) {
        wp_free(c);
        return WP_ESTATE;
    }
    submit(ctx, c);
    return WP_OK;
}

/* see wipeer.h */
wp_status wp_conn_peer(const wp_conn *conn, wp_pubkey *out_key, wp_fingerprint *out_fp)
{
    if (WP_MISUSE(!conn))
        return WP_EINVAL;
    struct wp_ctx *ctx = conn->ctx;
    wp_status rc = WP_OK;
    pthread_mutex_lock(&ctx->mu);
    if (!conn->has_peer) {
        rc = WP_ESTATE;
    } else {
        if (out_key)
            *out_key = conn->peer;
        if (out_fp)
            *out_fp = conn->peer_fp;
    }
    pthread_mutex_unlock(&ctx->mu);
    return rc;
}

/* see wipeer.h */
void wp_conn_last_error(const wp_conn *conn, wp_error *out_err)
{
    if (WP_MISUSE(!conn || !out_err))
        return;
    pthread_mutex_lock(&conn->ctx->mu);
    *out_err = conn->err;
    pthread_mutex_unlock(&conn->ctx->mu);
}

/* see wipeer.h */
void wp_conn_remote_address(const wp_conn *conn, char *buf, size_t buf_len)
{
    if (WP_MISUSE(!conn || !buf || !buf_len))
        return;
    pthread_mutex_lock(&conn->ctx->mu);
    snprintf(buf, buf_len, "%s", conn->remote);
    pthread_mutex_unlock(&conn->ctx->mu);
}

/* see wipeer.h */
size_t wp_conn_max_message(const wp_conn *conn)
{
    if (WP_MISUSE(!conn))
        return 0;
    pthread_mutex_lock(&conn->ctx->mu);
    size_t m = conn->max_msg;
    pthread_mutex_unlock(&conn->ctx->mu);
    return m;
}

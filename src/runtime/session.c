/*
 * session.c - one connection's data path on the loop thread: socket bytes
 * into the sans-IO engine (src/core/conn.h), engine events out to the
 * application, queued messages sealed in batches and written until the
 * socket pushes back, deadlines, and the end of a connection with a reason.
 */
#include "internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/disc.h"
#include "runtime/rt.h"

/* A DATA record adds its inner type and tag to the message (PROTOCOL.md §6.1). */
#define RT_RECORD_OVERHEAD 17u
/* The smallest frame limit a peer may announce (PROTOCOL.md §3). */
#define RT_FRAME_MIN 4096u

static void on_io(struct watch *w, uint32_t revents);
static void on_timer(struct timer *t, int64_t now_ms);

static wp_status rt_rng(void *user, uint8_t *out, size_t len)
{
    WP_UNUSED(user);
    return crypto_random(out, len, NULL);
}

/* ---------------------------------------------------------------- life */

wp_status session_opts(const wp_conn_opts *opts, wp_conn_opts *out, wp_err *err)
{
    wp_conn_opts o;
    if (opts)
        o = *opts;
    else
        wp_conn_opts_init(&o);
    if (o.max_message > WP_MESSAGE_MAX_LIMIT)
        return err_set(err, WP_EINVAL, "max_message %u > %u", o.max_message,
                       WP_MESSAGE_MAX_LIMIT);
    if (!o.connect_timeout_ms)
        o.connect_timeout_ms = RT_DEFAULT_CONNECT_MS;
    if (!o.handshake_timeout_ms)
        o.handshake_timeout_ms = RT_DEFAULT_HANDSHAKE_MS;
    if (!o.keepalive_idle_s)
        o.keepalive_idle_s = RT_DEFAULT_KEEPIDLE_S;
    if (!o.max_message)
        o.max_message = WP_MESSAGE_MAX_DEFAULT;
    if (!o.send_queue_max)
        o.send_queue_max = RT_DEFAULT_SENDQ;
    if (!o.max_pending)
        o.max_pending = RT_DEFAULT_MAX_PENDING;
    *out = o;
    return WP_OK;
}

wp_status session_new(struct wp_ctx *ctx, const wp_conn_opts *opts, struct wp_conn **out,
                      wp_err *err)
{
    struct wp_conn *conn;
    wp_conn_opts o;
    *out = NULL;
    wp_status rc = session_opts(opts, &o, err);
    if (rc != WP_OK)
        return rc;
    conn = wp_calloc(1, sizeof *conn);
    if (!conn)
        return err_set(err, WP_ENOMEM, "connection");
    conn->ctx = ctx;
    conn->opts = o;
    conn->w.fd = -1;
    timer_init(&conn->t, on_timer);
    conn->refs = 1;
    conn->status = WP_OK;
    err_clear(&conn->err);
    /*
     * The peer's limit is unknown until authentication; it may be as small
     * as the protocol allows. A message taken now must fit it for sure.
     */
    conn->max_msg = WP_MIN(o.max_message, WP_MESSAGE_MAX_MIN);
    atomic_init(&conn->user, o.user);
    conn->created_ms = loop_now_ms();
    conn->connect_deadline = -1;
    conn->next_attempt_ms = -1;
    for (size_t i = 0; i < RT_MAX_ATTEMPTS; i++) {
        conn->att[i].w.fd = -1;
        conn->att[i].conn = conn;
    }
    conn->trim_at = -1;
    *out = conn;
    return WP_OK;
}

void session_link(struct wp_conn *conn)
{
    struct wp_ctx *ctx = conn->ctx;
    if (conn->is_linked)
        return;
    conn->is_linked = true;
    conn->prev = NULL;
    conn->next = ctx->conns;
    if (ctx->conns)
        ctx->conns->prev = conn;
    ctx->conns = conn;
    ctx->nconns++;
}

static void free_sq(struct wp_conn *conn)
{
    while (conn->sq_head) {
        struct cmd *c = conn->sq_head;
        conn->sq_head = c->next;
        wp_free(c);
    }
    conn->sq_tail = NULL;
}

static void drop_stash(struct wp_conn *conn)
{
    wp_free(conn->stash);
    conn->stash = NULL;
    conn->stash_len = conn->stash_off = 0;
}

static void close_socket(struct wp_conn *conn)
{
    connect_close_attempts(conn);
    if (conn->w.fd < 0)
        return;
    loop_del(&conn->ctx->loop, &conn->w);
    if (conn->is_aborted) {
        /* Reset: the peer learns at once that nothing more is coming. */
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        (void)setsockopt(conn->w.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(conn->w.fd);
    conn->w.fd = -1;
}

void session_free(struct wp_conn *conn)
{
    struct wp_ctx *ctx = conn->ctx;
    listener_unpend(conn); /* normally done when it left the handshake */
    if (conn->is_linked) {
        if (conn->prev)
            conn->prev->next = conn->next;
        else
            ctx->conns = conn->next;
        if (conn->next)
            conn->next->prev = conn->prev;
        if (conn->state < RT_DEAD)
            ctx->nconns--;
    }
    close_socket(conn);
    timer_disarm(&ctx->loop, &conn->t);
    conn_free(conn->core);
    free_sq(conn);
    drop_stash(conn);
    if (conn->ai && conn->ai_is_ours)
        disc_free_ai(conn->ai);
    else if (conn->ai)
        freeaddrinfo(conn->ai);
    wp_free(conn->disc_target);
    wp_free(conn->host);
    wp_free(conn);
}

void session_mark_dirty(struct wp_conn *conn)
{
    struct wp_ctx *ctx = conn->ctx;
    if (conn->is_dirty || conn->state >= RT_CLOSING)
        return;
    conn->is_dirty = true;
    conn->dirty_next = NULL;
    if (ctx->dirty_tail)
        ctx->dirty_tail->dirty_next = conn;
    else
        ctx->dirty = conn;
    ctx->dirty_tail = conn;
}

void session_event(const struct wp_conn *conn, wp_event_type type, wp_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->type = type;
    ev->conn = (struct wp_conn *)(uintptr_t)conn;
    ev->listener = conn->listener;
    ev->conn_user = atomic_load_explicit(&conn->user, memory_order_acquire);
    if (conn->has_peer) {
        ev->has_peer = true;
        ev->peer = conn->peer;
        ev->peer_fingerprint = conn->peer_fp;
    }
    ev->detail = "";
}

/* ---------------------------------------------------------------- ending */

void session_finish(struct wp_conn *conn, wp_status code, int sys_errno, const char *detail)
{
    struct wp_ctx *ctx = conn->ctx;
    if (conn->state >= RT_CLOSING)
        return;
    listener_unpend(conn);
    pthread_mutex_lock(&ctx->mu);
    conn->err.code = code;
    conn->err.sys_errno = sys_errno;
    snprintf(conn->err.detail, sizeof conn->err.detail, "%s", detail ? detail : "");
    conn->status = code == WP_OK ? WP_ECLOSED : code;
    atomic_store_explicit(&conn->q_bytes, 0, memory_order_relaxed);
    conn->want_writable = false;
    conn->want_cost = 0;
    conn->trust_pending = false;
    pthread_mutex_unlock(&ctx->mu);
    if (conn->w.fd >= 0 && conn->core && !conn->is_aborted) {
        /* Best effort: the engine's last words (an alert, or our close_notify). */
        size_t len = 0;
        bool said_all = false;
        const uint8_t *p = conn_output(conn->core, &len);
        if (p && len) {
            ssize_t n = send(conn->w.fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0)
                conn_output_done(conn->core, (size_t)n);
            said_all = n == (ssize_t)len;
        }
        if (code != WP_OK && said_all) {
            /* Unread input would turn close() into a RST that may destroy the alert. */
            loop_del(&ctx->loop, &conn->w);
            linger_socket(ctx, conn->w.fd);
            conn->w.fd = -1;
        } else if (code != WP_OK) {
            /*
             * No alert to give (none is possible after our close_notify, or
             * it did not fit): reset, so the peer cannot take a FIN after
             * our close_notify for a clean end.
             */
            conn->is_aborted = true;
        }
    }
    close_socket(conn);
    timer_disarm(&ctx->loop, &conn->t);
    free_sq(conn);
    drop_stash(conn);
    conn->state = RT_CLOSING;
    conn->closing_next = NULL;
    /* Append: WP_EV_CLOSED events come in the order connections ended. */
    if (ctx->closing_tail)
        ctx->closing_tail->closing_next = conn;
    else
        ctx->closing = conn;
    ctx->closing_tail = conn;
}

void session_fail(struct wp_conn *conn, wp_status code, const char *fmt, ...)
{
    char detail[WP_ERROR_DETAIL_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    session_finish(conn, code, 0, detail);
}

static void fail_errno(struct wp_conn *conn, int e, const char *what)
{
    char detail[WP_ERROR_DETAIL_MAX];
    wp_status code = net_status_from_errno(e);
    if (e == ECONNRESET || e == EPIPE)
        snprintf(detail, sizeof detail, "%s: connection reset by peer", what);
    else
        snprintf(detail, sizeof detail, "%s: %s", what, strerror(e));
    session_finish(conn, code, e, detail);
}

void session_abort(struct wp_conn *conn)
{
    if (conn->state >= RT_CLOSING)
        return;
    conn->is_aborted = true;
    session_fail(conn, WP_ECLOSED, "aborted by the application");
}

void session_deliver_closed(struct wp_conn *conn)
{
    struct wp_ctx *ctx = conn->ctx;
    wp_event ev;
    session_event(conn, WP_EV_CLOSED, &ev);
    ev.reason = conn->err.code;
    ev.detail = conn->err.detail;
    (void)ctx_deliver(ctx, &ev);
    conn->state = RT_DEAD;
    ctx->nconns--;
    ctx_conn_unref(conn);
}

/* ---------------------------------------------------------------- input */

/* Give bytes to the engine, delivering events as they come; returns bytes taken. */
static size_t feed(struct wp_conn *conn, const uint8_t *data, size_t len)
{
    size_t off = 0;
    while (off < len && conn->state < RT_CLOSING) {
        size_t used = 0;
        wp_status rc = conn_input(conn->core, data + off, len - off, &used);
        off += used;
        session_process_events(conn);
        if (conn->state >= RT_CLOSING)
            break;
        if (rc != WP_OK && rc != WP_AGAIN) {
            session_engine_failed(conn, rc);
            break;
        }
        if (used == 0)
            break; /* the engine waits (e.g. for a trust decision) */
    }
    return off;
}

static void stash_rest(struct wp_conn *conn, const uint8_t *p, size_t n)
{
    conn->stash = wp_malloc(n);
    if (!conn->stash) {
        session_fail(conn, WP_ENOMEM, "receive stash of %zu bytes", n);
        return;
    }
    memcpy(conn->stash, p, n);
    conn->stash_len = n;
    conn->stash_off = 0;
}

static void refeed_stash(struct wp_conn *conn)
{
    size_t n = feed(conn, conn->stash + conn->stash_off, conn->stash_len - conn->stash_off);
    conn->stash_off += n;
    if (conn->stash && conn->stash_off == conn->stash_len)
        drop_stash(conn);
}

static void read_in(struct wp_conn *conn)
{
    struct wp_ctx *ctx = conn->ctx;
    size_t total = 0;
    if (!ctx->rxbuf) {
        ctx->rxbuf = wp_malloc(RT_RXBUF);
        if (!ctx->rxbuf) {
            session_fail(conn, WP_ENOMEM, "receive buffer");
            return;
        }
    }
    while (conn->state < RT_CLOSING && !conn->rx_eof && !conn->stash && total < RT_READ_BUDGET) {
        ssize_t n = recv(conn->w.fd, ctx->rxbuf, RT_RXBUF, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                fail_errno(conn, errno, "receive");
            break;
        }
        if (n == 0) {
            /* The engine tells a clean end (after close_notify) from a truncation. */
            conn->rx_eof = true;
            wp_status rc = conn_input_eof(conn->core);
            session_process_events(conn);
            if (rc != WP_OK && conn->state < RT_CLOSING)
                session_engine_failed(conn, rc);
            break;
        }
        total += (size_t)n;
        size_t used = feed(conn, ctx->rxbuf, (size_t)n);
        if (used < (size_t)n && conn->state < RT_CLOSING)
            stash_rest(conn, ctx->rxbuf + used, (size_t)n - used);
        if ((size_t)n < RT_RXBUF)
            break; /* drained: spare the EAGAIN round trip */
    }
    if (total) {
        conn->last_rx_ms = loop_now_ms();
        conn->was_busy = true;
    }
}

/* ---------------------------------------------------------------- output */

/* Sealed bytes move from q_bytes to the engine's output: one step for senders. */
static void unaccount(struct wp_conn *conn, size_t sealed)
{
    pthread_mutex_lock(&conn->ctx->mu);
    atomic_store_explicit(&conn->q_bytes,
                          atomic_load_explicit(&conn->q_bytes, memory_order_relaxed) - sealed,
                          memory_order_relaxed);
    atomic_store_explicit(&conn->out_pub, conn_output_pending(conn->core), memory_order_relaxed);
    pthread_mutex_unlock(&conn->ctx->mu);
}

/* After writes (the output only shrank) or a send on the loop thread. */
static void publish_out(struct wp_conn *conn)
{
    atomic_store_explicit(&conn->out_pub, conn_output_pending(conn->core), memory_order_relaxed);
}

/*
 * WP_EV_WRITABLE once a sender saw WP_EFULL and what waits (the queue and
 * the sealed output) leaves room for the largest refused message, and is
 * at most half the bound (so that small messages do not wake the sender
 * for every few bytes). A message bigger than the bound waits for nothing
 * to wait.
 */
static void check_writable(struct wp_conn *conn)
{
    bool fire = false;
    size_t max = conn->opts.send_queue_max;
    size_t out = conn_output_pending(conn->core);
    /* Nobody waits (the common case): no lock. See rt.h on want_writable. */
    if (!atomic_load_explicit(&conn->want_writable, memory_order_relaxed))
        return;
    pthread_mutex_lock(&conn->ctx->mu);
    size_t held = atomic_load_explicit(&conn->q_bytes, memory_order_relaxed) + out;
    size_t room_for = conn->want_cost > max ? 0 : WP_MIN(max / 2, max - conn->want_cost);
    if (conn->want_writable && held <= room_for) {
        conn->want_writable = false;
        conn->want_cost = 0;
        fire = true;
    }
    pthread_mutex_unlock(&conn->ctx->mu);
    if (fire) {
        wp_event ev;
        session_event(conn, WP_EV_WRITABLE, &ev);
        (void)ctx_deliver(conn->ctx, &ev);
    }
}

/*
 * Seal queued messages into records. The bound on q_bytes + output holds
 * the output within send_queue_max already (a record costs less than its
 * queued message); the check only keeps one oversize message from taking
 * others along.
 */
static void seal_pending(struct wp_conn *conn)
{
    size_t sealed = 0;
    wp_status rc = WP_OK;
    if (conn->state != RT_OPEN || conn->we_closed)
        return;
    while (conn->sq_head && conn_output_pending(conn->core) < conn->opts.send_queue_max) {
        struct cmd *c = conn->sq_head;
        conn->sq_head = c->next;
        if (!conn->sq_head)
            conn->sq_tail = NULL;
        rc = conn_send(conn->core, c->data, c->len);
        sealed += c->len + WP_SEND_MSG_COST; /* as wp_conn_send counted it */
        wp_free(c);
        if (rc != WP_OK)
            break;
    }
    if (rc != WP_OK) {
        session_engine_failed(conn, rc);
        return;
    }
    if (sealed)
        unaccount(conn, sealed);
}

static void maybe_close(struct wp_conn *conn)
{
    if (!conn->has_close_pending || conn->we_closed || conn->sq_head || conn->state != RT_OPEN)
        return;
    conn->we_closed = true;
    wp_status rc = conn_close(conn->core);
    if (rc != WP_OK)
        session_engine_failed(conn, rc);
}

static void write_socket(struct wp_conn *conn)
{
    for (;;) {
        seal_pending(conn);
        if (conn->state >= RT_CLOSING)
            return;
        maybe_close(conn);
        if (conn->state >= RT_CLOSING)
            return;
        size_t len = 0;
        const uint8_t *p = conn_output(conn->core, &len);
        if (!p || !len)
            return;
        ssize_t n = send(conn->w.fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                fail_errno(conn, errno, "send");
            return;
        }
        conn_output_done(conn->core, (size_t)n);
        publish_out(conn);
        conn->was_busy = true;
        if ((size_t)n < len)
            return; /* the socket buffer is full: wait for LOOP_OUT */
    }
}

static void write_out(struct wp_conn *conn)
{
    write_socket(conn);
    if (conn->state < RT_CLOSING)
        check_writable(conn);
}

/* ---------------------------------------------------------------- pump */

static void rearm(struct wp_conn *conn)
{
    int64_t d = -1;
    if (conn->state >= RT_CLOSING)
        return;
    if (conn->state <= RT_CONNECTING)
        d = connect_next_deadline(conn);
    if (conn->core) {
        int64_t c = conn_deadline_ms(conn->core);
        if (c >= 0 && (d < 0 || c < d))
            d = c;
    }
    if (conn->shut_wr && (d < 0 || conn->linger_deadline < d))
        d = conn->linger_deadline;
    if (conn->opts.idle_timeout_ms && conn->state >= RT_HANDSHAKE) {
        int64_t i = conn->last_rx_ms + conn->opts.idle_timeout_ms;
        if (d < 0 || i < d)
            d = i;
    }
    if (conn->state == RT_OPEN && conn->trim_at < 0 && conn_buffer_bytes(conn->core)) {
        conn->trim_at = loop_now_ms() + RT_IDLE_TRIM_MS;
        conn->was_busy = false;
    }
    if (conn->trim_at >= 0 && (d < 0 || conn->trim_at < d))
        d = conn->trim_at;
    /* Never move the timer later: a timer that fires early re-checks and re-arms. */
    if (d < 0 || (timer_is_armed(&conn->t) && conn->t.when <= d))
        return;
    if (timer_arm(&conn->ctx->loop, &conn->t, d) != WP_OK)
        session_fail(conn, WP_ENOMEM, "timer heap");
}

static void update_interest(struct wp_conn *conn)
{
    uint32_t want = 0;
    wp_err e;
    if (!conn->rx_eof && !conn->stash)
        want |= LOOP_IN;
    if (conn_output_pending(conn->core))
        want |= LOOP_OUT;
    if (loop_mod(&conn->ctx->loop, &conn->w, want, &e) != WP_OK)
        session_finish(conn, e.code, e.sys_errno, e.detail);
}

void session_pump(struct wp_conn *conn)
{
    if (conn->state < RT_HANDSHAKE || conn->state >= RT_CLOSING) {
        conn->in_pump = false;
        return;
    }
    /* What callbacks send from here on is written below: no second pump needed. */
    conn->in_pump = true;
    if (conn->stash)
        refeed_stash(conn);
    session_process_events(conn);
    conn->in_pump = false;
    write_out(conn);
    if (conn->state >= RT_CLOSING)
        return;
    if (conn->rx_eof && !conn->peer_closed) {
        /* conn_input_eof has failed the engine already; this only guards the invariant. */
        session_fail(conn, WP_ETRUNCATED, "end of stream without close_notify");
        return;
    }
    if (conn->we_closed && conn->peer_closed && !conn_output_pending(conn->core)) {
        /*
         * Both close_notify are through. Send FIN and wait for the peer's:
         * a peer that closes TCP without an alert has authenticated every
         * record up to our close_notify, so WP_OK then means delivered; if
         * it failed on our data, its alert arrives first.
         */
        if (!conn->shut_wr) {
            conn->shut_wr = true;
            conn->linger_deadline = loop_now_ms() + RT_LINGER_MS;
            (void)shutdown(conn->w.fd, SHUT_WR);
        }
        if (conn->rx_eof) {
            session_finish(conn, WP_OK, 0, "");
            return;
        }
    }
    update_interest(conn);
    rearm(conn);
}

static void on_io(struct watch *w, uint32_t revents)
{
    struct wp_conn *conn = RT_CONTAINER(w, struct wp_conn, w);
    if (conn->state >= RT_CLOSING)
        return;
    if ((revents & (LOOP_IN | LOOP_ERR)) && !conn->rx_eof && !conn->stash) {
        conn->in_pump = true; /* session_pump below writes what the callbacks send */
        read_in(conn);
    } else if (revents & LOOP_ERR) {
        int e = 0;
        socklen_t sl = sizeof e;
        if (getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &e, &sl) == 0 && e)
            fail_errno(conn, e, "socket");
        else
            session_fail(conn, WP_ECLOSED, "the socket hung up");
        return;
    }
    session_pump(conn);
}

static void on_timer(struct timer *t, int64_t now_ms)
{
    struct wp_conn *conn = RT_CONTAINER(t, struct wp_conn, t);
    if (conn->state >= RT_CLOSING)
        return;
    if (conn->state <= RT_CONNECTING && conn->connect_deadline >= 0 &&
        now_ms >= conn->connect_deadline) {
        if (conn->disc_target && conn->state == RT_RESOLVING) {
            disc_connect_timeout(conn);
            return;
        }
        session_fail(conn, WP_ETIMEDOUT, "connect to %s port %u timed out after %u ms",
                     conn->host ? conn->host : "?", conn->port, conn->opts.connect_timeout_ms);
        return;
    }
    connect_on_timer(conn, now_ms);
    if (conn->state >= RT_CLOSING)
        return;
    if (conn->shut_wr && now_ms >= conn->linger_deadline) {
        /* Our data and both close_notify went through; the peer just keeps TCP open. */
        session_finish(conn, WP_OK, 0, "");
        return;
    }
    if (conn->opts.idle_timeout_ms && conn->state >= RT_HANDSHAKE &&
        now_ms - conn->last_rx_ms >= conn->opts.idle_timeout_ms) {
        session_fail(conn, WP_ETIMEDOUT, "nothing received for %u ms", conn->opts.idle_timeout_ms);
        return;
    }
    if (conn->trim_at >= 0 && now_ms >= conn->trim_at) {
        if (conn->was_busy) {
            conn->was_busy = false;
            conn->trim_at = now_ms + RT_IDLE_TRIM_MS;
        } else {
            /* Quiet for a whole period. What cannot go yet (output the peer
               has not taken) is looked at again a period later (rearm). */
            (void)conn_trim(conn->core);
            conn->trim_at = -1;
        }
    }
    if (conn->core) {
        int64_t d = conn_deadline_ms(conn->core);
        if (d >= 0 && d <= now_ms)
            conn_tick(conn->core, now_ms);
        session_mark_dirty(conn);
    }
    rearm(conn);
}

/* ---------------------------------------------------------------- start */

wp_status session_attach(struct wp_conn *conn, int fd, bool is_initiator, wp_err *err)
{
    struct wp_ctx *ctx = conn->ctx;
    struct conn_config cfg;
    wp_status rc;
    int64_t now = loop_now_ms();
    memset(&cfg, 0, sizeof cfg);
    cfg.is_initiator = is_initiator;
    cfg.identity = ctx->key;
    cfg.rng = rt_rng;
    cfg.max_frame = WP_MAX(conn->opts.max_message + RT_RECORD_OVERHEAD, RT_FRAME_MIN);
    cfg.handshake_timeout_ms = conn->opts.handshake_timeout_ms;
    rc = conn_new(&cfg, now, &conn->core, err);
    if (rc != WP_OK)
        return rc;
    if (conn->w.is_added)
        rc = loop_mod(&ctx->loop, &conn->w, LOOP_IN, err);
    else
        rc = loop_add(&ctx->loop, &conn->w, fd, LOOP_IN, on_io, err);
    if (rc != WP_OK)
        return rc;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char remote[WP_ADDRESS_STR] = "";
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
        net_format_addr(&ss, sl, remote, sizeof remote);
    pthread_mutex_lock(&ctx->mu);
    memcpy(conn->remote, remote, sizeof remote);
    pthread_mutex_unlock(&ctx->mu);
    conn->state = RT_HANDSHAKE;
    conn->last_rx_ms = now;
    session_mark_dirty(conn); /* the initiator's first flight */
    rearm(conn);
    return WP_OK;
}

/* ---------------------------------------------------------------- commands */

bool session_send_direct(struct wp_conn *conn, const void *data, size_t len, wp_status *out_rc)
{
    /*
     * On the loop thread, with nothing queued before it, a message is sealed
     * straight from the caller's buffer into the engine's output: no copy,
     * no allocation. That output is then the bounded queue: once it holds
     * send_queue_max bytes not yet on the socket, WP_EFULL.
     */
    if (conn->state != RT_OPEN || conn->sq_head || conn->has_close_pending || conn->we_closed)
        return false;
    size_t out = conn_output_pending(conn->core);
    size_t cost = len + WP_SEND_MSG_COST;
    if (rt_queue_full(atomic_load_explicit(&conn->q_bytes, memory_order_relaxed), out, cost,
                      conn->opts.send_queue_max)) {
        pthread_mutex_lock(&conn->ctx->mu);
        conn->want_writable = true;
        conn->want_cost = WP_MAX(conn->want_cost, cost);
        pthread_mutex_unlock(&conn->ctx->mu);
        *out_rc = WP_EFULL;
        return true;
    }
    /*
     * Also from a WP_EV_MESSAGE callback: sealing writes only the engine's
     * output, never the frame buffer that the event's data borrows.
     */
    wp_status rc = conn_send(conn->core, data, len);
    if (rc != WP_OK && rc != WP_ETOOBIG)
        session_engine_failed(conn, rc);
    if (rc == WP_OK)
        publish_out(conn);
    if (rc == WP_OK && !conn->in_pump)
        session_mark_dirty(conn);
    *out_rc = rc;
    return true;
}

void session_queue_send(struct wp_conn *conn, struct cmd *c)
{
    if (conn->state >= RT_CLOSING) {
        wp_free(c);
        return;
    }
    c->next = NULL;
    if (conn->sq_tail)
        conn->sq_tail->next = c;
    else
        conn->sq_head = c;
    conn->sq_tail = c;
    session_mark_dirty(conn);
}

void session_request_close(struct wp_conn *conn)
{
    if (conn->state >= RT_CLOSING)
        return;
    conn->has_close_pending = true;
    session_mark_dirty(conn);
}

void session_trust(struct wp_conn *conn, bool accept)
{
    if (conn->state != RT_HANDSHAKE || !conn->trust_waiting)
        return;
    conn->trust_waiting = false;
    session_decide(conn, accept);
    session_mark_dirty(conn);
}

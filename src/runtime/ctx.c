/*
 * ctx.c - the context: an actor loop that owns every connection and
 * listener, a mutex-protected command queue that other threads feed, and
 * the two ways to run the loop (our thread, or the application's loop via
 * wp_ctx_fd / wp_ctx_timeout_ms / wp_ctx_process). See rt.h for the rules.
 */
#include "internal.h"

#include <errno.h>
#include <string.h>

#include "identity/identity.h"
#include "runtime/disc.h"
#include "runtime/rt.h"

/* The ctx whose loop this thread is running, if any (re-entrancy checks). */
static _Thread_local struct wp_ctx *tls_loop_ctx;

/* STOPPING: one wp_ctx_stop is joining the thread; any other call sees WP_ESTATE. */
enum { OWNER_NONE = 0, OWNER_THREAD = 1, OWNER_PROCESS = 2, OWNER_STOPPING = 3 };

bool ctx_on_loop(const struct wp_ctx *ctx)
{
    return tls_loop_ctx == ctx;
}

int ctx_deliver(struct wp_ctx *ctx, wp_event *ev)
{
    if (!ev->detail)
        ev->detail = "";
    return ctx->on_event(ev, ctx->user);
}

/* see wipeer.h */
void wp_ctx_config_init(wp_ctx_config *cfg)
{
    if (WP_MISUSE(!cfg))
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->backend = WP_LOOP_DEFAULT;
}

/* ---------------------------------------------------------------- commands */

bool ctx_enqueue_locked(struct wp_ctx *ctx, struct cmd *c)
{
    c->next = NULL;
    if (c->conn)
        c->conn->refs++;
    bool was_empty = ctx->q_head == NULL;
    if (ctx->q_tail)
        ctx->q_tail->next = c;
    else
        ctx->q_head = c;
    ctx->q_tail = c;
    atomic_store_explicit(&ctx->has_cmds, true, memory_order_release);
    return was_empty;
}

void ctx_enqueue(struct wp_ctx *ctx, struct cmd *c)
{
    pthread_mutex_lock(&ctx->mu);
    bool was_empty = ctx_enqueue_locked(ctx, c);
    pthread_mutex_unlock(&ctx->mu);
    /* The loop drains the whole queue per wake-up: one wake per non-empty period. */
    if (was_empty)
        loop_wake(&ctx->loop);
}

void ctx_conn_unref(struct wp_conn *conn)
{
    struct wp_ctx *ctx = conn->ctx;
    pthread_mutex_lock(&ctx->mu);
    unsigned left = --conn->refs;
    pthread_mutex_unlock(&ctx->mu);
    if (left == 0)
        session_free(conn);
}

void ctx_conn_retain(struct wp_conn *conn)
{
    pthread_mutex_lock(&conn->ctx->mu);
    conn->refs++;
    conn->app_refs++;
    pthread_mutex_unlock(&conn->ctx->mu);
}

/* see wipeer.h */
void wp_conn_retain(wp_conn *conn)
{
    if (WP_MISUSE(!conn))
        return;
    ctx_conn_retain(conn);
}

/* see wipeer.h */
void wp_conn_release(wp_conn *conn)
{
    if (WP_MISUSE(!conn))
        return;
    struct wp_ctx *ctx = conn->ctx;
    bool wake = false;
    pthread_mutex_lock(&ctx->mu);
    bool is_owned = conn->app_refs > 0;
    if (is_owned) {
        conn->app_refs--;
        if (--conn->refs == 0) {
            /* The loop frees it (it owns the lists); see rt.h. */
            wake = ctx->q_head == NULL && ctx->released == NULL;
            conn->released_next = ctx->released;
            ctx->released = conn;
            atomic_store_explicit(&ctx->has_cmds, true, memory_order_release);
        }
    }
    pthread_mutex_unlock(&ctx->mu);
    if (WP_MISUSE(!is_owned))
        return;
    if (wake)
        loop_wake(&ctx->loop);
}

/* see wipeer.h */
void wp_conn_set_user(wp_conn *conn, void *user)
{
    if (WP_MISUSE(!conn))
        return;
    atomic_store_explicit(&conn->user, user, memory_order_release);
}

/* see wipeer.h */
void *wp_conn_user(const wp_conn *conn)
{
    if (WP_MISUSE(!conn))
        return NULL;
    return atomic_load_explicit(&((struct wp_conn *)(uintptr_t)conn)->user, memory_order_acquire);
}

void ctx_exec(struct wp_ctx *ctx, struct cmd *c)
{
    switch (c->type) {
    case CMD_SEND:
        session_queue_send(c->conn, c); /* takes c */
        return;
    case CMD_CLOSE:
        session_request_close(c->conn);
        break;
    case CMD_ABORT:
        session_abort(c->conn);
        break;
    case CMD_TRUST:
        session_trust(c->conn, c->accept);
        break;
    case CMD_CONNECT:
        session_start_connect(c->conn);
        break;
    case CMD_LISTENER_ADD:
        listener_start(c->listener);
        break;
    case CMD_LISTENER_CLOSE:
        listener_close(c->listener);
        break;
    case CMD_RESOLVED:
        resolver_finish(c->res);
        break;
    case CMD_DISC:
        disc_exec(ctx, c->dop);
        break;
    }
    wp_free(c);
}

static void drain(struct wp_ctx *ctx)
{
    /*
     * Nothing queued: no lock. A command enqueued after this check is not
     * lost: its enqueuer wakes the loop (the queue was empty), so the next
     * iteration drains it.
     */
    if (!atomic_load_explicit(&ctx->has_cmds, memory_order_acquire))
        return;
    pthread_mutex_lock(&ctx->mu);
    struct cmd *c = ctx->q_head;
    struct wp_conn *released = ctx->released;
    ctx->q_head = ctx->q_tail = NULL;
    ctx->released = NULL;
    atomic_store_explicit(&ctx->has_cmds, false, memory_order_relaxed);
    pthread_mutex_unlock(&ctx->mu);
    /* Last refs dropped by the application: WP_EV_CLOSED is behind them. */
    while (released) {
        struct wp_conn *next = released->released_next;
        session_free(released);
        released = next;
    }
    while (c) {
        struct cmd *next = c->next;
        struct wp_conn *conn = c->conn;
        ctx_exec(ctx, c);
        if (conn)
            ctx_conn_unref(conn);
        c = next;
    }
}

/* Pump dirty connections and deliver WP_EV_CLOSED (and listener failures) until nothing is left. */
static void settle(struct wp_ctx *ctx)
{
    while (ctx->dirty || ctx->closing || ctx->listener_reports) {
        listener_report(ctx);
        while (ctx->dirty) {
            struct wp_conn *conn = ctx->dirty;
            ctx->dirty = conn->dirty_next;
            if (!ctx->dirty)
                ctx->dirty_tail = NULL;
            conn->dirty_next = NULL;
            conn->is_dirty = false;
            session_pump(conn);
        }
        while (ctx->closing && !ctx->dirty) {
            struct wp_conn *conn = ctx->closing;
            ctx->closing = conn->closing_next;
            if (!ctx->closing)
                ctx->closing_tail = NULL;
            conn->closing_next = NULL;
            session_deliver_closed(conn);
        }
    }
}

static void reap_listeners(struct wp_ctx *ctx)
{
    while (ctx->dead_listeners) {
        struct wp_listener *l = ctx->dead_listeners;
        ctx->dead_listeners = l->next;
        listener_free(l);
    }
    linger_reap(ctx, false);
    disc_reap(ctx);
}

static wp_status run_once(struct wp_ctx *ctx, bool may_block)
{
    wp_status rc;
    wp_err err;
    struct wp_ctx *outer = tls_loop_ctx;
    tls_loop_ctx = ctx;
    /* Commands first: a thread's queued calls precede what its callbacks do. */
    drain(ctx);
    settle(ctx);
    reap_listeners(ctx);
    rc = loop_wait(&ctx->loop, may_block ? -1 : 0, &err);
    drain(ctx);
    loop_run_timers(&ctx->loop, loop_now_ms());
    settle(ctx);
    reap_listeners(ctx);
    tls_loop_ctx = outer;
    return rc;
}

static void *loop_thread(void *arg)
{
    struct wp_ctx *ctx = arg;
    while (!atomic_load(&ctx->want_stop)) {
        if (run_once(ctx, true) != WP_OK)
            break; /* epoll_wait itself failed: nothing sensible left to do */
    }
    return NULL;
}

/* see wipeer.h */
wp_status wp_ctx_start(wp_ctx *ctx)
{
    if (WP_MISUSE(!ctx))
        return WP_EINVAL;
    int expect = OWNER_NONE;
    if (!atomic_compare_exchange_strong(&ctx->owner, &expect, OWNER_THREAD))
        return WP_ESTATE;
    atomic_store(&ctx->want_stop, false);
    int e = pthread_create(&ctx->thread, NULL, loop_thread, ctx);
    if (e != 0) {
        atomic_store(&ctx->owner, OWNER_NONE);
        return WP_ESYS;
    }
    return WP_OK;
}

/* see wipeer.h */
wp_status wp_ctx_stop(wp_ctx *ctx)
{
    if (WP_MISUSE(!ctx))
        return WP_EINVAL;
    if (ctx_on_loop(ctx))
        return WP_ESTATE;
    /* Exactly one caller may join the thread (joining twice is undefined). */
    int expect = OWNER_THREAD;
    if (!atomic_compare_exchange_strong(&ctx->owner, &expect, OWNER_STOPPING))
        return WP_ESTATE;
    atomic_store(&ctx->want_stop, true);
    loop_wake(&ctx->loop);
    pthread_join(ctx->thread, NULL);
    atomic_store(&ctx->owner, OWNER_NONE);
    return WP_OK;
}

/* see wipeer.h */
int wp_ctx_fd(const wp_ctx *ctx)
{
    if (WP_MISUSE(!ctx))
        return -1;
    return loop_fd(&ctx->loop);
}

/* see wipeer.h */
int wp_ctx_timeout_ms(const wp_ctx *ctx)
{
    if (WP_MISUSE(!ctx))
        return -1;
    int owner = atomic_load(&ctx->owner);
    if (owner == OWNER_THREAD || owner == OWNER_STOPPING)
        return -1;
    if (ctx->dirty || ctx->closing || ctx->dead_listeners || ctx->dead_graves ||
        ctx->listener_reports)
        return 0;
    return loop_timeout_from(&ctx->loop, loop_now_ms());
}

/* see wipeer.h */
wp_status wp_ctx_process(wp_ctx *ctx)
{
    if (WP_MISUSE(!ctx))
        return WP_EINVAL;
    int expect = OWNER_NONE;
    if (!atomic_compare_exchange_strong(&ctx->owner, &expect, OWNER_PROCESS))
        return WP_ESTATE;
    wp_status rc = run_once(ctx, false);
    /* The aggregate fd must also wake the application at the next deadline. */
    loop_arm_fd(&ctx->loop);
    atomic_store(&ctx->owner, OWNER_NONE);
    return rc;
}

/* ---------------------------------------------------------------- life */

/* see wipeer.h */
wp_status wp_ctx_new(const wp_ctx_config *cfg, wp_ctx **out, wp_error *out_err)
{
    wp_status rc = WP_OK;
    wp_err err;
    struct wp_ctx *ctx = NULL;
    bool has_mu = false;
    err_clear(&err);
    if (WP_MISUSE(!cfg || !out)) {
        rc = err_set(&err, WP_EINVAL, "NULL argument");
        goto out;
    }
    *out = NULL;
    if (!cfg->identity || !cfg->on_event) {
        rc = err_set(&err, WP_EINVAL, "wp_ctx_config needs an identity and on_event");
        goto out;
    }
    if (cfg->backend != WP_LOOP_DEFAULT && cfg->backend != WP_LOOP_EPOLL &&
        cfg->backend != WP_LOOP_POLL) {
        rc = err_set(&err, WP_EINVAL, "unknown loop backend %d", (int)cfg->backend);
        goto out;
    }
    mem_freeze_allocator();
    ctx = wp_calloc(1, sizeof *ctx);
    if (!ctx) {
        rc = err_set(&err, WP_ENOMEM, "context");
        goto out;
    }
    ctx->key = identity_key(cfg->identity);
    if (!ctx->key) {
        rc = err_set(&err, WP_EINVAL, "identity has no private key");
        goto out;
    }
    ctx->identity = cfg->identity;
    ctx->on_event = cfg->on_event;
    ctx->user = cfg->user;
    if (pthread_mutex_init(&ctx->mu, NULL) != 0) {
        rc = err_set(&err, WP_ESYS, "pthread_mutex_init");
        goto out;
    }
    has_mu = true;
    rc = loop_init(&ctx->loop, cfg->backend == WP_LOOP_POLL ? LOOP_KIND_POLL : LOOP_KIND_EPOLL,
                   &err);
    if (rc != WP_OK)
        goto out;
    atomic_init(&ctx->owner, OWNER_NONE);
    atomic_init(&ctx->has_cmds, false);
    atomic_init(&ctx->want_stop, false);
    *out = ctx;
    ctx = NULL;
out:
    if (ctx) {
        if (has_mu)
            pthread_mutex_destroy(&ctx->mu);
        wp_free(ctx);
    }
    err_copy(out_err, &err);
    return rc;
}

/* Teardown of whatever the queue still holds, without callbacks. */
static void drain_for_free(struct wp_ctx *ctx)
{
    struct cmd *c = ctx->q_head;
    ctx->q_head = ctx->q_tail = NULL;
    while (c) {
        struct cmd *next = c->next;
        switch (c->type) {
        case CMD_LISTENER_ADD:
        case CMD_LISTENER_CLOSE:
            ctx_exec(ctx, c);
            c = NULL;
            break;
        case CMD_CONNECT:
            session_link(c->conn);
            break;
        case CMD_RESOLVED:
            resolver_discard(c->res);
            break;
        case CMD_DISC:
            disc_op_discard(c->dop);
            break;
        default:
            break;
        }
        wp_free(c);
        c = next;
    }
}

/* see wipeer.h */
void wp_ctx_free(wp_ctx *ctx)
{
    if (!ctx)
        return;
    if (WP_MISUSE(ctx_on_loop(ctx)))
        return;
    if (atomic_load(&ctx->owner) == OWNER_THREAD && wp_ctx_stop(ctx) != WP_OK)
        return; /* unreachable: stop fails only on the loop thread, checked above */
    struct wp_ctx *outer = tls_loop_ctx;
    tls_loop_ctx = ctx;
    /* Name resolutions finish on their own; their results are dropped below. */
    pthread_mutex_lock(&ctx->mu);
    struct resolver *r = ctx->resolvers;
    ctx->resolvers = NULL;
    pthread_mutex_unlock(&ctx->mu);
    while (r) {
        struct resolver *next = r->next;
        pthread_join(r->th, NULL);
        r = next;
    }
    drain_for_free(ctx);
    ctx->released = NULL; /* still in ctx->conns: freed below */
    disc_free(ctx); /* goodbyes; before the connections some queries still name */
    while (ctx->listeners) {
        struct wp_listener *l = ctx->listeners;
        ctx->listeners = l->next;
        listener_free(l);
    }
    reap_listeners(ctx);
    while (ctx->conns)
        session_free(ctx->conns);
    linger_reap(ctx, true);
    loop_fini(&ctx->loop);
    wp_free(ctx->rxbuf);
    pthread_mutex_destroy(&ctx->mu);
    tls_loop_ctx = outer;
    wp_free(ctx);
}

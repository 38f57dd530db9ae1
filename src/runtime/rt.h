/*
 * rt.h - internals of the runtime: the context (actor loop + command queue),
 * connections (socket <-> sans-IO engine) and listeners.
 *
 * Threading: fields marked (mu) are read and written under ctx->mu; every
 * other field belongs to the loop thread (the thread inside run_once). A
 * public call made on the loop thread acts directly but never runs a
 * callback; events are only delivered from the loop's phases (I/O dispatch,
 * timers, pump, reap), so callbacks never nest.
 *
 * Lifetime of a wp_conn: refs (mu) counts the loop's ownership (1 until the
 * WP_EV_CLOSED callback returned), each queued command naming it, a
 * running name resolution and the application's references (app_refs,
 * wp_conn_retain). It is freed on the loop thread when refs reaches 0,
 * never during an I/O batch that may still name its watch: a release
 * from the application that drops the last ref hands the conn to the loop
 * (ctx->released), which frees it when it drains its commands.
 */
#ifndef WP_RUNTIME_RT_H
#define WP_RUNTIME_RT_H

#include "internal.h"

#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>

#include "core/conn.h"
#include "runtime/loop.h"

#define RT_RXBUF (256u * 1024)      /* one receive buffer per ctx */
#define RT_READ_BUDGET (1u << 20)   /* bytes read from one socket per wake-up */
#define RT_ACCEPT_BATCH 64
#define RT_DEFAULT_CONNECT_MS 10000u
#define RT_DEFAULT_HANDSHAKE_MS 10000u
#define RT_DEFAULT_KEEPIDLE_S 60u
#define RT_KEEPINTVL_S 10
#define RT_KEEPCNT 3
#define RT_DEFAULT_SENDQ (256u * 1024)
#define RT_DEFAULT_MAX_PENDING 64u
#define RT_PENDING_GRACE_MS 1000 /* a handshake this old may be displaced (listener.c) */
#define RT_EMFILE_BACKOFF_MS 100
#define RT_RESOLVER_STACK (256u * 1024) /* stack of a name resolution thread */
#define RT_ATTEMPT_DELAY_MS 250 /* RFC 8305 §5 Connection Attempt Delay (connect.c) */
#define RT_MAX_ATTEMPTS 4       /* connection attempts in flight at once */
#define RT_LINGER_MS 5000 /* how long to wait for the peer's FIN after a clean close */
#define RT_GRAVE_MS 2000  /* lingering close of a failed connection's socket (linger.c) */
/*
 * A connection that moved no byte for between 1 and 2 such periods gives
 * its engine buffers back (conn_trim): a burst does not leave an idle
 * connection holding its high-water mark (up to send_queue_max plus one
 * frame). Traffic in every period keeps them: no allocation per record.
 */
#define RT_IDLE_TRIM_MS 1000

enum cmd_type {
    CMD_SEND = 1,
    CMD_CLOSE,
    CMD_ABORT,
    CMD_TRUST,
    CMD_CONNECT,
    CMD_LISTENER_ADD,
    CMD_LISTENER_CLOSE,
    CMD_RESOLVED,
    CMD_DISC, /* discovery (disc_api.c): dop */
};

struct resolver;
struct grave;
struct disc;
struct disc_op;
struct disc_target;

struct cmd {
    struct cmd *next;
    enum cmd_type type;
    struct wp_conn *conn;
    struct wp_listener *listener;
    struct resolver *res;
    struct disc_op *dop;
    bool accept;
    size_t len;
    uint8_t data[]; /* CMD_SEND: the message */
};

enum rt_state {
    RT_RESOLVING = 1, /* waiting for getaddrinfo */
    RT_CONNECTING,    /* TCP connect in progress */
    RT_HANDSHAKE,     /* TCP up, engine handshaking */
    RT_OPEN,          /* authenticated */
    RT_CLOSING,       /* ended; WP_EV_CLOSED not yet delivered */
    RT_DEAD,          /* WP_EV_CLOSED delivered; waiting for refs to drop */
};

/* One connection attempt of an outgoing conn (connect.c); w.fd -1: free. */
struct attempt {
    struct watch w;
    struct wp_conn *conn;
};

struct wp_conn {
    struct wp_ctx *ctx;
    struct wp_conn *prev, *next; /* ctx->conns */
    struct wp_conn *dirty_next;   /* ctx->dirty */
    struct wp_conn *closing_next; /* ctx->closing */
    struct watch w;
    struct timer t;
    struct conn *core;
    wp_conn_opts opts;
    struct wp_listener *listener; /* accepted from (compare only) */
    struct wp_listener *pending_in; /* in its list of handshaking conns, or NULL */
    struct wp_conn *pend_prev, *pend_next;
    enum rt_state state;
    bool is_dirty;
    bool is_closing_listed;
    bool has_close_pending; /* wp_conn_close executed, waiting for sq to drain */
    bool we_closed;         /* conn_close() given to the engine */
    bool peer_closed;       /* engine reported the peer's authenticated close */
    bool rx_eof;
    bool shut_wr;           /* both close_notify done: FIN sent, waiting for the peer's */
    bool trust_waiting;     /* PEER_IDENTITY answered with WP_TRUST_DEFER */
    bool id_mismatch;       /* rejected because of opts.expected_peer */
    bool is_linked;         /* in ctx->conns */
    bool is_aborted;        /* reset the socket when closing it */
    bool in_pump;           /* a pump follows: a send need not mark the conn dirty */
    int64_t connect_deadline;
    int64_t linger_deadline;    /* after shut_wr: give up waiting for the peer's FIN */
    int64_t last_rx_ms;
    int64_t trim_at;            /* next idle check for conn_trim, -1 none (RT_IDLE_TRIM_MS) */
    bool was_busy;              /* bytes moved since the last idle check */
    struct cmd *sq_head, *sq_tail; /* sends not yet given to the engine */
    uint8_t *stash;                /* received bytes the engine has not taken yet */
    size_t stash_len, stash_off;
    int64_t created_ms;
    /* connecting */
    struct addrinfo *ai;       /* all candidate addresses */
    struct addrinfo *ai_next;  /* the next to try */
    bool ai_from_resolver;     /* free with freeaddrinfo either way */
    wp_err connect_err;        /* why the last address failed */
    struct attempt att[RT_MAX_ATTEMPTS];
    int64_t next_attempt_ms;   /* start another attempt then; -1 none */
    char *host;
    uint16_t port;
    /* discovery (disc_connect.c) */
    struct disc_target *disc_target; /* wp_connect_discovered: what to find */
    bool ai_is_ours;   /* ai was built by disc_connect_found: disc_free_ai */
    size_t expect_len; /* bytes of opts.expected_peer to check; 0 = all */

    struct wp_conn *released_next; /* ctx->released (mu) */
    /* (mu) */
    unsigned refs;
    unsigned app_refs;     /* the part of refs the application owns */
    /*
     * The send bound: q_bytes + out_pub <= send_queue_max (rt_queue_full).
     * q_bytes is written under mu; out_pub only by the loop (after sealing,
     * under mu, since q_bytes drops then; after writes, when it only drops,
     * without). Both are read without the lock where a stale value only
     * errs on the full side.
     */
    atomic_size_t q_bytes;     /* queued (commands + sq), not yet sealed: each
                                  message's length + WP_SEND_MSG_COST */
    atomic_size_t out_pub;     /* sealed, not yet on the socket (engine output) */
    size_t want_cost;          /* largest message cost refused since the last WRITABLE */
    atomic_bool want_writable; /* a send saw WP_EFULL (written under mu; the loop
                                  peeks without the lock before taking it) */
    bool trust_pending;    /* a wp_conn_trust answer is awaited (from PEER_IDENTITY on) */
    bool trust_answered;   /* wp_conn_trust answered while the callback still ran */
    bool trust_accept;     /* that answer */
    bool close_requested;  /* wp_conn_close called: refuse sends */
    wp_status status;      /* sticky: WP_OK while alive */
    wp_err err;
    bool has_peer;
    wp_pubkey peer;
    wp_fingerprint peer_fp;
    char remote[WP_ADDRESS_STR];
    size_t max_msg;
    void *_Atomic user;    /* ev->conn_user: opts.user until wp_conn_set_user */
};

struct wp_listener {
    struct wp_ctx *ctx;
    struct wp_listener *next; /* ctx->listeners */
    struct watch w;
    struct timer t; /* accept back-off after EMFILE/ENFILE */
    int fd;
    uint16_t port;
    wp_conn_opts opts;
    bool is_dead;
    bool needs_report; /* failed: WP_EV_LISTENER_FAILED not yet delivered */
    struct wp_conn *pend_head, *pend_tail; /* accepted, handshaking, oldest first */
    uint32_t npending;
    bool is_full;      /* paused: max_pending handshakes, none old enough to displace */
    wp_err fail;       /* why it failed */
};

struct resolver {
    struct resolver *next; /* ctx->resolvers (mu) */
    struct wp_ctx *ctx;
    struct wp_conn *conn;
    pthread_t th;
    char *host;
    char service[8];
    struct addrinfo *res;
    int gai_err;
    struct cmd *done; /* preallocated CMD_RESOLVED */
};

struct wp_ctx {
    pthread_mutex_t mu;
    /* (mu) */
    struct cmd *q_head, *q_tail;
    atomic_bool has_cmds; /* q_head or released set (under mu): the loop skips the lock when clear */
    struct wp_conn *released; /* conns whose last ref the application dropped: free them */
    struct resolver *resolvers;

    struct loop loop;
    const wp_identity *identity;
    const crypto_ec_key *key;
    wp_event_fn on_event;
    void *user;

    struct wp_conn *conns; /* every conn the loop knows */
    size_t nconns;
    struct wp_listener *listeners;
    struct wp_listener *dead_listeners; /* freed at the end of the iteration */
    size_t listener_reports;            /* listeners with needs_report set */
    struct grave *graves;      /* sockets of failed connections, lingering (linger.c) */
    struct grave *dead_graves; /* freed at the end of the iteration */
    struct disc *disc;         /* (mu) discovery, created by the first call (disc.h) */
    struct disc *disc_loop;    /* the same, once the loop ran a discovery command */
    struct wp_conn *dirty;   /* need a pump */
    struct wp_conn *closing; /* need their WP_EV_CLOSED, in order */
    struct wp_conn *closing_tail;
    struct wp_conn *dirty_tail;
    uint8_t *rxbuf;

    pthread_t thread;
    atomic_int owner; /* who runs the loop: none, our thread, wp_ctx_process */
    atomic_bool want_stop;
};

/*
 * Would a message costing cost overflow send_queue_max max, with q bytes
 * queued and out bytes sealed but unsent? A message is always taken when
 * nothing waits, so a message bigger than the bound is never stuck.
 */
static inline bool rt_queue_full(size_t q, size_t out, size_t cost, size_t max)
{
    return (q || out) && q + out + cost > max;
}

#define RT_CONTAINER(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* ctx.c */
bool ctx_on_loop(const struct wp_ctx *ctx);
/* Queue a command (takes a ref on cmd->conn) and wake the loop. */
void ctx_enqueue(struct wp_ctx *ctx, struct cmd *c);
/* The same with ctx->mu already held and no wake: returns whether the queue
 * was empty, i.e. whether the caller must loop_wake() after unlocking. */
bool ctx_enqueue_locked(struct wp_ctx *ctx, struct cmd *c);
void ctx_exec(struct wp_ctx *ctx, struct cmd *c); /* loop thread; frees c */
void ctx_conn_unref(struct wp_conn *conn);         /* loop thread */
/* Any thread: the application's reference (wp_conn_retain/release). */
void ctx_conn_retain(struct wp_conn *conn);
int ctx_deliver(struct wp_ctx *ctx, wp_event *ev); /* run the callback */

/* session.c: one connection's data path (loop thread) */
/* Validate opts (NULL: defaults) and fill in the defaults. Any thread. */
wp_status session_opts(const wp_conn_opts *opts, wp_conn_opts *out, wp_err *err);
wp_status session_new(struct wp_ctx *ctx, const wp_conn_opts *opts, struct wp_conn **out,
                      wp_err *err);
void session_free(struct wp_conn *conn);
void session_link(struct wp_conn *conn); /* into ctx->conns (loop thread) */
void session_mark_dirty(struct wp_conn *conn);
void session_pump(struct wp_conn *conn);
/* End the conn with a reason; WP_EV_CLOSED is delivered later by reap. */
void session_fail(struct wp_conn *conn, wp_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void session_finish(struct wp_conn *conn, wp_status code, int sys_errno, const char *detail);
void session_abort(struct wp_conn *conn);
/* connect.c */
void session_start_connect(struct wp_conn *conn);
/* Start the next attempt(s); fail the conn when nothing is left. */
void session_try_next(struct wp_conn *conn);
void connect_close_attempts(struct wp_conn *conn);
/* The conn's timer fired while connecting: maybe start another attempt. */
void connect_on_timer(struct wp_conn *conn, int64_t now_ms);
/* When the conn's timer must fire while resolving or connecting. */
int64_t connect_next_deadline(const struct wp_conn *conn);
/* Accepted or connected socket: start the engine. */
wp_status session_attach(struct wp_conn *conn, int fd, bool is_initiator, wp_err *err);
void session_deliver_closed(struct wp_conn *conn);
void session_queue_send(struct wp_conn *conn, struct cmd *c);
/* Loop thread: seal now if nothing is queued; false when it must be queued instead. */
bool session_send_direct(struct wp_conn *conn, const void *data, size_t len, wp_status *out_rc);
void session_request_close(struct wp_conn *conn);
void session_trust(struct wp_conn *conn, bool accept);
/* Fill the common parts of an event for conn. */
void session_event(const struct wp_conn *conn, wp_event_type type, wp_event *ev);

/* events.c: engine events to application events (loop thread) */
void session_process_events(struct wp_conn *conn);
/* The engine failed (rc from one of its calls): end the conn with its reason. */
void session_engine_failed(struct wp_conn *conn, wp_status rc);
void session_decide(struct wp_conn *conn, bool accept);

/* listener.c */
void listener_start(struct wp_listener *l);
void listener_free(struct wp_listener *l);
/* The conn left the handshake (authenticated or ended): off its listener's list. */
void listener_unpend(struct wp_conn *conn);
void listener_close(struct wp_listener *l);
/* Deliver WP_EV_LISTENER_FAILED for every failed listener (loop phases only). */
void listener_report(struct wp_ctx *ctx);

/* linger.c: FIN after a failed connection's alert, drain the peer, then close */
void linger_socket(struct wp_ctx *ctx, int fd);
/* Free closed ones (end of an iteration); close_all at ctx teardown. */
void linger_reap(struct wp_ctx *ctx, bool close_all);

/* net.c: socket helpers */
wp_status net_listen_socket(const char *addr, uint16_t port, int *out_fd, uint16_t *out_port,
                            wp_err *err);
void net_tune(int fd, const wp_conn_opts *opts);
void net_format_addr(const void *sa, size_t sa_len, char *buf, size_t buf_len);
wp_status net_status_from_errno(int e);
/* Resolve numerically (no DNS): WP_OK, or WP_AGAIN when host needs a resolver. */
wp_status net_resolve_numeric(const char *host, uint16_t port, struct addrinfo **out,
                              wp_err *err);
wp_status resolver_start(struct wp_ctx *ctx, struct wp_conn *conn, wp_err *err);
void resolver_finish(struct resolver *r);  /* CMD_RESOLVED on the loop */
void resolver_discard(struct resolver *r); /* ctx teardown */

#endif

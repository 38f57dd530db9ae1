/*
 * disc.h - internals of discovery (wipeer.h "Discovery"): the state a
 * context keeps on its loop thread, and the interface between the core
 * (discovery.c: service table, events, queries; disc_api.c: the public
 * calls; disc_connect.c: connecting to what was found) and the two
 * backends (disc_builtin.c: src/dns/mdns.h on src/runtime/mdns_sock.h;
 * disc_avahi.c: src/runtime/avahi.h).
 *
 * Threading: struct disc is created under ctx->mu by the first public
 * discovery call; fields marked (mu) are shared with other threads. All
 * other state belongs to the loop thread. Public calls enqueue a CMD_DISC
 * command carrying a struct disc_op (or run it directly on the loop).
 *
 * Events are never delivered from inside a command, a socket callback or a
 * backend call: backends report into the core (disc_on_*), which updates
 * the service table and queues application events; the core's timer then
 * delivers them (and completes queries) in the loop's timer phase, where a
 * connection may also be released safely (rt.h: never during an I/O batch).
 *
 * Lifetime: wp_advert / wp_browser stopped by the application, or objects
 * of a backend's loop glue, move to dead lists and are freed by disc_reap
 * at the end of the loop iteration, because a queued event or an I/O batch
 * may still name them.
 */
#ifndef WP_RUNTIME_DISC_H
#define WP_RUNTIME_DISC_H

#include "internal.h"

#include "dns/mdns.h"
#include "runtime/avahi.h"
#include "runtime/loop.h"

#define DISC_TYPE MDNS_SERVICE_TYPE
#define DISC_TARGET_MAX 256            /* instance name or fingerprint text, NUL included */
#define DISC_RESOLVE_DEFAULT_MS 5000u

struct wp_ctx;
struct wp_conn;
struct disc;
struct cmd;
struct addrinfo;

struct disc_addr {
    uint8_t family; /* 4 or 6 */
    uint8_t ip[16];
    uint32_t ifindex;
};

/* A discovered service, as either backend reports it. */
struct disc_svc {
    struct disc_svc *next;
    char name[WP_SERVICE_NAME_MAX];
    char host[WP_SERVICE_HOST_MAX];
    uint16_t port;
    size_t n_addrs;
    struct disc_addr addrs[WP_SERVICE_MAX_ADDRS];
    bool has_txt;
    bool is_own;
    size_t txt_len;
    uint8_t txt[WP_TXT_MAX]; /* TXT rdata: <len><key=value>... */
};

struct wp_advert {
    struct wp_ctx *ctx;
    struct wp_advert *next;
    char name[WP_SERVICE_NAME_MAX]; /* requested, then the current one */
    uint16_t port;
    uint8_t txt[WP_TXT_MAX];        /* complete rdata: v, fp, application keys */
    size_t txt_len;
    wp_discovery_fn fn;
    void *user;
    bool is_added;   /* given to the backend */
    bool is_failed;  /* WP_DISC_FAILED delivered or queued: no more events */
    bool is_dead;    /* wp_advert_stop executed */
    struct cmd *stop_cmd; /* preallocated for wp_advert_stop, so it cannot fail */
    uint32_t mdns_id; /* built-in */
    avb_reg *reg;     /* Avahi */
};

struct wp_browser {
    struct wp_ctx *ctx;
    struct wp_browser *next;
    wp_discovery_fn fn;
    void *user;
    bool is_new;  /* the known services are still owed as FOUND */
    bool is_dead; /* stopped (wp_browser_stop) or failed: no more events */
    struct cmd *stop_cmd; /* preallocated for wp_browser_stop */
};

/* What a query looks for: an instance name, or a fingerprint (prefix). */
struct disc_target {
    char text[DISC_TARGET_MAX];
    bool is_fp;
    wp_fingerprint fp;
    size_t fp_len; /* WP_FINGERPRINT_SHORT_LEN or WP_FINGERPRINT_LEN */
};

/* A wp_resolve, or a wp_connect_discovered waiting for its service. */
struct disc_query {
    struct disc_query *next;
    struct disc_target tgt;
    int64_t deadline;
    wp_discovery_fn fn; /* resolve */
    void *user;
    struct wp_conn *conn; /* connect: holds a reference */
    bool is_new;          /* not yet matched against the table */
};

enum disc_ev_type {
    DEV_ADVERT = 1, /* ADVERTISED / RENAMED / FAILED of adv */
    DEV_SERVICE,    /* FOUND / UPDATED / REMOVED for the browsers */
    DEV_FAILED,     /* discovery as a whole failed: every browser, query and advert */
};

struct disc_ev {
    struct disc_ev *next;
    enum disc_ev_type kind;
    wp_discovery_event_type type;
    struct wp_advert *adv;
    char name[WP_SERVICE_NAME_MAX];
    struct disc_svc *svc; /* owned copy */
    wp_err err;
};

/* One backend. Every call runs on the loop thread. */
struct disc_backend {
    wp_discovery_backend kind;
    wp_status (*start)(struct disc *d, wp_err *err);
    /* Goodbyes, then free everything the backend holds. */
    void (*stop)(struct disc *d);
    wp_status (*advert_add)(struct disc *d, struct wp_advert *a, wp_err *err);
    void (*advert_remove)(struct disc *d, struct wp_advert *a);
    wp_status (*browse)(struct disc *d, bool on, wp_err *err);
    /* Next time the backend needs the timer (-1 none), and its turn then. */
    int64_t (*deadline)(struct disc *d);
    void (*tick)(struct disc *d, int64_t now_ms);
};

extern const struct disc_backend disc_builtin;
extern const struct disc_backend disc_avahi;

struct disc_aw; /* disc_avahi.c: an avb_watch on the loop */
struct disc_at; /* disc_avahi.c: an avb_timer on the loop */

struct disc {
    struct wp_ctx *ctx;
    /* (mu) until started: the configuration and the state others read */
    bool is_started;               /* a discovery command was submitted */
    wp_discovery_backend want;
    wp_discovery_backend used;     /* AUTO until the loop chose */
    char **ifnames;
    size_t n_ifnames;
    bool no_v4, no_v6, is_private;
    char host_label[MDNS_LABEL_STR_MAX];
    char fp_text[WP_FINGERPRINT_SHORT_STR];
    wp_fingerprint fp;             /* our identity */

    /* loop thread */
    const struct disc_backend *be; /* NULL: not running */
    bool has_run;                  /* the backend choice was made */
    bool is_failed;                /* no backend could start: fail everything */
    wp_err fail;
    bool is_browsing;              /* the backend browses */
    struct timer t;
    struct wp_advert *adverts, *dead_adverts;
    struct wp_browser *browsers, *dead_browsers;
    struct disc_query *queries;
    struct disc_svc *svcs;
    size_t n_svcs;
    struct disc_ev *ev_head, *ev_tail;
    /* built-in backend */
    mdns *m;
    struct mdns_sock *sock;
    struct disc_fdw *fdw;
    size_t n_fdw;
    /* Avahi backend */
    avb *avb;
    avb_browser *avb_br;
    struct disc_aw *aws, *dead_aws;
    struct disc_at *ats, *dead_ats;
};

/* ---- discovery.c: the core (loop thread unless noted) ---- */
/* The ctx's discovery state, created on first use (any thread; takes ctx->mu). */
wp_status disc_get(struct wp_ctx *ctx, struct disc **out, wp_err *err);
/* Start a backend if none runs yet (first command). */
void disc_ensure(struct disc *d);
/* Re-evaluate whether the backend must browse, and arm the timer. */
void disc_update(struct disc *d);
/* Arm the core's timer for the backend's deadline, queued events, queries. */
void disc_rearm(struct disc *d);
/* Backends report here. */
void disc_on_advertised(struct disc *d, struct wp_advert *a, const char *name, bool is_rename);
void disc_on_advert_failed(struct disc *d, struct wp_advert *a, const wp_err *err);
void disc_on_found(struct disc *d, const struct disc_svc *s); /* FOUND or UPDATED */
void disc_on_removed(struct disc *d, const char *name);
/* The backend failed as a whole (Avahi daemon gone): fall back or fail. */
void disc_on_backend_failed(struct disc *d, const wp_err *err);
/* Free dead objects (end of a loop iteration); all=true at ctx teardown. */
void disc_reap(struct wp_ctx *ctx);
/* ctx teardown: goodbyes, free everything (no callbacks). */
void disc_free(struct wp_ctx *ctx);
/* Does some advert of ours publish this instance name right now? */
bool disc_is_own_name(const struct disc *d, const char *name);
/* Parse a wp_resolve / wp_connect_discovered target (any thread). */
wp_status disc_target_parse(const char *text, struct disc_target *out, wp_err *err);
bool disc_target_matches(const struct disc_target *t, const struct disc_svc *s);

/* ---- disc_api.c: commands ---- */
enum disc_op_type {
    DOP_ADVERTISE = 1,
    DOP_ADVERT_STOP,
    DOP_BROWSE,
    DOP_BROWSE_STOP,
    DOP_RESOLVE,
};
struct disc_op {
    enum disc_op_type type;
    struct wp_advert *adv;
    struct wp_browser *br;
    struct disc_query *q;
};
/* Execute an op on the loop thread (frees op). */
void disc_exec(struct wp_ctx *ctx, struct disc_op *op);
/* ctx teardown: an op still queued (frees op and what it owns). */
void disc_op_discard(struct disc_op *op);

/* ---- disc_connect.c ---- */
/* session_start_connect for a wp_connect_discovered connection. */
void disc_connect_start(struct wp_conn *conn);
/* A query for conn matched s (or failed): start TCP, or fail the conn. */
void disc_connect_found(struct disc *d, struct wp_conn *conn, const struct disc_svc *s);
/* Free an address list built by disc_connect_found. */
void disc_free_ai(struct addrinfo *ai);
/* conn's discovery deadline passed: fail it with WP_ENOTFOUND. */
void disc_connect_timeout(struct wp_conn *conn);

/* ---- disc_avahi.c ---- */
/* Free the loop glue Avahi removed during this iteration. */
void disc_avahi_reap(struct disc *d);

#endif

/*
 * avahi.h - DNS-SD through a running avahi-daemon (avahi-client over D-Bus),
 * driven by the caller's event loop. Internal: the discovery layer uses it
 * for the `avahi` backend and for `auto` (Avahi when its daemon answers,
 * else the built-in responder).
 *
 * Built when pkg-config finds avahi-client (cmake/optional.cmake defines
 * WP_HAVE_AVAHI, src/runtime/opt_avahi.c). Without it avb_probe() says no
 * and avb_new() returns WP_EUNSUPPORTED, so callers need no #ifdef.
 *
 * The loop: Avahi's AvahiPoll is implemented on top of the hooks in
 * struct avb_loop, so the backend lives in wipeer's one-loop-per-context
 * model; avahi's threaded poll is not used. The backend asks the loop to
 * watch fds and to arm one-shot timers; the loop reports readiness with
 * avb_watch_ready() and expiry with avb_timer_fire(). Everything (hooks,
 * event callbacks, the avb_* calls) runs on the loop's thread; nothing here
 * is thread-safe.
 *
 * Blocking: avahi-client makes a synchronous D-Bus round trip to the local
 * daemon whenever it creates or frees an object: in avb_probe, avb_new,
 * avb_register, avb_unregister, avb_browse, avb_browse_stop, avb_free, and
 * inside avb_watch_ready when a new instance gets its resolver. Each takes
 * well under a millisecond; a wedged daemon can hold one for libdbus's
 * reply timeout (25 s). Waiting for the network never blocks: probing,
 * announcing and resolving progress through the loop. avb_probe and
 * avb_new return at once when the bus or the daemon is absent.
 *
 * Names follow Avahi's conventions: on a collision a service is renamed
 * with avahi_alternative_service_name() ("name #2", "name #3", ...).
 */
#ifndef WP_RUNTIME_AVAHI_H
#define WP_RUNTIME_AVAHI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Watch events: the poll(2) bits, so a poll() or epoll loop passes them through. */
#define AVB_IN 0x001u  /* POLLIN  / EPOLLIN  */
#define AVB_OUT 0x004u /* POLLOUT / EPOLLOUT */
#define AVB_ERR 0x008u /* POLLERR / EPOLLERR (reported, never requested) */
#define AVB_HUP 0x010u /* POLLHUP / EPOLLHUP (reported, never requested) */

/* Limits of the TXT record (RFC 6763 §6.1, §6.2). */
#define AVB_TXT_STRING_MAX 255u
#define AVB_TXT_MAX 1300u /* whole record: fits one packet on any LAN */
/* Renames after collisions before a registration gives up. */
#define AVB_RENAME_MAX 32u

typedef struct avb avb;
typedef struct avb_watch avb_watch;   /* one fd the backend waits on */
typedef struct avb_timer avb_timer;   /* one one-shot timer */
typedef struct avb_reg avb_reg;       /* one registered service */
typedef struct avb_browser avb_browser; /* one browsed service type */

/*
 * The caller's loop. Times are CLOCK_MONOTONIC milliseconds (avb_now_ms());
 * due_ms -1 means "disarmed". Hooks can be called from inside any avb_*
 * call, including avb_watch_ready() and avb_timer_fire(): a loop that
 * dispatches a batch of ready fds must check that each watch is still
 * registered before passing it on. After watch_remove/timeout_remove the
 * loop must forget the handle (it is freed when the current avb_* call
 * returns). A timer is one-shot: avb_timer_fire() disarms it (through
 * timeout_update, due_ms -1) before Avahi may re-arm it.
 */
struct avb_loop {
    void *user;
    /* Start watching fd for events (AVB_IN|AVB_OUT, possibly 0). False: cannot. */
    bool (*watch_add)(void *user, avb_watch *w, int fd, unsigned events);
    void (*watch_update)(void *user, avb_watch *w, int fd, unsigned events);
    void (*watch_remove)(void *user, avb_watch *w, int fd);
    /* Arm t to fire at due_ms (-1: disarmed, keep the handle). False: cannot. */
    bool (*timeout_add)(void *user, avb_timer *t, int64_t due_ms);
    void (*timeout_update)(void *user, avb_timer *t, int64_t due_ms);
    void (*timeout_remove)(void *user, avb_timer *t);
};

/* The loop reports that w's fd is ready; revents are AVB_* bits. */
void avb_watch_ready(avb_watch *w, unsigned revents);
/* The loop reports that t's due time has passed. */
void avb_timer_fire(avb_timer *t);
/* CLOCK_MONOTONIC in milliseconds: the clock of every due_ms. */
int64_t avb_now_ms(void);

/* One TXT string "key=value" (RFC 6763 §6.3): value NULL and value_len 0 with
 * has_value false is a boolean attribute ("key" with no '='). */
struct avb_txt {
    const char *key; /* printable US-ASCII (0x20-0x7E) except '=', non-empty */
    const uint8_t *value;
    size_t value_len;
    bool has_value;
};

struct avb_addr {
    uint8_t family;     /* 4 or 6 */
    uint8_t bytes[16];  /* network order; IPv4 in the first 4 */
    uint32_t ifindex;   /* interface it was seen on (scope of fe80::/10) */
};

/* A resolved service as the browse events report it. */
struct avb_service {
    const char *name;   /* instance name (UTF-8, unescaped) */
    const char *type;   /* "_wipeerkit._tcp" */
    const char *domain; /* "local" */
    const char *host;   /* SRV target, e.g. "box.local"; NULL before resolved */
    uint16_t port;      /* SRV port */
    const struct avb_addr *addrs; /* every address of every resolved instance */
    size_t n_addrs;
    const struct avb_txt *txt;    /* latest TXT record, in record order */
    size_t n_txt;
    bool is_local; /* published through this same avahi-daemon (this host) */
    bool is_own;   /* published through this very backend (avb_register) */
};

enum avb_event_kind {
    AVB_EV_REGISTERED = 1, /* reg: established (probing done) as ev->name */
    AVB_EV_RENAMED,        /* reg: ev->old_name collided; now probing ev->name */
    AVB_EV_FOUND,          /* browse: ev->svc resolved for the first time */
    AVB_EV_UPDATED,        /* browse: ev->svc's host, port, addresses or TXT changed */
    AVB_EV_REMOVED,        /* browse: ev->svc gone (goodbye or expiry), last known data */
    AVB_EV_FAILED,         /* ev->err says why. ev->reg: that registration gave up.
                              ev->browse with ev->name: that service could not be
                              resolved (or memory ran out); the browse goes on.
                              ev->browse alone: that browse stopped. Neither: the
                              backend failed (daemon gone); sticky, every later
                              call returns it. */
};

/* Valid only during the callback; every pointer is borrowed. */
struct avb_event {
    enum avb_event_kind kind;
    avb_reg *reg;
    avb_browser *browse;
    const char *name;
    const char *old_name;
    const struct avb_service *svc;
    const wp_err *err;
};

/*
 * Event callback. It runs inside avb_* calls on the loop thread, must not
 * block and must not call avb_free(). It may call avb_register,
 * avb_unregister, avb_browse and avb_browse_stop (even on the object the
 * event is about).
 */
typedef void (*avb_event_fn)(void *user, const struct avb_event *ev);

/*
 * Is an avahi-daemon reachable on the D-Bus system bus (the socket named by
 * $DBUS_SYSTEM_BUS_ADDRESS, else /run/dbus/system_bus_socket) and running?
 * Connects, asks, disconnects; err (may be NULL) says why not.
 */
bool avb_probe(wp_err *err);

/*
 * Connect to avahi-daemon. loop is copied; cb (with user) receives every
 * event. Returns WP_OK and *out_b, or WP_EUNSUPPORTED (built without Avahi),
 * WP_ENOTFOUND (no bus or no daemon), WP_ENOMEM, WP_ESYS (other client
 * failures), WP_EINVAL; err (may be NULL) has the detail.
 */
WP_NODISCARD wp_status avb_new(const struct avb_loop *loop, avb_event_fn cb, void *user,
                               avb **out_b, wp_err *err);
/* Unregister everything (goodbye packets), stop browsing, disconnect.
 * NULL is a no-op. Not from inside an event callback. */
void avb_free(avb *b);
/* The sticky failure, or NULL while the backend is healthy. */
const wp_err *avb_last_error(const avb *b);

/*
 * Publish name (UTF-8, 1..63 bytes) of type ("_wipeerkit._tcp") on every
 * interface the daemon serves, with the SRV port and TXT strings (copied;
 * each key=value at most AVB_TXT_STRING_MAX bytes, AVB_TXT_MAX in all).
 * Completion and renames arrive as events. Returns WP_OK and *out_reg,
 * WP_EINVAL, WP_ETOOBIG, WP_ENOMEM, or the sticky failure.
 */
WP_NODISCARD wp_status avb_register(avb *b, const char *name, const char *type, uint16_t port,
                                    const struct avb_txt *txt, size_t n_txt, avb_reg **out_reg,
                                    wp_err *err);
/* Withdraw (goodbye, TTL 0) and free r. NULL is a no-op. */
void avb_unregister(avb *b, avb_reg *r);
/* r's current name (changes on RENAMED); valid until the next event or call. */
const char *avb_reg_name(const avb_reg *r);

/*
 * Browse type in the default domain on every interface and resolve each
 * instance (SRV, TXT, and the address of every interface/protocol pair it
 * is seen on). Events: FOUND, UPDATED, REMOVED, FAILED.
 */
WP_NODISCARD wp_status avb_browse(avb *b, const char *type, avb_browser **out_br, wp_err *err);
/* Stop browsing and free br (no REMOVED events). NULL is a no-op. */
void avb_browse_stop(avb *b, avb_browser *br);

#endif

/*
 * loop.h - the event loop under a wp_ctx: fd watches, a min-heap of timers,
 * a cross-thread wake-up (eventfd) and the monotonic clock.
 *
 * Two backends implement the fd part (struct loop_backend): epoll
 * (loop_epoll.c, Linux, gives one pollable fd that aggregates every socket,
 * the timerfd and the eventfd) and poll() (loop_poll.c, portable fallback,
 * no aggregate fd). Everything here is single-threaded except loop_wake(),
 * which any thread may call.
 *
 * Invariant: a watch or timer must stay in memory until the end of the
 * loop iteration in which it was removed (owners free through a deferred
 * list), because an event batch may still name it. Removed watches are
 * never dispatched.
 */
#ifndef WP_RUNTIME_LOOP_H
#define WP_RUNTIME_LOOP_H

#include "internal.h"

#define LOOP_IN 1u
#define LOOP_OUT 2u
#define LOOP_ERR 4u /* error or hang-up: read/write to learn which */

struct loop;

struct watch {
    int fd;
    uint32_t want;     /* LOOP_IN | LOOP_OUT as registered */
    bool is_added;     /* registered with the backend */
    size_t slot;       /* backend private (poll: index in its arrays) */
    void (*fn)(struct watch *w, uint32_t revents);
};

#define TIMER_IDLE SIZE_MAX

struct timer {
    int64_t when;  /* CLOCK_MONOTONIC milliseconds */
    uint64_t seq;  /* arming order: equal deadlines fire first-armed first */
    size_t idx;    /* heap position or TIMER_IDLE */
    void (*fn)(struct timer *t, int64_t now_ms);
};

enum loop_kind {
    LOOP_KIND_EPOLL = 1,
    LOOP_KIND_POLL = 2,
};

struct loop_backend {
    const char *name;
    wp_status (*init)(struct loop *l, wp_err *err);
    void (*fini)(struct loop *l);
    wp_status (*add)(struct loop *l, struct watch *w, uint32_t want, wp_err *err);
    wp_status (*mod)(struct loop *l, struct watch *w, uint32_t want, wp_err *err);
    void (*del)(struct loop *l, struct watch *w);
    /* Wait up to timeout_ms (-1: forever, 0: poll) and dispatch ready watches. */
    wp_status (*wait)(struct loop *l, int timeout_ms, wp_err *err);
    /* Make the aggregate fd readable at when_ms (-1: never). NULL if no fd. */
    void (*arm)(struct loop *l, int64_t when_ms);
    int (*fd)(const struct loop *l); /* aggregate fd or -1 */
};

extern const struct loop_backend loop_backend_epoll;
extern const struct loop_backend loop_backend_poll;

struct loop {
    const struct loop_backend *be;
    void *be_state;
    struct timer **heap;
    size_t heap_len;
    size_t heap_cap;
    uint64_t seq;
    int wake_fd;        /* eventfd */
    struct watch wake_w;
};

/* The monotonic clock in milliseconds (CLOCK_MONOTONIC). */
int64_t loop_now_ms(void);

WP_NODISCARD wp_status loop_init(struct loop *l, enum loop_kind kind, wp_err *err);
void loop_fini(struct loop *l);

/*
 * Watch fd. On success w->fd is fd (the watch's owner closes it after
 * loop_del); on failure w->fd is -1 and fd still belongs to the caller.
 */
WP_NODISCARD wp_status loop_add(struct loop *l, struct watch *w, int fd, uint32_t want,
                                void (*fn)(struct watch *, uint32_t), wp_err *err);
/* Change the interest set; a no-op when unchanged. */
WP_NODISCARD wp_status loop_mod(struct loop *l, struct watch *w, uint32_t want, wp_err *err);
/* Stop watching (the caller closes the fd). No-op when not added. */
void loop_del(struct loop *l, struct watch *w);

/* Wait at most timeout_ms (clamped to the next timer) and dispatch ready fds. */
WP_NODISCARD wp_status loop_wait(struct loop *l, int timeout_ms, wp_err *err);
/* Fire every timer due at now_ms, in (deadline, arming order). */
void loop_run_timers(struct loop *l, int64_t now_ms);

void timer_init(struct timer *t, void (*fn)(struct timer *, int64_t));
/* (Re)arm at when_ms; WP_ENOMEM if the heap cannot grow. */
WP_NODISCARD wp_status timer_arm(struct loop *l, struct timer *t, int64_t when_ms);
void timer_disarm(struct loop *l, struct timer *t);
static inline bool timer_is_armed(const struct timer *t) { return t->idx != TIMER_IDLE; }
/* The earliest armed deadline or -1. */
int64_t loop_next_deadline(const struct loop *l);
/* Milliseconds until the next deadline from now_ms (0 if due, -1 if none), capped at INT_MAX. */
int loop_timeout_from(const struct loop *l, int64_t now_ms);

/* Wake a loop blocked in loop_wait (any thread; async-signal-safe). */
void loop_wake(struct loop *l);
/* Make the aggregate fd (if any) readable at the next deadline. */
void loop_arm_fd(struct loop *l);
int loop_fd(const struct loop *l);

#endif

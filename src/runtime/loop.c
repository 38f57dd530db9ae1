/*
 * loop.c - backend-independent parts of the event loop: the timer min-heap,
 * the eventfd wake-up and the monotonic clock (see loop.h).
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "runtime/loop.h"

int64_t loop_now_ms(void)
{
    struct timespec ts;
    /* CLOCK_MONOTONIC cannot fail with a valid clock id and pointer. */
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- timers */

static bool timer_before(const struct timer *a, const struct timer *b)
{
    return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void heap_set(struct loop *l, size_t i, struct timer *t)
{
    l->heap[i] = t;
    t->idx = i;
}

static void sift_up(struct loop *l, size_t i)
{
    struct timer *t = l->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!timer_before(t, l->heap[parent]))
            break;
        heap_set(l, i, l->heap[parent]);
        i = parent;
    }
    heap_set(l, i, t);
}

static void sift_down(struct loop *l, size_t i)
{
    struct timer *t = l->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= l->heap_len)
            break;
        if (c + 1 < l->heap_len && timer_before(l->heap[c + 1], l->heap[c]))
            c++;
        if (!timer_before(l->heap[c], t))
            break;
        heap_set(l, i, l->heap[c]);
        i = c;
    }
    heap_set(l, i, t);
}

void timer_init(struct timer *t, void (*fn)(struct timer *, int64_t))
{
    t->when = 0;
    t->seq = 0;
    t->idx = TIMER_IDLE;
    t->fn = fn;
}

void timer_disarm(struct loop *l, struct timer *t)
{
    if (t->idx == TIMER_IDLE)
        return;
    size_t i = t->idx;
    t->idx = TIMER_IDLE;
    l->heap_len--;
    if (i == l->heap_len)
        return;
    struct timer *moved = l->heap[l->heap_len];
    heap_set(l, i, moved);
    sift_up(l, i);
    sift_down(l, moved->idx);
}

wp_status timer_arm(struct loop *l, struct timer *t, int64_t when_ms)
{
    if (t->idx != TIMER_IDLE) {
        if (t->when == when_ms)
            return WP_OK;
        timer_disarm(l, t);
    }
    if (l->heap_len == l->heap_cap) {
        size_t cap = l->heap_cap ? l->heap_cap * 2 : 16;
        struct timer **h = wp_realloc(l->heap, cap * sizeof *h);
        if (!h)
            return WP_ENOMEM;
        l->heap = h;
        l->heap_cap = cap;
    }
    t->when = when_ms;
    t->seq = l->seq++;
    heap_set(l, l->heap_len, t);
    l->heap_len++;
    sift_up(l, t->idx);
    return WP_OK;
}

int64_t loop_next_deadline(const struct loop *l)
{
    return l->heap_len ? l->heap[0]->when : -1;
}

int loop_timeout_from(const struct loop *l, int64_t now_ms)
{
    int64_t d = loop_next_deadline(l);
    if (d < 0)
        return -1;
    if (d <= now_ms)
        return 0;
    return d - now_ms > INT_MAX ? INT_MAX : (int)(d - now_ms);
}

void loop_run_timers(struct loop *l, int64_t now_ms)
{
    /*
     * Only timers armed before this pass fire in it: a callback that re-arms
     * at a past deadline runs in the next pass instead of looping here.
     */
    uint64_t limit = l->seq;
    while (l->heap_len) {
        struct timer *t = l->heap[0];
        if (t->when > now_ms || t->seq >= limit)
            break;
        timer_disarm(l, t);
        t->fn(t, now_ms);
    }
}

/* ---------------------------------------------------------------- watches */

wp_status loop_add(struct loop *l, struct watch *w, int fd, uint32_t want,
                   void (*fn)(struct watch *, uint32_t), wp_err *err)
{
    w->fd = fd;
    w->fn = fn;
    w->want = 0;
    w->is_added = false;
    wp_status rc = l->be->add(l, w, want, err);
    if (rc == WP_OK) {
        w->is_added = true;
        w->want = want;
    } else {
        w->fd = -1; /* the caller still owns fd: no second owner to close it again */
    }
    return rc;
}

wp_status loop_mod(struct loop *l, struct watch *w, uint32_t want, wp_err *err)
{
    if (!w->is_added)
        return err_set(err, WP_ESTATE, "watch not registered");
    if (w->want == want)
        return WP_OK;
    wp_status rc = l->be->mod(l, w, want, err);
    if (rc == WP_OK)
        w->want = want;
    return rc;
}

void loop_del(struct loop *l, struct watch *w)
{
    if (!w->is_added)
        return;
    l->be->del(l, w);
    w->is_added = false;
    w->want = 0;
}

wp_status loop_wait(struct loop *l, int timeout_ms, wp_err *err)
{
    int t = loop_timeout_from(l, loop_now_ms());
    if (t >= 0 && (timeout_ms < 0 || t < timeout_ms))
        timeout_ms = t;
    return l->be->wait(l, timeout_ms, err);
}

/* ---------------------------------------------------------------- wake */

static void on_wake(struct watch *w, uint32_t revents)
{
    WP_UNUSED(revents);
    uint64_t v;
    /* Non-blocking: EAGAIN just means someone else drained it. */
    while (read(w->fd, &v, sizeof v) > 0) {
    }
}

void loop_wake(struct loop *l)
{
    uint64_t one = 1;
    /* EAGAIN means the counter is already non-zero: the loop will wake. */
    ssize_t n = write(l->wake_fd, &one, sizeof one);
    WP_UNUSED(n);
}

void loop_arm_fd(struct loop *l)
{
    if (l->be->arm)
        l->be->arm(l, loop_next_deadline(l));
}

int loop_fd(const struct loop *l)
{
    return l->be->fd ? l->be->fd(l) : -1;
}

/* ---------------------------------------------------------------- life */

wp_status loop_init(struct loop *l, enum loop_kind kind, wp_err *err)
{
    wp_status rc;
    memset(l, 0, sizeof *l);
    l->wake_fd = -1;
    l->be = kind == LOOP_KIND_POLL ? &loop_backend_poll : &loop_backend_epoll;
    rc = l->be->init(l, err);
    if (rc != WP_OK) {
        l->be = NULL;
        goto out;
    }
    l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->wake_fd < 0) {
        rc = err_sys(err, errno, "eventfd");
        goto out;
    }
    rc = loop_add(l, &l->wake_w, l->wake_fd, LOOP_IN, on_wake, err);
out:
    if (rc != WP_OK)
        loop_fini(l);
    return rc;
}

void loop_fini(struct loop *l)
{
    if (l->wake_fd >= 0) {
        loop_del(l, &l->wake_w);
        close(l->wake_fd);
        l->wake_fd = -1;
    }
    if (l->be)
        l->be->fini(l);
    l->be = NULL;
    wp_free(l->heap);
    l->heap = NULL;
    l->heap_len = l->heap_cap = 0;
}

/*
 * loop_epoll.c - the Linux backend: one epoll fd holds every socket, the
 * wake eventfd and a timerfd, so an application can poll that single fd
 * (wp_ctx_fd) in its own loop. Level-triggered: a watch that does not drain
 * its socket is simply called again on the next wait.
 */
#include "internal.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "runtime/loop.h"

#define EPOLL_BATCH 256

struct epoll_state {
    int epfd;
    int tfd;               /* timerfd, CLOCK_MONOTONIC, absolute */
    struct watch timer_w;
    int64_t armed_ms;      /* what tfd is set to, -1 none */
    struct epoll_event evs[EPOLL_BATCH];
};

static uint32_t to_epoll(uint32_t want)
{
    uint32_t e = 0;
    if (want & LOOP_IN)
        e |= EPOLLIN | EPOLLRDHUP;
    if (want & LOOP_OUT)
        e |= EPOLLOUT;
    return e;
}

static wp_status ep_ctl(struct loop *l, int op, struct watch *w, uint32_t want, wp_err *err)
{
    struct epoll_state *s = l->be_state;
    struct epoll_event ev = {.events = to_epoll(want), .data.ptr = w};
    if (epoll_ctl(s->epfd, op, w->fd, &ev) < 0)
        return err_sys(err, errno, "epoll_ctl(fd %d)", w->fd);
    return WP_OK;
}

static wp_status ep_add(struct loop *l, struct watch *w, uint32_t want, wp_err *err)
{
    return ep_ctl(l, EPOLL_CTL_ADD, w, want, err);
}

static wp_status ep_mod(struct loop *l, struct watch *w, uint32_t want, wp_err *err)
{
    return ep_ctl(l, EPOLL_CTL_MOD, w, want, err);
}

static void ep_del(struct loop *l, struct watch *w)
{
    struct epoll_state *s = l->be_state;
    /* Fails only if the fd is already closed, which drops it from epoll anyway. */
    (void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

static wp_status ep_wait(struct loop *l, int timeout_ms, wp_err *err)
{
    struct epoll_state *s = l->be_state;
    int n = epoll_wait(s->epfd, s->evs, EPOLL_BATCH, timeout_ms);
    if (n < 0) {
        if (errno == EINTR)
            return WP_OK;
        return err_sys(err, errno, "epoll_wait");
    }
    for (int i = 0; i < n; i++) {
        struct watch *w = s->evs[i].data.ptr;
        uint32_t e = s->evs[i].events;
        /* Removed earlier in this batch: its owner is being torn down. */
        if (!w->is_added)
            continue;
        uint32_t rev = 0;
        if (e & (EPOLLIN | EPOLLRDHUP))
            rev |= LOOP_IN;
        if (e & EPOLLOUT)
            rev |= LOOP_OUT;
        if (e & (EPOLLERR | EPOLLHUP))
            rev |= LOOP_ERR;
        w->fn(w, rev);
    }
    return WP_OK;
}

static void on_timerfd(struct watch *w, uint32_t revents)
{
    WP_UNUSED(revents);
    uint64_t v;
    while (read(w->fd, &v, sizeof v) > 0) {
    }
}

static void ep_arm(struct loop *l, int64_t when_ms)
{
    struct epoll_state *s = l->be_state;
    if (when_ms == s->armed_ms)
        return;
    struct itimerspec its = {{0, 0}, {0, 0}};
    if (when_ms >= 0) {
        /* An all-zero it_value disarms: a deadline at 0 ms becomes 1 ns. */
        its.it_value.tv_sec = when_ms / 1000;
        its.it_value.tv_nsec = (when_ms % 1000) * 1000000 + 1;
    }
    if (timerfd_settime(s->tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
        s->armed_ms = when_ms;
}

static int ep_fd(const struct loop *l)
{
    const struct epoll_state *s = l->be_state;
    return s->epfd;
}

static void ep_fini(struct loop *l)
{
    struct epoll_state *s = l->be_state;
    if (!s)
        return;
    if (s->tfd >= 0)
        close(s->tfd);
    if (s->epfd >= 0)
        close(s->epfd);
    wp_free(s);
    l->be_state = NULL;
}

static wp_status ep_init(struct loop *l, wp_err *err)
{
    wp_status rc = WP_OK;
    struct epoll_state *s = wp_calloc(1, sizeof *s);
    if (!s)
        return err_set(err, WP_ENOMEM, "epoll state");
    s->epfd = -1;
    s->tfd = -1;
    s->armed_ms = -1;
    l->be_state = s;
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (s->epfd < 0) {
        rc = err_sys(err, errno, "epoll_create1");
        goto out;
    }
    s->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (s->tfd < 0) {
        rc = err_sys(err, errno, "timerfd_create");
        goto out;
    }
    s->timer_w.fd = s->tfd;
    s->timer_w.fn = on_timerfd;
    s->timer_w.is_added = true;
    s->timer_w.want = LOOP_IN;
    rc = ep_ctl(l, EPOLL_CTL_ADD, &s->timer_w, LOOP_IN, err);
out:
    if (rc != WP_OK)
        ep_fini(l);
    return rc;
}

const struct loop_backend loop_backend_epoll = {
    .name = "epoll",
    .init = ep_init,
    .fini = ep_fini,
    .add = ep_add,
    .mod = ep_mod,
    .del = ep_del,
    .wait = ep_wait,
    .arm = ep_arm,
    .fd = ep_fd,
};

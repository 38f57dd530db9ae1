/*
 * loop_poll.c - the portable backend over poll(2). It has no aggregate fd
 * (wp_ctx_fd returns -1): use it with wp_ctx_start, or to test the epoll
 * backend against an independent one. O(n) per wait, fine for tests and
 * small devices.
 */
#include "internal.h"

#include <errno.h>
#include <poll.h>

#include "runtime/loop.h"

struct poll_state {
    struct pollfd *pfds;
    struct watch **ws;
    size_t n, cap;
    /* Snapshot of one wait's ready set, so callbacks may add/remove watches. */
    struct watch **ready;
    uint32_t *ready_ev;
    size_t ready_cap;
};

static short to_poll(uint32_t want)
{
    short e = 0;
    if (want & LOOP_IN)
        e |= POLLIN;
    if (want & LOOP_OUT)
        e |= POLLOUT;
    return e;
}

static wp_status grow(struct poll_state *s, wp_err *err)
{
    size_t cap = s->cap ? s->cap * 2 : 16;
    struct pollfd *p = wp_realloc(s->pfds, cap * sizeof *p);
    if (!p)
        return err_set(err, WP_ENOMEM, "poll set");
    s->pfds = p;
    struct watch **w = wp_realloc(s->ws, cap * sizeof *w);
    if (!w)
        return err_set(err, WP_ENOMEM, "poll set");
    s->ws = w;
    struct watch **r = wp_realloc(s->ready, cap * sizeof *r);
    if (!r)
        return err_set(err, WP_ENOMEM, "poll set");
    s->ready = r;
    uint32_t *re = wp_realloc(s->ready_ev, cap * sizeof *re);
    if (!re)
        return err_set(err, WP_ENOMEM, "poll set");
    s->ready_ev = re;
    s->cap = s->ready_cap = cap;
    return WP_OK;
}

static wp_status pl_add(struct loop *l, struct watch *w, uint32_t want, wp_err *err)
{
    struct poll_state *s = l->be_state;
    if (s->n == s->cap) {
        wp_status rc = grow(s, err);
        if (rc != WP_OK)
            return rc;
    }
    s->pfds[s->n] = (struct pollfd){.fd = w->fd, .events = to_poll(want), .revents = 0};
    s->ws[s->n] = w;
    w->slot = s->n++;
    return WP_OK;
}

static wp_status pl_mod(struct loop *l, struct watch *w, uint32_t want, wp_err *err)
{
    WP_UNUSED(err);
    struct poll_state *s = l->be_state;
    s->pfds[w->slot].events = to_poll(want);
    return WP_OK;
}

static void pl_del(struct loop *l, struct watch *w)
{
    struct poll_state *s = l->be_state;
    size_t i = w->slot;
    s->n--;
    if (i != s->n) {
        s->pfds[i] = s->pfds[s->n];
        s->ws[i] = s->ws[s->n];
        s->ws[i]->slot = i;
    }
    w->slot = SIZE_MAX;
}

static wp_status pl_wait(struct loop *l, int timeout_ms, wp_err *err)
{
    struct poll_state *s = l->be_state;
    int n = poll(s->pfds, (nfds_t)s->n, timeout_ms);
    if (n < 0) {
        if (errno == EINTR)
            return WP_OK;
        return err_sys(err, errno, "poll");
    }
    size_t nready = 0;
    for (size_t i = 0; i < s->n && nready < (size_t)n; i++) {
        short re = s->pfds[i].revents;
        if (!re)
            continue;
        uint32_t rev = 0;
        if (re & POLLIN)
            rev |= LOOP_IN;
        if (re & POLLOUT)
            rev |= LOOP_OUT;
        if (re & (POLLERR | POLLHUP | POLLNVAL))
            rev |= LOOP_ERR;
        s->ready[nready] = s->ws[i];
        s->ready_ev[nready] = rev;
        nready++;
    }
    for (size_t i = 0; i < nready; i++) {
        struct watch *w = s->ready[i];
        if (w->is_added)
            w->fn(w, s->ready_ev[i]);
    }
    return WP_OK;
}

static void pl_fini(struct loop *l)
{
    struct poll_state *s = l->be_state;
    if (!s)
        return;
    wp_free(s->pfds);
    wp_free(s->ws);
    wp_free(s->ready);
    wp_free(s->ready_ev);
    wp_free(s);
    l->be_state = NULL;
}

static wp_status pl_init(struct loop *l, wp_err *err)
{
    struct poll_state *s = wp_calloc(1, sizeof *s);
    if (!s)
        return err_set(err, WP_ENOMEM, "poll state");
    l->be_state = s;
    return WP_OK;
}

const struct loop_backend loop_backend_poll = {
    .name = "poll",
    .init = pl_init,
    .fini = pl_fini,
    .add = pl_add,
    .mod = pl_mod,
    .del = pl_del,
    .wait = pl_wait,
    .arm = NULL,
    .fd = NULL,
};

/*
 * Unit tests of the event loop under a context (src/runtime/loop.c and the
 * epoll and poll backends): timer ordering, re-arming and cancelling from
 * callbacks, fd watches on pipes, the cross-thread wake-up, and the
 * aggregate epoll fd that an application polls.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "internal.h"

#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "runtime/loop.h"

#define N_TIMERS 500

struct tcase {
    struct timer t;
    int id;
};

static int g_fired[N_TIMERS * 2];
static int g_nfired;
static struct loop *g_loop;

static void on_fire(struct timer *t, int64_t now)
{
    (void)now;
    struct tcase *tc = (struct tcase *)(void *)t;
    g_fired[g_nfired++] = tc->id;
}

static const enum loop_kind k_kinds[] = {LOOP_KIND_EPOLL, LOOP_KIND_POLL};

/* Random deadlines, some cancelled, some moved: fire in (deadline, arming order). */
static void test_timer_order(void **state)
{
    (void)state;
    struct loop l;
    static struct tcase tc[N_TIMERS];
    static int64_t when[N_TIMERS];
    static bool live[N_TIMERS];
    assert_int_equal(loop_init(&l, LOOP_KIND_POLL, NULL), WP_OK);
    srand(7);
    for (int i = 0; i < N_TIMERS; i++) {
        timer_init(&tc[i].t, on_fire);
        tc[i].id = i;
        when[i] = rand() % 50; /* many equal deadlines */
        live[i] = true;
        assert_int_equal(timer_arm(&l, &tc[i].t, when[i]), WP_OK);
    }
    /* Cancel every 7th; re-arm every 11th (a moved timer is last among equal deadlines). */
    static int order_seq[N_TIMERS];
    int seq = N_TIMERS;
    for (int i = 0; i < N_TIMERS; i++)
        order_seq[i] = i;
    for (int i = 0; i < N_TIMERS; i++) {
        if (i % 7 == 0) {
            timer_disarm(&l, &tc[i].t);
            assert_false(timer_is_armed(&tc[i].t));
            live[i] = false;
        } else if (i % 11 == 0) {
            int64_t w = rand() % 50;
            assert_int_equal(timer_arm(&l, &tc[i].t, w), WP_OK);
            /* Re-arming at the same deadline keeps the timer's place. */
            if (w != when[i])
                order_seq[i] = seq++;
            when[i] = w;
        }
    }
    assert_int_equal(loop_next_deadline(&l) >= 0, true);
    g_nfired = 0;
    loop_run_timers(&l, 24);
    int first = g_nfired;
    loop_run_timers(&l, 1000);
    int expect = 0;
    for (int i = 0; i < N_TIMERS; i++)
        expect += live[i];
    assert_int_equal(g_nfired, expect);
    for (int k = 0; k < g_nfired; k++) {
        int i = g_fired[k];
        assert_true(live[i]);
        assert_true(k < first ? when[i] <= 24 : when[i] > 24);
        if (k > 0) {
            int p = g_fired[k - 1];
            assert_true(when[p] < when[i] || (when[p] == when[i] && order_seq[p] < order_seq[i]));
        }
    }
    assert_int_equal(loop_next_deadline(&l), -1);
    assert_int_equal(loop_timeout_from(&l, 0), -1);
    loop_fini(&l);
}

static int g_rearms;

/* A callback that re-arms itself in the past runs in the next pass, not forever. */
static void on_rearm(struct timer *t, int64_t now)
{
    g_rearms++;
    assert_int_equal(timer_arm(g_loop, t, now - 5), WP_OK);
}

static void test_timer_rearm_in_callback(void **state)
{
    (void)state;
    struct loop l;
    struct timer t;
    assert_int_equal(loop_init(&l, LOOP_KIND_EPOLL, NULL), WP_OK);
    g_loop = &l;
    timer_init(&t, on_rearm);
    assert_int_equal(timer_arm(&l, &t, 10), WP_OK);
    g_rearms = 0;
    loop_run_timers(&l, 100);
    assert_int_equal(g_rearms, 1);
    assert_int_equal(loop_timeout_from(&l, 100), 0); /* due again: wait 0 */
    loop_run_timers(&l, 100);
    assert_int_equal(g_rearms, 2);
    timer_disarm(&l, &t);
    loop_fini(&l);
}

struct pipe_watch {
    struct watch w;
    int hits;
    uint32_t last;
};

static void on_pipe(struct watch *w, uint32_t rev)
{
    struct pipe_watch *p = (struct pipe_watch *)(void *)w;
    p->hits++;
    p->last = rev;
    char buf[64];
    if (rev & LOOP_IN)
        assert_true(read(w->fd, buf, sizeof buf) >= 0);
}

/* Watches on a pipe: IN when written, OUT on the write end, nothing when removed. */
static void test_watch_pipe(void **state)
{
    (void)state;
    for (size_t k = 0; k < WP_ARRAY_LEN(k_kinds); k++) {
        struct loop l;
        struct pipe_watch r = {0}, w = {0};
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        assert_int_equal(loop_init(&l, k_kinds[k], NULL), WP_OK);
        assert_int_equal(loop_add(&l, &r.w, fds[0], LOOP_IN, on_pipe, NULL), WP_OK);
        assert_int_equal(loop_add(&l, &w.w, fds[1], 0, on_pipe, NULL), WP_OK);
        assert_int_equal(loop_wait(&l, 0, NULL), WP_OK);
        assert_int_equal(r.hits + w.hits, 0);
        assert_int_equal(write(fds[1], "x", 1), 1);
        assert_int_equal(loop_wait(&l, 1000, NULL), WP_OK);
        assert_int_equal(r.hits, 1);
        assert_true(r.last & LOOP_IN);
        assert_int_equal(loop_mod(&l, &w.w, LOOP_OUT, NULL), WP_OK);
        assert_int_equal(loop_wait(&l, 1000, NULL), WP_OK);
        assert_int_equal(w.hits, 1);
        assert_true(w.last & LOOP_OUT);
        loop_del(&l, &w.w);
        loop_del(&l, &w.w); /* idempotent */
        assert_int_equal(write(fds[1], "y", 1), 1);
        assert_int_equal(loop_wait(&l, 1000, NULL), WP_OK);
        assert_int_equal(w.hits, 1);
        assert_int_equal(r.hits, 2);
        loop_del(&l, &r.w);
        loop_fini(&l);
        close(fds[0]);
        close(fds[1]);
    }
}

static void *waker(void *arg)
{
    struct loop *l = arg;
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    loop_wake(l);
    return NULL;
}

/* Another thread's loop_wake ends a wait that would otherwise last 10 s. */
static void test_wake_from_thread(void **state)
{
    (void)state;
    for (size_t k = 0; k < WP_ARRAY_LEN(k_kinds); k++) {
        struct loop l;
        pthread_t th;
        assert_int_equal(loop_init(&l, k_kinds[k], NULL), WP_OK);
        int64_t t0 = loop_now_ms();
        assert_int_equal(pthread_create(&th, NULL, waker, &l), 0);
        assert_int_equal(loop_wait(&l, 10000, NULL), WP_OK);
        assert_true(loop_now_ms() - t0 < 5000);
        pthread_join(th, NULL);
        /* The wake-up was consumed: the next poll returns at once, no spin. */
        assert_int_equal(loop_wait(&l, 0, NULL), WP_OK);
        loop_fini(&l);
    }
}

/* The epoll fd becomes readable at the armed deadline (an application polls it). */
static void test_aggregate_fd_timer(void **state)
{
    (void)state;
    struct loop l;
    struct timer t;
    assert_int_equal(loop_init(&l, LOOP_KIND_EPOLL, NULL), WP_OK);
    int fd = loop_fd(&l);
    assert_true(fd >= 0);
    timer_init(&t, on_fire);
    int64_t t0 = loop_now_ms();
    assert_int_equal(timer_arm(&l, &t, t0 + 80), WP_OK);
    loop_arm_fd(&l);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 0), 0); /* not yet */
    assert_int_equal(poll(&p, 1, 5000), 1);
    assert_true(loop_now_ms() - t0 >= 79);
    assert_int_equal(loop_wait(&l, 0, NULL), WP_OK); /* drains the timerfd */
    timer_disarm(&l, &t);
    loop_arm_fd(&l);
    assert_int_equal(poll(&p, 1, 0), 0);
    struct loop lp;
    assert_int_equal(loop_init(&lp, LOOP_KIND_POLL, NULL), WP_OK);
    assert_int_equal(loop_fd(&lp), -1);
    loop_fini(&lp);
    loop_fini(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timer_order),
        cmocka_unit_test(test_timer_rearm_in_callback),
        cmocka_unit_test(test_watch_pipe),
        cmocka_unit_test(test_wake_from_thread),
        cmocka_unit_test(test_aggregate_fd_timer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

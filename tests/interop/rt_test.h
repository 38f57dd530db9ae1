/*
 * rt_test.h - helpers for runtime tests over real loopback sockets:
 * throw-away identities, contexts driven from the test thread through the
 * external-loop API (wp_ctx_fd / wp_ctx_timeout_ms / wp_ctx_process), and
 * an event recorder.
 */
#ifndef WP_TEST_RT_TEST_H
#define WP_TEST_RT_TEST_H

#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "wipeer.h"

#define RT_MAX_CONNS 8

struct rec {
    int trust_answer; /* returned for WP_EV_PEER_IDENTITY */
    bool close_on_peer_closed;
    bool close_after_auth;
    int n_connected, n_peer_id, n_auth, n_msgs, n_writable, n_peer_closed, n_closed;
    int n_listener_failed;
    wp_listener *failed_listener; /* from the last LISTENER_FAILED */
    wp_conn *conn;             /* the latest connection seen */
    wp_conn *deferred;         /* the connection waiting for a trust answer */
    wp_fingerprint peer_fp;    /* from AUTHENTICATED */
    wp_status reason;          /* of the last CLOSED */
    char detail[WP_ERROR_DETAIL_MAX];
    uint8_t *rx;               /* all messages, concatenated */
    size_t rx_len, rx_cap;
    size_t *lens;              /* each message's length */
    size_t lens_cap;
    int order_errors;          /* events in an impossible order */
};

static inline void rec_init(struct rec *r, int trust_answer)
{
    memset(r, 0, sizeof *r);
    r->trust_answer = trust_answer;
    r->reason = (wp_status)-1;
}

static inline void rec_clear(struct rec *r)
{
    free(r->rx);
    free(r->lens);
}

static inline int rec_on_event(const wp_event *ev, void *user)
{
    struct rec *r = user;
    if (ev->type == WP_EV_LISTENER_FAILED) {
        /* No connection: r->conn stays. */
        r->n_listener_failed++;
        r->failed_listener = ev->listener;
        r->reason = ev->reason;
        snprintf(r->detail, sizeof r->detail, "%s", ev->detail);
        if (ev->conn)
            r->order_errors++;
        return 0;
    }
    r->conn = ev->conn;
    switch (ev->type) {
    case WP_EV_CONNECTED:
        r->n_connected++;
        break;
    case WP_EV_PEER_IDENTITY:
        r->n_peer_id++;
        if (!ev->has_peer)
            r->order_errors++;
        if (r->trust_answer == WP_TRUST_DEFER)
            r->deferred = ev->conn;
        return r->trust_answer;
    case WP_EV_AUTHENTICATED:
        r->n_auth++;
        r->peer_fp = ev->peer_fingerprint;
        if (!ev->has_peer)
            r->order_errors++;
        if (r->close_after_auth)
            assert_int_equal(wp_conn_close(ev->conn), WP_OK);
        break;
    case WP_EV_MESSAGE:
        if (r->n_auth == 0)
            r->order_errors++;
        if (r->rx_len + ev->len > r->rx_cap) {
            r->rx_cap = (r->rx_len + ev->len) * 2 + 1024;
            r->rx = realloc(r->rx, r->rx_cap);
            assert_non_null(r->rx);
        }
        if (ev->len)
            memcpy(r->rx + r->rx_len, ev->data, ev->len);
        r->rx_len += ev->len;
        if ((size_t)r->n_msgs == r->lens_cap) {
            r->lens_cap = r->lens_cap * 2 + 64;
            r->lens = realloc(r->lens, r->lens_cap * sizeof *r->lens);
            assert_non_null(r->lens);
        }
        r->lens[r->n_msgs++] = ev->len;
        break;
    case WP_EV_WRITABLE:
        r->n_writable++;
        break;
    case WP_EV_PEER_CLOSED:
        r->n_peer_closed++;
        if (r->close_on_peer_closed)
            assert_int_equal(wp_conn_close(ev->conn), WP_OK);
        break;
    case WP_EV_LISTENER_FAILED:
        break; /* handled above */
    case WP_EV_CLOSED:
        r->n_closed++;
        r->reason = ev->reason;
        snprintf(r->detail, sizeof r->detail, "%s", ev->detail);
        if (r->deferred == ev->conn)
            r->deferred = NULL;
        r->conn = NULL;
        break;
    }
    return 0;
}

/* A fresh identity in a new temporary home. */
static inline wp_identity *rt_identity(char home[64])
{
    wp_identity *id = NULL;
    wp_error err;
    snprintf(home, 64, "/tmp/wp-rt-XXXXXX");
    assert_non_null(mkdtemp(home));
    wp_status st = wp_identity_open(home, NULL, WP_IDENTITY_CREATE, &id, NULL, &err);
    if (st != WP_OK)
        fail_msg("identity: %s (%s)", wp_strerror(st), err.detail);
    return id;
}

static inline void rt_identity_free(wp_identity *id, const char *home)
{
    char path[128];
    wp_identity_free(id);
    snprintf(path, sizeof path, "%s/%s", home, WP_IDENTITY_FILENAME);
    unlink(path);
    rmdir(home);
}

static inline wp_ctx *rt_ctx(const wp_identity *id, struct rec *r, wp_loop_backend be)
{
    wp_ctx_config cfg;
    wp_ctx *ctx = NULL;
    wp_error err;
    wp_ctx_config_init(&cfg);
    cfg.identity = id;
    cfg.on_event = rec_on_event;
    cfg.user = r;
    cfg.backend = be;
    wp_status st = wp_ctx_new(&cfg, &ctx, &err);
    if (st != WP_OK)
        fail_msg("ctx: %s (%s)", wp_strerror(st), err.detail);
    return ctx;
}

static inline int64_t rt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Drive up to two epoll contexts from this thread until cond(arg) holds or
 * timeout_ms passes; returns whether cond held. The application-loop API in
 * action: poll the fds, wait at most wp_ctx_timeout_ms, then process.
 */
static inline bool rt_run(wp_ctx *a, wp_ctx *b, bool (*cond)(void *), void *arg, int timeout_ms)
{
    int64_t end = rt_now_ms() + timeout_ms;
    for (;;) {
        if (cond(arg))
            return true;
        int64_t now = rt_now_ms();
        if (now >= end)
            return false;
        struct pollfd p[2];
        int n = 0, t = (int)(end - now);
        wp_ctx *cs[2] = {a, b};
        for (int i = 0; i < 2; i++) {
            if (!cs[i])
                continue;
            int ct = wp_ctx_timeout_ms(cs[i]);
            if (ct >= 0 && ct < t)
                t = ct;
            p[n].fd = wp_ctx_fd(cs[i]);
            p[n].events = POLLIN;
            n++;
        }
        if (poll(p, (nfds_t)n, t) < 0 && errno != EINTR)
            fail_msg("poll: %s", strerror(errno));
        for (int i = 0; i < 2; i++)
            if (cs[i])
                assert_int_equal(wp_ctx_process(cs[i]), WP_OK);
    }
}

/* Deterministic test bytes: message i, offset j. */
static inline uint8_t rt_byte(size_t i, size_t j)
{
    uint64_t x = (uint64_t)i * 0x9E3779B97F4A7C15ull + j * 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    return (uint8_t)(x * 0x94D049BB133111EBull >> 56);
}

#endif

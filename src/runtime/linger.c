/*
 * linger.c - lingering close of a failed connection's socket.
 *
 * When a connection fails (a record that does not authenticate, a protocol
 * error, a refused identity), the engine's last words are one alert
 * (docs/PROTOCOL.md §6.3). Closing a socket that still has unread input
 * makes the kernel send RST, which can destroy that alert before the peer
 * reads it. So the socket is handed here instead: FIN after the alert, then
 * whatever the peer still sends is read and dropped until it closes too or
 * RT_GRAVE_MS passes (the same idea as Apache's lingering_close). The
 * wp_conn itself is already gone; only the fd and this small record live on.
 */
#include "internal.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/rt.h"

struct grave {
    struct grave *next; /* ctx->graves, or ctx->dead_graves once closed */
    struct wp_ctx *ctx;
    struct watch w;
    struct timer t;
    bool is_closed;
};

static void bury(struct grave *g)
{
    struct wp_ctx *ctx = g->ctx;
    if (g->is_closed)
        return;
    g->is_closed = true;
    loop_del(&ctx->loop, &g->w);
    timer_disarm(&ctx->loop, &g->t);
    close(g->w.fd);
    g->w.fd = -1;
    for (struct grave **pp = &ctx->graves; *pp; pp = &(*pp)->next) {
        if (*pp == g) {
            *pp = g->next;
            break;
        }
    }
    /* An I/O batch may still name its watch: free at the end of the iteration. */
    g->next = ctx->dead_graves;
    ctx->dead_graves = g;
}

static void on_grave_io(struct watch *w, uint32_t revents)
{
    WP_UNUSED(revents);
    struct grave *g = RT_CONTAINER(w, struct grave, w);
    uint8_t sink[16384];
    for (int i = 0; i < 64; i++) {
        ssize_t n = recv(w->fd, sink, sizeof sink, 0);
        if (n > 0)
            continue;
        if (n < 0 && (errno == EINTR))
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        break; /* EOF or error: the peer is done */
    }
    bury(g);
}

static void on_grave_timer(struct timer *t, int64_t now_ms)
{
    WP_UNUSED(now_ms);
    bury(RT_CONTAINER(t, struct grave, t));
}

void linger_socket(struct wp_ctx *ctx, int fd)
{
    wp_err err;
    struct grave *g = wp_calloc(1, sizeof *g);
    (void)shutdown(fd, SHUT_WR);
    if (!g)
        goto close_now;
    g->ctx = ctx;
    timer_init(&g->t, on_grave_timer);
    if (loop_add(&ctx->loop, &g->w, fd, LOOP_IN, on_grave_io, &err) != WP_OK)
        goto close_now;
    if (timer_arm(&ctx->loop, &g->t, loop_now_ms() + RT_GRAVE_MS) != WP_OK) {
        loop_del(&ctx->loop, &g->w);
        goto close_now;
    }
    g->next = ctx->graves;
    ctx->graves = g;
    return;
close_now:
    wp_free(g);
    close(fd);
}

void linger_reap(struct wp_ctx *ctx, bool close_all)
{
    if (close_all)
        while (ctx->graves)
            bury(ctx->graves);
    while (ctx->dead_graves) {
        struct grave *g = ctx->dead_graves;
        ctx->dead_graves = g->next;
        wp_free(g);
    }
}

/*
 * bench_rt_rtt - 64-byte request/response round trips over one loopback
 * connection: wipeer against raw TCP with TCP_NODELAY (blocking write +
 * read). wipeer runs two ways: on its own loop thread (wp_ctx_start; the
 * callbacks answer on that thread) and in the application's poll loop
 * (wp_ctx_fd + wp_ctx_timeout_ms + wp_ctx_process, one more syscall per
 * message: the application's poll before the loop's epoll_wait). Median
 * and 99th percentile over N, for "same CPU" and "split". For context,
 * OpenSSL TLS 1.3 (blocking SSL_write + SSL_read) against the same raw TCP.
 *   bench_rt_rtt [round trips, default 20000]
 * For profiling (e.g. valgrind --tool=callgrind), WP_BENCH_RTT_ONLY=thread
 * or =loop runs only that wipeer mode, same CPU, and prints nothing else.
 */
#include "bench_net.h"

#include <pthread.h>

#define MSG 64

struct rtt {
    int n;
    bool use_thread; /* wp_ctx_start instead of the application loop */
    struct wp_home homes;
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median and 99th percentile of the samples, in microseconds. */
static void stats(double *v, int n, double out[2])
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    out[0] = v[n / 2] * 1e6;
    out[1] = v[(n * 99) / 100] * 1e6;
}

/* ---------------------------------------------------------------- raw */

static void raw_server(int out, uint16_t port_unused, void *arg)
{
    (void)port_unused;
    (void)arg;
    uint16_t port;
    char buf[MSG];
    int lfd = tcp_listen(&port);
    put_port(out, port);
    int fd = accept(lfd, NULL, NULL);
    nodelay(fd);
    for (;;) {
        ssize_t got = 0;
        while (got < MSG) {
            ssize_t r = read(fd, buf + got, (size_t)(MSG - got));
            if (r <= 0)
                goto done;
            got += r;
        }
        write_full(fd, buf, MSG);
    }
done:
    close(fd);
    close(lfd);
}

static void raw_client(int out, uint16_t port, void *arg)
{
    struct rtt *r = arg;
    char buf[MSG];
    double *s = malloc((size_t)r->n * sizeof *s), res[2];
    memset(buf, 1, sizeof buf);
    int fd = tcp_connect(port);
    for (int i = 0; i < r->n; i++) {
        double t0 = now_s();
        write_full(fd, buf, MSG);
        read_full(fd, buf, MSG);
        s[i] = now_s() - t0;
    }
    close(fd);
    stats(s, r->n, res);
    put_doubles(out, res, 2);
    free(s);
}

/* ---------------------------------------------------------------- TLS */

static void tls_server(int out, uint16_t port_unused, void *arg)
{
    (void)port_unused;
    (void)arg;
    uint16_t port;
    char buf[MSG];
    int lfd = tcp_listen(&port);
    SSL_CTX *ctx = tls_ctx(true);
    put_port(out, port);
    int fd = accept(lfd, NULL, NULL);
    nodelay(fd);
    SSL *s = tls_wrap(ctx, fd, true);
    while (SSL_read(s, buf, MSG) == MSG)
        if (SSL_write(s, buf, MSG) != MSG)
            break;
    SSL_free(s);
    SSL_CTX_free(ctx);
    close(fd);
    close(lfd);
}

static void tls_client(int out, uint16_t port, void *arg)
{
    struct rtt *r = arg;
    char buf[MSG];
    double *v = malloc((size_t)r->n * sizeof *v), res[2];
    memset(buf, 1, sizeof buf);
    int fd = tcp_connect(port);
    SSL_CTX *ctx = tls_ctx(false);
    SSL *s = tls_wrap(ctx, fd, false);
    for (int i = 0; i < r->n; i++) {
        double t0 = now_s();
        if (SSL_write(s, buf, MSG) != MSG || SSL_read(s, buf, MSG) != MSG)
            die("TLS round trip");
        v[i] = now_s() - t0;
    }
    SSL_free(s);
    SSL_CTX_free(ctx);
    close(fd);
    stats(v, r->n, res);
    put_doubles(out, res, 2);
    free(v);
}

/* ---------------------------------------------------------------- wipeer */

struct wstate {
    struct rtt *r;
    bool done;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int i;
    double t0;
    double *s;
    uint8_t msg[MSG];
};

static void finish(struct wstate *w)
{
    pthread_mutex_lock(&w->mu);
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* Run ctx until done: on its own thread, or in this thread's poll loop. */
static void run(struct wstate *w, wp_ctx *ctx)
{
    if (!w->r->use_thread) {
        wp_bench_run(ctx, &w->done);
        return;
    }
    if (wp_ctx_start(ctx) != WP_OK)
        die("start");
    pthread_mutex_lock(&w->mu);
    while (!w->done)
        pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
    if (wp_ctx_stop(ctx) != WP_OK)
        die("stop");
}

static int on_server(const wp_event *ev, void *user)
{
    struct wstate *w = user;
    switch (ev->type) {
    case WP_EV_PEER_IDENTITY:
        return WP_TRUST_ACCEPT;
    case WP_EV_MESSAGE:
        if (wp_conn_send(ev->conn, ev->data, ev->len) != WP_OK)
            die("echo");
        break;
    case WP_EV_PEER_CLOSED:
        if (wp_conn_close(ev->conn) != WP_OK)
            die("close");
        break;
    case WP_EV_CLOSED:
        finish(w);
        break;
    default:
        break;
    }
    return 0;
}

static void ping(struct wstate *w, wp_conn *c)
{
    w->t0 = now_s();
    if (wp_conn_send(c, w->msg, MSG) != WP_OK)
        die("send");
}

static int on_client(const wp_event *ev, void *user)
{
    struct wstate *w = user;
    switch (ev->type) {
    case WP_EV_PEER_IDENTITY:
        return WP_TRUST_ACCEPT;
    case WP_EV_AUTHENTICATED:
        ping(w, ev->conn);
        break;
    case WP_EV_MESSAGE:
        w->s[w->i++] = now_s() - w->t0;
        if (w->i < w->r->n)
            ping(w, ev->conn);
        else if (wp_conn_close(ev->conn) != WP_OK)
            die("close");
        break;
    case WP_EV_CLOSED:
        if (ev->reason != WP_OK)
            die("client: %s", wp_strerror(ev->reason));
        finish(w);
        break;
    default:
        break;
    }
    return 0;
}

static void wp_server(int out, uint16_t port_unused, void *arg)
{
    (void)port_unused;
    struct wstate w = {.r = arg, .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    wp_identity *id;
    wp_ctx *ctx = wp_bench_ctx(w.r->homes.server, on_server, &w, &id);
    wp_bench_listen(ctx, out);
    run(&w, ctx);
    wp_ctx_free(ctx);
    wp_identity_free(id);
}

static void wp_client(int out, uint16_t port, void *arg)
{
    struct wstate w = {.r = arg, .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    wp_identity *id;
    wp_conn *c;
    double res[2];
    w.s = malloc((size_t)w.r->n * sizeof *w.s);
    memset(w.msg, 1, sizeof w.msg);
    wp_ctx *ctx = wp_bench_ctx(w.r->homes.client, on_client, &w, &id);
    if (wp_connect(ctx, "127.0.0.1", port, NULL, &c, NULL) != WP_OK)
        die("connect");
    run(&w, ctx);
    stats(w.s, w.r->n, res);
    put_doubles(out, res, 2);
    wp_ctx_free(ctx);
    wp_identity_free(id);
    free(w.s);
}

int main(int argc, char **argv)
{
    struct rtt r;
    memset(&r, 0, sizeof r);
    r.n = count_arg(argc, argv, 20000, 100, "round trips");
    wp_homes(&r.homes);
    signal(SIGPIPE, SIG_IGN);
    const char *only = getenv("WP_BENCH_RTT_ONLY");
    if (only && *only) {
        double w[2];
        r.use_thread = strcmp(only, "loop") != 0;
        run_pair(wp_server, wp_client, &r, &k_places[0], NULL, 0, w, 2);
        printf("%s: median %.1f us, p99 %.1f us\n", r.use_thread ? "thread" : "loop", w[0], w[1]);
        wp_homes_remove(&r.homes);
        return 0;
    }
    printf("64-byte request/response, %d round trips (microseconds; ratio of medians)\n", r.n);
    printf("  %-34s %-9s %12s %12s\n", "", "placement", "wipeer", "raw TCP");
    for (size_t p = 0; p < n_places(); p++) {
        double raw[2], tls[2], wt[2], wl[2];
        run_pair(raw_server, raw_client, &r, &k_places[p], NULL, 0, raw, 2);
        run_pair(tls_server, tls_client, &r, &k_places[p], NULL, 0, tls, 2);
        r.use_thread = true;
        run_pair(wp_server, wp_client, &r, &k_places[p], NULL, 0, wt, 2);
        r.use_thread = false;
        run_pair(wp_server, wp_client, &r, &k_places[p], NULL, 0, wl, 2);
        print_ratio_row("median, wp_ctx_start thread", k_places[p].name, wt[0], raw[0], "us");
        print_ratio_row("p99, wp_ctx_start thread", k_places[p].name, wt[1], raw[1], "us");
        print_ratio_row("median, application poll loop", k_places[p].name, wl[0], raw[0], "us");
        print_ratio_row("p99, application poll loop", k_places[p].name, wl[1], raw[1], "us");
        print_ratio_row("(context: TLS 1.3 median vs raw)", k_places[p].name, tls[0], raw[0], "us");
    }
    wp_homes_remove(&r.homes);
    return 0;
}

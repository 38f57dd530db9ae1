/*
 * bench_rt_bulk - bulk throughput over one loopback connection: wipeer
 * against raw TCP and against OpenSSL TLS 1.3 (TLS_AES_256_GCM_SHA384,
 * P-256, mutual ECDSA P-256 authentication), with the same buffer sizes.
 * The client sends N bytes in writes (messages) of B bytes and closes; the
 * time runs from the end of the handshake until the server's close
 * arrives, so every byte was received. Each figure for "same CPU" and
 * "split" placement; also the CPU time both processes spent per GB (less
 * sensitive than wall time to other load on the machine).
 *   bench_rt_bulk [MiB per run, default 512]
 */
#include "bench_net.h"

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

struct bulk {
    size_t total;
    size_t chunk;
    int kind; /* 0 raw, 1 TLS, 2 wipeer */
    struct wp_home homes;
};

/* ---------------------------------------------------------------- raw, TLS */

static void raw_tls_server(int out, uint16_t port_unused, void *arg)
{
    (void)port_unused;
    struct bulk *b = arg;
    uint16_t port;
    int lfd = tcp_listen(&port);
    put_port(out, port);
    SSL_CTX *ctx = b->kind == 1 ? tls_ctx(true) : NULL;
    int fd = accept(lfd, NULL, NULL);
    report_cpu("server", sched_getcpu());
    char *buf = malloc(b->chunk);
    if (b->kind == 0) {
        while (read(fd, buf, b->chunk) > 0) {
        }
    } else {
        SSL *s = tls_wrap(ctx, fd, true);
        while (SSL_read(s, buf, (int)b->chunk) > 0) {
        }
        SSL_shutdown(s);
        SSL_free(s);
        SSL_CTX_free(ctx);
    }
    close(fd);
    close(lfd);
    free(buf);
    double c = cpu_s();
    put_doubles(out, &c, 1);
}

static void raw_tls_client(int out, uint16_t port, void *arg)
{
    struct bulk *b = arg;
    char *buf = malloc(b->chunk);
    memset(buf, 0x5a, b->chunk);
    int fd = tcp_connect(port);
    SSL_CTX *ctx = NULL;
    SSL *s = NULL;
    if (b->kind == 1) {
        ctx = tls_ctx(false);
        s = tls_wrap(ctx, fd, false);
    }
    double t0 = now_s();
    for (size_t sent = 0; sent < b->total; sent += b->chunk) {
        if (b->kind == 0)
            write_full(fd, buf, b->chunk);
        else if (SSL_write(s, buf, (int)b->chunk) != (int)b->chunk)
            die("SSL_write");
    }
    if (b->kind == 0) {
        shutdown(fd, SHUT_WR);
        while (read(fd, buf, b->chunk) > 0) {
        }
    } else {
        SSL_shutdown(s);
        while (SSL_read(s, buf, (int)b->chunk) > 0) {
        }
        SSL_free(s);
        SSL_CTX_free(ctx);
    }
    double r[2] = {now_s() - t0, cpu_s()};
    close(fd);
    free(buf);
    put_doubles(out, r, 2);
}

/* ---------------------------------------------------------------- wipeer */

struct wstate {
    struct bulk *b;
    bool done;
    size_t sent, received;
    uint8_t *buf;
    double t0, t1;
    wp_status reason;
};

static void pump_sends(struct wstate *w, wp_conn *conn)
{
    while (w->sent < w->b->total) {
        wp_status st = wp_conn_send(conn, w->buf, w->b->chunk);
        if (st == WP_EFULL)
            return;
        if (st != WP_OK)
            die("send: %s", wp_strerror(st));
        w->sent += w->b->chunk;
    }
    if (wp_conn_close(conn) != WP_OK)
        die("close");
}

static int on_client(const wp_event *ev, void *user)
{
    struct wstate *w = user;
    switch (ev->type) {
    case WP_EV_PEER_IDENTITY:
        return WP_TRUST_ACCEPT;
    case WP_EV_AUTHENTICATED:
        w->t0 = now_s();
        pump_sends(w, ev->conn);
        break;
    case WP_EV_WRITABLE:
        pump_sends(w, ev->conn);
        break;
    case WP_EV_CLOSED:
        w->t1 = now_s();
        w->reason = ev->reason;
        w->done = true;
        break;
    default:
        break;
    }
    return 0;
}

static int on_server(const wp_event *ev, void *user)
{
    struct wstate *w = user;
    switch (ev->type) {
    case WP_EV_PEER_IDENTITY:
        return WP_TRUST_ACCEPT;
    case WP_EV_MESSAGE:
        w->received += ev->len;
        break;
    case WP_EV_PEER_CLOSED:
        if (wp_conn_close(ev->conn) != WP_OK)
            die("close");
        break;
    case WP_EV_CLOSED:
        w->reason = ev->reason;
        w->done = true;
        break;
    default:
        break;
    }
    return 0;
}

static void wp_server(int out, uint16_t port_unused, void *arg)
{
    (void)port_unused;
    struct wstate w = {.b = arg};
    wp_identity *id;
    wp_ctx *ctx = wp_bench_ctx(w.b->homes.server, on_server, &w, &id);
    wp_bench_listen(ctx, out);
    wp_bench_run(ctx, &w.done);
    if (w.reason != WP_OK || w.received != w.b->total)
        die("server: %s, %zu of %zu bytes", wp_strerror(w.reason), w.received, w.b->total);
    wp_ctx_free(ctx);
    wp_identity_free(id);
    double c = cpu_s();
    put_doubles(out, &c, 1);
}

static void wp_client(int out, uint16_t port, void *arg)
{
    struct wstate w = {.b = arg};
    wp_identity *id;
    wp_conn *c;
    wp_conn_opts o;
    w.buf = malloc(w.b->chunk);
    memset(w.buf, 0x5a, w.b->chunk);
    wp_ctx *ctx = wp_bench_ctx(w.b->homes.client, on_client, &w, &id);
    wp_conn_opts_init(&o);
    if (wp_connect(ctx, "127.0.0.1", port, &o, &c, NULL) != WP_OK)
        die("connect");
    wp_bench_run(ctx, &w.done);
    if (w.reason != WP_OK)
        die("client: %s", wp_strerror(w.reason));
    double r[2] = {w.t1 - w.t0, cpu_s()};
    put_doubles(out, r, 2);
    wp_ctx_free(ctx);
    wp_identity_free(id);
    free(w.buf);
}

/* ---------------------------------------------------------------- main */

/* MB/s, and CPU seconds (both processes) per GB moved. */
static void run_once(struct bulk *b, const struct placement *pl, double *mbps, double *cpu_per_gb)
{
    double cli[2], srv;
    if (b->kind == 2)
        run_pair(wp_server, wp_client, b, pl, &srv, 1, cli, 2);
    else
        run_pair(raw_tls_server, raw_tls_client, b, pl, &srv, 1, cli, 2);
    *mbps = (double)b->total / cli[0] / 1e6;
    *cpu_per_gb = (cli[1] + srv) / ((double)b->total / 1e9);
}

int main(int argc, char **argv)
{
    struct bulk b;
    size_t mib = argc > 1 ? (size_t)atol(argv[1]) : 512;
    static const size_t chunks[] = {16384, 65536};
    memset(&b, 0, sizeof b);
    b.total = mib << 20;
    /* For profiling: WP_BENCH_ONLY_WIPEER=1 skips the anchors (ratios are then meaningless). */
    bool only_wipeer = getenv("WP_BENCH_ONLY_WIPEER") != NULL;
    wp_homes(&b.homes);
    signal(SIGPIPE, SIG_IGN);
    printf("bulk throughput, %zu MiB per run, one loopback connection (MB/s; best of 3)\n", mib);
    printf("  %-34s %-9s %12s %12s\n", "", "placement", "wipeer", "anchor");
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        b.chunk = chunks[c];
        for (size_t p = 0; p < n_places(); p++) {
            double best[3] = {0, 0, 0}, cpu[3] = {1e9, 1e9, 1e9};
            for (int rep = 0; rep < 3; rep++) {
                for (int k = only_wipeer ? 2 : 0; k < 3; k++) {
                    double v, cs;
                    b.kind = k;
                    run_once(&b, &k_places[p], &v, &cs);
                    if (v > best[k])
                        best[k] = v;
                    if (cs < cpu[k])
                        cpu[k] = cs;
                }
            }
            char what[64];
            snprintf(what, sizeof what, "vs raw TCP, %zu KiB writes", b.chunk / 1024);
            print_ratio_row(what, k_places[p].name, best[2], best[0], "MB/s");
            snprintf(what, sizeof what, "vs TLS 1.3 AES-256-GCM, %zu KiB", b.chunk / 1024);
            print_ratio_row(what, k_places[p].name, best[2], best[1], "MB/s");
            snprintf(what, sizeof what, "CPU ms/GB, both ends, vs TLS %zu KiB", b.chunk / 1024);
            print_ratio_row(what, k_places[p].name, cpu[2] * 1000, cpu[1] * 1000, "ms/GB");
        }
    }
    wp_homes_remove(&b.homes);
    return 0;
}

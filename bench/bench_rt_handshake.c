/*
 * bench_rt_handshake - full handshakes per second through real loopback
 * sockets, one after another: wipeer (P-256 ECDH, ECDSA P-256 mutual
 * authentication, AES-256-GCM) against OpenSSL TLS 1.3 with mutual
 * authentication (ECDSA P-256 certificates, P-256 group,
 * TLS_AES_256_GCM_SHA384, no session resumption). Each iteration: TCP
 * connect, handshake until the client knows the server accepted it (wipeer:
 * WP_EV_AUTHENTICATED, sent after the server's trust decision; TLS: one
 * byte the server writes after SSL_accept), then the client drops the
 * connection. Server and client are separate processes, pinned.
 *   bench_rt_handshake [handshakes, default 1000]
 */
#include "bench_net.h"

struct hs {
    int n;
    struct wp_home homes;
};

/* ---------------------------------------------------------------- TLS */

static void tls_server(int out, uint16_t port_unused, void *arg)
{
    (void)port_unused;
    struct hs *h = arg;
    uint16_t port;
    int lfd = tcp_listen(&port);
    SSL_CTX *ctx = tls_ctx(true);
    put_port(out, port);
    for (int i = 0; i < h->n; i++) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            die("accept");
        nodelay(fd);
        SSL *s = tls_wrap(ctx, fd, true);
        if (SSL_write(s, "k", 1) != 1)
            die("SSL_write");
        SSL_free(s);
        close(fd);
    }
    SSL_CTX_free(ctx);
    close(lfd);
}

static void tls_client(int out, uint16_t port, void *arg)
{
    struct hs *h = arg;
    SSL_CTX *ctx = tls_ctx(false);
    char b;
    double t0 = now_s();
    for (int i = 0; i < h->n; i++) {
        int fd = tcp_connect(port);
        SSL *s = tls_wrap(ctx, fd, false);
        if (SSL_read(s, &b, 1) != 1)
            die("SSL_read");
        SSL_free(s);
        close(fd);
    }
    double rate = h->n / (now_s() - t0);
    SSL_CTX_free(ctx);
    put_doubles(out, &rate, 1);
}

/* ---------------------------------------------------------------- wipeer */

struct wstate {
    struct hs *h;
    bool done;
    bool step_done;
    int closed;
    wp_status reason;
};

static int on_server(const wp_event *ev, void *user)
{
    struct wstate *w = user;
    switch (ev->type) {
    case WP_EV_PEER_IDENTITY:
        return WP_TRUST_ACCEPT;
    case WP_EV_CLOSED:
        if (++w->closed == w->h->n)
            w->done = true;
        break;
    default:
        break;
    }
    return 0;
}

static int on_client(const wp_event *ev, void *user)
{
    struct wstate *w = user;
    switch (ev->type) {
    case WP_EV_PEER_IDENTITY:
        return WP_TRUST_ACCEPT;
    case WP_EV_AUTHENTICATED:
        wp_conn_abort(ev->conn);
        break;
    case WP_EV_CLOSED:
        w->reason = ev->reason;
        w->step_done = true;
        break;
    default:
        break;
    }
    return 0;
}

static void wp_server(int out, uint16_t port_unused, void *arg)
{
    (void)port_unused;
    struct wstate w = {.h = arg};
    wp_identity *id;
    wp_ctx *ctx = wp_bench_ctx(w.h->homes.server, on_server, &w, &id);
    wp_bench_listen(ctx, out);
    wp_bench_run(ctx, &w.done);
    wp_ctx_free(ctx);
    wp_identity_free(id);
}

static void wp_client(int out, uint16_t port, void *arg)
{
    struct wstate w = {.h = arg};
    wp_identity *id;
    wp_conn *c;
    wp_ctx *ctx = wp_bench_ctx(w.h->homes.client, on_client, &w, &id);
    double t0 = now_s();
    for (int i = 0; i < w.h->n; i++) {
        w.step_done = false;
        if (wp_connect(ctx, "127.0.0.1", port, NULL, &c, NULL) != WP_OK)
            die("connect");
        wp_bench_run(ctx, &w.step_done);
        if (w.reason != WP_ECLOSED) /* our abort after WP_EV_AUTHENTICATED */
            die("handshake %d: %s", i, wp_strerror(w.reason));
    }
    double rate = w.h->n / (now_s() - t0);
    put_doubles(out, &rate, 1);
    wp_ctx_free(ctx);
    wp_identity_free(id);
}

int main(int argc, char **argv)
{
    struct hs h;
    memset(&h, 0, sizeof h);
    h.n = count_arg(argc, argv, 1000, 10, "handshakes");
    wp_homes(&h.homes);
    signal(SIGPIPE, SIG_IGN);
    printf("handshakes per second, %d sequential connections over loopback\n", h.n);
    printf("  %-34s %-9s %12s %12s\n", "", "placement", "wipeer", "TLS 1.3");
    for (size_t p = 0; p < n_places(); p++) {
        double wp = 0, tls = 0, v;
        for (int rep = 0; rep < 2; rep++) {
            run_pair(wp_server, wp_client, &h, &k_places[p], NULL, 0, &v, 1);
            wp = v > wp ? v : wp;
            run_pair(tls_server, tls_client, &h, &k_places[p], NULL, 0, &v, 1);
            tls = v > tls ? v : tls;
        }
        print_ratio_row("mutual-auth handshakes (best of 2)", k_places[p].name, wp, tls, "/s");
    }
    wp_homes_remove(&h.homes);
    return 0;
}

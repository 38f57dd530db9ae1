/*
 * bench_rt_idle - 10,000 concurrent idle authenticated connections: the
 * client process opens them (at most WINDOW handshakes in flight) to one
 * listener in the server process; then both sit idle. Reported per
 * process: the time to establish all of them, and the memory each idle
 * connection costs in user space: the growth of the resident set (VmRSS)
 * and of the malloc heap in use (mallinfo2), divided by N, three times:
 * 0.5 s after the last handshake, 2.5 s after it (an idle connection
 * gives its engine buffers back after 1-2 s), and after every connection
 * has sent one 1 MiB message (the largest under the default limit; the
 * server answers each with one byte; BURST_WINDOW at a time) and gone idle
 * for 2.5 s. Kernel socket buffers are not in either figure; the kernel's
 * TCP memory (/proc/net/sockstat) is printed beside them for context. There
 * is no anchor for memory: the aim (issue 4) is under 16 KiB per connection.
 *   bench_rt_idle [connections, default 10000]
 */
#include "bench_net.h"

#include <malloc.h>

#define WINDOW 500
#define BURST_WINDOW 8
#define BIG WP_MESSAGE_MAX_DEFAULT

struct idle {
    int n;
    struct wp_home homes;
};

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &v) == 1)
            break;
    if (f)
        fclose(f);
    return v;
}

static long heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return (long)(mi.uordblks + mi.hblkhd);
}

/* Pages of memory the kernel's TCP stack holds (all sockets on the machine). */
static long kernel_tcp_pages(void)
{
    FILE *f = fopen("/proc/net/sockstat", "r");
    char line[256];
    long inuse, orphan, tw, alloc, mem = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "TCP: inuse %ld orphan %ld tw %ld alloc %ld mem %ld", &inuse, &orphan,
                   &tw, &alloc, &mem) == 5)
            break;
    if (f)
        fclose(f);
    return mem;
}

static void raise_nofile(int n)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rlim_t need = (rlim_t)n + 64;
    if (rl.rlim_cur < need) {
        if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
            die("RLIMIT_NOFILE hard limit %ld < %ld", (long)rl.rlim_max, (long)need);
        rl.rlim_cur = need;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            die("setrlimit: %s", strerror(errno));
    }
}

struct wstate {
    struct idle *id;
    int auth, closed, started;
    int msgs; /* server: 1 MiB messages received; client: answers received */
    bool all_up, quit, is_server;
    wp_status bad;
    char detail[WP_ERROR_DETAIL_MAX];
};

/* Memory now, per connection, against a baseline: RSS and heap in use. */
struct mem {
    long rss0, heap0;
};

static void mem_per_conn(const struct mem *m, int n, double out[2])
{
    out[0] = (double)(rss_kib() - m->rss0) * 1024.0 / n;
    out[1] = (double)(heap_bytes() - m->heap0) / n;
}

static int on_event(const wp_event *ev, void *user)
{
    struct wstate *w = user;
    switch (ev->type) {
    case WP_EV_PEER_IDENTITY:
        return WP_TRUST_ACCEPT;
    case WP_EV_AUTHENTICATED:
        if (++w->auth == w->id->n)
            w->all_up = true;
        break;
    case WP_EV_MESSAGE:
        w->msgs++;
        if (w->is_server && wp_conn_send(ev->conn, "k", 1) != WP_OK)
            die("answer");
        break;
    case WP_EV_CLOSED:
        w->closed++;
        if (ev->reason != WP_OK && !w->bad) {
            w->bad = ev->reason;
            snprintf(w->detail, sizeof w->detail, "%s", ev->detail);
        }
        break;
    default:
        break;
    }
    return 0;
}

/* Let the loop settle for ms milliseconds (nothing should happen on idle links). */
static void idle_for(wp_ctx *ctx, int ms)
{
    double end = now_s() + ms / 1000.0;
    while (now_s() < end) {
        struct pollfd p = {.fd = wp_ctx_fd(ctx), .events = POLLIN};
        int t = wp_ctx_timeout_ms(ctx);
        if (t < 0 || t > 50)
            t = 50;
        if (poll(&p, 1, t) < 0 && errno != EINTR)
            die("poll");
        if (wp_ctx_process(ctx) != WP_OK)
            die("process");
    }
}

/*
 * Results per side (NRES doubles): seconds to establish; RSS and heap bytes
 * per connection 0.5 s after, 2.5 s after, and after the burst; kernel
 * pages; the burst's duration (client only).
 */
#define NRES 9

static void server(int out, uint16_t port_unused, void *arg)
{
    (void)port_unused;
    struct wstate w = {.id = arg, .is_server = true};
    wp_identity *ident;
    wp_listener *l;
    raise_nofile(w.id->n);
    wp_ctx *ctx = wp_bench_ctx(w.id->homes.server, on_event, &w, &ident);
    wp_conn_opts o;
    wp_conn_opts_init(&o);
    o.handshake_timeout_ms = 60000;
    if (wp_listen(ctx, "127.0.0.1", 0, &o, &l, NULL) != WP_OK)
        die("listen");
    idle_for(ctx, 50);
    struct mem m0 = {rss_kib(), heap_bytes()};
    put_port(out, wp_listener_port(l));
    double t0 = 0;
    while (!w.all_up && !w.bad) {
        idle_for(ctx, 1);
        if (t0 == 0 && w.auth)
            t0 = now_s();
    }
    if (w.bad)
        die("server: %s (%s)", wp_strerror(w.bad), w.detail);
    double res[NRES] = {now_s() - t0};
    idle_for(ctx, 500);
    mem_per_conn(&m0, w.id->n, res + 1);
    idle_for(ctx, 2000);
    mem_per_conn(&m0, w.id->n, res + 3);
    res[7] = (double)kernel_tcp_pages();
    /* The client's burst: one 1 MiB message on every connection. */
    while (w.msgs < w.id->n && !w.bad)
        idle_for(ctx, 5);
    if (w.bad)
        die("server: %s (%s)", wp_strerror(w.bad), w.detail);
    idle_for(ctx, 2500);
    mem_per_conn(&m0, w.id->n, res + 5);
    put_doubles(out, res, NRES);
    /* Stay up until the client is done measuring and leaves. */
    while (w.closed < w.id->n)
        idle_for(ctx, 50);
    wp_ctx_free(ctx);
    wp_identity_free(ident);
}

static void client(int out, uint16_t port, void *arg)
{
    struct wstate w = {.id = arg};
    wp_identity *ident;
    raise_nofile(w.id->n);
    wp_ctx *ctx = wp_bench_ctx(w.id->homes.client, on_event, &w, &ident);
    wp_conn_opts o;
    wp_conn_opts_init(&o);
    o.handshake_timeout_ms = 60000;
    o.connect_timeout_ms = 60000;
    wp_conn **conns = calloc((size_t)w.id->n, sizeof *conns);
    uint8_t *big = malloc(BIG);
    if (!conns || !big)
        die("out of memory");
    memset(big, 0x5a, BIG);
    idle_for(ctx, 50);
    struct mem m0 = {rss_kib(), heap_bytes()};
    double t0 = now_s();
    while (!w.all_up && !w.bad) {
        while (w.started < w.id->n && w.started - w.auth < WINDOW) {
            if (wp_connect(ctx, "127.0.0.1", port, &o, &conns[w.started], NULL) != WP_OK)
                die("connect");
            w.started++;
        }
        idle_for(ctx, 1);
    }
    if (w.bad)
        die("client: %s (%s)", wp_strerror(w.bad), w.detail);
    /* conns[] and big are the application's own: in the baseline, not counted. */
    double res[NRES] = {now_s() - t0};
    idle_for(ctx, 500);
    mem_per_conn(&m0, w.id->n, res + 1);
    idle_for(ctx, 2000);
    mem_per_conn(&m0, w.id->n, res + 3);
    res[7] = (double)kernel_tcp_pages();
    int sent = 0;
    double tb = now_s();
    while (w.msgs < w.id->n && !w.bad) {
        while (sent < w.id->n && sent - w.msgs < BURST_WINDOW)
            if (wp_conn_send(conns[sent++], big, BIG) != WP_OK)
                die("send");
        idle_for(ctx, 1);
    }
    if (w.bad)
        die("client: %s (%s)", wp_strerror(w.bad), w.detail);
    res[8] = now_s() - tb;
    idle_for(ctx, 2500);
    mem_per_conn(&m0, w.id->n, res + 5);
    for (int i = 0; i < w.id->n; i++)
        wp_conn_abort(conns[i]);
    idle_for(ctx, 200);
    put_doubles(out, res, NRES);
    free(big);
    free(conns);
    wp_ctx_free(ctx);
    wp_identity_free(ident);
}

int main(int argc, char **argv)
{
    struct idle id;
    memset(&id, 0, sizeof id);
    id.n = count_arg(argc, argv, 10000, 100, "connections");
    wp_homes(&id.homes);
    signal(SIGPIPE, SIG_IGN);
    long k0 = kernel_tcp_pages();
    long page = sysconf(_SC_PAGESIZE);
    printf("%d concurrent idle authenticated connections (at most %d handshakes in flight)\n",
           id.n, WINDOW);
    static const char *const when[3] = {"idle 0.5 s", "idle 2.5 s", "1 MiB sent, idle"};
    for (size_t p = 0; p < n_places(); p++) {
        double s[NRES], c[NRES];
        run_pair(server, client, &id, &k_places[p], s, NRES, c, NRES);
        printf("  %-9s establish all: %.2f s (%.0f connections/s)\n", k_places[p].name, c[0],
               id.n / c[0]);
        printf("  %-9s burst: %d x %u B messages (%d at a time) in %.1f s\n", k_places[p].name,
               id.n, (unsigned)BIG, BURST_WINDOW, c[8]);
        for (int k = 0; k < 3; k++)
            printf("  %-9s user-space memory per connection, %-16s: client %6.0f B RSS, %6.0f B"
                   " heap; server %6.0f B RSS, %6.0f B heap\n",
                   k_places[p].name, when[k], c[1 + 2 * k], c[2 + 2 * k], s[1 + 2 * k],
                   s[2 + 2 * k]);
        printf("  %-9s (context) kernel TCP memory while idle: %.0f KiB for %d sockets\n",
               k_places[p].name, (c[7] - (double)k0) * (double)page / 1024.0, 2 * id.n);
    }
    wp_homes_remove(&id.homes);
    return 0;
}

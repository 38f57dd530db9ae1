/*
 * Listeners under adverse conditions, over real loopback sockets:
 *  - a listener the loop cannot watch (its registration fails for lack of
 *    memory) reports WP_EV_LISTENER_FAILED instead of going silently deaf,
 *    and can be closed and replaced;
 *  - a process out of file descriptors (RLIMIT_NOFILE lowered and filled in
 *    a child process) does not spin on a connection it cannot accept, and
 *    accepts it once descriptors are free again (epoll and poll backends);
 *  - the default listen address (none given) accepts IPv4 and IPv6.
 */
#include "rt_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "util/mem.h"

/* ---------------------------------------------------------------- helpers */

static bool got_connected(void *arg)
{
    const struct rec *r = arg;
    return r->n_connected > 0;
}

static bool got_auth_or_closed(void *arg)
{
    const struct rec *r = arg;
    return r->n_auth > 0 || r->n_closed > 0;
}

struct nth_auth {
    const struct rec *r;
    int want;
};

static bool got_nth_auth(void *arg)
{
    const struct nth_auth *n = arg;
    return n->r->n_auth >= n->want || n->r->n_closed > 0;
}

/* Connect with a plain TCP socket to addr:port (IPv4 or IPv6 literal); -1 on failure. */
static int raw_connect(const char *addr, uint16_t port)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons(port);
        sl = sizeof *in4;
    } else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        sl = sizeof *in6;
    } else {
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* ---------------------------------------------------------------- registration failure */

/*
 * The poll backend keeps its watches in arrays that grow by doubling (16
 * first, the wake-up eventfd among them): with 15 listeners registered the
 * 16th needs the arrays to grow, and that allocation is made to fail.
 */
static void test_listener_failed_reported(void **state)
{
    (void)state;
    char home[64];
    struct rec r;
    wp_error err;
    wp_identity *id = rt_identity(home);
    rec_init(&r, WP_TRUST_ACCEPT);
    wp_ctx *ctx = rt_ctx(id, &r, WP_LOOP_POLL);
    wp_listener *ls[15], *l = NULL, *again = NULL;
    for (size_t i = 0; i < 15; i++)
        assert_int_equal(wp_listen(ctx, "127.0.0.1", 0, NULL, &ls[i], &err), WP_OK);
    assert_int_equal(wp_ctx_process(ctx), WP_OK); /* registers them: the arrays are full */
    mem_fail_after(2); /* wp_listen's own two allocations succeed, the loop's next fails */
    wp_status st = wp_listen(ctx, "127.0.0.1", 0, NULL, &l, &err);
    assert_int_equal(wp_ctx_process(ctx), WP_OK);
    mem_fail_after(-1);
    assert_int_equal(st, WP_OK);
    assert_int_equal(r.n_listener_failed, 1);
    assert_ptr_equal(r.failed_listener, l);
    assert_int_equal(r.reason, WP_ENOMEM);
    assert_non_null(strstr(r.detail, "listener on port"));
    assert_non_null(strstr(r.detail, "cannot watch it"));
    assert_int_equal(r.order_errors, 0);
    /* It is deaf: the kernel completes the TCP handshake, nobody accepts. */
    int fd = raw_connect("127.0.0.1", wp_listener_port(l));
    assert_true(fd >= 0);
    int64_t end = rt_now_ms() + 300;
    while (rt_now_ms() < end) {
        assert_int_equal(wp_ctx_process(ctx), WP_OK);
        usleep(10000);
    }
    assert_int_equal(r.n_connected, 0);
    close(fd);
    /* Reported once; closing it and listening again works. */
    assert_int_equal(r.n_listener_failed, 1);
    wp_listener_close(l);
    for (size_t i = 0; i < 15; i++)
        wp_listener_close(ls[i]);
    assert_int_equal(wp_ctx_process(ctx), WP_OK);
    assert_int_equal(wp_listen(ctx, "127.0.0.1", 0, NULL, &again, &err), WP_OK);
    assert_int_equal(wp_ctx_process(ctx), WP_OK);
    fd = raw_connect("127.0.0.1", wp_listener_port(again));
    assert_true(fd >= 0);
    end = rt_now_ms() + 5000;
    while (r.n_connected == 0 && rt_now_ms() < end) {
        assert_int_equal(wp_ctx_process(ctx), WP_OK);
        usleep(5000);
    }
    assert_int_equal(r.n_connected, 1);
    assert_int_equal(r.n_listener_failed, 1);
    close(fd);
    wp_ctx_free(ctx);
    rt_identity_free(id, home);
    rec_clear(&r);
}

/* ---------------------------------------------------------------- out of descriptors */

#define EXHAUSTED_MS 1500 /* how long the child stays out of descriptors */

struct child_result {
    int ok;              /* 1 when the child did everything it had to */
    double cpu_ms;       /* user + system CPU time while out of descriptors */
    double wall_ms;      /* the length of that interval */
    int accepted_early;  /* connections accepted while out of descriptors (must be 0) */
    int authenticated;   /* the parent's connection, after recovery */
    char why[160];
};

struct child_state {
    atomic_int n_connected;
    atomic_int n_auth;
};

static int child_on_event(const wp_event *ev, void *user)
{
    struct child_state *s = user;
    if (ev->type == WP_EV_CONNECTED)
        atomic_fetch_add(&s->n_connected, 1);
    if (ev->type == WP_EV_AUTHENTICATED)
        atomic_fetch_add(&s->n_auth, 1);
    return ev->type == WP_EV_PEER_IDENTITY ? WP_TRUST_ACCEPT : 0;
}

static double cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* Run the child's loop for ms: this thread's poll loop (epoll), or just wait (its thread). */
static void child_run(wp_ctx *ctx, bool own_thread, int ms, struct child_state *s, bool until_auth)
{
    int64_t end = rt_now_ms() + ms;
    while (rt_now_ms() < end && !(until_auth && atomic_load(&s->n_auth) > 0)) {
        if (own_thread) {
            usleep(10000);
            continue;
        }
        struct pollfd p = {.fd = wp_ctx_fd(ctx), .events = POLLIN};
        int t = wp_ctx_timeout_ms(ctx);
        int left = (int)(end - rt_now_ms());
        if (t < 0 || t > left)
            t = left > 0 ? left : 0;
        (void)poll(&p, 1, t);
        if (wp_ctx_process(ctx) != WP_OK)
            return;
    }
}

/* The child: listen, use up every descriptor, report the port, then measure. */
static void child_main(int to_parent, int from_parent, wp_loop_backend be)
{
    struct child_result res;
    struct child_state s;
    char home[64];
    wp_identity *id = NULL;
    wp_ctx *ctx = NULL;
    wp_listener *l = NULL;
    int fillers[1024];
    int nfill = 0;
    memset(&res, 0, sizeof res);
    atomic_init(&s.n_connected, 0);
    atomic_init(&s.n_auth, 0);
    snprintf(home, sizeof home, "/tmp/wp-rt-XXXXXX");
    wp_ctx_config cfg;
    bool own_thread = be == WP_LOOP_POLL; /* no aggregate fd: the loop runs on its thread */
    wp_ctx_config_init(&cfg);
    if (!mkdtemp(home) || wp_identity_open(home, NULL, WP_IDENTITY_CREATE, &id, NULL, NULL)) {
        snprintf(res.why, sizeof res.why, "identity");
        goto out;
    }
    cfg.identity = id;
    cfg.on_event = child_on_event;
    cfg.user = &s;
    cfg.backend = be;
    if (wp_ctx_new(&cfg, &ctx, NULL) != WP_OK ||
        wp_listen(ctx, "127.0.0.1", 0, NULL, &l, NULL) != WP_OK ||
        (own_thread && wp_ctx_start(ctx) != WP_OK)) {
        snprintf(res.why, sizeof res.why, "ctx/listen/start");
        goto out;
    }
    child_run(ctx, own_thread, 50, &s, false);
    /* No descriptor left: a small limit, every free slot under it taken. */
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = 256;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
        snprintf(res.why, sizeof res.why, "setrlimit: %s", strerror(errno));
        goto out;
    }
    for (int fd; nfill < 1024 && (fd = dup(0)) >= 0;)
        fillers[nfill++] = fd;
    if (errno != EMFILE) {
        snprintf(res.why, sizeof res.why, "dup stopped with %s, not EMFILE", strerror(errno));
        goto out;
    }
    uint16_t port = wp_listener_port(l);
    if (write(to_parent, &port, sizeof port) != (ssize_t)sizeof port)
        goto out;
    /* Wait (running the loop) until the parent's connection waits in our backlog. */
    struct pollfd pp = {.fd = from_parent, .events = POLLIN};
    int64_t end = rt_now_ms() + 10000;
    while (poll(&pp, 1, 0) == 0 && rt_now_ms() < end)
        child_run(ctx, own_thread, 10, &s, false);
    char go;
    if (read(from_parent, &go, 1) != 1) {
        snprintf(res.why, sizeof res.why, "no go from the parent");
        goto out;
    }
    double c0 = cpu_ms();
    int64_t t0 = rt_now_ms();
    child_run(ctx, own_thread, EXHAUSTED_MS, &s, false);
    res.cpu_ms = cpu_ms() - c0;
    res.wall_ms = (double)(rt_now_ms() - t0);
    res.accepted_early = atomic_load(&s.n_connected);
    if (dup(0) >= 0 || errno != EMFILE) {
        snprintf(res.why, sizeof res.why, "descriptors were not exhausted");
        goto out;
    }
    /* Free them: the listener must pick the waiting connection up by itself. */
    while (nfill)
        close(fillers[--nfill]);
    child_run(ctx, own_thread, 10000, &s, true);
    res.authenticated = atomic_load(&s.n_auth);
    res.ok = 1;
out:
    while (nfill)
        close(fillers[--nfill]);
    if (ctx && own_thread && wp_ctx_stop(ctx) != WP_OK)
        _exit(4);
    wp_ctx_free(ctx);
    if (id)
        rt_identity_free(id, home);
    if (write(to_parent, &res, sizeof res) != (ssize_t)sizeof res)
        _exit(3);
    _exit(0);
}

/* Read exactly n bytes within timeout_ms while running ctx; false on timeout or EOF. */
static bool read_running(int fd, void *buf, size_t n, wp_ctx *ctx, int timeout_ms)
{
    size_t got = 0;
    int64_t end = rt_now_ms() + timeout_ms;
    while (got < n && rt_now_ms() < end) {
        struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = wp_ctx_fd(ctx), .events = POLLIN}};
        int t = wp_ctx_timeout_ms(ctx);
        if (t < 0 || t > 50)
            t = 50;
        (void)poll(p, 2, t);
        if (p[0].revents) {
            ssize_t r = read(fd, (char *)buf + got, n - got);
            if (r <= 0)
                return false;
            got += (size_t)r;
        }
        assert_int_equal(wp_ctx_process(ctx), WP_OK);
    }
    return got == n;
}

static void emfile_case(wp_loop_backend be)
{
    int c2p[2], p2c[2];
    assert_int_equal(pipe(c2p), 0);
    assert_int_equal(pipe(p2c), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(c2p[0]);
        close(p2c[1]);
        alarm(60);
        child_main(c2p[1], p2c[0], be);
    }
    close(c2p[1]);
    close(p2c[0]);
    char home[64];
    struct rec r;
    wp_identity *id = rt_identity(home);
    rec_init(&r, WP_TRUST_ACCEPT);
    wp_ctx *ctx = rt_ctx(id, &r, WP_LOOP_DEFAULT);
    uint16_t port = 0;
    assert_true(read_running(c2p[0], &port, sizeof port, ctx, 20000));
    wp_conn *c;
    assert_int_equal(wp_connect(ctx, "127.0.0.1", port, NULL, &c, NULL), WP_OK);
    /* TCP connects (the kernel's backlog); the child cannot accept it. */
    assert_true(rt_run(ctx, NULL, got_connected, &r, 5000));
    assert_int_equal(write(p2c[1], "g", 1), 1);
    struct child_result res;
    bool have = read_running(c2p[0], &res, sizeof res, ctx, 30000);
    int st = 0;
    if (!have)
        kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(have);
    print_message("out of descriptors for %.0f ms: %.1f ms of CPU; accepted early %d; "
                  "authenticated after recovery %d %s\n",
                  res.wall_ms, res.cpu_ms, res.accepted_early, res.authenticated, res.why);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_int_equal(res.ok, 1);
    assert_int_equal(res.accepted_early, 0);
    /* A spinning loop burns the whole interval; a paused one next to nothing. */
    assert_true(res.wall_ms >= EXHAUSTED_MS);
    assert_true(res.cpu_ms < res.wall_ms * 0.3);
    assert_int_equal(res.authenticated, 1);
    assert_true(rt_run(ctx, NULL, got_auth_or_closed, &r, 5000));
    assert_int_equal(r.n_auth, 1);
    close(c2p[0]);
    close(p2c[1]);
    wp_ctx_free(ctx);
    rt_identity_free(id, home);
    rec_clear(&r);
}

static void test_emfile_epoll(void **state)
{
    (void)state;
    emfile_case(WP_LOOP_EPOLL);
}

static void test_emfile_poll(void **state)
{
    (void)state;
    emfile_case(WP_LOOP_POLL);
}

/* ---------------------------------------------------------------- dual stack */

/* No address: one listener takes IPv4 (127.0.0.1) and IPv6 (::1) connections. */
static void test_default_dual_stack(void **state)
{
    (void)state;
    char ha[64], hb[64];
    struct rec ra, rb;
    wp_listener *l;
    wp_error err;
    wp_identity *ida = rt_identity(ha), *idb = rt_identity(hb);
    rec_init(&ra, WP_TRUST_ACCEPT);
    rec_init(&rb, WP_TRUST_ACCEPT);
    wp_ctx *a = rt_ctx(ida, &ra, WP_LOOP_DEFAULT), *b = rt_ctx(idb, &rb, WP_LOOP_DEFAULT);
    assert_int_equal(wp_listen(a, NULL, 0, NULL, &l, &err), WP_OK);
    uint16_t port = wp_listener_port(l);
    int probe = socket(AF_INET6, SOCK_STREAM, 0);
    bool has_v6 = probe >= 0;
    if (probe >= 0) {
        struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
        has_v6 = bind(probe, (struct sockaddr *)&s6, sizeof s6) == 0;
        close(probe);
    }
    const char *hosts[2] = {"127.0.0.1", "::1"};
    const char *shown[2] = {"127.0.0.1:", "[::1]:"};
    for (int i = 0; i < (has_v6 ? 2 : 1); i++) {
        wp_conn *c;
        struct nth_auth n = {&rb, rb.n_auth + 1};
        assert_int_equal(wp_connect(b, hosts[i], port, NULL, &c, &err), WP_OK);
        assert_true(rt_run(a, b, got_nth_auth, &n, 10000));
        assert_int_equal(rb.n_auth, n.want);
        char addr[WP_ADDRESS_STR];
        wp_conn_remote_address(c, addr, sizeof addr);
        print_message("connected over %s\n", addr);
        assert_int_equal(strncmp(addr, shown[i], strlen(shown[i])), 0);
    }
    assert_int_equal(ra.n_auth, has_v6 ? 2 : 1);
    assert_int_equal(ra.n_closed + rb.n_closed, 0);
    wp_ctx_free(a);
    wp_ctx_free(b);
    rt_identity_free(ida, ha);
    rt_identity_free(idb, hb);
    rec_clear(&ra);
    rec_clear(&rb);
    if (!has_v6)
        skip(); /* IPv4 checked; no IPv6 loopback here */
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listener_failed_reported),
        cmocka_unit_test(test_emfile_epoll),
        cmocka_unit_test(test_emfile_poll),
        cmocka_unit_test(test_default_dual_stack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

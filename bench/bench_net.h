/*
 * bench_net.h - harness of the runtime benchmarks: two processes (server
 * and client) forked and pinned to CPUs with sched_setaffinity (what
 * taskset does), placement read back with sched_getcpu and printed; raw
 * TCP, OpenSSL TLS 1.3 (the anchor) and wipeer endpoints. Header-only:
 * every runtime benchmark executable includes it once (it includes
 * bench_util.h for the clock).
 */
#ifndef WP_BENCH_NET_H
#define WP_BENCH_NET_H

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "wipeer.h"

#include "bench_util.h"

static inline void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static inline void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

/* The count argument argv[1] (default def), at least min ("at least <min> <what>"). */
static inline int count_arg(int argc, char **argv, int def, int min, const char *what)
{
    int n = argc > 1 ? atoi(argv[1]) : def;
    if (n < min)
        die("at least %d %s", min, what);
    return n;
}

/* ---------------------------------------------------------------- placement */

struct placement {
    const char *name;
    int cpu_server, cpu_client;
};

static const struct placement k_places[] = {
    {"same CPU", 0, 0},
    {"split", 1, 0},
};

static inline size_t n_places(void)
{
    return sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? 2u : 1u;
}

static inline void pin(int cpu_)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    size_t cpu = (size_t)cpu_;
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) < 0)
        die("sched_setaffinity(%d): %s", cpu_, strerror(errno));
}

/*
 * Fork the server (pinned to cpu_server), which writes its port to the
 * pipe, then the client (cpu_client). Each writes up to n doubles of
 * results to its own pipe and exits. Both are bounded by alarm().
 */
typedef void (*role_fn)(int out_fd, uint16_t port, void *arg);

static inline void put_doubles(int fd, const double *v, size_t n)
{
    if (write(fd, v, n * sizeof *v) != (ssize_t)(n * sizeof *v))
        die("result pipe: %s", strerror(errno));
}

static inline size_t get_doubles(int fd, double *v, size_t n)
{
    size_t got = 0;
    while (got < n * sizeof *v) {
        ssize_t r = read(fd, (char *)v + got, n * sizeof *v - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got / sizeof *v;
}

/* The server's first report: the port it listens on. */
static inline void put_port(int fd, uint16_t port)
{
    double p = port;
    put_doubles(fd, &p, 1);
}

static inline pid_t spawn(role_fn fn, int cpu, int out_fd, uint16_t port, void *arg)
{
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        alarm(600);
        pin(cpu);
        fn(out_fd, port, arg);
        _exit(0);
    }
    return pid;
}

/* Returns the number of doubles each side reported. */
static inline void run_pair(role_fn server, role_fn client, void *arg, const struct placement *pl,
                     double *srv, size_t nsrv, double *cli, size_t ncli)
{
    int sp[2], cp[2];
    if (pipe(sp) < 0 || pipe(cp) < 0)
        die("pipe");
    pid_t ps = spawn(server, pl->cpu_server, sp[1], 0, arg);
    close(sp[1]);
    double port;
    if (get_doubles(sp[0], &port, 1) != 1)
        die("server did not start");
    pid_t pc = spawn(client, pl->cpu_client, cp[1], (uint16_t)port, arg);
    close(cp[1]);
    if (get_doubles(cp[0], cli, ncli) != ncli)
        die("client reported no result");
    if (nsrv && get_doubles(sp[0], srv, nsrv) != nsrv)
        die("server reported no result");
    int st;
    waitpid(pc, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st))
        die("client failed");
    waitpid(ps, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st))
        die("server failed");
    close(sp[0]);
    close(cp[0]);
}

/* Print which CPU this process really runs on (once per role and run). */
static inline void report_cpu(const char *role, int want)
{
    int cpu = sched_getcpu();
    if (cpu != want)
        die("%s runs on CPU %d, pinned to %d", role, cpu, want);
}

/* ---------------------------------------------------------------- raw TCP */

static inline int tcp_listen(uint16_t *out_port)
{
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4096) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
        die("listen: %s", strerror(errno));
    *out_port = ntohs(sa.sin_port);
    return fd;
}

static inline int tcp_connect(uint16_t port)
{
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        die("connect: %s", strerror(errno));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static inline void nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static inline void write_full(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            die("write: %s", strerror(errno));
        }
        c += w;
        n -= (size_t)w;
    }
}

static inline void read_full(int fd, void *p, size_t n)
{
    char *c = p;
    while (n) {
        ssize_t r = read(fd, c, n);
        if (r <= 0)
            die("read: %s", r ? strerror(errno) : "EOF");
        c += r;
        n -= (size_t)r;
    }
}

/* ---------------------------------------------------------------- TLS 1.3 */

/* An ECDSA P-256 key and a self-signed certificate for it. */
static inline void tls_identity(EVP_PKEY **out_key, X509 **out_cert)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    if (!k || !x)
        die("TLS key");
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, k);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"bench", -1, -1, 0);
    X509_set_issuer_name(x, n);
    if (!X509_sign(x, k, EVP_sha256()))
        die("TLS cert");
    *out_key = k;
    *out_cert = x;
}

/* The peer's certificate is checked by the handshake; trust is pinned by the app. */
static inline int tls_accept_peer(int ok, X509_STORE_CTX *st)
{
    (void)ok;
    (void)st;
    return 1;
}

/* TLS 1.3 only, AES-256-GCM, P-256 key exchange, mutual ECDSA P-256 authentication. */
static inline SSL_CTX *tls_ctx(bool is_server)
{
    EVP_PKEY *k;
    X509 *x;
    SSL_CTX *c = SSL_CTX_new(is_server ? TLS_server_method() : TLS_client_method());
    tls_identity(&k, &x);
    if (!c || !SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION) ||
        !SSL_CTX_set_ciphersuites(c, "TLS_AES_256_GCM_SHA384") ||
        !SSL_CTX_set1_groups_list(c, "P-256") || !SSL_CTX_use_certificate(c, x) ||
        !SSL_CTX_use_PrivateKey(c, k))
        die("TLS context");
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, tls_accept_peer);
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(c, 0);
    EVP_PKEY_free(k);
    X509_free(x);
    return c;
}

static inline SSL *tls_wrap(SSL_CTX *c, int fd, bool is_server)
{
    SSL *s = SSL_new(c);
    SSL_set_fd(s, fd);
    if ((is_server ? SSL_accept(s) : SSL_connect(s)) != 1)
        die("TLS handshake failed");
    return s;
}

/* ---------------------------------------------------------------- wipeer */

struct wp_home {
    char server[64], client[64];
};

static inline void wp_homes(struct wp_home *h)
{
    snprintf(h->server, sizeof h->server, "/tmp/wp-bench-XXXXXX");
    snprintf(h->client, sizeof h->client, "/tmp/wp-bench-XXXXXX");
    if (!mkdtemp(h->server) || !mkdtemp(h->client))
        die("mkdtemp");
    const char *homes[2] = {h->server, h->client};
    for (int i = 0; i < 2; i++) {
        wp_identity *id;
        if (wp_identity_open(homes[i], NULL, WP_IDENTITY_CREATE, &id, NULL, NULL) != WP_OK)
            die("identity");
        wp_identity_free(id);
    }
}

static inline void wp_homes_remove(const struct wp_home *h)
{
    char p[128];
    snprintf(p, sizeof p, "%s/" WP_IDENTITY_FILENAME, h->server);
    unlink(p);
    rmdir(h->server);
    snprintf(p, sizeof p, "%s/" WP_IDENTITY_FILENAME, h->client);
    unlink(p);
    rmdir(h->client);
}

static inline wp_ctx *wp_bench_ctx(const char *home, wp_event_fn fn, void *user, wp_identity **out_id)
{
    wp_ctx_config cfg;
    wp_ctx *ctx;
    wp_error err;
    if (wp_identity_open(home, NULL, 0, out_id, NULL, &err) != WP_OK)
        die("identity: %s", err.detail);
    wp_ctx_config_init(&cfg);
    cfg.identity = *out_id;
    cfg.on_event = fn;
    cfg.user = user;
    if (wp_ctx_new(&cfg, &ctx, &err) != WP_OK)
        die("ctx: %s", err.detail);
    return ctx;
}

/* Listen on 127.0.0.1, any port, and report the port (put_port). */
static inline wp_listener *wp_bench_listen(wp_ctx *ctx, int out_fd)
{
    wp_listener *l;
    if (wp_listen(ctx, "127.0.0.1", 0, NULL, &l, NULL) != WP_OK)
        die("listen");
    put_port(out_fd, wp_listener_port(l));
    return l;
}

/* The application-loop API: poll the ctx fd, then process, until *done. */
static inline void wp_bench_run(wp_ctx *ctx, const bool *done)
{
    while (!*done) {
        struct pollfd p = {.fd = wp_ctx_fd(ctx), .events = POLLIN};
        if (poll(&p, 1, wp_ctx_timeout_ms(ctx)) < 0 && errno != EINTR)
            die("poll: %s", strerror(errno));
        if (wp_ctx_process(ctx) != WP_OK)
            die("process");
    }
}

static inline void print_ratio_row(const char *what, const char *place, double ours, double anchor,
                            const char *unit)
{
    printf("  %-34s %-9s %12.1f %12.1f %s   ratio %.2f\n", what, place, ours, anchor, unit,
           anchor > 0 ? ours / anchor : 0.0);
}

#endif

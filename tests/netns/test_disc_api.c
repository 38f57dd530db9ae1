/*
 * test_disc_api.c - the public discovery API (wipeer.h) on real sockets,
 * run by disc_api.sh inside a network namespace the test made, on its
 * loopback interface (IPv4 only there). Not a unit test: it multicasts.
 *
 *   test_disc_api MDNS_PEER
 *
 * Three contexts in one process, each on another way of running the loop:
 *   A: WP_LOOP_POLL on its own thread (wp_ctx_start), listens, advertises;
 *   B: epoll, driven from this thread (wp_ctx_fd/timeout/process), browses,
 *      resolves and connects by name and by fingerprint;
 *   C: epoll on its own thread, listens on a port that a forged
 *      advertisement (mdns_peer, spawned here) announces with A's
 *      fingerprint: connecting by that fingerprint must fail the handshake.
 * Also: argument and state errors, our own service rejected, unknown names,
 * the goodbye of wp_advert_stop. Prints "ok: ..." per step; exit 0 on
 * success, 1 on the first failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wipeer.h"

#define WP_MIN(a, b) ((a) < (b) ? (a) : (b))

extern char **environ;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

#define CHECK(cond, ...)                                                                     \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                  \
            fprintf(stderr, __VA_ARGS__);                                                    \
            fputc('\n', stderr);                                                             \
            exit(1);                                                                         \
        }                                                                                    \
    } while (0)

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ state */

struct svc_seen {
    char name[WP_SERVICE_NAME_MAX];
    char fp[WP_FINGERPRINT_SHORT_STR];
    uint16_t port;
    bool connectable, own, has_app, has_v;
    int found, removed; /* counters pump() can wait on */
    char addr0[WP_ADDRESS_STR];
    char ifname0[WP_IFNAME_MAX];
};

struct disc_log {
    int advertised, renamed, failed;
    char adv_name[WP_SERVICE_NAME_MAX];
    struct svc_seen svcs[8];
    int n_svcs;
    int resolved, resolve_failed;
    wp_status resolve_reason;
    char resolved_name[WP_SERVICE_NAME_MAX];
};

struct conn_log {
    int authenticated, closed, messages;
    wp_status reason;
    char detail[WP_ERROR_DETAIL_MAX];
    char msg[64];
    bool echo; /* listener side: send every message back and close */
};

static struct disc_log g_da, g_db; /* A's and B's discovery events */
static struct conn_log g_ca, g_cb, g_cc;

static struct svc_seen *seen(struct disc_log *l, const char *name)
{
    for (int i = 0; i < l->n_svcs; i++)
        if (!strcmp(l->svcs[i].name, name))
            return &l->svcs[i];
    if (l->n_svcs == 8)
        return NULL;
    struct svc_seen *s = &l->svcs[l->n_svcs++];
    snprintf(s->name, sizeof s->name, "%s", name);
    return s;
}

static void on_disc(const wp_discovery_event *ev, void *user)
{
    struct disc_log *l = user;
    pthread_mutex_lock(&g_mu);
    switch (ev->type) {
    case WP_DISC_ADVERTISED:
        l->advertised++;
        snprintf(l->adv_name, sizeof l->adv_name, "%s", ev->name);
        break;
    case WP_DISC_RENAMED:
        l->renamed++;
        break;
    case WP_DISC_FOUND:
    case WP_DISC_UPDATED:
    case WP_DISC_REMOVED: {
        struct svc_seen *s = seen(l, ev->service->name);
        if (!s)
            break;
        const wp_service *v = ev->service;
        s->found += ev->type == WP_DISC_FOUND;
        s->removed += ev->type == WP_DISC_REMOVED;
        snprintf(s->fp, sizeof s->fp, "%s", v->fingerprint ? v->fingerprint : "");
        s->port = v->port;
        s->connectable = v->is_connectable;
        s->own = v->is_own;
        s->has_app = s->has_v = false;
        for (size_t i = 0; i < v->n_txt; i++) {
            if (!strcmp(v->txt[i].key, "app") && v->txt[i].has_value &&
                !strcmp((const char *)v->txt[i].value, "demo"))
                s->has_app = true;
            if (!strcmp(v->txt[i].key, "v") && v->txt[i].value_len == 1)
                s->has_v = true;
        }
        if (v->n_addrs) {
            snprintf(s->addr0, sizeof s->addr0, "%s", v->addrs[0].text);
            snprintf(s->ifname0, sizeof s->ifname0, "%s", v->addrs[0].ifname);
        }
        break;
    }
    case WP_DISC_RESOLVED:
        l->resolved++;
        snprintf(l->resolved_name, sizeof l->resolved_name, "%s", ev->service->name);
        break;
    case WP_DISC_FAILED:
        if (!ev->advert && !ev->browser) {
            l->resolve_failed++;
            l->resolve_reason = ev->reason;
        } else {
            l->failed++;
            fprintf(stderr, "discovery failed: %s (%s)\n", wp_status_name(ev->reason),
                    ev->detail);
        }
        break;
    }
    pthread_mutex_unlock(&g_mu);
}

static int on_conn(const wp_event *ev, void *user)
{
    struct conn_log *l = user;
    pthread_mutex_lock(&g_mu);
    switch (ev->type) {
    case WP_EV_PEER_IDENTITY:
        pthread_mutex_unlock(&g_mu);
        return WP_TRUST_ACCEPT;
    case WP_EV_AUTHENTICATED:
        l->authenticated++;
        break;
    case WP_EV_MESSAGE:
        l->messages++;
        snprintf(l->msg, sizeof l->msg, "%.*s", (int)WP_MIN(ev->len, 63), (const char *)ev->data);
        if (l->echo) {
            if (wp_conn_send(ev->conn, ev->data, ev->len) != WP_OK ||
                wp_conn_close(ev->conn) != WP_OK)
                wp_conn_abort(ev->conn);
        }
        break;
    case WP_EV_PEER_CLOSED:
        if (wp_conn_close(ev->conn) != WP_OK && !l->echo)
            wp_conn_abort(ev->conn);
        break;
    case WP_EV_CLOSED:
        l->closed++;
        l->reason = ev->reason;
        snprintf(l->detail, sizeof l->detail, "%s", ev->detail);
        break;
    default:
        break;
    }
    pthread_mutex_unlock(&g_mu);
    return 0;
}

/* ------------------------------------------------------------ driving B */

static wp_ctx *g_b;

/* Run B's loop (this thread) until *flag >= want or timeout. */
static bool pump(const int *flag, int want, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    for (;;) {
        pthread_mutex_lock(&g_mu);
        bool done = *flag >= want;
        pthread_mutex_unlock(&g_mu);
        if (done)
            return true;
        int64_t left = end - now_ms();
        if (left <= 0)
            return false;
        int t = wp_ctx_timeout_ms(g_b);
        if (t < 0 || t > 50)
            t = 50; /* A and C run on their own threads: look again soon */
        struct pollfd p = {.fd = wp_ctx_fd(g_b), .events = POLLIN};
        CHECK(poll(&p, 1, (int)WP_MIN(t, left)) >= 0 || errno == EINTR, "poll");
        CHECK(wp_ctx_process(g_b) == WP_OK, "process");
    }
}

static bool removed_flag_wait(struct disc_log *l, const char *name, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    while (now_ms() < end) {
        pthread_mutex_lock(&g_mu);
        struct svc_seen *s = seen(l, name);
        bool r = s && s->removed;
        pthread_mutex_unlock(&g_mu);
        if (r)
            return true;
        int dummy = 0;
        (void)pump(&dummy, 1, 50);
    }
    return false;
}

static wp_identity *new_identity(const char *tag)
{
    char dir[] = "/tmp/wp-disc-api-XXXXXX";
    wp_identity *id = NULL;
    wp_error err;
    CHECK(mkdtemp(dir), "mkdtemp");
    CHECK(wp_identity_open(dir, NULL, WP_IDENTITY_CREATE, &id, NULL, &err) == WP_OK, "%s: %s",
          tag, err.detail);
    /* The key is loaded: the files can go (they are ours). */
    char path[300];
    snprintf(path, sizeof path, "%s/%s", dir, WP_IDENTITY_FILENAME);
    unlink(path);
    rmdir(dir);
    return id;
}

static wp_ctx *new_ctx(wp_identity *id, wp_loop_backend be, struct conn_log *cl)
{
    wp_ctx_config cfg;
    wp_ctx *ctx = NULL;
    wp_error err;
    wp_ctx_config_init(&cfg);
    cfg.identity = id;
    cfg.on_event = on_conn;
    cfg.user = cl;
    cfg.backend = be;
    CHECK(wp_ctx_new(&cfg, &ctx, &err) == WP_OK, "ctx: %s", err.detail);
    return ctx;
}

static void on_lo(wp_ctx *ctx)
{
    static const char *const lo[] = {"lo"};
    wp_discovery_config dc;
    wp_error err;
    wp_discovery_config_init(&dc);
    dc.backend = WP_DISCOVERY_BUILTIN;
    dc.ifaces = lo;
    dc.n_ifaces = 1;
    CHECK(wp_discovery_configure(ctx, &dc, &err) == WP_OK, "configure: %s", err.detail);
}

/* ------------------------------------------------------------ steps */

/* Misuse is refused before anything touches the network. */
static void argument_checks(wp_ctx *ctx)
{
    wp_discovery_config dc;
    wp_advert_opts ao;
    wp_advert *a;
    wp_browser *br;
    wp_error err;
    static const char *const bad[] = {"wp-no-such0"};
    static const char *const lo[] = {"lo"};
    wp_discovery_config_init(&dc);
    dc.no_ipv4 = dc.no_ipv6 = true;
    CHECK(wp_discovery_configure(ctx, &dc, &err) == WP_EINVAL, "both families off");
    wp_discovery_config_init(&dc);
    dc.ifaces = bad;
    dc.n_ifaces = 1;
    CHECK(wp_discovery_configure(ctx, &dc, &err) == WP_ENOTFOUND, "unknown interface");
    wp_discovery_config_init(&dc);
    dc.ifaces = lo;
    dc.n_ifaces = 1;
    dc.backend = WP_DISCOVERY_AVAHI;
    CHECK(wp_discovery_configure(ctx, &dc, &err) == WP_EINVAL, "Avahi with interfaces");
    wp_discovery_config_init(&dc);
    dc.host_name = "bad host";
    CHECK(wp_discovery_configure(ctx, &dc, &err) == WP_EINVAL, "host name with a space");
    dc.host_name = NULL;
    dc.backend = (wp_discovery_backend)9;
    CHECK(wp_discovery_configure(ctx, &dc, &err) == WP_EINVAL, "unknown backend");
    CHECK(wp_discovery_backend_used(ctx) == WP_DISCOVERY_AUTO, "not started");

    wp_advert_opts_init(&ao);
    CHECK(wp_advertise(ctx, &ao, &a, &err) == WP_EINVAL && !a, "port 0");
    ao.port = 7;
    ao.name = "0123456789012345678901234567890123456789012345678901234567890123";
    CHECK(wp_advertise(ctx, &ao, &a, &err) == WP_EINVAL, "64-byte name");
    ao.name = "";
    CHECK(wp_advertise(ctx, &ao, &a, &err) == WP_EINVAL, "empty name");
    ao.name = "x";
    wp_txt_entry t[2] = {{.key = "FP", .value = (const uint8_t *)"1", .value_len = 1,
                          .has_value = true}};
    ao.txt = t;
    ao.n_txt = 1;
    CHECK(wp_advertise(ctx, &ao, &a, &err) == WP_EEXIST, "fp is wipeer's: %s", err.detail);
    t[0].key = "a=b";
    CHECK(wp_advertise(ctx, &ao, &a, &err) == WP_EINVAL, "'=' in a key");
    t[0].key = "k";
    t[1] = t[0];
    ao.n_txt = 2;
    CHECK(wp_advertise(ctx, &ao, &a, &err) == WP_EEXIST, "key twice");
    CHECK(wp_browse(ctx, NULL, NULL, &br, &err) == WP_EINVAL, "browse without callback");
    CHECK(wp_resolve(ctx, "", 10, on_disc, NULL, &err) == WP_EINVAL, "empty target");
    CHECK(wp_resolve(ctx, "x", 10, NULL, NULL, &err) == WP_EINVAL, "resolve without callback");
    CHECK(wp_discovery_backend_used(ctx) == WP_DISCOVERY_AUTO, "still not started");
    printf("ok: argument checks\n");
}

static pid_t spawn_forgery(char *mdns_peer, uint16_t port, const char *fp)
{
    char publish[64], txt_fp[64];
    char a[][16] = {"--iface", "lo", "--no-v6", "--host", "forger", "--publish", "--txt", "v=1",
                    "--txt", "--expect-count", "99", "--timeout", "20000"};
    snprintf(publish, sizeof publish, "forged:%u", port);
    snprintf(txt_fp, sizeof txt_fp, "fp=%s", fp);
    char *argv[] = {mdns_peer, a[0], a[1], a[2], a[3], a[4], a[5], publish, a[6], a[7], a[8],
                    txt_fp, a[9], a[10], a[11], a[12], NULL};
    pid_t pid;
    CHECK(posix_spawn(&pid, mdns_peer, NULL, NULL, argv, environ) == 0, "spawn %s", mdns_peer);
    return pid;
}

int main(int argc, char **argv)
{
    CHECK(argc == 2, "usage: test_disc_api MDNS_PEER");
    wp_identity *ida = new_identity("A"), *idb = new_identity("B"), *idc = new_identity("C");
    wp_fingerprint fa, fb;
    char fa_s[WP_FINGERPRINT_SHORT_STR], fb_s[WP_FINGERPRINT_SHORT_STR];
    wp_identity_fingerprint(ida, &fa);
    wp_identity_fingerprint(idb, &fb);
    wp_fingerprint_format_short(&fa, fa_s);
    wp_fingerprint_format_short(&fb, fb_s);
    wp_error err;

    wp_ctx *a = new_ctx(ida, WP_LOOP_POLL, &g_ca);
    g_b = new_ctx(idb, WP_LOOP_EPOLL, &g_cb);
    wp_ctx *c = new_ctx(idc, WP_LOOP_EPOLL, &g_cc);
    g_ca.echo = true;
    argument_checks(g_b);
    on_lo(a);
    on_lo(g_b);
    on_lo(c);
    CHECK(wp_ctx_start(a) == WP_OK, "start A");
    CHECK(wp_ctx_start(c) == WP_OK, "start C");

    /* A listens and advertises with an application key. */
    wp_listener *la, *lc;
    CHECK(wp_listen(a, "127.0.0.1", 0, NULL, &la, &err) == WP_OK, "listen A: %s", err.detail);
    wp_advert_opts ao;
    wp_advert *adv;
    wp_txt_entry app = {.key = "app", .value = (const uint8_t *)"demo", .value_len = 4,
                        .has_value = true};
    wp_advert_opts_init(&ao);
    ao.name = "alpha";
    ao.port = wp_listener_port(la);
    ao.txt = &app;
    ao.n_txt = 1;
    ao.on_event = on_disc;
    ao.user = &g_da;
    CHECK(wp_advertise(a, &ao, &adv, &err) == WP_OK, "advertise: %s", err.detail);
    wp_discovery_config late;
    wp_discovery_config_init(&late);
    CHECK(wp_discovery_configure(a, &late, &err) == WP_ESTATE, "configure after start");

    /* B browses: alpha with A's fingerprint, port, TXT, 127.0.0.1 on lo. */
    wp_browser *br;
    CHECK(wp_browse(g_b, on_disc, &g_db, &br, &err) == WP_OK, "browse: %s", err.detail);
    int64_t t0 = now_ms();
    CHECK(pump(&g_da.advertised, 1, 5000), "A advertised");
    struct svc_seen *s = seen(&g_db, "alpha");
    CHECK(pump(&s->found, 1, 5000), "B found alpha");
    printf("ok: advertised in %d ms, found by B\n", (int)(now_ms() - t0));
    CHECK(wp_discovery_backend_used(g_b) == WP_DISCOVERY_BUILTIN, "backend");
    CHECK(!strcmp(s->fp, fa_s), "fp %s, want %s", s->fp, fa_s);
    CHECK(s->port == wp_listener_port(la) && s->connectable && !s->own && s->has_app && s->has_v,
          "port %u connectable %d own %d app %d v %d", s->port, s->connectable, s->own,
          s->has_app, s->has_v);
    CHECK(!strcmp(s->addr0, "127.0.0.1") && !strcmp(s->ifname0, "lo"), "addr %s on %s",
          s->addr0, s->ifname0);
    printf("ok: B's view of alpha: %s port %u %s%%%s\n", s->fp, s->port, s->addr0, s->ifname0);

    /* Resolve by name and by fingerprint; an unknown name fails in time. */
    CHECK(wp_resolve(g_b, "ALPHA", 3000, on_disc, &g_db, &err) == WP_OK, "resolve");
    CHECK(pump(&g_db.resolved, 1, 4000) && !strcmp(g_db.resolved_name, "alpha"), "resolve name");
    CHECK(wp_resolve(g_b, fa_s, 3000, on_disc, &g_db, &err) == WP_OK, "resolve fp");
    CHECK(pump(&g_db.resolved, 2, 4000), "resolve by fingerprint");
    CHECK(wp_resolve(g_b, "nosuch", 300, on_disc, &g_db, &err) == WP_OK, "resolve nosuch");
    CHECK(pump(&g_db.resolve_failed, 1, 2000) && g_db.resolve_reason == WP_ENOTFOUND,
          "unknown name: %s", wp_status_name(g_db.resolve_reason));
    printf("ok: resolve by name (any case), by fingerprint; unknown name WP_ENOTFOUND\n");

    /* Connect by fingerprint: authenticated, A echoes. */
    wp_conn *conn;
    wp_conn_opts co;
    wp_conn_opts_init(&co);
    co.connect_timeout_ms = 4000;
    CHECK(wp_connect_discovered(g_b, fa_s, &co, &conn, &err) == WP_OK, "connect: %s",
          err.detail);
    CHECK(wp_conn_send(conn, "ping", 4) == WP_OK, "send");
    CHECK(pump(&g_cb.closed, 1, 6000), "connection ended");
    CHECK(g_cb.authenticated == 1 && g_cb.reason == WP_OK && !strcmp(g_cb.msg, "ping"),
          "auth %d reason %s msg '%s' (%s)", g_cb.authenticated, wp_status_name(g_cb.reason),
          g_cb.msg, g_cb.detail);
    printf("ok: connected by fingerprint, echo received, clean close\n");

    /* Our own fingerprint is refused at once; an unknown name after the timeout. */
    CHECK(wp_connect_discovered(g_b, fb_s, &co, &conn, &err) == WP_EIDENTITY, "own fp");
    co.connect_timeout_ms = 600;
    CHECK(wp_connect_discovered(g_b, "nobody here", &co, &conn, &err) == WP_OK, "connect");
    CHECK(pump(&g_cb.closed, 2, 3000) && g_cb.reason == WP_ENOTFOUND, "unknown: %s (%s)",
          wp_status_name(g_cb.reason), g_cb.detail);
    printf("ok: own fingerprint WP_EIDENTITY; unknown name WP_ENOTFOUND (%s)\n", g_cb.detail);

    /* A browses too: its own service is marked, connecting to it is refused. */
    wp_browser *bra;
    CHECK(wp_browse(a, on_disc, &g_da, &bra, &err) == WP_OK, "browse A");
    int64_t end = now_ms() + 5000;
    bool own = false;
    while (!own && now_ms() < end) {
        usleep(20000);
        pthread_mutex_lock(&g_mu);
        own = seen(&g_da, "alpha")->own;
        pthread_mutex_unlock(&g_mu);
    }
    CHECK(own, "A sees its own alpha as own");
    co.connect_timeout_ms = 3000;
    pthread_mutex_lock(&g_mu);
    int closed_before = g_ca.closed, closed = closed_before;
    pthread_mutex_unlock(&g_mu);
    CHECK(wp_connect_discovered(a, "alpha", &co, &conn, &err) == WP_OK, "connect own");
    end = now_ms() + 4000;
    while (closed == closed_before && now_ms() < end) {
        usleep(20000);
        pthread_mutex_lock(&g_mu);
        closed = g_ca.closed;
        pthread_mutex_unlock(&g_mu);
    }
    CHECK(closed > closed_before && g_ca.reason == WP_EIDENTITY, "own service: %s (%s)",
          wp_status_name(g_ca.reason), g_ca.detail);
    wp_browser_stop(bra);
    printf("ok: A's browse marks alpha as own; connecting to it: WP_EIDENTITY\n");

    /* wp_advert_stop: goodbye, B drops alpha. */
    t0 = now_ms();
    wp_advert_stop(adv);
    CHECK(removed_flag_wait(&g_db, "alpha", 1000), "B dropped alpha within 1 s of the goodbye");
    printf("ok: goodbye: B dropped alpha %d ms after wp_advert_stop\n", (int)(now_ms() - t0));

    /* A forged advertisement of A's fingerprint pointing at C: the handshake refuses. */
    CHECK(wp_listen(c, "127.0.0.1", 0, NULL, &lc, &err) == WP_OK, "listen C");
    pid_t forger = spawn_forgery(argv[1], wp_listener_port(lc), fa_s);
    s = seen(&g_db, "forged");
    bool found = pump(&s->found, 1, 5000);
    co.connect_timeout_ms = 4000;
    int before = g_cb.closed;
    CHECK(found, "B found the forgery");
    CHECK(wp_connect_discovered(g_b, fa_s, &co, &conn, &err) == WP_OK, "connect forged");
    CHECK(pump(&g_cb.closed, before + 1, 6000), "forged connection ended");
    kill(forger, SIGTERM);
    waitpid(forger, NULL, 0);
    CHECK(g_cb.reason == WP_EIDENTITY && g_cb.authenticated == 1,
          "forged: %s (%s); B saw it at %s port %u; C listens on %u", wp_status_name(g_cb.reason),
          g_cb.detail, s->addr0, s->port, wp_listener_port(lc));
    printf("ok: forged fp in TXT -> C's key fails the handshake: %s\n", g_cb.detail);

    wp_browser_stop(br);
    wp_listener_close(la);
    wp_listener_close(lc);
    wp_ctx_free(a);
    wp_ctx_free(c);
    wp_ctx_free(g_b);
    wp_identity_free(ida);
    wp_identity_free(idb);
    wp_identity_free(idc);
    printf("ok: all\n");
    return 0;
}

/*
 * test_avahi_backend.c - drives the Avahi backend (src/runtime/avahi.h) from
 * a poll() loop written here, against a real avahi-daemon. Run by
 * avahi_backend.sh inside a namespace the test made, with
 * DBUS_SYSTEM_BUS_ADDRESS naming the private bus of that daemon.
 *
 *   test_avahi_backend probe
 *       exit 0 if avb_probe() finds a daemon, 1 if not (reason on stdout)
 *   test_avahi_backend register NAME PORT [KEY=VALUE|KEY]... [--browse] [--timeout S]
 *       register (and with --browse, browse too), print events as JSON lines;
 *       on SIGTERM unregister (goodbye) and exit 0; exit 4 if the backend
 *       fails (daemon gone), 3 on timeout
 *   test_avahi_backend browse [--name NAME] [--until-removed] [--timeout S]
 *       browse _wipeerkit._tcp, print found/updated/removed as JSON lines;
 *       exit 0 once NAME is found (or, with --until-removed, found and then
 *       removed), 3 on timeout
 *   test_avahi_backend selftest
 *       argument checks and an allocation-failure sweep (needs a daemon)
 *
 * JSON lines: {"event":"registered","name":N} {"event":"renamed","old":O,
 * "name":N} {"event":"found"|"updated"|"removed","name":N,"host":H,"port":P,
 * "addresses":[...],"txt":{...}} {"event":"failed","status":S,"detail":D}
 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "runtime/avahi.h"

#define TYPE "_wipeerkit._tcp"
#define MAXW 16
#define MAXT 32

/* ------------------------------------------------------------ the loop */

struct wslot {
    avb_watch *w;
    int fd;
    unsigned events;
    unsigned gen;
};
struct tslot {
    avb_timer *t;
    int64_t due;
    unsigned gen;
};
static struct wslot g_w[MAXW];
static struct tslot g_t[MAXT];
static unsigned g_gen;
static volatile sig_atomic_t g_term;

static bool h_watch_add(void *u, avb_watch *w, int fd, unsigned events)
{
    (void)u;
    for (size_t i = 0; i < MAXW; i++) {
        if (!g_w[i].w) {
            g_w[i] = (struct wslot){.w = w, .fd = fd, .events = events, .gen = ++g_gen};
            return true;
        }
    }
    return false;
}
static struct wslot *wfind(const avb_watch *w)
{
    for (size_t i = 0; i < MAXW; i++)
        if (g_w[i].w == w)
            return &g_w[i];
    fprintf(stderr, "loop: unknown watch %p\n", (const void *)w);
    abort();
}
static void h_watch_update(void *u, avb_watch *w, int fd, unsigned events)
{
    (void)u;
    struct wslot *s = wfind(w);
    if (s->fd != fd)
        abort();
    s->events = events;
}
static void h_watch_remove(void *u, avb_watch *w, int fd)
{
    (void)u;
    (void)fd;
    wfind(w)->w = NULL;
}
static bool h_timeout_add(void *u, avb_timer *t, int64_t due)
{
    (void)u;
    for (size_t i = 0; i < MAXT; i++) {
        if (!g_t[i].t) {
            g_t[i] = (struct tslot){.t = t, .due = due, .gen = ++g_gen};
            return true;
        }
    }
    return false;
}
static struct tslot *tfind(const avb_timer *t)
{
    for (size_t i = 0; i < MAXT; i++)
        if (g_t[i].t == t)
            return &g_t[i];
    fprintf(stderr, "loop: unknown timer %p\n", (const void *)t);
    abort();
}
static void h_timeout_update(void *u, avb_timer *t, int64_t due)
{
    (void)u;
    tfind(t)->due = due;
}
static void h_timeout_remove(void *u, avb_timer *t)
{
    (void)u;
    tfind(t)->t = NULL;
}

static const struct avb_loop k_loop = {
    .watch_add = h_watch_add,
    .watch_update = h_watch_update,
    .watch_remove = h_watch_remove,
    .timeout_add = h_timeout_add,
    .timeout_update = h_timeout_update,
    .timeout_remove = h_timeout_remove,
};

static size_t loop_count(void)
{
    size_t n = 0;
    for (size_t i = 0; i < MAXW; i++)
        n += g_w[i].w != NULL;
    for (size_t i = 0; i < MAXT; i++)
        n += g_t[i].t != NULL;
    return n;
}

/* One iteration: wait up to max_ms (less if a timer is due), dispatch. */
static void loop_once(int64_t max_ms)
{
    struct pollfd pfd[MAXW];
    size_t slot[MAXW];
    unsigned gen[MAXW];
    nfds_t n = 0;
    int64_t now = avb_now_ms(), wait = max_ms;
    for (size_t i = 0; i < MAXT; i++)
        if (g_t[i].t && g_t[i].due >= 0)
            wait = WP_MIN(wait, WP_MAX(0, g_t[i].due - now));
    for (size_t i = 0; i < MAXW; i++) {
        if (!g_w[i].w)
            continue;
        pfd[n] = (struct pollfd){.fd = g_w[i].fd, .events = (short)g_w[i].events};
        slot[n] = i;
        gen[n] = g_w[i].gen;
        n++;
    }
    int rc = poll(pfd, n, (int)wait);
    if (rc < 0 && errno != EINTR) {
        perror("poll");
        exit(1);
    }
    for (nfds_t k = 0; rc > 0 && k < n; k++) {
        struct wslot *s = &g_w[slot[k]];
        /* A callback may have removed (or replaced) a watch of this batch. */
        if (pfd[k].revents && s->w && s->gen == gen[k])
            avb_watch_ready(s->w, (unsigned)pfd[k].revents);
    }
    now = avb_now_ms();
    for (size_t i = 0; i < MAXT; i++) {
        struct tslot *s = &g_t[i];
        if (s->t && s->due >= 0 && s->due <= now)
            avb_timer_fire(s->t);
    }
}

/* ------------------------------------------------------------ output */

static void jstr(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

static void print_service(const char *event, const struct avb_service *svc)
{
    char buf[INET6_ADDRSTRLEN];
    printf("{\"event\":\"%s\",\"name\":", event);
    jstr(svc->name);
    printf(",\"type\":");
    jstr(svc->type);
    printf(",\"host\":");
    jstr(svc->host);
    printf(",\"port\":%u,\"addresses\":[", svc->port);
    for (size_t i = 0; i < svc->n_addrs; i++) {
        const struct avb_addr *a = &svc->addrs[i];
        inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->bytes, buf, sizeof buf);
        printf("%s\"%s\"", i ? "," : "", buf);
    }
    printf("],\"txt\":{");
    for (size_t i = 0; i < svc->n_txt; i++) {
        const struct avb_txt *t = &svc->txt[i];
        printf("%s", i ? "," : "");
        jstr(t->key);
        putchar(':');
        if (!t->has_value) {
            printf("null");
            continue;
        }
        char val[256];
        size_t n = WP_MIN(t->value_len, sizeof val - 1);
        memcpy(val, t->value, n);
        val[n] = '\0';
        jstr(val);
    }
    printf("},\"local\":%s,\"own\":%s}\n", svc->is_local ? "true" : "false",
           svc->is_own ? "true" : "false");
    fflush(stdout);
}

static void print_failed(const wp_err *e)
{
    printf("{\"event\":\"failed\",\"status\":\"%s\",\"detail\":", wp_status_name(e->code));
    jstr(e->detail);
    printf("}\n");
    fflush(stdout);
}

/* ------------------------------------------------------------ modes */

struct run {
    bool is_browse_mode; /* exit on finding want_name (any name if NULL) */
    const char *want_name;
    bool until_removed;
    bool is_found;
    int exit_code; /* -1 while running */
};

static void on_event(void *user, const struct avb_event *ev)
{
    struct run *r = user;
    bool is_want;
    switch (ev->kind) {
    case AVB_EV_REGISTERED:
        printf("{\"event\":\"registered\",\"name\":");
        jstr(ev->name);
        printf("}\n");
        fflush(stdout);
        break;
    case AVB_EV_RENAMED:
        printf("{\"event\":\"renamed\",\"old\":");
        jstr(ev->old_name);
        printf(",\"name\":");
        jstr(ev->name);
        printf("}\n");
        fflush(stdout);
        break;
    case AVB_EV_FOUND:
    case AVB_EV_UPDATED:
    case AVB_EV_REMOVED:
        print_service(ev->kind == AVB_EV_FOUND     ? "found"
                      : ev->kind == AVB_EV_UPDATED ? "updated"
                                                   : "removed",
                      ev->svc);
        is_want = r->is_browse_mode &&
                  (!r->want_name || strcmp(r->want_name, ev->svc->name) == 0);
        if (is_want && ev->kind != AVB_EV_REMOVED)
            r->is_found = true;
        if (is_want && r->is_found && (!r->until_removed || ev->kind == AVB_EV_REMOVED))
            r->exit_code = 0;
        break;
    case AVB_EV_FAILED:
        print_failed(ev->err);
        if (!ev->reg && !ev->browse)
            r->exit_code = 4;
        break;
    default:
        break;
    }
}

static void on_term(int sig)
{
    (void)sig;
    g_term = 1;
}

static int run_loop(struct run *r, double timeout_s)
{
    int64_t end = avb_now_ms() + (int64_t)(timeout_s * 1000);
    while (r->exit_code < 0 && !g_term) {
        int64_t left = end - avb_now_ms();
        if (left <= 0) {
            fprintf(stderr, "timeout after %.1f s\n", timeout_s);
            return 3;
        }
        loop_once(WP_MIN(left, 200));
    }
    return g_term ? 0 : r->exit_code;
}

static int mode_probe(void)
{
    wp_err e;
    err_clear(&e);
    bool is_up = avb_probe(&e);
    printf("probe: %s %s %s\n", is_up ? "reachable" : "unreachable", wp_status_name(e.code),
           e.detail);
    return is_up ? 0 : 1;
}

static int mode_register(int argc, char **argv)
{
    struct run r = {.exit_code = -1};
    struct avb_txt txt[16];
    size_t n_txt = 0;
    double timeout = 30;
    avb *b = NULL;
    avb_reg *reg = NULL;
    avb_browser *br = NULL;
    bool want_browse = false;
    wp_err e;
    int rc;
    err_clear(&e);
    if (argc < 2)
        return 2;
    const char *name = argv[0];
    uint16_t port = (uint16_t)atoi(argv[1]);
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
            timeout = atof(argv[++i]);
            continue;
        }
        if (strcmp(argv[i], "--browse") == 0) {
            want_browse = true;
            continue;
        }
        if (n_txt == WP_ARRAY_LEN(txt))
            return 2;
        char *eq = strchr(argv[i], '=');
        txt[n_txt] = (struct avb_txt){.key = argv[i]};
        if (eq) {
            *eq = '\0';
            txt[n_txt].value = (const uint8_t *)eq + 1;
            txt[n_txt].value_len = strlen(eq + 1);
            txt[n_txt].has_value = true;
        }
        n_txt++;
    }
    if (avb_new(&k_loop, on_event, &r, &b, &e) != WP_OK) {
        print_failed(&e);
        return 1;
    }
    if (avb_register(b, name, TYPE, port, txt, n_txt, &reg, &e) != WP_OK ||
        (want_browse && avb_browse(b, TYPE, &br, &e) != WP_OK)) {
        print_failed(&e);
        avb_free(b);
        return 1;
    }
    rc = run_loop(&r, timeout);
    if (rc == 4 && avb_register(b, "after", TYPE, 1, NULL, 0, &reg, &e) == WP_OK) {
        fprintf(stderr, "register after a backend failure succeeded\n");
        rc = 1;
    }
    avb_free(b);
    if (loop_count() != 0) {
        fprintf(stderr, "avb_free left %zu watches/timers registered\n", loop_count());
        rc = 1;
    }
    return rc;
}

static int mode_browse(int argc, char **argv)
{
    struct run r = {.exit_code = -1, .is_browse_mode = true};
    double timeout = 10;
    avb *b = NULL;
    avb_browser *br = NULL;
    wp_err e;
    int rc;
    err_clear(&e);
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
            r.want_name = argv[++i];
        else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
            timeout = atof(argv[++i]);
        else if (strcmp(argv[i], "--until-removed") == 0)
            r.until_removed = true;
        else
            return 2;
    }
    if (avb_new(&k_loop, on_event, &r, &b, &e) != WP_OK) {
        print_failed(&e);
        return 1;
    }
    if (avb_browse(b, TYPE, &br, &e) != WP_OK) {
        print_failed(&e);
        avb_free(b);
        return 1;
    }
    rc = run_loop(&r, timeout);
    avb_browse_stop(b, br);
    avb_free(b);
    if (loop_count() != 0) {
        fprintf(stderr, "avb_free left %zu watches/timers registered\n", loop_count());
        rc = 1;
    }
    return rc;
}

/* ------------------------------------------------------------ selftest */

static int g_fails;
#define CHECK(cond, ...)                                                                 \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            printf("not ok - %s:%d: ", __FILE__, __LINE__);                              \
            printf(__VA_ARGS__);                                                         \
            printf("\n");                                                                \
            g_fails++;                                                                   \
        }                                                                                \
    } while (0)

static long g_allocs; /* allocations that reached the real allocator */
static void *count_malloc(size_t n)
{
    g_allocs++;
    return malloc(n);
}
static void *count_realloc(void *p, size_t n)
{
    g_allocs++;
    return realloc(p, n);
}

/* avb_register with one TXT item; returns the status, unregisters on success. */
static wp_status reg_one(avb *b, const char *name, const char *type, struct avb_txt t,
                         size_t n_txt, wp_err *e)
{
    avb_reg *r = NULL;
    wp_status st = avb_register(b, name, type, 7, &t, n_txt, &r, e);
    if (st == WP_OK) {
        CHECK(r && strcmp(avb_reg_name(r), name) == 0, "avb_reg_name");
        avb_unregister(b, r);
    } else {
        CHECK(r == NULL && e->detail[0], "failure without NULL handle or detail");
    }
    return st;
}

static void check_arguments(void)
{
    avb *b = NULL;
    avb_browser *br = NULL;
    wp_err e;
    uint8_t big[300];
    struct run r = {.exit_code = -1};
    memset(big, 'x', sizeof big);
    err_clear(&e);
    CHECK(avb_new(&k_loop, on_event, &r, &b, &e) == WP_OK, "avb_new: %s", e.detail);
    if (!b)
        return;
    struct avb_txt ok = {.key = "v", .value = (const uint8_t *)"1", .value_len = 1, .has_value = true};
    CHECK(reg_one(b, "fine", TYPE, ok, 1, &e) == WP_OK, "valid registration: %s", e.detail);
    CHECK(reg_one(b, "", TYPE, ok, 1, &e) == WP_EINVAL, "empty name");
    char longname[65];
    memset(longname, 'n', 64);
    longname[64] = '\0';
    CHECK(reg_one(b, longname, TYPE, ok, 1, &e) == WP_EINVAL, "64-byte name");
    CHECK(reg_one(b, "x", "wipeerkit", ok, 1, &e) == WP_EINVAL, "bad type");
    CHECK(reg_one(b, "x", TYPE, (struct avb_txt){.key = "a=b"}, 1, &e) == WP_EINVAL, "'=' in key");
    CHECK(reg_one(b, "x", TYPE, (struct avb_txt){.key = ""}, 1, &e) == WP_EINVAL, "empty key");
    CHECK(reg_one(b, "x", TYPE, (struct avb_txt){.key = "a\x7f"}, 1, &e) == WP_EINVAL, "DEL in key");
    CHECK(reg_one(b, "x", TYPE, (struct avb_txt){.key = "a", .value_len = 3}, 1, &e) == WP_EINVAL,
          "value_len without value");
    struct avb_txt t253 = {.key = "k", .value = big, .value_len = 253, .has_value = true};
    CHECK(reg_one(b, "x", TYPE, t253, 1, &e) == WP_OK, "255-byte TXT string: %s", e.detail);
    t253.value_len = 254;
    CHECK(reg_one(b, "x", TYPE, t253, 1, &e) == WP_ETOOBIG, "256-byte TXT string");
    struct avb_txt dup[2] = {ok, ok};
    dup[1].key = "V";
    avb_reg *reg = NULL;
    CHECK(avb_register(b, "x", TYPE, 7, dup, 2, &reg, &e) == WP_EINVAL && !reg, "duplicate key");
    struct avb_txt many[6];
    for (size_t i = 0; i < 6; i++)
        many[i] = (struct avb_txt){.key = (const char *[]){"a", "b", "c", "d", "e", "f"}[i],
                                   .value = big, .value_len = 250, .has_value = true};
    CHECK(avb_register(b, "x", TYPE, 7, many, 6, &reg, &e) == WP_ETOOBIG && !reg, "TXT > %u",
          AVB_TXT_MAX);
    CHECK(avb_browse(b, "nope", &br, &e) == WP_EINVAL && !br, "browse bad type");
    CHECK(avb_last_error(b) == NULL, "healthy backend has no sticky error");
    avb_free(b);
    CHECK(loop_count() == 0, "avb_free left %zu hooks", loop_count());
    printf("ok - argument checks\n");
}

/* Fail the 1st, 2nd, ... allocation of a synchronous scenario until none
 * fails: every call must report a status with a detail, never crash or
 * leak (ASan), and leave no hook registered. */
static void check_alloc_failures(void)
{
    long n, statuses[4] = {0};
    struct avb_txt t = {.key = "v", .value = (const uint8_t *)"1", .value_len = 1, .has_value = true};
    for (n = 0; n < 2000; n++) {
        struct run r = {.exit_code = -1};
        avb *b = NULL;
        avb_reg *reg = NULL;
        avb_browser *br = NULL;
        wp_err e;
        err_clear(&e);
        g_allocs = 0;
        mem_fail_after(n);
        wp_status st = avb_new(&k_loop, on_event, &r, &b, &e);
        if (st == WP_OK) {
            st = avb_register(b, "sweep", TYPE, 9, &t, 1, &reg, &e);
            if (st == WP_OK)
                st = avb_browse(b, TYPE, &br, &e);
            avb_unregister(b, reg);
            avb_browse_stop(b, br);
            avb_free(b);
        }
        /* Had the failure point been reached? Then this allocation fails too. */
        void *probe = wp_malloc(1);
        bool is_injected = probe == NULL;
        wp_free(probe);
        mem_fail_after(-1);
        CHECK(st == WP_OK || e.detail[0], "n=%ld: %s without detail", n, wp_status_name(st));
        statuses[st == WP_OK ? 0 : st == WP_ENOMEM ? 1 : 2]++;
        if (st != WP_OK && st != WP_ENOMEM)
            printf("# n=%ld: %s: %s\n", n, wp_status_name(st), e.detail);
        CHECK(loop_count() == 0, "n=%ld: %zu hooks left", n, loop_count());
        if (!is_injected)
            break; /* nothing failed: every allocation point was covered */
    }
    CHECK(n > 10 && n < 2000, "sweep ended after %ld allocations", n);
    printf("ok - allocation-failure sweep: %ld allocation points, %ld ENOMEM, %ld other "
           "failures, %ld allocations in the full run\n",
           n, statuses[1], statuses[2], g_allocs);
}

static int mode_selftest(void)
{
    if (wp_set_allocator(count_malloc, count_realloc, free) != WP_OK) {
        printf("not ok - wp_set_allocator\n");
        return 1;
    }
    check_arguments();
    check_alloc_failures();
    return g_fails ? 1 : 0;
}

int main(int argc, char **argv)
{
    struct sigaction sa = {.sa_handler = on_term};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 2 && strcmp(argv[1], "probe") == 0)
        return mode_probe();
    if (argc >= 2 && strcmp(argv[1], "register") == 0)
        return mode_register(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "browse") == 0)
        return mode_browse(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "selftest") == 0)
        return mode_selftest();
    fprintf(stderr, "usage: %s probe|register NAME PORT [K=V]...|browse [--name N] "
                    "[--until-removed] [--timeout S]|selftest\n",
            argv[0]);
    return 2;
}

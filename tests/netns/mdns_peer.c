/*
 * mdns_peer.c - the mDNS engine on real sockets (src/runtime/mdns_sock.c),
 * for the network-namespace tests (mdns_netns.sh). Not a unit test.
 *
 *   mdns_peer [--iface NAME]... [--host LABEL] [--publish NAME:PORT]
 *             [--txt KEY=VALUE]... [--browse] [--expect NAME]...
 *             [--expect-count N] [--expect-removed NAME] [--linger MS]
 *             [--timeout MS] [--no-v6]
 *
 * Prints one line per event ("FOUND name|host|port|addr,addr|v|fp|conn",
 * "REMOVED name @ms", "REGISTERED name", "RENAMED name"), and "BYE @ms"
 * after sending its goodbyes (ms: CLOCK_MONOTONIC, shared by namespaces). Exits 0 once every
 * expectation is met (then lingers --linger ms so peers can finish, and
 * says goodbye), 1 on timeout, 2 on usage errors, 3 on setup failures.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "dns/mdns.h"
#include "dns/txt.h"
#include "runtime/mdns_sock.h"

#define MAX_LIST 8

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static wp_status rng(void *user, uint8_t *out, size_t len)
{
    FILE *f = user;
    return fread(out, 1, len, f) == len ? WP_OK : WP_ECRYPTO;
}

struct opts {
    const char *ifaces[MAX_LIST];
    size_t n_ifaces;
    const char *host;
    const char *publish;
    const char *txt[MAX_LIST];
    size_t n_txt;
    bool browse, no_v6;
    const char *expect[MAX_LIST];
    size_t n_expect;
    size_t expect_count;
    const char *expect_removed;
    int64_t linger, timeout;
};

static bool in_list(char list[][MDNS_LABEL_STR_MAX], size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(list[i], name) == 0)
            return true;
    }
    return false;
}

static void print_event(const struct mdns_event *ev)
{
    char addrs[MDNS_MAX_ADDRS * 48] = "";
    switch (ev->type) {
    case MDNS_EV_REGISTERED:
        printf("REGISTERED %s\n", ev->name);
        break;
    case MDNS_EV_RENAMED:
    case MDNS_EV_HOST_RENAMED:
        printf("%s %s\n", ev->type == MDNS_EV_RENAMED ? "RENAMED" : "HOST_RENAMED", ev->name);
        break;
    case MDNS_EV_FOUND:
    case MDNS_EV_UPDATED:
        for (size_t i = 0; i < ev->info.n_addrs; i++) {
            char a[INET6_ADDRSTRLEN];
            const mdns_endpoint *e = &ev->info.addrs[i];
            inet_ntop(e->ip.family == MDNS_INET ? AF_INET : AF_INET6, e->ip.addr, a, sizeof a);
            strcat(addrs, i ? "," : "");
            strcat(addrs, a);
        }
        printf("%s %s|%s|%u|%s|%u|%s|%d\n", ev->type == MDNS_EV_FOUND ? "FOUND" : "UPDATED",
               ev->info.name, ev->info.host, ev->info.port, addrs, ev->info.version,
               ev->info.has_fp ? ev->info.fp : "", ev->info.is_connectable);
        break;
    case MDNS_EV_REMOVED:
        printf("REMOVED %s @%lld\n", ev->info.name, (long long)now_ms());
        break;
    }
    fflush(stdout);
}

static int parse(int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof *o);
    o->timeout = 10000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = true;
        if (!strcmp(a, "--browse"))
            o->browse = true, takes = false;
        else if (!strcmp(a, "--no-v6"))
            o->no_v6 = true, takes = false;
        else if (!v)
            return -1;
        else if (!strcmp(a, "--iface") && o->n_ifaces < MAX_LIST)
            o->ifaces[o->n_ifaces++] = v;
        else if (!strcmp(a, "--host"))
            o->host = v;
        else if (!strcmp(a, "--publish"))
            o->publish = v;
        else if (!strcmp(a, "--txt") && o->n_txt < MAX_LIST)
            o->txt[o->n_txt++] = v;
        else if (!strcmp(a, "--expect") && o->n_expect < MAX_LIST)
            o->expect[o->n_expect++] = v;
        else if (!strcmp(a, "--expect-count"))
            o->expect_count = (size_t)atoi(v);
        else if (!strcmp(a, "--expect-removed"))
            o->expect_removed = v;
        else if (!strcmp(a, "--linger"))
            o->linger = atoi(v);
        else if (!strcmp(a, "--timeout"))
            o->timeout = atoi(v);
        else
            return -1;
        i += takes;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o;
    wp_err err;
    mdns *m = NULL;
    struct mdns_sock *s = NULL;
    char found[32][MDNS_LABEL_STR_MAX], removed[32][MDNS_LABEL_STR_MAX];
    size_t n_found = 0, n_removed = 0;
    if (parse(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: see the comment at the top of mdns_peer.c\n");
        return 2;
    }
    FILE *ur = fopen("/dev/urandom", "rb");
    struct mdns_config cfg = {.rng = rng, .rng_user = ur, .host_label = o.host};
    struct mdns_sock_config sc = {.ifnames = o.ifaces, .n_ifnames = o.n_ifaces, .no_v6 = o.no_v6};
    int64_t t0 = now_ms();
    if (!ur || mdns_new(&cfg, t0, &m, &err) != WP_OK || mdns_sock_open(&sc, &s, &err) != WP_OK ||
        mdns_sock_sync(s, m, t0, &err) != WP_OK) {
        fprintf(stderr, "setup: %s\n", err.detail);
        return 3;
    }
    if (o.publish) {
        char name[MDNS_LABEL_STR_MAX];
        uint8_t txt[512];
        wp_wbuf w;
        uint32_t id;
        const char *colon = strrchr(o.publish, ':');
        if (!colon || (size_t)(colon - o.publish) >= sizeof name)
            return 2;
        memcpy(name, o.publish, (size_t)(colon - o.publish));
        name[colon - o.publish] = '\0';
        wbuf_init(&w, txt, sizeof txt);
        for (size_t i = 0; i < o.n_txt; i++) {
            char kv[300];
            snprintf(kv, sizeof kv, "%s", o.txt[i]);
            char *eq = strchr(kv, '=');
            if (eq)
                *eq = '\0';
            if (txt_add_str(&w, kv, eq ? eq + 1 : NULL, &err) != WP_OK)
                return 2;
        }
        struct mdns_service_desc d = {.instance = name, .port = (uint16_t)atoi(colon + 1),
                                      .txt = txt, .txt_len = w.len};
        if (mdns_service_add(m, &d, t0, &id) != WP_OK) {
            fprintf(stderr, "publish: %s\n", mdns_last_error(m)->detail);
            return 3;
        }
    }
    if (o.browse && mdns_browse_start(m, MDNS_SERVICE_TYPE, t0) != WP_OK)
        return 3;
    int rc = 1;
    int64_t done_at = -1;
    for (;;) {
        int64_t now = now_ms();
        if (mdns_sock_flush(s, m, &err) != WP_OK)
            fprintf(stderr, "send: %s\n", err.detail);
        struct mdns_event ev;
        while (mdns_next_event(m, &ev) == WP_OK) {
            print_event(&ev);
            if (ev.type == MDNS_EV_FOUND && n_found < 32 && !in_list(found, n_found, ev.info.name))
                snprintf(found[n_found++], MDNS_LABEL_STR_MAX, "%s", ev.info.name);
            if (ev.type == MDNS_EV_REMOVED && n_removed < 32)
                snprintf(removed[n_removed++], MDNS_LABEL_STR_MAX, "%s", ev.info.name);
        }
        bool met = n_found >= o.expect_count;
        for (size_t i = 0; i < o.n_expect; i++)
            met &= in_list(found, n_found, o.expect[i]);
        if (o.expect_removed)
            met &= in_list(removed, n_removed, o.expect_removed);
        if (met && done_at < 0) {
            rc = 0;
            done_at = now + o.linger;
        }
        if ((done_at >= 0 && now >= done_at) || now - t0 > o.timeout)
            break;
        int64_t dl = mdns_deadline_ms(m), wait = 100;
        if (dl >= 0)
            wait = WP_MAX(0, WP_MIN(wait, dl - now));
        struct pollfd pf[MDNS_SOCK_MAX_FDS];
        int fds[MDNS_SOCK_MAX_FDS];
        size_t nf = mdns_sock_fds(s, fds, MDNS_SOCK_MAX_FDS);
        for (size_t i = 0; i < nf; i++)
            pf[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
        if (poll(pf, nf, (int)wait) < 0)
            break;
        now = now_ms();
        for (size_t i = 0; i < nf; i++) {
            if ((pf[i].revents & POLLIN) && mdns_sock_read(s, pf[i].fd, m, now, &err) != WP_OK)
                fprintf(stderr, "read: %s\n", err.detail);
        }
        if (mdns_tick(m, now) != WP_OK)
            break;
    }
    if (mdns_shutdown(m, now_ms()) == WP_OK && mdns_sock_flush(s, m, &err) != WP_OK)
        fprintf(stderr, "goodbye: %s\n", err.detail);
    printf("BYE @%lld\n", (long long)now_ms());
    struct mdns_stats st;
    mdns_get_stats(m, &st);
    fprintf(stderr, "stats: rx %llu (bad %llu) tx %llu\n", (unsigned long long)st.rx_packets,
            (unsigned long long)st.rx_bad, (unsigned long long)st.tx_packets);
    mdns_sock_close(s);
    mdns_free(m);
    fclose(ur);
    return rc;
}

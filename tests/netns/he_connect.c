/*
 * he_connect - connect to a name that resolves to several addresses, in a
 * given order, and report how long authentication took (happy_eyeballs.sh).
 *
 *   WP_HE_ADDRS=192.0.2.101,192.0.2.1 he_connect HOME PORT TIMEOUT_MS
 *
 * getaddrinfo is wrapped: the name "multi.wipeer.invalid" resolves to the
 * numeric addresses of WP_HE_ADDRS, in that order (each parsed by the real
 * getaddrinfo and chained; glibc's freeaddrinfo frees node by node). Every
 * other lookup goes to the C library. Prints one line:
 *   authenticated <ms> <remote address>     (exit 0)
 *   closed <WP_STATUS> <ms> <detail>        (exit 1)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wipeer.h"

#define NAME "multi.wipeer.invalid"

static int (*real_gai)(const char *, const char *, const struct addrinfo *, struct addrinfo **);

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    if (!real_gai)
        *(void **)&real_gai = dlsym(RTLD_NEXT, "getaddrinfo");
    const char *list = getenv("WP_HE_ADDRS");
    bool numeric_only = hints && (hints->ai_flags & AI_NUMERICHOST);
    if (!node || strcmp(node, NAME) || numeric_only || !list)
        return real_gai(node, service, hints, res);
    char buf[512];
    snprintf(buf, sizeof buf, "%s", list);
    struct addrinfo h = *hints, *head = NULL, **tail = &head;
    h.ai_flags |= AI_NUMERICHOST;
    for (char *save = NULL, *a = strtok_r(buf, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
        struct addrinfo *one = NULL;
        int r = real_gai(a, service, &h, &one);
        if (r != 0)
            return r;
        *tail = one;
        while (*tail)
            tail = &(*tail)->ai_next;
    }
    *res = head;
    return head ? 0 : EAI_NONAME;
}

struct st {
    bool done, auth;
    wp_status reason;
    char detail[WP_ERROR_DETAIL_MAX];
    char remote[WP_ADDRESS_STR];
};

static int on_event(const wp_event *ev, void *user)
{
    struct st *s = user;
    if (ev->type == WP_EV_PEER_IDENTITY)
        return WP_TRUST_ACCEPT;
    if (ev->type == WP_EV_AUTHENTICATED) {
        s->auth = s->done = true;
        wp_conn_remote_address(ev->conn, s->remote, sizeof s->remote);
    }
    if (ev->type == WP_EV_CLOSED && !s->done) {
        s->done = true;
        s->reason = ev->reason;
        snprintf(s->detail, sizeof s->detail, "%s", ev->detail);
    }
    return 0;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: he_connect HOME PORT TIMEOUT_MS\n");
        return 2;
    }
    wp_identity *id;
    wp_ctx *ctx;
    wp_conn *c;
    wp_error err;
    wp_ctx_config cfg;
    wp_conn_opts o;
    struct st s;
    memset(&s, 0, sizeof s);
    if (wp_identity_open(argv[1], NULL, WP_IDENTITY_CREATE, &id, NULL, &err) != WP_OK) {
        fprintf(stderr, "identity: %s\n", err.detail);
        return 2;
    }
    wp_ctx_config_init(&cfg);
    cfg.identity = id;
    cfg.on_event = on_event;
    cfg.user = &s;
    if (wp_ctx_new(&cfg, &ctx, &err) != WP_OK) {
        fprintf(stderr, "ctx: %s\n", err.detail);
        return 2;
    }
    wp_conn_opts_init(&o);
    o.connect_timeout_ms = (uint32_t)atoi(argv[3]);
    long t0 = now_ms();
    if (wp_connect(ctx, NAME, (uint16_t)atoi(argv[2]), &o, &c, &err) != WP_OK) {
        fprintf(stderr, "connect: %s\n", err.detail);
        return 2;
    }
    while (!s.done) {
        struct pollfd p = {.fd = wp_ctx_fd(ctx), .events = POLLIN};
        (void)poll(&p, 1, wp_ctx_timeout_ms(ctx));
        if (wp_ctx_process(ctx) != WP_OK)
            return 2;
    }
    long took = now_ms() - t0;
    if (s.auth)
        printf("authenticated %ld %s\n", took, s.remote);
    else
        printf("closed %s %ld %s\n", wp_status_name(s.reason), took, s.detail);
    wp_ctx_free(ctx);
    wp_identity_free(id);
    return s.auth ? 0 : 1;
}

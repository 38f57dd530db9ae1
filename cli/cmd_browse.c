/*
 * cmd_browse.c - `wipeer browse`: list the wipeer peers on the local
 * network as they appear, change and leave (mDNS/DNS-SD, _wipeerkit._tcp),
 * as a table or as one JSON object per event (stdout), until --timeout or
 * SIGINT/SIGTERM.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

struct browse {
    bool json;
    wp_ctx *ctx;
    bool failed;
    wp_status reason;
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: wipeer browse [--json] [--timeout SEC] [--iface IFACE]...\n"
            "                     [--discovery auto|builtin|avahi] [--no-ipv4] [--no-ipv6]\n"
            "                     [--home DIR]\n"
            "\n"
            "List the wipeer peers on the local network as they appear (+), change (~) and\n"
            "leave (-): name, fingerprint (as the peer publishes it: a hint that\n"
            "'wipeer connect FINGERPRINT' then verifies), port, whether we can connect\n"
            "(a service without wipeer's TXT record, e.g. an app of the original iOS SDK,\n"
            "is listed but not connectable), and addresses with their interface.\n"
            "\n"
            "options:\n"
            "  --json                one JSON object per event on stdout\n"
            "  --timeout SEC         stop after SEC seconds (default: run until interrupted)\n"
            "  --iface IFACE         browse on this interface only; repeatable\n"
            "  --discovery BACKEND   auto (Avahi if its daemon runs, else builtin), builtin\n"
            "                        or avahi\n"
            "  --no-ipv4, --no-ipv6  one address family only\n"
            "  --home DIR            state directory holding the identity\n"
            "  -h, --help            show this help\n"
            "\n"
            "Exit status: 0 done (timeout or interrupted), 1 failure, 2 usage.\n");
}

static void print_row(const char *mark, const wp_service *s)
{
    char addrs[WP_SERVICE_MAX_ADDRS * (WP_ADDRESS_STR + 2)] = "";
    size_t n = 0;
    for (size_t i = 0; i < s->n_addrs && n < sizeof addrs; i++) {
        int w = snprintf(addrs + n, sizeof addrs - n, "%s%s", i ? "," : "", s->addrs[i].text);
        if (w > 0)
            n += (size_t)w;
    }
    printf("%s %-24s %-19s %5u  %-3s  %s%s\n", mark, s->name,
           s->fingerprint ? s->fingerprint : "-", s->port, s->is_connectable ? "yes" : "no",
           n ? addrs : "-", s->is_own ? "  (this process)" : "");
    fflush(stdout);
}

static void on_event(const wp_discovery_event *ev, void *user)
{
    struct browse *b = user;
    static const char *const names[] = {"", "", "", "found", "updated", "removed"};
    static const char *const marks[] = {"", "", "", "+", "~", "-"};
    switch (ev->type) {
    case WP_DISC_FOUND:
    case WP_DISC_UPDATED:
    case WP_DISC_REMOVED:
        if (b->json)
            cli_json_service(stdout, names[ev->type], ev->service);
        else
            print_row(marks[ev->type], ev->service);
        break;
    case WP_DISC_FAILED:
        b->failed = true;
        b->reason = ev->reason;
        cli_error("browse", ev->reason, ev->detail);
        break;
    default:
        break;
    }
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int run(struct browse *b, uint32_t timeout_ms, int sig_fd)
{
    int64_t end = timeout_ms ? mono_ms() + timeout_ms : -1;
    while (!b->failed) {
        int64_t now = mono_ms();
        if (end >= 0 && now >= end)
            break;
        int t = wp_ctx_timeout_ms(b->ctx);
        if (end >= 0 && (t < 0 || t > end - now))
            t = (int)(end - now);
        struct pollfd p[2] = {{.fd = wp_ctx_fd(b->ctx), .events = POLLIN},
                              {.fd = sig_fd, .events = POLLIN}};
        if (poll(p, 2, t) < 0 && errno != EINTR) {
            fprintf(stderr, "wipeer: browse: poll: %s\n", strerror(errno));
            return CLI_FAIL;
        }
        if ((p[1].revents & POLLIN) && cli_signal_take() != 0)
            break;
        wp_status st = wp_ctx_process(b->ctx);
        if (st != WP_OK) {
            cli_error("browse: event loop", st, NULL);
            return CLI_FAIL;
        }
    }
    return b->failed ? CLI_FAIL : CLI_OK;
}

/* Connection events: browse opens none. */
static int on_conn_event(const wp_event *ev, void *user)
{
    (void)ev;
    (void)user;
    return WP_TRUST_REJECT;
}

int cmd_browse(int argc, char **argv)
{
    struct cli_disc disc;
    struct browse b;
    const char *home = NULL;
    uint32_t timeout_ms = 0;
    wp_identity *id = NULL;
    wp_browser *br = NULL;
    wp_error err;
    int rc = CLI_OK;
    memset(&b, 0, sizeof b);
    cli_disc_init(&disc);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        rc = cli_disc_option("browse", false, a, v, &disc, &i);
        if (rc == CLI_USAGE)
            return rc;
        if (rc == CLI_OK)
            continue;
        rc = CLI_OK;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return CLI_OK;
        } else if (!strcmp(a, "--json")) {
            b.json = true;
        } else if (!strcmp(a, "--timeout") || !strcmp(a, "--home")) {
            if (cli_option_value("browse", a, v, &i) != CLI_OK)
                return CLI_USAGE;
            if (!strcmp(a, "--home"))
                home = v;
            else if ((rc = cli_parse_seconds("browse", a, v, &timeout_ms)) != CLI_OK)
                return rc;
        } else {
            fprintf(stderr, "wipeer: browse: unknown option '%s'\n\n", a);
            usage(stderr);
            return CLI_USAGE;
        }
    }
    if (home && !*home) {
        fprintf(stderr, "wipeer: browse: --home needs a directory\n");
        return CLI_USAGE;
    }
    int sig_fd = cli_signals_install();
    /* The identity marks our own services and would answer connections (none here). */
    wp_status st = wp_identity_open(home, getenv("WIPEER_PASSPHRASE"), WP_IDENTITY_CREATE, &id,
                                    NULL, &err);
    if (st != WP_OK || sig_fd < 0) {
        cli_error("identity", st, err.detail);
        return CLI_FAIL;
    }
    wp_ctx_config cfg;
    wp_ctx_config_init(&cfg);
    cfg.identity = id;
    cfg.on_event = on_conn_event;
    st = wp_ctx_new(&cfg, &b.ctx, &err);
    if (st != WP_OK) {
        cli_error("context", st, err.detail);
        rc = CLI_FAIL;
        goto out;
    }
    if ((rc = cli_disc_apply(b.ctx, &disc, "browse")) != CLI_OK)
        goto out;
    st = wp_browse(b.ctx, on_event, &b, &br, &err);
    if (st != WP_OK) {
        cli_error("browse", st, err.detail);
        rc = CLI_FAIL;
        goto out;
    }
    if (!b.json) {
        printf("  %-24s %-19s %5s  %-3s  %s\n", "NAME", "FINGERPRINT", "PORT", "OK", "ADDRESSES");
        fflush(stdout);
    }
    rc = run(&b, timeout_ms, sig_fd);
    wp_browser_stop(br);
out:
    wp_ctx_free(b.ctx);
    wp_identity_free(id);
    return rc;
}

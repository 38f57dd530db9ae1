/*
 * cli_disc.c - what listen, connect and browse share about discovery: the
 * options (--iface, --discovery, --no-ipv4, --no-ipv6, --private) and the
 * "needs a value" check of every "--opt VALUE", applying them to a context,
 * printing a service, and SIGINT/SIGTERM turned into a readable fd (a
 * self-pipe) so a poll loop can stop cleanly and the library's goodbyes go
 * out before we exit.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* ---------------------------------------------------------------- options */

int cli_option_value(const char *cmd, const char *a, const char *v, int *i)
{
    if (!v) {
        fprintf(stderr, "wipeer: %s: %s needs a value\n", cmd, a);
        return CLI_USAGE;
    }
    (*i)++;
    return CLI_OK;
}

int cli_disc_option(const char *cmd, bool is_listen, const char *a, const char *v,
                    struct cli_disc *d, int *i)
{
    if (!strcmp(a, "--no-ipv4")) {
        d->cfg.no_ipv4 = true;
        return CLI_OK;
    }
    if (!strcmp(a, "--no-ipv6")) {
        d->cfg.no_ipv6 = true;
        return CLI_OK;
    }
    if (!strcmp(a, "--private")) {
        if (!is_listen) {
            fprintf(stderr, "wipeer: %s: --private is a listen option\n", cmd);
            return CLI_USAGE;
        }
        d->cfg.is_private = true;
        return CLI_OK;
    }
    if (strcmp(a, "--iface") && strcmp(a, "--discovery"))
        return -1;
    if (cli_option_value(cmd, a, v, i) != CLI_OK)
        return CLI_USAGE;
    if (!strcmp(a, "--iface")) {
        if (d->n_ifaces == WP_DISCOVERY_MAX_IFACES) {
            fprintf(stderr, "wipeer: %s: at most %d --iface\n", cmd, WP_DISCOVERY_MAX_IFACES);
            return CLI_USAGE;
        }
        d->ifaces[d->n_ifaces++] = v;
        return CLI_OK;
    }
    if (!strcmp(v, "auto"))
        d->cfg.backend = WP_DISCOVERY_AUTO;
    else if (!strcmp(v, "builtin"))
        d->cfg.backend = WP_DISCOVERY_BUILTIN;
    else if (!strcmp(v, "avahi"))
        d->cfg.backend = WP_DISCOVERY_AVAHI;
    else {
        fprintf(stderr, "wipeer: %s: --discovery is auto, builtin or avahi, not '%s'\n", cmd, v);
        return CLI_USAGE;
    }
    return CLI_OK;
}

void cli_disc_init(struct cli_disc *d)
{
    memset(d, 0, sizeof *d);
    wp_discovery_config_init(&d->cfg);
}

int cli_disc_apply(wp_ctx *ctx, const struct cli_disc *d, const char *cmd)
{
    wp_error err;
    wp_discovery_config cfg = d->cfg;
    cfg.ifaces = d->ifaces;
    cfg.n_ifaces = d->n_ifaces;
    wp_status st = wp_discovery_configure(ctx, &cfg, &err);
    if (st != WP_OK) {
        fprintf(stderr, "wipeer: %s: discovery: %s (%s)\n", cmd, wp_strerror(st), err.detail);
        return st == WP_EINVAL || st == WP_ENOTFOUND ? CLI_USAGE : CLI_FAIL;
    }
    return CLI_OK;
}

const char *cli_disc_backend_name(wp_discovery_backend b)
{
    switch (b) {
    case WP_DISCOVERY_BUILTIN:
        return "builtin";
    case WP_DISCOVERY_AVAHI:
        return "avahi";
    default:
        return "auto";
    }
}

/* ---------------------------------------------------------------- output */

void cli_json_str(FILE *f, const char *s, size_t len)
{
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

void cli_json_service(FILE *f, const char *event, const wp_service *s)
{
    fprintf(f, "{\"event\":\"%s\",\"name\":", event);
    cli_json_str(f, s->name, strlen(s->name));
    fprintf(f, ",\"fingerprint\":");
    if (s->fingerprint)
        cli_json_str(f, s->fingerprint, strlen(s->fingerprint));
    else
        fprintf(f, "null");
    fprintf(f, ",\"host\":");
    cli_json_str(f, s->host, strlen(s->host));
    fprintf(f, ",\"port\":%u,\"addresses\":[", s->port);
    for (size_t i = 0; i < s->n_addrs; i++) {
        fprintf(f, "%s{\"address\":", i ? "," : "");
        cli_json_str(f, s->addrs[i].text, strlen(s->addrs[i].text));
        fprintf(f, ",\"interface\":");
        cli_json_str(f, s->addrs[i].ifname, strlen(s->addrs[i].ifname));
        fprintf(f, "}");
    }
    fprintf(f, "],\"txt\":{");
    for (size_t i = 0; i < s->n_txt; i++) {
        fprintf(f, "%s", i ? "," : "");
        cli_json_str(f, s->txt[i].key, strlen(s->txt[i].key));
        fputc(':', f);
        if (s->txt[i].has_value)
            cli_json_str(f, (const char *)s->txt[i].value, s->txt[i].value_len);
        else
            fprintf(f, "null");
    }
    fprintf(f, "},\"version\":%u,\"connectable\":%s,\"own\":%s}\n", s->version,
            s->is_connectable ? "true" : "false", s->is_own ? "true" : "false");
    fflush(f);
}

/* ---------------------------------------------------------------- signals */

static int g_sigpipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int e = errno;
    unsigned char b = (unsigned char)sig;
    /* Non-blocking: a full pipe already holds a pending signal. */
    ssize_t n = write(g_sigpipe[1], &b, 1);
    (void)n;
    errno = e;
}

int cli_signals_install(void)
{
    if (g_sigpipe[0] >= 0)
        return g_sigpipe[0];
    if (pipe(g_sigpipe) != 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        fcntl(g_sigpipe[i], F_SETFL, fcntl(g_sigpipe[i], F_GETFL) | O_NONBLOCK);
        fcntl(g_sigpipe[i], F_SETFD, FD_CLOEXEC);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    return g_sigpipe[0];
}

int cli_signal_take(void)
{
    unsigned char b = 0;
    if (g_sigpipe[0] < 0 || read(g_sigpipe[0], &b, 1) != 1)
        return 0;
    return b;
}

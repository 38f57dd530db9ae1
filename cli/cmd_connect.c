/*
 * cmd_connect.c - `wipeer connect HOST:PORT|NAME|FINGERPRINT`: connect to a
 * wipeer peer (given directly, or found by discovery) and pipe
 * stdin/stdout through the encrypted connection.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: wipeer connect HOST:PORT|NAME|FINGERPRINT [--expect FINGERPRINT]\n"
            "                      [--no-stdin] [--timeout SEC] [--idle-timeout SEC]\n"
            "                      [--max-message N] [--iface IFACE]...\n"
            "                      [--discovery auto|builtin|avahi] [--no-ipv4] [--no-ipv6]\n"
            "                      [--json] [--home DIR]\n"
            "\n"
            "Connect to a wipeer peer, authenticate it, then copy stdin to it and its data to\n"
            "stdout, encrypted, like netcat. EOF on stdin closes our direction; we exit once\n"
            "the peer has closed too. HOST is a name, an IPv4 address or [IPv6]. A\n"
            "FINGERPRINT (16 or 64 hex digits) or a NAME is looked up on the local network\n"
            "(mDNS/DNS-SD, as 'wipeer browse' shows it); with a FINGERPRINT only that peer\n"
            "is accepted, as with --expect.\n"
            "\n"
            "options:\n"
            "  --expect FINGERPRINT  accept only this peer (short or long form); without it\n"
            "                        any peer is accepted and its fingerprint shown\n"
            "  --iface IFACE         discovery on this interface only; repeatable\n"
            "  --discovery BACKEND   auto, builtin or avahi (see wipeer listen --help)\n"
            "  --no-ipv4, --no-ipv6  discovery and connection over one family only\n"
            "  --no-stdin            do not read stdin: only receive\n"
            "  --timeout SEC         connect and handshake timeout (default 10 each)\n"
            "  --idle-timeout SEC    close when nothing arrives for SEC (default: never)\n"
            "  --max-message N       largest message to accept, in bytes (4079..16777199;\n"
            "                        default 1048559); also caps what we send\n"
            "  --json                events as JSON lines on stderr\n"
            "  --home DIR            state directory holding the identity\n"
            "  -h, --help            show this help\n"
            "\n"
            "Exit status: 0 clean close, 1 failure (also: no such peer found), 2 usage, 3\n"
            "authentication or trust failure, 4 timeout, 128+N stopped by signal N.\n");
}

/* "host:port", "1.2.3.4:port" or "[v6]:port" into host (NUL-terminated) and port. */
static int split_target(const char *t, char *host, size_t host_len, uint16_t *port)
{
    const char *colon;
    const char *h = t;
    size_t hl;
    if (t[0] == '[') {
        const char *close = strchr(t, ']');
        if (!close || close[1] != ':')
            goto bad;
        h = t + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(t, ':');
        if (!colon || strchr(t, ':') != colon)
            goto bad; /* none, or a bare IPv6 address */
        hl = (size_t)(colon - t);
    }
    if (hl == 0 || hl >= host_len)
        goto bad;
    memcpy(host, h, hl);
    host[hl] = '\0';
    char *end = NULL;
    errno = 0;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || p == 0 || p > 65535 || colon[1] == '-')
        goto bad;
    *port = (uint16_t)p;
    return CLI_OK;
bad:
    fprintf(stderr, "wipeer: connect: '%s' is not HOST:PORT (use [ADDR]:PORT for IPv6)\n", t);
    return CLI_USAGE;
}

/* "x:123" or "[...]:123": a port after the last colon. */
static bool looks_like_host_port(const char *t)
{
    const char *colon = strrchr(t, ':');
    if (!colon || !colon[1] || t[0] == ' ')
        return false;
    for (const char *p = colon + 1; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
    }
    return t[0] == '[' || strchr(t, ' ') == NULL;
}

int cmd_connect(int argc, char **argv)
{
    struct nc_opts o;
    const char *target = NULL;
    char host[256] = "";
    uint16_t port = 0;
    memset(&o, 0, sizeof o);
    cli_disc_init(&o.disc);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = cli_disc_option("connect", false, a, v, &o.disc, &i);
        if (rc == CLI_USAGE)
            return rc;
        if (rc == CLI_OK)
            continue;
        rc = CLI_OK;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return CLI_OK;
        } else if (!strcmp(a, "--json")) {
            o.json = true;
        } else if (!strcmp(a, "--no-stdin")) {
            o.no_stdin = true;
        } else if (!strcmp(a, "--expect") || !strcmp(a, "--home") || !strcmp(a, "--timeout") ||
                   !strcmp(a, "--idle-timeout") || !strcmp(a, "--max-message")) {
            if (cli_option_value("connect", a, v, &i) != CLI_OK)
                return CLI_USAGE;
            if (!strcmp(a, "--expect")) {
                rc = cli_check_fingerprint("connect", a, v);
                o.expect = v;
            } else if (!strcmp(a, "--home")) {
                o.home = v;
            } else if (!strcmp(a, "--timeout")) {
                rc = cli_parse_seconds("connect", a, v, &o.timeout_ms);
            } else if (!strcmp(a, "--max-message")) {
                rc = cli_parse_max_message("connect", v, &o.max_message);
            } else {
                rc = cli_parse_seconds("connect", a, v, &o.idle_timeout_ms);
            }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "wipeer: connect: unknown option '%s'\n\n", a);
            usage(stderr);
            return CLI_USAGE;
        } else if (!target) {
            target = a;
        } else {
            fprintf(stderr, "wipeer: connect: unexpected argument '%s'\n", a);
            return CLI_USAGE;
        }
        if (rc != CLI_OK)
            return rc;
    }
    if (!target) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (o.home && !*o.home) {
        fprintf(stderr, "wipeer: connect: --home needs a directory\n");
        return CLI_USAGE;
    }
    /*
     * A fingerprint, else HOST:PORT, else an instance name (which may hold
     * spaces and colons: "Kitchen: tablet" has no port after its colon).
     */
    wp_fingerprint fp;
    size_t fp_len;
    int rc = CLI_OK;
    if (wp_fingerprint_parse(target, &fp, &fp_len) == WP_OK) {
        if (o.expect && !wp_fingerprint_matches(&fp, o.expect)) {
            fprintf(stderr, "wipeer: connect: --expect %s contradicts the target %s\n",
                    o.expect, target);
            return CLI_USAGE;
        }
        o.discover = target;
    } else if (looks_like_host_port(target)) {
        rc = split_target(target, host, sizeof host, &port);
        if (rc != CLI_OK)
            return rc;
    } else {
        o.discover = target;
    }
    /* Without --expect any authenticated peer is accepted (its fingerprint is shown). */
    if (!o.expect)
        o.accept_any = true;
    return nc_connect(&o, host, port);
}

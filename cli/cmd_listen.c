/*
 * cmd_listen.c - `wipeer listen`: accept one wipeer connection (or many,
 * one after another, with --keep-open) and pipe stdin/stdout through it,
 * advertised on the local network unless --no-advertise.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_ALLOW 64

static void usage(FILE *f)
{
    fprintf(f,
            "usage: wipeer listen [--port N] [--bind ADDR] [--allow FINGERPRINT]...\n"
            "                     [--accept-any] [--keep-open] [--no-stdin] [--timeout SEC]\n"
            "                     [--idle-timeout SEC] [--max-message N] [--no-advertise]\n"
            "                     [--name NAME] [--iface IFACE]...\n"
            "                     [--discovery auto|builtin|avahi] [--private] [--no-ipv4]\n"
            "                     [--no-ipv6] [--json] [--home DIR]\n"
            "\n"
            "Wait for a wipeer peer, authenticate it, then copy stdin to it and its data to\n"
            "stdout, encrypted, like netcat. EOF on stdin closes our direction; we exit once\n"
            "the peer has closed too. Only peers named with --allow are accepted. The port\n"
            "is advertised on the local network (mDNS/DNS-SD, _wipeerkit._tcp) so that\n"
            "'wipeer browse' and 'wipeer connect NAME' find it.\n"
            "\n"
            "options:\n"
            "  --port N              TCP port (default 0: any free port, printed on stderr)\n"
            "  --bind ADDR           numeric IPv4/IPv6 address (default: all, IPv6 and IPv4)\n"
            "  --allow FINGERPRINT   accept this peer (short or long form); repeatable\n"
            "  --accept-any          accept any peer (it is still authenticated and shown)\n"
            "  --keep-open           serve connections one after another instead of one\n"
            "  --once                serve one connection, then exit (the default)\n"
            "  --no-stdin            do not read stdin: only receive\n"
            "  --timeout SEC         handshake timeout (default 10)\n"
            "  --idle-timeout SEC    close when nothing arrives for SEC (default: never)\n"
            "  --max-message N       largest message to accept, in bytes (4079..16777199;\n"
            "                        default 1048559); also caps what we send\n"
            "  --no-advertise        do not announce on the local network (discovery)\n"
            "  --name NAME           service name to announce (default: the host name)\n"
            "  --iface IFACE         announce only on this interface; repeatable\n"
            "                        (default: every multicast interface but loopback)\n"
            "  --discovery BACKEND   auto (Avahi if its daemon runs, else builtin), builtin\n"
            "                        or avahi\n"
            "  --private             do not publish our fingerprint (found by name only)\n"
            "  --no-ipv4, --no-ipv6  discovery over one address family only\n"
            "  --json                events as JSON lines on stderr\n"
            "  --home DIR            state directory holding the identity\n"
            "  -h, --help            show this help\n"
            "\n"
            "Exit status: 0 clean close, 1 failure, 2 usage, 3 authentication or trust\n"
            "failure, 4 timeout, 128+N stopped by signal N (goodbyes sent).\n");
}

int cli_parse_seconds(const char *cmd, const char *opt, const char *v, uint32_t *out_ms)
{
    char *end = NULL;
    errno = 0;
    double s = strtod(v, &end);
    if (errno || end == v || *end || !(s > 0) || s > 86400.0) {
        fprintf(stderr, "wipeer: %s: %s needs seconds in (0, 86400], not '%s'\n", cmd, opt, v);
        return CLI_USAGE;
    }
    *out_ms = (uint32_t)(s * 1000.0 + 0.5);
    if (*out_ms == 0)
        *out_ms = 1;
    return CLI_OK;
}

int cli_parse_max_message(const char *cmd, const char *v, uint32_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long n = strtoul(v, &end, 10);
    if (errno || end == v || *end || v[0] == '-' || n < WP_MESSAGE_MAX_MIN ||
        n > WP_MESSAGE_MAX_LIMIT) {
        fprintf(stderr, "wipeer: %s: --max-message needs bytes in %u..%u, not '%s'\n", cmd,
                WP_MESSAGE_MAX_MIN, WP_MESSAGE_MAX_LIMIT, v);
        return CLI_USAGE;
    }
    *out = (uint32_t)n;
    return CLI_OK;
}

int cli_check_fingerprint(const char *cmd, const char *opt, const char *v)
{
    wp_fingerprint fp;
    size_t n;
    if (wp_fingerprint_parse(v, &fp, &n) != WP_OK) {
        fprintf(stderr,
                "wipeer: %s: %s '%s' is not a fingerprint (16 or 64 hex digits, e.g. "
                "698B-EA63-DC44-A344)\n",
                cmd, opt, v);
        return CLI_USAGE;
    }
    return CLI_OK;
}

static int parse_port(const char *v, uint16_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long p = strtoul(v, &end, 10);
    if (errno || end == v || *end || p > 65535 || v[0] == '-') {
        fprintf(stderr, "wipeer: listen: --port needs 0..65535, not '%s'\n", v);
        return CLI_USAGE;
    }
    *out = (uint16_t)p;
    return CLI_OK;
}

int cmd_listen(int argc, char **argv)
{
    struct nc_opts o;
    const char *allow[MAX_ALLOW];
    const char *bind = NULL;
    uint16_t port = 0;
    memset(&o, 0, sizeof o);
    o.allow = allow;
    cli_disc_init(&o.disc);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = cli_disc_option("listen", true, a, v, &o.disc, &i);
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
        } else if (!strcmp(a, "--accept-any")) {
            o.accept_any = true;
        } else if (!strcmp(a, "--keep-open")) {
            o.keep_open = true;
        } else if (!strcmp(a, "--once")) {
            o.keep_open = false;
        } else if (!strcmp(a, "--no-stdin")) {
            o.no_stdin = true;
        } else if (!strcmp(a, "--no-advertise")) {
            o.no_advertise = true;
        } else if (!strcmp(a, "--port") || !strcmp(a, "--bind") || !strcmp(a, "--allow") ||
                   !strcmp(a, "--home") || !strcmp(a, "--timeout") ||
                   !strcmp(a, "--idle-timeout") || !strcmp(a, "--name") ||
                   !strcmp(a, "--max-message")) {
            if (cli_option_value("listen", a, v, &i) != CLI_OK)
                return CLI_USAGE;
            if (!strcmp(a, "--port"))
                rc = parse_port(v, &port);
            else if (!strcmp(a, "--bind"))
                bind = v;
            else if (!strcmp(a, "--home"))
                o.home = v;
            else if (!strcmp(a, "--name"))
                o.name = v;
            else if (!strcmp(a, "--timeout"))
                rc = cli_parse_seconds("listen", a, v, &o.timeout_ms);
            else if (!strcmp(a, "--idle-timeout"))
                rc = cli_parse_seconds("listen", a, v, &o.idle_timeout_ms);
            else if (!strcmp(a, "--max-message"))
                rc = cli_parse_max_message("listen", v, &o.max_message);
            else if (!strcmp(a, "--allow")) {
                rc = cli_check_fingerprint("listen", a, v);
                if (rc == CLI_OK && o.nallow == MAX_ALLOW) {
                    fprintf(stderr, "wipeer: listen: at most %d --allow\n", MAX_ALLOW);
                    rc = CLI_USAGE;
                }
                if (rc == CLI_OK)
                    allow[o.nallow++] = v;
            }
        } else {
            fprintf(stderr, "wipeer: listen: unknown option '%s'\n\n", a);
            usage(stderr);
            return CLI_USAGE;
        }
        if (rc != CLI_OK)
            return rc;
    }
    if (o.home && !*o.home) {
        fprintf(stderr, "wipeer: listen: --home needs a directory\n");
        return CLI_USAGE;
    }
    if (o.accept_any && o.nallow) {
        fprintf(stderr, "wipeer: listen: --accept-any and --allow exclude each other\n");
        return CLI_USAGE;
    }
    return nc_listen(&o, bind, port);
}

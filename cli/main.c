/* main.c - the wipeer command-line tool: a table of subcommands (cmd_<name>.c). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int cmd_help(int argc, char **argv);

static const struct cli_cmd k_cmds[] = {
    {"id", cmd_id, "show (and on first use create) this device's identity"},
    {"listen", cmd_listen, "wait for a peer; pipe stdin/stdout through the encrypted link"},
    {"connect", cmd_connect, "connect to a peer; pipe stdin/stdout through the encrypted link"},
    {"browse", cmd_browse, "list the wipeer peers on the local network (discovery)"},
    {"help", cmd_help, "show this help"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: wipeer <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof k_cmds / sizeof k_cmds[0]; i++)
        fprintf(f, "  %-10s %s\n", k_cmds[i].name, k_cmds[i].summary);
    fprintf(f, "\nRun 'wipeer <command> --help' for a command's options; see wipeer(1).\n"
               "Exit codes: 0 ok, 1 failure, 2 usage, 3 authentication/trust failure, "
               "4 timeout.\n");
}

static int cmd_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    usage(stdout);
    return CLI_OK;
}

void cli_error(const char *what, wp_status st, const char *detail)
{
    if (detail && *detail)
        fprintf(stderr, "wipeer: %s: %s (%s)\n", what, wp_strerror(st), detail);
    else
        fprintf(stderr, "wipeer: %s: %s\n", what, wp_strerror(st));
}

int cli_exit_code(wp_status st)
{
    switch (st) {
    case WP_OK:
        return CLI_OK;
    case WP_EINVAL:
        return CLI_USAGE;
    case WP_EAUTH:
    case WP_EDENIED:
    case WP_EIDENTITY:
        return CLI_AUTH;
    case WP_ETIMEDOUT:
        return CLI_TIMEOUT;
    default:
        return CLI_FAIL;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("%s\n", wp_version());
        return CLI_OK;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof k_cmds / sizeof k_cmds[0]; i++) {
        if (!strcmp(argv[1], k_cmds[i].name))
            return k_cmds[i].fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "wipeer: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}

/* cli.h - shared declarations of the wipeer command-line tool. Uses only wipeer.h. */
#ifndef WIPEER_CLI_H
#define WIPEER_CLI_H

#include "wipeer.h"

/* Exit codes (documented in docs/man/wipeer.1). */
enum {
    CLI_OK = 0,
    CLI_FAIL = 1,
    CLI_USAGE = 2,
    CLI_AUTH = 3,    /* authentication or trust failure (wrong fingerprint, not allowed) */
    CLI_TIMEOUT = 4, /* a deadline passed */
};

struct cli_cmd {
    const char *name;
    int (*fn)(int argc, char **argv); /* argv[0] is the subcommand name */
    const char *summary;
};

/* Print "wipeer: <what>: <status text> (<detail>)" to stderr. */
void cli_error(const char *what, wp_status st, const char *detail);
/* Map a status to the CLI's exit code. */
int cli_exit_code(wp_status st);

int cmd_id(int argc, char **argv);

#endif

/* cli.h - shared declarations of the wipeer command-line tool. Uses only wipeer.h. */
#ifndef WIPEER_CLI_H
#define WIPEER_CLI_H

#include <stdio.h>

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
int cmd_listen(int argc, char **argv);
int cmd_connect(int argc, char **argv);
int cmd_browse(int argc, char **argv);

/* Discovery options shared by listen, connect and browse (cli_disc.c). */
struct cli_disc {
    wp_discovery_config cfg;
    const char *ifaces[WP_DISCOVERY_MAX_IFACES];
    size_t n_ifaces;
};
void cli_disc_init(struct cli_disc *d);
/* a is --iface/--discovery (value v, ++*i)/--no-ipv4/--no-ipv6/--private: CLI_OK or
 * CLI_USAGE (--private unless is_listen); -1 when a is not a discovery option. */
int cli_disc_option(const char *cmd, bool is_listen, const char *a, const char *v,
                    struct cli_disc *d, int *i);
/* Option a takes the value v (NULL: none left): ++*i and CLI_OK, else prints
 * "a needs a value" and returns CLI_USAGE. */
int cli_option_value(const char *cmd, const char *a, const char *v, int *i);
/* wp_discovery_configure; prints the error; returns a CLI exit code. */
int cli_disc_apply(wp_ctx *ctx, const struct cli_disc *d, const char *cmd);
const char *cli_disc_backend_name(wp_discovery_backend b);
/* JSON string of len bytes (escaped); one service as a JSON line on f. */
void cli_json_str(FILE *f, const char *s, size_t len);
void cli_json_service(FILE *f, const char *event, const wp_service *s);
/* SIGINT/SIGTERM write to a pipe: returns its read end (poll it), or -1. */
int cli_signals_install(void);
/* The signal number waiting in the pipe, or 0. */
int cli_signal_take(void);

/* The encrypted netcat shared by listen and connect (netcat.c). */
struct nc_opts {
    const char *home;        /* NULL: default home */
    bool json;               /* events as JSON lines on stderr */
    bool no_stdin;           /* send nothing: half-close right after the handshake */
    bool keep_open;          /* listen: serve connections one after another */
    bool accept_any;         /* listen: trust any peer */
    const char **allow;      /* listen: fingerprints (short or long) to trust */
    int nallow;
    const char *expect;      /* connect: the only fingerprint to trust */
    uint32_t timeout_ms;     /* connect and handshake timeout; 0 = library default */
    uint32_t idle_timeout_ms;
    uint32_t max_message;    /* largest message we accept (announced); 0 = library default */
    /* discovery */
    struct cli_disc disc;
    bool no_advertise;       /* listen: do not advertise */
    const char *name;        /* listen: instance name (NULL: host name) */
    const char *discover;    /* connect: instance name or fingerprint to find */
};
/* Run until the connection ends; returns the exit code. */
int nc_listen(const struct nc_opts *o, const char *bind, uint16_t port);
int nc_connect(const struct nc_opts *o, const char *host, uint16_t port);
/* Parse "--opt VALUE" helpers shared by listen and connect (cmd_listen.c). */
int cli_parse_seconds(const char *cmd, const char *opt, const char *v, uint32_t *out_ms);
int cli_check_fingerprint(const char *cmd, const char *opt, const char *v);
/* --max-message N: WP_MESSAGE_MAX_MIN..WP_MESSAGE_MAX_LIMIT bytes. */
int cli_parse_max_message(const char *cmd, const char *v, uint32_t *out);

#endif

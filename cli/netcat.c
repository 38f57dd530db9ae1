/*
 * netcat.c - the encrypted netcat behind `wipeer listen` and `wipeer
 * connect`: after the handshake, stdin goes to the peer and the peer's
 * messages to stdout, byte-exact. EOF on stdin sends an authenticated
 * half-close; we keep receiving until the peer closes too.
 *
 * One thread: the library runs in this program's own poll loop through
 * wp_ctx_fd / wp_ctx_timeout_ms / wp_ctx_process, next to stdin. Writes to
 * stdout block inside the message callback, which stalls reading from the
 * socket: a slow consumer slows the sender down through TCP, nothing is
 * buffered without bound.
 *
 * Discovery: listen advertises its port (unless --no-advertise) and connect
 * may find its peer by name or fingerprint. SIGINT/SIGTERM end the loop
 * through a self-pipe, so the context is freed (goodbyes sent) before exit.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define NC_CHUNK (256 * 1024) /* one stdin read = one message, at most (and at most
                                  what the connection takes: wp_conn_max_message) */

struct nc {
    const struct nc_opts *o;
    const char *cmd; /* "listen" or "connect" */
    wp_ctx *ctx;
    wp_identity *id;
    wp_conn *conn;       /* the connection we serve */
    wp_advert *adv;      /* listen: our advertisement */
    int sig_fd;          /* readable on SIGINT/SIGTERM */
    int signo;           /* the signal that stopped us */
    bool is_auth;
    bool stdin_eof;
    bool is_done;
    bool refused_local;  /* our trust decision refused the peer */
    bool listener_failed; /* no more connections can come: stop after this one */
    wp_status result;
    uint8_t *buf;        /* a stdin chunk */
    size_t pend;         /* bytes of buf refused with WP_EFULL, to retry */
    int served;
    int out_errno;       /* writing stdout failed (EPIPE: the reader is gone) */
};

/* ---------------------------------------------------------------- output */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* One JSON object per line on stderr: {"event":E, key:value...}; values are strings. */
static void json_event(const char *event, const char *k1, const char *v1, const char *k2,
                       const char *v2)
{
    fprintf(stderr, "{\"event\":");
    json_str(stderr, event);
    if (k1) {
        fprintf(stderr, ",\"%s\":", k1);
        json_str(stderr, v1);
    }
    if (k2) {
        fprintf(stderr, ",\"%s\":", k2);
        json_str(stderr, v2);
    }
    fprintf(stderr, "}\n");
}

static void say(struct nc *nc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct nc *nc, const char *fmt, ...)
{
    if (nc->o->json)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "wipeer: %s: ", nc->cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* ---------------------------------------------------------------- events */

static bool peer_allowed(struct nc *nc, const wp_fingerprint *fp)
{
    const struct nc_opts *o = nc->o;
    if (o->expect)
        return wp_fingerprint_matches(fp, o->expect);
    if (o->accept_any)
        return true;
    for (int i = 0; i < o->nallow; i++)
        if (wp_fingerprint_matches(fp, o->allow[i]))
            return true;
    return false;
}

static int on_peer_identity(struct nc *nc, const wp_event *ev)
{
    char s[WP_FINGERPRINT_SHORT_STR], l[WP_FINGERPRINT_LONG_STR];
    wp_fingerprint_format_short(&ev->peer_fingerprint, s);
    wp_fingerprint_format_long(&ev->peer_fingerprint, l);
    bool ok = peer_allowed(nc, &ev->peer_fingerprint);
    if (nc->o->json)
        json_event("peer", "fingerprint", l, "decision", ok ? "accept" : "refuse");
    if (ok)
        return WP_TRUST_ACCEPT;
    nc->refused_local = true;
    if (nc->o->expect)
        fprintf(stderr, "wipeer: %s: peer %s is not the expected %s\n", nc->cmd, l,
                nc->o->expect);
    else
        fprintf(stderr,
                "wipeer: %s: peer %s is not allowed; to accept it run with --allow %s "
                "(or --accept-any)\n",
                nc->cmd, l, s);
    return WP_TRUST_REJECT;
}

static void drop_pending(struct nc *nc, wp_status why);

static void on_closed(struct nc *nc, const wp_event *ev)
{
    if (ev->conn != nc->conn)
        return; /* a connection we turned away (busy) */
    nc->conn = NULL;
    nc->result = ev->reason;
    /* A chunk still waiting for room goes nowhere: say so, and read on (--keep-open). */
    drop_pending(nc, ev->reason == WP_OK ? WP_ECLOSED : ev->reason);
    int out_errno = nc->out_errno; /* we aborted because stdout failed */
    if (out_errno && nc->o->json)
        json_event("stdout_error", "error", strerror(out_errno), NULL, NULL);
    if (nc->o->json) {
        char code[16];
        snprintf(code, sizeof code, "%d", cli_exit_code(ev->reason));
        fprintf(stderr, "{\"event\":\"closed\",\"status\":");
        json_str(stderr, wp_status_name(ev->reason));
        fprintf(stderr, ",\"message\":");
        json_str(stderr, wp_strerror(ev->reason));
        fprintf(stderr, ",\"detail\":");
        json_str(stderr, ev->detail);
        fprintf(stderr, ",\"exit\":%s}\n", code);
    } else if (out_errno) {
        /* One line: the cause; the abort it led to is no news. */
        fprintf(stderr, "wipeer: %s: writing stdout: %s; connection aborted\n", nc->cmd,
                strerror(out_errno));
    } else if (ev->reason == WP_OK) {
        say(nc, "connection closed");
    } else if (!(nc->refused_local && ev->reason == WP_EDENIED)) {
        const char *what = ev->reason == WP_EDENIED ? "the peer refused our identity"
                                                     : "connection failed";
        cli_error(what, ev->reason, ev->detail);
    }
    nc->is_auth = false;
    nc->refused_local = false;
    /* Without stdout (a reader that went away stays gone) nothing more can be served. */
    if (!nc->o->keep_open || nc->listener_failed || out_errno)
        nc->is_done = true;
}

/* Give up on the stdin chunk waiting to be sent, and say so. */
static void drop_pending(struct nc *nc, wp_status why)
{
    char n[24];
    if (!nc->pend)
        return;
    snprintf(n, sizeof n, "%zu", nc->pend);
    if (nc->o->json)
        json_event("stdin_unsent", "bytes", n, "status", wp_status_name(why));
    else
        say(nc, "%s bytes read from stdin were not sent (%s)", n, wp_strerror(why));
    nc->pend = 0;
}

static void try_pending(struct nc *nc)
{
    if (!nc->pend || !nc->conn)
        return;
    wp_status st = wp_conn_send(nc->conn, nc->buf, nc->pend);
    if (st == WP_OK || st == WP_EFULL) {
        if (st == WP_OK)
            nc->pend = 0;
        return;
    }
    /* The connection is over or refuses the message: it is not sent. */
    drop_pending(nc, st);
    wp_conn_abort(nc->conn);
}

static int on_event(const wp_event *ev, void *user)
{
    struct nc *nc = user;
    char text[WP_FINGERPRINT_LONG_STR];
    char addr[WP_ADDRESS_STR];
    switch (ev->type) {
    case WP_EV_CONNECTED:
        wp_conn_remote_address(ev->conn, addr, sizeof addr);
        if (nc->conn && nc->conn != ev->conn) {
            say(nc, "busy: turning away %s", addr);
            wp_conn_abort(ev->conn);
            break;
        }
        nc->conn = ev->conn;
        nc->served++;
        if (nc->o->json)
            json_event("connected", "remote", addr, NULL, NULL);
        else
            say(nc, "connected to %s", addr);
        break;
    case WP_EV_PEER_IDENTITY:
        return on_peer_identity(nc, ev);
    case WP_EV_AUTHENTICATED:
        nc->is_auth = true;
        wp_fingerprint_format_long(&ev->peer_fingerprint, text);
        if (nc->o->json)
            json_event("authenticated", "fingerprint", text, NULL, NULL);
        else
            say(nc, "peer %s authenticated; encrypted channel ready", text);
        if (nc->stdin_eof && wp_conn_close(ev->conn) != WP_OK)
            wp_conn_abort(ev->conn);
        break;
    case WP_EV_MESSAGE:
        if (write_all(STDOUT_FILENO, ev->data, ev->len) < 0) {
            /* Reported once, with the abort it causes, in on_closed. */
            nc->out_errno = errno;
            wp_conn_abort(ev->conn);
        }
        break;
    case WP_EV_WRITABLE:
        try_pending(nc);
        break;
    case WP_EV_PEER_CLOSED:
        if (nc->o->json)
            json_event("peer_closed", NULL, NULL, NULL, NULL);
        break;
    case WP_EV_CLOSED:
        on_closed(nc, ev);
        break;
    case WP_EV_LISTENER_FAILED:
        /* Nothing more can arrive: give up rather than wait deaf. */
        if (nc->o->json)
            json_event("listener_failed", "status", wp_status_name(ev->reason), "detail",
                       ev->detail);
        else
            cli_error("listener failed", ev->reason, ev->detail);
        nc->listener_failed = true;
        if (!nc->conn) {
            nc->result = ev->reason;
            nc->is_done = true;
        }
        break;
    }
    return 0;
}

/* Our advertisement's fate (listen). Discovery failing does not stop listening. */
static void on_disc_event(const wp_discovery_event *ev, void *user)
{
    struct nc *nc = user;
    const char *backend = cli_disc_backend_name(wp_discovery_backend_used(nc->ctx));
    switch (ev->type) {
    case WP_DISC_ADVERTISED:
    case WP_DISC_RENAMED:
        if (nc->o->json) {
            fprintf(stderr, "{\"event\":\"%s\",\"name\":",
                    ev->type == WP_DISC_ADVERTISED ? "advertised" : "renamed");
            cli_json_str(stderr, ev->name, strlen(ev->name));
            fprintf(stderr, ",\"backend\":\"%s\"}\n", backend);
        } else if (ev->type == WP_DISC_ADVERTISED) {
            say(nc, "advertised as \"%s\" (%s discovery)", ev->name, backend);
        } else {
            say(nc, "name taken on the network: now \"%s\"", ev->name);
        }
        break;
    case WP_DISC_FAILED:
        if (nc->o->json) {
            fprintf(stderr, "{\"event\":\"advertise_failed\",\"status\":");
            json_str(stderr, wp_status_name(ev->reason));
            fprintf(stderr, ",\"detail\":");
            json_str(stderr, ev->detail);
            fprintf(stderr, "}\n");
        } else {
            cli_error("advertising failed (still listening)", ev->reason, ev->detail);
        }
        break;
    default:
        break;
    }
}

/* ---------------------------------------------------------------- loop */

static void read_stdin(struct nc *nc)
{
    /* Once authenticated the connection knows the peer's limit too. */
    size_t max = wp_conn_max_message(nc->conn);
    ssize_t n = read(STDIN_FILENO, nc->buf, max && max < NC_CHUNK ? max : NC_CHUNK);
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN)
            return;
        fprintf(stderr, "wipeer: %s: reading stdin: %s\n", nc->cmd, strerror(errno));
        n = 0; /* treat as end of input, so the peer still gets a clean close */
    }
    if (n == 0) {
        nc->stdin_eof = true;
        if (wp_conn_close(nc->conn) != WP_OK)
            wp_conn_abort(nc->conn);
        return;
    }
    nc->pend = (size_t)n;
    try_pending(nc);
}

static int run_loop(struct nc *nc)
{
    while (!nc->is_done) {
        struct pollfd p[3];
        nfds_t n = 2;
        p[0].fd = wp_ctx_fd(nc->ctx);
        p[0].events = POLLIN;
        p[1].fd = nc->sig_fd;
        p[1].events = POLLIN;
        bool want_stdin = nc->conn && nc->is_auth && !nc->stdin_eof && !nc->pend;
        if (want_stdin) {
            p[2].fd = STDIN_FILENO;
            p[2].events = POLLIN;
            n = 3;
        }
        if (poll(p, n, wp_ctx_timeout_ms(nc->ctx)) < 0 && errno != EINTR) {
            fprintf(stderr, "wipeer: %s: poll: %s\n", nc->cmd, strerror(errno));
            return CLI_FAIL;
        }
        if ((p[1].revents & POLLIN) && (nc->signo = cli_signal_take()) != 0) {
            say(nc, "stopped by signal %d", nc->signo);
            if (nc->conn)
                wp_conn_abort(nc->conn);
            return 128 + nc->signo;
        }
        if (want_stdin && (p[2].revents & (POLLIN | POLLHUP | POLLERR)))
            read_stdin(nc);
        wp_status st = wp_ctx_process(nc->ctx);
        if (st != WP_OK) {
            cli_error("event loop", st, NULL);
            return CLI_FAIL;
        }
    }
    return cli_exit_code(nc->result);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * After a failure the library lingers on the socket so the peer reads our
 * alert rather than a reset: let it finish (at most 3 s: it lingers 2 s)
 * before exiting. Nothing lingers after a clean close, and not after a
 * signal: the user wants us gone. Discovery is withdrawn first (goodbyes;
 * wp_ctx_free would send them too); its timers may keep the timeout from
 * ever being -1, hence the time bound.
 */
static void drain(struct nc *nc)
{
    wp_advert_stop(nc->adv);
    nc->adv = NULL;
    if (nc->signo || nc->result == WP_OK)
        return;
    int64_t end = mono_ms() + 3000;
    while (wp_ctx_timeout_ms(nc->ctx) >= 0 && mono_ms() < end) {
        struct pollfd p = {.fd = wp_ctx_fd(nc->ctx), .events = POLLIN};
        int t = wp_ctx_timeout_ms(nc->ctx);
        if (poll(&p, 1, t > 100 ? 100 : t) < 0 && errno != EINTR)
            return;
        if (wp_ctx_process(nc->ctx) != WP_OK)
            return;
    }
}

static int setup(struct nc *nc, const struct nc_opts *o, const char *cmd)
{
    wp_error err;
    wp_ctx_config cfg;
    memset(nc, 0, sizeof *nc);
    nc->o = o;
    nc->cmd = cmd;
    /* A closed stdout must end us through write()'s EPIPE, not a signal. */
    signal(SIGPIPE, SIG_IGN);
    nc->sig_fd = cli_signals_install();
    if (nc->sig_fd < 0) {
        fprintf(stderr, "wipeer: %s: pipe: %s\n", cmd, strerror(errno));
        return CLI_FAIL;
    }
    if (o->no_stdin)
        nc->stdin_eof = true;
    nc->buf = malloc(NC_CHUNK);
    if (!nc->buf) {
        fprintf(stderr, "wipeer: %s: out of memory\n", cmd);
        return CLI_FAIL;
    }
    const char *pass = getenv("WIPEER_PASSPHRASE");
    wp_status st = wp_identity_open(o->home, pass, WP_IDENTITY_CREATE, &nc->id, NULL, &err);
    if (st != WP_OK) {
        cli_error("identity", st, err.detail);
        return cli_exit_code(st) == CLI_USAGE ? CLI_FAIL : cli_exit_code(st);
    }
    wp_ctx_config_init(&cfg);
    cfg.identity = nc->id;
    cfg.on_event = on_event;
    cfg.user = nc;
    st = wp_ctx_new(&cfg, &nc->ctx, &err);
    if (st != WP_OK) {
        cli_error("context", st, err.detail);
        return CLI_FAIL;
    }
    bool wants_disc = !strcmp(cmd, "listen") ? !o->no_advertise : o->discover != NULL;
    return wants_disc ? cli_disc_apply(nc->ctx, &nc->o->disc, cmd) : CLI_OK;
}

static void teardown(struct nc *nc)
{
    wp_ctx_free(nc->ctx);
    wp_identity_free(nc->id);
    free(nc->buf);
}

static void conn_opts(const struct nc_opts *o, wp_conn_opts *co)
{
    wp_conn_opts_init(co);
    if (o->timeout_ms) {
        co->connect_timeout_ms = o->timeout_ms;
        co->handshake_timeout_ms = o->timeout_ms;
    }
    co->idle_timeout_ms = o->idle_timeout_ms;
    co->max_message = o->max_message;
}

/* see cli.h */
int nc_listen(const struct nc_opts *o, const char *bind, uint16_t port)
{
    struct nc nc;
    wp_conn_opts co;
    wp_listener *l = NULL;
    wp_error err;
    int rc = setup(&nc, o, "listen");
    if (rc != CLI_OK)
        goto out;
    conn_opts(o, &co);
    wp_status st = wp_listen(nc.ctx, bind, port, &co, &l, &err);
    if (st != WP_OK) {
        cli_error("listen", st, err.detail);
        rc = CLI_FAIL;
        goto out;
    }
    wp_fingerprint fp;
    char text[WP_FINGERPRINT_LONG_STR], portstr[8];
    wp_identity_fingerprint(nc.id, &fp);
    wp_fingerprint_format_long(&fp, text);
    snprintf(portstr, sizeof portstr, "%u", wp_listener_port(l));
    const char *shown = bind && *bind ? bind : "*";
    if (o->json) {
        fprintf(stderr, "{\"event\":\"listening\",\"address\":");
        json_str(stderr, shown);
        fprintf(stderr, ",\"port\":%s,\"fingerprint\":", portstr);
        json_str(stderr, text);
        fprintf(stderr, "}\n");
    } else {
        fprintf(stderr, "wipeer: listen: listening on %s port %s as %s\n", shown, portstr, text);
    }
    if (!o->no_advertise) {
        wp_advert_opts ao;
        wp_advert_opts_init(&ao);
        ao.name = o->name;
        ao.port = wp_listener_port(l);
        ao.on_event = on_disc_event;
        ao.user = &nc;
        st = wp_advertise(nc.ctx, &ao, &nc.adv, &err);
        if (st != WP_OK) {
            cli_error("advertise", st, err.detail);
            rc = cli_exit_code(st) == CLI_USAGE ? CLI_USAGE : CLI_FAIL;
            goto out;
        }
    }
    rc = run_loop(&nc);
    wp_listener_close(l);
    drain(&nc);
out:
    teardown(&nc);
    return rc;
}

/* see cli.h */
int nc_connect(const struct nc_opts *o, const char *host, uint16_t port)
{
    struct nc nc;
    wp_conn_opts co;
    wp_error err;
    int rc = setup(&nc, o, "connect");
    if (rc != CLI_OK)
        goto out;
    conn_opts(o, &co);
    wp_status st;
    if (o->discover) {
        if (!o->json)
            say(&nc, "looking for %s on the local network", o->discover);
        st = wp_connect_discovered(nc.ctx, o->discover, &co, &nc.conn, &err);
    } else {
        st = wp_connect(nc.ctx, host, port, &co, &nc.conn, &err);
    }
    if (st != WP_OK) {
        cli_error("connect", st, err.detail);
        rc = cli_exit_code(st);
        goto out;
    }
    rc = run_loop(&nc);
    drain(&nc);
out:
    teardown(&nc);
    return rc;
}

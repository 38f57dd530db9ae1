/*
 * switch.c - a controller for lamp.c: finds the lamp by name or fingerprint
 * on the LAN, connects (mutual authentication, forward-secret encryption),
 * sends one command and prints the lamp's answer.
 *
 *   switch [--iface IFACE] LAMP-NAME|LAMP-FINGERPRINT on|off|status
 */
#define _POSIX_C_SOURCE 200809L
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <wipeer.h>

struct run {
    const char *command;
    bool is_done;
    wp_status result;
};

static int on_event(const wp_event *ev, void *user)
{
    struct run *run = user;
    switch (ev->type) {
    case WP_EV_PEER_IDENTITY: { /* connecting by name: show whom we reached */
        char fp[WP_FINGERPRINT_SHORT_STR];
        wp_fingerprint_format_short(&ev->peer_fingerprint, fp);
        fprintf(stderr, "switch: lamp identity %s\n", fp);
        return WP_TRUST_ACCEPT; /* a real app checks its pinned keys here */
    }
    case WP_EV_AUTHENTICATED:
        if (wp_conn_send(ev->conn, run->command, strlen(run->command)) != WP_OK)
            wp_conn_abort(ev->conn);
        break;
    case WP_EV_MESSAGE:
        printf("%.*s\n", (int)ev->len, (const char *)ev->data);
        if (wp_conn_close(ev->conn) != WP_OK)
            wp_conn_abort(ev->conn);
        break;
    case WP_EV_CLOSED:
        run->result = ev->reason;
        run->is_done = true;
        if (ev->reason != WP_OK)
            fprintf(stderr, "switch: %s (%s)\n", wp_strerror(ev->reason), ev->detail);
        break;
    default:
        break;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *iface = NULL;
    if (argc > 2 && !strcmp(argv[1], "--iface")) {
        iface = argv[2];
        argc -= 2;
        argv += 2;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: switch [--iface IFACE] LAMP on|off|status\n");
        return 2;
    }
    struct run run = {.command = argv[2], .result = WP_ECLOSED};
    wp_identity *id = NULL;
    wp_ctx *ctx = NULL;
    wp_conn *conn = NULL;
    wp_error err = {0};
    wp_status st;

    if ((st = wp_identity_open(NULL, NULL, WP_IDENTITY_CREATE, &id, NULL, &err)) != WP_OK)
        goto out;
    wp_ctx_config cfg;
    wp_ctx_config_init(&cfg);
    cfg.identity = id;
    cfg.on_event = on_event;
    cfg.user = &run;
    if ((st = wp_ctx_new(&cfg, &ctx, &err)) != WP_OK)
        goto out;
    if (iface) {
        wp_discovery_config dc;
        wp_discovery_config_init(&dc);
        dc.backend = WP_DISCOVERY_BUILTIN;
        dc.ifaces = &iface;
        dc.n_ifaces = 1;
        if ((st = wp_discovery_configure(ctx, &dc, &err)) != WP_OK)
            goto out;
    }
    if ((st = wp_connect_discovered(ctx, argv[1], NULL, &conn, &err)) != WP_OK)
        goto out;
    /* Drive the loop from this thread: the application's own loop. */
    while (!run.is_done) {
        if ((st = wp_ctx_process(ctx)) != WP_OK)
            goto out;
        int timeout = wp_ctx_timeout_ms(ctx);
        if (!run.is_done && timeout != 0) {
            struct pollfd pfd = {.fd = wp_ctx_fd(ctx), .events = POLLIN};
            poll(&pfd, 1, timeout);
        }
    }
    st = run.result;
out:
    if (st != WP_OK && err.detail[0])
        fprintf(stderr, "switch: %s (%s)\n", wp_strerror(st), err.detail);
    wp_ctx_free(ctx);
    wp_identity_free(id);
    return st == WP_OK ? 0 : 1;
}

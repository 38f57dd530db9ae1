/*
 * lamp.c - an IoT device daemon on libwipeer: a "smart lamp" that
 * advertises itself on the LAN, lets in only the controllers it was told
 * to trust, and answers "on", "off" and "status" over an encrypted,
 * mutually authenticated channel.
 *
 *   lamp [--iface IFACE] NAME CONTROLLER-FINGERPRINT...
 *
 * State (the lamp's identity) lives in $WIPEER_HOME or ~/.local/state/wipeer.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <wipeer.h>

struct lamp {
    char **allowed; /* fingerprints of trusted controllers */
    int n_allowed;
    bool is_on;
};

static int on_event(const wp_event *ev, void *user)
{
    struct lamp *lamp = user;
    switch (ev->type) {
    case WP_EV_PEER_IDENTITY: /* the peer proved its key: do we trust it? */
        for (int i = 0; i < lamp->n_allowed; i++)
            if (wp_fingerprint_matches(&ev->peer_fingerprint, lamp->allowed[i]))
                return WP_TRUST_ACCEPT;
        return WP_TRUST_REJECT;
    case WP_EV_MESSAGE: {
        if (ev->len == 2 && !memcmp(ev->data, "on", 2))
            lamp->is_on = true;
        else if (ev->len == 3 && !memcmp(ev->data, "off", 3))
            lamp->is_on = false;
        const char *reply = lamp->is_on ? "lamp is on" : "lamp is off";
        if (wp_conn_send(ev->conn, reply, strlen(reply)) != WP_OK)
            wp_conn_abort(ev->conn);
        break;
    }
    case WP_EV_PEER_CLOSED: /* the controller is done: close our side too */
        if (wp_conn_close(ev->conn) != WP_OK)
            wp_conn_abort(ev->conn);
        break;
    case WP_EV_CLOSED:
        if (ev->reason != WP_OK)
            fprintf(stderr, "lamp: connection ended: %s (%s)\n", wp_strerror(ev->reason),
                    ev->detail);
        break;
    default:
        break;
    }
    return 0;
}

static void on_advert(const wp_discovery_event *ev, void *user)
{
    (void)user;
    if (ev->type == WP_DISC_ADVERTISED)
        fprintf(stderr, "lamp: advertised as \"%s\"\n", ev->name);
    else if (ev->type == WP_DISC_FAILED)
        fprintf(stderr, "lamp: advertising failed: %s\n", ev->detail);
}

int main(int argc, char **argv)
{
    const char *iface = NULL;
    if (argc > 2 && !strcmp(argv[1], "--iface")) {
        iface = argv[2];
        argc -= 2;
        argv += 2;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: lamp [--iface IFACE] NAME CONTROLLER-FINGERPRINT...\n");
        return 2;
    }
    struct lamp lamp = {.allowed = argv + 2, .n_allowed = argc - 2};
    wp_identity *id = NULL;
    wp_ctx *ctx = NULL;
    wp_listener *listener = NULL;
    wp_advert *advert = NULL;
    wp_error err = {0};
    wp_status st;
    int rc = 1;

    /* Block SIGINT/SIGTERM before any thread starts; main waits for them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    if ((st = wp_identity_open(NULL, NULL, WP_IDENTITY_CREATE, &id, NULL, &err)) != WP_OK)
        goto out;
    wp_ctx_config cfg;
    wp_ctx_config_init(&cfg);
    cfg.identity = id;
    cfg.on_event = on_event;
    cfg.user = &lamp;
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
    if ((st = wp_listen(ctx, NULL, 0, NULL, &listener, &err)) != WP_OK)
        goto out;
    wp_advert_opts ao;
    wp_advert_opts_init(&ao);
    ao.name = argv[1];
    ao.port = wp_listener_port(listener);
    ao.on_event = on_advert;
    if ((st = wp_advertise(ctx, &ao, &advert, &err)) != WP_OK)
        goto out;
    if ((st = wp_ctx_start(ctx)) != WP_OK) /* the loop runs on its own thread */
        goto out;
    fprintf(stderr, "lamp: listening on port %u\n", (unsigned)wp_listener_port(listener));

    int sig;
    sigwait(&stop, &sig);
    fprintf(stderr, "lamp: stopping\n");
    rc = 0; /* wp_ctx_free below sends goodbyes: browsers drop the lamp at once */
out:
    if (rc != 0)
        fprintf(stderr, "lamp: %s (%s)\n", wp_strerror(st), err.detail);
    wp_ctx_free(ctx);
    wp_identity_free(id);
    return rc;
}

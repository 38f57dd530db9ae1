/*
 * events.c - what the engine reports, turned into the application's events:
 * the peer's identity and the trust decision (expected fingerprint, or the
 * callback's answer, possibly deferred), authentication, messages, the
 * peer's close, and failures with their reason and detail.
 */
#include "internal.h"

#include <stdio.h>

#include "runtime/rt.h"

void session_engine_failed(struct wp_conn *conn, wp_status rc)
{
    const wp_err *e = conn_last_error(conn->core);
    wp_status code = e && e->code != WP_OK ? e->code : rc;
    if (conn->id_mismatch && code == WP_EDENIED) {
        char got[WP_FINGERPRINT_SHORT_STR], want[WP_FINGERPRINT_SHORT_STR];
        wp_fingerprint_format_short(&conn->peer_fp, got);
        wp_fingerprint_format_short(&conn->opts.expected_peer, want);
        session_fail(conn, WP_EIDENTITY, "peer %s is not the expected %s", got, want);
        return;
    }
    session_fail(conn, code, "%s", e && e->detail[0] ? e->detail : wp_strerror(code));
}

static bool set_peer(struct wp_conn *conn, const uint8_t pub[CRYPTO_P256_PUB_LEN])
{
    uint8_t fp[CRYPTO_SHA256_LEN];
    wp_err e;
    if (conn->has_peer)
        return true;
    if (crypto_sha256(pub, CRYPTO_P256_PUB_LEN, fp, &e) != WP_OK) {
        session_fail(conn, e.code, "fingerprint: %s", e.detail);
        return false;
    }
    pthread_mutex_lock(&conn->ctx->mu);
    memcpy(conn->peer.bytes, pub, WP_PUBKEY_LEN);
    memcpy(conn->peer_fp.bytes, fp, WP_FINGERPRINT_LEN);
    conn->has_peer = true;
    pthread_mutex_unlock(&conn->ctx->mu);
    return true;
}

void session_decide(struct wp_conn *conn, bool accept)
{
    wp_status rc = conn_trust_decide(conn->core, accept);
    if (rc != WP_OK && accept)
        session_engine_failed(conn, rc);
    /* A rejection surfaces as the engine's CLOSED event with WP_EDENIED. */
}

static void on_peer_identity(struct wp_conn *conn, const uint8_t pub[CRYPTO_P256_PUB_LEN])
{
    if (!set_peer(conn, pub))
        return;
    if (conn->opts.has_expected_peer) {
        /* A short fingerprint (wp_connect_discovered) fixes its first 8 bytes. */
        size_t n = conn->expect_len ? conn->expect_len : WP_FINGERPRINT_LEN;
        bool ok = crypto_ct_eq(conn->peer_fp.bytes, conn->opts.expected_peer.bytes, n);
        conn->id_mismatch = !ok;
        session_decide(conn, ok);
        return;
    }
    /*
     * An answer may come before the callback returns WP_TRUST_DEFER (a
     * verifier thread it handed the key to, or the callback itself): take
     * answers from the moment the event is out, and keep an early one.
     */
    pthread_mutex_lock(&conn->ctx->mu);
    conn->trust_pending = true;
    conn->trust_answered = false;
    pthread_mutex_unlock(&conn->ctx->mu);
    wp_event ev;
    session_event(conn, WP_EV_PEER_IDENTITY, &ev);
    int r = ctx_deliver(conn->ctx, &ev);
    if (conn->state >= RT_CLOSING)
        return;
    pthread_mutex_lock(&conn->ctx->mu);
    bool answered = conn->trust_answered, accept = conn->trust_accept;
    conn->trust_answered = false;
    if (r != WP_TRUST_DEFER)
        conn->trust_pending = false; /* the return value decided; later answers: WP_ESTATE */
    pthread_mutex_unlock(&conn->ctx->mu);
    if (r == WP_TRUST_DEFER && answered) {
        session_decide(conn, accept); /* its CMD_TRUST finds nothing waiting */
        return;
    }
    if (r == WP_TRUST_DEFER) {
        conn->trust_waiting = true; /* CMD_TRUST brings the answer */
        return;
    }
    session_decide(conn, r == WP_TRUST_ACCEPT);
}

static void on_engine_closed(struct wp_conn *conn, wp_status reason)
{
    if (reason != WP_OK) {
        session_engine_failed(conn, reason);
        return;
    }
    conn->peer_closed = true;
    /* wp_conn_close may have been called with its command still queued. */
    pthread_mutex_lock(&conn->ctx->mu);
    bool closing = conn->close_requested;
    pthread_mutex_unlock(&conn->ctx->mu);
    if (!closing) {
        wp_event ev;
        session_event(conn, WP_EV_PEER_CLOSED, &ev);
        (void)ctx_deliver(conn->ctx, &ev);
    }
}

void session_process_events(struct wp_conn *conn)
{
    struct conn_event cev;
    wp_event ev;
    while (conn->state >= RT_HANDSHAKE && conn->state < RT_CLOSING &&
           conn_next_event(conn->core, &cev) == WP_OK) {
        switch (cev.type) {
        case CONN_EV_PEER_IDENTITY:
            on_peer_identity(conn, cev.peer_pub);
            break;
        case CONN_EV_AUTHENTICATED:
            if (!set_peer(conn, cev.peer_pub))
                break;
            conn->state = RT_OPEN;
            listener_unpend(conn);
            /* Now the peer's frame limit is known: what we may send is the smaller. */
            pthread_mutex_lock(&conn->ctx->mu);
            conn->max_msg = WP_MIN(conn->opts.max_message, conn_max_message(conn->core));
            pthread_mutex_unlock(&conn->ctx->mu);
            session_event(conn, WP_EV_AUTHENTICATED, &ev);
            (void)ctx_deliver(conn->ctx, &ev);
            break;
        case CONN_EV_MESSAGE:
            session_event(conn, WP_EV_MESSAGE, &ev);
            ev.data = cev.data;
            ev.len = cev.len;
            /* ev.data lives in the engine's frame buffer, which sends leave alone */
            (void)ctx_deliver(conn->ctx, &ev);
            break;
        case CONN_EV_CLOSED:
            on_engine_closed(conn, cev.reason);
            break;
        }
    }
}


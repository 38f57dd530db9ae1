/*
 * conn.c - the connection engine: frames in, records and events out, the
 * handshake dispatched by state to hs_*.c (docs/PROTOCOL.md §7), failure
 * handling (§6.3: one generic alert, secrets wiped, sticky), deadlines.
 */
#include "internal.h"

#include <stdio.h>

#include "codec/buf.h"
#include "core/conn_int.h"
#include "core/keysched.h"

static const uint8_t k_magic[WP_MAGIC_LEN] = WP_MAGIC_BYTES;

const char *conn_state_name(enum hs_state s)
{
    switch (s) {
    case HS_I_WAIT_MSG2: return "waiting for message 2";
    case HS_I_WAIT_TRUST: return "waiting for the local trust decision";
    case HS_I_WAIT_READY: return "waiting for the responder's READY";
    case HS_R_WAIT_MSG1: return "waiting for message 1";
    case HS_R_WAIT_MSG3: return "waiting for message 3";
    case HS_R_WAIT_TRUST: return "waiting for the local trust decision";
    case HS_DONE: return "authenticated";
    case HS_FAILED: return "failed";
    }
    return "?";
}

crypto_aead_alg conn_suite_alg(uint16_t suite)
{
    return suite == WP_SUITE_CHACHA20 ? CRYPTO_AEAD_CHACHA20_POLY1305 : CRYPTO_AEAD_AES_256_GCM;
}

bool conn_suite_enabled(const struct conn *c, uint16_t suite)
{
    return (suite == WP_SUITE_AES256GCM && (c->suites & CONN_SUITE_P256_AES256GCM_SHA256)) ||
           (suite == WP_SUITE_CHACHA20 && (c->suites & CONN_SUITE_P256_CHACHA20POLY1305_SHA256));
}

void conn_keylog(struct conn *c, const char *name, const uint8_t *v, size_t len)
{
    if (c->keylog)
        c->keylog(c->keylog_user, name, v, len);
}

/* ------------------------------------------------------------ output */

uint8_t *conn_out_reserve(struct conn *c, size_t n)
{
    size_t pending = c->out_end - c->out_start;
    if (pending == 0)
        c->out_start = c->out_end = 0;
    if (n > c->out_cap - c->out_end) {
        if (n <= c->out_cap - pending) {
            memmove(c->out, c->out + c->out_start, pending);
        } else {
            /* grows to the high-water mark, then is reused: no allocation per record */
            if (n > SIZE_MAX / 2 - pending) {
                err_set(&c->err, WP_ENOMEM, "output of %zu + %zu bytes", pending, n);
                return NULL;
            }
            size_t cap = WP_MAX(WP_MAX(c->out_cap * 2, pending + n), (size_t)512);
            uint8_t *p = wp_malloc(cap);
            if (!p) {
                err_set(&c->err, WP_ENOMEM, "output buffer of %zu bytes", cap);
                return NULL;
            }
            if (pending)
                memcpy(p, c->out + c->out_start, pending);
            wp_free_secret(c->out, c->out_cap);
            c->out = p;
            c->out_cap = cap;
        }
        c->out_start = 0;
        c->out_end = pending;
    }
    uint8_t *p = c->out + c->out_end;
    c->out_end += n;
    return p;
}

void conn_out_unreserve(struct conn *c, size_t n)
{
    c->out_end -= n;
}

wp_status conn_seal(struct conn *c, uint8_t type, const uint8_t *content, size_t len)
{
    size_t n = rec_frame_len(len);
    uint8_t *o = conn_out_reserve(c, n);
    if (!o)
        return c->err.code;
    wp_status rc = rec_seal(&c->tx, type, content, len, o, &c->err);
    if (rc != WP_OK)
        conn_out_unreserve(c, n);
    return rc;
}

/* ------------------------------------------------------------ events */

void conn_push_event(struct conn *c, const struct conn_event *ev)
{
    /* input stops while an event is unread, so at most 3 can be queued */
    if (WP_MISUSE(c->ev_count == CONN_EVQ_LEN))
        return;
    c->evq[(c->ev_head + c->ev_count) % CONN_EVQ_LEN] = *ev;
    c->ev_count++;
}

static void push_simple(struct conn *c, enum conn_event_type type, wp_status reason)
{
    struct conn_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    ev.reason = reason;
    if (type == CONN_EV_AUTHENTICATED)
        memcpy(ev.peer_pub, c->peer_id, WP_PUB_LEN);
    ev.suite = c->suite;
    conn_push_event(c, &ev);
}

/* ------------------------------------------------------------ failure */

static void wipe_secrets(struct conn *c)
{
    hs_clear(&c->hs);
    rec_key_clear(&c->tx);
    rec_key_clear(&c->rx);
    wp_wipe(c->exp, sizeof c->exp);
    c->has_exp = false;
    wp_wipe(c->psk, sizeof c->psk);
}

/* The one alert a failing side sends (§6.3): nothing about the reason. */
static void send_failure_alert(struct conn *c, wp_status rc)
{
    wp_err scratch;
    if (c->peer_alerted || c->sent_close || rc == WP_ENOTWIPEER || rc == WP_ETRUNCATED)
        return;
    uint8_t code = (rc == WP_EDENIED || rc == WP_EIDENTITY) ? WP_ALERT_DENIED : WP_ALERT_ABORT;
    if (c->state == HS_R_WAIT_MSG1) {
        /* §4.4: only in answer to a whole frame that began with the magic */
        if (c->dec.is_first)
            return;
        uint8_t *o = conn_out_reserve(c, WP_FRAME_HDR_LEN + WP_CLEAR_ALERT_LEN);
        if (!o)
            return;
        frame_put_header(o, WP_CLEAR_ALERT_LEN);
        memcpy(o + WP_FRAME_HDR_LEN, k_magic, WP_MAGIC_LEN);
        o[WP_FRAME_HDR_LEN + WP_MAGIC_LEN] = WP_MSG_ALERT;
        o[WP_FRAME_HDR_LEN + WP_MAGIC_LEN + 1] =
            rc == WP_EVERSION ? WP_ALERT_NO_COMMON_VERSION : WP_ALERT_ABORT;
        return;
    }
    if (!rec_key_is_set(&c->tx))
        return;
    size_t n = rec_frame_len(1);
    uint8_t *o = conn_out_reserve(c, n);
    if (o && rec_seal(&c->tx, WP_REC_ALERT, &code, 1, o, &scratch) != WP_OK)
        conn_out_unreserve(c, n);
}

/* Make rc the conn's final status: alert, wipe, CLOSED event. c->err holds the detail. */
static wp_status conn_fail(struct conn *c, wp_status rc)
{
    if (c->state == HS_FAILED)
        return c->err.code;
    if (c->err.code != rc)
        err_set(&c->err, rc, "%s (%s)", wp_strerror(rc), conn_state_name(c->state));
    send_failure_alert(c, rc);
    wipe_secrets(c);
    c->state = HS_FAILED;
    c->deadline_ms = -1;
    push_simple(c, CONN_EV_CLOSED, rc);
    return rc;
}

wp_status conn_peer_alert(struct conn *c, const uint8_t *content, size_t len)
{
    if (len != 1)
        return err_set(&c->err, WP_EPROTO, "alert of %zu bytes", len);
    bool is_hs = c->state != HS_DONE;
    switch (content[0]) {
    case WP_ALERT_ABORT:
        c->peer_alerted = true;
        return err_set(&c->err, WP_ECLOSED,
                       "peer aborted the %s (generic alert; the reason is in its log)",
                       is_hs ? "handshake" : "connection");
    case WP_ALERT_DENIED:
        c->peer_alerted = true;
        return err_set(&c->err, WP_EDENIED, "peer refused our identity (its trust decision)");
    case WP_ALERT_CLOSE_NOTIFY:
        return err_set(&c->err, WP_EPROTO, "close_notify during the handshake");
    default:
        return err_set(&c->err, WP_EPROTO, "unknown alert code 0x%02x", content[0]);
    }
}

void conn_authenticated(struct conn *c)
{
    c->state = HS_DONE;
    c->deadline_ms = -1;
    frame_dec_set_limit(&c->dec, c->my_max_frame);
    hs_clear(&c->hs);
    wp_wipe(c->psk, sizeof c->psk);
    push_simple(c, CONN_EV_AUTHENTICATED, WP_OK);
}

/* ------------------------------------------------------------ records in */

static wp_status key_update_log(struct conn *c, bool is_tx)
{
    struct rec_key *k = is_tx ? &c->tx : &c->rx;
    wp_status rc = rec_key_update(k, &c->err);
    if (rc == WP_OK && c->keylog) {
        char name[32];
        snprintf(name, sizeof name, "%s_ap_%u", is_tx == c->is_initiator ? "i" : "r",
                 k->generation);
        conn_keylog(c, name, k->secret, WP_HASH_LEN);
    }
    return rc;
}

static wp_status process_record(struct conn *c, uint8_t *p, size_t n)
{
    uint8_t type;
    size_t len;
    uint64_t counter = c->rx.counter;
    if (c->recv_close)
        return err_set(&c->err, WP_EPROTO, "frame after the peer's close_notify");
    wp_status rc = rec_open(&c->rx, p, n, &type, &len, &c->err);
    if (rc == WP_EAUTH)
        return err_set(&c->err, WP_EINTEGRITY,
                       "record %llu failed authentication (tampered, replayed, reordered or "
                       "dropped)",
                       (unsigned long long)counter);
    if (rc != WP_OK)
        return rc;
    if (c->rx.key_records > WP_PEER_KEY_RECORDS_MAX || c->rx.key_bytes > WP_PEER_KEY_BYTES_MAX)
        return err_set(&c->err, WP_EPROTO, "peer exceeded the key usage limit without a key update");
    const uint8_t *content = p + 1;
    bool is_close = type == WP_REC_ALERT && len == 1 && content[0] == WP_ALERT_CLOSE_NOTIFY;
    if (counter == WP_COUNTER_LAST && !is_close)
        return err_set(&c->err, WP_EPROTO, "last record counter used for other than close_notify");
    switch (type) {
    case WP_REC_ALERT:
        if (!is_close)
            return conn_peer_alert(c, content, len);
        if (c->state != HS_DONE)
            return err_set(&c->err, WP_EPROTO, "close_notify during the handshake");
        c->recv_close = true;
        push_simple(c, CONN_EV_CLOSED, WP_OK);
        return WP_OK;
    case WP_REC_READY:
        if (c->state != HS_I_WAIT_READY || len != 0)
            return err_set(&c->err, WP_EPROTO, "unexpected READY (%s)", conn_state_name(c->state));
        return hs_initiator_consume_ready(c);
    case WP_REC_DATA: {
        if (c->state != HS_DONE)
            return err_set(&c->err, WP_EPROTO, "application data before authentication (%s)",
                           conn_state_name(c->state));
        struct conn_event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = CONN_EV_MESSAGE;
        ev.data = content; /* borrowed from the frame buffer until the next call */
        ev.len = len;
        conn_push_event(c, &ev);
        return WP_OK;
    }
    case WP_REC_KEY_UPDATE:
        if (c->state != HS_DONE || len != 0)
            return err_set(&c->err, WP_EPROTO, "unexpected KEY_UPDATE (%s)",
                           conn_state_name(c->state));
        return key_update_log(c, false);
    default:
        return err_set(&c->err, WP_EPROTO, "unknown record type 0x%02x", type);
    }
}

static wp_status process_frame(struct conn *c, uint8_t *p, size_t n)
{
    switch (c->state) {
    case HS_R_WAIT_MSG1: return hs_responder_consume_msg1(c, p, n);
    case HS_I_WAIT_MSG2: return hs_initiator_consume_msg2(c, p, n);
    case HS_R_WAIT_MSG3: return hs_responder_consume_msg3(c, p, n);
    case HS_I_WAIT_TRUST:
    case HS_I_WAIT_READY:
    case HS_R_WAIT_TRUST:
    case HS_DONE: return process_record(c, p, n);
    case HS_FAILED: break;
    }
    return c->err.code;
}

/* ------------------------------------------------------------ API */

static wp_status check_config(const struct conn_config *cfg, wp_err *err)
{
    if (!cfg->identity || !cfg->rng)
        return err_set(err, WP_EINVAL, "identity and rng are required");
    if (!cfg->sign && !crypto_ec_has_private(cfg->identity))
        return err_set(err, WP_EINVAL, "identity has no private key and no sign hook is set");
    if (cfg->suites & ~(uint32_t)(CONN_SUITE_P256_AES256GCM_SHA256 |
                                  CONN_SUITE_P256_CHACHA20POLY1305_SHA256))
        return err_set(err, WP_EINVAL, "unknown suite bits 0x%x", cfg->suites);
    if (cfg->max_frame && (cfg->max_frame < WP_FRAME_MAX_MIN || cfg->max_frame > WP_FRAME_MAX_MAX))
        return err_set(err, WP_EINVAL, "max_frame %u not in %u..%u", cfg->max_frame,
                       WP_FRAME_MAX_MIN, WP_FRAME_MAX_MAX);
    if (cfg->handshake_timeout_ms < 0)
        return err_set(err, WP_EINVAL, "negative handshake timeout");
    if (cfg->external_secret) {
        static const uint8_t zero[WP_EXT_SECRET_MAX];
        size_t n = cfg->external_secret_len;
        if (n < WP_EXT_SECRET_MIN || n > WP_EXT_SECRET_MAX)
            return err_set(err, WP_EINVAL, "external secret of %zu bytes (%d..%d)", n,
                           WP_EXT_SECRET_MIN, WP_EXT_SECRET_MAX);
        if (crypto_ct_eq(cfg->external_secret, zero, n))
            return err_set(err, WP_EINVAL, "external secret is all zeros");
    }
    if (cfg->rekey_after_records > WP_REKEY_RECORDS_MAX ||
        cfg->rekey_after_bytes > WP_REKEY_BYTES_MAX)
        return err_set(err, WP_EINVAL, "rekey limits above the protocol maxima");
    return WP_OK;
}

wp_status conn_new(const struct conn_config *cfg, int64_t now_ms, struct conn **out, wp_err *err)
{
    struct conn *c = NULL;
    wp_status rc;
    if (WP_MISUSE(!cfg || !out)) {
        rc = err_set(err, WP_EINVAL, "conn_new: NULL argument");
        goto out;
    }
    *out = NULL;
    rc = check_config(cfg, err);
    if (rc != WP_OK)
        goto out;
    c = wp_calloc(1, sizeof *c);
    if (!c) {
        rc = err_set(err, WP_ENOMEM, "connection");
        goto out;
    }
    c->is_initiator = cfg->is_initiator;
    c->identity = cfg->identity;
    c->rng = cfg->rng;
    c->rng_user = cfg->rng_user;
    c->sign = cfg->sign;
    c->sign_user = cfg->sign_user;
    c->keylog = cfg->keylog;
    c->keylog_user = cfg->keylog_user;
    c->suites = cfg->suites ? cfg->suites
                            : (CONN_SUITE_P256_AES256GCM_SHA256 |
                               CONN_SUITE_P256_CHACHA20POLY1305_SHA256);
    c->my_max_frame = cfg->max_frame ? cfg->max_frame : WP_FRAME_MAX_DEFAULT;
    c->peer_max_frame = WP_FRAME_MAX_MIN;
    c->rekey_records = cfg->rekey_after_records ? cfg->rekey_after_records : WP_REKEY_RECORDS_MAX;
    c->rekey_bytes = cfg->rekey_after_bytes ? cfg->rekey_after_bytes : WP_REKEY_BYTES_MAX;
    c->timeout_ms = cfg->handshake_timeout_ms ? cfg->handshake_timeout_ms
                                              : WP_HANDSHAKE_TIMEOUT_MS_DEFAULT;
    c->deadline_ms = now_ms > INT64_MAX - c->timeout_ms ? INT64_MAX : now_ms + c->timeout_ms;
    if (cfg->expected_peer) {
        memcpy(c->expected, cfg->expected_peer, WP_PUB_LEN);
        c->has_expected = true;
    }
    if (cfg->external_secret) {
        memcpy(c->psk, cfg->external_secret, cfg->external_secret_len);
        c->psk_len = cfg->external_secret_len;
    }
    frame_dec_init(&c->dec, WP_FRAME_MAX_HS, true);
    c->state = c->is_initiator ? HS_I_WAIT_MSG2 : HS_R_WAIT_MSG1;
    rc = crypto_ec_public(c->identity, c->my_id, &c->err);
    if (rc == WP_OK)
        rc = crypto_hash_new(&c->hs.th, &c->err);
    if (rc == WP_OK && c->is_initiator)
        rc = hs_initiator_create_msg1(c);
    if (rc != WP_OK) {
        err_copy(err, &c->err);
        goto out;
    }
    *out = c;
    c = NULL;
out:
    conn_free(c);
    return rc;
}

void conn_free(struct conn *c)
{
    if (!c)
        return;
    wipe_secrets(c);
    frame_dec_clear(&c->dec);
    wp_free_secret(c->out, c->out_cap);
    wp_free_secret(c, sizeof *c);
}

wp_status conn_input(struct conn *c, const uint8_t *in, size_t len, size_t *out_used)
{
    size_t used = 0;
    if (WP_MISUSE(!c || !out_used || (!in && len)))
        return WP_EINVAL;
    while (c->state != HS_FAILED && c->ev_count == 0 && used < len) {
        size_t n = 0;
        if (c->recv_close) {
            /* §6.3: nothing may follow close_notify, not even part of a frame */
            err_set(&c->err, WP_EPROTO, "%zu bytes after the peer's close_notify", len - used);
            conn_fail(c, WP_EPROTO);
            break;
        }
        wp_status rc = frame_dec_feed(&c->dec, in + used, len - used, &n, &c->err);
        used += n;
        if (rc == WP_AGAIN)
            continue;
        if (rc == WP_OK) {
            size_t plen;
            uint8_t *p = frame_dec_payload(&c->dec, &plen);
            rc = process_frame(c, p, plen);
            /* the buffer is kept: a MESSAGE event borrows it until the next call */
            frame_dec_next(&c->dec);
        }
        if (rc != WP_OK)
            conn_fail(c, rc);
    }
    *out_used = used;
    return c->state == HS_FAILED ? c->err.code : WP_OK;
}

wp_status conn_input_eof(struct conn *c)
{
    if (WP_MISUSE(!c))
        return WP_EINVAL;
    if (c->state == HS_FAILED)
        return c->err.code;
    if (c->recv_close)
        return WP_OK;
    if (c->state != HS_DONE)
        err_set(&c->err, WP_ETRUNCATED, "peer closed the connection during the handshake (%s)",
                conn_state_name(c->state));
    else
        err_set(&c->err, WP_ETRUNCATED,
                "stream ended without close_notify (truncated; %zu bytes of a frame pending)",
                frame_dec_pending(&c->dec));
    return conn_fail(c, WP_ETRUNCATED);
}

const uint8_t *conn_output(struct conn *c, size_t *out_len)
{
    size_t n = c ? c->out_end - c->out_start : 0;
    if (out_len)
        *out_len = n;
    return n ? c->out + c->out_start : NULL;
}

void conn_output_done(struct conn *c, size_t n)
{
    if (WP_MISUSE(!c || n > c->out_end - c->out_start))
        return;
    c->out_start += n;
    if (c->out_start == c->out_end)
        c->out_start = c->out_end = 0;
}

size_t conn_output_pending(const struct conn *c)
{
    return c ? c->out_end - c->out_start : 0;
}

bool conn_trim(struct conn *c)
{
    if (WP_MISUSE(!c))
        return false;
    if (c->out_start == c->out_end) {
        wp_free_secret(c->out, c->out_cap);
        c->out = NULL;
        c->out_cap = c->out_start = c->out_end = 0;
    }
    bool dec_empty = frame_dec_trim(&c->dec);
    return dec_empty && c->out == NULL;
}

size_t conn_buffer_bytes(const struct conn *c)
{
    return c ? c->out_cap + c->dec.cap : 0;
}

size_t conn_max_message(const struct conn *c)
{
    uint32_t f = c && c->state == HS_DONE ? c->peer_max_frame : WP_FRAME_MAX_MIN;
    return f - WP_REC_OVERHEAD;
}

/* §6.3: the counter is spent: close our direction with the last value. */
static wp_status exhausted(struct conn *c)
{
    uint8_t code = WP_ALERT_CLOSE_NOTIFY;
    wp_status rc = conn_seal(c, WP_REC_ALERT, &code, 1);
    if (rc != WP_OK)
        return conn_fail(c, rc);
    c->sent_close = true;
    return err_set(&c->err, WP_ECLOSED,
                   "record counter exhausted: sent close_notify, no more messages can be sent");
}

wp_status conn_send(struct conn *c, const void *msg, size_t len)
{
    wp_status rc;
    if (WP_MISUSE(!c || (!msg && len)))
        return WP_EINVAL;
    if (c->state == HS_FAILED)
        return c->err.code;
    if (c->state != HS_DONE)
        return err_set(&c->err, WP_ESTATE, "cannot send before authentication (%s)",
                       conn_state_name(c->state));
    if (c->sent_close)
        return err_set(&c->err, WP_ECLOSED, "sending direction already closed");
    if (len > conn_max_message(c))
        return err_set(&c->err, WP_ETOOBIG, "message of %zu bytes > %zu (the peer's limit)",
                       len, conn_max_message(c));
    if (c->tx.counter >= WP_COUNTER_LAST)
        return exhausted(c);
    /* §6.4: key update before the usage limits */
    if (c->tx.key_records >= c->rekey_records || c->tx.key_bytes >= c->rekey_bytes) {
        rc = conn_seal(c, WP_REC_KEY_UPDATE, NULL, 0);
        if (rc == WP_ENOMEM)
            return rc;
        if (rc == WP_OK)
            rc = key_update_log(c, true);
        if (rc != WP_OK)
            return conn_fail(c, rc);
        if (c->tx.counter >= WP_COUNTER_LAST)
            return exhausted(c);
    }
    rc = conn_seal(c, WP_REC_DATA, msg, len);
    if (rc != WP_OK && rc != WP_ENOMEM)
        return conn_fail(c, rc);
    return rc;
}

wp_status conn_close(struct conn *c)
{
    if (WP_MISUSE(!c))
        return WP_EINVAL;
    if (c->state == HS_FAILED)
        return c->err.code;
    if (c->sent_close)
        return WP_OK;
    if (c->state != HS_DONE) {
        err_set(&c->err, WP_ECLOSED, "closed locally during the handshake (%s)",
                conn_state_name(c->state));
        conn_fail(c, WP_ECLOSED);
        return WP_OK;
    }
    uint8_t code = WP_ALERT_CLOSE_NOTIFY;
    wp_status rc = conn_seal(c, WP_REC_ALERT, &code, 1);
    if (rc != WP_OK)
        return conn_fail(c, rc);
    c->sent_close = true;
    return WP_OK;
}

wp_status conn_next_event(struct conn *c, struct conn_event *out_ev)
{
    if (WP_MISUSE(!c || !out_ev))
        return WP_EINVAL;
    if (c->ev_count == 0)
        return WP_AGAIN;
    *out_ev = c->evq[c->ev_head];
    c->ev_head = (c->ev_head + 1) % CONN_EVQ_LEN;
    c->ev_count--;
    return WP_OK;
}

wp_status conn_trust_decide(struct conn *c, bool accept)
{
    wp_status rc;
    if (WP_MISUSE(!c))
        return WP_EINVAL;
    if (c->state == HS_FAILED)
        return c->err.code;
    if (c->state != HS_I_WAIT_TRUST && c->state != HS_R_WAIT_TRUST)
        return err_set(&c->err, WP_ESTATE, "no trust decision pending (%s)",
                       conn_state_name(c->state));
    if (!accept)
        rc = err_set(&c->err, WP_EDENIED, "the local trust decision refused the peer's identity");
    else if (c->is_initiator)
        rc = hs_initiator_create_msg3(c);
    else
        rc = hs_responder_create_ready(c);
    if (rc != WP_OK)
        return conn_fail(c, rc);
    return WP_OK;
}

int64_t conn_deadline_ms(const struct conn *c)
{
    if (!c || c->state == HS_FAILED || c->state == HS_DONE)
        return -1;
    return c->deadline_ms;
}

void conn_tick(struct conn *c, int64_t now_ms)
{
    int64_t d = conn_deadline_ms(c);
    if (d < 0 || now_ms < d)
        return;
    err_set(&c->err, WP_ETIMEDOUT, "handshake not complete after %lld ms (%s)",
            (long long)c->timeout_ms, conn_state_name(c->state));
    conn_fail(c, WP_ETIMEDOUT);
}

bool conn_is_authenticated(const struct conn *c)
{
    return c && c->state == HS_DONE;
}

bool conn_is_closed(const struct conn *c)
{
    return !c || c->state == HS_FAILED || (c->sent_close && c->recv_close);
}

const wp_err *conn_last_error(const struct conn *c)
{
    return c ? &c->err : NULL;
}

wp_status conn_exporter(const struct conn *c, const char *label, uint8_t *out, size_t out_len)
{
    if (WP_MISUSE(!c || !label || !out))
        return WP_EINVAL;
    if (!c->has_exp || c->state == HS_FAILED)
        return WP_ESTATE;
    return ks_export(c->exp, label, strlen(label), out, out_len, NULL);
}

void conn_test_set_counters(struct conn *c, uint64_t tx, uint64_t rx)
{
    c->tx.counter = tx;
    c->rx.counter = rx;
}

void conn_test_key_generations(const struct conn *c, uint32_t *out_tx, uint32_t *out_rx)
{
    *out_tx = c->tx.generation;
    *out_rx = c->rx.generation;
}

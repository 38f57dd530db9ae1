#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

#include "crypto/crypto.h"

static void die(const char *what, wp_status st)
{
    fprintf(stderr, "harness: %s: %s\n", what, wp_status_name(st));
    abort();
}

void test_rng_seed(struct test_rng *r, const char *label)
{
    memset(r, 0, sizeof *r);
    wp_status st = crypto_sha256(label, strlen(label), r->seed, NULL);
    if (st != WP_OK)
        die("sha256", st);
}

wp_status test_rng_fn(void *user, uint8_t *out, size_t len)
{
    struct test_rng *r = user;
    if (r->fixed) {
        if (len > r->fixed_len - r->fixed_pos)
            return WP_ECRYPTO;
        memcpy(out, r->fixed + r->fixed_pos, len);
        r->fixed_pos += len;
        return WP_OK;
    }
    while (len) {
        uint8_t in[40], block[32];
        memcpy(in, r->seed, 32);
        for (int i = 0; i < 8; i++)
            in[32 + i] = (uint8_t)(r->counter >> (8 * i));
        r->counter++;
        wp_status st = crypto_sha256(in, sizeof in, block, NULL);
        if (st != WP_OK)
            return st;
        size_t n = len < sizeof block ? len : sizeof block;
        memcpy(out, block, n);
        out += n;
        len -= n;
    }
    return WP_OK;
}

void peer_init(struct peer *p, bool is_initiator, const char *id_label, const char *rng_label)
{
    uint8_t scalar[32];
    memset(p, 0, sizeof *p);
    wp_status st = crypto_sha256(id_label, strlen(id_label), scalar, NULL);
    if (st == WP_OK)
        st = crypto_ec_from_scalar(scalar, &p->id, NULL);
    if (st == WP_OK)
        st = crypto_ec_public(p->id, p->id_pub, NULL);
    if (st != WP_OK)
        die("identity", st);
    test_rng_seed(&p->rng, rng_label);
    p->cfg.is_initiator = is_initiator;
    p->cfg.identity = p->id;
    p->cfg.rng = test_rng_fn;
    p->cfg.rng_user = &p->rng;
    p->trust = TRUST_ACCEPT;
}

wp_status peer_start(struct peer *p, int64_t now_ms)
{
    wp_err err;
    err_clear(&err);
    return conn_new(&p->cfg, now_ms, &p->c, &err);
}

void peer_free(struct peer *p)
{
    conn_free(p->c);
    crypto_ec_free(p->id);
    free(p->msgs);
    free(p->sent);
    memset(p, 0, sizeof *p);
}

static void append(uint8_t **buf, size_t *len, size_t *cap, const uint8_t *p, size_t n)
{
    if (n == 0)
        return;
    if (*len + n > *cap) {
        size_t c = *cap ? *cap : 256;
        while (c < *len + n)
            c *= 2;
        uint8_t *q = realloc(*buf, c);
        if (!q)
            die("realloc", WP_ENOMEM);
        *buf = q;
        *cap = c;
    }
    memcpy(*buf + *len, p, n);
    *len += n;
}

void peer_events(struct peer *p)
{
    struct conn_event ev;
    while (p->c && conn_next_event(p->c, &ev) == WP_OK) {
        switch (ev.type) {
        case CONN_EV_PEER_IDENTITY:
            p->got_identity = true;
            memcpy(p->peer_pub, ev.peer_pub, sizeof p->peer_pub);
            if (p->trust != TRUST_MANUAL)
                {
                wp_status st = conn_trust_decide(p->c, p->trust == TRUST_ACCEPT);
                (void)st; /* a failure shows up as a CLOSED event */
            }
            break;
        case CONN_EV_AUTHENTICATED:
            p->authenticated = true;
            p->suite = ev.suite;
            memcpy(p->peer_pub, ev.peer_pub, sizeof p->peer_pub);
            break;
        case CONN_EV_MESSAGE:
            append(&p->msgs, &p->msgs_len, &p->msgs_cap, ev.data, ev.len);
            p->n_msgs++;
            p->last_msg_len = ev.len;
            break;
        case CONN_EV_CLOSED:
            p->closed = true;
            p->close_reason = ev.reason;
            break;
        }
    }
}

void pair_init(struct pair *pr, const char *seed)
{
    char a_id[128], b_id[128], a_rng[128], b_rng[128];
    memset(pr, 0, sizeof *pr);
    snprintf(a_id, sizeof a_id, "initiator identity");
    snprintf(b_id, sizeof b_id, "responder identity");
    snprintf(a_rng, sizeof a_rng, "%s initiator rng", seed);
    snprintf(b_rng, sizeof b_rng, "%s responder rng", seed);
    peer_init(&pr->a, true, a_id, a_rng);
    peer_init(&pr->b, false, b_id, b_rng);
    pr->ab.cut_at = SIZE_MAX;
    pr->ba.cut_at = SIZE_MAX;
}

wp_status pair_start(struct pair *pr)
{
    wp_status st = peer_start(&pr->a, pr->now_ms);
    if (st == WP_OK)
        st = peer_start(&pr->b, pr->now_ms);
    return st;
}

void pair_free(struct pair *pr)
{
    peer_free(&pr->a);
    peer_free(&pr->b);
    free(pr->ab.buf);
    free(pr->ba.buf);
    memset(pr, 0, sizeof *pr);
}

/* Move from's output onto the wire (through tamper and cut); true if any moved. */
static bool to_wire(struct pair *pr, struct peer *from, struct wire *w, int dir)
{
    size_t n;
    const uint8_t *p = from->c ? conn_output(from->c, &n) : NULL;
    if (!p)
        return false;
    append(&from->sent, &from->sent_len, &from->sent_cap, p, n);
    size_t keep = n;
    if (w->cut_at != SIZE_MAX)
        keep = w->off >= w->cut_at ? 0 : (w->cut_at - w->off < n ? w->cut_at - w->off : n);
    size_t at = w->len;
    append(&w->buf, &w->len, &w->cap, p, keep);
    if (pr->tamper && keep)
        pr->tamper(pr->tamper_user, dir, w->buf + at, keep, w->off);
    w->off += n;
    conn_output_done(from->c, n);
    return true;
}

/* Feed the wire into to; true if any byte was taken. */
static bool from_wire(struct peer *to, struct wire *w)
{
    bool moved = false;
    peer_events(to);
    while (w->len && to->c) {
        size_t used = 0;
        wp_status st = conn_input(to->c, w->buf, w->len, &used);
        (void)st; /* a failure shows up as a CLOSED event */
        memmove(w->buf, w->buf + used, w->len - used);
        w->len -= used;
        peer_events(to);
        if (used == 0)
            break;
        moved = true;
    }
    return moved;
}

int pair_pump(struct pair *pr)
{
    int rounds = 0;
    for (; rounds < 100000; rounds++) {
        bool moved = false;
        peer_events(&pr->a);
        peer_events(&pr->b);
        moved |= to_wire(pr, &pr->a, &pr->ab, 0);
        moved |= to_wire(pr, &pr->b, &pr->ba, 1);
        moved |= from_wire(&pr->b, &pr->ab);
        moved |= from_wire(&pr->a, &pr->ba);
        if (!moved)
            break;
    }
    return rounds;
}

void pair_eof(struct pair *pr)
{
    pair_pump(pr);
    wp_status st = WP_OK;
    if (pr->a.c)
        st = conn_input_eof(pr->a.c);
    if (pr->b.c)
        st = conn_input_eof(pr->b.c);
    (void)st; /* a failure shows up as a CLOSED event */
    peer_events(&pr->a);
    peer_events(&pr->b);
}

bool pair_handshake(struct pair *pr)
{
    if (pair_start(pr) != WP_OK)
        return false;
    pair_pump(pr);
    return pr->a.authenticated && pr->b.authenticated;
}

void hex_encode(const uint8_t *p, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static int nib(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t hex_decode(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex);
    if (n % 2 || n / 2 > cap)
        return (size_t)-1;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = nib(hex[2 * i]), lo = nib(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return (size_t)-1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return n / 2;
}

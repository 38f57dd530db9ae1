#include "vecscript.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "codec/buf.h"
#include "crypto/crypto.h"

void vec_init(struct vec *v)
{
    memset(v, 0, sizeof *v);
}

void vec_clear(struct vec *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->val[i]);
    memset(v, 0, sizeof *v);
}

void vec_put(struct vec *v, const char *name, const uint8_t *p, size_t n)
{
    if (v->n == VEC_MAX || strlen(name) >= VEC_NAME)
        abort();
    snprintf(v->name[v->n], VEC_NAME, "%s", name);
    v->val[v->n] = malloc(n ? n : 1);
    if (!v->val[v->n])
        abort();
    if (n)
        memcpy(v->val[v->n], p, n);
    v->len[v->n] = n;
    v->n++;
}

const uint8_t *vec_get(const struct vec *v, const char *name, size_t *out_len)
{
    for (size_t i = 0; i < v->n; i++) {
        if (strcmp(v->name[i], name) == 0) {
            *out_len = v->len[i];
            return v->val[i];
        }
    }
    *out_len = 0;
    return NULL;
}

int vec_load(const char *path, uint16_t suite, struct vec *out)
{
    char want[32], line[8192];
    bool in = false;
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    snprintf(want, sizeof want, "[suite %04x]", suite);
    vec_init(out);
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '[') {
            in = strcmp(line, want) == 0;
            continue;
        }
        char *eq = strstr(line, " = ");
        if (!in || line[0] == '#' || !eq)
            continue;
        *eq = '\0';
        static uint8_t buf[4096];
        size_t n = hex_decode(eq + 3, buf, sizeof buf);
        if (n == (size_t)-1) {
            fclose(f);
            return -1;
        }
        vec_put(out, line, buf, n);
    }
    fclose(f);
    return out->n ? 0 : -1;
}

/* ------------------------------------------------------------ the script */

struct side {
    const char *tag; /* "I" or "R" */
    struct conn *c;
    crypto_ec_key *id;
    struct test_rng rng;
    uint8_t rng_bytes[64];
    struct vec keylog;
    struct run *run;
    bool got_id, authenticated, closed;
    wp_status reason;
    uint8_t msgs[256];
    size_t msgs_len;
};

struct run {
    struct side i, r;
    const struct vec *golden;
    struct vec *out;
    int seq[2];
    char *why;
    size_t why_len;
    int failed;
};

static void fail(struct run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct run *run, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (!run->failed)
        vsnprintf(run->why, run->why_len, fmt, ap);
    va_end(ap);
    run->failed = 1;
}

/* Record a produced value; when verifying, it must equal the golden one. */
static void check(struct run *run, const char *name, const uint8_t *p, size_t n)
{
    vec_put(run->out, name, p, n);
    if (!run->golden)
        return;
    size_t gl;
    const uint8_t *g = vec_get(run->golden, name, &gl);
    if (!g)
        fail(run, "golden value %s missing", name);
    else if (gl != n || memcmp(g, p, n) != 0)
        fail(run, "%s differs from the golden value", name);
}

static void keylog_hook(void *user, const char *name, const uint8_t *v, size_t len)
{
    struct side *s = user;
    vec_put(&s->keylog, name, v, len);
}

static wp_status sign_hook(void *user, const uint8_t *msg, size_t len, uint8_t out[64])
{
    struct side *s = user;
    struct run *run = s->run;
    char name[8];
    snprintf(name, sizeof name, "sig_%s", s->tag);
    if (!run->golden) {
        wp_status st = crypto_ecdsa_sign(s->id, msg, len, out, NULL);
        if (st == WP_OK)
            vec_put(run->out, name, out, 64);
        return st;
    }
    size_t gl;
    const uint8_t *g = vec_get(run->golden, name, &gl);
    /* replay the recorded signature, but only if it is valid over our transcript */
    if (!g || gl != 64 || crypto_ecdsa_verify(s->id, msg, len, g, gl, NULL) != WP_OK) {
        fail(run, "recorded %s does not verify over our transcript", name);
        return WP_EAUTH;
    }
    memcpy(out, g, 64);
    vec_put(run->out, name, out, 64);
    return WP_OK;
}

static void events(struct side *s)
{
    struct conn_event ev;
    while (conn_next_event(s->c, &ev) == WP_OK) {
        if (ev.type == CONN_EV_PEER_IDENTITY) {
            s->got_id = true;
            if (conn_trust_decide(s->c, true) != WP_OK)
                fail(s->run, "%s: trust_decide failed", s->tag);
        } else if (ev.type == CONN_EV_AUTHENTICATED) {
            s->authenticated = true;
        } else if (ev.type == CONN_EV_MESSAGE) {
            if (ev.len > sizeof s->msgs - s->msgs_len)
                abort();
            memcpy(s->msgs + s->msgs_len, ev.data, ev.len);
            s->msgs_len += ev.len;
        } else if (ev.type == CONN_EV_CLOSED) {
            s->closed = true;
            s->reason = ev.reason;
        }
    }
}

static void feed(struct side *to, const uint8_t *p, size_t n)
{
    events(to);
    while (n) {
        size_t used = 0;
        wp_status st = conn_input(to->c, p, n, &used);
        if (st != WP_OK) {
            fail(to->run, "%s: input failed: %s", to->tag, conn_last_error(to->c)->detail);
            return;
        }
        p += used;
        n -= used;
        events(to);
    }
}

/* Take everything from's engine wrote, name its frames with labels, check, feed to `to`. */
static void step(struct run *run, struct side *from, struct side *to, const char *const *labels,
                 size_t n_labels)
{
    size_t n;
    const uint8_t *p = conn_output(from->c, &n);
    size_t k = 0;
    int dir = from == &run->i ? 0 : 1;
    while (n >= 4 && !run->failed) {
        size_t flen = 4 + (size_t)be32_load(p);
        char name[VEC_NAME];
        if (flen > n || k >= n_labels) {
            fail(run, "%s wrote an unexpected frame", from->tag);
            break;
        }
        snprintf(name, sizeof name, "%s.%02d.%s", dir ? "r2i" : "i2r", ++run->seq[dir],
                 labels[k++]);
        check(run, name, p, flen);
        size_t gl;
        const uint8_t *g = run->golden ? vec_get(run->golden, name, &gl) : p;
        if (!run->golden)
            gl = flen;
        if (g)
            feed(to, g, gl);
        p += flen;
        n -= flen;
    }
    if (!run->failed && (n != 0 || k != n_labels))
        fail(run, "%s: frames differ from the script", from->tag);
    size_t all;
    conn_output(from->c, &all);
    conn_output_done(from->c, all);
}

static void setup(struct run *run, struct side *s, const char *tag, bool is_initiator,
                  uint8_t scalar_byte, uint8_t rnd0, uint8_t eph_byte, uint16_t suite)
{
    uint8_t scalar[32];
    char name[32];
    uint8_t pub[65];
    s->tag = tag;
    s->run = run;
    vec_init(&s->keylog);
    memset(scalar, scalar_byte, sizeof scalar);
    for (int i = 0; i < 32; i++)
        s->rng_bytes[i] = (uint8_t)(rnd0 + i);
    memset(s->rng_bytes + 32, eph_byte, 32);
    memset(&s->rng, 0, sizeof s->rng);
    s->rng.fixed = s->rng_bytes;
    s->rng.fixed_len = sizeof s->rng_bytes;
    if (crypto_ec_from_scalar(scalar, &s->id, NULL) != WP_OK ||
        crypto_ec_public(s->id, pub, NULL) != WP_OK)
        abort();
    snprintf(name, sizeof name, "id_%s_scalar", tag);
    check(run, name, scalar, sizeof scalar);
    snprintf(name, sizeof name, "id_%s_pub", tag);
    check(run, name, pub, sizeof pub);
    snprintf(name, sizeof name, "rng_%s", tag);
    check(run, name, s->rng_bytes, sizeof s->rng_bytes);

    struct conn_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.is_initiator = is_initiator;
    cfg.identity = s->id;
    cfg.rng = test_rng_fn;
    cfg.rng_user = &s->rng;
    cfg.sign = sign_hook;
    cfg.sign_user = s;
    cfg.keylog = keylog_hook;
    cfg.keylog_user = s;
    cfg.suites = suite == 1 ? CONN_SUITE_P256_AES256GCM_SHA256
                            : CONN_SUITE_P256_CHACHA20POLY1305_SHA256;
    cfg.rekey_after_records = is_initiator ? 2 : 0;
    wp_err err;
    if (conn_new(&cfg, 0, &s->c, &err) != WP_OK)
        fail(run, "conn_new: %s", err.detail);
}

#define STEP(run, from, to, ...)                                                                \
    do {                                                                                        \
        static const char *const l_[] = {__VA_ARGS__};                                          \
        step(run, from, to, l_, sizeof l_ / sizeof l_[0]);                                      \
    } while (0)

int vec_run(uint16_t suite, const struct vec *golden, struct vec *out, char *why, size_t why_len)
{
    struct run run;
    memset(&run, 0, sizeof run);
    run.golden = golden;
    run.out = out;
    run.why = why;
    run.why_len = why_len;
    vec_init(out);
    uint8_t s16[2] = {(uint8_t)(suite >> 8), (uint8_t)suite};
    check(&run, "suite", s16, 2);
    setup(&run, &run.i, "I", true, 0x11, 0x00, 0x33, suite);
    setup(&run, &run.r, "R", false, 0x22, 0x20, 0x44, suite);
    if (run.failed)
        goto out;

    STEP(&run, &run.i, &run.r, "msg1");
    STEP(&run, &run.r, &run.i, "msg2");
    STEP(&run, &run.i, &run.r, "msg3");
    STEP(&run, &run.r, &run.i, "ready");
    if (!run.i.authenticated || !run.r.authenticated) {
        fail(&run, "handshake did not complete");
        goto out;
    }
    uint8_t ei[32], er[32];
    if (conn_exporter(run.i.c, "EXPORTER-wipeer-test", ei, 32) != WP_OK ||
        conn_exporter(run.r.c, "EXPORTER-wipeer-test", er, 32) != WP_OK || memcmp(ei, er, 32))
        fail(&run, "exporters differ");
    check(&run, "exporter", ei, 32);

    if (conn_send(run.i.c, "hello responder", 15) != WP_OK)
        fail(&run, "send");
    STEP(&run, &run.i, &run.r, "data");
    if (conn_send(run.r.c, "hello initiator", 15) != WP_OK)
        fail(&run, "send");
    STEP(&run, &run.r, &run.i, "data");
    if (conn_send(run.i.c, "one", 3) != WP_OK || conn_send(run.i.c, "two", 3) != WP_OK ||
        conn_send(run.i.c, "three", 5) != WP_OK)
        fail(&run, "send");
    STEP(&run, &run.i, &run.r, "data", "key_update", "data", "data");
    if (conn_close(run.i.c) != WP_OK)
        fail(&run, "close");
    STEP(&run, &run.i, &run.r, "close_notify");
    if (conn_close(run.r.c) != WP_OK)
        fail(&run, "close");
    STEP(&run, &run.r, &run.i, "close_notify");
    if (run.failed)
        goto out;
    if (!run.i.closed || run.i.reason != WP_OK || !run.r.closed || run.r.reason != WP_OK ||
        conn_input_eof(run.i.c) != WP_OK || conn_input_eof(run.r.c) != WP_OK)
        fail(&run, "close was not clean");
    if (run.r.msgs_len != 26 || memcmp(run.r.msgs, "hello responderonetwothree", 26) ||
        run.i.msgs_len != 15 || memcmp(run.i.msgs, "hello initiator", 15))
        fail(&run, "messages differ");
    /* every key schedule value: the same on both sides, and as recorded */
    for (size_t k = 0; k < run.i.keylog.n && !run.failed; k++) {
        size_t rl;
        const uint8_t *rv = vec_get(&run.r.keylog, run.i.keylog.name[k], &rl);
        if (!rv || rl != run.i.keylog.len[k] || memcmp(rv, run.i.keylog.val[k], rl))
            fail(&run, "key schedule value %s differs between the sides",
                 run.i.keylog.name[k]);
        check(&run, run.i.keylog.name[k], run.i.keylog.val[k], run.i.keylog.len[k]);
    }
out:
    conn_free(run.i.c);
    conn_free(run.r.c);
    crypto_ec_free(run.i.id);
    crypto_ec_free(run.r.id);
    vec_clear(&run.i.keylog);
    vec_clear(&run.r.keylog);
    return run.failed ? -1 : 0;
}

/*
 * disc_connect.c - wp_connect_discovered: a connection whose address comes
 * from discovery. It is an ordinary wp_conn that waits in RT_RESOLVING for
 * a query (disc.h) instead of getaddrinfo; once its service is found, the
 * service's addresses become the candidate list of connect.c. A fingerprint
 * target turns on the expected-peer check of the handshake (events.c), on
 * the fingerprint's length: the TXT record only pointed at the service.
 */
#include "internal.h"

#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>

#include "dns/txt.h"
#include "runtime/disc.h"
#include "runtime/rt.h"

/* see wipeer.h */
wp_status wp_connect_discovered(wp_ctx *ctx, const char *target, const wp_conn_opts *opts,
                                wp_conn **out, wp_error *out_err)
{
    wp_status rc;
    wp_err err;
    struct wp_conn *conn = NULL;
    struct disc_target *tgt = NULL;
    struct cmd *c = NULL;
    struct disc *d;
    err_clear(&err);
    if (WP_MISUSE(!ctx || !out)) {
        rc = err_set(&err, WP_EINVAL, "NULL argument");
        goto out;
    }
    *out = NULL;
    tgt = wp_calloc(1, sizeof *tgt);
    c = wp_calloc(1, sizeof *c);
    if (!tgt || !c) {
        rc = err_set(&err, WP_ENOMEM, "connection");
        goto out;
    }
    if ((rc = disc_target_parse(target, tgt, &err)) != WP_OK ||
        (rc = disc_get(ctx, &d, &err)) != WP_OK)
        goto out;
    if (tgt->is_fp && memcmp(tgt->fp.bytes, d->fp.bytes, tgt->fp_len) == 0) {
        rc = err_set(&err, WP_EIDENTITY, "%s is this device's own fingerprint", tgt->text);
        goto out;
    }
    if (tgt->is_fp && opts && opts->has_expected_peer &&
        memcmp(opts->expected_peer.bytes, tgt->fp.bytes, tgt->fp_len) != 0) {
        rc = err_set(&err, WP_EINVAL, "opts->expected_peer is not the fingerprint %s",
                     tgt->text);
        goto out;
    }
    if ((rc = session_new(ctx, opts, &conn, &err)) != WP_OK)
        goto out;
    if (!(conn->host = wp_strdup(tgt->text))) {
        rc = err_set(&err, WP_ENOMEM, "connection");
        goto out;
    }
    if (tgt->is_fp && !conn->opts.has_expected_peer) {
        conn->opts.has_expected_peer = true;
        conn->opts.expected_peer = tgt->fp;
        conn->expect_len = tgt->fp_len;
    }
    pthread_mutex_lock(&ctx->mu);
    d->is_started = true;
    pthread_mutex_unlock(&ctx->mu);
    conn->disc_target = tgt;
    tgt = NULL;
    c->type = CMD_CONNECT;
    c->conn = conn;
    *out = conn;
    if (ctx_on_loop(ctx)) {
        ctx_exec(ctx, c);
    } else {
        ctx_enqueue(ctx, c);
    }
    conn = NULL;
    c = NULL;
out:
    if (conn)
        session_free(conn);
    wp_free(tgt);
    wp_free(c);
    err_copy(out_err, &err);
    return rc;
}

/* see disc.h */
void disc_connect_start(struct wp_conn *conn)
{
    struct disc *d = conn->ctx->disc;
    struct disc_query *q = wp_calloc(1, sizeof *q);
    if (!q) {
        session_fail(conn, WP_ENOMEM, "discovery query");
        return;
    }
    conn->state = RT_RESOLVING;
    q->tgt = *conn->disc_target;
    q->deadline = conn->connect_deadline;
    q->conn = conn;
    q->is_new = true;
    pthread_mutex_lock(&conn->ctx->mu);
    conn->refs++; /* released when the query ends (discovery.c) */
    pthread_mutex_unlock(&conn->ctx->mu);
    disc_ensure(d);
    q->next = d->queries;
    d->queries = q;
    disc_update(d);
}

/* see disc.h */
void disc_connect_timeout(struct wp_conn *conn)
{
    if (conn->state != RT_RESOLVING)
        return;
    session_fail(conn, WP_ENOTFOUND, "discovery found no service %s within %u ms", conn->host,
                 conn->opts.connect_timeout_ms);
}

/* see disc.h */
void disc_free_ai(struct addrinfo *ai)
{
    wp_free(ai); /* one block: the nodes, then their addresses */
}

/* The service's addresses as a connect.c candidate list, in one allocation. */
static struct addrinfo *build_ai(const struct disc *d, const struct disc_svc *s, size_t n)
{
    struct addrinfo *ai = wp_calloc(n, sizeof *ai + sizeof(struct sockaddr_in6));
    if (!ai)
        return NULL;
    struct sockaddr_in6 *sa = (struct sockaddr_in6 *)(void *)(ai + n);
    size_t k = 0;
    /* IPv4 first: a global path; then IPv6, link-local ones with their interface. */
    for (int fam = 4; fam <= 6; fam += 2) {
        for (size_t i = 0; i < s->n_addrs; i++) {
            const struct disc_addr *a = &s->addrs[i];
            if (a->family != fam || (fam == 4 && d->no_v4) || (fam == 6 && d->no_v6))
                continue;
            struct addrinfo *x = &ai[k];
            x->ai_socktype = SOCK_STREAM;
            x->ai_protocol = IPPROTO_TCP;
            x->ai_addr = (struct sockaddr *)(void *)&sa[k];
            if (fam == 4) {
                struct sockaddr_in *v4 = (struct sockaddr_in *)(void *)&sa[k];
                v4->sin_family = AF_INET;
                v4->sin_port = htons(s->port);
                memcpy(&v4->sin_addr, a->ip, 4);
                x->ai_family = AF_INET;
                x->ai_addrlen = sizeof *v4;
            } else {
                struct sockaddr_in6 *v6 = &sa[k];
                v6->sin6_family = AF_INET6;
                v6->sin6_port = htons(s->port);
                memcpy(&v6->sin6_addr, a->ip, 16);
                if (IN6_IS_ADDR_LINKLOCAL(&v6->sin6_addr))
                    v6->sin6_scope_id = a->ifindex;
                x->ai_family = AF_INET6;
                x->ai_addrlen = sizeof *v6;
            }
            x->ai_next = k + 1 < n ? &ai[k + 1] : NULL;
            k++;
        }
    }
    return ai;
}

/* see disc.h */
void disc_connect_found(struct disc *d, struct wp_conn *conn, const struct disc_svc *s)
{
    if (conn->state != RT_RESOLVING)
        return;
    if (s->is_own) {
        session_fail(conn, WP_EIDENTITY, "service %s is this context's own", s->name);
        return;
    }
    txt_wipeer_info ti;
    txt_wipeer_parse(s->txt, s->has_txt ? s->txt_len : 0, &ti);
    if (!s->has_txt || !ti.is_connectable) {
        session_fail(conn, WP_ENOTWIPEER,
                     "service %s publishes no wipeer version we support (TXT v=%u)", s->name,
                     ti.version);
        return;
    }
    size_t usable = 0;
    for (size_t i = 0; i < s->n_addrs; i++)
        usable += (s->addrs[i].family == 4 && !d->no_v4) || (s->addrs[i].family == 6 && !d->no_v6);
    struct addrinfo *ai = usable ? build_ai(d, s, usable) : NULL;
    if (!ai) {
        session_fail(conn, usable ? WP_ENOMEM : WP_ENOTFOUND, "service %s: %s", s->name,
                     usable ? "out of memory" : "no address of an enabled family");
        return;
    }
    conn->ai = ai;
    conn->ai_next = ai;
    conn->ai_is_ours = true;
    conn->port = s->port;
    conn->state = RT_CONNECTING;
    session_try_next(conn);
}

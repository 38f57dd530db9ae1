/*
 * net.c - socket helpers: listening sockets (IPv4, IPv6, dual-stack),
 * per-connection tuning (TCP_NODELAY, keepalive), address text, numeric
 * name resolution and errno -> wp_status.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/rt.h"

wp_status net_status_from_errno(int e)
{
    switch (e) {
    case ECONNREFUSED:
    case ECONNRESET:
    case EPIPE:
    case ECONNABORTED:
        return WP_EREFUSED;
    case ETIMEDOUT:
        return WP_ETIMEDOUT;
    case ENOMEM:
    case ENOBUFS:
        return WP_ENOMEM;
    default:
        return WP_ESYS;
    }
}

void net_tune(int fd, const wp_conn_opts *opts)
{
    int one = 1;
    /* Records are whole messages already batched by the loop: no Nagle delay. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (opts->keepalive_idle_s == UINT32_MAX)
        return;
    int idle = opts->keepalive_idle_s > 32767 ? 32767 : (int)opts->keepalive_idle_s;
    int intvl = RT_KEEPINTVL_S, cnt = RT_KEEPCNT;
    (void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
}

void net_format_addr(const void *sa, size_t sa_len, char *buf, size_t buf_len)
{
    char host[INET6_ADDRSTRLEN] = "?";
    const struct sockaddr *s = sa;
    if (!buf_len)
        return;
    buf[0] = '\0';
    if (s->sa_family == AF_INET && sa_len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(buf, buf_len, "%s:%u", host, ntohs(in->sin_port));
    } else if (s->sa_family == AF_INET6 && sa_len >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = sa;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            /* A v4 peer on a dual-stack socket: show it as plain IPv4. */
            inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], host, sizeof host);
            snprintf(buf, buf_len, "%s:%u", host, ntohs(in6->sin6_port));
        } else if (in6->sin6_scope_id) {
            /* Link-local: the address means nothing without its interface. */
            char ifname[IF_NAMESIZE];
            inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
            if (if_indextoname(in6->sin6_scope_id, ifname))
                snprintf(buf, buf_len, "[%s%%%s]:%u", host, ifname, ntohs(in6->sin6_port));
            else
                snprintf(buf, buf_len, "[%s%%%u]:%u", host, in6->sin6_scope_id,
                         ntohs(in6->sin6_port));
        } else {
            inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
            snprintf(buf, buf_len, "[%s]:%u", host, ntohs(in6->sin6_port));
        }
    }
}

wp_status net_resolve_numeric(const char *host, uint16_t port, struct addrinfo **out,
                              wp_err *err)
{
    struct addrinfo hints;
    char service[8];
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    snprintf(service, sizeof service, "%u", port);
    *out = NULL;
    int r = getaddrinfo(host, service, &hints, out);
    if (r == 0)
        return WP_OK;
    if (r == EAI_NONAME)
        return WP_AGAIN; /* a name: needs the resolver thread */
    if (r == EAI_MEMORY)
        return err_set(err, WP_ENOMEM, "getaddrinfo");
    return err_set(err, WP_EINVAL, "address %s: %s", host, gai_strerror(r));
}

static wp_status bind_listen(int family, const void *sa, socklen_t sl, bool v6only, int *out_fd,
                             wp_err *err)
{
    wp_status rc = WP_OK;
    int one = 1;
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return err_sys(err, errno, "socket");
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family == AF_INET6) {
        int v = v6only ? 1 : 0;
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof v);
    }
    if (bind(fd, sa, sl) < 0) {
        rc = err_sys(err, errno, "bind: %s", strerror(errno));
        goto out;
    }
    if (listen(fd, SOMAXCONN) < 0) {
        rc = err_sys(err, errno, "listen: %s", strerror(errno));
        goto out;
    }
    *out_fd = fd;
    fd = -1;
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

wp_status net_listen_socket(const char *addr, uint16_t port, int *out_fd, uint16_t *out_port,
                            wp_err *err)
{
    wp_status rc;
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
    char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2]; /* "fe80::1%eth0" */
    memset(&in4, 0, sizeof in4);
    memset(&in6, 0, sizeof in6);
    in4.sin_family = AF_INET;
    in4.sin_port = htons(port);
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(port);
    *out_fd = -1;
    if (!addr || !*addr) {
        in6.sin6_addr = in6addr_any;
        rc = bind_listen(AF_INET6, &in6, sizeof in6, false, out_fd, err);
        if (rc == WP_ESYS && err && err->sys_errno == EAFNOSUPPORT) {
            in4.sin_addr.s_addr = htonl(INADDR_ANY);
            rc = bind_listen(AF_INET, &in4, sizeof in4, false, out_fd, err);
        }
    } else {
        /* Accept "[::1]" as well as "::1". */
        size_t n = strlen(addr);
        if (n >= sizeof host)
            return err_set(err, WP_EINVAL, "address too long");
        if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']') {
            memcpy(host, addr + 1, n - 2);
            host[n - 2] = '\0';
        } else {
            memcpy(host, addr, n + 1);
        }
        /* Numeric only (never DNS); getaddrinfo, unlike inet_pton, takes a
           link-local scope: "fe80::1%eth0". */
        struct addrinfo hints, *ai = NULL;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
        int g = getaddrinfo(host, "0", &hints, &ai);
        if (g == EAI_MEMORY)
            return err_set(err, WP_ENOMEM, "getaddrinfo");
        if (g != 0 || !ai)
            return err_set(err, WP_EINVAL,
                           "'%s' is not a numeric IPv4 or IPv6 address (with %%interface "
                           "for a link-local one)",
                           addr);
        if (ai->ai_family == AF_INET && ai->ai_addrlen == sizeof in4) {
            memcpy(&in4, ai->ai_addr, sizeof in4);
            in4.sin_port = htons(port);
            rc = bind_listen(AF_INET, &in4, sizeof in4, false, out_fd, err);
        } else if (ai->ai_family == AF_INET6 && ai->ai_addrlen == sizeof in6) {
            memcpy(&in6, ai->ai_addr, sizeof in6);
            in6.sin6_port = htons(port);
            rc = bind_listen(AF_INET6, &in6, sizeof in6, true, out_fd, err);
        } else {
            rc = err_set(err, WP_EINVAL, "'%s': unexpected address family", addr);
        }
        freeaddrinfo(ai);
    }
    if (rc != WP_OK)
        return rc;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(*out_fd, (struct sockaddr *)&ss, &sl) < 0) {
        rc = err_sys(err, errno, "getsockname");
        close(*out_fd);
        *out_fd = -1;
        return rc;
    }
    if (ss.ss_family == AF_INET)
        *out_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    else
        *out_port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return WP_OK;
}

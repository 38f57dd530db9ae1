/*
 * mdns_sock.c - see mdns_sock.h.
 */
#define _GNU_SOURCE /* struct in_pktinfo, ip_mreqn, getifaddrs flags */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/mdns_sock.h"

#define RX_BUF (MDNS_PACKET_MAX + 1) /* one more byte to notice oversize datagrams */

struct joined {
    uint32_t ifindex;
    bool v4, v6;        /* group joined on this interface */
    bool seen;          /* scratch during sync */
};

struct mdns_sock {
    int fd4, fd6, fdnl;
    uint16_t port;
    const char **ifnames;  /* copied */
    size_t n_ifnames;
    struct joined joined[MDNS_MAX_IFACES];
    size_t n_joined;
    uint32_t mc_if4, mc_if6; /* interface currently set for multicast sends */
    struct mdns_sock_stats stats;
    uint8_t rx[RX_BUF];
};

static const uint8_t k_group6[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfb};

static int set_int(int fd, int level, int opt, int v)
{
    return setsockopt(fd, level, opt, &v, sizeof v);
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static int open4(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    if (fd < 0 || set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) || set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1) ||
        set_int(fd, IPPROTO_IP, IP_PKTINFO, 1) || set_int(fd, IPPROTO_IP, IP_MULTICAST_TTL, 255) ||
        set_int(fd, IPPROTO_IP, IP_TTL, 255) || set_int(fd, IPPROTO_IP, IP_MULTICAST_LOOP, 1) ||
        bind(fd, (struct sockaddr *)&a, sizeof a)) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static int open6(uint16_t port)
{
    int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    a.sin6_addr = in6addr_any;
    if (fd < 0 || set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) ||
        set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) || set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1) ||
        set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1) ||
        set_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 255) ||
        set_int(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 255) ||
        set_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 1) ||
        bind(fd, (struct sockaddr *)&a, sizeof a)) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static int open_netlink(void)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
    struct sockaddr_nl a;
    memset(&a, 0, sizeof a);
    a.nl_family = AF_NETLINK;
    a.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a)) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* see mdns_sock.h */
wp_status mdns_sock_open(const struct mdns_sock_config *cfg, struct mdns_sock **out,
                         wp_err *err)
{
    wp_status rc = WP_OK;
    struct mdns_sock *s = NULL;
    int e4 = 0, e6 = 0;
    if (WP_MISUSE(!cfg || !out || (cfg->n_ifnames && !cfg->ifnames)))
        return err_set(err, WP_EINVAL, "mdns_sock_open: bad arguments");
    *out = NULL;
    if (!(s = wp_calloc(1, sizeof *s))) {
        rc = err_set(err, WP_ENOMEM, "mdns_sock_open: out of memory");
        goto out;
    }
    s->fd4 = s->fd6 = s->fdnl = -1;
    s->port = cfg->port ? cfg->port : MDNS_PORT;
    if (cfg->n_ifnames) {
        if (!(s->ifnames = wp_calloc(cfg->n_ifnames, sizeof *s->ifnames))) {
            rc = err_set(err, WP_ENOMEM, "mdns_sock_open: out of memory");
            goto out;
        }
        for (size_t i = 0; i < cfg->n_ifnames; i++, s->n_ifnames++) {
            if (!(s->ifnames[i] = wp_strdup(cfg->ifnames[i]))) {
                rc = err_set(err, WP_ENOMEM, "mdns_sock_open: out of memory");
                goto out;
            }
        }
    }
    if (!cfg->no_v4 && (s->fd4 = open4(s->port)) < 0)
        e4 = errno;
    if (!cfg->no_v6 && (s->fd6 = open6(s->port)) < 0)
        e6 = errno;
    if (s->fd4 < 0 && s->fd6 < 0) {
        rc = err_sys(err, e4 ? e4 : e6, "mdns: no UDP socket on port %u (IPv4: %s, IPv6: %s)",
                     s->port, e4 ? strerror(e4) : "off", e6 ? strerror(e6) : "off");
        goto out;
    }
    if (!cfg->no_netlink && (s->fdnl = open_netlink()) < 0) {
        rc = err_sys(err, errno, "mdns: netlink socket: %s", strerror(errno));
        goto out;
    }
    *out = s;
    s = NULL;
out:
    mdns_sock_close(s);
    return rc;
}

/* see mdns_sock.h */
void mdns_sock_close(struct mdns_sock *s)
{
    if (!s)
        return;
    close_fd(&s->fd4);
    close_fd(&s->fd6);
    close_fd(&s->fdnl);
    for (size_t i = 0; i < s->n_ifnames; i++)
        wp_free((void *)(uintptr_t)s->ifnames[i]);
    wp_free(s->ifnames);
    wp_free(s);
}

/* see mdns_sock.h */
size_t mdns_sock_fds(const struct mdns_sock *s, int *out_fds, size_t cap)
{
    size_t n = 0;
    const int fds[3] = {s->fd4, s->fd6, s->fdnl};
    for (size_t i = 0; i < 3 && n < cap; i++) {
        if (fds[i] >= 0)
            out_fds[n++] = fds[i];
    }
    return n;
}

/* see mdns_sock.h */
void mdns_sock_get_stats(const struct mdns_sock *s, struct mdns_sock_stats *out)
{
    *out = s->stats;
}

/* ------------------------------------------------------------ interfaces */

static bool selected(const struct mdns_sock *s, const char *name, unsigned flags)
{
    if (!(flags & IFF_UP))
        return false;
    if (s->n_ifnames == 0)
        return (flags & IFF_MULTICAST) && !(flags & IFF_LOOPBACK);
    for (size_t i = 0; i < s->n_ifnames; i++) {
        if (strcmp(s->ifnames[i], name) == 0)
            return true;
    }
    return false;
}

static struct joined *joined_get(struct mdns_sock *s, uint32_t ifindex, bool create)
{
    for (size_t i = 0; i < s->n_joined; i++) {
        if (s->joined[i].ifindex == ifindex)
            return &s->joined[i];
    }
    if (!create || s->n_joined == MDNS_MAX_IFACES)
        return NULL;
    struct joined *j = &s->joined[s->n_joined++];
    memset(j, 0, sizeof *j);
    j->ifindex = ifindex;
    return j;
}

static int membership(struct mdns_sock *s, uint32_t ifindex, bool v6, bool join)
{
    if (!v6) {
        struct ip_mreqn mr;
        memset(&mr, 0, sizeof mr);
        mr.imr_multiaddr.s_addr = htonl(0xE00000FBu); /* 224.0.0.251 */
        mr.imr_ifindex = (int)ifindex;
        return setsockopt(s->fd4, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &mr,
                          sizeof mr);
    }
    struct ipv6_mreq mr6;
    memset(&mr6, 0, sizeof mr6);
    memcpy(&mr6.ipv6mr_multiaddr, k_group6, 16);
    mr6.ipv6mr_interface = ifindex;
    return setsockopt(s->fd6, IPPROTO_IPV6, join ? IPV6_ADD_MEMBERSHIP : IPV6_DROP_MEMBERSHIP,
                      &mr6, sizeof mr6);
}

struct if_info {
    uint32_t ifindex;
    size_t n;
    mdns_ip addrs[MDNS_MAX_ADDRS];
};

static void add_addr(struct if_info *list, size_t *n_list, uint32_t ifindex,
                     const struct sockaddr *sa)
{
    struct if_info *ii = NULL;
    for (size_t i = 0; i < *n_list && !ii; i++) {
        if (list[i].ifindex == ifindex)
            ii = &list[i];
    }
    if (!ii) {
        if (*n_list == MDNS_MAX_IFACES)
            return;
        ii = &list[(*n_list)++];
        memset(ii, 0, sizeof *ii);
        ii->ifindex = ifindex;
    }
    if (!sa || ii->n == MDNS_MAX_ADDRS)
        return;
    mdns_ip ip;
    memset(&ip, 0, sizeof ip);
    if (sa->sa_family == AF_INET) {
        ip.family = MDNS_INET;
        memcpy(ip.addr, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        ip.family = MDNS_INET6;
        memcpy(ip.addr, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
    } else {
        return;
    }
    ii->addrs[ii->n++] = ip;
}

/* see mdns_sock.h */
wp_status mdns_sock_sync(struct mdns_sock *s, mdns *m, int64_t now_ms, wp_err *err)
{
    struct ifaddrs *ifa = NULL;
    struct if_info list[MDNS_MAX_IFACES];
    size_t n_list = 0;
    wp_status rc = WP_OK;
    if (getifaddrs(&ifa) != 0)
        return err_sys(err, errno, "mdns: getifaddrs: %s", strerror(errno));
    s->stats.iface_syncs++;
    for (const struct ifaddrs *p = ifa; p; p = p->ifa_next) {
        if (!p->ifa_name || !selected(s, p->ifa_name, p->ifa_flags))
            continue;
        uint32_t ifindex = if_nametoindex(p->ifa_name);
        if (ifindex == 0)
            continue;
        const struct sockaddr *sa = p->ifa_addr;
        if (sa && ((sa->sa_family == AF_INET && s->fd4 < 0) ||
                   (sa->sa_family == AF_INET6 && s->fd6 < 0)))
            sa = NULL;
        add_addr(list, &n_list, ifindex, sa);
    }
    freeifaddrs(ifa);
    for (size_t i = 0; i < s->n_joined; i++)
        s->joined[i].seen = false;
    for (size_t i = 0; i < n_list; i++) {
        struct joined *j = joined_get(s, list[i].ifindex, true);
        bool want4 = false, want6 = false;
        for (size_t k = 0; k < list[i].n; k++) {
            want4 |= list[i].addrs[k].family == MDNS_INET;
            want6 |= list[i].addrs[k].family == MDNS_INET6;
        }
        if (!j)
            continue;
        j->seen = true;
        /* Join once per interface and family; a failure leaves that link out. */
        if (want4 && !j->v4)
            j->v4 = membership(s, j->ifindex, false, true) == 0 || errno == EADDRINUSE;
        if (want6 && !j->v6)
            j->v6 = membership(s, j->ifindex, true, true) == 0 || errno == EADDRINUSE;
        size_t k = 0;
        for (size_t a = 0; a < list[i].n; a++) {
            bool ok = list[i].addrs[a].family == MDNS_INET ? j->v4 : j->v6;
            if (ok)
                list[i].addrs[k++] = list[i].addrs[a];
        }
        wp_status r = mdns_iface_set(m, j->ifindex, list[i].addrs, k, now_ms);
        if (r != WP_OK && rc == WP_OK)
            rc = err_set(err, r, "mdns: interface %u: %s", j->ifindex,
                         mdns_last_error(m)->detail);
    }
    for (size_t i = s->n_joined; i-- > 0;) {
        struct joined *j = &s->joined[i];
        if (j->seen)
            continue;
        /* Gone (or no longer selected): leave the groups, forget the interface. */
        if (j->v4)
            (void)membership(s, j->ifindex, false, false);
        if (j->v6)
            (void)membership(s, j->ifindex, true, false);
        (void)!mdns_iface_remove(m, j->ifindex, now_ms); /* ENOTFOUND: never had addresses */
        s->joined[i] = s->joined[--s->n_joined];
    }
    return rc;
}

/* ------------------------------------------------------------ receive */

static wp_status read_netlink(struct mdns_sock *s, mdns *m, int64_t now, wp_err *err)
{
    bool changed = false;
    for (;;) {
        ssize_t n = recv(s->fdnl, s->rx, sizeof s->rx, 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            if (errno == EINTR)
                continue;
            if (errno == ENOBUFS) { /* events lost: resynchronise anyway */
                changed = true;
                continue;
            }
            return err_sys(err, errno, "mdns: netlink recv: %s", strerror(errno));
        }
        /* Any link or address message means "look again"; getifaddrs has the truth. */
        changed = true;
    }
    return changed ? mdns_sock_sync(s, m, now, err) : WP_OK;
}

static wp_status read_udp(struct mdns_sock *s, int fd, bool v6, mdns *m, int64_t now, wp_err *err)
{
    for (int budget = 0; budget < 256; budget++) {
        struct sockaddr_storage from;
        union {
            struct cmsghdr align;
            uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int))];
        } ctl;
        struct iovec iov = {.iov_base = s->rx, .iov_len = sizeof s->rx};
        struct msghdr msg;
        memset(&msg, 0, sizeof msg);
        msg.msg_name = &from;
        msg.msg_namelen = sizeof from;
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = ctl.buf;
        msg.msg_controllen = sizeof ctl.buf;
        ssize_t n = recvmsg(fd, &msg, 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return WP_OK;
            if (errno == EINTR)
                continue;
            return err_sys(err, errno, "mdns: recvmsg: %s", strerror(errno));
        }
        s->stats.rx_datagrams++;
        if ((msg.msg_flags & MSG_TRUNC) || (size_t)n > MDNS_PACKET_MAX) {
            s->stats.rx_truncated++;
            continue;
        }
        mdns_endpoint src;
        bool to_unicast = false;
        memset(&src, 0, sizeof src);
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (!v6 && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
                struct in_pktinfo pi;
                memcpy(&pi, CMSG_DATA(c), sizeof pi);
                src.ifindex = (uint32_t)pi.ipi_ifindex;
                to_unicast = !IN_MULTICAST(ntohl(pi.ipi_addr.s_addr));
            } else if (v6 && c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
                struct in6_pktinfo pi;
                memcpy(&pi, CMSG_DATA(c), sizeof pi);
                src.ifindex = pi.ipi6_ifindex;
                to_unicast = !IN6_IS_ADDR_MULTICAST(&pi.ipi6_addr);
            }
        }
        if (!joined_get(s, src.ifindex, false)) {
            s->stats.rx_other_iface++;
            continue;
        }
        if (!v6) {
            const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)&from;
            src.ip.family = MDNS_INET;
            memcpy(src.ip.addr, &a->sin_addr, 4);
            src.port = ntohs(a->sin_port);
        } else {
            const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)&from;
            src.ip.family = MDNS_INET6;
            memcpy(src.ip.addr, &a->sin6_addr, 16);
            src.port = ntohs(a->sin6_port);
        }
        /* A malformed datagram is counted by the engine; it is not a socket error. */
        (void)!mdns_input(m, s->rx, (size_t)n, &src, to_unicast, now);
    }
    return WP_OK;
}

/* see mdns_sock.h */
wp_status mdns_sock_read(struct mdns_sock *s, int fd, mdns *m, int64_t now_ms, wp_err *err)
{
    if (WP_MISUSE(!s || !m || fd < 0))
        return WP_EINVAL;
    if (fd == s->fdnl)
        return read_netlink(s, m, now_ms, err);
    if (fd == s->fd4 || fd == s->fd6)
        return read_udp(s, fd, fd == s->fd6, m, now_ms, err);
    return err_set(err, WP_EINVAL, "mdns: fd %d is not one of ours", fd);
}

/* ------------------------------------------------------------ send */

static int send_one(struct mdns_sock *s, const struct mdns_packet *p)
{
    if (p->dst.ip.family == MDNS_INET) {
        struct sockaddr_in a;
        if (s->fd4 < 0) {
            errno = EAFNOSUPPORT;
            return -1;
        }
        if (p->is_multicast && s->mc_if4 != p->dst.ifindex) {
            /* NOTES-testing.md: without IP_MULTICAST_IF, sendto may fail with ENETUNREACH. */
            struct ip_mreqn mr;
            memset(&mr, 0, sizeof mr);
            mr.imr_ifindex = (int)p->dst.ifindex;
            if (setsockopt(s->fd4, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof mr))
                return -1;
            s->mc_if4 = p->dst.ifindex;
        }
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_port = htons(p->is_multicast ? s->port : p->dst.port);
        memcpy(&a.sin_addr, p->dst.ip.addr, 4);
        return sendto(s->fd4, p->data, p->len, 0, (struct sockaddr *)&a, sizeof a) < 0 ? -1 : 0;
    }
    struct sockaddr_in6 a6;
    if (s->fd6 < 0) {
        errno = EAFNOSUPPORT;
        return -1;
    }
    if (p->is_multicast && s->mc_if6 != p->dst.ifindex) {
        int ifi = (int)p->dst.ifindex;
        if (setsockopt(s->fd6, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifi, sizeof ifi))
            return -1;
        s->mc_if6 = p->dst.ifindex;
    }
    memset(&a6, 0, sizeof a6);
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons(p->is_multicast ? s->port : p->dst.port);
    memcpy(&a6.sin6_addr, p->dst.ip.addr, 16);
    a6.sin6_scope_id = p->dst.ifindex; /* link-local destinations need their interface */
    return sendto(s->fd6, p->data, p->len, 0, (struct sockaddr *)&a6, sizeof a6) < 0 ? -1 : 0;
}

/* see mdns_sock.h */
wp_status mdns_sock_flush(struct mdns_sock *s, mdns *m, wp_err *err)
{
    const struct mdns_packet *p;
    wp_status rc = WP_OK;
    if (WP_MISUSE(!s || !m))
        return WP_EINVAL;
    while ((p = mdns_output(m))) {
        if (send_one(s, p) == 0) {
            s->stats.tx_datagrams++;
        } else {
            s->stats.tx_errors++;
            if (rc == WP_OK)
                rc = err_sys(err, errno, "mdns: send on interface %u: %s", p->dst.ifindex,
                             strerror(errno));
        }
        mdns_output_done(m);
    }
    return rc;
}

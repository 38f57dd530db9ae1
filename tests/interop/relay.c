/*
 * relay.c - a man in the middle for the CLI tests: accepts one TCP
 * connection on 127.0.0.1, connects to 127.0.0.1:TARGET and forwards both
 * ways. In the client-to-server direction it follows the 4-byte length
 * framing (docs/PROTOCOL.md §3) and can:
 *   --flip K   flip one bit of the K-th DATA record (0-based), 20 bytes into
 *              its payload, i.e. inside the ciphertext, never the length;
 *   --cut K    forward K DATA records, then end both TCP streams (FIN),
 *              as a truncation attack would.
 * The client's first two frames are the handshake (msg1, msg3); every later
 * frame is a DATA record of 17 + n bytes for an n-byte message (PROTOCOL.md
 * §6.1). The relay writes to REPORT the number of message bytes the server
 * may legitimately deliver: those of the records before the attacked one.
 *
 * usage: relay PORTFILE TARGET_PORT REPORT [--flip K | --cut K]
 * PORTFILE receives the port the relay listens on.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HS_FRAMES 2
#define REC_OVERHEAD 17
#define FLIP_AT 20

static int g_client, g_server;
static long g_flip = -1, g_cut = -1;
static const char *g_report;

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
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

static void report(uint64_t delivered)
{
    FILE *f = fopen(g_report, "w");
    if (!f) {
        perror("relay: report");
        exit(1);
    }
    fprintf(f, "%llu\n", (unsigned long long)delivered);
    fclose(f);
}

/*
 * Did the server reset rather than close? After a RST the socket is in
 * TCP_CLOSE (the error itself may already have been reported to the other
 * direction's send); after a FIN it is in TCP_CLOSE_WAIT.
 */
static bool server_was_reset(void)
{
    struct tcp_info ti;
    socklen_t sl = sizeof ti;
    memset(&ti, 0, sizeof ti);
    return getsockopt(g_server, IPPROTO_TCP, TCP_INFO, &ti, &sl) == 0 &&
           ti.tcpi_state == TCP_CLOSE;
}

/* Server to client: plain copy; a reset from the server is passed on as a reset. */
static void *s2c(void *arg)
{
    (void)arg;
    uint8_t buf[65536];
    for (;;) {
        ssize_t n = recv(g_server, buf, sizeof buf, 0);
        if (n <= 0 || write_all(g_client, buf, (size_t)n) < 0)
            break;
    }
    if (server_was_reset()) {
        /* Linger 0: main's close() resets the client; SHUT_RD wakes the c2s side. */
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(g_client, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        shutdown(g_client, SHUT_RD);
        return NULL;
    }
    shutdown(g_client, SHUT_WR);
    return NULL;
}

/* Client to server, frame by frame. */
static void c2s(void)
{
    uint8_t buf[65536];
    uint8_t hdr[4];
    size_t hdr_pos = 0;
    uint64_t remaining = 0, pos = 0, frame = 0, delivered = 0;
    bool in_payload = false, attacked = false;
    for (;;) {
        ssize_t n = recv(g_client, buf, sizeof buf, 0);
        if (n <= 0)
            break;
        size_t out = (size_t)n;
        for (size_t i = 0; i < (size_t)n; i++) {
            if (!in_payload) {
                hdr[hdr_pos++] = buf[i];
                if (hdr_pos == 4) {
                    remaining = (uint64_t)hdr[0] << 24 | (uint64_t)hdr[1] << 16 |
                                (uint64_t)hdr[2] << 8 | hdr[3];
                    hdr_pos = 0;
                    pos = 0;
                    in_payload = remaining > 0;
                    if (!in_payload)
                        frame++;
                }
                continue;
            }
            long data_idx = (long)frame - HS_FRAMES;
            if (!attacked && g_cut >= 0 && data_idx == g_cut) {
                /* Stop before this record's first payload byte (its header went out). */
                out = i;
                attacked = true;
                break;
            }
            if (!attacked && g_flip >= 0 && data_idx == g_flip && pos == FLIP_AT) {
                buf[i] ^= 0x01;
                attacked = true;
            }
            pos++;
            if (--remaining == 0) {
                in_payload = false;
                long k = g_flip >= 0 ? g_flip : g_cut;
                if (data_idx >= 0 && data_idx < k && pos >= REC_OVERHEAD)
                    delivered += pos - REC_OVERHEAD;
                frame++;
            }
        }
        if (write_all(g_server, buf, out) < 0)
            break;
        if (attacked && g_cut >= 0)
            break;
    }
    if (g_flip >= 0 || g_cut >= 0)
        report(delivered);
    shutdown(g_server, SHUT_WR);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: relay PORTFILE TARGET_PORT REPORT [--flip K | --cut K]\n");
        return 2;
    }
    g_report = argv[3];
    if (argc == 6 && !strcmp(argv[4], "--flip"))
        g_flip = atol(argv[5]);
    else if (argc == 6 && !strcmp(argv[4], "--cut"))
        g_cut = atol(argv[5]);
    else if (argc != 4)
        return 2;
    int one = 1;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t sl = sizeof sa;
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 1) < 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0) {
        perror("relay: listen");
        return 1;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%u\n", ntohs(sa.sin_port)) < 0 || fclose(f) != 0 ||
        rename(tmp, argv[1]) < 0) {
        perror("relay: port file");
        return 1;
    }
    g_client = accept(lfd, NULL, NULL);
    if (g_client < 0) {
        perror("relay: accept");
        return 1;
    }
    g_server = socket(AF_INET, SOCK_STREAM, 0);
    sa.sin_port = htons((uint16_t)atoi(argv[2]));
    if (connect(g_server, (struct sockaddr *)&sa, sizeof sa) < 0) {
        perror("relay: connect");
        return 1;
    }
    pthread_t th;
    pthread_create(&th, NULL, s2c, NULL);
    c2s();
    pthread_join(th, NULL);
    close(g_client);
    close(g_server);
    close(lfd);
    return 0;
}

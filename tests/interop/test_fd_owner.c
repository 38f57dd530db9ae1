/*
 * Every socket has exactly one owner, also when the loop cannot watch it
 * (review 4, M3: when registering an accepted or connecting socket failed,
 * the socket was closed twice; the second close() could hit a descriptor
 * another thread had just opened).
 *
 * close() is wrapped in this test program to count calls that find no
 * open descriptor (EBADF): a double close on a single-threaded loop shows
 * up as one. Registration fails through the poll backend, whose watch
 * arrays grow by doubling (16 slots first, the wake-up eventfd among
 * them): with 15 listeners registered the next watch needs them to grow,
 * and that allocation is made to fail (mem_fail_after).
 */
#include "rt_test.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "util/mem.h"

static atomic_int g_ebadf;

int close(int fd)
{
    static int (*real_close)(int);
    if (!real_close)
        *(void **)&real_close = dlsym(RTLD_NEXT, "close");
    int r = real_close(fd);
    if (r < 0 && errno == EBADF)
        atomic_fetch_add(&g_ebadf, 1);
    return r;
}

static int raw_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

/* A poll ctx whose watch arrays are full: 15 listeners + the wake-up fd. */
static wp_ctx *full_ctx(const wp_identity *id, struct rec *r, wp_listener *ls[15])
{
    wp_error err;
    wp_ctx *ctx = rt_ctx(id, r, WP_LOOP_POLL);
    for (size_t i = 0; i < 15; i++)
        assert_int_equal(wp_listen(ctx, "127.0.0.1", 0, NULL, &ls[i], &err), WP_OK);
    assert_int_equal(wp_ctx_process(ctx), WP_OK);
    return ctx;
}

/* Accepted sockets: every allocation from the k-th on fails, k = 0, 1, ... */
static void test_accept_registration_fails(void **state)
{
    (void)state;
    char home[64];
    struct rec r;
    wp_listener *ls[15];
    wp_identity *id = rt_identity(home);
    rec_init(&r, WP_TRUST_ACCEPT);
    wp_ctx *ctx = full_ctx(id, &r, ls);
    atomic_store(&g_ebadf, 0);
    long k;
    for (k = 0; k < 200 && r.n_connected == 0; k++) {
        int fd = raw_connect(wp_listener_port(ls[0]));
        mem_fail_after(k);
        wp_status st = wp_ctx_process(ctx); /* accepts fd's peer */
        mem_fail_after(-1);
        assert_int_equal(st, WP_OK);
        assert_int_equal(wp_ctx_process(ctx), WP_OK);
        close(fd);
    }
    /* Some k failed inside the registration itself, before one succeeded. */
    assert_int_equal(r.n_connected, 1);
    assert_true(k > 4);
    assert_int_equal(atomic_load(&g_ebadf), 0);
    wp_ctx_free(ctx);
    rt_identity_free(id, home);
    rec_clear(&r);
}

/* A connecting socket whose registration fails: WP_EV_CLOSED with WP_ENOMEM, one close. */
static void test_connect_registration_fails(void **state)
{
    (void)state;
    char home[64];
    struct rec r;
    wp_listener *ls[15];
    wp_error err;
    wp_conn *c;
    wp_identity *id = rt_identity(home);
    rec_init(&r, WP_TRUST_ACCEPT);
    wp_ctx *ctx = full_ctx(id, &r, ls);
    atomic_store(&g_ebadf, 0);
    assert_int_equal(wp_connect(ctx, "127.0.0.1", wp_listener_port(ls[0]), NULL, &c, &err),
                     WP_OK);
    mem_fail_after(0); /* the socket's watch is the loop's first allocation */
    wp_status st = wp_ctx_process(ctx);
    mem_fail_after(-1);
    assert_int_equal(st, WP_OK);
    for (int i = 0; i < 10 && r.n_closed == 0; i++)
        assert_int_equal(wp_ctx_process(ctx), WP_OK);
    assert_int_equal(r.n_closed, 1);
    assert_int_equal(r.reason, WP_ENOMEM);
    assert_int_equal(atomic_load(&g_ebadf), 0);
    wp_ctx_free(ctx);
    rt_identity_free(id, home);
    rec_clear(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_registration_fails),
        cmocka_unit_test(test_connect_registration_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

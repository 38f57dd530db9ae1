/*
 * Name resolution threads (review 4, L4): each named wp_connect resolves
 * on a helper thread, which must not reserve the default 8 MiB stack.
 *
 * getaddrinfo is wrapped in this test program: for one reserved name
 * (RFC 6761 .invalid) the resolver thread records its own stack size and
 * answers "no such name"; every other call goes to the C library.
 */
#include "rt_test.h"

#include <dlfcn.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>

#define PROBE_NAME "stack-probe.wipeer.invalid"

static atomic_size_t g_stack;
static atomic_int g_calls;

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    static int (*real_gai)(const char *, const char *, const struct addrinfo *,
                           struct addrinfo **);
    if (!real_gai)
        *(void **)&real_gai = dlsym(RTLD_NEXT, "getaddrinfo");
    bool numeric_only = hints && (hints->ai_flags & AI_NUMERICHOST);
    if (node && !strcmp(node, PROBE_NAME) && !numeric_only) {
        pthread_attr_t a;
        size_t sz = 0;
        if (pthread_getattr_np(pthread_self(), &a) == 0) {
            (void)pthread_attr_getstacksize(&a, &sz);
            pthread_attr_destroy(&a);
        }
        atomic_store(&g_stack, sz);
        atomic_fetch_add(&g_calls, 1);
        return EAI_NONAME;
    }
    return real_gai(node, service, hints, res);
}

static bool closed(void *arg)
{
    const struct rec *r = arg;
    return r->n_closed > 0;
}

static void test_resolver_stack_small(void **state)
{
    (void)state;
    char home[64];
    struct rec r;
    wp_conn *c;
    wp_error err;
    wp_identity *id = rt_identity(home);
    rec_init(&r, WP_TRUST_ACCEPT);
    wp_ctx *ctx = rt_ctx(id, &r, WP_LOOP_DEFAULT);
    assert_int_equal(wp_connect(ctx, PROBE_NAME, 7, NULL, &c, &err), WP_OK);
    assert_true(rt_run(ctx, NULL, closed, &r, 10000));
    assert_int_equal(r.reason, WP_ENOTFOUND);
    assert_int_equal(atomic_load(&g_calls), 1);
    size_t sz = atomic_load(&g_stack);
    if (sz == 0 || sz > 512 * 1024)
        fail_msg("the resolver thread has a %zu-byte stack", sz);
    wp_ctx_free(ctx);
    rt_identity_free(id, home);
    rec_clear(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolver_stack_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Status codes: every code has a name and text; unknown codes are safe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "internal.h"
#include <stdlib.h>

static void test_known_codes(void **state)
{
    (void)state;
    assert_string_equal(wp_status_name(WP_EAUTH), "WP_EAUTH");
    assert_string_equal(wp_strerror(WP_ENOTWIPEER), "not a wipeer peer");
    assert_string_equal(wp_status_name(WP_OK), "WP_OK");
}

static void test_unknown_code(void **state)
{
    (void)state;
    assert_string_equal(wp_strerror((wp_status)9999), "unknown status");
    assert_string_equal(wp_status_name((wp_status)-1), "WP_UNKNOWN");
}

static void test_err_detail(void **state)
{
    (void)state;
    wp_err e;
    err_clear(&e);
    assert_int_equal(err_set(&e, WP_ETOOBIG, "frame length %u > %u", 70000u, 65536u), WP_ETOOBIG);
    assert_string_equal(e.detail, "frame length 70000 > 65536");
    assert_int_equal(err_sys(&e, 2, "open %s", "x"), WP_ESYS);
    assert_int_equal(e.sys_errno, 2);
    assert_non_null(strstr(e.detail, "open x: "));
    assert_int_equal(err_set(NULL, WP_EPROTO, "ignored"), WP_EPROTO);
}

static void test_version(void **state)
{
    (void)state;
    assert_string_equal(wp_version(), WP_VERSION_STRING);
}

static void test_allocator_rules(void **state)
{
    (void)state;
    assert_int_equal(wp_set_allocator(malloc, NULL, NULL), WP_EINVAL);
    assert_int_equal(wp_set_allocator(NULL, NULL, NULL), WP_OK);
    mem_freeze_allocator();
    assert_int_equal(wp_set_allocator(NULL, NULL, NULL), WP_ESTATE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_codes),   cmocka_unit_test(test_unknown_code),
        cmocka_unit_test(test_err_detail),    cmocka_unit_test(test_version),
        cmocka_unit_test(test_allocator_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

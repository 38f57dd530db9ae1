/* Unit tests for the bounded reader/writer (src/codec/buf.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "internal.h"
#include "codec/buf.h"

static void test_read_in_bounds(void **state)
{
    (void)state;
    const uint8_t in[] = {1, 0x02, 0x03, 0, 0, 0, 4, 9, 9};
    wp_rbuf r;
    rbuf_init(&r, in, sizeof in);
    assert_int_equal(rbuf_u8(&r), 1);
    assert_int_equal(rbuf_u16(&r), 0x0203);
    assert_int_equal(rbuf_u32(&r), 4);
    assert_int_equal(rbuf_remaining(&r), 2);
    assert_non_null(rbuf_ptr(&r, 2));
    assert_true(rbuf_done(&r));
}

static void test_overread_is_sticky(void **state)
{
    (void)state;
    const uint8_t in[] = {1, 2, 3};
    wp_rbuf r;
    rbuf_init(&r, in, sizeof in);
    assert_int_equal(rbuf_u32(&r), 0);
    assert_false(rbuf_ok(&r));
    /* After a failure every read fails, even ones that would fit. */
    assert_int_equal(rbuf_u8(&r), 0);
    assert_int_equal(rbuf_remaining(&r), 0);
    assert_null(rbuf_ptr(&r, 0));
    assert_false(rbuf_done(&r));
}

static void test_huge_lengths_do_not_wrap(void **state)
{
    (void)state;
    const uint8_t in[] = {1, 2, 3, 4};
    wp_rbuf r;
    rbuf_init(&r, in, sizeof in);
    rbuf_u8(&r);
    assert_false(rbuf_skip(&r, SIZE_MAX));
    rbuf_init(&r, in, sizeof in);
    assert_false(rbuf_seek(&r, 5));
    rbuf_init(&r, in, sizeof in);
    assert_true(rbuf_seek(&r, 4));
    assert_int_equal(rbuf_remaining(&r), 0);
    uint8_t out[8] = {0xff};
    rbuf_init(&r, in, sizeof in);
    assert_false(rbuf_copy(&r, out, sizeof out));
    for (size_t i = 0; i < sizeof out; i++)
        assert_int_equal(out[i], 0);
}

static void test_sub_reader(void **state)
{
    (void)state;
    const uint8_t in[] = {0, 2, 0xaa, 0xbb, 0xcc};
    wp_rbuf r, s;
    rbuf_init(&r, in, sizeof in);
    uint16_t n = rbuf_u16(&r);
    assert_true(rbuf_sub(&r, n, &s));
    assert_int_equal(rbuf_u16(&s), 0xaabb);
    assert_true(rbuf_done(&s));
    assert_int_equal(rbuf_u8(&r), 0xcc);
    assert_false(rbuf_sub(&r, 1, &s));
    assert_false(rbuf_ok(&s));
}

static void test_fixed_writer_overflow(void **state)
{
    (void)state;
    uint8_t mem[5];
    wp_wbuf w;
    wbuf_init(&w, mem, sizeof mem);
    assert_true(wbuf_u32(&w, 0x01020304));
    assert_false(wbuf_u16(&w, 7));
    assert_false(wbuf_ok(&w));
    assert_false(wbuf_u8(&w, 1)); /* sticky */
    assert_int_equal(w.len, 4);
    assert_int_equal(mem[0], 1);
    assert_int_equal(mem[3], 4);
}

static void test_dynamic_writer_grows_to_limit(void **state)
{
    (void)state;
    wp_wbuf w;
    wbuf_init_dyn(&w, 1000);
    for (int i = 0; i < 250; i++)
        assert_true(wbuf_u32(&w, (uint32_t)i));
    assert_int_equal(w.len, 1000);
    assert_false(wbuf_u8(&w, 0));
    wp_rbuf r;
    rbuf_init(&r, w.data, w.len);
    for (uint32_t i = 0; i < 250; i++)
        assert_int_equal(rbuf_u32(&r), i);
    wbuf_clear(&w);
}

static void test_backpatch(void **state)
{
    (void)state;
    uint8_t mem[8];
    wp_wbuf w;
    wbuf_init(&w, mem, sizeof mem);
    wbuf_u16(&w, 0);
    wbuf_u8(&w, 9);
    assert_true(wbuf_put_u16_at(&w, 0, 0xbeef));
    assert_false(wbuf_put_u16_at(&w, 2, 1)); /* would run past len */
    assert_int_equal(mem[0], 0xbe);
}

static void test_alloc_failure(void **state)
{
    (void)state;
    wp_wbuf w;
    wbuf_init_dyn(&w, 1 << 20);
    mem_fail_after(0);
    assert_false(wbuf_u8(&w, 1));
    mem_fail_after(-1);
    assert_false(wbuf_ok(&w));
    wbuf_clear(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_in_bounds),
        cmocka_unit_test(test_overread_is_sticky),
        cmocka_unit_test(test_huge_lengths_do_not_wrap),
        cmocka_unit_test(test_sub_reader),
        cmocka_unit_test(test_fixed_writer_overflow),
        cmocka_unit_test(test_dynamic_writer_grows_to_limit),
        cmocka_unit_test(test_backpatch),
        cmocka_unit_test(test_alloc_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_vectors.c - the protocol vectors of docs/PROTOCOL.md Appendix A,
 * reproduced byte for byte: both engines, fed the golden frames, must write
 * exactly the golden frames and derive exactly the golden key schedule, for
 * both suites (the recorded ECDSA signatures are verified, then replayed).
 * Also: the check fails when any golden byte is changed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "vecscript.h"

static void load(uint16_t suite, struct vec *v)
{
    char path[1024];
    const char *dir = getenv("WP_TEST_DATA_DIR");
    snprintf(path, sizeof path, "%s/core/vectors/handshake.txt", dir ? dir : "tests");
    assert_int_equal(vec_load(path, suite, v), 0);
}

static void run(uint16_t suite)
{
    struct vec golden, out;
    char why[256] = "";
    load(suite, &golden);
    int rc = vec_run(suite, &golden, &out, why, sizeof why);
    if (rc != 0)
        fprintf(stderr, "suite %04x: %s\n", suite, why);
    assert_int_equal(rc, 0);
    /* every golden value was produced (nothing in the file goes unchecked) */
    for (size_t i = 0; i < golden.n; i++) {
        size_t n;
        const uint8_t *p = vec_get(&out, golden.name[i], &n);
        assert_non_null(p);
        assert_int_equal(n, golden.len[i]);
        assert_memory_equal(p, golden.val[i], n);
    }
    assert_int_equal(out.n, golden.n);
    vec_clear(&golden);
    vec_clear(&out);
}

static void test_suite_aes(void **state)
{
    (void)state;
    run(0x0001);
}

static void test_suite_chacha(void **state)
{
    (void)state;
    run(0x0002);
}

/* Changing any one golden frame, key-schedule value or signature must fail the check. */
static void test_detects_change(void **state)
{
    (void)state;
    struct vec golden, out;
    char why[256];
    load(0x0001, &golden);
    for (size_t i = 0; i < golden.n; i++) {
        if (golden.len[i] == 0)
            continue;
        size_t at = golden.len[i] / 2;
        golden.val[i][at] ^= 0x01;
        int rc = vec_run(0x0001, &golden, &out, why, sizeof why);
        if (rc == 0)
            fprintf(stderr, "a change to %s went unnoticed\n", golden.name[i]);
        assert_int_not_equal(rc, 0);
        golden.val[i][at] ^= 0x01;
        vec_clear(&out);
    }
    vec_clear(&golden);
}

/* docs/PROTOCOL.md Appendix A quotes the suite 0x0001 vectors: they must be the file's. */
static void test_spec_quotes_file(void **state)
{
    (void)state;
    char path[1024], line[8192];
    const char *dir = getenv("WP_TEST_DATA_DIR");
    snprintf(path, sizeof path, "%s/../docs/PROTOCOL.md", dir ? dir : "tests");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char doc[256 * 1024];
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[n] = '\0';
    snprintf(path, sizeof path, "%s/core/vectors/handshake.txt", dir ? dir : "tests");
    f = fopen(path, "r");
    assert_non_null(f);
    bool in = false;
    size_t checked = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '[')
            in = strncmp(line, "[suite 0001]", 12) == 0;
        if (!in || line[0] == '\n')
            continue;
        if (!strstr(doc, line))
            fprintf(stderr, "PROTOCOL.md lacks: %s", line);
        assert_non_null(strstr(doc, line));
        checked++;
    }
    fclose(f);
    assert_true(checked > 30);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suite_aes),
        cmocka_unit_test(test_suite_chacha),
        cmocka_unit_test(test_detects_change),
        cmocka_unit_test(test_spec_quotes_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

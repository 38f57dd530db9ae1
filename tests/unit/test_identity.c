/*
 * Unit tests for the device identity (src/identity/): fingerprints, home
 * resolution, first-use creation, storage rules and the first-use race.
 * Real files in a temporary directory, real OpenSSL, real fork().
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "crypto/crypto.h"
#include "identity/identity.h"
#include "identity/store.h"

/* The P-256 generator G, SEC1 uncompressed (SEC 2 v2 §2.4.2). */
static const uint8_t k_g_point[WP_PUBKEY_LEN] = {
    0x04, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63,
    0xa4, 0x40, 0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39,
    0x45, 0xd8, 0x98, 0xc2, 0x96, 0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e,
    0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e, 0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e,
    0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5};
/*
 * Computed outside this code base:
 *   echo -n 046B17D1...37BF51F5 | xxd -r -p | sha256sum
 */
static const char k_g_sha256_hex[] =
    "698bea63dc44a344663ff1429aea10842df27b6b991ef25866b2c6c02cdcc5be";
static const char k_g_short[] = "698B-EA63-DC44-A344";
static const char k_g_long[] =
    "698B-EA63-DC44-A344-663F-F142-9AEA-1084-2DF2-7B6B-991E-F258-66B2-C6C0-2CDC-C5BE";

/* ------------------------------------------------------------ helpers */

struct fixture {
    char root[256]; /* mkdtemp directory, removed afterwards */
    char home[300]; /* root/home (not yet existing) */
    char key[340];  /* home/identity.pem */
};

static void rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        chmod(path, 0700);
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                    continue;
                char sub[1024];
                snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
                rm_rf(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(f->root, sizeof f->root, "%s/wp-id-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->root)) {
        free(f);
        return -1;
    }
    snprintf(f->home, sizeof f->home, "%s/home", f->root);
    snprintf(f->key, sizeof f->key, "%s/" WP_IDENTITY_FILENAME, f->home);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    rm_rf(f->root);
    free(f);
    return 0;
}

/* Read a whole (small) file into buf; returns its length or -1. */
static ssize_t slurp(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, cap);
    close(fd);
    return n;
}

static void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

/* Names in dir other than . and .. (newline-joined into out). */
static int list_dir(const char *dir, char *out, size_t cap)
{
    int n = 0;
    out[0] = '\0';
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s\n", e->d_name);
        n++;
    }
    closedir(d);
    return n;
}

static wp_status open_fp(const char *home, const char *pass, unsigned flags, wp_fingerprint *fp,
                         bool *created, wp_error *err)
{
    wp_identity *id = NULL;
    wp_status st = wp_identity_open(home, pass, flags, &id, created, err);
    if (st == WP_OK) {
        wp_identity_fingerprint(id, fp);
        wp_identity_free(id);
    }
    return st;
}

/* ------------------------------------------------------- fingerprints */

static void test_fingerprint_known_answer(void **state)
{
    (void)state;
    wp_pubkey g;
    wp_fingerprint fp, want;
    size_t n = 0;
    char s[WP_FINGERPRINT_SHORT_STR], l[WP_FINGERPRINT_LONG_STR];

    memcpy(g.bytes, k_g_point, sizeof g.bytes);
    assert_int_equal(wp_fingerprint_of(&g, &fp), WP_OK);
    assert_int_equal(wp_fingerprint_parse(k_g_sha256_hex, &want, &n), WP_OK);
    assert_int_equal(n, WP_FINGERPRINT_LEN);
    assert_memory_equal(fp.bytes, want.bytes, WP_FINGERPRINT_LEN);
    /* The first and last bytes spelled out, independent of the parser. */
    assert_int_equal(fp.bytes[0], 0x69);
    assert_int_equal(fp.bytes[1], 0x8b);
    assert_int_equal(fp.bytes[31], 0xbe);

    wp_fingerprint_format_short(&fp, s);
    wp_fingerprint_format_long(&fp, l);
    assert_string_equal(s, k_g_short);
    assert_string_equal(l, k_g_long);
    assert_int_equal(strlen(s) + 1, WP_FINGERPRINT_SHORT_STR);
    assert_int_equal(strlen(l) + 1, WP_FINGERPRINT_LONG_STR);

    /* The crypto layer agrees that scalar 1 gives G. */
    uint8_t one[CRYPTO_P256_SCALAR_LEN] = {0};
    uint8_t pub[CRYPTO_P256_PUB_LEN];
    crypto_ec_key *k = NULL;
    one[CRYPTO_P256_SCALAR_LEN - 1] = 1;
    assert_int_equal(crypto_ec_from_scalar(one, &k, NULL), WP_OK);
    assert_int_equal(crypto_ec_public(k, pub, NULL), WP_OK);
    assert_memory_equal(pub, k_g_point, sizeof pub);
    crypto_ec_free(k);
}

static void test_fingerprint_format_all_digits(void **state)
{
    (void)state;
    wp_fingerprint fp;
    char l[WP_FINGERPRINT_LONG_STR];
    for (size_t i = 0; i < WP_FINGERPRINT_LEN; i++)
        fp.bytes[i] = (uint8_t)(i * 0x11u - (i >> 4));
    /* bytes 00 11 22 ... ff, then 0f 20 31 ... : every digit in both nibbles */
    wp_fingerprint_format_long(&fp, l);
    assert_string_equal(l, "0011-2233-4455-6677-8899-AABB-CCDD-EEFF-"
                           "0F20-3142-5364-7586-97A8-B9CA-DBEC-FD0E");
}

static void test_fingerprint_parse_forms(void **state)
{
    (void)state;
    wp_fingerprint g, fp;
    size_t n = 0;
    assert_int_equal(wp_fingerprint_parse(k_g_long, &g, &n), WP_OK);
    assert_int_equal(n, 32);

    static const char k_colons[] = "69:8b:ea:63:dc:44:a3:44:66:3f:f1:42:9a:ea:10:84:2d:f2:7b:6b:"
                                   "99:1e:f2:58:66:b2:c6:c0:2c:dc:c5:be";
    static const char *const longs[] = {
        k_g_long,
        k_g_sha256_hex,
        "698BEA63DC44A344663FF1429AEA10842DF27B6B991EF25866B2C6C02CDCC5BE",
        k_colons,
        "698b ea63 dc44 a344 663f f142 9aea 1084 2df2 7b6b 991e f258 66b2 c6c0 2cdc c5be",
        "698b-EA63-dc44-A344-663f-F142-9aea-1084-2DF2-7b6b-991E-f258-66B2-c6c0-2CDC-c5be",
    };
    for (size_t i = 0; i < WP_ARRAY_LEN(longs); i++) {
        assert_int_equal(wp_fingerprint_parse(longs[i], &fp, &n), WP_OK);
        assert_int_equal(n, WP_FINGERPRINT_LEN);
        assert_memory_equal(fp.bytes, g.bytes, WP_FINGERPRINT_LEN);
        assert_true(wp_fingerprint_matches(&g, longs[i]));
    }
    static const char *const shorts[] = {
        k_g_short, "698bea63dc44a344", "698B EA63 DC44 A344", "69:8B:EA:63:DC:44:A3:44",
        " 698B-EA63-DC44-A344 ",
    };
    for (size_t i = 0; i < WP_ARRAY_LEN(shorts); i++) {
        assert_int_equal(wp_fingerprint_parse(shorts[i], &fp, &n), WP_OK);
        assert_int_equal(n, WP_FINGERPRINT_SHORT_LEN);
        assert_memory_equal(fp.bytes, g.bytes, WP_FINGERPRINT_SHORT_LEN);
        for (size_t j = WP_FINGERPRINT_SHORT_LEN; j < WP_FINGERPRINT_LEN; j++)
            assert_int_equal(fp.bytes[j], 0);
        assert_true(wp_fingerprint_matches(&g, shorts[i]));
    }
}

static void test_fingerprint_parse_rejects(void **state)
{
    (void)state;
    wp_fingerprint g, fp;
    size_t n = 99;
    assert_int_equal(wp_fingerprint_parse(k_g_long, &g, &n), WP_OK);

    static const char k_twice[] =
        "698B-EA63-DC44-A344-663F-F142-9AEA-1084-2DF2-7B6B-991E-F258-66B2-C6C0-2CDC-C5BE"
        "698B-EA63-DC44-A344-663F-F142-9AEA-1084-2DF2-7B6B-991E-F258-66B2-C6C0-2CDC-C5BE";
    static const char *const bad[] = {
        "",
        "----",
        "698B-EA63-DC44-A34",   /* 15 digits */
        "698B-EA63-DC44-A344-6", /* 17 digits */
        "698B-EA63-DC44-A34G",  /* non-hex */
        "698B-EA63-DC44-A34g",
        "698B_EA63_DC44_A344",  /* other separator */
        "698B.EA63.DC44.A344",
        "698B-EA63-DC44-A344\n",
        "0x698BEA63DC44A344",
        "698B-EA63-DC44-A344-663F-F142-9AEA-1084-2DF2-7B6B-991E-F258-66B2-C6C0-2CDC-C5B",
        "698B-EA63-DC44-A344-663F-F142-9AEA-1084-2DF2-7B6B-991E-F258-66B2-C6C0-2CDC-C5BE0",
        "698B-EA63-DC44-A344-663F-F142-9AEA-1084-2DF2-7B6B-991E-F258-66B2-C6C0-2CDC-C5BE-698B",
        "698B-EA63-DC44-A344-663F-F142-9AEA-1084-2DF2-7B6B-991E-F258-66B2-C6C0-2CDC-C5B\xc3\xa9",
        k_twice,
    };
    for (size_t i = 0; i < WP_ARRAY_LEN(bad); i++) {
        memset(&fp, 0xaa, sizeof fp);
        assert_int_equal(wp_fingerprint_parse(bad[i], &fp, &n), WP_EINVAL);
        assert_int_equal(n, 0);
        for (size_t j = 0; j < WP_FINGERPRINT_LEN; j++)
            assert_int_equal(fp.bytes[j], 0);
        assert_false(wp_fingerprint_matches(&g, bad[i]));
    }
    /* Separators alone, or too long a text, are not fingerprints. */
    char longtext[400];
    memset(longtext, '-', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = '\0';
    memcpy(longtext, k_g_short, strlen(k_g_short));
    assert_int_equal(wp_fingerprint_parse(longtext, &fp, &n), WP_EINVAL);
    assert_int_equal(wp_fingerprint_parse(NULL, &fp, &n), WP_EINVAL);
    assert_false(wp_fingerprint_matches(&g, NULL));
    assert_false(wp_fingerprint_matches(NULL, k_g_short));
}

static void test_fingerprint_mismatch(void **state)
{
    (void)state;
    wp_fingerprint g;
    size_t n;
    assert_int_equal(wp_fingerprint_parse(k_g_long, &g, &n), WP_OK);
    assert_false(wp_fingerprint_matches(&g, "698B-EA63-DC44-A345")); /* last digit */
    assert_false(wp_fingerprint_matches(&g, "798B-EA63-DC44-A344")); /* first digit */
    assert_false(wp_fingerprint_matches(&g, "EA63-DC44-A344-663F")); /* not a prefix */
    /* Every single-digit change of the long form is a mismatch. */
    char text[WP_FINGERPRINT_LONG_STR];
    for (size_t i = 0; i < sizeof text - 1; i++) {
        memcpy(text, k_g_long, sizeof text);
        if (text[i] == '-')
            continue;
        text[i] = text[i] == '0' ? '1' : '0';
        assert_false(wp_fingerprint_matches(&g, text));
    }
    wp_fingerprint other = g;
    assert_true(wp_fingerprint_equal(&g, &other));
    other.bytes[31] ^= 1;
    assert_false(wp_fingerprint_equal(&g, &other));
}

/* Every byte value: a hex digit exactly when isxdigit says so, with the right value. */
static void test_fingerprint_every_byte(void **state)
{
    (void)state;
    for (unsigned c = 1; c < 256; c++) {
        char text[17];
        memset(text, (int)c, 16);
        text[16] = '\0';
        wp_fingerprint fp;
        size_t n = 0;
        wp_status st = wp_fingerprint_parse(text, &fp, &n);
        bool is_hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (!is_hex) {
            assert_int_equal(st, WP_EINVAL);
            continue;
        }
        assert_int_equal(st, WP_OK);
        unsigned v = c <= '9' ? c - '0' : (c | 0x20u) - 'a' + 10u;
        for (size_t i = 0; i < WP_FINGERPRINT_SHORT_LEN; i++)
            assert_int_equal(fp.bytes[i], v * 0x11u);
    }
}

/* ------------------------------------------------------ home resolve */

static void test_home_resolution(void **state)
{
    (void)state;
    char out[WP_HOME_MAX];
    wp_error err;
    char *saved[4];
    static const char *const vars[] = {"WIPEER_HOME", "XDG_STATE_HOME", "HOME", NULL};
    for (size_t i = 0; vars[i]; i++) {
        const char *v = getenv(vars[i]);
        saved[i] = v ? strdup(v) : NULL;
    }

    setenv("WIPEER_HOME", "/w/home", 1);
    setenv("XDG_STATE_HOME", "/x/state", 1);
    setenv("HOME", "/h", 1);
    assert_int_equal(wp_home_resolve("/explicit/", out, sizeof out, &err), WP_OK);
    assert_string_equal(out, "/explicit");
    assert_int_equal(wp_home_resolve(NULL, out, sizeof out, &err), WP_OK);
    assert_string_equal(out, "/w/home");
    setenv("WIPEER_HOME", "", 1); /* empty counts as unset */
    assert_int_equal(wp_home_resolve(NULL, out, sizeof out, &err), WP_OK);
    assert_string_equal(out, "/x/state/wipeer");
    unsetenv("WIPEER_HOME");
    setenv("XDG_STATE_HOME", "/x/state//", 1);
    assert_int_equal(wp_home_resolve(NULL, out, sizeof out, &err), WP_OK);
    assert_string_equal(out, "/x/state/wipeer");
    setenv("XDG_STATE_HOME", "relative/state", 1); /* ignored, as XDG says */
    assert_int_equal(wp_home_resolve(NULL, out, sizeof out, &err), WP_OK);
    assert_string_equal(out, "/h/.local/state/wipeer");
    unsetenv("XDG_STATE_HOME");
    setenv("HOME", "/", 1);
    assert_int_equal(wp_home_resolve(NULL, out, sizeof out, &err), WP_OK);
    assert_string_equal(out, "/.local/state/wipeer");
    unsetenv("HOME");
    assert_int_equal(wp_home_resolve(NULL, out, sizeof out, &err), WP_ENOTFOUND);
    assert_non_null(strstr(err.detail, "HOME"));
    assert_int_equal(wp_home_resolve("rel/dir", out, sizeof out, &err), WP_OK);
    assert_string_equal(out, "rel/dir");
    assert_int_equal(wp_home_resolve("", out, sizeof out, &err), WP_EINVAL);
    /* Exactly fitting, and one byte short. */
    assert_int_equal(wp_home_resolve("/abc", out, 5, &err), WP_OK);
    assert_string_equal(out, "/abc");
    assert_int_equal(wp_home_resolve("/abcd", out, 5, &err), WP_ETOOBIG);
    assert_int_equal(err.code, WP_ETOOBIG);

    for (size_t i = 0; vars[i]; i++) {
        if (saved[i])
            setenv(vars[i], saved[i], 1);
        else
            unsetenv(vars[i]);
        free(saved[i]);
    }
}

/* ----------------------------------------------------- open / create */

static void test_create_then_reopen(void **state)
{
    struct fixture *f = *state;
    wp_identity *id = NULL;
    wp_error err;
    bool created = false;

    /* Without CREATE nothing is made. */
    assert_int_equal(wp_identity_open(f->home, NULL, 0, &id, &created, &err), WP_ENOTFOUND);
    assert_null(id);
    struct stat st;
    assert_int_equal(stat(f->home, &st), -1);

    assert_int_equal(wp_identity_open(f->home, NULL, WP_IDENTITY_CREATE, &id, &created, &err),
                     WP_OK);
    assert_true(created);
    assert_string_equal(wp_identity_home(id), f->home);
    wp_fingerprint fp1, fp_of;
    wp_pubkey pk;
    wp_identity_fingerprint(id, &fp1);
    wp_identity_pubkey(id, &pk);
    assert_int_equal(pk.bytes[0], 0x04);
    assert_int_equal(wp_fingerprint_of(&pk, &fp_of), WP_OK);
    assert_true(wp_fingerprint_equal(&fp1, &fp_of));

    /* The internal key signs for the public key the identity reports. */
    const crypto_ec_key *k = identity_key(id);
    assert_non_null(k);
    assert_true(crypto_ec_has_private(k));
    uint8_t sig[CRYPTO_SIG_LEN];
    crypto_ec_key *pub = NULL;
    assert_int_equal(crypto_ecdsa_sign(k, "hello", 5, sig, NULL), WP_OK);
    assert_int_equal(crypto_ec_from_public(pk.bytes, sizeof pk.bytes, &pub, NULL), WP_OK);
    assert_int_equal(crypto_ecdsa_verify(pub, "hello", 5, sig, sizeof sig, NULL), WP_OK);
    crypto_ec_free(pub);
    wp_identity_free(id);
    id = NULL;

    /* Reopen, with and without CREATE: same key, not created. */
    wp_fingerprint fp2;
    created = true;
    assert_int_equal(open_fp(f->home, NULL, WP_IDENTITY_CREATE, &fp2, &created, &err), WP_OK);
    assert_false(created);
    assert_memory_equal(fp1.bytes, fp2.bytes, WP_FINGERPRINT_LEN);
    assert_int_equal(open_fp(f->home, NULL, 0, &fp2, NULL, &err), WP_OK);
    assert_memory_equal(fp1.bytes, fp2.bytes, WP_FINGERPRINT_LEN);
    /* The same home spelled with a trailing slash. */
    char slash[320];
    snprintf(slash, sizeof slash, "%s/", f->home);
    assert_int_equal(open_fp(slash, NULL, 0, &fp2, NULL, &err), WP_OK);
    assert_memory_equal(fp1.bytes, fp2.bytes, WP_FINGERPRINT_LEN);

    /* The file is an unencrypted PKCS#8 PEM, and the only file in home. */
    char pem[4096], names[512];
    ssize_t n = slurp(f->key, pem, sizeof pem - 1);
    assert_true(n > 0);
    pem[n] = '\0';
    assert_non_null(strstr(pem, "-----BEGIN PRIVATE KEY-----"));
    assert_int_equal(list_dir(f->home, names, sizeof names), 1);
    assert_string_equal(names, WP_IDENTITY_FILENAME "\n");

    assert_int_equal(wp_identity_open(f->home, NULL, 0x80, &id, NULL, &err), WP_EINVAL);
    wp_identity_free(NULL);
}

static void test_modes(void **state)
{
    struct fixture *f = *state;
    char deep[400];
    wp_fingerprint fp;
    wp_error err;
    struct stat st;

    /* Missing parents are made too; a restrictive umask does not change the result. */
    mode_t old = umask(0277);
    snprintf(deep, sizeof deep, "%s/a/b/home", f->root);
    assert_int_equal(open_fp(deep, NULL, WP_IDENTITY_CREATE, &fp, NULL, &err), WP_OK);
    umask(old);
    assert_int_equal(stat(deep, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0700);
    snprintf(deep, sizeof deep, "%s/a/b/home/" WP_IDENTITY_FILENAME, f->root);
    assert_int_equal(lstat(deep, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    snprintf(deep, sizeof deep, "%s/a", f->root);
    assert_int_equal(stat(deep, &st), 0);
    assert_int_equal(st.st_mode & 077, 0);

    old = umask(0);
    assert_int_equal(open_fp(f->home, NULL, WP_IDENTITY_CREATE, &fp, NULL, &err), WP_OK);
    umask(old);
    assert_int_equal(stat(f->home, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_int_equal(stat(f->key, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
}

/* A corrupt key file is reported and left exactly as it was. */
static void check_corrupt(struct fixture *f, const char *content, size_t len)
{
    wp_identity *id = NULL;
    wp_error err;
    struct stat before, after;
    char *buf = malloc(len + 1);
    assert_non_null(buf);

    write_file(f->key, content, len, 0600);
    assert_int_equal(stat(f->key, &before), 0);
    assert_int_equal(wp_identity_open(f->home, NULL, WP_IDENTITY_CREATE, &id, NULL, &err),
                     WP_ECORRUPT);
    assert_null(id);
    print_message("corrupt (%zu bytes): %s\n", len, err.detail);
    assert_int_equal(err.code, WP_ECORRUPT);
    assert_non_null(strstr(err.detail, f->key));
    assert_non_null(strstr(err.detail, "refusing to replace it"));
    assert_int_equal(stat(f->key, &after), 0);
    assert_int_equal(before.st_ino, after.st_ino);
    assert_int_equal(after.st_size, (off_t)len);
    ssize_t n = slurp(f->key, buf, len + 1);
    assert_int_equal(n, (ssize_t)len);
    assert_memory_equal(buf, content, len);
    free(buf);
    char names[512];
    assert_int_equal(list_dir(f->home, names, sizeof names), 1);
}

static void test_corrupt_files(void **state)
{
    struct fixture *f = *state;
    wp_fingerprint fp;
    wp_error err;
    char pem[4096];

    assert_int_equal(open_fp(f->home, NULL, WP_IDENTITY_CREATE, &fp, NULL, &err), WP_OK);
    ssize_t n = slurp(f->key, pem, sizeof pem);
    assert_true(n > 100);

    check_corrupt(f, "", 0);
    check_corrupt(f, "garbage\n", 8);
    check_corrupt(f, pem, (size_t)n / 2);      /* truncated PEM */
    check_corrupt(f, pem, (size_t)n - 30);     /* END line cut */
    static const uint8_t binary[] = {0x30, 0x82, 0x01, 0x00, 0xff, 0x00, 0x13, 0x37};
    check_corrupt(f, (const char *)binary, sizeof binary);
    /* A valid PEM of something else: a (public) EC key is not an identity. */
    static const char pub_pem[] =
        "-----BEGIN PUBLIC KEY-----\n"
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEaxfR8uEsQkf4vOblY6RA8ncDfYEt\n"
        "6zOg9KE5RdiYwpZP40Li/hp/m47n60p8D54WK84zV2sxXs7LtkBoN79R9Q==\n"
        "-----END PUBLIC KEY-----\n";
    check_corrupt(f, pub_pem, sizeof pub_pem - 1);

    /* Too large a file is refused before reading it. */
    size_t big = STORE_FILE_MAX + 1;
    char *huge = calloc(1, big);
    assert_non_null(huge);
    memset(huge, 'A', big);
    check_corrupt(f, huge, big);
    free(huge);

    /* Putting the original back restores the identity. */
    write_file(f->key, pem, (size_t)n, 0600);
    wp_fingerprint again;
    assert_int_equal(open_fp(f->home, NULL, 0, &again, NULL, &err), WP_OK);
    assert_memory_equal(fp.bytes, again.bytes, WP_FINGERPRINT_LEN);
}

static void test_unsafe_permissions(void **state)
{
    struct fixture *f = *state;
    wp_fingerprint fp;
    wp_error err;
    char other[400];

    assert_int_equal(open_fp(f->home, NULL, WP_IDENTITY_CREATE, &fp, NULL, &err), WP_OK);

    static const mode_t bad_file_modes[] = {0644, 0640, 0604, 0660, 0602};
    for (size_t i = 0; i < WP_ARRAY_LEN(bad_file_modes); i++) {
        char mode_text[8];
        assert_int_equal(chmod(f->key, bad_file_modes[i]), 0);
        assert_int_equal(open_fp(f->home, NULL, WP_IDENTITY_CREATE, &fp, NULL, &err), WP_EPERM);
        snprintf(mode_text, sizeof mode_text, "0%o", (unsigned)bad_file_modes[i]);
        assert_non_null(strstr(err.detail, mode_text));
        assert_non_null(strstr(err.detail, "chmod 600"));
        assert_non_null(strstr(err.detail, f->key));
    }
    assert_int_equal(chmod(f->key, 0400), 0); /* read-only for the owner is fine */
    assert_int_equal(open_fp(f->home, NULL, 0, &fp, NULL, &err), WP_OK);
    assert_int_equal(chmod(f->key, 0600), 0);

    assert_int_equal(chmod(f->home, 0755), 0);
    assert_int_equal(open_fp(f->home, NULL, WP_IDENTITY_CREATE, &fp, NULL, &err), WP_EPERM);
    assert_non_null(strstr(err.detail, "0755"));
    assert_non_null(strstr(err.detail, "chmod 700"));
    assert_int_equal(chmod(f->home, 0701), 0);
    assert_int_equal(open_fp(f->home, NULL, 0, &fp, NULL, &err), WP_EPERM);
    assert_int_equal(chmod(f->home, 0700), 0);
    assert_int_equal(open_fp(f->home, NULL, 0, &fp, NULL, &err), WP_OK);

    if (geteuid() == 0) {
        /* Only root can give a file away; everyone else skips this case. */
        assert_int_equal(chown(f->key, 4242, 4242), 0);
        assert_int_equal(open_fp(f->home, NULL, 0, &fp, NULL, &err), WP_EPERM);
        assert_non_null(strstr(err.detail, "owned by uid 4242"));
        assert_int_equal(chown(f->key, 0, 0), 0);
        assert_int_equal(chown(f->home, 4242, 4242), 0);
        assert_int_equal(open_fp(f->home, NULL, 0, &fp, NULL, &err), WP_EPERM);
        assert_non_null(strstr(err.detail, "owned by uid 4242"));
        assert_int_equal(chown(f->home, 0, 0), 0);
    }

    /* A symlinked key file is refused, even to a private, valid key. */
    snprintf(other, sizeof other, "%s/real.pem", f->root);
    assert_int_equal(rename(f->key, other), 0);
    assert_int_equal(symlink(other, f->key), 0);
    assert_int_equal(open_fp(f->home, NULL, WP_IDENTITY_CREATE, &fp, NULL, &err), WP_EPERM);
    assert_non_null(strstr(err.detail, "symbolic link"));
    struct stat st;
    assert_int_equal(lstat(f->key, &st), 0);
    assert_true(S_ISLNK(st.st_mode)); /* not replaced */
    /* A dangling symlink is refused too (not "missing, create one"). */
    assert_int_equal(unlink(other), 0);
    assert_int_equal(open_fp(f->home, NULL, WP_IDENTITY_CREATE, &fp, NULL, &err), WP_EPERM);
    assert_int_equal(lstat(f->key, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(unlink(f->key), 0);

    /* A symlinked home directory is refused. */
    snprintf(other, sizeof other, "%s/link-home", f->root);
    assert_int_equal(symlink(f->home, other), 0);
    assert_int_equal(open_fp(other, NULL, WP_IDENTITY_CREATE, &fp, NULL, &err), WP_EPERM);
    assert_non_null(strstr(err.detail, "symbolic link"));

    /* A home that is a file is refused; a key that is a directory or FIFO too. */
    snprintf(other, sizeof other, "%s/file-home", f->root);
    write_file(other, "x", 1, 0600);
    assert_int_equal(open_fp(other, NULL, WP_IDENTITY_CREATE, &fp, NULL, &err), WP_EPERM);
    assert_non_null(strstr(err.detail, "not a directory"));
    assert_int_equal(mkdir(f->key, 0700), 0);
    assert_int_equal(open_fp(f->home, NULL, WP_IDENTITY_CREATE, &fp, NULL, &err), WP_EPERM);
    assert_int_equal(rmdir(f->key), 0);
    assert_int_equal(mkfifo(f->key, 0600), 0);
    assert_int_equal(open_fp(f->home, NULL, WP_IDENTITY_CREATE, &fp, NULL, &err), WP_EPERM);
    assert_non_null(strstr(err.detail, "not a regular file"));
    assert_int_equal(unlink(f->key), 0);
}

static void test_passphrase(void **state)
{
    struct fixture *f = *state;
    wp_fingerprint fp1, fp2;
    wp_error err;
    bool created = false;
    char pem[4096];

    assert_int_equal(
        open_fp(f->home, "correct horse", WP_IDENTITY_CREATE, &fp1, &created, &err), WP_OK);
    assert_true(created);
    ssize_t n = slurp(f->key, pem, sizeof pem - 1);
    assert_true(n > 0);
    pem[n] = '\0';
    assert_non_null(strstr(pem, "-----BEGIN ENCRYPTED PRIVATE KEY-----"));

    assert_int_equal(open_fp(f->home, "correct horse", 0, &fp2, &created, &err), WP_OK);
    assert_false(created);
    assert_memory_equal(fp1.bytes, fp2.bytes, WP_FINGERPRINT_LEN);

    assert_int_equal(open_fp(f->home, NULL, WP_IDENTITY_CREATE, &fp2, NULL, &err),
                     WP_EPASSPHRASE);
    assert_non_null(strstr(err.detail, "no passphrase"));
    assert_int_equal(open_fp(f->home, "", WP_IDENTITY_CREATE, &fp2, NULL, &err),
                     WP_EPASSPHRASE);
    assert_int_equal(open_fp(f->home, "correct horsE", 0, &fp2, NULL, &err), WP_EPASSPHRASE);
    assert_non_null(strstr(err.detail, "wrong passphrase"));
    /* Neither failure touched the file. */
    char after[4096];
    assert_int_equal(slurp(f->key, after, sizeof after), n);
    assert_memory_equal(after, pem, (size_t)n);

    /* A passphrase given for an unencrypted key is ignored. */
    char home2[400];
    snprintf(home2, sizeof home2, "%s/plain", f->root);
    assert_int_equal(open_fp(home2, NULL, WP_IDENTITY_CREATE, &fp1, NULL, &err), WP_OK);
    assert_int_equal(open_fp(home2, "whatever", 0, &fp2, NULL, &err), WP_OK);
    assert_memory_equal(fp1.bytes, fp2.bytes, WP_FINGERPRINT_LEN);
}

/* Two processes creating the same new home at once end up with one key. */
static void test_concurrent_first_use(void **state)
{
    struct fixture *f = *state;
    enum { ROUNDS = 4, KIDS = 2 };

    for (int round = 0; round < ROUNDS; round++) {
        char home[400];
        int go[2];
        int res[KIDS][2];
        pid_t pid[KIDS];
        snprintf(home, sizeof home, "%s/race%d", f->root, round);
        assert_int_equal(pipe(go), 0);
        for (int k = 0; k < KIDS; k++) {
            assert_int_equal(pipe(res[k]), 0);
            pid[k] = fork();
            assert_true(pid[k] >= 0);
            if (pid[k] == 0) {
                char c;
                uint8_t msg[1 + WP_FINGERPRINT_LEN] = {0};
                wp_fingerprint fp;
                bool created = false;
                close(go[1]);
                /* Wait until the parent releases both children at once. */
                while (read(go[0], &c, 1) < 0 && errno == EINTR) {
                }
                wp_status st = open_fp(home, NULL, WP_IDENTITY_CREATE, &fp, &created, NULL);
                msg[0] = st == WP_OK ? (uint8_t)(created ? 'C' : 'L') : 'E';
                memcpy(msg + 1, fp.bytes, sizeof fp.bytes);
                ssize_t w = write(res[k][1], msg, sizeof msg);
                _exit(w == (ssize_t)sizeof msg ? 0 : 1);
            }
            close(res[k][1]);
        }
        close(go[0]);
        close(go[1]); /* both children see EOF now */

        uint8_t got[KIDS][1 + WP_FINGERPRINT_LEN];
        for (int k = 0; k < KIDS; k++) {
            int status = 0;
            ssize_t r = read(res[k][0], got[k], sizeof got[k]);
            assert_int_equal(r, (ssize_t)sizeof got[k]);
            close(res[k][0]);
            assert_int_equal(waitpid(pid[k], &status, 0), pid[k]);
            assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        /* Exactly one created it, both hold the same key, and so does the file. */
        assert_true(got[0][0] != 'E' && got[1][0] != 'E');
        assert_int_equal((got[0][0] == 'C') + (got[1][0] == 'C'), 1);
        assert_memory_equal(got[0] + 1, got[1] + 1, WP_FINGERPRINT_LEN);
        wp_fingerprint fp;
        wp_error err;
        assert_int_equal(open_fp(home, NULL, 0, &fp, NULL, &err), WP_OK);
        assert_memory_equal(fp.bytes, got[0] + 1, WP_FINGERPRINT_LEN);
        char names[512];
        assert_int_equal(list_dir(home, names, sizeof names), 1); /* no temp files */
    }
}

/* A failed write (file size limit) leaves neither key nor temporary file. */
static void test_write_failure_leaves_nothing(void **state)
{
    struct fixture *f = *state;
    int res[2];
    assert_int_equal(pipe(res), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* In a child, so the limit cannot affect the test runner. */
        struct rlimit rl = {.rlim_cur = 64, .rlim_max = 64};
        wp_fingerprint fp;
        wp_error err;
        signal(SIGXFSZ, SIG_IGN);
        uint8_t st = (uint8_t)WP_OK;
        if (setrlimit(RLIMIT_FSIZE, &rl) == 0)
            st = (uint8_t)open_fp(f->home, NULL, WP_IDENTITY_CREATE, &fp, NULL, &err);
        ssize_t w = write(res[1], &st, 1);
        _exit(w == 1 ? 0 : 1);
    }
    close(res[1]);
    uint8_t st = 0;
    int status = 0;
    assert_int_equal(read(res[0], &st, 1), 1);
    close(res[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(st, (uint8_t)WP_EIO);
    char names[512];
    assert_int_equal(list_dir(f->home, names, sizeof names), 0);
}

/* Every allocation failure is a clean WP_ENOMEM (ASan catches leaks). */
static void test_allocation_failures(void **state)
{
    struct fixture *f = *state;
    wp_fingerprint fp;
    wp_error err;
    assert_int_equal(open_fp(f->home, NULL, WP_IDENTITY_CREATE, &fp, NULL, &err), WP_OK);
    bool reached_ok = false;
    for (long n = 0; n < 100 && !reached_ok; n++) {
        mem_fail_after(n);
        wp_status st = open_fp(f->home, NULL, 0, &fp, NULL, &err);
        mem_fail_after(-1);
        if (st == WP_OK)
            reached_ok = true;
        else
            assert_int_equal(st, WP_ENOMEM);
    }
    assert_true(reached_ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fingerprint_known_answer),
        cmocka_unit_test(test_fingerprint_format_all_digits),
        cmocka_unit_test(test_fingerprint_parse_forms),
        cmocka_unit_test(test_fingerprint_parse_rejects),
        cmocka_unit_test(test_fingerprint_mismatch),
        cmocka_unit_test(test_fingerprint_every_byte),
        cmocka_unit_test(test_home_resolution),
        cmocka_unit_test_setup_teardown(test_create_then_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsafe_permissions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_passphrase, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_first_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_failure_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allocation_failures, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * fingerprint.c - fingerprints of public keys: compute, format, parse, match.
 *
 * Pure functions (no I/O). Hex is encoded and decoded with arithmetic masks
 * instead of branches or table lookups on the digits (STYLE.md §4, after
 * wireguard-tools encoding.c), and comparisons use crypto_ct_eq, so the time
 * taken does not depend on which digits a fingerprint has. Only the
 * structure of the text (its length, how many digits it has) decides
 * branches.
 */
#include "internal.h"

#include "crypto/crypto.h"

/* Longest text wp_fingerprint_parse looks at (64 digits plus separators). */
#define FP_TEXT_MAX 256

/* 1 if lo <= x <= hi, else 0; x, lo, hi are bytes (0..255). */
static uint32_t ct_in_range(uint32_t x, uint32_t lo, uint32_t hi)
{
    /* x - lo and hi - x wrap (set bit 31) exactly when x is out of range. */
    return (((x - lo) | (hi - x)) >> 31) ^ 1u;
}

/* 0xffffffff if bit is 1, 0 if bit is 0. */
static uint32_t ct_mask(uint32_t bit)
{
    return 0u - bit;
}

/* One upper-case hex digit for the nibble n (0..15). */
static char hex_digit(uint32_t n)
{
    /* '0'+n for n <= 9; 'A'+(n-10) = '0'+n+7 otherwise. */
    uint32_t gt9 = (9u - n) >> 31;
    return (char)('0' + n + (ct_mask(gt9) & 7u));
}

/*
 * Value of one hex digit c (either case). *bad gets 1 ORed in when c is not
 * a hex digit, in which case the returned value is meaningless.
 */
static uint32_t hex_value(uint32_t c, uint32_t *bad)
{
    uint32_t is_dig = ct_in_range(c, '0', '9');
    uint32_t is_up = ct_in_range(c, 'A', 'F');
    uint32_t is_lo = ct_in_range(c, 'a', 'f');
    *bad |= (is_dig | is_up | is_lo) ^ 1u;
    uint32_t v = (ct_mask(is_dig) & (c - '0')) | (ct_mask(is_up) & (c - 'A' + 10u)) |
                 (ct_mask(is_lo) & (c - 'a' + 10u));
    return v & 0xfu;
}

/* see wipeer.h */
wp_status wp_fingerprint_of(const wp_pubkey *pk, wp_fingerprint *out)
{
    if (WP_MISUSE(!pk || !out))
        return WP_EINVAL;
    return crypto_sha256(pk->bytes, sizeof pk->bytes, out->bytes, NULL);
}

/* Write the first n_bytes of fp as hex, groups of 4 digits joined by '-'. */
static void format_groups(const wp_fingerprint *fp, size_t n_bytes, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n_bytes; i++) {
        if (i > 0 && i % 2 == 0)
            out[o++] = '-';
        out[o++] = hex_digit((uint32_t)fp->bytes[i] >> 4);
        out[o++] = hex_digit((uint32_t)fp->bytes[i] & 0xfu);
    }
    out[o] = '\0';
}

/* see wipeer.h */
void wp_fingerprint_format_short(const wp_fingerprint *fp, char out[WP_FINGERPRINT_SHORT_STR])
{
    if (WP_MISUSE(!fp || !out))
        return;
    format_groups(fp, WP_FINGERPRINT_SHORT_LEN, out);
}

/* see wipeer.h */
void wp_fingerprint_format_long(const wp_fingerprint *fp, char out[WP_FINGERPRINT_LONG_STR])
{
    if (WP_MISUSE(!fp || !out))
        return;
    format_groups(fp, WP_FINGERPRINT_LEN, out);
}

/* see wipeer.h */
wp_status wp_fingerprint_parse(const char *text, wp_fingerprint *out, size_t *out_len)
{
    wp_status rc = WP_EINVAL;
    /* The hex digits of text with separators dropped (64 at most). */
    uint8_t digits[2 * WP_FINGERPRINT_LEN];
    uint32_t n = 0;   /* digits seen */
    uint32_t bad = 0; /* 1 once any character is neither hex nor separator */

    memset(digits, 0, sizeof digits);
    if (out)
        memset(out, 0, sizeof *out);
    if (out_len)
        *out_len = 0;
    if (!text || !out || !out_len)
        goto out;

    size_t len = strnlen(text, FP_TEXT_MAX + 1);
    if (len > FP_TEXT_MAX)
        goto out;

    for (size_t i = 0; i < len; i++) {
        uint32_t c = (uint8_t)text[i];
        uint32_t is_sep = ct_in_range(c, '-', '-') | ct_in_range(c, ':', ':') |
                          ct_in_range(c, ' ', ' ');
        uint32_t not_hex = 0;
        (void)hex_value(c, &not_hex);
        uint32_t is_hex = not_hex ^ 1u;
        bad |= (is_sep | is_hex) ^ 1u;
        /* A 65th digit is too many; the index below wraps harmlessly then. */
        bad |= is_hex & ((63u - n) >> 31);
        /* Store c at digits[n] when it is a digit, keep the old byte otherwise. */
        uint32_t slot = n & (2u * WP_FINGERPRINT_LEN - 1u);
        uint32_t m = ct_mask(is_hex);
        digits[slot] = (uint8_t)((m & c) | (~m & digits[slot]));
        n += is_hex;
    }
    if (bad || (n != 2u * WP_FINGERPRINT_SHORT_LEN && n != 2u * WP_FINGERPRINT_LEN))
        goto out;

    uint32_t bad_digit = 0;
    for (uint32_t i = 0; i < n / 2; i++) {
        uint32_t hi = hex_value(digits[2 * i], &bad_digit);
        uint32_t lo = hex_value(digits[2 * i + 1], &bad_digit);
        out->bytes[i] = (uint8_t)((hi << 4) | lo);
    }
    if (bad_digit) /* cannot happen: only hex digits were stored */
        goto out;
    *out_len = n / 2;
    rc = WP_OK;
out:
    if (rc != WP_OK && out)
        memset(out, 0, sizeof *out);
    wp_wipe(digits, sizeof digits);
    return rc;
}

/* see wipeer.h */
bool wp_fingerprint_matches(const wp_fingerprint *fp, const char *text)
{
    wp_fingerprint want;
    size_t n = 0;
    bool is_match = false;

    if (!fp || !text)
        return false;
    if (wp_fingerprint_parse(text, &want, &n) == WP_OK)
        is_match = crypto_ct_eq(fp->bytes, want.bytes, n);
    return is_match;
}

/* see wipeer.h */
bool wp_fingerprint_equal(const wp_fingerprint *a, const wp_fingerprint *b)
{
    if (!a || !b)
        return false;
    return crypto_ct_eq(a->bytes, b->bytes, sizeof a->bytes);
}

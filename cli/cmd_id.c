/*
 * cmd_id.c - `wipeer id`: show this device's identity, creating it on first
 * use (wipeer.h, "Device identity").
 *
 * The QR code (--qr) encodes exactly the long fingerprint text, e.g.
 * "698B-EA63-...-C5BE" (79 characters, QR alphanumeric mode, ECC level M),
 * which wp_fingerprint_parse accepts as is.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define PASSPHRASE_MAX 1024
#define QR_QUIET 4 /* modules of light border the QR spec requires */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: wipeer id [--home DIR] [--json | --qr] [--passphrase-file FILE]\n"
            "\n"
            "Show this device's identity fingerprint. On first use a new P-256 identity key\n"
            "is generated and stored (mode 0600) as DIR/" WP_IDENTITY_FILENAME ".\n"
            "\n"
            "options:\n"
            "  --home DIR              state directory (default: $WIPEER_HOME, else\n"
            "                          $XDG_STATE_HOME/wipeer, else ~/.local/state/wipeer)\n"
            "  --json                  print one JSON object: fingerprint, fingerprint_long,\n"
            "                          public_key (hex), home, created\n"
            "  --qr                    also draw the long fingerprint as a QR code\n"
            "                          (black on white, whatever the terminal's colours)\n"
            "  --passphrase-file FILE  the key's passphrase is the first line of FILE; a new\n"
            "                          key is then stored encrypted\n"
            "  -h, --help              show this help\n"
            "\n"
            "environment:\n"
            "  WIPEER_PASSPHRASE       passphrase when --passphrase-file is not given; weaker,\n"
            "                          since other processes of the same user can read the\n"
            "                          environment (/proc/PID/environ)\n"
            "\n"
            "The creation of a new identity is reported on stderr.\n"
            "Exit status: 0 ok, 1 failure (e.g. corrupt key, unsafe permissions), 2 usage.\n");
}

/* Overwrite a secret so the compiler cannot drop the store. */
static void wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
}

/* The first line of path (without the newline) into out. */
static int read_passphrase_file(const char *path, char *out, size_t out_len)
{
    int rc = CLI_FAIL;
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "wipeer: id: cannot open passphrase file %s: %s\n", path,
                strerror(errno));
        return CLI_FAIL;
    }
    if (!fgets(out, (int)out_len, f)) {
        if (ferror(f))
            fprintf(stderr, "wipeer: id: cannot read passphrase file %s\n", path);
        else
            fprintf(stderr, "wipeer: id: passphrase file %s is empty\n", path);
        goto out;
    }
    size_t n = strlen(out);
    if (n == out_len - 1 && out[n - 1] != '\n' && !feof(f)) {
        fprintf(stderr, "wipeer: id: passphrase in %s longer than %zu bytes\n", path,
                out_len - 2);
        goto out;
    }
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = '\0';
    if (n == 0) {
        fprintf(stderr, "wipeer: id: passphrase file %s has an empty first line\n", path);
        goto out;
    }
    rc = CLI_OK;
out:
    if (rc != CLI_OK)
        wipe(out, out_len);
    fclose(f);
    return rc;
}

/* Print s as a JSON string literal (RFC 8259 escaping). */
static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

/* Module (x, y) of the code including the quiet zone: true when dark. */
static int qr_dark(const QRcode *qr, int x, int y)
{
    int w = qr->width;
    x -= QR_QUIET;
    y -= QR_QUIET;
    if (x < 0 || y < 0 || x >= w || y >= w)
        return 0;
    return qr->data[(size_t)y * (size_t)w + (size_t)x] & 1;
}

/*
 * Draw text as a QR code, two module rows per text line with half blocks.
 * Colours are set explicitly (black foreground on a white background) and
 * a dark module is always drawn with the foreground: so the code is dark on
 * light on dark and light terminals alike (plain text without colours would
 * come out inverted on a dark terminal).
 */
static int print_qr(FILE *f, const char *text)
{
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!qr) {
        fprintf(stderr, "wipeer: id: cannot build the QR code: %s\n", strerror(errno));
        return CLI_FAIL;
    }
    int size = qr->width + 2 * QR_QUIET;
    for (int y = 0; y < size; y += 2) {
        fputs("\033[30;107m", f);
        for (int x = 0; x < size; x++) {
            int top = qr_dark(qr, x, y);
            int bottom = qr_dark(qr, x, y + 1); /* past the last row: quiet (light) */
            if (top && bottom)
                fputs("\u2588", f); /* full block */
            else if (top)
                fputs("\u2580", f); /* upper half block */
            else if (bottom)
                fputs("\u2584", f); /* lower half block */
            else
                fputc(' ', f);
        }
        fputs("\033[0m\n", f);
    }
    QRcode_free(qr);
    return CLI_OK;
}

int cmd_id(int argc, char **argv)
{
    int rc = CLI_FAIL;
    const char *home = NULL;
    const char *pass_file = NULL;
    const char *pass = NULL;
    char pass_buf[PASSPHRASE_MAX + 2];
    bool want_json = false, want_qr = false, created = false;
    wp_identity *id = NULL;
    wp_error err;
    wp_status st;

    pass_buf[0] = '\0';
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return CLI_OK;
        } else if (!strcmp(a, "--json")) {
            want_json = true;
        } else if (!strcmp(a, "--qr")) {
            want_qr = true;
        } else if (!strcmp(a, "--home") || !strcmp(a, "--passphrase-file")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "wipeer: id: %s needs an argument\n", a);
                return CLI_USAGE;
            }
            if (!strcmp(a, "--home"))
                home = argv[++i];
            else
                pass_file = argv[++i];
        } else if (!strncmp(a, "--home=", 7)) {
            home = a + 7;
        } else if (!strncmp(a, "--passphrase-file=", 18)) {
            pass_file = a + 18;
        } else {
            fprintf(stderr, "wipeer: id: unknown option '%s'\n", a);
            usage(stderr);
            return CLI_USAGE;
        }
    }
    if (want_json && want_qr) {
        fprintf(stderr, "wipeer: id: --json and --qr cannot be combined\n");
        return CLI_USAGE;
    }
    if (home && !*home) {
        fprintf(stderr, "wipeer: id: --home needs a directory\n");
        return CLI_USAGE;
    }
    if (pass_file) {
        rc = read_passphrase_file(pass_file, pass_buf, sizeof pass_buf);
        if (rc != CLI_OK)
            goto out;
        pass = pass_buf;
    } else {
        pass = getenv("WIPEER_PASSPHRASE");
    }

    st = wp_identity_open(home, pass, WP_IDENTITY_CREATE, &id, &created, &err);
    if (st != WP_OK) {
        cli_error("id", st, err.detail);
        rc = cli_exit_code(st) == CLI_USAGE ? CLI_FAIL : cli_exit_code(st);
        goto out;
    }
    if (created)
        fprintf(stderr, "wipeer: created a new identity in %s\n", wp_identity_home(id));

    wp_fingerprint fp;
    wp_pubkey pk;
    char fp_short[WP_FINGERPRINT_SHORT_STR];
    char fp_long[WP_FINGERPRINT_LONG_STR];
    wp_identity_fingerprint(id, &fp);
    wp_identity_pubkey(id, &pk);
    wp_fingerprint_format_short(&fp, fp_short);
    wp_fingerprint_format_long(&fp, fp_long);

    rc = CLI_OK;
    if (want_json) {
        printf("{\"fingerprint\":\"%s\",\"fingerprint_long\":\"%s\",\"public_key\":\"", fp_short,
               fp_long);
        for (size_t i = 0; i < sizeof pk.bytes; i++)
            printf("%02x", pk.bytes[i]);
        printf("\",\"home\":");
        json_string(stdout, wp_identity_home(id));
        printf(",\"created\":%s}\n", created ? "true" : "false");
    } else {
        printf("fingerprint %s\n", fp_short);
        printf("long        %s\n", fp_long);
        printf("home        %s\n", wp_identity_home(id));
        if (want_qr)
            rc = print_qr(stdout, fp_long);
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "wipeer: id: cannot write output: %s\n", strerror(errno));
        rc = CLI_FAIL;
    }
out:
    wp_identity_free(id);
    wipe(pass_buf, sizeof pass_buf);
    return rc;
}

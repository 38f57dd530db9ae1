/*
 * identity.c - the device's long-term P-256 identity: home resolution,
 * first-use creation and loading (file handling in store.c).
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>

#include "crypto/crypto.h"
#include "identity/identity.h"
#include "identity/store.h"

/*
 * How many times open re-reads after losing a creation race. Losing once
 * means the winner's file exists; more rounds only happen if someone keeps
 * deleting it, which is reported rather than looped on.
 */
#define OPEN_TRIES 3

#define REFUSE_REPLACE "refusing to replace it; move it away to create a new identity"

struct wp_identity {
    crypto_ec_key *key; /* private */
    wp_pubkey pub;
    wp_fingerprint fp;
    char *home;
};

/* Length of s without trailing slashes, keeping a lone "/". */
static size_t trim_slashes(const char *s)
{
    size_t n = strlen(s);
    while (n > 1 && s[n - 1] == '/')
        n--;
    return n;
}

/* see wipeer.h */
wp_status wp_home_resolve(const char *home_or_null, char *out, size_t out_len, wp_error *out_err)
{
    const char *base = NULL;
    const char *suffix = "";
    const char *v;

    err_clear(out_err);
    if (!out || out_len == 0)
        return err_set(out_err, WP_EINVAL, "no output buffer for the home directory");
    out[0] = '\0';
    if (home_or_null) {
        if (home_or_null[0] == '\0')
            return err_set(out_err, WP_EINVAL, "empty home directory");
        base = home_or_null;
    } else if ((v = getenv("WIPEER_HOME")) && v[0] != '\0') {
        base = v;
    } else if ((v = getenv("XDG_STATE_HOME")) && v[0] == '/') {
        /* The XDG base directory spec says relative values are to be ignored. */
        base = v;
        suffix = "/wipeer";
    } else if ((v = getenv("HOME")) && v[0] != '\0') {
        base = v;
        suffix = "/.local/state/wipeer";
    } else {
        return err_set(out_err, WP_ENOTFOUND,
                       "no home directory: set WIPEER_HOME or HOME, or pass one explicitly");
    }
    size_t base_len = trim_slashes(base);
    if (suffix[0] != '\0' && base_len == 1 && base[0] == '/')
        base_len = 0; /* "/" + "/wipeer" is "/wipeer" */
    size_t need = base_len + strlen(suffix) + 1;
    if (need > out_len || base_len > (size_t)0x7fffffff)
        return err_set(out_err, WP_ETOOBIG, "home directory path too long (%zu bytes)", need - 1);
    memcpy(out, base, base_len);
    memcpy(out + base_len, suffix, strlen(suffix) + 1);
    return WP_OK;
}

/* Parse the stored PEM; map failures to messages that name the file and the fix. */
static wp_status load_key(const char *path, const char *pem, size_t pem_len, const char *pass,
                          crypto_ec_key **out, wp_err *err)
{
    wp_status rc;
    wp_err e;

    err_clear(&e);
    if (pem_len == 0)
        return err_set(err, WP_ECORRUPT, "%s: empty file; " REFUSE_REPLACE, path);
    rc = crypto_ec_from_pem(pem, pem_len, pass, out, &e);
    switch (rc) {
    case WP_OK:
        break;
    case WP_ECORRUPT:
        rc = err_set(err, WP_ECORRUPT, "%s: not a valid P-256 private key; " REFUSE_REPLACE " (%s)",
                     path, e.detail);
        break;
    case WP_EPASSPHRASE:
        rc = err_set(err, WP_EPASSPHRASE,
                     pass ? "%s: wrong passphrase for the encrypted key"
                          : "%s: the key is encrypted and no passphrase was given",
                     path);
        break;
    default:
        err_copy(err, &e);
        break;
    }
    return rc;
}

/*
 * Generate a key and publish it (never replacing a file). WP_EEXIST when
 * another process published one first.
 */
static wp_status create_key(int dirfd, const char *home, const char *pass, crypto_ec_key **out,
                            wp_err *err)
{
    wp_status rc;
    crypto_ec_key *k = NULL;
    crypto_ec_key *check = NULL;
    char *pem = NULL;
    size_t pem_len = 0;
    uint8_t pub_a[CRYPTO_P256_PUB_LEN];
    uint8_t pub_b[CRYPTO_P256_PUB_LEN];

    *out = NULL;
    rc = crypto_ec_generate(&k, err);
    if (rc != WP_OK)
        goto out;
    rc = crypto_ec_to_pem(k, pass, &pem, &pem_len, err);
    if (rc != WP_OK)
        goto out;
    /* Never publish a file we could not load back. */
    rc = crypto_ec_from_pem(pem, pem_len, pass, &check, err);
    if (rc != WP_OK)
        goto out;
    rc = crypto_ec_public(k, pub_a, err);
    if (rc != WP_OK)
        goto out;
    rc = crypto_ec_public(check, pub_b, err);
    if (rc != WP_OK)
        goto out;
    if (!crypto_ct_eq(pub_a, pub_b, sizeof pub_a)) {
        rc = err_set(err, WP_ECRYPTO, "new identity key does not survive a PEM round trip");
        goto out;
    }
    rc = store_write(dirfd, home, WP_IDENTITY_FILENAME, pem, pem_len, false, err);
    if (rc != WP_OK)
        goto out;
    *out = k;
    k = NULL;
out:
    crypto_ec_free(check);
    crypto_ec_free(k);
    if (pem)
        wp_free_secret(pem, pem_len + 1);
    return rc;
}

/* see wipeer.h */
wp_status wp_identity_open(const char *home_or_null, const char *passphrase_or_null,
                           unsigned flags, wp_identity **out, bool *out_created, wp_error *out_err)
{
    wp_status rc;
    char home[WP_HOME_MAX];
    char path[WP_HOME_MAX + sizeof WP_IDENTITY_FILENAME + 1];
    int dirfd = -1;
    char *pem = NULL;
    size_t pem_len = 0;
    crypto_ec_key *key = NULL;
    wp_identity *id = NULL;
    bool created = false;
    const bool want_create = (flags & WP_IDENTITY_CREATE) != 0;
    /* "" means no passphrase, as crypto_ec_to_pem treats it. */
    const char *pass =
        (passphrase_or_null && passphrase_or_null[0] != '\0') ? passphrase_or_null : NULL;

    err_clear(out_err);
    if (out_created)
        *out_created = false;
    if (WP_MISUSE(!out))
        return err_set(out_err, WP_EINVAL, "wp_identity_open: out is NULL");
    *out = NULL;
    if ((flags & ~WP_IDENTITY_CREATE) != 0)
        return err_set(out_err, WP_EINVAL, "wp_identity_open: unknown flags 0x%x", flags);
    mem_freeze_allocator();

    rc = wp_home_resolve(home_or_null, home, sizeof home, out_err);
    if (rc != WP_OK)
        goto out;
    snprintf(path, sizeof path, "%s/%s", home, WP_IDENTITY_FILENAME);
    rc = store_dir_open(home, want_create, &dirfd, out_err);
    if (rc != WP_OK)
        goto out;

    for (int attempt = 0; attempt < OPEN_TRIES && !key; attempt++) {
        rc = store_read(dirfd, home, WP_IDENTITY_FILENAME, STORE_FILE_MAX, &pem, &pem_len,
                        out_err);
        if (rc == WP_OK) {
            rc = load_key(path, pem, pem_len, pass, &key, out_err);
            goto loaded;
        }
        if (rc == WP_ECORRUPT && out_err) {
            /* e.g. too large: say what to do about it, like load_key does. */
            size_t used = strlen(out_err->detail);
            snprintf(out_err->detail + used, sizeof out_err->detail - used, "; " REFUSE_REPLACE);
        }
        if (rc != WP_ENOTFOUND)
            goto out;
        if (!want_create) {
            rc = err_set(out_err, WP_ENOTFOUND, "%s: no identity has been created yet", path);
            goto out;
        }
        rc = create_key(dirfd, home, pass, &key, out_err);
        if (rc == WP_OK) {
            created = true;
            goto loaded;
        }
        if (rc != WP_EEXIST)
            goto out;
        /* Lost the first-use race: the loop loads the winner's key. */
    }
    rc = err_set(out_err, WP_EIO, "%s: the identity file keeps appearing and vanishing", path);
    goto out;

loaded:
    if (rc != WP_OK)
        goto out;
    id = wp_calloc(1, sizeof *id);
    if (!id) {
        rc = err_set(out_err, WP_ENOMEM, "out of memory");
        goto out;
    }
    id->home = wp_strdup(home);
    if (!id->home) {
        rc = err_set(out_err, WP_ENOMEM, "out of memory");
        goto out;
    }
    rc = crypto_ec_public(key, id->pub.bytes, out_err);
    if (rc != WP_OK)
        goto out;
    rc = wp_fingerprint_of(&id->pub, &id->fp);
    if (rc != WP_OK) {
        rc = err_set(out_err, rc, "cannot hash the public key");
        goto out;
    }
    id->key = key;
    key = NULL;
    *out = id;
    id = NULL;
    if (out_created)
        *out_created = created;
    err_clear(out_err);
out:
    wp_identity_free(id);
    crypto_ec_free(key);
    if (pem)
        wp_free_secret(pem, pem_len + 1);
    store_dir_close(dirfd);
    return rc;
}

/* see wipeer.h */
void wp_identity_free(wp_identity *id)
{
    if (!id)
        return;
    crypto_ec_free(id->key);
    wp_free(id->home);
    wp_wipe(id, sizeof *id);
    wp_free(id);
}

/* see wipeer.h */
void wp_identity_pubkey(const wp_identity *id, wp_pubkey *out)
{
    if (WP_MISUSE(!id || !out)) {
        if (out)
            memset(out, 0, sizeof *out);
        return;
    }
    *out = id->pub;
}

/* see wipeer.h */
void wp_identity_fingerprint(const wp_identity *id, wp_fingerprint *out)
{
    if (WP_MISUSE(!id || !out)) {
        if (out)
            memset(out, 0, sizeof *out);
        return;
    }
    *out = id->fp;
}

/* see wipeer.h */
const char *wp_identity_home(const wp_identity *id)
{
    if (WP_MISUSE(!id))
        return NULL;
    return id->home;
}

const crypto_ec_key *identity_key(const wp_identity *id)
{
    return id ? id->key : NULL;
}

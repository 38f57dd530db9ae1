/*
 * wipeer.h - the one public header of libwipeer.
 *
 * libwipeer gives devices on a local network discovery (mDNS/DNS-SD,
 * service _wipeerkit._tcp), a mutually authenticated, forward-secret,
 * encrypted channel over TCP (docs/PROTOCOL.md), pairing and authorization.
 *
 * Conventions (the whole API follows them; see docs/DESIGN.md):
 *  - Every public name starts with wp_ / WP_. Handles are opaque.
 *  - Every fallible function returns a wp_status. WP_OK is 0. wp_strerror()
 *    turns any status into a static string. Objects that can fail keep a
 *    last error with a detail string (e.g. wp_identity_last_error()).
 *  - _new/_free pair heap handles; _free(NULL) is a no-op and wipes secrets.
 *  - Inputs are copied unless a parameter says "borrowed".
 *  - Sizes of fixed arrays are spelled out in prototypes.
 */
#ifndef WIPEER_H
#define WIPEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Version                                                            */

#define WP_VERSION_MAJOR 0
#define WP_VERSION_MINOR 1
#define WP_VERSION_PATCH 0
#define WP_VERSION_STRING "0.1.0"
/** (major << 16) | (minor << 8) | patch, for #if comparisons. */
#define WP_VERSION_NUMBER ((WP_VERSION_MAJOR << 16) | (WP_VERSION_MINOR << 8) | WP_VERSION_PATCH)

#if defined(WP_BUILDING_LIB)
#define WP_API __attribute__((visibility("default")))
#else
#define WP_API
#endif
#define WP_NODISCARD __attribute__((warn_unused_result))

/** The library's version string at run time, e.g. "0.1.0". Thread-safe. */
WP_API const char *wp_version(void);

/* ------------------------------------------------------------------ */
/* Errors                                                             */

/**
 * Status codes. Numbers are stable and never reused. Ranges carry meaning:
 * 0-99 not an error, 100-199 caller errors, 200-299 local failures,
 * 300-399 caused by the peer or the network.
 */
typedef enum wp_status {
    WP_OK = 0,
    WP_AGAIN = 1, /**< nothing to do yet / would block; not an error */

    WP_EINVAL = 100,   /**< invalid argument or API misuse */
    WP_ESTATE = 101,   /**< call not valid in the object's current state */
    WP_ETOOBIG = 102,  /**< a size exceeds a limit */
    WP_ENOTFOUND = 103,/**< the named thing does not exist */
    WP_EEXIST = 104,   /**< the thing already exists */
    WP_EUNSUPPORTED = 105, /**< feature or option not supported by this build */
    WP_EPASSPHRASE = 106,  /**< passphrase missing or wrong for an encrypted key */
    WP_EFULL = 107,    /**< a bounded queue is full; retry after a writable event */

    WP_ENOMEM = 200,   /**< out of memory */
    WP_ESYS = 201,     /**< an operating-system call failed (errno in last error) */
    WP_ECRYPTO = 202,  /**< the crypto library failed (detail in last error) */
    WP_ECORRUPT = 203, /**< a local file is corrupt or malformed */
    WP_EPERM = 204,    /**< a local file or directory has unsafe permissions */
    WP_EIO = 205,      /**< reading or writing local storage failed */

    WP_EPROTO = 300,    /**< the peer violated the protocol */
    WP_EAUTH = 301,     /**< authentication failed (bad signature, MAC or tag) */
    WP_EDENIED = 302,   /**< the peer is not trusted or not authorized */
    WP_EREPLAY = 303,   /**< a replayed, reordered or duplicated record */
    WP_ETIMEDOUT = 304, /**< a deadline passed */
    WP_ECLOSED = 305,   /**< the connection is closed */
    WP_ENOTWIPEER = 306,/**< the peer does not speak the wipeer protocol */
    WP_EVERSION = 307,  /**< no protocol version or cipher suite in common */
    WP_EIDENTITY = 308, /**< the peer's identity differs from the one expected, or is our own */
    WP_EINTEGRITY = 309,/**< a record failed its integrity check (tampering) */
    WP_ETRUNCATED = 310,/**< the stream ended without an authenticated close */
    WP_EREFUSED = 311,  /**< the connection was refused or reset */
} wp_status;

/**
 * Details of a failure: the status, a human-readable detail string (e.g.
 * "frame length 70000 > 65536" or "/home/u/.local/state/wipeer/identity.pem:
 * mode 0644, expected 0600") and the errno of a failed OS call (0 if none).
 * Functions that create objects take an optional `wp_error *out_err`;
 * objects keep their last error (wp_<object>_last_error).
 */
#define WP_ERROR_DETAIL_MAX 256
typedef struct wp_error {
    wp_status code;
    int sys_errno;
    char detail[WP_ERROR_DETAIL_MAX];
} wp_error;

/** A static, human-readable description of a status. Never NULL. Thread-safe. */
WP_API const char *wp_strerror(wp_status status);

/** A static symbolic name ("WP_EAUTH") for a status. Never NULL. Thread-safe. */
WP_API const char *wp_status_name(wp_status status);

/* ------------------------------------------------------------------ */
/* Memory                                                             */

/**
 * Replace the allocator. Allowed only before the first wp_ object exists;
 * returns WP_ESTATE afterwards. All three functions must be given, or all
 * NULL to restore the C library's. realloc_fn follows realloc's contract.
 */
WP_API WP_NODISCARD wp_status wp_set_allocator(void *(*malloc_fn)(size_t),
                                               void *(*realloc_fn)(void *, size_t),
                                               void (*free_fn)(void *));

/* ------------------------------------------------------------------ */
/* Sizes                                                              */

#define WP_PUBKEY_LEN 65          /**< SEC1 uncompressed P-256 point: 04 || X || Y */
#define WP_FINGERPRINT_LEN 32     /**< SHA-256 of the 65-byte public point */
#define WP_FINGERPRINT_SHORT_STR 20 /**< "A3F2-B1C4-D5E6-F8A9" + NUL */
#define WP_FINGERPRINT_LONG_STR 80  /**< 64 hex digits in 16 groups of 4 + 15 dashes + NUL */

/** A P-256 public key, caller-owned plain data. */
typedef struct wp_pubkey {
    uint8_t bytes[WP_PUBKEY_LEN];
} wp_pubkey;

/** A fingerprint: SHA-256 of wp_pubkey.bytes. Caller-owned plain data. */
typedef struct wp_fingerprint {
    uint8_t bytes[WP_FINGERPRINT_LEN];
} wp_fingerprint;

/* ------------------------------------------------------------------ */
/* Device identity (issue 2)                                          */
/*
 * Every device has one long-term P-256 identity key. It is generated on
 * first use and kept in the state directory ("home") as a PKCS#8 PEM file,
 * optionally encrypted with a passphrase. Peers know a device by the
 * fingerprint of its public key.
 *
 * Home resolution order (wp_home_resolve):
 *   1. the explicit home argument, if not NULL;
 *   2. $WIPEER_HOME, if set and non-empty;
 *   3. $XDG_STATE_HOME/wipeer, if XDG_STATE_HOME is set to an absolute path;
 *   4. $HOME/.local/state/wipeer.
 *
 * Storage rules (enforced by wp_identity_open):
 *  - the home directory is created with mode 0700 (missing parents too,
 *    also 0700); the key file WP_IDENTITY_FILENAME is created with mode 0600;
 *  - the key is written atomically: a temporary file in the same directory
 *    is written, fsync'ed and hard-linked to its final name (so when two
 *    processes create an identity at once exactly one wins and both end up
 *    with the same key), then the directory is fsync'ed. No failure leaves
 *    a temporary or partial file behind;
 *  - an existing key is never replaced: a corrupt, empty or truncated file
 *    is WP_ECORRUPT, and the user has to move it away;
 *  - the directory and the key file must be owned by the effective user,
 *    must not be symbolic links and must not grant any group/other
 *    permission bit; otherwise WP_EPERM with the path, the mode found and
 *    the chmod command that fixes it.
 */

/** File name of the identity key inside the home directory. */
#define WP_IDENTITY_FILENAME "identity.pem"
/** Buffer size for wp_home_resolve (a path, NUL included). */
#define WP_HOME_MAX 4096

/** wp_identity_open flag: generate and store a new key if none exists. */
#define WP_IDENTITY_CREATE 0x1u

/**
 * Resolve the home (state) directory, in the order described above.
 * Trailing slashes are removed ("/" stays "/").
 *   home_or_null  in: explicit directory, or NULL to use the environment.
 *   out, out_len  out: receives the NUL-terminated path.
 *   out_err       out, optional: failure details.
 * Returns WP_OK; WP_EINVAL if home_or_null is "" or out is NULL or out_len
 * is 0; WP_ENOTFOUND if nothing in the environment names a directory
 * (neither WIPEER_HOME, XDG_STATE_HOME nor HOME is set); WP_ETOOBIG if the
 * path does not fit in out_len bytes.
 * Reads the environment (getenv): not safe against concurrent setenv().
 */
WP_API WP_NODISCARD wp_status wp_home_resolve(const char *home_or_null, char *out, size_t out_len,
                                              wp_error *out_err);

/** A loaded device identity (private key, public key, fingerprint, home). */
typedef struct wp_identity wp_identity;

/**
 * Load this device's identity from the home directory, creating it on first
 * use when flags has WP_IDENTITY_CREATE. Blocks on file I/O (and on key
 * derivation when the key is encrypted).
 *   home_or_null        in: home directory, or NULL (see wp_home_resolve).
 *   passphrase_or_null  in: passphrase of an encrypted key file; when the
 *                       identity is created, a non-empty passphrase encrypts
 *                       the new file (PKCS#8, scrypt + AES-256-CBC). NULL or
 *                       "" means none. Ignored for an unencrypted file.
 *   flags               WP_IDENTITY_CREATE or 0.
 *   out                 out: the new handle, free with wp_identity_free.
 *   out_created         out, optional: true if this call created the key.
 *   out_err             out, optional: failure details (path, mode, ...).
 * Returns WP_OK;
 *   WP_EINVAL       out is NULL, home is "" or flags has unknown bits;
 *   WP_ENOTFOUND    no identity (or no home directory) and no
 *                   WP_IDENTITY_CREATE, or no home could be resolved;
 *   WP_ECORRUPT     the key file exists but is not a valid P-256 PKCS#8
 *                   key (empty, truncated, garbage); it is left untouched;
 *   WP_EPERM        the directory or key file is a symlink, not owned by
 *                   the effective user or has group/other permission bits;
 *   WP_EPASSPHRASE  the key file is encrypted and the passphrase is
 *                   missing or wrong;
 *   WP_EIO          reading, writing or syncing storage failed (when only
 *                   the final directory sync fails, the new key file exists
 *                   and is complete; it is kept, since another process may
 *                   already have loaded it);
 *   WP_ETOOBIG      the home path is too long;
 *   WP_ESYS, WP_ENOMEM, WP_ECRYPTO  other local failures.
 * Thread-safe (no shared state); safe against other processes opening the
 * same home concurrently.
 */
WP_API WP_NODISCARD wp_status wp_identity_open(const char *home_or_null,
                                               const char *passphrase_or_null, unsigned flags,
                                               wp_identity **out, bool *out_created,
                                               wp_error *out_err);

/** Free an identity, wiping its private key. NULL is a no-op. */
WP_API void wp_identity_free(wp_identity *id);

/** Copy the identity's public key (65-byte uncompressed point) into *out. */
WP_API void wp_identity_pubkey(const wp_identity *id, wp_pubkey *out);

/** Copy the identity's fingerprint into *out. */
WP_API void wp_identity_fingerprint(const wp_identity *id, wp_fingerprint *out);

/**
 * The resolved home directory of the identity. The string is owned by id
 * and valid until wp_identity_free(id).
 */
WP_API const char *wp_identity_home(const wp_identity *id);

/* ------------------------------------------------------------------ */
/* Fingerprints                                                       */
/*
 * A fingerprint is SHA-256 of the 65-byte public point. It has one
 * canonical text form, upper-case hex in groups of 4 joined by '-':
 *   short: the first 16 hex digits  "698B-EA63-DC44-A344"
 *   long:  all 64 hex digits        "698B-EA63-...-C5BE" (79 characters)
 * Parsing is lenient: upper or lower case, with or without '-', ':' or ' '
 * anywhere. Decoding does not branch on the digits and comparisons are
 * constant-time.
 */

/** Number of bytes a short fingerprint fixes (16 hex digits). */
#define WP_FINGERPRINT_SHORT_LEN 8

/**
 * Compute the fingerprint (SHA-256) of a public key.
 * Returns WP_OK, WP_EINVAL (NULL argument) or WP_ECRYPTO. Thread-safe.
 */
WP_API WP_NODISCARD wp_status wp_fingerprint_of(const wp_pubkey *pk, wp_fingerprint *out);

/** Format the short form (first 16 hex digits, 4 groups). Thread-safe. */
WP_API void wp_fingerprint_format_short(const wp_fingerprint *fp,
                                        char out[WP_FINGERPRINT_SHORT_STR]);

/** Format the long form (64 hex digits, 16 groups). Thread-safe. */
WP_API void wp_fingerprint_format_long(const wp_fingerprint *fp,
                                       char out[WP_FINGERPRINT_LONG_STR]);

/**
 * Parse a short or long fingerprint text.
 *   text       in: 16 or 64 hex digits, any case, separators '-', ':', ' '
 *              optional anywhere; at most 256 characters.
 *   out        out: the decoded bytes; for a short text only the first
 *              WP_FINGERPRINT_SHORT_LEN bytes are set, the rest are zero.
 *   out_len    out: WP_FINGERPRINT_SHORT_LEN or WP_FINGERPRINT_LEN, the
 *              number of bytes the text fixes.
 * Returns WP_OK, or WP_EINVAL for NULL arguments, another character, or
 * another number of digits (out is then zeroed). Thread-safe.
 */
WP_API WP_NODISCARD wp_status wp_fingerprint_parse(const char *text, wp_fingerprint *out,
                                                   size_t *out_len);

/**
 * True if text (as accepted by wp_fingerprint_parse) names fp: a short text
 * must equal fp's first 8 bytes, a long one all 32. Invalid text, or NULL,
 * is false. Constant-time in the compared bytes. Thread-safe.
 */
WP_API bool wp_fingerprint_matches(const wp_fingerprint *fp, const char *text);

/** Constant-time equality of two fingerprints. Thread-safe. */
WP_API bool wp_fingerprint_equal(const wp_fingerprint *a, const wp_fingerprint *b);

/* @@RUNTIME@@ (contexts, connections, events; see issue 4) */

/* @@DISCOVERY@@ (mDNS/DNS-SD; see issue 5) */

#ifdef __cplusplus
}
#endif
#endif /* WIPEER_H */

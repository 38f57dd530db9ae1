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
    WP_EIDENTITY = 308, /**< the peer's identity differs from the one expected */
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

/* @@IDENTITY@@ (device identity API; see issue 2) */

/* @@RUNTIME@@ (contexts, connections, events; see issue 4) */

/* @@DISCOVERY@@ (mDNS/DNS-SD; see issue 5) */

#ifdef __cplusplus
}
#endif
#endif /* WIPEER_H */

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

/* ------------------------------------------------------------------ */
/* Runtime: contexts, connections, events (issue 4)                   */
/*
 * A wp_ctx runs one event loop that owns every connection and listener of
 * the context (an actor): sockets, timers and the protocol engines are only
 * touched by the loop. Public calls are thread-safe: from another thread they
 * lock the context briefly, enqueue a command and wake the loop (eventfd);
 * from the loop thread (inside a callback) most act directly. Results and
 * everything the peer does arrive as events through one callback, always on
 * the loop thread, never nested inside another public call.
 *
 * Run the loop either on a thread of ours (wp_ctx_start/wp_ctx_stop) or in
 * your own loop: poll wp_ctx_fd() for reading, wait at most
 * wp_ctx_timeout_ms(), then call wp_ctx_process().
 *
 * Life of a connection (wp_connect, or accepted by a wp_listen listener):
 *   WP_EV_CONNECTED -> WP_EV_PEER_IDENTITY (you decide trust)
 *   -> WP_EV_AUTHENTICATED -> WP_EV_MESSAGE* / WP_EV_WRITABLE*
 *   [-> WP_EV_PEER_CLOSED] -> WP_EV_CLOSED (always last, exactly once).
 * A connection that fails before TCP connects reports only WP_EV_CLOSED.
 * Messages arrive whole, in order, exactly once, or the connection reports
 * why not in WP_EV_CLOSED.
 *
 * A wp_conn handle is valid from wp_connect (or its WP_EV_CONNECTED event)
 * until the WP_EV_CLOSED callback returns; the context frees it then,
 * unless the application holds references. With references a handle
 * outlives the connection: it stays valid until the last one is released
 * (wp_conn_release), and answers every call with the state it ended in
 * (wp_conn_send returns why it ended, wp_conn_peer and wp_conn_last_error
 * still report). So a thread that uses a connection should own a
 * reference for as long as it may touch the handle:
 *  - take one with wp_conn_retain where the handle is surely valid: in a
 *    callback of that connection (WP_EV_CONNECTED, say), or from a thread
 *    that already owns one;
 *  - or set wp_conn_opts.is_retained: wp_connect then returns the handle
 *    with a reference already taken (no race with a connection that fails
 *    at once), and a listener's accepted connections each arrive with one;
 *  - release each reference exactly once, from any thread (in the
 *    WP_EV_CLOSED callback is fine). Using a handle after your last
 *    release is undefined.
 * Without references, only use a handle from the loop thread, or guard it
 * with your own lock that the WP_EV_CLOSED callback also takes (the
 * library never holds its lock while calling you, so this cannot
 * deadlock). Every handle, referenced or not, is gone after wp_ctx_free.
 * wp_conn_set_user gives an accepted connection its own user pointer
 * (they start with the listener's). A wp_listener handle is valid until
 * wp_listener_close or wp_ctx_free.
 *
 * Sending: a message sent on the loop thread (from a callback) is sealed
 * at once from your buffer; from another thread it is copied into the
 * context's command queue. Either way at most send_queue_max bytes wait
 * per connection, queued or sealed but not yet taken by the socket, each
 * message counting WP_SEND_MSG_COST more than its length (WP_EFULL
 * beyond); the one exception is a single message bigger than that, taken
 * when nothing waits. Receiving: messages are delivered
 * synchronously; a slow callback stops the loop reading, and TCP flow
 * control slows the sender down, so nothing piles up without bound.
 * A connection's buffers grow with the largest message it moves and are
 * given back once it has been idle for 1-2 s (a busy connection keeps them:
 * no allocation per message).
 */

/** A context: one event loop, its connections and listeners. */
typedef struct wp_ctx wp_ctx;
/** One wipeer connection (outgoing or accepted). Owned by its ctx. */
typedef struct wp_conn wp_conn;
/** A listening TCP socket accepting wipeer connections. Owned by its ctx. */
typedef struct wp_listener wp_listener;

typedef enum wp_event_type {
    /** TCP is connected (outgoing) or accepted (incoming); the handshake starts. */
    WP_EV_CONNECTED = 1,
    /**
     * The peer proved possession of the identity key ev->peer (fingerprint
     * ev->peer_fingerprint). Decide whether to trust it by returning
     * WP_TRUST_ACCEPT or WP_TRUST_REJECT from the callback, or return
     * WP_TRUST_DEFER and call wp_conn_trust() later (from any thread; the
     * handshake timeout still runs). Not delivered when
     * wp_conn_opts.has_expected_peer is set: the runtime decides.
     */
    WP_EV_PEER_IDENTITY = 2,
    /** The handshake completed: ev->peer is authenticated; messages flow. */
    WP_EV_AUTHENTICATED = 3,
    /** One whole message: ev->data/ev->len, borrowed, valid during the callback. */
    WP_EV_MESSAGE = 4,
    /**
     * The send queue has room again after a wp_conn_send returned WP_EFULL:
     * the largest message refused since the last WP_EV_WRITABLE fits now
     * (and the queue is at most half full; a message bigger than the whole
     * queue fits once it is empty).
     */
    WP_EV_WRITABLE = 5,
    /**
     * The peer sent its authenticated close: it will send nothing more. You
     * may still send; call wp_conn_close() when done (WP_EV_CLOSED follows).
     */
    WP_EV_PEER_CLOSED = 6,
    /**
     * The connection is over: ev->reason is WP_OK after an authenticated
     * close in both directions, else why it ended (e.g. WP_ETRUNCATED: TCP
     * ended without an authenticated close; WP_EREFUSED: refused or reset,
     * which is also how the peer's wp_conn_abort arrives; WP_EINTEGRITY: a
     * record failed authentication; WP_ETIMEDOUT; WP_EDENIED; WP_EIDENTITY;
     * WP_ENOTWIPEER; WP_ECLOSED: we called wp_conn_abort, or the peer sent
     * an abort alert, docs/PROTOCOL.md §6.3). ev->detail
     * says more. The handle is freed when the callback returns, unless
     * the application holds references (wp_conn_retain).
     */
    WP_EV_CLOSED = 7,
    /**
     * A listener stopped accepting for good: the loop could not watch its
     * socket (registering it, or resuming it after a pause, failed). The
     * only event without a connection: ev->conn is NULL, ev->listener names
     * the listener, ev->conn_user is its wp_conn_opts.user, ev->reason
     * (WP_ENOMEM, WP_ESYS) and ev->detail say why. Connections it accepted
     * are not affected. The handle stays valid: release it with
     * wp_listener_close (then listen again if you wish).
     */
    WP_EV_LISTENER_FAILED = 8,
} wp_event_type;

/** Return values of the callback for WP_EV_PEER_IDENTITY (ignored otherwise). */
#define WP_TRUST_REJECT 0 /**< fail the connection with WP_EDENIED */
#define WP_TRUST_ACCEPT 1 /**< complete the handshake */
#define WP_TRUST_DEFER 2  /**< decide later with wp_conn_trust() */

/** One event. Everything in it is borrowed and valid during the callback only. */
typedef struct wp_event {
    wp_event_type type;
    wp_conn *conn;         /**< the connection (every event but WP_EV_LISTENER_FAILED: NULL) */
    wp_listener *listener; /**< the listener that accepted conn, or NULL (outgoing);
                                compare only, it may have been closed since */
    void *conn_user;       /**< wp_conn_opts.user of the connection (or its listener) */
    const uint8_t *data;   /**< MESSAGE: the message bytes */
    size_t len;            /**< MESSAGE: its length (0 is a valid message) */
    wp_pubkey peer;        /**< PEER_IDENTITY, AUTHENTICATED, MESSAGE.., CLOSED once known */
    wp_fingerprint peer_fingerprint; /**< SHA-256 of peer */
    bool has_peer;         /**< peer/peer_fingerprint are set */
    wp_status reason;      /**< CLOSED, LISTENER_FAILED: why (WP_OK: clean close) */
    const char *detail;    /**< CLOSED, LISTENER_FAILED: human-readable detail, never NULL
                                ("" if none) */
} wp_event;

/**
 * The event callback. Runs on the loop thread; must not block for long (it
 * stalls every connection of the ctx) and must not call wp_ctx_free or
 * wp_ctx_stop on its own ctx. It may call any other API function. The
 * return value matters only for WP_EV_PEER_IDENTITY (WP_TRUST_*); a
 * callback that returns 0 for everything rejects every peer.
 */
typedef int (*wp_event_fn)(const wp_event *ev, void *user);

/** Which OS readiness API the loop uses. */
typedef enum wp_loop_backend {
    WP_LOOP_DEFAULT = 0, /**< epoll on Linux */
    WP_LOOP_EPOLL = 1,   /**< one aggregate pollable fd (wp_ctx_fd) */
    WP_LOOP_POLL = 2,    /**< poll(2): portable; no aggregate fd (wp_ctx_fd is -1),
                              so use it with wp_ctx_start */
} wp_loop_backend;

/** Context settings. Initialise with wp_ctx_config_init, then set fields. */
typedef struct wp_ctx_config {
    /**
     * Our device identity. Required. Borrowed: the application keeps
     * ownership and must free it only after wp_ctx_free; the context only
     * reads it (signing from the loop thread).
     */
    const wp_identity *identity;
    wp_event_fn on_event; /**< required */
    void *user;           /**< passed to on_event */
    wp_loop_backend backend;
} wp_ctx_config;

/** Per-connection options (wp_connect; wp_listen applies them to each accepted
 *  connection). Initialise with wp_conn_opts_init, then set fields. */
typedef struct wp_conn_opts {
    /** If set, only this identity is accepted (WP_EIDENTITY otherwise) and
     *  WP_EV_PEER_IDENTITY is not delivered. */
    bool has_expected_peer;
    wp_fingerprint expected_peer;
    uint32_t connect_timeout_ms;   /**< TCP connect incl. name resolution; default 10000 */
    uint32_t handshake_timeout_ms; /**< from TCP connect to authenticated; default 10000 */
    uint32_t idle_timeout_ms;      /**< close after this long with nothing received; 0 = never */
    /** TCP keepalive: first probe after keepalive_idle_s idle seconds (default 60),
     *  then every 10 s, dead after 3 unanswered; keepalive_idle_s = UINT32_MAX disables. */
    uint32_t keepalive_idle_s;
    /** Largest message we accept from the peer (announced in the handshake);
     *  0 = WP_MESSAGE_MAX_DEFAULT, at most WP_MESSAGE_MAX_LIMIT. What we may
     *  send is the smaller of this and the peer's own limit. */
    uint32_t max_message;
    uint32_t send_queue_max; /**< bytes queued but not yet on the socket before
                                  wp_conn_send says WP_EFULL; 0 = 256 KiB. Each
                                  message counts its length plus
                                  WP_SEND_MSG_COST (so empty messages fill
                                  the queue too). A message that fits the
                                  limit is always taken into an empty queue. */
    void *user;              /**< delivered as wp_event.conn_user (see wp_conn_set_user) */
    /** Each connection made with these options starts with one reference
     *  owned by the application (see "Runtime" above): wp_connect returns
     *  it so, and a listener's connections arrive so at WP_EV_CONNECTED.
     *  Release it with wp_conn_release. */
    bool is_retained;
    /** wp_listen: most accepted connections in the handshake at once; 0 =
     *  64. At the limit the listener stops accepting (newcomers wait in the
     *  kernel's backlog) until a handshake finishes, or until the oldest
     *  has run for a second: the next newcomer then displaces it
     *  (WP_EV_CLOSED with WP_ETIMEDOUT, its socket reset). So peers that
     *  connect and stall can neither use up the descriptors nor keep
     *  others out for long. */
    uint32_t max_pending;
} wp_conn_opts;

/** Default message limit: 1 MiB frames less the 17-byte record overhead. */
#define WP_MESSAGE_MAX_DEFAULT ((1u << 20) - 17)
/** The smallest message limit a peer may announce: 4096-byte frames less the
 *  record overhead (docs/PROTOCOL.md §3). A smaller max_message still
 *  announces this, but what we send stays within max_message. */
#define WP_MESSAGE_MAX_MIN 4079u
/** The largest max_message (16 MiB frames, docs/PROTOCOL.md §3). */
#define WP_MESSAGE_MAX_LIMIT ((1u << 24) - 17)
/** What one queued message costs in send_queue_max besides its bytes (its
 *  bookkeeping, or its record header once sealed). */
#define WP_SEND_MSG_COST 64u
/** Longest text of wp_conn_remote_address, e.g. "[ffff:...:ffff]:65535" or
 *  "[fe80::1%eth0]:65535". */
#define WP_ADDRESS_STR 64

/** Fill cfg with defaults (all zero / NULL, backend WP_LOOP_DEFAULT). */
WP_API void wp_ctx_config_init(wp_ctx_config *cfg);
/** Fill opts with defaults (zero = library default for every field). */
WP_API void wp_conn_opts_init(wp_conn_opts *opts);

/**
 * Create a context. cfg is copied (cfg->identity is borrowed, see above).
 * The loop does not run until wp_ctx_start or wp_ctx_process.
 * Returns WP_OK; WP_EINVAL (no identity or callback); WP_ENOMEM; WP_ESYS
 * (epoll/eventfd creation failed). out_err (optional) gets the detail.
 */
WP_API WP_NODISCARD wp_status wp_ctx_new(const wp_ctx_config *cfg, wp_ctx **out,
                                         wp_error *out_err);
/**
 * Stop the loop thread if running, abort every connection (no callbacks),
 * close listeners, wait for pending name resolutions (up to the resolver's
 * own timeout) and free the context and every handle it owns. NULL is a
 * no-op. Not from a callback of this ctx, and no other thread may use the
 * ctx or its handles during or after the call.
 *
 * After a connection fails, its socket lingers for up to 2 s so that the
 * peer reads our alert (FIN after it, the peer's remaining data discarded)
 * instead of a reset. wp_ctx_free cuts that short; a program about to exit
 * can first run the loop until wp_ctx_timeout_ms() returns -1.
 */
WP_API void wp_ctx_free(wp_ctx *ctx);

/**
 * Run the loop on a new thread. WP_ESTATE if already running or if
 * wp_ctx_process is in use; WP_ESYS if the thread cannot be created.
 */
WP_API WP_NODISCARD wp_status wp_ctx_start(wp_ctx *ctx);
/**
 * Stop the loop thread: wake it, let it finish its current iteration and
 * join it (never pthread_cancel). Connections stay open (nothing is
 * processed until the next start or process). WP_ESTATE if not running,
 * when another wp_ctx_stop is already stopping it (only one call joins
 * the thread; the other returns at once, possibly before it has ended),
 * or when called from the loop thread (a callback).
 */
WP_API WP_NODISCARD wp_status wp_ctx_stop(wp_ctx *ctx);

/**
 * Your loop: a single fd that becomes readable when wp_ctx_process has work
 * (a socket, a timer or a command from another thread). Epoll backend only;
 * -1 with WP_LOOP_POLL. Thread-safe.
 */
WP_API int wp_ctx_fd(const wp_ctx *ctx);
/**
 * Your loop: how long you may wait before calling wp_ctx_process, in ms:
 * -1 no deadline, 0 call now. Call from the thread that calls process.
 */
WP_API int wp_ctx_timeout_ms(const wp_ctx *ctx);
/**
 * Your loop: do all ready work without blocking: commands from other
 * threads, socket I/O, timers; callbacks run inside this call. WP_OK;
 * WP_ESTATE when the loop thread runs (wp_ctx_start), or when re-entered
 * (from a callback or two threads at once); WP_ESYS if waiting failed.
 */
WP_API WP_NODISCARD wp_status wp_ctx_process(wp_ctx *ctx);

/**
 * Listen for wipeer connections on addr:port. addr NULL or "" means every
 * address (IPv6 "::" accepting IPv4 too, or 0.0.0.0 where IPv6 is off);
 * otherwise a numeric IPv4/IPv6 address, a link-local IPv6 one with its
 * interface ("fe80::1%eth0"). port 0 picks a free port (see
 * wp_listener_port). The socket is bound before returning, so address
 * errors come back here: WP_ESYS (e.g. EADDRINUSE, errno in out_err),
 * WP_EINVAL (bad address); WP_ENOMEM. opts (optional, copied) apply to each
 * accepted connection. Each accepted connection starts with WP_EV_CONNECTED
 * whose ev->listener is *out. Thread-safe.
 * When the process runs out of file descriptors (EMFILE, ENFILE) or socket
 * memory, the listener pauses accepting for 100 ms at a time (connections
 * wait in the kernel's backlog) rather than spinning, and resumes by itself;
 * this is not reported. A listener the loop cannot watch at all reports
 * WP_EV_LISTENER_FAILED instead of going silently deaf.
 */
WP_API WP_NODISCARD wp_status wp_listen(wp_ctx *ctx, const char *addr, uint16_t port,
                                        const wp_conn_opts *opts, wp_listener **out,
                                        wp_error *out_err);
/** The bound port (useful after port 0). Thread-safe. */
WP_API uint16_t wp_listener_port(const wp_listener *l);
/**
 * Stop accepting and free the listener (on the loop). Accepted connections
 * are not affected. The handle is invalid after this call. NULL is a no-op.
 * Thread-safe.
 */
WP_API void wp_listener_close(wp_listener *l);

/**
 * Connect to host:port. host is an IPv4/IPv6 literal (link-local with its
 * interface: "fe80::1%eth0", brackets optional) or a name resolved
 * with getaddrinfo on a helper thread (the loop never blocks). The
 * addresses are tried in getaddrinfo's order (RFC 6724), as in RFC 8305
 * (Happy Eyeballs): the next one 250 ms after the previous if that has not
 * connected yet, or at once when it fails, up to 4 at a time; the first to
 * connect wins, all within opts->connect_timeout_ms. Returns at once with
 * *out set; the outcome arrives as events (WP_EV_CONNECTED ... or
 * WP_EV_CLOSED with WP_EREFUSED, WP_ETIMEDOUT, WP_ENOTFOUND for unknown
 * names). Messages sent before authentication (up to WP_MESSAGE_MAX_MIN
 * bytes each, see wp_conn_send) are queued and sent after.
 * WP_EINVAL (NULL host, port 0), WP_ENOMEM, WP_ESYS (thread creation).
 * opts optional, copied. Thread-safe.
 */
WP_API WP_NODISCARD wp_status wp_connect(wp_ctx *ctx, const char *host, uint16_t port,
                                         const wp_conn_opts *opts, wp_conn **out,
                                         wp_error *out_err);

/**
 * Queue one message (copied; 0..wp_conn_max_message bytes) for the peer. It
 * is sent once the handshake completes, in order, and arrives whole. Before
 * WP_EV_AUTHENTICATED the peer's limit is not known yet, so only messages of
 * up to WP_MESSAGE_MAX_MIN bytes are taken; send bigger ones from
 * WP_EV_AUTHENTICATED on. Returns WP_OK;
 * WP_EFULL when the bounded send queue has no room (nothing queued; a
 * WP_EV_WRITABLE event follows once the message fits); WP_ETOOBIG;
 * WP_ESTATE after wp_conn_close; after the connection ended, the sticky
 * reason it ended with (or WP_ECLOSED after a clean close). Thread-safe.
 */
WP_API WP_NODISCARD wp_status wp_conn_send(wp_conn *conn, const void *data, size_t len);
/**
 * Authenticated close of our direction (half-close): queued messages are
 * sent first, then the close; later sends fail with WP_ESTATE. Every send
 * that returned WP_OK before this call, on any thread, is delivered before
 * the close (the close is queued behind them, also from a callback). Receiving
 * continues until the peer closes too, then WP_EV_CLOSED with WP_OK. Once
 * both authenticated closes went through, TCP's FIN is sent and the peer's
 * awaited, so that a peer failing on our last records can still say so:
 * WP_EV_CLOSED comes with the peer's FIN, or with WP_OK after 5 s if the
 * peer keeps TCP open.
 * WP_OK, or the sticky status if the connection already ended. Thread-safe.
 */
WP_API WP_NODISCARD wp_status wp_conn_close(wp_conn *conn);
/**
 * End the connection now: queued data is dropped, the socket is reset.
 * WP_EV_CLOSED follows with WP_ECLOSED ("aborted"); the peer sees a TCP
 * reset, WP_EREFUSED ("connection reset by peer"), which a network
 * failure can cause too. No-op on a connection that already ended.
 * Thread-safe.
 */
WP_API void wp_conn_abort(wp_conn *conn);
/**
 * Answer a deferred WP_EV_PEER_IDENTITY (the callback returned
 * WP_TRUST_DEFER). The answer may also come while that callback still runs
 * (e.g. from a thread it handed the key to, or from the callback itself):
 * it is kept and applied if the callback then returns WP_TRUST_DEFER, and
 * ignored if it returns WP_TRUST_ACCEPT or WP_TRUST_REJECT (the return
 * value decides). Only the first answer counts. WP_OK; WP_ESTATE if no
 * decision is pending (none asked, already answered, or the connection
 * ended). Thread-safe.
 */
WP_API WP_NODISCARD wp_status wp_conn_trust(wp_conn *conn, bool accept);
/**
 * The peer's identity, once known (from WP_EV_PEER_IDENTITY on). Either
 * output may be NULL. WP_OK; WP_ESTATE before the peer is known. Thread-safe.
 */
WP_API WP_NODISCARD wp_status wp_conn_peer(const wp_conn *conn, wp_pubkey *out_key,
                                           wp_fingerprint *out_fp);
/** A copy of the connection's last error (WP_OK while healthy). Thread-safe. */
WP_API void wp_conn_last_error(const wp_conn *conn, wp_error *out_err);
/**
 * The peer's address as "1.2.3.4:port", "[::1]:port" or, link-local with
 * its interface, "[fe80::1%eth0]:port" into buf (NUL-terminated,
 * truncated to buf_len; WP_ADDRESS_STR suffices); "" before TCP connects.
 * Thread-safe.
 */
WP_API void wp_conn_remote_address(const wp_conn *conn, char *buf, size_t buf_len);
/**
 * Take a reference on conn: the handle stays valid, also after
 * WP_EV_CLOSED, until a matching wp_conn_release. Call it only while the
 * handle is valid for you (see "Runtime" above). Thread-safe.
 */
WP_API void wp_conn_retain(wp_conn *conn);
/**
 * Give back one reference taken with wp_conn_retain or opts.is_retained.
 * After the last one, and once WP_EV_CLOSED has been delivered, the
 * context frees the handle (on its loop, soon after). A release without a
 * reference to give back is ignored (and asserts in debug builds).
 * Thread-safe; also from a callback.
 */
WP_API void wp_conn_release(wp_conn *conn);
/**
 * Set the pointer that this connection's events carry as ev->conn_user
 * from now on (it starts as wp_conn_opts.user, for accepted connections
 * their listener's). Events already being delivered on the loop thread
 * may still carry the old value. Thread-safe.
 */
WP_API void wp_conn_set_user(wp_conn *conn, void *user);
/** The connection's current user pointer (see wp_conn_set_user). Thread-safe. */
WP_API void *wp_conn_user(const wp_conn *conn);
/**
 * The largest message wp_conn_send accepts on this connection: before
 * WP_EV_AUTHENTICATED the smaller of max_message and WP_MESSAGE_MAX_MIN
 * (what any peer takes), from it on the smaller of max_message and the
 * peer's announced limit. Thread-safe.
 */
WP_API size_t wp_conn_max_message(const wp_conn *conn);

/* ------------------------------------------------------------------ */
/* Discovery: mDNS / DNS-SD (issue 5)                                 */
/*
 * Devices find each other on the local network with no server: a context
 * advertises its listener as an instance of the DNS-SD service type
 * "_wipeerkit._tcp" in the domain "local" (RFC 6762, RFC 6763) and browses
 * for the instances of other devices. Nothing is sent or joined on any
 * network until the application calls wp_advertise, wp_browse, wp_resolve
 * or wp_connect_discovered: a new context does no discovery.
 *
 * Backends (wp_discovery_config.backend):
 *  - WP_DISCOVERY_BUILTIN: wipeer's own responder and browser, on UDP port
 *    5353 (shared with other responders through SO_REUSEPORT), on every
 *    multicast-capable interface that is up (loopback excluded) or on the
 *    interfaces named in the configuration; interfaces that appear, change
 *    or go away are followed. Needs no daemon (embedded devices).
 *  - WP_DISCOVERY_AVAHI: registration and browsing through a running
 *    avahi-daemon (D-Bus), which then owns mDNS on the machine. The daemon
 *    chooses the interfaces: an interface list is refused (WP_EINVAL).
 *  - WP_DISCOVERY_AUTO (default): Avahi when its daemon answers on the
 *    D-Bus system bus and no interface list is given, else built-in. If the
 *    daemon goes away later, discovery moves to the built-in backend and
 *    advertises again.
 *
 * What is published: an SRV record (host name, port), the host's A/AAAA
 * records (built-in backend; Avahi publishes its own) and a TXT record with
 * "v=1" (the protocol version), "fp=<short fingerprint>" of the context's
 * identity (omitted when is_private is set) and the application's keys.
 *
 * Events arrive through the wp_discovery_fn given to each call, on the loop
 * thread, like connection events: never inside another public call, and a
 * callback may call any API function except wp_ctx_free/wp_ctx_stop on its
 * own ctx. Handles (wp_advert, wp_browser) belong to the ctx: valid until
 * their _stop call or wp_ctx_free. Every call here is thread-safe.
 *
 * A fingerprint published in TXT is a hint that anyone on the LAN can
 * forge: it selects the service to connect to, and wp_connect_discovered
 * then requires the handshake to prove that identity (WP_EIDENTITY
 * otherwise). Instance names are not authenticated either.
 */

/** How discovery talks to the network. */
typedef enum wp_discovery_backend {
    WP_DISCOVERY_AUTO = 0,    /**< Avahi if its daemon is reachable, else built-in */
    WP_DISCOVERY_BUILTIN = 1, /**< wipeer's own mDNS responder and browser */
    WP_DISCOVERY_AVAHI = 2,   /**< through avahi-daemon (WP_EUNSUPPORTED if not built in) */
} wp_discovery_backend;

/** Longest instance name: 63 bytes of UTF-8 (one DNS label), plus NUL. */
#define WP_SERVICE_NAME_MAX 64
/** Longest host name in wp_service.host, NUL included. */
#define WP_SERVICE_HOST_MAX 256
/** Most interfaces in wp_discovery_config.ifaces. */
#define WP_DISCOVERY_MAX_IFACES 16
/** Most addresses reported per service. */
#define WP_SERVICE_MAX_ADDRS 16
/** Longest interface name (IFNAMSIZ), NUL included. */
#define WP_IFNAME_MAX 16
/** Largest TXT record (all strings with their length bytes). */
#define WP_TXT_MAX 1300

/** Discovery settings. Initialise with wp_discovery_config_init. */
typedef struct wp_discovery_config {
    wp_discovery_backend backend;
    /** Interface names ("eth0", "wlan0", "lo"...), copied; NULL/0: every
     *  multicast-capable interface that is up, loopback excluded. Built-in
     *  backend only. On "lo" Linux delivers IPv4 multicast but not IPv6:
     *  when every named interface is loopback, IPv6 is left out. */
    const char *const *ifaces;
    size_t n_ifaces;
    bool no_ipv4; /**< built-in: no IPv4 (224.0.0.251); both: no IPv4 addresses reported */
    bool no_ipv6; /**< built-in: no IPv6 (ff02::fb); both: no IPv6 addresses reported */
    /** Privacy: do not publish "fp" (the short fingerprint) in TXT records.
     *  Peers then find the device by name only. */
    bool is_private;
    /** Built-in backend: the host label published as "<label>.local"
     *  (1..63 letters, digits, '-'), copied. NULL: this machine's host
     *  name, reduced to those characters. Renamed "<label>-2"... on a
     *  conflict. Avahi publishes its own host name. */
    const char *host_name;
} wp_discovery_config;

/** Fill cfg with defaults: WP_DISCOVERY_AUTO, all interfaces, IPv4 and IPv6, fp published. */
WP_API void wp_discovery_config_init(wp_discovery_config *cfg);

/**
 * Set how this context discovers (cfg copied). Call before the first
 * wp_advertise/wp_browse/wp_resolve/wp_connect_discovered, which start
 * discovery with the defaults if this was never called.
 * Returns WP_OK; WP_EINVAL (bad backend, interface name, host name, more
 * than WP_DISCOVERY_MAX_IFACES interfaces, both families off, or an
 * interface list with WP_DISCOVERY_AVAHI); WP_EUNSUPPORTED
 * (WP_DISCOVERY_AVAHI in a build without Avahi); WP_ESTATE (discovery
 * already started); WP_ENOMEM. out_err (optional) gets the detail.
 * Thread-safe.
 */
WP_API WP_NODISCARD wp_status wp_discovery_configure(wp_ctx *ctx, const wp_discovery_config *cfg,
                                                     wp_error *out_err);

/**
 * The backend discovery runs on: WP_DISCOVERY_BUILTIN or WP_DISCOVERY_AVAHI
 * once started, WP_DISCOVERY_AUTO before (the choice is made on the loop
 * when the first discovery call is executed). Thread-safe.
 */
WP_API wp_discovery_backend wp_discovery_backend_used(const wp_ctx *ctx);

/** One TXT attribute: "key=value", or a bare "key" when has_value is false. */
typedef struct wp_txt_entry {
    const char *key;      /**< printable US-ASCII except '=', 1..255 bytes */
    const uint8_t *value; /**< any bytes; in events also NUL-terminated */
    size_t value_len;
    bool has_value;
} wp_txt_entry;

/** One address of a discovered service. */
typedef struct wp_service_addr {
    int family;               /**< 4 or 6 */
    uint8_t bytes[16];        /**< network order; IPv4 in the first 4 */
    uint32_t ifindex;         /**< interface it was seen on (scope of fe80::/10) */
    char ifname[WP_IFNAME_MAX]; /**< its name, "" if unknown */
    char text[WP_ADDRESS_STR];  /**< "192.0.2.1", "2001:db8::1" or "fe80::1%eth0" */
} wp_service_addr;

/** A discovered service. Everything is borrowed, valid during the callback. */
typedef struct wp_service {
    const char *name;          /**< instance name (UTF-8, may hold spaces and dots) */
    const char *host;          /**< SRV target, e.g. "kitchen.local" */
    uint16_t port;             /**< SRV port */
    const wp_service_addr *addrs; /**< IPv4 then IPv6 */
    size_t n_addrs;
    const wp_txt_entry *txt;   /**< every TXT attribute, in record order (v and fp too) */
    size_t n_txt;
    unsigned version;          /**< TXT "v", 0 if absent or not a number */
    /** TXT "fp" in canonical short form ("698B-EA63-DC44-A344"), or NULL when
     *  absent or not a fingerprint. Unauthenticated: a hint. */
    const char *fingerprint;
    /** Speaks a wipeer protocol version we support (TXT v >= 1). A service
     *  with no TXT or an older one (e.g. the original iOS SDK, which
     *  publishes none) is reported with false; connecting to it fails. */
    bool is_connectable;
    bool is_own; /**< advertised by this very context */
} wp_service;

/** An advertisement (wp_advertise). Owned by its ctx. */
typedef struct wp_advert wp_advert;
/** A running browse (wp_browse). Owned by its ctx. */
typedef struct wp_browser wp_browser;

typedef enum wp_discovery_event_type {
    /** ev->advert is published as ev->name (probing done, announced). */
    WP_DISC_ADVERTISED = 1,
    /** ev->advert's name was taken by another device: it is now probing as
     *  ev->name ("Name (2)" built-in, "Name #2" with Avahi). */
    WP_DISC_RENAMED = 2,
    /** ev->browser: ev->service appeared (resolved: SRV, addresses, TXT). */
    WP_DISC_FOUND = 3,
    /** ev->browser: ev->service's host, port, addresses or TXT changed. */
    WP_DISC_UPDATED = 4,
    /** ev->browser: ev->service left (goodbye, expiry); its last known data. */
    WP_DISC_REMOVED = 5,
    /** wp_resolve: ev->service is the match (delivered once). */
    WP_DISC_RESOLVED = 6,
    /**
     * ev->reason and ev->detail say what failed: ev->advert (it is not
     * published; the handle stays valid until wp_advert_stop), ev->browser
     * (it stopped), or a wp_resolve (WP_ENOTFOUND: nothing matched within
     * the timeout), or discovery as a whole (e.g. WP_ESYS: no socket on
     * port 5353; WP_ENOTFOUND: no avahi-daemon with WP_DISCOVERY_AVAHI).
     */
    WP_DISC_FAILED = 7,
} wp_discovery_event_type;

/** One discovery event. Everything is borrowed, valid during the callback. */
typedef struct wp_discovery_event {
    wp_discovery_event_type type;
    wp_advert *advert;          /**< ADVERTISED, RENAMED, FAILED of an advert; else NULL */
    wp_browser *browser;        /**< FOUND, UPDATED, REMOVED, FAILED of a browse; else NULL */
    const char *name;           /**< ADVERTISED, RENAMED: our current name; else the
                                     service's or the target's name, or "" */
    const wp_service *service;  /**< FOUND, UPDATED, REMOVED, RESOLVED; else NULL */
    wp_status reason;           /**< FAILED: why */
    const char *detail;         /**< FAILED: human-readable detail; never NULL */
} wp_discovery_event;

/** Discovery callback: on the loop thread; must not block for long. */
typedef void (*wp_discovery_fn)(const wp_discovery_event *ev, void *user);

/** What to advertise. Initialise with wp_advert_opts_init. */
typedef struct wp_advert_opts {
    /** Instance name, UTF-8, 1..63 bytes (copied). NULL: the host name. */
    const char *name;
    uint16_t port;                /**< the TCP port of our listener; required */
    const wp_txt_entry *txt;      /**< application keys (copied); "v" and "fp" are
                                       wipeer's: WP_EEXIST if given */
    size_t n_txt;
    wp_discovery_fn on_event;     /**< optional */
    void *user;
} wp_advert_opts;

/** Fill opts with defaults (all zero / NULL). */
WP_API void wp_advert_opts_init(wp_advert_opts *opts);

/**
 * Advertise a wipeer service (usually wp_listener_port of a listener) with
 * the context's identity. It is probed, renamed on conflict
 * (WP_DISC_RENAMED), announced (WP_DISC_ADVERTISED) and answered until
 * wp_advert_stop or wp_ctx_free, which send goodbyes (TTL 0) so browsers
 * drop it at once. Returns at once with *out set; the outcome arrives as
 * events. Returns WP_OK; WP_EINVAL (no port, name empty or over 63 bytes,
 * a bad TXT key); WP_EEXIST (a TXT key repeated, or "v"/"fp" given);
 * WP_ETOOBIG (TXT over WP_TXT_MAX or a string over 255 bytes); WP_ENOMEM.
 * Thread-safe.
 */
WP_API WP_NODISCARD wp_status wp_advertise(wp_ctx *ctx, const wp_advert_opts *opts,
                                           wp_advert **out, wp_error *out_err);
/** Withdraw (goodbye packets) and free the advertisement; no more events.
 *  NULL is a no-op. Thread-safe. */
WP_API void wp_advert_stop(wp_advert *a);

/**
 * Browse for wipeer services: WP_DISC_FOUND for each one present (also the
 * ones already known when the call is executed), then UPDATED/REMOVED as
 * they change, until wp_browser_stop. Services of every kind are reported,
 * the ones that cannot be connected to with is_connectable false.
 * Returns WP_OK; WP_EINVAL (no callback); WP_ENOMEM. Thread-safe.
 */
WP_API WP_NODISCARD wp_status wp_browse(wp_ctx *ctx, wp_discovery_fn on_event, void *user,
                                        wp_browser **out, wp_error *out_err);
/** Stop browsing and free the browser; no more events. NULL is a no-op. Thread-safe. */
WP_API void wp_browser_stop(wp_browser *b);

/**
 * Find one service by instance name or by fingerprint. target is a
 * fingerprint when wp_fingerprint_parse accepts it (short or long; matches
 * the TXT "fp" of a service not our own), else an instance name (compared
 * case-insensitively in ASCII). Exactly one event follows: WP_DISC_RESOLVED
 * with the service, or WP_DISC_FAILED (WP_ENOTFOUND when nothing matched
 * within timeout_ms; 0 means 5000). Returns WP_OK; WP_EINVAL (no target or
 * callback, target over 255 bytes); WP_ENOMEM. Thread-safe.
 */
WP_API WP_NODISCARD wp_status wp_resolve(wp_ctx *ctx, const char *target, uint32_t timeout_ms,
                                         wp_discovery_fn on_event, void *user,
                                         wp_error *out_err);

/**
 * Connect to a peer found by discovery: target is an instance name or a
 * fingerprint, as for wp_resolve. Like wp_connect, it returns at once with
 * *out set and the outcome arrives as connection events; discovery and TCP
 * connect share opts->connect_timeout_ms. The service's addresses are
 * tried as in wp_connect (staggered, RFC 8305). When target is a fingerprint, the handshake must prove
 * that identity: the connection behaves as with opts->has_expected_peer
 * (no WP_EV_PEER_IDENTITY; WP_EV_CLOSED with WP_EIDENTITY for another key;
 * a short fingerprint fixes the first 8 bytes). WP_EV_CLOSED reasons added
 * to wp_connect's: WP_ENOTFOUND (no such service within the timeout),
 * WP_ENOTWIPEER (the service publishes no supported TXT "v"), WP_EIDENTITY
 * (it is our own service). Returns WP_OK; WP_EINVAL (NULL, target over 255
 * bytes, or opts->expected_peer contradicting a fingerprint target);
 * WP_EIDENTITY (target is this context's own fingerprint); WP_ENOMEM.
 * Thread-safe.
 */
WP_API WP_NODISCARD wp_status wp_connect_discovered(wp_ctx *ctx, const char *target,
                                                    const wp_conn_opts *opts, wp_conn **out,
                                                    wp_error *out_err);

#ifdef __cplusplus
}
#endif
#endif /* WIPEER_H */

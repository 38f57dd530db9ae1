/*
 * internal.h - included first by every file of libwipeer.
 *
 * Sets the POSIX feature level once, pulls in the public header and the
 * helpers every module uses (status/last-error, memory, bounds).
 */
#ifndef WP_INTERNAL_H
#define WP_INTERNAL_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wipeer.h"
#include "util/err.h"
#include "util/mem.h"

#define WP_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define WP_MIN(a, b) ((a) < (b) ? (a) : (b))
#define WP_MAX(a, b) ((a) > (b) ? (a) : (b))
#define WP_UNUSED(x) ((void)(x))

/* Misuse: WP_EINVAL in release builds, an assert in debug builds. */
#ifdef NDEBUG
#define WP_MISUSE(cond) (cond)
#else
#include <assert.h>
#define WP_MISUSE(cond) ((cond) ? (assert(0 && #cond), true) : false)
#endif

#endif

/*
 * err.h - the last-error record every object that can fail keeps.
 *
 * A wp_err holds the status, a detail string ("frame length 70000 > 65536")
 * and the errno captured at the failure, if any. Global errno is never API.
 */
#ifndef WP_UTIL_ERR_H
#define WP_UTIL_ERR_H

#include <stdarg.h>
#include "wipeer.h"

/* Internally the public wp_error is spelled wp_err. */
typedef wp_error wp_err;

/* Reset to WP_OK with an empty detail. */
void err_clear(wp_err *e);

/*
 * Record a failure and return its code, so callers can write
 *     return err_set(e, WP_EPROTO, "bad type %u", t);
 * e may be NULL (the code is still returned).
 */
wp_status err_set(wp_err *e, wp_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Same, capturing errno (read before any other call clobbers it). */
wp_status err_sys(wp_err *e, int sys_errno, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Copy src into dst (either may be NULL). */
void err_copy(wp_err *dst, const wp_err *src);

#endif

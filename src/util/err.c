#include "internal.h"

#include <errno.h>
#include <stdio.h>

/* see wipeer.h */
const char *wp_version(void)
{
    return WP_VERSION_STRING;
}

struct status_info {
    wp_status code;
    const char *name;
    const char *text;
};

static const struct status_info k_status[] = {
    {WP_OK, "WP_OK", "success"},
    {WP_AGAIN, "WP_AGAIN", "try again later"},
    {WP_EINVAL, "WP_EINVAL", "invalid argument"},
    {WP_ESTATE, "WP_ESTATE", "operation not valid in the current state"},
    {WP_ETOOBIG, "WP_ETOOBIG", "size exceeds a limit"},
    {WP_ENOTFOUND, "WP_ENOTFOUND", "not found"},
    {WP_EEXIST, "WP_EEXIST", "already exists"},
    {WP_EUNSUPPORTED, "WP_EUNSUPPORTED", "not supported"},
    {WP_EPASSPHRASE, "WP_EPASSPHRASE", "passphrase missing or wrong"},
    {WP_EFULL, "WP_EFULL", "queue full; wait for a writable event"},
    {WP_ENOMEM, "WP_ENOMEM", "out of memory"},
    {WP_ESYS, "WP_ESYS", "system call failed"},
    {WP_ECRYPTO, "WP_ECRYPTO", "crypto library failure"},
    {WP_ECORRUPT, "WP_ECORRUPT", "local file corrupt or malformed"},
    {WP_EPERM, "WP_EPERM", "unsafe file permissions"},
    {WP_EIO, "WP_EIO", "local storage I/O failed"},
    {WP_EPROTO, "WP_EPROTO", "protocol violation by peer"},
    {WP_EAUTH, "WP_EAUTH", "authentication failed"},
    {WP_EDENIED, "WP_EDENIED", "peer not trusted or not authorized"},
    {WP_EREPLAY, "WP_EREPLAY", "replayed or reordered record"},
    {WP_ETIMEDOUT, "WP_ETIMEDOUT", "timed out"},
    {WP_ECLOSED, "WP_ECLOSED", "connection closed"},
    {WP_ENOTWIPEER, "WP_ENOTWIPEER", "not a wipeer peer"},
    {WP_EVERSION, "WP_EVERSION", "no common protocol version or cipher suite"},
    {WP_EIDENTITY, "WP_EIDENTITY", "peer identity differs from the one expected"},
    {WP_EINTEGRITY, "WP_EINTEGRITY", "record integrity check failed (tampering)"},
    {WP_ETRUNCATED, "WP_ETRUNCATED", "stream truncated without authenticated close"},
    {WP_EREFUSED, "WP_EREFUSED", "connection refused or reset"},
};

static const struct status_info *lookup(wp_status s)
{
    for (size_t i = 0; i < WP_ARRAY_LEN(k_status); i++) {
        if (k_status[i].code == s)
            return &k_status[i];
    }
    return NULL;
}

/* see wipeer.h */
const char *wp_strerror(wp_status status)
{
    const struct status_info *i = lookup(status);
    return i ? i->text : "unknown status";
}

/* see wipeer.h */
const char *wp_status_name(wp_status status)
{
    const struct status_info *i = lookup(status);
    return i ? i->name : "WP_UNKNOWN";
}

void err_clear(wp_err *e)
{
    if (!e)
        return;
    e->code = WP_OK;
    e->sys_errno = 0;
    e->detail[0] = '\0';
}

__attribute__((format(printf, 4, 0))) static void vset(wp_err *e, wp_status code,
                                                     int sys_errno, const char *fmt,
                                                     va_list ap)
{
    e->code = code;
    e->sys_errno = sys_errno;
    int n = vsnprintf(e->detail, sizeof e->detail, fmt, ap);
    if (n < 0)
        e->detail[0] = '\0';
    if (sys_errno != 0 && n >= 0 && (size_t)n < sizeof e->detail - 2) {
        size_t len = (size_t)n;
        snprintf(e->detail + len, sizeof e->detail - len, ": %s", strerror(sys_errno));
    }
}

wp_status err_set(wp_err *e, wp_status code, const char *fmt, ...)
{
    if (!e)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vset(e, code, 0, fmt, ap);
    va_end(ap);
    return code;
}

wp_status err_sys(wp_err *e, int sys_errno, const char *fmt, ...)
{
    if (!e)
        return WP_ESYS;
    va_list ap;
    va_start(ap, fmt);
    vset(e, WP_ESYS, sys_errno, fmt, ap);
    va_end(ap);
    return WP_ESYS;
}

void err_copy(wp_err *dst, const wp_err *src)
{
    if (dst && src && dst != src)
        memcpy(dst, src, sizeof *dst);
}

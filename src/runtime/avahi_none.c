/*
 * avahi_none.c - the clock of the Avahi backend's loop hooks, and the whole
 * avahi.h API when the build has no Avahi (WP_HAVE_AVAHI undefined): every
 * call then reports WP_EUNSUPPORTED, so callers need no #ifdef.
 */
#include "internal.h"

#include <time.h>

#include "runtime/avahi.h"

/* see avahi.h */
int64_t avb_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#ifndef WP_HAVE_AVAHI

#define NO_AVAHI "built without Avahi (install libavahi-client-dev and rebuild)"

/* see avahi.h */
bool avb_probe(wp_err *err)
{
    err_set(err, WP_EUNSUPPORTED, NO_AVAHI);
    return false;
}

/* see avahi.h */
wp_status avb_new(const struct avb_loop *loop, avb_event_fn cb, void *user, avb **out_b,
                  wp_err *err)
{
    WP_UNUSED(loop);
    WP_UNUSED(cb);
    WP_UNUSED(user);
    if (out_b)
        *out_b = NULL;
    return err_set(err, WP_EUNSUPPORTED, NO_AVAHI);
}

/* see avahi.h */
void avb_free(avb *b)
{
    WP_UNUSED(b);
}

/* see avahi.h */
const wp_err *avb_last_error(const avb *b)
{
    WP_UNUSED(b);
    return NULL;
}

/* see avahi.h */
void avb_watch_ready(avb_watch *w, unsigned revents)
{
    WP_UNUSED(w);
    WP_UNUSED(revents);
}

/* see avahi.h */
void avb_timer_fire(avb_timer *t)
{
    WP_UNUSED(t);
}

/* see avahi.h */
wp_status avb_register(avb *b, const char *name, const char *type, uint16_t port,
                       const struct avb_txt *txt, size_t n_txt, avb_reg **out_reg, wp_err *err)
{
    WP_UNUSED(b);
    WP_UNUSED(name);
    WP_UNUSED(type);
    WP_UNUSED(port);
    WP_UNUSED(txt);
    WP_UNUSED(n_txt);
    if (out_reg)
        *out_reg = NULL;
    return err_set(err, WP_EUNSUPPORTED, NO_AVAHI);
}

/* see avahi.h */
void avb_unregister(avb *b, avb_reg *r)
{
    WP_UNUSED(b);
    WP_UNUSED(r);
}

/* see avahi.h */
const char *avb_reg_name(const avb_reg *r)
{
    WP_UNUSED(r);
    return NULL;
}

/* see avahi.h */
wp_status avb_browse(avb *b, const char *type, avb_browser **out_br, wp_err *err)
{
    WP_UNUSED(b);
    WP_UNUSED(type);
    if (out_br)
        *out_br = NULL;
    return err_set(err, WP_EUNSUPPORTED, NO_AVAHI);
}

/* see avahi.h */
void avb_browse_stop(avb *b, avb_browser *br)
{
    WP_UNUSED(b);
    WP_UNUSED(br);
}

#endif

/*
 * disc_view.h - a discovered service (struct disc_svc) as the application
 * sees it (wp_service): addresses as text with their interface, the TXT
 * record split into NUL-terminated keys and values, the published
 * fingerprint in canonical form. Loop thread.
 */
#ifndef WP_RUNTIME_DISC_VIEW_H
#define WP_RUNTIME_DISC_VIEW_H

#include "runtime/disc.h"

struct disc_view {
    wp_service svc;
    wp_service_addr addrs[WP_SERVICE_MAX_ADDRS];
    char fp[WP_FINGERPRINT_SHORT_STR];
    wp_txt_entry *txt; /* inside this allocation */
    size_t n_txt;
};

/* Build the view of s (NULL when out of memory). Borrowed from s: nothing. */
struct disc_view *disc_view_new(const struct disc *d, const struct disc_svc *s);
void disc_view_free(struct disc_view *v);

#endif

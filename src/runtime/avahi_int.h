/*
 * avahi_int.h - shared by opt_avahi.c (poll glue, client, registration) and
 * opt_avahi_browse.c (browse and resolve). Only built with WP_HAVE_AVAHI.
 *
 * Lifetime rule: objects are never freed while an avb_* call is running,
 * because Avahi callbacks and the user's event callback may remove objects
 * that an outer loop is still walking. Removal frees the Avahi object at
 * once and marks ours `is_gone`; avb_leave() frees gone objects when the
 * outermost call returns (depth 0).
 */
#ifndef WP_RUNTIME_AVAHI_INT_H
#define WP_RUNTIME_AVAHI_INT_H

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-client/publish.h>
#include <avahi-common/strlst.h>

#include "runtime/avahi.h"

struct avb_watch {
    struct avb_watch *next;
    avb *b;
    int fd;
    unsigned revents; /* set only while its callback runs */
    bool is_gone;
    AvahiWatchCallback cb;
    void *cb_user;
};

struct avb_timer {
    struct avb_timer *next;
    avb *b;
    bool is_gone;
    AvahiTimeoutCallback cb;
    void *cb_user;
};

struct avb_reg {
    avb_reg *next;
    avb *b;
    bool is_gone;
    bool is_added;  /* services added to the group and committed */
    bool is_failed;
    char *name;
    char *type;
    uint16_t port;
    AvahiStringList *txt;
    AvahiEntryGroup *group;
    unsigned renames;
};

struct avb_inst; /* one (interface, protocol) sighting of a service */

struct avb_svc {
    struct avb_svc *next;
    avb_browser *br;
    bool is_gone;
    bool is_announced; /* FOUND was delivered; REMOVED is owed */
    char *name;
    char *type;
    char *domain;
    struct avb_inst *insts;
    /* What the last FOUND/UPDATED reported. */
    char *host;
    uint16_t port;
    struct avb_addr *addrs;
    size_t n_addrs;
    uint8_t *txt; /* TXT RDATA (length-prefixed strings) */
    size_t txt_len;
    bool is_local;
    bool is_own;
};

struct avb_inst {
    struct avb_inst *next;
    struct avb_svc *svc;
    bool is_gone;
    bool is_resolved;
    AvahiIfIndex ifindex;
    AvahiProtocol proto;
    AvahiServiceResolver *res;
    unsigned tries;
    uint64_t seq; /* resolution order: the newest gives host, port, TXT */
    char *host;
    uint16_t port;
    struct avb_addr addr;
    uint8_t *txt;
    size_t txt_len;
    bool is_local; /* AVAHI_LOOKUP_RESULT_LOCAL */
    bool is_own;   /* AVAHI_LOOKUP_RESULT_OUR_OWN */
};

struct avb_browser {
    avb_browser *next;
    avb *b;
    bool is_gone;
    bool is_failed;
    char *type;
    AvahiServiceBrowser *sb;
    struct avb_svc *svcs;
};

struct avb {
    struct avb_loop loop;
    avb_event_fn cb;
    void *user;
    AvahiPoll poll;
    AvahiClient *client;
    AvahiClientState state;
    struct avb_watch *watches;
    struct avb_timer *timers;
    avb_reg *regs;
    avb_browser *browses;
    unsigned depth;
    uint64_t seq;
    bool is_failed;
    bool is_creating; /* inside avahi_client_new(): no events yet */
    bool is_oom;          /* a watch or timeout allocation failed */
    bool is_hook_failed;  /* the loop refused a watch or timeout */
    wp_err err;
};

void avb_enter(avb *b);
void avb_leave(avb *b);
void avb_emit(avb *b, const struct avb_event *ev);
/* Map an Avahi error code to a status and fill err ("what: avahi text"). */
wp_status avb_fail_code(wp_err *err, int aerr, const char *what);

/* opt_avahi_browse.c */
wp_status avb_browse_start(avb_browser *br, wp_err *err);
void avb_browse_start_or_report(avb_browser *br);
void avb_browse_drop(avb_browser *br);
void avb_browse_sweep(avb_browser *br, bool is_all);

#endif

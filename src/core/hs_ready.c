/*
 * hs_ready.c - the end of the handshake (docs/PROTOCOL.md §6.2, §7): once
 * its application has accepted the initiator, the responder sends READY,
 * its first record under r_ap_0, and is authenticated; the initiator is
 * authenticated when READY opens. A refusal travels as ALERT denied
 * instead (see conn.c).
 */
#include "internal.h"
#include "core/conn_int.h"

wp_status hs_responder_create_ready(struct conn *c)
{
    wp_status rc = conn_seal(c, WP_REC_READY, NULL, 0);
    if (rc == WP_OK)
        conn_authenticated(c);
    return rc;
}

wp_status hs_initiator_consume_ready(struct conn *c)
{
    conn_authenticated(c);
    return WP_OK;
}

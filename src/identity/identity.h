/*
 * identity.h - what other modules (handshake, pairing, runtime) may use of
 * a wp_identity beyond the public API.
 */
#ifndef WP_IDENTITY_IDENTITY_H
#define WP_IDENTITY_IDENTITY_H

#include "internal.h"
#include "crypto/crypto.h"

/*
 * The identity's private key (with its public half), for signing.
 * Borrowed: owned by id and valid until wp_identity_free(id). Never NULL
 * for an opened identity.
 */
const crypto_ec_key *identity_key(const wp_identity *id);

#endif

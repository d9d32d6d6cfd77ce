/* Validation of the "ssl" object of a create or PATCH body (docs/api.md, "ssl"). */
#ifndef SAASEDGE_API_SSL_INPUT_H
#define SAASEDGE_API_SSL_INPUT_H

#include <jansson.h>

#include "api/envelope.h"
#include "lib/config.h"
#include "store/store.h"

/* Applies SSL (a JSON value from the body) to S, the hostname's current certificate
 * configuration (zeroed when it has none). An upload (custom_cert_input.h) makes S custom with
 * status pending_deployment and no restart; the certificate itself is checked by the caller. A
 * DCV method on a custom S makes it managed again with s->pack_id cleared (the caller makes a
 * new pack). WILDCARD_HOST says the hostname starts with "*.".
 * On success returns 0 with *CHANGE what happens to the pack: STORE_SSL_RESTART for a new
 * method, CA or name set (s->status is then "initializing", the status of a new pack) or a
 * timed-out pack asked again, STORE_SSL_RECHECK for the same values again. On bad input fills
 * RES and returns -1, leaving S in an unspecified state that the caller must not store. */
int ssl_input_apply(const json_t *ssl, const struct config *cfg, int wildcard_host,
		    struct store_ssl *s, enum store_ssl_change *change, struct api_response *res);

/* The CA a hostname gets when it names none. */
const char *ssl_default_ca(const struct config *cfg);

#endif

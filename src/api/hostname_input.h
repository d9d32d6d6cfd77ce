/* Validation of custom-hostname create and PATCH bodies (docs/api.md). */
#ifndef SAASEDGE_API_HOSTNAME_INPUT_H
#define SAASEDGE_API_HOSTNAME_INPUT_H

#include <jansson.h>

#include "api/envelope.h"
#include "lib/config.h"
#include "lib/origin.h"
#include "store/store.h"

/* Applies BODY to H. CREATING: "hostname" is required and sets h->hostname; otherwise H holds
 * the stored record and a "hostname" that differs from it is 409/1439. *CHANGE says what happens to
 * the certificate pack (ssl_input.h). Returns 0, or -1 with RES filled; on -1, H must not be
 * stored (the caller disposes it). */
int hostname_input_apply(const json_t *body, const struct config *cfg, int creating,
			 struct store_hostname *h, enum store_ssl_change *change,
			 struct api_response *res);

/* Fails RES with the custom-hostname error for a hostname_normalize() verdict. */
void hostname_input_fail(struct api_response *res, int verdict, const char *reason);

/* 0 when the edge may use O as an origin by its text alone (custom_origin_server, the
 * fallback origin): an IP literal or a well-known internal name ("localhost",
 * "metadata.google.internal") must be public or listed in edge.origin_allow_networks. Otherwise
 * -1 with RES failed as 400/1415 saying why. Names are checked again, resolved, at connect. */
int hostname_input_origin_allowed(const struct config *cfg, const struct origin *o,
				  struct api_response *res);

#endif

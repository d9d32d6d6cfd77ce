/* Who is calling: Cloudflare's two credential forms, checked against the stored token hashes. */
#ifndef SAASEDGE_API_AUTH_H
#define SAASEDGE_API_AUTH_H

#include "api/envelope.h"
#include "store/store.h"

struct api_credentials {
	const char *authorization; /* "Authorization" header or NULL */
	const char *auth_key;      /* "X-Auth-Key" or NULL */
	const char *auth_email;    /* "X-Auth-Email" or NULL */
};

/* Fills *TOKEN and returns 0 when CREDS name a known token; otherwise fills RES with the
 * Cloudflare error (docs/api.md, "Authentication") and returns -1. A bearer token wins over the
 * legacy pair when both are sent. */
int api_authenticate(struct store *st, const struct api_credentials *creds,
		     struct store_token *token, struct api_response *res);

#endif

/* Who is calling: Cloudflare's two credential forms, checked against the stored token hashes,
 * with failed attempts limited per client address (api/auth_failures.h). */
#ifndef SAASEDGE_API_AUTH_H
#define SAASEDGE_API_AUTH_H

#include <stdint.h>
#include <sys/socket.h>

#include "api/auth_failures.h"
#include "api/envelope.h"
#include "store/store.h"

struct api_credentials {
	const char *authorization; /* "Authorization" header or NULL */
	const char *auth_key;      /* "X-Auth-Key" or NULL */
	const char *auth_email;    /* "X-Auth-Email" or NULL */
};

/* Where a request comes from, for the failure limit. */
struct api_client {
	struct api_auth_failures *failures; /* borrowed; shared by the API's threads */
	const struct sockaddr *peer;        /* borrowed; NULL when unknown */
	int64_t now_us;
};

/* Fills *TOKEN and returns 0 when CREDS name a known token; otherwise fills RES with the
 * Cloudflare error (docs/api.md, "Authentication") and returns -1. A bearer token wins over the
 * legacy pair when both are sent. Missing, malformed or unknown credentials count as a failure
 * of CLIENT's address; an address over the limit gets 429 (code 971, Retry-After) before its
 * credentials are looked at, so a correct token is refused too until its window ends. */
int api_authenticate(struct store *st, const struct api_client *client,
		     const struct api_credentials *creds, struct store_token *token,
		     struct api_response *res);

#endif

/* What a route handler sees of a request, independent of the HTTP library. */
#ifndef SAASEDGE_API_REQUEST_H
#define SAASEDGE_API_REQUEST_H

#include <stddef.h>

#include "api/envelope.h"
#include "lib/config.h"
#include "lib/secretbox.h"
#include "store/store.h"

struct api_request {
	const char *method;
	const char *path;      /* normalised, without the /client/v4 prefix */
	const char *body;      /* NUL-terminated; NULL when there was none */
	size_t body_len;
	const struct config *cfg;
	struct store *store;
	const struct secretbox *box; /* seals CSR and uploaded keys */
	struct store_token token; /* the authenticated caller */
	char zone_id[33];         /* from the path, already checked against the token */
	char account_id[33];      /* for /accounts/{id}/…, checked likewise; "" under a zone */
	char object_id[128];      /* the path segment after custom_hostnames/, when present */
	char sub_ids[2][64];      /* further "{id}" segments (certificate pack, certificate) */
	void *conn;               /* the HTTP library's connection, for api_query */
};

typedef void (*api_handler)(struct api_request *req, struct api_response *res);

/* The value of query parameter KEY (URL-decoded), or NULL. Borrowed for the request's life. */
const char *api_query(const struct api_request *req, const char *key);

#endif

/* The API (Cloudflare's v4 envelope) as an operator's commands call it: one libcurl handle, the
 * token as a Bearer credential, and errors explained on stderr with their Cloudflare codes. For
 * the `saasedge hostname` commands, which run against a server anywhere, not against the store. */
#ifndef SAASEDGE_CLI_API_CLIENT_H
#define SAASEDGE_CLI_API_CLIENT_H

#include <jansson.h>

struct api_client;

/* A client of the API at URL (scheme, host and port; "/client/v4" is added) with TOKEN. NULL,
 * after saying why, when out of memory or libcurl cannot start. */
struct api_client *api_client_new(const char *url, const char *token);
void api_client_free(struct api_client *c);

/* METHOD PATH (under /client/v4, query included) with BODY (NULL: none). 0 with *ENVELOPE the
 * whole answer ("result", "result_info", ...; the caller's, json_decref) when it says success;
 * else CLI_EXIT_FAIL after printing the transport error or the API's errors ("1406: Duplicate
 * custom hostname found.") on stderr. *STATUS, when not NULL, gets the HTTP status (0 when no
 * answer came). */
int api_client_call(struct api_client *c, const char *method, const char *path, json_t *body,
		    json_t **envelope, long *status);

/* PART escaped for a query string (curl_easy_escape), malloc'd; NULL out of memory. */
char *api_client_escape(struct api_client *c, const char *part);

#endif

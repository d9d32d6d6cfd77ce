#include "api/router.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "api/handlers.h"
#include "lib/error.h"
#include "lib/ids.h"

#define PREFIX "/client/v4"

char *api_path_normalize(char *path)
{
	char *w = path;

	for (char *r = path; *r; r++)
		if (!(*r == '/' && w > path && w[-1] == '/'))
			*w++ = *r;
	if (w > path + 1 && w[-1] == '/')
		w--;
	*w = '\0';
	if (strncmp(path, PREFIX, strlen(PREFIX)) != 0)
		return NULL;
	char *rest = path + strlen(PREFIX);
	return (*rest == '\0' || *rest == '/') ? rest : NULL;
}

/* One row per path shape; "{id}" is any other segment. */
struct route {
	const char *tail; /* after /zones/{zone}/<collection> */
	api_handler get, post, put, patch, del;
};

/* Rows are tried in order: literal segments before "{id}" ones. */
static const struct route routes[] = {
	{"", api_hostname_list, api_hostname_create, NULL, NULL, NULL},
	{"/fallback_origin", api_fallback_origin_get, NULL, api_fallback_origin_put, NULL,
	 api_fallback_origin_delete},
	{"/quota", api_quota_get, NULL, NULL, NULL, NULL},
	{"/{id}/certificate_pack/{id}/certificates/{id}", NULL, NULL, api_custom_cert_put, NULL,
	 api_custom_cert_delete},
	{"/{id}", api_hostname_get, NULL, NULL, api_hostname_edit, api_hostname_delete},
};

static const struct route csr_routes[] = {
	{"", api_csr_list, api_csr_create, NULL, NULL, NULL},
	{"/{id}", api_csr_get, NULL, NULL, NULL, api_csr_delete},
};

/* The collections under /zones/{zone}: NAME is the path segment with its slash. */
static const struct collection {
	const char *name;
	const struct route *routes;
	size_t n;
} collections[] = {
	{"/custom_hostnames", routes, sizeof(routes) / sizeof(routes[0])},
	{"/custom_csrs", csr_routes, sizeof(csr_routes) / sizeof(csr_routes[0])},
};

static const struct route webhook_routes[] = {
	{"", api_webhook_list, api_webhook_create, NULL, NULL, NULL},
	{"/{id}", api_webhook_get, NULL, api_webhook_update, NULL, api_webhook_delete},
};

static const struct route policy_routes[] = {
	{"", api_policy_list, api_policy_create, NULL, NULL, NULL},
	{"/{id}", api_policy_get, NULL, api_policy_update, NULL, api_policy_delete},
};

static const struct route history_routes[] = {
	{"", api_history_list, NULL, NULL, NULL, NULL},
};

#define ROUTES(r) r, sizeof(r) / sizeof(r[0])

/* Under /accounts/{account}: the account's own CSRs, and its notifications. */
static const struct collection account_collections[] = {
	{"/custom_csrs", ROUTES(csr_routes)},
	{"/alerting/v3/destinations/webhooks", ROUTES(webhook_routes)},
	{"/alerting/v3/policies", ROUTES(policy_routes)},
	{"/alerting/v3/history", ROUTES(history_routes)},
};

/* The object itself: GET /zones/{id}, GET /accounts/{id}. */
static const struct route zone_route = {"", api_zone_get, NULL, NULL, NULL, NULL};
static const struct route account_route = {"", api_account_get, NULL, NULL, NULL, NULL};

static api_handler pick(const struct route *r, const char *method)
{
	if (strcmp(method, "GET") == 0)
		return r->get;
	if (strcmp(method, "POST") == 0)
		return r->post;
	if (strcmp(method, "PUT") == 0)
		return r->put;
	if (strcmp(method, "PATCH") == 0)
		return r->patch;
	if (strcmp(method, "DELETE") == 0)
		return r->del;
	return NULL;
}

/* The "{id}" captures of a match: object_id, then sub_ids. */
static int capture(struct api_request *req, int nth, const char *seg, size_t len)
{
	char *dst = nth == 0 ? req->object_id : req->sub_ids[nth - 1];
	size_t cap = nth == 0 ? sizeof(req->object_id) : sizeof(req->sub_ids[0]);

	if (nth > 2 || len == 0 || len >= cap)
		return 0;
	memcpy(dst, seg, len);
	dst[len] = '\0';
	return 1;
}

/* 1 when TAIL has PATTERN's segments, "{id}" standing for any one segment (captured). */
static int pattern_match(const char *pattern, const char *tail, struct api_request *req)
{
	int nth = 0;

	while (*pattern && *tail) {
		const char *pend = strchrnul(pattern + 1, '/'), *tend = strchrnul(tail + 1, '/');
		size_t plen = (size_t)(pend - pattern), tlen = (size_t)(tend - tail);

		if (plen == 5 && strncmp(pattern, "/{id}", 5) == 0) {
			if (!capture(req, nth++, tail + 1, tlen - 1))
				return 0;
		} else if (plen != tlen || strncmp(pattern, tail, plen) != 0) {
			return 0;
		}
		pattern = pend;
		tail = tend;
	}
	return *pattern == '\0' && *tail == '\0';
}

/* Matches TAIL (what follows the collection) against its table. */
static const struct route *match(const struct collection *col, const char *tail,
				 struct api_request *req)
{
	for (size_t i = 0; i < col->n; i++) {
		if (pattern_match(col->routes[i].tail, tail, req))
			return &col->routes[i];
	}
	return NULL;
}

/* The collection of COLS that AFTER_ID starts with, and *TAIL what follows it; NULL when none. */
static const struct collection *collection_of(const struct collection *cols, size_t n,
					      const char *after_id, const char **tail)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(cols[i].name);

		if (strncmp(after_id, cols[i].name, len) == 0 &&
		    (after_id[len] == '\0' || after_id[len] == '/')) {
			*tail = after_id + len;
			return &cols[i];
		}
	}
	return NULL;
}

/* Cloudflare pairs every 7003 with a 7000. */
static void append_no_route(struct api_response *res)
{
	json_array_append_new(json_object_get(res->body, "errors"),
			      json_pack("{s:i, s:s}", "code", 7000, "message",
					"No route for that URI"));
}

void api_fail_no_route(struct api_response *res, const char *url)
{
	api_fail(res, API_ERR_NO_ROUTE, url);
	append_no_route(res);
}

/* The 32-hex id that starts P, lower-cased into OUT; 0 when P's first segment is not one. */
static int path_id(const char *p, const char *end, char out[33])
{
	if (end - p != 32)
		return 0;
	for (size_t i = 0; i < 32; i++)
		out[i] = (char)tolower((unsigned char)p[i]);
	out[32] = '\0';
	return ids_is_hex32(out);
}

/* 0 when the caller's token reaches REQ's zone: its own zone, or any zone of its account. A
 * token reaches only what it was made for; whether another zone exists is not its business. */
static int authorize_zone(struct api_request *req, struct api_response *res)
{
	struct store_zone zone;
	int rc;

	if (strcmp(req->zone_id, req->token.zone_id) == 0)
		return 0;
	rc = req->token.account_id[0] ? store_zone_get(req->store, req->zone_id, &zone)
				      : SE_ENOTFOUND;
	if (rc == 0 && strcmp(zone.account_id, req->token.account_id) == 0)
		return 0;
	api_fail_store(res, rc ? rc : SE_ENOTFOUND, API_ERR_AUTH_ZONE);
	return -1;
}

/* 0 when the caller's token is REQ's account's. */
static int authorize_account(struct api_request *req, struct api_response *res)
{
	if (strcmp(req->account_id, req->token.account_id) == 0)
		return 0;
	api_fail(res, API_ERR_AUTH_ZONE, NULL);
	return -1;
}

api_handler api_route(struct api_request *req, struct api_response *res)
{
	const char *p = req->path;
	char full[512];
	const char *id, *after_id, *tail = NULL;
	const struct collection *col = NULL;
	const struct route *r;
	int account;

	snprintf(full, sizeof(full), PREFIX "%s", req->path);
	if (strcmp(p, "/zones") == 0) {
		if (strcmp(req->method, "GET") == 0)
			return api_zone_list;
		api_fail(res, API_ERR_METHOD_NOT_ALLOWED, NULL);
		return NULL;
	}
	if (strncmp(p, "/zones/", 7) == 0)
		account = 0;
	else if (strncmp(p, "/accounts/", 10) == 0)
		account = 1;
	else
		goto no_route;
	id = p + (account ? 10 : 7);
	after_id = strchrnul(id, '/');
	if (*after_id) {
		col = account ? collection_of(account_collections,
					      sizeof(account_collections) /
						  sizeof(account_collections[0]),
					      after_id, &tail)
			      : collection_of(collections,
					      sizeof(collections) / sizeof(collections[0]),
					      after_id, &tail);
		if (!col)
			goto no_route;
	}
	if (!path_id(id, after_id, account ? req->account_id : req->zone_id))
		goto bad_id;
	if (account ? authorize_account(req, res) : authorize_zone(req, res))
		return NULL;
	r = !col ? (account ? &account_route : &zone_route) : match(col, tail, req);
	if (!r)
		goto no_route;
	api_handler h = pick(r, req->method);
	if (!h)
		api_fail(res, API_ERR_METHOD_NOT_ALLOWED, NULL);
	return h;

no_route:
	api_fail_no_route(res, full);
	return NULL;
bad_id:
	api_fail(res, API_ERR_BAD_ZONE_ID, full);
	append_no_route(res);
	return NULL;
}

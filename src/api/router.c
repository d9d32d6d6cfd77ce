#include "api/router.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "api/handlers.h"
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

/* The collection AFTER_ZONE starts with, and *TAIL what follows it; NULL when none. */
static const struct collection *collection_of(const char *after_zone, const char **tail)
{
	for (size_t i = 0; i < sizeof(collections) / sizeof(collections[0]); i++) {
		size_t len = strlen(collections[i].name);

		if (strncmp(after_zone, collections[i].name, len) == 0 &&
		    (after_zone[len] == '\0' || after_zone[len] == '/')) {
			*tail = after_zone + len;
			return &collections[i];
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

api_handler api_route(struct api_request *req, struct api_response *res)
{
	const char *p = req->path;
	char full[512];
	const char *zone, *after_zone, *tail = NULL;
	const struct collection *col;
	size_t zone_len;

	snprintf(full, sizeof(full), PREFIX "%s", req->path);
	if (strncmp(p, "/zones/", 7) != 0)
		goto no_route;
	zone = p + 7;
	after_zone = strchrnul(zone, '/');
	zone_len = (size_t)(after_zone - zone);
	col = collection_of(after_zone, &tail);
	if (!col)
		goto no_route;
	if (zone_len != 32)
		goto bad_zone;
	for (size_t i = 0; i < 32; i++)
		req->zone_id[i] = (char)tolower((unsigned char)zone[i]);
	req->zone_id[32] = '\0';
	if (!ids_is_hex32(req->zone_id))
		goto bad_zone;
	/* A token reaches only its zone; whether another zone exists is not its business. */
	if (strcmp(req->zone_id, req->token.zone_id) != 0) {
		api_fail(res, API_ERR_AUTH_ZONE, NULL);
		return NULL;
	}
	const struct route *r = match(col, tail, req);
	if (!r)
		goto no_route;
	api_handler h = pick(r, req->method);
	if (!h)
		api_fail(res, API_ERR_METHOD_NOT_ALLOWED, NULL);
	return h;

no_route:
	api_fail_no_route(res, full);
	return NULL;
bad_zone:
	api_fail(res, API_ERR_BAD_ZONE_ID, full);
	append_no_route(res);
	return NULL;
}

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
	const char *tail; /* after /zones/{zone}/custom_hostnames */
	api_handler get, post, put, patch, del;
};

static const struct route routes[] = {
	{"", api_hostname_list, api_hostname_create, NULL, NULL, NULL},
	{"/fallback_origin", api_fallback_origin_get, NULL, api_fallback_origin_put, NULL,
	 api_fallback_origin_delete},
	{"/quota", api_quota_get, NULL, NULL, NULL, NULL},
	{"/{id}", api_hostname_get, NULL, NULL, api_hostname_edit, api_hostname_delete},
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

/* Matches TAIL (what follows custom_hostnames) against the table, literals before "{id}". */
static const struct route *match(const char *tail, struct api_request *req)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strcmp(routes[i].tail, tail) == 0)
			return &routes[i];
	}
	if (tail[0] == '/' && tail[1] && !strchr(tail + 1, '/') &&
	    strlen(tail + 1) < sizeof(req->object_id)) {
		snprintf(req->object_id, sizeof(req->object_id), "%s", tail + 1);
		return &routes[sizeof(routes) / sizeof(routes[0]) - 1];
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
	const char *zone, *after_zone;
	size_t zone_len;

	snprintf(full, sizeof(full), PREFIX "%s", req->path);
	if (strncmp(p, "/zones/", 7) != 0)
		goto no_route;
	zone = p + 7;
	after_zone = strchrnul(zone, '/');
	zone_len = (size_t)(after_zone - zone);
	if (strncmp(after_zone, "/custom_hostnames", 17) != 0 ||
	    (after_zone[17] != '\0' && after_zone[17] != '/'))
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
	const struct route *r = match(after_zone + 17, req);
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

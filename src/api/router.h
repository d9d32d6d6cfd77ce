/* Maps a method and a normalised path to a handler. */
#ifndef SAASEDGE_API_ROUTER_H
#define SAASEDGE_API_ROUTER_H

#include "api/request.h"

/* Normalises a raw URL path in place: collapses repeated slashes and drops one trailing slash.
 * Returns the part after "/client/v4", or NULL when the prefix is absent. */
char *api_path_normalize(char *path);

/* Finds the handler for REQ->method and REQ->path and fills req->zone_id and req->object_id.
 * Checks that the zone is the token's. Returns NULL with RES filled when there is none. */
api_handler api_route(struct api_request *req, struct api_response *res);

/* Fails RES with Cloudflare's "no route" pair of errors (7003, 7000) for URL. */
void api_fail_no_route(struct api_response *res, const char *url);

#endif

/* The web dashboard (docs/dashboard.md): static files built into the binary, served on the
 * API's listener under /dashboard/ without authentication. They hold no data: every datum the
 * pages show comes from /client/v4 with the signed-in user's own credential. */
#ifndef SAASEDGE_API_DASHBOARD_H
#define SAASEDGE_API_DASHBOARD_H

#include "api/dashboard_assets.h"

struct dashboard_reply {
	int status;                          /* 200, 301, 302, 404 or 405 */
	const struct dashboard_asset *asset; /* for 200 */
	const char *location;                /* for 301 and 302 */
};

/* 1 when URL belongs to the dashboard ("/", "/dashboard", "/dashboard/…"), with REPLY filled
 * for METHOD; 0 when it is the API's. */
int dashboard_route(const char *url, const char *method, struct dashboard_reply *reply);

/* The same for the API's OpenAPI document (docs/openapi.json, built in beside the dashboard's
 * files): 1 when URL is /client/v4/openapi.json, served without authentication whether or not
 * the dashboard is on. */
int dashboard_openapi_route(const char *url, const char *method, struct dashboard_reply *reply);

#endif

/* Which dashboard file, or which redirect, a URL is. "/" leads a browser to the dashboard, so
 * that the API's address opened by hand shows something useful; API clients never ask for it. */
#include "api/dashboard.h"

#include <string.h>

#define DASHBOARD_ROOT "/dashboard/"

static const struct dashboard_asset *asset_find(const char *path)
{
	for (size_t i = 0; i < dashboard_asset_count; i++)
		if (strcmp(dashboard_assets[i].path, path) == 0)
			return &dashboard_assets[i];
	return NULL;
}

/* GET and HEAD only: anything else is 405. */
static void method_check(const char *method, struct dashboard_reply *reply)
{
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		reply->status = 405;
		reply->asset = NULL;
		reply->location = NULL;
	}
}

int dashboard_openapi_route(const char *url, const char *method, struct dashboard_reply *reply)
{
	memset(reply, 0, sizeof(*reply));
	if (strcmp(url, "/client/v4/openapi.json") != 0)
		return 0;
	reply->asset = asset_find(DASHBOARD_ROOT "openapi.json");
	reply->status = reply->asset ? 200 : 404;
	method_check(method, reply);
	return 1;
}

int dashboard_route(const char *url, const char *method, struct dashboard_reply *reply)
{
	memset(reply, 0, sizeof(*reply));
	if (strcmp(url, "/") == 0) {
		reply->status = 302;
		reply->location = DASHBOARD_ROOT;
	} else if (strcmp(url, "/dashboard") == 0) {
		reply->status = 301;
		reply->location = DASHBOARD_ROOT;
	} else if (strncmp(url, DASHBOARD_ROOT, strlen(DASHBOARD_ROOT)) == 0) {
		reply->asset = asset_find(
		    strcmp(url, DASHBOARD_ROOT) == 0 ? DASHBOARD_ROOT "index.html" : url);
		reply->status = reply->asset ? 200 : 404;
	} else {
		return 0;
	}
	method_check(method, reply);
	return 1;
}

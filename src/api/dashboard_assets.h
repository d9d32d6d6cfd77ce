/* The dashboard's files, compiled into the binary from web/ by scripts/embed-dashboard. */
#ifndef SAASEDGE_API_DASHBOARD_ASSETS_H
#define SAASEDGE_API_DASHBOARD_ASSETS_H

#include <stddef.h>

struct dashboard_asset {
	const char *path; /* "/dashboard/app.js" */
	const char *content_type;
	const char *etag; /* quoted, strong */
	const unsigned char *plain;
	size_t plain_len;
	const unsigned char *gzip; /* the same bytes, gzip-compressed */
	size_t gzip_len;
};

extern const struct dashboard_asset dashboard_assets[];
extern const size_t dashboard_asset_count;

#endif

/* The query string of GET …/custom_hostnames: filters, order and page (docs/api.md, "List"). */
#ifndef SAASEDGE_API_LIST_QUERY_H
#define SAASEDGE_API_LIST_QUERY_H

#include "api/pagination.h"
#include "api/request.h"
#include "lib/hostname.h"

struct list_query {
	struct store_hostname_filter filter; /* points into the buffers below or at the request */
	struct api_page page;
	char exact[HOSTNAME_MAX + 1];
	char contains[HOSTNAME_MAX + 1];
	char starts_with[HOSTNAME_MAX + 1];
	char origin[300];
	char id[40];
};

/* Fills Q from REQ's query. Returns 0, or -1 with RES filled. Q must outlive the filter's use. */
int list_query_parse(const struct api_request *req, struct list_query *q,
		     struct api_response *res);

#endif

#include "api/list_query.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "lib/ids.h"
#include "lib/origin.h"
#include "lib/strlist.h"

static const char *const ssl_statuses[] = {
	"initializing", "pending_validation", "deleted", "pending_issuance",
	"pending_deployment", "pending_deletion", "pending_expiration", "expired", "active",
	"initializing_timed_out", "validation_timed_out", "issuance_timed_out",
	"deployment_timed_out", "deletion_timed_out", "pending_cleanup", "staging_deployment",
	"staging_active", "deactivating", "inactive", "backup_issued", "holding_deployment",
};

static const char *const hostname_statuses[] = {
	"active", "pending", "active_redeploying", "moved", "pending_deletion", "deleted",
	"pending_blocked", "pending_migration", "pending_provisioned", "test_pending",
	"test_active", "test_active_apex", "test_blocked", "test_failed", "provisioned", "blocked",
};

static const struct {
	const char *name;
	enum store_hostname_order order;
} orders[] = {
	{"ssl", STORE_ORDER_SSL},
	{"ssl_status", STORE_ORDER_SSL_STATUS},
	{"hostname", STORE_ORDER_HOSTNAME},
	{"created_at", STORE_ORDER_CREATED},
};

static int bad_param(struct api_response *res, const char *name, const char *value,
		     const char *expected)
{
	char msg[400];

	snprintf(msg, sizeof(msg), "%s must be %s (got '%.100s')", name, expected, value);
	api_fail(res, API_ERR_BAD_QUERY, msg);
	return -1;
}

/* Lower-cases a filter fragment into OUT; -1 with 1437 when it could not be in a hostname. */
static int fragment(const char *param, const char *value, char *out, size_t out_len,
		    struct api_response *res)
{
	size_t i;

	if (!hostname_fragment_ok(value) || strlen(value) >= out_len) {
		api_fail(res, API_ERR_CONTAIN_INVALID, param);
		return -1;
	}
	for (i = 0; value[i]; i++)
		out[i] = (char)tolower((unsigned char)value[i]);
	out[i] = '\0';
	return 0;
}

/* Exact filters compare against the stored (normalised) form, so normalise the same way; a
 * value that does not normalise can match nothing, and lower case keeps that true. */
static void exact_name(const char *value, char out[HOSTNAME_MAX + 1])
{
	if (hostname_normalize(value, 1, out, NULL, 0) != HOSTNAME_OK) {
		size_t i;
		for (i = 0; value[i] && i < HOSTNAME_MAX; i++)
			out[i] = (char)tolower((unsigned char)value[i]);
		out[i] = '\0';
	}
}

static int parse_hostname_filters(const struct api_request *req, struct list_query *q,
				  struct api_response *res)
{
	const char *v;
	struct origin o;

	if ((v = api_query(req, "hostname.exact")) || (v = api_query(req, "hostname"))) {
		exact_name(v, q->exact);
		q->filter.hostname_exact = q->exact;
	}
	if ((v = api_query(req, "hostname.contain"))) {
		if (fragment("hostname.contain", v, q->contains, sizeof(q->contains), res))
			return -1;
		q->filter.hostname_contains = q->contains;
	}
	if ((v = api_query(req, "hostname.startsWith"))) {
		if (fragment("hostname.startsWith", v, q->starts_with, sizeof(q->starts_with), res))
			return -1;
		q->filter.hostname_starts_with = q->starts_with;
	}
	if ((v = api_query(req, "custom_origin_server"))) {
		if (origin_parse(v, &o, NULL, 0) == HOSTNAME_OK)
			origin_format(&o, q->origin, sizeof(q->origin));
		else
			snprintf(q->origin, sizeof(q->origin), "%s", v);
		q->filter.custom_origin_server = q->origin;
	}
	return 0;
}

static int parse_status_filters(const struct api_request *req, struct list_query *q,
				struct api_response *res)
{
	const char *v;

	if ((v = api_query(req, "ssl_status"))) {
		if (!strlist_contains(ssl_statuses, STRLIST_LEN(ssl_statuses), v))
			return bad_param(res, "ssl_status", v, "an ssl.status value");
		q->filter.ssl_status = v;
	}
	if ((v = api_query(req, "hostname_status"))) {
		if (!strlist_contains(hostname_statuses, STRLIST_LEN(hostname_statuses), v))
			return bad_param(res, "hostname_status", v, "a hostname status value");
		q->filter.hostname_status = v;
	}
	if ((v = api_query(req, "certificate_authority")))
		q->filter.certificate_authority = v;
	if ((v = api_query(req, "ssl"))) {
		if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
			return bad_param(res, "ssl", v, "0 or 1");
		q->filter.ssl_only = v[0] == '1';
	}
	if ((v = api_query(req, "wildcard"))) {
		if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
			return bad_param(res, "wildcard", v, "true or false");
		q->filter.wildcard = v[0] == 't';
	}
	return 0;
}

static int parse_order(const struct api_request *req, struct list_query *q,
		       struct api_response *res)
{
	const char *v;
	size_t i;

	if ((v = api_query(req, "order"))) {
		for (i = 0; i < STRLIST_LEN(orders) && strcmp(v, orders[i].name) != 0; i++)
			;
		if (i == STRLIST_LEN(orders))
			return bad_param(res, "order", v, "ssl, ssl_status, hostname or created_at");
		q->filter.order = orders[i].order;
	}
	if ((v = api_query(req, "direction"))) {
		if (strcmp(v, "asc") != 0 && strcmp(v, "desc") != 0)
			return bad_param(res, "direction", v, "asc or desc");
		q->filter.descending = v[0] == 'd';
	}
	return 0;
}

/* `id` names one hostname; Cloudflare refuses any other filter beside it (1438). */
static int parse_id(const struct api_request *req, struct list_query *q,
		    struct api_response *res)
{
	static const char *const others[] = {
		"hostname", "hostname.exact", "hostname.contain", "hostname.startsWith",
		"ssl_status", "hostname_status", "certificate_authority", "custom_origin_server",
		"wildcard", "ssl",
	};
	const char *v = api_query(req, "id");

	if (!v)
		return 0;
	for (size_t i = 0; i < STRLIST_LEN(others); i++)
		if (api_query(req, others[i]))
			return api_fail(res, API_ERR_ID_WITH_FILTERS, NULL), -1;
	if (!ids_is_uuid(v))
		return api_fail(res, API_ERR_ID_INVALID, NULL), -1;
	for (size_t i = 0; i <= strlen(v); i++)
		q->id[i] = (char)tolower((unsigned char)v[i]);
	q->filter.id = q->id;
	return 0;
}

int list_query_parse(const struct api_request *req, struct list_query *q,
		     struct api_response *res)
{
	char err[200];

	memset(q, 0, sizeof(*q));
	q->filter.wildcard = -1;
	if (api_page_parse(api_query(req, "page"), api_query(req, "per_page"), &q->page, err,
			   sizeof(err)))
		return api_fail(res, API_ERR_BAD_QUERY, err), -1;
	if (parse_id(req, q, res) || parse_hostname_filters(req, q, res) ||
	    parse_status_filters(req, q, res) || parse_order(req, q, res))
		return -1;
	q->filter.offset = api_page_offset(&q->page);
	q->filter.limit = q->page.per_page;
	return 0;
}

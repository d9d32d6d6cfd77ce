#include "api/hostname_input.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/ssl_input.h"
#include "lib/hostname.h"
#include "lib/netpolicy.h"
#include "lib/origin.h"

#define METADATA_MAX 4096

void hostname_input_fail(struct api_response *res, int verdict, const char *reason)
{
	switch (verdict) {
	case HOSTNAME_NON_ASCII:
		api_fail(res, API_ERR_HOSTNAME_NON_ASCII, reason);
		break;
	case HOSTNAME_RESERVED_TLD:
		api_fail(res, API_ERR_HOSTNAME_RESERVED, reason);
		break;
	case HOSTNAME_NO_REGISTRABLE:
		api_fail(res, API_ERR_HOSTNAME_UNPARSABLE, reason);
		break;
	case HOSTNAME_EXAMPLE_DOMAIN:
		api_fail(res, API_ERR_HOSTNAME_EXAMPLE, reason);
		break;
	default:
		api_fail(res, API_ERR_HOSTNAME_INVALID, reason);
	}
}

static int apply_hostname(const json_t *v, int creating, struct store_hostname *h,
			  struct api_response *res)
{
	char name[HOSTNAME_MAX + 1];
	char reason[256] = "";
	enum hostname_verdict verdict;

	if (!v || json_is_null(v)) {
		if (creating)
			return api_fail(res, API_ERR_HOSTNAME_INVALID, "hostname is required"), -1;
		return 0;
	}
	if (!json_is_string(v))
		return api_fail(res, API_ERR_HOSTNAME_INVALID, "hostname must be a string"), -1;
	verdict = hostname_normalize(json_string_value(v), 1, name, reason, sizeof(reason));
	if (!creating) {
		/* Legacy Go and Terraform send the hostname back on every PATCH. */
		if (verdict != HOSTNAME_OK || strcmp(name, h->hostname) != 0)
			return api_fail(res, API_ERR_HOSTNAME_IMMUTABLE, NULL), -1;
		return 0;
	}
	if (verdict != HOSTNAME_OK)
		return hostname_input_fail(res, verdict, reason), -1;
	snprintf(h->hostname, sizeof(h->hostname), "%s", name);
	return 0;
}

static int apply_metadata(const json_t *v, struct store_hostname *h, struct api_response *res)
{
	char *text;

	if (json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)) {
		free(h->custom_metadata_json);
		h->custom_metadata_json = NULL;
		return 0;
	}
	if (!json_is_object(v))
		return api_fail(res, API_ERR_BAD_METADATA, "custom_metadata must be an object"), -1;
	/* Cloudflare's schema has string values, and typed clients decode them so (cloudflare-go
	 * v6 map[string]string, Terraform v5 map of strings): one number would make them fail to
	 * read the whole hostname. */
	const char *key;
	const json_t *value;
	json_object_foreach((json_t *)v, key, value) {
		if (!json_is_string(value))
			return api_fail(res, API_ERR_BAD_METADATA, "every value must be a string"), -1;
	}
	text = json_dumps(v, JSON_COMPACT);
	if (!text)
		return api_fail(res, API_ERR_BAD_METADATA, "not encodable"), -1;
	if (strlen(text) > METADATA_MAX) {
		free(text);
		return api_fail(res, API_ERR_BAD_METADATA, "larger than 4096 bytes"), -1;
	}
	free(h->custom_metadata_json);
	h->custom_metadata_json = text;
	return 0;
}

static void origin_fail(struct api_response *res, enum hostname_verdict verdict,
			const char *reason)
{
	if (verdict == HOSTNAME_WILDCARD)
		api_fail(res, API_ERR_ORIGIN_WILDCARD, NULL);
	else if (verdict == HOSTNAME_NON_ASCII)
		api_fail(res, API_ERR_ORIGIN_NON_ASCII, reason);
	else
		api_fail(res, API_ERR_ORIGIN_INVALID, reason);
}

int hostname_input_origin_allowed(const struct config *cfg, const struct origin *o,
				  struct api_response *res)
{
	char reason[256];

	if (netpolicy_check_host(&cfg->edge.origin_allow, o->host, reason, sizeof(reason)) == 0)
		return 0;
	api_fail(res, API_ERR_ORIGIN_INVALID, reason);
	return -1;
}

static int apply_origin_server(const json_t *v, const struct config *cfg,
			       struct store_hostname *h, struct api_response *res)
{
	struct origin o;
	char reason[256] = "custom_origin_server must be a string";
	enum hostname_verdict verdict;

	if (json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)) {
		h->custom_origin_server[0] = '\0';
		return 0;
	}
	verdict = json_is_string(v) ? origin_parse(json_string_value(v), &o, reason,
						   sizeof(reason))
				    : HOSTNAME_INVALID;
	if (verdict != HOSTNAME_OK)
		return origin_fail(res, verdict, reason), -1;
	if (hostname_input_origin_allowed(cfg, &o, res))
		return -1;
	origin_format(&o, h->custom_origin_server, sizeof(h->custom_origin_server));
	return 0;
}

static int apply_origin_sni(const json_t *v, struct store_hostname *h, struct api_response *res)
{
	char name[HOSTNAME_MAX + 1];
	char reason[256] = "custom_origin_sni must be a string";
	enum hostname_verdict verdict;

	if (json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)) {
		h->custom_origin_sni[0] = '\0';
		return 0;
	}
	if (json_is_string(v) && strcmp(json_string_value(v), ":request_host_header:") == 0) {
		snprintf(h->custom_origin_sni, sizeof(h->custom_origin_sni), "%s",
			 ":request_host_header:");
		return 0;
	}
	verdict = json_is_string(v) ? hostname_normalize_origin(json_string_value(v), name,
								reason, sizeof(reason))
				    : HOSTNAME_INVALID;
	if (verdict != HOSTNAME_OK)
		return origin_fail(res, verdict, reason), -1;
	snprintf(h->custom_origin_sni, sizeof(h->custom_origin_sni), "%s", name);
	return 0;
}

int hostname_input_apply(const json_t *body, const struct config *cfg, int creating,
			 struct store_hostname *h, enum store_ssl_change *change,
			 struct api_response *res)
{
	const json_t *v;

	*change = STORE_SSL_KEEP;
	if (apply_hostname(json_object_get(body, "hostname"), creating, h, res))
		return -1;
	if ((v = json_object_get(body, "custom_metadata")) && apply_metadata(v, h, res))
		return -1;
	if (h->custom_metadata_json && hostname_is_wildcard(h->hostname))
		return api_fail(res, API_ERR_METADATA_WILDCARD, NULL), -1;
	if ((v = json_object_get(body, "custom_origin_server")) && apply_origin_server(v, cfg, h, res))
		return -1;
	if ((v = json_object_get(body, "custom_origin_sni")) && apply_origin_sni(v, h, res))
		return -1;
	v = json_object_get(body, "ssl");
	if (v && !json_is_null(v))
		return ssl_input_apply(v, cfg, hostname_is_wildcard(h->hostname), &h->ssl, change,
				       res);
	return 0;
}

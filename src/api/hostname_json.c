#include "api/hostname_json.h"

#include <stdio.h>
#include <string.h>

#include "api/ssl_json.h"
#include "lib/timeutil.h"

static void set_nonempty(json_t *obj, const char *key, const char *value)
{
	if (value[0])
		json_object_set_new(obj, key, json_string(value));
}

/* verification_errors is an array of strings in Cloudflare's schema (cloudflare-go v0 fails
 * to decode the whole hostname otherwise). Rows written before saasedge stored strings hold
 * {"message": …} objects: their messages are shown. */
static void set_verification_errors(json_t *obj, const char *text)
{
	json_t *stored = json_parse_stored(text), *shown, *e;
	size_t i;

	if (!json_is_array(stored) || json_array_size(stored) == 0) {
		json_decref(stored);
		return;
	}
	shown = json_array();
	json_array_foreach(stored, i, e) {
		json_t *msg = json_is_object(e) ? json_object_get(e, "message") : e;

		if (shown && json_is_string(msg))
			json_array_append(shown, msg);
	}
	json_decref(stored);
	if (shown)
		json_object_set_new(obj, "verification_errors", shown);
}

/* Ownership is proven for the name a visitor types; a wildcard's is its parent. */
static const char *ownership_name(const char *hostname)
{
	return (hostname[0] == '*' && hostname[1] == '.') ? hostname + 2 : hostname;
}

json_t *hostname_to_json(const struct store_hostname *h, const struct config *cfg)
{
	char created[TIME_RFC3339_LEN + 1];
	char txt_name[300];
	char http_url[400];
	const char *name = ownership_name(h->hostname);
	json_t *obj, *metadata;

	time_format_rfc3339(h->created_at_us, created);
	snprintf(txt_name, sizeof(txt_name), "_cf-custom-hostname.%s", name);
	snprintf(http_url, sizeof(http_url),
		 "http://%s/.well-known/cf-custom-hostname-challenge/%s", name, h->id);
	obj = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s, s:s}, s:s}", "id", h->id,
			"hostname", h->hostname, "status", h->status, "ownership_verification",
			"type", "txt", "name", txt_name, "value", h->ownership_token,
			"ownership_verification_http", "http_url", http_url, "http_body",
			h->ownership_token, "created_at", created);
	if (!obj)
		return NULL;
	if (h->ssl.enabled)
		json_object_set_new(obj, "ssl", ssl_to_json(h, cfg));
	set_verification_errors(obj, h->verification_errors_json);
	metadata = json_parse_stored(h->custom_metadata_json);
	if (metadata)
		json_object_set_new(obj, "custom_metadata", metadata);
	set_nonempty(obj, "custom_origin_server", h->custom_origin_server);
	set_nonempty(obj, "custom_origin_sni", h->custom_origin_sni);
	return obj;
}

#include "api/hostname_json.h"

#include <stdio.h>
#include <string.h>

#include "lib/timeutil.h"

/* Sets KEY to the JSON parsed from TEXT when TEXT is set and parses. */
static void set_parsed(json_t *obj, const char *key, const char *text)
{
	json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;

	if (v)
		json_object_set_new(obj, key, v);
}

static void set_nonempty(json_t *obj, const char *key, const char *value)
{
	if (value[0])
		json_object_set_new(obj, key, json_string(value));
}

static json_t *cert_to_json(const struct store_cert_summary *c)
{
	char issued[TIME_RFC3339_LEN + 1], expires[TIME_RFC3339_LEN + 1];

	time_format_rfc3339(c->not_before_us, issued);
	time_format_rfc3339(c->not_after_us, expires);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", c->id, "issuer", c->issuer,
			 "serial_number", c->serial_decimal, "signature", c->signature,
			 "expires_on", expires, "issued_on", issued, "fingerprint_sha256",
			 c->fingerprint_sha256);
}

/* The certificates of the pack: ssl.certificates[], and the primary's (ECDSA's) facts as
 * ssl.issuer, serial_number, signature, expires_on and hosts, as Cloudflare shows them. */
static void ssl_add_certificates(json_t *ssl, const struct store_ssl *s)
{
	const struct store_cert_summary *primary = &s->certs[0];
	char expires[TIME_RFC3339_LEN + 1];
	json_t *list;

	if (!s->n_certs)
		return;
	list = json_array();
	for (size_t i = 0; i < s->n_certs && list; i++)
		json_array_append_new(list, cert_to_json(&s->certs[i]));
	time_format_rfc3339(primary->not_after_us, expires);
	json_object_set_new(ssl, "issuer", json_string(primary->issuer));
	json_object_set_new(ssl, "serial_number", json_string(primary->serial_decimal));
	json_object_set_new(ssl, "signature", json_string(primary->signature));
	json_object_set_new(ssl, "expires_on", json_string(expires));
	set_parsed(ssl, "hosts", primary->hosts_json);
	if (list)
		json_object_set_new(ssl, "certificates", list);
}

/* An uploaded certificate has no DCV method, type or CA (an empty enum value would break
 * typed clients), but says when it came and through which CSR. Its key is never shown. */
static void ssl_add_custom(json_t *ssl, const struct store_ssl *s)
{
	char uploaded[TIME_RFC3339_LEN + 1];

	json_object_del(ssl, "type");
	json_object_del(ssl, "method");
	json_object_del(ssl, "certificate_authority");
	time_format_rfc3339(s->uploaded_on_us, uploaded);
	json_object_set_new(ssl, "uploaded_on", json_string(uploaded));
	set_nonempty(ssl, "custom_csr_id", s->custom_csr_id);
}

static json_t *ssl_to_json(const struct store_ssl *s)
{
	json_t *ssl = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s}", "id", s->pack_id, "type",
				s->type, "method", s->method, "status", s->status, "bundle_method",
				s->bundle_method, "wildcard", s->wildcard, "certificate_authority",
				s->issued_by[0] ? s->issued_by : s->certificate_authority);

	if (!ssl)
		return NULL;
	set_parsed(ssl, "settings", s->settings_json ? s->settings_json : "{}");
	set_parsed(ssl, "validation_records", s->validation_records_json);
	set_parsed(ssl, "validation_errors", s->validation_errors_json);
	if (s->custom)
		ssl_add_custom(ssl, s);
	ssl_add_certificates(ssl, s);
	return ssl;
}

/* verification_errors is an array of strings in Cloudflare's schema (cloudflare-go v0 fails
 * to decode the whole hostname otherwise). Rows written before saasedge stored strings hold
 * {"message": …} objects: their messages are shown. */
static void set_verification_errors(json_t *obj, const char *text)
{
	json_t *stored = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL, *shown, *e;
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

json_t *hostname_to_json(const struct store_hostname *h)
{
	char created[TIME_RFC3339_LEN + 1];
	char txt_name[300];
	char http_url[400];
	const char *name = ownership_name(h->hostname);
	json_t *obj;

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
		json_object_set_new(obj, "ssl", ssl_to_json(&h->ssl));
	set_verification_errors(obj, h->verification_errors_json);
	set_parsed(obj, "custom_metadata", h->custom_metadata_json);
	set_nonempty(obj, "custom_origin_server", h->custom_origin_server);
	set_nonempty(obj, "custom_origin_sni", h->custom_origin_sni);
	return obj;
}

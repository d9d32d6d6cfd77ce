#include "api/hostname_json.h"

#include <stdio.h>
#include <string.h>

#include "lib/timeutil.h"
#include "lib/x509_info.h"

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

static json_t *cert_to_json(const struct store_certificate *c, const struct cert_info *ci)
{
	char issued[TIME_RFC3339_LEN + 1], expires[TIME_RFC3339_LEN + 1];

	time_format_rfc3339(ci->not_before_us, issued);
	time_format_rfc3339(ci->not_after_us, expires);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", c->id, "issuer", ci->issuer,
			 "serial_number", ci->serial_decimal, "signature", ci->signature,
			 "expires_on", expires, "issued_on", issued, "fingerprint_sha256",
			 ci->fingerprint_sha256);
}

/* The issued certificates of the pack: ssl.certificates[], and the primary's (ECDSA's) facts
 * as ssl.issuer, serial_number, signature, expires_on and hosts, as Cloudflare shows them. */
static void ssl_add_certificates(json_t *ssl, struct store *st, const struct store_ssl *s)
{
	struct store_certificate certs[2];
	json_t *list = NULL;
	size_t n = 0;

	if (!st || !s->pack_id[0] || store_pack_certificates(st, s->pack_id, certs, &n) || !n)
		return;
	list = json_array();
	for (size_t i = 0; i < n && list; i++) {
		struct cert_info ci;

		memset(&ci, 0, sizeof(ci));
		if (cert_info_from_der(certs[i].leaf_der, certs[i].leaf_len, &ci) == 0) {
			json_array_append_new(list, cert_to_json(&certs[i], &ci));
			if (!json_object_get(ssl, "issuer")) {
				json_t *hosts = json_array();
				char expires[TIME_RFC3339_LEN + 1];

				time_format_rfc3339(ci.not_after_us, expires);
				for (size_t k = 0; k < ci.n_sans && hosts; k++)
					json_array_append_new(hosts, json_string(ci.sans[k]));
				json_object_set_new(ssl, "issuer", json_string(ci.issuer));
				json_object_set_new(ssl, "serial_number",
						    json_string(ci.serial_decimal));
				json_object_set_new(ssl, "signature", json_string(ci.signature));
				json_object_set_new(ssl, "expires_on", json_string(expires));
				json_object_set_new(ssl, "hosts", hosts);
			}
		}
		cert_info_dispose(&ci);
	}
	for (size_t i = 0; i < n; i++)
		store_certificate_dispose(&certs[i]);
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

static json_t *ssl_to_json(struct store *st, const struct store_ssl *s)
{
	json_t *ssl = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s}", "id", s->pack_id, "type",
				s->type, "method", s->method, "status", s->status, "bundle_method",
				s->bundle_method, "wildcard", s->wildcard,
				"certificate_authority", s->certificate_authority);

	if (!ssl)
		return NULL;
	set_parsed(ssl, "settings", s->settings_json ? s->settings_json : "{}");
	set_parsed(ssl, "validation_records", s->validation_records_json);
	set_parsed(ssl, "validation_errors", s->validation_errors_json);
	if (s->custom)
		ssl_add_custom(ssl, s);
	ssl_add_certificates(ssl, st, s);
	return ssl;
}

/* Ownership is proven for the name a visitor types; a wildcard's is its parent. */
static const char *ownership_name(const char *hostname)
{
	return (hostname[0] == '*' && hostname[1] == '.') ? hostname + 2 : hostname;
}

json_t *hostname_to_json(struct store *st, const struct store_hostname *h)
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
		json_object_set_new(obj, "ssl", ssl_to_json(st, &h->ssl));
	set_parsed(obj, "verification_errors", h->verification_errors_json);
	set_parsed(obj, "custom_metadata", h->custom_metadata_json);
	set_nonempty(obj, "custom_origin_server", h->custom_origin_server);
	set_nonempty(obj, "custom_origin_sni", h->custom_origin_sni);
	return obj;
}

#include "api/ssl_json.h"

#include <stdio.h>
#include <string.h>

#include "api/ca_enum.h"
#include "lib/timeutil.h"

json_t *json_parse_stored(const char *text)
{
	return text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
}

/* Sets KEY to the JSON parsed from TEXT when TEXT is set and parses. */
static void set_parsed(json_t *obj, const char *key, const char *text)
{
	json_t *v = json_parse_stored(text);

	if (v)
		json_object_set_new(obj, key, v);
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
static void add_certificates(json_t *ssl, const struct store_ssl *s)
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
static void add_custom(json_t *ssl, const struct store_ssl *s)
{
	char uploaded[TIME_RFC3339_LEN + 1];

	time_format_rfc3339(s->uploaded_on_us, uploaded);
	json_object_set_new(ssl, "uploaded_on", json_string(uploaded));
	if (s->custom_csr_id[0])
		json_object_set_new(ssl, "custom_csr_id", json_string(s->custom_csr_id));
}

/* The DCV method, type and CA of a managed certificate. certificate_authority is Cloudflare's
 * enum value when the CA really is one of those; any other CA (saasedge's own, a private ACME
 * CA) is left out there, since typed clients refuse other values, and named in issuer until a
 * certificate names its issuer itself (decisions/0030). */
static void add_managed(json_t *ssl, const struct store_ssl *s, const struct config *cfg)
{
	const char *ca = s->issued_by[0] ? s->issued_by : s->certificate_authority;
	const char *value = ca_enum_value(cfg, ca);

	json_object_set_new(ssl, "type", json_string(s->type));
	json_object_set_new(ssl, "method", json_string(s->method));
	if (value)
		json_object_set_new(ssl, "certificate_authority", json_string(value));
	else if (!s->n_certs && ca[0])
		json_object_set_new(ssl, "issuer", json_string(ca));
}

/* Settings appear only when one was given: Terraform v5 reads "settings": {} as a block the
 * configuration does not have, and plans a change on every run. */
static void add_settings(json_t *ssl, const struct store_ssl *s)
{
	json_t *settings = json_parse_stored(s->settings_json);

	if (json_is_object(settings) && json_object_size(settings) > 0)
		json_object_set_new(ssl, "settings", settings);
	else
		json_decref(settings);
}

/* The record that delegates dns-01 to the dns role, shown from the start for the methods
 * validated with dns-01 (txt, cname) when this server has a delegation zone: a customer who
 * publishes it once never needs to publish a TXT value, at issuance or at any renewal, since
 * the issuer publishes every value in the zone too (docs/dns.md). */
static void add_delegation(json_t *ssl, const struct store_hostname *h, const struct config *cfg)
{
	const char *host = h->hostname;
	char name[300], target[STORE_DNS_LABEL_MAX + 260];
	size_t n = 0;

	if (!cfg->dns.zone[0] || h->ssl.custom ||
	    (strcmp(h->ssl.method, "txt") != 0 && strcmp(h->ssl.method, "cname") != 0))
		return;
	if (strncmp(host, "*.", 2) == 0) /* a wildcard is validated at its parent's name */
		host += 2;
	for (const char *p = h->id; *p && n < STORE_DNS_LABEL_MAX; p++)
		if (*p != '-')
			target[n++] = *p; /* the label is the id without dashes (decisions/0011) */
	snprintf(target + n, sizeof(target) - n, ".%s", cfg->dns.zone);
	snprintf(name, sizeof(name), "_acme-challenge.%s", host);
	json_object_set_new(ssl, "dcv_delegation_records",
			    json_pack("[{s:s, s:s}]", "cname", name, "cname_target", target));
}

/* The fields cloudflare-go v0 still reads at the top of ssl (it embeds a validation record
 * there): a copy of the first validation record's, as Cloudflare keeps sending them. */
static void add_legacy_record(json_t *ssl)
{
	static const char *const keys[] = {"txt_name",  "txt_value", "http_url",
					   "http_body", "cname",     "cname_target"};
	const json_t *first = json_array_get(json_object_get(ssl, "validation_records"), 0);

	for (size_t i = 0; first && i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *v = json_object_get(first, keys[i]);

		if (json_is_string(v))
			json_object_set(ssl, keys[i], v);
	}
}

json_t *ssl_to_json(const struct store_hostname *h, const struct config *cfg)
{
	const struct store_ssl *s = &h->ssl;
	json_t *ssl = json_pack("{s:s, s:s, s:s, s:b}", "id", s->pack_id, "status", s->status,
				"bundle_method", s->bundle_method, "wildcard", s->wildcard);

	if (!ssl)
		return NULL;
	if (s->custom)
		add_custom(ssl, s);
	else
		add_managed(ssl, s, cfg);
	add_settings(ssl, s);
	set_parsed(ssl, "validation_records", s->validation_records_json);
	add_legacy_record(ssl);
	add_delegation(ssl, h, cfg);
	set_parsed(ssl, "validation_errors", s->validation_errors_json);
	add_certificates(ssl, s);
	return ssl;
}

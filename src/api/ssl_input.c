#include "api/ssl_input.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/custom_cert_input.h"
#include "api/ssl_settings.h"
#include "lib/strlist.h"

static const char *const dcv_methods[] = {"http", "txt", "email", "cname"};
static const char *const bundle_methods[] = {"ubiquitous", "optimal", "force"};
/* Names a provider may ask for without configuring them: the public ACME CAs Cloudflare offers
 * and saasedge's own CA. Other names must be configured as ca.<name>. */
static const char *const builtin_cas[] = {"internal", "lets_encrypt", "google", "ssl_com"};

const char *ssl_default_ca(const struct config *cfg)
{
	return cfg->issuance.default_ca[0] ? cfg->issuance.default_ca : "internal";
}

static int ca_known(const struct config *cfg, const char *name)
{
	return strlist_contains(builtin_cas, STRLIST_LEN(builtin_cas), name) ||
	       config_find_ca(cfg, name);
}

/* A member that is JSON null counts as absent: clients serialise unset optionals as null. */
static const json_t *member(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_null(v) ? NULL : v;
}

/* The requested changes, checked one field at a time; NULL members were not sent. */
struct ssl_request {
	const char *method, *type, *bundle_method, *ca;
	int wildcard; /* -1 not sent */
	const json_t *settings;
	int settings_null; /* "settings": null, which removes them all */
};

static int parse_request(const json_t *ssl, const struct config *cfg, struct ssl_request *rq,
			 struct api_response *res)
{
	const json_t *v;
	char why[160];

	if ((v = member(ssl, "method"))) {
		if (!json_is_string(v) ||
		    !strlist_contains(dcv_methods, STRLIST_LEN(dcv_methods), json_string_value(v)))
			return api_fail(res, API_ERR_DCV_METHOD, NULL), -1;
		rq->method = json_string_value(v);
	}
	if ((v = member(ssl, "type"))) {
		if (!json_is_string(v) || strcmp(json_string_value(v), "dv") != 0)
			return api_fail(res, API_ERR_DCV_TYPE, NULL), -1;
		rq->type = json_string_value(v);
	}
	if (!rq->method != !rq->type)
		return api_fail(res, API_ERR_DCV_BOTH_REQUIRED, NULL), -1;
	if ((v = member(ssl, "bundle_method"))) {
		if (!json_is_string(v) ||
		    !strlist_contains(bundle_methods, STRLIST_LEN(bundle_methods), json_string_value(v)))
			return api_fail(res, API_ERR_BUNDLE_METHOD, NULL), -1;
		rq->bundle_method = json_string_value(v);
	}
	if ((v = member(ssl, "certificate_authority"))) {
		if (!json_is_string(v))
			return api_fail(res, API_ERR_SSL_INVALID,
					"certificate_authority must be a string"), -1;
		rq->ca = json_string_value(v);
		if (rq->ca[0] && !ca_known(cfg, rq->ca)) {
			snprintf(why, sizeof(why),
				 "certificate_authority '%.64s' is not configured here", rq->ca);
			return api_fail(res, API_ERR_SSL_INVALID, why), -1;
		}
	}
	rq->wildcard = -1;
	if ((v = member(ssl, "wildcard"))) {
		if (!json_is_boolean(v))
			return api_fail(res, API_ERR_SSL_INVALID, "wildcard must be true or false"),
			       -1;
		rq->wildcard = json_is_true(v);
	}
	rq->settings_null = json_is_null(json_object_get(ssl, "settings"));
	if ((v = member(ssl, "settings"))) {
		if (!json_is_object(v))
			return api_fail(res, API_ERR_SSL_INVALID, "settings must be an object"), -1;
		rq->settings = v;
	}
	return 0;
}

/* The settings object replaces the stored one: a setting left out is removed. Cloudflare
 * answers a PATCH of one setting with the others reset (cloudflare-docs#5477), and Terraform v5
 * removes a setting by sending the settings without it. WHOLE says SSL is a whole certificate
 * configuration (a DCV method and type, or an upload, as Cloudflare asks for and Terraform v5
 * and cloudflare-go v0 always send), which carries all its settings: none without a settings
 * member. So does "settings": null. An ssl object of settings or bundle_method alone
 * (saasedge's extension) keeps the stored settings unless it names them. */
static int replace_settings(struct store_ssl *s, const json_t *given, int whole,
			    struct api_response *res)
{
	json_t *settings;
	char *text;

	if (!given && !whole && s->settings_json)
		return 0;
	settings = json_object();
	if (!settings)
		return api_fail(res, API_ERR_INTERNAL, NULL), -1;
	if (given && ssl_settings_merge(given, settings, res)) {
		json_decref(settings);
		return -1;
	}
	text = json_dumps(settings, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(settings);
	if (!text)
		return api_fail(res, API_ERR_INTERNAL, NULL), -1;
	free(s->settings_json);
	s->settings_json = text;
	return 0;
}

/* The custom-certificate form of S; UPLOAD says a new certificate comes with the request. */
static void set_custom(struct store_ssl *s, const char *bundle_method, int upload)
{
	if (bundle_method || !s->bundle_method[0])
		snprintf(s->bundle_method, sizeof(s->bundle_method), "%s",
			 bundle_method ? bundle_method : "ubiquitous");
	if (!upload)
		return;
	s->enabled = 1;
	s->custom = 1;
	s->method[0] = s->type[0] = s->certificate_authority[0] = '\0';
	s->wildcard = 0;
	snprintf(s->status, sizeof(s->status), "pending_deployment");
}

int ssl_input_apply(const json_t *ssl, const struct config *cfg, int wildcard_host,
		    struct store_ssl *s, enum store_ssl_change *change, struct api_response *res)
{
	struct ssl_request rq = {0};
	int was_enabled = s->enabled;

	*change = STORE_SSL_KEEP;
	if (!json_is_object(ssl))
		return api_fail(res, API_ERR_SSL_INVALID, "ssl must be an object"), -1;
	if (parse_request(ssl, cfg, &rq, res) ||
	    replace_settings(s, rq.settings,
			     rq.method || rq.settings_null || custom_cert_in_request(ssl), res))
		return -1;
	if (custom_cert_in_request(ssl) || (s->custom && !rq.method)) {
		/* An upload, or settings of an uploaded certificate: no DCV and no CA. The
		 * certificate itself is checked by custom_cert_input.h. */
		set_custom(s, rq.bundle_method, custom_cert_in_request(ssl));
		return 0;
	}
	if (s->custom) {
		/* A DCV method on an uploaded certificate: back to a managed one, in a new pack
		 * that the caller creates (s->pack_id cleared). */
		was_enabled = 0;
		s->custom = 0;
		s->pack_id[0] = '\0';
		s->custom_csr_id[0] = '\0';
		s->uploaded_on_us = 0;
	}

	/* Copies: the defaults below may point into S, which is rewritten further down. */
	char ca[sizeof(s->certificate_authority)], method[sizeof(s->method)];
	snprintf(ca, sizeof(ca), "%s",
		 rq.ca ? (rq.ca[0] ? rq.ca : ssl_default_ca(cfg))
		       : (was_enabled ? s->certificate_authority : ssl_default_ca(cfg)));
	snprintf(method, sizeof(method), "%s",
		 rq.method ? rq.method : (was_enabled ? s->method : "http"));
	int wildcard = rq.wildcard >= 0 ? rq.wildcard : (was_enabled ? s->wildcard : 0);
	if ((wildcard || wildcard_host) && strcmp(method, "http") == 0)
		return api_fail(res, API_ERR_WILDCARD_HTTP, NULL), -1;
	if (strcmp(method, "email") == 0 && strcmp(ca, "internal") != 0)
		return api_fail(res, API_ERR_DCV_EMAIL_ACME, ca), -1;

	int changed = !was_enabled || strcmp(method, s->method) != 0 ||
		      strcmp(ca, s->certificate_authority) != 0 || wildcard != s->wildcard;
	if (changed) {
		/* A new method, CA or name set means a new certificate: start over (a new pack
		 * starts at initializing). */
		*change = STORE_SSL_RESTART;
		snprintf(s->status, sizeof(s->status), "initializing");
	} else if (rq.method && strcmp(s->status, "active") != 0) {
		/* The same values again are Cloudflare's "recheck now"; a timed-out pack restarts. */
		*change = strstr(s->status, "timed_out") ? STORE_SSL_RESTART : STORE_SSL_RECHECK;
	}
	s->enabled = 1;
	snprintf(s->method, sizeof(s->method), "%s", method);
	snprintf(s->type, sizeof(s->type), "dv");
	snprintf(s->certificate_authority, sizeof(s->certificate_authority), "%s", ca);
	s->wildcard = wildcard;
	if (rq.bundle_method || !was_enabled)
		snprintf(s->bundle_method, sizeof(s->bundle_method), "%s",
			 rq.bundle_method ? rq.bundle_method : "ubiquitous");
	return 0;
}

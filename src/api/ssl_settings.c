#include "api/ssl_settings.h"

#include <string.h>

#include "lib/strlist.h"

/* Cloudflare's accepted cipher suites (OpenSSL spells them the same way). */
static const char *const known_ciphers[] = {
	"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305",
	"ECDHE-RSA-AES128-GCM-SHA256",   "ECDHE-RSA-CHACHA20-POLY1305",
	"ECDHE-ECDSA-AES128-SHA256",     "ECDHE-ECDSA-AES128-SHA",
	"ECDHE-RSA-AES128-SHA256",       "ECDHE-RSA-AES128-SHA",
	"AES128-GCM-SHA256",             "AES128-SHA256",
	"AES128-SHA",                    "ECDHE-ECDSA-AES256-GCM-SHA384",
	"ECDHE-ECDSA-AES256-SHA384",     "ECDHE-RSA-AES256-GCM-SHA384",
	"ECDHE-RSA-AES256-SHA384",       "ECDHE-RSA-AES256-SHA",
	"AES256-GCM-SHA384",             "AES256-SHA256",
	"AES256-SHA",                    "DES-CBC3-SHA",
};

/* The on/off settings and the error each answers. */
static const struct {
	const char *key;
	enum api_error err;
} switches[] = {
	{"http2", API_ERR_HTTP2_SETTING},
	{"tls_1_3", API_ERR_TLS13_SETTING},
	{"tls_1_2_only", API_ERR_TLS12_ONLY_SETTING},
	{"early_hints", API_ERR_SSL_INVALID},
};

static int one_of(const json_t *v, const char *const *allowed, size_t n)
{
	return json_is_string(v) && strlist_contains(allowed, n, json_string_value(v));
}

static int check_ciphers(const json_t *v, struct api_response *res)
{
	size_t i, j;
	json_t *c;
	size_t n_known = sizeof(known_ciphers) / sizeof(known_ciphers[0]);

	if (!json_is_array(v)) {
		api_fail(res, API_ERR_CIPHERS_SETTING, "ciphers must be an array of names");
		return -1;
	}
	json_array_foreach(v, i, c) {
		if (!one_of(c, known_ciphers, n_known)) {
			api_fail(res, API_ERR_CIPHERS_SETTING,
				 json_is_string(c) ? json_string_value(c) : "not a string");
			return -1;
		}
		for (j = 0; j < i; j++) {
			if (json_equal(c, json_array_get(v, j))) {
				api_fail(res, API_ERR_CIPHERS_SETTING, "a cipher is listed twice");
				return -1;
			}
		}
	}
	return 0;
}

static int check_one(const char *key, const json_t *v, struct api_response *res)
{
	static const char *const versions[] = {"1.0", "1.1", "1.2", "1.3"};
	static const char *const on_off[] = {"on", "off"};

	if (strcmp(key, "min_tls_version") == 0) {
		if (!one_of(v, versions, 4)) {
			api_fail(res, API_ERR_MIN_TLS_SETTING, NULL);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "ciphers") == 0)
		return check_ciphers(v, res);
	for (size_t i = 0; i < sizeof(switches) / sizeof(switches[0]); i++) {
		if (strcmp(key, switches[i].key) == 0 && !one_of(v, on_off, 2)) {
			api_fail(res, switches[i].err, "early_hints must be 'on' or 'off'");
			return -1;
		}
	}
	return 0;
}

static int is_known_key(const char *key)
{
	if (strcmp(key, "min_tls_version") == 0 || strcmp(key, "ciphers") == 0)
		return 1;
	for (size_t i = 0; i < sizeof(switches) / sizeof(switches[0]); i++)
		if (strcmp(key, switches[i].key) == 0)
			return 1;
	return 0;
}

int ssl_settings_merge(const json_t *given, json_t *settings, struct api_response *res)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)given, key, v) {
		if (!is_known_key(key))
			continue;
		if (json_is_null(v)) {
			json_object_del(settings, key);
			continue;
		}
		if (check_one(key, v, res))
			return -1;
		json_object_set(settings, key, v);
	}
	const json_t *min = json_object_get(settings, "min_tls_version");
	const json_t *ciphers = json_object_get(settings, "ciphers");
	if (ciphers && json_array_size(ciphers) > 0 && min &&
	    strcmp(json_string_value(min), "1.3") == 0) {
		api_fail(res, API_ERR_CIPHERS_TLS13, NULL);
		return -1;
	}
	return 0;
}

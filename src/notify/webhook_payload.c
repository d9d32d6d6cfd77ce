#include "notify/webhook_payload.h"

#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <string.h>

#include "lib/error.h"
#include "lib/timeutil.h"

char *webhook_payload(const char *event_id, const char *event_type, int64_t created_at_us,
		      const char *account_id, const char *zone_id, json_t *data)
{
	char created[TIME_RFC3339_LEN + 1];
	json_t *body;
	char *text;

	time_format_rfc3339(created_at_us, created);
	if (!data)
		data = json_object();
	body = json_pack("{s:{s:{s:s, s:s, s:s}, s:{s:s}, s:{s:s}}, s:o}", "metadata", "event",
			 "id", event_id, "type", event_type, "created_at", created, "account", "id",
			 account_id, "zone", "id", zone_id, "data", data);
	if (!body)
		return NULL;
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	return text;
}

/* Copies HOST's KEY into OUT when HOST has it. */
static int copy_field(json_t *out, const json_t *host, const char *key)
{
	json_t *v = json_object_get(host, key);

	return v ? json_object_set(out, key, v) : 0;
}

json_t *webhook_hostname_data(const json_t *host, const char *status)
{
	json_t *data = json_object();
	json_t *ssl = json_object_get(host, "ssl");
	int rc = data ? 0 : -1;

	if (rc == 0)
		rc = copy_field(data, host, "id") | copy_field(data, host, "hostname");
	if (rc == 0 && ssl) {
		/* A copy: the event's status, which may differ from the hostname's by now. */
		json_t *copy = json_deep_copy(ssl);

		rc = copy ? 0 : -1;
		if (rc == 0 && status)
			rc = json_object_set_new(copy, "status", json_string(status));
		if (rc == 0)
			rc = json_object_set_new(data, "ssl", copy);
		else
			json_decref(copy);
	}
	if (rc == 0)
		rc = copy_field(data, host, "custom_metadata") |
		     copy_field(data, host, "custom_origin_server");
	if (rc) {
		json_decref(data);
		return NULL;
	}
	return data;
}

char *webhook_test_payload(void)
{
	json_t *body = json_pack(
	    "{s:s}", "text",
	    "Hello World! This is a test message sent from saasedge. If you can see this, your "
	    "webhook is configured properly.");
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;

	json_decref(body);
	return text;
}

int webhook_sign(const char *secret, int64_t unix_seconds, const char *body,
		 char out[WEBHOOK_SIGNATURE_MAX])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char mac[EVP_MAX_MD_SIZE];
	char stamp[24];
	EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
	OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0),
			       OSSL_PARAM_construct_end()};
	size_t len = 0;
	int n = snprintf(stamp, sizeof(stamp), "%lld.", (long long)unix_seconds);
	int rc = SE_ECRYPTO;

	if (ctx && EVP_MAC_init(ctx, (const unsigned char *)secret, strlen(secret), params) == 1 &&
	    EVP_MAC_update(ctx, (const unsigned char *)stamp, (size_t)n) == 1 &&
	    EVP_MAC_update(ctx, (const unsigned char *)body, strlen(body)) == 1 &&
	    EVP_MAC_final(ctx, mac, &len, sizeof(mac)) == 1 && len == 32) {
		char *w = out + snprintf(out, WEBHOOK_SIGNATURE_MAX,
					 "t=%lld,v1=", (long long)unix_seconds);

		for (size_t i = 0; i < len; i++) {
			*w++ = hex[mac[i] >> 4];
			*w++ = hex[mac[i] & 15];
		}
		*w = '\0';
		rc = 0;
	}
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(hmac);
	return rc;
}

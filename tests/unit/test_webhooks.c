/* Unit tests of src/notify's pure parts: which change-feed event is which Cloudflare webhook
 * event, the message body, the data taken from a hostname object, the HMAC signature (against
 * a value computed with Python's hmac module), and the retry backoff. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "notify/notify_int.h"
#include "notify/webhook_events.h"
#include "notify/webhook_payload.h"

#define P "ssl.custom_hostname_certificate."

static const char *type_of(const char *kind, const char *from, const char *to)
{
	struct store_event ev;

	memset(&ev, 0, sizeof(ev));
	snprintf(ev.kind, sizeof(ev.kind), "%s", kind);
	snprintf(ev.old_status, sizeof(ev.old_status), "%s", from);
	snprintf(ev.new_status, sizeof(ev.new_status), "%s", to);
	return webhook_event_type(&ev);
}

static void expect_type(const char *kind, const char *from, const char *to, const char *want)
{
	const char *got = type_of(kind, from, to);

	if (!want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
}

static void test_event_types(void **state)
{
	(void)state;
	expect_type("ssl.status", "pending_validation", "pending_issuance",
		    P "validation.succeeded");
	expect_type("ssl.status", "initializing", "pending_issuance", P "validation.succeeded");
	expect_type("ssl.status", "pending_validation", "validation_timed_out",
		    P "validation.failed");
	expect_type("ssl.status", "pending_issuance", "pending_deployment", P "issuance.succeeded");
	expect_type("ssl.status", "pending_validation", "pending_deployment",
		    P "issuance.succeeded");
	expect_type("ssl.status", "pending_issuance", "issuance_timed_out", P "issuance.failed");
	expect_type("ssl.status", "pending_deployment", "active", P "deployment.succeeded");
	expect_type("ssl.status", "active", "pending_deployment", P "renewal.succeeded");
	expect_type("ssl.status", "expired", "pending_deployment", P "renewal.succeeded");
	expect_type("ssl.status", "active", "pending_expiration",
		    P "renewal.upcoming_certificate_expiration_notification");
	expect_type("ssl.validation_errors", "pending_validation", "pending_validation",
		    P "validation.failed");
	expect_type("ssl.validation_errors", "active", "active", P "renewal.failed");
	expect_type("hostname.deleted", "active", "", P "deletion.succeeded");
	/* Moves no webhook tells: a restart, records shown, an edge's own bookkeeping. */
	expect_type("ssl.status", "active", "initializing", NULL);
	expect_type("ssl.status", "initializing", "pending_validation", NULL);
	expect_type("ssl.status", "pending_issuance", "pending_validation", NULL);
	expect_type("ssl.validation_records", "pending_validation", "pending_validation", NULL);
	expect_type("hostname.created", "", "pending", NULL);
	expect_type("certificate.stored", "", "pending_deployment", NULL);
	expect_type("fallback_origin.updated", "", "", NULL);
}

static void test_payload(void **state)
{
	json_t *data = json_pack("{s:s}", "id", "h1"), *body, *event;
	char *text;

	(void)state;
	text = webhook_payload("0d89c70d-ad9f-4843-b99f-6cc0252067e9", P "issuance.succeeded",
			       1644365008385080LL, "acct", "zone", data);
	assert_non_null(text);
	body = json_loads(text, 0, NULL);
	assert_non_null(body);
	event = json_object_get(json_object_get(body, "metadata"), "event");
	assert_string_equal(json_string_value(json_object_get(event, "id")),
			    "0d89c70d-ad9f-4843-b99f-6cc0252067e9");
	assert_string_equal(json_string_value(json_object_get(event, "type")),
			    P "issuance.succeeded");
	assert_string_equal(json_string_value(json_object_get(event, "created_at")),
			    "2022-02-09T00:03:28.385080Z");
	assert_string_equal(
	    json_string_value(json_object_get(
		json_object_get(json_object_get(body, "metadata"), "account"), "id")),
	    "acct");
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(json_object_get(body, "metadata"), "zone"), "id")),
			    "zone");
	assert_string_equal(json_string_value(json_object_get(json_object_get(body, "data"), "id")),
			    "h1");
	json_decref(body);
	free(text);
}

static void test_hostname_data(void **state)
{
	json_t *host = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s}, s:s, s:s}", "id",
				 "h1", "hostname", "app.customer.com", "status", "active", "ssl",
				 "id", "p1", "status", "active", "method", "txt", "custom_metadata",
				 "k", "v", "custom_origin_server", "origin.provider.com",
				 "created_at", "2022-02-09T00:03:28.385080Z");
	json_t *data;

	(void)state;
	data = webhook_hostname_data(host, "pending_deployment");
	assert_non_null(data);
	assert_string_equal(json_string_value(json_object_get(data, "hostname")),
			    "app.customer.com");
	/* The event's status, not the hostname's of now; the hostname object is untouched. */
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(data, "ssl"), "status")),
	    "pending_deployment");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(host, "ssl"), "status")), "active");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(data, "custom_metadata"), "k")), "v");
	assert_string_equal(json_string_value(json_object_get(data, "custom_origin_server")),
			    "origin.provider.com");
	/* Only Cloudflare's fields of data. */
	assert_null(json_object_get(data, "status"));
	assert_null(json_object_get(data, "created_at"));
	json_decref(data);
	json_decref(host);
}

static void test_signature(void **state)
{
	char sig[WEBHOOK_SIGNATURE_MAX];

	(void)state;
	assert_int_equal(webhook_sign("k3y", 1700000000, "{\"a\":1}", sig), 0);
	assert_string_equal(
	    sig,
	    "t=1700000000,v1=fd5a70e965043f7df6309c2c3b5ff5a8ffa99b1f5175e9a311459e73c4634d4a");
	assert_int_equal(webhook_sign("k3y", 1700000001, "{\"a\":1}", sig), 0);
	assert_string_not_equal(
	    sig,
	    "t=1700000001,v1=fd5a70e965043f7df6309c2c3b5ff5a8ffa99b1f5175e9a311459e73c4634d4a");
}

static void test_backoff(void **state)
{
	(void)state;
	/* Doubling from a second, at most a quarter more for jitter, capped at an hour (+25 %). */
	assert_true(notify_backoff_us(1, 0) == 1000000);
	assert_true(notify_backoff_us(2, 0) == 2000000);
	assert_true(notify_backoff_us(5, 0) == 16000000);
	assert_true(notify_backoff_us(1, 1023) < 1250000);
	assert_true(notify_backoff_us(1, 1023) > 1000000);
	assert_true(notify_backoff_us(40, 0) == 3600000000LL);
	assert_true(notify_backoff_us(1000000, 1023) <= 4500000000LL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_event_types),   cmocka_unit_test(test_payload),
	    cmocka_unit_test(test_hostname_data), cmocka_unit_test(test_signature),
	    cmocka_unit_test(test_backoff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

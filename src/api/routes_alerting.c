/* Cloudflare's notification API, the part an SSL for SaaS provider uses for webhooks, under
 * /accounts/{id}/alerting/v3: webhook destinations, policies that send the custom hostname
 * alerts to them, and the history of what was sent (with saasedge's delivery state beside
 * Cloudflare's fields). Sending is the notifier's (src/notify): nothing here waits on a
 * receiver, not even the test message a new destination gets, which goes through the outbox
 * like any other. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "lib/error.h"
#include "lib/ids.h"
#include "lib/timeutil.h"
#include "notify/webhook_events.h"
#include "notify/webhook_payload.h"

#define NAME_MAX_LEN   255
#define SECRET_MAX_LEN 255
#define URL_MAX_LEN    1000

/* An RFC 3339 time, or JSON null for 0 ("never"). */
static json_t *time_or_null(int64_t us)
{
	char text[TIME_RFC3339_LEN + 1];

	if (us == 0)
		return json_null();
	time_format_rfc3339(us, text);
	return json_string(text);
}

static json_t *destination_json(const struct store_webhook_destination *d)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "id", d->id, "name", d->name, "url",
			 d->url, "type", "generic", "created_at", time_or_null(d->created_at_us),
			 "last_success", time_or_null(d->last_success_us), "last_failure",
			 time_or_null(d->last_failure_us));
}

/* The string member KEY of BODY: *OUT borrowed, NULL when absent. -1 (RES filled) when it is
 * there but not a string of 1..MAX characters. */
static int string_field(json_t *body, const char *key, size_t max, int required, const char **out,
			struct api_response *res)
{
	json_t *v = json_object_get(body, key);
	char msg[160];

	*out = NULL;
	if (!v || json_is_null(v)) {
		if (!required)
			return 0;
		snprintf(msg, sizeof(msg), "`%s` is required", key);
	} else if (!json_is_string(v) || json_string_length(v) == 0 ||
		   json_string_length(v) > max ||
		   strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(msg, sizeof(msg), "`%s` must be a string of 1 to %zu characters", key,
			 max);
	} else {
		*out = json_string_value(v);
		return 0;
	}
	api_fail(res, API_ERR_ALERTING_INPUT, msg);
	return -1;
}

/* 0 when URL is an absolute http:// or https:// URL with a host. */
static int url_check(const char *url, struct api_response *res)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
		 curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
		 curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
		 (strcmp(scheme, "https") == 0 || strcmp(scheme, "http") == 0) && host[0];

	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	if (ok)
		return 0;
	api_fail(res, API_ERR_ALERTING_INPUT, "`url` must be an http:// or https:// URL");
	return -1;
}

/* Reads name, url and secret of a destination from REQ's body into D (the secret sealed). */
static int destination_input(struct api_request *req, struct store_webhook_destination *d,
			     struct api_response *res)
{
	json_t *body = req->body ? json_loadb(req->body, req->body_len, 0, NULL) : NULL;
	const char *name, *url, *secret;
	int rc = -1;

	if (!json_is_object(body))
		api_fail(res, API_ERR_BAD_JSON, NULL);
	else if (string_field(body, "name", NAME_MAX_LEN, 1, &name, res) == 0 &&
		 string_field(body, "url", URL_MAX_LEN, 1, &url, res) == 0 &&
		 string_field(body, "secret", SECRET_MAX_LEN, 0, &secret, res) == 0 &&
		 url_check(url, res) == 0) {
		snprintf(d->name, sizeof(d->name), "%s", name);
		snprintf(d->url, sizeof(d->url), "%s", url);
		rc = !secret     ? 0
		     : !req->box ? SE_EINVAL
				 : secretbox_seal(req->box, secret, strlen(secret), d->id,
						  &d->secret_sealed, &d->secret_sealed_len);
		if (rc)
			api_fail(res, API_ERR_INTERNAL, NULL);
	}
	json_decref(body);
	return rc;
}

void api_webhook_create(struct api_request *req, struct api_response *res)
{
	struct store_webhook_destination d;
	struct store_webhook_delivery test;
	int rc;

	memset(&d, 0, sizeof(d));
	memset(&test, 0, sizeof(test));
	if (ids_uuid(d.id) || ids_uuid(test.event_id)) {
		api_fail(res, API_ERR_INTERNAL, NULL);
		return;
	}
	if (destination_input(req, &d, res))
		goto out;
	snprintf(d.account_id, sizeof(d.account_id), "%s", req->account_id);
	d.created_at_us = time_now_us();
	/* Cloudflare checks a new destination with a test message; here it is queued with it. */
	test.payload = webhook_test_payload();
	snprintf(test.destination_id, sizeof(test.destination_id), "%s", d.id);
	snprintf(test.account_id, sizeof(test.account_id), "%s", d.account_id);
	snprintf(test.ordering_key, sizeof(test.ordering_key), "test");
	snprintf(test.event_type, sizeof(test.event_type), "%s", WEBHOOK_TEST_EVENT);
	test.next_attempt_us = test.created_at_us = d.created_at_us;
	rc = test.payload ? store_webhook_destination_create(req->store, &d, &test) : SE_ENOMEM;
	if (rc)
		api_fail_store(res, rc, API_ERR_WEBHOOK_NOT_FOUND);
	else
		api_respond(res, 201,
			    json_pack("{s:s}", "id", d.id)); /* Cloudflare's, for this one */
out:
	free(test.payload);
	store_webhook_destination_dispose(&d);
}

void api_webhook_list(struct api_request *req, struct api_response *res)
{
	struct store_webhook_destination *items = NULL;
	size_t n = 0;
	json_t *arr;
	int rc = store_webhook_destination_list(req->store, req->account_id, &items, &n);

	if (rc) {
		api_fail_store(res, rc, API_ERR_WEBHOOK_NOT_FOUND);
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < n && arr; i++)
		json_array_append_new(arr, destination_json(&items[i]));
	store_webhook_destination_list_free(items, n);
	api_respond(res, 200, arr);
}

void api_webhook_get(struct api_request *req, struct api_response *res)
{
	struct store_webhook_destination d;
	int rc = store_webhook_destination_get(req->store, req->account_id, req->object_id, &d);

	if (rc) {
		api_fail_store(res, rc, API_ERR_WEBHOOK_NOT_FOUND);
		return;
	}
	api_respond(res, 200, destination_json(&d));
	store_webhook_destination_dispose(&d);
}

void api_webhook_update(struct api_request *req, struct api_response *res)
{
	struct store_webhook_destination d;
	int rc;

	memset(&d, 0, sizeof(d));
	if (!ids_is_uuid(req->object_id)) {
		api_fail(res, API_ERR_WEBHOOK_NOT_FOUND, NULL);
		return;
	}
	snprintf(d.id, sizeof(d.id), "%.36s", req->object_id);
	snprintf(d.account_id, sizeof(d.account_id), "%s", req->account_id);
	if (destination_input(req, &d, res) == 0) {
		rc = store_webhook_destination_update(req->store, &d);
		if (rc)
			api_fail_store(res, rc, API_ERR_WEBHOOK_NOT_FOUND);
		else
			api_respond(res, 200, json_pack("{s:s}", "id", d.id));
	}
	store_webhook_destination_dispose(&d);
}

void api_webhook_delete(struct api_request *req, struct api_response *res)
{
	int rc = store_webhook_destination_delete(req->store, req->account_id, req->object_id);

	if (rc)
		api_fail_store(res, rc, API_ERR_WEBHOOK_NOT_FOUND);
	else
		api_respond(res, 200, NULL);
}

/* ---- policies ---------------------------------------------------------------------------- */

static json_t *policy_json(const struct store_alert_policy *p)
{
	json_t *mech = json_loads(p->mechanisms_json ? p->mechanisms_json : "{}", 0, NULL);
	json_t *filters = json_loads(p->filters_json ? p->filters_json : "{}", 0, NULL);

	return json_pack("{s:s, s:s, s:s, s:b, s:s, s:o, s:o, s:o, s:o}", "id", p->id, "name",
			 p->name, "description", p->description ? p->description : "", "enabled",
			 p->enabled, "alert_type", p->alert_type, "mechanisms",
			 mech ? mech : json_object(), "filters", filters ? filters : json_object(),
			 "created", time_or_null(p->created_at_us), "modified",
			 time_or_null(p->modified_at_us));
}

/* 0 when MECH names only webhook destinations of REQ's account, at least one. */
static int mechanisms_check(struct api_request *req, json_t *mech, struct api_response *res)
{
	const char *key, *msg = NULL;
	json_t *v, *hook;
	size_t i, hooks = 0;
	char text[200];

	if (!json_is_object(mech)) {
		api_fail(res, API_ERR_ALERTING_INPUT, "`mechanisms` is required: an object");
		return -1;
	}
	json_object_foreach(mech, key, v)
	{
		/* Clients that send every mechanism, the unused ones empty, are served. */
		if (json_is_array(v) && json_array_size(v) == 0)
			continue;
		if (strcmp(key, "webhooks") != 0) {
			snprintf(text, sizeof(text),
				 "mechanism `%.40s` is not supported: saasedge sends webhooks",
				 key);
			api_fail(res, API_ERR_ALERTING_INPUT, text);
			return -1;
		}
		if (!json_is_array(v)) {
			msg = "`mechanisms.webhooks` must be an array of {\"id\": …}";
			break;
		}
		json_array_foreach(v, i, hook)
		{
			const char *id = json_string_value(json_object_get(hook, "id"));
			struct store_webhook_destination d;
			int rc;

			if (!id || !ids_is_uuid(id)) {
				msg = "`mechanisms.webhooks[].id` must be a destination id";
				break;
			}
			rc = store_webhook_destination_get(req->store, req->account_id, id, &d);
			store_webhook_destination_dispose(&d);
			if (rc == SE_ENOTFOUND) {
				snprintf(text, sizeof(text),
					 "webhook destination %s does not exist", id);
				api_fail(res, API_ERR_ALERTING_INPUT, text);
				return -1;
			}
			if (rc) {
				api_fail_store(res, rc, API_ERR_WEBHOOK_NOT_FOUND);
				return -1;
			}
			hooks++;
		}
	}
	if (!msg && hooks == 0)
		msg = "`mechanisms.webhooks` must name at least one destination";
	if (msg) {
		api_fail(res, API_ERR_ALERTING_INPUT, msg);
		return -1;
	}
	return 0;
}

/* 0 when FILTERS (absent is fine) has only the keys saasedge applies, each an array of
 * strings. Anything else is refused rather than ignored, so no policy sends more than its
 * author meant. */
static int filters_check(json_t *filters, struct api_response *res)
{
	const char *key;
	json_t *v, *item;
	size_t i;
	char text[200];

	if (!filters || json_is_null(filters))
		return 0;
	if (!json_is_object(filters)) {
		api_fail(res, API_ERR_ALERTING_INPUT, "`filters` must be an object");
		return -1;
	}
	json_object_foreach(filters, key, v)
	{
		if (json_is_array(v) && json_array_size(v) == 0)
			continue; /* an empty filter filters nothing */
		if (strcmp(key, "zones") != 0 && strcmp(key, "event_type") != 0) {
			snprintf(text, sizeof(text),
				 "filter `%.40s` is not supported: use `zones` or `event_type`",
				 key);
			api_fail(res, API_ERR_ALERTING_INPUT, text);
			return -1;
		}
		if (!json_is_array(v))
			goto bad;
		json_array_foreach(v, i, item)
		{
			if (!json_is_string(item) || json_string_length(item) > 128)
				goto bad;
		}
	}
	return 0;
bad:
	snprintf(text, sizeof(text), "filter `%.40s` must be an array of strings", key);
	api_fail(res, API_ERR_ALERTING_INPUT, text);
	return -1;
}

/* Reads a policy from REQ's body into P (strings malloc'd into P). */
static int policy_input(struct api_request *req, struct store_alert_policy *p,
			struct api_response *res)
{
	json_t *body = req->body ? json_loadb(req->body, req->body_len, 0, NULL) : NULL;
	json_t *enabled, *mech, *filters;
	const char *name, *type, *description;
	char text[200];
	int rc = -1;

	if (!json_is_object(body)) {
		api_fail(res, API_ERR_BAD_JSON, NULL);
		goto out;
	}
	enabled = json_object_get(body, "enabled");
	mech = json_object_get(body, "mechanisms");
	filters = json_object_get(body, "filters");
	if (string_field(body, "name", NAME_MAX_LEN, 1, &name, res) ||
	    string_field(body, "alert_type", 64, 1, &type, res) ||
	    string_field(body, "description", 1024, 0, &description, res))
		goto out;
	if (strcmp(type, WEBHOOK_ALERT_TYPE) != 0) {
		snprintf(text, sizeof(text),
			 "alert_type `%.64s` is not available: saasedge sends " WEBHOOK_ALERT_TYPE,
			 type);
		api_fail(res, API_ERR_ALERTING_INPUT, text);
		goto out;
	}
	if (!json_is_boolean(enabled)) {
		api_fail(res, API_ERR_ALERTING_INPUT, "`enabled` is required: true or false");
		goto out;
	}
	if (mechanisms_check(req, mech, res) || filters_check(filters, res))
		goto out;
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->alert_type, sizeof(p->alert_type), "%s", type);
	p->enabled = json_is_true(enabled);
	p->description = strdup(description ? description : "");
	p->mechanisms_json = json_dumps(mech, JSON_COMPACT);
	p->filters_json =
	    filters && !json_is_null(filters) ? json_dumps(filters, JSON_COMPACT) : strdup("{}");
	if (!p->description || !p->mechanisms_json || !p->filters_json) {
		api_fail(res, API_ERR_INTERNAL, NULL);
		goto out;
	}
	rc = 0;
out:
	json_decref(body);
	return rc;
}

void api_policy_create(struct api_request *req, struct api_response *res)
{
	struct store_alert_policy p;
	int rc;

	memset(&p, 0, sizeof(p));
	if (ids_uuid(p.id)) {
		api_fail(res, API_ERR_INTERNAL, NULL);
		return;
	}
	if (policy_input(req, &p, res) == 0) {
		snprintf(p.account_id, sizeof(p.account_id), "%s", req->account_id);
		p.created_at_us = p.modified_at_us = time_now_us();
		rc = store_alert_policy_create(req->store, &p);
		if (rc)
			api_fail_store(res, rc, API_ERR_POLICY_NOT_FOUND);
		else
			api_respond(res, 200, json_pack("{s:s}", "id", p.id));
	}
	store_alert_policy_dispose(&p);
}

void api_policy_list(struct api_request *req, struct api_response *res)
{
	struct store_alert_policy *items = NULL;
	size_t n = 0;
	json_t *arr;
	int rc = store_alert_policy_list(req->store, req->account_id, &items, &n);

	if (rc) {
		api_fail_store(res, rc, API_ERR_POLICY_NOT_FOUND);
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < n && arr; i++)
		json_array_append_new(arr, policy_json(&items[i]));
	store_alert_policy_list_free(items, n);
	api_respond(res, 200, arr);
}

void api_policy_get(struct api_request *req, struct api_response *res)
{
	struct store_alert_policy p;
	int rc = store_alert_policy_get(req->store, req->account_id, req->object_id, &p);

	if (rc) {
		api_fail_store(res, rc, API_ERR_POLICY_NOT_FOUND);
		return;
	}
	api_respond(res, 200, policy_json(&p));
	store_alert_policy_dispose(&p);
}

void api_policy_update(struct api_request *req, struct api_response *res)
{
	struct store_alert_policy p;
	int rc;

	memset(&p, 0, sizeof(p));
	if (!ids_is_uuid(req->object_id)) {
		api_fail(res, API_ERR_POLICY_NOT_FOUND, NULL);
		return;
	}
	snprintf(p.id, sizeof(p.id), "%.36s", req->object_id);
	snprintf(p.account_id, sizeof(p.account_id), "%s", req->account_id);
	if (policy_input(req, &p, res) == 0) {
		p.modified_at_us = time_now_us();
		rc = store_alert_policy_update(req->store, &p);
		if (rc)
			api_fail_store(res, rc, API_ERR_POLICY_NOT_FOUND);
		else
			api_respond(res, 200, json_pack("{s:s}", "id", p.id));
	}
	store_alert_policy_dispose(&p);
}

void api_policy_delete(struct api_request *req, struct api_response *res)
{
	int rc = store_alert_policy_delete(req->store, req->account_id, req->object_id);

	if (rc)
		api_fail_store(res, rc, API_ERR_POLICY_NOT_FOUND);
	else
		api_respond(res, 200, NULL);
}

/* ---- history ----------------------------------------------------------------------------- */

/* Cloudflare's history entry, and saasedge's delivery state under "delivery". */
static json_t *history_json(const struct store_webhook_delivery *d)
{
	char id[24];

	snprintf(id, sizeof(id), "%lld", (long long)d->id);
	return json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:{s:s, s:s, s:s, s:i, s:i, s:s, s:o, "
	    "s:o}}",
	    "id", id, "name", d->policy_name, "description", "", "alert_body",
	    d->payload ? d->payload : "", "alert_type", WEBHOOK_ALERT_TYPE, "mechanism",
	    d->destination_id, "mechanism_type", "webhook", "policy_id", d->policy_id, "sent",
	    time_or_null(d->finished_at_us), "delivery", "event_id", d->event_id, "event_type",
	    d->event_type, "status", d->status, "attempts", d->attempts, "last_status_code",
	    d->last_status_code, "last_error", d->last_error, "next_attempt_at",
	    strcmp(d->status, "pending") == 0 ? time_or_null(d->next_attempt_us) : json_null(),
	    "created_at", time_or_null(d->created_at_us));
}

void api_history_list(struct api_request *req, struct api_response *res)
{
	struct store_webhook_delivery *items = NULL;
	struct api_page page;
	char err[160];
	size_t n = 0;
	int64_t total = 0;
	json_t *arr;
	int rc;

	if (api_page_parse(api_query(req, "page"), api_query(req, "per_page"), &page, err,
			   sizeof(err))) {
		api_fail(res, API_ERR_BAD_QUERY, err);
		return;
	}
	rc = store_webhook_delivery_list(req->store, req->account_id, api_page_offset(&page),
					 page.per_page, &items, &n, &total);
	if (rc) {
		api_fail_store(res, rc, API_ERR_WEBHOOK_NOT_FOUND);
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < n && arr; i++)
		json_array_append_new(arr, history_json(&items[i]));
	store_webhook_delivery_list_free(items, n);
	api_respond_list(res, arr, &page, total);
}

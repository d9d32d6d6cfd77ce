/* Zone-level resources under …/custom_hostnames: the fallback origin and the quota. */
#include <stdio.h>
#include <string.h>

#include "api/handlers.h"
#include "api/hostname_input.h"
#include "lib/error.h"
#include "lib/origin.h"
#include "lib/timeutil.h"

static json_t *fallback_to_json(const struct store_fallback_origin *fo)
{
	char created[TIME_RFC3339_LEN + 1], updated[TIME_RFC3339_LEN + 1];
	json_t *errors = fo->errors_json ? json_loads(fo->errors_json, 0, NULL) : NULL;

	time_format_rfc3339(fo->created_at_us, created);
	time_format_rfc3339(fo->updated_at_us, updated);
	return json_pack("{s:s, s:s, s:o, s:s, s:s}", "origin", fo->origin, "status", fo->status,
			 "errors", json_is_array(errors) ? errors : json_array(), "created_at",
			 created, "updated_at", updated);
}

void api_fallback_origin_get(struct api_request *req, struct api_response *res)
{
	struct store_fallback_origin fo = {0};
	int rc = store_fallback_origin_get(req->store, req->zone_id, &fo);

	if (rc)
		api_fail_store(res, rc, API_ERR_FALLBACK_NOT_FOUND);
	else
		api_respond(res, 200, fallback_to_json(&fo));
	store_fallback_origin_dispose(&fo);
}

void api_fallback_origin_put(struct api_request *req, struct api_response *res)
{
	struct store_fallback_origin fo = {0};
	json_t *body = req->body ? json_loadb(req->body, req->body_len, 0, NULL) : NULL;
	const json_t *origin = json_object_get(body, "origin");
	struct origin o;
	char reason[256] = "origin is required";
	int rc;

	if (!json_is_object(body)) {
		api_fail(res, API_ERR_BAD_JSON, NULL);
		goto out;
	}
	if (!json_is_string(origin)) {
		api_fail(res, API_ERR_BAD_QUERY, "origin is required and must be a string");
		goto out;
	}
	enum hostname_verdict verdict =
		origin_parse(json_string_value(origin), &o, reason, sizeof(reason));
	if (verdict == HOSTNAME_WILDCARD) {
		api_fail(res, API_ERR_ORIGIN_WILDCARD, NULL);
		goto out;
	}
	if (verdict != HOSTNAME_OK) {
		api_fail(res, verdict == HOSTNAME_NON_ASCII ? API_ERR_ORIGIN_NON_ASCII
							     : API_ERR_ORIGIN_INVALID,
			 reason);
		goto out;
	}
	if (hostname_input_origin_allowed(req->cfg, &o, res))
		goto out;
	snprintf(fo.zone_id, sizeof(fo.zone_id), "%s", req->zone_id);
	origin_format_as_sent(&o, json_string_value(origin), fo.origin, sizeof(fo.origin));
	/* The edge moves it to active once it routes there. */
	snprintf(fo.status, sizeof(fo.status), "pending_deployment");
	rc = store_fallback_origin_put(req->store, &fo);
	if (rc)
		api_fail_store(res, rc, API_ERR_FALLBACK_NOT_FOUND);
	else
		api_respond(res, 200, fallback_to_json(&fo));
out:
	json_decref(body);
	store_fallback_origin_dispose(&fo);
}

void api_fallback_origin_delete(struct api_request *req, struct api_response *res)
{
	struct store_fallback_origin fo = {0};
	int rc = store_fallback_origin_get(req->store, req->zone_id, &fo);

	if (!rc)
		rc = store_fallback_origin_delete(req->store, req->zone_id);
	if (rc) {
		api_fail_store(res, rc, API_ERR_FALLBACK_NOT_FOUND);
	} else {
		snprintf(fo.status, sizeof(fo.status), "pending_deletion");
		fo.updated_at_us = time_now_us();
		api_respond(res, 200, fallback_to_json(&fo));
	}
	store_fallback_origin_dispose(&fo);
}

void api_quota_get(struct api_request *req, struct api_response *res)
{
	struct store_zone zone;
	int rc = store_zone_get(req->store, req->zone_id, &zone);

	if (rc) {
		api_fail_store(res, rc, API_ERR_AUTH_ZONE);
		return;
	}
	api_respond(res, 200,
		    json_pack("{s:I, s:I, s:b, s:I}", "allocated", (json_int_t)zone.quota, "used",
			      (json_int_t)zone.hostname_count, "exceeded",
			      zone.hostname_count > zone.quota, "hard_cap",
			      (json_int_t)zone.hard_cap));
}

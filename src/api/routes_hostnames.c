/* POST/GET/PATCH/DELETE …/custom_hostnames[/{id}]. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "api/custom_cert_input.h"
#include "api/handlers.h"
#include "api/hostname_input.h"
#include "api/hostname_json.h"
#include "api/list_query.h"
#include "lib/error.h"
#include "lib/hostname.h"
#include "lib/ids.h"
#include "lib/log.h"
#include "lib/timeutil.h"

/* Parses the body as a JSON object; -1 with 1400 otherwise. Caller owns *out. */
static int body_object(const struct api_request *req, json_t **out, struct api_response *res)
{
	json_t *body = req->body ? json_loadb(req->body, req->body_len, 0, NULL) : NULL;

	if (!json_is_object(body)) {
		json_decref(body);
		api_fail(res, API_ERR_BAD_JSON, NULL);
		return -1;
	}
	*out = body;
	return 0;
}

/* Checks the {id} path segment and lower-cases it in place; -1 with 1435 when not a UUID. */
static int hostname_id(struct api_request *req, struct api_response *res)
{
	if (!ids_is_uuid(req->object_id)) {
		api_fail(res, API_ERR_ID_INVALID, NULL);
		return -1;
	}
	for (char *c = req->object_id; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return 0;
}

static void respond_hostname(const struct api_request *req, struct api_response *res,
			     unsigned status, const struct store_hostname *h)
{
	json_t *obj = hostname_to_json(h, req->cfg);

	if (!obj)
		api_fail(res, API_ERR_INTERNAL, NULL);
	else
		api_respond(res, status, obj);
}

static void fail_quota(struct api_request *req, struct api_response *res)
{
	struct store_zone zone;
	char allocated[32] = "no more";

	if (store_zone_get(req->store, req->zone_id, &zone) == 0)
		snprintf(allocated, sizeof(allocated), "%lld", (long long)zone.hard_cap);
	api_fail(res, API_ERR_QUOTA, allocated);
}

/* The answer to a failed store_hostname_create of NAME. A wildcard conflict is a duplicate in
 * Cloudflare's terms (1406: the name is another zone's already); the detail names only what the
 * caller sent and the wildcard it implies, never another zone's hostnames. */
static void fail_create(struct api_request *req, struct api_response *res, int rc,
			const char *name)
{
	char detail[600];
	const char *dot = strchr(name, '.');

	if (rc == SE_EQUOTA) {
		fail_quota(req, res);
		return;
	}
	if (rc != SE_ECONFLICT || !dot) {
		api_fail_store(res, rc, API_ERR_NOT_FOUND);
		return;
	}
	if (hostname_is_wildcard(name))
		snprintf(detail, sizeof(detail),
			 "another zone has custom hostnames that %s would cover", name);
	else
		snprintf(detail, sizeof(detail),
			 "%s is covered by the wildcard custom hostname *.%s of another zone", name,
			 dot + 1);
	api_fail(res, API_ERR_WILDCARD_CONFLICT, detail);
}

/* Answers with the hostname as stored now (the upload path writes in several steps). */
static void respond_stored(struct api_request *req, struct api_response *res, unsigned status,
			   const char *id)
{
	struct store_hostname h = {0};
	int rc = store_hostname_get(req->store, req->zone_id, id, &h);

	if (rc)
		api_fail_store(res, rc, API_ERR_NOT_FOUND);
	else
		respond_hostname(req, res, status, &h);
	store_hostname_dispose(&h);
}

/* Checks the certificate upload in BODY's ssl for H and makes it H's pack. CREATED says H was
 * just inserted without ssl: it is removed again if the pack cannot be stored, so that a
 * failed request leaves nothing. Nothing is written before every check has passed. */
static int store_upload(struct api_request *req, struct api_response *res, const json_t *body,
			struct store_hostname *h, int creating)
{
	struct custom_upload up;
	struct store_custom_pack pack;
	int rc;

	if (custom_upload_parse(json_object_get(body, "ssl"), h->hostname, h->ssl.bundle_method,
				req, &up, res))
		return -1;
	rc = custom_upload_to_pack(&up, &pack);
	if (rc == 0 && creating) {
		h->ssl.enabled = 0; /* the pack comes in the next transaction */
		rc = store_hostname_create(req->store, h);
		if (rc) {
			fail_create(req, res, rc, h->hostname);
			goto out;
		}
	}
	if (rc == 0) {
		rc = store_custom_pack_attach(req->store, h, &pack);
		if (rc && creating)
			store_hostname_delete(req->store, h->zone_id, h->id);
	}
	if (rc) {
		api_fail_store(res, rc, API_ERR_NOT_FOUND);
		goto out;
	}
	log_info("msg=\"custom certificate uploaded\" zone=%s id=%s hostname=%s pack=%s certs=%zu "
		 "csr=%s", h->zone_id, h->id, h->hostname, pack.pack_id, pack.n_certs,
		 up.csr_id[0] ? up.csr_id : "-");
out:
	custom_upload_dispose(&up);
	return rc ? -1 : 0;
}

/* Fills the fields a new hostname gets before the body is applied. */
static int new_hostname(const struct api_request *req, struct store_hostname *h)
{
	if (ids_uuid(h->id) || ids_uuid(h->ownership_token))
		return SE_ECRYPTO;
	snprintf(h->zone_id, sizeof(h->zone_id), "%s", req->zone_id);
	snprintf(h->status, sizeof(h->status), "pending");
	h->created_at_us = h->updated_at_us = time_now_us();
	return 0;
}

void api_hostname_create(struct api_request *req, struct api_response *res)
{
	struct store_hostname h = {0};
	json_t *body = NULL;
	enum store_ssl_change change;
	int rc;

	if (body_object(req, &body, res))
		return;
	if (new_hostname(req, &h)) {
		api_fail(res, API_ERR_INTERNAL, NULL);
		goto out;
	}
	if (hostname_input_apply(body, req->cfg, 1, &h, &change, res))
		goto out;
	if (h.ssl.custom) {
		if (store_upload(req, res, body, &h, 1) == 0)
			respond_stored(req, res, 201, h.id);
		goto out;
	}
	if (h.ssl.enabled && ids_uuid(h.ssl.pack_id)) {
		api_fail(res, API_ERR_INTERNAL, NULL);
		goto out;
	}
	rc = store_hostname_create(req->store, &h);
	if (rc)
		fail_create(req, res, rc, h.hostname);
	else
		respond_hostname(req, res, 201, &h);
	if (!rc)
		log_info("msg=\"custom hostname created\" zone=%s id=%s hostname=%s", h.zone_id,
			 h.id, h.hostname);
out:
	json_decref(body);
	store_hostname_dispose(&h);
}

void api_hostname_list(struct api_request *req, struct api_response *res)
{
	struct list_query q;
	struct store_hostname *items = NULL;
	size_t count = 0;
	int64_t total = 0;
	json_t *array;
	int rc;

	if (list_query_parse(req, &q, res))
		return;
	rc = store_hostname_list(req->store, req->zone_id, &q.filter, &items, &count, &total);
	if (rc) {
		api_fail_store(res, rc, API_ERR_NOT_FOUND);
		return;
	}
	array = json_array();
	for (size_t i = 0; i < count; i++)
		json_array_append_new(array, hostname_to_json(&items[i], req->cfg));
	store_hostname_list_free(items, count);
	api_respond_list(res, array, &q.page, total);
}

void api_hostname_get(struct api_request *req, struct api_response *res)
{
	struct store_hostname h = {0};
	int rc;

	if (hostname_id(req, res))
		return;
	rc = store_hostname_get(req->store, req->zone_id, req->object_id, &h);
	if (rc)
		api_fail_store(res, rc, API_ERR_NOT_FOUND);
	else
		respond_hostname(req, res, 200, &h);
	store_hostname_dispose(&h);
}

void api_hostname_edit(struct api_request *req, struct api_response *res)
{
	struct store_hostname h = {0};
	json_t *body = NULL;
	enum store_ssl_change change;
	int rc;

	if (hostname_id(req, res) || body_object(req, &body, res))
		return;
	rc = store_hostname_get(req->store, req->zone_id, req->object_id, &h);
	if (rc) {
		api_fail_store(res, rc, API_ERR_NOT_FOUND);
		goto out;
	}
	int was_custom = h.ssl.custom;
	if (hostname_input_apply(body, req->cfg, 0, &h, &change, res))
		goto out;
	if (h.ssl.custom && custom_cert_in_request(json_object_get(body, "ssl"))) {
		if (store_upload(req, res, body, &h, 0) == 0)
			respond_stored(req, res, 202, h.id);
		goto out;
	}
	/* No pack id: a first ssl, or the new managed pack replacing an uploaded certificate. */
	if (h.ssl.enabled && !h.ssl.pack_id[0] && ids_uuid(h.ssl.pack_id)) {
		api_fail(res, API_ERR_INTERNAL, NULL);
		goto out;
	}
	/* Cloudflare's refresh brings a moved hostname back to pending. */
	if (change != STORE_SSL_KEEP && strcmp(h.status, "moved") == 0)
		snprintf(h.status, sizeof(h.status), "pending");
	h.updated_at_us = time_now_us();
	rc = store_hostname_update(req->store, &h, change);
	/* The uploaded certificate goes at once rather than when the managed one is active: a
	 * PATCH that asks for a managed certificate no longer wants the uploaded one. */
	if (rc == 0 && was_custom && !h.ssl.custom &&
	    store_custom_packs_drop(req->store, h.id, h.ssl.pack_id))
		log_warn("msg=\"old custom pack not removed\" zone=%s id=%s", h.zone_id, h.id);
	/* The pack may be a new one: what it holds now is what the answer shows. */
	if (rc == 0)
		rc = store_hostname_read_certs(req->store, &h);
	if (rc)
		api_fail_store(res, rc, API_ERR_NOT_FOUND);
	else
		respond_hostname(req, res, 202, &h);
out:
	json_decref(body);
	store_hostname_dispose(&h);
}

void api_hostname_delete(struct api_request *req, struct api_response *res)
{
	int rc;

	if (hostname_id(req, res))
		return;
	rc = store_hostname_delete(req->store, req->zone_id, req->object_id);
	if (rc) {
		api_fail_store(res, rc, API_ERR_NOT_FOUND);
		return;
	}
	log_info("msg=\"custom hostname deleted\" zone=%s id=%s", req->zone_id, req->object_id);
	/* The TypeScript SDK returns the raw body and reads its top-level id; the others read the
	 * envelope. This body satisfies both. */
	api_respond(res, 200, json_pack("{s:s}", "id", req->object_id));
	json_object_set_new(res->body, "id", json_string(req->object_id));
}

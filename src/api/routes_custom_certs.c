/* PUT/DELETE …/custom_hostnames/{id}/certificate_pack/{pack}/certificates/{cert}: one
 * certificate of an uploaded pair replaced (same key family) or removed (not the last). */
#include <ctype.h>
#include <string.h>

#include "api/custom_cert_input.h"
#include "api/handlers.h"
#include "api/hostname_json.h"
#include "lib/error.h"
#include "lib/ids.h"
#include "lib/log.h"

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* Checks the three ids and loads the hostname into H; -1 with RES filled when the path names
 * no certificate of an uploaded pack. */
static int load_target(struct api_request *req, struct store_hostname *h, struct api_response *res)
{
	int rc;

	if (!ids_is_uuid(req->object_id))
		return api_fail(res, API_ERR_ID_INVALID, NULL), -1;
	if (!ids_is_uuid(req->sub_ids[0]) || !ids_is_uuid(req->sub_ids[1]))
		return api_fail(res, API_ERR_CUSTOM_CERT_NOT_FOUND, NULL), -1;
	lower(req->object_id);
	lower(req->sub_ids[0]);
	lower(req->sub_ids[1]);
	rc = store_hostname_get(req->store, req->zone_id, req->object_id, h);
	if (rc)
		return api_fail_store(res, rc, API_ERR_NOT_FOUND), -1;
	if (!h->ssl.custom || strcmp(h->ssl.pack_id, req->sub_ids[0]) != 0)
		return api_fail(res, API_ERR_CUSTOM_CERT_NOT_FOUND, NULL), -1;
	return 0;
}

static void respond_now(struct api_request *req, struct api_response *res)
{
	struct store_hostname h = {0};
	int rc = store_hostname_get(req->store, req->zone_id, req->object_id, &h);
	json_t *obj = rc ? NULL : hostname_to_json(&h, req->cfg);

	if (rc)
		api_fail_store(res, rc, API_ERR_NOT_FOUND);
	else if (!obj)
		api_fail(res, API_ERR_INTERNAL, NULL);
	else
		api_respond(res, 200, obj);
	store_hostname_dispose(&h);
}

/* The body's pair as an "ssl" object custom_upload_parse reads; NULL on a bad body. */
static json_t *pair_of(const struct api_request *req)
{
	json_t *body = req->body ? json_loadb(req->body, req->body_len, 0, NULL) : NULL;
	json_t *ssl = NULL;

	if (json_is_object(body))
		ssl = json_pack("{s:O?, s:O?}", "custom_certificate",
				json_object_get(body, "custom_certificate"), "custom_key",
				json_object_get(body, "custom_key"));
	json_decref(body);
	return ssl;
}

void api_custom_cert_put(struct api_request *req, struct api_response *res)
{
	struct store_hostname h = {0};
	struct store_custom_pack pack;
	struct custom_upload up;
	json_t *ssl = NULL;
	int rc;

	memset(&up, 0, sizeof(up));
	if (load_target(req, &h, res))
		goto out;
	ssl = pair_of(req);
	if (!ssl) {
		api_fail(res, API_ERR_BAD_JSON, NULL);
		goto out;
	}
	if (custom_upload_parse(ssl, h.hostname, h.ssl.bundle_method, req, &up, res))
		goto out;
	rc = custom_upload_to_pack(&up, &pack);
	if (rc == 0)
		rc = store_custom_cert_replace(req->store, req->zone_id, h.id, req->sub_ids[0],
					       req->sub_ids[1], &pack.certs[0]);
	if (rc == SE_EINVAL)
		api_fail(res, API_ERR_SSL_INVALID,
			 "a certificate is replaced by one of the same key type (RSA by RSA, "
			 "ECDSA by ECDSA)");
	else if (rc)
		api_fail_store(res, rc, API_ERR_CUSTOM_CERT_NOT_FOUND);
	else
		respond_now(req, res);
	if (rc == 0)
		log_info("msg=\"custom certificate replaced\" zone=%s id=%s pack=%s old=%s new=%s",
			 req->zone_id, h.id, req->sub_ids[0], req->sub_ids[1],
			 pack.certs[0].cert.id);
out:
	custom_upload_dispose(&up);
	json_decref(ssl);
	store_hostname_dispose(&h);
}

void api_custom_cert_delete(struct api_request *req, struct api_response *res)
{
	struct store_hostname h = {0};
	int rc;

	if (load_target(req, &h, res))
		goto out;
	rc = store_custom_cert_delete(req->store, req->zone_id, h.id, req->sub_ids[0],
				      req->sub_ids[1]);
	if (rc == SE_EBUSY) {
		api_fail(res, API_ERR_SSL_INVALID,
			 "the last certificate of a pack cannot be deleted: upload another or "
			 "delete the custom hostname");
		goto out;
	}
	if (rc) {
		api_fail_store(res, rc, API_ERR_CUSTOM_CERT_NOT_FOUND);
		goto out;
	}
	log_info("msg=\"custom certificate deleted\" zone=%s id=%s pack=%s cert=%s", req->zone_id,
		 h.id, req->sub_ids[0], req->sub_ids[1]);
	/* As for a hostname delete: the TypeScript SDK reads the raw body's top-level id. */
	api_respond(res, 200, json_pack("{s:s}", "id", req->sub_ids[1]));
	json_object_set_new(res->body, "id", json_string(req->sub_ids[1]));
out:
	store_hostname_dispose(&h);
}

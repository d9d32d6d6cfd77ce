/* POST/GET/DELETE …/custom_csrs[/{id}]: CSRs whose keys saasedge makes and keeps, under
 * /zones/{id} (the zone's own) or /accounts/{id} (the account's, usable by each of its zones). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "api/csr_input.h"
#include "api/handlers.h"
#include "lib/error.h"
#include "lib/ids.h"
#include "lib/log.h"
#include "lib/timeutil.h"

/* The zone or account whose CSRs the request is about. */
static const char *csr_owner(const struct api_request *req)
{
	return req->account_id[0] ? req->account_id : req->zone_id;
}

static json_t *csr_to_json(const struct store_csr *c)
{
	char created[TIME_RFC3339_LEN + 1];
	json_t *sans = c->sans_json ? json_loads(c->sans_json, 0, NULL) : NULL;
	json_t *obj;

	time_format_rfc3339(c->created_at_us, created);
	obj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s}", "id", c->id,
			"created_at", created, "key_type", c->key_type, "common_name",
			c->common_name, "country", c->country, "state", c->state, "locality",
			c->locality, "organization", c->organization, "sans",
			sans ? sans : json_array(), "csr", c->csr_pem ? c->csr_pem : "");
	/* Left out when none was given, as Cloudflare does: Terraform replaces a CSR whose
	 * organizational_unit reads "" against a configuration without one. */
	if (obj && c->organizational_unit[0])
		json_object_set_new(obj, "organizational_unit",
				    json_string(c->organizational_unit));
	if (obj && c->account_id[0]) /* Cloudflare's name for the owning account */
		json_object_set_new(obj, "account_tag", json_string(c->account_id));
	if (obj && c->name)
		json_object_set_new(obj, "name", json_string(c->name));
	if (obj && c->description)
		json_object_set_new(obj, "description", json_string(c->description));
	return obj;
}

/* The names the CSR carries: the common name first (keys_build_csr makes NAMES[0] the CN),
 * then the SANs other than it. Borrows RQ's strings. */
static size_t csr_names(const struct csr_request *rq, const char **names)
{
	size_t n = 0;

	names[n++] = rq->common_name;
	for (size_t i = 0; i < rq->n_sans && n < KEYS_MAX_NAMES + 1; i++)
		if (strcmp(rq->sans[i], rq->common_name) != 0)
			names[n++] = rq->sans[i];
	return n;
}

/* Makes the key and the signed CSR of RQ into C (id, key_id, csr_pem) and the sealed key.
 * *sealed is malloc'd (caller frees). 0, SE_EINVAL when OpenSSL refuses the subject, or < 0. */
static int make_csr(const struct api_request *req, const struct csr_request *rq,
		    struct store_csr *c, unsigned char **sealed, size_t *sealed_len)
{
	const char *names[KEYS_MAX_NAMES + 1];
	struct csr_subject subject = {rq->country, rq->state, rq->locality, rq->organization,
				      rq->organizational_unit};
	EVP_PKEY *pkey = NULL;
	unsigned char *der = NULL;
	size_t der_len = 0, pem_len = 0, n = csr_names(rq, names);
	int rc;

	if (n > KEYS_MAX_NAMES)
		return SE_EINVAL;
	rc = ids_uuid(c->id) || ids_uuid(c->key_id) ? SE_ECRYPTO : 0;
	if (rc == 0)
		rc = keys_generate(rq->key_type, &pkey);
	if (rc == 0)
		rc = keys_build_csr(pkey, names, n, &subject, &der, &der_len);
	if (rc == 0)
		rc = keys_csr_to_pem(der, der_len, &c->csr_pem, &pem_len);
	if (rc == 0)
		rc = keys_seal(req->box, pkey, c->key_id, sealed, sealed_len);
	OPENSSL_free(der);
	EVP_PKEY_free(pkey);
	return rc;
}

void api_csr_create(struct api_request *req, struct api_response *res)
{
	struct csr_request rq;
	struct store_csr c;
	json_t *body = req->body ? json_loadb(req->body, req->body_len, 0, NULL) : NULL;
	unsigned char *sealed = NULL;
	size_t sealed_len = 0;
	int rc;

	memset(&c, 0, sizeof(c));
	memset(&rq, 0, sizeof(rq));
	if (!json_is_object(body)) {
		api_fail(res, API_ERR_BAD_JSON, NULL);
		goto out;
	}
	if (csr_input_parse(body, &rq, res))
		goto out;
	if (!req->box) {
		api_fail(res, API_ERR_INTERNAL, NULL);
		goto out;
	}
	rc = make_csr(req, &rq, &c, &sealed, &sealed_len);
	if (rc == SE_EINVAL) {
		api_fail(res, API_ERR_CSR_FIELD,
			 "The subject or the names cannot be encoded in a "
			 "CSR. Check your input and try again.");
		goto out;
	}
	snprintf(c.zone_id, sizeof(c.zone_id), "%s", req->zone_id);
	snprintf(c.account_id, sizeof(c.account_id), "%s", req->account_id);
	snprintf(c.key_type, sizeof(c.key_type), "%s", rq.key_type_name);
	/* common_name, country and sans are answered as sent (the CSR carries them normalised):
	 * Terraform compares them with its configuration, and Cloudflare's examples echo them. */
	snprintf(c.common_name, sizeof(c.common_name), "%s",
		 json_string_value(json_object_get(body, "common_name")));
	snprintf(c.country, sizeof(c.country), "%s",
		 json_string_value(json_object_get(body, "country")));
	snprintf(c.state, sizeof(c.state), "%s", rq.state);
	snprintf(c.locality, sizeof(c.locality), "%s", rq.locality);
	snprintf(c.organization, sizeof(c.organization), "%s", rq.organization);
	snprintf(c.organizational_unit, sizeof(c.organizational_unit), "%s",
		 rq.organizational_unit);
	c.created_at_us = time_now_us();
	if (rc == 0 && !(c.sans_json = json_dumps(json_object_get(body, "sans"), JSON_COMPACT)))
		rc = SE_ENOMEM;
	if (rc == 0 && rq.name && !(c.name = strdup(rq.name)))
		rc = SE_ENOMEM;
	if (rc == 0 && rq.description && !(c.description = strdup(rq.description)))
		rc = SE_ENOMEM;
	if (rc == 0)
		rc = store_csr_create(req->store, &c, keys_type_name(rq.key_type), sealed,
				      sealed_len);
	if (rc) {
		api_fail_store(res, rc, API_ERR_CSR_NOT_FOUND);
		goto out;
	}
	api_respond(res, 201, csr_to_json(&c));
	log_info("msg=\"custom csr created\" owner=%s id=%s key_type=%s common_name=%s",
		 csr_owner(req), c.id, c.key_type, rq.common_name);
out:
	free(sealed);
	csr_request_dispose(&rq);
	store_csr_dispose(&c);
	json_decref(body);
}

void api_csr_list(struct api_request *req, struct api_response *res)
{
	struct api_page page;
	struct store_csr *items = NULL;
	const char *dir = api_query(req, "direction");
	size_t count = 0;
	int64_t total = 0;
	char err[160];
	json_t *array;
	int rc;

	if (api_page_parse(api_query(req, "page"), api_query(req, "per_page"), &page, err,
			   sizeof(err))) {
		api_fail(res, API_ERR_BAD_QUERY, err);
		return;
	}
	if (dir && strcmp(dir, "asc") != 0 && strcmp(dir, "desc") != 0) {
		api_fail(res, API_ERR_BAD_QUERY, "direction must be asc or desc");
		return;
	}
	rc = store_csr_list(req->store, csr_owner(req), dir && strcmp(dir, "desc") == 0,
			    api_page_offset(&page), page.per_page, &items, &count, &total);
	if (rc) {
		api_fail_store(res, rc, API_ERR_CSR_NOT_FOUND);
		return;
	}
	array = json_array();
	for (size_t i = 0; i < count; i++)
		json_array_append_new(array, csr_to_json(&items[i]));
	store_csr_list_free(items, count);
	api_respond_list(res, array, &page, total);
}

/* Checks the {id} segment and lower-cases it; -1 with 1418 when it is not a UUID. */
static int csr_id(struct api_request *req, struct api_response *res)
{
	if (!ids_is_uuid(req->object_id)) {
		api_fail(res, API_ERR_CSR_ID_INVALID, NULL);
		return -1;
	}
	for (char *c = req->object_id; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return 0;
}

void api_csr_get(struct api_request *req, struct api_response *res)
{
	struct store_csr c;
	int rc;

	if (csr_id(req, res))
		return;
	rc = store_csr_get(req->store, csr_owner(req), req->object_id, &c);
	if (rc)
		api_fail_store(res, rc, API_ERR_CSR_NOT_FOUND);
	else
		api_respond(res, 200, csr_to_json(&c));
	store_csr_dispose(&c);
}

void api_csr_delete(struct api_request *req, struct api_response *res)
{
	int rc;

	if (csr_id(req, res))
		return;
	rc = store_csr_delete(req->store, csr_owner(req), req->object_id);
	if (rc == SE_EBUSY) {
		api_fail(res, API_ERR_CSR_IN_USE, NULL);
		return;
	}
	if (rc) {
		api_fail_store(res, rc, API_ERR_CSR_NOT_FOUND);
		return;
	}
	log_info("msg=\"custom csr deleted\" owner=%s id=%s", csr_owner(req), req->object_id);
	api_respond(res, 200, json_pack("{s:s}", "id", req->object_id));
}

#include "api/custom_cert_input.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/ids.h"
#include "lib/log.h"
#include "lib/timeutil.h"

static const char *const upload_members[] = {"custom_certificate", "custom_key", "custom_csr_id",
					     "custom_cert_bundle"};

static const json_t *member(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_null(v) ? NULL : v;
}

int custom_cert_in_request(const json_t *ssl)
{
	for (size_t i = 0; i < sizeof(upload_members) / sizeof(upload_members[0]); i++)
		if (member(ssl, upload_members[i]))
			return 1;
	return 0;
}

void custom_upload_dispose(struct custom_upload *up)
{
	for (size_t i = 0; i < 2; i++) {
		cert_verified_dispose(&up->certs[i]);
		free(up->sealed_keys[i]);
	}
	memset(up, 0, sizeof(*up));
}

/* One certificate/key pair of the upload. */
struct pair {
	const char *cert_pem;
	const char *key_pem; /* NULL with a CSR */
};

/* The pairs SSL describes, and the CSR id when one is named; -1 with RES filled otherwise. */
static int upload_shape(const json_t *ssl, struct pair pairs[2], size_t *n, const char **csr_id,
			struct api_response *res)
{
	const json_t *bundle = member(ssl, "custom_cert_bundle");
	const json_t *cert = member(ssl, "custom_certificate"), *key = member(ssl, "custom_key");
	const json_t *csr = member(ssl, "custom_csr_id");

	*n = 0;
	*csr_id = NULL;
	if (bundle) {
		if (cert || key || csr)
			return api_fail(res, API_ERR_SSL_INVALID,
					"custom_cert_bundle excludes custom_certificate, "
					"custom_key and custom_csr_id"),
			       -1;
		if (!json_is_array(bundle) || json_array_size(bundle) < 1 ||
		    json_array_size(bundle) > 2)
			return api_fail(res, API_ERR_SSL_INVALID,
					"custom_cert_bundle must hold one or two "
					"{custom_certificate, custom_key} objects"),
			       -1;
		for (size_t i = 0; i < json_array_size(bundle); i++) {
			const json_t *e = json_array_get(bundle, i);

			pairs[i].cert_pem =
			    json_string_value(json_object_get(e, "custom_certificate"));
			pairs[i].key_pem = json_string_value(json_object_get(e, "custom_key"));
			if (!pairs[i].cert_pem)
				return api_fail(res, API_ERR_CERT_EMPTY, NULL), -1;
			if (!pairs[i].key_pem)
				return api_fail(res, API_ERR_KEY_PARSE, "custom_key is missing"),
				       -1;
		}
		*n = json_array_size(bundle);
		return 0;
	}
	if (!cert || !json_is_string(cert))
		return api_fail(res, cert ? API_ERR_CERT_PARSE : API_ERR_CERT_EMPTY,
				"custom_certificate must be a PEM string"),
		       -1;
	if (key && csr)
		return api_fail(res, API_ERR_SSL_INVALID,
				"custom_key and custom_csr_id exclude each other"),
		       -1;
	pairs[0].cert_pem = json_string_value(cert);
	if (csr) {
		if (!json_is_string(csr) || !ids_is_uuid(json_string_value(csr)))
			return api_fail(res, API_ERR_CUSTOM_CSR_ID, NULL), -1;
		*csr_id = json_string_value(csr);
	} else if (!key || !json_is_string(key)) {
		return api_fail(res, API_ERR_KEY_PARSE,
				"custom_key (or custom_csr_id) must come with custom_certificate"),
		       -1;
	} else {
		pairs[0].key_pem = json_string_value(key);
	}
	*n = 1;
	return 0;
}

/* The CSR ID of the account the request's zone belongs to. */
static int account_csr_get(const struct api_request *req, const char *id, struct store_csr *out)
{
	struct store_zone zone;
	int rc = store_zone_get(req->store, req->zone_id, &zone);

	memset(out, 0, sizeof(*out));
	if (rc == 0 && !zone.account_id[0])
		rc = SE_ENOTFOUND;
	return rc ? rc : store_csr_get(req->store, zone.account_id, id, out);
}

/* The key of CSR ID of the request's zone (or of its account), unsealed into *OUT; its id into
 * UP. */
static int csr_key(const struct api_request *req, const char *id, struct custom_upload *up,
		   EVP_PKEY **out, struct api_response *res)
{
	struct store_csr csr;
	unsigned char *sealed = NULL;
	size_t sealed_len = 0;
	enum key_type type;
	int rc;

	for (size_t i = 0; i < sizeof(up->csr_id) - 1 && id[i]; i++)
		up->csr_id[i] = (char)tolower((unsigned char)id[i]);
	rc = store_csr_get(req->store, req->zone_id, up->csr_id, &csr);
	if (rc == SE_ENOTFOUND) /* else one of the zone's account, as Cloudflare's */
		rc = account_csr_get(req, up->csr_id, &csr);
	if (rc == 0) {
		snprintf(up->key_ids[0], sizeof(up->key_ids[0]), "%s", csr.key_id);
		type = strcmp(csr.key_type, "p256v1") == 0 ? KEY_ECDSA_P256 : KEY_RSA_2048;
		rc = store_private_key_get(req->store, csr.key_id, &sealed, &sealed_len);
	}
	if (rc == 0)
		rc = req->box ? keys_unseal(req->box, type, sealed, sealed_len, csr.key_id, out)
			      : SE_EINVAL;
	free(sealed);
	store_csr_dispose(&csr);
	if (rc == SE_ENOTFOUND)
		return api_fail(res, API_ERR_CUSTOM_CSR_NOT_FOUND, NULL), -1;
	if (rc) {
		log_error("msg=\"custom csr key unavailable\" csr=%s err=%s", up->csr_id,
			  se_errname(rc));
		return api_fail(res, API_ERR_INTERNAL, NULL), -1;
	}
	return 0;
}

/* Seals each uploaded key under a new id (AAD = the id). */
static int seal_keys(const struct api_request *req, struct custom_upload *up,
		     struct api_response *res)
{
	for (size_t i = 0; i < up->n; i++) {
		if (!up->certs[i].pkey)
			continue;
		if (!req->box || ids_uuid(up->key_ids[i]) ||
		    keys_seal(req->box, up->certs[i].pkey, up->key_ids[i], &up->sealed_keys[i],
			      &up->sealed_lens[i]))
			return api_fail(res, API_ERR_INTERNAL, NULL), -1;
	}
	return 0;
}

static int verify_pairs(const struct pair *pairs, EVP_PKEY *csr_pkey, const char *hostname,
			const char *bundle_method, X509_STORE *trust, struct custom_upload *up,
			struct api_response *res)
{
	struct cert_verify_in in = {.hostname = hostname,
				    .bundle_method = bundle_method,
				    .trust = trust,
				    .now_us = time_now_us(),
				    .key = csr_pkey};
	enum api_error err = API_ERR_INTERNAL;
	char detail[300];

	for (size_t i = 0; i < up->n; i++) {
		in.cert_pem = pairs[i].cert_pem;
		in.key_pem = pairs[i].key_pem;
		if (cert_verify(&in, &up->certs[i], &err, detail, sizeof(detail)))
			return api_fail(res, err, detail), -1;
	}
	if (up->n == 2 && up->certs[0].key_type == up->certs[1].key_type)
		return api_fail(res, API_ERR_SSL_INVALID,
				"custom_cert_bundle takes one RSA and one ECDSA certificate"),
		       -1;
	return 0;
}

int custom_upload_parse(const json_t *ssl, const char *hostname, const char *bundle_method,
			const struct api_request *req, struct custom_upload *up,
			struct api_response *res)
{
	struct pair pairs[2] = {{NULL, NULL}, {NULL, NULL}};
	const char *csr_id = NULL;
	EVP_PKEY *csr_pkey = NULL;
	X509_STORE *trust = NULL;
	int rc;

	memset(up, 0, sizeof(*up));
	rc = upload_shape(ssl, pairs, &up->n, &csr_id, res);
	if (rc == 0 && csr_id)
		rc = csr_key(req, csr_id, up, &csr_pkey, res);
	if (rc == 0 && cert_trust_load(req->cfg->edge.trust_bundle, &trust)) {
		log_error("msg=\"cannot load the trust bundle\" path=%s",
			  req->cfg->edge.trust_bundle);
		api_fail(res, API_ERR_INTERNAL, NULL);
		rc = -1;
	}
	if (rc == 0)
		rc = verify_pairs(pairs, csr_pkey, hostname, bundle_method, trust, up, res);
	if (rc == 0)
		rc = seal_keys(req, up, res);
	X509_STORE_free(trust);
	EVP_PKEY_free(csr_pkey);
	if (rc)
		custom_upload_dispose(up);
	return rc;
}

int custom_upload_to_pack(const struct custom_upload *up, struct store_custom_pack *p)
{
	memset(p, 0, sizeof(*p));
	if (ids_uuid(p->pack_id))
		return SE_ECRYPTO;
	p->custom_csr_id = up->csr_id;
	p->uploaded_on_us = time_now_us();
	p->n_certs = up->n;
	for (size_t i = 0; i < up->n; i++) {
		const struct cert_verified *v = &up->certs[i];
		struct store_custom_cert *cc = &p->certs[i];

		if (ids_uuid(cc->cert.id))
			return SE_ECRYPTO;
		memcpy(cc->cert.pack_id, p->pack_id, sizeof(cc->cert.pack_id));
		snprintf(cc->cert.key_type, sizeof(cc->cert.key_type), "%s",
			 keys_type_name(v->key_type));
		cc->cert.leaf_der = v->leaf_der;
		cc->cert.leaf_len = v->leaf_len;
		cc->cert.chain_der = v->chain_der;
		cc->cert.chain_len = v->chain_len;
		memcpy(cc->cert.private_key_id, up->key_ids[i], sizeof(cc->cert.private_key_id));
		snprintf(cc->cert.serial, sizeof(cc->cert.serial), "%s", v->info.serial);
		cc->cert.not_before_us = v->info.not_before_us;
		cc->cert.not_after_us = v->info.not_after_us;
		cc->pem_key_type = keys_type_name(v->key_type);
		cc->sealed_key = up->sealed_keys[i];
		cc->sealed_len = up->sealed_lens[i];
	}
	return 0;
}

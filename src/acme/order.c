/* Orders (RFC 8555 §7.4): newOrder, POST-as-GET of an order, finalize. Each call maps the
 * CA's order object into struct acme_order; the issuer stores it and decides the next step. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/acme_int.h"
#include "lib/error.h"

static int parse_authzs(json_t *doc, struct acme_order *out, struct acme_problem *p)
{
	json_t *list = json_object_get(doc, "authorizations");

	if (!json_is_array(list) || json_array_size(list) > ACME_MAX_AUTHZ) {
		acme__problem_set(p, p->status, "order from the CA has %s authorizations",
				  json_is_array(list) ? "too many" : "no list of");
		return SE_EIO;
	}
	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *v = json_array_get(list, i);

		if (!json_is_string(v) ||
		    acme__copy(out->authz[i], sizeof(out->authz[i]), json_string_value(v)) != 0) {
			acme__problem_set(p, p->status,
					  "order from the CA has a bad authorization");
			return SE_EIO;
		}
	}
	out->n_authz = json_array_size(list);
	return 0;
}

static int parse_expires(json_t *doc, const char *what, int64_t *us, struct acme_problem *p)
{
	const char *text = json_string_value(json_object_get(doc, "expires"));

	*us = 0;
	if (!text || acme__parse_rfc3339(text, us) == 0)
		return 0;
	acme__problem_set(p, p->status, "%s from the CA has a bad \"expires\"", what);
	return SE_EIO;
}

int acme__order_parse(const struct acme__response *r, struct acme_order *out,
		      struct acme_problem *p)
{
	json_t *doc = NULL, *err;
	int rc;

	p->status = (int)r->status;
	rc = acme__response_json(r, "order", &doc, p);
	if (rc == 0)
		rc = acme__json_str(doc, "status", 1, out->status, sizeof(out->status), "order", p);
	if (rc == 0)
		rc = acme__json_str(doc, "finalize", 1, out->finalize, sizeof(out->finalize),
				    "order", p);
	if (rc == 0)
		rc = acme__json_str(doc, "certificate", 0, out->certificate,
				    sizeof(out->certificate), "order", p);
	if (rc == 0)
		rc = parse_expires(doc, "order", &out->expires_us, p);
	if (rc == 0)
		rc = parse_authzs(doc, out, p);
	err = json_object_get(doc, "error");
	if (rc == 0 && json_is_object(err))
		acme__problem_fields(err, out->error_type, sizeof(out->error_type),
				     out->error_detail, sizeof(out->error_detail));
	out->retry_after_s = r->retry_after_s;
	if (rc == 0)
		p->status = 0;
	json_decref(doc);
	return rc;
}

/* Clears every field of OUT but its URL, which a finalize answer may not repeat. */
static void order_reset(struct acme_order *out)
{
	char url[ACME_URL_MAX];

	memcpy(url, out->url, sizeof(url));
	memset(out, 0, sizeof(*out));
	memcpy(out->url, url, sizeof(url));
	out->retry_after_s = -1;
}

static int take_location(const struct acme__response *r, struct acme_order *out,
			 struct acme_problem *p)
{
	if (acme__copy(out->url, sizeof(out->url), r->location) == 0)
		return 0;
	acme__problem_set(p, (int)r->status, "order URL too long");
	return SE_EIO;
}

static char *new_order_payload(const char *const *names, size_t n, const char *replaces)
{
	json_t *ids = json_array(), *payload = NULL;
	char *text = NULL;

	for (size_t i = 0; ids && i < n; i++) {
		if (json_array_append_new(
			ids, json_pack("{s:s, s:s}", "type", "dns", "value", names[i])) != 0)
			goto out;
	}
	payload = json_pack("{s:O}", "identifiers", ids);
	if (payload && replaces &&
	    json_object_set_new(payload, "replaces", json_string(replaces)) != 0)
		goto out;
	if (payload)
		text = json_dumps(payload, JSON_COMPACT);
out:
	json_decref(ids);
	json_decref(payload);
	return text;
}

int acme_order_create(struct acme_client *c, const char *const *names, size_t n,
		      const char *replaces, struct acme_order *out, struct acme_problem *p)
{
	struct acme__response r = {0};
	char url[ACME_URL_MAX], ari[ACME_URL_MAX];
	char *payload = NULL;
	int rc;

	acme__problem_clear(p);
	memset(out, 0, sizeof(*out));
	out->retry_after_s = -1;
	if (n == 0 || n > ACME_MAX_AUTHZ)
		return SE_EINVAL;
	rc = acme__directory_url(c, offsetof(struct acme__directory, new_order), url, p);
	if (rc != 0)
		goto out;
	/* "replaces" belongs to ARI: a CA without renewalInfo may reject the unknown field */
	if (replaces &&
	    acme__directory_url(c, offsetof(struct acme__directory, renewal_info), ari, p) != 0)
		replaces = NULL;
	payload = new_order_payload(names, n, replaces);
	rc = payload ? acme__post(c, url, payload, 0, NULL, &r, p) : SE_ENOMEM;
	if (rc == 0 && !r.location[0]) {
		acme__problem_set(p, (int)r.status, "newOrder answer carries no Location");
		rc = SE_EIO;
	}
	if (rc == 0)
		rc = take_location(&r, out, p);
	if (rc == 0)
		rc = acme__order_parse(&r, out, p);
out:
	free(payload);
	acme__response_dispose(&r);
	return rc;
}

int acme_order_fetch(struct acme_client *c, const char *url, struct acme_order *out,
		     struct acme_problem *p)
{
	struct acme__response r = {0};
	char own[ACME_URL_MAX];
	int rc;

	acme__problem_clear(p);
	/* URL may point into OUT (o->url): copy it before OUT is cleared */
	rc = acme__copy(own, sizeof(own), url);
	memset(out, 0, sizeof(*out));
	out->retry_after_s = -1;
	if (rc != 0)
		return SE_EINVAL;
	memcpy(out->url, own, sizeof(own));
	rc = acme__post(c, own, NULL, 0, NULL, &r, p);
	if (rc == 0)
		rc = acme__order_parse(&r, out, p);
	acme__response_dispose(&r);
	return rc;
}

int acme_order_finalize(struct acme_client *c, const char *finalize_url,
			const unsigned char *csr_der, size_t len, struct acme_order *out,
			struct acme_problem *p)
{
	struct acme__response r = {0};
	char *csr = NULL, *payload = NULL;
	size_t cap = len / 3 * 4 + 5;
	char url[ACME_URL_MAX];
	int rc;

	acme__problem_clear(p);
	/* FINALIZE_URL is usually OUT->finalize: copy it before OUT is cleared */
	rc = acme__copy(url, sizeof(url), finalize_url) != 0 ? SE_EINVAL : SE_ENOMEM;
	order_reset(out);
	if (rc == SE_EINVAL)
		goto out;
	csr = malloc(cap);
	if (!csr || acme__b64url_encode(csr_der, len, csr, cap) < 0)
		goto out;
	payload = malloc(cap + 16);
	if (!payload)
		goto out;
	snprintf(payload, cap + 16, "{\"csr\":\"%s\"}", csr);
	rc = acme__post(c, url, payload, 0, NULL, &r, p);
	if (rc == 0 && r.location[0])
		rc = take_location(&r, out, p);
	if (rc == 0)
		rc = acme__order_parse(&r, out, p);
out:
	free(csr);
	free(payload);
	acme__response_dispose(&r);
	return rc;
}

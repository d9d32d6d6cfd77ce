/* Authorizations (RFC 8555 §7.5): POST-as-GET with their challenges, and deactivation when an
 * order is abandoned (§7.5.2), so that a stale pending authorization does not linger. */
#include <string.h>

#include "acme/acme_int.h"
#include "lib/error.h"

static int parse_challenges(json_t *doc, struct acme_authz *out, struct acme_problem *p)
{
	json_t *list = json_object_get(doc, "challenges");

	if (!json_is_array(list)) {
		acme__problem_set(p, p->status, "authorization from the CA lacks challenges");
		return SE_EIO;
	}
	for (size_t i = 0; i < json_array_size(list) && out->n_ch < ACME_MAX_CHALLENGES; i++) {
		int rc = acme__challenge_parse(json_array_get(list, i), &out->ch[out->n_ch], p);

		if (rc == SE_ETOOBIG)
			continue; /* a challenge type saasedge does not implement */
		if (rc != 0)
			return rc;
		out->n_ch++;
	}
	return 0;
}

int acme__authz_parse(json_t *doc, struct acme_authz *out, struct acme_problem *p)
{
	json_t *id = json_object_get(doc, "identifier");
	const char *expires = json_string_value(json_object_get(doc, "expires"));
	int rc;

	if (!json_is_object(id)) {
		acme__problem_set(p, p->status, "authorization from the CA lacks \"identifier\"");
		return SE_EIO;
	}
	rc = acme__json_str(id, "value", 1, out->identifier, sizeof(out->identifier),
			    "authorization", p);
	if (rc == 0)
		rc = acme__json_str(doc, "status", 1, out->status, sizeof(out->status),
				    "authorization", p);
	if (rc == 0 && expires && acme__parse_rfc3339(expires, &out->expires_us) != 0) {
		acme__problem_set(p, p->status, "authorization from the CA has a bad \"expires\"");
		rc = SE_EIO;
	}
	out->wildcard = json_is_true(json_object_get(doc, "wildcard"));
	return rc == 0 ? parse_challenges(doc, out, p) : rc;
}

int acme_authz_fetch(struct acme_client *c, const char *url, struct acme_authz *out,
		     struct acme_problem *p)
{
	struct acme__response r = {0};
	char own[ACME_URL_MAX];
	json_t *doc = NULL;
	int rc;

	acme__problem_clear(p);
	rc = acme__copy(own, sizeof(own), url) != 0 ? SE_EINVAL : 0; /* URL may point into OUT */
	memset(out, 0, sizeof(*out));
	out->retry_after_s = -1;
	if (rc == 0)
		rc = acme__post(c, own, NULL, 0, NULL, &r, p);
	if (rc != 0)
		goto out;
	p->status = (int)r.status;
	rc = acme__response_json(&r, "authorization", &doc, p);
	if (rc == 0)
		rc = acme__authz_parse(doc, out, p);
	out->retry_after_s = r.retry_after_s;
	if (rc == 0)
		p->status = 0;
out:
	json_decref(doc);
	acme__response_dispose(&r);
	return rc;
}

int acme_authz_deactivate(struct acme_client *c, const char *url, struct acme_problem *p)
{
	struct acme__response r = {0};
	int rc;

	acme__problem_clear(p);
	rc = acme__post(c, url, "{\"status\":\"deactivated\"}", 0, NULL, &r, p);
	acme__response_dispose(&r);
	return rc;
}

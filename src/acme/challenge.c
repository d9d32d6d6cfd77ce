/* Challenges (RFC 8555 §7.5.1, §8): what the CA says about one, telling the CA to validate it,
 * and the values saasedge publishes for it (key authorization, dns-01 TXT digest). */
#include <stdio.h>
#include <string.h>

#include "acme/acme_int.h"
#include "lib/error.h"

int acme__challenge_parse(json_t *obj, struct acme_challenge *out, struct acme_problem *p)
{
	const char *type = json_string_value(json_object_get(obj, "type"));
	json_t *err = json_object_get(obj, "error");
	int rc;

	memset(out, 0, sizeof(*out));
	if (!type) {
		acme__problem_set(p, p->status, "challenge from the CA lacks \"type\"");
		return SE_EIO;
	}
	if (acme__copy(out->type, sizeof(out->type), type) != 0)
		return SE_ETOOBIG;
	rc = acme__json_str(obj, "url", 1, out->url, sizeof(out->url), "challenge", p);
	if (rc == 0)
		rc = acme__json_str(obj, "status", 1, out->status, sizeof(out->status), "challenge",
				    p);
	if (rc == 0)
		rc =
		    acme__json_str(obj, "token", 0, out->token, sizeof(out->token), "challenge", p);
	if (rc == 0 && out->token[0] && !acme__b64url_valid(out->token)) {
		/* the edge serves the token in a URL path: refuse anything but base64url */
		acme__problem_set(p, p->status, "challenge from the CA has a malformed token");
		rc = SE_EIO;
	}
	if (rc == 0 && json_is_object(err))
		acme__problem_fields(err, out->error_type, sizeof(out->error_type),
				     out->error_detail, sizeof(out->error_detail));
	return rc;
}

int acme_challenge_accept(struct acme_client *c, const char *challenge_url,
			  struct acme_challenge *out, struct acme_problem *p)
{
	struct acme__response r = {0};
	char url[ACME_URL_MAX];
	json_t *doc = NULL;
	int rc;

	acme__problem_clear(p);
	/* CHALLENGE_URL may be OUT->url, which parsing rewrites */
	if (acme__copy(url, sizeof(url), challenge_url) != 0)
		return SE_EINVAL;
	rc = acme__post(c, url, "{}", 0, NULL, &r, p);
	if (rc != 0 || !out)
		goto out;
	p->status = (int)r.status;
	rc = acme__response_json(&r, "challenge", &doc, p);
	if (rc == 0)
		rc = acme__challenge_parse(doc, out, p);
	if (rc == SE_ETOOBIG) { /* accepted; only its type is one we cannot name */
		memset(out, 0, sizeof(*out));
		rc = 0;
	}
	if (rc == 0)
		p->status = 0;
out:
	json_decref(doc);
	acme__response_dispose(&r);
	return rc;
}

int acme_key_authorization(struct acme_client *c, const char *token, char *out, size_t len)
{
	int n;

	if (!acme__b64url_valid(token))
		return SE_EINVAL;
	n = snprintf(out, len, "%s.%s", token, c->thumbprint);
	return n > 0 && (size_t)n < len ? 0 : SE_ETOOBIG;
}

int acme_dns01_txt_value(struct acme_client *c, const char *token, char *out, size_t len)
{
	char keyauth[ACME_KEY_AUTHZ_MAX];
	unsigned char digest[32];
	int rc = acme_key_authorization(c, token, keyauth, sizeof(keyauth));

	if (rc != 0)
		return rc;
	if (!EVP_Digest(keyauth, strlen(keyauth), digest, NULL, EVP_sha256(), NULL))
		return SE_ECRYPTO;
	return acme__b64url_encode(digest, sizeof(digest), out, len) < 0 ? SE_ETOOBIG : 0;
}

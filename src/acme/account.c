/* newAccount (RFC 8555 §7.3) with the external account binding of §7.3.4: an inner HS256 JWS
 * over the account JWK, keyed by the CA-issued MAC key. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "acme/acme_int.h"
#include "lib/error.h"
#include "lib/log.h"

static int add_eab(struct acme_client *c, const char *url, json_t *payload)
{
	json_t *hdr = json_pack("{s:s, s:s, s:s}", "alg", "HS256", "kid", c->eab_kid, "url", url);
	json_t *jws = NULL;
	int rc = SE_ENOMEM;

	if (hdr)
		rc = acme__jws_build(NULL, c->eab_key, c->eab_key_len, hdr, c->jwk, &jws);
	if (rc == 0 && json_object_set_new(payload, "externalAccountBinding", jws) != 0)
		rc = SE_ENOMEM;
	json_decref(hdr);
	return rc;
}

static int add_contact(const char *email, json_t *payload)
{
	char mailto[320];

	if (!email)
		return 0;
	if ((size_t)snprintf(mailto, sizeof(mailto), "mailto:%s", email) >= sizeof(mailto))
		return SE_EINVAL;
	return json_object_set_new(payload, "contact", json_pack("[s]", mailto)) ? SE_ENOMEM : 0;
}

/* *out is the caller's. */
static int build_payload(struct acme_client *c, const char *email, const char *url, char **out)
{
	json_t *payload = json_pack("{s:b}", "termsOfServiceAgreed", 1);
	int rc = payload ? 0 : SE_ENOMEM;

	*out = NULL;
	if (rc == 0)
		rc = add_contact(email, payload);
	if (rc == 0 && c->eab_kid)
		rc = add_eab(c, url, payload);
	if (rc == 0 && !(*out = json_dumps(payload, JSON_COMPACT)))
		rc = SE_ENOMEM;
	json_decref(payload);
	return rc;
}

int acme_account_register(struct acme_client *c, const char *email, char *kid_out, size_t kid_len,
			  struct acme_problem *p)
{
	struct acme__response r = {0};
	char url[ACME_URL_MAX];
	char *payload = NULL;
	int rc;

	acme__problem_clear(p);
	rc = acme__directory_url(c, offsetof(struct acme__directory, new_account), url, p);
	if (rc == 0)
		rc = build_payload(c, email, url, &payload);
	if (rc == 0)
		rc = acme__post(c, url, payload, 1, NULL, &r, p);
	if (rc != 0)
		goto out;
	if (!r.location[0]) {
		acme__problem_set(p, (int)r.status, "newAccount answer carries no Location");
		rc = SE_EIO;
		goto out;
	}
	rc = acme__copy(kid_out, kid_len, r.location);
	if (rc == 0)
		rc = acme_client_set_kid(c, r.location);
	if (rc == 0)
		log_debug("msg=\"acme account ready\" account=%s existing=%d", r.location,
			  r.status == 200);
out:
	free(payload);
	acme__response_dispose(&r);
	return rc;
}

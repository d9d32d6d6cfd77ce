/* A signed ACME request (RFC 8555 §6.2-6.5): take a nonce (pool, else newNonce), sign, POST,
 * and retry at once on badNonce with the fresh nonce the rejection carried. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "acme/acme_int.h"
#include "lib/error.h"
#include "lib/log.h"

static int new_nonce(struct acme_client *c, char *out, struct acme_problem *p)
{
	struct acme__response r;
	char url[ACME_URL_MAX];
	int rc;

	rc = acme__directory_url(c, offsetof(struct acme__directory, new_nonce), url, p);
	if (rc != 0)
		return rc;
	rc = acme__http(c, ACME_HEAD, url, NULL, NULL, 1, &r, p);
	if (rc != 0)
		return rc;
	if (r.status >= 400) {
		acme__problem_from_response(&r, url, p);
		rc = SE_EIO;
	} else if (!r.nonce[0]) {
		acme__problem_set(p, (int)r.status, "newNonce answer carries no Replay-Nonce");
		rc = SE_EIO;
	} else {
		memcpy(out, r.nonce, ACME_NONCE_MAX);
	}
	acme__response_dispose(&r);
	return rc;
}

static int add_key_header(struct acme_client *c, json_t *hdr, int use_jwk, struct acme_problem *p)
{
	char kid[ACME_URL_MAX];

	if (use_jwk)
		return json_object_set_new(hdr, "jwk", json_loads(c->jwk, 0, NULL)) ? SE_ENOMEM : 0;
	pthread_mutex_lock(&c->lock);
	memcpy(kid, c->kid, sizeof(kid));
	pthread_mutex_unlock(&c->lock);
	if (!kid[0]) {
		acme__problem_set(p, 0, "no ACME account yet: register or set the account URL");
		return SE_EINVAL;
	}
	return json_object_set_new(hdr, "kid", json_string(kid)) ? SE_ENOMEM : 0;
}

/* The request body: a flattened JWS as compact JSON text; *body is the caller's. */
static int build_body(struct acme_client *c, const char *url, const char *nonce,
		      const char *payload, int use_jwk, char **body, struct acme_problem *p)
{
	json_t *hdr = json_pack("{s:s, s:s, s:s}", "alg", "ES256", "nonce", nonce, "url", url);
	json_t *jws = NULL;
	int rc = SE_ENOMEM;

	*body = NULL;
	if (!hdr)
		goto out;
	rc = add_key_header(c, hdr, use_jwk, p);
	if (rc == 0)
		rc = acme__jws_build(c->key, NULL, 0, hdr, payload ? payload : "", &jws);
	if (rc == 0 && !(*body = json_dumps(jws, JSON_COMPACT)))
		rc = SE_ENOMEM;
out:
	json_decref(hdr);
	json_decref(jws);
	return rc;
}

static int post_once(struct acme_client *c, const char *url, const char *payload, int use_jwk,
		     const char *accept, struct acme__response *r, struct acme_problem *p)
{
	char nonce[ACME_NONCE_MAX];
	char *body = NULL;
	int rc;

	if (!acme__nonce_take(c, nonce)) {
		rc = new_nonce(c, nonce, p);
		if (rc != 0)
			return rc;
	}
	rc = build_body(c, url, nonce, payload, use_jwk, &body, p);
	if (rc == 0)
		rc = acme__http(c, ACME_POST, url, body, accept, 0, r, p);
	free(body);
	return rc;
}

int acme__post(struct acme_client *c, const char *url, const char *payload, int use_jwk,
	       const char *accept, struct acme__response *r, struct acme_problem *p)
{
	/* R starts empty so that callers can dispose it on every path */
	memset(r, 0, sizeof(*r));
	r->retry_after_s = -1;
	for (int attempt = 0;; attempt++) {
		int rc = post_once(c, url, payload, use_jwk, accept, r, p);

		if (rc != 0)
			return rc;
		if (r->truncated_header) {
			acme__problem_set(p, (int)r->status, "answer with an oversize header");
			return SE_EIO;
		}
		if (r->status < 400)
			return 0;
		acme__problem_from_response(r, url, p);
		if (!acme_problem_is(p, "badNonce") || attempt == ACME_BADNONCE_RETRIES)
			return SE_EIO;
		pthread_mutex_lock(&c->lock);
		c->badnonce_retries++;
		pthread_mutex_unlock(&c->lock);
		log_debug("msg=\"acme badNonce, retrying\" url=%s attempt=%d", url, attempt + 1);
		acme__response_dispose(r);
		acme__problem_clear(p);
	}
}

int acme__response_json(const struct acme__response *r, const char *what, json_t **out,
			struct acme_problem *p)
{
	json_error_t err;
	json_t *doc = r->body ? json_loadb(r->body, r->len, 0, &err) : NULL;
	const char *why = "empty body";

	if (json_is_object(doc)) {
		*out = doc;
		return 0;
	}
	if (doc)
		why = "not a JSON object";
	else if (r->body)
		why = err.text;
	acme__problem_set(p, (int)r->status, "malformed %s from the CA: %s", what, why);
	json_decref(doc);
	return SE_EIO;
}

/* The CA's directory (RFC 8555 §7.1.1): fetched on first use, cached in the client, refreshed
 * on demand. Only the URLs saasedge uses are kept. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "acme/acme_int.h"
#include "lib/error.h"

/* Keeps the identities that fit whole; a CA naming more than 256 bytes of them is unheard of. */
static void caa_identities_join(json_t *ids, char *out, size_t len)
{
	size_t i, used = 0;
	json_t *id;

	out[0] = '\0';
	json_array_foreach(ids, i, id)
	{
		const char *v = json_string_value(id);
		int n;

		if (!v || !v[0] || strchr(v, ','))
			continue;
		n = snprintf(out + used, len - used, "%s%s", used ? "," : "", v);
		if (n < 0 || (size_t)n >= len - used) {
			out[used] = '\0';
			break;
		}
		used += (size_t)n;
	}
}

int acme__directory_parse(json_t *doc, struct acme__directory *d, struct acme_problem *p)
{
	json_t *meta = json_object_get(doc, "meta");
	int rc;

	memset(d, 0, sizeof(*d));
	rc = acme__json_str(doc, "newNonce", 1, d->new_nonce, sizeof(d->new_nonce), "directory", p);
	if (rc == 0)
		rc = acme__json_str(doc, "newAccount", 1, d->new_account, sizeof(d->new_account),
				    "directory", p);
	if (rc == 0)
		rc = acme__json_str(doc, "newOrder", 1, d->new_order, sizeof(d->new_order),
				    "directory", p);
	if (rc == 0)
		rc = acme__json_str(doc, "renewalInfo", 0, d->renewal_info, sizeof(d->renewal_info),
				    "directory", p);
	d->eab_required = json_is_true(json_object_get(meta, "externalAccountRequired"));
	caa_identities_join(json_object_get(meta, "caaIdentities"), d->caa_identities,
			    sizeof(d->caa_identities));
	d->loaded = rc == 0;
	return rc;
}

static int load(struct acme_client *c, struct acme_problem *p)
{
	struct acme__directory d;
	struct acme__response r;
	json_t *doc = NULL;
	int rc;

	rc = acme__http(c, ACME_GET, c->directory_url, NULL, "application/json", 0, &r, p);
	if (rc != 0)
		return rc;
	if (r.status >= 400) {
		acme__problem_from_response(&r, c->directory_url, p);
		rc = SE_EIO;
		goto out;
	}
	p->status = (int)r.status;
	rc = acme__response_json(&r, "directory", &doc, p);
	if (rc == 0)
		rc = acme__directory_parse(doc, &d, p);
	if (rc == 0) {
		pthread_mutex_lock(&c->lock);
		c->dir = d;
		pthread_mutex_unlock(&c->lock);
		p->status = 0;
	}
out:
	json_decref(doc);
	acme__response_dispose(&r);
	return rc;
}

int acme_directory_load(struct acme_client *c, struct acme_problem *p)
{
	acme__problem_clear(p);
	return load(c, p);
}

static int ensure_loaded(struct acme_client *c, struct acme_problem *p)
{
	int loaded;

	pthread_mutex_lock(&c->lock);
	loaded = c->dir.loaded;
	pthread_mutex_unlock(&c->lock);
	return loaded ? 0 : load(c, p);
}

int acme__directory_url(struct acme_client *c, size_t field, char *out, struct acme_problem *p)
{
	int rc = ensure_loaded(c, p);

	if (rc != 0)
		return rc;
	pthread_mutex_lock(&c->lock);
	memcpy(out, (const char *)&c->dir + field, ACME_URL_MAX);
	pthread_mutex_unlock(&c->lock);
	return out[0] ? 0 : SE_ENOTFOUND;
}

int acme_directory_eab_required(struct acme_client *c, struct acme_problem *p)
{
	int rc, required;

	acme__problem_clear(p);
	rc = ensure_loaded(c, p);
	if (rc != 0)
		return rc;
	pthread_mutex_lock(&c->lock);
	required = c->dir.eab_required;
	pthread_mutex_unlock(&c->lock);
	return required;
}

int acme_directory_caa_identities(struct acme_client *c, char *out, size_t len,
				  struct acme_problem *p)
{
	int rc;

	acme__problem_clear(p);
	out[0] = '\0';
	rc = ensure_loaded(c, p);
	if (rc != 0)
		return rc;
	pthread_mutex_lock(&c->lock);
	snprintf(out, len, "%s", c->dir.caa_identities);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

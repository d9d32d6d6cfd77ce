/* After a hostname is deleted, or its pack restarted: deactivate the ACME authorizations the
 * pack held (RFC 8555 §7.5.2), so the CA stops treating the name as validated for our account.
 * On delete the store leaves a "pack_cleanup" job carrying the deleted pack's issuer state;
 * this runs it off the API thread, and a CA that cannot be reached is tried again a few times,
 * then given up on (the authorizations expire on their own). On a restart the issuer does it
 * itself, once, before its new order: a CA that hands a pending authorization to the next order
 * for the name would otherwise have it deactivated under that order. */
#include "issuer/issuer_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/log.h"
#include "lib/timeutil.h"

#define CLEANUP_ATTEMPTS 5
#define CLEANUP_RETRY_US (60LL * 1000000)

/* Adds URL to URLS unless it is there already (the RSA order usually reuses the ECDSA order's
 * authorizations). */
static void add_unique(json_t *urls, json_t *url)
{
	size_t i;
	json_t *u;

	if (!json_is_string(url))
		return;
	json_array_foreach(urls, i, u)
	{
		if (json_equal(u, url))
			return;
	}
	json_array_append(urls, url);
}

/* Every authorization URL the state names: its orders' and its challenges'. */
static json_t *authz_urls(json_t *state)
{
	json_t *urls = json_array(), *ord, *url, *ch;
	size_t i, j;

	if (!urls)
		return NULL;
	json_array_foreach(json_object_get(state, "orders"), i, ord)
	{
		json_array_foreach(json_object_get(ord, "authz"), j, url)
		{
			add_unique(urls, url);
		}
	}
	json_array_foreach(json_object_get(state, "chals"), i, ch)
	{
		add_unique(urls, json_object_get(ch, "authz"));
	}
	return urls;
}

int pack_authz_deactivate(struct issuer *is, const char *pack_id, json_t *state)
{
	const char *ca = state_str(state, "ca");
	json_t *urls = NULL, *url;
	struct acme_problem p;
	struct acme_client *c;
	int rc = 0;
	size_t i;

	if (strcmp(ca, "internal") == 0 || !config_find_ca(is->cfg, ca))
		return 0;
	urls = authz_urls(state);
	if (!urls || json_array_size(urls) == 0)
		goto out;
	c = acme_accounts_client(is, ca, &p);
	if (!c) {
		log_warn("msg=\"authorization cleanup postponed\" pack=%s ca=%s detail=\"%s\"",
			 pack_id, ca, p.detail);
		rc = SE_EIO;
		goto out;
	}
	json_array_foreach(urls, i, url)
	{
		if (acme_authz_deactivate(c, json_string_value(url), &p) == 0) {
			log_info("msg=\"authorization deactivated\" pack=%s ca=%s authz=%s",
				 pack_id, ca, json_string_value(url));
		} else if (p.status == 0 || p.status >= 500) {
			rc = SE_EIO; /* no answer: ask again later */
		} else { /* already deactivated, expired or unknown: nothing left to release */
			log_info("msg=\"authorization not deactivated\" pack=%s ca=%s authz=%s "
				 "detail=\"%s\"",
				 pack_id, ca, json_string_value(url), p.detail);
		}
	}
out:
	json_decref(urls);
	return rc;
}

void pack_cleanup_run(struct issuer *is, const struct store_job *job)
{
	char *payload = NULL;
	json_t *state = NULL;
	int rc;

	rc = store_job_payload(is->st, job->id, &payload);
	if (rc == 0)
		state = json_loads(payload, 0, NULL);
	if (state)
		rc = pack_authz_deactivate(is, job->subject_id, state);
	if (rc == SE_EIO && job->attempts + 1 < CLEANUP_ATTEMPTS)
		store_job_retry(is->st, job->id, job->lease_token, time_now_us() + CLEANUP_RETRY_US,
				"the CA did not answer");
	else
		store_job_finish(is->st, job->id, job->lease_token);
	json_decref(state);
	free(payload);
}

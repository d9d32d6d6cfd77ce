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

#define MAX_AUTHZ_URLS (PACK_STATE_MAX_ORDERS * ACME_MAX_AUTHZ + PACK_STATE_MAX_CHALS)

/* Adds URL to URLS (N of them) unless it is there already (the RSA order usually reuses the
 * ECDSA order's authorizations). */
static void add_unique(const char **urls, size_t *n, const char *url)
{
	for (size_t i = 0; i < *n; i++) {
		if (strcmp(urls[i], url) == 0)
			return;
	}
	if (url[0] && *n < MAX_AUTHZ_URLS)
		urls[(*n)++] = url;
}

/* Every authorization URL the state names, its orders' and its challenges', into URLS
 * (borrowed from STATE); how many. */
static size_t authz_urls(const struct pack_state *state, const char **urls)
{
	size_t n = 0;

	for (size_t i = 0; i < state->n_orders; i++) {
		for (size_t j = 0; j < state->orders[i].n_authz; j++)
			add_unique(urls, &n, state->orders[i].authz[j]);
	}
	for (size_t i = 0; i < state->n_chals; i++)
		add_unique(urls, &n, state->chals[i].authz);
	return n;
}

int pack_authz_deactivate(struct issuer *is, const char *pack_id, const struct pack_state *state)
{
	const char *ca = state->ca, *urls[MAX_AUTHZ_URLS];
	struct acme_problem p;
	struct acme_client *c;
	size_t n;
	int rc = 0;

	if (strcmp(ca, "internal") == 0 || !config_find_ca(is->cfg, ca))
		return 0;
	n = authz_urls(state, urls);
	if (n == 0)
		return 0;
	c = acme_accounts_client(is, ca, &p);
	if (!c) {
		log_warn("msg=\"authorization cleanup postponed\" pack=%s ca=%s detail=\"%s\"",
			 pack_id, ca, p.detail);
		return SE_EIO;
	}
	for (size_t i = 0; i < n; i++) {
		if (acme_authz_deactivate(c, urls[i], &p) == 0) {
			log_info("msg=\"authorization deactivated\" pack=%s ca=%s authz=%s",
				 pack_id, ca, urls[i]);
		} else if (p.status == 0 || p.status >= 500) {
			rc = SE_EIO; /* no answer: ask again later */
		} else { /* already deactivated, expired or unknown: nothing left to release */
			log_info("msg=\"authorization not deactivated\" pack=%s ca=%s authz=%s "
				 "detail=\"%s\"",
				 pack_id, ca, urls[i], p.detail);
		}
	}
	return rc;
}

void pack_cleanup_run(struct issuer *is, const struct store_job *job)
{
	struct pack_state *state = malloc(sizeof(*state));
	char *payload = NULL;
	int rc = state ? store_job_payload(is->st, job->id, &payload) : SE_ENOMEM;

	/* A state this version cannot read has nothing it could deactivate. */
	if (rc == 0 && pack_state_load(payload, state) == 0)
		rc = pack_authz_deactivate(is, job->subject_id, state);
	if (rc == SE_EIO && job->attempts + 1 < CLEANUP_ATTEMPTS)
		store_job_retry(is->st, job->id, job->lease_token, time_now_us() + CLEANUP_RETRY_US,
				"the CA did not answer");
	else
		store_job_finish(is->st, job->id, job->lease_token);
	free(state);
	free(payload);
}

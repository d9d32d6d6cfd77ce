/* ACME Renewal Information (RFC 9773). A CA that offers renewalInfo says when each certificate
 * should be renewed: usually near the end of its life, at once when it is about to be revoked.
 * While an issued pack waits for its renewal, its job also wakes to ask the CA (first an hour
 * after issuance, then as often as the CA's Retry-After says, 6 h when it says nothing); the
 * time picked in the CA's window replaces the configured renew_before schedule, so a CA's
 * early window (a mass revocation) is followed within one check. CAs without renewalInfo
 * (Pebble 2.4, the internal CA) are asked once and then never again. */
#include "issuer/issuer_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/ids.h"
#include "lib/log.h"
#include "lib/timeutil.h"

#define ARI_FIRST_CHECK_US  (3600LL * 1000000)
#define ARI_DEFAULT_RETRY_S (6 * 3600)
#define ARI_MIN_RETRY_S     60
#define ARI_MAX_RETRY_S     (24 * 3600)
#define ARI_FAILED_RETRY_US (3600LL * 1000000)

int64_t renewal_ari_pick(int64_t start_us, int64_t end_us, uint64_t rand)
{
	/* RFC 9773 §4.2: a uniformly random time within the window spreads a CA's load. */
	if (end_us <= start_us)
		return start_us;
	return start_us + (int64_t)(rand % (uint64_t)(end_us - start_us));
}

void renewal_ari_schedule(struct pack_work *w)
{
	const char *ca = w->state.ca;
	int acme = ca[0] && strcmp(ca, "internal") != 0;

	w->state.ari_check_at_us = acme ? time_now_us() + ARI_FIRST_CHECK_US : -1;
}

/* The ECDSA certificate (else the first) of the pack as DER into *DER (malloc'd). */
static int pack_leaf(struct pack_work *w, unsigned char **der, size_t *len)
{
	struct store_certificate certs[2];
	size_t n = 0;
	int rc = store_pack_certificates(w->is->st, w->subj.pack_id, certs, &n);

	*der = NULL;
	if (rc == 0 && n == 0)
		rc = SE_ENOTFOUND;
	if (rc == 0) {
		*der = certs[0].leaf_der; /* ECDSA first */
		*len = certs[0].leaf_len;
		certs[0].leaf_der = NULL;
	}
	for (size_t i = 0; i < n; i++)
		store_certificate_dispose(&certs[i]);
	return rc;
}

void renewal_ari_check(struct pack_work *w)
{
	int64_t now = time_now_us(), check_at = w->state.ari_check_at_us;
	int64_t not_after = w->state.not_after_us, retry_s, when;
	struct acme_renewal_window win;
	struct acme_problem p;
	struct acme_client *c;
	unsigned char *leaf = NULL;
	uint64_t r = 0;
	size_t len = 0;
	int rc;

	if (check_at <= 0 || now < check_at)
		return;
	memset(&p, 0, sizeof(p));
	c = acme_accounts_client(w->is, w->state.ca, &p);
	rc = c ? pack_leaf(w, &leaf, &len) : SE_EIO;
	if (rc == 0)
		rc = acme_renewal_info(c, leaf, len, &win, &p);
	free(leaf);
	if (rc == SE_ENOTFOUND && c && !p.type[0]) {
		w->state.ari_check_at_us = -1; /* the CA offers no renewalInfo */
		return;
	}
	if (rc) {
		log_warn(
		    "msg=\"renewal information unavailable\" hostname=%s pack=%s detail=\"%s\"",
		    w->subj.hostname, w->subj.pack_id, p.detail);
		w->state.ari_check_at_us = now + ARI_FAILED_RETRY_US;
		return;
	}
	ids_random(&r, sizeof(r));
	when = renewal_ari_pick(win.start_us, win.end_us, r);
	if (not_after > 0 && when > not_after)
		when = not_after; /* a window past expiry helps nobody */
	w->state.renew_at_us = when;
	retry_s = win.retry_after_s > 0 ? win.retry_after_s : ARI_DEFAULT_RETRY_S;
	retry_s = retry_s < ARI_MIN_RETRY_S   ? ARI_MIN_RETRY_S
		  : retry_s > ARI_MAX_RETRY_S ? ARI_MAX_RETRY_S
					      : retry_s;
	w->state.ari_check_at_us = now + retry_s * 1000000;
	log_info("msg=\"renewal window from the CA\" hostname=%s pack=%s renew_in_s=%lld",
		 w->subj.hostname, w->subj.pack_id, (long long)((when - now) / 1000000));
}

int renewal_ari_replaces(struct pack_work *w, struct pack_state *fresh)
{
	struct store_certificate certs[2];
	char id[sizeof(fresh->replaces[0])];
	enum key_type type;
	size_t n = 0;
	int rc;

	if (w->state.ari_check_at_us < 0)
		return 0; /* no renewalInfo at this CA: nothing to name */
	rc = store_pack_certificates(w->is->st, w->subj.pack_id, certs, &n);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (keys_type_parse(certs[i].key_type, &type) == 0 &&
		    acme_ari_cert_id(certs[i].leaf_der, certs[i].leaf_len, id, sizeof(id)) == 0)
			memcpy(fresh->replaces[type], id, sizeof(id));
		store_certificate_dispose(&certs[i]);
	}
	return 0;
}

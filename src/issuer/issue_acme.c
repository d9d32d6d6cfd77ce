/* Issuance from an ACME CA, one exchange per step: order (the ECDSA and RSA orders, together
 * for dns-01 so that every TXT value is shown at once, and their authorizations; the challenge
 * responses stored and shown) → preflight (our own TXT lookup or token fetch, and a CAA check,
 * so no CA validation is spent on a record that is not there) → accept → poll → finalize (CSR,
 * certificate download) → done. Order URLs, challenges and progress live in the pack's state
 * document, so any worker of any process resumes where the last write left off. */
#include "issuer/issuer_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "lib/error.h"
#include "lib/keys.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "lib/x509_info.h"
#include "metrics/metrics.h"

/* The orders in the order they are made: the ECDSA primary first. */
static const enum key_type key_types[ISSUER_MAX_ORDERS] = {KEY_ECDSA_P256, KEY_RSA_2048};

/* The next configured ACME CA after CURRENT (wrapping), or NULL when there is no other. */
static const char *next_ca(const struct config *cfg, const char *current)
{
	size_t i = 0;

	if (cfg->n_cas < 2)
		return NULL;
	while (i < cfg->n_cas && strcmp(cfg->cas[i].name, current) != 0)
		i++;
	return cfg->cas[(i + 1) % cfg->n_cas].name;
}

/* Drops the pack's orders: a new one after the backoff. */
static void order_restart(struct pack_work *w, struct step_out *out, const char *msg,
			  int64_t retry_after_s)
{
	w->state.step = PACK_STEP_ORDER;
	w->state.n_orders = 0;
	w->state.n_chals = 0;
	step_fail_later(w, out, msg, retry_after_s);
}

/* The CA failed this pack's order: back to a new order after a backoff, at the next configured
 * CA once this one failed issuance.ca_attempts times. */
static void ca_failure(struct pack_work *w, struct step_out *out, const char *msg,
		       int64_t retry_after_s)
{
	int64_t failures = w->state.ca_failures + 1;
	const char *next = NULL;
	char shown[900], ca[sizeof(w->state.ca)];

	snprintf(ca, sizeof(ca), "%s", w->state.ca);
	metrics_count(M_ISSUER_ORDERS, metrics_ca_index(ca), MO_FAILED);
	if (failures >= w->is->cfg->issuance.ca_attempts)
		next = next_ca(w->is->cfg, ca);
	log_warn("msg=\"acme order failed\" hostname=%s ca=%s failures=%lld%s%s detail=\"%s\"",
		 w->subj.hostname, ca, (long long)failures, next ? " next_ca=" : "",
		 next ? next : "", msg);
	/* With several CAs the user needs to know which one failed, and where it goes next. */
	if (w->is->cfg->n_cas > 1)
		snprintf(shown, sizeof(shown),
			 "certificate authority %s (failure %lld of %lld): %s%s%s", ca,
			 (long long)failures, (long long)w->is->cfg->issuance.ca_attempts, msg,
			 next ? "; moving to certificate authority " : "", next ? next : "");
	else
		snprintf(shown, sizeof(shown), "%s", msg);
	if (next && pack_state_copy(w->state.ca, sizeof(w->state.ca), next) == 0)
		failures = 0;
	w->state.ca_failures = failures;
	order_restart(w, out, shown, retry_after_s);
}

/* A CA exchange failed with P (MSG says so for validation_errors). A CA that lost its data
 * answers accountDoesNotExist (register again, then a new order) or 404 for the order's URLs
 * (a new order). Otherwise a CA failure when COUNTED, else the step is retried later. */
static void exchange_failed(struct pack_work *w, struct step_out *out, const struct acme_problem *p,
			    const char *msg, int counted)
{
	struct acme_problem again;

	if (acme_problem_is(p, "accountDoesNotExist")) {
		if (acme_accounts_register_again(w->is, w->state.ca, &again) == 0)
			order_restart(w, out, msg, -1);
		else
			step_fail_later(w, out, msg, again.retry_after_s);
	} else if (counted || p->status == 404) {
		ca_failure(w, out, msg, p->retry_after_s);
	} else {
		step_fail_later(w, out, msg, p->retry_after_s);
	}
}

static struct acme_client *client_of(struct pack_work *w, struct step_out *out)
{
	struct acme_problem p;
	struct acme_client *c = acme_accounts_client(w->is, w->state.ca, &p);

	if (!c)
		ca_failure(w, out, p.detail, p.retry_after_s);
	return c;
}

static void problem_msg(const struct acme_problem *p, const char *what, char *msg, size_t len)
{
	snprintf(msg, len, "%s: %s", what, p->detail[0] ? p->detail : "CA error");
}

/* ---- order --------------------------------------------------------------------------------- */

/* The RFC 9773 certID of the certificate of TYPE that this renewal replaces, or NULL. */
static const char *replaced_cert(struct pack_work *w, enum key_type type)
{
	return w->state.replaces[type][0] ? w->state.replaces[type] : NULL;
}

static int chal_seen(const struct pack_state *st, const char *authz_url)
{
	for (size_t i = 0; i < st->n_chals; i++) {
		if (strcmp(st->chals[i].authz, authz_url) == 0)
			return 1;
	}
	return 0;
}

/* 1 for the methods answered with dns-01: txt, and cname (delegated to the dns role). */
static int dns01_method(const struct pack_work *w)
{
	return strcmp(w->subj.method, "txt") == 0 || strcmp(w->subj.method, "cname") == 0;
}

/* The index in AZ of the challenge the hostname's method uses: dns-01 for txt and cname, for http
 * the first of issuance.http_challenges that AZ offers (TYPE receives its name); -1 when none is
 * offered. */
static int chal_pick(const struct pack_work *w, const struct acme_authz *az, char *type, size_t len)
{
	const char *p = dns01_method(w) ? "dns-01" : w->is->cfg->issuance.http_challenges;

	while (*p) {
		size_t n = strcspn(p, ",");

		snprintf(type, len, "%.*s", (int)n, p);
		for (size_t k = 0; k < az->n_ch; k++) {
			if (strcmp(az->ch[k].type, type) == 0)
				return (int)k;
		}
		p += n;
		p += *p == ',';
	}
	snprintf(type, len, "%s", dns01_method(w) ? "dns-01" : "http");
	return -1;
}

/* Adds the challenge of AUTHZ_URL that the hostname's method needs to the state's challenges
 * and to RECORDS. 0, or SE_EIO with MSG when the CA cannot be used for it (P filled when the CA
 * said why). */
static int chal_add(struct pack_work *w, struct acme_client *c, const char *authz_url,
		    json_t *records, struct acme_problem *p, char *msg, size_t msg_len)
{
	char value[ACME_KEY_AUTHZ_MAX], name[300], type[16];
	int cname = strcmp(w->subj.method, "cname") == 0;
	struct pack_challenge *ch;
	struct acme_authz az;
	int k, rc;

	rc = acme_authz_fetch(c, authz_url, &az, p);
	if (rc) {
		problem_msg(p, "fetching an authorization", msg, msg_len);
		return rc;
	}
	if (w->state.n_chals == PACK_STATE_MAX_CHALS) { /* orders of more names than ours */
		snprintf(msg, msg_len, "the CA's orders have more authorizations than %d",
			 PACK_STATE_MAX_CHALS);
		return SE_EIO;
	}
	if (strcmp(az.status, "valid") == 0)
		return 0;
	if (strcmp(az.status, "pending") != 0) {
		snprintf(msg, msg_len, "authorization for %s is %s", az.identifier, az.status);
		return SE_EIO;
	}
	k = chal_pick(w, &az, type, sizeof(type));
	if (k < 0) {
		snprintf(msg, msg_len, "the CA offers no %s challenge for %s", type, az.identifier);
		return SE_EIO;
	}
	if (strcmp(type, "dns-01") == 0) {
		rc = acme_dns01_txt_value(c, az.ch[k].token, value, sizeof(value));
		snprintf(name, sizeof(name), "_acme-challenge.%s", az.identifier);
		if (rc == 0 && cname) {
			rc = dcv_cname_add(w, az.identifier, value, records);
		} else if (rc == 0) {
			/* Shown to publish, and published where a delegating CNAME leads. */
			json_array_append_new(records, dcv_record_txt(name, value));
			rc = dcv_delegation_publish(w, value);
		}
	} else if (strcmp(type, "tls-alpn-01") == 0) {
		/* Nothing for the customer to publish but the CNAME: no validation record. */
		rc = acme_key_authorization(c, az.ch[k].token, value, sizeof(value));
		snprintf(name, sizeof(name), "%s", az.identifier);
		if (rc == 0)
			rc = dcv_challenge_put(w, type, az.identifier, az.identifier, value);
	} else {
		rc = acme_key_authorization(c, az.ch[k].token, value, sizeof(value));
		snprintf(name, sizeof(name), "%s", az.identifier);
		if (rc == 0)
			rc = dcv_http_challenge_put(w, az.identifier, az.ch[k].token, value);
		if (rc == 0)
			json_array_append_new(
			    records, dcv_record_http(az.identifier, az.ch[k].token, value));
	}
	if (rc) {
		snprintf(msg, msg_len, "preparing the %s challenge: %s", type, se_strerror(rc));
		return rc;
	}
	ch = &w->state.chals[w->state.n_chals];
	memset(ch, 0, sizeof(*ch));
	if (pack_state_copy(ch->authz, sizeof(ch->authz), authz_url) ||
	    pack_state_copy(ch->url, sizeof(ch->url), az.ch[k].url) ||
	    pack_state_copy(ch->type, sizeof(ch->type), type) ||
	    pack_state_copy(ch->name, sizeof(ch->name), name) ||
	    pack_state_copy(ch->value, sizeof(ch->value), value)) {
		snprintf(msg, msg_len, "the CA's %s challenge for %s does not fit", type,
			 az.identifier);
		return SE_EIO;
	}
	w->state.n_chals++;
	return 0;
}

/* Creates the order of key type IDX, adding it to the state's orders, and the challenges of
 * its authorizations not seen yet to the state and to RECORDS. 0; 1 when the CA answered with
 * an order the pack has already (nothing added); -1 with OUT saying what failed. */
static int order_one(struct pack_work *w, struct acme_client *c, size_t idx, json_t *records,
		     struct step_out *out)
{
	const char *names[2] = {w->names[0], w->names[1]};
	struct pack_order *ord = &w->state.orders[idx];
	struct acme_problem p;
	struct acme_order o;
	char msg[700] = "";

	if (acme_order_create(c, names, w->n_names, replaced_cert(w, key_types[idx]), &o, &p)) {
		/* RFC 9773: a CA refusing the "replaces" field gets the order again without it. */
		memset(w->state.replaces, 0, sizeof(w->state.replaces));
		problem_msg(&p, "creating the order", msg, sizeof(msg));
		exchange_failed(w, out, &p, msg, 1);
		return -1;
	}
	for (size_t i = 0; i < idx; i++) {
		if (strcmp(w->state.orders[i].url, o.url) == 0) {
			/* The CA answered with an order of ours still to finalize (Let's Encrypt
			 * reuses an account's pending and ready orders for the same names): one
			 * order cannot give two certificates, so this key's is asked for after. */
			log_info("msg=\"the CA gave an order again\" hostname=%s pack=%s",
				 w->subj.hostname, w->subj.pack_id);
			return 1;
		}
	}
	memset(ord, 0, sizeof(*ord));
	ord->key = key_types[idx];
	memcpy(ord->url, o.url, sizeof(ord->url));
	memcpy(ord->finalize, o.finalize, sizeof(ord->finalize));
	for (size_t a = 0; a < o.n_authz; a++) {
		memcpy(ord->authz[a], o.authz[a], sizeof(ord->authz[a]));
		if (!chal_seen(&w->state, o.authz[a]) &&
		    chal_add(w, c, o.authz[a], records, &p, msg, sizeof(msg))) {
			exchange_failed(w, out, &p, msg, 1);
			return -1;
		}
	}
	ord->n_authz = o.n_authz;
	w->state.n_orders = idx + 1;
	return 0;
}

/* 1 when the CA's order limit (ca.<name>.order_limit, counted for the whole fleet in the store)
 * leaves no room for N new orders now; OUT then says when there will be. */
static int order_budget_spent(struct pack_work *w, int n, struct step_out *out)
{
	const struct config_ca *ca = config_find_ca(w->is->cfg, w->state.ca);
	int64_t now = time_now_us(), retry_at = now;
	char msg[300];
	int rc;

	if (!ca || ca->max_orders == 0)
		return 0;
	rc = store_ca_orders_take(w->is->st, ca->name, n, ca->max_orders,
				  ca->order_window_s * 1000000, now, &retry_at);
	if (rc == 0)
		return 0;
	if (rc == SE_EQUOTA) {
		snprintf(msg, sizeof(msg),
			 "certificate authority %s: its order limit (%s) is reached; the next "
			 "order is made in %lld s",
			 ca->name, ca->order_limit, (long long)((retry_at - now) / 1000000 + 1));
		log_info("msg=\"order limit reached\" hostname=%s ca=%s retry_in_s=%lld",
			 w->subj.hostname, ca->name, (long long)((retry_at - now) / 1000000 + 1));
		step_fail_later(w, out, msg, (retry_at - now) / 1000000 + 1);
	} else {
		step_fail_later(w, out, "counting the orders made: the store is unavailable", -1);
	}
	return 1;
}

/* The orders of the pack's two certificates (ECDSA primary, RSA fallback). With dns-01 (txt,
 * cname) for one name both are made at once and every TXT value either needs is shown
 * together: the customer publishes once, whether or not the CA reuses the first order's
 * authorizations for the second (Let's Encrypt is shortening that reuse; decisions/0024).
 * A CA that answers the second newOrder with the first order (Let's Encrypt does while it is
 * pending or ready) gets it later, as below, and then reuses the validated authorizations.
 * Otherwise one key type at a time, ECDSA first, the RSA order after the ECDSA certificate is
 * stored: with http-01 and tls-alpn-01 there is nothing for the customer to publish per order
 * (and a second tls-alpn-01 challenge for the same name would replace the first at the edge),
 * and a name with its wildcard would need four values at one TXT name, an answer past 512
 * bytes that DNS clients without TCP fallback (Pebble's among them) cannot read. */
static int order_step(struct pack_work *w, struct step_out *out)
{
	struct pack_state *st = &w->state;
	json_t *records = json_array();
	struct acme_client *c = client_of(w, out);
	size_t idx = st->n_orders, last;
	int rc = 0;

	if (!c || !records)
		goto out;
	if (idx >= ISSUER_MAX_ORDERS) { /* every order made: finish the last one */
		st->step = PACK_STEP_FINALIZE;
		out->next = STEP_NOW;
		goto out;
	}
	last = dns01_method(w) && w->n_names == 1 ? ISSUER_MAX_ORDERS : idx + 1;
	if (order_budget_spent(w, (int)(last - idx), out))
		goto out;
	/* This step's challenges replace the last one's (those are answered, or given up). */
	st->n_chals = 0;
	for (size_t first = idx; idx < last; idx++) {
		int made = order_one(w, c, idx, records, out);

		if (made > 0 && idx == first) {
			/* An order already finalized, given again: nothing new to work on. */
			step_fail_later(w, out, "the CA answered a new order with one already used",
					-1);
			goto out;
		}
		if (made > 0)
			break; /* the others once the orders made are finalized */
		if (made < 0) {
			/* The orders this step made go too (unless a restart dropped them all):
			 * their challenges were never shown, and the next step makes them together.
			 */
			if (st->n_orders > first)
				st->n_orders = first;
			goto out;
		}
	}
	st->tries = 0;
	out->next = STEP_NOW;
	if (st->n_chals == 0) { /* every authorization is already valid */
		st->step = PACK_STEP_FINALIZE;
		if (!st->istart_us)
			st->istart_us = time_now_us();
		out->event = PACK_EV_VALIDATED;
		goto out;
	}
	if (!st->vstart_us)
		st->vstart_us = time_now_us();
	st->records_written = 1;
	st->step = PACK_STEP_PREFLIGHT;
	out->records = dcv_records_dump(records);
	records = NULL;
	out->event = PACK_EV_RECORDS_SHOWN;
	if (!out->records)
		rc = SE_ENOMEM;
out:
	json_decref(records);
	return rc;
}

/* ---- preflight, accept, poll --------------------------------------------------------------- */

/* Our own lookup of the TXT values the CA will look for at CH's name (all of them at once: one
 * name may carry the ECDSA and the RSA order's values). */
static int txt_preflight(struct pack_work *w, const struct pack_challenge *ch, char *msg,
			 size_t len)
{
	const char *vals[PACK_STATE_MAX_CHALS];
	size_t n = 0;

	for (size_t j = 0; j < w->state.n_chals; j++) {
		if (strcmp(w->state.chals[j].name, ch->name) == 0)
			vals[n++] = w->state.chals[j].value;
	}
	return dcv_txt_check(w->is->cfg->dns.resolver, ch->name, vals, n, msg, len);
}

/* Our own fetch of the http-01 token, the way the CA will: from the edge's HTTP port at the
 * name's address (or wherever the provider placed it before the customer's CNAME moved). */
static int http_preflight(struct pack_work *w, const struct pack_challenge *ch, char *msg,
			  size_t len)
{
	char token[256];

	snprintf(token, sizeof(token), "%.*s", (int)strcspn(ch->value, "."), ch->value);
	return dcv_http_check(w->is->cfg, ch->name, token, ch->value, msg, len);
}

/* The CAA issuer domains of the pack's CA: configured, else from its directory. */
static void caa_identities_of(struct pack_work *w, struct acme_client *c, char *out, size_t len)
{
	const char *ca = w->state.ca;
	struct acme_problem p;

	out[0] = '\0';
	for (size_t i = 0; i < w->is->n_acme; i++)
		if (strcmp(w->is->acme[i].cfg->name, ca) == 0)
			snprintf(out, len, "%s", w->is->acme[i].cfg->caa_identities);
	if (!out[0])
		acme_directory_caa_identities(c, out, len, &p);
}

/* Before the CA spends a validation: every record it will look for is checked here first, and
 * validation_errors says what is missing (tls-alpn-01 is answered by this edge itself). */
static int preflight_step(struct pack_work *w, struct step_out *out)
{
	const char *names[2] = {w->names[0], w->names[1]};
	struct acme_client *c;
	char msg[600], caa[256];

	if (strcmp(w->subj.method, "cname") == 0 && dcv_cname_check(w, msg, sizeof(msg))) {
		pack_count_validation_failure(w, MR_CHECK);
		step_fail_later(w, out, msg, -1);
		return 0;
	}
	for (size_t i = 0; i < w->state.n_chals; i++) {
		const struct pack_challenge *ch = &w->state.chals[i];
		int rc = 0;

		if (strcmp(ch->type, "dns-01") == 0)
			rc = txt_preflight(w, ch, msg, sizeof(msg));
		else if (strcmp(ch->type, "http-01") == 0)
			rc = http_preflight(w, ch, msg, sizeof(msg));
		if (rc) {
			pack_count_validation_failure(w, MR_CHECK);
			step_fail_later(w, out, msg, -1);
			return 0;
		}
	}
	/* A CAA refusal would cost a failed validation too. */
	c = client_of(w, out);
	if (!c)
		return 0;
	caa_identities_of(w, c, caa, sizeof(caa));
	if (dcv_caa_check(w->is->cfg->dns.resolver, names, w->n_names, caa, msg, sizeof(msg))) {
		pack_count_validation_failure(w, MR_CAA);
		step_fail_later(w, out, msg, -1);
		return 0;
	}
	w->state.step = PACK_STEP_ACCEPT;
	w->state.tries = 0;
	out->errors = strdup("");
	out->next = STEP_NOW;
	return out->errors ? 0 : SE_ENOMEM;
}

/* 1 when CH was accepted already: a step whose worker asked the CA and was killed before its
 * write (or lost its lease) left accepted unset, and the CA, which has moved the challenge to
 * processing or valid, refuses it a second time (Pebble: "Cannot update challenge with status
 * valid"). Retrying would refuse for ever, so the CA's own view decides. */
static int accepted_before(struct acme_client *c, const struct pack_challenge *ch)
{
	struct acme_problem p;
	struct acme_authz az;

	if (acme_authz_fetch(c, ch->authz, &az, &p) != 0)
		return 0;
	if (strcmp(az.status, "pending") != 0)
		return 1; /* valid, or failed: the poll step reads which and says why */
	for (size_t k = 0; k < az.n_ch; k++) {
		if (strcmp(az.ch[k].url, ch->url) == 0)
			return strcmp(az.ch[k].status, "pending") != 0;
	}
	return 0;
}

static int accept_step(struct pack_work *w, struct step_out *out)
{
	struct acme_client *c = client_of(w, out);
	struct acme_problem p;
	char msg[700];

	if (!c)
		return 0;
	for (size_t i = 0; i < w->state.n_chals; i++) {
		struct pack_challenge *ch = &w->state.chals[i];

		if (ch->accepted)
			continue;
		if (acme_challenge_accept(c, ch->url, NULL, &p) && !accepted_before(c, ch)) {
			problem_msg(&p, "asking the CA to validate", msg, sizeof(msg));
			exchange_failed(w, out, &p, msg, 0);
			return 0;
		}
		ch->accepted = 1;
		log_info("msg=\"challenge accepted\" hostname=%s type=%s ca=%s", w->subj.hostname,
			 ch->type, w->state.ca);
	}
	w->state.step = PACK_STEP_POLL;
	w->state.tries = 0;
	out->next = STEP_LATER;
	out->delay_us = 100000;
	out->hold = 1;
	return 0;
}

static int poll_step(struct pack_work *w, struct step_out *out)
{
	struct acme_client *c = client_of(w, out);
	int64_t retry_after = -1;
	struct acme_problem p;
	struct acme_authz az;
	int waiting = 0;
	char msg[800];

	if (!c)
		return 0;
	for (size_t i = 0; i < w->state.n_chals; i++) {
		if (acme_authz_fetch(c, w->state.chals[i].authz, &az, &p)) {
			problem_msg(&p, "polling an authorization", msg, sizeof(msg));
			exchange_failed(w, out, &p, msg, 0);
			return 0;
		}
		if (strcmp(az.status, "valid") == 0)
			continue;
		if (strcmp(az.status, "pending") != 0) {
			const char *detail = "";

			for (size_t k = 0; k < az.n_ch; k++) {
				if (az.ch[k].error_detail[0])
					detail = az.ch[k].error_detail;
			}
			snprintf(msg, sizeof(msg), "the CA could not validate %s: %s",
				 az.identifier, detail[0] ? detail : az.status);
			pack_count_validation_failure(w, MR_CA);
			ca_failure(w, out, msg, -1);
			return 0;
		}
		waiting = 1;
		if (az.retry_after_s > retry_after)
			retry_after = az.retry_after_s;
	}
	if (waiting) {
		int tries = (int)w->state.tries++;

		out->next = STEP_LATER;
		out->delay_us = retry_after > 0 ? retry_after * 1000000
						: step_backoff_us(tries, 100000, 5000000);
		out->hold = 1;
		return 0;
	}
	w->state.step = PACK_STEP_FINALIZE;
	w->state.istart_us = time_now_us();
	w->state.tries = 0;
	w->state.last_problem[0] = '\0';
	out->event = PACK_EV_VALIDATED;
	out->errors = strdup("");
	out->next = STEP_NOW;
	return out->errors ? 0 : SE_ENOMEM;
}

/* ---- finalize and download ----------------------------------------------------------------- */

static int finalize_order(struct pack_work *w, struct acme_client *c, const struct pack_order *ord,
			  struct acme_order *o, struct acme_problem *p)
{
	const char *names[2] = {w->names[0], w->names[1]};
	unsigned char *csr = NULL;
	size_t len = 0;
	EVP_PKEY *key = NULL;
	int rc;

	rc = pack_key_load(w, ord->key, &key);
	if (rc == 0)
		rc = keys_build_csr(key, names, w->n_names, NULL, &csr, &len);
	if (rc == 0)
		rc = acme_order_finalize(c, o->finalize, csr, len, o, p);
	OPENSSL_free(csr);
	EVP_PKEY_free(key);
	return rc;
}

/* 1 when LEAF (DER) certifies the public half of the pack's key of TYPE. */
static int leaf_is_for_key(struct pack_work *w, enum key_type type, const unsigned char *leaf,
			   size_t len)
{
	const unsigned char *p = leaf;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	EVP_PKEY *key = NULL;
	int ok = x && pack_key_load(w, type, &key) == 0 && X509_check_private_key(x, key) == 1;

	ERR_clear_error(); /* a mismatch leaves its reason on the queue */
	X509_free(x);
	EVP_PKEY_free(key);
	return ok;
}

static int download(struct pack_work *w, struct step_out *out, struct acme_client *c,
		    struct pack_order *ord, const struct acme_order *o, struct acme_problem *p)
{
	unsigned char **ders = NULL, *chain = NULL;
	size_t *lens = NULL, count = 0, len = 0, chain_len = 0;
	char *pem = NULL;
	int rc;

	rc = acme_certificate_download(c, o->certificate, &pem, &len, p);
	if (rc == 0)
		rc = cert_chain_from_pem(pem, len, &ders, &lens, &count);
	for (size_t i = 1; rc == 0 && i < count; i++)
		chain_len += lens[i];
	if (rc == 0 && chain_len && !(chain = malloc(chain_len)))
		rc = SE_ENOMEM;
	for (size_t i = 1, off = 0; rc == 0 && i < count; off += lens[i], i++)
		memcpy(chain + off, ders[i], lens[i]);
	/* Never stored for the wrong key, whatever the CA answered (an order given twice). */
	if (rc == 0 && !leaf_is_for_key(w, ord->key, ders[0], lens[0])) {
		snprintf(p->detail, sizeof(p->detail),
			 "the certificate the CA issued is not for this order's %s key",
			 keys_type_name(ord->key));
		p->status = 0;
		rc = SE_EIO;
	}
	if (rc == 0)
		rc = pack_cert_add(w, out, ord->key, ders[0], lens[0], chain, chain_len);
	if (rc == 0)
		ord->stored = 1;
	free(chain);
	cert_chain_free(ders, lens, count);
	free(pem);
	return rc;
}

/* One order towards its certificate. 1 when it is stored, 0 when it needs more time, < 0 when
 * the step failed (OUT says how). */
static int order_advance(struct pack_work *w, struct acme_client *c, struct pack_order *ord,
			 struct step_out *out)
{
	struct acme_problem p;
	struct acme_order o;
	char msg[800];
	int rc;

	if (ord->stored)
		return 1;
	rc = acme_order_fetch(c, ord->url, &o, &p);
	if (rc == 0 && strcmp(o.status, "ready") == 0)
		rc = finalize_order(w, c, ord, &o, &p);
	if (rc == 0 && strcmp(o.status, "valid") == 0 && o.certificate[0]) {
		rc = download(w, out, c, ord, &o, &p);
		if (rc == 0)
			return 1;
	}
	if (rc) {
		problem_msg(&p, "finalizing the order", msg, sizeof(msg));
		exchange_failed(w, out, &p, msg,
				!acme_problem_is(&p, "orderNotReady") && p.status != 0 &&
				    p.status < 500);
		return -1;
	}
	if (strcmp(o.status, "invalid") == 0 || strcmp(o.status, "pending") == 0) {
		snprintf(msg, sizeof(msg), "the CA's order is %s%s%s", o.status,
			 o.error_detail[0] ? ": " : "", o.error_detail);
		ca_failure(w, out, msg, -1);
		return -1;
	}
	out->next = STEP_LATER;
	out->delay_us = o.retry_after_s > 0 ? o.retry_after_s * 1000000 : 200000;
	out->hold = 1;
	return 0;
}

static int finalize_step(struct pack_work *w, struct step_out *out)
{
	struct acme_client *c = client_of(w, out);
	int all = 1;

	if (!c)
		return 0;
	for (size_t i = 0; i < w->state.n_orders; i++) {
		int r = order_advance(w, c, &w->state.orders[i], out);

		if (r < 0)
			return 0;
		all &= r;
	}
	if (!all)
		return 0;
	if (w->state.n_orders < ISSUER_MAX_ORDERS) {
		w->state.step = PACK_STEP_ORDER;
		out->next = STEP_NOW;
		return 0;
	}
	renewal_schedule(w, out);
	store_challenge_delete_pack(w->is->st, w->subj.pack_id);
	dcv_cname_withdraw(w);
	log_info("msg=\"certificates issued\" hostname=%s pack=%s ca=%s", w->subj.hostname,
		 w->subj.pack_id, w->state.ca);
	return 0;
}

int issue_acme_step(struct pack_work *w, struct step_out *out)
{
	if (strcmp(w->subj.method, "txt") != 0 && strcmp(w->subj.method, "http") != 0 &&
	    strcmp(w->subj.method, "cname") != 0) {
		step_fail_later(w, out, "this DCV method is not available yet; use txt or http",
				-1);
		return 0;
	}
	if (strcmp(w->subj.method, "cname") == 0 && dcv_cname_unavailable(w, out))
		return 0;
	switch (w->state.step) {
	case PACK_STEP_PREFLIGHT:
		return preflight_step(w, out);
	case PACK_STEP_ACCEPT:
		return accept_step(w, out);
	case PACK_STEP_POLL:
		return poll_step(w, out);
	case PACK_STEP_FINALIZE:
		return finalize_step(w, out);
	default: /* order, or a state from the internal CA after a fallback */
		return order_step(w, out);
	}
}

/* Issuance from the internal CA: saasedge shows its own DCV token, checks it itself (TXT through
 * dns.resolver, or http through the edge: dcv_http.c; or an approval link by mail: dcv_email.c),
 * then signs both keys' CSRs with src/ca. Steps: order → [mail →] check → issue → done. */
#include "issuer/dcv_email.h"
#include "issuer/issuer_int.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "lib/error.h"
#include "lib/ids.h"
#include "lib/keys.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "metrics/metrics.h"

/* Ownership of a wildcard's parent is shown at the parent's name. */
static const char *base_name(const char *host)
{
	return strncmp(host, "*.", 2) == 0 ? host + 2 : host;
}

static int prepare(struct pack_work *w, struct step_out *out)
{
	const char *host = base_name(w->subj.hostname);
	char value[40], name[300], body[120];
	json_t *records = json_array();
	int rc;

	if (!records)
		return SE_ENOMEM;
	if (strcmp(w->subj.method, "email") == 0) {
		json_decref(records);
		return dcv_email_prepare(w, out);
	}
	if (w->state.dcv_value[0])
		snprintf(value, sizeof(value), "%s", w->state.dcv_value);
	else if ((rc = ids_hex32(value)) != 0)
		goto out;
	if (strcmp(w->subj.method, "txt") == 0) {
		/* Shown to publish, and published where a delegating CNAME leads. */
		snprintf(name, sizeof(name), "_acme-challenge.%s", host);
		json_array_append_new(records, dcv_record_txt(name, value));
		rc = dcv_delegation_publish(w, value);
		if (rc)
			goto out;
	} else if (strcmp(w->subj.method, "http") == 0 && !w->subj.wildcard &&
		   strncmp(w->subj.hostname, "*.", 2) != 0) {
		/* The token is the value; the body binds it to this pack, like a key
		 * authorization. */
		snprintf(body, sizeof(body), "%s.%s", value, w->subj.pack_id);
		rc = dcv_http_challenge_put(w, host, value, body);
		if (rc)
			goto out;
		json_array_append_new(records, dcv_record_http(host, value, body));
	} else if (strcmp(w->subj.method, "cname") == 0) {
		if (dcv_cname_unavailable(w, out)) {
			json_decref(records);
			return 0;
		}
		rc = dcv_cname_add(w, host, value, records);
		if (rc)
			goto out;
	} else {
		/* email needs a mailer: explained, retried. */
		json_decref(records);
		step_fail_later(w, out,
				"this DCV method is not available with the internal CA yet;"
				" use txt or http",
				-1);
		return 0;
	}
	snprintf(w->state.dcv_value, sizeof(w->state.dcv_value), "%s", value);
	w->state.step = PACK_STEP_CHECK;
	w->state.vstart_us = time_now_us();
	w->state.tries = 0;
	w->state.records_written = 1;
	out->records = dcv_records_dump(records);
	records = NULL;
	out->errors = strdup("");
	out->event = PACK_EV_RECORDS_SHOWN;
	out->next = STEP_NOW;
	rc = out->records && out->errors ? 0 : SE_ENOMEM;
out:
	json_decref(records);
	return rc;
}

static int check(struct pack_work *w, struct step_out *out)
{
	const char *value = w->state.dcv_value;
	char name[300], msg[700], body[120];
	int rc;

	snprintf(name, sizeof(name), "_acme-challenge.%s", base_name(w->subj.hostname));
	if (strcmp(w->subj.method, "email") == 0) {
		rc = dcv_email_check(w, out);
		if (rc)
			return rc > 0 ? 0 : rc;
	} else if (strcmp(w->subj.method, "http") == 0) {
		snprintf(body, sizeof(body), "%s.%s", value, w->subj.pack_id);
		rc = dcv_http_check(w->is->cfg, w->subj.hostname, value, body, msg, sizeof(msg));
	} else {
		/* cname: the CNAME first (the customer's part), then the TXT through it (ours). */
		rc = strcmp(w->subj.method, "cname") == 0 ? dcv_cname_check(w, msg, sizeof(msg)) : 0;
		if (rc == 0)
			rc = dcv_txt_check(w->is->cfg->dns.resolver, name, &value, 1, msg,
					   sizeof(msg));
	}
	if (rc) {
		pack_count_validation_failure(w, MR_CHECK);
		step_fail_later(w, out, msg, -1);
		return 0;
	}
	w->state.step = PACK_STEP_ISSUE;
	w->state.istart_us = time_now_us();
	w->state.tries = 0;
	w->state.last_problem[0] = '\0';
	out->errors = strdup("");
	out->event = PACK_EV_VALIDATED;
	out->next = STEP_NOW;
	return out->errors ? 0 : SE_ENOMEM;
}

static int issue_one(struct pack_work *w, struct step_out *out, enum key_type type)
{
	const char *names[2] = {w->names[0], w->names[1]};
	const unsigned char *chain;
	unsigned char *csr = NULL, *leaf = NULL;
	size_t csr_len = 0, leaf_len = 0, chain_len = 0;
	EVP_PKEY *key = NULL;
	int64_t validity = w->is->cfg->issuance.internal_validity * 1000000;
	/* Backdated (an hour, less for short test lifetimes) for clients whose clocks run
	 * slow; the lifetime from now is still the configured one. */
	int64_t backdate = validity / 10 < 3600LL * 1000000 ? validity / 10 : 3600LL * 1000000;
	int64_t now = time_now_us();
	int rc;

	rc = pack_key_load(w, type, &key);
	if (rc == 0)
		rc = keys_build_csr(key, names, w->n_names, NULL, &csr, &csr_len);
	if (rc == 0)
		rc = ca_issue(w->is->ca, csr, csr_len, names, w->n_names, now - backdate,
			      validity + backdate, &leaf, &leaf_len);
	if (rc == 0) {
		ca_chain_der(w->is->ca, &chain, &chain_len);
		rc = pack_cert_add(w, out, type, leaf, leaf_len, chain, chain_len);
	}
	OPENSSL_free(csr);
	OPENSSL_free(leaf);
	EVP_PKEY_free(key);
	return rc;
}

static int issue(struct pack_work *w, struct step_out *out)
{
	int rc = issue_one(w, out, KEY_ECDSA_P256);

	if (rc == 0)
		rc = issue_one(w, out, KEY_RSA_2048);
	if (rc)
		return rc;
	renewal_schedule(w, out);
	dcv_cname_withdraw(w);
	log_info("msg=\"certificates issued\" hostname=%s pack=%s ca=internal", w->subj.hostname,
		 w->subj.pack_id);
	return 0;
}

int issue_internal_step(struct pack_work *w, struct step_out *out)
{
	switch (w->state.step) {
	case PACK_STEP_ORDER:
		return prepare(w, out);
	case PACK_STEP_MAIL:
		return dcv_email_mail(w, out);
	case PACK_STEP_CHECK:
		return check(w, out);
	case PACK_STEP_ISSUE:
		return issue(w, out);
	default:
		/* A state from an ACME CA after a fallback to internal: start this CA's way. */
		w->state.step = PACK_STEP_ORDER;
		out->next = STEP_NOW;
		return 0;
	}
}

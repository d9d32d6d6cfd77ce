/* The certificate state machine of a pack, one durable step at a time. A worker holding a
 * hostname job loads the pack's state document, runs the step it names, and writes the new
 * document, the pack's status and records, the certificates it obtained, and the job's next
 * run in one fenced transaction (store_issuance_write). A crash repeats the steps since the
 * last write, and every step is safe to repeat: keys and orders made by a lost step are
 * orphans, never duplicates in use.
 *
 * Steps: keys → (ACME) order → preflight → accept → poll → finalize → done, or
 *        keys → (internal) check → issue → done; timeouts end in *_timed_out. */
#include "issuer/issuer_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/error.h"
#include "lib/ids.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "metrics/metrics.h"

int64_t step_backoff_us(int tries, int64_t base_us, int64_t cap_us)
{
	uint32_t r = 0;
	int64_t d = base_us;

	for (int i = 0; i < tries && d < cap_us; i++)
		d *= 2;
	if (d > cap_us)
		d = cap_us;
	/* ±20% jitter so that packs failing together do not retry in lockstep. */
	ids_random(&r, sizeof(r));
	return d - d / 5 + (int64_t)(r % (uint32_t)(2 * (d / 5) + 1));
}

/* ssl.validation_errors: objects with a message, as Cloudflare has them. */
static char *errors_json(const char *msg)
{
	json_t *a = json_pack("[{s:s}]", "message", msg);
	char *s = a ? json_dumps(a, JSON_COMPACT) : NULL;

	json_decref(a);
	return s;
}

/* verification_errors: plain strings in Cloudflare's schema (SDKs decode them as strings). */
static char *strings_json(const char *msg)
{
	json_t *a = json_pack("[s]", msg);
	char *s = a ? json_dumps(a, JSON_COMPACT) : NULL;

	json_decref(a);
	return s;
}

void step_fail_later(struct pack_work *w, struct step_out *out, const char *msg,
		     int64_t retry_after_s)
{
	int tries = (int)w->state.tries;
	/* The lease is released while waiting (out->hold stays 0): a failed check frees its
	 * worker for other packs. */
	int64_t delay = step_backoff_us(tries, 250000, 60LL * 1000000);

	if (retry_after_s >= 0 && retry_after_s * 1000000 > delay)
		delay = retry_after_s * 1000000;
	w->state.tries = tries + 1;
	snprintf(w->state.last_problem, sizeof(w->state.last_problem), "%s", msg);
	free(out->errors);
	out->errors = errors_json(msg);
	out->next = STEP_LATER;
	out->delay_us = delay;
	snprintf(out->last_error, sizeof(out->last_error), "%s", msg);
}

/* What the configuration of the hostname is: a change of any part means a new certificate. */
static void signature_of(const struct store_issuance_subject *s, char *out, size_t len)
{
	snprintf(out, len, "%s|%s|%d", s->method, s->certificate_authority, s->wildcard);
}

/* The pack's saved state, or a fresh start: a pack sent back to initializing after its records
 * were shown (PATCH with a new method or a recheck of a timed-out pack) starts over, as does one
 * whose settings changed, or whose state this version cannot read. */
static void state_load(struct pack_work *w)
{
	struct pack_state *st = &w->state;
	const char *ca = w->subj.certificate_authority[0] ? w->subj.certificate_authority
							  : w->is->cfg->issuance.default_ca;
	char sig[128];

	signature_of(&w->subj, sig, sizeof(sig));
	if (!w->subj.state_json || pack_state_load(w->subj.state_json, st) != 0) {
		pack_state_init(st, sig, ca);
		return;
	}
	if (strcmp(st->sig, sig) == 0 &&
	    !(strcmp(w->subj.pack_status, "initializing") == 0 && st->records_written))
		return;
	if (pack_authz_deactivate(w->is, w->subj.pack_id, st))
		log_info("msg=\"old authorizations left to expire\" hostname=%s pack=%s",
			 w->subj.hostname, w->subj.pack_id);
	store_challenge_delete_pack(w->is->st, w->subj.pack_id);
	store_dns_records_delete_pack(w->is->st, w->subj.pack_id);
	pack_state_init(st, sig, ca);
}

static void names_of(struct pack_work *w)
{
	const char *h = w->subj.hostname;

	w->n_names = 1;
	snprintf(w->names[0], sizeof(w->names[0]), "%s", h);
	if (w->subj.wildcard && strncmp(h, "*.", 2) != 0) {
		snprintf(w->names[1], sizeof(w->names[1]), "*.%s", h);
		w->n_names = 2;
	}
}

void pack_count_validation_failure(const struct pack_work *w, int reason)
{
	static const char *const methods[] = {"http", "txt", "email", "cname"};

	for (unsigned m = 0; m < MV_METHOD_COUNT; m++)
		if (strcmp(w->subj.method, methods[m]) == 0)
			metrics_count(M_ISSUER_VALIDATION_FAILS, m, (unsigned)reason);
}

/* 1 when the pack ran out of time in its current phase; OUT then says so. */
static int timed_out(struct pack_work *w, struct step_out *out)
{
	enum pack_step step = w->state.step;
	int validating = step == PACK_STEP_PREFLIGHT || step == PACK_STEP_ACCEPT ||
			 step == PACK_STEP_POLL || step == PACK_STEP_CHECK ||
			 step == PACK_STEP_MAIL;
	int issuing = step == PACK_STEP_FINALIZE || step == PACK_STEP_ISSUE;
	const struct config *cfg = w->is->cfg;
	int64_t now = time_now_us();
	char msg[sizeof(w->state.last_problem) + 64];

	const char *problem = w->state.last_problem;

	if (validating && w->state.vstart_us &&
	    now - w->state.vstart_us > cfg->issuance.validation_timeout * 1000000) {
		snprintf(msg, sizeof(msg), "validation timed out after %lld s: %s",
			 (long long)cfg->issuance.validation_timeout,
			 problem[0] ? problem : "the CA did not validate");
		out->event = PACK_EV_VALIDATION_TIMED_OUT;
	} else if (issuing && w->state.istart_us &&
		   now - w->state.istart_us > cfg->issuance.issuance_timeout * 1000000) {
		snprintf(msg, sizeof(msg), "issuance timed out after %lld s: %s",
			 (long long)cfg->issuance.issuance_timeout,
			 problem[0] ? problem : "the CA did not issue");
		out->event = PACK_EV_ISSUANCE_TIMED_OUT;
	} else {
		return 0;
	}
	out->errors = errors_json(msg);
	if (renewal_active(w)) {
		renewal_failed(w, out);
		return 1;
	}
	out->next = STEP_DONE;
	w->state.step = PACK_STEP_TIMED_OUT;
	log_info("msg=\"pack timed out\" hostname=%s pack=%s event=%s", w->subj.hostname,
		 w->subj.pack_id, pack_event_name(out->event));
	return 1;
}

static int step_run(struct pack_work *w, struct step_out *out)
{
	if (timed_out(w, out))
		return 0;
	switch (w->state.step) {
	case PACK_STEP_KEYS:
		return pack_keys_step(w, out);
	case PACK_STEP_DONE:
		return renewal_step(w, out);
	case PACK_STEP_TIMED_OUT:
		out->next = STEP_DONE;
		return 0;
	default:
		break;
	}
	if (strcmp(w->state.ca, "internal") == 0)
		return issue_internal_step(w, out);
	return issue_acme_step(w, out);
}

/* A short wait (polling the CA) keeps the lease: re-leasing would cost a poll interval and a
 * worker hand-over for nothing. */
static void hold_wait(const struct step_out *out)
{
	struct timespec ts = {0, (long)out->delay_us * 1000};

	nanosleep(&ts, NULL);
}

/* 1 when the step that made OUT changed nothing anyone sees (no event, records, errors to
 * change, certificate or failure) and the lease has more than half its time left: its write
 * would only save the pack's progress, which the next write saves with its own, and which a
 * crash before it makes again (every step is safe to repeat). The lease's ownership outcome
 * waits for that write too: every lease ends with one. Every write queues on the store's one
 * write lock, which a fleet's issuers share (decision 0026); most steps of an issuance show
 * nothing (keys, preflight and accept when all is well, finalize, most polls). */
static int write_needless(const struct pack_work *w, const struct step_out *out, int64_t now)
{
	if (out->event != PACK_EV_NONE || out->records || out->issued_by || out->n_certs ||
	    out->last_error[0] || w->lease_until_us - now < ISSUER_LEASE_US / 2)
		return 0;
	return !out->errors || (!out->errors[0] && !w->errors_shown);
}

/* The ownership outcome is in the store: nothing left to write. */
static void ownership_written(struct pack_work *w)
{
	if (w->hostname_status)
		log_info("msg=\"hostname ownership verified\" hostname=%s", w->subj.hostname);
	w->hostname_status = NULL;
	free(w->verification_errors);
	w->verification_errors = NULL;
}

/* Writes OUT with the state; 1 to go on with the next step in this lease, 0 to stop. */
static int step_write(struct pack_work *w, struct step_out *out, int64_t t0)
{
	struct store_issuance_step s = {
	    .job_id = w->job.id,
	    .lease_token = w->job.lease_token,
	    .hostname_id = w->subj.hostname_id,
	    .pack_id = w->subj.pack_id,
	    .pack_event = out->event,
	    .validation_records_json = out->records,
	    .validation_errors_json = out->errors,
	    .issued_by = out->issued_by,
	    .certificates = out->certs,
	    .n_certificates = out->n_certs,
	    .hostname_status = w->hostname_status,
	    .verification_errors_json = w->verification_errors,
	    .last_error = out->last_error[0] ? out->last_error : NULL,
	};
	int64_t now = time_now_us();
	char *state = NULL;
	int rc;

	if (out->next == STEP_DONE && w->ownership_retry_us) {
		/* The certificate is settled but ownership is not: keep looking. */
		s.job = STORE_JOB_RETRY;
		s.run_at_us = now + w->ownership_retry_us;
	} else if (out->next == STEP_DONE) {
		s.job = STORE_JOB_FINISH;
	} else if ((out->next == STEP_LATER &&
		    (!out->hold || out->delay_us > ISSUER_SHORT_WAIT_US)) ||
		   now - t0 > ISSUER_STEP_BUDGET_US || w->is->stopping) {
		s.job = STORE_JOB_RETRY;
		s.run_at_us = now + (out->next == STEP_LATER ? out->delay_us : 0);
		if (w->ownership_retry_us && s.run_at_us > now + w->ownership_retry_us)
			s.run_at_us = now + w->ownership_retry_us;
	} else if (write_needless(w, out, now)) {
		if (out->next == STEP_LATER)
			hold_wait(out);
		return 1;
	} else {
		s.job = STORE_JOB_KEEP;
		s.lease_until_us = now + ISSUER_LEASE_US;
	}
	if (!(state = pack_state_dump(&w->state)))
		return 0;
	s.state_json = state;
	rc = store_issuance_write(w->is->st, &s);
	free(state);
	if (rc == SE_ELEASE) {
		log_info("msg=\"lease lost, step dropped\" hostname=%s pack=%s", w->subj.hostname,
			 w->subj.pack_id);
		return 0;
	}
	if (rc) {
		log_warn("msg=\"issuer write failed\" hostname=%s err=%s", w->subj.hostname,
			 se_errname(rc));
		store_job_retry(w->is->st, w->job.id, w->job.lease_token,
				now + step_backoff_us(w->job.attempts, 500000, 30000000),
				se_strerror(rc));
		return 0;
	}
	ownership_written(w);
	if (out->event != PACK_EV_NONE)
		log_info("msg=\"ssl status\" hostname=%s pack=%s event=%s", w->subj.hostname,
			 w->subj.pack_id, pack_event_name(out->event));
	if (out->event == PACK_EV_ISSUED)
		metrics_count(M_ISSUER_ORDERS,
			      metrics_ca_index(out->issued_by ? out->issued_by : w->state.ca),
			      MO_ISSUED);
	else if (out->event == PACK_EV_VALIDATION_TIMED_OUT)
		pack_count_validation_failure(w, MR_TIMED_OUT);
	if (out->errors)
		w->errors_shown = out->errors[0] != '\0';
	if (s.job != STORE_JOB_KEEP)
		return 0;
	w->lease_until_us = s.lease_until_us;
	if (out->next == STEP_LATER)
		hold_wait(out);
	return 1;
}

static void out_dispose(struct step_out *out)
{
	free(out->records);
	free(out->errors);
	for (size_t i = 0; i < out->n_certs; i++)
		store_certificate_dispose(&out->certs[i]);
	memset(out, 0, sizeof(*out));
}

/* Checks a pending hostname's ownership once per lease; the outcome is written with the
 * lease's next write (usually the records shown a moment later, in a first issuance): one
 * transaction less for each hostname on the store's one write lock. */
static void ownership_step(struct pack_work *w)
{
	char msg[700];

	if (strcmp(w->subj.hostname_status, "pending") != 0)
		return;
	if (ownership_check(w, msg, sizeof(msg)) == 0) {
		w->hostname_status = "active";
		w->verification_errors = strdup("");
	} else {
		w->verification_errors = strings_json(msg);
		w->ownership_retry_us = step_backoff_us(w->job.attempts, 1000000, 300000000);
	}
}

/* A lease with no pack to work on: only the ownership outcome to write, and the job's next
 * run. */
static void ownership_only(struct pack_work *w, int64_t t0)
{
	struct store_issuance_step s = {
	    .job_id = w->job.id,
	    .lease_token = w->job.lease_token,
	    .hostname_id = w->subj.hostname_id,
	    .hostname_status = w->hostname_status,
	    .verification_errors_json = w->verification_errors,
	    .job = w->ownership_retry_us ? STORE_JOB_RETRY : STORE_JOB_FINISH,
	    .run_at_us = t0 + w->ownership_retry_us,
	    .last_error = w->ownership_retry_us ? "ownership pending" : NULL,
	};

	if (store_issuance_write(w->is->st, &s) == 0)
		ownership_written(w);
}

void pack_machine_run(struct issuer *is, const struct store_job *job)
{
	struct pack_work w;
	int64_t t0 = time_now_us();
	int rc, go_on = 1;

	memset(&w, 0, sizeof(w));
	w.is = is;
	w.job = *job;
	w.lease_until_us = job->lease_until_us;
	rc = store_issuance_subject(is->st, job->subject_id, &w.subj);
	w.errors_shown = w.subj.errors_shown;
	if (rc == SE_ENOTFOUND) {
		store_job_finish(is->st, job->id, job->lease_token);
		goto out;
	}
	if (rc == 0)
		ownership_step(&w);
	if (rc == 0 && !w.subj.pack_id[0]) { /* no certificate: only ownership to follow */
		ownership_only(&w, t0);
		goto out;
	}
	if (rc == 0)
		state_load(&w);
	if (rc) {
		store_job_retry(is->st, job->id, job->lease_token,
				t0 + step_backoff_us(job->attempts, 500000, 30000000),
				se_strerror(rc));
		goto out;
	}
	names_of(&w);
	while (go_on && !is->stopping) {
		struct step_out out;

		memset(&out, 0, sizeof(out));
		rc = step_run(&w, &out);
		renewal_filter(&w, &out);
		if (rc) {
			char msg[128];

			snprintf(msg, sizeof(msg), "internal error: %s", se_strerror(rc));
			log_warn("msg=\"issuer step failed\" hostname=%s step=%s err=%s",
				 w.subj.hostname, pack_step_name(w.state.step), se_errname(rc));
			step_fail_later(&w, &out, msg, -1);
		}
		go_on = step_write(&w, &out, t0);
		out_dispose(&out);
	}
out:
	free(w.verification_errors);
	store_issuance_subject_dispose(&w.subj);
}

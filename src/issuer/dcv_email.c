/* Email DCV: saasedge is its own validator, and a person answering at one of the registered
 * domain's role addresses is the proof (the CA/Browser Forum's "constructed email to domain
 * contact"). The token leaves this file only inside the mail; the store gets its hash. */
#include "issuer/dcv_email.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "issuer/smtp_send.h"
#include "lib/approval_link.h"
#include "lib/error.h"
#include "lib/hostname.h"
#include "lib/ids.h"
#include "lib/log.h"
#include "lib/timeutil.h"

#define N_ADDRESSES     5
#define SMTP_TIMEOUT_MS 10000L /* well within the job lease */
/* Waiting for a person: the approval page makes the job due at once, so this only paces the
 * timeout check. */
#define APPROVAL_WAIT_US (60LL * 1000000)

static const char *const role_names[N_ADDRESSES] = {"admin", "administrator", "hostmaster",
						    "postmaster", "webmaster"};

struct addresses {
	char domain[HOSTNAME_MAX + 1];
	char text[N_ADDRESSES][HOSTNAME_MAX + 16];
	const char *list[N_ADDRESSES];
};

/* The role addresses of the registered domain of the pack's hostname (a wildcard's parent). */
static int addresses_of(const struct pack_work *w, struct addresses *a)
{
	const char *host = w->subj.hostname;
	int rc;

	if (strncmp(host, "*.", 2) == 0)
		host += 2;
	rc = hostname_registered_domain(host, a->domain, sizeof(a->domain));
	if (rc)
		return rc;
	for (size_t i = 0; i < N_ADDRESSES; i++) {
		snprintf(a->text[i], sizeof(a->text[i]), "%s@%s", role_names[i], a->domain);
		a->list[i] = a->text[i];
	}
	return 0;
}

int dcv_email_prepare(struct pack_work *w, struct step_out *out)
{
	struct addresses a;
	char msg[400];

	if (addresses_of(w, &a)) {
		snprintf(msg, sizeof(msg),
			 "%s has no registered domain to send email validation to; use txt or http",
			 w->subj.hostname);
		step_fail_later(w, out, msg, -1);
		return 0;
	}
	out->records = dcv_records_dump(json_pack("[o]", dcv_record_emails(a.list, N_ADDRESSES)));
	out->errors = strdup("");
	if (!out->records || !out->errors)
		return SE_ENOMEM;
	w->state.step = PACK_STEP_MAIL;
	w->state.vstart_us = time_now_us();
	w->state.tries = 0;
	w->state.records_written = 1;
	out->event = PACK_EV_RECORDS_SHOWN;
	out->next = STEP_NOW;
	return 0;
}

/* The pack's approval made during this validation attempt into AP; SE_ENOTFOUND when none
 * (an older one is a previous attempt's, or a renewal's predecessor). */
static int attempt_approval(struct pack_work *w, struct store_approval *ap)
{
	int rc = store_approval_of_pack(w->is->st, w->subj.pack_id, ap);

	if (rc == 0 && ap->created_at_us < w->state.vstart_us)
		rc = SE_ENOTFOUND;
	return rc;
}

/* The names of the certificate, as the mail and the approval page list them. */
static void names_text(const struct pack_work *w, char *out, size_t len)
{
	if (w->n_names > 1)
		snprintf(out, len, "%s, %s", w->names[0], w->names[1]);
	else
		snprintf(out, len, "%s", w->names[0]);
}

/* The whole message (caller frees); NULL when out of memory. */
static char *message_build(const struct pack_work *w, const struct addresses *a, const char *from,
			   const char *names, const char *link, int64_t expires_us)
{
	char date[64], expires[64], msgid[IDS_UUID_LEN + 1] = "";
	char *text = NULL;
	time_t now = time(NULL), until = (time_t)(expires_us / 1000000);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	gmtime_r(&until, &tm);
	strftime(expires, sizeof(expires), "%Y-%m-%d %H:%M UTC", &tm);
	ids_uuid(msgid);
	if (asprintf(&text,
		     "From: %s\r\n"
		     "To: %s, %s, %s, %s, %s\r\n"
		     "Subject: Approve the certificate for %s\r\n"
		     "Date: %s\r\n"
		     "Message-ID: <%s@saasedge>\r\n"
		     "MIME-Version: 1.0\r\n"
		     "Content-Type: text/plain; charset=us-ascii\r\n"
		     "Content-Transfer-Encoding: 7bit\r\n"
		     "\r\n"
		     "A TLS certificate was requested for:\r\n"
		     "\r\n"
		     "    %s\r\n"
		     "\r\n"
		     "This mail went to the administrative addresses of %s. If you manage\r\n"
		     "this domain and expect the certificate, open the link below and press\r\n"
		     "\"Approve\". The link works once, until %s.\r\n"
		     "\r\n"
		     "    %s\r\n"
		     "\r\n"
		     "If you did not expect this, ignore this mail: nothing is issued\r\n"
		     "without an approval.\r\n",
		     from, a->list[0], a->list[1], a->list[2], a->list[3], a->list[4],
		     w->subj.hostname, date, msgid, names, a->domain, expires, link) < 0)
		return NULL;
	return text;
}

int dcv_email_mail(struct pack_work *w, struct step_out *out)
{
	const struct config *cfg = w->is->cfg;
	struct store_approval ap;
	struct addresses a;
	char token[APPROVAL_LINK_TOKEN_LEN + 1], link[700], err[300], msg[600];
	char *message = NULL;
	int64_t vstart = w->state.vstart_us;
	int rc;

	/* A link of this attempt exists only once its mail was sent (one that could not be sent is
	 * withdrawn below): a repeated step (a write lost to a recheck that took the lease, or a
	 * crash) must neither mail again nor replace the link already mailed, used or not. */
	rc = attempt_approval(w, &ap);
	if (rc == 0)
		goto mailed;
	if (rc && rc != SE_ENOTFOUND)
		goto out;
	memset(&ap, 0, sizeof(ap));
	rc = addresses_of(w, &a);
	if (rc == 0)
		rc = approval_link_token(token);
	if (rc == 0)
		rc = approval_link_url(cfg, token, link, sizeof(link));
	if (rc)
		goto out;
	snprintf(ap.pack_id, sizeof(ap.pack_id), "%s", w->subj.pack_id);
	approval_link_hash(token, ap.token_sha256);
	names_text(w, ap.names, sizeof(ap.names));
	ap.created_at_us = time_now_us();
	ap.expires_us = vstart + cfg->issuance.validation_timeout * 1000000;
	/* Stored before it is sent: a link that arrives always works. */
	rc = store_approval_put(w->is->st, &ap);
	if (rc)
		goto out;
	message = message_build(w, &a, cfg->email.from, ap.names, link, ap.expires_us);
	if (!message) {
		rc = SE_ENOMEM;
		goto out;
	}
	if (smtp_send(cfg->email.smtp_url, cfg->email.smtp_ca_file, cfg->email.from, a.list,
		      N_ADDRESSES, message, SMTP_TIMEOUT_MS, err, sizeof(err))) {
		snprintf(msg, sizeof(msg),
			 "the approval mail to %s, %s, %s, %s and %s was not sent: %s", a.list[0],
			 a.list[1], a.list[2], a.list[3], a.list[4], err);
		log_warn("msg=\"approval mail not sent\" hostname=%s pack=%s detail=\"%s\"",
			 w->subj.hostname, w->subj.pack_id, err);
		/* the next try mails a new link; a failed withdrawal only leaves a dead link */
		store_approval_withdraw(w->is->st, ap.pack_id, ap.token_sha256);
		step_fail_later(w, out, msg, -1);
		goto out;
	}
	log_info("msg=\"approval mail sent\" hostname=%s pack=%s domain=%s", w->subj.hostname,
		 w->subj.pack_id, a.domain);
	snprintf(msg, sizeof(msg), "nobody used the approval link mailed to the addresses of %s",
		 a.domain);
	snprintf(w->state.last_problem, sizeof(w->state.last_problem), "%s", msg);
mailed:
	w->state.step = PACK_STEP_CHECK;
	w->state.tries = 0;
	free(out->errors);
	out->errors = strdup(""); /* clears a failed send's explanation */
	out->next = STEP_NOW;
	rc = out->errors ? 0 : SE_ENOMEM;
out:
	OPENSSL_cleanse(token, sizeof(token));
	if (message)
		OPENSSL_clear_free(message, strlen(message));
	return rc;
}

int dcv_email_check(struct pack_work *w, struct step_out *out)
{
	struct store_approval ap;
	int64_t deadline, wait;
	int rc;

	rc = attempt_approval(w, &ap);
	if (rc == SE_ENOTFOUND) {
		/* No link of this attempt exists (its write was lost): mail one. */
		w->state.step = PACK_STEP_MAIL;
		out->next = STEP_NOW;
		return 1;
	}
	if (rc)
		return rc;
	if (ap.approved_at_us)
		return 0;
	/* Back just after the link expires, so the timeout shows when it happens. */
	deadline = w->state.vstart_us + w->is->cfg->issuance.validation_timeout * 1000000;
	wait = step_backoff_us(0, APPROVAL_WAIT_US, APPROVAL_WAIT_US);
	if (deadline + 100000 - time_now_us() < wait)
		wait = deadline + 100000 - time_now_us();
	out->next = STEP_LATER;
	out->delay_us = wait > 0 ? wait : 0;
	return 1;
}

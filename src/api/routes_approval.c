/* GET/POST /dcv/email/<token>: the page a domain's administrator reaches from the approval
 * mail. Everything put into the HTML is escaped, though the names come from the store in their
 * normalised (A-label) form. */
#include "api/routes_approval.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/approval_link.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/timeutil.h"

/* TEXT with &, <, >, " and ' escaped, into OUT (truncated to fit). */
static void html_escape(const char *text, char *out, size_t len)
{
	size_t used = 0;

	for (; *text && used + 7 < len; text++) {
		const char *rep = NULL;

		switch (*text) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		}
		if (rep) {
			memcpy(out + used, rep, strlen(rep));
			used += strlen(rep);
		} else {
			out[used++] = *text;
		}
	}
	out[used] = '\0';
}

/* PAGE = STATUS with TITLE (plain text) over BODY (HTML made here from escaped parts). */
static void page_set(struct api_html *page, unsigned status, const char *title, const char *body)
{
	char safe_title[200];

	html_escape(title, safe_title, sizeof(safe_title));
	page->status = status;
	if (asprintf(
		&page->html,
		"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		"<meta name=\"viewport\" content=\"width=device-width\">"
		"<meta name=\"robots\" content=\"noindex\"><title>%s</title>"
		/* The dashboard's look (web/src/style.css): its colours, card and button. */
		"<style>body{margin:0;font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,"
		"sans-serif;color:#1d2330;background:#f4f6f8}"
		"header{background:#1d2330;color:#fff;padding:.6rem 1.25rem;font-weight:700}"
		"main{max-width:36rem;margin:2.5rem auto;padding:1.25rem 1.5rem;background:#fff;"
		"border:1px solid #d5dae1;border-radius:6px}h1{font-size:1.4rem;margin:0 0 1rem}"
		"button{font:inherit;padding:.45rem 1.5rem;border-radius:6px;border:1px solid #0b57d0;"
		"background:#0b57d0;color:#fff;cursor:pointer}"
		"button:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}"
		"@media (max-width:640px){main{margin:1rem .75rem}}</style></head>\n"
		"<body><header>Certificate approval</header><main><h1>%s</h1>\n%s\n</main>"
		"</body></html>\n",
		safe_title, safe_title, body) < 0)
		page->html = NULL;
}

/* The page of a link that cannot be used: unknown (404), used or expired (410). */
static void page_unusable(struct api_html *page, const struct store_approval *ap, int found)
{
	char names[sizeof(ap->names) * 6], body[sizeof(names) + 300];

	if (!found) {
		page_set(
		    page, 404, "Approval link not valid",
		    "<p>This approval link is not valid. A newer mail may have replaced it: use "
		    "the link of the latest mail.</p>");
		return;
	}
	html_escape(ap->names, names, sizeof(names));
	if (ap->approved_at_us) {
		snprintf(body, sizeof(body),
			 "<p>This approval link was already used: the certificate for "
			 "<strong>%s</strong> is approved.</p>",
			 names);
		page_set(page, 410, "Approval link already used", body);
	} else {
		snprintf(body, sizeof(body),
			 "<p>This approval link for <strong>%s</strong> has expired. A new "
			 "validation sends a new mail.</p>",
			 names);
		page_set(page, 410, "Approval link expired", body);
	}
}

static void page_error(struct api_html *page)
{
	page_set(page, 500, "Something went wrong",
		 "<p>The approval could not be read or recorded. Try again in a moment.</p>");
}

static void serve_get(struct store *st, const char *hash, struct api_html *page)
{
	struct store_approval ap;
	char names[sizeof(ap.names) * 6], body[sizeof(names) + 600];
	int rc = store_approval_find(st, hash, &ap);

	if (rc && rc != SE_ENOTFOUND) {
		page_error(page);
		return;
	}
	if (rc || ap.approved_at_us || ap.expires_us <= time_now_us()) {
		page_unusable(page, &ap, rc == 0);
		return;
	}
	html_escape(ap.names, names, sizeof(names));
	/* No action attribute: the form posts back to this very link. */
	snprintf(body, sizeof(body),
		 "<p>A TLS certificate was requested for <strong>%s</strong>.</p>"
		 "<p>Approve it only if you manage this domain and expect the certificate. "
		 "The link works once.</p>"
		 "<form method=\"post\"><button type=\"submit\">Approve</button></form>",
		 names);
	page_set(page, 200, "Approve a certificate", body);
}

static void serve_post(struct store *st, const char *hash, struct api_html *page)
{
	struct store_approval ap;
	char names[sizeof(ap.names) * 6], body[sizeof(names) + 300];
	int rc = store_approval_approve(st, hash, time_now_us(), &ap);

	if (rc == SE_ENOTFOUND) {
		/* Nothing pending under this token: say why without changing anything. */
		rc = store_approval_find(st, hash, &ap);
		if (rc && rc != SE_ENOTFOUND)
			page_error(page);
		else
			page_unusable(page, &ap, rc == 0);
		return;
	}
	if (rc) {
		log_warn("msg=\"email approval not recorded\" err=%s", se_errname(rc));
		page_error(page);
		return;
	}
	log_info("msg=\"email DCV approved\" pack=%s hostname_id=%s", ap.pack_id, ap.hostname_id);
	html_escape(ap.names, names, sizeof(names));
	snprintf(body, sizeof(body),
		 "<p>Thank you. The certificate for <strong>%s</strong> is approved and is being "
		 "issued now. You can close this page.</p>",
		 names);
	page_set(page, 200, "Certificate approved", body);
}

int api_approval_match(const char *url)
{
	return strncmp(url, APPROVAL_LINK_PATH, strlen(APPROVAL_LINK_PATH)) == 0;
}

void api_approval_serve(struct store *st, const char *method, const char *url,
			struct api_html *page)
{
	const char *token = url + strlen(APPROVAL_LINK_PATH);
	char hash[65];

	memset(page, 0, sizeof(*page));
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0 &&
	    strcmp(method, "HEAD") != 0) {
		page_set(page, 405, "Method not allowed", "<p>Use the link in the mail.</p>");
		return;
	}
	if (!approval_link_token_ok(token)) {
		page_unusable(page, NULL, 0);
		return;
	}
	approval_link_hash(token, hash);
	if (strcmp(method, "POST") == 0)
		serve_post(st, hash, page);
	else
		serve_get(st, hash, page);
}

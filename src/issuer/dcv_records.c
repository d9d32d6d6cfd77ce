/* validation_records as Cloudflare shows them (cloudflare-api.md §3), built from what the CA
 * asks for: txt_name/txt_value for dns-01, http_url/http_body for http-01, emails for email. */
#include "issuer/issuer_int.h"

#include <stdio.h>
#include <string.h>

#include "lib/error.h"
#include "lib/timeutil.h"

json_t *dcv_record_txt(const char *name, const char *value)
{
	return json_pack("{s:s, s:s}", "txt_name", name, "txt_value", value);
}

json_t *dcv_record_http(const char *host, const char *token, const char *body)
{
	char url[600];

	snprintf(url, sizeof(url), "http://%s/.well-known/acme-challenge/%s", host, token);
	return json_pack("{s:s, s:s}", "http_url", url, "http_body", body);
}

json_t *dcv_record_emails(const char *const *emails, size_t n)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < n; i++) {
		if (json_array_append_new(list, json_string(emails[i]))) {
			json_decref(list);
			return NULL;
		}
	}
	return list ? json_pack("{s:o}", "emails", list) : NULL;
}

int dcv_http_challenge_put(struct pack_work *w, const char *host, const char *token,
			   const char *body)
{
	return dcv_challenge_put(w, "http-01", host, token, body);
}

int dcv_challenge_put(struct pack_work *w, const char *kind, const char *host, const char *token,
		      const char *body)
{
	struct store_challenge ch;

	memset(&ch, 0, sizeof(ch));
	if (strlen(token) >= sizeof(ch.token) || strlen(body) >= sizeof(ch.response) ||
	    strlen(kind) >= sizeof(ch.kind))
		return SE_ETOOBIG;
	snprintf(ch.token, sizeof(ch.token), "%s", token);
	snprintf(ch.hostname, sizeof(ch.hostname), "%s", host);
	snprintf(ch.kind, sizeof(ch.kind), "%s", kind);
	snprintf(ch.pack_id, sizeof(ch.pack_id), "%s", w->subj.pack_id);
	snprintf(ch.response, sizeof(ch.response), "%s", body);
	/* Kept until the pack's validation could still run, plus a day of slack. */
	ch.expires_us = time_now_us() + (w->is->cfg->issuance.validation_timeout + 86400) * 1000000;
	return store_challenge_put(w->is->st, &ch);
}

char *dcv_records_dump(json_t *records)
{
	char *s = json_dumps(records, JSON_COMPACT);

	json_decref(records);
	return s;
}

/* Fuzzes the parsing of a CA's answers (src/acme): the first byte picks the document (order,
 * authorization, directory, renewalInfo, problem), the rest is the body. The CA is outside
 * input like any other: a hostile or broken one must get an error, never a crash.
 * Properties: no crash or sanitizer report; what a parser accepts fits its fields (bounded
 * lists, NUL-terminated strings, an ordered renewal window); a problem always says something. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acme/acme_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s, size_t cap)
{
	if (strnlen(s, cap) >= cap)
		abort();
}

static void order(const struct acme__response *r)
{
	struct acme_order o;
	struct acme_problem p;

	memset(&o, 0, sizeof(o));
	memset(&p, 0, sizeof(p));
	if (acme__order_parse(r, &o, &p) == 0) {
		if (o.n_authz > ACME_MAX_AUTHZ || !o.status[0] || !o.finalize[0])
			abort();
		for (size_t i = 0; i < o.n_authz; i++)
			check_text(o.authz[i], sizeof(o.authz[i]));
		check_text(o.error_detail, sizeof(o.error_detail));
	} else if (!p.detail[0]) {
		abort();
	}
}

static void document(const struct acme__response *r, int kind)
{
	struct acme_problem p;
	json_t *doc = NULL;

	memset(&p, 0, sizeof(p));
	if (acme__response_json(r, "document", &doc, &p) != 0) {
		if (!p.detail[0])
			abort();
		return;
	}
	if (kind == 1) {
		struct acme_authz a;

		memset(&a, 0, sizeof(a));
		if (acme__authz_parse(doc, &a, &p) == 0) {
			if (a.n_ch > ACME_MAX_CHALLENGES || !a.identifier[0])
				abort();
			for (size_t i = 0; i < a.n_ch; i++)
				check_text(a.ch[i].token, sizeof(a.ch[i].token));
		}
	} else if (kind == 2) {
		struct acme__directory d;

		if (acme__directory_parse(doc, &d, &p) == 0 &&
		    (!d.loaded || !d.new_order[0] || !d.new_nonce[0]))
			abort();
		check_text(d.caa_identities, sizeof(d.caa_identities));
	} else {
		struct acme_renewal_window w;

		memset(&w, 0, sizeof(w));
		if (acme__renewal_window_parse(doc, &w, &p) == 0 && w.end_us < w.start_us)
			abort();
	}
	json_decref(doc);
}

static void problem(const struct acme__response *r)
{
	struct acme_problem p;

	memset(&p, 0, sizeof(p));
	acme__problem_from_response(r, "https://ca.example/acme/x", &p);
	if (!p.detail[0])
		abort();
	check_text(p.detail, sizeof(p.detail));
	check_text(p.type, sizeof(p.type));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct acme__response r;
	int kind;

	if (size < 1)
		return 0;
	kind = data[0] % 5;
	memset(&r, 0, sizeof(r));
	r.status = data[0] & 0x80 ? 400 : 200;
	r.retry_after_s = -1;
	strcpy(r.content_type, kind == 4 ? "application/problem+json" : "application/json");
	r.len = size - 1;
	r.body = malloc(r.len + 1);
	if (!r.body)
		return 0;
	memcpy(r.body, data + 1, r.len);
	r.body[r.len] = '\0';
	if (kind == 0)
		order(&r);
	else if (kind == 4)
		problem(&r);
	else
		document(&r, kind);
	free(r.body);
	return 0;
}

/* RFC 7807 problem documents and the other ways an exchange can fail, turned into one
 * struct acme_problem that the issuer can store as a readable validation error. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "acme/acme_int.h"
#include "lib/error.h"

void acme__problem_clear(struct acme_problem *p)
{
	memset(p, 0, sizeof(*p));
	p->retry_after_s = -1;
}

void acme__problem_set(struct acme_problem *p, int status, const char *fmt, ...)
{
	va_list ap;

	p->status = status;
	va_start(ap, fmt);
	vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
	va_end(ap);
}

int acme_problem_is(const struct acme_problem *p, const char *short_type)
{
	size_t n = strlen(ACME_ERROR_PREFIX);

	return strncmp(p->type, ACME_ERROR_PREFIX, n) == 0 && strcmp(p->type + n, short_type) == 0;
}

static void copy_trunc(char *out, size_t len, const char *s)
{
	snprintf(out, len, "%s", s ? s : "");
}

/* The first subproblem names the identifier that failed, which the top-level detail of a
 * multi-name order often does not. */
static void append_subproblem(json_t *obj, char *detail, size_t len)
{
	json_t *sub = json_array_get(json_object_get(obj, "subproblems"), 0);
	const char *sd = json_string_value(json_object_get(sub, "detail"));
	const char *id =
	    json_string_value(json_object_get(json_object_get(sub, "identifier"), "value"));
	size_t n = strlen(detail);

	if (!sd || n + 4 >= len)
		return;
	snprintf(detail + n, len - n, "%s%s%s%s", n ? "; " : "", id ? id : "", id ? ": " : "", sd);
}

void acme__problem_fields(json_t *obj, char *type, size_t type_len, char *detail, size_t detail_len)
{
	copy_trunc(type, type_len, json_string_value(json_object_get(obj, "type")));
	copy_trunc(detail, detail_len, json_string_value(json_object_get(obj, "detail")));
	append_subproblem(obj, detail, detail_len);
}

void acme__url_host(const char *url, char *out, size_t len)
{
	const char *s = strstr(url, "://");
	size_t n;

	s = s ? s + 3 : url;
	n = strcspn(s, "/?#");
	snprintf(out, len, "%.*s", (int)n, s);
}

void acme__problem_from_response(const struct acme__response *r, const char *url,
				 struct acme_problem *p)
{
	json_t *doc = NULL;
	char host[256];

	p->status = (int)r->status;
	p->retry_after_s = r->retry_after_s;
	p->type[0] = p->detail[0] = '\0';
	if (strncmp(r->content_type, "application/problem+json", 24) == 0 && r->body)
		doc = json_loadb(r->body, r->len, 0, NULL);
	if (json_is_object(doc)) {
		acme__problem_fields(doc, p->type, sizeof(p->type), p->detail, sizeof(p->detail));
		if (p->detail[0] == '\0')
			snprintf(p->detail, sizeof(p->detail), "%s", p->type);
	}
	/* Not a problem document, or one that says nothing: the status is all there is. */
	if (p->detail[0] == '\0') {
		acme__url_host(url, host, sizeof(host));
		snprintf(p->detail, sizeof(p->detail), "HTTP %ld from %s", r->status, host);
	}
	json_decref(doc);
}

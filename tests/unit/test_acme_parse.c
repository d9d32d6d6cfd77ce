/* The parsers of a CA's answers (src/acme), on documents a broken or hostile CA could send:
 * the cases the fuzz target (tests/fuzz/fuzz_acme_json.c) found, kept as regressions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "acme/acme_int.h"
#include "lib/error.h"

static void response(struct acme__response *r, long status, const char *type, const char *body)
{
	memset(r, 0, sizeof(*r));
	r->status = status;
	r->retry_after_s = -1;
	snprintf(r->content_type, sizeof(r->content_type), "%s", type);
	r->body = (char *)body;
	r->len = strlen(body);
}

/* A problem document with neither type nor detail still gives the user something to read. */
static void test_problem_without_words_says_the_status(void **state)
{
	struct acme__response r;
	struct acme_problem p;

	memset(&p, 'x', sizeof(p)); /* whatever an earlier exchange left */
	response(&r, 400, "application/problem+json", "{\"dype\":\"x\",\"status\":400}");
	acme__problem_from_response(&r, "https://ca.example/acme/order/1", &p);
	assert_string_equal(p.detail, "HTTP 400 from ca.example");
	assert_string_equal(p.type, "");

	response(&r, 429, "application/problem+json",
		 "{\"type\":\"urn:ietf:params:acme:error:rateLimited\"}");
	acme__problem_from_response(&r, "https://ca.example/acme/order/1", &p);
	assert_string_equal(p.detail, "urn:ietf:params:acme:error:rateLimited");

	response(&r, 502, "text/html", "<html>bad gateway</html>");
	acme__problem_from_response(&r, "https://ca.example/x", &p);
	assert_string_equal(p.detail, "HTTP 502 from ca.example");
}

/* An order whose required member is empty (here a duplicate "finalize" that jansson resolves
 * to its last, empty value) is malformed, not an order to wait on. */
static void test_order_with_empty_finalize_refused(void **state)
{
	struct acme__response r;
	struct acme_order o;
	struct acme_problem p;

	memset(&o, 0, sizeof(o));
	memset(&p, 0, sizeof(p));
	response(&r, 200, "application/json",
		 "{\"status\":\"pending\",\"authorizations\":[\"https://ca/a/1\"],"
		 "\"finalize\":\"https://ca/f/1\",\"finalize\":\"\"}");
	assert_int_equal(acme__order_parse(&r, &o, &p), SE_EIO);
	assert_non_null(strstr(p.detail, "empty \"finalize\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_problem_without_words_says_the_status),
	    cmocka_unit_test(test_order_with_empty_finalize_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

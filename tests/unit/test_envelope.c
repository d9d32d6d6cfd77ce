/* The response envelope and the error table (src/api/envelope.c, src/api/errors.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/envelope.h"
#include "lib/error.h"

static void assert_envelope(const json_t *body, int success)
{
	assert_true(json_is_boolean(json_object_get(body, "success")));
	assert_int_equal(json_is_true(json_object_get(body, "success")), success);
	assert_true(json_is_array(json_object_get(body, "errors")));
	assert_true(json_is_array(json_object_get(body, "messages")));
	assert_int_equal(json_array_size(json_object_get(body, "messages")), 0);
	assert_non_null(json_object_get(body, "result"));
}

static void test_success(void **state)
{
	struct api_response res = {0};

	api_respond(&res, 201, json_pack("{s:s}", "id", "x"));
	assert_int_equal(res.status, 201);
	assert_envelope(res.body, 1);
	assert_int_equal(json_array_size(json_object_get(res.body, "errors")), 0);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(res.body, "result"), "id")),
			    "x");
	api_response_dispose(&res);
}

static void test_list_result_info(void **state)
{
	struct api_response res = {0};
	struct api_page page = {.page = 5, .per_page = 5};
	json_t *items = json_pack("[i, i, i]", 1, 2, 3);

	api_respond_list(&res, items, &page, 23);
	json_t *info = json_object_get(res.body, "result_info");
	assert_int_equal(res.status, 200);
	assert_envelope(res.body, 1);
	assert_int_equal(json_integer_value(json_object_get(info, "page")), 5);
	assert_int_equal(json_integer_value(json_object_get(info, "per_page")), 5);
	assert_int_equal(json_integer_value(json_object_get(info, "count")), 3);
	assert_int_equal(json_integer_value(json_object_get(info, "total_count")), 23);
	assert_int_equal(json_integer_value(json_object_get(info, "total_pages")), 5);
	api_response_dispose(&res);
}

static void test_error_with_detail(void **state)
{
	struct api_response res = {0};

	api_fail(&res, API_ERR_HOSTNAME_UNPARSABLE, "publicsuffix: cannot derive eTLD+1 for co.uk");
	assert_int_equal(res.status, 400);
	assert_envelope(res.body, 0);
	assert_true(json_is_null(json_object_get(res.body, "result")));
	json_t *e = json_array_get(json_object_get(res.body, "errors"), 0);
	assert_int_equal(json_integer_value(json_object_get(e, "code")), 1410);
	assert_string_equal(json_string_value(json_object_get(e, "message")),
			    "Unable to parse custom hostname - publicsuffix: cannot derive eTLD+1 "
			    "for co.uk. Check your input and try again.");
	api_response_dispose(&res);
}

/* A detail that is not UTF-8 (input quoted and cut mid-character) still gives an error with
 * its code, the bytes that JSON cannot carry shown as '?'. */
static void test_detail_not_utf8(void **state)
{
	struct api_response res = {0};
	json_t *e;

	api_fail(&res, API_ERR_HOSTNAME_INVALID, "caf\xc3");
	assert_int_equal(res.status, 400);
	e = json_array_get(json_object_get(res.body, "errors"), 0);
	assert_int_equal(json_integer_value(json_object_get(e, "code")), 1407);
	assert_non_null(strstr(json_string_value(json_object_get(e, "message")), "caf?"));
	api_response_dispose(&res);
}

static void test_percent_signs_survive(void **state)
{
	struct api_response res = {0};

	api_fail(&res, API_ERR_HOSTNAME_INVALID, "100%s");
	json_t *e = json_array_get(json_object_get(res.body, "errors"), 0);
	const char *msg = json_string_value(json_object_get(e, "message"));
	assert_non_null(strstr(msg, "(100%s)"));
	assert_non_null(strstr(msg, "!@#$%^&*()"));
	api_response_dispose(&res);
}

static void test_error_chain(void **state)
{
	struct api_response res = {0};

	api_fail_chain(&res, API_ERR_AUTH_FORMAT, 6111, "Invalid format for Authorization header");
	json_t *e = json_array_get(json_object_get(res.body, "errors"), 0);
	assert_int_equal(res.status, 400);
	assert_int_equal(json_integer_value(json_object_get(e, "code")), 6003);
	json_t *chain = json_array_get(json_object_get(e, "error_chain"), 0);
	assert_int_equal(json_integer_value(json_object_get(chain, "code")), 6111);
	api_response_dispose(&res);
}

static void test_store_errors_map(void **state)
{
	static const struct {
		int rc;
		unsigned status;
		int code;
	} cases[] = {
		{SE_EEXISTS, 409, 1406},
		{SE_ENOTFOUND, 404, 1436},
		{SE_EDB, 500, 1500},
		{SE_ENOMEM, 500, 1500},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct api_response res = {0};
		api_fail_store(&res, cases[i].rc, API_ERR_NOT_FOUND);
		json_t *e = json_array_get(json_object_get(res.body, "errors"), 0);
		assert_int_equal(res.status, cases[i].status);
		assert_int_equal(json_integer_value(json_object_get(e, "code")), cases[i].code);
		api_response_dispose(&res);
	}
}

static void test_every_error_has_status_code_and_message(void **state)
{
	for (int e = 0; e < API_ERR_COUNT_; e++) {
		assert_in_range(api_error_http_status((enum api_error)e), 400, 599);
		assert_true(api_error_code((enum api_error)e) >= 971);
		assert_true(strlen(api_error_format((enum api_error)e)) > 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success),
		cmocka_unit_test(test_list_result_info),
		cmocka_unit_test(test_error_with_detail),
		cmocka_unit_test(test_percent_signs_survive),
		cmocka_unit_test(test_detail_not_utf8),
		cmocka_unit_test(test_error_chain),
		cmocka_unit_test(test_store_errors_map),
		cmocka_unit_test(test_every_error_has_status_code_and_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

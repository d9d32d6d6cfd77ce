/* Page arithmetic and parsing of page/per_page (src/api/pagination.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/pagination.h"

static void test_defaults(void **state)
{
	struct api_page p;
	char err[200] = "";

	assert_int_equal(api_page_parse(NULL, NULL, &p, err, sizeof(err)), 0);
	assert_int_equal(p.page, 1);
	assert_int_equal(p.per_page, 20);
	assert_int_equal(api_page_offset(&p), 0);
}

static void test_bounds_accepted(void **state)
{
	struct api_page p;
	char err[200];

	assert_int_equal(api_page_parse("3", "5", &p, err, sizeof(err)), 0);
	assert_int_equal(api_page_offset(&p), 10);
	assert_int_equal(api_page_parse("1", "1000", &p, err, sizeof(err)), 0);
	assert_int_equal(p.per_page, 1000);
}

static void test_bad_values_rejected_with_parameter_named(void **state)
{
	static const struct {
		const char *page, *per_page, *named;
	} cases[] = {
		{"0", NULL, "page"},     {"-1", NULL, "page"},  {"abc", NULL, "page"},
		{"1x", NULL, "page"},    {" 1", NULL, "page"},  {"", NULL, "page"},
		{NULL, "4", "per_page"}, {NULL, "1001", "per_page"},
		{NULL, "ten", "per_page"}, {NULL, "99999999999999999999", "per_page"},
	};
	struct api_page p;
	char err[200];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_equal(api_page_parse(cases[i].page, cases[i].per_page, &p, err,
						sizeof(err)),
				 -1);
		assert_non_null(strstr(err, cases[i].named));
	}
}

static void test_total_pages(void **state)
{
	assert_int_equal(api_page_total_pages(0, 20), 0);
	assert_int_equal(api_page_total_pages(1, 20), 1);
	assert_int_equal(api_page_total_pages(20, 20), 1);
	assert_int_equal(api_page_total_pages(21, 20), 2);
	assert_int_equal(api_page_total_pages(23, 5), 5);
	assert_int_equal(api_page_total_pages(100000, 1000), 100);
}

static void test_offset_saturates(void **state)
{
	struct api_page p = {.page = INT64_MAX, .per_page = 1000};

	assert_int_equal(api_page_offset(&p), INT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_bounds_accepted),
		cmocka_unit_test(test_bad_values_rejected_with_parameter_named),
		cmocka_unit_test(test_total_pages),
		cmocka_unit_test(test_offset_saturates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

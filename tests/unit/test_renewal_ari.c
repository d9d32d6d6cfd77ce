/* Unit tests of the RFC 9773 renewal time choice (src/issuer/renewal_ari.c): the time drawn for
 * a CA's suggested window stays inside it and spreads over all of it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "issuer/issuer_int.h"

#define HOUR (3600LL * 1000000)

static void test_pick_stays_in_the_window(void **state)
{
	int64_t start = 1700000000LL * 1000000, end = start + 48 * HOUR;
	uint64_t draws[] = {0, 1, 12345, UINT64_MAX / 2, UINT64_MAX - 1, UINT64_MAX};

	(void)state;
	for (size_t i = 0; i < sizeof(draws) / sizeof(draws[0]); i++) {
		int64_t t = renewal_ari_pick(start, end, draws[i]);

		assert_true(t >= start);
		assert_true(t < end);
	}
}

static void test_pick_spreads_over_the_window(void **state)
{
	int64_t start = 0, end = 10 * HOUR;
	int buckets[10] = {0};
	uint64_t x = 88172645463325252ULL;

	(void)state;
	for (int i = 0; i < 10000; i++) {
		x ^= x << 13; /* xorshift64: a stand-in for ids_random that the test can repeat */
		x ^= x >> 7;
		x ^= x << 17;
		buckets[renewal_ari_pick(start, end, x) / HOUR]++;
	}
	for (int b = 0; b < 10; b++)
		assert_in_range(buckets[b], 800, 1200); /* each hour gets about a tenth */
}

static void test_empty_or_inverted_window_is_its_start(void **state)
{
	(void)state;
	assert_int_equal(renewal_ari_pick(5 * HOUR, 5 * HOUR, 999), 5 * HOUR);
	assert_int_equal(renewal_ari_pick(5 * HOUR, 4 * HOUR, 999), 5 * HOUR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pick_stays_in_the_window),
	    cmocka_unit_test(test_pick_spreads_over_the_window),
	    cmocka_unit_test(test_empty_or_inverted_window_is_its_start),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

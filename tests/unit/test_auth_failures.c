/* Failed authentications per client address (src/api/auth_failures.c): the limit, the window,
 * one address never limiting another, and a table that stays within its fixed size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "api/auth_failures.h"

#define SEC 1000000LL

static struct sockaddr_in v4(uint32_t host_order)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(host_order)};

	return a;
}

static struct sockaddr_in6 v6(const char *text)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6};

	assert_int_equal(inet_pton(AF_INET6, text, &a.sin6_addr), 1);
	return a;
}

static int allowed(struct api_auth_failures *f, const void *peer, int64_t now, unsigned *retry)
{
	return api_auth_failures_allowed(f, (const struct sockaddr *)peer, now, retry);
}

static int add(struct api_auth_failures *f, const void *peer, int64_t now)
{
	return api_auth_failures_add(f, (const struct sockaddr *)peer, now);
}

static void test_limit_then_refused_until_window_ends(void **state)
{
	struct api_auth_failures *f = api_auth_failures_create(3, 60);
	struct sockaddr_in a = v4(0x7f000001);
	unsigned retry = 0;

	assert_non_null(f);
	assert_int_equal(add(f, &a, 0), 0);
	assert_int_equal(add(f, &a, 1 * SEC), 0);
	assert_true(allowed(f, &a, 2 * SEC, &retry));
	assert_int_equal(add(f, &a, 2 * SEC), 1); /* the third reaches the limit, once */
	assert_false(allowed(f, &a, 2 * SEC, &retry));
	assert_int_equal(retry, 58);
	assert_int_equal(add(f, &a, 3 * SEC), 0);
	assert_false(allowed(f, &a, 59 * SEC + 1, &retry));
	assert_int_equal(retry, 1);
	/* The window started at the first failure and is over: a clean slate. */
	assert_true(allowed(f, &a, 60 * SEC, &retry));
	assert_int_equal(add(f, &a, 60 * SEC), 0);
	assert_true(allowed(f, &a, 60 * SEC, &retry));
	api_auth_failures_destroy(f);
}

static void test_other_addresses_unaffected(void **state)
{
	struct api_auth_failures *f = api_auth_failures_create(2, 60);
	struct sockaddr_in a = v4(0x7f000001), b = v4(0x7f000002);
	struct sockaddr_in6 mapped = v6("::ffff:127.0.0.1");
	struct sockaddr_in6 host1 = v6("2001:db8:1:2::1"), host2 = v6("2001:db8:1:2::ffff");
	struct sockaddr_in6 other_net = v6("2001:db8:1:3::1");
	unsigned retry;

	add(f, &a, 0);
	add(f, &a, 0);
	assert_false(allowed(f, &a, SEC, &retry));
	assert_false(allowed(f, &mapped, SEC, &retry)); /* the same IPv4 client */
	assert_true(allowed(f, &b, SEC, &retry));
	/* IPv6 counts by /64. */
	add(f, &host1, 0);
	add(f, &host2, 0);
	assert_false(allowed(f, &host1, SEC, &retry));
	assert_true(allowed(f, &other_net, SEC, &retry));
	/* No address: nothing to count. */
	assert_int_equal(api_auth_failures_add(f, NULL, 0), 0);
	assert_true(api_auth_failures_allowed(f, NULL, 0, &retry));
	api_auth_failures_destroy(f);
}

static void test_limit_zero_is_off(void **state)
{
	struct api_auth_failures *f = api_auth_failures_create(0, 60);
	struct sockaddr_in a = v4(0x0a000001);
	unsigned retry;

	for (int i = 0; i < 1000; i++)
		assert_int_equal(add(f, &a, 0), 0);
	assert_true(allowed(f, &a, 0, &retry));
	api_auth_failures_destroy(f);
}

/* Far more failing addresses than slots: each blocked address stays blocked until the table
 * has to make room in its set, memory does not grow, and a fresh address is still counted. */
static void test_many_addresses_stay_bounded(void **state)
{
	struct api_auth_failures *f = api_auth_failures_create(1, 60);
	struct sockaddr_in a;
	unsigned retry;
	int blocked = 0;

	for (uint32_t i = 0; i < 4 * API_AUTH_FAILURES_SLOTS; i++) {
		a = v4(0x0a000000 + i);
		add(f, &a, (int64_t)i);
		assert_false(allowed(f, &a, (int64_t)i, &retry));
	}
	for (uint32_t i = 0; i < 4 * API_AUTH_FAILURES_SLOTS; i++) {
		a = v4(0x0a000000 + i);
		blocked += !allowed(f, &a, 5 * SEC, &retry);
	}
	assert_true(blocked <= API_AUTH_FAILURES_SLOTS);
	assert_true(blocked >= API_AUTH_FAILURES_SLOTS / 2); /* the newest are remembered */
	a = v4(0xc0000201);
	add(f, &a, 6 * SEC);
	assert_false(allowed(f, &a, 6 * SEC, &retry));
	api_auth_failures_destroy(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_limit_then_refused_until_window_ends),
	    cmocka_unit_test(test_other_addresses_unaffected),
	    cmocka_unit_test(test_limit_zero_is_off),
	    cmocka_unit_test(test_many_addresses_stay_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

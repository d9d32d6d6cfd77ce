/* Unit tests of the CA order budgets (src/store/store_ca_orders.c) on a real SQLite store with
 * a fake clock: a sliding window, counted per CA, that says when it has room again, and that
 * two stores on one database (two nodes) draw on together. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/error.h"
#include "store_fixture.h"

#define S 1000000LL /* a second, in microseconds */

static int setup(void **state)
{
	struct store_fixture *fx = calloc(1, sizeof(*fx));

	store_fixture_open(fx, "test_store_ca_orders", "orders.example", 10);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	store_fixture_close(*state);
	free(*state);
	return 0;
}

static int take(struct store *st, const char *ca, int n, int64_t now, int64_t *retry_at)
{
	return store_ca_orders_take(st, ca, n, 5, 60 * S, now, retry_at);
}

static void test_a_sliding_window_per_ca(void **state)
{
	struct store_fixture *fx = *state;
	int64_t t0 = 1700000000 * S, retry = 0;

	assert_int_equal(take(fx->st, "le", 2, t0, &retry), 0);
	assert_int_equal(take(fx->st, "le", 2, t0 + 10 * S, &retry), 0);
	assert_int_equal(take(fx->st, "le", 1, t0 + 20 * S, &retry), 0); /* 5 of 5 */
	assert_int_equal(take(fx->st, "le", 1, t0 + 30 * S, &retry), SE_EQUOTA);
	assert_int_equal(retry, t0 + 60 * S); /* when the first two leave */
	/* Two more need both orders made at t0 gone, and then the two of t0 + 10 s: */
	assert_int_equal(take(fx->st, "le", 2, t0 + 30 * S, &retry), SE_EQUOTA);
	assert_int_equal(retry, t0 + 60 * S);
	assert_int_equal(take(fx->st, "le", 4, t0 + 30 * S, &retry), SE_EQUOTA);
	assert_int_equal(retry, t0 + 70 * S);
	/* Another CA has a budget of its own. */
	assert_int_equal(take(fx->st, "zerossl", 2, t0 + 30 * S, &retry), 0);
	/* The window moves: at t0 + 60 s the first two orders are out of it. */
	assert_int_equal(take(fx->st, "le", 1, t0 + 59 * S, &retry), SE_EQUOTA);
	assert_int_equal(take(fx->st, "le", 2, t0 + 60 * S, &retry), 0);
	assert_int_equal(take(fx->st, "le", 1, t0 + 61 * S, &retry), SE_EQUOTA);
	assert_int_equal(retry, t0 + 70 * S);
}

/* Two nodes: two stores on one database file, as two processes would open it. */
static void test_every_node_draws_on_one_budget(void **state)
{
	struct store_fixture *fx = *state;
	struct store *other = NULL;
	int64_t t0 = 1700000000 * S, retry = 0;

	assert_int_equal(store_open(fx->data_dir, NULL, &other), 0);
	assert_int_equal(take(fx->st, "le", 2, t0, &retry), 0);
	assert_int_equal(take(other, "le", 2, t0 + S, &retry), 0);
	assert_int_equal(take(fx->st, "le", 2, t0 + 2 * S, &retry), SE_EQUOTA);
	assert_int_equal(take(other, "le", 1, t0 + 2 * S, &retry), 0);
	assert_int_equal(take(fx->st, "le", 1, t0 + 3 * S, &retry), SE_EQUOTA);
	store_close(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_a_sliding_window_per_ca, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_every_node_draws_on_one_budget, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

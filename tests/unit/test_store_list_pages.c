/* Unit tests of deep pages from anchors (src/store/store_list_anchors.c for creation order,
 * store_list_shape_anchors.c for the other orders and one ssl.status): every page an anchor
 * serves must be the page an OFFSET over the same order gives, in both directions, after
 * creates, deletes and status changes. The OFFSET answer comes from the same list with a
 * filter every row matches (a prefix), which never uses anchors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/error.h"
#include "store/store.h"
#include "store_fixture.h"

#define ROWS 3300 /* beyond the first anchored offset (2048) and three anchors of 1024 */

static int setup(void **state)
{
	struct store_fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	store_fixture_open(fx, "test_store_list_pages", "example.com", 1000000);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct store_fixture *fx = *state;

	store_fixture_close(fx);
	free(fx);
	return 0;
}

static void add_hosts(struct store_fixture *fx, int from, int to, char ids[][37])
{
	for (int i = from; i < to; i++) {
		struct store_hostname h;
		char name[64];

		snprintf(name, sizeof(name), "h%05d.example.com", i);
		store_fixture_plain_hostname(fx, name, &h);
		assert_int_equal(store_hostname_create(fx->st, &h), 0);
		memcpy(ids[i], h.id, 37);
		store_hostname_dispose(&h);
	}
}

/* The ids of one page, with or without a filter that every row matches. */
static size_t page(struct store_fixture *fx, int64_t offset, int64_t limit, int desc,
		   int via_offset, char out[][37], int64_t *total)
{
	struct store_hostname_filter f;
	struct store_hostname *items = NULL;
	size_t n = 0;

	memset(&f, 0, sizeof(f));
	f.wildcard = -1;
	f.order = STORE_ORDER_CREATED;
	f.descending = desc;
	f.offset = offset;
	f.limit = limit;
	if (via_offset)
		f.hostname_starts_with = "h";
	assert_int_equal(store_hostname_list(fx->st, fx->zone.id, &f, &items, &n, total), 0);
	for (size_t i = 0; i < n; i++)
		memcpy(out[i], items[i].id, 37);
	store_hostname_list_free(items, n);
	return n;
}

/* Pages at and around every anchor, and the last ones, agree with OFFSET's. */
static void check_pages(struct store_fixture *fx, int64_t rows)
{
	static const int64_t offsets[] = {2047, 2048, 2049, 2500, 3071, 3072, 3073, 3250};
	static char a[50][37], b[50][37];

	for (size_t k = 0; k < sizeof(offsets) / sizeof(offsets[0]); k++) {
		for (int desc = 0; desc < 2; desc++) {
			int64_t ta = 0, tb = 0;
			size_t na = page(fx, offsets[k], 50, desc, 0, a, &ta);
			size_t nb = page(fx, offsets[k], 50, desc, 1, b, &tb);

			assert_int_equal(ta, rows);
			assert_int_equal(tb, rows);
			assert_int_equal(na, nb);
			for (size_t i = 0; i < na; i++)
				assert_string_equal(a[i], b[i]);
		}
	}
}

static void test_anchored_pages_match_offset(void **state)
{
	struct store_fixture *fx = *state;
	static char ids[ROWS + 300][37];

	add_hosts(fx, 0, ROWS, ids);
	check_pages(fx, ROWS);
	/* Creates append: the anchors are extended. */
	add_hosts(fx, ROWS, ROWS + 200, ids);
	check_pages(fx, ROWS + 200);
	/* Deletes before an anchor move every later position: the anchors are built again. */
	assert_int_equal(store_hostname_delete(fx->st, fx->zone.id, ids[10]), 0);
	assert_int_equal(store_hostname_delete(fx->st, fx->zone.id, ids[2100]), 0);
	check_pages(fx, ROWS + 198);
	/* A delete among the appended rows and a create in one go leave the count unchanged. */
	assert_int_equal(store_hostname_delete(fx->st, fx->zone.id, ids[ROWS + 5]), 0);
	add_hosts(fx, ROWS + 200, ROWS + 201, ids); /* a new name at a new rid */
	check_pages(fx, ROWS + 198);
}

static const char *const statuses[] = {
    "active", "active", "active", "pending_validation", "pending_issuance", "pending_deployment"};
static const char *const methods[] = {"http", "txt", "email"};

/* Names in an order unlike creation order, statuses and methods in runs of mixed sizes. */
static void add_mixed_hosts(struct store_fixture *fx, int from, int to, char packs[][37])
{
	for (int i = from; i < to; i++) {
		struct store_hostname h;
		char name[64];

		snprintf(name, sizeof(name), "h%05d.example.com", (i * 7919) % 100000);
		store_fixture_hostname(fx, name, statuses[i % 6], methods[(i / 7) % 3], &h);
		assert_int_equal(store_hostname_create(fx->st, &h), 0);
		memcpy(packs[i], h.ssl.pack_id, 37);
		store_hostname_dispose(&h);
	}
}

/* The ids of one page of ORDER (SSL_STATUS: that status only), anchored or through OFFSET. */
static size_t shape_page(struct store_fixture *fx, enum store_hostname_order order, int desc,
			 const char *ssl_status, int64_t offset, int via_offset, char out[][37],
			 int64_t *total)
{
	struct store_hostname_filter f;
	struct store_hostname *items = NULL;
	size_t n = 0;

	memset(&f, 0, sizeof(f));
	f.wildcard = -1;
	f.order = order;
	f.descending = desc;
	f.ssl_status = ssl_status;
	f.offset = offset;
	f.limit = 50;
	if (via_offset)
		f.hostname_starts_with = "h";
	assert_int_equal(store_hostname_list(fx->st, fx->zone.id, &f, &items, &n, total), 0);
	for (size_t i = 0; i < n; i++)
		memcpy(out[i], items[i].id, 37);
	store_hostname_list_free(items, n);
	return n;
}

static void check_shapes(struct store_fixture *fx)
{
	static const struct {
		enum store_hostname_order order;
		const char *ssl_status;
		int64_t offsets[6];
	} shapes[] = {
	    {STORE_ORDER_HOSTNAME, NULL, {2048, 2049, 3071, 3072, 3500, 4090}},
	    {STORE_ORDER_SSL_STATUS, NULL, {2048, 2100, 3071, 3072, 3500, 4090}},
	    {STORE_ORDER_SSL, NULL, {2048, 2100, 3071, 3072, 3500, 4090}},
	    {STORE_ORDER_CREATED, "active", {2048, 2049, 2100, 2150, 2200, 5000}},
	};
	static char a[50][37], b[50][37];

	for (size_t k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
		for (size_t o = 0; o < 6; o++) {
			for (int desc = 0; desc < 2; desc++) {
				int64_t off = shapes[k].offsets[o], ta = 0, tb = 0;
				size_t na = shape_page(fx, shapes[k].order, desc,
						       shapes[k].ssl_status, off, 0, a, &ta);
				size_t nb = shape_page(fx, shapes[k].order, desc,
						       shapes[k].ssl_status, off, 1, b, &tb);

				assert_int_equal(ta, tb);
				assert_int_equal(na, nb);
				for (size_t i = 0; i < na; i++)
					assert_string_equal(a[i], b[i]);
			}
		}
	}
}

static void test_shape_pages_match_offset(void **state)
{
	struct store_fixture *fx = *state;
	static char packs[4300][37];
	int64_t total = 0;
	char one[1][37];

	add_mixed_hosts(fx, 0, 4200, packs);
	check_shapes(fx);
	/* A status change moves a row from one run to another: the anchors are stale. */
	for (int i = 0; i < 4200; i += 97)
		assert_int_equal(store_pack_move(fx->st, packs[i], PACK_EV_RESTART, -1, NULL), 0);
	check_shapes(fx);
	/* A create lands anywhere in name order. */
	add_mixed_hosts(fx, 4200, 4250, packs);
	check_shapes(fx);
	assert_int_equal(shape_page(fx, STORE_ORDER_HOSTNAME, 0, NULL, 4249, 0, one, &total), 1);
	assert_int_equal(total, 4250);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_anchored_pages_match_offset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shape_pages_match_offset, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of the edge's certificate cache (src/edge/cert_cache.c): hits and misses, the byte
 * budget with LRU eviction, entries outliving eviction while referenced, negative entries that
 * expire, and invalidation by name and by wildcard parent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "edge/edge_int.h"
#include "lib/timeutil.h"

static size_t cache_bytes(struct cert_cache *c)
{
	size_t bytes, entries;

	cert_cache_size(c, &bytes, &entries);
	return bytes;
}

/* A negative entry stands in for any entry here: the cache treats both alike but for expiry. */
static struct edge_entry *make(const char *name, const char *hostname, size_t bytes)
{
	struct edge_entry *e = NULL;

	assert_int_equal(edge_entry_negative(name, time_now_us() + 60000000, &e), 0);
	e->negative = 0; /* a positive entry without certificates */
	snprintf(e->hostname, sizeof(e->hostname), "%s", hostname);
	e->bytes = bytes;
	return e;
}

static void put(struct cert_cache *c, const char *name, const char *hostname, size_t bytes)
{
	struct edge_entry *e = make(name, hostname, bytes);

	cert_cache_put(c, e, cert_cache_generation(c));
	edge_entry_unref(e);
}

static int has(struct cert_cache *c, const char *name)
{
	struct edge_entry *e = cert_cache_get(c, name);

	edge_entry_unref(e);
	return e != NULL;
}

static void test_hit_and_miss(void **state)
{
	struct cert_cache *c = NULL;
	struct edge_entry *e;

	assert_int_equal(cert_cache_create(1 << 20, &c), 0);
	put(c, "a.example.net", "a.example.net", 1000);
	e = cert_cache_get(c, "a.example.net");
	assert_non_null(e);
	assert_string_equal(e->hostname, "a.example.net");
	edge_entry_unref(e);
	assert_false(has(c, "b.example.net"));
	assert_int_equal(cache_bytes(c), 1000);
	cert_cache_destroy(c);
}

static void test_lru_eviction_by_bytes(void **state)
{
	struct cert_cache *c = NULL;

	assert_int_equal(cert_cache_create(3000, &c), 0);
	put(c, "one", "one", 1000);
	put(c, "two", "two", 1000);
	put(c, "three", "three", 1000);
	assert_true(has(c, "one")); /* "one" is now the most recent; "two" the least */
	put(c, "four", "four", 1000);
	assert_false(has(c, "two"));
	assert_true(has(c, "one"));
	assert_true(has(c, "three"));
	assert_true(has(c, "four"));
	assert_true(cache_bytes(c) <= 3000);
	cert_cache_destroy(c);
}

static void test_entry_outlives_eviction_while_held(void **state)
{
	struct cert_cache *c = NULL;
	struct edge_entry *held;

	assert_int_equal(cert_cache_create(1000, &c), 0);
	put(c, "held", "held", 1000);
	held = cert_cache_get(c, "held");
	put(c, "other", "other", 1000); /* evicts "held" from the cache */
	assert_false(has(c, "held"));
	assert_string_equal(held->hostname, "held"); /* still valid: ASan would object */
	edge_entry_unref(held);
	cert_cache_destroy(c);
}

/* A load that overlaps an invalidation is not kept: it may hold what the change replaced. */
static void test_put_after_invalidation_is_dropped(void **state)
{
	struct cert_cache *c = NULL;
	struct edge_entry *e = make("app.example.com", "app.example.com", 1000);
	uint64_t before;

	assert_int_equal(cert_cache_create(1 << 20, &c), 0);
	before = cert_cache_generation(c);
	cert_cache_invalidate(c, "app.example.com"); /* the change feed, during the store read */
	assert_int_equal(cert_cache_put(c, e, before), 0);
	assert_false(has(c, "app.example.com"));
	assert_int_equal(cert_cache_put(c, e, cert_cache_generation(c)), 1);
	assert_true(has(c, "app.example.com"));
	edge_entry_unref(e);
	cert_cache_destroy(c);
}

static void test_negative_entries_expire(void **state)
{
	struct cert_cache *c = NULL;
	struct edge_entry *e = NULL;

	assert_int_equal(cert_cache_create(1 << 20, &c), 0);
	assert_int_equal(edge_entry_negative("gone", time_now_us() - 1, &e), 0);
	cert_cache_put(c, e, cert_cache_generation(c));
	edge_entry_unref(e);
	assert_false(has(c, "gone"));
	assert_int_equal(edge_entry_negative("unknown", time_now_us() + 60000000, &e), 0);
	cert_cache_put(c, e, cert_cache_generation(c));
	edge_entry_unref(e);
	e = cert_cache_get(c, "unknown");
	assert_non_null(e);
	assert_true(e->negative);
	assert_false(edge_entry_servable(e));
	edge_entry_unref(e);
	cert_cache_destroy(c);
}

static void test_invalidate_by_name_and_wildcard(void **state)
{
	struct cert_cache *c = NULL;

	assert_int_equal(cert_cache_create(1 << 20, &c), 0);
	put(c, "app.example.net", "app.example.net", 100);
	put(c, "a.wild.net", "*.wild.net", 100);
	put(c, "b.wild.net", "", 100); /* a negative answer under the wildcard's parent */
	put(c, "x.b.wild.net", "", 100);
	cert_cache_invalidate(c, "app.example.net");
	assert_false(has(c, "app.example.net"));
	cert_cache_invalidate(c, "*.wild.net");
	assert_false(has(c, "a.wild.net"));
	assert_false(has(c, "b.wild.net"));
	assert_true(has(c, "x.b.wild.net")); /* two labels down: not covered by the wildcard */
	put(c, "a.wild.net", "a.wild.net", 100);
	put(c, "a.wild.net", "a.wild.net", 200); /* replaces: bytes counted once */
	assert_int_equal(cache_bytes(c), 300);
	cert_cache_destroy(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hit_and_miss),
	    cmocka_unit_test(test_lru_eviction_by_bytes),
	    cmocka_unit_test(test_entry_outlives_eviction_while_held),
	    cmocka_unit_test(test_negative_entries_expire),
	    cmocka_unit_test(test_put_after_invalidation_is_dropped),
	    cmocka_unit_test(test_invalidate_by_name_and_wildcard),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

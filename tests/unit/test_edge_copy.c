/* Unit tests of the edge's local copy (src/store/edge_copy.c) on a real SQLite file: an entry
 * reads back as it was put, a version older than a change the copy has heard of is not put
 * back, and the feed position survives a reopen; and of its writer thread
 * (src/edge/copy_writer.c): what lookups hand over lands in the order given, all of it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "edge/edge_int.h"
#include "lib/error.h"
#include "store/edge_copy.h"

struct fixture {
	char dir[64];
	char path[96];
	struct edge_copy *ec;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_edge_copy.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/edge-copy.db", f->dir);
	assert_int_equal(edge_copy_open(f->path, &f->ec), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	edge_copy_close(f->ec);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static unsigned char *bytes(const char *s)
{
	return (unsigned char *)strdup(s);
}

/* A hostname with two certificates at change SEQ. The caller disposes of it. */
static void entry_make(struct store_edge_entry *r, const char *hostname, int64_t seq,
		       const char *pack)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->hostname_id, sizeof(r->hostname_id), "11111111-2222-4333-8444-555555555555");
	snprintf(r->zone_id, sizeof(r->zone_id), "0123456789abcdef0123456789abcdef");
	snprintf(r->hostname, sizeof(r->hostname), "%s", hostname);
	r->settings_json = strdup("{\"min_tls_version\":\"1.2\"}");
	snprintf(r->custom_origin_server, sizeof(r->custom_origin_server), "origin.example.net");
	snprintf(r->fallback_origin, sizeof(r->fallback_origin), "fallback.example.net");
	snprintf(r->ownership_token, sizeof(r->ownership_token), "tok");
	snprintf(r->pack_id, sizeof(r->pack_id), "%s", pack);
	snprintf(r->pack_status, sizeof(r->pack_status), "active");
	r->change_seq = seq;
	r->n_certs = 2;
	for (int i = 0; i < 2; i++) {
		struct store_certificate *c = &r->certs[i];

		snprintf(c->id, sizeof(c->id), "cert-%d", i);
		snprintf(c->pack_id, sizeof(c->pack_id), "%s", pack);
		snprintf(c->key_type, sizeof(c->key_type), "%s", i ? "rsa" : "ecdsa");
		snprintf(c->private_key_id, sizeof(c->private_key_id), "key-%d", i);
		snprintf(c->serial, sizeof(c->serial), "0A%d", i);
		c->leaf_der = bytes(i ? "rsa-leaf\x01\x00\xff" : "ec-leaf");
		c->leaf_len = strlen((char *)c->leaf_der);
		c->chain_der = i ? NULL : bytes("chain");
		c->chain_len = i ? 0 : 5;
		c->not_before_us = 1000 + i;
		c->not_after_us = 2000 + i;
		c->created_at_us = 3000 + i;
		r->sealed_keys[i] = bytes(i ? "sealed-rsa" : "sealed-ec");
		r->sealed_lens[i] = strlen((char *)r->sealed_keys[i]);
	}
}

static void assert_same_entry(const struct store_edge_entry *a, const struct store_edge_entry *b)
{
	assert_string_equal(a->hostname_id, b->hostname_id);
	assert_string_equal(a->zone_id, b->zone_id);
	assert_string_equal(a->hostname, b->hostname);
	assert_string_equal(a->settings_json, b->settings_json);
	assert_string_equal(a->custom_origin_server, b->custom_origin_server);
	assert_string_equal(a->custom_origin_sni, b->custom_origin_sni);
	assert_string_equal(a->fallback_origin, b->fallback_origin);
	assert_string_equal(a->ownership_token, b->ownership_token);
	assert_string_equal(a->pack_id, b->pack_id);
	assert_string_equal(a->pack_status, b->pack_status);
	assert_int_equal(a->change_seq, b->change_seq);
	assert_int_equal(a->n_certs, b->n_certs);
	for (size_t i = 0; i < a->n_certs; i++) {
		const struct store_certificate *x = &a->certs[i], *y = &b->certs[i];

		assert_string_equal(x->id, y->id);
		assert_string_equal(x->key_type, y->key_type);
		assert_string_equal(x->private_key_id, y->private_key_id);
		assert_string_equal(x->serial, y->serial);
		assert_int_equal(x->leaf_len, y->leaf_len);
		assert_memory_equal(x->leaf_der, y->leaf_der, x->leaf_len);
		assert_int_equal(x->chain_len, y->chain_len);
		if (x->chain_len)
			assert_memory_equal(x->chain_der, y->chain_der, x->chain_len);
		assert_int_equal(x->not_after_us, y->not_after_us);
		assert_int_equal(a->sealed_lens[i], b->sealed_lens[i]);
		assert_memory_equal(a->sealed_keys[i], b->sealed_keys[i], a->sealed_lens[i]);
	}
}

static void test_an_entry_reads_back_as_it_was_put(void **state)
{
	struct fixture *f = *state;
	struct store_edge_entry in, out;

	entry_make(&in, "app.example.com", 10, "pack-a");
	assert_int_equal(edge_copy_put(f->ec, "app.example.com", &in), 0);
	assert_int_equal(edge_copy_get(f->ec, "app.example.com", &out), 0);
	assert_same_entry(&in, &out);
	store_edge_entry_dispose(&out);
	assert_int_equal(edge_copy_get(f->ec, "other.example.com", &out), SE_ENOTFOUND);

	/* A newer version replaces it whole; removal forgets it. */
	store_edge_entry_dispose(&in);
	entry_make(&in, "app.example.com", 12, "pack-b");
	in.n_certs = 1;
	assert_int_equal(edge_copy_put(f->ec, "app.example.com", &in), 0);
	assert_int_equal(edge_copy_get(f->ec, "app.example.com", &out), 0);
	assert_same_entry(&in, &out);
	store_edge_entry_dispose(&out);
	assert_int_equal(edge_copy_remove(f->ec, "app.example.com"), 0);
	assert_int_equal(edge_copy_get(f->ec, "app.example.com", &out), SE_ENOTFOUND);
	in.n_certs = 2;
	store_edge_entry_dispose(&in);
}

/* The race the forgotten rows close: a lookup read version 10 before change 11, and finishes
 * after the feed applied 11. */
static void test_an_older_version_does_not_come_back(void **state)
{
	struct fixture *f = *state;
	struct store_edge_entry old, newer, out;

	entry_make(&old, "race.example.com", 10, "pack-a");
	entry_make(&newer, "race.example.com", 11, "pack-b");
	assert_int_equal(edge_copy_put(f->ec, "race.example.com", &newer), 0);
	assert_int_equal(edge_copy_put(f->ec, "race.example.com", &old), 0);
	assert_int_equal(edge_copy_get(f->ec, "race.example.com", &out), 0);
	assert_int_equal(out.change_seq, 11);
	store_edge_entry_dispose(&out);

	assert_int_equal(edge_copy_forget(f->ec, "race.example.com", 12), 0);
	assert_int_equal(edge_copy_get(f->ec, "race.example.com", &out), SE_ENOTFOUND);
	assert_int_equal(edge_copy_put(f->ec, "race.example.com", &newer), 0); /* 11 < 12 */
	assert_int_equal(edge_copy_get(f->ec, "race.example.com", &out), SE_ENOTFOUND);
	newer.change_seq = 12; /* read after the change: kept */
	assert_int_equal(edge_copy_put(f->ec, "race.example.com", &newer), 0);
	assert_int_equal(edge_copy_get(f->ec, "race.example.com", &out), 0);
	assert_int_equal(out.change_seq, 12);
	store_edge_entry_dispose(&out);
	/* Forgetting as of an older change leaves a newer version. */
	assert_int_equal(edge_copy_forget(f->ec, "race.example.com", 5), 0);
	assert_int_equal(edge_copy_get(f->ec, "race.example.com", &out), 0);
	store_edge_entry_dispose(&out);
	store_edge_entry_dispose(&old);
	store_edge_entry_dispose(&newer);
}

static void test_position_survives_a_reopen_and_clear_empties(void **state)
{
	struct fixture *f = *state;
	struct store_edge_entry in, out;
	struct stat sb;
	int64_t seq = -1;

	assert_int_equal(edge_copy_position(f->ec, &seq), 0);
	assert_int_equal(seq, 0);
	assert_int_equal(edge_copy_set_position(f->ec, 41), 0);
	assert_int_equal(edge_copy_set_position(f->ec, 42), 0);
	entry_make(&in, "kept.example.com", 7, "pack-k");
	assert_int_equal(edge_copy_put(f->ec, "kept.example.com", &in), 0);
	edge_copy_close(f->ec);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(edge_copy_open(f->path, &f->ec), 0);
	assert_int_equal(edge_copy_position(f->ec, &seq), 0);
	assert_int_equal(seq, 42);
	assert_int_equal(edge_copy_get(f->ec, "kept.example.com", &out), 0);
	assert_same_entry(&in, &out);
	store_edge_entry_dispose(&out);
	assert_int_equal(edge_copy_clear(f->ec), 0);
	assert_int_equal(edge_copy_get(f->ec, "kept.example.com", &out), SE_ENOTFOUND);
	assert_int_equal(edge_copy_position(f->ec, &seq), 0);
	assert_int_equal(seq, 0);
	store_edge_entry_dispose(&in);
}

static void test_the_writer_keeps_the_order_it_was_given(void **state)
{
	struct fixture *f = *state;
	struct store_edge_entry a1, a2, b, want, out;
	struct copy_writer *w = NULL;
	char name[64];

	assert_int_equal(copy_writer_start(f->ec, &w), 0);
	entry_make(&a1, "a.example.com", 5, "pack-a1");
	entry_make(&a2, "a.example.com", 6, "pack-a2");
	entry_make(&want, "a.example.com", 6, "pack-a2");
	entry_make(&b, "b.example.com", 7, "pack-b");
	copy_writer_put(w, "a.example.com", &a1);
	copy_writer_remove(w, "a.example.com");
	copy_writer_put(w, "a.example.com", &a2);
	copy_writer_put(w, "b.example.com", &b);
	copy_writer_remove(w, "b.example.com");
	assert_int_equal(a1.n_certs, 0); /* taken by the writer */
	assert_null(a1.settings_json);
	copy_writer_flush(w);
	assert_int_equal(edge_copy_get(f->ec, "a.example.com", &out), 0);
	assert_same_entry(&want, &out);
	store_edge_entry_dispose(&out);
	assert_int_equal(edge_copy_get(f->ec, "b.example.com", &out), SE_ENOTFOUND);

	/* More than a batch, and stopped without a flush: every change is written first. */
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "n%d.example.com", i);
		entry_make(&b, name, 100 + i, "pack-n");
		copy_writer_put(w, name, &b);
	}
	copy_writer_stop(w);
	for (int i = 0; i < 1000; i += 111) {
		snprintf(name, sizeof(name), "n%d.example.com", i);
		assert_int_equal(edge_copy_get(f->ec, name, &out), 0);
		assert_int_equal(out.change_seq, 100 + i);
		store_edge_entry_dispose(&out);
	}
	assert_int_equal(edge_copy_get(f->ec, "n999.example.com", &out), 0);
	store_edge_entry_dispose(&out);
	store_edge_entry_dispose(&want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_an_entry_reads_back_as_it_was_put, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_an_older_version_does_not_come_back, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_position_survives_a_reopen_and_clear_empties,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_the_writer_keeps_the_order_it_was_given, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

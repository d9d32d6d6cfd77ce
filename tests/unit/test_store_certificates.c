/* Unit tests of certificate packs, certificates and the edge lookup
 * (src/store/store_certificates.c): every test gets a fresh data directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/error.h"
#include "lib/ids.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "store/store.h"
#include "store_fixture.h"

static int setup(void **state)
{
	return store_fixture_setup(state, "test_store_certs", "example.com");
}

static int teardown(void **state)
{
	return store_fixture_teardown(state);
}

/* A hostname with ssl in pack status STATUS. */
static void make_host(struct store_fixture *fx, const char *name, const char *status,
		      struct store_hostname *h)
{
	store_fixture_hostname(fx, name, status, "http", h);
	snprintf(h->status, sizeof(h->status), "active");
	snprintf(h->custom_origin_server, sizeof(h->custom_origin_server), "origin.example.net");
	h->ssl.settings_json = strdup("{\"min_tls_version\":\"1.3\"}");
	assert_non_null(h->ssl.settings_json);
	assert_int_equal(store_hostname_create(fx->st, h), 0);
}

/* Stores a certificate of KEY_TYPE whose leaf bytes are LEAF, with a sealed key blob KEYBLOB. */
static void put_cert(struct store_fixture *fx, const char *pack_id, const char *key_type,
		     const char *leaf, const char *keyblob)
{
	struct store_certificate c;

	memset(&c, 0, sizeof(c));
	assert_int_equal(ids_uuid(c.id), 0);
	snprintf(c.pack_id, sizeof(c.pack_id), "%s", pack_id);
	snprintf(c.key_type, sizeof(c.key_type), "%s", key_type);
	assert_int_equal(ids_uuid(c.private_key_id), 0);
	assert_int_equal(store_private_key_put(fx->st, c.private_key_id, pack_id, key_type,
					       (const unsigned char *)keyblob, strlen(keyblob)),
			 0);
	c.leaf_der = (unsigned char *)leaf;
	c.leaf_len = strlen(leaf);
	c.chain_der = (unsigned char *)"CHAIN";
	c.chain_len = 5;
	snprintf(c.serial, sizeof(c.serial), "0A1B");
	c.not_before_us = 1000;
	c.not_after_us = 2000;
	assert_int_equal(store_certificate_put(fx->st, &c), 0);
}

static int64_t last_seq(struct store_fixture *fx, struct store_event *last)
{
	struct store_event evs[64];
	size_t n = 0;

	assert_int_equal(store_events_since(fx->st, 0, evs, 64, &n), 0);
	assert_true(n > 0);
	*last = evs[n - 1];
	return evs[n - 1].seq;
}

static void test_lookup_unknown(void **state)
{
	struct store_fixture *fx = *state;
	struct store_edge_entry e;

	assert_int_equal(store_edge_lookup(fx->st, "nope.example.com", &e), SE_ENOTFOUND);
	assert_null(e.settings_json);
}

static void test_lookup_without_deployable_pack(void **state)
{
	struct store_fixture *fx = *state;
	struct store_hostname h;
	struct store_edge_entry e;

	make_host(fx, "a.example.com", "pending_validation", &h);
	assert_int_equal(store_edge_lookup(fx->st, "a.example.com", &e), 0);
	assert_string_equal(e.hostname_id, h.id);
	assert_string_equal(e.ownership_token, h.ownership_token);
	assert_string_equal(e.settings_json, "{\"min_tls_version\":\"1.3\"}");
	assert_string_equal(e.custom_origin_server, "origin.example.net");
	assert_string_equal(e.pack_id, "");
	assert_int_equal(e.n_certs, 0);
	store_edge_entry_dispose(&e);

	/* A certificate in a pack that is not yet deployable is not served. */
	put_cert(fx, h.ssl.pack_id, "ecdsa", "LEAF-EC", "KEY-EC");
	assert_int_equal(store_edge_lookup(fx->st, "a.example.com", &e), 0);
	assert_int_equal(e.n_certs, 0);
	store_edge_entry_dispose(&e);
	store_hostname_dispose(&h);
}

static void test_put_both_types_and_lookup(void **state)
{
	struct store_fixture *fx = *state;
	struct store_hostname h;
	struct store_edge_entry e;
	struct store_event ev;
	int64_t seq;

	make_host(fx, "b.example.com", "pending_deployment", &h);
	put_cert(fx, h.ssl.pack_id, "rsa", "LEAF-RSA", "KEY-RSA");
	seq = last_seq(fx, &ev);
	assert_string_equal(ev.kind, "certificate.stored");
	assert_string_equal(ev.hostname, "b.example.com");
	assert_string_equal(ev.subject_id, h.id);
	put_cert(fx, h.ssl.pack_id, "ecdsa", "LEAF-EC", "KEY-EC");

	assert_int_equal(store_edge_lookup(fx->st, "b.example.com", &e), 0);
	assert_string_equal(e.pack_id, h.ssl.pack_id);
	assert_string_equal(e.pack_status, "pending_deployment");
	assert_int_equal(e.n_certs, 2);
	assert_true(e.change_seq > seq);
	assert_string_equal(e.certs[0].key_type, "ecdsa");
	assert_memory_equal(e.certs[0].leaf_der, "LEAF-EC", 7);
	assert_int_equal(e.certs[0].leaf_len, 7);
	assert_memory_equal(e.certs[0].chain_der, "CHAIN", 5);
	assert_int_equal(e.sealed_lens[0], 6);
	assert_memory_equal(e.sealed_keys[0], "KEY-EC", 6);
	assert_string_equal(e.certs[1].key_type, "rsa");
	assert_memory_equal(e.sealed_keys[1], "KEY-RSA", 7);
	assert_string_equal(e.certs[1].serial, "0A1B");
	assert_int_equal(e.certs[1].not_after_us, 2000);
	store_edge_entry_dispose(&e);
	store_hostname_dispose(&h);
}

static void test_put_replaces_same_type(void **state)
{
	struct store_fixture *fx = *state;
	struct store_hostname h;
	struct store_edge_entry e;
	char old_key[37];

	make_host(fx, "c.example.com", "active", &h);
	put_cert(fx, h.ssl.pack_id, "ecdsa", "OLD", "KEY-OLD");
	assert_int_equal(store_edge_lookup(fx->st, "c.example.com", &e), 0);
	memcpy(old_key, e.certs[0].private_key_id, sizeof(old_key));
	store_edge_entry_dispose(&e);

	put_cert(fx, h.ssl.pack_id, "ecdsa", "NEWER", "KEY-NEW");
	assert_int_equal(store_edge_lookup(fx->st, "c.example.com", &e), 0);
	assert_int_equal(e.n_certs, 1);
	assert_int_equal(e.certs[0].leaf_len, 5);
	assert_memory_equal(e.certs[0].leaf_der, "NEWER", 5);
	store_edge_entry_dispose(&e);

	/* The replaced certificate's key is gone with it. */
	unsigned char *sealed = NULL;
	size_t len = 0;
	assert_int_equal(store_private_key_get(fx->st, old_key, &sealed, &len), SE_ENOTFOUND);
	store_hostname_dispose(&h);
}

static void test_put_rejects_bad_input(void **state)
{
	struct store_fixture *fx = *state;
	struct store_certificate c;

	memset(&c, 0, sizeof(c));
	assert_int_equal(ids_uuid(c.id), 0);
	assert_int_equal(ids_uuid(c.pack_id), 0);
	snprintf(c.key_type, sizeof(c.key_type), "ecdsa");
	assert_int_equal(store_certificate_put(fx->st, &c), SE_EINVAL); /* no leaf */
	c.leaf_der = (unsigned char *)"X";
	c.leaf_len = 1;
	snprintf(c.key_type, sizeof(c.key_type), "dsa");
	assert_int_equal(store_certificate_put(fx->st, &c), SE_EINVAL);
	snprintf(c.key_type, sizeof(c.key_type), "rsa");
	assert_int_equal(store_certificate_put(fx->st, &c), SE_ENOTFOUND); /* no such pack */
}

/* Moves go through the lifecycle table: what it refuses changes nothing. */
static void test_pack_moves(void **state)
{
	struct store_fixture *fx = *state;
	struct store_hostname h, got;
	struct store_event ev;

	make_host(fx, "d.example.com", "pending_deployment", &h);
	assert_int_equal(store_pack_move(fx->st, h.ssl.pack_id, PACK_EV_RECORDS_SHOWN, -1, NULL),
			 SE_EBUSY);
	assert_int_equal(store_pack_move(fx->st, h.ssl.pack_id, PACK_EV_DEPLOYED, -1, NULL), 0);
	last_seq(fx, &ev);
	assert_string_equal(ev.kind, "ssl.status");
	assert_string_equal(ev.old_status, "pending_deployment");
	assert_string_equal(ev.new_status, "active");
	assert_string_equal(ev.hostname, "d.example.com");
	/* A second edge finds it already done. */
	assert_int_equal(store_pack_move(fx->st, h.ssl.pack_id, PACK_EV_DEPLOYED, -1, NULL),
			 SE_EBUSY);
	assert_int_equal(
	    store_pack_move(fx->st, h.ssl.pack_id, PACK_EV_EXPIRED, -1, "[\"too old\"]"), 0);
	assert_int_equal(store_hostname_get(fx->st, fx->zone.id, h.id, &got), 0);
	assert_string_equal(got.ssl.status, "expired");
	assert_string_equal(got.ssl.validation_errors_json, "[\"too old\"]");
	assert_int_equal(got.change_seq, ev.seq + 1);
	store_hostname_dispose(&got);
	assert_int_equal(store_pack_move(fx->st, "00000000-0000-0000-0000-000000000000",
					 PACK_EV_DEPLOYED, -1, NULL),
			 SE_ENOTFOUND);
	store_hostname_dispose(&h);
}

/* An edge that read the pack before a newer certificate was stored must not mark that newer
 * state deployed: its entry lacks the new certificate. The edge that reads it afterwards can. */
static void test_activation_fenced_by_change_seq(void **state)
{
	struct store_fixture *fx = *state;
	struct store_hostname h, got;
	struct store_edge_entry stale, fresh;

	make_host(fx, "f.example.com", "pending_issuance", &h);
	put_cert(fx, h.ssl.pack_id, "rsa", "LEAF-RSA", "KEY-RSA");
	assert_int_equal(store_pack_move(fx->st, h.ssl.pack_id, PACK_EV_ISSUED, -1, NULL), 0);
	assert_int_equal(store_edge_lookup(fx->st, "f.example.com", &stale), 0);
	assert_int_equal(stale.n_certs, 1);

	put_cert(fx, h.ssl.pack_id, "ecdsa", "LEAF-EC", "KEY-EC");
	assert_int_equal(
	    store_pack_move(fx->st, stale.pack_id, PACK_EV_DEPLOYED, stale.change_seq, NULL),
	    SE_EBUSY);
	assert_int_equal(store_hostname_get(fx->st, fx->zone.id, h.id, &got), 0);
	assert_string_equal(got.ssl.status, "pending_deployment");
	store_hostname_dispose(&got);

	assert_int_equal(store_edge_lookup(fx->st, "f.example.com", &fresh), 0);
	assert_int_equal(fresh.n_certs, 2);
	assert_int_equal(
	    store_pack_move(fx->st, fresh.pack_id, PACK_EV_DEPLOYED, fresh.change_seq, NULL), 0);
	assert_int_equal(store_hostname_get(fx->st, fx->zone.id, h.id, &got), 0);
	assert_string_equal(got.ssl.status, "active");
	store_hostname_dispose(&got);
	/* Only once: the pack is no longer pending_deployment. */
	assert_int_equal(
	    store_pack_move(fx->st, fresh.pack_id, PACK_EV_DEPLOYED, fresh.change_seq, NULL),
	    SE_EBUSY);
	store_edge_entry_dispose(&stale);
	store_edge_entry_dispose(&fresh);
	store_hostname_dispose(&h);
}

static void test_lookup_reports_fallback_origin(void **state)
{
	struct store_fixture *fx = *state;
	struct store_hostname h;
	struct store_fallback_origin fo;
	struct store_edge_entry e;

	make_host(fx, "e.example.com", "active", &h);
	memset(&fo, 0, sizeof(fo));
	snprintf(fo.zone_id, sizeof(fo.zone_id), "%s", fx->zone.id);
	snprintf(fo.origin, sizeof(fo.origin), "fallback.example.net");
	snprintf(fo.status, sizeof(fo.status), "active");
	assert_int_equal(store_fallback_origin_put(fx->st, &fo), 0);
	store_fallback_origin_dispose(&fo);
	assert_int_equal(store_edge_lookup(fx->st, "e.example.com", &e), 0);
	assert_string_equal(e.fallback_origin, "fallback.example.net");
	store_edge_entry_dispose(&e);
	store_hostname_dispose(&h);
}

static void test_delete_hostname_drops_certificates(void **state)
{
	struct store_fixture *fx = *state;
	struct store_hostname h;
	struct store_edge_entry e;

	make_host(fx, "f.example.com", "active", &h);
	put_cert(fx, h.ssl.pack_id, "ecdsa", "LEAF", "KEY");
	assert_int_equal(store_hostname_delete(fx->st, fx->zone.id, h.id), 0);
	assert_int_equal(store_edge_lookup(fx->st, "f.example.com", &e), SE_ENOTFOUND);
	store_hostname_dispose(&h);
}

static void test_ticket_keys(void **state)
{
	struct store_fixture *fx = *state;
	struct store_ticket_key k = {0}, got[4];
	size_t n = 99;

	assert_int_equal(store_ticket_keys_recent(fx->st, got, 4, &n), 0);
	assert_int_equal(n, 0);
	for (int i = 0; i < 3; i++) {
		snprintf(k.name, sizeof(k.name), "%032d", i);
		k.sealed = (unsigned char *)"sealed-bytes";
		k.sealed_len = 12;
		k.created_at_us = 1000 + i;
		assert_int_equal(store_ticket_key_put(fx->st, &k), 0);
	}
	assert_int_equal(store_ticket_key_put(fx->st, &k), SE_EEXISTS);
	assert_int_equal(store_ticket_keys_recent(fx->st, got, 2, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(got[0].name, "00000000000000000000000000000002");
	assert_int_equal(got[0].created_at_us, 1002);
	assert_int_equal(got[1].created_at_us, 1001);
	assert_memory_equal(got[1].sealed, "sealed-bytes", 12);
	for (size_t i = 0; i < n; i++)
		free(got[i].sealed);
}

/* Rotation appends a key each time: only the newest STORE_TICKET_KEYS_KEPT rows stay. */
static void test_ticket_keys_pruned(void **state)
{
	struct store_fixture *fx = *state;
	struct store_ticket_key k = {0}, got[STORE_TICKET_KEYS_KEPT + 4];
	size_t n = 0;

	for (int i = 0; i < STORE_TICKET_KEYS_KEPT + 10; i++) {
		snprintf(k.name, sizeof(k.name), "%032d", i);
		k.sealed = (unsigned char *)"sealed-bytes";
		k.sealed_len = 12;
		k.created_at_us = 1000 + i;
		assert_int_equal(store_ticket_key_put(fx->st, &k), 0);
	}
	assert_int_equal(store_ticket_keys_recent(fx->st, got, STORE_TICKET_KEYS_KEPT + 4, &n), 0);
	assert_int_equal(n, STORE_TICKET_KEYS_KEPT);
	assert_int_equal(got[0].created_at_us, 1000 + STORE_TICKET_KEYS_KEPT + 9);
	assert_int_equal(got[n - 1].created_at_us, 1000 + 10);
	for (size_t i = 0; i < n; i++)
		free(got[i].sealed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_lookup_unknown, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lookup_without_deployable_pack, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_put_both_types_and_lookup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_put_replaces_same_type, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_put_rejects_bad_input, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pack_moves, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_activation_fenced_by_change_seq, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lookup_reports_fallback_origin, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delete_hostname_drops_certificates, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_ticket_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ticket_keys_pruned, setup, teardown),
	};

	log_threshold = LOG_WARN;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Custom CSRs, uploaded ("custom") packs and the expiry watch (src/store/store_csrs.c,
 * src/store/store_custom_packs.c, src/api/expiry_watch.c) on a fresh data directory each. */
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

#include "api/expiry_watch.h"
#include "lib/error.h"
#include "lib/ids.h"
#include "lib/timeutil.h"
#include "store/store.h"
#include "store_fixture.h"

#define DAY_US (86400LL * 1000000)

static int setup(void **state)
{
	return store_fixture_setup(state, "test_store_custom", "provider.com");
}

static int teardown(void **state)
{
	return store_fixture_teardown(state);
}

/* A hostname without ssl, as the API creates one before attaching an upload. */
static void make_host(struct store_fixture *fx, const char *name, struct store_hostname *h)
{
	store_fixture_plain_hostname(fx, name, h);
	assert_int_equal(store_hostname_create(fx->st, h), 0);
	snprintf(h->ssl.bundle_method, sizeof(h->ssl.bundle_method), "force");
}

static const unsigned char leaf[] = "leaf-der", sealed[] = "sealed-key";

/* A one-certificate custom pack expiring at NOT_AFTER, keyed with KEY_ID (sealed here unless
 * CSR_ID names the key's owner). */
static void make_pack(struct store_custom_pack *p, int64_t not_after, const char *key_id,
		      const char *csr_id)
{
	struct store_custom_cert *cc = &p->certs[0];

	memset(p, 0, sizeof(*p));
	assert_int_equal(ids_uuid(p->pack_id), 0);
	p->custom_csr_id = csr_id;
	p->uploaded_on_us = time_now_us();
	p->n_certs = 1;
	assert_int_equal(ids_uuid(cc->cert.id), 0);
	snprintf(cc->cert.key_type, sizeof(cc->cert.key_type), "ecdsa");
	cc->cert.leaf_der = (unsigned char *)leaf;
	cc->cert.leaf_len = sizeof(leaf);
	snprintf(cc->cert.private_key_id, sizeof(cc->cert.private_key_id), "%s", key_id);
	snprintf(cc->cert.serial, sizeof(cc->cert.serial), "0A");
	cc->cert.not_before_us = time_now_us() - DAY_US;
	cc->cert.not_after_us = not_after;
	cc->pem_key_type = "ecdsa";
	if (!csr_id) {
		cc->sealed_key = sealed;
		cc->sealed_len = sizeof(sealed);
	}
}

static void make_csr(struct store_fixture *fx, struct store_csr *c)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(ids_uuid(c->id), 0);
	assert_int_equal(ids_uuid(c->key_id), 0);
	snprintf(c->zone_id, sizeof(c->zone_id), "%s", fx->zone.id);
	snprintf(c->key_type, sizeof(c->key_type), "p256v1");
	snprintf(c->common_name, sizeof(c->common_name), "app.customer.com");
	snprintf(c->country, sizeof(c->country), "US");
	c->sans_json = "[\"app.customer.com\"]";
	c->csr_pem = "-----BEGIN CERTIFICATE REQUEST-----\n";
	c->created_at_us = time_now_us();
	assert_int_equal(store_csr_create(fx->st, c, "ecdsa", sealed, sizeof(sealed)), 0);
}

static void test_attach_and_read_back(void **state)
{
	struct store_fixture *fx = *state;
	struct store_hostname h, got;
	struct store_custom_pack p;
	char key_id[37];
	unsigned char *blob = NULL;
	size_t len = 0;
	int64_t count = -1;

	make_host(fx, "app.customer.com", &h);
	assert_int_equal(ids_uuid(key_id), 0);
	make_pack(&p, time_now_us() + 90 * DAY_US, key_id, NULL);
	assert_int_equal(store_custom_pack_attach(fx->st, &h, &p), 0);
	assert_int_equal(store_hostname_get(fx->st, fx->zone.id, h.id, &got), 0);
	assert_true(got.ssl.enabled && got.ssl.custom);
	assert_string_equal(got.ssl.pack_id, p.pack_id);
	assert_string_equal(got.ssl.status, "pending_deployment");
	assert_string_equal(got.ssl.method, "");
	assert_string_equal(got.ssl.bundle_method, "force");
	assert_true(got.ssl.uploaded_on_us > 0);
	assert_int_equal(store_private_key_get(fx->st, key_id, &blob, &len), 0);
	assert_int_equal(len, sizeof(sealed));
	free(blob);
	/* Nothing is left for the issuer to do. */
	assert_int_equal(store_job_count(fx->st, "hostname", h.id, &count), 0);
	assert_int_equal(count, 0);
	store_hostname_dispose(&got);

	/* A second upload replaces the pack and destroys the key the first one owned. */
	struct store_custom_pack p2;
	char key2[37];

	assert_int_equal(ids_uuid(key2), 0);
	make_pack(&p2, time_now_us() + 90 * DAY_US, key2, NULL);
	assert_int_equal(store_custom_pack_attach(fx->st, &h, &p2), 0);
	assert_int_equal(store_private_key_get(fx->st, key_id, &blob, &len), SE_ENOTFOUND);
	assert_int_equal(store_hostname_get(fx->st, fx->zone.id, h.id, &got), 0);
	assert_string_equal(got.ssl.pack_id, p2.pack_id);
	store_hostname_dispose(&got);
	store_hostname_dispose(&h);
}

static void test_csr_in_use_until_hostname_deleted(void **state)
{
	struct store_fixture *fx = *state;
	struct store_hostname h;
	struct store_custom_pack p;
	struct store_csr c, got;
	struct store_csr *items = NULL;
	size_t n = 0;
	int64_t total = 0;
	unsigned char *blob = NULL;
	size_t len = 0;

	make_csr(fx, &c);
	assert_int_equal(store_csr_get(fx->st, fx->zone.id, c.id, &got), 0);
	assert_string_equal(got.sans_json, "[\"app.customer.com\"]");
	assert_null(got.name);
	store_csr_dispose(&got);
	assert_int_equal(store_csr_list(fx->st, fx->zone.id, 0, 0, 5, &items, &n, &total), 0);
	assert_int_equal(n, 1);
	assert_int_equal(total, 1);
	store_csr_list_free(items, n);
	assert_int_equal(store_csr_list(fx->st, fx->zone.id, 0, 5, 5, &items, &n, &total), 0);
	assert_int_equal(n, 0);
	assert_null(items);

	make_host(fx, "app.customer.com", &h);
	make_pack(&p, time_now_us() + 90 * DAY_US, c.key_id, c.id);
	assert_int_equal(store_custom_pack_attach(fx->st, &h, &p), 0);
	assert_int_equal(store_csr_delete(fx->st, fx->zone.id, c.id), SE_EBUSY);
	assert_int_equal(store_hostname_delete(fx->st, fx->zone.id, h.id), 0);
	/* The hostname took its pack, not the CSR's key. */
	assert_int_equal(store_private_key_get(fx->st, c.key_id, &blob, &len), 0);
	free(blob);
	assert_int_equal(store_csr_delete(fx->st, fx->zone.id, c.id), 0);
	assert_int_equal(store_private_key_get(fx->st, c.key_id, &blob, &len), SE_ENOTFOUND);
	assert_int_equal(store_csr_delete(fx->st, fx->zone.id, c.id), SE_ENOTFOUND);
	store_hostname_dispose(&h);
}

static const char *pack_status(struct store_fixture *fx, const struct store_hostname *h, char *buf,
			       size_t len)
{
	struct store_hostname got;

	assert_int_equal(store_hostname_get(fx->st, fx->zone.id, h->id, &got), 0);
	snprintf(buf, len, "%s", got.ssl.status);
	store_hostname_dispose(&got);
	return buf;
}

static void test_expiry_watch(void **state)
{
	struct store_fixture *fx = *state;
	struct store_hostname soon, gone, far;
	struct store_custom_pack p;
	char k[3][37], buf[32];
	int64_t now = time_now_us();

	for (int i = 0; i < 3; i++)
		assert_int_equal(ids_uuid(k[i]), 0);
	make_host(fx, "soon.customer.com", &soon);
	make_pack(&p, now + 10 * DAY_US, k[0], NULL);
	assert_int_equal(store_custom_pack_attach(fx->st, &soon, &p), 0);
	make_host(fx, "gone.customer.com", &gone);
	make_pack(&p, now - DAY_US, k[1], NULL);
	assert_int_equal(store_custom_pack_attach(fx->st, &gone, &p), 0);
	make_host(fx, "far.customer.com", &far);
	make_pack(&p, now + 60 * DAY_US, k[2], NULL);
	assert_int_equal(store_custom_pack_attach(fx->st, &far, &p), 0);

	assert_int_equal(expiry_watch_pass(fx->st, now), 0);
	assert_string_equal(pack_status(fx, &soon, buf, sizeof(buf)), "pending_expiration");
	assert_string_equal(pack_status(fx, &gone, buf, sizeof(buf)), "expired");
	assert_string_equal(pack_status(fx, &far, buf, sizeof(buf)), "pending_deployment");
	/* Later, pending_expiration becomes expired; a pass changes nothing twice. */
	assert_int_equal(expiry_watch_pass(fx->st, now + 31 * DAY_US), 0);
	assert_string_equal(pack_status(fx, &soon, buf, sizeof(buf)), "expired");
	assert_string_equal(pack_status(fx, &far, buf, sizeof(buf)), "pending_expiration");
	assert_int_equal(expiry_watch_pass(fx->st, now + 31 * DAY_US), 0);
	assert_string_equal(pack_status(fx, &far, buf, sizeof(buf)), "pending_expiration");
	store_hostname_dispose(&soon);
	store_hostname_dispose(&gone);
	store_hostname_dispose(&far);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_attach_and_read_back, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_csr_in_use_until_hostname_deleted, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_expiry_watch, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The fixture the store's unit tests share: a fresh data directory with an open store and one
 * zone, removed afterwards, and a hostname with a certificate pack. Include it after cmocka.h. */
#ifndef SAASEDGE_TESTS_UNIT_STORE_FIXTURE_H
#define SAASEDGE_TESTS_UNIT_STORE_FIXTURE_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/ids.h"
#include "lib/timeutil.h"
#include "store/store.h"

struct store_fixture {
	char root[64];
	char data_dir[96];
	struct store *st;
	struct store_zone zone;
	struct store_hostname host; /* store_fixture_setup_host's hostname */
};

/* Opens a store in a new directory under /tmp named after TEST, with zone ZONE_NAME. */
static inline void store_fixture_open(struct store_fixture *fx, const char *test,
				      const char *zone_name, int64_t quota)
{
	/* tmpfs when there is one: every commit syncs, and the tests are not about the disk */
	snprintf(fx->root, sizeof(fx->root), "%s/%s.XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", test);
	assert_non_null(mkdtemp(fx->root));
	snprintf(fx->data_dir, sizeof(fx->data_dir), "%s/data", fx->root);
	assert_int_equal(store_open(fx->data_dir, NULL, &fx->st), 0);
	assert_int_equal(ids_hex32(fx->zone.id), 0);
	snprintf(fx->zone.name, sizeof(fx->zone.name), "%s", zone_name);
	fx->zone.quota = quota;
	fx->zone.created_at_us = time_now_us();
	assert_int_equal(store_zone_create(fx->st, &fx->zone), 0);
}

static inline int store_fixture_rm_entry(const char *path, const struct stat *sb, int flag,
					 struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static inline void store_fixture_close(struct store_fixture *fx)
{
	store_close(fx->st);
	nftw(fx->root, store_fixture_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Fills H as a new hostname NAME of the zone (status "pending") without ssl, as the API makes
 * one before attaching an upload; the caller may change it before store_hostname_create. */
static inline void store_fixture_plain_hostname(struct store_fixture *fx, const char *name,
						struct store_hostname *h)
{
	memset(h, 0, sizeof(*h));
	assert_int_equal(ids_uuid(h->id), 0);
	snprintf(h->zone_id, sizeof(h->zone_id), "%s", fx->zone.id);
	snprintf(h->hostname, sizeof(h->hostname), "%s", name);
	snprintf(h->status, sizeof(h->status), "pending");
	assert_int_equal(ids_uuid(h->ownership_token), 0);
	h->created_at_us = h->updated_at_us = time_now_us();
}

/* The same with a pack in PACK_STATUS, validated by METHOD at the internal CA. */
static inline void store_fixture_hostname(struct store_fixture *fx, const char *name,
					  const char *pack_status, const char *method,
					  struct store_hostname *h)
{
	store_fixture_plain_hostname(fx, name, h);
	h->ssl.enabled = 1;
	assert_int_equal(ids_uuid(h->ssl.pack_id), 0);
	snprintf(h->ssl.status, sizeof(h->ssl.status), "%s", pack_status);
	snprintf(h->ssl.method, sizeof(h->ssl.method), "%s", method);
	snprintf(h->ssl.type, sizeof(h->ssl.type), "dv");
	snprintf(h->ssl.bundle_method, sizeof(h->ssl.bundle_method), "ubiquitous");
	snprintf(h->ssl.certificate_authority, sizeof(h->ssl.certificate_authority), "internal");
}

/* cmocka set-up and tear-down: *STATE is a calloc'd store_fixture. */
static inline int store_fixture_setup(void **state, const char *test, const char *zone_name)
{
	struct store_fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	store_fixture_open(fx, test, zone_name, 100);
	*state = fx;
	return 0;
}

/* The same with fx->host created: app.customer.example, its pack in PACK_STATUS, its job due. */
static inline int store_fixture_setup_host(void **state, const char *test, const char *pack_status,
					   const char *method)
{
	struct store_fixture *fx;

	store_fixture_setup(state, test, "provider.example");
	fx = *state;
	store_fixture_hostname(fx, "app.customer.example", pack_status, method, &fx->host);
	assert_int_equal(store_hostname_create(fx->st, &fx->host), 0);
	return 0;
}

static inline int store_fixture_teardown(void **state)
{
	store_fixture_close(*state);
	free(*state);
	return 0;
}

#endif

/* Unit tests of the SQLite store (src/store): every test gets a fresh data directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/ids.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "store/store_int.h"
#include "store/store.h"

struct fixture {
	char root[64];     /* mkdtemp result, removed at teardown */
	char data_dir[96]; /* root/data: store_open must create it */
	struct store *st;
	struct store_zone zone;
};

/* ---- helpers ------------------------------------------------------------------------------ */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void make_zone(struct store *st, const char *name, int64_t quota, struct store_zone *z)
{
	memset(z, 0, sizeof(*z));
	assert_int_equal(ids_hex32(z->id), 0);
	snprintf(z->name, sizeof(z->name), "%s", name);
	snprintf(z->cname_target, sizeof(z->cname_target), "edge.%s", name);
	z->quota = quota;
	z->created_at_us = time_now_us();
	assert_int_equal(store_zone_create(st, z), 0);
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	assert_non_null(d);
	return d;
}

/* A fully populated record; SSL selects whether it has a certificate pack. */
static void make_host(struct store_hostname *h, const char *zone_id, const char *name, int ssl)
{
	memset(h, 0, sizeof(*h));
	assert_int_equal(ids_uuid(h->id), 0);
	snprintf(h->zone_id, sizeof(h->zone_id), "%s", zone_id);
	snprintf(h->hostname, sizeof(h->hostname), "%s", name);
	snprintf(h->status, sizeof(h->status), "pending");
	assert_int_equal(ids_uuid(h->ownership_token), 0);
	h->custom_metadata_json = xstrdup("{\"customer\":\"acme\"}");
	snprintf(h->custom_origin_server, sizeof(h->custom_origin_server), "origin.example.net");
	snprintf(h->custom_origin_sni, sizeof(h->custom_origin_sni), "sni.example.net");
	h->verification_errors_json = xstrdup("[\"none yet\"]");
	h->created_at_us = time_now_us();
	h->updated_at_us = h->created_at_us;
	h->ssl.enabled = ssl;
	h->ssl.settings_json = xstrdup("{\"min_tls_version\":\"1.2\"}");
	if (!ssl)
		return;
	assert_int_equal(ids_uuid(h->ssl.pack_id), 0);
	snprintf(h->ssl.status, sizeof(h->ssl.status), "initializing");
	snprintf(h->ssl.method, sizeof(h->ssl.method), "http");
	snprintf(h->ssl.type, sizeof(h->ssl.type), "dv");
	snprintf(h->ssl.bundle_method, sizeof(h->ssl.bundle_method), "ubiquitous");
	snprintf(h->ssl.certificate_authority, sizeof(h->ssl.certificate_authority),
		 "lets_encrypt");
	h->ssl.validation_records_json = xstrdup("[{\"http_url\":\"http://x/y\"}]");
	h->ssl.validation_errors_json = xstrdup("[]");
}

static void assert_json_equal(const char *want, const char *got)
{
	if (!want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(want, got);
}

static void assert_host_equal(const struct store_hostname *want, const struct store_hostname *got)
{
	assert_string_equal(want->id, got->id);
	assert_string_equal(want->zone_id, got->zone_id);
	assert_string_equal(want->hostname, got->hostname);
	assert_string_equal(want->status, got->status);
	assert_string_equal(want->ownership_token, got->ownership_token);
	assert_json_equal(want->custom_metadata_json, got->custom_metadata_json);
	assert_string_equal(want->custom_origin_server, got->custom_origin_server);
	assert_string_equal(want->custom_origin_sni, got->custom_origin_sni);
	assert_json_equal(want->verification_errors_json, got->verification_errors_json);
	assert_int_equal(want->created_at_us, got->created_at_us);
	assert_int_equal(want->updated_at_us, got->updated_at_us);
	assert_int_equal(want->change_seq, got->change_seq);
	assert_int_equal(want->ssl.enabled, got->ssl.enabled);
	assert_string_equal(want->ssl.pack_id, got->ssl.pack_id);
	assert_string_equal(want->ssl.status, got->ssl.status);
	assert_string_equal(want->ssl.method, got->ssl.method);
	assert_string_equal(want->ssl.type, got->ssl.type);
	assert_string_equal(want->ssl.bundle_method, got->ssl.bundle_method);
	assert_string_equal(want->ssl.certificate_authority, got->ssl.certificate_authority);
	assert_int_equal(want->ssl.wildcard, got->ssl.wildcard);
	assert_json_equal(want->ssl.settings_json, got->ssl.settings_json);
	if (want->ssl.enabled) {
		assert_json_equal(want->ssl.validation_records_json,
				  got->ssl.validation_records_json);
		assert_json_equal(want->ssl.validation_errors_json,
				  got->ssl.validation_errors_json);
	}
}

/* One integer from SQL run on the store's own connection of this thread. */
static int64_t sql_int(struct store *st, const char *sql)
{
	struct sq_conn *c = sq_conn_get(st);
	sqlite3_stmt *s = NULL;
	int64_t v;

	assert_non_null(c);
	assert_int_equal(sqlite3_prepare_v2(c->db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static void list(struct store *st, const char *zone_id, const struct store_hostname_filter *f,
		 struct store_hostname **items, size_t *n, int64_t *total)
{
	assert_int_equal(store_hostname_list(st, zone_id, f, items, n, total), 0);
}

static struct store_hostname_filter no_filter(void)
{
	struct store_hostname_filter f = {.wildcard = -1, .limit = 100};

	return f;
}

/* ---- fixture ------------------------------------------------------------------------------ */

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	snprintf(fx->root, sizeof(fx->root), "/tmp/test_store.XXXXXX");
	assert_non_null(mkdtemp(fx->root));
	snprintf(fx->data_dir, sizeof(fx->data_dir), "%s/data", fx->root);
	assert_int_equal(store_open(fx->data_dir, NULL, &fx->st), 0);
	make_zone(fx->st, "example.com", 1000, &fx->zone);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	store_close(fx->st);
	nftw(fx->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

static void test_open_migrates_and_reopens(void **state)
{
	struct fixture *fx = *state;
	struct stat sb;
	int version = store_schema_version(fx->st);

	/* Every migration ran (the count grows as migrations are appended) and was recorded. */
	assert_true(version >= 1);
	assert_int_equal(sql_int(fx->st, "PRAGMA user_version"), version);
	assert_int_equal(stat(fx->data_dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	assert_int_equal(sql_int(fx->st, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'"
					 " AND name IN ('zones', 'api_tokens', 'hostnames', "
					 "'cert_packs', 'certificates', 'private_keys', 'jobs', "
					 "'fallback_origins', 'events')"),
			 9);
	store_close(fx->st);
	fx->st = NULL;
	assert_int_equal(store_open(fx->data_dir, NULL, &fx->st), 0);
	assert_int_equal(store_schema_version(fx->st), version);
	/* The zone made before the reopen is still there: nothing was re-created. */
	assert_int_equal(sql_int(fx->st, "SELECT COUNT(*) FROM zones"), 1);
}

static void test_pragmas(void **state)
{
	struct fixture *fx = *state;
	char path[160];
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;

	/* journal_mode is a property of the file: a side handle sees it. */
	snprintf(path, sizeof(path), "%s/saasedge.db", fx->data_dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	sqlite3_close(db);
	/* The others are per connection: ask the store's own. */
	assert_int_equal(sql_int(fx->st, "PRAGMA foreign_keys"), 1);
	assert_int_equal(sql_int(fx->st, "PRAGMA synchronous"), 2);
	assert_int_equal(sql_int(fx->st, "PRAGMA busy_timeout"), 5000);
}

static void *synchronous_of_thread(void *arg)
{
	static int64_t level;

	level = sql_int(arg, "PRAGMA synchronous");
	return &level;
}

/* A thread that commits lazily gets synchronous=NORMAL on its own connection; every other
 * thread's commits still wait for the disk. */
static void test_commit_lazily_is_per_thread(void **state)
{
	struct fixture *fx = *state;
	pthread_t t;
	void *other;

	store_commit_lazily(fx->st);
	assert_int_equal(sql_int(fx->st, "PRAGMA synchronous"), 1);
	assert_int_equal(pthread_create(&t, NULL, synchronous_of_thread, fx->st), 0);
	assert_int_equal(pthread_join(t, &other), 0);
	assert_int_equal(*(int64_t *)other, 2);
}

/* ---- zones and tokens --------------------------------------------------------------------- */

static void test_zones(void **state)
{
	struct fixture *fx = *state;
	struct store_zone z, dup;

	assert_int_equal(store_zone_get(fx->st, fx->zone.id, &z), 0);
	assert_string_equal(z.id, fx->zone.id);
	assert_string_equal(z.name, "example.com");
	assert_string_equal(z.cname_target, "edge.example.com");
	assert_int_equal(z.quota, 1000);
	assert_int_equal(z.hostname_count, 0);
	assert_int_equal(z.created_at_us, fx->zone.created_at_us);
	memset(&z, 0, sizeof(z));
	assert_int_equal(store_zone_find_by_name(fx->st, "example.com", &z), 0);
	assert_string_equal(z.id, fx->zone.id);
	assert_int_equal(store_zone_find_by_name(fx->st, "nope.com", &z), SE_ENOTFOUND);
	assert_int_equal(store_zone_get(fx->st, "00000000000000000000000000000000", &z),
			 SE_ENOTFOUND);
	dup = fx->zone;
	assert_int_equal(ids_hex32(dup.id), 0);
	assert_int_equal(store_zone_create(fx->st, &dup), SE_EEXISTS);
}

static void test_tokens(void **state)
{
	struct fixture *fx = *state;
	struct store_token t = {.created_at_us = 42}, got;

	assert_int_equal(ids_hex32(t.id), 0);
	snprintf(t.zone_id, sizeof(t.zone_id), "%s", fx->zone.id);
	ids_sha256_hex("secret", 6, t.token_sha256);
	snprintf(t.email, sizeof(t.email), "ops@example.com");
	assert_int_equal(store_token_create(fx->st, &t), 0);
	assert_int_equal(store_token_find(fx->st, t.token_sha256, &got), 0);
	assert_string_equal(got.id, t.id);
	assert_string_equal(got.zone_id, fx->zone.id);
	assert_string_equal(got.token_sha256, t.token_sha256);
	assert_string_equal(got.email, "ops@example.com");
	assert_int_equal(got.created_at_us, 42);
	assert_int_equal(store_token_create(fx->st, &t), SE_EEXISTS);
	ids_sha256_hex("other", 5, got.token_sha256);
	assert_int_equal(store_token_find(fx->st, got.token_sha256, &got), SE_ENOTFOUND);
	assert_int_equal(ids_hex32(t.id), 0);
	ids_sha256_hex("third", 5, t.token_sha256);
	snprintf(t.zone_id, sizeof(t.zone_id), "ffffffffffffffffffffffffffffffff");
	assert_int_equal(store_token_create(fx->st, &t), SE_ENOTFOUND);
}

/* ---- hostnames ---------------------------------------------------------------------------- */

static void test_hostname_roundtrip(void **state)
{
	struct fixture *fx = *state;
	struct store_hostname h, got;
	struct store_zone z;
	int64_t created_seq;

	make_host(&h, fx->zone.id, "shop.customer.com", 1);
	assert_int_equal(store_hostname_create(fx->st, &h), 0);
	assert_true(h.change_seq > 0);
	assert_int_equal(store_hostname_get(fx->st, fx->zone.id, h.id, &got), 0);
	assert_host_equal(&h, &got);
	store_hostname_dispose(&got);
	assert_int_equal(store_zone_get(fx->st, fx->zone.id, &z), 0);
	assert_int_equal(z.hostname_count, 1);

	/* Update every mutable field. */
	created_seq = h.change_seq;
	snprintf(h.status, sizeof(h.status), "active");
	free(h.custom_metadata_json);
	h.custom_metadata_json = NULL;
	snprintf(h.custom_origin_server, sizeof(h.custom_origin_server), "o2.example.net");
	snprintf(h.custom_origin_sni, sizeof(h.custom_origin_sni), "%s", "");
	free(h.verification_errors_json);
	h.verification_errors_json = NULL;
	snprintf(h.ssl.method, sizeof(h.ssl.method), "txt");
	snprintf(h.ssl.bundle_method, sizeof(h.ssl.bundle_method), "force");
	snprintf(h.ssl.certificate_authority, sizeof(h.ssl.certificate_authority), "google");
	h.ssl.wildcard = 1;
	/* The pack's status moves by its own rules, and its records are the issuer's: an update
	 * leaves both as stored, and says so in H. */
	snprintf(h.ssl.status, sizeof(h.ssl.status), "active");
	assert_int_equal(store_hostname_update(fx->st, &h, STORE_SSL_KEEP), 0);
	assert_string_equal(h.ssl.status, "initializing");
	assert_true(h.change_seq > created_seq);
	assert_true(h.updated_at_us >= h.created_at_us);
	assert_int_equal(store_hostname_get(fx->st, fx->zone.id, h.id, &got), 0);
	assert_host_equal(&h, &got);
	store_hostname_dispose(&got);

	/* Wrong zone or unknown id. */
	assert_int_equal(store_hostname_get(fx->st, "ffffffffffffffffffffffffffffffff", h.id, &got),
			 SE_ENOTFOUND);
	snprintf(h.zone_id, sizeof(h.zone_id), "ffffffffffffffffffffffffffffffff");
	assert_int_equal(store_hostname_update(fx->st, &h, STORE_SSL_KEEP), SE_ENOTFOUND);
	snprintf(h.zone_id, sizeof(h.zone_id), "%s", fx->zone.id);

	assert_int_equal(store_hostname_delete(fx->st, fx->zone.id, h.id), 0);
	assert_int_equal(store_hostname_get(fx->st, fx->zone.id, h.id, &got), SE_ENOTFOUND);
	assert_int_equal(store_hostname_delete(fx->st, fx->zone.id, h.id), SE_ENOTFOUND);
	assert_int_equal(store_zone_get(fx->st, fx->zone.id, &z), 0);
	assert_int_equal(z.hostname_count, 0);
	store_hostname_dispose(&h);
	store_hostname_dispose(&h); /* dispose is idempotent */
}

static void test_hostname_without_ssl(void **state)
{
	struct fixture *fx = *state;
	struct store_hostname h, got;

	make_host(&h, fx->zone.id, "plain.customer.com", 0);
	free(h.ssl.settings_json);
	h.ssl.settings_json = NULL; /* stored and read back as "{}" */
	assert_int_equal(store_hostname_create(fx->st, &h), 0);
	assert_int_equal(store_hostname_get(fx->st, fx->zone.id, h.id, &got), 0);
	assert_int_equal(got.ssl.enabled, 0);
	assert_string_equal(got.ssl.pack_id, "");
	assert_string_equal(got.ssl.status, "");
	assert_string_equal(got.ssl.settings_json, "{}");
	assert_null(got.ssl.validation_records_json);
	assert_int_equal(sql_int(fx->st, "SELECT COUNT(*) FROM cert_packs"), 0);
	store_hostname_dispose(&got);
	store_hostname_dispose(&h);

	/* ssl enabled without a pack id is the caller's mistake. */
	make_host(&h, fx->zone.id, "bad.customer.com", 1);
	h.ssl.pack_id[0] = '\0';
	assert_int_equal(store_hostname_create(fx->st, &h), SE_EINVAL);
	store_hostname_dispose(&h);
}

static void test_hostname_duplicate(void **state)
{
	struct fixture *fx = *state;
	struct store_hostname a, b, c;
	struct store_zone other, z;

	make_host(&a, fx->zone.id, "dup.customer.com", 1);
	make_host(&b, fx->zone.id, "dup.customer.com", 1);
	assert_int_equal(store_hostname_create(fx->st, &a), 0);
	assert_int_equal(store_hostname_create(fx->st, &b), SE_EEXISTS);
	/* The failed create left nothing behind. */
	assert_int_equal(store_zone_get(fx->st, fx->zone.id, &z), 0);
	assert_int_equal(z.hostname_count, 1);
	assert_int_equal(sql_int(fx->st, "SELECT COUNT(*) FROM cert_packs"), 1);
	assert_int_equal(sql_int(fx->st, "SELECT COUNT(*) FROM jobs"), 1);
	assert_int_equal(sql_int(fx->st, "SELECT COUNT(*) FROM events"), 1);
	/* Nor in another zone: the edge finds a hostname by name alone (decision 0003). */
	make_zone(fx->st, "other.com", 10, &other);
	make_host(&c, other.id, "dup.customer.com", 1);
	assert_int_equal(store_hostname_create(fx->st, &c), SE_EEXISTS);
	assert_int_equal(store_zone_get(fx->st, other.id, &z), 0);
	assert_int_equal(z.hostname_count, 0);
	store_hostname_dispose(&a);
	store_hostname_dispose(&b);
	store_hostname_dispose(&c);
}

/* A name under another zone's "*.parent", or a wildcard over another zone's names directly
 * under it, is SE_ECONFLICT and leaves nothing behind; the same zone may hold both, and the
 * wildcard covers one label only (docs/decisions/0020). */
static void test_hostname_wildcard_across_zones(void **state)
{
	struct fixture *fx = *state;
	struct store_hostname h[6];
	struct store_zone other, z;
	int i = 0;

	make_zone(fx->st, "other.com", 10, &other);
	make_host(&h[i], fx->zone.id, "*.wild.customer.com", 1);
	assert_int_equal(store_hostname_create(fx->st, &h[i++]), 0);
	make_host(&h[i], other.id, "evil.wild.customer.com", 1);
	assert_int_equal(store_hostname_create(fx->st, &h[i++]), SE_ECONFLICT);
	assert_int_equal(store_zone_get(fx->st, other.id, &z), 0);
	assert_int_equal(z.hostname_count, 0);
	assert_int_equal(sql_int(fx->st, "SELECT COUNT(*) FROM hostnames"), 1);
	assert_int_equal(sql_int(fx->st, "SELECT COUNT(*) FROM events"), 1);
	make_host(&h[i], other.id, "a.b.wild.customer.com", 1);
	assert_int_equal(store_hostname_create(fx->st, &h[i++]), 0);
	make_host(&h[i], fx->zone.id, "own.wild.customer.com", 1);
	assert_int_equal(store_hostname_create(fx->st, &h[i++]), 0);
	/* The other way round: other's name under b.wild blocks a wildcard *.b.wild here. */
	make_host(&h[i], fx->zone.id, "*.b.wild.customer.com", 1);
	assert_int_equal(store_hostname_create(fx->st, &h[i++]), SE_ECONFLICT);
	make_host(&h[i], other.id, "*.b.wild.customer.com", 1);
	assert_int_equal(store_hostname_create(fx->st, &h[i++]), 0);
	while (i > 0)
		store_hostname_dispose(&h[--i]);
}

static void test_hostname_quota(void **state)
{
	struct fixture *fx = *state;
	struct store_hostname h[3], x;
	struct store_zone small;
	const char *names[] = {"q1.customer.com", "q2.customer.com", "q3.customer.com"};

	make_zone(fx->st, "small.com", 2, &small);
	for (int i = 0; i < 3; i++)
		make_host(&h[i], small.id, names[i], i % 2);
	assert_int_equal(store_hostname_create(fx->st, &h[0]), 0);
	assert_int_equal(store_hostname_create(fx->st, &h[1]), 0);
	assert_int_equal(store_hostname_create(fx->st, &h[2]), SE_EQUOTA);
	assert_int_equal(store_hostname_delete(fx->st, small.id, h[0].id), 0);
	assert_int_equal(store_hostname_create(fx->st, &h[2]), 0);
	make_host(&x, "ffffffffffffffffffffffffffffffff", "x.customer.com", 0);
	assert_int_equal(store_hostname_create(fx->st, &x), SE_ENOTFOUND);
	for (int i = 0; i < 3; i++)
		store_hostname_dispose(&h[i]);
	store_hostname_dispose(&x);
}

/* ---- list --------------------------------------------------------------------------------- */

struct seed {
	const char *name;
	const char *status;
	int ssl;
	const char *method;
	const char *ssl_status;
	const char *ca;
	const char *origin;
	int wildcard;
};

/* Creation order is the array order. */
static const struct seed seeds[] = {
    {"b.example.com", "active", 1, "txt", "active", "google", "o1.net", 0},
    {"a.example.com", "pending", 1, "http", "pending_validation", "lets_encrypt", "", 0},
    {"*.c.example.com", "pending", 0, "", "", "", "o1.net", 0},
    {"d_x.example.org", "active", 1, "http", "active", "lets_encrypt", "o2.net", 0},
    {"dax.example.org", "blocked", 1, "email", "initializing", "lets_encrypt", "", 0},
    {"e.example.com", "active", 1, "cname", "active", "google", "", 1},
};

#define N_SEEDS (sizeof(seeds) / sizeof(seeds[0]))

static void seed_zone(struct fixture *fx, struct store_hostname *hs)
{
	for (size_t i = 0; i < N_SEEDS; i++) {
		struct store_hostname *h = &hs[i];

		make_host(h, fx->zone.id, seeds[i].name, seeds[i].ssl);
		snprintf(h->status, sizeof(h->status), "%s", seeds[i].status);
		snprintf(h->custom_origin_server, sizeof(h->custom_origin_server), "%s",
			 seeds[i].origin);
		if (seeds[i].ssl) {
			snprintf(h->ssl.method, sizeof(h->ssl.method), "%s", seeds[i].method);
			snprintf(h->ssl.status, sizeof(h->ssl.status), "%s", seeds[i].ssl_status);
			snprintf(h->ssl.certificate_authority, sizeof(h->ssl.certificate_authority),
				 "%s", seeds[i].ca);
			h->ssl.wildcard = seeds[i].wildcard;
		}
		assert_int_equal(store_hostname_create(fx->st, h), 0);
	}
}

static void free_seeds(struct store_hostname *hs)
{
	for (size_t i = 0; i < N_SEEDS; i++)
		store_hostname_dispose(&hs[i]);
}

/* Runs F and checks the names returned, in order, and the total. */
static void expect_list(struct fixture *fx, const struct store_hostname_filter *f,
			int64_t want_total, const char *const *want, size_t want_n)
{
	struct store_hostname *items = NULL;
	size_t n = 99;
	int64_t total = -1;

	list(fx->st, fx->zone.id, f, &items, &n, &total);
	assert_int_equal(total, want_total);
	assert_int_equal(n, want_n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(items[i].hostname, want[i]);
	if (n == 0)
		assert_null(items);
	store_hostname_list_free(items, n);
}

#define EXPECT(f, total, ...)                                                                      \
	do {                                                                                       \
		static const char *const want_[] = {__VA_ARGS__};                                  \
		expect_list(fx, &(f), (total), want_, sizeof(want_) / sizeof(want_[0]));           \
	} while (0)
#define EXPECT_NONE(f, total) expect_list(fx, &(f), (total), NULL, 0)

static void test_list_filters(void **state)
{
	struct fixture *fx = *state;
	struct store_hostname hs[N_SEEDS];
	struct store_hostname_filter f;

	seed_zone(fx, hs);
	f = no_filter();
	EXPECT(f, 6, "b.example.com", "a.example.com", "*.c.example.com", "d_x.example.org",
	       "dax.example.org", "e.example.com");
	f = no_filter();
	f.id = hs[3].id;
	EXPECT(f, 1, "d_x.example.org");
	f = no_filter();
	f.hostname_exact = "a.example.com";
	EXPECT(f, 1, "a.example.com");
	f.hostname_exact = "A.example.com"; /* exact means the normalised name */
	EXPECT_NONE(f, 0);
	f = no_filter();
	f.hostname_contains = "_X"; /* '_' is literal, case does not matter */
	EXPECT(f, 1, "d_x.example.org");
	f.hostname_contains = "%";
	EXPECT_NONE(f, 0);
	f.hostname_contains = "example.org";
	EXPECT(f, 2, "d_x.example.org", "dax.example.org");
	f = no_filter();
	f.hostname_starts_with = "d";
	EXPECT(f, 2, "d_x.example.org", "dax.example.org");
	f.hostname_starts_with = "d_";
	EXPECT(f, 1, "d_x.example.org");
	f.hostname_starts_with = "*.";
	EXPECT(f, 1, "*.c.example.com");
	f = no_filter();
	f.ssl_status = "active";
	EXPECT(f, 3, "b.example.com", "d_x.example.org", "e.example.com");
	f = no_filter();
	f.hostname_status = "pending";
	EXPECT(f, 2, "a.example.com", "*.c.example.com");
	f = no_filter();
	f.certificate_authority = "google";
	EXPECT(f, 2, "b.example.com", "e.example.com");
	f = no_filter();
	f.custom_origin_server = "o1.net";
	EXPECT(f, 2, "b.example.com", "*.c.example.com");
	f = no_filter();
	f.wildcard = 1;
	EXPECT(f, 2, "*.c.example.com", "e.example.com");
	f.wildcard = 0;
	EXPECT(f, 4, "b.example.com", "a.example.com", "d_x.example.org", "dax.example.org");
	f = no_filter();
	f.ssl_only = 1;
	EXPECT(f, 5, "b.example.com", "a.example.com", "d_x.example.org", "dax.example.org",
	       "e.example.com");
	/* Filters combine with AND. */
	f = no_filter();
	f.hostname_status = "active";
	f.certificate_authority = "lets_encrypt";
	f.hostname_contains = "org";
	EXPECT(f, 1, "d_x.example.org");
	/* The total of a filtered first page, full or not, and of the pages after it (a first
	 * page with room to spare is its own total; a full one is counted). */
	f = no_filter();
	f.hostname_contains = "example.com";
	f.limit = 3;
	EXPECT(f, 4, "b.example.com", "a.example.com", "*.c.example.com");
	f.limit = 4;
	EXPECT(f, 4, "b.example.com", "a.example.com", "*.c.example.com", "e.example.com");
	f.limit = 5;
	EXPECT(f, 4, "b.example.com", "a.example.com", "*.c.example.com", "e.example.com");
	f.limit = 3;
	f.offset = 3;
	EXPECT(f, 4, "e.example.com");
	f.offset = 4;
	EXPECT_NONE(f, 4);
	free_seeds(hs);
}

static void test_list_orders_and_pages(void **state)
{
	struct fixture *fx = *state;
	struct store_hostname hs[N_SEEDS];
	struct store_hostname_filter f;

	seed_zone(fx, hs);
	f = no_filter();
	f.descending = 1;
	EXPECT(f, 6, "e.example.com", "dax.example.org", "d_x.example.org", "*.c.example.com",
	       "a.example.com", "b.example.com");
	f = no_filter();
	f.order = STORE_ORDER_HOSTNAME;
	EXPECT(f, 6, "*.c.example.com", "a.example.com", "b.example.com", "d_x.example.org",
	       "dax.example.org", "e.example.com");
	f.descending = 1;
	EXPECT(f, 6, "e.example.com", "dax.example.org", "d_x.example.org", "b.example.com",
	       "a.example.com", "*.c.example.com");
	/* ssl method, ties in creation order: "" < cname < email < http < txt. */
	f = no_filter();
	f.order = STORE_ORDER_SSL;
	EXPECT(f, 6, "*.c.example.com", "e.example.com", "dax.example.org", "a.example.com",
	       "d_x.example.org", "b.example.com");
	f.descending = 1;
	EXPECT(f, 6, "b.example.com", "d_x.example.org", "a.example.com", "dax.example.org",
	       "e.example.com", "*.c.example.com");
	/* ssl status: no pack first, then active, initializing, pending_validation. */
	f = no_filter();
	f.order = STORE_ORDER_SSL_STATUS;
	EXPECT(f, 6, "*.c.example.com", "b.example.com", "d_x.example.org", "e.example.com",
	       "dax.example.org", "a.example.com");
	f.descending = 1;
	EXPECT(f, 6, "a.example.com", "dax.example.org", "e.example.com", "d_x.example.org",
	       "b.example.com", "*.c.example.com");
	/* Pages. */
	f = no_filter();
	f.limit = 2;
	f.offset = 2;
	EXPECT(f, 6, "*.c.example.com", "d_x.example.org");
	f.offset = 5;
	EXPECT(f, 6, "e.example.com");
	f.offset = 6;
	EXPECT_NONE(f, 6);
	f.offset = 600;
	EXPECT_NONE(f, 6);
	f.offset = 0;
	f.limit = 0;
	EXPECT_NONE(f, 6);
	/* Past the end with a filter: the total is still counted. */
	f = no_filter();
	f.ssl_only = 1;
	f.offset = 10;
	EXPECT_NONE(f, 5);
	f = no_filter();
	f.order = (enum store_hostname_order)9;
	{
		struct store_hostname *items;
		size_t n;
		int64_t total;

		assert_int_equal(store_hostname_list(fx->st, fx->zone.id, &f, &items, &n, &total),
				 SE_EINVAL);
	}
	free_seeds(hs);
}

/* ---- events ------------------------------------------------------------------------------- */

static void expect_event(const struct store_event *ev, const char *kind, const char *subject,
			 const char *old_status, const char *new_status)
{
	assert_string_equal(ev->kind, kind);
	assert_string_equal(ev->subject_id, subject);
	assert_string_equal(ev->old_status, old_status);
	assert_string_equal(ev->new_status, new_status);
}

static void test_events(void **state)
{
	struct fixture *fx = *state;
	struct store_hostname h;
	struct store_fallback_origin fo = {.errors_json = NULL};
	struct store_event ev[16];
	size_t n = 0;

	make_host(&h, fx->zone.id, "ev.customer.com", 1);
	assert_int_equal(store_hostname_create(fx->st, &h), 0);
	/* An update that moves nothing still records the update. */
	assert_int_equal(store_hostname_update(fx->st, &h, STORE_SSL_KEEP), 0);
	snprintf(h.status, sizeof(h.status), "active");
	assert_int_equal(store_hostname_update(fx->st, &h, STORE_SSL_KEEP), 0);
	assert_int_equal(store_pack_move(fx->st, h.ssl.pack_id, PACK_EV_RECORDS_SHOWN, -1, NULL),
			 0);
	snprintf(fo.zone_id, sizeof(fo.zone_id), "%s", fx->zone.id);
	snprintf(fo.origin, sizeof(fo.origin), "fallback.example.net");
	snprintf(fo.status, sizeof(fo.status), "initializing");
	assert_int_equal(store_fallback_origin_put(fx->st, &fo), 0);
	assert_int_equal(store_fallback_origin_delete(fx->st, fx->zone.id), 0);
	assert_int_equal(store_hostname_delete(fx->st, fx->zone.id, h.id), 0);

	assert_int_equal(store_events_since(fx->st, 0, ev, 16, &n), 0);
	assert_int_equal(n, 8);
	for (size_t i = 1; i < n; i++)
		assert_true(ev[i].seq > ev[i - 1].seq);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(ev[i].zone_id, fx->zone.id);
	expect_event(&ev[0], "hostname.created", h.id, "", "pending");
	assert_string_equal(ev[0].hostname, "ev.customer.com");
	expect_event(&ev[1], "hostname.updated", h.id, "pending", "pending");
	expect_event(&ev[2], "hostname.updated", h.id, "pending", "active");
	expect_event(&ev[3], "hostname.status", h.id, "pending", "active");
	expect_event(&ev[4], "ssl.status", h.id, "initializing", "pending_validation");
	/* The last update's change_seq is its last event. */
	expect_event(&ev[5], "fallback_origin.updated", fx->zone.id, "", "initializing");
	assert_string_equal(ev[5].hostname, "fallback.example.net");
	expect_event(&ev[6], "fallback_origin.deleted", fx->zone.id, "initializing", "");
	expect_event(&ev[7], "hostname.deleted", h.id, "active", "");
	assert_true(ev[7].created_at_us > 0);

	/* Catching up from a sequence number, a page at a time. */
	assert_int_equal(store_events_since(fx->st, ev[3].seq, ev, 2, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ev[0].kind, "ssl.status");
	assert_string_equal(ev[1].kind, "fallback_origin.updated");
	assert_int_equal(store_events_since(fx->st, INT64_MAX - 1, ev, 2, &n), 0);
	assert_int_equal(n, 0);
	store_hostname_dispose(&h);
}

static void test_change_seq_is_last_event(void **state)
{
	struct fixture *fx = *state;
	struct store_hostname h;
	struct store_event ev[8];
	size_t n;

	make_host(&h, fx->zone.id, "seq.customer.com", 1);
	assert_int_equal(store_hostname_create(fx->st, &h), 0);
	assert_int_equal(store_pack_move(fx->st, h.ssl.pack_id, PACK_EV_RECORDS_SHOWN, -1, NULL),
			 0);
	/* A restart's move comes after the row's own events, and is the newest change. */
	snprintf(h.status, sizeof(h.status), "active");
	assert_int_equal(store_hostname_update(fx->st, &h, STORE_SSL_RESTART), 0);
	assert_string_equal(h.ssl.status, "initializing");
	assert_int_equal(store_events_since(fx->st, 0, ev, 8, &n), 0);
	assert_int_equal(n, 5);
	expect_event(&ev[4], "ssl.status", h.id, "pending_validation", "initializing");
	assert_int_equal(h.change_seq, ev[4].seq);
	store_hostname_dispose(&h);
}

/* ---- update with restart_validation ------------------------------------------------------- */

static void test_update_restart_validation(void **state)
{
	struct fixture *fx = *state;
	struct store_hostname h, got;
	struct store_job job;
	int64_t count, now = time_now_us();

	make_host(&h, fx->zone.id, "restart.customer.com", 0);
	assert_int_equal(store_hostname_create(fx->st, &h), 0);
	assert_int_equal(store_job_lease(fx->st, "w1", now + 1000000, 60000000, &job), 0);
	assert_string_equal(job.subject_id, h.id);

	/* Enabling ssl creates the pack and makes the (leased) job due again, not a second one. */
	h.ssl.enabled = 1;
	assert_int_equal(ids_uuid(h.ssl.pack_id), 0);
	snprintf(h.ssl.status, sizeof(h.ssl.status), "initializing");
	snprintf(h.ssl.method, sizeof(h.ssl.method), "http");
	assert_int_equal(store_hostname_update(fx->st, &h, STORE_SSL_RESTART), 0);
	assert_int_equal(store_hostname_get(fx->st, fx->zone.id, h.id, &got), 0);
	assert_string_equal(got.ssl.pack_id, h.ssl.pack_id);
	assert_string_equal(got.ssl.status, "initializing");
	store_hostname_dispose(&got);
	assert_int_equal(store_job_count(fx->st, "hostname", h.id, &count), 0);
	assert_int_equal(count, 1);
	/* The lease was dropped: w1's token is stale, and the job is due for anyone. */
	assert_int_equal(store_job_finish(fx->st, job.id, job.lease_token), SE_ELEASE);
	assert_int_equal(store_job_lease(fx->st, "w2", now + 2000000, 60000000, &job), 0);
	assert_string_equal(job.subject_id, h.id);

	/* Restart again: the pack starts over at initializing; a recheck keeps its status. */
	assert_int_equal(store_pack_move(fx->st, h.ssl.pack_id, PACK_EV_RECORDS_SHOWN, -1, NULL),
			 0);
	snprintf(h.ssl.status, sizeof(h.ssl.status), "active"); /* ignored: statuses move */
	assert_int_equal(store_hostname_update(fx->st, &h, STORE_SSL_RECHECK), 0);
	assert_string_equal(h.ssl.status, "pending_validation");
	assert_int_equal(store_hostname_update(fx->st, &h, STORE_SSL_RESTART), 0);
	assert_string_equal(h.ssl.status, "initializing");
	assert_int_equal(store_hostname_get(fx->st, fx->zone.id, h.id, &got), 0);
	assert_string_equal(got.ssl.status, "initializing");
	store_hostname_dispose(&got);
	assert_int_equal(store_job_count(fx->st, "hostname", h.id, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(sql_int(fx->st, "SELECT COUNT(*) FROM cert_packs"), 1);

	/* Turning ssl off drops the pack. */
	h.ssl.enabled = 0;
	assert_int_equal(store_hostname_update(fx->st, &h, STORE_SSL_KEEP), 0);
	assert_int_equal(store_hostname_get(fx->st, fx->zone.id, h.id, &got), 0);
	assert_int_equal(got.ssl.enabled, 0);
	assert_string_equal(got.ssl.status, "");
	store_hostname_dispose(&got);
	assert_int_equal(sql_int(fx->st, "SELECT COUNT(*) FROM cert_packs"), 0);
	store_hostname_dispose(&h);
}

/* ---- jobs --------------------------------------------------------------------------------- */

static void test_jobs_lease_finish_retry(void **state)
{
	struct fixture *fx = *state;
	struct store_hostname h;
	struct store_job a, b;
	int64_t count, now = time_now_us() + 1000000; /* after the job's run_at */
	char stale[33];

	make_host(&h, fx->zone.id, "job.customer.com", 1);
	assert_int_equal(store_hostname_create(fx->st, &h), 0);
	assert_int_equal(store_job_count(fx->st, "hostname", h.id, &count), 0);
	assert_int_equal(count, 1);
	/* Not due yet. */
	assert_int_equal(store_job_lease(fx->st, "w1", h.created_at_us - 1000000, 1000, &a),
			 SE_ENOTFOUND);
	assert_int_equal(store_job_lease(fx->st, "w1", now, 30000000, &a), 0);
	assert_string_equal(a.kind, "hostname");
	assert_string_equal(a.subject_id, h.id);
	assert_int_equal(a.attempts, 0);
	assert_int_equal(a.lease_until_us, now + 30000000);
	assert_int_equal(strlen(a.lease_token), 32);
	/* Leased: nobody else gets it. */
	assert_int_equal(store_job_lease(fx->st, "w2", now + 1, 30000000, &b), SE_ENOTFOUND);
	/* Retry with a wrong token fails; with the right one it reschedules. */
	snprintf(stale, sizeof(stale), "%s", "00000000000000000000000000000000");
	assert_int_equal(store_job_retry(fx->st, a.id, stale, now + 5000000, "x"), SE_ELEASE);
	assert_int_equal(store_job_finish(fx->st, a.id, stale), SE_ELEASE);
	assert_int_equal(
	    store_job_retry(fx->st, a.id, a.lease_token, now + 5000000, "acme: rate limited"), 0);
	assert_int_equal(store_job_retry(fx->st, a.id, a.lease_token, now, "again"), SE_ELEASE);
	assert_int_equal(store_job_lease(fx->st, "w2", now + 4999999, 1000, &b), SE_ENOTFOUND);
	assert_int_equal(store_job_lease(fx->st, "w2", now + 5000000, 1000, &b), 0);
	assert_int_equal(b.id, a.id);
	assert_int_equal(b.attempts, 1);
	assert_int_equal(b.run_at_us, now + 5000000);
	assert_string_equal(b.last_error, "acme: rate limited");
	assert_string_not_equal(b.lease_token, a.lease_token);

	/* w2's lease expires; w3 takes over and w2's token stops working. */
	assert_int_equal(store_job_lease(fx->st, "w3", now + 5000000 + 1000, 1000, &a),
			 SE_ENOTFOUND);
	assert_int_equal(store_job_lease(fx->st, "w3", now + 5000000 + 1001, 1000, &a), 0);
	assert_int_equal(a.id, b.id);
	assert_int_equal(store_job_finish(fx->st, b.id, b.lease_token), SE_ELEASE);
	assert_int_equal(store_job_finish(fx->st, a.id, a.lease_token), 0);
	assert_int_equal(store_job_finish(fx->st, a.id, a.lease_token), SE_ELEASE);
	assert_int_equal(store_job_count(fx->st, "hostname", h.id, &count), 0);
	assert_int_equal(count, 0);
	store_hostname_dispose(&h);
}

static void test_jobs_earliest_first(void **state)
{
	struct fixture *fx = *state;
	struct store_hostname h[3];
	const char *names[] = {"j1.customer.com", "j2.customer.com", "j3.customer.com"};
	struct store_job job;
	int64_t now = time_now_us() + 1000000;

	for (int i = 0; i < 3; i++) {
		make_host(&h[i], fx->zone.id, names[i], 0);
		assert_int_equal(store_hostname_create(fx->st, &h[i]), 0);
	}
	for (int i = 0; i < 3; i++) {
		assert_int_equal(store_job_lease(fx->st, "w", now, 1000000, &job), 0);
		assert_string_equal(job.subject_id, h[i].id);
	}
	assert_int_equal(store_job_lease(fx->st, "w", now, 1000000, &job), SE_ENOTFOUND);
	for (int i = 0; i < 3; i++)
		store_hostname_dispose(&h[i]);
}

/* ---- delete cascades, keys, fallback ------------------------------------------------------ */

static void test_delete_cascades(void **state)
{
	struct fixture *fx = *state;
	struct store_hostname h, keep;
	unsigned char sealed[] = {1, 2, 3, 4, 5};
	unsigned char *got = NULL;
	size_t got_len = 0;
	char sql[256];
	int64_t count;

	make_host(&h, fx->zone.id, "gone.customer.com", 1);
	make_host(&keep, fx->zone.id, "kept.customer.com", 1);
	assert_int_equal(store_hostname_create(fx->st, &h), 0);
	assert_int_equal(store_hostname_create(fx->st, &keep), 0);
	assert_int_equal(
	    store_private_key_put(fx->st, "k-gone", h.ssl.pack_id, "ecdsa", sealed, sizeof(sealed)),
	    0);
	assert_int_equal(store_private_key_put(fx->st, "k-kept", keep.ssl.pack_id, "ecdsa", sealed,
					       sizeof(sealed)),
			 0);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO certificates(id, pack_id, key_type, leaf, serial, not_before, "
		 "not_after, private_key_id, created_at) VALUES ('c1', '%s', 'ecdsa', x'3082', "
		 "'01', 0, 1, 'k-gone', 0) RETURNING 1",
		 h.ssl.pack_id);
	assert_int_equal(sql_int(fx->st, sql), 1);

	assert_int_equal(store_hostname_delete(fx->st, fx->zone.id, h.id), 0);
	assert_int_equal(sql_int(fx->st, "SELECT COUNT(*) FROM certificates"), 0);
	assert_int_equal(sql_int(fx->st, "SELECT COUNT(*) FROM cert_packs"), 1);
	assert_int_equal(store_private_key_get(fx->st, "k-gone", &got, &got_len), SE_ENOTFOUND);
	assert_null(got);
	assert_int_equal(store_job_count(fx->st, "hostname", h.id, &count), 0);
	assert_int_equal(count, 0);
	/* The neighbour is untouched. */
	assert_int_equal(store_private_key_get(fx->st, "k-kept", &got, &got_len), 0);
	assert_int_equal(got_len, sizeof(sealed));
	assert_memory_equal(got, sealed, sizeof(sealed));
	free(got);
	assert_int_equal(store_job_count(fx->st, "hostname", keep.id, &count), 0);
	assert_int_equal(count, 1);
	store_hostname_dispose(&h);
	store_hostname_dispose(&keep);
}

static void test_private_keys(void **state)
{
	struct fixture *fx = *state;
	unsigned char sealed[64], *got = NULL;
	size_t got_len = 0;

	for (size_t i = 0; i < sizeof(sealed); i++)
		sealed[i] = (unsigned char)(i * 7); /* includes zero bytes: stored as a blob */
	assert_int_equal(
	    store_private_key_put(fx->st, "k1", "owner", "rsa2048", sealed, sizeof(sealed)), 0);
	assert_int_equal(
	    store_private_key_put(fx->st, "k1", "owner", "rsa2048", sealed, sizeof(sealed)),
	    SE_EEXISTS);
	assert_int_equal(store_private_key_put(fx->st, "k2", "owner", "rsa2048", sealed, 0),
			 SE_EINVAL);
	assert_int_equal(store_private_key_get(fx->st, "k1", &got, &got_len), 0);
	assert_int_equal(got_len, sizeof(sealed));
	assert_memory_equal(got, sealed, sizeof(sealed));
	free(got);
	assert_int_equal(store_private_key_delete(fx->st, "k1"), 0);
	assert_int_equal(store_private_key_delete(fx->st, "k1"), SE_ENOTFOUND);
	assert_int_equal(store_private_key_get(fx->st, "k1", &got, &got_len), SE_ENOTFOUND);
}

static void test_fallback_origin(void **state)
{
	struct fixture *fx = *state;
	struct store_fallback_origin fo = {.errors_json = NULL}, got;
	int64_t created;

	assert_int_equal(store_fallback_origin_get(fx->st, fx->zone.id, &got), SE_ENOTFOUND);
	snprintf(fo.zone_id, sizeof(fo.zone_id), "%s", fx->zone.id);
	snprintf(fo.origin, sizeof(fo.origin), "fb.example.net");
	snprintf(fo.status, sizeof(fo.status), "initializing");
	assert_int_equal(store_fallback_origin_put(fx->st, &fo), 0);
	assert_true(fo.created_at_us > 0);
	assert_int_equal(fo.created_at_us, fo.updated_at_us);
	created = fo.created_at_us;
	assert_int_equal(store_fallback_origin_get(fx->st, fx->zone.id, &got), 0);
	assert_string_equal(got.origin, "fb.example.net");
	assert_string_equal(got.status, "initializing");
	assert_null(got.errors_json);
	assert_int_equal(got.created_at_us, created);
	store_fallback_origin_dispose(&got);

	snprintf(fo.origin, sizeof(fo.origin), "fb2.example.net");
	snprintf(fo.status, sizeof(fo.status), "active");
	fo.errors_json = xstrdup("[\"dns\"]");
	usleep(1000);
	assert_int_equal(store_fallback_origin_put(fx->st, &fo), 0);
	assert_int_equal(fo.created_at_us, created);
	assert_true(fo.updated_at_us > created);
	assert_int_equal(store_fallback_origin_get(fx->st, fx->zone.id, &got), 0);
	assert_string_equal(got.origin, "fb2.example.net");
	assert_string_equal(got.status, "active");
	assert_string_equal(got.errors_json, "[\"dns\"]");
	assert_int_equal(got.updated_at_us, fo.updated_at_us);
	store_fallback_origin_dispose(&got);

	assert_int_equal(store_fallback_origin_delete(fx->st, fx->zone.id), 0);
	assert_int_equal(store_fallback_origin_delete(fx->st, fx->zone.id), SE_ENOTFOUND);
	snprintf(fo.zone_id, sizeof(fo.zone_id), "ffffffffffffffffffffffffffffffff");
	assert_int_equal(store_fallback_origin_put(fx->st, &fo), SE_ENOTFOUND);
	store_fallback_origin_dispose(&fo);
}

/* ---- threads, processes, persistence ------------------------------------------------------ */

#define N_THREADS  4
#define PER_THREAD 40

struct worker {
	struct store *st;
	const char *zone_id;
	int index;
	int failures;
	int first_error;
	struct sq_conn *conn;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct store_hostname_filter f = {.wildcard = -1, .limit = 10};

	w->conn = sq_conn_get(w->st);
	for (int i = 0; i < PER_THREAD; i++) {
		struct store_hostname h, *items = NULL;
		size_t n = 0;
		int64_t total = 0;
		int rc;

		make_host(&h, w->zone_id, "placeholder", i % 2);
		snprintf(h.hostname, sizeof(h.hostname), "t%d-%d.customer.com", w->index, i);
		rc = store_hostname_create(w->st, &h);
		if (rc == 0) {
			f.hostname_exact = h.hostname;
			rc = store_hostname_list(w->st, w->zone_id, &f, &items, &n, &total);
			if (rc == 0 && (n != 1 || total != 1))
				rc = SE_EINVAL;
			store_hostname_list_free(items, n);
		}
		if (rc && !w->failures++)
			w->first_error = rc;
		store_hostname_dispose(&h);
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct fixture *fx = *state;
	struct worker w[N_THREADS];
	pthread_t tid[N_THREADS];
	struct store_hostname_filter f = {.wildcard = -1, .limit = 0};
	struct store_hostname *items = NULL;
	size_t n = 0;
	int64_t total = 0;
	int conns = 0;

	for (int i = 0; i < N_THREADS; i++) {
		w[i] = (struct worker){.st = fx->st, .zone_id = fx->zone.id, .index = i};
		assert_int_equal(pthread_create(&tid[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < N_THREADS; i++)
		assert_int_equal(pthread_join(tid[i], NULL), 0);
	for (int i = 0; i < N_THREADS; i++) {
		assert_int_equal(w[i].first_error, 0);
		assert_int_equal(w[i].failures, 0);
		assert_non_null(w[i].conn);
		assert_ptr_not_equal(w[i].conn, sq_conn_get(fx->st));
		for (int j = 0; j < i; j++)
			assert_ptr_not_equal(w[i].conn, w[j].conn);
	}
	list(fx->st, fx->zone.id, &f, &items, &n, &total);
	assert_int_equal(total, N_THREADS * PER_THREAD);
	f.hostname_contains = "customer";
	list(fx->st, fx->zone.id, &f, &items, &n, &total);
	assert_int_equal(total, N_THREADS * PER_THREAD);
	/* The exited threads' connections were closed by the key destructor. */
	pthread_mutex_lock(&fx->st->lock);
	for (struct sq_conn *c = fx->st->conns; c; c = c->next)
		conns++;
	pthread_mutex_unlock(&fx->st->lock);
	assert_int_equal(conns, 1);
}

struct opener {
	const char *dir;
	struct store *st;
	int rc;
};

static void *opener_main(void *arg)
{
	struct opener *o = arg;

	o->rc = store_open(o->dir, NULL, &o->st);
	return NULL;
}

/* Two stores opening a fresh directory at once (as two processes would): the migrations run
 * exactly once and both succeed. */
static void test_concurrent_open(void **state)
{
	struct fixture *fx = *state;
	char dir[128];
	struct opener o[2];
	pthread_t tid[2];

	snprintf(dir, sizeof(dir), "%s/fresh", fx->root);
	for (int i = 0; i < 2; i++) {
		o[i] = (struct opener){.dir = dir};
		assert_int_equal(pthread_create(&tid[i], NULL, opener_main, &o[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(tid[i], NULL), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(o[i].rc, 0);
		assert_int_equal(store_schema_version(o[i].st), store_schema_version(fx->st));
	}
	store_close(o[0].st);
	store_close(o[1].st);
}

static void test_persists_across_reopen(void **state)
{
	struct fixture *fx = *state;
	struct store_hostname h, got;
	struct store_zone z;

	make_host(&h, fx->zone.id, "durable.customer.com", 1);
	assert_int_equal(store_hostname_create(fx->st, &h), 0);
	store_close(fx->st);
	fx->st = NULL;
	assert_int_equal(store_open(fx->data_dir, NULL, &fx->st), 0);
	assert_int_equal(store_hostname_get(fx->st, fx->zone.id, h.id, &got), 0);
	assert_host_equal(&h, &got);
	assert_int_equal(store_zone_get(fx->st, fx->zone.id, &z), 0);
	assert_int_equal(z.hostname_count, 1);
	store_hostname_dispose(&got);
	store_hostname_dispose(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open_migrates_and_reopens, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pragmas, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_commit_lazily_is_per_thread, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_zones, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostname_roundtrip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostname_without_ssl, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostname_duplicate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostname_wildcard_across_zones, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostname_quota, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_filters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_orders_and_pages, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_change_seq_is_last_event, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_update_restart_validation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_jobs_lease_finish_retry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_jobs_earliest_first, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delete_cascades, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_private_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fallback_origin, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_persists_across_reopen, setup, teardown),
	};

	log_threshold = LOG_WARN; /* migrations log at info on every fresh directory */
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of the email DCV approvals in the store: found by the token's hash, approved once,
 * never after expiry, replaced by a newer mail, gone with the hostname, and an approval makes the
 * hostname's job due at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/approval_link.h"
#include "lib/error.h"
#include "lib/ids.h"
#include "lib/timeutil.h"
#include "store/store.h"
#include "store_fixture.h"

#define MINUTE_US (60LL * 1000000)

static int setup(void **state)
{
	return store_fixture_setup_host(state, "test_store_approvals", "pending_validation", "email");
}

static int teardown(void **state)
{
	return store_fixture_teardown(state);
}

/* Stores an approval of the fixture's pack for a new token (returned), valid for TTL_US. */
static void put_approval(struct store_fixture *fx, int64_t ttl_us, char token[65])
{
	struct store_approval a;

	memset(&a, 0, sizeof(a));
	assert_int_equal(approval_link_token(token), 0);
	snprintf(a.pack_id, sizeof(a.pack_id), "%s", fx->host.ssl.pack_id);
	approval_link_hash(token, a.token_sha256);
	snprintf(a.names, sizeof(a.names), "%s", fx->host.hostname);
	a.created_at_us = time_now_us();
	a.expires_us = a.created_at_us + ttl_us;
	assert_int_equal(store_approval_put(fx->st, &a), 0);
}

static void hash_of(const char *token, char out[65])
{
	approval_link_hash(token, out);
}

/* Leases the hostname's job and puts it off for an hour: only an approval brings it back. */
static void park_job(struct store_fixture *fx)
{
	struct store_job job;
	int64_t now = time_now_us();

	assert_int_equal(store_job_lease(fx->st, "test", now, MINUTE_US, &job), 0);
	assert_string_equal(job.subject_id, fx->host.id);
	assert_int_equal(
	    store_job_retry(fx->st, job.id, job.lease_token, now + 60 * MINUTE_US, "waiting"), 0);
	assert_int_equal(store_job_lease(fx->st, "test", time_now_us(), MINUTE_US, &job),
			 SE_ENOTFOUND);
}

static void test_approve_once(void **state)
{
	struct store_fixture *fx = *state;
	struct store_approval got;
	struct store_job job;
	char token[65], hash[65];

	put_approval(fx, 10 * MINUTE_US, token);
	hash_of(token, hash);
	assert_int_equal(store_approval_find(fx->st, hash, &got), 0);
	assert_string_equal(got.pack_id, fx->host.ssl.pack_id);
	assert_string_equal(got.hostname_id, fx->host.id);
	assert_string_equal(got.names, "app.customer.example");
	assert_int_equal(got.approved_at_us, 0);
	park_job(fx);

	assert_int_equal(store_approval_approve(fx->st, hash, time_now_us(), &got), 0);
	assert_true(got.approved_at_us > 0);
	assert_string_equal(got.hostname_id, fx->host.id);
	/* The hostname's job is due again at once. */
	assert_int_equal(store_job_lease(fx->st, "test", time_now_us(), MINUTE_US, &job), 0);
	assert_string_equal(job.subject_id, fx->host.id);

	/* Used: not again, and the record says when it was approved. */
	assert_int_equal(store_approval_approve(fx->st, hash, time_now_us(), NULL), SE_ENOTFOUND);
	assert_int_equal(store_approval_of_pack(fx->st, fx->host.ssl.pack_id, &got), 0);
	assert_true(got.approved_at_us > 0);
}

static void test_unknown_and_expired(void **state)
{
	struct store_fixture *fx = *state;
	struct store_approval got;
	char token[65], hash[65], other_token[65], other[65];

	put_approval(fx, 10 * MINUTE_US, token);
	hash_of(token, hash);
	assert_int_equal(approval_link_token(other_token), 0);
	hash_of(other_token, other);
	assert_int_equal(store_approval_find(fx->st, other, &got), SE_ENOTFOUND);
	assert_int_equal(store_approval_approve(fx->st, other, time_now_us(), NULL), SE_ENOTFOUND);

	/* After its expiry the link approves nothing. */
	assert_int_equal(store_approval_approve(fx->st, hash, time_now_us() + 11 * MINUTE_US, NULL),
			 SE_ENOTFOUND);
	assert_int_equal(store_approval_find(fx->st, hash, &got), 0);
	assert_int_equal(got.approved_at_us, 0);

	/* A malformed record is refused. */
	memset(&got, 0, sizeof(got));
	snprintf(got.pack_id, sizeof(got.pack_id), "%s", fx->host.ssl.pack_id);
	snprintf(got.token_sha256, sizeof(got.token_sha256), "short");
	assert_int_equal(store_approval_put(fx->st, &got), SE_EINVAL);
}

static void test_newer_mail_replaces_and_delete_removes(void **state)
{
	struct store_fixture *fx = *state;
	struct store_approval got;
	char first[65], second[65], h1[65], h2[65];

	put_approval(fx, 10 * MINUTE_US, first);
	put_approval(fx, 10 * MINUTE_US, second);
	hash_of(first, h1);
	hash_of(second, h2);
	assert_int_equal(store_approval_find(fx->st, h1, &got), SE_ENOTFOUND);
	assert_int_equal(store_approval_find(fx->st, h2, &got), 0);

	assert_int_equal(store_hostname_delete(fx->st, fx->zone.id, fx->host.id), 0);
	assert_int_equal(store_approval_find(fx->st, h2, &got), SE_ENOTFOUND);
	assert_int_equal(store_approval_approve(fx->st, h2, time_now_us(), NULL), SE_ENOTFOUND);
}

static void test_link_form(void **state)
{
	struct config cfg;
	char token[65], url[700];

	(void)state;
	assert_int_equal(approval_link_token(token), 0);
	assert_int_equal(strlen(token), 64);
	assert_true(approval_link_token_ok(token));
	token[10] = 'G';
	assert_false(approval_link_token_ok(token));
	assert_false(approval_link_token_ok("abc"));
	assert_false(approval_link_token_ok(""));

	config_defaults(&cfg, 0);
	snprintf(cfg.api.listen, sizeof(cfg.api.listen), "127.0.0.1:8787");
	assert_int_equal(approval_link_url(&cfg, "t0", url, sizeof(url)), 0);
	assert_string_equal(url, "http://127.0.0.1:8787/dcv/email/t0");
	snprintf(cfg.api.listen, sizeof(cfg.api.listen), ":8787");
	assert_int_equal(approval_link_url(&cfg, "t0", url, sizeof(url)), 0);
	assert_string_equal(url, "http://localhost:8787/dcv/email/t0");
	snprintf(cfg.api.listen, sizeof(cfg.api.listen), "0.0.0.0:80");
	assert_int_equal(approval_link_url(&cfg, "t0", url, sizeof(url)), 0);
	assert_string_equal(url, "http://localhost:80/dcv/email/t0");
	snprintf(cfg.email.approval_url_base, sizeof(cfg.email.approval_url_base),
		 "https://api.provider.example/saas/");
	assert_int_equal(approval_link_url(&cfg, "t0", url, sizeof(url)), 0);
	assert_string_equal(url, "https://api.provider.example/saas/dcv/email/t0");
	assert_int_equal(approval_link_url(&cfg, "t0", url, 20), SE_ETOOBIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_approve_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_and_expired, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_newer_mail_replaces_and_delete_removes, setup,
					    teardown),
	    cmocka_unit_test(test_link_form),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

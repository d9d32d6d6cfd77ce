/* Unit tests of the issuer's part of the store: DCV challenge responses, fenced issuance steps,
 * ACME accounts and a pack's certificates. Every test gets a fresh data directory. */
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

#include "lib/error.h"
#include "lib/ids.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "store/store.h"
#include "store_fixture.h"

static int setup(void **state)
{
	return store_fixture_setup_host(state, "test_store_issuance", "initializing", "txt");
}

static int teardown(void **state)
{
	return store_fixture_teardown(state);
}

static void lease(struct store_fixture *fx, struct store_job *job)
{
	memset(job, 0, sizeof(*job));
	assert_int_equal(store_job_lease(fx->st, "test", time_now_us(), 10000000, job), 0);
	assert_string_equal(job->subject_id, fx->host.id);
}

static void test_challenges(void **state)
{
	struct store_fixture *fx = *state;
	struct store_challenge ch = {.kind = "http-01", .token = "tok-1"}, got;

	snprintf(ch.hostname, sizeof(ch.hostname), "%s", fx->host.hostname);
	snprintf(ch.pack_id, sizeof(ch.pack_id), "%s", fx->host.ssl.pack_id);
	snprintf(ch.response, sizeof(ch.response), "tok-1.thumb");
	ch.expires_us = time_now_us() + 60000000;
	assert_int_equal(store_challenge_put(fx->st, &ch), 0);
	assert_int_equal(store_challenge_get(fx->st, "http-01", "tok-1", &got), 0);
	assert_string_equal(got.response, "tok-1.thumb");
	assert_string_equal(got.pack_id, fx->host.ssl.pack_id);
	assert_int_equal(store_challenge_get(fx->st, "dns-01", "tok-1", &got), SE_ENOTFOUND);

	/* Replaced in place; an expired one is not answered. */
	ch.expires_us = time_now_us() - 1;
	assert_int_equal(store_challenge_put(fx->st, &ch), 0);
	assert_int_equal(store_challenge_get(fx->st, "http-01", "tok-1", &got), SE_ENOTFOUND);

	/* A challenge of a pack that does not exist is refused. */
	snprintf(ch.pack_id, sizeof(ch.pack_id), "00000000-0000-4000-8000-000000000000");
	assert_int_equal(store_challenge_put(fx->st, &ch), SE_ENOTFOUND);

	snprintf(ch.pack_id, sizeof(ch.pack_id), "%s", fx->host.ssl.pack_id);
	ch.expires_us = time_now_us() + 60000000;
	assert_int_equal(store_challenge_put(fx->st, &ch), 0);
	assert_int_equal(store_challenge_delete_pack(fx->st, fx->host.ssl.pack_id), 0);
	assert_int_equal(store_challenge_get(fx->st, "http-01", "tok-1", &got), SE_ENOTFOUND);

	/* Deleting the hostname takes its challenges with the pack. */
	assert_int_equal(store_challenge_put(fx->st, &ch), 0);
	assert_int_equal(store_hostname_delete(fx->st, fx->zone.id, fx->host.id), 0);
	assert_int_equal(store_challenge_get(fx->st, "http-01", "tok-1", &got), SE_ENOTFOUND);
}

static void test_dns_records(void **state)
{
	struct store_fixture *fx = *state;
	const char *pack = fx->host.ssl.pack_id;
	char values[4][STORE_DNS_VALUE_MAX + 1], long_value[300];
	int64_t later = time_now_us() + 60000000;
	size_t n = 9;

	assert_int_equal(store_dns_records_get(fx->st, "abc", values, 4, &n), 0);
	assert_int_equal(n, 0);
	/* A TXT RRset holds several values at once (a wildcard and its parent, two orders). */
	assert_int_equal(store_dns_record_put(fx->st, "abc", "value-2", pack, later), 0);
	assert_int_equal(store_dns_record_put(fx->st, "abc", "value-1", pack, later), 0);
	assert_int_equal(store_dns_record_put(fx->st, "abc", "value-1", pack, later), 0);
	assert_int_equal(store_dns_record_put(fx->st, "other", "value-3", pack, later), 0);
	assert_int_equal(store_dns_records_get(fx->st, "abc", values, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(values[0], "value-1");
	assert_string_equal(values[1], "value-2");
	assert_int_equal(store_dns_records_get(fx->st, "abc", values, 1, &n), 0);
	assert_int_equal(n, 1);

	/* Expired values are not answered; bad input and unknown packs change nothing. */
	assert_int_equal(store_dns_record_put(fx->st, "abc", "value-2", pack, time_now_us() - 1),
			 0);
	assert_int_equal(store_dns_records_get(fx->st, "abc", values, 4, &n), 0);
	assert_int_equal(n, 1);
	memset(long_value, 'x', sizeof(long_value) - 1);
	long_value[sizeof(long_value) - 1] = '\0';
	assert_int_equal(store_dns_record_put(fx->st, "abc", long_value, pack, later), SE_EINVAL);
	assert_int_equal(store_dns_record_put(fx->st, "", "v", pack, later), SE_EINVAL);
	assert_int_equal(
	    store_dns_record_put(fx->st, "abc", "v", "00000000-0000-4000-8000-000000000000", later),
	    SE_ENOTFOUND);
	assert_int_equal(store_dns_records_get(fx->st, "abc", values, 4, &n), 0);
	assert_int_equal(n, 1);

	/* Withdrawn with the pack: explicitly, or when the hostname goes. */
	assert_int_equal(store_dns_records_delete_pack(fx->st, pack), 0);
	assert_int_equal(store_dns_records_get(fx->st, "other", values, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_dns_record_put(fx->st, "abc", "value-1", pack, later), 0);
	assert_int_equal(store_hostname_delete(fx->st, fx->zone.id, fx->host.id), 0);
	assert_int_equal(store_dns_records_get(fx->st, "abc", values, 4, &n), 0);
	assert_int_equal(n, 0);
}

static void test_step_is_fenced(void **state)
{
	struct store_fixture *fx = *state;
	struct store_issuance_subject subj;
	struct store_hostname h;
	struct store_job job;
	struct store_issuance_step s = {
	    .hostname_id = fx->host.id,
	    .pack_id = fx->host.ssl.pack_id,
	    .state_json = "{\"step\":\"check\"}",
	    .pack_event = PACK_EV_RECORDS_SHOWN,
	    .validation_records_json = "[{\"txt_name\":\"_acme-challenge.x\"}]",
	    .validation_errors_json = "[{\"message\":\"not yet\"}]",
	    .job = STORE_JOB_KEEP,
	};

	lease(fx, &job);
	s.job_id = job.id;
	s.lease_token = "0123456789abcdef0123456789abcdef";
	s.lease_until_us = time_now_us() + 10000000;
	assert_int_equal(store_issuance_write(fx->st, &s), SE_ELEASE);
	assert_int_equal(store_issuance_subject(fx->st, fx->host.id, &subj), 0);
	assert_null(subj.state_json); /* the stale write changed nothing */
	assert_string_equal(subj.pack_status, "initializing");
	store_issuance_subject_dispose(&subj);

	s.lease_token = job.lease_token;
	assert_int_equal(store_issuance_write(fx->st, &s), 0);
	assert_int_equal(store_issuance_subject(fx->st, fx->host.id, &subj), 0);
	assert_string_equal(subj.state_json, "{\"step\":\"check\"}");
	assert_string_equal(subj.pack_status, "pending_validation");
	assert_string_equal(subj.method, "txt");
	store_issuance_subject_dispose(&subj);
	assert_int_equal(store_hostname_get(fx->st, fx->zone.id, fx->host.id, &h), 0);
	assert_string_equal(h.ssl.validation_errors_json, "[{\"message\":\"not yet\"}]");
	assert_true(h.change_seq > fx->host.change_seq); /* the status change is in the feed */
	store_hostname_dispose(&h);

	/* "" clears a JSON column, NULL keeps it; RETRY releases the lease. */
	s.state_json = NULL;
	s.pack_event = PACK_EV_NONE;
	s.validation_records_json = NULL;
	s.validation_errors_json = "";
	s.hostname_status = "active";
	s.job = STORE_JOB_RETRY;
	s.run_at_us = time_now_us() + 60000000;
	assert_int_equal(store_issuance_write(fx->st, &s), 0);
	assert_int_equal(store_hostname_get(fx->st, fx->zone.id, fx->host.id, &h), 0);
	assert_null(h.ssl.validation_errors_json);
	assert_non_null(h.ssl.validation_records_json);
	assert_string_equal(h.status, "active");
	store_hostname_dispose(&h);
	/* The lease is gone: the old token no longer writes, and nothing is due. */
	s.job = STORE_JOB_KEEP;
	assert_int_equal(store_issuance_write(fx->st, &s), SE_ELEASE);
	assert_int_equal(store_job_lease(fx->st, "t", time_now_us(), 1000000, &job), SE_ENOTFOUND);
}

/* A step that only saves its state and keeps its lease goes out in one round trip with its
 * COMMIT (state_only_write): it is fenced all the same, and extends the lease. */
static void test_state_only_step_is_fenced(void **state)
{
	struct store_fixture *fx = *state;
	struct store_issuance_subject subj;
	struct store_job job, other;
	struct store_issuance_step s = {
	    .hostname_id = fx->host.id,
	    .pack_id = fx->host.ssl.pack_id,
	    .state_json = "{\"step\":\"order\"}",
	    .job = STORE_JOB_KEEP,
	};

	lease(fx, &job);
	s.job_id = job.id;
	s.lease_token = "0123456789abcdef0123456789abcdef";
	s.lease_until_us = time_now_us() + 60000000;
	assert_int_equal(store_issuance_write(fx->st, &s), SE_ELEASE);
	assert_int_equal(store_issuance_subject(fx->st, fx->host.id, &subj), 0);
	assert_null(subj.state_json); /* the stale write changed nothing */
	store_issuance_subject_dispose(&subj);

	s.lease_token = job.lease_token;
	assert_int_equal(store_issuance_write(fx->st, &s), 0);
	assert_int_equal(store_issuance_subject(fx->st, fx->host.id, &subj), 0);
	assert_string_equal(subj.state_json, "{\"step\":\"order\"}");
	assert_string_equal(subj.pack_status, "initializing");
	store_issuance_subject_dispose(&subj);
	/* the lease now runs 60 s, past the first one's 10 s: nobody can take the job at 15 s */
	assert_int_equal(store_job_lease(fx->st, "t", time_now_us() + 15000000, 1000000, &other),
			 SE_ENOTFOUND);

	/* A PATCH recheck drops the lease: the next state-only step writes nothing. */
	assert_int_equal(store_hostname_update(fx->st, &fx->host, STORE_SSL_RECHECK), 0);
	s.state_json = "{\"step\":\"poll\"}";
	assert_int_equal(store_issuance_write(fx->st, &s), SE_ELEASE);
	assert_int_equal(store_issuance_subject(fx->st, fx->host.id, &subj), 0);
	assert_string_equal(subj.state_json, "{\"step\":\"order\"}");
	store_issuance_subject_dispose(&subj);
}

/* A step whose move the lifecycle table refuses writes nothing at all: not the state, not the
 * records, not the job. */
static void test_illegal_move_writes_nothing(void **state)
{
	struct store_fixture *fx = *state;
	struct store_issuance_subject subj;
	struct store_job job;
	struct store_issuance_step s = {
	    .hostname_id = fx->host.id,
	    .pack_id = fx->host.ssl.pack_id,
	    .state_json = "{\"step\":\"done\"}",
	    .pack_event = PACK_EV_ISSUED, /* from initializing: a worker that missed a restart */
	    .validation_records_json = "[]",
	    .job = STORE_JOB_FINISH,
	};

	lease(fx, &job);
	s.job_id = job.id;
	s.lease_token = job.lease_token;
	assert_int_equal(store_issuance_write(fx->st, &s), SE_EBUSY);
	assert_int_equal(store_issuance_subject(fx->st, fx->host.id, &subj), 0);
	assert_null(subj.state_json);
	assert_string_equal(subj.pack_status, "initializing");
	store_issuance_subject_dispose(&subj);
	/* the job is still held: the worker's retry after the refusal finds it */
	s.pack_event = PACK_EV_RECORDS_SHOWN;
	assert_int_equal(store_issuance_write(fx->st, &s), 0);
	assert_int_equal(store_issuance_subject(fx->st, fx->host.id, &subj), 0);
	assert_string_equal(subj.pack_status, "pending_validation");
	store_issuance_subject_dispose(&subj);
	assert_int_equal(store_job_lease(fx->st, "t", time_now_us(), 1000000, &job), SE_ENOTFOUND);
}

/* A step's write is decided from one read and sent at once (store_issuance_write): each of its
 * events still gets its own sequence number, in the order the step made them, and the
 * hostname's change_seq is the last of them, which the edges' change feed and the deployment
 * fence compare with. A pack replaced since the step began takes nothing. */
static void test_step_events_in_order(void **state)
{
	static const char *const kinds[] = {"ssl.validation_records", "ssl.validation_errors",
					    "ssl.status", "hostname.status"};
	struct store_fixture *fx = *state;
	struct store_event ev[16];
	struct store_hostname h;
	struct store_job job;
	size_t n = 0;
	struct store_issuance_step s = {
	    .hostname_id = fx->host.id,
	    .pack_id = "00000000-0000-4000-8000-000000000000",
	    .state_json = "{\"step\":\"preflight\"}",
	    .pack_event = PACK_EV_RECORDS_SHOWN,
	    .validation_records_json = "[{\"txt_name\":\"_acme-challenge.x\"}]",
	    .validation_errors_json = "[{\"message\":\"not yet\"}]",
	    .hostname_status = "active",
	    .job = STORE_JOB_KEEP,
	};

	lease(fx, &job);
	s.job_id = job.id;
	s.lease_token = job.lease_token;
	s.lease_until_us = time_now_us() + 10000000;
	assert_int_equal(store_issuance_write(fx->st, &s), SE_ENOTFOUND);
	assert_int_equal(store_events_since(fx->st, fx->host.change_seq, ev, 16, &n), 0);
	assert_int_equal(n, 0);

	s.pack_id = fx->host.ssl.pack_id;
	assert_int_equal(store_issuance_write(fx->st, &s), 0);
	assert_int_equal(store_events_since(fx->st, fx->host.change_seq, ev, 16, &n), 0);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(ev[i].kind, kinds[i]);
		assert_string_equal(ev[i].subject_id, fx->host.id);
		assert_string_equal(ev[i].hostname, fx->host.hostname);
		assert_true(i == 0 || ev[i].seq > ev[i - 1].seq);
	}
	assert_string_equal(ev[2].old_status, "initializing");
	assert_string_equal(ev[2].new_status, "pending_validation");
	assert_string_equal(ev[3].old_status, "pending");
	assert_string_equal(ev[3].new_status, "active");
	assert_int_equal(store_hostname_get(fx->st, fx->zone.id, fx->host.id, &h), 0);
	assert_int_equal(h.change_seq, ev[3].seq);
	assert_string_equal(h.ssl.status, "pending_validation");
	store_hostname_dispose(&h);
}

/* The certificates a step obtained are stored by its write, under the same fence: a worker
 * whose lease was taken over stores none. */
static void test_step_certificates_are_fenced(void **state)
{
	struct store_fixture *fx = *state;
	unsigned char leaf[] = {0x30, 0x03, 0x02, 0x01, 0x01};
	struct store_certificate certs[2] = {{.key_type = "ecdsa"}, {.key_type = "rsa"}}, out[2];
	struct store_event ev[8];
	struct store_job job;
	size_t n = 9;
	struct store_issuance_step s = {
	    .hostname_id = fx->host.id,
	    .pack_id = fx->host.ssl.pack_id,
	    .state_json = "{\"step\":\"finalize\"}",
	    .certificates = certs,
	    .n_certificates = 2,
	    .job = STORE_JOB_KEEP,
	};

	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(ids_uuid(certs[i].id), 0);
		snprintf(certs[i].pack_id, sizeof(certs[i].pack_id), "%s", fx->host.ssl.pack_id);
		certs[i].leaf_der = leaf;
		certs[i].leaf_len = sizeof(leaf);
	}
	lease(fx, &job);
	s.job_id = job.id;
	s.lease_token = "0123456789abcdef0123456789abcdef";
	s.lease_until_us = time_now_us() + 10000000;
	assert_int_equal(store_issuance_write(fx->st, &s), SE_ELEASE);
	assert_int_equal(store_pack_certificates(fx->st, fx->host.ssl.pack_id, out, &n), 0);
	assert_int_equal(n, 0);

	/* A certificate of another pack is refused, and nothing of the step is written. */
	s.lease_token = job.lease_token;
	snprintf(certs[1].pack_id, sizeof(certs[1].pack_id),
		 "00000000-0000-4000-8000-000000000000");
	assert_int_equal(store_issuance_write(fx->st, &s), SE_EINVAL);
	assert_int_equal(store_pack_certificates(fx->st, fx->host.ssl.pack_id, out, &n), 0);
	assert_int_equal(n, 0);

	snprintf(certs[1].pack_id, sizeof(certs[1].pack_id), "%s", fx->host.ssl.pack_id);
	assert_int_equal(store_issuance_write(fx->st, &s), 0);
	assert_int_equal(store_pack_certificates(fx->st, fx->host.ssl.pack_id, out, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(out[0].id, certs[0].id);
	assert_string_equal(out[1].id, certs[1].id);
	store_certificate_dispose(&out[0]);
	store_certificate_dispose(&out[1]);
	assert_int_equal(store_events_since(fx->st, fx->host.change_seq, ev, 8, &n), 0);
	assert_int_equal(n, 2); /* one per certificate, so that edges reload the name */
	assert_string_equal(ev[0].kind, "certificate.stored");
	assert_string_equal(ev[1].kind, "certificate.stored");
}

static void test_finish_and_recheck(void **state)
{
	struct store_fixture *fx = *state;
	struct store_job job, again;
	int64_t n = -1;
	struct store_issuance_step s = {
	    .hostname_id = fx->host.id,
	    .pack_id = fx->host.ssl.pack_id,
	    .state_json = "{}",
	};

	lease(fx, &job);
	/* A PATCH recheck reschedules the job: the holder's token stops working. */
	assert_int_equal(store_hostname_update(fx->st, &fx->host, STORE_SSL_RECHECK), 0);
	s.job_id = job.id;
	s.lease_token = job.lease_token;
	s.job = STORE_JOB_FINISH;
	assert_int_equal(store_issuance_write(fx->st, &s), SE_ELEASE);
	lease(fx, &again);
	s.job_id = again.id;
	s.lease_token = again.lease_token;
	assert_int_equal(store_issuance_write(fx->st, &s), 0);
	assert_int_equal(store_job_count(fx->st, "hostname", fx->host.id, &n), 0);
	assert_int_equal(n, 0);
}

static void test_acme_accounts(void **state)
{
	struct store_fixture *fx = *state;
	char key_id[37], kid[256];

	assert_int_equal(store_acme_account_get(fx->st, "pebble", key_id, kid, sizeof(kid)),
			 SE_ENOTFOUND);
	assert_int_equal(store_acme_account_put(fx->st, "pebble", "k1", ""), 0);
	assert_int_equal(store_acme_account_put(fx->st, "pebble", "k1", "https://ca/acct/1"), 0);
	assert_int_equal(store_acme_account_get(fx->st, "pebble", key_id, kid, sizeof(kid)), 0);
	assert_string_equal(key_id, "k1");
	assert_string_equal(kid, "https://ca/acct/1");
	/* A second node's key for the same CA loses: the first account stays everyone's. */
	assert_int_equal(store_acme_account_put(fx->st, "pebble", "k2", ""), SE_EEXISTS);
	assert_int_equal(store_acme_account_get(fx->st, "pebble", key_id, kid, sizeof(kid)), 0);
	assert_string_equal(key_id, "k1");
	assert_string_equal(kid, "https://ca/acct/1");
}

static void test_pack_certificates(void **state)
{
	struct store_fixture *fx = *state;
	unsigned char leaf[] = {0x30, 0x03, 0x02, 0x01, 0x01}, chain[] = {0x30, 0x00};
	struct store_certificate c = {0}, out[2];
	const char *types[] = {"rsa", "ecdsa", "rsa"};
	size_t n = 9;

	assert_int_equal(store_pack_certificates(fx->st, fx->host.ssl.pack_id, out, &n), 0);
	assert_int_equal(n, 0);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(ids_uuid(c.id), 0);
		snprintf(c.pack_id, sizeof(c.pack_id), "%s", fx->host.ssl.pack_id);
		snprintf(c.key_type, sizeof(c.key_type), "%s", types[i]);
		snprintf(c.serial, sizeof(c.serial), "0%zu", i);
		c.leaf_der = leaf;
		c.leaf_len = sizeof(leaf);
		c.chain_der = chain;
		c.chain_len = sizeof(chain);
		c.not_after_us = (int64_t)i;
		assert_int_equal(store_certificate_put(fx->st, &c), 0);
	}
	assert_int_equal(store_pack_certificates(fx->st, fx->host.ssl.pack_id, out, &n), 0);
	assert_int_equal(n, 2); /* one per key type, the RSA one replaced, ECDSA first */
	assert_string_equal(out[0].key_type, "ecdsa");
	assert_string_equal(out[1].key_type, "rsa");
	assert_string_equal(out[1].serial, "02");
	assert_int_equal(out[0].leaf_len, sizeof(leaf));
	assert_memory_equal(out[0].leaf_der, leaf, sizeof(leaf));
	assert_int_equal(out[1].chain_len, sizeof(chain));
	store_certificate_dispose(&out[0]);
	store_certificate_dispose(&out[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_challenges, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dns_records, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_step_is_fenced, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_state_only_step_is_fenced, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_illegal_move_writes_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_step_events_in_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_step_certificates_are_fenced, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_finish_and_recheck, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_acme_accounts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pack_certificates, setup, teardown),
	};

	log_threshold = LOG_WARN;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

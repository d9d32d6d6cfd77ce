/* Unit tests of the issuer's saved pack state (src/issuer/pack_state.c): what is dumped reads
 * back the same, a document written by the version before the typed state reads into the same
 * fields, and a document this version cannot use is refused rather than half read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "issuer/pack_state.h"
#include "lib/error.h"

/* Written by saasedge before the state was typed: an ACME pack in the middle of validating a
 * name and its wildcard, its ECDSA order made, one challenge accepted. */
static const char old_document[] =
    "{\"sig\":\"txt|lets_encrypt|1\",\"step\":\"poll\",\"ca\":\"lets_encrypt\","
    "\"keys\":{\"ecdsa\":\"0b1c2d3e-0000-4000-8000-000000000001\","
    "\"rsa\":\"0b1c2d3e-0000-4000-8000-000000000002\"},"
    "\"orders\":[{\"key\":\"ecdsa\",\"url\":\"https://ca/order/1\",\"finalize\":"
    "\"https://ca/finalize/1\",\"authz\":[\"https://ca/authz/a\",\"https://ca/authz/b\"],"
    "\"stored\":false}],"
    "\"chals\":[{\"authz\":\"https://ca/authz/a\",\"url\":\"https://ca/chal/a\",\"type\":"
    "\"dns-01\",\"name\":\"_acme-challenge.app.example.com\",\"value\":\"abc\",\"accepted\":"
    "true},{\"authz\":\"https://ca/authz/b\",\"url\":\"https://ca/chal/b\",\"type\":\"dns-01\","
    "\"name\":\"_acme-challenge.app.example.com\",\"value\":\"def\",\"accepted\":false}],"
    "\"tries\":3,\"vstart\":1700000000000000,\"records_written\":true,"
    "\"last_problem\":\"no TXT record yet\",\"ca_failures\":1,"
    "\"replaces\":{\"ecdsa\":\"aki.serial\"},\"ari_check_at\":-1}";

static void test_an_old_document_reads_into_the_same_fields(void **unused)
{
	struct pack_state *s = malloc(sizeof(*s));

	(void)unused;
	assert_non_null(s);
	assert_int_equal(pack_state_load(old_document, s), 0);
	assert_string_equal(s->sig, "txt|lets_encrypt|1");
	assert_int_equal(s->step, PACK_STEP_POLL);
	assert_string_equal(s->ca, "lets_encrypt");
	assert_string_equal(s->key_ids[KEY_ECDSA_P256], "0b1c2d3e-0000-4000-8000-000000000001");
	assert_string_equal(s->key_ids[KEY_RSA_2048], "0b1c2d3e-0000-4000-8000-000000000002");
	assert_int_equal(s->n_orders, 1);
	assert_int_equal(s->orders[0].key, KEY_ECDSA_P256);
	assert_string_equal(s->orders[0].url, "https://ca/order/1");
	assert_string_equal(s->orders[0].finalize, "https://ca/finalize/1");
	assert_int_equal(s->orders[0].n_authz, 2);
	assert_string_equal(s->orders[0].authz[1], "https://ca/authz/b");
	assert_false(s->orders[0].stored);
	assert_int_equal(s->n_chals, 2);
	assert_true(s->chals[0].accepted);
	assert_false(s->chals[1].accepted);
	assert_string_equal(s->chals[1].url, "https://ca/chal/b");
	assert_string_equal(s->chals[1].type, "dns-01");
	assert_string_equal(s->chals[1].name, "_acme-challenge.app.example.com");
	assert_string_equal(s->chals[1].value, "def");
	assert_int_equal(s->tries, 3);
	assert_int_equal(s->vstart_us, 1700000000000000LL);
	assert_int_equal(s->istart_us, 0);
	assert_true(s->records_written);
	assert_string_equal(s->last_problem, "no TXT record yet");
	assert_int_equal(s->ca_failures, 1);
	assert_string_equal(s->replaces[KEY_ECDSA_P256], "aki.serial");
	assert_string_equal(s->replaces[KEY_RSA_2048], "");
	assert_int_equal(s->ari_check_at_us, -1);
	assert_false(s->renewal);
	free(s);
}

/* Dumped, then read: the same state, byte for byte (load zeroes what it does not fill). */
static void assert_round_trip(const struct pack_state *s)
{
	struct pack_state *back = malloc(sizeof(*back));
	char *text = pack_state_dump(s);

	assert_non_null(back);
	assert_non_null(text);
	assert_int_equal(pack_state_load(text, back), 0);
	assert_memory_equal(back, s, sizeof(*s));
	free(text);
	free(back);
}

static void test_what_is_dumped_reads_back_the_same(void **unused)
{
	struct pack_state *s = malloc(sizeof(*s));

	(void)unused;
	assert_non_null(s);
	assert_int_equal(pack_state_load(old_document, s), 0);
	assert_round_trip(s);

	pack_state_init(s, "http|internal|0", "internal");
	assert_round_trip(s);

	/* an issued pack renewing, with every field set */
	assert_int_equal(pack_state_load(old_document, s), 0);
	s->step = PACK_STEP_FINALIZE;
	s->orders[0].stored = 1;
	s->orders[1] = s->orders[0];
	s->orders[1].key = KEY_RSA_2048;
	s->n_orders = 2;
	s->istart_us = 1700000100000000LL;
	s->not_after_us = 1707776000000000LL;
	s->renew_at_us = 1705184000000000LL;
	s->ari_check_at_us = 1700086400000000LL;
	s->renewal = 1;
	snprintf(s->replaces[KEY_RSA_2048], sizeof(s->replaces[0]), "aki.rsa");
	snprintf(s->dcv_value, sizeof(s->dcv_value), "0123456789abcdef0123456789abcdef");
	assert_round_trip(s);
	free(s);
}

static void test_every_step_keeps_its_name(void **unused)
{
	struct pack_state *s = malloc(sizeof(*s));

	(void)unused;
	assert_non_null(s);
	for (int step = PACK_STEP_KEYS; step <= PACK_STEP_TIMED_OUT; step++) {
		pack_state_init(s, "sig", "ca");
		s->step = (enum pack_step)step;
		assert_round_trip(s);
	}
	free(s);
}

static void test_an_unknown_step_is_a_fresh_start(void **unused)
{
	struct pack_state s;

	(void)unused;
	assert_int_equal(pack_state_load("{\"sig\":\"x\",\"step\":\"teleport\",\"ca\":\"a\"}", &s),
			 0);
	assert_int_equal(s.step, PACK_STEP_KEYS);
	assert_string_equal(s.sig, "x");
}

static void test_an_unusable_document_is_refused(void **unused)
{
	static const char *const bad[] = {
	    "",
	    "not json",
	    "[]",
	    "\"keys\"",
	    "{\"sig\":5}",
	    "{\"ca\":[\"a\"]}",
	    "{\"orders\":[{\"key\":\"dsa\",\"url\":\"u\"}]}",
	    "{\"orders\":[{\"url\":\"u\"}]}",
	    "{\"orders\":[{\"key\":\"rsa\",\"authz\":[1]}]}",
	    "{\"orders\":[{\"key\":\"rsa\"},{\"key\":\"rsa\"},{\"key\":\"rsa\"}]}",
	    "{\"keys\":{\"rsa\":7}}",
	    "{\"chals\":[{\"type\":\"a-type-name-too-long-for-its-field\"}]}",
	};
	struct pack_state s;

	(void)unused;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&s, 0x5a, sizeof(s));
		assert_int_equal(pack_state_load(bad[i], &s), SE_EINVAL);
		assert_int_equal(s.n_orders, 0); /* nothing half read is left */
		assert_string_equal(s.sig, "");
	}
}

/* A CA's URL longer than its field is refused, never cut into a different URL. */
static void test_a_url_too_long_is_refused(void **unused)
{
	char doc[3 * ACME_URL_MAX], url[ACME_URL_MAX + 1];
	struct pack_state s;

	(void)unused;
	memset(url, 'a', sizeof(url) - 1);
	url[sizeof(url) - 1] = '\0';
	snprintf(doc, sizeof(doc), "{\"orders\":[{\"key\":\"ecdsa\",\"url\":\"%s\"}]}", url);
	assert_int_equal(pack_state_load(doc, &s), SE_EINVAL);
	url[ACME_URL_MAX - 1] = '\0'; /* the longest that fits */
	snprintf(doc, sizeof(doc), "{\"orders\":[{\"key\":\"ecdsa\",\"url\":\"%s\"}]}", url);
	assert_int_equal(pack_state_load(doc, &s), 0);
	assert_int_equal(strlen(s.orders[0].url), ACME_URL_MAX - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_an_old_document_reads_into_the_same_fields),
	    cmocka_unit_test(test_what_is_dumped_reads_back_the_same),
	    cmocka_unit_test(test_every_step_keeps_its_name),
	    cmocka_unit_test(test_an_unknown_step_is_a_fresh_start),
	    cmocka_unit_test(test_an_unusable_document_is_refused),
	    cmocka_unit_test(test_a_url_too_long_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

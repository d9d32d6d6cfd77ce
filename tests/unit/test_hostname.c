/* Unit tests of src/lib/hostname.c: one table of custom hostnames with the verdict, normalised
 * form and reason each must get, every special character, origin hosts, fragments and
 * registered domains. The IDN rows record what libidn2 2.3 actually does. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/error.h"
#include "lib/hostname.h"

#define A10  "aaaaaaaaaa"
#define B10  "bbbbbbbbbb"
#define C10  "cccccccccc"
#define D10  "dddddddddd"
#define L63A A10 A10 A10 A10 A10 A10 "aaa"
#define L63B B10 B10 B10 B10 B10 B10 "bbb"
#define L63C C10 C10 C10 C10 C10 C10 "ccc"
#define L59D D10 D10 D10 D10 D10 "ddddddddd"
#define L64A L63A "a"
/* 63 + 1 + 63 + 1 + 63 + 1 + 59 + 4 = 255 */
#define NAME255 L63A "." L63B "." L63C "." L59D ".com"
#define NAME256 L63A "." L63B "." L63C "." L59D "d.com"

enum { DENY = 0, ALLOW = 1 };

struct hcase {
	const char *in;
	int allow_wildcard;
	enum hostname_verdict want;
	const char *out;    /* expected normalised form when want is HOSTNAME_OK */
	const char *reason; /* substring the reason must contain, NULL to skip */
};

static const struct hcase cases[] = {
    /* good names */
    {"Shop.Customer.COM", DENY, HOSTNAME_OK, "shop.customer.com", NULL},
    {"shop.customer.com.", DENY, HOSTNAME_OK, "shop.customer.com", NULL},
    {"a.b.c.d.e.f.g.shop.customer.com", DENY, HOSTNAME_OK, "a.b.c.d.e.f.g.shop.customer.com", NULL},
    {L63A ".customer.com", DENY, HOSTNAME_OK, L63A ".customer.com", NULL},
    {NAME255, DENY, HOSTNAME_OK, NAME255, NULL},
    {NAME255 ".", DENY, HOSTNAME_OK, NAME255, NULL},
    {"my-shop.customer-1.com", DENY, HOSTNAME_OK, "my-shop.customer-1.com", NULL},
    {"ab--cd.customer.com", DENY, HOSTNAME_OK, "ab--cd.customer.com", NULL},
    {"123.customer.com", DENY, HOSTNAME_OK, "123.customer.com", NULL},
    {"notexample.com", DENY, HOSTNAME_OK, "notexample.com", NULL},
    {"example.com.customer.net", DENY, HOSTNAME_OK, "example.com.customer.net", NULL},
    {"shop.customer.co.uk", DENY, HOSTNAME_OK, "shop.customer.co.uk", NULL},
    {"me.github.io", DENY, HOSTNAME_OK, "me.github.io", NULL},
    {"xn--bcher-kva.de", DENY, HOSTNAME_OK, "xn--bcher-kva.de", NULL},
    {"XN--BCHER-KVA.DE", DENY, HOSTNAME_OK, "xn--bcher-kva.de", NULL},
    {"b\u00fccher.de", DENY, HOSTNAME_OK, "xn--bcher-kva.de", NULL},
    {"B\u00dcCHER.DE", DENY, HOSTNAME_OK, "xn--bcher-kva.de", NULL},
    /* U+3002 ideographic full stop is a label separator under UTS#46 */
    {"b\u00fccher\u3002de", DENY, HOSTNAME_OK, "xn--bcher-kva.de", NULL},
    /* non-transitional: sharp s is kept, not mapped to "ss" */
    {"fa\u00df.de", DENY, HOSTNAME_OK, "xn--fa-hia.de", NULL},
    /* U+00AD soft hyphen: UTS#46 maps it to nothing, libidn2 accepts the name */
    {"a\u00adb.com", DENY, HOSTNAME_OK, "ab.com", NULL},
    {"*.app.customer.com", ALLOW, HOSTNAME_OK, "*.app.customer.com", NULL},
    {"*.B\u00dcCHER.de", ALLOW, HOSTNAME_OK, "*.xn--bcher-kva.de", NULL},
    /* length */
    {NAME256, DENY, HOSTNAME_INVALID, NULL, "hostname is longer than 255 characters"},
    {L64A ".customer.com", DENY, HOSTNAME_INVALID, NULL, "longer than 63"},
    {"", DENY, HOSTNAME_INVALID, NULL, "empty"},
    {".", DENY, HOSTNAME_INVALID, NULL, "empty"},
    {"a..b.com", DENY, HOSTNAME_INVALID, NULL, "empty label"},
    {".a.com", DENY, HOSTNAME_INVALID, NULL, "empty label"},
    {"a.com..", DENY, HOSTNAME_INVALID, NULL, "empty label"},
    /* characters and hyphens */
    {"-shop.customer.com", DENY, HOSTNAME_INVALID, NULL, "hyphen"},
    {"shop-.customer.com", DENY, HOSTNAME_INVALID, NULL, "hyphen"},
    {"shop.customer.com-", DENY, HOSTNAME_INVALID, NULL, "hyphen"},
    {"my_shop.customer.com", DENY, HOSTNAME_INVALID, NULL, "the character '_'"},
    {"shop\t.customer.com", DENY, HOSTNAME_INVALID, NULL, "control character 0x09"},
    {"shop .customer.com", DENY, HOSTNAME_INVALID, NULL, "space"},
    {"b\u00fc!cher.de", DENY, HOSTNAME_INVALID, NULL, "the character '!'"},
    {"b\u00fc_cher.de", DENY, HOSTNAME_INVALID, NULL, "the character '_'"},
    {"-b\u00fccher.de", DENY, HOSTNAME_INVALID, NULL, "hyphen"},
    {"b\u00fc" A10 A10 A10 A10 A10 A10 ".de", DENY, HOSTNAME_INVALID, NULL, "longer than 63"},
    /* IP addresses */
    {"1.2.3.4", DENY, HOSTNAME_INVALID, NULL, "IP addresses are not allowed"},
    {"1.2.3.4.", DENY, HOSTNAME_INVALID, NULL, "IP addresses are not allowed"},
    {"127.1", DENY, HOSTNAME_INVALID, NULL, "IP addresses are not allowed"},
    {"0x7f.0.0.1", DENY, HOSTNAME_INVALID, NULL, "IP addresses are not allowed"},
    {"::1", DENY, HOSTNAME_INVALID, NULL, "IP addresses are not allowed"},
    {"[::1]", DENY, HOSTNAME_INVALID, NULL, "IP addresses are not allowed"},
    {"2001:DB8::1", DENY, HOSTNAME_INVALID, NULL, "IP addresses are not allowed"},
    {"[2001:db8::1]", DENY, HOSTNAME_INVALID, NULL, "IP addresses are not allowed"},
    /* fullwidth digits map to ASCII ones: still an IP address once converted */
    {"\uff11.\uff12.\uff13.\uff14", DENY, HOSTNAME_INVALID, NULL, "IP addresses are not allowed"},
    {"1.2.3.4444", DENY, HOSTNAME_INVALID, NULL, "all-numeric"},
    {"shop.123", DENY, HOSTNAME_INVALID, NULL, "all-numeric"},
    {"[shop.com]", DENY, HOSTNAME_INVALID, NULL, "the character '['"},
    /* wildcards */
    {"*", ALLOW, HOSTNAME_INVALID, NULL, "wildcard"},
    {"*.", ALLOW, HOSTNAME_INVALID, NULL, "wildcard"},
    {"*foo.bar.com", ALLOW, HOSTNAME_INVALID, NULL, "wildcard"},
    {"foo*.bar.com", ALLOW, HOSTNAME_INVALID, NULL, "wildcard"},
    {"a.*.b.com", ALLOW, HOSTNAME_INVALID, NULL, "wildcard"},
    {"*.*.b.com", ALLOW, HOSTNAME_INVALID, NULL, "wildcard"},
    {"b.com.*", ALLOW, HOSTNAME_INVALID, NULL, "wildcard"},
    {"*..b.com", ALLOW, HOSTNAME_INVALID, NULL, "empty label"},
    {"*.app.customer.com", DENY, HOSTNAME_WILDCARD, NULL, "wildcard"},
    {"*.co.uk", ALLOW, HOSTNAME_NO_REGISTRABLE, NULL, "for domain co.uk"},
    {"*.co.uk", DENY, HOSTNAME_NO_REGISTRABLE, NULL, "for domain co.uk"},
    {"*.shop.test", DENY, HOSTNAME_RESERVED_TLD, NULL, "'test'"},
    /* reserved TLDs */
    {"shop.test", DENY, HOSTNAME_RESERVED_TLD, NULL, "'test'"},
    {"shop.example", DENY, HOSTNAME_RESERVED_TLD, NULL, "'example'"},
    {"shop.invalid", DENY, HOSTNAME_RESERVED_TLD, NULL, "'invalid'"},
    {"shop.LOCALHOST", DENY, HOSTNAME_RESERVED_TLD, NULL, "'localhost'"},
    {"localhost", DENY, HOSTNAME_RESERVED_TLD, NULL, "'localhost'"},
    {"printer.local", DENY, HOSTNAME_RESERVED_TLD, NULL, "'local'"},
    {"abc.onion", DENY, HOSTNAME_RESERVED_TLD, NULL, "'onion'"},
    /* example domains */
    {"example.com", DENY, HOSTNAME_EXAMPLE_DOMAIN, NULL, "example.com"},
    {"example.net", DENY, HOSTNAME_EXAMPLE_DOMAIN, NULL, "example.net"},
    {"EXAMPLE.ORG.", DENY, HOSTNAME_EXAMPLE_DOMAIN, NULL, "example.org"},
    {"a.example.com", DENY, HOSTNAME_EXAMPLE_DOMAIN, NULL, "example.com"},
    {"*.example.com", ALLOW, HOSTNAME_EXAMPLE_DOMAIN, NULL, "example.com"},
    /* public suffixes and single labels */
    {"co.uk", DENY, HOSTNAME_NO_REGISTRABLE, NULL,
     "publicsuffix: cannot derive eTLD+1 for domain co.uk"},
    {"com", DENY, HOSTNAME_NO_REGISTRABLE, NULL, "for domain com"},
    {"github.io", DENY, HOSTNAME_NO_REGISTRABLE, NULL, "for domain github.io"},
    {"backend", DENY, HOSTNAME_NO_REGISTRABLE, NULL, "for domain backend"},
    /* punycode and IDN failures */
    {"xn--zz.com", DENY, HOSTNAME_NON_ASCII, NULL, "'xn--zz'"},
    {"xn--a.com", DENY, HOSTNAME_NON_ASCII, NULL, "'xn--a'"},
    {"xn--.com", DENY, HOSTNAME_INVALID, NULL, "hyphen"},
    {"xn--bcher-kva-.de", DENY, HOSTNAME_INVALID, NULL, "hyphen"},
    {"xn--ls8h.la", DENY, HOSTNAME_NON_ASCII, NULL, "'xn--ls8h'"},
    {"\U0001F4A9.la", DENY, HOSTNAME_NON_ASCII, NULL, "disallowed"},
    {"\u2764.com", DENY, HOSTNAME_NON_ASCII, NULL, "disallowed"},
    /* U+200D zero-width joiner out of context (CONTEXTJ) */
    {"a\u200db.com", DENY, HOSTNAME_NON_ASCII, NULL, "context"},
    {"\xff\xfe.com", DENY, HOSTNAME_NON_ASCII, NULL, "encoding"},
    /* U+FF01 fullwidth '!' maps to '!', which fails libidn2's A-label round trip */
    {"b\u00fc\uff01.de", DENY, HOSTNAME_NON_ASCII, NULL, "roundtrip"},
};

static const char *verdict_name(enum hostname_verdict v)
{
	static const char *const names[] = {"OK",           "INVALID",        "NON_ASCII",
					    "RESERVED_TLD", "NO_REGISTRABLE", "EXAMPLE_DOMAIN",
					    "WILDCARD"};

	return (unsigned)v < sizeof(names) / sizeof(names[0]) ? names[v] : "?";
}

static void check_case(const struct hcase *c)
{
	char out[HOSTNAME_MAX + 1];
	char reason[256] = "";
	enum hostname_verdict v;
	size_t n;

	v = hostname_normalize(c->in, c->allow_wildcard, out, reason, sizeof(reason));
	if (v != c->want)
		fail_msg("\"%s\": verdict %s, want %s (reason: %s)", c->in, verdict_name(v),
			 verdict_name(c->want), reason);
	if (c->want == HOSTNAME_OK && strcmp(out, c->out) != 0)
		fail_msg("\"%s\": normalised to \"%s\", want \"%s\"", c->in, out, c->out);
	if (c->want == HOSTNAME_OK)
		return;
	n = strlen(reason);
	if (n == 0 || reason[n - 1] == '.')
		fail_msg("\"%s\": reason \"%s\" is empty or ends with a period", c->in, reason);
	if (c->reason && !strstr(reason, c->reason))
		fail_msg("\"%s\": reason \"%s\" lacks \"%s\"", c->in, reason, c->reason);
}

static void test_table(void **state)
{
	(void)state;
	assert_true(sizeof(cases) / sizeof(cases[0]) >= 40);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);
}

#define THREADS 8

/* Runs the whole table repeatedly, counting into ARG the rows that came out wrong. */
static void *table_worker(void *arg)
{
	size_t *wrong = arg;
	char out[HOSTNAME_MAX + 1], reason[256];

	for (int round = 0; round < 50; round++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			const struct hcase *c = &cases[i];
			enum hostname_verdict v = hostname_normalize(c->in, c->allow_wildcard, out,
								     reason, sizeof(reason));

			if (v != c->want || (v == HOSTNAME_OK && strcmp(out, c->out) != 0))
				(*wrong)++;
		}
	}
	return NULL;
}

/* API threads share the module: concurrent calls must give the single-threaded answers. */
static void test_threads(void **state)
{
	pthread_t tid[THREADS];
	size_t wrong[THREADS] = {0};

	(void)state;
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&tid[i], NULL, table_worker, &wrong[i]), 0);
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(tid[i], NULL), 0);
		assert_int_equal(wrong[i], 0);
	}
}

/* Every character of Cloudflare's 1407 list, inside a label, is named in the reason. */
static void test_special_characters(void **state)
{
	static const char specials[] = "~`!@#$%^&()=+{}[]\\|;:'\",<>/?";
	char name[32], want[64], out[HOSTNAME_MAX + 1], reason[256];

	(void)state;
	for (const char *c = specials; *c; c++) {
		snprintf(name, sizeof(name), "sh%cop.customer.com", *c);
		snprintf(want, sizeof(want), "the character '%c'", *c);
		reason[0] = '\0';
		assert_int_equal(hostname_normalize(name, ALLOW, out, reason, sizeof(reason)),
				 HOSTNAME_INVALID);
		if (!strstr(reason, want))
			fail_msg("\"%s\": reason \"%s\" lacks \"%s\"", name, reason, want);
	}
	assert_int_equal(
	    hostname_normalize("sh*op.customer.com", ALLOW, out, reason, sizeof(reason)),
	    HOSTNAME_INVALID);
	assert_non_null(strstr(reason, "wildcard"));
}

static void test_null_reason_and_input(void **state)
{
	char out[HOSTNAME_MAX + 1];

	(void)state;
	assert_int_equal(hostname_normalize(NULL, 0, out, NULL, 0), HOSTNAME_INVALID);
	assert_int_equal(hostname_normalize("a_b.com", 0, out, NULL, 0), HOSTNAME_INVALID);
	assert_int_equal(hostname_normalize("co.uk", 0, out, NULL, 0), HOSTNAME_NO_REGISTRABLE);
	assert_int_equal(hostname_normalize("Shop.Com", 0, out, NULL, 0), HOSTNAME_OK);
	assert_string_equal(out, "shop.com");
}

/* A reason buffer too small for the message is truncated, never overrun. */
static void test_short_reason_buffer(void **state)
{
	char out[HOSTNAME_MAX + 1];
	char reason[8];

	(void)state;
	memset(reason, 'x', sizeof(reason));
	assert_int_equal(hostname_normalize("co.uk", 0, out, reason, sizeof(reason)),
			 HOSTNAME_NO_REGISTRABLE);
	assert_string_equal(reason, "publics");
}

/* The normalised name is available even when a policy rule refuses it. */
static void test_out_on_policy_failure(void **state)
{
	char out[HOSTNAME_MAX + 1];

	(void)state;
	assert_int_equal(hostname_normalize("A.Example.COM.", 0, out, NULL, 0),
			 HOSTNAME_EXAMPLE_DOMAIN);
	assert_string_equal(out, "a.example.com");
	assert_int_equal(hostname_normalize("*.App.Customer.com", 0, out, NULL, 0),
			 HOSTNAME_WILDCARD);
	assert_string_equal(out, "*.app.customer.com");
	assert_int_equal(hostname_normalize("a_b.com", 0, out, NULL, 0), HOSTNAME_INVALID);
	assert_string_equal(out, "");
}

/* Input far beyond any valid name is refused before conversion. */
static void test_huge_input(void **state)
{
	char *big = malloc(100000);
	char out[HOSTNAME_MAX + 1];
	char reason[128];

	(void)state;
	assert_non_null(big);
	memset(big, 'a', 99999);
	big[99999] = '\0';
	assert_int_equal(hostname_normalize(big, 0, out, reason, sizeof(reason)), HOSTNAME_INVALID);
	assert_string_equal(reason, "hostname is longer than 255 characters");
	assert_int_equal(hostname_normalize_origin(big, out, reason, sizeof(reason)),
			 HOSTNAME_INVALID);
	free(big);
}

struct ocase {
	const char *in;
	enum hostname_verdict want;
	const char *out;
};

static void test_origin_hosts(void **state)
{
	static const struct ocase oc[] = {
	    {"10.0.0.5", HOSTNAME_OK, "10.0.0.5"},
	    {"10.0.0.5.", HOSTNAME_OK, "10.0.0.5"},
	    {"::1", HOSTNAME_OK, "::1"},
	    {"[::1]", HOSTNAME_OK, "::1"},
	    {"2001:DB8:0:0:0:0:0:1", HOSTNAME_OK, "2001:db8::1"},
	    {"[::FFFF:1.2.3.4]", HOSTNAME_OK, "::ffff:1.2.3.4"},
	    {"backend", HOSTNAME_OK, "backend"},
	    {"Backend.Internal.", HOSTNAME_OK, "backend.internal"},
	    {"localhost", HOSTNAME_OK, "localhost"},
	    {"origin.test", HOSTNAME_OK, "origin.test"},
	    {"origin.example.com", HOSTNAME_OK, "origin.example.com"},
	    {"co.uk", HOSTNAME_OK, "co.uk"},
	    {"b\u00fccher.de", HOSTNAME_OK, "xn--bcher-kva.de"},
	    {"*.backend.internal", HOSTNAME_WILDCARD, NULL},
	    {"a.*.internal", HOSTNAME_INVALID, NULL},
	    {"", HOSTNAME_INVALID, NULL},
	    {"back_end", HOSTNAME_INVALID, NULL},
	    {"-backend", HOSTNAME_INVALID, NULL},
	    {"127.1", HOSTNAME_INVALID, NULL},
	    {"010.0.0.1", HOSTNAME_INVALID, NULL},
	    {"1.2.3.4444", HOSTNAME_INVALID, NULL},
	    {"1234", HOSTNAME_INVALID, NULL},
	    {"[backend]", HOSTNAME_INVALID, NULL},
	    {"fe80::1%eth0", HOSTNAME_INVALID, NULL},
	    {"xn--zz.internal", HOSTNAME_NON_ASCII, NULL},
	    {NAME256, HOSTNAME_INVALID, NULL},
	};
	char out[HOSTNAME_MAX + 1], reason[256];

	(void)state;
	for (size_t i = 0; i < sizeof(oc) / sizeof(oc[0]); i++) {
		enum hostname_verdict v;

		reason[0] = '\0';
		v = hostname_normalize_origin(oc[i].in, out, reason, sizeof(reason));
		if (v != oc[i].want)
			fail_msg("origin \"%s\": verdict %s, want %s (reason: %s)", oc[i].in,
				 verdict_name(v), verdict_name(oc[i].want), reason);
		if (v == HOSTNAME_OK && strcmp(out, oc[i].out) != 0)
			fail_msg("origin \"%s\": normalised to \"%s\", want \"%s\"", oc[i].in, out,
				 oc[i].out);
		if (v != HOSTNAME_OK && reason[0] == '\0')
			fail_msg("origin \"%s\": no reason", oc[i].in);
	}
}

static void test_is_wildcard(void **state)
{
	(void)state;
	assert_int_equal(hostname_is_wildcard("*.a.com"), 1);
	assert_int_equal(hostname_is_wildcard("*a.com"), 0);
	assert_int_equal(hostname_is_wildcard("a.*.com"), 0);
	assert_int_equal(hostname_is_wildcard("*"), 0);
	assert_int_equal(hostname_is_wildcard(""), 0);
	assert_int_equal(hostname_is_wildcard(NULL), 0);
}

static void test_fragment_ok(void **state)
{
	char frag[HOSTNAME_MAX + 2];
	char wide[2 * HOSTNAME_MAX + 3];

	(void)state;
	assert_int_equal(hostname_fragment_ok("shop"), 1);
	assert_int_equal(hostname_fragment_ok("Shop.Customer"), 1);
	assert_int_equal(hostname_fragment_ok("*.app-1"), 1);
	assert_int_equal(hostname_fragment_ok("b\u00fccher"), 1);
	assert_int_equal(hostname_fragment_ok(""), 1);
	assert_int_equal(hostname_fragment_ok("a_b"), 0);
	assert_int_equal(hostname_fragment_ok("a b"), 0);
	assert_int_equal(hostname_fragment_ok("a/b"), 0);
	assert_int_equal(hostname_fragment_ok("a%b"), 0);
	assert_int_equal(hostname_fragment_ok("[::1]"), 0);
	assert_int_equal(hostname_fragment_ok(NULL), 0);
	memset(frag, 'a', HOSTNAME_MAX);
	frag[HOSTNAME_MAX] = '\0';
	assert_int_equal(hostname_fragment_ok(frag), 1);
	frag[HOSTNAME_MAX] = 'a';
	frag[HOSTNAME_MAX + 1] = '\0';
	assert_int_equal(hostname_fragment_ok(frag), 0);
	/* 255 two-byte characters are 255 characters, not 510 */
	for (size_t i = 0; i < HOSTNAME_MAX; i++)
		memcpy(wide + 2 * i, "\u00fc", 2);
	wide[2 * HOSTNAME_MAX] = '\0';
	assert_int_equal(hostname_fragment_ok(wide), 1);
	memcpy(wide + 2 * HOSTNAME_MAX, "\u00fc", 3);
	assert_int_equal(hostname_fragment_ok(wide), 0);
}

static void test_registered_domain(void **state)
{
	char out[HOSTNAME_MAX + 1];
	char tiny[8];

	(void)state;
	assert_int_equal(hostname_registered_domain("a.b.customer.co.uk", out, sizeof(out)), 0);
	assert_string_equal(out, "customer.co.uk");
	assert_int_equal(hostname_registered_domain("customer.com", out, sizeof(out)), 0);
	assert_string_equal(out, "customer.com");
	assert_int_equal(hostname_registered_domain("*.app.customer.com", out, sizeof(out)), 0);
	assert_string_equal(out, "customer.com");
	assert_int_equal(hostname_registered_domain("me.github.io", out, sizeof(out)), 0);
	assert_string_equal(out, "me.github.io");
	assert_int_equal(hostname_registered_domain("xn--bcher-kva.de", out, sizeof(out)), 0);
	assert_string_equal(out, "xn--bcher-kva.de");
	assert_int_equal(hostname_registered_domain("co.uk", out, sizeof(out)), SE_EINVAL);
	assert_int_equal(hostname_registered_domain("com", out, sizeof(out)), SE_EINVAL);
	assert_int_equal(hostname_registered_domain(NULL, out, sizeof(out)), SE_EINVAL);
	assert_int_equal(hostname_registered_domain("a.customer.com", tiny, sizeof(tiny)),
			 SE_ETOOBIG);
	assert_int_equal(hostname_registered_domain("a.b.co", tiny, sizeof(tiny)), 0);
	assert_string_equal(tiny, "b.co");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_special_characters),
	    cmocka_unit_test(test_null_reason_and_input),
	    cmocka_unit_test(test_short_reason_buffer),
	    cmocka_unit_test(test_out_on_policy_failure),
	    cmocka_unit_test(test_huge_input),
	    cmocka_unit_test(test_origin_hosts),
	    cmocka_unit_test(test_is_wildcard),
	    cmocka_unit_test(test_fragment_ok),
	    cmocka_unit_test(test_registered_domain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of src/lib/origin.c: parsing into host, port and TLS, the canonical text form and
 * its round trip, and every class of error with its reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/origin.h"

struct good {
	const char *in;
	const char *host;
	unsigned port;
	int tls;
	const char *canonical;
};

static const struct good goods[] = {
    {"backend.internal", "backend.internal", 0, 0, "backend.internal"},
    {"https://Backend.Internal:8443", "backend.internal", 8443, 1, "https://backend.internal:8443"},
    {"HTTPS://origin.customer.com", "origin.customer.com", 0, 1, "https://origin.customer.com"},
    {"http://origin.customer.com:80", "origin.customer.com", 80, 0, "origin.customer.com:80"},
    {"HtTp://origin.customer.com", "origin.customer.com", 0, 0, "origin.customer.com"},
    {"origin.customer.com.:1", "origin.customer.com", 1, 0, "origin.customer.com:1"},
    {"origin.customer.com:65535", "origin.customer.com", 65535, 0, "origin.customer.com:65535"},
    {"backend", "backend", 0, 0, "backend"},
    {"localhost:3000", "localhost", 3000, 0, "localhost:3000"},
    {"10.0.0.5:8080", "10.0.0.5", 8080, 0, "10.0.0.5:8080"},
    {"https://10.0.0.5", "10.0.0.5", 0, 1, "https://10.0.0.5"},
    {"[::1]:8443", "::1", 8443, 0, "[::1]:8443"},
    {"[::1]", "::1", 0, 0, "[::1]"},
    {"::1", "::1", 0, 0, "[::1]"},
    {"https://[2001:DB8:0::1]:443", "2001:db8::1", 443, 1, "https://[2001:db8::1]:443"},
    {"https://2001:db8::1", "2001:db8::1", 0, 1, "https://[2001:db8::1]"},
    /* without brackets every colon belongs to the address: no port here */
    {"2001:db8::1:8443", "2001:db8::1:8443", 0, 0, "[2001:db8::1:8443]"},
    {"b\u00fccher.de:443", "xn--bcher-kva.de", 443, 0, "xn--bcher-kva.de:443"},
    {"origin.example.com", "origin.example.com", 0, 0, "origin.example.com"},
};

static void test_parse_and_format(void **state)
{
	struct origin o, again;
	char text[512], text2[512], reason[256];

	(void)state;
	for (size_t i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		const struct good *g = &goods[i];
		enum hostname_verdict v = origin_parse(g->in, &o, reason, sizeof(reason));

		if (v != HOSTNAME_OK)
			fail_msg("\"%s\": verdict %d, want OK (reason: %s)", g->in, v, reason);
		assert_string_equal(o.host, g->host);
		assert_int_equal(o.port, g->port);
		assert_int_equal(o.tls, g->tls);
		origin_format(&o, text, sizeof(text));
		assert_string_equal(text, g->canonical);
		/* the canonical form parses back to the same origin and prints the same */
		assert_int_equal(origin_parse(text, &again, reason, sizeof(reason)), HOSTNAME_OK);
		assert_string_equal(again.host, o.host);
		assert_int_equal(again.port, o.port);
		assert_int_equal(again.tls, o.tls);
		origin_format(&again, text2, sizeof(text2));
		assert_string_equal(text2, text);
	}
}

struct bad {
	const char *in;
	enum hostname_verdict want;
	const char *reason;
};

static const struct bad bads[] = {
    {"", HOSTNAME_INVALID, "empty"},
    {"https://", HOSTNAME_INVALID, "empty"},
    {"ftp://origin.customer.com", HOSTNAME_INVALID, "unsupported scheme 'ftp'"},
    {"ws://origin.customer.com", HOSTNAME_INVALID, "unsupported scheme 'ws'"},
    {"://origin.customer.com", HOSTNAME_INVALID, "unsupported scheme"},
    /* not scheme characters: not quoted (a cut could split a UTF-8 character) */
    {"http\xdc\x9cx://origin.customer.com", HOSTNAME_INVALID, "unsupported scheme, use"},
    {"abcdefghijklmnopq://origin.customer.com", HOSTNAME_INVALID, "unsupported scheme, use"},
    {"https://user@origin.customer.com", HOSTNAME_INVALID, "user information"},
    {"https://user:pw@origin.customer.com", HOSTNAME_INVALID, "user information"},
    {"https://origin.customer.com/", HOSTNAME_INVALID, "a path"},
    {"origin.customer.com/app", HOSTNAME_INVALID, "a path"},
    {"origin.customer.com?x=1", HOSTNAME_INVALID, "a query"},
    {"origin.customer.com#top", HOSTNAME_INVALID, "a fragment"},
    {"origin.customer.com:", HOSTNAME_INVALID, "invalid port"},
    {"origin.customer.com:0", HOSTNAME_INVALID, "invalid port"},
    {"origin.customer.com:65536", HOSTNAME_INVALID, "invalid port"},
    {"origin.customer.com:123456", HOSTNAME_INVALID, "invalid port"},
    {"origin.customer.com:-1", HOSTNAME_INVALID, "invalid port"},
    {"origin.customer.com:+80", HOSTNAME_INVALID, "invalid port"},
    {"origin.customer.com:80a", HOSTNAME_INVALID, "invalid port"},
    {"origin.customer.com:0x50", HOSTNAME_INVALID, "invalid port"},
    {"origin.customer.com:0080", HOSTNAME_INVALID, "invalid port"},
    {"origin.customer.com: 80", HOSTNAME_INVALID, "invalid port"},
    {"[::1]:", HOSTNAME_INVALID, "invalid port"},
    {"[::1]:99999", HOSTNAME_INVALID, "invalid port"},
    {"[::1", HOSTNAME_INVALID, "brackets"},
    {"[::1]x", HOSTNAME_INVALID, "brackets"},
    {"[::1]]:80", HOSTNAME_INVALID, "brackets"},
    {"[origin.customer.com]:80", HOSTNAME_INVALID, "'['"},
    {"[1.2.3.4]", HOSTNAME_INVALID, "'['"},
    {"[gggg::1]:80", HOSTNAME_INVALID, "'['"},
    {"*.customer.com", HOSTNAME_WILDCARD, "wildcard"},
    {"https://*.customer.com:443", HOSTNAME_WILDCARD, "wildcard"},
    {"a.*.customer.com", HOSTNAME_INVALID, "wildcard"},
    {"my_origin.customer.com", HOSTNAME_INVALID, "'_'"},
    {"origin customer.com", HOSTNAME_INVALID, "space"},
    {"127.1:80", HOSTNAME_INVALID, "decimal"},
    {"xn--zz.customer.com", HOSTNAME_NON_ASCII, "xn--zz"},
    {"\U0001F4A9.la:443", HOSTNAME_NON_ASCII, "disallowed"},
};

static void test_errors(void **state)
{
	struct origin o;
	char reason[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const struct bad *b = &bads[i];
		enum hostname_verdict v;

		reason[0] = '\0';
		memset(&o, 0x5a, sizeof(o));
		v = origin_parse(b->in, &o, reason, sizeof(reason));
		if (v != b->want)
			fail_msg("\"%s\": verdict %d, want %d (reason: %s)", b->in, v, b->want,
				 reason);
		if (!strstr(reason, b->reason))
			fail_msg("\"%s\": reason \"%s\" lacks \"%s\"", b->in, reason, b->reason);
		/* a refused origin leaves nothing half-filled behind */
		assert_string_equal(o.host, "");
		assert_int_equal(o.port, 0);
		assert_int_equal(o.tls, 0);
	}
}

static void test_null_and_long(void **state)
{
	struct origin o;
	char text[2048];

	(void)state;
	assert_int_equal(origin_parse(NULL, &o, NULL, 0), HOSTNAME_INVALID);
	assert_int_equal(origin_parse("a_b:80", &o, NULL, 0), HOSTNAME_INVALID);
	memset(text, 'a', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	assert_int_equal(origin_parse(text, &o, NULL, 0), HOSTNAME_INVALID);
	memcpy(text + sizeof(text) - 5, ":443", 5);
	assert_int_equal(origin_parse(text, &o, NULL, 0), HOSTNAME_INVALID);
}

/* A short output buffer truncates, never overruns; a zero-size one is left alone. */
static void test_format_bounds(void **state)
{
	struct origin o = {.host = "2001:db8::1", .port = 8443, .tls = 1};
	char small[10];
	char none = 'x';

	(void)state;
	origin_format(&o, small, sizeof(small));
	assert_string_equal(small, "https://[");
	origin_format(&o, &none, 0);
	assert_int_equal(none, 'x');
}

/* The text sent is kept when it is the canonical form in other letter case, and only then. */
static void test_format_as_sent(void **state)
{
	static const struct {
		const char *sent, *shown;
	} cases[] = {
	    {"Fallback.Provider.COM", "Fallback.Provider.COM"},
	    {"HTTPS://Origin.Provider.COM:8443", "HTTPS://Origin.Provider.COM:8443"},
	    {"[2001:DB8::1]:443", "[2001:DB8::1]:443"},
	    {"origin.provider.com.", "origin.provider.com"},           /* a final dot */
	    {"http://Origin.Provider.COM", "origin.provider.com"},     /* a dropped scheme */
	    {"[2001:DB8:0::1]:443", "[2001:db8::1]:443"},              /* another spelling */
	    {"B\xc3\xbc" "cher.Provider.com", "xn--bcher-kva.provider.com"}, /* an IDN */
	};
	char out[300], small[8];
	struct origin o;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(origin_parse(cases[i].sent, &o, NULL, 0), HOSTNAME_OK);
		origin_format_as_sent(&o, cases[i].sent, out, sizeof(out));
		assert_string_equal(out, cases[i].shown);
	}
	/* too long for the buffer: the truncated canonical form, never the sent text */
	assert_int_equal(origin_parse("Origin.Provider.COM", &o, NULL, 0), HOSTNAME_OK);
	origin_format_as_sent(&o, "Origin.Provider.COM", small, sizeof(small));
	assert_string_equal(small, "origin.");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_and_format),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_null_and_long),
	    cmocka_unit_test(test_format_bounds),
	    cmocka_unit_test(test_format_as_sent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

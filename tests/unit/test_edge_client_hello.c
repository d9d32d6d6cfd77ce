/* Unit tests of src/edge/client_hello.c: an SNI must be a lower-cased LDH hostname (CR LF,
 * "*.", "_", spaces, non-ASCII, empty labels and over-long names are invalid, with nothing left
 * in the output), the extension's framing is checked, and ECDSA is found in signature_algorithms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edge/client_hello.h"

/* The server_name extension body for NAME (LEN bytes). */
static size_t sni_ext(const char *name, size_t len, unsigned char *out)
{
	out[0] = (unsigned char)((len + 3) >> 8);
	out[1] = (unsigned char)(len + 3);
	out[2] = 0;
	out[3] = (unsigned char)(len >> 8);
	out[4] = (unsigned char)len;
	memcpy(out + 5, name, len);
	return len + 5;
}

static enum client_hello_sni parse_sni(const char *name, size_t len, char *out)
{
	unsigned char ext[600];

	return client_hello_parse_sni(ext, sni_ext(name, len, ext), out, 256);
}

static void test_sni(void **state)
{
	static const char *const invalid[] = {
	    "x\r\ntransfer-encoding: chunked\r\nx-pad: y.wild.example.com",
	    "*.wild.example.com", "a..b.com", ".a.com", "a.com..", "-a.com", "a-.com", "a_b.com",
	    "a b.com", "caf\xc3\xa9.com", "a.com/", "a:443", "a\tb.com", ".", "a\x7f.com",
	};
	char out[256], name[300];
	unsigned char ext[16];

	(void)state;
	assert_int_equal(parse_sni("Shop.Example.COM", 16, out), CLIENT_HELLO_SNI_OK);
	assert_string_equal(out, "shop.example.com");
	assert_int_equal(parse_sni("shop.example.com.", 17, out), CLIENT_HELLO_SNI_OK);
	assert_string_equal(out, "shop.example.com");
	assert_int_equal(parse_sni("xn--caf-dma.example", 19, out), CLIENT_HELLO_SNI_OK);
	assert_int_equal(parse_sni("localhost", 9, out), CLIENT_HELLO_SNI_OK);
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		if (parse_sni(invalid[i], strlen(invalid[i]), out) != CLIENT_HELLO_SNI_INVALID)
			fail_msg("SNI \"%s\" was accepted", invalid[i]);
		assert_string_equal(out, "");
	}
	assert_int_equal(parse_sni("a\0b.com", 7, out), CLIENT_HELLO_SNI_INVALID);
	/* lengths: a 63-character label and a 253-character name are the largest */
	memset(name, 'a', 64);
	memcpy(name + 63, ".com", 4);
	assert_int_equal(parse_sni(name, 67, out), CLIENT_HELLO_SNI_OK); /* 63 + ".com" */
	memset(name, 'a', 64);
	memcpy(name + 64, ".com", 4);
	assert_int_equal(parse_sni(name, 68, out), CLIENT_HELLO_SNI_INVALID);
	for (int i = 0; i < 300; i += 2) {
		name[i] = 'a';
		name[i + 1] = '.';
	}
	name[252] = 'a';
	assert_int_equal(parse_sni(name, 253, out), CLIENT_HELLO_SNI_OK);
	name[253] = 'a';
	assert_int_equal(parse_sni(name, 254, out), CLIENT_HELLO_SNI_INVALID);
	/* framing */
	assert_int_equal(client_hello_parse_sni(NULL, 0, out, sizeof(out)), CLIENT_HELLO_SNI_ABSENT);
	assert_int_equal(client_hello_parse_sni(ext, 4, out, sizeof(out)), CLIENT_HELLO_SNI_INVALID);
	sni_ext("a.com", 5, ext);
	ext[2] = 1; /* not host_name */
	assert_int_equal(client_hello_parse_sni(ext, 10, out, sizeof(out)), CLIENT_HELLO_SNI_INVALID);
	sni_ext("a.com", 5, ext);
	assert_int_equal(client_hello_parse_sni(ext, 9, out, sizeof(out)), CLIENT_HELLO_SNI_INVALID);
	ext[4] = 9; /* name longer than the extension */
	assert_int_equal(client_hello_parse_sni(ext, 10, out, sizeof(out)), CLIENT_HELLO_SNI_INVALID);
}

static void test_sigalgs(void **state)
{
	static const unsigned char rsa_only[] = {0, 4, 0x08, 0x04, 0x04, 0x01};
	static const unsigned char with_ecdsa[] = {0, 4, 0x08, 0x04, 0x04, 0x03};

	(void)state;
	assert_int_equal(client_hello_sigalgs_ecdsa(NULL, 0), 1);
	assert_int_equal(client_hello_sigalgs_ecdsa(rsa_only, sizeof(rsa_only)), 0);
	assert_int_equal(client_hello_sigalgs_ecdsa(with_ecdsa, sizeof(with_ecdsa)), 1);
	assert_int_equal(client_hello_sigalgs_ecdsa(with_ecdsa, 1), 0);
}

static void test_suites(void **state)
{
	static const unsigned char tls13[] = {0x13, 0x01, 0xc0, 0x2f};
	static const unsigned char ecdsa12[] = {0xc0, 0x2f, 0xc0, 0x2b};
	static const unsigned char rsa_only[] = {0xc0, 0x2f, 0xc0, 0x30, 0xcc, 0xa8, 0x00, 0x9c};
	static const unsigned char ecdsa_cbc_only[] = {0xc0, 0x09, 0xc0, 0x2f};

	(void)state;
	assert_int_equal(client_hello_suites_ecdsa(tls13, sizeof(tls13)), 1);
	assert_int_equal(client_hello_suites_ecdsa(ecdsa12, sizeof(ecdsa12)), 1);
	assert_int_equal(client_hello_suites_ecdsa(rsa_only, sizeof(rsa_only)), 0);
	/* an ECDSA CBC suite is not one the edge accepts: RSA-GCM it is */
	assert_int_equal(client_hello_suites_ecdsa(ecdsa_cbc_only, sizeof(ecdsa_cbc_only)), 0);
	assert_int_equal(client_hello_suites_ecdsa(ecdsa12, 1), 0);
	assert_int_equal(client_hello_suites_ecdsa(NULL, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sni),
	    cmocka_unit_test(test_sigalgs),
	    cmocka_unit_test(test_suites),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

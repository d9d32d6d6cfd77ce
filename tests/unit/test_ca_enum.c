/* Unit tests of src/api/ca_enum.c: which of saasedge's CAs answer ssl.certificate_authority with
 * a value of Cloudflare's enum (docs/decisions/0030). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/ca_enum.h"
#include "lib/config.h"

static struct config cfg;

static void set(const char *ca, const char *directory)
{
	char key[128], err[256];

	snprintf(key, sizeof(key), "ca.%s.directory", ca);
	assert_int_equal(config_set(&cfg, key, directory, err, sizeof(err)), 0);
}

static int setup(void **state)
{
	(void)state;
	config_defaults(&cfg, 0);
	set("lets_encrypt", "https://acme-v02.api.letsencrypt.org/directory");
	set("google", "https://dv.acme-v02.test-api.pki.goog/directory");
	set("ssl_com", "https://ACME.SSL.COM:443/sslcom-dv-ecc");
	set("digicert", "http://acme.digicert.com/v2/acme/directory"); /* not https */
	set("pebble", "https://127.0.0.1:14000/dir");
	set("le", "https://acme-v02.api.letsencrypt.org/directory"); /* another name */
	return 0;
}

static void test_cloudflare_cas_by_name_and_domain(void **state)
{
	(void)state;
	assert_string_equal(ca_enum_value(&cfg, "lets_encrypt"), "lets_encrypt");
	assert_string_equal(ca_enum_value(&cfg, "google"), "google");
	assert_string_equal(ca_enum_value(&cfg, "ssl_com"), "ssl_com");
}

static void test_anything_else_is_left_out(void **state)
{
	(void)state;
	assert_null(ca_enum_value(&cfg, "digicert")); /* its directory is not https */
	assert_null(ca_enum_value(&cfg, "pebble"));
	assert_null(ca_enum_value(&cfg, "internal"));
	assert_null(ca_enum_value(&cfg, "le")); /* Let's Encrypt, but not under its enum name */
	assert_null(ca_enum_value(&cfg, ""));
}

static void test_a_name_on_another_domain_is_left_out(void **state)
{
	static const char *const elsewhere[] = {
	    "https://127.0.0.1:14000/dir",
	    "https://letsencrypt.org.example.com/directory",
	    "https://notletsencrypt.org/directory",
	    "https://acme-v02.api.letsencrypt.org@evil.example/directory",
	    "https://evil.example/acme-v02.api.letsencrypt.org",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(elsewhere) / sizeof(elsewhere[0]); i++) {
		set("lets_encrypt", elsewhere[i]);
		assert_null(ca_enum_value(&cfg, "lets_encrypt"));
	}
	set("lets_encrypt", "https://letsencrypt.org");
	assert_string_equal(ca_enum_value(&cfg, "lets_encrypt"), "lets_encrypt");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cloudflare_cas_by_name_and_domain),
	    cmocka_unit_test(test_anything_else_is_left_out),
	    cmocka_unit_test(test_a_name_on_another_domain_is_left_out),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}

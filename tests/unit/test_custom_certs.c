/* The pure validation of custom CSRs and uploaded certificates (src/api/csr_input.c,
 * src/api/cert_verify.c): each rule gives its Cloudflare code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "api/cert_verify.h"
#include "api/csr_input.h"
#include "lib/keys.h"
#include "lib/timeutil.h"

static int first_code(const struct api_response *res)
{
	json_t *e = json_array_get(json_object_get(res->body, "errors"), 0);

	return (int)json_integer_value(json_object_get(e, "code"));
}

static void test_country_codes(void **state)
{
	assert_true(csr_country_known("US"));
	assert_true(csr_country_known("us"));
	assert_true(csr_country_known("AD"));
	assert_true(csr_country_known("ZW"));
	assert_false(csr_country_known("XX"));
	assert_false(csr_country_known("UK")); /* GB is the assigned code */
	assert_false(csr_country_known("USA"));
	assert_false(csr_country_known("U"));
	assert_false(csr_country_known("1A"));
}

static const char good[] = "{\"country\":\"us\",\"state\":\"MA\",\"locality\":\"Boston\","
			   "\"organization\":\"City\",\"common_name\":\"App.Customer.com\","
			   "\"sans\":[\"app.customer.com\",\"WWW.customer.com\","
			   "\"app.customer.com\"],\"key_type\":\"p256v1\"}";

static void test_csr_parse_ok(void **state)
{
	json_t *body = json_loads(good, 0, NULL);
	struct api_response res = {0};
	struct csr_request rq;

	assert_int_equal(csr_input_parse(body, &rq, &res), 0);
	assert_string_equal(rq.country, "US");
	assert_string_equal(rq.common_name, "app.customer.com");
	assert_int_equal(rq.key_type, KEY_ECDSA_P256);
	assert_int_equal(rq.n_sans, 2); /* the repeated SAN is dropped, names normalised */
	assert_string_equal(rq.sans[1], "www.customer.com");
	assert_string_equal(rq.organizational_unit, "");
	assert_null(rq.name);
	csr_request_dispose(&rq);
	json_decref(body);
}

/* BODY with KEY set to VALUE (a JSON text, or NULL to remove it) gives CODE. */
static void expect_code(const char *key, const char *value, int code)
{
	json_t *body = json_loads(good, 0, NULL);
	struct api_response res = {0};
	struct csr_request rq;

	if (value)
		json_object_set_new(body, key, json_loads(value, JSON_DECODE_ANY, NULL));
	else
		json_object_del(body, key);
	if (csr_input_parse(body, &rq, &res) == 0) {
		csr_request_dispose(&rq);
		fail_msg("%s=%s was accepted, expected %d", key, value ? value : "(absent)", code);
	}
	assert_int_equal(first_code(&res), code);
	assert_int_equal(res.status, 400);
	api_response_dispose(&res);
	json_decref(body);
}

static void test_csr_codes(void **state)
{
	expect_code("country", NULL, 1405);
	expect_code("country", "\"XX\"", 1405);
	expect_code("state", NULL, 1406);
	expect_code("state", "7", 1406);
	expect_code("locality", "\"\"", 1407);
	expect_code("organization", NULL, 1408);
	expect_code("common_name", NULL, 1409);
	expect_code("common_name",
		    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com\"",
		    1410); /* 65 characters */
	expect_code("sans", NULL, 1411);
	expect_code("sans", "[]", 1411);
	expect_code("sans", "[\"a b.com\"]", 1412);
	expect_code("sans", "[\"x.test\"]", 1414);
	expect_code("sans", "[\"co.uk\"]", 1415);
	expect_code("sans", "[\"a.example.org\"]", 1416);
	expect_code("key_type", "\"ed25519\"", 1417);
}

/* A self-signed leaf for NAME (SAN) valid from NOT_BEFORE for DAYS, as PEM; key PEM too. */
static void self_signed(const char *name, long offset_days, long days, char **cert_pem,
			char **key_pem)
{
	EVP_PKEY *pkey = NULL;
	X509 *x = X509_new();
	GENERAL_NAMES *san = NULL;
	BIO *b1 = BIO_new(BIO_s_mem()), *b2 = BIO_new(BIO_s_mem());
	const char *names[] = {name};
	char *p;
	long n;

	assert_int_equal(keys_generate(KEY_ECDSA_P256, &pkey), 0);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)name, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_gmtime_adj(X509_getm_notBefore(x), offset_days * 86400);
	X509_gmtime_adj(X509_getm_notAfter(x), (offset_days + days) * 86400);
	X509_set_pubkey(x, pkey);
	assert_int_equal(keys_san_new(names, 1, &san), 0);
	X509_add1_ext_i2d(x, NID_subject_alt_name, san, 0, 0);
	GENERAL_NAMES_free(san);
	assert_true(X509_sign(x, pkey, EVP_sha256()) > 0);
	PEM_write_bio_X509(b1, x);
	PEM_write_bio_PrivateKey(b2, pkey, NULL, NULL, 0, NULL, NULL);
	n = BIO_get_mem_data(b1, &p);
	*cert_pem = strndup(p, (size_t)n);
	n = BIO_get_mem_data(b2, &p);
	*key_pem = strndup(p, (size_t)n);
	BIO_free(b1);
	BIO_free(b2);
	X509_free(x);
	EVP_PKEY_free(pkey);
}

static enum api_error verify(const char *cert, const char *key, const char *host, X509_STORE *trust)
{
	struct cert_verify_in in = {cert, key, NULL, host, "ubiquitous", trust, time_now_us()};
	struct cert_verified out;
	enum api_error err = API_ERR_COUNT_;
	char detail[200];

	if (cert_verify(&in, &out, &err, detail, sizeof(detail)) == 0) {
		cert_verified_dispose(&out);
		return API_ERR_COUNT_;
	}
	assert_null(strstr(detail, "PRIVATE"));
	return err;
}

static void test_cert_checks(void **state)
{
	X509_STORE *empty = X509_STORE_new(), *self = X509_STORE_new();
	char *cert, *key, *cert2, *key2, *old, *old_key;
	X509 *x;
	BIO *b;

	self_signed("app.customer.com", -1, 30, &cert, &key);
	self_signed("app.customer.com", -1, 30, &cert2, &key2);
	self_signed("app.customer.com", -20, 10, &old, &old_key);
	b = BIO_new_mem_buf(cert, -1);
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	X509_STORE_add_cert(self, x); /* trusting the certificate itself makes a chain */
	X509_free(x);
	BIO_free(b);

	assert_int_equal(verify("  \n", key, "app.customer.com", empty), API_ERR_CERT_EMPTY);
	assert_int_equal(verify("junk", key, "app.customer.com", empty), API_ERR_CERT_PARSE);
	assert_int_equal(verify(cert, "junk", "app.customer.com", empty), API_ERR_KEY_PARSE);
	assert_int_equal(verify(cert, key2, "app.customer.com", empty), API_ERR_KEY_MISMATCH);
	assert_int_equal(verify(cert, key, "other.customer.com", empty), API_ERR_CERT_HOSTNAME);
	assert_int_equal(verify(cert, key, "a.app.customer.com", empty), API_ERR_CERT_HOSTNAME);
	assert_int_equal(verify(old, old_key, "app.customer.com", empty), API_ERR_CERT_EXPIRED);
	assert_int_equal(verify(cert, key, "app.customer.com", empty), API_ERR_CERT_UNTRUSTED);
	assert_int_equal(verify(cert, key, "app.customer.com", self), API_ERR_COUNT_);

	free(cert);
	free(key);
	free(cert2);
	free(key2);
	free(old);
	free(old_key);
	X509_STORE_free(empty);
	X509_STORE_free(self);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_country_codes),
	    cmocka_unit_test(test_csr_parse_ok),
	    cmocka_unit_test(test_csr_codes),
	    cmocka_unit_test(test_cert_checks),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	keys_thread_cleanup();
	return rc;
}

/* Unit tests of src/lib/keys*.c and src/lib/x509_*.c: key generation, DER round trips, sealing,
 * CSRs, certificate facts and PEM chains. Certificates are made here with plain OpenSSL calls so
 * that the code under test is checked against something it did not produce. The last test
 * prints timings (key generation, typed vs auto-detected DER decoding); it asserts nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <pthread.h>

#include "lib/error.h"
#include "lib/keys.h"
#include "lib/secretbox.h"
#include "lib/x509_info.h"

static EVP_PKEY *new_key(enum key_type type)
{
	EVP_PKEY *k = NULL;

	assert_int_equal(keys_generate(type, &k), 0);
	assert_non_null(k);
	return k;
}

/* The key pool's generation: a raised stop flag abandons it (a shutdown never waits for an RSA
 * key), a clear one gives the same keys as keys_generate. */
static void test_generate_unless_stopped(void **state)
{
	atomic_int stop = 0;
	EVP_PKEY *k = NULL;
	struct timespec a, b;
	char group[32];

	(void)state;
	assert_int_equal(keys_generate_unless(KEY_RSA_2048, &stop, &k), 0);
	assert_int_equal(EVP_PKEY_get_base_id(k), EVP_PKEY_RSA);
	assert_int_equal(EVP_PKEY_get_bits(k), 2048);
	EVP_PKEY_free(k);
	assert_int_equal(keys_generate_unless(KEY_ECDSA_P256, &stop, &k), 0);
	assert_int_equal(EVP_PKEY_get_base_id(k), EVP_PKEY_EC);
	assert_int_equal(EVP_PKEY_get_group_name(k, group, sizeof(group), NULL), 1);
	assert_string_equal(group, "prime256v1");
	EVP_PKEY_free(k);

	stop = 1;
	clock_gettime(CLOCK_MONOTONIC, &a);
	k = (EVP_PKEY *)1;
	assert_int_equal(keys_generate_unless(KEY_RSA_2048, &stop, &k), SE_EBUSY);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_null(k);
	/* Abandoned at the first prime candidate: far below one generation (0.1-0.5 s). */
	assert_true((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < 50);
	assert_int_equal(ERR_peek_error(), 0);
}

static void test_generate_both_types(void **state)
{
	EVP_PKEY *ec = new_key(KEY_ECDSA_P256), *rsa = new_key(KEY_RSA_2048), *bad = NULL;
	char group[32];
	enum key_type t;

	assert_int_equal(EVP_PKEY_get_base_id(ec), EVP_PKEY_EC);
	assert_int_equal(EVP_PKEY_get_group_name(ec, group, sizeof(group), NULL), 1);
	assert_string_equal(group, "prime256v1");
	assert_int_equal(EVP_PKEY_get_base_id(rsa), EVP_PKEY_RSA);
	assert_int_equal(EVP_PKEY_get_bits(rsa), 2048);
	assert_int_equal(keys_type_of(rsa, &t), 0);
	assert_int_equal(t, KEY_RSA_2048);
	assert_int_equal(keys_generate((enum key_type)7, &bad), SE_EINVAL);
	assert_null(bad);
	assert_string_equal(keys_type_name(KEY_ECDSA_P256), "ecdsa");
	assert_int_equal(keys_type_parse("rsa", &t), 0);
	assert_int_equal(t, KEY_RSA_2048);
	assert_int_equal(keys_type_parse("dsa", &t), SE_EINVAL);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(rsa);
}

static void der_round_trip(enum key_type type, enum key_type other)
{
	EVP_PKEY *k = new_key(type), *back = NULL;
	unsigned char *der = NULL, *longer;
	size_t len = 0;

	assert_int_equal(keys_private_to_der(k, &der, &len), 0);
	assert_int_equal(keys_private_from_der(type, der, len, &back), 0);
	assert_int_equal(EVP_PKEY_eq(k, back), 1);
	EVP_PKEY_free(back);
	/* wrong family, truncation and trailing bytes are all refused, with a clean error queue */
	assert_int_equal(keys_private_from_der(other, der, len, &back), SE_ECRYPTO);
	assert_null(back);
	assert_int_equal(keys_private_from_der(type, der, len - 5, &back), SE_ECRYPTO);
	longer = malloc(len + 1);
	assert_non_null(longer);
	memcpy(longer, der, len);
	longer[len] = 0;
	assert_int_equal(keys_private_from_der(type, longer, len + 1, &back), SE_ECRYPTO);
	assert_int_equal(ERR_peek_error(), 0);
	/* the thread's cached decoder still works after failures */
	assert_int_equal(keys_private_from_der(type, der, len, &back), 0);
	assert_int_equal(EVP_PKEY_eq(k, back), 1);
	EVP_PKEY_free(back);
	free(longer);
	OPENSSL_clear_free(der, len);
	EVP_PKEY_free(k);
}

static void test_der_round_trip(void **state)
{
	der_round_trip(KEY_ECDSA_P256, KEY_RSA_2048);
	der_round_trip(KEY_RSA_2048, KEY_ECDSA_P256);
}

struct decode_job {
	const unsigned char *der;
	size_t len;
	EVP_PKEY *out;
};

static void *decode_thread(void *arg)
{
	struct decode_job *job = arg;

	keys_private_from_der(KEY_ECDSA_P256, job->der, job->len, &job->out);
	return NULL; /* the thread's decoder cache is freed by its pthread key destructor */
}

static void test_der_decode_in_threads(void **state)
{
	EVP_PKEY *k = new_key(KEY_ECDSA_P256);
	struct decode_job jobs[4] = {{0}};
	pthread_t t[4];
	unsigned char *der = NULL;
	size_t len = 0;

	assert_int_equal(keys_private_to_der(k, &der, &len), 0);
	for (int i = 0; i < 4; i++) {
		jobs[i].der = der;
		jobs[i].len = len;
		assert_int_equal(pthread_create(&t[i], NULL, decode_thread, &jobs[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_non_null(jobs[i].out);
		assert_int_equal(EVP_PKEY_eq(k, jobs[i].out), 1);
		EVP_PKEY_free(jobs[i].out);
	}
	OPENSSL_clear_free(der, len);
	EVP_PKEY_free(k);
}

static void test_seal_round_trip(void **state)
{
	struct secretbox box, other;
	EVP_PKEY *k = new_key(KEY_ECDSA_P256), *back = NULL;
	unsigned char *sealed = NULL, *der = NULL;
	size_t sealed_len = 0, der_len = 0;

	memset(box.key, 0x11, sizeof(box.key));
	memset(other.key, 0x22, sizeof(other.key));
	assert_int_equal(keys_seal(&box, k, "key:1", &sealed, &sealed_len), 0);
	assert_int_equal(keys_private_to_der(k, &der, &der_len), 0);
	assert_int_equal(sealed_len, der_len + SECRETBOX_OVERHEAD);
	assert_null(memmem(sealed, sealed_len, der + 8, der_len - 8));
	assert_int_equal(keys_unseal(&box, KEY_ECDSA_P256, sealed, sealed_len, "key:1", &back), 0);
	assert_int_equal(EVP_PKEY_eq(k, back), 1);
	EVP_PKEY_free(back);
	back = NULL;
	assert_int_equal(keys_unseal(&box, KEY_ECDSA_P256, sealed, sealed_len, "key:2", &back),
			 SE_ECRYPTO);
	assert_int_equal(keys_unseal(&other, KEY_ECDSA_P256, sealed, sealed_len, "key:1", &back),
			 SE_ECRYPTO);
	assert_int_equal(keys_unseal(&box, KEY_RSA_2048, sealed, sealed_len, "key:1", &back),
			 SE_ECRYPTO);
	assert_null(back);
	free(sealed);
	OPENSSL_clear_free(der, der_len);
	EVP_PKEY_free(k);
}

static X509_REQ *parse_csr(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)len);

	assert_non_null(req);
	assert_ptr_equal(p, der + len);
	return req;
}

/* The dNSName entries of REQ's subjectAltName, joined with ",". */
static void csr_sans(X509_REQ *req, char *out, size_t cap)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
	int idx = X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1);
	GENERAL_NAMES *gens;

	assert_true(idx >= 0);
	gens = X509V3_EXT_d2i(sk_X509_EXTENSION_value(exts, idx));
	assert_non_null(gens);
	out[0] = '\0';
	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, i);

		assert_int_equal(gn->type, GEN_DNS);
		snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? "," : "",
			 (const char *)ASN1_STRING_get0_data(gn->d.dNSName));
	}
	GENERAL_NAMES_free(gens);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
}

static void subject_field(X509_REQ *req, int nid, char *out, size_t cap)
{
	int n = X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), nid, out, (int)cap);

	if (n < 0)
		out[0] = '\0';
}

static void check_csr(EVP_PKEY *k, const char *const *names, size_t n, const char *want_cn,
		      const char *want_sans)
{
	unsigned char *der = NULL;
	size_t len = 0;
	char buf[1024];
	X509_REQ *req;

	assert_int_equal(keys_build_csr(k, names, n, NULL, &der, &len), 0);
	req = parse_csr(der, len);
	assert_int_equal(X509_REQ_verify(req, k), 1);
	subject_field(req, NID_commonName, buf, sizeof(buf));
	assert_string_equal(buf, want_cn);
	csr_sans(req, buf, sizeof(buf));
	assert_string_equal(buf, want_sans);
	X509_REQ_free(req);
	OPENSSL_free(der);
}

static void test_csr_names(void **state)
{
	EVP_PKEY *ec = new_key(KEY_ECDSA_P256), *rsa = new_key(KEY_RSA_2048);
	const char *one[] = {"app.customer.com"};
	const char *three[] = {"app.customer.com", "*.customer.com", "www.customer.com"};

	check_csr(ec, one, 1, "app.customer.com", "app.customer.com");
	check_csr(rsa, three, 3, "app.customer.com",
		  "app.customer.com,*.customer.com,www.customer.com");
	EVP_PKEY_free(ec);
	EVP_PKEY_free(rsa);
}

static void test_csr_long_first_name_san(void **state)
{
	EVP_PKEY *ec = new_key(KEY_ECDSA_P256);
	char name[71], want[200];
	const char *names[] = {name, "short.customer.com"};

	memset(name, 'x', 57);
	memcpy(name + 57, ".customer.com", 14); /* 70 characters */
	assert_int_equal(strlen(name), 70);
	snprintf(want, sizeof(want), "%s,short.customer.com", name);
	check_csr(ec, names, 2, "", want);
	EVP_PKEY_free(ec);
}

static void test_csr_subject_and_pem(void **state)
{
	EVP_PKEY *ec = new_key(KEY_ECDSA_P256);
	const char *names[] = {"shop.customer.com"};
	struct csr_subject subj = {"US", "California", "San Francisco", "Customer, Inc.", NULL};
	struct csr_subject bad = {"USA", NULL, NULL, NULL, NULL};
	unsigned char *der = NULL;
	size_t len = 0, pem_len = 0;
	char buf[128], *pem = NULL;
	X509_REQ *req, *again;
	BIO *bio;

	assert_int_equal(keys_build_csr(ec, names, 1, &subj, &der, &len), 0);
	req = parse_csr(der, len);
	subject_field(req, NID_countryName, buf, sizeof(buf));
	assert_string_equal(buf, "US");
	subject_field(req, NID_organizationName, buf, sizeof(buf));
	assert_string_equal(buf, "Customer, Inc.");
	subject_field(req, NID_organizationalUnitName, buf, sizeof(buf));
	assert_string_equal(buf, "");
	subject_field(req, NID_commonName, buf, sizeof(buf));
	assert_string_equal(buf, "shop.customer.com");
	assert_int_equal(keys_csr_to_pem(der, len, &pem, &pem_len), 0);
	assert_int_equal(strlen(pem), pem_len);
	assert_memory_equal(pem, "-----BEGIN CERTIFICATE REQUEST-----\n", 36);
	bio = BIO_new_mem_buf(pem, (int)pem_len);
	again = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
	assert_non_null(again);
	assert_int_equal(X509_REQ_verify(again, ec), 1);
	X509_REQ_free(again);
	BIO_free(bio);
	free(pem);
	X509_REQ_free(req);
	OPENSSL_free(der);
	der = NULL;
	assert_int_equal(keys_build_csr(ec, names, 1, &bad, &der, &len), SE_EINVAL);
	assert_null(der);
	EVP_PKEY_free(ec);
}

static void test_csr_bad_names(void **state)
{
	EVP_PKEY *ec = new_key(KEY_ECDSA_P256);
	const char *empty[] = {""}, *space[] = {"a b.com"}, *ok[] = {"a.com"};
	unsigned char *der = NULL;
	size_t len = 0;

	assert_int_equal(keys_build_csr(ec, ok, 0, NULL, &der, &len), SE_EINVAL);
	assert_int_equal(keys_build_csr(ec, empty, 1, NULL, &der, &len), SE_EINVAL);
	assert_int_equal(keys_build_csr(ec, space, 1, NULL, &der, &len), SE_EINVAL);
	assert_int_equal(keys_build_csr(ec, ok, KEYS_MAX_NAMES + 1, NULL, &der, &len), SE_EINVAL);
	assert_null(der);
	EVP_PKEY_free(ec);
}

/* A certificate made with plain OpenSSL: ISSUER_O / ISSUER_CN (either may be NULL), serial
 * bytes, validity in seconds since the epoch, the SAN entries, signed by ISSUER_KEY with MD. */
struct test_cert {
	EVP_PKEY *subject_key, *issuer_key;
	const EVP_MD *md;
	const char *issuer_o, *issuer_cn;
	const unsigned char *serial;
	size_t serial_len;
	time_t not_before, not_after;
	const char *const *names;
	size_t n;
};

static void add_name(X509_NAME *name, int nid, const char *value)
{
	const unsigned char *v = (const unsigned char *)value;
	int ok = 1;

	if (value)
		ok = X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8, v, -1, -1, 0);
	assert_int_equal(ok, 1);
}

static size_t make_cert(const struct test_cert *tc, unsigned char **der)
{
	X509 *x = X509_new();
	X509_NAME *issuer = X509_NAME_new(), *subject = X509_NAME_new();
	BIGNUM *bn = BN_bin2bn(tc->serial, (int)tc->serial_len, NULL);
	GENERAL_NAMES *san = NULL;
	int len;

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_non_null(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)));
	add_name(issuer, NID_organizationName, tc->issuer_o);
	add_name(issuer, NID_commonName, tc->issuer_cn);
	add_name(subject, NID_commonName, tc->names[0]);
	assert_int_equal(X509_set_issuer_name(x, issuer), 1);
	assert_int_equal(X509_set_subject_name(x, subject), 1);
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x), tc->not_before));
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), tc->not_after));
	assert_int_equal(X509_set_pubkey(x, tc->subject_key), 1);
	assert_int_equal(keys_san_new(tc->names, tc->n, &san), 0);
	{
		/* an IP entry that cert_info must skip */
		GENERAL_NAME *ip = a2i_GENERAL_NAME(NULL, NULL, NULL, GEN_IPADD, "192.0.2.1", 0);

		assert_non_null(ip);
		assert_true(sk_GENERAL_NAME_push(san, ip) > 0);
	}
	assert_int_equal(X509_add1_ext_i2d(x, NID_subject_alt_name, san, 0, 0), 1);
	assert_true(X509_sign(x, tc->issuer_key, tc->md) > 0);
	*der = NULL;
	len = i2d_X509(x, der);
	assert_true(len > 0);
	GENERAL_NAMES_free(san);
	BN_free(bn);
	X509_NAME_free(issuer);
	X509_NAME_free(subject);
	X509_free(x);
	return (size_t)len;
}

static void hex_of_digest(const unsigned char *der, size_t len, char out[65])
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	unsigned char md[32];
	unsigned int md_len = 0;

	assert_non_null(x);
	assert_int_equal(X509_digest(x, EVP_sha256(), md, &md_len), 1);
	assert_int_equal(md_len, 32);
	for (unsigned i = 0; i < md_len; i++)
		snprintf(out + 2 * i, 3, "%02X", md[i]); /* openssl x509 -fingerprint style */
	X509_free(x);
}

static void test_cert_info_fields(void **state)
{
	EVP_PKEY *ec = new_key(KEY_ECDSA_P256), *rsa = new_key(KEY_RSA_2048);
	const char *names[] = {"app.customer.com", "www.customer.com"};
	const unsigned char serial[] = {0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f, 0xff};
	struct test_cert tc = {ec,
			       ec,
			       EVP_sha256(),
			       "Let's Encrypt",
			       "R3",
			       serial,
			       sizeof(serial),
			       1700000000,
			       1707776000,
			       names,
			       2};
	struct cert_info info;
	unsigned char *der = NULL;
	size_t len = make_cert(&tc, &der);
	char want_fp[65];

	assert_int_equal(cert_info_from_der(der, len, &info), 0);
	assert_string_equal(info.serial, "0A1B2C3D4E5FFF");
	assert_string_equal(info.serial_decimal, "2844626588164095");
	assert_string_equal(info.issuer, "LetsEncrypt");
	assert_string_equal(info.signature, "ECDSAWithSHA256");
	assert_int_equal(info.not_before_us, 1700000000LL * 1000000);
	assert_int_equal(info.not_after_us, 1707776000LL * 1000000);
	assert_int_equal(info.key_type, KEY_ECDSA_P256);
	assert_int_equal(info.key_bits, 256);
	assert_int_equal(info.n_sans, 2);
	assert_string_equal(info.sans[0], "app.customer.com");
	assert_string_equal(info.sans[1], "www.customer.com");
	hex_of_digest(der, len, want_fp);
	assert_int_equal(strcasecmp(info.fingerprint_sha256, want_fp), 0);
	cert_info_dispose(&info);
	OPENSSL_free(der);

	/* RSA subject key signed by an RSA issuer with only a CN; SHA-256 and SHA-1 */
	tc.subject_key = rsa;
	tc.issuer_key = rsa;
	tc.issuer_o = NULL;
	tc.issuer_cn = "Cloudflare Inc ECC CA-3";
	tc.not_after = 2600000000; /* 2052: GeneralizedTime */
	len = make_cert(&tc, &der);
	assert_int_equal(cert_info_from_der(der, len, &info), 0);
	assert_string_equal(info.issuer, "CloudflareIncECCCA3");
	assert_string_equal(info.signature, "SHA256WithRSA");
	assert_int_equal(info.key_type, KEY_RSA_2048);
	assert_int_equal(info.key_bits, 2048);
	assert_int_equal(info.not_after_us, 2600000000LL * 1000000);
	cert_info_dispose(&info);
	OPENSSL_free(der);
	tc.md = EVP_sha1();
	len = make_cert(&tc, &der);
	assert_int_equal(cert_info_from_der(der, len, &info), 0);
	assert_string_equal(info.signature, "SHA1WithRSA");
	cert_info_dispose(&info);
	/* not a certificate, or one with trailing bytes */
	assert_int_equal(cert_info_from_der(der, len - 1, &info), SE_EINVAL);
	assert_int_equal(cert_info_from_der((const unsigned char *)"hello", 5, &info), SE_EINVAL);
	assert_null(info.sans);
	assert_int_equal(ERR_peek_error(), 0);
	OPENSSL_free(der);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(rsa);
}

static void test_pem_chain_split(void **state)
{
	EVP_PKEY *ec = new_key(KEY_ECDSA_P256);
	const char *names[] = {"a.customer.com"};
	const unsigned char serial[] = {1};
	struct test_cert tc = {ec, ec,         EVP_sha256(), "saasedge", NULL, serial,
			       1,  1700000000, 1800000000,   names,      1};
	unsigned char *ders[3], **got = NULL;
	size_t lens[3], *got_lens = NULL, count = 0, pem_len = 0;
	char *pem = NULL, bundle[8192];

	for (int i = 0; i < 3; i++)
		lens[i] = make_cert(&tc, &ders[i]);
	assert_int_equal(
	    cert_chain_to_pem((const unsigned char *const *)ders, lens, 3, &pem, &pem_len), 0);
	/* text around and between blocks is ignored, as in bundles people paste */
	snprintf(bundle, sizeof(bundle), "leaf first\n%s\n# end\n", pem);
	assert_int_equal(cert_chain_from_pem(bundle, strlen(bundle), &got, &got_lens, &count), 0);
	assert_int_equal(count, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(got_lens[i], lens[i]);
		assert_memory_equal(got[i], ders[i], lens[i]);
	}
	cert_chain_free(got, got_lens, count);
	/* a private key block is refused, not skipped */
	snprintf(bundle, sizeof(bundle),
		 "%s-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n", pem);
	assert_int_equal(cert_chain_from_pem(bundle, strlen(bundle), &got, &got_lens, &count),
			 SE_EINVAL);
	assert_null(got);
	assert_int_equal(cert_chain_from_pem("nothing", 7, &got, &got_lens, &count), SE_EINVAL);
	assert_int_equal(ERR_peek_error(), 0);
	free(pem);
	for (int i = 0; i < 3; i++)
		OPENSSL_free(ders[i]);
	EVP_PKEY_free(ec);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median_keygen_ms(enum key_type type)
{
	double t[10];

	for (int i = 0; i < 10; i++) {
		double start = now_us();
		EVP_PKEY_free(new_key(type));
		t[i] = (now_us() - start) / 1000;
	}
	qsort(t, 10, sizeof(t[0]), cmp_double);
	return (t[4] + t[5]) / 2;
}

/* µs per decode of DER with MODE 0: keys_private_from_der, 1: d2i_PrivateKey_ex with the
 * type, 2: d2i_AutoPrivateKey_ex (auto-detection). */
static double decode_us(enum key_type type, const unsigned char *der, size_t len, int mode)
{
	const int n = 200;
	double start = now_us();

	for (int i = 0; i < n; i++) {
		const unsigned char *p = der;
		EVP_PKEY *k = NULL;

		if (mode == 0)
			keys_private_from_der(type, der, len, &k);
		else if (mode == 1)
			k = d2i_PrivateKey_ex(type == KEY_RSA_2048 ? EVP_PKEY_RSA : EVP_PKEY_EC,
					      NULL, &p, (long)len, NULL, NULL);
		else
			k = d2i_AutoPrivateKey_ex(NULL, &p, (long)len, NULL, NULL);
		assert_non_null(k);
		EVP_PKEY_free(k);
	}
	return (now_us() - start) / n;
}

static void test_measure(void **state)
{
	printf("# method: wall time on this machine, ASan build when run by `make unit`: compare\n"
	       "# the rows with each other, not with other machines\n");
	for (int t = KEY_ECDSA_P256; t <= KEY_RSA_2048; t++) {
		EVP_PKEY *k = new_key((enum key_type)t);
		unsigned char *der = NULL;
		size_t len = 0;

		assert_int_equal(keys_private_to_der(k, &der, &len), 0);
		decode_us((enum key_type)t, der, len, 0); /* warm the thread's decoder */
		printf("# %-5s keygen median of 10: %.1f ms\n", keys_type_name((enum key_type)t),
		       median_keygen_ms((enum key_type)t));
		printf("# %-5s DER decode, 200 each: keys_private_from_der %.1f us, "
		       "d2i_PrivateKey_ex typed %.1f us, auto-detect %.1f us\n",
		       keys_type_name((enum key_type)t), decode_us((enum key_type)t, der, len, 0),
		       decode_us((enum key_type)t, der, len, 1),
		       decode_us((enum key_type)t, der, len, 2));
		OPENSSL_clear_free(der, len);
		EVP_PKEY_free(k);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_generate_both_types),
	    cmocka_unit_test(test_der_round_trip),
	    cmocka_unit_test(test_der_decode_in_threads),
	    cmocka_unit_test(test_seal_round_trip),
	    cmocka_unit_test(test_csr_names),
	    cmocka_unit_test(test_csr_long_first_name_san),
	    cmocka_unit_test(test_csr_subject_and_pem),
	    cmocka_unit_test(test_csr_bad_names),
	    cmocka_unit_test(test_cert_info_fields),
	    cmocka_unit_test(test_pem_chain_split),
	    cmocka_unit_test(test_generate_unless_stopped),
	    cmocka_unit_test(test_measure),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	keys_thread_cleanup();
	return rc;
}

/* Building an edge entry from a store record (src/edge/entry.c): a miss decodes only the
 * certificate its client is served, a later build shares what an older entry decoded of the
 * same stored certificate, and never what it decoded of a replaced one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/x509.h>

#include "edge/edge_int.h"
#include "lib/keys.h"
#include "lib/secretbox.h"
#include "store/store.h"

struct fixture {
	struct secretbox box;
	struct store_edge_entry rec; /* certs[0] ECDSA, certs[1] RSA */
};

/* A self-signed leaf for KEY, DER in the record's certificate I, its key sealed beside it. */
static void add_cert(struct fixture *fx, size_t i, enum key_type type, const char *id,
		     long serial)
{
	struct store_certificate *c = &fx->rec.certs[i];
	EVP_PKEY *key = NULL;
	X509 *x = X509_new();
	unsigned char *der = NULL;
	int len;

	assert_int_equal(keys_generate(type, &key), 0);
	assert_non_null(x);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"app.example.com", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	len = i2d_X509(x, &der);
	assert_true(len > 0);
	memset(c, 0, sizeof(*c));
	c->leaf_der = malloc((size_t)len);
	assert_non_null(c->leaf_der);
	memcpy(c->leaf_der, der, (size_t)len);
	c->leaf_len = (size_t)len;
	snprintf(c->id, sizeof(c->id), "%s", id);
	snprintf(c->key_type, sizeof(c->key_type), "%s", type == KEY_RSA_2048 ? "rsa" : "ecdsa");
	snprintf(c->private_key_id, sizeof(c->private_key_id), "key-%s", id);
	snprintf(c->serial, sizeof(c->serial), "%lX", serial);
	free(fx->rec.sealed_keys[i]);
	assert_int_equal(keys_seal(&fx->box, key, c->private_key_id, &fx->rec.sealed_keys[i],
				   &fx->rec.sealed_lens[i]),
			 0);
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(key);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	memset(fx->box.key, 7, sizeof(fx->box.key));
	snprintf(fx->rec.hostname, sizeof(fx->rec.hostname), "app.example.com");
	snprintf(fx->rec.pack_id, sizeof(fx->rec.pack_id), "pack-1");
	snprintf(fx->rec.pack_status, sizeof(fx->rec.pack_status), "active");
	fx->rec.settings_json = strdup("{}");
	fx->rec.n_certs = 2;
	add_cert(fx, 0, KEY_ECDSA_P256, "cert-ec-1", 1);
	add_cert(fx, 1, KEY_RSA_2048, "cert-rsa-1", 2);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	store_edge_entry_dispose(&fx->rec);
	edge_entry_chains_clear();
	free(fx);
	return 0;
}

static void test_miss_decodes_only_what_the_client_is_served(void **state)
{
	struct fixture *fx = *state;
	struct edge_entry *ec = NULL, *rsa = NULL, *none = NULL;

	assert_int_equal(
	    edge_entry_build("app.example.com", &fx->rec, &fx->box, ENTRY_NEED_ECDSA_CLIENT, NULL,
			     &ec),
	    0);
	assert_true(edge_entry_servable(ec));
	assert_non_null(ec->leaf[ENTRY_EC]);
	assert_non_null(ec->key[ENTRY_EC]);
	assert_null(ec->leaf[ENTRY_RSA]);
	assert_true(edge_entry_ready(ec, ENTRY_NEED_ECDSA_CLIENT));
	assert_false(edge_entry_ready(ec, ENTRY_NEED_RSA_CLIENT));

	assert_int_equal(edge_entry_build("app.example.com", &fx->rec, &fx->box,
					  ENTRY_NEED_RSA_CLIENT, NULL, &rsa),
			 0);
	assert_null(rsa->leaf[ENTRY_EC]);
	assert_non_null(rsa->leaf[ENTRY_RSA]);
	assert_int_equal(EVP_PKEY_get_base_id(rsa->key[ENTRY_RSA]), EVP_PKEY_RSA);

	assert_int_equal(edge_entry_build("app.example.com", &fx->rec, &fx->box, ENTRY_NEED_NONE,
					  NULL, &none),
			 0);
	assert_true(edge_entry_servable(none));
	assert_null(none->leaf[ENTRY_EC]);
	assert_null(none->leaf[ENTRY_RSA]);
	assert_true(none->bytes < ec->bytes); /* an undecoded slot is not charged */
	edge_entry_unref(ec);
	edge_entry_unref(rsa);
	edge_entry_unref(none);
}

static void test_later_build_shares_the_decoded_certificate(void **state)
{
	struct fixture *fx = *state;
	struct edge_entry *first = NULL, *both = NULL;

	assert_int_equal(edge_entry_build("app.example.com", &fx->rec, &fx->box,
					  ENTRY_NEED_ECDSA_CLIENT, NULL, &first),
			 0);
	assert_int_equal(edge_entry_build("app.example.com", &fx->rec, &fx->box,
					  ENTRY_NEED_RSA_CLIENT, first, &both),
			 0);
	assert_ptr_equal(both->leaf[ENTRY_EC], first->leaf[ENTRY_EC]);
	assert_ptr_equal(both->key[ENTRY_EC], first->key[ENTRY_EC]);
	assert_non_null(both->leaf[ENTRY_RSA]);
	assert_true(edge_entry_ready(both, ENTRY_NEED_ECDSA_CLIENT));
	assert_true(edge_entry_ready(both, ENTRY_NEED_RSA_CLIENT));
	edge_entry_unref(first); /* both still holds what it shared */
	assert_int_equal(X509_get_ext_count(both->leaf[ENTRY_EC]), 0);
	edge_entry_unref(both);
}

static void test_replaced_certificate_is_decoded_again(void **state)
{
	struct fixture *fx = *state;
	struct edge_entry *old = NULL, *now = NULL;
	const ASN1_INTEGER *serial;

	assert_int_equal(edge_entry_build("app.example.com", &fx->rec, &fx->box,
					  ENTRY_NEED_ECDSA_CLIENT, NULL, &old),
			 0);
	store_certificate_dispose(&fx->rec.certs[0]);
	add_cert(fx, 0, KEY_ECDSA_P256, "cert-ec-2", 3);
	assert_int_equal(edge_entry_build("app.example.com", &fx->rec, &fx->box,
					  ENTRY_NEED_ECDSA_CLIENT, old, &now),
			 0);
	assert_ptr_not_equal(now->leaf[ENTRY_EC], old->leaf[ENTRY_EC]);
	serial = X509_get0_serialNumber(now->leaf[ENTRY_EC]);
	assert_int_equal(ASN1_INTEGER_get(serial), 3);
	edge_entry_unref(old);
	edge_entry_unref(now);
}

static void test_ecdsa_only_and_rsa_only_names(void **state)
{
	struct fixture *fx = *state;
	struct edge_entry *e = NULL;

	fx->rec.n_certs = 1; /* ECDSA only: an RSA-only client still gets it */
	assert_int_equal(edge_entry_build("app.example.com", &fx->rec, &fx->box,
					  ENTRY_NEED_RSA_CLIENT, NULL, &e),
			 0);
	assert_int_equal(edge_entry_pick(e, 0), ENTRY_EC);
	assert_non_null(e->leaf[ENTRY_EC]);
	edge_entry_unref(e);
	fx->rec.n_certs = 2;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_miss_decodes_only_what_the_client_is_served, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_later_build_shares_the_decoded_certificate, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_replaced_certificate_is_decoded_again, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_ecdsa_only_and_rsa_only_names, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

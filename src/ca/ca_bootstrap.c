/* First start of the internal CA: a root and an intermediate, both ECDSA P-256, committed as
 * one file set (ca_files.c). Generation happens in memory; nothing is written until every
 * certificate is signed and every key sealed. */
#include "ca/ca_int.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <stdlib.h>

#include "lib/error.h"
#include "lib/keys.h"
#include "lib/timeutil.h"
#include "lib/x509_info.h"

#define YEAR_US     (365LL * 24 * 3600 * 1000000)
#define ROOT_YEARS  10
#define INTER_YEARS 5
#define BACKDATE_US (3600LL * 1000000) /* tolerate clients whose clocks run behind */
#define ORG         "saasedge"
#define ROOT_CN     "saasedge Internal Root CA"
#define INTER_CN    "saasedge Internal Intermediate CA"

/* The generated material, in memory until committed. */
struct ca_material {
	EVP_PKEY *root_key, *inter_key;
	X509_NAME *root_name, *inter_name;
	unsigned char root_id[CA_KEYID_LEN];
	unsigned char *root_der, *inter_der;
	size_t root_der_len, inter_der_len;
};

static void material_dispose(struct ca_material *m)
{
	EVP_PKEY_free(m->root_key);
	EVP_PKEY_free(m->inter_key);
	X509_NAME_free(m->root_name);
	X509_NAME_free(m->inter_name);
	OPENSSL_free(m->root_der);
	OPENSSL_free(m->inter_der);
}

/* Self-signed root: CA:TRUE without a path length, keyCertSign + cRLSign, SKI. */
static int make_root(struct ca_material *m, int64_t not_before_us)
{
	X509 *x = NULL;
	int rc = ca_cert_start(m->root_name, m->root_name, m->root_key, not_before_us,
			       not_before_us + ROOT_YEARS * YEAR_US, &x);

	if (rc == 0)
		rc = ca_ext_basic(x, 1, -1);
	if (rc == 0)
		rc = ca_ext_key_usage(x, CA_KU_KEY_CERT_SIGN | CA_KU_CRL_SIGN);
	if (rc == 0)
		rc = ca_ext_key_ids(x, NULL, m->root_id);
	if (rc == 0)
		rc = ca_cert_sign(x, m->root_key, &m->root_der, &m->root_der_len);
	X509_free(x);
	return rc;
}

/* Intermediate signed by the root: CA:TRUE pathlen:0 (it signs leaves only), AKI/SKI. */
static int make_intermediate(struct ca_material *m, int64_t not_before_us)
{
	X509 *x = NULL;
	int rc = ca_cert_start(m->inter_name, m->root_name, m->inter_key, not_before_us,
			       not_before_us + INTER_YEARS * YEAR_US, &x);

	if (rc == 0)
		rc = ca_ext_basic(x, 1, 0);
	if (rc == 0)
		rc = ca_ext_key_usage(x, CA_KU_KEY_CERT_SIGN | CA_KU_CRL_SIGN);
	if (rc == 0)
		rc = ca_ext_key_ids(x, m->root_id, NULL);
	if (rc == 0)
		rc = ca_cert_sign(x, m->root_key, &m->inter_der, &m->inter_der_len);
	X509_free(x);
	return rc;
}

static int generate(struct ca_material *m)
{
	int64_t not_before = time_now_us() - BACKDATE_US;
	int rc = keys_generate(KEY_ECDSA_P256, &m->root_key);

	if (rc == 0)
		rc = keys_generate(KEY_ECDSA_P256, &m->inter_key);
	if (rc == 0)
		rc = ca_name_new(ROOT_CN, ORG, &m->root_name);
	if (rc == 0)
		rc = ca_name_new(INTER_CN, ORG, &m->inter_name);
	if (rc == 0)
		rc = make_root(m, not_before);
	if (rc == 0)
		rc = make_intermediate(m, not_before);
	return rc;
}

/* PEMs and sealed keys, committed as one directory. */
static int commit(const char *data_dir, const struct secretbox *box, struct ca_material *m)
{
	char *root_pem = NULL, *inter_pem = NULL;
	unsigned char *root_sealed = NULL, *inter_sealed = NULL;
	size_t root_pem_len = 0, inter_pem_len = 0, root_sealed_len = 0, inter_sealed_len = 0;
	int rc =
	    cert_pem_encode("CERTIFICATE", m->root_der, m->root_der_len, &root_pem, &root_pem_len);

	if (rc == 0)
		rc = cert_pem_encode("CERTIFICATE", m->inter_der, m->inter_der_len, &inter_pem,
				     &inter_pem_len);
	if (rc == 0)
		rc = keys_seal(box, m->root_key, CA_ROOT_AAD, &root_sealed, &root_sealed_len);
	if (rc == 0)
		rc = keys_seal(box, m->inter_key, CA_INTER_AAD, &inter_sealed, &inter_sealed_len);
	if (rc == 0) {
		const struct ca_file files[] = {
		    {CA_ROOT_KEY, root_sealed, root_sealed_len, 0600},
		    {CA_INTER_KEY, inter_sealed, inter_sealed_len, 0600},
		    {CA_INTER_PEM, inter_pem, inter_pem_len, 0644},
		    {CA_ROOT_PEM, root_pem, root_pem_len, 0644},
		};

		rc = ca_files_commit(data_dir, files, sizeof(files) / sizeof(files[0]));
	}
	free(root_pem);
	free(inter_pem);
	free(root_sealed);
	free(inter_sealed);
	return rc;
}

int ca_bootstrap(const char *data_dir, const struct secretbox *box)
{
	struct ca_material m = {0};
	int rc = generate(&m);

	if (rc == 0)
		rc = commit(data_dir, box, &m);
	if (rc && rc != SE_EEXISTS)
		ERR_clear_error();
	material_dispose(&m);
	return rc;
}

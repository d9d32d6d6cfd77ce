/* CSRs for the ACME client and the internal CA; contracts in keys.h. */
#include "lib/keys.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <string.h>

#include "lib/error.h"
#include "lib/x509_info.h"

#define DNS_NAME_MAX 253

int keys_check_names(const char *const *names, size_t n)
{
	if (!names || n == 0 || n > KEYS_MAX_NAMES)
		return SE_EINVAL;
	for (size_t i = 0; i < n; i++) {
		size_t len = names[i] ? strlen(names[i]) : 0;

		if (len == 0 || len > DNS_NAME_MAX)
			return SE_EINVAL;
		/* dNSName is an IA5String; spaces and controls never belong in a hostname */
		for (size_t j = 0; j < len; j++) {
			unsigned char ch = (unsigned char)names[i][j];

			if (ch <= 0x20 || ch >= 0x7f)
				return SE_EINVAL;
		}
	}
	return 0;
}

/* Appends a dNSName entry for NAME to GENS. */
static int push_dns(GENERAL_NAMES *gens, const char *name)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();

	if (!gn || !ia5 || ASN1_STRING_set(ia5, name, (int)strlen(name)) != 1)
		goto fail;
	GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
	ia5 = NULL;
	if (sk_GENERAL_NAME_push(gens, gn) <= 0)
		goto fail;
	return 0;
fail:
	GENERAL_NAME_free(gn);
	ASN1_IA5STRING_free(ia5);
	return SE_ENOMEM;
}

int keys_san_new(const char *const *names, size_t n, GENERAL_NAMES **out)
{
	GENERAL_NAMES *gens = NULL;
	int rc;

	*out = NULL;
	rc = keys_check_names(names, n);
	if (rc)
		goto out;
	gens = GENERAL_NAMES_new();
	if (!gens) {
		rc = SE_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = push_dns(gens, names[i]);
	if (rc == 0) {
		*out = gens;
		gens = NULL;
	}
out:
	GENERAL_NAMES_free(gens);
	return rc;
}

/* Adds VALUE under NID unless it is NULL or empty; MAX_LEN bounds its byte length. */
static int add_field(X509_NAME *name, int nid, const char *value, size_t min_len, size_t max_len)
{
	size_t len = value ? strlen(value) : 0;

	if (len == 0)
		return 0;
	if (len < min_len || len > max_len)
		return SE_EINVAL;
	if (X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8, (const unsigned char *)value,
				       (int)len, -1, 0) != 1)
		return SE_EINVAL;
	return 0;
}

/* The CSR subject: SUBJECT's fields (may be NULL), then CN = FIRST when it fits. */
static int subject_name(const char *first, const struct csr_subject *subject, X509_NAME **out)
{
	X509_NAME *name = X509_NAME_new();
	int rc = name ? 0 : SE_ENOMEM;

	if (rc == 0 && subject) {
		rc = add_field(name, NID_countryName, subject->country, 2, 2);
		if (rc == 0)
			rc = add_field(name, NID_stateOrProvinceName, subject->state, 1,
				       KEYS_CN_MAX);
		if (rc == 0)
			rc = add_field(name, NID_localityName, subject->locality, 1, KEYS_CN_MAX);
		if (rc == 0)
			rc = add_field(name, NID_organizationName, subject->organization, 1,
				       KEYS_CN_MAX);
		if (rc == 0)
			rc = add_field(name, NID_organizationalUnitName,
				       subject->organizational_unit, 1, KEYS_CN_MAX);
	}
	/* A longer first name cannot be a commonName; the SAN alone carries it (CAs accept
	 * CSRs with no CN). */
	if (rc == 0 && strlen(first) <= KEYS_CN_MAX)
		rc = add_field(name, NID_commonName, first, 1, KEYS_CN_MAX);
	if (rc == 0) {
		*out = name;
		name = NULL;
	}
	X509_NAME_free(name);
	return rc;
}

/* Builds and signs the request; *OUT owned by the caller. */
static int sign_request(EVP_PKEY *pkey, X509_NAME *subject, GENERAL_NAMES *san, X509_REQ **out)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_REQ *req = X509_REQ_new();
	int rc = SE_ECRYPTO;

	if (!req || X509_REQ_set_version(req, X509_REQ_VERSION_1) != 1 ||
	    X509_REQ_set_subject_name(req, subject) != 1 || X509_REQ_set_pubkey(req, pkey) != 1)
		goto out;
	if (X509V3_add1_i2d(&exts, NID_subject_alt_name, san, 0, X509V3_ADD_DEFAULT) != 1 ||
	    X509_REQ_add_extensions(req, exts) != 1)
		goto out;
	if (X509_REQ_sign(req, pkey, EVP_sha256()) <= 0)
		goto out;
	*out = req;
	req = NULL;
	rc = 0;
out:
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	return rc;
}

int keys_build_csr(EVP_PKEY *pkey, const char *const *names, size_t n,
		   const struct csr_subject *subject, unsigned char **der, size_t *len)
{
	X509_NAME *name = NULL;
	GENERAL_NAMES *san = NULL;
	X509_REQ *req = NULL;
	unsigned char *buf = NULL;
	int der_len, rc;

	*der = NULL;
	*len = 0;
	rc = keys_san_new(names, n, &san);
	if (rc == 0)
		rc = subject_name(names[0], subject, &name);
	if (rc == 0)
		rc = sign_request(pkey, name, san, &req);
	if (rc)
		goto out;
	der_len = i2d_X509_REQ(req, &buf);
	if (der_len <= 0) {
		rc = SE_ECRYPTO;
		goto out;
	}
	*der = buf;
	*len = (size_t)der_len;
out:
	if (rc)
		ERR_clear_error();
	X509_REQ_free(req);
	GENERAL_NAMES_free(san);
	X509_NAME_free(name);
	return rc;
}

int keys_csr_to_pem(const unsigned char *der, size_t len, char **pem, size_t *pem_len)
{
	return cert_pem_encode("CERTIFICATE REQUEST", der, len, pem, pem_len);
}

/* Certificate building blocks shared by the root, the intermediate and the leaves. Extensions
 * are built from OpenSSL's structures rather than from config strings ("keyid:always"), so no
 * step reads the issuer's X509 object: issuance stays free of shared mutable state. */
#include "ca/ca_int.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "lib/error.h"
#include "lib/ids.h"
#include "lib/keys.h"

#define SERIAL_LEN 16

/* CA/Browser Forum rules want >= 64 random bits; 16 bytes with the top bit cleared keep the
 * serial positive, and the next bit set keeps its encoding exactly 16 bytes long. */
static int set_random_serial(X509 *x)
{
	unsigned char b[SERIAL_LEN];
	BIGNUM *bn = NULL;
	int rc = ids_random(b, sizeof(b));

	if (rc)
		return rc;
	b[0] = (unsigned char)((b[0] & 0x7f) | 0x40);
	rc = SE_ECRYPTO;
	bn = BN_bin2bn(b, sizeof(b), NULL);
	if (bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
		rc = 0;
	BN_free(bn);
	return rc;
}

int ca_cert_start(const X509_NAME *subject, const X509_NAME *issuer, EVP_PKEY *pubkey,
		  int64_t not_before_us, int64_t not_after_us, X509 **out)
{
	X509 *x = X509_new();
	int rc = SE_ECRYPTO;

	*out = NULL;
	if (!x || X509_set_version(x, X509_VERSION_3) != 1)
		goto out;
	rc = set_random_serial(x);
	if (rc)
		goto out;
	rc = SE_ECRYPTO;
	if (X509_set_subject_name(x, subject) != 1 || X509_set_issuer_name(x, issuer) != 1)
		goto out;
	if (!ASN1_TIME_set(X509_getm_notBefore(x), (time_t)(not_before_us / 1000000)) ||
	    !ASN1_TIME_set(X509_getm_notAfter(x), (time_t)(not_after_us / 1000000)))
		goto out;
	if (X509_set_pubkey(x, pubkey) != 1)
		goto out;
	*out = x;
	x = NULL;
	rc = 0;
out:
	X509_free(x);
	return rc;
}

static int add_ext(X509 *x, int nid, void *value, int critical)
{
	return X509_add1_ext_i2d(x, nid, value, critical, X509V3_ADD_DEFAULT) == 1 ? 0 : SE_ECRYPTO;
}

int ca_ext_basic(X509 *x, int is_ca, int pathlen)
{
	BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
	int rc = SE_ENOMEM;

	if (!bc)
		goto out;
	bc->ca = is_ca ? 0xff : 0; /* ASN1_BOOLEAN true */
	if (is_ca && pathlen >= 0) {
		bc->pathlen = ASN1_INTEGER_new();
		if (!bc->pathlen || ASN1_INTEGER_set(bc->pathlen, pathlen) != 1)
			goto out;
	}
	rc = add_ext(x, NID_basic_constraints, bc, 1);
out:
	BASIC_CONSTRAINTS_free(bc);
	return rc;
}

int ca_ext_key_usage(X509 *x, unsigned bits)
{
	ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();
	int rc = SE_ENOMEM;

	if (!ku)
		goto out;
	for (int i = 0; i < 9; i++)
		if ((bits & (1u << i)) && ASN1_BIT_STRING_set_bit(ku, i, 1) != 1)
			goto out;
	rc = add_ext(x, NID_key_usage, ku, 1);
out:
	ASN1_BIT_STRING_free(ku);
	return rc;
}

int ca_ext_server_auth(X509 *x)
{
	EXTENDED_KEY_USAGE *eku = sk_ASN1_OBJECT_new_null();
	int rc = SE_ENOMEM;

	/* OBJ_nid2obj returns a static object: nothing to free but the stack */
	if (eku && sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_server_auth)) > 0)
		rc = add_ext(x, NID_ext_key_usage, eku, 0);
	sk_ASN1_OBJECT_free(eku);
	return rc;
}

static int add_aki(X509 *x, const unsigned char *issuer_id)
{
	AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
	int rc = SE_ENOMEM;

	if (!akid)
		goto out;
	akid->keyid = ASN1_OCTET_STRING_new();
	if (!akid->keyid || ASN1_OCTET_STRING_set(akid->keyid, issuer_id, CA_KEYID_LEN) != 1)
		goto out;
	rc = add_ext(x, NID_authority_key_identifier, akid, 0);
out:
	AUTHORITY_KEYID_free(akid);
	return rc;
}

int ca_ext_key_ids(X509 *x, const unsigned char *issuer_id, unsigned char *keyid)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	ASN1_OCTET_STRING *ski = NULL;
	int rc = SE_ECRYPTO;

	/* SHA-1 over the subjectPublicKey bits: an identifier, not a security property */
	if (X509_pubkey_digest(x, EVP_sha1(), md, &md_len) != 1 || md_len != CA_KEYID_LEN)
		goto out;
	ski = ASN1_OCTET_STRING_new();
	if (!ski || ASN1_OCTET_STRING_set(ski, md, (int)md_len) != 1)
		goto out;
	rc = add_ext(x, NID_subject_key_identifier, ski, 0);
	if (rc == 0 && issuer_id)
		rc = add_aki(x, issuer_id);
	if (rc == 0 && keyid)
		memcpy(keyid, md, CA_KEYID_LEN);
out:
	ASN1_OCTET_STRING_free(ski);
	return rc;
}

int ca_ext_san(X509 *x, const char *const *names, size_t n, int critical)
{
	GENERAL_NAMES *san = NULL;
	int rc = keys_san_new(names, n, &san);

	if (rc == 0)
		rc = add_ext(x, NID_subject_alt_name, san, critical);
	GENERAL_NAMES_free(san);
	return rc;
}

int ca_cert_sign(X509 *x, EVP_PKEY *key, unsigned char **der, size_t *len)
{
	unsigned char *buf = NULL;
	int n;

	*der = NULL;
	*len = 0;
	if (X509_sign(x, key, EVP_sha256()) <= 0)
		return SE_ECRYPTO;
	n = i2d_X509(x, &buf);
	if (n <= 0)
		return SE_ECRYPTO;
	*der = buf;
	*len = (size_t)n;
	return 0;
}

int ca_name_new(const char *cn, const char *org, X509_NAME **out)
{
	X509_NAME *name = X509_NAME_new();
	int rc = SE_EINVAL;

	*out = NULL;
	if (!name) {
		rc = SE_ENOMEM;
		goto out;
	}
	if (org && X509_NAME_add_entry_by_NID(name, NID_organizationName, MBSTRING_UTF8,
					      (const unsigned char *)org, -1, -1, 0) != 1)
		goto out;
	if (cn && X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
					     (const unsigned char *)cn, -1, -1, 0) != 1)
		goto out;
	*out = name;
	name = NULL;
	rc = 0;
out:
	X509_NAME_free(name);
	return rc;
}

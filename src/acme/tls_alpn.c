/* The tls-alpn-01 validation certificate (RFC 8737 §3): self-signed, exactly one dNSName SAN,
 * and the critical acmeIdentifier extension whose value is the DER OCTET STRING of
 * SHA-256(key authorization). The edge serves it on ALPN "acme-tls/1". */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/x509v3.h>

#include "acme/acme_int.h"
#include "lib/error.h"

#define ACME_IDENTIFIER_OID "1.3.6.1.5.5.7.1.31"
#define CN_MAX              64 /* ub-common-name: longer hostnames go without a CN */

static int set_identity(X509 *x, const char *name)
{
	X509_NAME *subject = X509_get_subject_name(x);
	BIGNUM *bn = BN_new();
	int ok = bn && BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) &&
		 BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) &&
		 X509_set_version(x, X509_VERSION_3) &&
		 X509_gmtime_adj(X509_getm_notBefore(x), -86400) &&
		 X509_gmtime_adj(X509_getm_notAfter(x), 7 * 86400);

	if (ok && strlen(name) <= CN_MAX)
		ok = X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
						(const unsigned char *)name, -1, -1, 0);
	BN_free(bn);
	return ok && X509_set_issuer_name(x, subject) ? 0 : SE_ECRYPTO;
}

static int add_san(X509 *x, const char *name)
{
	GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
	int rc = SE_ECRYPTO;

	if (!names || !gn || !ia5 || !ASN1_STRING_set(ia5, name, -1))
		goto out;
	GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
	ia5 = NULL;
	if (!sk_GENERAL_NAME_push(names, gn))
		goto out;
	gn = NULL;
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT) == 1)
		rc = 0;
out:
	ASN1_IA5STRING_free(ia5);
	GENERAL_NAME_free(gn);
	GENERAL_NAMES_free(names);
	return rc;
}

static int add_acme_identifier(X509 *x, const char *key_authorization)
{
	unsigned char value[2 + 32] = {V_ASN1_OCTET_STRING, 32};
	ASN1_OBJECT *oid = OBJ_txt2obj(ACME_IDENTIFIER_OID, 1);
	ASN1_OCTET_STRING *data = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext = NULL;
	int rc = SE_ECRYPTO;

	if (!oid || !data ||
	    !EVP_Digest(key_authorization, strlen(key_authorization), value + 2, NULL, EVP_sha256(),
			NULL) ||
	    !ASN1_OCTET_STRING_set(data, value, sizeof(value)))
		goto out;
	ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 1, data);
	if (ext && X509_add_ext(x, ext, -1))
		rc = 0;
out:
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(data);
	ASN1_OBJECT_free(oid);
	return rc;
}

int acme_tls_alpn01_certificate(const char *name, const char *key_authorization, EVP_PKEY *key,
				X509 **out)
{
	/* Ed25519 signs the message itself: no separate digest */
	const EVP_MD *md = EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? NULL : EVP_sha256();
	X509 *x = X509_new();
	int rc = SE_ENOMEM;

	*out = NULL;
	if (!name || !*name || !key_authorization)
		rc = SE_EINVAL;
	else if (x)
		rc = set_identity(x, name);
	if (rc == 0)
		rc = X509_set_pubkey(x, key) ? 0 : SE_ECRYPTO;
	if (rc == 0)
		rc = add_san(x, name);
	if (rc == 0)
		rc = add_acme_identifier(x, key_authorization);
	if (rc == 0)
		rc = X509_sign(x, key, md) > 0 ? 0 : SE_ECRYPTO;
	if (rc == 0) {
		*out = x;
		x = NULL;
	}
	X509_free(x);
	return rc;
}

/* Leaf issuance by the intermediate. The CSR only proves possession of the key: its subject and
 * extensions are ignored and the names come from the caller, who validated them. */
#include "ca/ca_int.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <string.h>

#include "lib/error.h"
#include "lib/keys.h"
#include "lib/log.h"

#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 8192

/* ECDSA P-256/P-384 or RSA 2048..8192: what browsers accept and Cloudflare issues or takes. */
static int key_allowed(const EVP_PKEY *pk, enum key_type *type)
{
	char group[64];
	int nid;

	if (keys_type_of(pk, type) != 0)
		return 0;
	if (*type == KEY_RSA_2048)
		return EVP_PKEY_get_bits(pk) >= RSA_MIN_BITS &&
		       EVP_PKEY_get_bits(pk) <= RSA_MAX_BITS;
	if (EVP_PKEY_get_group_name(pk, group, sizeof(group), NULL) != 1)
		return 0;
	nid = OBJ_sn2nid(group);
	return nid == NID_X9_62_prime256v1 || nid == NID_secp384r1;
}

/* Parses the CSR, verifies its self-signature and returns its key (*OUT: EVP_PKEY_free). */
static int csr_key(const unsigned char *der, size_t len, EVP_PKEY **out, enum key_type *type)
{
	const unsigned char *p = der;
	X509_REQ *req = NULL;
	EVP_PKEY *pk;
	int rc = SE_EINVAL;

	*out = NULL;
	if (!der || len == 0 || len > LONG_MAX)
		goto out;
	req = d2i_X509_REQ(NULL, &p, (long)len);
	if (!req || p != der + len)
		goto out;
	pk = X509_REQ_get0_pubkey(req);
	if (!pk)
		goto out;
	if (X509_REQ_verify(req, pk) != 1) {
		rc = SE_ECRYPTO;
		goto out;
	}
	if (!key_allowed(pk, type) || EVP_PKEY_up_ref(pk) != 1)
		goto out;
	*out = pk;
	rc = 0;
out:
	X509_REQ_free(req);
	return rc;
}

/* The leaf's not_after: NOT_BEFORE + VALIDITY, cut to the intermediate's expiry. */
static int leaf_window(const struct ca *ca, const char *name, int64_t not_before, int64_t validity,
		       int64_t *not_after)
{
	if (not_before <= 0 || validity <= 0)
		return SE_EINVAL;
	if (not_before >= ca->inter_not_after_us) {
		log_error("msg=\"internal CA intermediate has expired\" hostname=%s", name);
		return SE_ECONFIG;
	}
	*not_after = validity > INT64_MAX - not_before ? INT64_MAX : not_before + validity;
	if (*not_after > ca->inter_not_after_us) {
		log_warn("msg=\"leaf validity cut to the intermediate's expiry\" hostname=%s",
			 name);
		*not_after = ca->inter_not_after_us;
	}
	return 0;
}

/* Subject: CN = first name when it fits, else empty (then the SAN must be critical). Issuer:
 * the intermediate's subject, decoded from bytes so that no OpenSSL object is shared. */
static int leaf_names(const struct ca *ca, const char *first, X509_NAME **subject,
		      X509_NAME **issuer, int *empty)
{
	const unsigned char *p = ca->issuer_name_der;
	int rc;

	*empty = strlen(first) > KEYS_CN_MAX;
	if (*empty) {
		*subject = X509_NAME_new();
		rc = *subject ? 0 : SE_ENOMEM;
	} else {
		rc = ca_name_new(first, NULL, subject);
	}
	if (rc)
		return rc;
	*issuer = d2i_X509_NAME(NULL, &p, (long)ca->issuer_name_len);
	return *issuer ? 0 : SE_ECRYPTO;
}

static int leaf_extensions(const struct ca *ca, X509 *x, enum key_type type,
			   const char *const *names, size_t n, int san_critical)
{
	unsigned ku = CA_KU_DIGITAL_SIGNATURE;
	int rc;

	/* TLS 1.2 RSA key exchange encrypts to the key; ECDSA keys only sign */
	if (type == KEY_RSA_2048)
		ku |= CA_KU_KEY_ENCIPHERMENT;
	rc = ca_ext_basic(x, 0, -1);
	if (rc == 0)
		rc = ca_ext_key_usage(x, ku);
	if (rc == 0)
		rc = ca_ext_server_auth(x);
	if (rc == 0)
		rc = ca_ext_key_ids(x, ca->inter_keyid, NULL);
	if (rc == 0)
		rc = ca_ext_san(x, names, n, san_critical);
	return rc;
}

int ca_issue(const struct ca *ca, const unsigned char *csr_der, size_t len,
	     const char *const *names, size_t n, int64_t not_before_us, int64_t validity_us,
	     unsigned char **leaf_der, size_t *leaf_len)
{
	EVP_PKEY *pubkey = NULL;
	X509_NAME *subject = NULL, *issuer = NULL;
	X509 *x = NULL;
	enum key_type type = KEY_ECDSA_P256;
	int64_t not_after = 0;
	int empty = 0, rc;

	*leaf_der = NULL;
	*leaf_len = 0;
	rc = keys_check_names(names, n);
	if (rc == 0)
		rc = leaf_window(ca, names[0], not_before_us, validity_us, &not_after);
	if (rc == 0)
		rc = csr_key(csr_der, len, &pubkey, &type);
	if (rc == 0)
		rc = leaf_names(ca, names[0], &subject, &issuer, &empty);
	if (rc == 0)
		rc = ca_cert_start(subject, issuer, pubkey, not_before_us, not_after, &x);
	if (rc == 0)
		rc = leaf_extensions(ca, x, type, names, n, empty);
	if (rc == 0)
		rc = ca_cert_sign(x, ca->inter_key, leaf_der, leaf_len);
	if (rc)
		ERR_clear_error();
	X509_free(x);
	X509_NAME_free(issuer);
	X509_NAME_free(subject);
	EVP_PKEY_free(pubkey);
	return rc;
}

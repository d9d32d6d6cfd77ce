/* Opening the internal CA: create the file set on first start, then load and cross-check it.
 * The root key stays sealed on disk (only an intermediate rotation would need it). */
#include "ca/ca_int.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/keys.h"
#include "lib/log.h"
#include "lib/x509_info.h"

static int join(char *out, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= cap ? SE_EINVAL : 0;
}

/* Reads DIR/NAME, a PEM file holding exactly one certificate, as DER (OPENSSL_malloc'd). */
static int load_cert(const char *dir, const char *name, unsigned char **der, size_t *len)
{
	char path[PATH_MAX];
	unsigned char *pem = NULL, **ders = NULL;
	size_t pem_len = 0, *lens = NULL, count = 0;
	int rc = join(path, sizeof(path), dir, name);

	if (rc == 0)
		rc = ca_files_read(path, &pem, &pem_len);
	if (rc == 0)
		rc = cert_chain_from_pem((const char *)pem, pem_len, &ders, &lens, &count);
	if (rc == 0 && count != 1)
		rc = SE_EINVAL;
	if (rc == 0) {
		*der = ders[0];
		*len = lens[0];
		ders[0] = NULL;
	} else {
		log_error("msg=\"cannot load internal CA certificate\" path=%s error=%s", path,
			  se_errname(rc));
		rc = SE_EIO;
	}
	cert_chain_free(ders, lens, count);
	free(pem);
	return rc;
}

static int load_inter_key(const char *dir, const struct secretbox *box, EVP_PKEY **key)
{
	char path[PATH_MAX];
	unsigned char *sealed = NULL;
	size_t len = 0;
	int rc = join(path, sizeof(path), dir, CA_INTER_KEY);

	if (rc == 0)
		rc = ca_files_read(path, &sealed, &len);
	if (rc)
		rc = SE_EIO;
	else
		rc = keys_unseal(box, KEY_ECDSA_P256, sealed, len, CA_INTER_AAD, key);
	if (rc)
		log_error("msg=\"cannot open internal CA key\" path=%s error=%s", path,
			  se_errname(rc));
	free(sealed);
	return rc;
}

/* Copies from the intermediate what issuance needs, so that ca_issue never touches an X509. */
static int keep_issuer_facts(struct ca *ca, const X509 *inter)
{
	const ASN1_OCTET_STRING *id = X509_get0_subject_key_id((X509 *)inter);
	int n;

	if (!id || ASN1_STRING_length(id) != CA_KEYID_LEN)
		return SE_EIO;
	memcpy(ca->inter_keyid, ASN1_STRING_get0_data(id), CA_KEYID_LEN);
	n = i2d_X509_NAME(X509_get_subject_name(inter), &ca->issuer_name_der);
	if (n <= 0)
		return SE_ECRYPTO;
	ca->issuer_name_len = (size_t)n;
	return cert_time_us(X509_get0_notAfter(inter), &ca->inter_not_after_us);
}

/* The intermediate must be signed by the root and match its key: a mixed-up file set would
 * otherwise issue leaves that no client can verify. */
static int check_pair(struct ca *ca, X509 **root, X509 **inter)
{
	const unsigned char *p = ca->root_der;

	*root = d2i_X509(NULL, &p, (long)ca->root_der_len);
	p = ca->inter_der;
	*inter = d2i_X509(NULL, &p, (long)ca->inter_der_len);
	if (!*root || !*inter || X509_verify(*inter, X509_get0_pubkey(*root)) != 1 ||
	    X509_check_private_key(*inter, ca->inter_key) != 1) {
		log_error("msg=\"internal CA files do not belong together\" root=%s",
			  ca->root_path);
		return SE_EIO;
	}
	return 0;
}

static int load(struct ca *ca, const char *dir, const struct secretbox *box)
{
	X509 *root = NULL, *inter = NULL;
	int rc = load_cert(dir, CA_ROOT_PEM, &ca->root_der, &ca->root_der_len);

	if (rc == 0)
		rc = load_cert(dir, CA_INTER_PEM, &ca->inter_der, &ca->inter_der_len);
	if (rc == 0)
		rc = load_inter_key(dir, box, &ca->inter_key);
	if (rc == 0)
		rc = check_pair(ca, &root, &inter);
	if (rc == 0)
		rc = keep_issuer_facts(ca, inter);
	X509_free(root);
	X509_free(inter);
	return rc;
}

/* Creates the CA when root.pem is missing; losing the race to another process is success. */
static int ensure_created(const char *data_dir, const struct secretbox *box, const char *root_path)
{
	int rc;

	if (access(root_path, F_OK) == 0 || errno != ENOENT)
		return 0;
	rc = ca_bootstrap(data_dir, box);
	if (rc == 0)
		log_info("msg=\"internal CA created\" root=%s", root_path);
	else if (rc == SE_EEXISTS)
		log_info("msg=\"internal CA created by another process\" root=%s", root_path);
	else
		log_error("msg=\"cannot create internal CA\" dir=%s error=%s", data_dir,
			  se_errname(rc));
	return rc == SE_EEXISTS ? 0 : rc;
}

int ca_open(const char *data_dir, const struct secretbox *box, struct ca **out)
{
	char dir[PATH_MAX];
	struct ca *ca = NULL;
	int rc;

	*out = NULL;
	if (!data_dir || !box)
		return SE_EINVAL;
	ca = calloc(1, sizeof(*ca));
	if (!ca)
		return SE_ENOMEM;
	rc = join(dir, sizeof(dir), data_dir, CA_DIR_NAME);
	if (rc == 0)
		rc = join(ca->root_path, sizeof(ca->root_path), dir, CA_ROOT_PEM);
	if (rc == 0)
		rc = ensure_created(data_dir, box, ca->root_path);
	if (rc == 0)
		rc = load(ca, dir, box);
	if (rc == 0) {
		*out = ca;
		ca = NULL;
	}
	ERR_clear_error();
	ca_close(ca);
	return rc;
}

void ca_close(struct ca *ca)
{
	if (!ca)
		return;
	OPENSSL_free(ca->root_der);
	OPENSSL_free(ca->inter_der);
	OPENSSL_free(ca->issuer_name_der);
	EVP_PKEY_free(ca->inter_key);
	free(ca);
}

const char *ca_root_path(const struct ca *ca)
{
	return ca->root_path;
}

void ca_root_der(const struct ca *ca, const unsigned char **der, size_t *len)
{
	*der = ca->root_der;
	*len = ca->root_der_len;
}

void ca_chain_der(const struct ca *ca, const unsigned char **der, size_t *len)
{
	*der = ca->inter_der;
	*len = ca->inter_der_len;
}

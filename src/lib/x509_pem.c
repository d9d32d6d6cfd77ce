/* PEM <-> DER for certificate chains and CSRs; contracts in x509_info.h. PEM is handled as
 * armour (PEM_read_bio / PEM_write_bio) around DER, which is what saasedge stores. */
#include "lib/x509_info.h"

#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"

/* Parses one PEM block; 1 with *DER set, 0 at the end of input, or a negative SE_E* code. */
static int next_block(BIO *bio, unsigned char **der, long *len)
{
	char *name = NULL, *header = NULL;
	const unsigned char *p;
	X509 *x = NULL;
	int rc;

	*der = NULL;
	if (PEM_read_bio(bio, &name, &header, der, len) != 1) {
		unsigned long e = ERR_peek_last_error();

		ERR_clear_error();
		return ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE
			   ? 0
			   : SE_EINVAL;
	}
	rc = SE_EINVAL;
	if (strcmp(name, "CERTIFICATE") != 0 || header[0] != '\0')
		goto out;
	p = *der;
	x = d2i_X509(NULL, &p, *len);
	if (x && p == *der + *len)
		rc = 1;
out:
	if (rc != 1) {
		OPENSSL_free(*der);
		*der = NULL;
	}
	ERR_clear_error();
	X509_free(x);
	OPENSSL_free(name);
	OPENSSL_free(header);
	return rc;
}

int cert_chain_from_pem(const char *pem, size_t len, unsigned char ***ders, size_t **lens,
			size_t *count)
{
	BIO *bio = NULL;
	unsigned char **d = NULL;
	size_t *l = NULL, n = 0;
	int rc = SE_EINVAL;

	*ders = NULL;
	*lens = NULL;
	*count = 0;
	if (!pem || len == 0 || len > INT_MAX)
		goto out;
	bio = BIO_new_mem_buf(pem, (int)len);
	d = calloc(CERT_CHAIN_MAX, sizeof(*d));
	l = calloc(CERT_CHAIN_MAX, sizeof(*l));
	if (!bio || !d || !l) {
		rc = SE_ENOMEM;
		goto out;
	}
	for (;;) {
		unsigned char *der;
		long der_len;

		rc = next_block(bio, &der, &der_len);
		if (rc <= 0)
			break;
		if (n == CERT_CHAIN_MAX) {
			OPENSSL_free(der);
			rc = SE_ETOOBIG;
			break;
		}
		d[n] = der;
		l[n++] = (size_t)der_len;
	}
	if (rc == 0 && n == 0)
		rc = SE_EINVAL;
	if (rc == 0) {
		*ders = d;
		*lens = l;
		*count = n;
		d = NULL;
		l = NULL;
	}
out:
	cert_chain_free(d, l, n);
	BIO_free(bio);
	return rc;
}

void cert_chain_free(unsigned char **ders, size_t *lens, size_t count)
{
	for (size_t i = 0; ders && i < count; i++)
		OPENSSL_free(ders[i]);
	free(ders);
	free(lens);
}

/* Copies BIO's contents into a malloc'd NUL-terminated string. */
static int bio_to_string(BIO *bio, char **out, size_t *out_len)
{
	char *data;
	long n = BIO_get_mem_data(bio, &data);

	if (n < 0)
		return SE_ECRYPTO;
	*out = malloc((size_t)n + 1);
	if (!*out)
		return SE_ENOMEM;
	memcpy(*out, data, (size_t)n);
	(*out)[n] = '\0';
	*out_len = (size_t)n;
	return 0;
}

/* Writes COUNT DER blobs as LABEL blocks, concatenated. */
static int pem_join(const char *label, const unsigned char *const *ders, const size_t *lens,
		    size_t count, char **pem, size_t *pem_len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int rc = bio ? 0 : SE_ENOMEM;

	*pem = NULL;
	*pem_len = 0;
	if (count == 0)
		rc = SE_EINVAL;
	for (size_t i = 0; rc == 0 && i < count; i++) {
		if (!ders[i] || lens[i] == 0 || lens[i] > LONG_MAX)
			rc = SE_EINVAL;
		else if (PEM_write_bio(bio, label, "", ders[i], (long)lens[i]) <= 0)
			rc = SE_ECRYPTO;
	}
	if (rc == 0)
		rc = bio_to_string(bio, pem, pem_len);
	BIO_free(bio);
	return rc;
}

int cert_chain_to_pem(const unsigned char *const *ders, const size_t *lens, size_t count,
		      char **pem, size_t *pem_len)
{
	return pem_join("CERTIFICATE", ders, lens, count, pem, pem_len);
}

int cert_pem_encode(const char *label, const unsigned char *der, size_t len, char **pem,
		    size_t *pem_len)
{
	return pem_join(label, &der, &len, 1, pem, pem_len);
}

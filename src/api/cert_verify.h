/* The checks an uploaded certificate passes before it is stored (docs/api.md, "Uploading a
 * certificate"): PEM, one leaf, the key, the hostname, the signature algorithm, the validity
 * period and a chain to the trust store. Pure OpenSSL work, callable from any thread. */
#ifndef SAASEDGE_API_CERT_VERIFY_H
#define SAASEDGE_API_CERT_VERIFY_H

#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#include "api/errors.h"
#include "lib/x509_info.h"

struct cert_verify_in {
	const char *cert_pem;      /* the leaf and any intermediates, any order */
	const char *key_pem;       /* the leaf's private key; NULL when KEY is given */
	EVP_PKEY *key;             /* borrowed: a CSR's key, when KEY_PEM is NULL */
	const char *hostname;      /* normalised; "*.example.com" must be a SAN as such */
	const char *bundle_method; /* "force": serve the chain as uploaded */
	X509_STORE *trust;         /* borrowed */
	int64_t now_us;
};

/* What passed. Everything is owned: release with cert_verified_dispose. */
struct cert_verified {
	enum key_type key_type;
	unsigned char *leaf_der; /* malloc'd */
	size_t leaf_len;
	unsigned char *chain_der; /* malloc'd; the served chain without the leaf, NULL when none */
	size_t chain_len;
	EVP_PKEY *pkey; /* the parsed KEY_PEM; NULL when IN->key was used */
	struct cert_info info;
};

/* Runs every check on IN. 0 with OUT filled, or -1 with *ERR set to the failed check's error
 * and DETAIL (DETAIL_LEN bytes) to the words that fill its message; OUT is then disposed. No
 * key material ever reaches DETAIL. */
int cert_verify(const struct cert_verify_in *in, struct cert_verified *out, enum api_error *err,
		char *detail, size_t detail_len);
void cert_verified_dispose(struct cert_verified *v);

/* A trust store from the PEM file PATH into *OUT (caller frees with X509_STORE_free). SE_EIO
 * when the file cannot be read or holds no certificate. */
int cert_trust_load(const char *path, X509_STORE **out);

#endif

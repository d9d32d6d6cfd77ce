#include "api/cert_verify.h"

#include <ctype.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/error.h"
#include "lib/timeutil.h"

/* The parsed upload: certificates in upload order and which one is the leaf. */
struct upload {
	X509 *certs[CERT_CHAIN_MAX];
	size_t n;
	size_t leaf;
};

/* The check that failed, for cert_verify's caller. */
struct verdict {
	enum api_error *err;
	char *detail;
	size_t detail_len;
};

static int fail(const struct verdict *v, enum api_error err, const char *detail)
{
	*v->err = err;
	snprintf(v->detail, v->detail_len, "%s", detail ? detail : "");
	/* OpenSSL's queue holds nothing the caller needs, and a stale entry would mislead the
	 * next TLS call on this thread. */
	ERR_clear_error();
	return -1;
}

void cert_verified_dispose(struct cert_verified *v)
{
	free(v->leaf_der);
	free(v->chain_der);
	EVP_PKEY_free(v->pkey);
	cert_info_dispose(&v->info);
	memset(v, 0, sizeof(*v));
}

static void upload_dispose(struct upload *u)
{
	for (size_t i = 0; i < u->n; i++)
		X509_free(u->certs[i]);
	u->n = 0;
}

static int blank(const char *s)
{
	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			return 0;
	return 1;
}

/* 1 when X issued another certificate of the upload. */
static int issues_another(const struct upload *u, size_t x)
{
	for (size_t i = 0; i < u->n; i++)
		if (i != x && X509_check_issued(u->certs[x], u->certs[i]) == X509_V_OK)
			return 1;
	return 0;
}

/* The leaf is the certificate that issued none of the others and is no CA; one certificate
 * alone is the leaf whatever it says (a self-signed one then fails the chain check, 1441). */
static int find_leaf(struct upload *u, const struct verdict *v)
{
	size_t found = 0;

	if (u->n == 1) {
		u->leaf = 0;
		return 0;
	}
	for (size_t i = 0; i < u->n; i++) {
		if (issues_another(u, i) || X509_check_ca(u->certs[i]))
			continue;
		u->leaf = i;
		found++;
	}
	if (found == 0)
		return fail(v, API_ERR_CERT_NO_LEAF, NULL);
	if (found > 1)
		return fail(v, API_ERR_CERT_MANY_LEAVES, NULL);
	return 0;
}

static int parse_certs(const char *pem, struct upload *u, const struct verdict *v)
{
	unsigned char **ders = NULL;
	size_t *lens = NULL, count = 0;
	int rc;

	if (!pem || blank(pem))
		return fail(v, API_ERR_CERT_EMPTY, NULL);
	rc = cert_chain_from_pem(pem, strlen(pem), &ders, &lens, &count);
	if (rc == SE_ETOOBIG)
		return fail(v, API_ERR_CERT_PARSE, "more than 16 certificates");
	if (rc)
		return fail(v, API_ERR_CERT_PARSE, "expected PEM CERTIFICATE blocks");
	for (size_t i = 0; i < count; i++) {
		const unsigned char *p = ders[i];

		u->certs[i] = d2i_X509(NULL, &p, (long)lens[i]);
		if (!u->certs[i]) {
			rc = -1;
			break;
		}
		u->n++;
	}
	cert_chain_free(ders, lens, count);
	if (rc)
		return fail(v, API_ERR_CERT_PARSE, "a certificate is not valid X.509");
	return find_leaf(u, v);
}

/* No passphrase prompt ever: an encrypted key simply does not parse. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return 0;
}

static int parse_key(const char *pem, EVP_PKEY **out, const struct verdict *v)
{
	BIO *bio = NULL;
	enum key_type type;

	if (!pem || blank(pem))
		return fail(v, API_ERR_KEY_PARSE, "the key is empty");
	bio = BIO_new_mem_buf(pem, -1);
	*out = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
	BIO_free(bio);
	if (!*out)
		return fail(v, API_ERR_KEY_PARSE, "expected an unencrypted PEM private key");
	if (keys_type_of(*out, &type)) {
		EVP_PKEY_free(*out);
		*out = NULL;
		return fail(v, API_ERR_KEY_PARSE, "only RSA and ECDSA keys are supported");
	}
	return 0;
}

/* RFC 6125 matching through OpenSSL; a wildcard hostname needs the same wildcard SAN. */
static int covers(X509 *leaf, const struct cert_info *info, const char *hostname)
{
	unsigned flags = X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT;

	if (hostname[0] == '*') {
		for (size_t i = 0; i < info->n_sans; i++)
			if (strcasecmp(info->sans[i], hostname) == 0)
				return 1;
		return 0;
	}
	return X509_check_host(leaf, hostname, 0, flags, NULL) == 1;
}

/* Cloudflare's three, and ECDSA with SHA-384: Let's Encrypt's ECDSA intermediates sign so. */
static int sigalg_supported(X509 *leaf)
{
	switch (X509_get_signature_nid(leaf)) {
	case NID_sha256WithRSAEncryption:
	case NID_sha1WithRSAEncryption:
	case NID_ecdsa_with_SHA256:
	case NID_ecdsa_with_SHA384:
		return 1;
	default:
		return 0;
	}
}

static int check_leaf(const struct cert_verify_in *in, X509 *leaf, const struct cert_info *info,
		      const struct verdict *v)
{
	char when[TIME_RFC3339_LEN + 1], why[64];

	if (!covers(leaf, info, in->hostname))
		return fail(v, API_ERR_CERT_HOSTNAME, in->hostname);
	if (!sigalg_supported(leaf))
		return fail(v, API_ERR_CERT_SIGALG, info->signature);
	if (info->not_after_us <= in->now_us) {
		time_format_rfc3339(info->not_after_us, when);
		snprintf(why, sizeof(why), "it expired on %s", when);
		return fail(v, API_ERR_CERT_EXPIRED, why);
	}
	if (info->not_before_us > in->now_us) {
		time_format_rfc3339(info->not_before_us, when);
		snprintf(why, sizeof(why), "it is not valid before %s", when);
		return fail(v, API_ERR_CERT_EXPIRED, why);
	}
	return 0;
}

/* Appends X's DER to *BUF (realloc'd). */
static int der_append(X509 *x, unsigned char **buf, size_t *len)
{
	int n = i2d_X509(x, NULL);
	unsigned char *grown, *p;

	if (n <= 0)
		return SE_ECRYPTO;
	grown = realloc(*buf, *len + (size_t)n);
	if (!grown)
		return SE_ENOMEM;
	*buf = grown;
	p = grown + *len;
	if (i2d_X509(x, &p) != n)
		return SE_ECRYPTO;
	*len += (size_t)n;
	return 0;
}

/* The served chain: as uploaded for "force", else the verified path without leaf and root. */
static int served_chain(const struct cert_verify_in *in, const struct upload *u,
			X509_STORE_CTX *ctx, struct cert_verified *out)
{
	STACK_OF(X509) *path = NULL;
	int rc = 0, n;

	if (strcmp(in->bundle_method, "force") == 0) {
		for (size_t i = 0; rc == 0 && i < u->n; i++)
			if (i != u->leaf)
				rc = der_append(u->certs[i], &out->chain_der, &out->chain_len);
		return rc;
	}
	path = X509_STORE_CTX_get1_chain(ctx);
	n = path ? sk_X509_num(path) : 0;
	for (int i = 1; rc == 0 && i < n; i++) {
		X509 *x = sk_X509_value(path, i);

		if (i == n - 1 && (X509_get_extension_flags(x) & EXFLAG_SS))
			break;
		rc = der_append(x, &out->chain_der, &out->chain_len);
	}
	sk_X509_pop_free(path, X509_free);
	return rc;
}

static int check_chain(const struct cert_verify_in *in, const struct upload *u,
		       struct cert_verified *out, const struct verdict *v)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	int rc = ctx && untrusted ? 0 : SE_ENOMEM;

	for (size_t i = 0; rc == 0 && i < u->n; i++)
		if (i != u->leaf && !sk_X509_push(untrusted, u->certs[i]))
			rc = SE_ENOMEM;
	if (rc == 0 && X509_STORE_CTX_init(ctx, in->trust, u->certs[u->leaf], untrusted) != 1)
		rc = SE_ECRYPTO;
	if (rc == 0) {
		X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
		X509_STORE_CTX_set_time(ctx, 0, (time_t)(in->now_us / 1000000));
		if (X509_verify_cert(ctx) != 1)
			rc = fail(v, API_ERR_CERT_UNTRUSTED,
				  X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		else
			rc = served_chain(in, u, ctx, out);
	}
	/* -1 is a verdict already set; SE_E* codes (all below -1) are our own failures. */
	if (rc < -1)
		rc = fail(v, API_ERR_INTERNAL, NULL);
	sk_X509_free(untrusted); /* the certificates stay the upload's */
	X509_STORE_CTX_free(ctx);
	return rc;
}

static int leaf_facts(X509 *leaf, struct cert_verified *out, const struct verdict *v)
{
	int n = i2d_X509(leaf, NULL);
	unsigned char *p;

	if (n <= 0 || !(out->leaf_der = malloc((size_t)n)))
		return fail(v, API_ERR_INTERNAL, NULL);
	p = out->leaf_der;
	out->leaf_len = (size_t)i2d_X509(leaf, &p);
	if (cert_info_from_der(out->leaf_der, out->leaf_len, &out->info))
		return fail(v, API_ERR_CERT_PARSE, "the leaf's fields are out of bounds");
	out->key_type = out->info.key_type;
	return 0;
}

int cert_verify(const struct cert_verify_in *in, struct cert_verified *out, enum api_error *err,
		char *detail, size_t detail_len)
{
	struct verdict v = {err, detail, detail_len};
	struct upload u;
	EVP_PKEY *key;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&u, 0, sizeof(u));
	rc = parse_certs(in->cert_pem, &u, &v);
	if (rc == 0 && in->key_pem)
		rc = parse_key(in->key_pem, &out->pkey, &v);
	key = in->key_pem ? out->pkey : in->key;
	if (rc == 0 && (!key || X509_check_private_key(u.certs[u.leaf], key) != 1))
		rc = fail(&v, API_ERR_KEY_MISMATCH, NULL);
	if (rc == 0)
		rc = leaf_facts(u.certs[u.leaf], out, &v);
	if (rc == 0)
		rc = check_leaf(in, u.certs[u.leaf], &out->info, &v);
	if (rc == 0)
		rc = check_chain(in, &u, out, &v);
	upload_dispose(&u);
	ERR_clear_error(); /* a skipped PEM block or a probe may leave entries on success too */
	if (rc)
		cert_verified_dispose(out);
	return rc ? -1 : 0;
}

int cert_trust_load(const char *path, X509_STORE **out)
{
	X509_STORE *st = X509_STORE_new();
	int rc = st ? 0 : SE_ENOMEM;

	if (rc == 0 && X509_STORE_load_file(st, path) != 1)
		rc = SE_EIO;
	if (rc == 0 && sk_X509_OBJECT_num(X509_STORE_get0_objects(st)) == 0)
		rc = SE_EIO;
	ERR_clear_error();
	if (rc) {
		X509_STORE_free(st);
		st = NULL;
	}
	*out = st;
	return rc;
}

/* JSON Web Signature as ACME uses it (RFC 8555 §6.2): flattened JSON serialization, ES256 over
 * the account key (raw r||s, RFC 7518 §3.4) and HS256 for the external account binding; the
 * account key's JWK and its RFC 7638 thumbprint. */
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/acme_int.h"
#include "lib/error.h"

#define P256_COORD 32
#define ES256_SIG  64

static int is_p256(EVP_PKEY *key)
{
	char group[32];

	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
		return 0;
	if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
					    NULL))
		return 0;
	return strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0;
}

static int coord_b64(EVP_PKEY *key, const char *param, char *out, size_t len)
{
	unsigned char bin[P256_COORD];
	BIGNUM *bn = NULL;
	int rc = SE_ECRYPTO;

	if (EVP_PKEY_get_bn_param(key, param, &bn) &&
	    BN_bn2binpad(bn, bin, P256_COORD) == P256_COORD)
		rc = acme__b64url_encode(bin, sizeof(bin), out, len) < 0 ? SE_ETOOBIG : 0;
	BN_free(bn);
	return rc;
}

int acme__jwk_build(EVP_PKEY *key, char *out, size_t len)
{
	char x[48], y[48];
	int rc, n;

	if (!is_p256(key))
		return SE_EINVAL;
	rc = coord_b64(key, OSSL_PKEY_PARAM_EC_PUB_X, x, sizeof(x));
	if (rc == 0)
		rc = coord_b64(key, OSSL_PKEY_PARAM_EC_PUB_Y, y, sizeof(y));
	if (rc != 0)
		return rc;
	/* Members in lexicographic order without blanks: this string is also the RFC 7638
	 * thumbprint input, so it must stay canonical. */
	n = snprintf(out, len, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x,
		     y);
	return n > 0 && (size_t)n < len ? 0 : SE_ETOOBIG;
}

int acme__jwk_thumbprint(const char *jwk, char *out, size_t len)
{
	unsigned char digest[32];

	if (!EVP_Digest(jwk, strlen(jwk), digest, NULL, EVP_sha256(), NULL))
		return SE_ECRYPTO;
	return acme__b64url_encode(digest, sizeof(digest), out, len) < 0 ? SE_ETOOBIG : 0;
}

static int sign_es256(EVP_PKEY *key, const char *input, unsigned char sig[ES256_SIG])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char der[80]; /* a P-256 ECDSA-Sig-Value is at most 72 bytes */
	const unsigned char *cursor = der;
	size_t der_len = sizeof(der);
	ECDSA_SIG *es = NULL;
	int rc = SE_ECRYPTO;

	if (!ctx || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(ctx, der, &der_len, (const unsigned char *)input, strlen(input)) != 1)
		goto out;
	es = d2i_ECDSA_SIG(NULL, &cursor, (long)der_len);
	if (es && BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, P256_COORD) == P256_COORD &&
	    BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + P256_COORD, P256_COORD) == P256_COORD)
		rc = 0;
out:
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(ctx);
	return rc;
}

static int sign_hs256(const unsigned char *mac_key, size_t mac_len, const char *input,
		      unsigned char sig[32])
{
	unsigned int n = 32;

	if (!HMAC(EVP_sha256(), mac_key, (int)mac_len, (const unsigned char *)input, strlen(input),
		  sig, &n))
		return SE_ECRYPTO;
	return n == 32 ? 0 : SE_ECRYPTO;
}

/* base64url of N bytes in a malloc'd string; NULL when out of memory. */
static char *b64_dup(const void *data, size_t n)
{
	size_t cap = n / 3 * 4 + 5;
	char *s = malloc(cap);

	if (s && acme__b64url_encode(data, n, s, cap) < 0) {
		free(s);
		s = NULL;
	}
	return s;
}

int acme__jws_build(EVP_PKEY *key, const unsigned char *hmac_key, size_t hmac_len,
		    json_t *protected_hdr, const char *payload, json_t **out)
{
	unsigned char sig[ES256_SIG];
	char *hdr = NULL, *prot = NULL, *pay = NULL, *input = NULL, *sig64 = NULL;
	size_t sig_len = key ? ES256_SIG : 32, input_len;
	int rc = SE_ENOMEM;

	*out = NULL;
	hdr = json_dumps(protected_hdr, JSON_COMPACT);
	if (!hdr || !(prot = b64_dup(hdr, strlen(hdr))) ||
	    !(pay = b64_dup(payload, strlen(payload))))
		goto out;
	input_len = strlen(prot) + strlen(pay) + 2;
	input = malloc(input_len);
	if (!input)
		goto out;
	snprintf(input, input_len, "%s.%s", prot, pay);
	rc = key ? sign_es256(key, input, sig) : sign_hs256(hmac_key, hmac_len, input, sig);
	if (rc != 0)
		goto out;
	rc = SE_ENOMEM;
	sig64 = b64_dup(sig, sig_len);
	if (sig64)
		*out = json_pack("{s:s, s:s, s:s}", "protected", prot, "payload", pay, "signature",
				 sig64);
	if (*out)
		rc = 0;
out:
	free(hdr);
	free(prot);
	free(pay);
	free(input);
	free(sig64);
	return rc;
}

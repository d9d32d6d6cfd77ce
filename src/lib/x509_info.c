/* Certificate facts and PEM chains; contracts in x509_info.h. */
#include "lib/x509_info.h"

#include <limits.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/error.h"
#include "lib/ids.h"

/* Cloudflare prints Go-style algorithm names joined with "With". */
static const struct {
	int nid;
	const char *name;
} sig_names[] = {
    {NID_ecdsa_with_SHA256, "ECDSAWithSHA256"},     {NID_ecdsa_with_SHA384, "ECDSAWithSHA384"},
    {NID_ecdsa_with_SHA512, "ECDSAWithSHA512"},     {NID_ecdsa_with_SHA1, "ECDSAWithSHA1"},
    {NID_sha256WithRSAEncryption, "SHA256WithRSA"}, {NID_sha384WithRSAEncryption, "SHA384WithRSA"},
    {NID_sha512WithRSAEncryption, "SHA512WithRSA"}, {NID_sha1WithRSAEncryption, "SHA1WithRSA"},
    {NID_md5WithRSAEncryption, "MD5WithRSA"},       {NID_ED25519, "Ed25519"},
};

static const struct {
	int nid;
	const char *name;
} pss_names[] = {
    {NID_sha256, "SHA256WithRSAPSS"},
    {NID_sha384, "SHA384WithRSAPSS"},
    {NID_sha512, "SHA512WithRSAPSS"},
};

static int copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		return SE_EINVAL;
	memcpy(dst, src, n + 1);
	return 0;
}

static int read_serial(const X509 *x, struct cert_info *info)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;
	char *dec = bn ? BN_bn2dec(bn) : NULL;
	int rc = SE_EINVAL;

	if (hex && dec && copy_str(info->serial, sizeof(info->serial), hex) == 0)
		rc = copy_str(info->serial_decimal, sizeof(info->serial_decimal), dec);
	OPENSSL_free(hex);
	OPENSSL_free(dec);
	BN_free(bn);
	return rc;
}

/* Keeps what Cloudflare keeps of an issuer name: "Let's Encrypt" -> "LetsEncrypt", "Cloudflare,
 * Inc." -> "CloudflareInc" (ASCII letters and digits, and any non-ASCII UTF-8 bytes). */
static int kept_byte(unsigned char ch)
{
	return ch >= 0x80 || (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= 'A' && ch <= 'Z');
}

static void squeeze_name(const unsigned char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0, i;

	for (i = 0; i < n; i++) {
		if (!kept_byte(s[i]))
			continue;
		if (o + 1 >= cap)
			break;
		out[o++] = (char)s[i];
	}
	if (i < n && (s[i] & 0xc0) == 0x80) {
		/* cut inside a multi-byte character: drop its lead and continuation bytes */
		while (o > 0 && ((unsigned char)out[o - 1] & 0xc0) == 0x80)
			o--;
		if (o > 0)
			o--;
	}
	out[o] = '\0';
}

static int read_issuer(const X509 *x, struct cert_info *info)
{
	const X509_NAME *name = X509_get_issuer_name(x);
	int idx = X509_NAME_get_index_by_NID(name, NID_organizationName, -1);
	unsigned char *utf8 = NULL;
	int n;

	if (idx < 0)
		idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	info->issuer[0] = '\0';
	if (idx < 0)
		return 0;
	n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
	if (n < 0)
		return SE_EINVAL;
	squeeze_name(utf8, (size_t)n, info->issuer, sizeof(info->issuer));
	OPENSSL_free(utf8);
	return 0;
}

static int read_signature(const X509 *x, struct cert_info *info)
{
	int nid = X509_get_signature_nid(x);
	int md_nid = NID_undef;

	for (size_t i = 0; i < sizeof(sig_names) / sizeof(sig_names[0]); i++)
		if (sig_names[i].nid == nid)
			return copy_str(info->signature, sizeof(info->signature),
					sig_names[i].name);
	if (nid == NID_rsassaPss &&
	    X509_get_signature_info((X509 *)x, &md_nid, NULL, NULL, NULL) == 1) {
		for (size_t i = 0; i < sizeof(pss_names) / sizeof(pss_names[0]); i++)
			if (pss_names[i].nid == md_nid)
				return copy_str(info->signature, sizeof(info->signature),
						pss_names[i].name);
	}
	/* Anything else keeps OpenSSL's name: rare enough that a faithful label beats a guess. */
	snprintf(info->signature, sizeof(info->signature), "%s",
		 nid == NID_undef ? "unknown" : OBJ_nid2sn(nid));
	return 0;
}

int cert_time_us(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;
	time_t secs;

	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return SE_EINVAL;
	secs = timegm(&tm);
	*out = (int64_t)secs * 1000000;
	return 0;
}

static int read_key(const X509 *x, struct cert_info *info)
{
	EVP_PKEY *pkey = X509_get0_pubkey(x);

	if (!pkey || keys_type_of(pkey, &info->key_type) != 0)
		return SE_EINVAL;
	info->key_bits = EVP_PKEY_get_bits(pkey);
	return 0;
}

/* Copies the dNSName entries of GENS into INFO->sans. */
static int copy_dns_names(const GENERAL_NAMES *gens, struct cert_info *info)
{
	size_t n = 0;

	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++)
		n += sk_GENERAL_NAME_value(gens, i)->type == GEN_DNS;
	if (n > KEYS_MAX_NAMES)
		return SE_ETOOBIG;
	info->sans = calloc(n ? n : 1, sizeof(*info->sans));
	if (!info->sans)
		return SE_ENOMEM;
	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, i);
		const ASN1_IA5STRING *s = gn->d.dNSName;
		size_t len;

		if (gn->type != GEN_DNS)
			continue;
		len = (size_t)ASN1_STRING_length(s);
		/* an embedded NUL would make the C string a different name */
		if (memchr(ASN1_STRING_get0_data(s), '\0', len))
			return SE_EINVAL;
		info->sans[info->n_sans] = strndup((const char *)ASN1_STRING_get0_data(s), len);
		if (!info->sans[info->n_sans])
			return SE_ENOMEM;
		info->n_sans++;
	}
	return 0;
}

static int read_sans(const X509 *x, struct cert_info *info)
{
	int crit = -1;
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	int rc;

	if (!gens)
		return crit == -1 ? 0 : SE_EINVAL; /* -1: absent; else repeated or malformed */
	rc = copy_dns_names(gens, info);
	GENERAL_NAMES_free(gens);
	return rc;
}

int cert_info_from_der(const unsigned char *der, size_t len, struct cert_info *info)
{
	const unsigned char *p = der;
	X509 *x = NULL;
	int rc = SE_EINVAL;

	memset(info, 0, sizeof(*info));
	if (!der || len == 0 || len > LONG_MAX)
		goto out;
	x = d2i_X509(NULL, &p, (long)len);
	if (!x || p != der + len)
		goto out;
	rc = read_serial(x, info);
	if (rc == 0)
		rc = read_issuer(x, info);
	if (rc == 0)
		rc = read_signature(x, info);
	if (rc == 0)
		rc = cert_time_us(X509_get0_notBefore(x), &info->not_before_us);
	if (rc == 0)
		rc = cert_time_us(X509_get0_notAfter(x), &info->not_after_us);
	if (rc == 0)
		rc = read_key(x, info);
	if (rc == 0)
		rc = read_sans(x, info);
	/* SHA-256 over the exact DER is what `openssl x509 -fingerprint -sha256` prints. */
	if (rc == 0)
		ids_sha256_hex(der, len, info->fingerprint_sha256);
out:
	if (rc) {
		ERR_clear_error();
		cert_info_dispose(info);
	}
	X509_free(x);
	return rc;
}

void cert_info_dispose(struct cert_info *info)
{
	for (size_t i = 0; info->sans && i < info->n_sans; i++)
		free(info->sans[i]);
	free(info->sans);
	info->sans = NULL;
	info->n_sans = 0;
}

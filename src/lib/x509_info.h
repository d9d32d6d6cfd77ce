/* Facts read from X.509 certificates, spelled the way Cloudflare's API shows them, and PEM <-> DER
 * conversion of certificate chains. Pure functions, callable from any thread. */
#ifndef SAASEDGE_LIB_X509_INFO_H
#define SAASEDGE_LIB_X509_INFO_H

#include <stddef.h>
#include <stdint.h>

#include "lib/keys.h"

/* hex digits: RFC 5280 allows 20 octets; 32 are tolerated, more refused */
#define CERT_SERIAL_MAX      64
#define CERT_ISSUER_MAX      128 /* bytes of UTF-8 */
#define CERT_SIGALG_MAX      32
#define CERT_CHAIN_MAX       16 /* certificates in one PEM chain */
#define CERT_FINGERPRINT_LEN 64

/* What the API shows of a certificate and what the issuer schedules renewals by. */
struct cert_info {
	/* uppercase hex, whole bytes, as `openssl x509 -serial` prints it: "0A1B…" */
	char serial[CERT_SERIAL_MAX + 1];
	/* the same number in decimal, the form of Cloudflare's serial_number field */
	char serial_decimal[3 * CERT_SERIAL_MAX / 2 + 2];
	/* issuer O, else CN, letters and digits only: "LetsEncrypt", "CloudflareInc" */
	char issuer[CERT_ISSUER_MAX + 1];
	/* "ECDSAWithSHA256", "SHA256WithRSA", "SHA1WithRSA", …; OpenSSL's short name otherwise */
	char signature[CERT_SIGALG_MAX + 1];
	int64_t not_before_us; /* µs since the Unix epoch */
	int64_t not_after_us;
	/* lowercase hex of SHA-256 over the DER (`openssl x509 -fingerprint -sha256` without
	 * the colons, in lower case) */
	char fingerprint_sha256[CERT_FINGERPRINT_LEN + 1];
	enum key_type key_type; /* family of the subject public key */
	int key_bits;           /* 256, 384, 2048, 4096, … */
	char **sans;            /* dNSName entries in certificate order, owned by the struct */
	size_t n_sans;
};

/* Fills *INFO from one DER certificate (the whole buffer). INFO->sans is owned by INFO: release
 * it with cert_info_dispose (also safe on a zeroed or failed INFO). SE_EINVAL when DER is not a
 * certificate, its key is neither EC nor RSA, or a field exceeds the bounds above; SE_ETOOBIG for
 * more than KEYS_MAX_NAMES SAN entries. */
int cert_info_from_der(const unsigned char *der, size_t len, struct cert_info *info);
void cert_info_dispose(struct cert_info *info);

/* T (UTCTime or GeneralizedTime) as µs since the Unix epoch; SE_EINVAL when malformed. */
int cert_time_us(const ASN1_TIME *t, int64_t *out);

/* Splits a PEM bundle into DER certificates, in order, each checked to parse as X.509. Only
 * "CERTIFICATE" blocks are allowed; text between blocks is ignored. *ders (array and elements)
 * and *lens are malloc'd: the caller frees them with cert_chain_free. SE_EINVAL for no
 * certificate, another block type or a bad certificate; SE_ETOOBIG beyond CERT_CHAIN_MAX. */
int cert_chain_from_pem(const char *pem, size_t len, unsigned char ***ders, size_t **lens,
			size_t *count);
void cert_chain_free(unsigned char **ders, size_t *lens, size_t count);

/* DER bytes as one PEM block with LABEL ("CERTIFICATE", "CERTIFICATE REQUEST"), NUL-terminated.
 * *pem is malloc'd: the caller frees it with free; *pem_len excludes the NUL. */
int cert_pem_encode(const char *label, const unsigned char *der, size_t len, char **pem,
		    size_t *pem_len);
/* COUNT DER certificates concatenated as PEM, in order (leaf first for a served chain). */
int cert_chain_to_pem(const unsigned char *const *ders, const size_t *lens, size_t count,
		      char **pem, size_t *pem_len);

#endif

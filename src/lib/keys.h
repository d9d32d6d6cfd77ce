/* Key material over OpenSSL 3: generation, DER encoding with the key type known, sealing at rest
 * with secretbox, and CSRs. Every function is pure (no global state but a per-thread decoder
 * cache) and may be called from any thread; RSA-2048 generation takes 50-200 ms, so it belongs on
 * an issuer thread, never on an event loop. Facts read from certificates live in x509_info.h. */
#ifndef SAASEDGE_LIB_KEYS_H
#define SAASEDGE_LIB_KEYS_H

#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <stdatomic.h>
#include <stddef.h>

#include "lib/secretbox.h"

/* The two certificate keys saasedge issues per hostname. For decoding and for facts read from a
 * certificate the value names the algorithm family (EC or RSA): a custom P-384 or RSA-4096 key
 * is KEY_ECDSA_P256 or KEY_RSA_2048 there, so that the edge picks it on the same path. */
enum key_type { KEY_ECDSA_P256, KEY_RSA_2048 };

/* "ecdsa" or "rsa" (the store's key_type column and the logs); never NULL. */
const char *keys_type_name(enum key_type type);
/* Parses "ecdsa" or "rsa" into *OUT; SE_EINVAL otherwise. */
int keys_type_parse(const char *name, enum key_type *out);
/* The family of PKEY (borrowed) into *OUT; SE_EINVAL when it is neither EC nor RSA. */
int keys_type_of(const EVP_PKEY *pkey, enum key_type *out);

/* A new ECDSA P-256 or RSA-2048 (e = 65537) key in *OUT; the caller frees it with EVP_PKEY_free.
 * SE_EINVAL for an unknown TYPE, SE_ECRYPTO when OpenSSL fails. */
int keys_generate(enum key_type type, EVP_PKEY **out);
/* keys_generate for background work that must not delay a shutdown: abandoned with SE_BUSY soon
 * after *STOP becomes non-zero (OpenSSL's key generation callback looks at it). */
int keys_generate_unless(enum key_type type, const atomic_int *stop, EVP_PKEY **out);

/* The private key as DER (SEC1 ECPrivateKey or PKCS#1 RSAPrivateKey). *der is OPENSSL_malloc'd:
 * the caller wipes and frees it with OPENSSL_clear_free(*der, *len). */
int keys_private_to_der(const EVP_PKEY *pkey, unsigned char **der, size_t *len);

/* Decodes a private key of the given family from DER (the form above; PKCS#8 also works, more
 * slowly). The whole buffer must be the key. *OUT is freed by the caller with EVP_PKEY_free.
 * Decoding with the type known through a decoder kept per thread is several times faster than
 * OpenSSL 3.0's auto-detection; the cache is freed when the thread exits (pthread key) or by
 * keys_thread_cleanup. SE_ECRYPTO when DER is not such a key. The thread's OpenSSL error queue
 * is left empty on failure, so a later SSL_get_error on that thread is not misled. */
int keys_private_from_der(enum key_type type, const unsigned char *der, size_t len, EVP_PKEY **out);

/* Frees the calling thread's decoder cache now. Optional: threads that exit free it on their
 * own; the main thread calls it before exit to keep leak checkers quiet. */
void keys_thread_cleanup(void);

/* Seals PKEY's private DER under BOX bound to AAD (see secretbox_seal); the intermediate DER is
 * wiped. *sealed is malloc'd: the caller frees it with free. */
int keys_seal(const struct secretbox *box, const EVP_PKEY *pkey, const char *aad,
	      unsigned char **sealed, size_t *len);

/* Opens a blob made by keys_seal and decodes the key of family TYPE into *OUT (caller frees with
 * EVP_PKEY_free). SE_ECRYPTO when the master key, the AAD or any byte is wrong. */
int keys_unseal(const struct secretbox *box, enum key_type type, const unsigned char *sealed,
		size_t len, const char *aad, EVP_PKEY **out);

/* Optional subject fields of a custom CSR; NULL or "" fields are left out. COUNTRY is two
 * letters; each field is at most 64 characters (the X.520 upper bounds). */
struct csr_subject {
	const char *country;
	const char *state;
	const char *locality;
	const char *organization;
	const char *organizational_unit;
};

#define KEYS_MAX_NAMES 100 /* SAN entries per certificate, as Cloudflare allows */
#define KEYS_CN_MAX    64  /* upper bound of a commonName */

/* Checks NAMES (N of them, 1..KEYS_MAX_NAMES) as SAN dNSName material: non-empty, at most 253
 * characters of printable ASCII without spaces. Hostname policy (IDN, reserved TLDs) is
 * lib/hostname.h's job; this only guards the encoder. SE_EINVAL otherwise. */
int keys_check_names(const char *const *names, size_t n);

/* A GENERAL_NAMES of one dNSName per name (checked by keys_check_names); shared by the CSR
 * builder and the internal CA. *OUT is freed by the caller with GENERAL_NAMES_free. */
int keys_san_new(const char *const *names, size_t n, GENERAL_NAMES **out);

/* A PKCS#10 CSR signed with SHA-256 by PKEY (borrowed, not modified): subject CN = NAMES[0] when it
 * fits in a commonName (<= 64 characters), plus SUBJECT's fields when SUBJECT is not NULL; a
 * subjectAltName extension with every name. *der is OPENSSL_malloc'd: the caller frees it with
 * OPENSSL_free. SE_EINVAL for bad names or subject fields, SE_ECRYPTO when OpenSSL fails. */
int keys_build_csr(EVP_PKEY *pkey, const char *const *names, size_t n,
		   const struct csr_subject *subject, unsigned char **der, size_t *len);

/* The CSR DER as "-----BEGIN CERTIFICATE REQUEST-----" PEM, NUL-terminated; *pem is malloc'd:
 * the caller frees it with free. *len excludes the NUL. */
int keys_csr_to_pem(const unsigned char *der, size_t len, char **pem, size_t *pem_len);

#endif

/* What the internal CA's files share: the CA record, certificate building blocks (ca_cert.c),
 * first-start generation (ca_bootstrap.c) and the crash-safe file set (ca_files.c). */
#ifndef SAASEDGE_CA_CA_INT_H
#define SAASEDGE_CA_CA_INT_H

#include <limits.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#include "ca/ca.h"

#define CA_DIR_NAME  "ca"
#define CA_ROOT_PEM  "root.pem"
#define CA_INTER_PEM "intermediate.pem"
#define CA_ROOT_KEY  "root.key.sealed"
#define CA_INTER_KEY "intermediate.key.sealed"
#define CA_ROOT_AAD  "ca:root"
#define CA_INTER_AAD "ca:intermediate"
#define CA_KEYID_LEN 20 /* SHA-1 of the public key, RFC 5280 4.2.1.2 method 1 */
#define CA_FILE_MAX  (64 * 1024)

/* Key usage bits as positions in the KeyUsage BIT STRING. */
#define CA_KU_DIGITAL_SIGNATURE (1u << 0)
#define CA_KU_KEY_ENCIPHERMENT  (1u << 2)
#define CA_KU_KEY_CERT_SIGN     (1u << 5)
#define CA_KU_CRL_SIGN          (1u << 6)

/* Read-only after ca_open, which is what makes ca_issue thread-safe: issuance touches only
 * these bytes and the intermediate key (OpenSSL 3 signs with a shared EVP_PKEY safely). */
struct ca {
	char root_path[PATH_MAX];
	unsigned char *root_der;
	size_t root_der_len;
	unsigned char *inter_der;
	size_t inter_der_len;
	EVP_PKEY *inter_key;
	unsigned char *issuer_name_der; /* the intermediate's subject, decoded per leaf */
	size_t issuer_name_len;
	unsigned char inter_keyid[CA_KEYID_LEN];
	int64_t inter_not_after_us;
};

/* One file of the CA set. DATA is borrowed. */
struct ca_file {
	const char *name;
	const void *data;
	size_t len;
	unsigned mode;
};

/* ca_files.c */
/* Writes FILES into a fresh temporary directory under DATA_DIR (each written, fsynced, given
 * its mode), fsyncs it and renames it to DATA_DIR/ca, then fsyncs DATA_DIR. SE_EEXISTS when
 * DATA_DIR/ca already holds files (another process won the race; the temporary copy is
 * removed); SE_EIO on any I/O failure. */
int ca_files_commit(const char *data_dir, const struct ca_file *files, size_t n);
/* Reads PATH (at most CA_FILE_MAX bytes) into *BUF, malloc'd for the caller (free). SE_ENOTFOUND
 * when it does not exist, SE_EIO otherwise. */
int ca_files_read(const char *path, unsigned char **buf, size_t *len);

/* ca_cert.c: pieces of a certificate; each returns 0 or SE_E*. */
/* A v3 certificate with a random positive 16-byte serial, SUBJECT and ISSUER copied, validity
 * [NOT_BEFORE_US, NOT_AFTER_US] and PUBKEY (borrowed); *OUT freed with X509_free. */
int ca_cert_start(const X509_NAME *subject, const X509_NAME *issuer, EVP_PKEY *pubkey,
		  int64_t not_before_us, int64_t not_after_us, X509 **out);
/* basicConstraints, critical: CA:TRUE with PATHLEN (none when < 0), or CA:FALSE. */
int ca_ext_basic(X509 *x, int is_ca, int pathlen);
/* keyUsage, critical, from CA_KU_* bits. */
int ca_ext_key_usage(X509 *x, unsigned bits);
/* extendedKeyUsage serverAuth. */
int ca_ext_server_auth(X509 *x);
/* subjectKeyIdentifier from X's public key, copied to KEYID (may be NULL), and, when ISSUER_ID
 * is not NULL, authorityKeyIdentifier keyid = ISSUER_ID (CA_KEYID_LEN bytes). */
int ca_ext_key_ids(X509 *x, const unsigned char *issuer_id, unsigned char *keyid);
/* subjectAltName with one dNSName per name; CRITICAL when the subject is empty (RFC 5280). */
int ca_ext_san(X509 *x, const char *const *names, size_t n, int critical);
/* Signs X with KEY (ECDSA-SHA256 for the CA's keys) and returns its DER, OPENSSL_malloc'd. */
int ca_cert_sign(X509 *x, EVP_PKEY *key, unsigned char **der, size_t *len);
/* A name of CN (and O when not NULL); *OUT freed with X509_NAME_free. */
int ca_name_new(const char *cn, const char *org, X509_NAME **out);

/* ca_bootstrap.c */
/* Generates the root and the intermediate and commits the file set under DATA_DIR; SE_EEXISTS
 * when another process committed first. */
int ca_bootstrap(const char *data_dir, const struct secretbox *box);

#endif

/* The internal CA: saasedge's embedded default issuer. A root (ECDSA P-256, 10 years) signs one
 * intermediate (ECDSA P-256, 5 years, pathlen 0), which signs the leaves; the served chain is
 * leaf + intermediate, and clients trust DATA_DIR/ca/root.pem. Private keys rest sealed under
 * the master key (secretbox); only the intermediate key is unsealed at run time.
 *
 * Files under DATA_DIR/ca/: root.pem and intermediate.pem (0644), root.key.sealed and
 * intermediate.key.sealed (0600, AAD "ca:root" / "ca:intermediate"). They are created together
 * on first start and published by one atomic directory rename, so a crash leaves either nothing
 * or the complete set, and of two processes starting at once one wins and both use its CA. The
 * issuer keeps the set in the store too (ca_file_set_*), so that every node of a fleet uses one
 * CA and DATA_DIR/ca mirrors it (docs/decisions/0029). */
#ifndef SAASEDGE_CA_CA_H
#define SAASEDGE_CA_CA_H

#include <stddef.h>
#include <stdint.h>

#include "lib/secretbox.h"

#define CA_DEFAULT_VALIDITY_US (365LL * 24 * 3600 * 1000000) /* one year */

struct ca;

/* Opens the CA under DATA_DIR (which must exist), creating it on first start. BOX is borrowed
 * for the call only. *OUT is freed with ca_close. SE_EIO for unreadable or inconsistent files
 * (each logged with its path), SE_ECRYPTO when the master key does not open the sealed key.
 * Generation takes a few ms (ECDSA only). Call once, from one thread. */
int ca_open(const char *data_dir, const struct secretbox *box, struct ca **out);
void ca_close(struct ca *ca);

/* The CA's four files as one set, to keep it where every issuer node finds it (the store):
 * the files named CA_FILE_NAMES[i] hold DATA[i] (LEN[i] bytes, malloc'd). */
#define CA_N_FILES 4
extern const char *const ca_file_names[CA_N_FILES];
struct ca_file_set {
	unsigned char *data[CA_N_FILES];
	size_t len[CA_N_FILES];
};

/* Reads DATA_DIR's CA files into *SET; SE_ENOTFOUND when DATA_DIR holds no CA, SE_EIO. */
int ca_file_set_read(const char *data_dir, struct ca_file_set *set);
/* Makes DATA_DIR's CA files SET: nothing to do when they are; a different CA found there is
 * moved aside to DATA_DIR/ca.replaced-<time> (logged), never deleted. */
int ca_file_set_publish(const char *data_dir, const struct ca_file_set *set);
void ca_file_set_dispose(struct ca_file_set *set);

/* Path of root.pem, for operators and dev mode to print; owned by CA. */
const char *ca_root_path(const struct ca *ca);

/* The root and intermediate certificates as DER, borrowed from CA until ca_close. The served
 * chain after a leaf is the intermediate alone. */
void ca_root_der(const struct ca *ca, const unsigned char **der, size_t *len);
void ca_chain_der(const struct ca *ca, const unsigned char **der, size_t *len);

/* Issues a leaf for exactly NAMES (N, 1..100; CN = NAMES[0] when <= 64 characters, SAN = all)
 * to the key of the PKCS#10 CSR in CSR_DER, whose signature must verify; the CSR's subject and
 * extensions are ignored, because saasedge decided the names after its own validation. The key
 * must be ECDSA P-256/P-384 or RSA 2048-8192. Validity starts at NOT_BEFORE_US (µs since the
 * epoch; callers usually backdate a little for clock skew) and lasts VALIDITY_US, cut to the
 * intermediate's own expiry (logged). *leaf_der is OPENSSL_malloc'd: the caller frees it with
 * OPENSSL_free. SE_EINVAL for bad names, a malformed CSR or a refused key, SE_ECRYPTO when the
 * CSR signature does not verify, SE_ECONFIG when the intermediate has expired.
 * Thread-safe: issuer threads may call it concurrently (CA is read-only after ca_open). */
int ca_issue(const struct ca *ca, const unsigned char *csr_der, size_t len,
	     const char *const *names, size_t n, int64_t not_before_us, int64_t validity_us,
	     unsigned char **leaf_der, size_t *leaf_len);

#endif

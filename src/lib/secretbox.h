/* Encryption at rest for private keys: AES-256-GCM under a master key kept in a file of mode
 * 0600 or given in the environment. A sealed blob is [1 byte version = 1][12 bytes random nonce][ciphertext][16 bytes tag];
 * the additional data (AAD) binds a blob to the row it belongs to, so a blob copied to another
 * row does not open. */
#ifndef SAASEDGE_LIB_SECRETBOX_H
#define SAASEDGE_LIB_SECRETBOX_H

#include <stddef.h>

#define SECRETBOX_KEY_LEN 32
#define SECRETBOX_OVERHEAD (1 + 12 + 16)

struct secretbox {
	unsigned char key[SECRETBOX_KEY_LEN];
};

/* Reads the 32-byte master key from PATH. When the file is missing and CREATE is set, writes a
 * new random key there first (mode 0600, created exclusively). SE_EPERM when the file is
 * readable by group or others; SE_EIO when it cannot be read or is not 32 bytes. */
int secretbox_load(const char *path, int create, struct secretbox *out);

/* The environment variable that can hold the master key itself (base64 of the 32 bytes, e.g.
 * `head -c32 /dev/urandom | base64`), for fleets whose nodes get their secrets from the
 * environment rather than from a file in the data directory. */
#define SECRETBOX_KEY_ENV "SAASEDGE_MASTER_KEY"

/* The master key from SECRETBOX_KEY_ENV when it is set, else secretbox_load(PATH, CREATE). With
 * the variable no file is read or written, and its value is wiped from the environment once
 * read, so that no child process or later getenv sees it. *FROM_ENV (may be NULL) says which
 * source was used. SE_EINVAL when the variable is set but is not 32 bytes in base64; its value
 * is never printed. Call before other threads start (it changes the environment). */
int secretbox_load_master(const char *path, int create, struct secretbox *out, int *from_env);

/* Encrypts PLAIN (N bytes) bound to AAD (NUL-terminated, may be ""). *sealed is malloc'd
 * (caller frees), *sealed_len = N + SECRETBOX_OVERHEAD. */
int secretbox_seal(const struct secretbox *box, const void *plain, size_t n, const char *aad,
		   unsigned char **sealed, size_t *sealed_len);

/* Decrypts and authenticates. *plain is malloc'd with a trailing NUL (not counted in
 * *plain_len); free it with secretbox_free_plain, which wipes it first. SE_ECRYPTO when the key,
 * the AAD or any byte is wrong. */
int secretbox_open(const struct secretbox *box, const unsigned char *sealed, size_t sealed_len,
		   const char *aad, unsigned char **plain, size_t *plain_len);
void secretbox_free_plain(unsigned char *plain, size_t plain_len);

/* Wipes the key from memory. */
void secretbox_wipe(struct secretbox *box);

#endif

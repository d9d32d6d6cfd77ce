/* Encryption at rest for private keys: AES-256-GCM under a master key kept in a file of mode
 * 0600. A sealed blob is [1 byte version = 1][12 bytes random nonce][ciphertext][16 bytes tag];
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

/* AES-256-GCM sealing under a master key file; layout in secretbox.h. Every buffer that held a
 * key or a plaintext is cleansed before it is freed or goes out of scope. */
#include "lib/secretbox.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/fileio.h"
#include "lib/ids.h"
#include "lib/log.h"

#define SB_VERSION 1
#define NONCE_LEN  12
#define TAG_LEN    16
#define HEADER_LEN (1 + NONCE_LEN)

/* Writes a fresh random key to PATH, which must not exist. The key is written and synced in a
 * file of its own and then linked into place, so that no process ever sees PATH short: nodes
 * started together on one data directory each try to create it, and a crash half-way leaves
 * no key file that would stop every later start. Losing the race to another process is fine:
 * the caller reads whichever key won. */
static int create_key(const char *path)
{
	unsigned char key[SECRETBOX_KEY_LEN];
	char tmp[PATH_MAX];
	int fd = -1;
	int rc = ids_random(key, sizeof(key));

	if (rc)
		goto out;
	if (snprintf(tmp, sizeof(tmp), "%s.new.%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
		rc = SE_ETOOBIG;
		goto out;
	}
	unlink(tmp); /* left by a process of ours that had this pid and crashed */
	fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = SE_EIO;
		goto out;
	}
	rc = fileio_write_all(fd, key, sizeof(key));
	if (rc == 0 && fsync(fd) != 0)
		rc = SE_EIO;
	if (close(fd) != 0 && rc == 0)
		rc = SE_EIO;
	fd = -1;
	/* link(2), unlike rename(2), fails rather than replace a key another process made. */
	if (rc == 0 && link(tmp, path) != 0 && errno != EEXIST)
		rc = SE_EIO;
	unlink(tmp);
	if (rc == 0)
		rc = fileio_fsync_parent(path);
out:
	if (fd >= 0)
		close(fd);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

static int read_key(int fd, const char *path, unsigned char key[SECRETBOX_KEY_LEN])
{
	struct stat st;
	size_t got = 0;
	unsigned char extra;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return SE_EIO;
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		log_error(
		    "msg=\"master key file has group or other permissions\" path=%s mode=%04o",
		    path, (unsigned)(st.st_mode & 07777));
		return SE_EPERM;
	}
	if (st.st_size != SECRETBOX_KEY_LEN)
		return SE_EIO;
	while (got < SECRETBOX_KEY_LEN) {
		ssize_t r = read(fd, key + got, SECRETBOX_KEY_LEN - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return SE_EIO;
		got += (size_t)r;
	}
	/* The size was checked above, but the file may have grown since. */
	if (read(fd, &extra, 1) != 0)
		return SE_EIO;
	return 0;
}

/* Borrows PATH; OUT is written only on success. */
int secretbox_load(const char *path, int create, struct secretbox *out)
{
	unsigned char key[SECRETBOX_KEY_LEN];
	int fd = -1;
	int rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		rc = create_key(path);
		if (rc)
			goto out;
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0) {
		rc = SE_EIO;
		goto out;
	}
	rc = read_key(fd, path, key);
	if (rc == 0)
		memcpy(out->key, key, sizeof(key));
out:
	if (fd >= 0)
		close(fd);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

/* TEXT (base64 of exactly SECRETBOX_KEY_LEN bytes: 44 characters ending in one '=') into KEY. */
static int decode_key(const char *text, unsigned char key[SECRETBOX_KEY_LEN])
{
	unsigned char buf[SECRETBOX_KEY_LEN + 1]; /* EVP_DecodeBlock counts the padding too */
	size_t n = strlen(text);
	int rc = SE_EINVAL;

	if (n == 44 && text[42] != '=' && text[43] == '=' &&
	    strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") ==
		43 &&
	    EVP_DecodeBlock(buf, (const unsigned char *)text, 44) == SECRETBOX_KEY_LEN + 1) {
		memcpy(key, buf, SECRETBOX_KEY_LEN);
		rc = 0;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

/* Borrows PATH; OUT is written only on success. */
int secretbox_load_master(const char *path, int create, struct secretbox *out, int *from_env)
{
	char *text = getenv(SECRETBOX_KEY_ENV);
	unsigned char key[SECRETBOX_KEY_LEN];
	int rc;

	if (from_env)
		*from_env = text != NULL;
	if (!text)
		return secretbox_load(path, create, out);
	rc = decode_key(text, key);
	if (rc == 0)
		memcpy(out->key, key, sizeof(key));
	/* The value lives in the process's environment block (also /proc/<pid>/environ): wipe
	 * it there, then drop the variable. */
	OPENSSL_cleanse(text, strlen(text));
	unsetenv(SECRETBOX_KEY_ENV);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

/* EVP takes int lengths. */
static int fits_int(size_t n)
{
	return n <= (size_t)INT_MAX - SECRETBOX_OVERHEAD;
}

/* Borrows PLAIN and AAD; *SEALED is malloc'd for the caller on success, NULL otherwise. */
int secretbox_seal(const struct secretbox *box, const void *plain, size_t n, const char *aad,
		   unsigned char **sealed, size_t *sealed_len)
{
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *buf = NULL;
	size_t aad_len = aad ? strlen(aad) : 0;
	int len, rc = SE_ECRYPTO;

	*sealed = NULL;
	*sealed_len = 0;
	if (!aad || (!plain && n > 0))
		return SE_EINVAL;
	if (!fits_int(n) || !fits_int(aad_len))
		return SE_ETOOBIG;
	buf = malloc(n + SECRETBOX_OVERHEAD);
	if (!buf) {
		rc = SE_ENOMEM;
		goto out;
	}
	buf[0] = SB_VERSION;
	if (ids_random(buf + 1, NONCE_LEN) != 0)
		goto out;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx || EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, box->key, buf + 1) != 1)
		goto out;
	if (EVP_EncryptUpdate(ctx, NULL, &len, (const unsigned char *)aad, (int)aad_len) != 1)
		goto out;
	if (n > 0 && EVP_EncryptUpdate(ctx, buf + HEADER_LEN, &len, plain, (int)n) != 1)
		goto out;
	if (EVP_EncryptFinal_ex(ctx, buf + HEADER_LEN + n, &len) != 1)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, buf + HEADER_LEN + n) != 1)
		goto out;
	*sealed = buf;
	*sealed_len = n + SECRETBOX_OVERHEAD;
	buf = NULL;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	free(buf); /* only ciphertext, never plaintext, was written to it */
	return rc;
}

/* Borrows SEALED and AAD; *PLAIN is malloc'd for the caller on success (free it with
 * secretbox_free_plain), NULL otherwise: no partial plaintext survives a failure. */
int secretbox_open(const struct secretbox *box, const unsigned char *sealed, size_t sealed_len,
		   const char *aad, unsigned char **plain, size_t *plain_len)
{
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *buf = NULL;
	unsigned char tag[TAG_LEN];
	size_t n = sealed_len >= SECRETBOX_OVERHEAD ? sealed_len - SECRETBOX_OVERHEAD : 0;
	size_t aad_len = aad ? strlen(aad) : 0;
	int len, rc = SE_ECRYPTO;

	*plain = NULL;
	*plain_len = 0;
	if (!aad || !sealed)
		return SE_EINVAL;
	if (sealed_len < SECRETBOX_OVERHEAD || sealed[0] != SB_VERSION)
		return SE_ECRYPTO;
	if (!fits_int(n) || !fits_int(aad_len))
		return SE_ETOOBIG;
	buf = malloc(n + 1);
	if (!buf) {
		rc = SE_ENOMEM;
		goto out;
	}
	memcpy(tag, sealed + HEADER_LEN + n, TAG_LEN);
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx || EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, box->key, sealed + 1) != 1)
		goto out;
	if (EVP_DecryptUpdate(ctx, NULL, &len, (const unsigned char *)aad, (int)aad_len) != 1)
		goto out;
	if (n > 0 && EVP_DecryptUpdate(ctx, buf, &len, sealed + HEADER_LEN, (int)n) != 1)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1)
		goto out;
	if (EVP_DecryptFinal_ex(ctx, buf + n, &len) != 1)
		goto out;
	buf[n] = '\0';
	*plain = buf;
	*plain_len = n;
	buf = NULL;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (buf)
		secretbox_free_plain(buf, n);
	return rc;
}

/* Takes ownership of PLAIN (from secretbox_open, or NULL). */
void secretbox_free_plain(unsigned char *plain, size_t plain_len)
{
	if (!plain)
		return;
	OPENSSL_cleanse(plain, plain_len + 1); /* with the trailing NUL */
	free(plain);
}

void secretbox_wipe(struct secretbox *box)
{
	OPENSSL_cleanse(box->key, sizeof(box->key));
}

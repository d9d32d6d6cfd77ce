/* Unit tests of src/lib/secretbox.c: the key file (creation, mode, size, reload) and sealing
 * (round trips, tampering, wrong AAD or key, truncation, fresh nonces). Each test works in its
 * own temporary directory. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/error.h"
#include "lib/ids.h"
#include "lib/secretbox.h"

struct fixture {
	char dir[64];
	char key_path[128];
	struct secretbox box;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_secretbox.XXXXXX");
	if (!mkdtemp(fx->dir)) {
		free(fx);
		return -1;
	}
	snprintf(fx->key_path, sizeof(fx->key_path), "%s/master.key", fx->dir);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	unlink(fx->key_path);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static void write_file(const char *path, const void *data, size_t n, mode_t mode)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void load_new_key(struct fixture *fx)
{
	assert_int_equal(secretbox_load(fx->key_path, 1, &fx->box), 0);
}

static void test_key_created_0600(void **state)
{
	struct fixture *fx = *state;
	struct secretbox again;
	struct stat st;
	unsigned char zero[SECRETBOX_KEY_LEN] = {0};

	load_new_key(fx);
	assert_int_equal(stat(fx->key_path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, SECRETBOX_KEY_LEN);
	assert_memory_not_equal(fx->box.key, zero, SECRETBOX_KEY_LEN);
	/* the existing key is loaded back unchanged, with or without CREATE */
	assert_int_equal(secretbox_load(fx->key_path, 1, &again), 0);
	assert_memory_equal(again.key, fx->box.key, SECRETBOX_KEY_LEN);
	assert_int_equal(secretbox_load(fx->key_path, 0, &again), 0);
	assert_memory_equal(again.key, fx->box.key, SECRETBOX_KEY_LEN);
}

/* Nodes started together on one data directory each create the missing key: every one must
 * load the same whole key, never a file another is still writing, and no temporary is left. */
static void test_key_created_by_racing_processes(void **state)
{
	enum { PROCS = 8, ROUNDS = 40 };
	struct fixture *fx = *state;

	for (int round = 0; round < ROUNDS; round++) {
		int go[2], keys[2];
		unsigned char first[SECRETBOX_KEY_LEN], got[SECRETBOX_KEY_LEN];
		char start = 0;
		DIR *d;
		struct dirent *e;
		int entries = 0;

		assert_int_equal(pipe(go), 0);
		assert_int_equal(pipe(keys), 0);
		for (int i = 0; i < PROCS; i++) {
			pid_t pid = fork();

			assert_true(pid >= 0);
			if (pid == 0) {
				struct secretbox box;

				close(go[1]);
				/* all children block here until the parent closes the pipe */
				if (read(go[0], &start, 1) != 0 ||
				    secretbox_load(fx->key_path, 1, &box) != 0)
					memset(box.key, 0, sizeof(box.key));
				_exit(write(keys[1], box.key, sizeof(box.key)) ==
				      (ssize_t)sizeof(box.key) ? 0 : 1);
			}
		}
		close(go[0]);
		close(go[1]);
		close(keys[1]);
		for (int i = 0; i < PROCS; i++) {
			assert_int_equal(read(keys[0], i ? got : first, SECRETBOX_KEY_LEN),
					 SECRETBOX_KEY_LEN);
			if (i)
				assert_memory_equal(got, first, SECRETBOX_KEY_LEN);
		}
		memset(got, 0, sizeof(got));
		assert_memory_not_equal(first, got, SECRETBOX_KEY_LEN);
		close(keys[0]);
		while (wait(NULL) > 0)
			;
		d = opendir(fx->dir);
		assert_non_null(d);
		while ((e = readdir(d)))
			if (e->d_name[0] != '.')
				entries++;
		closedir(d);
		assert_int_equal(entries, 1);
		assert_int_equal(unlink(fx->key_path), 0);
	}
}

static void test_key_missing(void **state)
{
	struct fixture *fx = *state;
	char nested[192];

	assert_int_equal(secretbox_load(fx->key_path, 0, &fx->box), SE_EIO);
	assert_int_equal(access(fx->key_path, F_OK), -1);
	snprintf(nested, sizeof(nested), "%s/no/such/dir/key", fx->dir);
	assert_int_equal(secretbox_load(nested, 1, &fx->box), SE_EIO);
}

static void test_key_mode_refused(void **state)
{
	struct fixture *fx = *state;
	static const mode_t modes[] = {0644, 0640, 0604, 0610, 0601, 0660};

	load_new_key(fx);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		assert_int_equal(chmod(fx->key_path, modes[i]), 0);
		assert_int_equal(secretbox_load(fx->key_path, 1, &fx->box), SE_EPERM);
	}
	assert_int_equal(chmod(fx->key_path, 0400), 0);
	assert_int_equal(secretbox_load(fx->key_path, 0, &fx->box), 0);
}

static void test_key_wrong_size(void **state)
{
	struct fixture *fx = *state;
	unsigned char bytes[SECRETBOX_KEY_LEN + 1];
	struct secretbox before, box;

	memset(bytes, 7, sizeof(bytes));
	memset(&before, 0x42, sizeof(before));
	box = before;
	write_file(fx->key_path, bytes, SECRETBOX_KEY_LEN - 1, 0600);
	assert_int_equal(secretbox_load(fx->key_path, 1, &box), SE_EIO);
	write_file(fx->key_path, bytes, SECRETBOX_KEY_LEN + 1, 0600);
	assert_int_equal(secretbox_load(fx->key_path, 1, &box), SE_EIO);
	write_file(fx->key_path, bytes, 0, 0600);
	assert_int_equal(secretbox_load(fx->key_path, 1, &box), SE_EIO);
	/* a failed load leaves the output alone */
	assert_memory_equal(&box, &before, sizeof(box));
	/* a directory is not a key file */
	assert_int_equal(secretbox_load(fx->dir, 0, &box), SE_EIO);
}

static void round_trip(const struct secretbox *box, const void *plain, size_t n, const char *aad)
{
	unsigned char *sealed = NULL, *opened = NULL;
	size_t sealed_len = 0, opened_len = 0;

	assert_int_equal(secretbox_seal(box, plain, n, aad, &sealed, &sealed_len), 0);
	assert_int_equal(sealed_len, n + SECRETBOX_OVERHEAD);
	assert_int_equal(sealed[0], 1);
	if (n >= 16) /* shorter ciphertexts may match the plaintext by chance */
		assert_memory_not_equal(sealed + 13, plain, n);
	assert_int_equal(secretbox_open(box, sealed, sealed_len, aad, &opened, &opened_len), 0);
	assert_int_equal(opened_len, n);
	if (n > 0)
		assert_memory_equal(opened, plain, n);
	assert_int_equal(opened[n], '\0');
	secretbox_free_plain(opened, opened_len);
	free(sealed);
}

static void test_round_trips(void **state)
{
	struct fixture *fx = *state;
	unsigned char big[4096];
	static const char pem[] = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI...\n";

	load_new_key(fx);
	assert_int_equal(ids_random(big, sizeof(big)), 0);
	round_trip(&fx->box, pem, strlen(pem), "certificate:0d89c70d-ad9f-4843-b99f-6cc0252067e9");
	round_trip(&fx->box, "", 0, "row");
	round_trip(&fx->box, NULL, 0, "");
	round_trip(&fx->box, "x", 1, "");
	round_trip(&fx->box, big, sizeof(big), "big");
	round_trip(&fx->box, big, 17, "odd length");
}

static void expect_refused(const struct secretbox *box, const unsigned char *sealed, size_t n,
			   const char *aad)
{
	unsigned char *opened = (unsigned char *)"sentinel";
	size_t opened_len = 12345;

	assert_int_equal(secretbox_open(box, sealed, n, aad, &opened, &opened_len), SE_ECRYPTO);
	assert_null(opened);
	assert_int_equal(opened_len, 0);
}

static void test_tamper_every_byte(void **state)
{
	struct fixture *fx = *state;
	static const char secret[] = "a private key, more or less";
	unsigned char *sealed = NULL;
	size_t n = 0;

	load_new_key(fx);
	assert_int_equal(secretbox_seal(&fx->box, secret, strlen(secret), "aad", &sealed, &n), 0);
	for (size_t i = 0; i < n; i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			sealed[i] ^= (unsigned char)(1u << bit);
			expect_refused(&fx->box, sealed, n, "aad");
			sealed[i] ^= (unsigned char)(1u << bit);
		}
	}
	/* and the untouched blob still opens */
	{
		unsigned char *opened = NULL;
		size_t len = 0;

		assert_int_equal(secretbox_open(&fx->box, sealed, n, "aad", &opened, &len), 0);
		assert_string_equal((char *)opened, secret);
		secretbox_free_plain(opened, len);
	}
	free(sealed);
}

static void test_wrong_aad_key_truncated(void **state)
{
	struct fixture *fx = *state;
	struct secretbox other;
	unsigned char *sealed = NULL;
	size_t n = 0;

	load_new_key(fx);
	assert_int_equal(secretbox_seal(&fx->box, "secret", 6, "row-1", &sealed, &n), 0);
	expect_refused(&fx->box, sealed, n, "row-2");
	expect_refused(&fx->box, sealed, n, "");
	expect_refused(&fx->box, sealed, n, "row-1 ");
	other = fx->box;
	other.key[31] ^= 1;
	expect_refused(&other, sealed, n, "row-1");
	for (size_t len = 0; len < n; len++)
		expect_refused(&fx->box, sealed, len, "row-1");
	secretbox_wipe(&other);
	free(sealed);
}

static void test_nonces_differ(void **state)
{
	struct fixture *fx = *state;
	unsigned char *a = NULL, *b = NULL;
	size_t an = 0, bn = 0;

	load_new_key(fx);
	assert_int_equal(secretbox_seal(&fx->box, "same", 4, "aad", &a, &an), 0);
	assert_int_equal(secretbox_seal(&fx->box, "same", 4, "aad", &b, &bn), 0);
	assert_int_equal(an, bn);
	assert_memory_not_equal(a + 1, b + 1, 12);
	assert_memory_not_equal(a, b, an);
	free(a);
	free(b);
}

static void test_bad_arguments(void **state)
{
	struct fixture *fx = *state;
	unsigned char *sealed = (unsigned char *)"sentinel";
	size_t n = 99;

	load_new_key(fx);
	assert_int_equal(secretbox_seal(&fx->box, "x", 1, NULL, &sealed, &n), SE_EINVAL);
	assert_null(sealed);
	assert_int_equal(secretbox_seal(&fx->box, NULL, 5, "", &sealed, &n), SE_EINVAL);
	assert_null(sealed);
	secretbox_free_plain(NULL, 0);
}

static void test_wipe(void **state)
{
	struct fixture *fx = *state;
	unsigned char zero[SECRETBOX_KEY_LEN] = {0};

	load_new_key(fx);
	secretbox_wipe(&fx->box);
	assert_memory_equal(fx->box.key, zero, SECRETBOX_KEY_LEN);
}

/* The key in SAASEDGE_MASTER_KEY: used instead of the file (none is created), wiped from the
 * environment once read; anything but 32 bytes of base64 is refused. */
static void test_key_from_environment(void **state)
{
	struct fixture *fx = *state;
	/* base64 of the bytes 0..31 */
	static const char b64[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
	static const char *const bad[] = {
	    "",
	    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",   /* no padding */
	    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh==",  /* 31 bytes */
	    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", /* a stray newline */
	    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGx*dHh8=",  /* not base64 */
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", /* hex */
	};
	int from_env = 0;

	assert_int_equal(setenv(SECRETBOX_KEY_ENV, b64, 1), 0);
	assert_int_equal(secretbox_load_master(fx->key_path, 1, &fx->box, &from_env), 0);
	assert_int_equal(from_env, 1);
	for (int i = 0; i < SECRETBOX_KEY_LEN; i++)
		assert_int_equal(fx->box.key[i], i);
	assert_null(getenv(SECRETBOX_KEY_ENV));
	assert_int_equal(access(fx->key_path, F_OK), -1); /* no file written */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(setenv(SECRETBOX_KEY_ENV, bad[i], 1), 0);
		assert_int_equal(secretbox_load_master(fx->key_path, 1, &fx->box, &from_env),
				 SE_EINVAL);
		assert_int_equal(from_env, 1);
		assert_null(getenv(SECRETBOX_KEY_ENV));
	}
	assert_int_equal(access(fx->key_path, F_OK), -1);
	/* Without the variable: the file, created when missing. */
	assert_int_equal(secretbox_load_master(fx->key_path, 1, &fx->box, &from_env), 0);
	assert_int_equal(from_env, 0);
	assert_int_equal(access(fx->key_path, F_OK), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_key_created_0600),
	    T(test_key_created_by_racing_processes),
	    T(test_key_missing),
	    T(test_key_mode_refused),
	    T(test_key_wrong_size),
	    T(test_round_trips),
	    T(test_tamper_every_byte),
	    T(test_wrong_aad_key_truncated),
	    T(test_nonces_differ),
	    T(test_bad_arguments),
	    T(test_wipe),
	    T(test_key_from_environment),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}

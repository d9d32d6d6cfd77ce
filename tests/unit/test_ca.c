/* Unit tests of src/ca/: the internal CA's files (modes, reload, sealing, races), and leaves
 * checked the way a client checks them: X509_verify_cert against root.pem with the intermediate
 * as the untrusted chain, purpose sslserver, X509_check_host, and once the real `openssl verify`
 * command. Each test works in its own temporary data directory. */
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
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <pthread.h>

#include "ca/ca.h"
#include "lib/error.h"
#include "lib/keys.h"
#include "lib/secretbox.h"
#include "lib/timeutil.h"
#include "lib/x509_info.h"

#define MINUTE_US (60LL * 1000000)

struct fixture {
	char dir[64];
	struct secretbox box;
	struct ca *ca;
	EVP_PKEY *ec, *rsa; /* CSR keys, made once: RSA generation is slow */
};

static EVP_PKEY *shared_rsa;

static void path_in(const struct fixture *fx, const char *name, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", fx->dir, name);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char key_path[128];

	if (!fx)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_ca.XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	path_in(fx, "master.key", key_path, sizeof(key_path));
	if (secretbox_load(key_path, 1, &fx->box) != 0 || ca_open(fx->dir, &fx->box, &fx->ca) != 0)
		return -1;
	if (keys_generate(KEY_ECDSA_P256, &fx->ec) != 0)
		return -1;
	if (!shared_rsa && keys_generate(KEY_RSA_2048, &shared_rsa) != 0)
		return -1;
	fx->rsa = shared_rsa;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	ca_close(fx->ca);
	EVP_PKEY_free(fx->ec);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

static size_t csr_for(EVP_PKEY *key, const char *const *names, size_t n, unsigned char **der)
{
	size_t len = 0;

	assert_int_equal(keys_build_csr(key, names, n, NULL, der, &len), 0);
	return len;
}

static size_t issue(const struct fixture *fx, EVP_PKEY *key, const char *const *names, size_t n,
		    unsigned char **leaf)
{
	unsigned char *csr = NULL;
	size_t csr_len = csr_for(key, names, n, &csr), leaf_len = 0;

	assert_int_equal(ca_issue(fx->ca, csr, csr_len, names, n, time_now_us() - MINUTE_US,
				  CA_DEFAULT_VALIDITY_US, leaf, &leaf_len),
			 0);
	OPENSSL_free(csr);
	return leaf_len;
}

static X509 *x509_of(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);

	assert_non_null(x);
	return x;
}

/* Verifies LEAF as a TLS client would: trust anchored in root.pem (loaded from the file), the
 * intermediate from ca_chain_der as the untrusted chain, purpose sslserver. Returns the
 * X509_V_* result. */
static int verify_leaf(const struct fixture *fx, const unsigned char *der, size_t len)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *chain = sk_X509_new_null();
	const unsigned char *inter_der;
	size_t inter_len;
	X509 *leaf = x509_of(der, len), *inter;
	int ok, err;

	ca_chain_der(fx->ca, &inter_der, &inter_len);
	inter = x509_of(inter_der, inter_len);
	assert_true(sk_X509_push(chain, inter) > 0);
	assert_int_equal(X509_STORE_load_file(store, ca_root_path(fx->ca)), 1);
	assert_int_equal(X509_STORE_CTX_init(ctx, store, leaf, chain), 1);
	assert_int_equal(X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER), 1);
	ok = X509_verify_cert(ctx);
	err = X509_STORE_CTX_get_error(ctx);
	if (ok == 1) /* leaf, intermediate, root */
		assert_int_equal(sk_X509_num(X509_STORE_CTX_get0_chain(ctx)), 3);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_pop_free(chain, X509_free);
	X509_free(leaf);
	return ok == 1 ? X509_V_OK : (err ? err : -1);
}

static void file_mode_is(const struct fixture *fx, const char *name, unsigned mode)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/ca/%s", fx->dir, name);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, mode);
	assert_true(st.st_size > 0);
}

static void test_open_creates_files(void **state)
{
	struct fixture *fx = *state;
	char want[256];

	file_mode_is(fx, "root.pem", 0644);
	file_mode_is(fx, "intermediate.pem", 0644);
	file_mode_is(fx, "root.key.sealed", 0600);
	file_mode_is(fx, "intermediate.key.sealed", 0600);
	snprintf(want, sizeof(want), "%s/ca/root.pem", fx->dir);
	assert_string_equal(ca_root_path(fx->ca), want);
}

static void test_root_and_intermediate_profile(void **state)
{
	struct fixture *fx = *state;
	const unsigned char *der;
	size_t len;
	X509 *root, *inter;
	char cn[128];

	ca_root_der(fx->ca, &der, &len);
	root = x509_of(der, len);
	ca_chain_der(fx->ca, &der, &len);
	inter = x509_of(der, len);
	X509_NAME_get_text_by_NID(X509_get_subject_name(root), NID_commonName, cn, sizeof(cn));
	assert_string_equal(cn, "saasedge Internal Root CA");
	X509_NAME_get_text_by_NID(X509_get_subject_name(root), NID_organizationName, cn,
				  sizeof(cn));
	assert_string_equal(cn, "saasedge");
	assert_int_equal(X509_check_ca(root), 1);
	assert_int_equal(X509_get_extension_flags(root) & EXFLAG_SS, EXFLAG_SS);
	assert_int_equal(X509_get_key_usage(root), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	assert_non_null(X509_get0_subject_key_id(root));
	assert_int_equal(X509_check_ca(inter), 1);
	assert_int_equal(X509_get_pathlen(inter), 0);
	assert_int_equal(X509_check_issued(root, inter), X509_V_OK);
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(inter),
					       X509_get0_subject_key_id(root)),
			 0);
	assert_int_equal(EVP_PKEY_get_base_id(X509_get0_pubkey(inter)), EVP_PKEY_EC);
	/* 10 and 5 years */
	{
		int days, secs;

		assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(root),
						X509_get0_notAfter(root)),
				 1);
		assert_int_equal(days, 3650);
		assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(inter),
						X509_get0_notAfter(inter)),
				 1);
		assert_int_equal(days, 1825);
	}
	X509_free(root);
	X509_free(inter);
}

static void test_reopen_loads_same_ca(void **state)
{
	struct fixture *fx = *state;
	struct ca *again = NULL;
	const unsigned char *a, *b;
	size_t alen, blen;

	assert_int_equal(ca_open(fx->dir, &fx->box, &again), 0);
	ca_root_der(fx->ca, &a, &alen);
	ca_root_der(again, &b, &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	ca_chain_der(fx->ca, &a, &alen);
	ca_chain_der(again, &b, &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	ca_close(again);
}

static void test_wrong_master_key_refused(void **state)
{
	struct fixture *fx = *state;
	struct secretbox other;
	struct ca *again = NULL;

	memset(other.key, 0x5a, sizeof(other.key));
	assert_int_equal(ca_open(fx->dir, &other, &again), SE_ECRYPTO);
	assert_null(again);
}

static void check_leaf(const struct fixture *fx, EVP_PKEY *key, enum key_type type)
{
	const char *names[] = {"app.customer.com", "www.customer.com"};
	unsigned char *leaf = NULL;
	size_t len = issue(fx, key, names, 2, &leaf);
	struct cert_info info;
	X509 *x = x509_of(leaf, len);
	uint32_t ku = X509_get_key_usage(x);

	assert_int_equal(verify_leaf(fx, leaf, len), X509_V_OK);
	assert_int_equal(X509_check_host(x, "www.customer.com", 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(x, "other.customer.com", 0, 0, NULL), 0);
	assert_int_equal(X509_check_ca(x), 0);
	assert_int_equal(X509_get_extended_key_usage(x), XKU_SSL_SERVER);
	assert_int_equal(ku, type == KEY_RSA_2048 ? KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT
						  : KU_DIGITAL_SIGNATURE);
	assert_int_equal(cert_info_from_der(leaf, len, &info), 0);
	assert_int_equal(info.key_type, type);
	assert_string_equal(info.signature, "ECDSAWithSHA256");
	assert_string_equal(info.issuer, "saasedge");
	assert_int_equal(strlen(info.serial), 32); /* 16 bytes, positive, fixed length */
	cert_info_dispose(&info);
	X509_free(x);
	OPENSSL_free(leaf);
}

static void test_leaves_verify(void **state)
{
	struct fixture *fx = *state;

	check_leaf(fx, fx->ec, KEY_ECDSA_P256);
	check_leaf(fx, fx->rsa, KEY_RSA_2048);
}

static void write_pem(const char *path, const unsigned char *der, size_t len)
{
	char *pem = NULL;
	size_t pem_len = 0;
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(cert_pem_encode("CERTIFICATE", der, len, &pem, &pem_len), 0);
	assert_int_equal(fwrite(pem, 1, pem_len, f), pem_len);
	assert_int_equal(fclose(f), 0);
	free(pem);
}

static void test_openssl_cli_verifies(void **state)
{
	struct fixture *fx = *state;
	const char *names[] = {"app.customer.com"};
	unsigned char *leaf = NULL;
	size_t len = issue(fx, fx->rsa, names, 1, &leaf);
	char leaf_path[128], cmd[1024], out[512] = "";
	size_t got;
	FILE *p;

	path_in(fx, "leaf.pem", leaf_path, sizeof(leaf_path));
	write_pem(leaf_path, leaf, len);
	snprintf(cmd, sizeof(cmd),
		 "openssl verify -purpose sslserver -verify_hostname app.customer.com "
		 "-CAfile '%s' -untrusted '%s/ca/intermediate.pem' '%s' 2>&1",
		 ca_root_path(fx->ca), fx->dir, leaf_path);
	p = popen(cmd, "r");
	assert_non_null(p);
	got = fread(out, 1, sizeof(out) - 1, p);
	out[got] = '\0';
	assert_int_equal(pclose(p), 0);
	snprintf(cmd, sizeof(cmd), "%s: OK\n", leaf_path);
	assert_string_equal(out, cmd);
	OPENSSL_free(leaf);
}

static void test_names_come_from_caller(void **state)
{
	struct fixture *fx = *state;
	const char *asked[] = {"evil.example.net", "bank.example.org"};
	const char *names[] = {"good.customer.com"};
	struct csr_subject subj = {"US", NULL, NULL, "Evil Corp", NULL};
	unsigned char *csr = NULL, *leaf = NULL;
	size_t csr_len = 0, len = 0;
	struct cert_info info;
	X509 *x;
	char buf[128];

	assert_int_equal(keys_build_csr(fx->ec, asked, 2, &subj, &csr, &csr_len), 0);
	assert_int_equal(ca_issue(fx->ca, csr, csr_len, names, 1, time_now_us(),
				  CA_DEFAULT_VALIDITY_US, &leaf, &len),
			 0);
	assert_int_equal(cert_info_from_der(leaf, len, &info), 0);
	assert_int_equal(info.n_sans, 1);
	assert_string_equal(info.sans[0], "good.customer.com");
	x = x509_of(leaf, len);
	assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(x)), 1);
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, sizeof(buf));
	assert_string_equal(buf, "good.customer.com");
	assert_null(memmem(leaf, len, "evil", 4));
	assert_null(memmem(leaf, len, "Evil", 4));
	X509_free(x);
	cert_info_dispose(&info);
	OPENSSL_free(leaf);
	OPENSSL_free(csr);
}

static void test_long_first_name_no_cn(void **state)
{
	struct fixture *fx = *state;
	char name[71];
	const char *names[] = {name, "short.customer.com"};
	unsigned char *leaf = NULL;
	size_t len;
	X509 *x;
	int crit = 0;
	GENERAL_NAMES *gens;

	memset(name, 'x', 57);
	memcpy(name + 57, ".customer.com", 14);
	len = issue(fx, fx->ec, names, 2, &leaf);
	x = x509_of(leaf, len);
	assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(x)), 0);
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	assert_non_null(gens);
	assert_int_equal(crit, 1); /* RFC 5280: critical when the subject is empty */
	assert_int_equal(sk_GENERAL_NAME_num(gens), 2);
	assert_int_equal(X509_check_host(x, name, 0, 0, NULL), 1);
	assert_int_equal(verify_leaf(fx, leaf, len), X509_V_OK);
	GENERAL_NAMES_free(gens);
	X509_free(x);
	OPENSSL_free(leaf);
}

static void test_bad_csr_refused(void **state)
{
	struct fixture *fx = *state;
	const char *names[] = {"app.customer.com"};
	unsigned char *csr = NULL, *leaf = NULL;
	size_t csr_len = csr_for(fx->ec, names, 1, &csr), len = 0;
	int rc;

	csr[csr_len - 1] ^= 0x01; /* last byte of the signature */
	rc = ca_issue(fx->ca, csr, csr_len, names, 1, time_now_us(), CA_DEFAULT_VALIDITY_US, &leaf,
		      &len);
	assert_true(rc == SE_ECRYPTO || rc == SE_EINVAL);
	assert_null(leaf);
	assert_int_equal(ca_issue(fx->ca, (const unsigned char *)"junk", 4, names, 1, time_now_us(),
				  CA_DEFAULT_VALIDITY_US, &leaf, &len),
			 SE_EINVAL);
	csr[csr_len - 1] ^= 0x01;
	/* names the CA refuses, or no validity */
	assert_int_equal(ca_issue(fx->ca, csr, csr_len, names, 0, time_now_us(),
				  CA_DEFAULT_VALIDITY_US, &leaf, &len),
			 SE_EINVAL);
	assert_int_equal(ca_issue(fx->ca, csr, csr_len, names, 1, time_now_us(), 0, &leaf, &len),
			 SE_EINVAL);
	assert_int_equal(ERR_peek_error(), 0);
	OPENSSL_free(csr);
}

static void test_validity_honoured(void **state)
{
	struct fixture *fx = *state;
	const char *names[] = {"app.customer.com"};
	unsigned char *csr = NULL, *leaf = NULL;
	size_t csr_len = csr_for(fx->ec, names, 1, &csr), len = 0;
	int64_t nb = (time_now_us() / 1000000 - 30) * 1000000;
	struct cert_info info;

	assert_int_equal(ca_issue(fx->ca, csr, csr_len, names, 1, nb, 10 * MINUTE_US, &leaf, &len),
			 0);
	assert_int_equal(cert_info_from_der(leaf, len, &info), 0);
	assert_int_equal(info.not_before_us, nb);
	assert_int_equal(info.not_after_us, nb + 10 * MINUTE_US);
	cert_info_dispose(&info);
	OPENSSL_free(leaf);
	/* a validity beyond the intermediate's is cut to it, and the leaf still verifies */
	assert_int_equal(ca_issue(fx->ca, csr, csr_len, names, 1, nb,
				  20 * 365 * 24 * 3600LL * 1000000, &leaf, &len),
			 0);
	assert_int_equal(cert_info_from_der(leaf, len, &info), 0);
	assert_true(info.not_after_us < nb + 5 * 366 * 24 * 3600LL * 1000000);
	assert_int_equal(verify_leaf(fx, leaf, len), X509_V_OK);
	cert_info_dispose(&info);
	OPENSSL_free(leaf);
	OPENSSL_free(csr);
}

static size_t read_file(const char *path, unsigned char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static void test_sealed_keys_not_plaintext(void **state)
{
	struct fixture *fx = *state;
	unsigned char sealed[4096], *der = NULL;
	size_t n, der_len = 0;
	char path[256];
	EVP_PKEY *root_key = NULL, *probe = NULL;
	const unsigned char *root_der;
	size_t root_len;
	X509 *root;

	snprintf(path, sizeof(path), "%s/ca/root.key.sealed", fx->dir);
	n = read_file(path, sealed, sizeof(sealed));
	assert_null(memmem(sealed, n, "PRIVATE KEY", 11));
	assert_int_equal(keys_private_from_der(KEY_ECDSA_P256, sealed, n, &probe), SE_ECRYPTO);
	/* it opens under its own AAD only, and holds the root's key */
	assert_int_equal(
	    keys_unseal(&fx->box, KEY_ECDSA_P256, sealed, n, "ca:intermediate", &root_key),
	    SE_ECRYPTO);
	assert_int_equal(keys_unseal(&fx->box, KEY_ECDSA_P256, sealed, n, "ca:root", &root_key), 0);
	assert_int_equal(keys_private_to_der(root_key, &der, &der_len), 0);
	assert_null(memmem(sealed, n, der, der_len));
	assert_null(memmem(sealed, n, der + 7, 32)); /* the private scalar of the SEC1 DER */
	ca_root_der(fx->ca, &root_der, &root_len);
	root = x509_of(root_der, root_len);
	assert_int_equal(X509_check_private_key(root, root_key), 1);
	snprintf(path, sizeof(path), "%s/ca/intermediate.key.sealed", fx->dir);
	n = read_file(path, sealed, sizeof(sealed));
	assert_null(memmem(sealed, n, "PRIVATE KEY", 11));
	assert_int_equal(keys_private_from_der(KEY_ECDSA_P256, sealed, n, &probe), SE_ECRYPTO);
	X509_free(root);
	OPENSSL_clear_free(der, der_len);
	EVP_PKEY_free(root_key);
}

struct issue_job {
	const struct fixture *fx;
	EVP_PKEY *key;
	unsigned char *leaf[20];
	size_t len[20];
	int rc;
};

static void *issue_thread(void *arg)
{
	struct issue_job *job = arg;
	char name[64];

	for (int i = 0; i < 20 && job->rc == 0; i++) {
		const char *names[] = {name};
		unsigned char *csr = NULL;
		size_t csr_len = 0;

		snprintf(name, sizeof(name), "h%d.%s.customer.com", i,
			 keys_type_name(EVP_PKEY_get_base_id(job->key) == EVP_PKEY_RSA
					    ? KEY_RSA_2048
					    : KEY_ECDSA_P256));
		job->rc = keys_build_csr(job->key, names, 1, NULL, &csr, &csr_len);
		if (job->rc == 0)
			job->rc = ca_issue(job->fx->ca, csr, csr_len, names, 1, time_now_us(),
					   CA_DEFAULT_VALIDITY_US, &job->leaf[i], &job->len[i]);
		OPENSSL_free(csr);
	}
	return NULL;
}

static void test_concurrent_issuance(void **state)
{
	struct fixture *fx = *state;
	struct issue_job jobs[2] = {{fx, fx->ec, {0}, {0}, 0}, {fx, fx->rsa, {0}, {0}, 0}};
	pthread_t t[2];
	struct cert_info a, b;

	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, issue_thread, &jobs[i]), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(jobs[i].rc, 0);
	}
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 20; j++)
			assert_int_equal(verify_leaf(fx, jobs[i].leaf[j], jobs[i].len[j]),
					 X509_V_OK);
	/* serials are random, so the two threads' first leaves differ */
	assert_int_equal(cert_info_from_der(jobs[0].leaf[0], jobs[0].len[0], &a), 0);
	assert_int_equal(cert_info_from_der(jobs[1].leaf[0], jobs[1].len[0], &b), 0);
	assert_string_not_equal(a.serial, b.serial);
	cert_info_dispose(&a);
	cert_info_dispose(&b);
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 20; j++)
			OPENSSL_free(jobs[i].leaf[j]);
}

/* Two processes open the same fresh data directory at once: both must end up with one CA. */
static void test_two_processes_race(void **state)
{
	struct fixture *fx = *state;

	for (int round = 0; round < 3; round++) {
		char dir[256], cmd[300];
		int go[2], res[2][2];
		pid_t pid[2];
		unsigned char got[2][32];

		snprintf(dir, sizeof(dir), "%s/race%d", fx->dir, round);
		assert_int_equal(mkdir(dir, 0700), 0);
		assert_int_equal(pipe(go), 0);
		for (int i = 0; i < 2; i++) {
			assert_int_equal(pipe(res[i]), 0);
			pid[i] = fork();
			assert_true(pid[i] >= 0);
			if (pid[i] == 0) {
				struct ca *ca = NULL;
				const unsigned char *der;
				size_t len;
				unsigned char md[32] = {0};
				char c;

				close(go[1]);
				if (read(go[0], &c, 1) != 0) /* EOF: both released at once */
					_exit(2);
				if (ca_open(dir, &fx->box, &ca) == 0) {
					ca_root_der(ca, &der, &len);
					EVP_Digest(der, len, md, NULL, EVP_sha256(), NULL);
					ca_close(ca);
				}
				_exit(write(res[i][1], md, sizeof(md)) == sizeof(md) ? 0 : 1);
			}
			close(res[i][1]);
		}
		close(go[0]);
		close(go[1]);
		for (int i = 0; i < 2; i++) {
			int status;

			assert_int_equal(read(res[i][0], got[i], 32), 32);
			close(res[i][0]);
			assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
			assert_int_equal(WEXITSTATUS(status), 0);
		}
		assert_memory_equal(got[0], got[1], 32);
		assert_memory_not_equal(got[0], (unsigned char[32]){0}, 32);
		/* the loser left no temporary directory behind */
		snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s' | grep -v '^ca$')\"", dir);
		assert_int_equal(system(cmd), 0);
	}
}

/* An empty ca/ directory (made by hand, or by a packaging step) does not block creation. */
static void test_empty_ca_dir_is_filled(void **state)
{
	struct fixture *fx = *state;
	char dir[256];
	struct ca *ca = NULL;

	snprintf(dir, sizeof(dir), "%s/fresh", fx->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(dir, sizeof(dir), "%s/fresh/ca", fx->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(dir, sizeof(dir), "%s/fresh", fx->dir);
	assert_int_equal(ca_open(dir, &fx->box, &ca), 0);
	ca_close(ca);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open_creates_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_root_and_intermediate_profile, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reopen_loads_same_ca, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_master_key_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_leaves_verify, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_openssl_cli_verifies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_names_come_from_caller, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_first_name_no_cn, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_csr_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_validity_honoured, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sealed_keys_not_plaintext, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_issuance, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_processes_race, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_empty_ca_dir_is_filled, setup, teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	EVP_PKEY_free(shared_rsa);
	keys_thread_cleanup();
	return rc;
}

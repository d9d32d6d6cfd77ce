/* Key generation, DER encoding and sealing; contracts in keys.h. */
#include "lib/keys.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"

/* OpenSSL 3.0 spends ~90% of a typed DER decode building the OSSL_DECODER_CTX (it searches every
 * provider for decoders); decoding with a context built once is 7-20x faster. A context is not
 * thread-safe, so each thread keeps one per key type, found through a pthread key whose
 * destructor frees them when the thread exits. The context writes each result into SLOT. */
struct decoder_cache {
	OSSL_DECODER_CTX *ctx[2];
	EVP_PKEY *slot[2];
};

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static int cache_key_ok;

static const char *const type_names[] = {"ecdsa", "rsa"};
static const char *const decoder_types[] = {"EC", "RSA"};
static const int evp_types[] = {EVP_PKEY_EC, EVP_PKEY_RSA};

static int type_valid(enum key_type type)
{
	return type == KEY_ECDSA_P256 || type == KEY_RSA_2048;
}

const char *keys_type_name(enum key_type type)
{
	return type_valid(type) ? type_names[type] : "unknown";
}

int keys_type_parse(const char *name, enum key_type *out)
{
	for (int t = KEY_ECDSA_P256; t <= KEY_RSA_2048; t++) {
		if (name && strcmp(name, type_names[t]) == 0) {
			*out = (enum key_type)t;
			return 0;
		}
	}
	return SE_EINVAL;
}

int keys_type_of(const EVP_PKEY *pkey, enum key_type *out)
{
	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_EC:
		*out = KEY_ECDSA_P256;
		return 0;
	case EVP_PKEY_RSA:
		*out = KEY_RSA_2048;
		return 0;
	default:
		return SE_EINVAL;
	}
}

int keys_generate(enum key_type type, EVP_PKEY **out)
{
	*out = NULL;
	if (type == KEY_ECDSA_P256)
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else if (type == KEY_RSA_2048)
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	else
		return SE_EINVAL;
	if (!*out) {
		ERR_clear_error();
		return SE_ECRYPTO;
	}
	return 0;
}

/* OpenSSL calls this during generation (each prime candidate): 0 abandons it. */
static int keygen_continue(EVP_PKEY_CTX *ctx)
{
	const atomic_int *stop = EVP_PKEY_CTX_get_app_data(ctx);

	return !atomic_load(stop);
}

int keys_generate_unless(enum key_type type, const atomic_int *stop, EVP_PKEY **out)
{
	EVP_PKEY_CTX *ctx;
	int ok;

	*out = NULL;
	if (type != KEY_ECDSA_P256 && type != KEY_RSA_2048)
		return SE_EINVAL;
	ctx = EVP_PKEY_CTX_new_from_name(NULL, type == KEY_RSA_2048 ? "RSA" : "EC", NULL);
	ok = ctx && EVP_PKEY_keygen_init(ctx) > 0;
	if (ok && type == KEY_RSA_2048)
		ok = EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048) > 0;
	else if (ok)
		ok = EVP_PKEY_CTX_set_group_name(ctx, "P-256") > 0;
	if (ok) {
		EVP_PKEY_CTX_set_app_data(ctx, (void *)stop);
		EVP_PKEY_CTX_set_cb(ctx, keygen_continue);
		ok = EVP_PKEY_generate(ctx, out) > 0;
	}
	EVP_PKEY_CTX_free(ctx);
	if (!ok) {
		EVP_PKEY_free(*out);
		*out = NULL;
		ERR_clear_error();
		return atomic_load(stop) ? SE_EBUSY : SE_ECRYPTO;
	}
	return 0;
}

int keys_private_to_der(const EVP_PKEY *pkey, unsigned char **der, size_t *len)
{
	int n;

	*der = NULL;
	*len = 0;
	n = i2d_PrivateKey(pkey, der);
	if (n <= 0) {
		*der = NULL;
		ERR_clear_error();
		return SE_ECRYPTO;
	}
	*len = (size_t)n;
	return 0;
}

static void cache_free(void *p)
{
	struct decoder_cache *c = p;

	if (!c)
		return;
	for (size_t i = 0; i < 2; i++) {
		OSSL_DECODER_CTX_free(c->ctx[i]);
		EVP_PKEY_free(c->slot[i]);
	}
	free(c);
}

static void cache_key_create(void)
{
	cache_key_ok = pthread_key_create(&cache_key, cache_free) == 0;
}

/* The calling thread's decoder for TYPE, created on first use; NULL when it cannot be made. */
static struct decoder_cache *thread_cache(enum key_type type)
{
	struct decoder_cache *c;

	pthread_once(&cache_once, cache_key_create);
	if (!cache_key_ok)
		return NULL;
	c = pthread_getspecific(cache_key);
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c || pthread_setspecific(cache_key, c) != 0) {
			free(c);
			return NULL;
		}
	}
	if (!c->ctx[type]) {
		/* "type-specific" is SEC1 / PKCS#1, what i2d_PrivateKey writes; the 3.0 decoder
		 * chain also accepts PKCS#8 through this context. */
		c->ctx[type] = OSSL_DECODER_CTX_new_for_pkey(&c->slot[type], "DER", "type-specific",
							     decoder_types[type], EVP_PKEY_KEYPAIR,
							     NULL, NULL);
		if (!c->ctx[type])
			return NULL;
	}
	return c;
}

void keys_thread_cleanup(void)
{
	if (!cache_key_ok)
		return;
	cache_free(pthread_getspecific(cache_key));
	pthread_setspecific(cache_key, NULL);
}

/* Decodes through the thread's cached context; *OUT stays NULL when DER is not such a key.
 * SE_ENOMEM when the thread has no context (allocation failed). */
static int decode_cached(enum key_type type, const unsigned char *der, size_t len, EVP_PKEY **out)
{
	struct decoder_cache *c = thread_cache(type);
	const unsigned char *p = der;
	size_t left = len;

	if (!c)
		return SE_ENOMEM;
	EVP_PKEY_free(c->slot[type]);
	c->slot[type] = NULL;
	if (OSSL_DECODER_from_data(c->ctx[type], &p, &left) == 1 && left == 0) {
		*out = c->slot[type];
		c->slot[type] = NULL;
	}
	EVP_PKEY_free(c->slot[type]); /* a key followed by trailing bytes */
	c->slot[type] = NULL;
	return 0;
}

/* The uncached decode, for a thread whose cache could not be set up. */
static void decode_slow(enum key_type type, const unsigned char *der, size_t len, EVP_PKEY **out)
{
	const unsigned char *p = der;

	*out = d2i_PrivateKey_ex(evp_types[type], NULL, &p, (long)len, NULL, NULL);
	if (*out && p != der + len) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
}

int keys_private_from_der(enum key_type type, const unsigned char *der, size_t len, EVP_PKEY **out)
{
	*out = NULL;
	if (!type_valid(type) || !der || len == 0 || len > INT_MAX)
		return SE_EINVAL;
	if (decode_cached(type, der, len, out) != 0) {
		ERR_clear_error();
		decode_slow(type, der, len, out);
	}
	if (!*out || EVP_PKEY_get_base_id(*out) != evp_types[type]) {
		EVP_PKEY_free(*out);
		*out = NULL;
		ERR_clear_error();
		return SE_ECRYPTO;
	}
	return 0;
}

int keys_seal(const struct secretbox *box, const EVP_PKEY *pkey, const char *aad,
	      unsigned char **sealed, size_t *len)
{
	unsigned char *der = NULL;
	size_t der_len = 0;
	int rc;

	*sealed = NULL;
	*len = 0;
	rc = keys_private_to_der(pkey, &der, &der_len);
	if (rc == 0)
		rc = secretbox_seal(box, der, der_len, aad, sealed, len);
	OPENSSL_clear_free(der, der_len);
	return rc;
}

int keys_unseal(const struct secretbox *box, enum key_type type, const unsigned char *sealed,
		size_t len, const char *aad, EVP_PKEY **out)
{
	unsigned char *der = NULL;
	size_t der_len = 0;
	int rc;

	*out = NULL;
	rc = secretbox_open(box, sealed, len, aad, &der, &der_len);
	if (rc == 0)
		rc = keys_private_from_der(type, der, der_len, out);
	if (der)
		secretbox_free_plain(der, der_len);
	return rc;
}

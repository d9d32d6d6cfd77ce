/* Session tickets whose keys live in the store, so that every edge resumes every edge's
 * sessions. The newest key encrypts; the TICKET_KEYS newest decrypt (an older key's ticket is
 * renewed). A key older than edge.ticket_rotation makes whichever edge notices first add a new
 * one. Refreshed by the change-feed thread; the handshake path only takes a short lock. */
#include "edge/edge_int.h"

#include <openssl/core_names.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/log.h"
#include "lib/timeutil.h"

#define TICKET_KEYS 3
#define NAME_LEN    16
#define AES_LEN     32
#define HMAC_LEN    32
#define SECRET_LEN  (NAME_LEN + AES_LEN + HMAC_LEN)

struct ticket_key {
	unsigned char name[NAME_LEN];
	unsigned char aes[AES_LEN];
	unsigned char hmac[HMAC_LEN];
	int64_t created_at_us;
};

struct edge_tickets {
	pthread_mutex_t lock;
	struct ticket_key keys[TICKET_KEYS];
	int n;
	EVP_CIPHER *aes; /* fetched once: implicit fetches cost on every handshake */
};

static void hex(const unsigned char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

/* A new random key, sealed and appended to the store. */
static int add_key(struct edge *e)
{
	unsigned char secret[SECRET_LEN];
	struct store_ticket_key k = {0};
	char aad[256];
	int rc = SE_ECRYPTO;

	if (RAND_bytes(secret, sizeof(secret)) != 1)
		goto out;
	hex(secret, NAME_LEN, k.name);
	snprintf(aad, sizeof(aad), "ticket:%s", k.name);
	rc = secretbox_seal(e->box, secret, sizeof(secret), aad, &k.sealed, &k.sealed_len);
	if (rc == 0) {
		k.created_at_us = time_now_us();
		rc = store_ticket_key_put(e->st, &k);
	}
	if (rc == 0)
		log_info("edge msg=\"new session-ticket key\"");
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	free(k.sealed);
	return rc;
}

static int open_key(struct edge *e, const struct store_ticket_key *sk, struct ticket_key *out)
{
	unsigned char *plain = NULL;
	size_t len = 0;
	char aad[256];
	int rc;

	snprintf(aad, sizeof(aad), "ticket:%s", sk->name);
	rc = secretbox_open(e->box, sk->sealed, sk->sealed_len, aad, &plain, &len);
	if (rc == 0 && len != SECRET_LEN)
		rc = SE_ECRYPTO;
	if (rc == 0) {
		memcpy(out->name, plain, NAME_LEN);
		memcpy(out->aes, plain + NAME_LEN, AES_LEN);
		memcpy(out->hmac, plain + NAME_LEN + AES_LEN, HMAC_LEN);
		out->created_at_us = sk->created_at_us;
	}
	if (plain)
		secretbox_free_plain(plain, len);
	return rc;
}

/* Reads the newest keys into memory; 1 when the newest is due for rotation (or missing). */
static int load_keys(struct edge *e)
{
	struct store_ticket_key sk[TICKET_KEYS];
	struct ticket_key keys[TICKET_KEYS];
	size_t n = 0;
	int got = 0, due;

	if (store_ticket_keys_recent(e->st, sk, TICKET_KEYS, &n) != 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (open_key(e, &sk[i], &keys[got]) == 0)
			got++;
		free(sk[i].sealed);
	}
	due = got == 0 ||
	      keys[0].created_at_us + e->cfg->edge.ticket_rotation * 1000000 < time_now_us();
	if (got) {
		pthread_mutex_lock(&e->tickets->lock);
		memcpy(e->tickets->keys, keys, sizeof(keys[0]) * (size_t)got);
		e->tickets->n = got;
		pthread_mutex_unlock(&e->tickets->lock);
	}
	OPENSSL_cleanse(keys, sizeof(keys));
	return due;
}

void tickets_refresh(struct edge *e)
{
	if (load_keys(e) && add_key(e) == 0)
		load_keys(e);
}

static int set_keys(struct edge_tickets *t, const struct ticket_key *k, unsigned char *iv,
		    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)k->hmac, HMAC_LEN),
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
	    OSSL_PARAM_construct_end()};

	if (!EVP_MAC_CTX_set_params(hctx, params))
		return -1;
	if (enc)
		return EVP_EncryptInit_ex(cctx, t->aes, NULL, k->aes, iv) ? 1 : -1;
	return EVP_DecryptInit_ex(cctx, t->aes, NULL, k->aes, iv) ? 1 : -1;
}

static int ticket_cb(SSL *ssl, unsigned char *key_name, unsigned char *iv, EVP_CIPHER_CTX *cctx,
		     EVP_MAC_CTX *hctx, int enc)
{
	struct edge *e = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	struct edge_tickets *t = e->tickets;
	int rc = 0, i = 0;

	pthread_mutex_lock(&t->lock);
	if (enc && t->n > 0) {
		memcpy(key_name, t->keys[0].name, NAME_LEN);
		rc = RAND_bytes(iv, EVP_MAX_IV_LENGTH) == 1
			 ? set_keys(t, &t->keys[0], iv, cctx, hctx, 1)
			 : -1;
	} else if (!enc) {
		while (i < t->n && memcmp(key_name, t->keys[i].name, NAME_LEN) != 0)
			i++;
		/* unknown key: a full handshake; an older key: accept and issue a fresh ticket */
		if (i < t->n)
			rc = set_keys(t, &t->keys[i], iv, cctx, hctx, 0) == 1 ? (i ? 2 : 1) : -1;
	}
	pthread_mutex_unlock(&t->lock);
	if (rc < 0)
		ERR_clear_error();
	return rc;
}

int tickets_init(struct edge *e, SSL_CTX *ctx)
{
	struct edge_tickets *t = calloc(1, sizeof(*t));

	if (!t)
		return SE_ENOMEM;
	pthread_mutex_init(&t->lock, NULL);
	t->aes = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
	e->tickets = t;
	if (!t->aes)
		return SE_ECRYPTO;
	tickets_refresh(e);
	SSL_CTX_set_app_data(ctx, e);
	if (!SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb))
		return SE_ECRYPTO;
	/* OpenSSL sends two tickets per TLS 1.3 handshake by default, each an encryption and a
	 * record: one is enough for the next connection, which gets a fresh one in turn. */
	SSL_CTX_set_num_tickets(ctx, (size_t)e->cfg->edge.session_tickets);
	if (e->cfg->edge.session_tickets == 0)
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	return 0;
}

void tickets_dispose(struct edge *e)
{
	struct edge_tickets *t = e->tickets;

	if (!t)
		return;
	OPENSSL_cleanse(t->keys, sizeof(t->keys));
	EVP_CIPHER_free(t->aes);
	pthread_mutex_destroy(&t->lock);
	free(t);
	e->tickets = NULL;
}

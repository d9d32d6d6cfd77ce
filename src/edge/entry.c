/* Entries: one served name, decoded once (DER with the key type known) and shared by reference.
 * Built on lookup threads, never on a loop: decoding one certificate costs 170-350 µs. */
#include "edge/edge_int.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/keys.h"

static void entry_free(struct edge_entry *e)
{
	for (int i = 0; i < 2; i++) {
		X509_free(e->leaf[i]);
		sk_X509_pop_free(e->chain[i], X509_free);
		EVP_PKEY_free(e->key[i]);
	}
	free(e->ciphers);
	free(e);
}

void edge_entry_ref(struct edge_entry *e)
{
	atomic_fetch_add(&e->refs, 1);
}

void edge_entry_unref(struct edge_entry *e)
{
	if (e && atomic_fetch_sub(&e->refs, 1) == 1)
		entry_free(e);
}

int edge_entry_servable(const struct edge_entry *e)
{
	return !e->negative && (e->cert_id[ENTRY_EC][0] || e->cert_id[ENTRY_RSA][0]);
}

int edge_entry_pick(const struct edge_entry *e, int client_takes_ecdsa)
{
	if (e->cert_id[ENTRY_EC][0] && (client_takes_ecdsa || !e->cert_id[ENTRY_RSA][0]))
		return ENTRY_EC;
	return ENTRY_RSA;
}

int edge_entry_ready(const struct edge_entry *e, enum entry_need need)
{
	if (need == ENTRY_NEED_NONE || !edge_entry_servable(e))
		return 1;
	return e->leaf[edge_entry_pick(e, need == ENTRY_NEED_ECDSA_CLIENT)] != NULL;
}

static struct edge_entry *entry_new(const char *key)
{
	struct edge_entry *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	atomic_init(&e->refs, 1);
	snprintf(e->name, sizeof(e->name), "%s", key);
	e->bytes = sizeof(*e);
	e->min_version = TLS1_2_VERSION;
	return e;
}

int edge_entry_negative(const char *key, int64_t expires_us, struct edge_entry **out)
{
	struct edge_entry *e = entry_new(key);

	*out = e;
	if (!e)
		return SE_ENOMEM;
	e->negative = 1;
	e->expires_us = expires_us;
	return 0;
}

/* min_tls_version, tls_1_3, http2 and ciphers of Cloudflare's ssl.settings. */
static int parse_settings(struct edge_entry *e, const char *json)
{
	json_t *root = json ? json_loads(json, 0, NULL) : NULL;
	const char *min, *t13, *h2, *hints;
	json_t *ciphers, *c;
	size_t i, len = 0;
	int rc = 0;

	if (!root)
		return 0;
	min = json_string_value(json_object_get(root, "min_tls_version"));
	if (min && strcmp(min, "1.3") == 0)
		e->min_version = TLS1_3_VERSION;
	else if (min && strcmp(min, "1.2") != 0)
		e->min_version = TLS1_2_VERSION; /* 1.0 and 1.1 are not offered by this edge */
	t13 = json_string_value(json_object_get(root, "tls_1_3"));
	e->no_tls13 = t13 && strcmp(t13, "off") == 0;
	h2 = json_string_value(json_object_get(root, "http2"));
	e->no_http2 = h2 && strcmp(h2, "off") == 0;
	hints = json_string_value(json_object_get(root, "early_hints"));
	e->early_hints = hints && strcmp(hints, "on") == 0;
	ciphers = json_object_get(root, "ciphers");
	json_array_foreach(ciphers, i, c) len +=
	    json_is_string(c) ? strlen(json_string_value(c)) + 1 : 0;
	if (len) {
		e->ciphers = calloc(1, len + 1);
		if (!e->ciphers)
			rc = SE_ENOMEM;
		len = 0;
		json_array_foreach(ciphers, i, c)
		{
			const char *name = json_string_value(c);
			size_t n = name ? strlen(name) : 0;

			/* A name outside the edge's list (a CBC or RSA-key-exchange suite that
			 * Cloudflare's API accepts) is dropped: settings narrow, never widen. */
			if (rc || !n || !edge_tls12_cipher_allowed(name))
				continue;
			if (len)
				e->ciphers[len++] = ':';
			memcpy(e->ciphers + len, name, n); /* sized above, ':' included */
			len += n;
		}
		if (!rc && len == 0) { /* nothing allowed left: the edge's own list applies */
			free(e->ciphers);
			e->ciphers = NULL;
		}
	}
	json_decref(root);
	return rc;
}

/* The chain DER (certificates back to back) as a stack. */
static int parse_chain(const unsigned char *der, size_t len, STACK_OF(X509) * *out)
{
	const unsigned char *p = der, *end = der + len;
	STACK_OF(X509) *sk = sk_X509_new_null();

	*out = NULL;
	if (!sk)
		return SE_ENOMEM;
	while (p && p < end) {
		X509 *x = d2i_X509(NULL, &p, (long)(end - p));

		if (!x || !sk_X509_push(sk, x)) {
			X509_free(x);
			sk_X509_pop_free(sk, X509_free);
			return SE_ECRYPTO;
		}
	}
	*out = sk;
	return 0;
}

/* Decoded chains by their DER. Every hostname a CA signed carries the same intermediates, and
 * OpenSSL 3.0 spends 200-300 µs decoding one certificate (its public key goes through a new
 * decoder context each time): a miss decodes each distinct chain once, then shares it. X509
 * objects are reference-counted and not changed once decoded, so entries share them freely. */
#define CHAIN_SLOTS 16

static struct {
	pthread_mutex_t lock;
	unsigned next; /* round-robin replacement */
	struct {
		unsigned char *der;
		size_t len;
		STACK_OF(X509) * sk;
	} slot[CHAIN_SLOTS];
} chains = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* A new stack holding a reference to each certificate of SK. */
static STACK_OF(X509) * chain_share(STACK_OF(X509) * sk)
{
	STACK_OF(X509) *copy = sk_X509_dup(sk);

	for (int i = 0; copy && i < sk_X509_num(copy); i++)
		X509_up_ref(sk_X509_value(copy, i));
	return copy;
}

static int chain_get(const unsigned char *der, size_t len, STACK_OF(X509) * *out)
{
	STACK_OF(X509) *sk = NULL;
	unsigned char *key;
	int rc;

	pthread_mutex_lock(&chains.lock);
	for (size_t i = 0; i < CHAIN_SLOTS && !sk; i++)
		if (chains.slot[i].sk && chains.slot[i].len == len &&
		    memcmp(chains.slot[i].der, der, len) == 0)
			sk = chain_share(chains.slot[i].sk);
	pthread_mutex_unlock(&chains.lock);
	if (sk) {
		*out = sk;
		return 0;
	}
	rc = parse_chain(der, len, out);
	key = rc == 0 && len ? malloc(len) : NULL;
	sk = key ? chain_share(*out) : NULL;
	if (!sk) {
		free(key); /* not cached: this entry still has its own chain */
		return rc;
	}
	memcpy(key, der, len);
	pthread_mutex_lock(&chains.lock);
	unsigned i = chains.next++ % CHAIN_SLOTS;
	free(chains.slot[i].der);
	sk_X509_pop_free(chains.slot[i].sk, X509_free);
	chains.slot[i].der = key;
	chains.slot[i].len = len;
	chains.slot[i].sk = sk;
	pthread_mutex_unlock(&chains.lock);
	return 0;
}

void edge_entry_chains_clear(void)
{
	pthread_mutex_lock(&chains.lock);
	for (size_t i = 0; i < CHAIN_SLOTS; i++) {
		free(chains.slot[i].der);
		sk_X509_pop_free(chains.slot[i].sk, X509_free);
		chains.slot[i].der = NULL;
		chains.slot[i].sk = NULL;
	}
	pthread_mutex_unlock(&chains.lock);
}

/* Shares PREV's decoded SLOT when it holds the same stored certificate: 1 when shared. */
static int share_slot(struct edge_entry *e, int slot, const struct edge_entry *prev)
{
	if (!prev || !prev->leaf[slot] || strcmp(prev->cert_id[slot], e->cert_id[slot]) != 0 ||
	    strcmp(prev->cert_serial[slot], e->cert_serial[slot]) != 0)
		return 0;
	e->chain[slot] = chain_share(prev->chain[slot]);
	if (!e->chain[slot])
		return 0;
	X509_up_ref(prev->leaf[slot]);
	e->leaf[slot] = prev->leaf[slot];
	EVP_PKEY_up_ref(prev->key[slot]);
	e->key[slot] = prev->key[slot];
	return 1;
}

static int decode_slot(struct edge_entry *e, int slot, const struct store_edge_entry *rec,
		       size_t i, const struct secretbox *box)
{
	const struct store_certificate *c = &rec->certs[i];
	const unsigned char *p = c->leaf_der;
	int rc;

	e->leaf[slot] = d2i_X509(NULL, &p, (long)c->leaf_len);
	if (!e->leaf[slot])
		return SE_ECRYPTO;
	rc = chain_get(c->chain_der, c->chain_len, &e->chain[slot]);
	if (rc == 0)
		rc = keys_unseal(box, slot == ENTRY_EC ? KEY_ECDSA_P256 : KEY_RSA_2048,
				 rec->sealed_keys[i], rec->sealed_lens[i], c->private_key_id,
				 &e->key[slot]);
	return rc;
}

/* Records the stored certificate I in its slot (*SLOT); decoding waits for a client. */
static int note_cert(struct edge_entry *e, const struct store_edge_entry *rec, size_t i,
		     int *slot)
{
	const struct store_certificate *c = &rec->certs[i];
	enum key_type type;
	int rc;

	rc = keys_type_parse(c->key_type, &type);
	if (rc)
		return rc;
	*slot = type == KEY_ECDSA_P256 ? ENTRY_EC : ENTRY_RSA;
	if (e->cert_id[*slot][0] || !rec->sealed_keys[i] || !c->id[0])
		return SE_EINVAL;
	snprintf(e->cert_id[*slot], sizeof(e->cert_id[*slot]), "%s", c->id);
	snprintf(e->cert_serial[*slot], sizeof(e->cert_serial[*slot]), "%s", c->serial);
	return 0;
}

/* Shares what PREV decoded of the same certificates, then decodes what a client of NEED is
 * served if that is still missing. INDEX: each slot's certificate in REC. */
static int load_needed(struct edge_entry *e, const struct store_edge_entry *rec,
		       const size_t index[2], enum entry_need need, const struct edge_entry *prev,
		       const struct secretbox *box)
{
	int slot, rc = 0;

	for (slot = 0; slot < 2; slot++)
		if (e->cert_id[slot][0])
			share_slot(e, slot, prev);
	slot = edge_entry_pick(e, need == ENTRY_NEED_ECDSA_CLIENT);
	if (need != ENTRY_NEED_NONE && e->cert_id[slot][0] && !e->leaf[slot])
		rc = decode_slot(e, slot, rec, index[slot], box);
	for (slot = 0; slot < 2; slot++) {
		const struct store_certificate *c = &rec->certs[index[slot]];

		/* DER sizes times ~5 approximates OpenSSL's parsed form (2.5 KB DER ≈ 12.6 KB
		 * parsed); an undecoded slot costs nothing. */
		if (e->leaf[slot])
			e->bytes += (c->leaf_len + c->chain_len + rec->sealed_lens[index[slot]]) * 5;
	}
	return rc;
}

int edge_entry_build(const char *key, const struct store_edge_entry *rec,
		     const struct secretbox *box, enum entry_need need,
		     const struct edge_entry *prev, struct edge_entry **out)
{
	struct edge_entry *e = entry_new(key);
	size_t index[2] = {0, 0};
	int rc = 0;

	*out = NULL;
	if (!e)
		return SE_ENOMEM;
	snprintf(e->hostname, sizeof(e->hostname), "%s", rec->hostname);
	snprintf(e->hostname_id, sizeof(e->hostname_id), "%s", rec->hostname_id);
	snprintf(e->pack_id, sizeof(e->pack_id), "%s", rec->pack_id);
	snprintf(e->pack_status, sizeof(e->pack_status), "%s", rec->pack_status);
	e->change_seq = rec->change_seq;
	snprintf(e->ownership_token, sizeof(e->ownership_token), "%s", rec->ownership_token);
	snprintf(e->zone_id, sizeof(e->zone_id), "%s", rec->zone_id);
	e->origin_is_fallback = !rec->custom_origin_server[0];
	snprintf(e->origin, sizeof(e->origin), "%s",
		 rec->custom_origin_server[0] ? rec->custom_origin_server : rec->fallback_origin);
	e->origin_ok = e->origin[0] && origin_parse(e->origin, &e->origin_parsed, NULL, 0) ==
						HOSTNAME_OK;
	snprintf(e->origin_sni, sizeof(e->origin_sni), "%s", rec->custom_origin_sni);
	rc = parse_settings(e, rec->settings_json);
	for (size_t i = 0; rc == 0 && i < rec->n_certs; i++) {
		int slot;

		rc = note_cert(e, rec, i, &slot);
		if (rc == 0)
			index[slot] = i;
	}
	if (rc == 0)
		rc = load_needed(e, rec, index, need, prev, box);
	if (rc) {
		entry_free(e);
		return rc;
	}
	*out = e;
	return 0;
}

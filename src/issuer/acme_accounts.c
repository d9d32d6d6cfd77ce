/* One ACME account per configured CA, created once and shared by every worker: an ES256 key
 * generated on first use, sealed in private_keys (owner "acme-account:<ca>", AAD = its key id),
 * and the account URL ("kid") kept in acme_accounts so that a restart reuses both. */
#include "issuer/issuer_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/ids.h"
#include "lib/keys.h"
#include "lib/log.h"

static struct issuer_acme_ca *find_ca(struct issuer *is, const char *name)
{
	for (size_t i = 0; i < is->n_acme; i++) {
		if (strcmp(is->acme[i].cfg->name, name) == 0)
			return &is->acme[i];
	}
	return NULL;
}

/* The stored account key of CA; SE_ENOTFOUND when it has none yet. */
static int stored_account_key(struct issuer *is, struct issuer_acme_ca *ca, EVP_PKEY **key,
			      char key_id[37], char *kid, size_t kid_len)
{
	unsigned char *sealed = NULL;
	size_t len = 0;
	int rc = store_acme_account_get(is->st, ca->cfg->name, key_id, kid, kid_len);

	if (rc == 0)
		rc = store_private_key_get(is->st, key_id, &sealed, &len);
	if (rc == 0)
		rc = keys_unseal(is->box, KEY_ECDSA_P256, sealed, len, key_id, key);
	free(sealed);
	return rc;
}

/* The account key of CA from the store, or a new one sealed and stored. *kid is the stored
 * account URL ("" when it was never registered). Every issuer node uses the first key stored:
 * orders belong to the account that made them, and a node that takes over another's order must
 * sign as that account. */
static int account_key(struct issuer *is, struct issuer_acme_ca *ca, EVP_PKEY **key,
		       char key_id[37], char *kid, size_t kid_len)
{
	char owner[80];
	unsigned char *sealed = NULL;
	size_t len = 0;
	int rc;

	rc = stored_account_key(is, ca, key, key_id, kid, kid_len);
	if (rc != SE_ENOTFOUND)
		goto out;
	kid[0] = '\0';
	snprintf(owner, sizeof(owner), "acme-account:%s", ca->cfg->name);
	rc = ids_uuid(key_id);
	if (rc == 0)
		rc = keys_generate(KEY_ECDSA_P256, key);
	if (rc == 0)
		rc = keys_seal(is->box, *key, key_id, &sealed, &len);
	if (rc == 0)
		rc = store_private_key_put(is->st, key_id, owner, "ecdsa", sealed, len);
	if (rc == 0)
		rc = store_acme_account_put(is->st, ca->cfg->name, key_id, "");
	if (rc == SE_EEXISTS) {
		/* Another node stored the CA's account first: drop ours, use that one. */
		store_private_key_delete(is->st, key_id);
		EVP_PKEY_free(*key);
		*key = NULL;
		rc = stored_account_key(is, ca, key, key_id, kid, kid_len);
	}
out:
	free(sealed);
	if (rc && *key) {
		EVP_PKEY_free(*key);
		*key = NULL;
	}
	return rc;
}

static int client_make(struct issuer *is, struct issuer_acme_ca *ca, struct acme_problem *p)
{
	struct acme_client_config cc = {
	    .directory_url = ca->cfg->directory,
	    .ca_bundle = ca->cfg->ca_bundle[0] ? ca->cfg->ca_bundle : NULL,
	    .eab_kid = ca->cfg->eab_kid[0] ? ca->cfg->eab_kid : NULL,
	    .eab_hmac = ca->cfg->eab_hmac[0] ? ca->cfg->eab_hmac : NULL,
	};
	char kid[ACME_URL_MAX], key_id[37];
	struct acme_client *client = NULL;
	EVP_PKEY *key = NULL;
	int rc;

	rc = account_key(is, ca, &key, key_id, kid, sizeof(kid));
	if (rc) {
		snprintf(p->detail, sizeof(p->detail), "ACME account key unavailable: %s",
			 se_strerror(rc));
		goto out;
	}
	rc = acme_client_create(&cc, key, &client);
	if (rc) {
		snprintf(p->detail, sizeof(p->detail), "ACME client for %s: %s", ca->cfg->name,
			 se_strerror(rc));
		goto out;
	}
	if (kid[0]) {
		rc = acme_client_set_kid(client, kid);
	} else {
		rc = acme_account_register(client, NULL, kid, sizeof(kid), p);
		if (rc == 0)
			rc = store_acme_account_put(is->st, ca->cfg->name, key_id, kid);
		if (rc == 0)
			log_info("msg=\"acme account registered\" ca=%s", ca->cfg->name);
	}
	if (rc)
		goto out;
	ca->client = client;
	ca->account_key = key;
	client = NULL;
	key = NULL;
out:
	acme_client_destroy(client);
	EVP_PKEY_free(key);
	return rc;
}

struct acme_client *acme_accounts_client(struct issuer *is, const char *name,
					 struct acme_problem *p)
{
	struct issuer_acme_ca *ca = find_ca(is, name);
	struct acme_client *c = NULL;

	memset(p, 0, sizeof(*p));
	p->retry_after_s = -1;
	if (!ca) {
		snprintf(p->detail, sizeof(p->detail), "certificate authority %s is not configured",
			 name);
		return NULL;
	}
	pthread_mutex_lock(&ca->lock);
	if (!ca->client)
		client_make(is, ca, p);
	c = ca->client;
	pthread_mutex_unlock(&ca->lock);
	return c;
}

int acme_accounts_register_again(struct issuer *is, const char *name, struct acme_problem *p)
{
	struct issuer_acme_ca *ca = find_ca(is, name);
	char kid[ACME_URL_MAX], old_kid[ACME_URL_MAX], key_id[37];
	int rc = 0;

	memset(p, 0, sizeof(*p));
	p->retry_after_s = -1;
	if (!ca)
		return SE_ENOTFOUND;
	pthread_mutex_lock(&ca->lock);
	if (ca->client) {
		/* A CA that lost our account may have restarted with new URLs too. */
		rc = acme_directory_load(ca->client, p);
		if (rc == 0)
			rc = acme_account_register(ca->client, NULL, kid, sizeof(kid), p);
		if (rc == 0)
			rc = store_acme_account_get(is->st, name, key_id, old_kid, sizeof(old_kid));
		if (rc == 0)
			rc = store_acme_account_put(is->st, name, key_id, kid);
		if (rc == 0)
			log_warn("msg=\"acme account registered again\" ca=%s", name);
	}
	pthread_mutex_unlock(&ca->lock);
	return rc;
}

void acme_accounts_dispose(struct issuer *is)
{
	for (size_t i = 0; i < is->n_acme; i++) {
		acme_client_destroy(is->acme[i].client);
		EVP_PKEY_free(is->acme[i].account_key);
		pthread_mutex_destroy(&is->acme[i].lock);
		is->acme[i].client = NULL;
		is->acme[i].account_key = NULL;
	}
}

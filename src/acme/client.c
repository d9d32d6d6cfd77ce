/* The per-CA client object: configuration copies, the borrowed account key with its JWK and
 * thumbprint computed once, and the mutex-guarded mutable parts (directory, account URL, nonce
 * pool, idle curl handles). */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "acme/acme_int.h"
#include "lib/error.h"

static int dup_opt(const char *s, char **out)
{
	*out = NULL;
	if (!s)
		return 0;
	*out = strdup(s);
	return *out ? 0 : SE_ENOMEM;
}

static int set_eab(struct acme_client *c, const struct acme_client_config *cfg)
{
	int have_kid = cfg->eab_kid && cfg->eab_kid[0];
	int have_mac = cfg->eab_hmac && cfg->eab_hmac[0];

	if (!have_kid && !have_mac)
		return 0;
	if (!have_kid || !have_mac)
		return SE_ECONFIG;
	if (acme__b64url_decode(cfg->eab_hmac, &c->eab_key, &c->eab_key_len) != 0 ||
	    c->eab_key_len == 0)
		return SE_ECONFIG;
	return dup_opt(cfg->eab_kid, &c->eab_kid);
}

int acme_client_create(const struct acme_client_config *cfg, EVP_PKEY *account_key,
		       struct acme_client **out)
{
	struct acme_client *c;
	int rc;

	*out = NULL;
	if (!cfg || !cfg->directory_url || !account_key)
		return SE_EINVAL;
	rc = acme__http_global_init();
	if (rc != 0)
		return rc;
	c = calloc(1, sizeof(*c));
	if (!c)
		return SE_ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	c->key = account_key;
	rc = dup_opt(cfg->directory_url, &c->directory_url);
	if (rc == 0)
		rc = dup_opt(cfg->ca_bundle, &c->ca_bundle);
	if (rc == 0)
		rc = set_eab(c, cfg);
	if (rc == 0)
		rc = acme__jwk_build(account_key, c->jwk, sizeof(c->jwk));
	if (rc == 0)
		rc = acme__jwk_thumbprint(c->jwk, c->thumbprint, sizeof(c->thumbprint));
	if (rc != 0) {
		acme_client_destroy(c);
		return rc;
	}
	*out = c;
	return 0;
}

void acme_client_destroy(struct acme_client *c)
{
	if (!c)
		return;
	acme__http_pool_destroy(c);
	free(c->directory_url);
	free(c->ca_bundle);
	free(c->eab_kid);
	if (c->eab_key)
		OPENSSL_clear_free(c->eab_key, c->eab_key_len);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

int acme_client_set_kid(struct acme_client *c, const char *kid)
{
	int rc;

	pthread_mutex_lock(&c->lock);
	rc = acme__copy(c->kid, sizeof(c->kid), kid ? kid : "");
	if (rc != 0)
		c->kid[0] = '\0';
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int acme_client_get_kid(struct acme_client *c, char *out, size_t len)
{
	int rc;

	pthread_mutex_lock(&c->lock);
	rc = acme__copy(out, len, c->kid);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

unsigned long acme_client_badnonce_retries(struct acme_client *c)
{
	unsigned long n;

	pthread_mutex_lock(&c->lock);
	n = c->badnonce_retries;
	pthread_mutex_unlock(&c->lock);
	return n;
}

int acme_account_thumbprint(struct acme_client *c, char *out, size_t len)
{
	return acme__copy(out, len, c->thumbprint);
}

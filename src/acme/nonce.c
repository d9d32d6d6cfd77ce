/* The Replay-Nonce pool: every answer from the CA carries a fresh nonce, so keeping the last
 * few saves a newNonce round trip per request. Newest first, because CAs expire old nonces. */
#include <string.h>

#include "acme/acme_int.h"

void acme__nonce_put(struct acme_client *c, const char *nonce)
{
	size_t n = strlen(nonce);

	if (n == 0 || n >= ACME_NONCE_MAX)
		return;
	pthread_mutex_lock(&c->lock);
	if (c->n_nonces == ACME_NONCE_POOL) {
		/* drop the oldest, at index 0 */
		memmove(c->nonces[0], c->nonces[1], sizeof(c->nonces[0]) * (ACME_NONCE_POOL - 1));
		c->n_nonces--;
	}
	memcpy(c->nonces[c->n_nonces++], nonce, n + 1);
	pthread_mutex_unlock(&c->lock);
}

int acme__nonce_take(struct acme_client *c, char *out)
{
	int found = 0;

	pthread_mutex_lock(&c->lock);
	if (c->n_nonces > 0) {
		c->n_nonces--;
		memcpy(out, c->nonces[c->n_nonces], ACME_NONCE_MAX);
		found = 1;
	}
	pthread_mutex_unlock(&c->lock);
	return found;
}

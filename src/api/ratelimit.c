#include "api/ratelimit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKET_SLOTS 1024 /* tokens hash into chains; a handful per zone is the norm */

struct bucket {
	struct bucket *next;
	char key[65];
	double level; /* requests available now */
	int64_t updated_us;
};

struct api_ratelimit {
	pthread_mutex_t lock;
	double rate;
	double burst;
	struct bucket *slots[BUCKET_SLOTS];
};

struct api_ratelimit *api_ratelimit_create(int64_t rate, int64_t burst)
{
	struct api_ratelimit *rl = calloc(1, sizeof(*rl));

	if (!rl)
		return NULL;
	pthread_mutex_init(&rl->lock, NULL);
	rl->rate = (double)rate;
	rl->burst = (double)(burst > 0 ? burst : 1);
	return rl;
}

void api_ratelimit_destroy(struct api_ratelimit *rl)
{
	if (!rl)
		return;
	for (size_t i = 0; i < BUCKET_SLOTS; i++) {
		for (struct bucket *b = rl->slots[i], *next; b; b = next) {
			next = b->next;
			free(b);
		}
	}
	pthread_mutex_destroy(&rl->lock);
	free(rl);
}

static size_t slot_of(const char *key)
{
	size_t h = 5381;

	for (; *key; key++)
		h = h * 33 + (unsigned char)*key;
	return h % BUCKET_SLOTS;
}

/* Finds or makes KEY's bucket; the caller holds the lock. NULL on ENOMEM. */
static struct bucket *bucket_for(struct api_ratelimit *rl, const char *key, int64_t now_us)
{
	size_t slot = slot_of(key);
	struct bucket *b;

	for (b = rl->slots[slot]; b; b = b->next)
		if (strcmp(b->key, key) == 0)
			return b;
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	snprintf(b->key, sizeof(b->key), "%s", key);
	b->level = rl->burst;
	b->updated_us = now_us;
	b->next = rl->slots[slot];
	rl->slots[slot] = b;
	return b;
}

int api_ratelimit_take(struct api_ratelimit *rl, const char *key, int64_t now_us,
		       unsigned *retry_after_s)
{
	int allowed = 1;

	if (rl->rate <= 0)
		return 1;
	pthread_mutex_lock(&rl->lock);
	struct bucket *b = bucket_for(rl, key, now_us);
	if (b) {
		double elapsed = (double)(now_us - b->updated_us) / 1e6;
		b->level += elapsed > 0 ? elapsed * rl->rate : 0;
		if (b->level > rl->burst)
			b->level = rl->burst;
		b->updated_us = now_us;
		if (b->level >= 1.0) {
			b->level -= 1.0;
		} else {
			allowed = 0;
			*retry_after_s = (unsigned)((1.0 - b->level) / rl->rate) + 1;
		}
	}
	pthread_mutex_unlock(&rl->lock);
	return allowed;
}

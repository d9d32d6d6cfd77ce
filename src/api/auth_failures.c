/* A fixed, set-associative table of client addresses with their failure count and the start of
 * their window. An address hashes to one set of API_AUTH_FAILURES_WAYS entries; an address
 * gets an entry only on a failure, so successful clients never take space. When a set is full,
 * an entry whose window has ended is reused first, else the one whose window started first: an
 * attacker needs thousands of addresses failing at once to make the table forget one of them,
 * and with that many addresses the limit per address is not what holds them back anyway. */
#include "api/auth_failures.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SETS (API_AUTH_FAILURES_SLOTS / API_AUTH_FAILURES_WAYS)

struct failure_entry {
	unsigned char key[16]; /* IPv6 form: IPv4 as ::ffff:a.b.c.d, IPv6 cut to its /64 */
	int64_t window_start_us;
	uint32_t failures;
	int used;
};

struct api_auth_failures {
	pthread_mutex_t lock;
	uint32_t limit;
	int64_t window_us;
	struct failure_entry entries[API_AUTH_FAILURES_SLOTS];
};

struct api_auth_failures *api_auth_failures_create(int64_t limit, int64_t window_s)
{
	struct api_auth_failures *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	pthread_mutex_init(&f->lock, NULL);
	f->limit = limit > 0 ? (uint32_t)limit : 0;
	f->window_us = (window_s > 0 ? window_s : 1) * 1000000;
	return f;
}

void api_auth_failures_destroy(struct api_auth_failures *f)
{
	if (!f)
		return;
	pthread_mutex_destroy(&f->lock);
	free(f);
}

/* PEER's key; 0 when PEER is not an IP address. */
static int key_of(const struct sockaddr *peer, unsigned char key[16])
{
	memset(key, 0, 16);
	if (!peer)
		return 0;
	if (peer->sa_family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)peer;

		key[10] = key[11] = 0xff;
		memcpy(key + 12, &v4->sin_addr, 4);
		return 1;
	}
	if (peer->sa_family == AF_INET6) {
		const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)peer;

		if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr))
			memcpy(key, &v6->sin6_addr, 16);
		else
			memcpy(key, &v6->sin6_addr, 8);
		return 1;
	}
	return 0;
}

static size_t set_of(const unsigned char key[16])
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (int i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	return h % SETS;
}

static int expired(const struct api_auth_failures *f, const struct failure_entry *e,
		   int64_t now_us)
{
	return now_us - e->window_start_us >= f->window_us;
}

/* KEY's live entry (window not ended), or NULL; the caller holds the lock. */
static struct failure_entry *find(struct api_auth_failures *f, const unsigned char key[16],
				  int64_t now_us)
{
	struct failure_entry *set = &f->entries[set_of(key) * API_AUTH_FAILURES_WAYS];

	for (int i = 0; i < API_AUTH_FAILURES_WAYS; i++) {
		if (set[i].used && memcmp(set[i].key, key, 16) == 0 && !expired(f, &set[i], now_us))
			return &set[i];
	}
	return NULL;
}

/* A fresh entry for KEY in its set (see the file comment for which one is reused). */
static struct failure_entry *claim(struct api_auth_failures *f, const unsigned char key[16],
				   int64_t now_us)
{
	struct failure_entry *set = &f->entries[set_of(key) * API_AUTH_FAILURES_WAYS];
	struct failure_entry *victim = &set[0];

	for (int i = 0; i < API_AUTH_FAILURES_WAYS; i++) {
		struct failure_entry *e = &set[i];

		if (!e->used || expired(f, e, now_us) || memcmp(e->key, key, 16) == 0) {
			victim = e;
			break;
		}
		if (e->window_start_us < victim->window_start_us)
			victim = e;
	}
	memcpy(victim->key, key, 16);
	victim->window_start_us = now_us;
	victim->failures = 0;
	victim->used = 1;
	return victim;
}

int api_auth_failures_allowed(struct api_auth_failures *f, const struct sockaddr *peer,
			      int64_t now_us, unsigned *retry_after_s)
{
	unsigned char key[16];
	struct failure_entry *e;
	int allowed = 1;

	if (f->limit == 0 || !key_of(peer, key))
		return 1;
	pthread_mutex_lock(&f->lock);
	e = find(f, key, now_us);
	if (e && e->failures >= f->limit) {
		int64_t left_us = e->window_start_us + f->window_us - now_us;

		allowed = 0;
		*retry_after_s = (unsigned)((left_us + 999999) / 1000000);
		if (*retry_after_s == 0)
			*retry_after_s = 1;
	}
	pthread_mutex_unlock(&f->lock);
	return allowed;
}

int api_auth_failures_add(struct api_auth_failures *f, const struct sockaddr *peer,
			  int64_t now_us)
{
	unsigned char key[16];
	struct failure_entry *e;
	int reached;

	if (f->limit == 0 || !key_of(peer, key))
		return 0;
	pthread_mutex_lock(&f->lock);
	e = find(f, key, now_us);
	if (!e)
		e = claim(f, key, now_us);
	if (e->failures < UINT32_MAX)
		e->failures++;
	reached = e->failures == f->limit;
	pthread_mutex_unlock(&f->lock);
	return reached;
}

/* The certificate cache: a hash of entries by looked-up name with an LRU list bounded by bytes.
 * One lock for all loops: a hit holds it for a hash probe and a list move (well under a µs),
 * far below the cost of a handshake. Entries are refcounted, so eviction never pulls an entry
 * from under a connection. */
#include "edge/edge_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/timeutil.h"
#include "metrics/metrics.h"

#define CACHE_BUCKETS 65536u /* power of two */

struct cert_cache {
	pthread_mutex_t lock;
	struct edge_entry **buckets;
	struct edge_entry head; /* LRU sentinel: head.next is the most recent */
	size_t bytes, max_bytes;
	size_t entries;
	uint64_t invalidations; /* generation: bumped by every cert_cache_invalidate */
};

static unsigned hash_name(const char *s)
{
	unsigned h = 2166136261u; /* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h & (CACHE_BUCKETS - 1);
}

int cert_cache_create(size_t max_bytes, struct cert_cache **out)
{
	struct cert_cache *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return SE_ENOMEM;
	c->buckets = calloc(CACHE_BUCKETS, sizeof(*c->buckets));
	if (!c->buckets) {
		free(c);
		return SE_ENOMEM;
	}
	pthread_mutex_init(&c->lock, NULL);
	c->head.next = c->head.prev = &c->head;
	c->max_bytes = max_bytes;
	*out = c;
	return 0;
}

static void lru_unlink(struct edge_entry *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
}

static void lru_push(struct cert_cache *c, struct edge_entry *e)
{
	e->next = c->head.next;
	e->prev = &c->head;
	c->head.next->prev = e;
	c->head.next = e;
}

/* Unlinks E from the hash and the list and drops the cache's reference. Lock held. */
static void remove_entry(struct cert_cache *c, struct edge_entry *e)
{
	struct edge_entry **pp = &c->buckets[hash_name(e->name)];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	lru_unlink(e);
	c->bytes -= e->bytes;
	c->entries--;
	edge_entry_unref(e);
}

void cert_cache_destroy(struct cert_cache *c)
{
	if (!c)
		return;
	while (c->head.next != &c->head)
		remove_entry(c, c->head.next);
	pthread_mutex_destroy(&c->lock);
	free(c->buckets);
	free(c);
}

static struct edge_entry *find(struct cert_cache *c, const char *name)
{
	struct edge_entry *e = c->buckets[hash_name(name)];

	while (e && strcmp(e->name, name) != 0)
		e = e->hnext;
	return e;
}

struct edge_entry *cert_cache_get(struct cert_cache *c, const char *name)
{
	struct edge_entry *e;

	pthread_mutex_lock(&c->lock);
	e = find(c, name);
	if (e && e->negative && e->expires_us <= time_now_us()) {
		remove_entry(c, e);
		e = NULL;
	}
	if (e) {
		lru_unlink(e);
		lru_push(c, e);
		edge_entry_ref(e);
	}
	pthread_mutex_unlock(&c->lock);
	return e;
}

uint64_t cert_cache_generation(struct cert_cache *c)
{
	uint64_t g;

	pthread_mutex_lock(&c->lock);
	g = c->invalidations;
	pthread_mutex_unlock(&c->lock);
	return g;
}

int cert_cache_put(struct cert_cache *c, struct edge_entry *e, uint64_t generation)
{
	struct edge_entry *old;
	unsigned h = hash_name(e->name);

	pthread_mutex_lock(&c->lock);
	/* An invalidation since the caller read the store may concern this very name, and the
	 * entry may predate it: keeping it would serve the old certificate until evicted. The
	 * generation is cache-wide (no per-name tombstones), so a load that overlaps any change is
	 * simply not kept; the next miss reads the store again. */
	if (c->invalidations != generation) {
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	edge_entry_ref(e);
	old = find(c, e->name);
	if (old)
		remove_entry(c, old);
	e->hnext = c->buckets[h];
	c->buckets[h] = e;
	lru_push(c, e);
	c->bytes += e->bytes;
	c->entries++;
	while (c->bytes > c->max_bytes && c->head.prev != e) {
		remove_entry(c, c->head.prev);
		metrics_count(M_EDGE_CACHE_EVICTIONS, 0, 0);
	}
	pthread_mutex_unlock(&c->lock);
	return 1;
}

/* 1 when KEY is one label directly under PARENT ("a.parent"). */
static int directly_under(const char *key, const char *parent)
{
	const char *dot = strchr(key, '.');

	return dot && strcmp(dot + 1, parent) == 0;
}

void cert_cache_invalidate(struct cert_cache *c, const char *name)
{
	const char *parent = strncmp(name, "*.", 2) == 0 ? name + 2 : NULL;
	struct edge_entry *e, *next;

	pthread_mutex_lock(&c->lock);
	c->invalidations++;
	/* A wildcard change can affect any name under it: a walk, but wildcard changes are rare. */
	for (e = c->head.next; parent && e != &c->head; e = next) {
		next = e->next;
		if (directly_under(e->name, parent))
			remove_entry(c, e);
	}
	/* Other names resolve to a stored hostname only through its wildcard (walked above). */
	e = find(c, name);
	if (e)
		remove_entry(c, e);
	pthread_mutex_unlock(&c->lock);
}

void cert_cache_invalidate_fallback(struct cert_cache *c, const char *zone_id)
{
	struct edge_entry *e, *next;

	pthread_mutex_lock(&c->lock);
	c->invalidations++;
	for (e = c->head.next; e != &c->head; e = next) {
		next = e->next;
		if (!e->negative && e->origin_is_fallback && strcmp(e->zone_id, zone_id) == 0)
			remove_entry(c, e);
	}
	pthread_mutex_unlock(&c->lock);
}

void cert_cache_changed(struct cert_cache *c)
{
	pthread_mutex_lock(&c->lock);
	c->invalidations++;
	pthread_mutex_unlock(&c->lock);
}

void cert_cache_size(struct cert_cache *c, size_t *bytes, size_t *entries)
{
	pthread_mutex_lock(&c->lock);
	*bytes = c->bytes;
	*entries = c->entries;
	pthread_mutex_unlock(&c->lock);
}

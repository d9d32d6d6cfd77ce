/* Lookup threads: everything that may block (the store, key decoding, DNS) runs here, so a
 * certificate miss or an origin name never stalls the other connections of a loop. A job comes
 * back to its loop through edge_loop_complete. */
#include "edge/conn_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/keys.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "store/edge_copy.h"

struct lookup_pool {
	struct edge *edge;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct lookup_job *head, *tail;
	int stop;
	int n_threads;
	pthread_t threads[];
};

/* Where a lookup found NAME: the names it asked (NAME, then its wildcard parent WILD, "" when
 * it has none), and which one answered. */
struct lookup_names {
	const char *name;
	char wild[258];
	const char *matched; /* name or wild; NULL when neither */
};

static void names_of(struct lookup_names *n, const char *name)
{
	const char *dot = strchr(name, '.');

	n->name = name;
	n->wild[0] = '\0';
	n->matched = NULL;
	if (dot && strncmp(name, "*.", 2) != 0)
		snprintf(n->wild, sizeof(n->wild), "*%s", dot);
}

static int from_store(void *st, const char *name, struct store_edge_entry *rec)
{
	return store_edge_lookup(st, name, rec);
}

static int from_copy(void *copy, const char *name, struct store_edge_entry *rec)
{
	return edge_copy_get(copy, name, rec);
}

/* N's record from SOURCE (the store or the local copy): the name, then its wildcard parent. */
static int lookup_either(struct lookup_names *n, void *source,
			 int (*lookup)(void *, const char *, struct store_edge_entry *),
			 struct store_edge_entry *rec)
{
	int rc = lookup(source, n->name, rec);

	n->matched = n->name;
	if (rc == SE_ENOTFOUND && n->wild[0]) {
		rc = lookup(source, n->wild, rec);
		n->matched = n->wild;
	}
	if (rc)
		n->matched = NULL;
	return rc;
}

/* N's record from the store; when the store cannot be reached, from the local copy (an edge
 * restarted during a database outage serves what it served before). *FROM_STORE_OK is 1 when
 * the store answered. */
static int record_of(struct edge *e, struct lookup_names *n, struct store_edge_entry *rec,
		     int *from_store_ok)
{
	int rc = lookup_either(n, e->st, from_store, rec);

	*from_store_ok = rc == 0 || rc == SE_ENOTFOUND;
	if (*from_store_ok || !e->copy || lookup_either(n, e->copy, from_copy, rec) != 0)
		return rc;
	log_info("edge msg=\"served from the local copy\" hostname=%s store_error=%s", n->name,
		 se_errname(rc));
	return 0;
}

/* The local copy keeps what the store said of N: REC (taken) when it has something to serve,
 * nothing otherwise. Called only for a fill the cache kept (no change overlapped the read), so
 * a lookup that raced with a change cannot remove what the change put there. */
static void copy_keep(struct edge *e, const struct lookup_names *n, struct store_edge_entry *rec)
{
	if (n->matched && rec->n_certs > 0) {
		copy_writer_put(e->copy_writer, n->matched, rec);
		if (n->matched == n->wild) /* a hostname of its own that was deleted */
			copy_writer_remove(e->copy_writer, n->name);
		return;
	}
	copy_writer_remove(e->copy_writer, n->name);
	if (n->wild[0])
		copy_writer_remove(e->copy_writer, n->wild);
}

/* Store lookup of NAME, then of its wildcard parent; a negative entry when neither exists.
 * The certificate a client of NEED is served is decoded, and what PREV (NAME's cached entry, may
 * be NULL) decoded already is shared. The entry is cached unless a change overlapped the read;
 * *OUT (when OUT is not NULL) gets a reference to it either way. */
static int lookup_name(struct edge *e, const char *name, enum entry_need need,
		       const struct edge_entry *prev, struct edge_entry **out)
{
	struct store_edge_entry rec;
	struct edge_entry *entry = NULL;
	struct lookup_names n;
	uint64_t generation = cert_cache_generation(e->cache);
	int rc, from_store_ok;

	names_of(&n, name);
	rc = record_of(e, &n, &rec, &from_store_ok);
	if (rc == SE_ENOTFOUND)
		rc = edge_entry_negative(name, time_now_us() + e->cfg->edge.negative_ttl * 1000000,
					 &entry);
	else if (rc == 0) {
		rc = edge_entry_build(name, &rec, e->box, need, prev, &entry);
		if (rc)
			log_warn("edge msg=\"cannot load certificate\" hostname=%s error=%s", name,
				 se_errname(rc));
	}
	if (rc == 0 && cert_cache_put(e->cache, entry, generation) && from_store_ok && e->copy)
		copy_keep(e, &n, &rec);
	store_edge_entry_dispose(&rec);
	if (out)
		*out = entry;
	else
		edge_entry_unref(entry);
	return rc;
}

void lookup_job_free(struct lookup_job *job)
{
	edge_entry_unref(job->entry);
	acme_alpn_job_dispose(job);
	free(job);
}

int edge_entry_refresh(struct edge *e, const char *name, int64_t seq, int load_missing)
{
	struct edge_entry *cached = cert_cache_get(e->cache, name);
	struct edge_entry *fresh = NULL;
	int rc = 0;

	/* An entry with nothing to serve (a name unknown, or still without certificates) is
	 * dropped: the next client reads the store, so it never meets a state older than the last
	 * commit (a client arriving between a pack's deployment and this refresh would otherwise
	 * be refused). One with certificates is replaced only once the new version is loaded, so
	 * an outage cannot take it away. Either way, fills racing with this one read the store
	 * before the change and are not kept. */
	if (cached && !edge_entry_servable(cached)) {
		cert_cache_invalidate(e->cache, name);
		edge_entry_unref(cached);
		cached = NULL;
	} else {
		cert_cache_changed(e->cache);
	}
	if (cached || load_missing) /* ready for most clients; what CACHED decoded is reused */
		rc = lookup_name(e, name, ENTRY_NEED_ECDSA_CLIENT, cached, &fresh);
	else if (e->copy)
		edge_copy_forget(e->copy, name, seq); /* a failure is logged; not worth a retry */
	edge_entry_unref(fresh);
	edge_entry_unref(cached);
	return rc;
}

static void run(struct edge *e, struct lookup_job *job)
{
	struct store_challenge ch;
	struct edge_entry *hit;

	switch (job->kind) {
	case LOOKUP_SNI:
		/* Another job may have filled it; the connection takes what is found, cached or
		 * not, so a change racing with the read cannot send it round again. */
		hit = cert_cache_get(e->cache, job->name);
		if (hit && edge_entry_ready(hit, job->need)) {
			job->entry = hit;
			job->rc = 0;
			break;
		}
		job->rc = lookup_name(e, job->name, job->need, hit, &job->entry);
		edge_entry_unref(hit);
		break;
	case LOOKUP_HOST:
		hit = cert_cache_get(e->cache, job->name);
		job->rc = hit ? 0 : lookup_name(e, job->name, ENTRY_NEED_NONE, NULL, NULL);
		edge_entry_unref(hit);
		break;
	case LOOKUP_CHALLENGE:
		job->rc = store_challenge_get(e->st, "http-01", job->name, &ch);
		if (job->rc == 0) {
			snprintf(job->response, sizeof(job->response), "%s", ch.response);
			snprintf(job->name, sizeof(job->name), "%s", ch.hostname);
		}
		break;
	case LOOKUP_ALPN:
		acme_alpn_lookup(e, job);
		break;
	case LOOKUP_RESOLVE:
		job->rc =
		    resolver_resolve(e->resolver, job->name, job->port, &job->addr, &job->addr_len);
		break;
	}
}

static void *worker(void *arg)
{
	struct lookup_pool *p = arg;

	for (;;) {
		struct lookup_job *job;

		pthread_mutex_lock(&p->lock);
		while (!p->head && !p->stop)
			pthread_cond_wait(&p->cond, &p->lock);
		job = p->head;
		if (job) {
			p->head = job->next;
			if (!p->head)
				p->tail = NULL;
		}
		pthread_mutex_unlock(&p->lock);
		if (!job)
			break;
		run(p->edge, job);
		if (job->loop)
			edge_loop_complete(job->loop, job);
		else
			lookup_job_free(job);
	}
	resolver_thread_cleanup(p->edge->resolver);
	keys_thread_cleanup();
	return NULL;
}

int lookup_pool_start(struct edge *e, int threads, struct lookup_pool **out)
{
	struct lookup_pool *p = calloc(1, sizeof(*p) + (size_t)threads * sizeof(pthread_t));

	*out = NULL;
	if (!p)
		return SE_ENOMEM;
	p->edge = e;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	for (; p->n_threads < threads; p->n_threads++) {
		if (pthread_create(&p->threads[p->n_threads], NULL, worker, p) != 0) {
			lookup_pool_stop(p);
			return SE_ENOMEM;
		}
	}
	*out = p;
	return 0;
}

/* Finishes the queued jobs (their loops are still running), then joins the threads. */
void lookup_pool_stop(struct lookup_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

void lookup_submit(struct lookup_pool *p, struct lookup_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->tail)
		p->tail->next = job;
	else
		p->head = job;
	p->tail = job;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

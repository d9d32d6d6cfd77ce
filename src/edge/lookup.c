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

struct lookup_pool {
	struct edge *edge;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct lookup_job *head, *tail;
	int stop;
	int n_threads;
	pthread_t threads[];
};

/* Store lookup of NAME, then of its wildcard parent; a negative entry when neither exists.
 * The certificate a client of NEED is served is decoded, and what PREV (NAME's cached entry, may
 * be NULL) decoded already is shared. The entry is cached unless a change overlapped the read;
 * *OUT (when OUT is not NULL) gets a reference to it either way. */
static int lookup_name(struct edge *e, const char *name, enum entry_need need,
		       const struct edge_entry *prev, struct edge_entry **out)
{
	struct store_edge_entry rec;
	struct edge_entry *entry = NULL;
	const char *dot = strchr(name, '.');
	char wild[258];
	uint64_t generation = cert_cache_generation(e->cache);
	int rc;

	rc = store_edge_lookup(e->st, name, &rec);
	if (rc == SE_ENOTFOUND && dot && strncmp(name, "*.", 2) != 0) {
		snprintf(wild, sizeof(wild), "*%s", dot);
		rc = store_edge_lookup(e->st, wild, &rec);
	}
	if (rc == SE_ENOTFOUND)
		rc = edge_entry_negative(name, time_now_us() + e->cfg->edge.negative_ttl * 1000000,
					 &entry);
	else if (rc == 0) {
		rc = edge_entry_build(name, &rec, e->box, need, prev, &entry);
		if (rc)
			log_warn("edge msg=\"cannot load certificate\" hostname=%s error=%s", name,
				 se_errname(rc));
		store_edge_entry_dispose(&rec);
	}
	if (rc == 0)
		cert_cache_put(e->cache, entry, generation);
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

int edge_entry_refresh(struct edge *e, const char *name, int load_missing)
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

/* The change feed: a thread reads the store's events every 200 ms and drops the cache entries
 * of the hostnames they name, so that the next handshake reloads them (new or renewed
 * certificates, deleted hostnames, changed settings or origins) without a restart. A pack that
 * became pending_deployment is loaded at once and made active: this edge can serve it. It starts at
 * the newest event: the cache is empty at start, so nothing older can be stale. */
#include "edge/edge_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/error.h"
#include "lib/log.h"

#define FEED_INTERVAL_MS 200
#define FEED_BATCH       256
#define TICKET_EVERY     25 /* polls: the ticket keys are re-read every 5 s */

struct change_feed {
	struct edge *edge;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;
	int64_t last_seq;
	struct store_event events[FEED_BATCH];
};

/* Asks a lookup thread to load HOSTNAME and mark its pack active (lookup.c). */
static void deploy_soon(struct edge *e, const char *hostname)
{
	struct lookup_job *job = calloc(1, sizeof(*job));

	if (!job)
		return; /* the first handshake will activate it */
	job->kind = LOOKUP_DEPLOY;
	snprintf(job->name, sizeof(job->name), "%s", hostname);
	lookup_submit(e->lookups, job); /* no loop: nothing comes back */
}

/* Reads every event after last_seq, in batches. */
static void poll_once(struct change_feed *f)
{
	size_t n = 0;

	do {
		if (store_events_since(f->edge->st, f->last_seq, f->events, FEED_BATCH, &n) != 0)
			return;
		for (size_t i = 0; i < n; i++) {
			const struct store_event *ev = &f->events[i];

			if (ev->hostname[0])
				cert_cache_invalidate(f->edge->cache, ev->hostname);
			if (ev->hostname[0] && strcmp(ev->new_status, "pending_deployment") == 0)
				deploy_soon(f->edge, ev->hostname);
			f->last_seq = ev->seq;
		}
	} while (n == FEED_BATCH);
}

static void *feed_main(void *arg)
{
	struct change_feed *f = arg;
	struct timespec ts;
	unsigned polls = 0;

	pthread_mutex_lock(&f->lock);
	while (!f->stop) {
		pthread_mutex_unlock(&f->lock);
		poll_once(f);
		if (++polls % TICKET_EVERY == 0)
			tickets_refresh(f->edge);
		pthread_mutex_lock(&f->lock);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += FEED_INTERVAL_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (!f->stop)
			pthread_cond_timedwait(&f->cond, &f->lock, &ts);
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

int change_feed_start(struct edge *e, struct change_feed **out)
{
	struct change_feed *f = calloc(1, sizeof(*f));

	*out = NULL;
	if (!f)
		return SE_ENOMEM;
	f->edge = e;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	store_events_last_seq(e->st, &f->last_seq);
	if (pthread_create(&f->thread, NULL, feed_main, f) != 0) {
		pthread_cond_destroy(&f->cond);
		pthread_mutex_destroy(&f->lock);
		free(f);
		return SE_ENOMEM;
	}
	*out = f;
	return 0;
}

void change_feed_stop(struct change_feed *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	f->stop = 1;
	pthread_cond_signal(&f->cond);
	pthread_mutex_unlock(&f->lock);
	pthread_join(f->thread, NULL);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

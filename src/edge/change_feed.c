/* The change feed: a thread reads the store's events every 200 ms and reloads the cached entries
 * of the hostnames they name (new or renewed certificates, deleted hostnames, changed settings
 * or origins; a zone's new fallback origin drops the entries routed to the old one), without a
 * restart; an entry is replaced only once its new version is loaded, so a database outage
 * leaves every cached name served. A pack that became pending_deployment is
 * loaded at once even when uncached, so this edge can serve it.
 *
 * The same thread is this edge's voice in the fleet (docs/decisions/0027): after applying
 * events it reports, with a heartbeat at least every second, the sequence number it has
 * applied up to, and moves to active the packs that every live edge has loaded. It starts at
 * the newest event (the cache is empty at start, so nothing older can be stale), or, with a
 * local copy (store/edge_copy.h), where the copy was last brought up to date. */
#include "edge/edge_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/ids.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "store/edge_copy.h"

#define FEED_INTERVAL_MS 200
#define FEED_BATCH       256
#define TICKET_EVERY_US  5000000         /* the ticket keys are re-read this often */
#define HEARTBEAT_US     1000000         /* at least this often, and after every change */
#define PRUNE_AFTER_US   (86400000000LL) /* rows of edges silent for a day are dropped */
/* A local copy further behind the store than this many changes is dropped rather than caught
 * up: replaying them would keep this edge from acknowledging new deployments for too long. */
#define COPY_CATCH_UP_MAX 100000

struct change_feed {
	struct edge *edge;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;
	int64_t last_seq;
	int64_t copy_seq; /* last_seq as the local copy last recorded it */
	struct store_edge self;
	int64_t heartbeat_at_us; /* of the last heartbeat the store took; 0 never */
	struct store_event events[FEED_BATCH];
};

/* Applies one event: the hostname's cached entry is replaced by what the store holds now (and
 * a pack that became pending_deployment is loaded even when uncached). 0 when done, or the
 * store's error when the edge must try it again later: the old entry is then still served,
 * and the event is not acknowledged. */
static int apply(struct change_feed *f, const struct store_event *ev)
{
	int rc;

	/* A zone's fallback origin: the names routed there read it again on their next request,
	 * and the new origin is checked for activation. */
	if (strncmp(ev->kind, "fallback_origin.", 16) == 0) {
		cert_cache_invalidate_fallback(f->edge->cache, ev->zone_id);
		fallback_check_wake(f->edge->fallback);
		return 0;
	}
	if (!ev->hostname[0])
		return 0;
	/* The names a wildcard covered are cached under their own keys: dropped, to be read
	 * again on their next handshake (wildcard changes are rare). */
	if (strncmp(ev->hostname, "*.", 2) == 0)
		cert_cache_invalidate(f->edge->cache, ev->hostname);
	rc = edge_entry_refresh(f->edge, ev->hostname, ev->seq,
				strcmp(ev->new_status, "pending_deployment") == 0);
	/* A certificate that does not load (a bad key) is logged there: waiting cannot fix it. */
	return rc == SE_EUNAVAILABLE || rc == SE_EDB || rc == SE_ENOMEM ? rc : 0;
}

/* Reads every event after last_seq, in batches, up to the first that cannot be applied yet. */
static void poll_once(struct change_feed *f)
{
	size_t n = 0;

	do {
		if (store_events_since(f->edge->st, f->last_seq, f->events, FEED_BATCH, &n) != 0)
			return;
		for (size_t i = 0; i < n; i++) {
			if (apply(f, &f->events[i]) != 0)
				return;
			f->last_seq = f->events[i].seq;
		}
	} while (n == FEED_BATCH);
}

/* Tells the fleet how far this edge has got, then activates what every live edge has loaded
 * (any edge may: the moves are fenced, so two edges doing it at once move each pack once). */
static void report(struct change_feed *f)
{
	int64_t now = time_now_us();
	int64_t window = (int64_t)f->edge->cfg->edge.heartbeat_timeout * 1000000;
	size_t moved = 0;

	if (f->self.acked_seq == f->last_seq && now - f->heartbeat_at_us < HEARTBEAT_US)
		return;
	f->self.acked_seq = f->last_seq;
	if (store_edge_heartbeat(f->edge->st, &f->self) != 0)
		return;
	f->heartbeat_at_us = now;
	if (store_deployments_advance(f->edge->st, now - window, &moved) == 0 && moved)
		log_info("edge msg=\"certificates deployed on every live edge\" packs=%zu", moved);
}

/* Where the feed starts: at the newest change, as nothing is cached yet; but a local copy must
 * hear of every change since it was last written, so the feed starts there when the copy can
 * catch up, and when the store cannot be reached (an edge starting during an outage). */
static void start_position(struct change_feed *f)
{
	struct edge *e = f->edge;
	int64_t newest = 0, copied = 0;
	int reached = store_events_last_seq(e->st, &newest) == 0;

	f->last_seq = newest;
	if (!e->copy)
		return;
	edge_copy_position(e->copy, &copied);
	if (!reached) {
		f->last_seq = copied;
		log_warn("edge msg=\"the store cannot be reached: serving from the local copy\" "
			 "copy_position=%lld",
			 (long long)copied);
	} else if (copied > 0 && copied <= newest && newest - copied <= COPY_CATCH_UP_MAX) {
		f->last_seq = copied;
	} else if (copied != newest) {
		edge_copy_clear(e->copy); /* too far behind, or from another database */
	}
	f->copy_seq = copied;
}

/* The copy reflects every change the feed has applied (a failure only leaves it further
 * behind, to catch up from there). */
static void save_position(struct change_feed *f)
{
	struct edge *e = f->edge;

	if (!e->copy || f->copy_seq == f->last_seq)
		return;
	copy_writer_flush(e->copy_writer); /* the reloads of the changes up to last_seq */
	if (edge_copy_set_position(e->copy, f->last_seq) == 0)
		f->copy_seq = f->last_seq;
}

/* Waits for the next poll, due FEED_INTERVAL_MS after the last one began (F->lock held): the
 * interval counts the time the last round spent applying and reporting (writes that wait for
 * the disk on a loaded machine), so a change committed meanwhile is not kept waiting for both.
 * With PostgreSQL a notification of new events ends the wait at once, so a change reaches this
 * edge in a round trip rather than up to a poll interval later; the poll stays, as a missed
 * notification must lose nothing. */
static void wait_next(struct change_feed *f, int64_t polled_at_us)
{
	int64_t due_us = polled_at_us + FEED_INTERVAL_MS * 1000LL;
	int64_t left_us = due_us - time_now_us();
	struct timespec ts;
	int rc;

	if (left_us <= 0)
		return;
	pthread_mutex_unlock(&f->lock);
	rc = store_events_wait(f->edge->st, left_us);
	pthread_mutex_lock(&f->lock);
	if (rc >= 0 || f->stop) /* notified, or the time is up */
		return;
	/* SQLite (no notifications), or no connection to listen on: a timed wait. */
	clock_gettime(CLOCK_REALTIME, &ts);
	left_us = due_us - time_now_us();
	if (left_us <= 0)
		return;
	ts.tv_sec += left_us / 1000000;
	ts.tv_nsec += (left_us % 1000000) * 1000;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&f->cond, &f->lock, &ts);
}

static void *feed_main(void *arg)
{
	struct change_feed *f = arg;
	int64_t tickets_at_us = time_now_us();

	/* Heartbeats and acknowledgements are sent again on the next round. */
	store_commit_lazily(f->edge->st);
	pthread_mutex_lock(&f->lock);
	while (!f->stop) {
		int64_t polled_at_us = time_now_us();

		pthread_mutex_unlock(&f->lock);
		poll_once(f);
		save_position(f);
		report(f);
		if (time_now_us() - tickets_at_us >= TICKET_EVERY_US) {
			tickets_refresh(f->edge);
			tickets_at_us = time_now_us();
		}
		pthread_mutex_lock(&f->lock);
		if (!f->stop)
			wait_next(f, polled_at_us);
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
	if (ids_hex32(f->self.id) != 0) {
		free(f);
		return SE_ENOMEM;
	}
	f->edge = e;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	start_position(f);
	snprintf(f->self.name, sizeof(f->self.name), "%s", e->cfg->edge.name);
	f->self.started_at_us = time_now_us();
	f->self.acked_seq = f->last_seq;
	store_edges_prune(e->st, f->self.started_at_us - PRUNE_AFTER_US);
	/* Registered before the first handshake: from now on the fleet waits for this edge. */
	if (store_edge_heartbeat(e->st, &f->self) == 0)
		f->heartbeat_at_us = f->self.started_at_us;
	log_info("edge msg=\"edge registered\" edge_id=%s name=%s", f->self.id, f->self.name);
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
	/* A clean stop: the fleet stops waiting for this edge now, not after the timeout. */
	store_edge_remove(f->edge->st, f->self.id);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

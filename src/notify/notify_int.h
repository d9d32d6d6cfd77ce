/* Private to src/notify. */
#ifndef SAASEDGE_NOTIFY_NOTIFY_INT_H
#define SAASEDGE_NOTIFY_NOTIFY_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "notify/notify.h"

#define NOTIFY_MAX_SENDERS 64

struct notify {
	const struct config *cfg;
	struct store *store;
	const struct secretbox *box;
	atomic_int stopping;
	pthread_mutex_t lock; /* with wake: senders sleep until the dispatcher made deliveries */
	pthread_cond_t wake;
	pthread_t dispatcher;
	int dispatcher_started;
	pthread_t senders[NOTIFY_MAX_SENDERS];
	int n_senders;
};

/* dispatch.c: turns the events after the cursor (one batch) into deliveries; *READ counts
 * the events it moved the cursor over, *MADE the deliveries. */
int notify_dispatch_once(struct notify *n, size_t *read, size_t *made);

/* The delay before attempt ATTEMPTS + 1 of a delivery: doubling from a second up to an hour,
 * with up to a quarter of jitter so that the deliveries of one outage do not retry in step. */
int64_t notify_backoff_us(int attempts, unsigned jitter_seed);

#endif

/* The gauges that are read rather than counted, on a scrape: those a role keeps in its own state
 * (its collectors), and the counts in the store, at most every REFRESH_US, so that scrapers
 * however many or frequent cost the database one round of indexed counts per interval. On a
 * store error the last values stay. */
#include "metrics/metrics_int.h"

#include <pthread.h>

#include "lib/config.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "store/store.h"

#define REFRESH_US (5 * (int64_t)1000000)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t refreshed_us;
static const struct config *config; /* for the CAs' rate limits */

static pthread_mutex_t collectors_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	void (*fn)(void *arg);
	void *arg;
} collectors[METRICS_MAX_COLLECTORS];

int metrics_collector_add(void (*fn)(void *arg), void *arg)
{
	int rc = SE_ENOMEM;

	pthread_mutex_lock(&collectors_lock);
	for (int i = 0; rc && i < METRICS_MAX_COLLECTORS; i++) {
		if (!collectors[i].fn) {
			collectors[i].fn = fn;
			collectors[i].arg = arg;
			rc = 0;
		}
	}
	pthread_mutex_unlock(&collectors_lock);
	return rc;
}

void metrics_collector_remove(void (*fn)(void *arg), void *arg)
{
	pthread_mutex_lock(&collectors_lock);
	for (int i = 0; i < METRICS_MAX_COLLECTORS; i++) {
		if (collectors[i].fn == fn && collectors[i].arg == arg)
			collectors[i].fn = NULL;
	}
	pthread_mutex_unlock(&collectors_lock);
}

void metrics_run_collectors(void)
{
	/* held while they run: a role removing its collector waits for this scrape */
	pthread_mutex_lock(&collectors_lock);
	for (int i = 0; i < METRICS_MAX_COLLECTORS; i++) {
		if (collectors[i].fn)
			collectors[i].fn(collectors[i].arg);
	}
	pthread_mutex_unlock(&collectors_lock);
}

void metrics_gauges_config(const struct config *cfg)
{
	config = cfg;
}

/* Orders left in each limited CA's window; -1 for a CA without a limit. */
static void refresh_budgets(struct store *st, int64_t now_us)
{
	for (size_t i = 0; config && i < config->n_cas; i++) {
		const struct config_ca *ca = &config->cas[i];
		int64_t used = 0, left = -1;

		if (ca->max_orders > 0 &&
		    store_ca_orders_since(st, ca->name, now_us - ca->order_window_s * 1000000,
					  &used) == 0)
			left = ca->max_orders > used ? ca->max_orders - used : 0;
		metrics_set(M_ISSUER_CA_BUDGET, metrics_ca_index(ca->name), 0, left);
	}
	metrics_set(M_ISSUER_CA_BUDGET, metrics_ca_index("internal"), 0, -1);
}

void metrics_refresh_store_gauges(struct store *st)
{
	int64_t now_us = time_now_us();
	struct store_gauges g;
	int rc;

	pthread_mutex_lock(&lock);
	if (refreshed_us && now_us - refreshed_us < REFRESH_US) {
		pthread_mutex_unlock(&lock);
		return;
	}
	refreshed_us = now_us;
	rc = store_gauges_read(st, now_us, &g);
	if (rc == 0) {
		metrics_set(M_ISSUER_QUEUE_JOBS, 0, 0, g.jobs_due);
		metrics_set(M_ISSUER_OLDEST_JOB, 0, 0,
			    g.oldest_due_us ? (now_us - g.oldest_due_us) / 1000000 : 0);
		metrics_set(M_ISSUER_KEY_POOL, 0, 0, g.key_pool);
		metrics_set(M_CERTS_EXPIRING, MX_7D, 0, g.expiring_7d);
		metrics_set(M_CERTS_EXPIRING, MX_30D, 0, g.expiring_30d);
		metrics_set(M_WEBHOOK_BACKLOG, 0, 0, g.webhook_backlog);
		refresh_budgets(st, now_us);
	} else {
		log_warn("msg=\"metrics: cannot read the store's counts\" rc=%d", rc);
	}
	pthread_mutex_unlock(&lock);
}

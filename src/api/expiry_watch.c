#include "api/expiry_watch.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/error.h"
#include "lib/log.h"
#include "lib/timeutil.h"

#define BATCH 64

struct expiry_watch {
	struct store *st;
	unsigned interval_s;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stopping;
};

int expiry_watch_pass(struct store *st, int64_t now_us)
{
	struct store_custom_watch due[BATCH];
	size_t n = 0;
	int rc;

	do {
		rc =
		    store_custom_packs_expiring(st, now_us, EXPIRY_WATCH_WINDOW_US, due, BATCH, &n);
		for (size_t i = 0; rc == 0 && i < n; i++) {
			int ended = due[i].not_after_us <= now_us;
			/* A pack that another role moved meanwhile (a new upload) is refused by
			 * the lifecycle table (SE_EBUSY), and the next pass looks again. */
			int r =
			    store_pack_move(st, due[i].pack_id,
					    ended ? PACK_EV_EXPIRED : PACK_EV_EXPIRING, -1, NULL);

			if (r == 0)
				log_info("msg=\"custom certificate expiry\" pack=%s status=%s",
					 due[i].pack_id, ended ? "expired" : "pending_expiration");
			else if (r != SE_EBUSY && r != SE_ENOTFOUND)
				rc = r;
		}
	} while (rc == 0 && n == BATCH);
	return rc;
}

static void *watch_main(void *arg)
{
	struct expiry_watch *w = arg;

	pthread_mutex_lock(&w->lock);
	while (!w->stopping) {
		struct timespec until;

		pthread_mutex_unlock(&w->lock);
		int rc = expiry_watch_pass(w->st, time_now_us());
		if (rc)
			log_warn("msg=\"expiry watch pass failed\" err=%s", se_errname(rc));
		pthread_mutex_lock(&w->lock);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += w->interval_s;
		while (!w->stopping &&
		       pthread_cond_timedwait(&w->wake, &w->lock, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int expiry_watch_start(struct store *st, unsigned interval_s, struct expiry_watch **out)
{
	struct expiry_watch *w = calloc(1, sizeof(*w));

	*out = NULL;
	if (!w)
		return SE_ENOMEM;
	w->st = st;
	w->interval_s = interval_s ? interval_s : 1;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	if (pthread_create(&w->thread, NULL, watch_main, w) != 0) {
		pthread_cond_destroy(&w->wake);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return SE_ENOMEM;
	}
	*out = w;
	return 0;
}

void expiry_watch_stop(struct expiry_watch *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = 1;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

/* RSA-2048 keys generated ahead of need. One RSA key takes 0.1-0.5 s of CPU on a small machine,
 * more than all the rest of an issuance against a local CA, so a burst of new hostnames would
 * queue behind key generation. Filler threads (one per core) at SCHED_IDLE keep issuer.key_pool
 * sealed keys in the store: private_keys rows owned by STORE_KEY_POOL_OWNER, so they survive
 * restarts and every issuer process shares them. A process's fillers count the keys they are
 * making with those stored, under one lock, so one node fills the pool to its size exactly (the
 * size a gauge shows) and a filler that finds it full is right; fillers of several nodes may
 * overshoot it by a key or two, which is harmless. A pack claims one in a single UPDATE and
 * generates its own when the pool is empty. Only idle time is spent: a filler starts a key only
 * when this issuer has run no job for POOL_QUIET_US, and runs at SCHED_IDLE so that handshakes
 * and API requests come first. The scheduler class alone is not enough: on a node with a CPU
 * quota (a container's limit), idle threads spend the same quota as the workers, and a burst's
 * refill would slow the burst. */
#include "issuer/issuer_int.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/ids.h"
#include "lib/keys.h"
#include "lib/log.h"
#include "lib/timeutil.h"

#define POOL_NAP_NS      (100L * 1000000) /* stop is noticed within this */
#define POOL_NAPS_FULL   10               /* re-count a full pool every second */
#define POOL_NAPS_FAILED 50               /* after a failure (disk full?), wait 5 s */
#define POOL_QUIET_US    (1000LL * 1000)  /* no job for this long: the issuer is idle */

static void pool_nap(struct issuer *is, int naps)
{
	struct timespec ts = {0, POOL_NAP_NS};

	for (int i = 0; i < naps && !is->stopping; i++)
		nanosleep(&ts, NULL);
}

static int issuer_idle(struct issuer *is)
{
	return atomic_load(&is->jobs_running) == 0 &&
	       time_now_us() - atomic_load(&is->last_job_end_us) >= POOL_QUIET_US;
}

/* 1: the pool is short and this filler is to make a key, counted as being made from here on;
 * 0: the pool is full (STORED keys in it); < 0: the store's error. */
static int pool_reserve(struct issuer *is, int64_t *stored)
{
	int rc;

	pthread_mutex_lock(&is->pool_lock);
	rc = store_key_pool_count(is->st, keys_type_name(KEY_RSA_2048), stored);
	if (rc == 0 && is->pool_generating + *stored < is->cfg->issuer.key_pool) {
		is->pool_generating++;
		rc = 1;
	}
	pthread_mutex_unlock(&is->pool_lock);
	return rc;
}

/* Makes the reserved key and stores it; either way the reservation ends. */
static int pool_add_one(struct issuer *is)
{
	unsigned char *sealed = NULL;
	EVP_PKEY *pkey = NULL;
	size_t len = 0;
	char id[37];
	int rc;

	rc = ids_uuid(id);
	if (rc == 0)
		rc = keys_generate_unless(KEY_RSA_2048, &is->stopping, &pkey);
	if (rc == 0)
		rc = keys_seal(is->box, pkey, id, &sealed, &len);
	pthread_mutex_lock(&is->pool_lock);
	if (rc == 0)
		rc = store_private_key_put(is->st, id, STORE_KEY_POOL_OWNER,
					   keys_type_name(KEY_RSA_2048), sealed, len);
	is->pool_generating--;
	pthread_mutex_unlock(&is->pool_lock);
	free(sealed);
	EVP_PKEY_free(pkey);
	return rc;
}

static void *pool_main(void *arg)
{
	struct issuer *is = arg;
	struct sched_param idle = {0};
	int was_full = 0; /* so that each filler says once that it found the pool full */

	/* Best effort: without SCHED_IDLE the thread still works, at normal priority. */
	pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle);
	store_commit_lazily(is->st); /* a pooled key lost to a crash is made again */
	while (!is->stopping) {
		int64_t stored = 0;
		int rc;

		if (!issuer_idle(is)) {
			pool_nap(is, 1);
			continue;
		}
		rc = pool_reserve(is, &stored);
		if (rc == 0) {
			if (!was_full)
				log_info("msg=\"key pool full\" rsa_keys=%lld", (long long)stored);
			was_full = 1;
			pool_nap(is, POOL_NAPS_FULL);
			continue;
		}
		was_full = 0;
		if (rc == 1)
			rc = pool_add_one(is);
		if (rc && rc != SE_EBUSY) {
			log_warn("msg=\"key pool cannot add a key\" err=%s", se_errname(rc));
			pool_nap(is, POOL_NAPS_FAILED);
		}
	}
	keys_thread_cleanup();
	return NULL;
}

int key_pool_start(struct issuer *is)
{
	/* One filler per core: the pool refills at full speed once a burst is over. */
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int n = cores < 1 ? 1 : cores > 8 ? 8 : (int)cores;

	if (is->cfg->issuer.key_pool <= 0)
		return 0;
	if (n > is->cfg->issuer.key_pool)
		n = (int)is->cfg->issuer.key_pool;
	for (; is->n_pool_threads < n; is->n_pool_threads++)
		if (pthread_create(&is->pool_threads[is->n_pool_threads], NULL, pool_main, is) != 0)
			return SE_ENOMEM;
	return 0;
}

void key_pool_stop(struct issuer *is)
{
	/* The caller has set is->stopping, which also abandons a generation under way. */
	for (int i = 0; i < is->n_pool_threads; i++)
		pthread_join(is->pool_threads[i], NULL);
	is->n_pool_threads = 0;
}

int key_pool_claim(struct pack_work *w, enum key_type type, char key_id[37])
{
	return store_key_pool_claim(w->is->st, keys_type_name(type), w->subj.pack_id, key_id);
}

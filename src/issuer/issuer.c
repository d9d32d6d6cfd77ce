/* The issuer's workers. Each thread polls the jobs table (the store is the only meeting point
 * between roles, so there is no other wake-up), leases the earliest due job and hands it to the
 * pack state machine. Threads share nothing but the read-only config, the CA and the per-CA
 * ACME clients: no global lock is held while a step runs. */
#include "issuer/issuer.h"

#include <ares.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "issuer/issuer_int.h"
#include "lib/error.h"
#include "lib/keys.h"
#include "lib/log.h"
#include "lib/timeutil.h"

/* Jobs written by another process are found by polling at this interval; this process's own
 * creates and rechecks wake the workers at once (store_jobs_wait). */
#define POLL_IDLE_US (150LL * 1000)

/* Sleeps until NEXT_RUN_AT (0: no job waiting), POLL_IDLE_US at most, or until this process
 * schedules a job after generation SEEN was read. */
static void wait_for_work(struct issuer *is, uint64_t seen, int64_t next_run_at)
{
	int64_t wait = POLL_IDLE_US;

	if (next_run_at > 0 && next_run_at - time_now_us() < wait)
		wait = next_run_at - time_now_us();
	store_jobs_wait(is->st, seen, wait);
}

static void *worker_main(void *arg)
{
	struct issuer_worker *wa = arg;
	struct issuer *is = wa->is;
	char owner[96];

	snprintf(owner, sizeof(owner), "issuer:%ld:%d", (long)getpid(), wa->index);
	/* Every step is safe to repeat (pack_machine.c), so none waits for the disk. */
	store_commit_lazily(is->st);
	while (!is->stopping) {
		uint64_t seen = store_jobs_generation(is->st);
		struct store_job job;
		int64_t run_at = 0, now = time_now_us();
		int rc;

		/* Read first: an idle queue is looked at without taking SQLite's write lock. */
		rc = store_job_next_due(is->st, now, &run_at);
		if (rc == 0 && run_at > now) {
			wait_for_work(is, seen, run_at);
			continue;
		}
		if (rc == 0) {
			memset(&job, 0, sizeof(job));
			rc = store_job_lease(is->st, owner, now, ISSUER_LEASE_US, &job);
		}
		if (rc) {
			if (rc != SE_ENOTFOUND)
				log_warn("msg=\"job lease failed\" err=%s", se_errname(rc));
			wait_for_work(is, seen, 0);
			continue;
		}
		atomic_fetch_add(&is->jobs_running, 1);
		if (strcmp(job.kind, "hostname") == 0)
			pack_machine_run(is, &job);
		else if (strcmp(job.kind, "pack_cleanup") == 0)
			pack_cleanup_run(is, &job);
		else
			store_job_retry(is->st, job.id, job.lease_token,
					time_now_us() + 3600LL * 1000000, "unknown job kind");
		atomic_store(&is->last_job_end_us, time_now_us());
		atomic_fetch_sub(&is->jobs_running, 1);
	}
	keys_thread_cleanup();
	return NULL;
}

int issuer_start(const struct config *cfg, struct store *st, const struct secretbox *box,
		 struct issuer **out)
{
	struct issuer *is = calloc(1, sizeof(*is));
	int rc;

	*out = NULL;
	if (!is)
		return SE_ENOMEM;
	is->cfg = cfg;
	is->st = st;
	is->box = box;
	/* Both libraries' global set-up is not thread-safe: done here, before any worker. */
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
		free(is);
		return SE_EIO;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	pthread_mutex_init(&is->pool_lock, NULL);
	for (size_t i = 0; i < cfg->n_cas && i < CONFIG_MAX_CAS; i++) {
		is->acme[i].cfg = &cfg->cas[i];
		pthread_mutex_init(&is->acme[i].lock, NULL);
		is->n_acme++;
	}
	rc = internal_ca_open(is);
	if (rc) {
		log_error("msg=\"issuer cannot open the internal CA\" err=%s", se_errname(rc));
		goto fail;
	}
	for (int i = 0; i < cfg->issuer.workers && i < 256; i++) {
		is->workers[i].is = is;
		is->workers[i].index = i;
		if (pthread_create(&is->threads[i], NULL, worker_main, &is->workers[i]) != 0) {
			rc = SE_ENOMEM;
			goto fail;
		}
		is->n_threads++;
	}
	rc = key_pool_start(is);
	if (rc)
		goto fail;
	log_info("msg=\"issuer started\" workers=%d default_ca=%s", is->n_threads,
		 cfg->issuance.default_ca);
	*out = is;
	return 0;
fail:
	issuer_stop(is);
	return rc;
}

void issuer_stop(struct issuer *is)
{
	if (!is)
		return;
	is->stopping = 1;
	for (int i = 0; i < is->n_threads; i++)
		pthread_join(is->threads[i], NULL);
	key_pool_stop(is);
	acme_accounts_dispose(is);
	ca_close(is->ca);
	ares_library_cleanup();
	curl_global_cleanup();
	free(is);
}

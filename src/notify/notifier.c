/* The notifier's threads: one dispatcher polling the change feed, and senders that lease heads
 * of lines of the outbox, POST them side by side and record the outcomes. Everything a sender
 * knows between attempts is in the store, so a kill at any moment loses nothing: a delivery
 * leased and not finished is leased again when its lease runs out (at least once, never lost). */
#include "notify/notify_int.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "metrics/metrics.h"
#include "notify/webhook_send.h"

#define POLL_US        (200 * 1000)
#define SEND_BATCH     16
#define ERROR_PAUSE_US (2 * 1000 * 1000)
#define MIN_DELAY_US   (1000 * 1000LL)
#define MAX_DELAY_US   (3600 * 1000 * 1000LL)

int64_t notify_backoff_us(int attempts, unsigned jitter_seed)
{
	int64_t delay = MIN_DELAY_US;

	for (int i = 1; i < attempts && delay < MAX_DELAY_US; i++)
		delay *= 2;
	if (delay > MAX_DELAY_US)
		delay = MAX_DELAY_US;
	return delay + (int64_t)(jitter_seed % 1024) * (delay / 4) / 1024;
}

/* Sleeps up to US, or until woken or stopped. */
static void nap(struct notify *n, int64_t us)
{
	struct timespec until;
	int64_t at;

	clock_gettime(CLOCK_REALTIME, &until);
	at = (int64_t)until.tv_sec * 1000000 + until.tv_nsec / 1000 + us;
	until.tv_sec = (time_t)(at / 1000000);
	until.tv_nsec = (long)(at % 1000000) * 1000;
	pthread_mutex_lock(&n->lock);
	if (!atomic_load(&n->stopping))
		pthread_cond_timedwait(&n->wake, &n->lock, &until);
	pthread_mutex_unlock(&n->lock);
}

static void *dispatcher_main(void *arg)
{
	struct notify *n = arg;

	while (!atomic_load(&n->stopping)) {
		size_t read = 0, made = 0;
		int rc = notify_dispatch_once(n, &read, &made);

		if (rc) {
			log_warn("msg=\"webhook dispatch failed\" err=%s", se_errname(rc));
			usleep(ERROR_PAUSE_US); /* the same events are read again after it */
			continue;
		}
		if (made > 0) {
			pthread_mutex_lock(&n->lock);
			pthread_cond_broadcast(&n->wake);
			pthread_mutex_unlock(&n->lock);
		}
		if (read > 0)
			continue; /* there may be more events behind this batch */
		/* Only senders wait on the condition: the dispatcher polls. */
		usleep(POLL_US);
	}
	return NULL;
}

/* The destination's secret, opened from its sealed form (AAD: the destination id). */
static int open_secret(struct notify *n, const struct store_webhook_delivery *d,
		       unsigned char **secret, size_t *len)
{
	*secret = NULL;
	*len = 0;
	if (!d->secret_sealed)
		return 0;
	return secretbox_open(n->box, d->secret_sealed, d->secret_sealed_len, d->destination_id,
			      secret, len);
}

/* A sender's batch: the leased deliveries, one easy handle each (kept from batch to batch, so
 * that their connections are reused), sent side by side: a slow receiver holds its own
 * transfer, not the others. */
struct batch {
	struct store_webhook_delivery items[SEND_BATCH];
	struct webhook_request requests[SEND_BATCH];
	struct webhook_outcome outcomes[SEND_BATCH];
	int sent[SEND_BATCH]; /* 0 when delivered, else why not */
	CURL *handles[SEND_BATCH];
	size_t n;
};

/* Starts item I of B on MULTI, or records why it cannot start. */
static void batch_start(struct notify *n, CURLM *multi, struct batch *b, size_t i)
{
	const struct store_webhook_delivery *d = &b->items[i];
	unsigned char *secret = NULL;
	size_t secret_len = 0;
	int rc = open_secret(n, d, &secret, &secret_len);

	memset(&b->outcomes[i], 0, sizeof(b->outcomes[i]));
	memset(&b->requests[i], 0, sizeof(b->requests[i]));
	if (rc == 0) {
		struct webhook_message m = {d->url, (const char *)secret, d->event_id, d->payload};

		/* The secret is copied into the request's headers: it can be wiped now. */
		rc = webhook_request_start(
		    b->handles[i], &b->requests[i], &m, (long)n->cfg->webhooks.timeout,
		    &n->cfg->edge.origin_allow, &n->stopping, &b->outcomes[i]);
	} else {
		snprintf(b->outcomes[i].error, sizeof(b->outcomes[i].error),
			 "the destination's secret cannot be opened");
	}
	if (secret)
		secretbox_free_plain(secret, secret_len);
	if (rc == 0 && curl_multi_add_handle(multi, b->handles[i]) != CURLM_OK) {
		webhook_request_end(b->handles[i], &b->requests[i], CURLE_FAILED_INIT,
				    &b->outcomes[i]);
		rc = SE_ENOMEM;
	}
	b->sent[i] = rc ? rc : 1; /* 1: in flight */
}

/* Sends every item of B at once and waits for all of them. */
static void batch_send(struct notify *n, CURLM *multi, struct batch *b)
{
	int running = 0, left;
	CURLMsg *msg;

	for (size_t i = 0; i < b->n; i++)
		batch_start(n, multi, b, i);
	do {
		curl_multi_perform(multi, &running);
		while ((msg = curl_multi_info_read(multi, &left))) {
			for (size_t i = 0; i < b->n && msg->msg == CURLMSG_DONE; i++) {
				if (b->handles[i] != msg->easy_handle)
					continue;
				b->sent[i] = webhook_request_end(b->handles[i], &b->requests[i],
								 msg->data.result, &b->outcomes[i]);
				curl_multi_remove_handle(multi, b->handles[i]);
			}
		}
		if (running)
			curl_multi_poll(multi, NULL, 0, 100, NULL);
	} while (running);
}

/* Writes what became of B's deliveries: delivered, retried later (with backoff, until
 * retry_for has passed since each was made), or given up. */
static void batch_record(struct notify *n, struct batch *b)
{
	struct store_webhook_result results[SEND_BATCH];
	int64_t now = time_now_us();
	size_t k = 0;
	int rc;

	for (size_t i = 0; i < b->n; i++) {
		const struct store_webhook_delivery *d = &b->items[i];
		struct store_webhook_result *r = &results[k];

		/* Abandoned by the shutdown: its lease runs out and it is sent again. */
		if (b->sent[i] && atomic_load(&n->stopping))
			continue;
		memset(r, 0, sizeof(*r));
		r->delivery = d;
		r->status_code = (int)b->outcomes[i].status;
		r->error = b->sent[i] ? b->outcomes[i].error : "";
		if (b->sent[i] && now < d->created_at_us + n->cfg->webhooks.retry_for * 1000000)
			r->next_attempt_us =
			    now + notify_backoff_us(d->attempts, (unsigned)(now ^ d->id));
		metrics_count(M_WEBHOOK_DELIVERIES,
			      !b->sent[i] ? MD_DELIVERED : r->next_attempt_us ? MD_RETRIED : MD_FAILED,
			      0);
		if (b->sent[i] && !r->next_attempt_us)
			log_warn("msg=\"webhook given up\" delivery=%lld event=%s attempts=%d "
				 "error=\"%s\"",
				 (long long)d->id, d->event_type, d->attempts, r->error);
		k++;
	}
	rc = store_webhook_delivery_finish(n->store, results, k, now);
	if (rc)
		log_warn("msg=\"webhook outcomes not recorded\" deliveries=%zu err=%s", k,
			 se_errname(rc));
}

static void *sender_main(void *arg)
{
	struct notify *n = arg;
	struct batch *b = calloc(1, sizeof(*b));
	CURLM *multi = curl_multi_init();
	/* Longer than any attempt can take, so a lease runs out only when its node died. */
	int64_t lease_us = (n->cfg->webhooks.timeout + 30) * 1000000;
	int ready = b && multi;

	for (size_t i = 0; ready && i < SEND_BATCH; i++)
		ready = (b->handles[i] = curl_easy_init()) != NULL;
	if (!ready)
		log_error("msg=\"webhook sender cannot start: out of memory\"");
	while (ready && !atomic_load(&n->stopping)) {
		int rc = store_webhook_delivery_lease(n->store, time_now_us(), lease_us, SEND_BATCH,
						      b->items, &b->n);

		if (rc == 0 && b->n > 0) {
			batch_send(n, multi, b);
			batch_record(n, b);
			for (size_t i = 0; i < b->n; i++)
				store_webhook_delivery_dispose(&b->items[i]);
			continue;
		}
		if (rc)
			log_warn("msg=\"webhook lease failed\" err=%s", se_errname(rc));
		nap(n, rc ? ERROR_PAUSE_US : POLL_US);
	}
	for (size_t i = 0; b && i < SEND_BATCH; i++)
		curl_easy_cleanup(b->handles[i]);
	curl_multi_cleanup(multi);
	free(b);
	return NULL;
}

int notify_start(const struct config *cfg, struct store *st, const struct secretbox *box,
		 struct notify **out)
{
	struct notify *n = calloc(1, sizeof(*n));

	*out = NULL;
	if (!n)
		return SE_ENOMEM;
	n->cfg = cfg;
	n->store = st;
	n->box = box;
	pthread_mutex_init(&n->lock, NULL);
	pthread_cond_init(&n->wake, NULL);
	if (pthread_create(&n->dispatcher, NULL, dispatcher_main, n) != 0)
		goto fail;
	n->dispatcher_started = 1;
	for (int i = 0; i < cfg->webhooks.workers && i < NOTIFY_MAX_SENDERS; i++) {
		if (pthread_create(&n->senders[i], NULL, sender_main, n) != 0)
			goto fail;
		n->n_senders++;
	}
	*out = n;
	return 0;
fail:
	notify_stop(n);
	return SE_ENOMEM;
}

void notify_stop(struct notify *n)
{
	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	atomic_store(&n->stopping, 1);
	pthread_cond_broadcast(&n->wake);
	pthread_mutex_unlock(&n->lock);
	if (n->dispatcher_started)
		pthread_join(n->dispatcher, NULL);
	for (int i = 0; i < n->n_senders; i++)
		pthread_join(n->senders[i], NULL);
	pthread_cond_destroy(&n->wake);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

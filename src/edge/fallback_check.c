/* The fallback origin's activation: a zone's fallback origin is pending_deployment until an edge
 * has checked that it can send traffic there (its name resolves, with this edge's resolver, to
 * an address edge.origin_allow_networks lets it connect to: the checks proxy.c makes for every
 * request, with a fresh answer rather than one cached before the customer fixed the record),
 * then active. When it cannot, the origin stays pending_deployment with Cloudflare's
 * error strings in `errors`, and is checked again every FALLBACK_RECHECK_US, as Cloudflare
 * keeps checking a record the customer has not set up yet.
 *
 * A thread of its own, because a lookup may wait seconds for a resolver; the change feed wakes
 * it when a fallback origin changes. Every edge checks: the store writes a result only while
 * the origin is still the one checked and only when it changes something, so edges checking at
 * once (or a check repeated) write once. */
#include "edge/edge_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/error.h"
#include "lib/log.h"
#include "lib/netpolicy.h"
#include "lib/origin.h"
#include "lib/timeutil.h"

#define FALLBACK_RECHECK_US INT64_C(30000000)
#define FALLBACK_BATCH      64

/* Cloudflare's own wording for an origin it cannot use (its API reference's example). */
#define ERROR_DNS                                                                              \
	"DNS records are not setup correctly. Origin should be a proxied A/AAAA/CNAME dns record"
#define ERROR_ADDRESS                                                                          \
	"The origin resolves to an address the edge may not connect to (see "                  \
	"edge.origin_allow_networks)"

struct fallback_check {
	struct edge *edge;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;
	int woken;
	struct store_fallback_origin pending[FALLBACK_BATCH];
};

/* NULL when the edge can use ORIGIN, else why not (one of the errors above). */
static const char *origin_problem(struct edge *e, const char *origin)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	struct origin o;
	char reason[256];

	if (origin_parse(origin, &o, reason, sizeof(reason)) != HOSTNAME_OK)
		return ERROR_DNS; /* stored before a rule changed: the API no longer takes it */
	if (resolver_resolve_fresh(e->resolver, o.host, o.port, &ss, &len) != 0)
		return ERROR_DNS;
	if (!netpolicy_allows(&e->cfg->edge.origin_allow, (struct sockaddr *)&ss, 1))
		return ERROR_ADDRESS;
	return NULL;
}

static void check_one(struct fallback_check *fc, const struct store_fallback_origin *fo)
{
	const char *problem = origin_problem(fc->edge, fo->origin);
	char errors[512];
	int changed = 0;

	if (problem)
		snprintf(errors, sizeof(errors), "[\"%s\"]", problem);
	if (store_fallback_origin_checked(fc->edge->st, fo->zone_id, fo->origin,
					  problem ? "pending_deployment" : "active",
					  problem ? errors : NULL, &changed) != 0 ||
	    !changed)
		return;
	if (problem)
		log_info("edge msg=\"fallback origin not usable yet\" zone=%s origin=%s error=\"%s\"",
			 fo->zone_id, fo->origin, problem);
	else
		log_info("edge msg=\"fallback origin active\" zone=%s origin=%s", fo->zone_id,
			 fo->origin);
}

static void check_pending(struct fallback_check *fc)
{
	size_t n = 0;

	if (store_fallback_origins_pending(fc->edge->st, fc->pending, FALLBACK_BATCH, &n) != 0)
		return; /* the store is away: the next pass tries again */
	for (size_t i = 0; i < n; i++)
		check_one(fc, &fc->pending[i]);
}

static void *run(void *arg)
{
	struct fallback_check *fc = arg;

	pthread_mutex_lock(&fc->lock);
	while (!fc->stop) {
		struct timespec until;
		int64_t at = time_now_us() + FALLBACK_RECHECK_US;

		fc->woken = 0;
		pthread_mutex_unlock(&fc->lock);
		check_pending(fc);
		pthread_mutex_lock(&fc->lock);
		/* time_now_us is CLOCK_REALTIME, the condition's default clock. */
		until.tv_sec = at / 1000000;
		until.tv_nsec = (at % 1000000) * 1000;
		while (!fc->stop && !fc->woken &&
		       pthread_cond_timedwait(&fc->cond, &fc->lock, &until) == 0)
			;
	}
	pthread_mutex_unlock(&fc->lock);
	resolver_thread_cleanup(fc->edge->resolver);
	return NULL;
}

int fallback_check_start(struct edge *e, struct fallback_check **out)
{
	struct fallback_check *fc = calloc(1, sizeof(*fc));

	*out = NULL;
	if (!fc)
		return SE_ENOMEM;
	fc->edge = e;
	pthread_mutex_init(&fc->lock, NULL);
	pthread_cond_init(&fc->cond, NULL);
	if (pthread_create(&fc->thread, NULL, run, fc) != 0) {
		pthread_cond_destroy(&fc->cond);
		pthread_mutex_destroy(&fc->lock);
		free(fc);
		return SE_ENOMEM;
	}
	*out = fc;
	return 0;
}

void fallback_check_wake(struct fallback_check *fc)
{
	if (!fc)
		return;
	pthread_mutex_lock(&fc->lock);
	fc->woken = 1;
	pthread_cond_signal(&fc->cond);
	pthread_mutex_unlock(&fc->lock);
}

void fallback_check_stop(struct fallback_check *fc)
{
	if (!fc)
		return;
	pthread_mutex_lock(&fc->lock);
	fc->stop = 1;
	pthread_cond_signal(&fc->cond);
	pthread_mutex_unlock(&fc->lock);
	pthread_join(fc->thread, NULL);
	pthread_cond_destroy(&fc->cond);
	pthread_mutex_destroy(&fc->lock);
	free(fc);
}

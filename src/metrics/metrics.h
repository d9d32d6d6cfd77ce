/* Prometheus metrics: counters, gauges and histograms with fixed label values (no hostname is
 * ever a label, so the number of series stays the same at 1M hostnames), counted by every role
 * in its own process and served as the text exposition format on metrics.listen.
 *
 * Counting is a relaxed atomic add on a fixed cell, behind one flag that is off unless
 * metrics.listen is set, so a process without metrics pays one predictable branch per count.
 * Every function here may be called from any thread. */
#ifndef SAASEDGE_METRICS_METRICS_H
#define SAASEDGE_METRICS_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct store;

/* The families, each defined once in families.c (name, help, type, labels). */
enum metric_id {
	/* edge */
	M_EDGE_HANDSHAKES,        /* result x certificate */
	M_EDGE_CONNECTIONS,       /* gauge: client connections open */
	M_EDGE_CONNECTIONS_TOTAL, /* counter: client connections accepted */
	M_EDGE_CACHE_LOOKUPS,     /* result: hit, miss */
	M_EDGE_CACHE_EVICTIONS,   /* entries dropped for room */
	M_EDGE_CACHE_BYTES,       /* gauge */
	M_EDGE_CACHE_ENTRIES,     /* gauge */
	M_EDGE_MISS_SECONDS,      /* histogram: a cache miss's wait for the store */
	M_EDGE_REQUESTS,          /* protocol x status class */
	M_EDGE_ORIGIN_SECONDS,    /* histogram: request sent to response head received */
	/* issuer */
	M_ISSUER_ORDERS,           /* ca x outcome */
	M_ISSUER_TIME_TO_ACTIVE,   /* histogram: hostname created to certificate active */
	M_ISSUER_VALIDATION_FAILS, /* method x reason */
	M_ISSUER_QUEUE_JOBS,       /* gauge: jobs due now */
	M_ISSUER_OLDEST_JOB,       /* gauge: seconds the oldest due job has waited */
	M_ISSUER_KEY_POOL,         /* gauge: RSA keys generated ahead */
	M_ISSUER_CA_BUDGET,        /* gauge by ca: orders left in the rate window (-1 = no limit) */
	M_CERTS_EXPIRING,          /* gauge by window: 7d, 30d */
	/* api */
	M_API_REQUESTS, /* route x status class */
	M_API_SECONDS,  /* histogram by route */
	/* webhooks */
	M_WEBHOOK_DELIVERIES, /* outcome */
	M_WEBHOOK_BACKLOG,    /* gauge: deliveries waiting */
	/* store */
	M_STORE_SECONDS, /* histogram by operation: query, commit */
	M_COUNT
};

/* Label values; each enum matches its names in families.c. */
enum metric_handshake_result { MH_OK, MH_UNKNOWN_NAME, MH_FAILED, MH_RESULT_COUNT };
enum metric_cert_kind { MC_ECDSA, MC_RSA, MC_DEFAULT, MC_NONE, MC_KIND_COUNT };
enum metric_lookup { ML_HIT, ML_MISS, ML_LOOKUP_COUNT };
enum metric_protocol { MP_HTTP1, MP_HTTP2, MP_PROTOCOL_COUNT };
enum metric_outcome { MO_ISSUED, MO_FAILED, MO_OUTCOME_COUNT };
enum metric_dcv_method { MV_HTTP, MV_TXT, MV_EMAIL, MV_CNAME, MV_METHOD_COUNT };
enum metric_dcv_reason {
	MR_TIMED_OUT, /* no validation within issuance.validation_timeout */
	MR_CA,        /* the CA refused an authorization or the order */
	MR_CAA,       /* a CAA record forbids the CA */
	MR_CHECK,     /* saasedge's own check of the record failed (DNS, HTTP, mail) */
	MR_REASON_COUNT
};
enum metric_expiry_window { MX_7D, MX_30D, MX_WINDOW_COUNT };
enum metric_delivery { MD_DELIVERED, MD_RETRIED, MD_FAILED, MD_DELIVERY_COUNT };
enum metric_store_op { MS_QUERY, MS_COMMIT, MS_OP_COUNT };

/* The API's route label: the routes in router.c, by what they act on. */
enum metric_route {
	MA_HOSTNAMES,
	MA_HOSTNAME,
	MA_FALLBACK_ORIGIN,
	MA_CUSTOM_CERTS,
	MA_CSRS,
	MA_ZONES,
	MA_ACCOUNTS,
	MA_ALERTING,
	MA_DASHBOARD,
	MA_OTHER,
	MA_ROUTE_COUNT
};

/* The CA label: the configured CAs in order, then "internal" and "other". */
#define METRICS_MAX_CAS 10

extern atomic_int metrics_enabled;

/* The value cell of family ID at labels A, B (0 for a family without that label). */
_Atomic int64_t *metrics_cell(enum metric_id id, unsigned a, unsigned b);

/* Histograms: a duration observed, in microseconds. */
void metrics_observe_us_slow(enum metric_id id, unsigned a, int64_t us);

/* 1 when counting is on: work done only to be counted (reading a clock) is skipped when not. */
static inline int metrics_on(void)
{
	return atomic_load_explicit(&metrics_enabled, memory_order_relaxed);
}

static inline void metrics_count(enum metric_id id, unsigned a, unsigned b)
{
	if (metrics_on())
		atomic_fetch_add_explicit(metrics_cell(id, a, b), 1, memory_order_relaxed);
}

static inline void metrics_set(enum metric_id id, unsigned a, unsigned b, int64_t v)
{
	if (metrics_on())
		atomic_store_explicit(metrics_cell(id, a, b), v, memory_order_relaxed);
}

static inline void metrics_observe_us(enum metric_id id, unsigned a, int64_t us)
{
	if (metrics_on())
		metrics_observe_us_slow(id, a, us);
}

/* Counts an answer with HTTP STATUS in family ID (whose second label is the status class,
 * 1xx..5xx) at label A; a status outside 100..599 is not counted. */
static inline void metrics_count_status(enum metric_id id, unsigned a, int status)
{
	if (status >= 100 && status < 600)
		metrics_count(id, a, (unsigned)(status / 100 - 1));
}

/* FN(ARG) runs before each scrape is written, to set the gauges a role keeps in its own state
 * (the edge's open connections and cache size) rather than count as it goes: at most
 * METRICS_MAX_COLLECTORS at once. 0, or SE_ENOMEM when they are all taken. */
#define METRICS_MAX_COLLECTORS 4
int metrics_collector_add(void (*fn)(void *arg), void *arg);
/* Removes FN(ARG), waiting for a scrape that is running it: ARG may be freed after this. */
void metrics_collector_remove(void (*fn)(void *arg), void *arg);

/* The CA label index of NAME (a configured CA's name, "internal"): set once by
 * metrics_set_cas; unknown names are "other". */
unsigned metrics_ca_index(const char *name);
/* The CA label values: CFG's ACME CAs in order, then "internal", then "other". */
void metrics_set_cas(const struct config *cfg);

/* Turns counting on and clears every value (tests, and the start of `serve`). */
void metrics_enable(void);

/* The text exposition of every family into a malloc'd string the caller frees (*LEN its
 * length); NULL when out of memory. Gauges read from the store are refreshed first when ST is
 * not NULL. */
char *metrics_render(struct store *st, size_t *len);

/* The listener on metrics.listen (GET /metrics), with its own thread; none when that is "".
 * 0 or an SE_E* code (the address cannot be bound). */
struct metrics_server;
int metrics_server_start(const struct config *cfg, struct store *st, struct metrics_server **out);
unsigned metrics_server_port(const struct metrics_server *srv);
void metrics_server_stop(struct metrics_server *srv);

#endif

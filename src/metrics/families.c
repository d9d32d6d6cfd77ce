/* Every metric saasedge exports, in one table: name, help, type, labels, buckets. The label
 * values are fixed lists (the CA label is the configured CAs), so a family has a fixed number
 * of series whatever the number of hostnames. */
#include "metrics/metrics_int.h"

#include <stdio.h>
#include <string.h>

#include "lib/config.h"

static const char *const handshake_results[] = {"ok", "unknown_name", "failed", NULL};
static const char *const cert_kinds[] = {"ecdsa", "rsa", "default", "none", NULL};
static const char *const lookups[] = {"hit", "miss", NULL};
static const char *const protocols[] = {"http/1.1", "h2", NULL};
static const char *const status_classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx", NULL};
static const char *const outcomes[] = {"issued", "failed", NULL};
static const char *const dcv_methods[] = {"http", "txt", "email", "cname", NULL};
static const char *const dcv_reasons[] = {"timed_out", "ca", "caa", "check", NULL};
static const char *const windows[] = {"7d", "30d", NULL};
static const char *const deliveries[] = {"delivered", "retried", "failed", NULL};
static const char *const store_ops[] = {"query", "commit", NULL};
static const char *const routes[] = {"custom_hostnames",
				     "custom_hostname",
				     "fallback_origin",
				     "custom_certificates",
				     "custom_csrs",
				     "zones",
				     "accounts",
				     "alerting",
				     "dashboard",
				     "other",
				     NULL};

/* The configured CAs' names, then "internal" and "other": set once before counting starts. */
static char ca_names[METRICS_MAX_CAS][64];
static const char *ca_values[METRICS_MAX_CAS + 1] = {"internal", "other", NULL};

/* Seconds: a store query or a cached handshake (sub-millisecond) to a slow origin. */
static const double fast[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
			      0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
/* Seconds: a hostname's wait for its certificate, from seconds (internal CA) to a day. */
static const double slow[] = {1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600, 21600, 86400};

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define L(n, v)                                                                                    \
	{                                                                                          \
		.name = n, .values = v                                                             \
	}
#define FAST .bounds = fast, .n_bounds = N(fast)

/* clang-format off */
const struct metric_family metric_families[M_COUNT] = {
	[M_EDGE_HANDSHAKES] = {.name = "saasedge_edge_handshakes_total",
		.help = "TLS handshakes with clients, by result and the certificate served",
		.type = METRIC_COUNTER,
		.labels = {L("result", handshake_results), L("certificate", cert_kinds)}},
	[M_EDGE_CONNECTIONS] = {.name = "saasedge_edge_connections",
		.help = "client connections open (TCP, TLS and HTTP/2)", .type = METRIC_GAUGE},
	[M_EDGE_CONNECTIONS_TOTAL] = {.name = "saasedge_edge_connections_total",
		.help = "client connections accepted", .type = METRIC_COUNTER},
	[M_EDGE_CACHE_LOOKUPS] = {.name = "saasedge_edge_cert_cache_lookups_total",
		.help = "certificate cache lookups at ClientHello, by result",
		.type = METRIC_COUNTER,
		.labels = {L("result", lookups)}},
	[M_EDGE_CACHE_EVICTIONS] = {.name = "saasedge_edge_cert_cache_evictions_total",
		.help = "certificate cache entries dropped to stay within edge.cache_bytes",
		.type = METRIC_COUNTER},
	[M_EDGE_CACHE_BYTES] = {.name = "saasedge_edge_cert_cache_bytes",
		.help = "bytes held by the certificate cache", .type = METRIC_GAUGE},
	[M_EDGE_CACHE_ENTRIES] = {.name = "saasedge_edge_cert_cache_entries",
		.help = "hostnames in the certificate cache", .type = METRIC_GAUGE},
	[M_EDGE_MISS_SECONDS] = {.name = "saasedge_edge_cert_cache_miss_seconds",
		.help = "a handshake's wait for its name to be read from the store on a cache miss",
		.type = METRIC_HISTOGRAM, FAST},
	[M_EDGE_REQUESTS] = {.name = "saasedge_edge_requests_total",
		.help = "requests answered (proxied or refused), by protocol and status class",
		.type = METRIC_COUNTER,
		.labels = {L("protocol", protocols), L("code", status_classes)}},
	[M_EDGE_ORIGIN_SECONDS] = {.name = "saasedge_edge_origin_seconds",
		.help = "from a request sent to the origin to its response head",
		.type = METRIC_HISTOGRAM,
		FAST},
	[M_ISSUER_ORDERS] = {.name = "saasedge_issuer_orders_total",
		.help = "certificate orders finished, by CA and outcome", .type = METRIC_COUNTER,
		.labels = {L("ca", ca_values), L("outcome", outcomes)}},
	[M_ISSUER_TIME_TO_ACTIVE] = {.name = "saasedge_issuer_time_to_active_seconds",
		.help = "from a hostname's creation to its first certificate served",
		.type = METRIC_HISTOGRAM,
		.bounds = slow, .n_bounds = N(slow)},
	[M_ISSUER_VALIDATION_FAILS] = {.name = "saasedge_issuer_validation_failures_total",
		.help = "domain control validations failed, by method and reason",
		.type = METRIC_COUNTER,
		.labels = {L("method", dcv_methods), L("reason", dcv_reasons)}},
	[M_ISSUER_QUEUE_JOBS] = {.name = "saasedge_issuer_queue_jobs",
		.help = "issuer jobs due now (waiting or running)", .type = METRIC_GAUGE},
	[M_ISSUER_OLDEST_JOB] = {.name = "saasedge_issuer_queue_oldest_seconds",
		.help = "how long the oldest due issuer job has been due", .type = METRIC_GAUGE},
	[M_ISSUER_KEY_POOL] = {.name = "saasedge_issuer_key_pool_keys",
		.help = "RSA keys generated ahead of need", .type = METRIC_GAUGE},
	[M_ISSUER_CA_BUDGET] = {.name = "saasedge_issuer_ca_orders_left",
		.help = "orders a CA's rate limit allows in its current window (-1: no limit)",
		.type = METRIC_GAUGE, .labels = {L("ca", ca_values)}},
	[M_CERTS_EXPIRING] = {.name = "saasedge_certificates_expiring",
		.help = "certificates whose validity ends within the window", .type = METRIC_GAUGE,
		.labels = {L("within", windows)}},
	[M_API_REQUESTS] = {.name = "saasedge_api_requests_total",
		.help = "API requests, by route and status class", .type = METRIC_COUNTER,
		.labels = {L("route", routes), L("code", status_classes)}},
	[M_API_SECONDS] = {.name = "saasedge_api_request_seconds",
		.help = "API request handling time, by route", .type = METRIC_HISTOGRAM,
		.labels = {L("route", routes)}, FAST},
	[M_WEBHOOK_DELIVERIES] = {.name = "saasedge_webhook_deliveries_total",
		.help = "webhook delivery attempts, by outcome", .type = METRIC_COUNTER,
		.labels = {L("outcome", deliveries)}},
	[M_WEBHOOK_BACKLOG] = {.name = "saasedge_webhook_backlog",
		.help = "webhook deliveries waiting to be sent or retried", .type = METRIC_GAUGE},
	[M_STORE_SECONDS] = {.name = "saasedge_store_seconds",
		.help = "store statement and commit times", .type = METRIC_HISTOGRAM,
		.labels = {L("operation", store_ops)},
		FAST},
};
/* clang-format on */

unsigned metrics_label_size(const struct metric_family *f, int i)
{
	unsigned n = 0;

	if (!f->labels[i].name)
		return 1;
	while (f->labels[i].values[n])
		n++;
	return n;
}

void metrics_set_cas(const struct config *cfg)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->n_cas && n < METRICS_MAX_CAS - 2; i++, n++) {
		snprintf(ca_names[n], sizeof(ca_names[n]), "%s", cfg->cas[i].name);
		ca_values[n] = ca_names[n];
	}
	ca_values[n++] = "internal";
	ca_values[n++] = "other";
	ca_values[n] = NULL;
}

unsigned metrics_ca_index(const char *name)
{
	unsigned i = 0;

	for (; ca_values[i + 1]; i++) /* the last is "other" */
		if (strcmp(ca_values[i], name) == 0)
			return i;
	return i;
}

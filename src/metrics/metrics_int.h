/* What the metrics module's files share: the family table and where each family's cells are. */
#ifndef SAASEDGE_METRICS_METRICS_INT_H
#define SAASEDGE_METRICS_METRICS_INT_H

#include "metrics/metrics.h"

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

/* A label: its name and its values (NULL-terminated; for the CA label, filled at start). */
struct metric_label {
	const char *name;
	const char *const *values;
};

struct metric_family {
	const char *name;
	const char *help;
	enum metric_type type;
	struct metric_label labels[2]; /* .name NULL when the family has fewer */
	const double *bounds;          /* histograms: bucket upper bounds in seconds, ascending */
	unsigned n_bounds;
};

extern const struct metric_family metric_families[M_COUNT];

/* The number of values of a family's label I (1 for a label it does not have). */
unsigned metrics_label_size(const struct metric_family *f, int i);

/* A histogram's cells at label A: n_bounds bucket counts (not cumulative), then the count,
 * then the sum in microseconds. */
_Atomic int64_t *metrics_histogram_cells(enum metric_id id, unsigned a);

/* Runs the collectors (metrics_collector_add). */
void metrics_run_collectors(void);

/* The gauges read from the store (queue, key pool, budgets, expiring certificates, webhook
 * backlog), at most every few seconds however often it is scraped (gauges.c). */
void metrics_refresh_store_gauges(struct store *st);
/* The configuration whose CAs' rate limits the budget gauge reports (borrowed for the
 * process's life). */
void metrics_gauges_config(const struct config *cfg);

#endif

/* The values: one array of atomic cells, each family at its own offset (laid out on the first
 * call to metrics_enable), so a count is an index and one relaxed add. */
#include "metrics/metrics_int.h"

#include <string.h>

/* Ample for the table: the largest families have 40 series, a histogram 19 cells a series. */
#define MAX_CELLS 4096

atomic_int metrics_enabled;

static _Atomic int64_t cells[MAX_CELLS];
static unsigned offsets[M_COUNT];
static unsigned capacity[M_COUNT][2]; /* label_capacity, computed once */
static _Atomic int64_t overflow;      /* a label index out of range counts here, not elsewhere */

/* Cells per series of family F. */
static unsigned series_cells(const struct metric_family *f)
{
	return f->type == METRIC_HISTOGRAM ? f->n_bounds + 2 : 1;
}

/* The values label I of F may take: the CA label is sized for every CA a configuration may
 * define, whatever this one defines. */
static unsigned label_capacity(const struct metric_family *f, int i)
{
	if (f->labels[i].name && strcmp(f->labels[i].name, "ca") == 0)
		return METRICS_MAX_CAS;
	return metrics_label_size(f, i);
}

static void lay_out(void)
{
	unsigned at = 0;

	for (int id = 0; id < M_COUNT; id++) {
		const struct metric_family *f = &metric_families[id];

		offsets[id] = at;
		capacity[id][0] = label_capacity(f, 0);
		capacity[id][1] = label_capacity(f, 1);
		at += series_cells(f) * capacity[id][0] * capacity[id][1];
	}
}

void metrics_enable(void)
{
	lay_out();
	for (size_t i = 0; i < MAX_CELLS; i++)
		atomic_store(&cells[i], 0);
	atomic_store(&metrics_enabled, 1);
}

_Atomic int64_t *metrics_cell(enum metric_id id, unsigned a, unsigned b)
{
	unsigned nb = capacity[id][1];
	unsigned at = offsets[id] + (a * nb + b) * series_cells(&metric_families[id]);

	/* B varies fastest; an index out of range (a bug) counts nowhere that is exported */
	if (a >= capacity[id][0] || b >= nb || at >= MAX_CELLS)
		return &overflow;
	return &cells[at];
}

_Atomic int64_t *metrics_histogram_cells(enum metric_id id, unsigned a)
{
	return metrics_cell(id, a, 0);
}

void metrics_observe_us_slow(enum metric_id id, unsigned a, int64_t us)
{
	const struct metric_family *f = &metric_families[id];
	_Atomic int64_t *h = metrics_histogram_cells(id, a);
	unsigned i = 0;

	if (h == &overflow)
		return;
	if (us < 0)
		us = 0;
	while (i < f->n_bounds && (double)us > f->bounds[i] * 1e6)
		i++;
	if (i < f->n_bounds)
		atomic_fetch_add_explicit(&h[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h[f->n_bounds], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h[f->n_bounds + 1], us, memory_order_relaxed);
}

/* The Prometheus text exposition format (version 0.0.4): HELP and TYPE lines, then one line per
 * series; a histogram as cumulative _bucket lines with "le", then _sum (seconds) and _count. */
#include "metrics/metrics_int.h"

#include <stdio.h>
#include <stdlib.h>

/* A label value between double quotes: backslash, quote and newline escaped. */
static void put_label_value(FILE *out, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(out, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", out);
		else
			fputc(*v, out);
	}
}

/* {a="x",b="y"} for series (A, B) of F, with EXTRA ("le=\"0.5\"") appended when not NULL;
 * nothing when there is no label at all. */
static void put_labels(FILE *out, const struct metric_family *f, unsigned a, unsigned b,
		       const char *extra)
{
	unsigned idx[2] = {a, b};
	int any = 0;

	for (int i = 0; i < 2 && f->labels[i].name; i++) {
		fprintf(out, "%s%s=\"", any ? "," : "{", f->labels[i].name);
		put_label_value(out, f->labels[i].values[idx[i]]);
		fputc('"', out);
		any = 1;
	}
	if (extra)
		fprintf(out, "%s%s", any ? "," : "{", extra);
	if (any || extra)
		fputc('}', out);
}

static void put_histogram(FILE *out, enum metric_id id, unsigned a)
{
	const struct metric_family *f = &metric_families[id];
	_Atomic int64_t *h = metrics_histogram_cells(id, a);
	int64_t cumulative = 0, count = atomic_load(&h[f->n_bounds]);
	char le[48];

	for (unsigned i = 0; i < f->n_bounds; i++) {
		cumulative += atomic_load(&h[i]);
		snprintf(le, sizeof(le), "le=\"%g\"", f->bounds[i]);
		fprintf(out, "%s_bucket", f->name);
		put_labels(out, f, a, 0, le);
		fprintf(out, " %lld\n", (long long)cumulative);
	}
	/* a count read after the buckets may include observations they missed: +Inf is the
	 * count, which is never below the last bucket */
	if (count < cumulative)
		count = cumulative;
	fprintf(out, "%s_bucket", f->name);
	put_labels(out, f, a, 0, "le=\"+Inf\"");
	fprintf(out, " %lld\n%s_sum", (long long)count, f->name);
	put_labels(out, f, a, 0, NULL);
	fprintf(out, " %.6f\n%s_count", (double)atomic_load(&h[f->n_bounds + 1]) / 1e6, f->name);
	put_labels(out, f, a, 0, NULL);
	fprintf(out, " %lld\n", (long long)count);
}

static void put_family(FILE *out, enum metric_id id)
{
	static const char *const types[] = {"counter", "gauge", "histogram"};
	const struct metric_family *f = &metric_families[id];
	unsigned na = metrics_label_size(f, 0), nb = metrics_label_size(f, 1);

	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, types[f->type]);
	for (unsigned a = 0; a < na; a++) {
		if (f->type == METRIC_HISTOGRAM) {
			put_histogram(out, id, a);
			continue;
		}
		for (unsigned b = 0; b < nb; b++) {
			fputs(f->name, out);
			put_labels(out, f, a, b, NULL);
			fprintf(out, " %lld\n", (long long)atomic_load(metrics_cell(id, a, b)));
		}
	}
}

char *metrics_render(struct store *st, size_t *len)
{
	char *text = NULL;
	FILE *out;

	metrics_run_collectors();
	if (st)
		metrics_refresh_store_gauges(st);
	out = open_memstream(&text, len);
	if (!out)
		return NULL;
	for (int id = 0; id < M_COUNT; id++)
		put_family(out, (enum metric_id)id);
	if (fclose(out) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

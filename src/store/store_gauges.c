/* Counts for the metrics: each an indexed range or a partial index, so a scrape stays cheap at
 * a million hostnames (certificates by not_after since migration 17, due jobs by jobs_due,
 * pending deliveries by their partial index). */
#include "store/store_int.h"

#include "lib/error.h"

#define DAY_US (86400 * (int64_t)1000000)

/* One row of integers from SQL (bound to as many of A, B, C as FMT says) into OUT[0..N). */
static int read_counts(struct sq_conn *c, enum sq_stmt_id id, const char *sql, int64_t *out, int n,
		       const char *fmt, int64_t a, int64_t b, int64_t d)
{
	struct sq_stmt *s = NULL;
	int rc = sq_query(c, id, sql, &s, fmt, a, b, d);

	if (rc == 1)
		for (int i = 0; i < n; i++)
			out[i] = sq_col_is_null(s, i) ? 0 : sq_col_int64(s, i);
	sq_reset(s);
	return rc < 0 ? rc : 0;
}

int store_gauges_read(struct store *st, int64_t now_us, struct store_gauges *out)
{
	struct sq_conn *c = sq_conn_read(st);
	int64_t jobs[2] = {0, 0}, expiring[2] = {0, 0};
	int rc;

	*out = (struct store_gauges){0};
	if (!c)
		return SE_EDB;
	rc = read_counts(c, SQ_GAUGE_JOBS,
			 "SELECT count(*), min(run_at) FROM jobs WHERE run_at <= ?1", jobs, 2, "I",
			 now_us, 0, 0);
	if (rc == 0)
		rc = read_counts(c, SQ_GAUGE_EXPIRING,
				 "SELECT count(CASE WHEN not_after <= ?2 THEN 1 END), count(*) "
				 "FROM certificates WHERE not_after > ?1 AND not_after <= ?3",
				 expiring, 2, "III", now_us, now_us + 7 * DAY_US,
				 now_us + 30 * DAY_US);
	if (rc == 0)
		rc = read_counts(c, SQ_GAUGE_WEBHOOK_BACKLOG,
				 "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'",
				 &out->webhook_backlog, 1, "", 0, 0, 0);
	if (rc == 0)
		rc = store_key_pool_count(st, "rsa", &out->key_pool);
	out->jobs_due = jobs[0];
	out->oldest_due_us = jobs[1];
	out->expiring_7d = expiring[0];
	out->expiring_30d = expiring[1];
	return rc;
}

int store_ca_orders_since(struct store *st, const char *ca, int64_t since_us, int64_t *n)
{
	struct sq_conn *c = sq_conn_read(st);
	struct sq_stmt *s = NULL;
	int rc;

	*n = 0;
	if (!c)
		return SE_EDB;
	rc = sq_query(c, SQ_GAUGE_CA_ORDERS,
		      "SELECT count(*) FROM ca_orders WHERE ca = ?1 AND at > ?2", &s, "tI", ca,
		      since_us);
	if (rc == 1)
		*n = sq_col_int64(s, 0);
	sq_reset(s);
	return rc < 0 ? rc : 0;
}

/* CA order budgets: a sliding window of the orders each CA was sent, one row per order, counted
 * inside the write lock so that every issuer node of the fleet draws on one budget (a CA counts
 * orders per account, and every node uses the same account). The rows older than the window
 * are dropped as the window moves: at most LIMIT rows per CA are kept. */
#include "store/store_int.h"

#include "lib/error.h"

/* When the window has room for N more orders: the time the (COUNT + N - LIMIT)-th oldest order
 * leaves it. */
static int retry_time(struct sq_conn *c, const char *ca, int64_t count, int n, int64_t limit,
		      int64_t window_us, int64_t *retry_at_us)
{
	static const char sql[] = "SELECT at FROM ca_orders WHERE ca = ?1 ORDER BY at LIMIT 1 "
				  "OFFSET ?2";
	struct sq_stmt *s = NULL;
	int64_t skip = count + n - limit - 1;
	int rc;

	if (n > limit) /* never: the caller asks for at most its orders per step */
		return SE_EINVAL;
	rc = sq_query(c, SQ_CA_ORDERS_NTH, sql, &s, "tI", ca, skip);
	if (rc == 1)
		*retry_at_us = sq_col_int64(s, 0) + window_us;
	sq_reset(s);
	return rc < 0 ? rc : 0;
}

int store_ca_orders_take(struct store *st, const char *ca, int n, int64_t limit, int64_t window_us,
			 int64_t now_us, int64_t *retry_at_us)
{
	struct sq_conn *c = sq_conn_get(st);
	struct sq_stmt *s = NULL;
	int64_t count = 0;
	int rc;

	*retry_at_us = now_us;
	if (!c)
		return SE_EDB;
	rc = sq_begin(c);
	if (rc == 0)
		rc = sq_send(c, SQ_CA_ORDERS_PRUNE,
			     "DELETE FROM ca_orders WHERE ca = ?1 AND at <= ?2", "tI", ca,
			     now_us - window_us);
	if (rc == 0) {
		rc = sq_query(c, SQ_CA_ORDERS_COUNT, "SELECT count(*) FROM ca_orders WHERE ca = ?1",
			      &s, "t", ca);
		if (rc == 1)
			count = sq_col_int64(s, 0);
		sq_reset(s);
		rc = rc < 0 ? rc : 0;
	}
	if (rc == 0 && count + n > limit) {
		rc = retry_time(c, ca, count, n, limit, window_us, retry_at_us);
		if (rc == 0)
			rc = SE_EQUOTA;
	}
	for (int i = 0; rc == 0 && i < n; i++)
		rc = sq_send(c, SQ_CA_ORDERS_ADD, "INSERT INTO ca_orders (ca, at) VALUES (?1, ?2)",
			     "tI", ca, now_us);
	rc = rc ? rc : sq_commit(c);
	if (rc)
		sq_rollback(c);
	return rc;
}

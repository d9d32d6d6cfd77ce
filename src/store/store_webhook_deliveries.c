/* The webhook outbox. The dispatcher turns events into deliveries and moves its cursor in one
 * transaction, so an event is turned into deliveries exactly once even when several nodes
 * dispatch; a sender leases the head of a line (one destination, one ordering key), so that a
 * hostname's messages reach a receiver in order, and the attempt count fences a sender whose
 * lease ran out. */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/error.h"

#define DELIVERY_COLUMNS                                                                           \
	"id, event_id, destination_id, account_id, policy_id, policy_name, ordering_key, "         \
	"event_type, payload, status, attempts, next_attempt_at, last_status_code, last_error, "   \
	"created_at, COALESCE(finished_at, 0)"

void store_webhook_delivery_dispose(struct store_webhook_delivery *d)
{
	free(d->payload);
	free(d->secret_sealed);
	d->payload = NULL;
	d->secret_sealed = NULL;
	d->secret_sealed_len = 0;
}

void store_webhook_delivery_list_free(struct store_webhook_delivery *items, size_t n)
{
	if (!items)
		return;
	for (size_t i = 0; i < n; i++)
		store_webhook_delivery_dispose(&items[i]);
	free(items);
}

static int delivery_read(struct sq_stmt *s, struct store_webhook_delivery *out)
{
	memset(out, 0, sizeof(*out));
	out->id = sq_col_int64(s, 0);
	sq_col_copy(s, 1, out->event_id, sizeof(out->event_id));
	sq_col_copy(s, 2, out->destination_id, sizeof(out->destination_id));
	sq_col_copy(s, 3, out->account_id, sizeof(out->account_id));
	sq_col_copy(s, 4, out->policy_id, sizeof(out->policy_id));
	sq_col_copy(s, 5, out->policy_name, sizeof(out->policy_name));
	sq_col_copy(s, 6, out->ordering_key, sizeof(out->ordering_key));
	sq_col_copy(s, 7, out->event_type, sizeof(out->event_type));
	sq_col_copy(s, 9, out->status, sizeof(out->status));
	out->attempts = sq_col_int(s, 10);
	out->next_attempt_us = sq_col_int64(s, 11);
	out->last_status_code = sq_col_int(s, 12);
	sq_col_copy(s, 13, out->last_error, sizeof(out->last_error));
	out->created_at_us = sq_col_int64(s, 14);
	out->finished_at_us = sq_col_int64(s, 15);
	return sq_col_dup(s, 8, &out->payload);
}

int sq_webhook_delivery_insert(struct sq_conn *c, const struct store_webhook_delivery *d)
{
	static const char sql[] =
	    "INSERT INTO webhook_deliveries(event_id, destination_id, account_id, policy_id, "
	    "policy_name, ordering_key, event_type, payload, status, next_attempt_at, created_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9, ?10)";

	return sq_run(c, SQ_WEBHOOK_DELIVERY_INSERT, sql, "ttttttttII", d->event_id,
		      d->destination_id, d->account_id, d->policy_id, d->policy_name,
		      d->ordering_key, d->event_type, d->payload, d->next_attempt_us,
		      d->created_at_us);
}

int store_webhook_cursor_get(struct store *st, int64_t *seq)
{
	struct sq_conn *c = sq_conn_get(st);
	struct sq_stmt *s = NULL;
	int rc;

	*seq = 0;
	if (!c)
		return SE_EDB;
	rc = sq_query(c, SQ_WEBHOOK_CURSOR_GET, "SELECT seq FROM webhook_cursor WHERE id = 1", &s,
		      "");
	if (rc == 1)
		*seq = sq_col_int64(s, 0);
	sq_reset(s);
	return rc == 1 ? 0 : rc == 0 ? SE_EDB : rc;
}

/* The dispatcher's compare-and-set of the cursor: SE_EBUSY when another node moved it first. */
static int cursor_move(struct sq_conn *c, int64_t from_seq, int64_t to_seq)
{
	int rc = sq_run(c, SQ_WEBHOOK_CURSOR_MOVE,
			"UPDATE webhook_cursor SET seq = ?2 WHERE id = 1 AND seq = ?1", "II", from_seq,
			to_seq);

	if (rc == 0 && sq_changes(c) == 0)
		rc = SE_EBUSY;
	return rc;
}

int store_webhook_dispatch(struct store *st, int64_t from_seq, int64_t to_seq,
			   const struct store_webhook_delivery *items, size_t n)
{
	struct sq_conn *c = sq_conn_get(st);
	int rc;

	if (!c)
		return SE_EDB;
	/* Events no policy wants (all of them, where there are no webhooks) only move the cursor:
	 * one statement, its own fence, so every node's dispatcher need not queue on the write
	 * lock several times a second while the issuers are busy (decisions/0026). */
	if (n == 0)
		return cursor_move(c, from_seq, to_seq);
	rc = sq_begin(c);
	if (rc)
		return rc;
	rc = cursor_move(c, from_seq, to_seq);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = sq_webhook_delivery_insert(c, &items[i]);
	if (rc == 0)
		rc = sq_commit(c);
	if (rc)
		sq_rollback(c);
	return rc;
}

/* Heads of lines: due, not leased, and no earlier pending delivery in the same line. */
#define LEASE_SQL(lock)                                                                            \
	"UPDATE webhook_deliveries SET lease_until = ?2, attempts = attempts + 1 WHERE id IN "     \
	"(SELECT d.id FROM webhook_deliveries d WHERE d.status = 'pending' AND "                   \
	"d.next_attempt_at <= ?1 AND d.lease_until < ?1 AND NOT EXISTS (SELECT 1 FROM "            \
	"webhook_deliveries e WHERE e.status = 'pending' AND e.destination_id = "                  \
	"d.destination_id AND e.ordering_key = d.ordering_key AND e.id < d.id) "                   \
	"ORDER BY d.next_attempt_at, d.id LIMIT ?3" lock ") AND status = 'pending' AND "           \
	"lease_until < ?1 RETURNING " DELIVERY_COLUMNS

/* Where D goes: its destination's url and sealed secret. */
static int destination_of(struct sq_conn *c, struct store_webhook_delivery *d)
{
	static const char sql[] = "SELECT url, secret FROM webhook_destinations WHERE id = ?1";
	struct sq_stmt *s = NULL;
	int rc = sq_query(c, SQ_WEBHOOK_DEST_URL, sql, &s, "t", d->destination_id);

	if (rc == 1) {
		sq_col_copy(s, 0, d->url, sizeof(d->url));
		rc = sq_col_blob_dup(s, 1, &d->secret_sealed, &d->secret_sealed_len);
	} else if (rc == 0) {
		rc = SE_ENOTFOUND; /* deleted since: its deliveries went with it */
	}
	sq_reset(s);
	return rc;
}

int store_webhook_delivery_lease(struct store *st, int64_t now_us, int64_t lease_us, size_t max,
				 struct store_webhook_delivery *out, size_t *count)
{
	struct sq_conn *c = sq_conn_get(st);
	struct sq_stmt *s = NULL;
	size_t n = 0, kept = 0;
	int rc, own_statement;

	*count = 0;
	if (!c)
		return SE_EDB;
	/* As a job's lease (store_jobs.c): one statement, which PostgreSQL runs without the
	 * writers' lock, SKIP LOCKED passing over rows another node is leasing. */
	own_statement = c->be->dialect == SQ_POSTGRES;
	rc = own_statement ? 0 : sq_begin(c);
	if (rc)
		return rc;
	for (rc = sq_query(c, SQ_WEBHOOK_LEASE,
			   sq_sql(c, LEASE_SQL(""), LEASE_SQL(" FOR UPDATE SKIP LOCKED")), &s,
			   "III", now_us, now_us + lease_us, (int64_t)max);
	     rc == 1 && n < max; rc = sq_step(c, s, "webhook_lease")) {
		rc = delivery_read(s, &out[n]);
		if (rc)
			break;
		n++;
	}
	sq_reset(s);
	if (rc >= 0 && !own_statement)
		rc = sq_commit(c);
	if (rc < 0) {
		if (!own_statement)
			sq_rollback(c);
		for (size_t i = 0; i < n; i++)
			store_webhook_delivery_dispose(&out[i]);
		return rc;
	}
	/* Leased: a destination gone since takes its deliveries with it, so they are dropped. */
	for (size_t i = 0; i < n; i++) {
		if (destination_of(c, &out[i]) == 0) {
			if (kept != i)
				out[kept] = out[i];
			kept++;
		} else {
			store_webhook_delivery_dispose(&out[i]);
		}
	}
	*count = kept;
	return 0;
}

int store_webhook_delivery_finish(struct store *st, struct store_webhook_result *results, size_t n,
				  int64_t now_us)
{
	static const char upd[] =
	    "UPDATE webhook_deliveries SET status = ?3, next_attempt_at = ?4, lease_until = 0, "
	    "last_status_code = ?5, last_error = CASE WHEN ?3 = 'delivered' THEN last_error "
	    "ELSE ?6 END, finished_at = CASE WHEN ?3 = 'pending' THEN NULL ELSE CAST(?7 AS "
	    "BIGINT) END WHERE id = ?1 AND attempts = ?2 AND status = 'pending'";
	static const char seen[] =
	    "UPDATE webhook_destinations SET last_success = CASE WHEN ?2 = 1 THEN ?3 ELSE "
	    "last_success END, last_failure = CASE WHEN ?2 = 1 THEN last_failure ELSE ?3 END "
	    "WHERE id = ?1";
	struct sq_conn *c = sq_conn_get(st);
	int rc = c ? sq_begin(c) : SE_EDB;

	for (size_t i = 0; i < n && rc == 0; i++) {
		struct store_webhook_result *r = &results[i];
		const struct store_webhook_delivery *d = r->delivery;
		int ok = r->status_code >= 200 && r->status_code < 300;
		const char *status = ok ? "delivered" : r->next_attempt_us ? "pending" : "failed";

		rc = sq_run(c, SQ_WEBHOOK_FINISH, upd, "IitIitI", d->id, d->attempts, status,
			    ok ? now_us : r->next_attempt_us, r->status_code,
			    r->error ? r->error : "", now_us);
		r->lease_lost = rc == 0 && sq_changes(c) == 0;
		if (rc == 0 && !r->lease_lost)
			rc = sq_run(c, SQ_WEBHOOK_DEST_SEEN, seen, "tiI", d->destination_id, ok,
				    now_us);
	}
	if (rc == 0)
		rc = sq_commit(c);
	if (rc && c)
		sq_rollback(c);
	return rc;
}

int store_webhook_delivery_list(struct store *st, const char *account_id, int64_t offset,
				int64_t limit, struct store_webhook_delivery **items, size_t *count,
				int64_t *total)
{
	static const char page[] = "SELECT " DELIVERY_COLUMNS " FROM webhook_deliveries "
				   "WHERE account_id = ?1 ORDER BY id DESC LIMIT ?2 OFFSET ?3";
	struct sq_conn *c = sq_conn_get(st);
	struct sq_stmt *s = NULL;
	struct store_webhook_delivery *arr = NULL;
	size_t n = 0;
	int rc;

	*items = NULL;
	*count = 0;
	*total = 0;
	if (!c)
		return SE_EDB;
	rc = sq_begin_read(c);
	if (rc)
		return rc;
	rc = sq_query(c, SQ_WEBHOOK_COUNT,
		      "SELECT COUNT(*) FROM webhook_deliveries WHERE account_id = ?1", &s, "t",
		      account_id);
	if (rc == 1) {
		*total = sq_col_int64(s, 0);
		rc = 0;
	}
	sq_reset(s);
	if (rc == 0 && limit > 0 && offset < *total) {
		int64_t want = *total - offset < limit ? *total - offset : limit;

		arr = calloc((size_t)want, sizeof(*arr));
		rc = arr ? sq_query(c, SQ_WEBHOOK_PAGE, page, &s, "tII", account_id, want, offset)
			 : SE_ENOMEM;
		while (rc == 1 && (int64_t)n < want) {
			rc = delivery_read(s, &arr[n]);
			if (rc)
				break;
			n++;
			rc = sq_step(c, s, "webhook_delivery_list");
		}
		sq_reset(s);
	}
	if (rc >= 0)
		rc = sq_commit(c);
	if (rc) {
		sq_rollback(c);
		store_webhook_delivery_list_free(arr, n);
		return rc;
	}
	*items = arr;
	*count = n;
	return 0;
}

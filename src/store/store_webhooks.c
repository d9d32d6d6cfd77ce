/* Webhook destinations and notification policies of an account: plain rows that the API writes
 * and the notifier reads. A destination's secret is stored sealed (an empty blob when none);
 * deleting a destination drops what it still had to receive (the deliveries cascade). */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/error.h"

#define DEST_COLUMNS                                                                               \
	"id, account_id, name, url, secret, created_at, COALESCE(last_success, 0), "               \
	"COALESCE(last_failure, 0)"
#define POLICY_COLUMNS                                                                             \
	"id, account_id, name, description, enabled, alert_type, mechanisms, filters, "            \
	"created_at, modified_at"

void store_webhook_destination_dispose(struct store_webhook_destination *d)
{
	free(d->secret_sealed);
	d->secret_sealed = NULL;
	d->secret_sealed_len = 0;
}

void store_webhook_destination_list_free(struct store_webhook_destination *items, size_t n)
{
	if (!items)
		return;
	for (size_t i = 0; i < n; i++)
		store_webhook_destination_dispose(&items[i]);
	free(items);
}

void store_alert_policy_dispose(struct store_alert_policy *p)
{
	free(p->description);
	free(p->mechanisms_json);
	free(p->filters_json);
	p->description = p->mechanisms_json = p->filters_json = NULL;
}

void store_alert_policy_list_free(struct store_alert_policy *items, size_t n)
{
	if (!items)
		return;
	for (size_t i = 0; i < n; i++)
		store_alert_policy_dispose(&items[i]);
	free(items);
}

static int dest_read(struct sq_stmt *s, void *record)
{
	struct store_webhook_destination *out = record;

	memset(out, 0, sizeof(*out));
	sq_col_copy(s, 0, out->id, sizeof(out->id));
	sq_col_copy(s, 1, out->account_id, sizeof(out->account_id));
	sq_col_copy(s, 2, out->name, sizeof(out->name));
	sq_col_copy(s, 3, out->url, sizeof(out->url));
	out->created_at_us = sq_col_int64(s, 5);
	out->last_success_us = sq_col_int64(s, 6);
	out->last_failure_us = sq_col_int64(s, 7);
	return sq_col_blob_dup(s, 4, &out->secret_sealed, &out->secret_sealed_len);
}

static int policy_read(struct sq_stmt *s, void *record)
{
	struct store_alert_policy *out = record;
	int rc;

	memset(out, 0, sizeof(*out));
	sq_col_copy(s, 0, out->id, sizeof(out->id));
	sq_col_copy(s, 1, out->account_id, sizeof(out->account_id));
	sq_col_copy(s, 2, out->name, sizeof(out->name));
	out->enabled = sq_col_int(s, 4);
	sq_col_copy(s, 5, out->alert_type, sizeof(out->alert_type));
	out->created_at_us = sq_col_int64(s, 8);
	out->modified_at_us = sq_col_int64(s, 9);
	rc = sq_col_dup(s, 3, &out->description);
	if (rc == 0)
		rc = sq_col_dup(s, 6, &out->mechanisms_json);
	if (rc == 0)
		rc = sq_col_dup(s, 7, &out->filters_json);
	if (rc)
		store_alert_policy_dispose(out);
	return rc;
}

/* The row of statement ID (SQL, its parameters ACCOUNT_ID and ID) into OUT, a record of SIZE
 * bytes filled by READ. SE_ENOTFOUND when there is none. */
static int read_one(struct store *st, enum sq_stmt_id stmt, const char *sql, const char *account_id,
		    const char *id, size_t size, int (*read)(struct sq_stmt *, void *), void *out)
{
	struct sq_conn *c = sq_conn_get(st);
	struct sq_stmt *s = NULL;
	int rc;

	memset(out, 0, size);
	if (!c)
		return SE_EDB;
	rc = sq_query(c, stmt, sql, &s, "tt", account_id, id);
	if (rc == 0)
		rc = SE_ENOTFOUND;
	else if (rc == 1)
		rc = read(s, out);
	sq_reset(s);
	return rc;
}

/* Every row of the statement ID (SQL, its one parameter ACCOUNT_ID) as records of SIZE bytes
 * filled by READ, into *ITEMS (malloc'd, *COUNT of them); freed with FREE_LIST on failure. */
static int read_rows(struct store *st, enum sq_stmt_id id, const char *sql, const char *account_id,
		     size_t size, int (*read)(struct sq_stmt *, void *),
		     void (*free_list)(void *, size_t), void **items, size_t *count)
{
	struct sq_conn *c = sq_conn_get(st);
	struct sq_stmt *s = NULL;
	char *arr = NULL;
	size_t n = 0, cap = 0;
	int rc;

	*items = NULL;
	*count = 0;
	if (!c)
		return SE_EDB;
	for (rc = sq_query(c, id, sql, &s, "t", account_id); rc == 1;
	     rc = sq_step(c, s, "alerting_list")) {
		if (n == cap) {
			size_t want = cap ? cap * 2 : 8;
			void *grown = realloc(arr, want * size);

			if (!grown) {
				rc = SE_ENOMEM;
				break;
			}
			arr = grown;
			cap = want;
		}
		rc = read(s, arr + n * size);
		if (rc)
			break;
		n++;
	}
	sq_reset(s);
	if (rc < 0) {
		free_list(arr, n);
		return rc;
	}
	*items = arr;
	*count = n;
	return 0;
}

static void free_destinations(void *items, size_t n)
{
	store_webhook_destination_list_free(items, n);
}

static void free_policies(void *items, size_t n)
{
	store_alert_policy_list_free(items, n);
}

int store_webhook_destination_create(struct store *st, const struct store_webhook_destination *d,
				     const struct store_webhook_delivery *test)
{
	static const char ins[] = "INSERT INTO webhook_destinations(id, account_id, name, url, "
				  "secret, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
	struct sq_conn *c = sq_conn_get(st);
	int rc = c ? sq_begin(c) : SE_EDB;

	if (rc == 0)
		rc = sq_run(c, SQ_WEBHOOK_DEST_INSERT, ins, "ttttbI", d->id, d->account_id, d->name,
			    d->url, (const void *)d->secret_sealed, d->secret_sealed_len,
			    d->created_at_us);
	if (rc == 0 && test)
		rc = sq_webhook_delivery_insert(c, test);
	if (rc == 0)
		rc = sq_commit(c);
	if (rc && c)
		sq_rollback(c);
	return rc;
}

int store_webhook_destination_get(struct store *st, const char *account_id, const char *id,
				  struct store_webhook_destination *out)
{
	static const char sql[] = "SELECT " DEST_COLUMNS " FROM webhook_destinations "
				  "WHERE account_id = ?1 AND id = ?2";

	return read_one(st, SQ_WEBHOOK_DEST_GET, sql, account_id, id, sizeof(*out), dest_read, out);
}

int store_webhook_destination_list(struct store *st, const char *account_id,
				   struct store_webhook_destination **items, size_t *count)
{
	static const char sql[] = "SELECT " DEST_COLUMNS " FROM webhook_destinations "
				  "WHERE account_id = ?1 ORDER BY created_at, id";

	return read_rows(st, SQ_WEBHOOK_DEST_LIST, sql, account_id, sizeof(**items), dest_read,
			 free_destinations, (void **)items, count);
}

int store_webhook_destination_update(struct store *st, const struct store_webhook_destination *d)
{
	static const char sql[] = "UPDATE webhook_destinations SET name = ?3, url = ?4, "
				  "secret = CASE WHEN ?6 = 1 THEN ?5 ELSE secret END "
				  "WHERE account_id = ?1 AND id = ?2";

	/* A NULL blob binds as an empty one on PostgreSQL: ?6 says whether to write it. */
	return sq_write_one(st, SQ_WEBHOOK_DEST_UPDATE, sql, "ttttbi", d->account_id, d->id,
			    d->name, d->url, (const void *)d->secret_sealed, d->secret_sealed_len,
			    d->secret_sealed != NULL);
}

int store_webhook_destination_delete(struct store *st, const char *account_id, const char *id)
{
	return sq_write_one(st, SQ_WEBHOOK_DEST_DELETE,
			    "DELETE FROM webhook_destinations WHERE account_id = ?1 AND id = ?2",
			    "tt", account_id, id);
}

int store_alert_policy_create(struct store *st, const struct store_alert_policy *p)
{
	static const char sql[] = "INSERT INTO alert_policies(" POLICY_COLUMNS ") VALUES (?1, ?2, "
				  "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

	return sq_write_one(st, SQ_ALERT_POLICY_INSERT, sql, "ttttitttII", p->id, p->account_id,
			    p->name, p->description, p->enabled, p->alert_type, p->mechanisms_json,
			    p->filters_json, p->created_at_us, p->modified_at_us);
}

int store_alert_policy_get(struct store *st, const char *account_id, const char *id,
			   struct store_alert_policy *out)
{
	static const char sql[] = "SELECT " POLICY_COLUMNS " FROM alert_policies "
				  "WHERE account_id = ?1 AND id = ?2";

	return read_one(st, SQ_ALERT_POLICY_GET, sql, account_id, id, sizeof(*out), policy_read,
			out);
}

int store_alert_policy_list(struct store *st, const char *account_id,
			    struct store_alert_policy **items, size_t *count)
{
	static const char sql[] = "SELECT " POLICY_COLUMNS " FROM alert_policies "
				  "WHERE account_id = ?1 ORDER BY created_at, id";

	return read_rows(st, SQ_ALERT_POLICY_LIST, sql, account_id, sizeof(**items), policy_read,
			 free_policies, (void **)items, count);
}

int store_alert_policy_update(struct store *st, const struct store_alert_policy *p)
{
	static const char sql[] = "UPDATE alert_policies SET name = ?3, description = ?4, "
				  "enabled = ?5, alert_type = ?6, mechanisms = ?7, filters = ?8, "
				  "modified_at = ?9 WHERE account_id = ?1 AND id = ?2";

	return sq_write_one(st, SQ_ALERT_POLICY_UPDATE, sql, "ttttitttI", p->account_id, p->id,
			    p->name, p->description, p->enabled, p->alert_type, p->mechanisms_json,
			    p->filters_json, p->modified_at_us);
}

int store_alert_policy_delete(struct store *st, const char *account_id, const char *id)
{
	return sq_write_one(st, SQ_ALERT_POLICY_DELETE,
			    "DELETE FROM alert_policies WHERE account_id = ?1 AND id = ?2", "tt",
			    account_id, id);
}

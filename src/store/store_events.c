/* The change feed: an append-only table of events whose seq only grows. Writers append inside
 * their own transaction, so an event exists exactly when its change does. */
#include "store/store_int.h"

#include "lib/error.h"
#include "lib/timeutil.h"

#define EVENT_INSERT                                                                               \
	"INSERT INTO events(zone_id, subject_id, kind, hostname, old_status, new_status, "         \
	"created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"

int sq_event_append(struct sq_conn *c, const struct sq_event *ev, int64_t *seq)
{
	struct sq_stmt *s = NULL;
	int rc;

	rc = sq_query(c, SQ_EVENT_INSERT, EVENT_INSERT " RETURNING seq", &s, "ttttttI", ev->zone_id,
		      ev->subject_id, ev->kind, ev->hostname ? ev->hostname : "",
		      ev->old_status ? ev->old_status : "", ev->new_status ? ev->new_status : "",
		      time_now_us());
	if (rc == 1) {
		*seq = sq_col_int64(s, 0);
		rc = 0;
	} else if (rc == 0) {
		rc = SE_EDB;
	}
	sq_reset(s);
	return rc;
}

int sq_event_send(struct sq_conn *c, const struct sq_event *ev)
{
	return sq_send(c, SQ_EVENT_SEND, EVENT_INSERT, "ttttttI", ev->zone_id, ev->subject_id,
		       ev->kind, ev->hostname ? ev->hostname : "",
		       ev->old_status ? ev->old_status : "", ev->new_status ? ev->new_status : "",
		       time_now_us());
}

int store_events_wait(struct store *st, int64_t timeout_us)
{
	struct sq_conn *c = sq_conn_get(st); /* the primary's: a standby cannot LISTEN */

	if (!st->be->wait_notify)
		return SE_EINVAL;
	if (!c)
		return SE_EDB;
	return c->be->wait_notify(c, "saasedge_events", timeout_us);
}

int store_events_since(struct store *st, int64_t after_seq, struct store_event *out, size_t max,
		       size_t *count)
{
	static const char sql[] = "SELECT seq, zone_id, subject_id, kind, hostname, old_status, "
				  "new_status, created_at FROM events WHERE seq > ?1 "
				  "ORDER BY seq LIMIT ?2";
	struct sq_conn *c = sq_conn_read(st);
	struct sq_stmt *s = NULL;
	size_t n = 0;
	int rc;

	*count = 0;
	if (!c)
		return SE_EDB;
	if (max == 0)
		return 0;
	for (rc = sq_query(c, SQ_EVENTS_SINCE, sql, &s, "II", after_seq, (int64_t)max);
	     rc == 1 && n < max; rc = sq_step(c, s, "events_since")) {
		struct store_event *ev = &out[n++];

		ev->seq = sq_col_int64(s, 0);
		sq_col_copy(s, 1, ev->zone_id, sizeof(ev->zone_id));
		sq_col_copy(s, 2, ev->subject_id, sizeof(ev->subject_id));
		sq_col_copy(s, 3, ev->kind, sizeof(ev->kind));
		sq_col_copy(s, 4, ev->hostname, sizeof(ev->hostname));
		sq_col_copy(s, 5, ev->old_status, sizeof(ev->old_status));
		sq_col_copy(s, 6, ev->new_status, sizeof(ev->new_status));
		ev->created_at_us = sq_col_int64(s, 7);
	}
	sq_reset(s);
	if (rc >= 0) {
		*count = n;
		rc = 0;
	}
	return rc;
}

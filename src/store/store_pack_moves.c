/* The one way a certificate pack's status changes after the pack exists: sq_pack_move checks
 * the move against the lifecycle table (src/lifecycle/pack_status.c) inside the caller's write
 * transaction, writes the status, and appends the "ssl.status" event that the edges' change
 * feed and the webhooks read, so a status, its event and whatever else the caller writes (the
 * issuer's state and job) commit together or not at all. */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

#include "lib/error.h"
#include "lib/log.h"
#include "lib/timeutil.h"

int sq_pack_owner_load(struct sq_conn *c, const char *pack_id, struct sq_pack_owner *po)
{
	static const char sql[] =
	    "SELECT h.id, h.zone_id, h.hostname, p.status, h.change_seq FROM cert_packs p "
	    "JOIN hostnames h ON h.id = p.hostname_id WHERE p.id = ?1";
	struct sq_stmt *s = NULL;
	int rc;

	memset(po, 0, sizeof(*po));
	rc = sq_query(c, SQ_CERT_PACK_HOST, sql, &s, "t", pack_id);
	if (rc == 1) {
		sq_col_copy(s, 0, po->hostname_id, sizeof(po->hostname_id));
		sq_col_copy(s, 1, po->zone_id, sizeof(po->zone_id));
		sq_col_copy(s, 2, po->hostname, sizeof(po->hostname));
		sq_col_copy(s, 3, po->status, sizeof(po->status));
		po->change_seq = sq_col_int64(s, 4);
		rc = 0;
	} else if (rc == 0) {
		rc = SE_ENOTFOUND;
	}
	sq_reset(s);
	return rc;
}

int sq_event_and_bump(struct sq_conn *c, const struct sq_event *ev, int64_t *seq)
{
	int rc = seq ? sq_event_append(c, ev, seq) : sq_event_send(c, ev);

	/* The hostname takes the number from the engine's memory of this connection's last
	 * insert, so that nothing waits for it. */
	if (rc == 0)
		rc = sq_send(c, SQ_EVENT_HOST_SEQ, c->be->host_seq_from_event_sql, "t",
			     ev->subject_id);
	return rc;
}

int sq_pack_move_loaded(struct sq_conn *c, const char *pack_id, const struct sq_pack_owner *po,
			enum pack_event ev, int64_t seen_seq, const char *validation_errors_json,
			struct sq_pack_moved *out, int64_t *seq)
{
	static const char upd[] = "UPDATE cert_packs SET status = ?2, validation_errors = "
				  "COALESCE(?3, validation_errors), updated_at = ?4 WHERE id = ?1";
	enum pack_status from, to;
	int rc;

	memset(out, 0, sizeof(*out));
	snprintf(out->from, sizeof(out->from), "%s", po->status);
	snprintf(out->to, sizeof(out->to), "%s", po->status);
	out->seq = po->change_seq;
	if (seen_seq >= 0 && po->change_seq != seen_seq)
		return SE_EBUSY; /* the hostname changed since the caller read it */
	if (pack_status_parse(po->status, &from) || pack_status_next(from, ev, &to)) {
		/* A role asking for a move the table does not have is a bug or a stale worker:
		 * refused, and said so. */
		log_info("msg=\"pack move refused\" hostname=%s pack=%s status=%s event=%s",
			 po->hostname, pack_id, po->status, pack_event_name(ev));
		return SE_EBUSY;
	}
	snprintf(out->to, sizeof(out->to), "%s", pack_status_name(to));
	if (to == from && !validation_errors_json)
		return 0;
	rc = sq_send(c, SQ_PACK_STATUS_SET, upd, "tttI", pack_id, out->to, validation_errors_json,
		     time_now_us());
	if (rc == 0 && to != from) {
		struct sq_event e = {po->zone_id,  po->hostname_id, "ssl.status",
				     po->hostname, out->from,       out->to};

		rc = sq_event_and_bump(c, &e, seq);
		out->moved = rc == 0;
		if (rc == 0 && seq)
			out->seq = *seq;
	}
	return rc;
}

int sq_pack_move(struct sq_conn *c, const char *pack_id, enum pack_event ev, int64_t seen_seq,
		 const char *validation_errors_json, struct sq_pack_moved *out)
{
	struct sq_pack_owner po;
	int64_t seq = 0;
	int rc = sq_pack_owner_load(c, pack_id, &po);

	memset(out, 0, sizeof(*out));
	if (rc)
		return rc;
	return sq_pack_move_loaded(c, pack_id, &po, ev, seen_seq, validation_errors_json, out,
				   &seq);
}

int store_pack_move(struct store *st, const char *pack_id, enum pack_event ev, int64_t seen_seq,
		    const char *validation_errors_json)
{
	struct sq_conn *c = sq_conn_get(st);
	struct sq_pack_moved moved;
	int rc = c ? sq_begin(c) : SE_EDB;

	if (rc == 0)
		rc = sq_pack_move(c, pack_id, ev, seen_seq, validation_errors_json, &moved);
	if (rc == 0)
		rc = sq_commit(c);
	if (rc && c)
		sq_rollback(c);
	return rc;
}

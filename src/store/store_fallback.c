/* A zone's fallback origin: where the edge sends traffic for hostnames without their own
 * custom origin. Each change appends an event with the zone as subject. */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/timeutil.h"

void store_fallback_origin_dispose(struct store_fallback_origin *fo)
{
	free(fo->errors_json);
	fo->errors_json = NULL;
}

int store_fallback_origin_get(struct store *st, const char *zone_id,
			      struct store_fallback_origin *out)
{
	static const char sql[] = "SELECT zone_id, origin, status, errors, created_at, "
				  "updated_at FROM fallback_origins WHERE zone_id = ?1";
	struct sq_conn *c = sq_conn_get(st);
	struct sq_stmt *s = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!c)
		return SE_EDB;
	rc = sq_query(c, SQ_FALLBACK_GET, sql, &s, "t", zone_id);
	if (rc == 0)
		rc = SE_ENOTFOUND;
	if (rc < 0)
		goto out;
	sq_col_copy(s, 0, out->zone_id, sizeof(out->zone_id));
	sq_col_copy(s, 1, out->origin, sizeof(out->origin));
	sq_col_copy(s, 2, out->status, sizeof(out->status));
	out->created_at_us = sq_col_int64(s, 4);
	out->updated_at_us = sq_col_int64(s, 5);
	rc = sq_col_dup(s, 3, &out->errors_json);
out:
	sq_reset(s);
	return rc;
}

/* Copies the stored status and origin (for the event) into OLD; SE_ENOTFOUND when none. */
static int fallback_load_old(struct sq_conn *c, const char *zone_id,
			     struct store_fallback_origin *old)
{
	static const char sql[] = "SELECT status, origin FROM fallback_origins WHERE zone_id = ?1";
	struct sq_stmt *s = NULL;
	int rc;

	rc = sq_query(c, SQ_FALLBACK_STATUS, sql, &s, "t", zone_id);
	if (rc == 1) {
		sq_col_copy(s, 0, old->status, sizeof(old->status));
		sq_col_copy(s, 1, old->origin, sizeof(old->origin));
		rc = 0;
	} else if (rc == 0) {
		rc = SE_ENOTFOUND;
	}
	sq_reset(s);
	return rc;
}

int store_fallback_origin_put(struct store *st, struct store_fallback_origin *fo)
{
	/* created_at survives a replace; RETURNING hands it back for FO. */
	static const char sql[] =
	    "INSERT INTO fallback_origins(zone_id, origin, status, errors, created_at, "
	    "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT(zone_id) DO UPDATE SET "
	    "origin = excluded.origin, status = excluded.status, errors = excluded.errors, "
	    "updated_at = excluded.updated_at RETURNING created_at";
	struct store_fallback_origin old = {.status = ""};
	struct sq_conn *c = sq_conn_get(st);
	struct sq_event ev = {fo->zone_id, fo->zone_id, "fallback_origin.updated",
			      fo->origin,  old.status,  fo->status};
	struct sq_stmt *s = NULL;
	int64_t now = time_now_us(), created = now, seq;
	int rc = c ? sq_begin(c) : SE_EDB;

	if (rc)
		goto out;
	rc = fallback_load_old(c, fo->zone_id, &old);
	if (rc && rc != SE_ENOTFOUND)
		goto out;
	/* A missing zone fails the foreign key: SE_ENOTFOUND from sq_err. */
	rc = sq_query(c, SQ_FALLBACK_UPSERT, sql, &s, "ttttI", fo->zone_id, fo->origin, fo->status,
		      fo->errors_json, now);
	if (rc < 0)
		goto out;
	if (rc == 1)
		created = sq_col_int64(s, 0);
	sq_reset(s);
	s = NULL;
	rc = sq_event_append(c, &ev, &seq);
	if (rc == 0)
		rc = sq_commit(c);
	if (rc == 0) {
		fo->created_at_us = created;
		fo->updated_at_us = now;
	}
out:
	sq_reset(s);
	if (rc)
		sq_rollback(c);
	return rc;
}

int store_fallback_origin_delete(struct store *st, const char *zone_id)
{
	static const char sql[] = "DELETE FROM fallback_origins WHERE zone_id = ?1";
	struct store_fallback_origin old = {.status = ""};
	struct sq_conn *c = sq_conn_get(st);
	struct sq_event ev = {zone_id,    zone_id,    "fallback_origin.deleted",
			      old.origin, old.status, ""};
	int64_t seq;
	int rc = c ? sq_begin(c) : SE_EDB;

	if (rc)
		goto out;
	rc = fallback_load_old(c, zone_id, &old);
	if (rc == 0)
		rc = sq_run(c, SQ_FALLBACK_DELETE, sql, "t", zone_id);
	if (rc == 0)
		rc = sq_event_append(c, &ev, &seq);
	if (rc == 0)
		rc = sq_commit(c);
out:
	if (rc)
		sq_rollback(c);
	return rc;
}

int store_fallback_origins_pending(struct store *st, struct store_fallback_origin *out,
				   size_t max, size_t *n)
{
	static const char sql[] = "SELECT zone_id, origin, status FROM fallback_origins WHERE "
				  "status = 'pending_deployment' ORDER BY updated_at LIMIT ?1";
	struct sq_conn *c = sq_conn_get(st);
	struct sq_stmt *s = NULL;
	int rc;

	*n = 0;
	if (!c)
		return SE_EDB;
	for (rc = sq_query(c, SQ_FALLBACK_PENDING, sql, &s, "I", (int64_t)max); rc == 1 && *n < max;
	     rc = sq_step(c, s, "fallback_pending")) {
		struct store_fallback_origin *fo = &out[(*n)++];

		memset(fo, 0, sizeof(*fo));
		sq_col_copy(s, 0, fo->zone_id, sizeof(fo->zone_id));
		sq_col_copy(s, 1, fo->origin, sizeof(fo->origin));
		sq_col_copy(s, 2, fo->status, sizeof(fo->status));
	}
	sq_reset(s);
	return rc < 0 ? rc : 0;
}

int store_fallback_origin_checked(struct store *st, const char *zone_id, const char *origin,
				  const char *status, const char *errors_json, int *changed)
{
	/* IS DISTINCT FROM: NULL errors compare as a value, so a repeated "no errors" is no
	 * change. */
	static const char sql[] =
	    "UPDATE fallback_origins SET status = ?3, errors = ?4, updated_at = ?5 WHERE "
	    "zone_id = ?1 AND origin = ?2 AND status = 'pending_deployment' AND (status <> ?3 OR "
	    "errors IS DISTINCT FROM ?4)";
	struct sq_conn *c = sq_conn_get(st);
	struct sq_event ev = {zone_id, zone_id, "fallback_origin.updated",
			      origin,  "pending_deployment", status};
	int64_t seq;
	int rc = c ? sq_begin(c) : SE_EDB;

	*changed = 0;
	if (rc == 0)
		rc = sq_run(c, SQ_FALLBACK_CHECKED, sql, "ttttI", zone_id, origin, status,
			    errors_json, time_now_us());
	if (rc == 0 && sq_changes(c) == 0) {
		sq_rollback(c);
		return 0;
	}
	if (rc == 0)
		rc = sq_event_append(c, &ev, &seq);
	if (rc == 0)
		rc = sq_commit(c);
	if (rc)
		sq_rollback(c);
	else
		*changed = 1;
	return rc;
}

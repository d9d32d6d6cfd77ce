/* Email DCV approvals: the issuer records the SHA-256 of each mailed token with its pack, and the
 * API's approval page finds it by that hash and marks it approved. A row belongs to a pack, so
 * deleting the pack (or its hostname) removes it through the foreign key. */
#include "store/store_int.h"

#include <string.h>

#include "lib/error.h"

/* The job kind store_hostnames.c schedules for a hostname's issuance. */
#define HOSTNAME_JOB "hostname"

#define APPROVAL_COLUMNS                                                                           \
	"a.pack_id, p.hostname_id, a.token_sha256, a.names, a.created_at, a.expires_at, "          \
	"COALESCE(a.approved_at, 0) FROM dcv_approvals a JOIN cert_packs p ON p.id = a.pack_id "

static void approval_read(struct sq_stmt *s, struct store_approval *out)
{
	sq_col_copy(s, 0, out->pack_id, sizeof(out->pack_id));
	sq_col_copy(s, 1, out->hostname_id, sizeof(out->hostname_id));
	sq_col_copy(s, 2, out->token_sha256, sizeof(out->token_sha256));
	sq_col_copy(s, 3, out->names, sizeof(out->names));
	out->created_at_us = sq_col_int64(s, 4);
	out->expires_us = sq_col_int64(s, 5);
	out->approved_at_us = sq_col_int64(s, 6);
}

int store_approval_put(struct store *st, const struct store_approval *a)
{
	static const char sql[] =
	    "INSERT INTO dcv_approvals(pack_id, token_sha256, names, created_at, expires_at, "
	    "approved_at) VALUES (?1, ?2, ?3, ?4, ?5, NULL) ON CONFLICT (pack_id) DO UPDATE SET "
	    "token_sha256 = excluded.token_sha256, names = excluded.names, "
	    "created_at = excluded.created_at, expires_at = excluded.expires_at, "
	    "approved_at = NULL";
	struct sq_conn *c;

	if (!a->pack_id[0] || strlen(a->token_sha256) != 64)
		return SE_EINVAL;
	c = sq_conn_get(st);
	if (!c)
		return SE_EDB;
	return sq_run(c, SQ_APPROVAL_PUT, sql, "tttII", a->pack_id, a->token_sha256, a->names,
		      a->created_at_us, a->expires_us);
}

int store_approval_withdraw(struct store *st, const char *pack_id, const char *token_sha256)
{
	static const char sql[] = "DELETE FROM dcv_approvals WHERE pack_id = ?1 AND "
				  "token_sha256 = ?2 AND approved_at IS NULL";
	struct sq_conn *c = sq_conn_get(st);

	return c ? sq_run(c, SQ_APPROVAL_WITHDRAW, sql, "tt", pack_id, token_sha256) : SE_EDB;
}

/* Runs the one-row query ID (SQL) bound to KEY into OUT. */
static int approval_query(struct store *st, enum sq_stmt_id id, const char *sql, const char *key,
			  struct store_approval *out)
{
	struct sq_conn *c = sq_conn_get(st);
	struct sq_stmt *s = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!c)
		return SE_EDB;
	rc = sq_query(c, id, sql, &s, "t", key);
	if (rc == 1) {
		approval_read(s, out);
		rc = 0;
	} else if (rc == 0) {
		rc = SE_ENOTFOUND;
	}
	sq_reset(s);
	return rc;
}

static const char find_sql[] = "SELECT " APPROVAL_COLUMNS "WHERE a.token_sha256 = ?1";

int store_approval_find(struct store *st, const char *token_sha256, struct store_approval *out)
{
	return approval_query(st, SQ_APPROVAL_FIND, find_sql, token_sha256, out);
}

int store_approval_of_pack(struct store *st, const char *pack_id, struct store_approval *out)
{
	static const char sql[] = "SELECT " APPROVAL_COLUMNS "WHERE a.pack_id = ?1";

	return approval_query(st, SQ_APPROVAL_OF_PACK, sql, pack_id, out);
}

int store_approval_approve(struct store *st, const char *token_sha256, int64_t now_us,
			   struct store_approval *out)
{
	static const char approve[] =
	    "UPDATE dcv_approvals SET approved_at = ?2 WHERE token_sha256 = ?1 AND "
	    "approved_at IS NULL AND expires_at > ?2";
	struct store_approval a;
	struct sq_conn *c = sq_conn_get(st);
	struct sq_stmt *s = NULL;
	int rc;

	memset(&a, 0, sizeof(a));
	if (!c)
		return SE_EDB;
	rc = sq_begin(c);
	if (rc)
		return rc;
	rc = sq_run(c, SQ_APPROVAL_APPROVE, approve, "tI", token_sha256, now_us);
	if (rc == 0 && sq_changes(c) == 0)
		rc = SE_ENOTFOUND;
	if (rc == 0) {
		rc = sq_query(c, SQ_APPROVAL_FIND, find_sql, &s, "t", token_sha256);
		if (rc == 1)
			approval_read(s, &a);
		sq_reset(s);
		rc = rc == 1 ? 0 : (rc == 0 ? SE_ENOTFOUND : rc);
	}
	/* The issuer may be waiting minutes before it looks again: go now. */
	if (rc == 0)
		rc = sq_job_schedule(c, HOSTNAME_JOB, a.hostname_id, now_us);
	if (rc == 0)
		rc = sq_commit(c);
	if (rc) {
		sq_rollback(c);
		return rc;
	}
	if (out)
		*out = a;
	return 0;
}

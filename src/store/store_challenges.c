/* DCV challenge responses: the issuer writes what the CA (or saasedge's own check) will ask for,
 * and the edge (http-01) and the dns role (dns-01) answer from here. A row belongs to a pack, so
 * deleting the pack (or its hostname) removes it through the foreign key. */
#include "store/store_int.h"

#include <string.h>

#include "lib/error.h"
#include "lib/timeutil.h"

int store_challenge_put(struct store *st, const struct store_challenge *ch)
{
	static const char sql[] =
	    "INSERT INTO challenges(kind, token, hostname, pack_id, response, expires_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (kind, token) DO UPDATE SET "
	    "hostname = excluded.hostname, pack_id = excluded.pack_id, "
	    "response = excluded.response, expires_at = excluded.expires_at";
	struct sq_conn *c;

	if (!ch->kind[0] || !ch->token[0] || !ch->pack_id[0])
		return SE_EINVAL;
	c = sq_conn_get(st);
	if (!c)
		return SE_EDB;
	return sq_run(c, SQ_CHALLENGE_PUT, sql, "tttttI", ch->kind, ch->token, ch->hostname,
		      ch->pack_id, ch->response, ch->expires_us);
}

int store_challenge_get(struct store *st, const char *kind, const char *token,
			struct store_challenge *out)
{
	static const char sql[] = "SELECT kind, token, hostname, pack_id, response, expires_at "
				  "FROM challenges WHERE kind = ?1 AND token = ?2 AND "
				  "expires_at > ?3";
	struct sq_conn *c = sq_conn_read(st);
	struct sq_stmt *s = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!c)
		return SE_EDB;
	rc = sq_query(c, SQ_CHALLENGE_GET, sql, &s, "ttI", kind, token, time_now_us());
	if (rc == 1) {
		sq_col_copy(s, 0, out->kind, sizeof(out->kind));
		sq_col_copy(s, 1, out->token, sizeof(out->token));
		sq_col_copy(s, 2, out->hostname, sizeof(out->hostname));
		sq_col_copy(s, 3, out->pack_id, sizeof(out->pack_id));
		sq_col_copy(s, 4, out->response, sizeof(out->response));
		out->expires_us = sq_col_int64(s, 5);
		rc = 0;
	} else if (rc == 0) {
		rc = SE_ENOTFOUND;
	}
	sq_reset(s);
	return rc;
}

int store_challenge_delete_pack(struct store *st, const char *pack_id)
{
	struct sq_conn *c = sq_conn_get(st);

	if (!c)
		return SE_EDB;
	return sq_run(c, SQ_CHALLENGE_DELETE_PACK, "DELETE FROM challenges WHERE pack_id = ?1", "t",
		      pack_id);
}

/* Accounts, their zones with hostname counters, and the API tokens that grant access to them. */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

#include "lib/error.h"
#include "lib/ids.h"
#include "lib/timeutil.h"

#define ZONE_COLUMNS                                                                               \
	"id, name, cname_target, quota, hostname_count, created_at, account_id, "                  \
	"COALESCE(hard_cap, quota)"

static void zone_read(struct sq_stmt *s, struct store_zone *out)
{
	sq_col_copy(s, 0, out->id, sizeof(out->id));
	sq_col_copy(s, 1, out->name, sizeof(out->name));
	sq_col_copy(s, 2, out->cname_target, sizeof(out->cname_target));
	out->quota = sq_col_int64(s, 3);
	out->hostname_count = sq_col_int64(s, 4);
	out->created_at_us = sq_col_int64(s, 5);
	sq_col_copy(s, 6, out->account_id, sizeof(out->account_id));
	out->hard_cap = sq_col_int64(s, 7);
}

static void account_read(struct sq_stmt *s, struct store_account *out)
{
	sq_col_copy(s, 0, out->id, sizeof(out->id));
	sq_col_copy(s, 1, out->name, sizeof(out->name));
	out->created_at_us = sq_col_int64(s, 2);
}

int store_account_create(struct store *st, const struct store_account *account)
{
	static const char sql[] = "INSERT INTO accounts(id, name, created_at) VALUES (?1, ?2, ?3)";
	struct sq_conn *c = sq_conn_get(st);

	if (!c)
		return SE_EDB;
	return sq_run(c, SQ_ACCOUNT_INSERT, sql, "ttI", account->id, account->name,
		      account->created_at_us);
}

int store_account_get(struct store *st, const char *id, struct store_account *out)
{
	static const char sql[] = "SELECT id, name, created_at FROM accounts WHERE id = ?1";
	struct sq_conn *c = sq_conn_get(st);
	struct sq_stmt *s = NULL;
	int rc;

	if (!c)
		return SE_EDB;
	rc = sq_query(c, SQ_ACCOUNT_GET, sql, &s, "t", id);
	if (rc == 1)
		account_read(s, out);
	sq_reset(s);
	return rc == 1 ? 0 : rc == 0 ? SE_ENOTFOUND : rc;
}


/* The default account's id into ID (the oldest account; made when there is none), inside the
 * caller's write transaction. */
static int default_account(struct sq_conn *c, char id[33])
{
	static const char oldest[] = "SELECT id FROM accounts ORDER BY created_at, id LIMIT 1";
	static const char insert[] = "INSERT INTO accounts(id, name, created_at) "
				     "VALUES (?1, 'default', ?2)";
	struct sq_stmt *s = NULL;
	int rc = sq_query(c, SQ_ACCOUNT_OLDEST, oldest, &s, "");

	if (rc == 1)
		sq_col_copy(s, 0, id, 33);
	sq_reset(s);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	rc = ids_hex32(id);
	return rc ? rc : sq_run(c, SQ_ACCOUNT_INSERT_DEFAULT, insert, "tI", id, time_now_us());
}

int store_zone_create(struct store *st, struct store_zone *zone)
{
	static const char sql[] = "INSERT INTO zones(id, name, cname_target, quota, "
				  "hostname_count, created_at, account_id, hard_cap) VALUES (?1, ?2, "
				  "?3, ?4, 0, ?5, ?6, ?7)";
	struct sq_conn *c = sq_conn_get(st);
	char account_id[33];
	int rc = c ? sq_begin(c) : SE_EDB;

	snprintf(account_id, sizeof(account_id), "%s", zone->account_id);
	if (rc == 0 && !account_id[0])
		rc = default_account(c, account_id);
	/* A missing account is a foreign-key violation: SE_ENOTFOUND. */
	if (rc == 0)
		rc = sq_run(c, SQ_ZONE_INSERT, sql, "tttIItI", zone->id, zone->name,
			    zone->cname_target, zone->quota, zone->created_at_us, account_id,
			    zone->hard_cap ? zone->hard_cap : zone->quota);
	if (rc == 0)
		rc = sq_commit(c);
	if (rc) {
		sq_rollback(c);
		return rc;
	}
	snprintf(zone->account_id, sizeof(zone->account_id), "%s", account_id);
	return 0;
}

/* Shared by get and find: one row by ID_OR_NAME with the statement SQL. */
static int zone_lookup(struct store *st, enum sq_stmt_id id, const char *sql, const char *arg,
		       struct store_zone *out)
{
	struct sq_conn *c = sq_conn_get(st);
	struct sq_stmt *s = NULL;
	int rc;

	if (!c)
		return SE_EDB;
	rc = sq_query(c, id, sql, &s, "t", arg);
	if (rc == 1) {
		zone_read(s, out);
		rc = 0;
	} else if (rc == 0) {
		rc = SE_ENOTFOUND;
	}
	sq_reset(s);
	return rc;
}

int store_zone_get(struct store *st, const char *zone_id, struct store_zone *out)
{
	return zone_lookup(st, SQ_ZONE_GET, "SELECT " ZONE_COLUMNS " FROM zones WHERE id = ?1",
			   zone_id, out);
}

int store_zone_find_by_name(struct store *st, const char *name, struct store_zone *out)
{
	return zone_lookup(st, SQ_ZONE_FIND, "SELECT " ZONE_COLUMNS " FROM zones WHERE name = ?1",
			   name, out);
}

int store_zone_list_account(struct store *st, const char *account_id, int64_t offset,
			    struct store_zone *out, size_t max, size_t *n, int64_t *total)
{
	static const char list[] = "SELECT " ZONE_COLUMNS " FROM zones WHERE account_id = ?1 "
				   "ORDER BY name, id LIMIT ?2 OFFSET ?3";
	static const char count[] = "SELECT COUNT(*) FROM zones WHERE account_id = ?1";
	struct sq_conn *c = sq_conn_get(st);
	struct sq_stmt *s = NULL;
	int rc;

	*n = 0;
	*total = 0;
	if (!c)
		return SE_EDB;
	/* One read transaction: the count and the page agree. */
	rc = sq_begin_read(c);
	if (rc)
		return rc;
	rc = sq_query(c, SQ_ZONE_COUNT_ACCOUNT, count, &s, "t", account_id);
	if (rc == 1)
		*total = sq_col_int64(s, 0);
	sq_reset(s);
	if (rc >= 0)
		for (rc = sq_query(c, SQ_ZONE_LIST_ACCOUNT, list, &s, "tII", account_id,
				   (int64_t)max, offset);
		     rc == 1 && *n < max; rc = sq_step(c, s, "zone_list_account"))
			zone_read(s, &out[(*n)++]);
	sq_reset(s);
	if (rc < 0) {
		sq_rollback(c);
		return rc;
	}
	return sq_commit(c);
}

int sq_zone_count_add(struct sq_conn *c, const char *zone_id, int delta)
{
	/* The quota check and the increment are one statement: no count of rows, no race. */
	static const char inc[] = "UPDATE zones SET hostname_count = hostname_count + 1 "
				  "WHERE id = ?1 AND hostname_count < COALESCE(hard_cap, quota)";
	static const char dec[] = "UPDATE zones SET hostname_count = hostname_count - 1 "
				  "WHERE id = ?1 AND hostname_count > 0";
	struct sq_stmt *s = NULL;
	int rc;

	if (delta < 0)
		return sq_run(c, SQ_ZONE_COUNT_DEC, dec, "t", zone_id);
	rc = sq_run(c, SQ_ZONE_COUNT_INC, inc, "t", zone_id);
	if (rc || sq_changes(c) > 0)
		return rc;
	/* Nothing changed: either the zone is full or it does not exist. */
	rc = sq_query(c, SQ_ZONE_EXISTS, "SELECT 1 FROM zones WHERE id = ?1", &s, "t", zone_id);
	sq_reset(s);
	if (rc >= 0)
		rc = rc == 1 ? SE_EQUOTA : SE_ENOTFOUND;
	return rc;
}

int store_token_create(struct store *st, const struct store_token *token)
{
	static const char sql[] = "INSERT INTO api_tokens(id, zone_id, account_id, token_sha256, "
				  "email, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
	struct sq_conn *c = sq_conn_get(st);

	if (!c)
		return SE_EDB;
	/* A missing zone or account is a foreign-key violation, which sq_err maps to
	 * SE_ENOTFOUND. */
	return sq_run(c, SQ_TOKEN_INSERT, sql, "tttttI", token->id,
		      token->zone_id[0] ? token->zone_id : NULL,
		      token->account_id[0] ? token->account_id : NULL, token->token_sha256,
		      token->email, token->created_at_us);
}

/* How long a token found stays cached. Tokens are never changed or deleted today; if they ever
 * can be, this bounds how long another node accepts one after that (and the writer must clear
 * its own cache). */
#define TOKEN_CACHE_US (60LL * 1000000)

static int token_cached(struct store *st, const char *token_sha256, struct store_token *out)
{
	int64_t now = time_now_us();
	int found = 0;

	pthread_mutex_lock(&st->tokens_lock);
	for (size_t i = 0; !found && i < SQ_TOKEN_CACHE; i++) {
		if (st->tokens_until_us[i] > now &&
		    strcmp(st->tokens[i].token_sha256, token_sha256) == 0) {
			*out = st->tokens[i];
			found = 1;
		}
	}
	pthread_mutex_unlock(&st->tokens_lock);
	return found;
}

static void token_remember(struct store *st, const struct store_token *t)
{
	pthread_mutex_lock(&st->tokens_lock);
	st->tokens[st->tokens_next] = *t;
	st->tokens_until_us[st->tokens_next] = time_now_us() + TOKEN_CACHE_US;
	st->tokens_next = (st->tokens_next + 1) % SQ_TOKEN_CACHE;
	pthread_mutex_unlock(&st->tokens_lock);
}

int store_token_find(struct store *st, const char *token_sha256, struct store_token *out)
{
	static const char sql[] = "SELECT id, zone_id, token_sha256, email, created_at, "
				  "account_id FROM api_tokens WHERE token_sha256 = ?1";
	struct sq_conn *c = sq_conn_get(st);
	struct sq_stmt *s = NULL;
	int rc;

	if (token_cached(st, token_sha256, out))
		return 0;
	if (!c)
		return SE_EDB;
	rc = sq_query(c, SQ_TOKEN_FIND, sql, &s, "t", token_sha256);
	if (rc == 1) {
		sq_col_copy(s, 0, out->id, sizeof(out->id));
		sq_col_copy(s, 1, out->zone_id, sizeof(out->zone_id));
		sq_col_copy(s, 2, out->token_sha256, sizeof(out->token_sha256));
		sq_col_copy(s, 3, out->email, sizeof(out->email));
		out->created_at_us = sq_col_int64(s, 4);
		sq_col_copy(s, 5, out->account_id, sizeof(out->account_id));
		rc = 0;
	} else if (rc == 0) {
		rc = SE_ENOTFOUND;
	}
	sq_reset(s);
	if (rc == 0)
		token_remember(st, out);
	return rc;
}

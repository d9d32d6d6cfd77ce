/* Private keys at rest. The store only ever sees sealed bytes (lib/secretbox.h) and never logs
 * them: sq_err reports SQLite's message, which does not include bound values. */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/timeutil.h"

int store_private_key_put(struct store *st, const char *key_id, const char *owner_id,
			  const char *key_type, const unsigned char *sealed, size_t sealed_len)
{
	static const char sql[] = "INSERT INTO private_keys(id, owner_id, key_type, sealed, "
				  "created_at) VALUES (?1, ?2, ?3, ?4, ?5)";
	struct sq_conn *c;

	if (!sealed || sealed_len == 0)
		return SE_EINVAL;
	c = sq_conn_get(st);
	if (!c)
		return SE_EDB;
	return sq_run(c, SQ_KEY_INSERT, sql, "tttbI", key_id, owner_id, key_type,
		      (const void *)sealed, sealed_len, time_now_us());
}

int store_private_key_get(struct store *st, const char *key_id, unsigned char **sealed,
			  size_t *sealed_len)
{
	struct sq_conn *c = sq_conn_get(st);
	struct sq_stmt *s = NULL;
	const void *blob;
	size_t n;
	int rc;

	*sealed = NULL;
	*sealed_len = 0;
	if (!c)
		return SE_EDB;
	rc = sq_query(c, SQ_KEY_GET, "SELECT sealed FROM private_keys WHERE id = ?1", &s, "t",
		      key_id);
	if (rc == 0)
		rc = SE_ENOTFOUND;
	if (rc < 0)
		goto out;
	blob = sq_col_blob(s, 0, &n);
	*sealed = malloc(n ? n : 1);
	if (!*sealed) {
		rc = SE_ENOMEM;
		goto out;
	}
	if (n)
		memcpy(*sealed, blob, n);
	*sealed_len = n;
	rc = 0;
out:
	sq_reset(s);
	return rc;
}

int store_private_key_delete(struct store *st, const char *key_id)
{
	struct sq_conn *c = sq_conn_get(st);
	int rc;

	if (!c)
		return SE_EDB;
	rc = sq_run(c, SQ_KEY_DELETE, "DELETE FROM private_keys WHERE id = ?1", "t", key_id);
	if (rc == 0 && sq_changes(c) == 0)
		rc = SE_ENOTFOUND;
	return rc;
}

int store_key_pool_count(struct store *st, const char *key_type, int64_t *count)
{
	static const char sql[] =
	    "SELECT COUNT(*) FROM private_keys WHERE owner_id = '" STORE_KEY_POOL_OWNER
	    "' AND key_type = ?1";
	struct sq_conn *c = sq_conn_get(st);
	struct sq_stmt *s = NULL;
	int rc;

	*count = 0;
	if (!c)
		return SE_EDB;
	rc = sq_query(c, SQ_KEY_POOL_COUNT, sql, &s, "t", key_type);
	if (rc == 1) {
		*count = sq_col_int64(s, 0);
		rc = 0;
	}
	sq_reset(s);
	return rc;
}

/* One statement outside the write lock, so it must hold by itself on PostgreSQL, where claims of
 * several nodes run at once under READ COMMITTED. The subquery picks its row once: without the
 * second owner test, a claim that waited for another's lock on that row would take the key the
 * other had just claimed (the row still has the id it looked for), and two packs would share one
 * private key. SKIP LOCKED makes a claim pass over a key another is taking instead of waiting
 * for it. SQLite runs one writer at a time and has no row locks. */
#define KEY_POOL_CLAIM_SQL(lock)                                                               \
	"UPDATE private_keys SET owner_id = ?2 WHERE id = "                                    \
	"(SELECT id FROM private_keys WHERE owner_id = '" STORE_KEY_POOL_OWNER                 \
	"' AND key_type = ?1 LIMIT 1" lock ") AND owner_id = '" STORE_KEY_POOL_OWNER "' "      \
	"RETURNING id"

int store_key_pool_claim(struct store *st, const char *key_type, const char *owner_id,
			 char key_id[37])
{
	struct sq_conn *c = sq_conn_get(st);
	struct sq_stmt *s = NULL;
	int rc;

	key_id[0] = '\0';
	if (!c)
		return SE_EDB;
	rc = sq_query(c, SQ_KEY_POOL_CLAIM,
		      sq_sql(c, KEY_POOL_CLAIM_SQL(""), KEY_POOL_CLAIM_SQL(" FOR UPDATE SKIP LOCKED")),
		      &s, "tt", key_type, owner_id);
	if (rc == 1) {
		sq_col_copy(s, 0, key_id, 37);
		rc = 0;
	} else if (rc == 0) {
		rc = SE_ENOTFOUND;
	}
	sq_reset(s);
	return rc;
}

int sq_keys_delete_for_hostname(struct sq_conn *c, const char *hostname_id)
{
	static const char sql[] = "DELETE FROM private_keys WHERE owner_id IN "
				  "(SELECT id FROM cert_packs WHERE hostname_id = ?1)";

	return sq_run(c, SQ_KEYS_DELETE_FOR_HOSTNAME, sql, "t", hostname_id);
}

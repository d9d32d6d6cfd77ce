/* TLS session-ticket keys: appended by whichever edge rotates first, read by every edge. The
 * store only sees sealed bytes. */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/error.h"

int store_ticket_key_put(struct store *st, const struct store_ticket_key *key)
{
	static const char sql[] =
	    "INSERT INTO ticket_keys(name, sealed, created_at) VALUES (?1, ?2, ?3)";
	static const char prune[] = "DELETE FROM ticket_keys WHERE id <= "
				    "(SELECT MAX(id) FROM ticket_keys) - ?1";
	struct sq_conn *c = sq_conn_get(st);
	int rc;

	if (!c)
		return SE_EDB;
	if (!key->sealed || !key->sealed_len || strlen(key->name) != 32)
		return SE_EINVAL;
	rc = sq_run(c, SQ_TICKET_KEY_INSERT, sql, "tbI", key->name, (const void *)key->sealed,
		    key->sealed_len, key->created_at_us);
	/* Rotation appends forever: keys far older than any edge still decrypts with go. A failed
	 * prune only leaves a few rows for the next rotation. */
	if (rc == 0)
		sq_run(c, SQ_TICKET_KEYS_PRUNE, prune, "I", (int64_t)STORE_TICKET_KEYS_KEPT);
	return rc;
}

static int read_key(struct sq_stmt *s, struct store_ticket_key *k)
{
	size_t n = 0;
	const void *blob = sq_col_blob(s, 1, &n);

	memset(k, 0, sizeof(*k));
	sq_col_copy(s, 0, k->name, sizeof(k->name));
	k->created_at_us = sq_col_int64(s, 2);
	k->sealed = malloc(n ? n : 1);
	if (!k->sealed)
		return SE_ENOMEM;
	if (n)
		memcpy(k->sealed, blob, n);
	k->sealed_len = n;
	return 0;
}

int store_ticket_keys_recent(struct store *st, struct store_ticket_key *out, size_t max,
			     size_t *count)
{
	static const char sql[] = "SELECT name, sealed, created_at FROM ticket_keys "
				  "ORDER BY id DESC LIMIT ?1";
	struct sq_conn *c = sq_conn_read(st);
	struct sq_stmt *s = NULL;
	size_t n = 0;
	int rc;

	*count = 0;
	if (!c)
		return SE_EDB;
	for (rc = sq_query(c, SQ_TICKET_KEYS_RECENT, sql, &s, "I", (int64_t)max);
	     rc == 1 && n < max; rc = sq_step(c, s, "ticket_keys")) {
		rc = read_key(s, &out[n]);
		if (rc)
			break;
		n++;
	}
	sq_reset(s);
	if (rc < 0) {
		for (size_t i = 0; i < n; i++)
			free(out[i].sealed);
		return rc;
	}
	*count = n;
	return 0;
}

/* The internal CA's files in the store: every issuer node of a fleet reads the same CA from the
 * database instead of making its own (docs/decisions/0029). The first node to offer a set wins,
 * under the write lock; its files are never replaced afterwards. */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/error.h"

static void files_free(unsigned char **data, size_t *len, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(data[i]);
		data[i] = NULL;
		len[i] = 0;
	}
}

/* NAME's data from the store: 0, SE_ENOTFOUND, or an error. */
static int file_get(struct sq_conn *c, const char *name, unsigned char **data, size_t *len)
{
	struct sq_stmt *s = NULL;
	const void *p;
	size_t n = 0;
	int rc = sq_query(c, SQ_CA_FILE_GET, "SELECT data FROM internal_ca_files WHERE name = ?1",
			  &s, "t", name);

	if (rc == 0)
		rc = SE_ENOTFOUND;
	if (rc == 1) {
		p = sq_col_blob(s, 0, &n);
		*data = n ? malloc(n) : NULL;
		rc = *data ? 0 : n ? SE_ENOMEM : SE_EIO;
		if (rc == 0) {
			memcpy(*data, p, n);
			*len = n;
		}
	}
	sq_reset(s);
	return rc;
}

int store_ca_files_get(struct store *st, const char *const *names, unsigned char **data,
		       size_t *len, size_t n)
{
	struct sq_conn *c = sq_conn_get(st);
	size_t found = 0;
	int rc = c ? 0 : SE_EDB;

	for (size_t i = 0; i < n; i++) {
		data[i] = NULL;
		len[i] = 0;
	}
	/* One snapshot, so that a set being offered is seen whole or not at all. */
	if (rc == 0)
		rc = sq_begin_read(c);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = file_get(c, names[i], &data[i], &len[i]);
		if (rc == 0)
			found++;
		else if (rc == SE_ENOTFOUND)
			rc = 0;
	}
	if (rc == 0)
		rc = sq_commit(c);
	else if (c)
		sq_rollback(c);
	if (rc == 0 && found != n)
		rc = found ? SE_EIO : SE_ENOTFOUND;
	if (rc)
		files_free(data, len, n);
	return rc;
}

int store_ca_files_offer(struct store *st, const char *const *names, unsigned char *const *data,
			 const size_t *len, size_t n)
{
	struct sq_conn *c = sq_conn_get(st);
	struct sq_stmt *s = NULL;
	int rc = c ? sq_begin(c) : SE_EDB;

	if (rc == 0) {
		rc =
		    sq_query(c, SQ_CA_FILES_ANY, "SELECT 1 FROM internal_ca_files LIMIT 1", &s, "");
		sq_reset(s);
		if (rc == 1)
			rc = SE_EEXISTS;
	}
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = sq_send(c, SQ_CA_FILE_PUT,
			     "INSERT INTO internal_ca_files (name, data) VALUES (?1, ?2)", "tb",
			     names[i], data[i], len[i]);
	if (rc == 0)
		rc = sq_commit(c);
	if (rc && c)
		sq_rollback(c);
	return rc;
}

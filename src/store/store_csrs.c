/* Custom CSRs: the request a customer takes to its CA, and the key that stays here. The CSR row
 * and its sealed key are written and removed together; a key still used by a certificate keeps
 * its CSR (Cloudflare's 1420). */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/error.h"

#define CSR_COLUMNS                                                                                \
	"id, zone_id, account_id, key_id, key_type, common_name, country, state, locality, "       \
	"organization, organizational_unit, sans, csr, name, description, created_at"
/* A CSR of the zone or account ?1 (callers name one or the other). */
#define OWNED_BY_1 "(zone_id = ?1 OR account_id = ?1)"

void store_csr_dispose(struct store_csr *c)
{
	free(c->sans_json);
	free(c->csr_pem);
	free(c->name);
	free(c->description);
	c->sans_json = NULL;
	c->csr_pem = NULL;
	c->name = NULL;
	c->description = NULL;
}

void store_csr_list_free(struct store_csr *items, size_t n)
{
	if (!items)
		return;
	for (size_t i = 0; i < n; i++)
		store_csr_dispose(&items[i]);
	free(items);
}

/* Fills OUT (zeroed first) from a row of CSR_COLUMNS; SE_ENOMEM leaves OUT disposed. */
static int csr_read(struct sq_stmt *s, struct store_csr *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	sq_col_copy(s, 0, out->id, sizeof(out->id));
	sq_col_copy(s, 1, out->zone_id, sizeof(out->zone_id));
	sq_col_copy(s, 2, out->account_id, sizeof(out->account_id));
	sq_col_copy(s, 3, out->key_id, sizeof(out->key_id));
	sq_col_copy(s, 4, out->key_type, sizeof(out->key_type));
	sq_col_copy(s, 5, out->common_name, sizeof(out->common_name));
	sq_col_copy(s, 6, out->country, sizeof(out->country));
	sq_col_copy(s, 7, out->state, sizeof(out->state));
	sq_col_copy(s, 8, out->locality, sizeof(out->locality));
	sq_col_copy(s, 9, out->organization, sizeof(out->organization));
	sq_col_copy(s, 10, out->organizational_unit, sizeof(out->organizational_unit));
	out->created_at_us = sq_col_int64(s, 15);
	rc = sq_col_dup(s, 11, &out->sans_json);
	if (rc == 0)
		rc = sq_col_dup(s, 12, &out->csr_pem);
	if (rc == 0)
		rc = sq_col_dup(s, 13, &out->name);
	if (rc == 0)
		rc = sq_col_dup(s, 14, &out->description);
	if (rc)
		store_csr_dispose(out);
	return rc;
}

int store_csr_create(struct store *st, const struct store_csr *csr, const char *key_type,
		     const unsigned char *sealed_key, size_t sealed_len)
{
	static const char ins_key[] = "INSERT INTO private_keys(id, owner_id, key_type, sealed, "
				      "created_at) VALUES (?1, ?2, ?3, ?4, ?5)";
	static const char ins_csr[] = "INSERT INTO custom_csrs(" CSR_COLUMNS ") VALUES (?1, ?2, "
				      "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";
	struct sq_conn *c;
	int rc;

	if (!sealed_key || !sealed_len || !csr->sans_json || !csr->csr_pem)
		return SE_EINVAL;
	c = sq_conn_get(st);
	rc = c ? sq_begin(c) : SE_EDB;
	if (rc == 0)
		rc = sq_run(c, SQ_CSR_KEY_INSERT, ins_key, "tttbI", csr->key_id, csr->id, key_type,
			    (const void *)sealed_key, sealed_len, csr->created_at_us);
	if (rc == 0)
		rc = sq_run(c, SQ_CSR_INSERT, ins_csr, "tttttttttttttttI", csr->id,
			    csr->zone_id[0] ? csr->zone_id : NULL,
			    csr->account_id[0] ? csr->account_id : NULL, csr->key_id, csr->key_type, csr->common_name, csr->country, csr->state,
			    csr->locality, csr->organization, csr->organizational_unit,
			    csr->sans_json, csr->csr_pem, csr->name, csr->description,
			    csr->created_at_us);
	if (rc == 0)
		rc = sq_commit(c);
	if (rc && c)
		sq_rollback(c);
	return rc;
}

int store_csr_get(struct store *st, const char *owner_id, const char *id, struct store_csr *out)
{
	static const char sql[] =
	    "SELECT " CSR_COLUMNS " FROM custom_csrs WHERE " OWNED_BY_1 " AND id = ?2";
	struct sq_conn *c = sq_conn_get(st);
	struct sq_stmt *s = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!c)
		return SE_EDB;
	rc = sq_query(c, SQ_CSR_GET, sql, &s, "tt", owner_id, id);
	if (rc == 0)
		rc = SE_ENOTFOUND;
	else if (rc == 1)
		rc = csr_read(s, out);
	sq_reset(s);
	return rc;
}

static int csr_count(struct sq_conn *c, const char *owner_id, int64_t *total)
{
	struct sq_stmt *s = NULL;
	int rc;

	rc = sq_query(c, SQ_CSR_COUNT, "SELECT COUNT(*) FROM custom_csrs WHERE " OWNED_BY_1, &s,
		      "t", owner_id);
	if (rc == 1) {
		*total = sq_col_int64(s, 0);
		rc = 0;
	}
	sq_reset(s);
	return rc;
}

static int csr_page(struct sq_conn *c, const char *owner_id, int descending, int64_t offset,
		    int64_t limit, struct store_csr *arr, size_t *n)
{
	static const char asc[] = "SELECT " CSR_COLUMNS " FROM custom_csrs WHERE " OWNED_BY_1 " "
				  "ORDER BY rid LIMIT ?2 OFFSET ?3";
	static const char desc[] = "SELECT " CSR_COLUMNS " FROM custom_csrs WHERE " OWNED_BY_1 " "
				   "ORDER BY rid DESC LIMIT ?2 OFFSET ?3";
	struct sq_stmt *s = NULL;
	int rc;

	rc = sq_query(c, descending ? SQ_CSR_PAGE_DESC : SQ_CSR_PAGE_ASC, descending ? desc : asc,
		      &s, "tII", owner_id, limit, offset);
	while (rc == 1 && (int64_t)*n < limit) {
		rc = csr_read(s, &arr[*n]);
		if (rc)
			break;
		(*n)++;
		rc = sq_step(c, s, "csr_list");
	}
	sq_reset(s);
	return rc < 0 ? rc : 0;
}

int store_csr_list(struct store *st, const char *owner_id, int descending, int64_t offset,
		   int64_t limit, struct store_csr **items, size_t *count, int64_t *total)
{
	struct sq_conn *c = sq_conn_get(st);
	struct store_csr *arr = NULL;
	size_t n = 0;
	int rc;

	*items = NULL;
	*count = 0;
	*total = 0;
	if (!c)
		return SE_EDB;
	rc = sq_begin_read(c);
	if (rc)
		return rc;
	rc = csr_count(c, owner_id, total);
	if (rc == 0 && limit > 0 && offset < *total) {
		int64_t want = *total - offset < limit ? *total - offset : limit;

		arr = calloc((size_t)want, sizeof(*arr));
		rc = arr ? csr_page(c, owner_id, descending, offset, want, arr, &n) : SE_ENOMEM;
	}
	if (rc == 0)
		rc = sq_commit(c);
	if (rc) {
		sq_rollback(c);
		store_csr_list_free(arr, n);
		return rc;
	}
	*items = arr;
	*count = n;
	return 0;
}

int store_csr_delete(struct store *st, const char *owner_id, const char *id)
{
	static const char in_use[] = "SELECT EXISTS (SELECT 1 FROM certificates WHERE "
				     "private_key_id = (SELECT key_id FROM custom_csrs WHERE "
				     OWNED_BY_1 " AND id = ?2))";
	static const char del_key[] = "DELETE FROM private_keys WHERE id = (SELECT key_id FROM "
				      "custom_csrs WHERE " OWNED_BY_1 " AND id = ?2)";
	struct sq_conn *c = sq_conn_get(st);
	struct sq_stmt *s = NULL;
	int rc = c ? sq_begin(c) : SE_EDB;

	if (rc == 0) {
		rc = sq_query(c, SQ_CSR_IN_USE, in_use, &s, "tt", owner_id, id);
		if (rc == 1)
			rc = sq_col_int(s, 0) ? SE_EBUSY : 0;
		sq_reset(s);
	}
	if (rc == 0)
		rc = sq_run(c, SQ_CSR_KEY_DELETE, del_key, "tt", owner_id, id);
	if (rc == 0)
		rc = sq_run(c, SQ_CSR_DELETE,
			    "DELETE FROM custom_csrs WHERE " OWNED_BY_1 " AND id = ?2", "tt", owner_id,
			    id);
	if (rc == 0 && sq_changes(c) == 0)
		rc = SE_ENOTFOUND;
	if (rc == 0)
		rc = sq_commit(c);
	if (rc && c)
		sq_rollback(c);
	return rc;
}

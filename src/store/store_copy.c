/* Copying a whole store into an empty one of the other engine (`saasedge store copy`): moving
 * a single machine's SQLite store to PostgreSQL when it grows into a fleet. Rows are copied as
 * they are, private keys still sealed (the master key is not needed and never read). What the
 * target's triggers derive (each hostname's ssl_status, the per-status counts) is left for them
 * to rebuild from the copied rows; the edges table, which only says who is running now, is not
 * copied. */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

#include "lib/error.h"
#include "lib/log.h"

/* Bit I of a table's blobs: column I (0-based) holds bytes. */
#define BLOB(i) (1u << (i))

/* Parents before children (foreign keys), with every column both engines have. A blob column
 * travels as bytes; every other value as its text, which each engine converts to the column's
 * type. cert_packs.rowid is SQLite's implicit rowid and PostgreSQL's BIGSERIAL. */
static const struct copied_table {
	const char *name;
	const char *columns;
	unsigned blobs;     /* BLOB(i) for each blob column */
	const char *serial; /* the column a PostgreSQL sequence feeds, NULL for none */
} tables[] = {
    {"accounts", "id, name, created_at", 0, NULL},
    {"zones",
     "id, name, cname_target, quota, hostname_count, created_at, list_version, account_id, "
     "hard_cap",
     0, NULL},
    {"api_tokens", "id, zone_id, account_id, token_sha256, email, created_at", 0, NULL},
    {"hostnames",
     "rid, id, zone_id, hostname, status, ownership_token, custom_metadata, "
     "custom_origin_server, custom_origin_sni, verification_errors, ssl_enabled, ssl_pack_id, "
     "ssl_method, ssl_type, ssl_bundle_method, ssl_ca, ssl_wildcard, ssl_settings, created_at, "
     "updated_at, change_seq",
     0, "rid"},
    {"cert_packs",
     "rowid, id, hostname_id, status, certificate_authority, validation_records, "
     "validation_errors, created_at, updated_at, custom, uploaded_on, custom_csr_id",
     0, "rowid"},
    {"certificates",
     "id, pack_id, key_type, leaf, chain, serial, not_before, not_after, private_key_id, "
     "created_at, issuer, serial_decimal, signature, fingerprint_sha256, hosts",
     BLOB(3) | BLOB(4), NULL},
    {"private_keys", "id, owner_id, key_type, sealed, created_at", BLOB(3), NULL},
    {"jobs",
     "id, kind, subject_id, run_at, attempts, lease_owner, lease_token, lease_until, "
     "last_error, created_at, payload",
     0, "id"},
    {"fallback_origins", "zone_id, origin, status, errors, created_at, updated_at", 0, NULL},
    {"events", "seq, zone_id, subject_id, kind, hostname, old_status, new_status, created_at", 0,
     "seq"},
    {"challenges", "kind, token, hostname, pack_id, response, expires_at", 0, NULL},
    {"acme_accounts", "ca, key_id, kid, created_at", 0, NULL},
    {"issuance_state", "pack_id, state, updated_at", 0, NULL},
    {"custom_csrs",
     "rid, id, zone_id, account_id, key_id, key_type, common_name, country, state, locality, "
     "organization, organizational_unit, sans, csr, name, description, created_at",
     0, "rid"},
    {"ticket_keys", "id, name, sealed, created_at", BLOB(2), "id"},
    {"dcv_approvals", "pack_id, token_sha256, names, created_at, expires_at, approved_at", 0, NULL},
    {"dns_records", "label, value, pack_id, expires_at", 0, NULL},
    {"ca_orders", "id, ca, at", 0, "id"},
    {"internal_ca_files", "name, data", BLOB(1), NULL},
};

#define N_TABLES  (sizeof(tables) / sizeof(tables[0]))
#define MAX_COLS  24
#define SQL_BYTES 1024

/* Binds column I of SRC's row as parameter I + 1 of DST. */
static int copy_cell(struct sq_stmt *src, struct sq_stmt *dst, int i, int blob)
{
	size_t n = 0;
	const void *p;

	if (sq_col_is_null(src, i))
		return sq_bind_text(dst, i + 1, NULL);
	if (!blob)
		return sq_bind_text(dst, i + 1, sq_col_text(src, i));
	p = sq_col_blob(src, i, &n);
	return sq_bind_blob(dst, i + 1, p ? p : "", n);
}

static int count_columns(const char *columns)
{
	int n = 1;

	for (const char *p = columns; *p; p++)
		n += *p == ',';
	return n;
}

static int copy_table(struct sq_conn *from, struct sq_conn *to, const struct copied_table *t,
		      int64_t *rows)
{
	char select[SQL_BYTES], insert[SQL_BYTES];
	struct sq_stmt *src = NULL, *dst = NULL;
	int ncols = count_columns(t->columns);
	size_t len;
	int rc;

	*rows = 0;
	if (ncols > MAX_COLS)
		return SE_EINVAL;
	snprintf(select, sizeof(select), "SELECT %s FROM %s", t->columns, t->name);
	len = (size_t)snprintf(insert, sizeof(insert), "INSERT INTO %s(%s) VALUES (", t->name,
			       t->columns);
	for (int i = 0; i < ncols && len < sizeof(insert); i++)
		len += (size_t)snprintf(insert + len, sizeof(insert) - len, "%s?%d%s",
					i ? ", " : "", i + 1, i == ncols - 1 ? ")" : "");
	if (len >= sizeof(insert))
		return SE_EINVAL;
	rc = from->be->prepare(from, select, &src);
	if (rc == 0)
		rc = to->be->prepare(to, insert, &dst);
	for (rc = rc ? rc : sq_step(from, src, select); rc == 1; rc = sq_step(from, src, select)) {
		int err = 0;

		for (int i = 0; i < ncols && err == 0; i++)
			err = copy_cell(src, dst, i, (t->blobs & BLOB(i)) != 0);
		if (err == 0 && (err = sq_step(to, dst, insert)) > 0)
			err = 0; /* an INSERT returns no row */
		sq_reset(dst);
		if (err) {
			rc = err;
			break;
		}
		(*rows)++;
	}
	if (dst)
		to->be->finalize(dst);
	if (src)
		from->be->finalize(src);
	return rc < 0 ? rc : 0;
}

/* The next value of each PostgreSQL sequence follows the highest copied id. */
static int advance_sequences(struct sq_conn *to)
{
	char sql[256];
	int rc = 0;

	if (to->be->dialect != SQ_POSTGRES)
		return 0;
	for (size_t i = 0; i < N_TABLES && rc == 0; i++) {
		if (!tables[i].serial)
			continue;
		snprintf(sql, sizeof(sql),
			 "SELECT setval(pg_get_serial_sequence('%s', '%s'), "
			 "COALESCE((SELECT MAX(%s) FROM %s), 0) + 1, false)",
			 tables[i].name, tables[i].serial, tables[i].serial, tables[i].name);
		rc = to->be->exec(to, sql, "store copy sequences");
	}
	return rc;
}

/* SE_EEXISTS unless TO holds no zone: copying merges nothing. */
static int target_empty(struct sq_conn *to)
{
	struct sq_stmt *s = NULL;
	int rc = to->be->prepare(to, "SELECT COUNT(*) FROM zones", &s);

	if (rc == 0)
		rc = sq_step(to, s, "store copy");
	if (rc == 1)
		rc = sq_col_int64(s, 0) == 0 ? 0 : SE_EEXISTS;
	if (s)
		to->be->finalize(s);
	return rc;
}

int store_copy(struct store *from, struct store *to, store_copy_progress_fn progress, void *arg)
{
	struct sq_conn *src = sq_conn_get(from);
	struct sq_conn *dst = sq_conn_get(to);
	int rc = src && dst ? 0 : SE_EDB;

	/* One snapshot of the source, one transaction on the target: all of it or nothing. */
	if (rc == 0)
		rc = sq_begin_read(src);
	if (rc == 0)
		rc = sq_begin(dst);
	if (rc == 0)
		rc = target_empty(dst);
	for (size_t i = 0; i < N_TABLES && rc == 0; i++) {
		int64_t rows = 0;

		rc = copy_table(src, dst, &tables[i], &rows);
		if (rc == 0 && progress)
			progress(arg, tables[i].name, rows);
	}
	if (rc == 0)
		rc = advance_sequences(dst);
	if (rc == 0)
		rc = sq_commit(dst);
	sq_rollback(dst);
	sq_rollback(src);
	return rc;
}

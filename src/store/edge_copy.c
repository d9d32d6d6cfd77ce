/* The edge's local copy in one SQLite file, one connection behind a mutex: the edge writes it
 * from one thread, in batches, so it is not contended. synchronous=NORMAL in WAL mode:
 * a power cut may lose the last writes, which only makes the copy older, and the change feed
 * catches it up from its saved position. */
#include "store/edge_copy.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/log.h"

#define FORGOTTEN_KEPT_S 300
#define STATEMENTS_KEPT	 24 /* more than this file has */

/* A statement prepared once and kept: a lookup's put runs several, and preparing them anew
 * each time cost more than running them. */
struct kept_statement {
	const char *sql;
	sqlite3_stmt *stmt;
};

struct edge_copy {
	pthread_mutex_t lock;
	sqlite3 *db;
	struct kept_statement kept[STATEMENTS_KEPT];
};

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS entries ("
    " name TEXT PRIMARY KEY, hostname_id TEXT NOT NULL, zone_id TEXT NOT NULL,"
    " hostname TEXT NOT NULL, settings_json TEXT, custom_origin_server TEXT NOT NULL,"
    " custom_origin_sni TEXT NOT NULL, fallback_origin TEXT NOT NULL,"
    " ownership_token TEXT NOT NULL, pack_id TEXT NOT NULL, pack_status TEXT NOT NULL,"
    " change_seq INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS entry_certs ("
    " name TEXT NOT NULL REFERENCES entries(name) ON DELETE CASCADE, slot INTEGER NOT NULL,"
    " id TEXT NOT NULL, pack_id TEXT NOT NULL, key_type TEXT NOT NULL,"
    " private_key_id TEXT NOT NULL, serial TEXT NOT NULL, leaf BLOB NOT NULL, chain BLOB,"
    " not_before INTEGER NOT NULL, not_after INTEGER NOT NULL, created_at INTEGER NOT NULL,"
    " sealed_key BLOB, PRIMARY KEY (name, slot));"
    "CREATE TABLE IF NOT EXISTS position (seq INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS forgotten (name TEXT PRIMARY KEY, seq INTEGER NOT NULL,"
    " at INTEGER NOT NULL);"
    "PRAGMA foreign_keys=ON;";

static int copy_err(struct edge_copy *ec, const char *op)
{
	log_error("edge_copy op=%s detail=\"%s\"", op, sqlite3_errmsg(ec->db));
	return SE_EDB;
}

int edge_copy_open(const char *path, struct edge_copy **out)
{
	struct edge_copy *ec = calloc(1, sizeof(*ec));
	int fd;

	*out = NULL;
	if (!ec)
		return SE_ENOMEM;
	pthread_mutex_init(&ec->lock, NULL);
	/* Created here so that it is the owner's alone (its -wal and -shm take its mode). */
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_error("edge_copy op=open path=%s detail=\"%s\"", path, strerror(errno));
		edge_copy_close(ec);
		return SE_EIO;
	}
	close(fd);
	if (sqlite3_open_v2(path, &ec->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
		SQLITE_OK ||
	    sqlite3_busy_timeout(ec->db, 5000) != SQLITE_OK ||
	    sqlite3_exec(ec->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		int rc = ec->db ? copy_err(ec, "open") : SE_ENOMEM;

		edge_copy_close(ec);
		return rc;
	}
	*out = ec;
	return 0;
}

void edge_copy_close(struct edge_copy *ec)
{
	if (!ec)
		return;
	for (size_t i = 0; i < STATEMENTS_KEPT; i++)
		sqlite3_finalize(ec->kept[i].stmt);
	sqlite3_close(ec->db);
	pthread_mutex_destroy(&ec->lock);
	free(ec);
}

/* ---- statements ---------------------------------------------------------------------------- */

/* *S = SQL's statement, prepared on first use and kept; done() hands it back. */
static int prepare(struct edge_copy *ec, const char *sql, sqlite3_stmt **s)
{
	struct kept_statement *k = ec->kept;

	while (k < ec->kept + STATEMENTS_KEPT && k->sql && strcmp(k->sql, sql) != 0)
		k++;
	if (k == ec->kept + STATEMENTS_KEPT) /* a statement added without raising the bound */
		return sqlite3_prepare_v2(ec->db, sql, -1, s, NULL) == SQLITE_OK
			   ? 0
			   : copy_err(ec, "prepare");
	if (!k->sql) {
		if (sqlite3_prepare_v3(ec->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &k->stmt,
				       NULL) != SQLITE_OK)
			return copy_err(ec, "prepare");
		k->sql = sql;
	}
	*s = k->stmt;
	return 0;
}

/* Hands S back to prepare() for its next use (or finalizes it when it was not kept). */
static void done(struct edge_copy *ec, sqlite3_stmt *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < STATEMENTS_KEPT; i++)
		if (ec->kept[i].stmt == s) {
			sqlite3_reset(s);
			sqlite3_clear_bindings(s);
			return;
		}
	done(ec, s);
}

/* Steps S to its end and hands it back. */
static int run(struct edge_copy *ec, sqlite3_stmt *s, const char *op)
{
	int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : copy_err(ec, op);

	done(ec, s);
	return rc;
}

static int exec(struct edge_copy *ec, const char *sql, const char *op)
{
	sqlite3_stmt *s = NULL;

	return prepare(ec, sql, &s) == 0 ? run(ec, s, op) : SE_EDB;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

static void bind_blob(sqlite3_stmt *s, int i, const unsigned char *v, size_t len)
{
	if (v && len)
		sqlite3_bind_blob64(s, i, v, len, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

static void col_text(sqlite3_stmt *s, int i, char *dst, size_t len)
{
	const unsigned char *v = sqlite3_column_text(s, i);

	snprintf(dst, len, "%s", v ? (const char *)v : "");
}

/* Column I as a malloc'd copy into *DST (NULL when empty). */
static int col_blob(sqlite3_stmt *s, int i, unsigned char **dst, size_t *len)
{
	const void *v = sqlite3_column_blob(s, i);
	size_t n = (size_t)sqlite3_column_bytes(s, i);

	*dst = NULL;
	*len = 0;
	if (!v || n == 0)
		return 0;
	if (!(*dst = malloc(n)))
		return SE_ENOMEM;
	memcpy(*dst, v, n);
	*len = n;
	return 0;
}

/* ---- put ----------------------------------------------------------------------------------- */

/* 1 when REC adds nothing to the copy: it holds NAME at REC's version already, or knows of a
 * later change (a lookup that read the store before a change may finish after the feed applied
 * it; versions, not arrival order, decide). */
static int known(struct edge_copy *ec, const char *name, const struct store_edge_entry *rec)
{
	static const char sql[] = "SELECT change_seq, pack_id, 0 FROM entries WHERE name = ?1 "
				  "UNION ALL SELECT seq, '', 1 FROM forgotten WHERE name = ?1";
	sqlite3_stmt *s = NULL;
	int skip = 0;

	if (prepare(ec, sql, &s) != 0)
		return 1;
	bind_text(s, 1, name);
	while (!skip && sqlite3_step(s) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(s, 0);

		skip = seq > rec->change_seq ||
		       (seq == rec->change_seq && sqlite3_column_int(s, 2) == 0 &&
			strcmp((const char *)sqlite3_column_text(s, 1), rec->pack_id) == 0);
	}
	done(ec, s);
	return skip;
}

static int put_entry(struct edge_copy *ec, const char *name, const struct store_edge_entry *r)
{
	static const char sql[] =
	    "INSERT OR REPLACE INTO entries (name, hostname_id, zone_id, hostname, settings_json,"
	    " custom_origin_server, custom_origin_sni, fallback_origin, ownership_token, pack_id,"
	    " pack_status, change_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
	sqlite3_stmt *s = NULL;
	int rc = prepare(ec, sql, &s);

	if (rc)
		return rc;
	bind_text(s, 1, name);
	bind_text(s, 2, r->hostname_id);
	bind_text(s, 3, r->zone_id);
	bind_text(s, 4, r->hostname);
	bind_text(s, 5, r->settings_json);
	bind_text(s, 6, r->custom_origin_server);
	bind_text(s, 7, r->custom_origin_sni);
	bind_text(s, 8, r->fallback_origin);
	bind_text(s, 9, r->ownership_token);
	bind_text(s, 10, r->pack_id);
	bind_text(s, 11, r->pack_status);
	sqlite3_bind_int64(s, 12, r->change_seq);
	return run(ec, s, "put");
}

static int put_cert(struct edge_copy *ec, const char *name, const struct store_edge_entry *r,
		    size_t slot)
{
	static const char sql[] =
	    "INSERT INTO entry_certs (name, slot, id, pack_id, key_type, private_key_id, serial,"
	    " leaf, chain, not_before, not_after, created_at, sealed_key)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
	const struct store_certificate *c = &r->certs[slot];
	sqlite3_stmt *s = NULL;
	int rc = prepare(ec, sql, &s);

	if (rc)
		return rc;
	bind_text(s, 1, name);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)slot);
	bind_text(s, 3, c->id);
	bind_text(s, 4, c->pack_id);
	bind_text(s, 5, c->key_type);
	bind_text(s, 6, c->private_key_id);
	bind_text(s, 7, c->serial);
	bind_blob(s, 8, c->leaf_der, c->leaf_len);
	bind_blob(s, 9, c->chain_der, c->chain_len);
	sqlite3_bind_int64(s, 10, c->not_before_us);
	sqlite3_bind_int64(s, 11, c->not_after_us);
	sqlite3_bind_int64(s, 12, c->created_at_us);
	bind_blob(s, 13, r->sealed_keys[slot], r->sealed_lens[slot]);
	return run(ec, s, "put");
}

/* Runs SQL (one statement) with NAME as ?1 and, when SEQ >= 0, SEQ as ?2 and the time as ?3. */
static int run_named(struct edge_copy *ec, const char *sql, const char *name, int64_t seq,
		     const char *op)
{
	sqlite3_stmt *s = NULL;
	int rc = prepare(ec, sql, &s);

	if (rc)
		return rc;
	bind_text(s, 1, name);
	if (seq >= 0) {
		sqlite3_bind_int64(s, 2, seq);
		sqlite3_bind_int64(s, 3, (sqlite3_int64)time(NULL));
	}
	return run(ec, s, op);
}

static int delete_name(struct edge_copy *ec, const char *name)
{
	return run_named(ec, "DELETE FROM entries WHERE name = ?1", name, -1, "remove");
}

/* NAME's entry becomes REC (REC NULL: NAME has none); ec->lock held, inside a transaction. */
static int apply(struct edge_copy *ec, const char *name, const struct store_edge_entry *rec)
{
	int rc;

	if (rec && known(ec, name, rec))
		return 0;
	rc = delete_name(ec, name); /* and its certificates */
	if (rc || !rec)
		return rc;
	rc = run_named(ec, "DELETE FROM forgotten WHERE name = ?1", name, -1, "put");
	if (rc == 0)
		rc = put_entry(ec, name, rec);
	for (size_t i = 0; rc == 0 && i < rec->n_certs; i++)
		rc = put_cert(ec, name, rec, i);
	return rc;
}

int edge_copy_write(struct edge_copy *ec, const struct edge_copy_change *changes, size_t n)
{
	int rc;

	pthread_mutex_lock(&ec->lock);
	rc = exec(ec, "BEGIN IMMEDIATE", "begin");
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = apply(ec, changes[i].name, changes[i].rec);
	rc = rc ? rc : exec(ec, "COMMIT", "commit");
	if (rc)
		exec(ec, "ROLLBACK", "rollback");
	pthread_mutex_unlock(&ec->lock);
	return rc;
}

int edge_copy_put(struct edge_copy *ec, const char *name, const struct store_edge_entry *rec)
{
	struct edge_copy_change one = {name, rec};

	return edge_copy_write(ec, &one, 1);
}

/* ---- get ----------------------------------------------------------------------------------- */

static int get_entry(struct edge_copy *ec, const char *name, struct store_edge_entry *r)
{
	static const char sql[] =
	    "SELECT hostname_id, zone_id, hostname, settings_json, custom_origin_server,"
	    " custom_origin_sni, fallback_origin, ownership_token, pack_id, pack_status, change_seq"
	    " FROM entries WHERE name = ?1";
	sqlite3_stmt *s = NULL;
	const unsigned char *settings;
	int rc = prepare(ec, sql, &s);

	if (rc)
		return rc;
	bind_text(s, 1, name);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		rc = rc == SQLITE_DONE ? SE_ENOTFOUND : copy_err(ec, "get");
		done(ec, s);
		return rc;
	}
	col_text(s, 0, r->hostname_id, sizeof(r->hostname_id));
	col_text(s, 1, r->zone_id, sizeof(r->zone_id));
	col_text(s, 2, r->hostname, sizeof(r->hostname));
	col_text(s, 4, r->custom_origin_server, sizeof(r->custom_origin_server));
	col_text(s, 5, r->custom_origin_sni, sizeof(r->custom_origin_sni));
	col_text(s, 6, r->fallback_origin, sizeof(r->fallback_origin));
	col_text(s, 7, r->ownership_token, sizeof(r->ownership_token));
	col_text(s, 8, r->pack_id, sizeof(r->pack_id));
	col_text(s, 9, r->pack_status, sizeof(r->pack_status));
	r->change_seq = sqlite3_column_int64(s, 10);
	settings = sqlite3_column_text(s, 3);
	rc = 0;
	if (settings && !(r->settings_json = strdup((const char *)settings)))
		rc = SE_ENOMEM;
	done(ec, s);
	return rc;
}

static int get_certs(struct edge_copy *ec, const char *name, struct store_edge_entry *r)
{
	static const char sql[] =
	    "SELECT id, pack_id, key_type, private_key_id, serial, leaf, chain, not_before,"
	    " not_after, created_at, sealed_key FROM entry_certs WHERE name = ?1 ORDER BY slot";
	sqlite3_stmt *s = NULL;
	int rc = prepare(ec, sql, &s);

	if (rc)
		return rc;
	bind_text(s, 1, name);
	while (rc == 0 && r->n_certs < 2 && sqlite3_step(s) == SQLITE_ROW) {
		struct store_certificate *c = &r->certs[r->n_certs];
		size_t i = r->n_certs++;

		col_text(s, 0, c->id, sizeof(c->id));
		col_text(s, 1, c->pack_id, sizeof(c->pack_id));
		col_text(s, 2, c->key_type, sizeof(c->key_type));
		col_text(s, 3, c->private_key_id, sizeof(c->private_key_id));
		col_text(s, 4, c->serial, sizeof(c->serial));
		c->not_before_us = sqlite3_column_int64(s, 7);
		c->not_after_us = sqlite3_column_int64(s, 8);
		c->created_at_us = sqlite3_column_int64(s, 9);
		rc = col_blob(s, 5, &c->leaf_der, &c->leaf_len);
		if (rc == 0)
			rc = col_blob(s, 6, &c->chain_der, &c->chain_len);
		if (rc == 0)
			rc = col_blob(s, 10, &r->sealed_keys[i], &r->sealed_lens[i]);
	}
	done(ec, s);
	return rc;
}

int edge_copy_get(struct edge_copy *ec, const char *name, struct store_edge_entry *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&ec->lock);
	/* One snapshot: a put between the two reads cannot pair an entry with other certs. */
	rc = exec(ec, "BEGIN", "begin");
	if (rc == 0) {
		rc = get_entry(ec, name, out);
		if (rc == 0)
			rc = get_certs(ec, name, out);
		exec(ec, "COMMIT", "commit");
	}
	pthread_mutex_unlock(&ec->lock);
	if (rc)
		store_edge_entry_dispose(out);
	return rc;
}

/* ---- removal and position ------------------------------------------------------------------ */

int edge_copy_remove(struct edge_copy *ec, const char *name)
{
	struct edge_copy_change one = {name, NULL};

	return edge_copy_write(ec, &one, 1);
}

int edge_copy_forget(struct edge_copy *ec, const char *name, int64_t seq)
{
	int rc;

	pthread_mutex_lock(&ec->lock);
	rc = exec(ec, "BEGIN IMMEDIATE", "begin");
	if (rc == 0)
		rc = run_named(ec, "DELETE FROM entries WHERE name = ?1 AND change_seq < ?2", name,
			       seq, "forget");
	if (rc == 0)
		rc = run_named(ec,
			       "INSERT INTO forgotten (name, seq, at) VALUES (?1, ?2, ?3) "
			       "ON CONFLICT (name) DO UPDATE SET seq = max(seq, excluded.seq), "
			       "at = excluded.at",
			       name, seq, "forget");
	rc = rc ? rc : exec(ec, "COMMIT", "commit");
	if (rc)
		exec(ec, "ROLLBACK", "rollback");
	pthread_mutex_unlock(&ec->lock);
	return rc;
}

int edge_copy_clear(struct edge_copy *ec)
{
	int rc;

	pthread_mutex_lock(&ec->lock);
	rc = sqlite3_exec(ec->db, "DELETE FROM entries; DELETE FROM forgotten; DELETE FROM position",
			  NULL, NULL, NULL) == SQLITE_OK
		 ? 0
		 : copy_err(ec, "clear");
	pthread_mutex_unlock(&ec->lock);
	return rc;
}

int edge_copy_position(struct edge_copy *ec, int64_t *seq)
{
	sqlite3_stmt *s = NULL;
	int rc;

	*seq = 0;
	pthread_mutex_lock(&ec->lock);
	rc = prepare(ec, "SELECT seq FROM position", &s);
	if (rc == 0 && sqlite3_step(s) == SQLITE_ROW)
		*seq = sqlite3_column_int64(s, 0);
	done(ec, s);
	pthread_mutex_unlock(&ec->lock);
	return rc;
}

/* A lookup that read the store before a change is long over minutes later. */
static int prune_forgotten(struct edge_copy *ec)
{
	sqlite3_stmt *s = NULL;
	int rc = prepare(ec, "DELETE FROM forgotten WHERE at < ?1", &s);

	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)time(NULL) - FORGOTTEN_KEPT_S);
	return run(ec, s, "position");
}

int edge_copy_set_position(struct edge_copy *ec, int64_t seq)
{
	sqlite3_stmt *s = NULL;
	int rc;

	pthread_mutex_lock(&ec->lock);
	rc = exec(ec, "BEGIN IMMEDIATE", "begin");
	if (rc == 0)
		rc = exec(ec, "DELETE FROM position", "position");
	if (rc == 0)
		rc = prune_forgotten(ec);
	if (rc == 0)
		rc = prepare(ec, "INSERT INTO position (seq) VALUES (?1)", &s);
	if (rc == 0) {
		sqlite3_bind_int64(s, 1, seq);
		rc = run(ec, s, "position");
	}
	rc = rc ? rc : exec(ec, "COMMIT", "commit");
	if (rc)
		exec(ec, "ROLLBACK", "rollback");
	pthread_mutex_unlock(&ec->lock);
	return rc;
}

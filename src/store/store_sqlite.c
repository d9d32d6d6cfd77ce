/* The SQLite engine of the store: one database file in the data directory, in WAL mode, a
 * connection per thread. The default, and the whole store of a single machine. */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/log.h"

#define BUSY_TIMEOUT_MS 5000
#define DB_FILE         "saasedge.db"

struct lite_stmt {
	struct sq_stmt base;
	sqlite3_stmt *s;
};

static sqlite3 *db_of(struct sq_conn *c)
{
	return c->db;
}

static sqlite3_stmt *stmt_of(struct sq_stmt *s)
{
	return ((struct lite_stmt *)s)->s;
}

/* Maps a SQLite result code to SE_E*: unique and primary-key violations → SE_EEXISTS, foreign
 * key violations → SE_ENOTFOUND (a parent row is missing), out of memory → SE_ENOMEM, anything
 * else → SE_EDB with a log line naming OP and SQLite's message (which never contains bound
 * values, so no secret reaches the log). */
static int lite_err(struct sq_conn *c, int rc, const char *op)
{
	switch (rc) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return SE_EEXISTS;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return SE_ENOTFOUND;
	case SQLITE_NOMEM:
		return SE_ENOMEM;
	default:
		log_error("store op=\"%.60s\" sqlite=\"%s\" detail=\"%s\"", op, sqlite3_errstr(rc),
			  c && c->db ? sqlite3_errmsg(db_of(c)) : "no connection");
		return SE_EDB;
	}
}

/* ---- statements --------------------------------------------------------------------------- */

static int lite_prepare(struct sq_conn *c, const char *sql, struct sq_stmt **out)
{
	struct lite_stmt *ls = calloc(1, sizeof(*ls));
	int rc;

	*out = NULL;
	if (!ls)
		return SE_ENOMEM;
	ls->base.c = c;
	rc = sqlite3_prepare_v3(db_of(c), sql, -1, SQLITE_PREPARE_PERSISTENT, &ls->s, NULL);
	if (rc != SQLITE_OK) {
		free(ls);
		return lite_err(c, rc, "prepare");
	}
	*out = &ls->base;
	return 0;
}

static void lite_finalize(struct sq_stmt *s)
{
	sqlite3_finalize(stmt_of(s));
	free(s);
}

static int lite_param_count(struct sq_stmt *s)
{
	return sqlite3_bind_parameter_count(stmt_of(s));
}

static int lite_bound(struct sq_stmt *s, int rc)
{
	return rc == SQLITE_OK ? 0 : lite_err(s->c, rc, "bind");
}

static int lite_bind_text(struct sq_stmt *s, int idx, const char *text)
{
	return lite_bound(s, text ? sqlite3_bind_text(stmt_of(s), idx, text, -1, SQLITE_STATIC)
				  : sqlite3_bind_null(stmt_of(s), idx));
}

static int lite_bind_int64(struct sq_stmt *s, int idx, int64_t v)
{
	return lite_bound(s, sqlite3_bind_int64(stmt_of(s), idx, v));
}

static int lite_bind_blob(struct sq_stmt *s, int idx, const void *p, size_t n)
{
	return lite_bound(s, sqlite3_bind_blob64(stmt_of(s), idx, p, n, SQLITE_STATIC));
}

static int lite_step(struct sq_stmt *s, const char *op)
{
	int rc = sqlite3_step(stmt_of(s));

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return lite_err(s->c, rc, op);
}

static void lite_reset(struct sq_stmt *s)
{
	sqlite3_reset(stmt_of(s));
	sqlite3_clear_bindings(stmt_of(s));
}

static int lite_col_is_null(struct sq_stmt *s, int col)
{
	return sqlite3_column_type(stmt_of(s), col) == SQLITE_NULL;
}

static int64_t lite_col_int64(struct sq_stmt *s, int col)
{
	return sqlite3_column_int64(stmt_of(s), col);
}

static const char *lite_col_text(struct sq_stmt *s, int col, size_t *len)
{
	const unsigned char *v = sqlite3_column_text(stmt_of(s), col);

	*len = v ? (size_t)sqlite3_column_bytes(stmt_of(s), col) : 0;
	return (const char *)v;
}

static const void *lite_col_blob(struct sq_stmt *s, int col, size_t *len)
{
	const void *p = sqlite3_column_blob(stmt_of(s), col);

	*len = p ? (size_t)sqlite3_column_bytes(stmt_of(s), col) : 0;
	return p;
}

static int64_t lite_changes(struct sq_conn *c)
{
	return sqlite3_changes64(db_of(c));
}

static int lite_in_transaction(struct sq_conn *c)
{
	return !sqlite3_get_autocommit(db_of(c));
}

static int lite_exec(struct sq_conn *c, const char *script, const char *op)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db_of(c), script, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		log_error("store op=%s detail=\"%s\"", op, msg ? msg : sqlite3_errstr(rc));
		rc = SE_EDB;
	}
	sqlite3_free(msg);
	return rc;
}

/* The schema version is PRAGMA user_version, written in the migration's transaction. */
static int lite_version_get(struct sq_conn *c, int *version)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db_of(c), "PRAGMA user_version", -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*version = sqlite3_column_int(s, 0);
		rc = 0;
	} else {
		rc = lite_err(c, rc, "user_version");
	}
	sqlite3_finalize(s);
	return rc;
}

static int lite_version_set(struct sq_conn *c, int version)
{
	char sql[48];

	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", version);
	return lite_exec(c, sql, "user_version");
}

/* ---- connections -------------------------------------------------------------------------- */

/* Switching a new database to WAL takes an exclusive lock, and SQLite reports a conflict there
 * (another process opening the same new database) as SQLITE_BUSY without calling the busy
 * handler: retry for as long as the busy timeout would have waited. */
static int conn_set_wal(struct sq_conn *c)
{
	sqlite3_stmt *s = NULL;
	const unsigned char *mode = NULL;
	int rc;

	for (int waited = 0;; waited += 10) {
		rc = sqlite3_prepare_v2(db_of(c), "PRAGMA journal_mode=WAL", -1, &s, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(s);
		if ((rc & 0xff) != SQLITE_BUSY || waited >= BUSY_TIMEOUT_MS)
			break;
		sqlite3_finalize(s);
		s = NULL;
		sqlite3_sleep(10);
	}
	if (rc == SQLITE_ROW) {
		mode = sqlite3_column_text(s, 0);
		rc = mode && strcmp((const char *)mode, "wal") == 0 ? 0 : SE_EDB;
		if (rc)
			log_error("store op=open detail=\"journal_mode is %s, not wal\"",
				  mode ? (const char *)mode : "unknown");
	} else {
		rc = lite_err(c, rc, "journal_mode");
	}
	sqlite3_finalize(s);
	return rc;
}

/* Every connection gets the same settings: these PRAGMAs are per connection. A hostname create
 * writes about 20 pages, so the default auto-checkpoint (1000 pages) made one create in 50 pay
 * for a checkpoint, which was the whole p99 (4.3 ms; 0.5 ms at 10000 pages). The size limit
 * trims the WAL file after a long reader let it grow. */
static int conn_configure(struct sq_conn *c)
{
	static const char pragmas[] = "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
				      "PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=10000; "
				      "PRAGMA journal_size_limit=67108864;";
	int rc;

	sqlite3_extended_result_codes(db_of(c), 1);
	sqlite3_busy_timeout(db_of(c), BUSY_TIMEOUT_MS);
	rc = conn_set_wal(c);
	return rc ? rc : lite_exec(c, pragmas, "pragmas");
}

static int lite_open(struct store *st, struct sq_conn *c)
{
	const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	sqlite3 *db = NULL;
	int rc;

	rc = sqlite3_open_v2(st->path, &db, flags, NULL);
	c->db = db;
	if (rc != SQLITE_OK) {
		log_error("store op=open path=%s detail=\"%s\"", st->path,
			  db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		return SE_EDB;
	}
	return conn_configure(c);
}

static void lite_close(struct sq_conn *c)
{
	/* Every statement is finalized, so close cannot be refused with SQLITE_BUSY. */
	if (sqlite3_close(db_of(c)) != SQLITE_OK)
		log_error("store op=close detail=\"%s\"", sqlite3_errmsg(db_of(c)));
	c->db = NULL;
}

/* ---- the data directory ------------------------------------------------------------------- */

/* PATH (the database, or its -wal or -shm) readable by its owner only. SQLite gives a new -wal
 * and -shm the database file's mode, so a database created 0600 here keeps them 0600 whatever
 * the umask; a file from an older version with wider modes is narrowed. */
static int restrict_mode(const char *path, int create)
{
	struct stat sb;
	int fd;

	if (stat(path, &sb) == 0) {
		if ((sb.st_mode & 077) == 0)
			return 0;
		log_warn("store op=chmod path=%s mode=%04o detail=\"narrowed to 0600\"", path,
			 (unsigned)(sb.st_mode & 07777));
		return chmod(path, 0600) == 0 ? 0 : SE_EIO;
	}
	if (errno != ENOENT || !create)
		return errno == ENOENT ? 0 : SE_EIO;
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EEXIST ? 0 : SE_EIO; /* another process created it: same mode */
	close(fd);                                   /* an empty file is a new database to SQLite */
	return 0;
}

static int restrict_modes(const char *db_path)
{
	char side[PATH_MAX];
	int rc = restrict_mode(db_path, 1);

	snprintf(side, sizeof(side), "%s-wal", db_path);
	if (rc == 0)
		rc = restrict_mode(side, 0);
	snprintf(side, sizeof(side), "%s-shm", db_path);
	if (rc == 0)
		rc = restrict_mode(side, 0);
	if (rc)
		log_error("store op=chmod path=%s detail=\"%s\"", db_path, strerror(errno));
	return rc;
}

int sq_sqlite_prepare_dir(struct store *st, const char *data_dir)
{
	size_t len;

	if (!data_dir || !*data_dir)
		return SE_EINVAL;
	len = strlen(data_dir) + sizeof("/" DB_FILE);
	st->path = malloc(len);
	if (!st->path)
		return SE_ENOMEM;
	snprintf(st->path, len, "%s/%s", data_dir, DB_FILE);
	return restrict_modes(st->path);
}

const struct sq_backend sq_sqlite_backend = {
    .dialect = SQ_SQLITE,
    .open = lite_open,
    .close = lite_close,
    .prepare = lite_prepare,
    .finalize = lite_finalize,
    .param_count = lite_param_count,
    .bind_text = lite_bind_text,
    .bind_int64 = lite_bind_int64,
    .bind_blob = lite_bind_blob,
    .step = lite_step,
    .reset = lite_reset,
    .col_is_null = lite_col_is_null,
    .col_int64 = lite_col_int64,
    .col_text = lite_col_text,
    .col_blob = lite_col_blob,
    .changes = lite_changes,
    .in_transaction = lite_in_transaction,
    .exec = lite_exec,
    .version_get = lite_version_get,
    .version_set = lite_version_set,
    /* IMMEDIATE takes the write lock up front so two writers never deadlock upgrading a read
     * lock; a busy database is waited for by the busy timeout. */
    .begin_write_sql = "BEGIN IMMEDIATE",
    .begin_read_sql = "BEGIN",
    .lazy_commit_sql = "PRAGMA synchronous=NORMAL",
    /* A trigger's inserts do not change it once the trigger is done. */
    .host_seq_from_event_sql = "UPDATE hostnames SET change_seq = last_insert_rowid() "
			       "WHERE id = ?1",
};

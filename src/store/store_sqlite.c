/* The SQLite store: opening and closing, one connection per thread, prepared statement caches,
 * transactions and the binding/stepping helpers the other store_*.c files share. */
#include "store/sqlite_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/log.h"

#define BUSY_TIMEOUT_MS 5000
#define DB_FILE         "saasedge.db"

/* ---- errors, binding, stepping ------------------------------------------------------------ */

int sq_err(struct sq_conn *c, int rc, const char *op)
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
			  c && c->db ? sqlite3_errmsg(c->db) : "no connection");
		return SE_EDB;
	}
}

static int vbind(sqlite3_stmt *s, const char *fmt, va_list ap)
{
	int rc = SQLITE_OK;

	/* A format that disagrees with the SQL is a programming error: refuse it loudly. */
	if ((int)strlen(fmt) != sqlite3_bind_parameter_count(s))
		return SQLITE_RANGE;
	for (int i = 0; fmt[i] && rc == SQLITE_OK; i++) {
		int idx = i + 1;
		const char *t;
		const void *p;
		size_t n;

		switch (fmt[i]) {
		case 't':
			t = va_arg(ap, const char *);
			rc = t ? sqlite3_bind_text(s, idx, t, -1, SQLITE_STATIC)
			       : sqlite3_bind_null(s, idx);
			break;
		case 'i':
			rc = sqlite3_bind_int(s, idx, va_arg(ap, int));
			break;
		case 'I':
			rc = sqlite3_bind_int64(s, idx, va_arg(ap, int64_t));
			break;
		case 'b':
			p = va_arg(ap, const void *);
			n = va_arg(ap, size_t);
			rc = sqlite3_bind_blob64(s, idx, p, n, SQLITE_STATIC);
			break;
		default:
			rc = SQLITE_MISUSE;
			break;
		}
	}
	return rc;
}

int sq_step(struct sq_conn *c, sqlite3_stmt *s, const char *op)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return sq_err(c, rc, op);
}

void sq_reset(sqlite3_stmt *s)
{
	if (!s)
		return;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

int sq_prepare(struct sq_conn *c, enum sq_stmt_id id, const char *sql, sqlite3_stmt **out)
{
	int rc;

	if (!c->stmts[id]) {
		rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->stmts[id],
					NULL);
		if (rc != SQLITE_OK) {
			*out = NULL;
			return sq_err(c, rc, "prepare");
		}
	}
	*out = c->stmts[id];
	return 0;
}

int sq_run(struct sq_conn *c, enum sq_stmt_id id, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *s = NULL;
	va_list ap;
	int rc;

	rc = sq_prepare(c, id, sql, &s);
	if (rc)
		goto out;
	va_start(ap, fmt);
	rc = vbind(s, fmt, ap);
	va_end(ap);
	if (rc != SQLITE_OK) {
		rc = sq_err(c, rc, "bind");
		goto out;
	}
	/* The op name in a log line is the SQL's head: enough to find the statement. */
	rc = sq_step(c, s, sql);
	if (rc > 0)
		rc = 0;
out:
	sq_reset(s);
	return rc;
}

int sq_query(struct sq_conn *c, enum sq_stmt_id id, const char *sql, sqlite3_stmt **out,
	     const char *fmt, ...)
{
	va_list ap;
	int rc;

	*out = NULL;
	rc = sq_prepare(c, id, sql, out);
	if (rc)
		return rc;
	va_start(ap, fmt);
	rc = vbind(*out, fmt, ap);
	va_end(ap);
	if (rc != SQLITE_OK)
		return sq_err(c, rc, "bind");
	return sq_step(c, *out, sql);
}

/* ---- keyed cache of dynamic statements ---------------------------------------------------- */

sqlite3_stmt *sq_keyed_find(struct sq_conn *c, unsigned key)
{
	for (size_t i = 0; i < SQ_KEYED_CACHE; i++) {
		if (c->keyed[i].stmt && c->keyed[i].key == key)
			return c->keyed[i].stmt;
	}
	return NULL;
}

int sq_keyed_add(struct sq_conn *c, unsigned key, const char *sql, sqlite3_stmt **out)
{
	struct sq_keyed_stmt *slot = &c->keyed[c->keyed_next];
	sqlite3_stmt *s = NULL;
	int rc;

	*out = NULL;
	rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL);
	if (rc != SQLITE_OK)
		return sq_err(c, rc, "prepare");
	sqlite3_finalize(slot->stmt);
	slot->key = key;
	slot->stmt = s;
	c->keyed_next = (c->keyed_next + 1) % SQ_KEYED_CACHE;
	*out = s;
	return 0;
}

/* ---- transactions ------------------------------------------------------------------------- */

int sq_begin(struct sq_conn *c)
{
	return sq_run(c, SQ_BEGIN_IMMEDIATE, "BEGIN IMMEDIATE", "");
}

int sq_begin_read(struct sq_conn *c)
{
	return sq_run(c, SQ_BEGIN_READ, "BEGIN", "");
}

int sq_commit(struct sq_conn *c)
{
	int rc = sq_run(c, SQ_COMMIT, "COMMIT", "");

	if (c->jobs_scheduled) {
		c->jobs_scheduled = 0;
		if (rc == 0)
			sq_jobs_notify(c->st);
	}
	return rc;
}

void sq_rollback(struct sq_conn *c)
{
	if (c)
		c->jobs_scheduled = 0;
	/* After some errors (I/O, full disk, out of memory) SQLite has rolled back already. */
	if (!c || sqlite3_get_autocommit(c->db))
		return;
	sq_run(c, SQ_ROLLBACK, "ROLLBACK", "");
}

/* ---- columns and strings ------------------------------------------------------------------ */

void sq_col_copy(sqlite3_stmt *s, int col, char *dst, size_t n)
{
	const unsigned char *v = sqlite3_column_text(s, col);
	size_t len = v ? (size_t)sqlite3_column_bytes(s, col) : 0;

	if (len >= n)
		len = n - 1;
	if (len)
		memcpy(dst, v, len);
	dst[len] = '\0';
}

int sq_col_dup(sqlite3_stmt *s, int col, char **out)
{
	const unsigned char *v;
	size_t len;

	*out = NULL;
	if (sqlite3_column_type(s, col) == SQLITE_NULL)
		return 0;
	v = sqlite3_column_text(s, col);
	if (!v)
		return SE_ENOMEM;
	len = (size_t)sqlite3_column_bytes(s, col);
	*out = malloc(len + 1);
	if (!*out)
		return SE_ENOMEM;
	memcpy(*out, v, len);
	(*out)[len] = '\0';
	return 0;
}

/* ---- connections -------------------------------------------------------------------------- */

static void conn_close(struct sq_conn *c)
{
	for (size_t i = 0; i < SQ_STMT_COUNT; i++)
		sqlite3_finalize(c->stmts[i]);
	for (size_t i = 0; i < SQ_KEYED_CACHE; i++)
		sqlite3_finalize(c->keyed[i].stmt);
	/* Every statement is finalized, so close cannot be refused with SQLITE_BUSY. */
	if (sqlite3_close(c->db) != SQLITE_OK)
		log_error("store op=close detail=\"%s\"", sqlite3_errmsg(c->db));
	free(c);
}

static void conn_unlink(struct store *st, struct sq_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		st->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

/* pthread key destructor: the thread is exiting, its connection goes with it. */
static void conn_thread_exit(void *arg)
{
	struct sq_conn *c = arg;
	struct store *st = c->st;

	pthread_mutex_lock(&st->lock);
	conn_unlink(st, c);
	pthread_mutex_unlock(&st->lock);
	conn_close(c);
}

/* Switching a new database to WAL takes an exclusive lock, and SQLite reports a conflict there
 * (another process opening the same new database) as SQLITE_BUSY without calling the busy
 * handler: retry for as long as the busy timeout would have waited. */
static int conn_set_wal(struct sq_conn *c)
{
	sqlite3_stmt *s = NULL;
	const unsigned char *mode = NULL;
	int rc;

	for (int waited = 0;; waited += 10) {
		rc = sqlite3_prepare_v2(c->db, "PRAGMA journal_mode=WAL", -1, &s, NULL);
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
		rc = sq_err(c, rc, "journal_mode");
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
	char *msg = NULL;
	int rc;

	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
	rc = conn_set_wal(c);
	if (rc)
		goto out;
	rc = sqlite3_exec(c->db, pragmas, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		log_error("store op=pragmas detail=\"%s\"", msg ? msg : sqlite3_errstr(rc));
		rc = SE_EDB;
	}
out:
	sqlite3_free(msg);
	return rc;
}

static int conn_open(struct store *st, struct sq_conn **out)
{
	const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	struct sq_conn *c = NULL;
	int rc;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return SE_ENOMEM;
	c->st = st;
	rc = sqlite3_open_v2(st->path, &c->db, flags, NULL);
	if (rc != SQLITE_OK) {
		log_error("store op=open path=%s detail=\"%s\"", st->path,
			  c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		rc = SE_EDB;
		goto out;
	}
	rc = conn_configure(c);
	if (rc)
		goto out;
	*out = c;
	c = NULL;
out:
	if (c)
		conn_close(c);
	return rc;
}

struct sq_conn *sq_conn_get(struct store *st)
{
	struct sq_conn *c = pthread_getspecific(st->key);

	if (c)
		return c;
	if (conn_open(st, &c) != 0)
		return NULL;
	if (pthread_setspecific(st->key, c) != 0) {
		log_error("store op=open detail=\"pthread_setspecific failed\"");
		conn_close(c);
		return NULL;
	}
	pthread_mutex_lock(&st->lock);
	c->next = st->conns;
	if (st->conns)
		st->conns->prev = c;
	st->conns = c;
	pthread_mutex_unlock(&st->lock);
	return c;
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

/* mkdir -p with mode 0700 for what it creates; existing directories keep their mode. */
static int make_dirs(const char *dir)
{
	char *path = strdup(dir);
	struct stat sb;
	int rc = 0;

	if (!path)
		return SE_ENOMEM;
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			break;
		*p = '/';
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		log_error("store op=mkdir path=%s detail=\"%s\"", dir, strerror(errno));
		rc = errno == EACCES ? SE_EPERM : SE_EIO;
	} else if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		log_error("store op=mkdir path=%s detail=\"not a directory\"", dir);
		rc = SE_EIO;
	}
	free(path);
	return rc;
}

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

int store_open(const char *data_dir, struct store **out)
{
	struct store *st = NULL;
	struct sq_conn *c;
	size_t len;
	int rc;

	*out = NULL;
	if (!data_dir || !*data_dir)
		return SE_EINVAL;
	rc = make_dirs(data_dir);
	if (rc)
		return rc;
	st = calloc(1, sizeof(*st));
	len = strlen(data_dir) + sizeof("/" DB_FILE);
	if (!st || !(st->path = malloc(len))) {
		rc = SE_ENOMEM;
		goto out;
	}
	snprintf(st->path, len, "%s/%s", data_dir, DB_FILE);
	pthread_mutex_init(&st->lock, NULL);
	pthread_mutex_init(&st->jobs_lock, NULL);
	pthread_cond_init(&st->jobs_cond, NULL);
	rc = restrict_modes(st->path);
	if (rc)
		goto out;
	if (pthread_key_create(&st->key, conn_thread_exit) != 0) {
		rc = SE_ENOMEM;
		goto out;
	}
	st->key_created = 1;
	rc = sq_list_anchors_create(&st->anchors);
	if (rc == 0)
		rc = sq_list_shapes_create(&st->shapes);
	if (rc)
		goto out;
	c = sq_conn_get(st);
	rc = c ? sq_migrate(c, &st->schema_version) : SE_EDB;
	if (rc)
		goto out;
	*out = st;
	st = NULL;
out:
	store_close(st);
	return rc;
}

/* Closes every thread's connection: call it once the other threads are done with ST. */
void store_close(struct store *st)
{
	struct sq_conn *c;

	if (!st)
		return;
	/* After the key is deleted no thread's destructor can run for it, so the list is ours. */
	if (st->key_created)
		pthread_key_delete(st->key);
	if (st->path) {
		pthread_mutex_lock(&st->lock);
		while ((c = st->conns) != NULL) {
			conn_unlink(st, c);
			conn_close(c);
		}
		pthread_mutex_unlock(&st->lock);
		pthread_mutex_destroy(&st->lock);
		pthread_mutex_destroy(&st->jobs_lock);
		pthread_cond_destroy(&st->jobs_cond);
	}
	sq_list_anchors_destroy(st->anchors);
	sq_list_shapes_destroy(st->shapes);
	free(st->path);
	free(st);
}

int store_schema_version(struct store *st)
{
	return st->schema_version;
}

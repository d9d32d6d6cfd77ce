/* The store's engine-neutral half: opening and closing, one connection per thread, prepared
 * statement caches, transactions, and the binding/stepping helpers the other store_*.c files
 * share. The engine itself is behind struct sq_backend (store_sqlite.c, store_postgres.c). */
#include "store/store_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/error.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "metrics/metrics.h"

/* ---- binding, stepping, columns ----------------------------------------------------------- */

int sq_bind_text(struct sq_stmt *s, int idx, const char *text)
{
	return s->c->be->bind_text(s, idx, text);
}

int sq_bind_int64(struct sq_stmt *s, int idx, int64_t v)
{
	return s->c->be->bind_int64(s, idx, v);
}

int sq_bind_blob(struct sq_stmt *s, int idx, const void *p, size_t n)
{
	return s->c->be->bind_blob(s, idx, p, n);
}

static int vbind(struct sq_stmt *s, const char *fmt, va_list ap)
{
	int rc = 0;

	/* A format that disagrees with the SQL is a programming error: refuse it loudly. */
	if ((int)strlen(fmt) != s->c->be->param_count(s)) {
		log_error("store op=bind detail=\"%zu values for %d parameters\"", strlen(fmt),
			  s->c->be->param_count(s));
		return SE_EDB;
	}
	for (int i = 0; fmt[i] && rc == 0; i++) {
		int idx = i + 1;
		const void *p;
		size_t n;

		switch (fmt[i]) {
		case 't':
			rc = sq_bind_text(s, idx, va_arg(ap, const char *));
			break;
		case 'i':
			rc = sq_bind_int64(s, idx, va_arg(ap, int));
			break;
		case 'I':
			rc = sq_bind_int64(s, idx, va_arg(ap, int64_t));
			break;
		case 'b':
			p = va_arg(ap, const void *);
			n = va_arg(ap, size_t);
			rc = sq_bind_blob(s, idx, p, n);
			break;
		default:
			log_error("store op=bind detail=\"unknown format letter\"");
			rc = SE_EDB;
			break;
		}
	}
	return rc;
}

int sq_step(struct sq_conn *c, struct sq_stmt *s, const char *op)
{
	return c->be->step(s, op);
}

/* Executes S (its first step: the whole of a write, a query up to its first row), timed for
 * the metrics. */
static int execute(struct sq_conn *c, struct sq_stmt *s, const char *sql, enum sq_stmt_id id)
{
	int64_t t0;
	int rc;

	if (!metrics_on())
		return sq_step(c, s, sql);
	t0 = time_now_us();
	rc = sq_step(c, s, sql);
	metrics_observe_us(M_STORE_SECONDS, id == SQ_COMMIT ? MS_COMMIT : MS_QUERY,
			   time_now_us() - t0);
	return rc;
}

void sq_reset(struct sq_stmt *s)
{
	if (s)
		s->c->be->reset(s);
}

int sq_col_is_null(struct sq_stmt *s, int col)
{
	return s->c->be->col_is_null(s, col);
}

int64_t sq_col_int64(struct sq_stmt *s, int col)
{
	return s->c->be->col_int64(s, col);
}

int sq_col_int(struct sq_stmt *s, int col)
{
	return (int)s->c->be->col_int64(s, col);
}

const char *sq_col_text(struct sq_stmt *s, int col)
{
	size_t len;

	return s->c->be->col_text(s, col, &len);
}

const void *sq_col_blob(struct sq_stmt *s, int col, size_t *len)
{
	return s->c->be->col_blob(s, col, len);
}

int64_t sq_changes(struct sq_conn *c)
{
	return c->be->changes(c);
}

int sq_prepare(struct sq_conn *c, enum sq_stmt_id id, const char *sql, struct sq_stmt **out)
{
	int rc;

	if (!c->stmts[id]) {
		rc = c->be->prepare(c, sql, &c->stmts[id]);
		if (rc) {
			*out = NULL;
			return rc;
		}
	}
	*out = c->stmts[id];
	return 0;
}

/* sq_run and sq_send: SEND when the statement may go out without waiting for its answer. */
static int run_statement(struct sq_conn *c, enum sq_stmt_id id, const char *sql, int send,
			 const char *fmt, va_list ap)
{
	struct sq_stmt *s = NULL;
	int rc;

	rc = sq_prepare(c, id, sql, &s);
	if (rc == 0)
		rc = vbind(s, fmt, ap);
	/* The op name in a log line is the SQL's head: enough to find the statement. */
	if (rc == 0)
		rc = send ? c->be->send(s, sql) : execute(c, s, sql, id);
	if (rc > 0)
		rc = 0;
	sq_reset(s);
	return rc;
}

int sq_run(struct sq_conn *c, enum sq_stmt_id id, const char *sql, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = run_statement(c, id, sql, 0, fmt, ap);
	va_end(ap);
	return rc;
}

int sq_write_one(struct store *st, enum sq_stmt_id id, const char *sql, const char *fmt, ...)
{
	struct sq_conn *c = sq_conn_get(st);
	va_list ap;
	int rc = c ? sq_begin(c) : SE_EDB;

	if (rc)
		return rc;
	va_start(ap, fmt);
	rc = run_statement(c, id, sql, 0, fmt, ap);
	va_end(ap);
	if (rc == 0 && sq_changes(c) == 0)
		rc = SE_ENOTFOUND;
	if (rc == 0)
		rc = sq_commit(c);
	if (rc)
		sq_rollback(c);
	return rc;
}

int sq_send(struct sq_conn *c, enum sq_stmt_id id, const char *sql, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = run_statement(c, id, sql, (c->writing || c->reading) && c->be->send, fmt, ap);
	va_end(ap);
	return rc;
}

int sq_query(struct sq_conn *c, enum sq_stmt_id id, const char *sql, struct sq_stmt **out,
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
	if (rc)
		return rc;
	return execute(c, *out, sql, id);
}

/* ---- keyed cache of dynamic statements ---------------------------------------------------- */

struct sq_stmt *sq_keyed_find(struct sq_conn *c, unsigned key)
{
	for (size_t i = 0; i < SQ_KEYED_CACHE; i++) {
		if (c->keyed[i].stmt && c->keyed[i].key == key)
			return c->keyed[i].stmt;
	}
	return NULL;
}

int sq_keyed_add(struct sq_conn *c, unsigned key, const char *sql, struct sq_stmt **out)
{
	struct sq_keyed_stmt *slot = &c->keyed[c->keyed_next];
	struct sq_stmt *s = NULL;
	int rc;

	*out = NULL;
	rc = c->be->prepare(c, sql, &s);
	if (rc)
		return rc;
	if (slot->stmt)
		c->be->finalize(slot->stmt);
	slot->key = key;
	slot->stmt = s;
	c->keyed_next = (c->keyed_next + 1) % SQ_KEYED_CACHE;
	*out = s;
	return 0;
}

/* ---- transactions ------------------------------------------------------------------------- */

int sq_begin(struct sq_conn *c)
{
	int rc;

	c->writing = 1;
	rc = sq_send(c, SQ_BEGIN_WRITE, c->be->begin_write_sql, "");
	if (rc == 0 && c->be->write_lock_sql)
		rc = sq_send(c, SQ_WRITE_LOCK, c->be->write_lock_sql, "");
	if (rc)
		sq_rollback(c);
	return rc;
}

int sq_begin_read(struct sq_conn *c)
{
	int rc;

	c->reading = 1;
	rc = sq_send(c, SQ_BEGIN_READ, c->be->begin_read_sql, "");
	c->reading = rc == 0;
	return rc;
}

int sq_commit(struct sq_conn *c)
{
	int rc;

	if (c->reading && c->be->end_read) {
		c->reading = 0;
		return c->be->end_read(c);
	}
	c->reading = c->writing = 0;
	rc = sq_run(c, SQ_COMMIT, "COMMIT", "");

	if (c->jobs_scheduled) {
		c->jobs_scheduled = 0;
		if (rc == 0)
			sq_jobs_notify(c->st);
	}
	return rc;
}

int sq_commit_send(struct sq_conn *c)
{
	int rc;

	if (c->jobs_scheduled || c->reading) /* a wake-up must follow a commit known to be done */
		return sq_commit(c);
	rc = sq_send(c, SQ_COMMIT, "COMMIT", "");
	c->writing = 0;
	return rc;
}

void sq_rollback(struct sq_conn *c)
{
	if (c)
		c->jobs_scheduled = c->reading = c->writing = 0;
	/* After some errors (I/O, full disk, out of memory) the engine has rolled back already. */
	if (!c || !c->be->in_transaction(c))
		return;
	sq_run(c, SQ_ROLLBACK, "ROLLBACK", "");
}

/* ---- columns and strings ------------------------------------------------------------------ */

void sq_col_copy(struct sq_stmt *s, int col, char *dst, size_t n)
{
	size_t len = 0;
	const char *v = s->c->be->col_text(s, col, &len);

	if (!v)
		len = 0;
	if (len >= n)
		len = n - 1;
	if (len)
		memcpy(dst, v, len);
	dst[len] = '\0';
}

int sq_col_blob_dup(struct sq_stmt *s, int col, unsigned char **out, size_t *len)
{
	size_t n = 0;
	const void *p = sq_col_blob(s, col, &n);

	*out = NULL;
	*len = 0;
	if (!p || n == 0)
		return 0;
	*out = malloc(n);
	if (!*out)
		return SE_ENOMEM;
	memcpy(*out, p, n);
	*len = n;
	return 0;
}

int sq_col_dup(struct sq_stmt *s, int col, char **out)
{
	size_t len = 0;
	const char *v;

	*out = NULL;
	if (sq_col_is_null(s, col))
		return 0;
	v = s->c->be->col_text(s, col, &len);
	if (!v)
		return SE_ENOMEM;
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
		if (c->stmts[i])
			c->be->finalize(c->stmts[i]);
	for (size_t i = 0; i < SQ_KEYED_CACHE; i++)
		if (c->keyed[i].stmt)
			c->be->finalize(c->keyed[i].stmt);
	/* Every statement is finalized first: SQLite refuses to close a connection with one. */
	if (c->db)
		c->be->close(c);
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

static int conn_open(struct store *st, const char *url, struct sq_conn **out)
{
	struct sq_conn *c;
	int rc;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return SE_ENOMEM;
	c->st = st;
	c->be = st->be;
	c->url = url;
	c->read_only = url && url == st->read_url;
	rc = c->be->open(st, c);
	if (rc) {
		conn_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

/* The calling thread's connection of KEY (to URL), opened on first use. */
static struct sq_conn *conn_of_thread(struct store *st, pthread_key_t key, const char *url)
{
	struct sq_conn *c = pthread_getspecific(key);

	if (c)
		return c;
	if (conn_open(st, url, &c) != 0)
		return NULL;
	if (pthread_setspecific(key, c) != 0) {
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

struct sq_conn *sq_conn_get(struct store *st)
{
	return conn_of_thread(st, st->key, st->url);
}

struct sq_conn *sq_conn_read(struct store *st)
{
	return st->read_url ? conn_of_thread(st, st->read_key, st->read_url) : sq_conn_get(st);
}

void store_commit_lazily(struct store *st)
{
	struct sq_conn *c = sq_conn_get(st);

	if (!c || c->lazy_commit)
		return;
	c->lazy_commit = 1;
	/* A connection that is away now gets it when it reconnects (PostgreSQL), and a failure
	 * leaves commits durable, which is only slower. */
	c->be->exec(c, c->be->lazy_commit_sql, "lazy commit");
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


static int is_postgres_url(const char *url)
{
	return url && (strncmp(url, "postgres://", 11) == 0 ||
		       strncmp(url, "postgresql://", 13) == 0 || strchr(url, '=') != NULL);
}

static int open_store(const char *data_dir, const char *url, int may_start_unreachable,
		      struct store **out)
{
	struct store *st = NULL;
	struct sq_conn *c;
	int rc;

	*out = NULL;
	if (url && *url && !is_postgres_url(url)) {
		log_error("store op=open detail=\"store.url must be postgres://, postgresql:// or a "
			  "libpq key=value string\"");
		return SE_EINVAL;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return SE_ENOMEM;
	/* The node's own directory (master key, CA files) whichever engine holds the store. */
	rc = data_dir && *data_dir ? make_dirs(data_dir) : url && *url ? 0 : SE_EINVAL;
	if (rc) {
		free(st);
		return rc;
	}
	pthread_mutex_init(&st->lock, NULL);
	pthread_mutex_init(&st->jobs_lock, NULL);
	pthread_cond_init(&st->jobs_cond, NULL);
	pthread_mutex_init(&st->schema_lock, NULL);
	pthread_mutex_init(&st->tokens_lock, NULL);
	st->locks_made = 1;
	if (url && *url) {
		st->may_start_unreachable = may_start_unreachable;
		st->be = &sq_postgres_backend;
		rc = (st->url = strdup(url)) ? 0 : SE_ENOMEM;
	} else {
		st->be = &sq_sqlite_backend;
		rc = sq_sqlite_prepare_dir(st, data_dir);
	}
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
	if (rc == 0)
		rc = sq_name_search_create(&st->names);
	if (rc)
		goto out;
	c = sq_conn_get(st);
	rc = c ? sq_migrate(c, &st->schema_version) : SE_EDB;
	if (rc == SE_EUNAVAILABLE && st->may_start_unreachable) {
		log_warn("store op=open backend=postgres detail=\"the database cannot be reached: "
			 "starting without it, reconnecting with backoff\"");
		atomic_store(&st->schema_pending, 1);
		rc = 0;
	}
	if (rc)
		goto out;
	*out = st;
	st = NULL;
out:
	store_close(st);
	return rc;
}

int store_open(const char *data_dir, const char *url, struct store **out)
{
	return open_store(data_dir, url, 0, out);
}

int store_read_from(struct store *st, const char *read_url)
{
	if (st->be != &sq_postgres_backend || !is_postgres_url(read_url)) {
		log_error("store op=open detail=\"store.read_url needs a PostgreSQL store.url\"");
		return SE_EINVAL;
	}
	if (st->read_url)
		return SE_EEXISTS;
	if (pthread_key_create(&st->read_key, conn_thread_exit) != 0)
		return SE_ENOMEM;
	st->read_key_created = 1;
	st->read_url = strdup(read_url);
	return st->read_url ? 0 : SE_ENOMEM;
}

int store_open_unreachable_ok(const char *data_dir, const char *url, struct store **out)
{
	return open_store(data_dir, url, 1, out);
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
	if (st->read_key_created)
		pthread_key_delete(st->read_key);
	if (st->locks_made) {
		pthread_mutex_lock(&st->lock);
		while ((c = st->conns) != NULL) {
			conn_unlink(st, c);
			conn_close(c);
		}
		pthread_mutex_unlock(&st->lock);
		pthread_mutex_destroy(&st->lock);
		pthread_mutex_destroy(&st->jobs_lock);
		pthread_cond_destroy(&st->jobs_cond);
		pthread_mutex_destroy(&st->schema_lock);
		pthread_mutex_destroy(&st->tokens_lock);
	}
	sq_list_anchors_destroy(st->anchors);
	sq_list_shapes_destroy(st->shapes);
	sq_name_search_destroy(st->names);
	free(st->path);
	free(st->url);
	free(st->read_url);
	free(st);
}

int store_schema_version(struct store *st)
{
	return st->schema_version;
}

const char *store_backend_name(struct store *st)
{
	return st->be->dialect == SQ_POSTGRES ? "postgres" : "sqlite";
}

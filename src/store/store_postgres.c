/* The PostgreSQL engine of the store: many nodes on one database (docs/decisions/0026). A
 * connection per thread, statements prepared once per connection from the store's SQL (whose
 * ?N parameters become $N here), text results, blobs as bytea. Inside a transaction the
 * statements whose answer nobody waits for (sq_send) are pipelined with the next one that is
 * waited for, so a transaction costs a round trip per answer it needs, not per statement. A
 * connection that breaks is reset on the next call and its statements prepared again, so a
 * database restart costs the calls in flight, not the process. */
#include "store/store_int.h"

#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/error.h"
#include "lib/timeutil.h"
#include "lib/log.h"

#define MAX_PARAMS 64 /* the most parameters one statement names */

/* A session idle in a transaction for this long is ended by the server (on_connected). */
#define IDLE_IN_WRITE_TIMEOUT "10s"
/* Every write transaction holds this advisory lock (docs/decisions/0026). */
#define WRITE_LOCK_KEY "5361617345646765" /* "SaasEdge" */

struct pg_conn {
	PGconn *pg;
	unsigned generation; /* bumped by each reset: statements of an older one are re-prepared */
	unsigned next_name;
	int64_t changes;
	int broken;          /* a statement failed as connections fail: reset before the next */
	int64_t retry_at_us; /* a broken connection is not reset again before this */
	int64_t backoff_us;
	unsigned listening;   /* generation + 1 of the connection that ran LISTEN; 0 none */
	int commit_in_flight; /* a read transaction's COMMIT sent, its answer not read yet */
	int queued; /* statements sent in pipeline mode (pg_send) whose answers are not read */
};

/* Reconnecting to a database that is away: the first retry at once, then doubling to 5 s, so
 * that callers fail fast instead of each waiting out a connect timeout. */
#define BACKOFF_FIRST_US 100000
#define BACKOFF_MAX_US   5000000

struct pg_blob {
	unsigned char *p;
	size_t n;
};

struct pg_stmt {
	struct sq_stmt base;
	char *sql; /* with $N parameters */
	/* 0 (the server infers it) for the parameters the SQL names; text for the others, which
	 * SQLite allows and a dynamic shape leaves (the server cannot infer their type). */
	Oid types[MAX_PARAMS];
	char name[16];
	unsigned generation;
	int prepared;
	int nparams;
	const char **values;
	int *lengths;
	int *formats;
	char (*ints)[24]; /* text of the integers bound */
	PGresult *res;
	int row, nrows;
	struct pg_blob *blobs; /* decoded bytea of the current row, per column */
	int nblobs;
};

static struct pg_conn *conn_of(struct sq_conn *c)
{
	return c->db;
}

static struct pg_stmt *stmt_of(struct sq_stmt *s)
{
	return (struct pg_stmt *)s;
}

/* ---- SQL text ----------------------------------------------------------------------------- */

/* SQL with SQLite's parameters (?N, or ? for the one after the highest so far) rewritten as
 * PostgreSQL's $N, outside quoted strings and identifiers. *NPARAMS is the highest number;
 * USED[n - 1] is set for each number the SQL names (up to MAX_PARAMS). */
static char *rewrite_params(const char *sql, int *nparams, unsigned char *used)
{
	size_t cap = strlen(sql) * 6 + 1; /* one '?' becomes at most "$99999" */
	char *out = malloc(cap);
	char quote = 0;
	size_t o = 0;
	int highest = 0;

	if (!out)
		return NULL;
	for (const char *p = sql; *p; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
			out[o++] = *p;
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
			out[o++] = *p;
		} else if (*p == '?') {
			int n = 0;

			while (p[1] >= '0' && p[1] <= '9' && n < 10000)
				n = n * 10 + (*++p - '0');
			if (n == 0)
				n = highest + 1;
			if (n > highest)
				highest = n;
			if (n <= MAX_PARAMS)
				used[n - 1] = 1;
			o += (size_t)snprintf(out + o, cap - o, "$%d", n);
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
	*nparams = highest;
	return out;
}

/* ---- errors ------------------------------------------------------------------------------- */

/* Maps a failed result to SE_E*, as the SQLite engine does: unique violations → SE_EEXISTS,
 * foreign key violations → SE_ENOTFOUND, a lost connection → SE_EUNAVAILABLE, anything else →
 * SE_EDB, each of the last two with a log line naming OP and the server's primary message (the
 * detail, which can quote row values, is not logged). */
static int pg_err(struct sq_conn *c, const PGresult *res, const char *op)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	if (state && strcmp(state, "23505") == 0)
		return SE_EEXISTS;
	if (state && strcmp(state, "23503") == 0)
		return SE_ENOTFOUND;
	if (!msg)
		msg = PQerrorMessage(conn_of(c)->pg);
	log_error("store op=\"%.60s\" postgres=\"%s\" detail=\"%.200s\"", op, state ? state : "",
		  msg ? msg : "");
	/* The connection broke under the statement (no SQLSTATE: libpq's own error; class 08:
	 * connection exception; 57P0x: the server shutting down): the next call reconnects. */
	if (PQstatus(conn_of(c)->pg) != CONNECTION_OK || !state || strncmp(state, "08", 2) == 0 ||
	    strncmp(state, "57P0", 4) == 0) {
		conn_of(c)->broken = 1;
		return SE_EUNAVAILABLE;
	}
	return SE_EDB;
}

static int on_connected(struct sq_conn *c);

/* Reads the answer to a read transaction's COMMIT (pg_end_read) before the connection is used
 * again; it has usually arrived by then. */
static void settle(struct pg_conn *pc)
{
	PGresult *res;

	if (!pc->commit_in_flight)
		return;
	pc->commit_in_flight = 0;
	while ((res = PQgetResult(pc->pg)) != NULL)
		PQclear(res);
}

/* 1 when C's connection is up. A broken one (the server restarted or is away) is reset, at most
 * once per backoff step; its statements are prepared again on their next use. */
static int connection_up(struct sq_conn *c)
{
	struct pg_conn *pc = conn_of(c);
	int64_t now;

	settle(pc);
	if (PQstatus(pc->pg) == CONNECTION_OK && !pc->broken)
		return 1;
	now = time_monotonic_us();
	if (now < pc->retry_at_us)
		return 0;
	PQreset(pc->pg); /* out of pipeline mode too: what was queued is lost with the session */
	pc->queued = 0;
	pc->generation++;
	pc->broken = 0;
	if (PQstatus(pc->pg) == CONNECTION_OK) {
		log_info("store op=reconnect backend=postgres result=ok");
		pc->backoff_us = 0;
		pc->retry_at_us = 0;
		if (on_connected(c) == 0)
			return 1;
		pc->broken = 1; /* the schema cannot be used yet: as if still away */
	}
	pc->backoff_us = pc->backoff_us ? pc->backoff_us * 2 : BACKOFF_FIRST_US;
	if (pc->backoff_us > BACKOFF_MAX_US)
		pc->backoff_us = BACKOFF_MAX_US;
	pc->retry_at_us = time_monotonic_us() + pc->backoff_us;
	if (pc->broken)
		return 0; /* connected, but on_connected logged why it cannot be used */
	log_warn("store op=reconnect backend=postgres result=failed retry_ms=%lld "
		 "detail=\"%.200s\"",
		 (long long)(pc->backoff_us / 1000), PQerrorMessage(pc->pg));
	return 0;
}

/* ---- statements --------------------------------------------------------------------------- */

static void blobs_clear(struct pg_stmt *ps)
{
	for (int i = 0; i < ps->nblobs; i++) {
		PQfreemem(ps->blobs[i].p);
		ps->blobs[i].p = NULL;
	}
}

static void pg_finalize(struct sq_stmt *s)
{
	struct pg_stmt *ps = stmt_of(s);

	PQclear(ps->res);
	blobs_clear(ps);
	free(ps->blobs);
	free(ps->sql);
	free(ps->values);
	free(ps->lengths);
	free(ps->formats);
	free(ps->ints);
	free(ps);
}

static int prepare_on_server(struct pg_stmt *ps)
{
	struct sq_conn *c = ps->base.c;
	struct pg_conn *pc = conn_of(c);
	PGresult *res;
	int rc = 0;

	snprintf(ps->name, sizeof(ps->name), "s%u", pc->next_name++);
	res = PQprepare(pc->pg, ps->name, ps->sql, ps->nparams, ps->types);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		rc = pg_err(c, res, ps->sql);
	} else {
		ps->generation = pc->generation;
		ps->prepared = 1;
	}
	PQclear(res);
	return rc;
}

static int pg_prepare(struct sq_conn *c, const char *sql, struct sq_stmt **out)
{
	struct pg_stmt *ps = calloc(1, sizeof(*ps));
	unsigned char used[MAX_PARAMS] = {0};
	int n;
	int rc = SE_ENOMEM;

	*out = NULL;
	if (!ps)
		return SE_ENOMEM;
	ps->base.c = c;
	ps->sql = rewrite_params(sql, &ps->nparams, used);
	if (ps->nparams > MAX_PARAMS) {
		log_error("store op=prepare detail=\"more than %d parameters\"", MAX_PARAMS);
		pg_finalize(&ps->base);
		return SE_EDB;
	}
	for (int i = 0; i < ps->nparams; i++)
		ps->types[i] = used[i] ? 0 : 25; /* 25: text */
	n = ps->nparams ? ps->nparams : 1;
	ps->values = calloc((size_t)n, sizeof(*ps->values));
	ps->lengths = calloc((size_t)n, sizeof(*ps->lengths));
	ps->formats = calloc((size_t)n, sizeof(*ps->formats));
	ps->ints = calloc((size_t)n, sizeof(*ps->ints));
	/* Prepared on the server at its first execution (and again after a reconnect). */
	if (ps->sql && ps->values && ps->lengths && ps->formats && ps->ints)
		rc = 0;
	if (rc) {
		pg_finalize(&ps->base);
		return rc;
	}
	*out = &ps->base;
	return 0;
}

static int pg_param_count(struct sq_stmt *s)
{
	return stmt_of(s)->nparams;
}

static int param_slot(struct pg_stmt *ps, int idx)
{
	if (idx < 1 || idx > ps->nparams) {
		log_error("store op=bind detail=\"parameter %d of %d\"", idx, ps->nparams);
		return -1;
	}
	return idx - 1;
}

static int pg_bind_text(struct sq_stmt *s, int idx, const char *text)
{
	struct pg_stmt *ps = stmt_of(s);
	int i = param_slot(ps, idx);

	if (i < 0)
		return SE_EDB;
	ps->values[i] = text;
	ps->lengths[i] = 0;
	ps->formats[i] = 0;
	return 0;
}

static int pg_bind_int64(struct sq_stmt *s, int idx, int64_t v)
{
	struct pg_stmt *ps = stmt_of(s);
	int i = param_slot(ps, idx);

	if (i < 0)
		return SE_EDB;
	snprintf(ps->ints[i], sizeof(ps->ints[i]), "%lld", (long long)v);
	ps->values[i] = ps->ints[i];
	ps->lengths[i] = 0;
	ps->formats[i] = 0;
	return 0;
}

static int pg_bind_blob(struct sq_stmt *s, int idx, const void *p, size_t n)
{
	struct pg_stmt *ps = stmt_of(s);
	int i = param_slot(ps, idx);

	if (i < 0 || n > (size_t)INT32_MAX)
		return SE_EDB;
	/* Binary format: bytea takes the bytes as they are (an empty blob is not NULL). */
	ps->values[i] = p ? p : "";
	ps->lengths[i] = (int)n;
	ps->formats[i] = 1;
	return 0;
}

/* Ends pipeline mode: sends a Sync after the statements queued by pg_send and reads every
 * answer. The first error is returned (the server skipped what followed it); with LAST, the
 * last statement's result is kept there when all succeeded. 0 when nothing was queued. */
static int pipeline_finish(struct sq_conn *c, PGresult **last, const char *op)
{
	struct pg_conn *pc = conn_of(c);
	int rc = 0, index = 0;
	PGresult *res;

	if (last)
		*last = NULL;
	if (PQpipelineStatus(pc->pg) == PQ_PIPELINE_OFF)
		return 0;
	if (!PQpipelineSync(pc->pg))
		rc = pg_err(c, NULL, op);
	while (rc != SE_EUNAVAILABLE) {
		ExecStatusType status;

		res = PQgetResult(pc->pg);
		if (!res) { /* the end of one statement's answer */
			if (PQstatus(pc->pg) != CONNECTION_OK || ++index > pc->queued)
				rc = pg_err(c, NULL, op);
			continue;
		}
		status = PQresultStatus(res);
		if (status == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			break;
		}
		if (status == PGRES_FATAL_ERROR && rc == 0)
			rc = pg_err(c, res, op);
		else if (last && !*last && index == pc->queued - 1 &&
			 (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK))
			*last = res, res = NULL;
		PQclear(res);
	}
	pc->queued = 0;
	if (!PQexitPipelineMode(pc->pg))
		pc->broken = 1; /* answers left unread: reset rather than misread them */
	if (rc && last) {
		PQclear(*last);
		*last = NULL;
	}
	return rc;
}

/* Makes PS ready to run: the connection up (reset if it broke), and PS prepared on the server
 * when this connection has not (or had, before a reset). Sends what pg_send queued first:
 * preparing waits for its own answer. */
static int prepared(struct pg_stmt *ps, const char *op)
{
	struct pg_conn *pc = conn_of(ps->base.c);
	int rc;

	if (!connection_up(ps->base.c))
		return SE_EUNAVAILABLE;
	if (ps->prepared && ps->generation == pc->generation)
		return 0;
	rc = pipeline_finish(ps->base.c, NULL, op);
	return rc ? rc : prepare_on_server(ps);
}

/* Queues PS in the pipeline; when it cannot be sent (the connection broke), ends the pipeline
 * and returns the error. */
static int send_prepared(struct pg_stmt *ps, const char *op)
{
	struct sq_conn *c = ps->base.c;
	struct pg_conn *pc = conn_of(c);
	int rc;

	if (PQsendQueryPrepared(pc->pg, ps->name, ps->nparams, ps->values, ps->lengths, ps->formats,
				0)) {
		pc->queued++;
		return 0;
	}
	rc = pg_err(c, NULL, op);
	pipeline_finish(c, NULL, op);
	return rc;
}

static int pg_send(struct sq_stmt *s, const char *op)
{
	struct pg_stmt *ps = stmt_of(s);
	struct sq_conn *c = s->c;
	struct pg_conn *pc = conn_of(c);
	int rc = prepared(ps, op);

	if (rc)
		return rc;
	if (PQpipelineStatus(pc->pg) == PQ_PIPELINE_OFF && !PQenterPipelineMode(pc->pg))
		return pg_err(c, NULL, op);
	return send_prepared(ps, op);
}

static int execute(struct pg_stmt *ps, const char *op)
{
	struct sq_conn *c = ps->base.c;
	struct pg_conn *pc = conn_of(c);
	ExecStatusType status;
	int rc = prepared(ps, op);

	if (rc)
		return rc;
	if (pc->queued) { /* this statement goes out with those queued: one round trip */
		rc = send_prepared(ps, op);
		if (rc == 0)
			rc = pipeline_finish(c, &ps->res, op);
		if (rc)
			return rc;
	} else {
		ps->res = PQexecPrepared(pc->pg, ps->name, ps->nparams, ps->values, ps->lengths,
					 ps->formats, 0);
	}
	status = PQresultStatus(ps->res);
	if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
		rc = pg_err(c, ps->res, op);
		PQclear(ps->res);
		ps->res = NULL;
		return rc;
	}
	pc->changes = strtoll(PQcmdTuples(ps->res), NULL, 10);
	ps->row = -1;
	ps->nrows = PQntuples(ps->res);
	if (ps->nblobs < PQnfields(ps->res)) {
		struct pg_blob *b = realloc(ps->blobs, (size_t)PQnfields(ps->res) * sizeof(*b));

		if (!b)
			return SE_ENOMEM;
		memset(b + ps->nblobs, 0, (size_t)(PQnfields(ps->res) - ps->nblobs) * sizeof(*b));
		ps->blobs = b;
		ps->nblobs = PQnfields(ps->res);
	}
	return 0;
}

static int pg_step(struct sq_stmt *s, const char *op)
{
	struct pg_stmt *ps = stmt_of(s);
	int rc;

	if (!ps->res) {
		rc = execute(ps, op);
		if (rc)
			return rc;
	}
	blobs_clear(ps);
	if (ps->row + 1 >= ps->nrows) {
		ps->row = ps->nrows;
		return 0;
	}
	ps->row++;
	return 1;
}

static void pg_reset(struct sq_stmt *s)
{
	struct pg_stmt *ps = stmt_of(s);

	PQclear(ps->res);
	ps->res = NULL;
	blobs_clear(ps);
	for (int i = 0; i < ps->nparams; i++)
		ps->values[i] = NULL;
}

static int in_row(struct pg_stmt *ps, int col)
{
	return ps->res && ps->row >= 0 && ps->row < ps->nrows && col >= 0 &&
	       col < PQnfields(ps->res);
}

static int pg_col_is_null(struct sq_stmt *s, int col)
{
	struct pg_stmt *ps = stmt_of(s);

	return !in_row(ps, col) || PQgetisnull(ps->res, ps->row, col);
}

/* Integers arrive as text; booleans (a comparison selected as a value) as t and f. */
static int64_t pg_col_int64(struct sq_stmt *s, int col)
{
	struct pg_stmt *ps = stmt_of(s);
	const char *v;

	if (pg_col_is_null(s, col))
		return 0;
	v = PQgetvalue(ps->res, ps->row, col);
	if (v[0] == 't' && v[1] == '\0')
		return 1;
	return strtoll(v, NULL, 10);
}

static const char *pg_col_text(struct sq_stmt *s, int col, size_t *len)
{
	struct pg_stmt *ps = stmt_of(s);

	*len = 0;
	if (pg_col_is_null(s, col))
		return NULL;
	*len = (size_t)PQgetlength(ps->res, ps->row, col);
	return PQgetvalue(ps->res, ps->row, col);
}

static const void *pg_col_blob(struct sq_stmt *s, int col, size_t *len)
{
	struct pg_stmt *ps = stmt_of(s);
	struct pg_blob *b;

	*len = 0;
	if (pg_col_is_null(s, col))
		return NULL;
	/* Decoded once per row and column; freed when the statement steps or resets. */
	b = &ps->blobs[col];
	if (!b->p) {
		b->p = PQunescapeBytea((const unsigned char *)PQgetvalue(ps->res, ps->row, col),
				       &b->n);
		if (!b->p)
			return NULL;
	}
	*len = b->n;
	return b->p;
}

static int64_t pg_changes(struct sq_conn *c)
{
	return conn_of(c)->changes;
}

static int pg_in_transaction(struct sq_conn *c)
{
	PGTransactionStatusType t;

	settle(conn_of(c));
	pipeline_finish(c, NULL, "rollback"); /* its error was returned already, or is moot */
	t = PQtransactionStatus(conn_of(c)->pg);

	return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

static int pg_exec(struct sq_conn *c, const char *script, const char *op)
{
	PGresult *res;
	ExecStatusType status;
	int rc = 0;

	if (!connection_up(c))
		return SE_EUNAVAILABLE;
	rc = pipeline_finish(c, NULL, op);
	if (rc)
		return rc;
	res = PQexec(conn_of(c)->pg, script);
	status = PQresultStatus(res);
	if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
		rc = pg_err(c, res, op);
	PQclear(res);
	return rc;
}

/* The schema version is the one row of saasedge_schema, made on the first open. */
static int pg_version_get(struct sq_conn *c, int *version)
{
	PGresult *res;
	int rc = 0;

	if (!connection_up(c))
		return SE_EUNAVAILABLE;
	rc = pipeline_finish(c, NULL, "schema version"); /* the migration's BEGIN */
	if (rc)
		return rc;
	res = PQexec(conn_of(c)->pg, "SELECT version FROM saasedge_schema");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		rc = pg_err(c, res, "schema version");
	} else {
		*version = atoi(PQgetvalue(res, 0, 0));
	}
	PQclear(res);
	return rc;
}

static int pg_version_set(struct sq_conn *c, int version)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "UPDATE saasedge_schema SET version = %d", version);
	return pg_exec(c, sql, "schema version");
}

/* ---- connections -------------------------------------------------------------------------- */

/* Notices (CREATE … IF NOT EXISTS that found it) are not errors. */
static void quiet_notice(void *arg, const char *message)
{
	(void)arg;
	log_debug("store backend=postgres notice=\"%.200s\"", message);
}

/* 1 when the database has the version table, 0 when not, < 0 when it could not be asked. */
static int schema_table_exists(struct sq_conn *c)
{
	PGresult *res;
	int rc;

	if (!connection_up(c))
		return SE_EUNAVAILABLE;
	rc = pipeline_finish(c, NULL, "schema bootstrap");
	if (rc)
		return rc;
	res = PQexec(conn_of(c)->pg, "SELECT to_regclass('saasedge_schema') IS NOT NULL");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		rc = pg_err(c, res, "schema bootstrap");
	else
		rc = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return rc;
}

/* Makes the version table if this database has none: under a session advisory lock, since two
 * nodes starting on a new database would otherwise race on CREATE TABLE. Only then: the lock
 * is the fleet's write lock, which a node must not wait for to connect (its holder may be a
 * node that hangs in the middle of a write, until the server ends its session). */
static int bootstrap_schema_table(struct sq_conn *c)
{
	static const char sql[] =
	    "SELECT pg_advisory_lock(" WRITE_LOCK_KEY ");"
	    "CREATE TABLE IF NOT EXISTS saasedge_schema (version INTEGER NOT NULL);"
	    "INSERT INTO saasedge_schema SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM saasedge_schema);"
	    "SELECT pg_advisory_unlock(" WRITE_LOCK_KEY ");";
	int rc = schema_table_exists(c);

	return rc != 0 ? (rc > 0 ? 0 : rc) : pg_exec(c, sql, "schema bootstrap");
}

static int pg_open(struct store *st, struct sq_conn *c)
{
	/* Later keys win: the URL's own settings override these defaults. */
	const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
	const char *values[] = {"5", "saasedge", c->url, NULL};
	struct pg_conn *pc = calloc(1, sizeof(*pc));

	if (!pc)
		return SE_ENOMEM;
	c->db = pc;
	pc->pg = PQconnectdbParams(keys, values, 1);
	if (!pc->pg)
		return SE_ENOMEM;
	PQsetNoticeProcessor(pc->pg, quiet_notice, NULL);
	if (PQstatus(pc->pg) != CONNECTION_OK) {
		/* libpq's message names host and port, never the password. */
		log_error("store op=open backend=postgres detail=\"%.300s\"",
			  PQerrorMessage(pc->pg));
		/* store_open says so at once (unless the node may start without its database); a
		 * thread of a running node has a connection that reconnects with backoff, like one
		 * that broke. */
		if (st->schema_version == 0 && !st->may_start_unreachable)
			return SE_EDB;
		pc->backoff_us = BACKOFF_FIRST_US;
		pc->retry_at_us = time_monotonic_us() + pc->backoff_us;
		return 0;
	}
	if (on_connected(c) == 0)
		return 0;
	if (!st->may_start_unreachable)
		return SE_EDB;
	pc->broken = 1;
	pc->backoff_us = BACKOFF_FIRST_US;
	pc->retry_at_us = time_monotonic_us() + pc->backoff_us;
	return 0;
}

/* A connection was just made: the version table exists before the store reads it, and a store
 * opened without its database checks the schema now. */
static int on_connected(struct sq_conn *c)
{
	int rc;

	if (c->read_only) /* a standby takes no writes: the primary's connections see to it */
		return 0;
	/* A write holds the fleet's one write lock (decision 0026): a node that stops in the
	 * middle of one (a hung process, a paused machine) must not hold it, and every other
	 * node's writes, for longer than this. Our transactions never wait on their client for
	 * more than a moment (their statements are sent together). */
	rc = pg_exec(c, "SET idle_in_transaction_session_timeout = '" IDLE_IN_WRITE_TIMEOUT "'",
		     "session settings");
	if (rc == 0 && c->st->schema_version == 0)
		rc = bootstrap_schema_table(c);
	if (rc == 0)
		rc = sq_schema_catch_up(c);
	/* A setting of the session: a reconnect starts a new one. */
	if (rc == 0 && c->lazy_commit)
		rc = pg_exec(c, sq_postgres_backend.lazy_commit_sql, "lazy commit");
	return rc;
}

static void pg_close(struct sq_conn *c)
{
	struct pg_conn *pc = conn_of(c);

	PQfinish(pc->pg);
	free(pc);
	c->db = NULL;
}

/* ---- notifications ------------------------------------------------------------------------ */

static void sleep_us(int64_t us)
{
	struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};

	nanosleep(&ts, NULL);
}

/* Frees every notification libpq has read; 1 when there was one. */
static int drain_notifies(PGconn *pg)
{
	PGnotify *n;
	int got = 0;

	while ((n = PQnotifies(pg)) != NULL) {
		PQfreemem(n);
		got = 1;
	}
	return got;
}

static int pg_wait_notify(struct sq_conn *c, const char *channel, int64_t timeout_us)
{
	struct pg_conn *pc = conn_of(c);
	struct pollfd p;
	char sql[96];

	if (!connection_up(c)) {
		sleep_us(timeout_us); /* the caller polls, as without notifications */
		return 0;
	}
	if (pc->listening != pc->generation + 1) { /* a LISTEN does not outlive its session */
		snprintf(sql, sizeof(sql), "LISTEN %s", channel);
		if (pg_exec(c, sql, "listen") != 0) {
			sleep_us(timeout_us);
			return 0;
		}
		pc->listening = pc->generation + 1;
		log_info("store op=listen backend=postgres channel=%s", channel);
	}
	if (drain_notifies(pc->pg)) /* read along with the answers to earlier statements */
		return 1;
	p.fd = PQsocket(pc->pg);
	p.events = POLLIN;
	p.revents = 0;
	if (poll(&p, 1, (int)(timeout_us / 1000)) <= 0)
		return 0;
	if (!PQconsumeInput(pc->pg)) {
		pc->broken = 1; /* the server went away: reset on the next use */
		return 0;
	}
	return drain_notifies(pc->pg);
}

/* ---- read transactions -------------------------------------------------------------------- */

static int pg_end_read(struct sq_conn *c)
{
	struct pg_conn *pc = conn_of(c);

	if (pipeline_finish(c, NULL, "commit") != 0 || !PQsendQuery(pc->pg, "COMMIT")) {
		pc->broken = 1; /* the server went away: reset on the next use */
		return 0;       /* what was read stands: the snapshot was whole */
	}
	pc->commit_in_flight = 1;
	return 0;
}

const struct sq_backend sq_postgres_backend = {
    .dialect = SQ_POSTGRES,
    .open = pg_open,
    .close = pg_close,
    .prepare = pg_prepare,
    .finalize = pg_finalize,
    .param_count = pg_param_count,
    .bind_text = pg_bind_text,
    .bind_int64 = pg_bind_int64,
    .bind_blob = pg_bind_blob,
    .step = pg_step,
    .reset = pg_reset,
    .col_is_null = pg_col_is_null,
    .col_int64 = pg_col_int64,
    .col_text = pg_col_text,
    .col_blob = pg_col_blob,
    .changes = pg_changes,
    .in_transaction = pg_in_transaction,
    .exec = pg_exec,
    .version_get = pg_version_get,
    .version_set = pg_version_set,
    .wait_notify = pg_wait_notify,
    .end_read = pg_end_read,
    .send = pg_send,
    .begin_write_sql = "BEGIN",
    .write_lock_sql = "SELECT pg_advisory_xact_lock(" WRITE_LOCK_KEY ")",
    /* One snapshot for every statement of a multi-statement read, as SQLite's BEGIN gives. */
    .begin_read_sql = "BEGIN ISOLATION LEVEL REPEATABLE READ",
    .lazy_commit_sql = "SET synchronous_commit = off",
    /* currval: the value this session's last nextval gave, whatever other sessions took since. */
    .host_seq_from_event_sql = "UPDATE hostnames SET change_seq = "
			       "currval(pg_get_serial_sequence('events', 'seq')) WHERE id = ?1",
};

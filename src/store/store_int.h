/* Private to the store: the connection of a thread, its cache of prepared statements, the
 * backend (SQLite or PostgreSQL) under them, and the small helpers every store_*.c file
 * shares. The store_*.c files write SQL once, with ?N parameters, in the dialect both engines
 * speak; sq_sql picks between two texts where they do not. Nothing outside src/store includes
 * this header. */
#ifndef SAASEDGE_STORE_STORE_INT_H
#define SAASEDGE_STORE_STORE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* One slot per fixed SQL statement. The SQL text lives next to its only user (sq_prepare takes
 * it), so each file keeps its own queries; this enum only reserves cache slots. */
enum sq_stmt_id {
	SQ_BEGIN_WRITE,
	SQ_WRITE_LOCK,
	SQ_BEGIN_READ,
	SQ_COMMIT,
	SQ_ROLLBACK,
	SQ_ZONE_INSERT,
	SQ_ZONE_GET,
	SQ_ZONE_FIND,
	SQ_ZONE_COUNT_INC,
	SQ_ZONE_COUNT_DEC,
	SQ_ZONE_EXISTS,
	SQ_ZONE_HOSTNAME_COUNT,
	SQ_ZONE_LIST_ACCOUNT,
	SQ_ZONE_COUNT_ACCOUNT,
	SQ_TOKEN_INSERT,
	SQ_TOKEN_FIND,
	SQ_ACCOUNT_INSERT,
	SQ_ACCOUNT_GET,
	SQ_ACCOUNT_OLDEST,
	SQ_ACCOUNT_INSERT_DEFAULT,
	SQ_HOST_INSERT,
	SQ_HOST_GET,
	SQ_HOST_FIND_BY_NAME,
	SQ_HOST_STATE,
	SQ_HOST_UPDATE,
	SQ_HOST_DELETE,
	SQ_HOST_WILDCARD_OF_OTHER_ZONE,
	SQ_HOST_UNDER_OTHER_ZONE,
	SQ_PACK_INSERT,
	SQ_PACK_UPDATE,
	SQ_PACKS_DELETE,
	SQ_EVENT_INSERT,
	SQ_EVENT_SEND,
	SQ_EVENT_HOST_SEQ,
	SQ_EVENTS_SINCE,
	SQ_FALLBACK_GET,
	SQ_FALLBACK_STATUS,
	SQ_FALLBACK_UPSERT,
	SQ_FALLBACK_DELETE,
	SQ_FALLBACK_PENDING,
	SQ_FALLBACK_CHECKED,
	SQ_JOB_RESCHEDULE,
	SQ_JOB_INSERT,
	SQ_JOB_LEASE,
	SQ_JOB_FINISH,
	SQ_JOB_RETRY,
	SQ_JOB_COUNT,
	SQ_JOBS_DELETE_SUBJECT,
	SQ_JOBS_CLEANUP_PACKS,
	SQ_JOB_PAYLOAD,
	SQ_KEY_INSERT,
	SQ_KEY_GET,
	SQ_KEY_DELETE,
	SQ_KEYS_DELETE_FOR_HOSTNAME,
	SQ_CERT_PACK_HOST,
	SQ_CERT_OLD_KEY_DELETE,
	SQ_CERT_DELETE_TYPE,
	SQ_CERT_INSERT,
	SQ_PACK_STATUS_SET,
	SQ_EDGE_ENTRY,
	SQ_EVENTS_LAST,
	SQ_CHALLENGE_PUT,
	SQ_CHALLENGE_GET,
	SQ_CHALLENGE_DELETE_PACK,
	SQ_ISSUANCE_GET,
	SQ_ISSUANCE_LEASE_CHECK,
	SQ_ISSUANCE_PUT,
	SQ_ISSUANCE_STATE_ONLY,
	SQ_ISSUANCE_STATE_CHECK,
	SQ_ISSUANCE_PACK,
	SQ_ISSUANCE_PACK_SET,
	SQ_ISSUANCE_HOST_SET,
	SQ_ISSUANCE_JOB_RETRY,
	SQ_ISSUANCE_JOB_FINISH,
	SQ_ACME_ACCOUNT_GET,
	SQ_ACME_ACCOUNT_PUT,
	SQ_PACK_CERTS,
	SQ_CSR_INSERT,
	SQ_CSR_KEY_INSERT,
	SQ_CSR_KEY_DELETE,
	SQ_CUSTOM_KEY_INSERT,
	SQ_CSR_GET,
	SQ_CSR_COUNT,
	SQ_CSR_PAGE_ASC,
	SQ_CSR_PAGE_DESC,
	SQ_CSR_IN_USE,
	SQ_CSR_DELETE,
	SQ_CUSTOM_HOST_CHECK,
	SQ_CUSTOM_KEYS_DROP,
	SQ_CUSTOM_PACKS_DROP,
	SQ_CUSTOM_PACK_INSERT,
	SQ_CUSTOM_HOST_SET,
	SQ_CUSTOM_JOBS_DROP,
	SQ_CUSTOM_WATCH,
	SQ_CUSTOM_CERT_FIND,
	SQ_CUSTOM_CERT_KEY_DELETE,
	SQ_CUSTOM_CERT_DELETE,
	SQ_CUSTOM_PACK_TOUCH,
	SQ_CUSTOM_PACK_STATUS,
	SQ_CUSTOM_CARRY_KEY,
	SQ_CUSTOM_CARRY_CERT,
	SQ_CERT_SUMMARIES,
	SQ_ANCHOR_SCAN,
	SQ_ZONE_ROWS_AFTER,
	SQ_NAME_SEARCH_SCAN,
	SQ_ANCHOR_PAGE,
	SQ_ANCHOR_PAGE_DESC,
	SQ_ZONE_LIST_VERSION,
	SQ_ZONE_SSL_COUNT,
	SQ_CUSTOM_HOST_SEQ,
	SQ_TICKET_KEY_INSERT,
	SQ_TICKET_KEYS_RECENT,
	SQ_TICKET_KEYS_PRUNE,
	SQ_JOB_NEXT_DUE,
	SQ_KEY_POOL_COUNT,
	SQ_KEY_POOL_CLAIM,
	SQ_APPROVAL_PUT,
	SQ_APPROVAL_WITHDRAW,
	SQ_APPROVAL_FIND,
	SQ_APPROVAL_OF_PACK,
	SQ_APPROVAL_APPROVE,
	SQ_DNS_RECORD_PUT,
	SQ_DNS_RECORDS_GET,
	SQ_DNS_RECORDS_DELETE_PACK,
	SQ_DNS_RECORDS_ALL,
	SQ_EDGE_HEARTBEAT,
	SQ_EDGE_REMOVE,
	SQ_EDGES_PRUNE,
	SQ_EDGES_LIST,
	SQ_DEPLOY_CANDIDATES,
	SQ_CA_ORDERS_PRUNE,
	SQ_CA_ORDERS_COUNT,
	SQ_CA_ORDERS_NTH,
	SQ_CA_FILE_GET,
	SQ_CA_FILES_ANY,
	SQ_CA_FILE_PUT,
	SQ_CA_ORDERS_ADD,
	SQ_WEBHOOK_DEST_INSERT,
	SQ_WEBHOOK_DEST_GET,
	SQ_WEBHOOK_DEST_LIST,
	SQ_WEBHOOK_DEST_UPDATE,
	SQ_WEBHOOK_DEST_DELETE,
	SQ_ALERT_POLICY_INSERT,
	SQ_ALERT_POLICY_GET,
	SQ_ALERT_POLICY_LIST,
	SQ_ALERT_POLICY_UPDATE,
	SQ_ALERT_POLICY_DELETE,
	SQ_WEBHOOK_DELIVERY_INSERT,
	SQ_WEBHOOK_CURSOR_GET,
	SQ_WEBHOOK_CURSOR_MOVE,
	SQ_WEBHOOK_LEASE,
	SQ_WEBHOOK_DEST_URL,
	SQ_WEBHOOK_FINISH,
	SQ_WEBHOOK_DEST_SEEN,
	SQ_WEBHOOK_COUNT,
	SQ_WEBHOOK_PAGE,
	SQ_GAUGE_JOBS,
	SQ_GAUGE_EXPIRING,
	SQ_GAUGE_WEBHOOK_BACKLOG,
	SQ_GAUGE_CA_ORDERS,
	SQ_STMT_COUNT
};

/* Dynamic statements (the hostname list) cached by a key describing their shape. */
#define SQ_KEYED_CACHE 32

struct sq_stmt;
struct sq_conn;

struct sq_keyed_stmt {
	unsigned key;
	struct sq_stmt *stmt;
};

enum sq_dialect { SQ_SQLITE, SQ_POSTGRES };

/* What a database engine provides (store_sqlite.c, store_postgres.c). Statements are bound,
 * stepped and reset as SQLite's are; text and blobs are bound without a copy and must live until
 * the reset. Every int function returns 0 (step: 1 for a row, 0 when done) or a negative SE_E*
 * code, already logged with OP where it has one. */
struct sq_backend {
	enum sq_dialect dialect;
	/* Opens C's connection to ST's database (c->db); configures it. */
	int (*open)(struct store *st, struct sq_conn *c);
	void (*close)(struct sq_conn *c);
	int (*prepare)(struct sq_conn *c, const char *sql, struct sq_stmt **out);
	void (*finalize)(struct sq_stmt *s);
	int (*param_count)(struct sq_stmt *s);
	int (*bind_text)(struct sq_stmt *s, int idx, const char *text);
	int (*bind_int64)(struct sq_stmt *s, int idx, int64_t v);
	int (*bind_blob)(struct sq_stmt *s, int idx, const void *p, size_t n);
	int (*step)(struct sq_stmt *s, const char *op);
	void (*reset)(struct sq_stmt *s);
	int (*col_is_null)(struct sq_stmt *s, int col);
	int64_t (*col_int64)(struct sq_stmt *s, int col);
	/* NUL-terminated; *LEN its length. NULL for a NULL column. */
	const char *(*col_text)(struct sq_stmt *s, int col, size_t *len);
	const void *(*col_blob)(struct sq_stmt *s, int col, size_t *len);
	/* Rows changed by the last INSERT, UPDATE or DELETE stepped on C. */
	int64_t (*changes)(struct sq_conn *c);
	/* 1 while C is inside a transaction. */
	int (*in_transaction)(struct sq_conn *c);
	/* Runs SCRIPT (several statements, no parameters). */
	int (*exec)(struct sq_conn *c, const char *script, const char *op);
	/* The schema version, and writing it inside the migration's transaction. */
	int (*version_get)(struct sq_conn *c, int *version);
	int (*version_set)(struct sq_conn *c, int version);
	/* Waits up to TIMEOUT_US for a notification on CHANNEL, listening on C from the first call
	 * (and again after a reconnect): 1 when one came, 0 when none did. NULL for an engine
	 * without notifications. */
	int (*wait_notify)(struct sq_conn *c, const char *channel, int64_t timeout_us);
	/* Ends a read transaction without waiting for the server: nothing was written, so the
	 * answer need not wait for the COMMIT's round trip. NULL: commit as any transaction. */
	int (*end_read)(struct sq_conn *c);
	/* Sends S (bound) without waiting for its answer, which is read with that of the next
	 * statement that waits; an error of S is returned there. NULL: S is stepped at once. */
	int (*send)(struct sq_stmt *s, const char *op);
	const char *begin_write_sql;
	const char *write_lock_sql; /* run after begin_write_sql when not NULL */
	const char *begin_read_sql;
	/* Makes a connection's commits stop waiting for the disk (store_commit_lazily). */
	const char *lazy_commit_sql;
	/* Sets hostname ?1's change_seq to the sequence of the event this connection appended
	 * last, which it need not have read (sq_event_and_bump). */
	const char *host_seq_from_event_sql;
};

extern const struct sq_backend sq_sqlite_backend;
extern const struct sq_backend sq_postgres_backend;

/* The schema of each engine (migrations.c, migrations_postgres.c) in order: [i] brings version
 * i to i + 1. The same version numbers describe the same tables. */
extern const char *const sq_sqlite_migrations[];
extern const int sq_sqlite_migration_count;
extern const char *const sq_postgres_migrations[];
extern const int sq_postgres_migration_count;

/* A prepared statement: each backend's own record starts with this. */
struct sq_stmt {
	struct sq_conn *c;
};

/* A thread's connection. Only its thread uses it; the store's list links every live one so that
 * store_close can close them all. */
struct sq_conn {
	const struct sq_backend *be;
	void *db; /* the backend's handle */
	struct store *st;
	const char *url; /* PostgreSQL: the server it connects to (st->url or st->read_url) */
	int read_only;   /* a connection to the read replica: never writes, never migrates */
	struct sq_conn *prev, *next;
	struct sq_stmt *stmts[SQ_STMT_COUNT];
	struct sq_keyed_stmt keyed[SQ_KEYED_CACHE];
	unsigned keyed_next; /* round-robin eviction cursor */
	int jobs_scheduled;  /* the open transaction made a job due: wake the workers on commit */
	int reading;         /* the open transaction is a read (sq_begin_read) */
	int writing;         /* the open transaction is a write (sq_begin) */
	int lazy_commit;     /* store_commit_lazily: set again on every reconnect */
};

#define SQ_TOKEN_CACHE 64

struct store {
	const struct sq_backend *be;
	char *path;        /* SQLite: DATA_DIR/saasedge.db */
	char *url;         /* PostgreSQL: the libpq connection string */
	char *read_url;    /* PostgreSQL: a hot standby for the reads that may lag, or NULL */
	pthread_key_t key; /* the calling thread's struct sq_conn */
	pthread_key_t read_key; /* … and its connection to read_url */
	int key_created, read_key_created;
	int locks_made;
	pthread_mutex_t lock; /* guards conns */
	struct sq_conn *conns;
	int schema_version;
	/* store_open_unreachable_ok: the database could not be reached at open, so the schema is
	 * checked (and migrated) by the first connection that reaches it. */
	int may_start_unreachable;
	atomic_int schema_pending;
	pthread_mutex_t schema_lock;
	/* In-process wake-up of the issuer's workers when a job is scheduled here (other processes'
	 * jobs are found by polling): a generation counter bumped after each such commit. */
	pthread_mutex_t jobs_lock;
	pthread_cond_t jobs_cond;
	uint64_t jobs_generation;
	/* Tokens found lately (store_zones.c): a token never changes once made, and saving the
	 * round trip matters on PostgreSQL, where every API request starts with this lookup. */
	pthread_mutex_t tokens_lock;
	struct store_token tokens[SQ_TOKEN_CACHE];
	int64_t tokens_until_us[SQ_TOKEN_CACHE];
	unsigned tokens_next;
	struct list_anchors *anchors; /* store_list_anchors.c */
	struct list_shapes *shapes;   /* store_list_shape_anchors.c */
	struct name_search *names;    /* store_name_search.c */
};

/* ---- connections and statements (store_conn.c) -------------------------------------------- */

/* The calling thread's connection, opened and configured on first use. NULL when it cannot be
 * opened (already logged); callers then return SE_EDB. */
struct sq_conn *sq_conn_get(struct store *st);
/* The same for a read that may lag behind the last commit (store_read_from): the thread's
 * connection to the read replica when there is one, else sq_conn_get's. */
struct sq_conn *sq_conn_read(struct store *st);

/* SQLite: makes the database file in DATA_DIR (0600) and sets st->path. */
int sq_sqlite_prepare_dir(struct store *st, const char *data_dir);

/* SQL for C's engine: LITE for SQLite, PG for PostgreSQL (where the dialects differ). */
static inline const char *sq_sql(const struct sq_conn *c, const char *lite, const char *pg)
{
	return c->be->dialect == SQ_POSTGRES ? pg : lite;
}

/* Sets *OUT to the cached statement ID of C, preparing SQL on first use. The statement stays
 * owned by C. */
int sq_prepare(struct sq_conn *c, enum sq_stmt_id id, const char *sql, struct sq_stmt **out);
/* The cached dynamic statement of shape KEY, or NULL when not cached. */
struct sq_stmt *sq_keyed_find(struct sq_conn *c, unsigned key);
/* Prepares SQL and caches it under KEY (evicting the oldest slot when full); owned by C. */
int sq_keyed_add(struct sq_conn *c, unsigned key, const char *sql, struct sq_stmt **out);

/* Binding parameter IDX (1-based) of S; text and blobs are borrowed until sq_reset. TEXT NULL
 * binds NULL. 0 or SE_EDB (logged). */
int sq_bind_text(struct sq_stmt *s, int idx, const char *text);
int sq_bind_int64(struct sq_stmt *s, int idx, int64_t v);
int sq_bind_blob(struct sq_stmt *s, int idx, const void *p, size_t n);

/* Steps S: 1 when a row is ready, 0 when done, or a negative SE_E* code (logged with OP). */
int sq_step(struct sq_conn *c, struct sq_stmt *s, const char *op);
/* Resets S and clears its bindings so cached statements never keep borrowed pointers. NULL-safe. */
void sq_reset(struct sq_stmt *s);

/* Columns of the current row of S. */
int sq_col_is_null(struct sq_stmt *s, int col);
int64_t sq_col_int64(struct sq_stmt *s, int col);
int sq_col_int(struct sq_stmt *s, int col);
/* NULL for a NULL column. */
const char *sq_col_text(struct sq_stmt *s, int col);
/* The bytes of a blob column (NULL and *LEN 0 for NULL or empty). */
const void *sq_col_blob(struct sq_stmt *s, int col, size_t *len);
/* Rows changed by the last statement run on C. */
int64_t sq_changes(struct sq_conn *c);

/* Prepares ID, binds parameters 1..n from FMT, runs the statement to completion and resets it:
 * for statements that return no rows; sq_changes(c) then tells how many rows changed.
 * FMT has one letter per parameter: 't' const char * (NULL binds NULL), 'i' int, 'I' int64_t,
 * 'b' const void * then size_t (a blob). Text and blobs are bound without a copy. A FMT whose
 * length is not the statement's parameter count is refused (SE_EDB, logged). */
int sq_run(struct sq_conn *c, enum sq_stmt_id id, const char *sql, const char *fmt, ...);
/* As sq_run, on ST's connection in a write transaction of its own, committed when the
 * statement changed a row: SE_ENOTFOUND when it changed none. */
int sq_write_one(struct store *st, enum sq_stmt_id id, const char *sql, const char *fmt, ...);
/* As sq_run, for a statement of a transaction whose caller needs to know only that it
 * succeeded (not its rows, not sq_changes): on PostgreSQL it goes out with the next statement
 * that waits for an answer, in one round trip with it, and its error, if any, is returned by
 * that statement (the transaction is lost either way, as any failed statement loses it on
 * PostgreSQL). Outside a transaction, and on SQLite, it is sq_run. */
int sq_send(struct sq_conn *c, enum sq_stmt_id id, const char *sql, const char *fmt, ...);
/* Prepares ID, binds FMT and steps once into *OUT: 1 row ready, 0 no row, or < 0. The caller
 * reads the row and calls sq_reset(*OUT). */
int sq_query(struct sq_conn *c, enum sq_stmt_id id, const char *sql, struct sq_stmt **out,
	     const char *fmt, ...);

/* A write transaction: writers take one lock up front (SQLite's BEGIN IMMEDIATE, a PostgreSQL
 * advisory lock), so two writers never deadlock and every read-then-write inside sees no
 * other writer (docs/decisions/0026). */
int sq_begin(struct sq_conn *c);
/* A consistent snapshot for multi-statement reads. */
int sq_begin_read(struct sq_conn *c);
int sq_commit(struct sq_conn *c);
/* As sq_commit, without waiting: on PostgreSQL the COMMIT goes out with the next statement that
 * waits for an answer (which runs after it, outside the transaction) and any error of the
 * transaction is returned there; the caller then calls sq_rollback. On SQLite, sq_commit. */
int sq_commit_send(struct sq_conn *c);
/* Rolls back the open transaction, if any (the engine may already have). NULL-safe. */
void sq_rollback(struct sq_conn *c);

/* Copies text column COL into DST of size N, truncating; NULL reads as "". */
void sq_col_copy(struct sq_stmt *s, int col, char *dst, size_t n);
/* *OUT = malloc'd copy of text column COL, or NULL when the column is NULL; SE_ENOMEM. */
int sq_col_dup(struct sq_stmt *s, int col, char **out);
/* *OUT = malloc'd copy of blob column COL (*LEN bytes), or NULL and 0 when it is NULL or
 * empty; SE_ENOMEM. */
int sq_col_blob_dup(struct sq_stmt *s, int col, unsigned char **out, size_t *len);

/* ---- schema (migrations.c) ---------------------------------------------------------------- */

/* Applies every pending migration of C's backend, each in its own write transaction so that two
 * processes opening the store at once apply each exactly once; *VERSION is the resulting
 * version. SE_EDB when the database is newer than this program. */
int sq_migrate(struct sq_conn *c, int *version);
/* Called by a backend when C has just connected: when the store opened without its database,
 * the first connection to reach it checks and migrates the schema (once, whichever thread). 0,
 * or the error that keeps the schema from being used (already logged). */
int sq_schema_catch_up(struct sq_conn *c);

/* ---- shared steps of write transactions (all run inside the caller's transaction) --------- */

/* store_zones.c: adds 1 to the zone's hostname count if below quota (SE_EQUOTA otherwise,
 * SE_ENOTFOUND when the zone is missing), or subtracts 1 when DELTA < 0. */
int sq_zone_count_add(struct sq_conn *c, const char *zone_id, int delta);

struct sq_event {
	const char *zone_id;
	const char *subject_id;
	const char *kind;
	const char *hostname;
	const char *old_status;
	const char *new_status;
};

/* store_events.c: appends EV and sets *SEQ to its sequence number. */
int sq_event_append(struct sq_conn *c, const struct sq_event *ev, int64_t *seq);
/* Appends EV without waiting for the answer (sq_send). */
int sq_event_send(struct sq_conn *c, const struct sq_event *ev);

/* store_webhook_deliveries.c: inserts D (pending, due at D->next_attempt_us). */
int sq_webhook_delivery_insert(struct sq_conn *c, const struct store_webhook_delivery *d);

/* ---- pack status moves (store_pack_moves.c) ----------------------------------------------- */

/* The hostname a pack belongs to, and the pack's status. */
struct sq_pack_owner {
	char hostname_id[37];
	char zone_id[33];
	char hostname[256];
	char status[32];
	int64_t change_seq; /* the hostname's */
};

int sq_pack_owner_load(struct sq_conn *c, const char *pack_id, struct sq_pack_owner *po);
/* Appends EV and records its sequence on EV's hostname, so that the edges reload it, and into
 * *SEQ when not NULL. What need not be read goes out without waiting for its answer (sq_send):
 * an error comes with the answer to the transaction's next statement that waits, its COMMIT at
 * the latest. */
int sq_event_and_bump(struct sq_conn *c, const struct sq_event *ev, int64_t *seq);

/* What a move did: the status before and after, and the hostname's change sequence after. */
struct sq_pack_moved {
	char from[32], to[32];
	int64_t seq;
	int moved; /* the status changed (an "ssl.status" event was appended) */
};

/* Moves PACK_ID by EV within C's write transaction, as store_pack_move describes. */
int sq_pack_move(struct sq_conn *c, const char *pack_id, enum pack_event ev, int64_t seen_seq,
		 const char *validation_errors_json, struct sq_pack_moved *out);
/* The same move from PO, read in this write transaction (so nobody changed it since), its writes
 * sent without waiting; the event's sequence into *SEQ, or with SEQ NULL not waited for (out->seq
 * then stays PO's). */
int sq_pack_move_loaded(struct sq_conn *c, const char *pack_id, const struct sq_pack_owner *po,
			enum pack_event ev, int64_t seen_seq, const char *validation_errors_json,
			struct sq_pack_moved *out, int64_t *seq);

/* store_jobs.c: makes the job KIND/SUBJECT_ID due at RUN_AT_US, creating it when missing and
 * otherwise dropping its lease (the holder's token stops working). */
int sq_job_schedule(struct sq_conn *c, const char *kind, const char *subject_id, int64_t run_at_us);
/* Schedules the first job of KIND for SUBJECT_ID, a row made in this transaction (so it has
 * none yet), without waiting for the answer (sq_send). */
int sq_job_add(struct sq_conn *c, const char *kind, const char *subject_id, int64_t run_at_us);
/* store_jobs.c: wakes this process's workers waiting in store_jobs_wait (sq_commit calls it after
 * a transaction that scheduled a job). */
void sq_jobs_notify(struct store *st);
/* store_jobs.c: deletes every job about SUBJECT_ID. */
int sq_jobs_delete_subject(struct sq_conn *c, const char *subject_id);
/* store_jobs.c: a "pack_cleanup" job, due now, for each pack of HOSTNAME_ID that has issuer
 * state, carrying that state (the packs are about to be deleted). */
int sq_jobs_cleanup_packs(struct sq_conn *c, const char *hostname_id);

/* store_keys.c: deletes the private keys owned by the certificate packs of HOSTNAME_ID. */
int sq_keys_delete_for_hostname(struct sq_conn *c, const char *hostname_id);

/* ---- hostname records (store_hostnames.c, used by store_hostname_list.c) ------------------ */

/* The columns sq_hostname_read expects, from hostnames h LEFT JOIN cert_packs p. */
#define SQ_HOSTNAME_COLUMNS                                                                        \
	"h.id, h.zone_id, h.hostname, h.status, h.ownership_token, h.custom_metadata, "            \
	"h.custom_origin_server, h.custom_origin_sni, h.verification_errors, h.created_at, "       \
	"h.updated_at, h.change_seq, h.ssl_enabled, h.ssl_pack_id, p.status, h.ssl_method, "       \
	"h.ssl_type, h.ssl_bundle_method, h.ssl_ca, h.ssl_wildcard, h.ssl_settings, "              \
	"p.validation_records, p.validation_errors, COALESCE(p.custom, 0), "                       \
	"COALESCE(p.uploaded_on, 0), COALESCE(p.custom_csr_id, ''), "                              \
	"COALESCE(p.certificate_authority, '')"
#define SQ_HOSTNAME_FROM  "hostnames h LEFT JOIN cert_packs p ON p.id = h.ssl_pack_id"
#define SQ_HOSTNAME_NCOLS 27 /* how many SQ_HOSTNAME_COLUMNS names */

/* Inserts CERT (borrowed) with the facts the API shows of it, read from its leaf once here;
 * sent without waiting for the answer (sq_send). */
int sq_certificate_insert(struct sq_conn *c, const struct store_certificate *cert);
/* Inserts CERT in place of its pack's certificate of the same key type (and that one's private
 * key, unless CERT reuses it). SE_EINVAL for a certificate without leaf, id, pack or known key
 * type. Sent without waiting, like sq_certificate_insert. */
int sq_certificate_replace(struct sq_conn *c, const struct store_certificate *cert);

/* ---- deep pages in creation order (store_list_anchors.c) ----------------------------------- */

struct list_anchors;

int sq_list_anchors_create(struct list_anchors **out);
void sq_list_anchors_destroy(struct list_anchors *a);
/* The zone's hostname at POSITION (0-based, creation order) is the row SKIP entries after
 * *ANCHOR_RID in rid order (SKIP < 1024). TOTAL is the zone's hostname count read in the
 * caller's read transaction, which every read here joins. SE_EDB when rows and count disagree. */
int sq_list_anchor(struct sq_conn *c, const char *zone_id, int64_t total, int64_t position,
		   int64_t *anchor_rid, int64_t *skip);
/* How many of the zone's hostnames have a rid above RID, into *N. */
int sq_zone_rows_after(struct sq_conn *c, const char *zone_id, int64_t rid, int64_t *n);

/* ---- deep pages of the other shapes (store_list_shape_anchors.c) -------------------------- */

struct list_shapes;

/* A list shape: a zone's hostnames in ORDER (and direction), all of them or those of one
 * SSL_STATUS (creation order only). */
struct sq_list_shape {
	const char *zone_id;
	enum store_hostname_order order;
	int desc;
	const char *ssl_status; /* NULL: every hostname */
};

int sq_list_shapes_create(struct list_shapes **out);
void sq_list_shapes_destroy(struct list_shapes *l);
/* 1 when SHAPE can be paged from anchors. */
int sq_list_shape_supported(const struct sq_list_shape *shape);
/* The rids at positions [POSITION, POSITION + LIMIT) of SHAPE into RIDS (room for LIMIT), in
 * the shape's order; *COUNT how many. Joins the caller's read transaction. SE_EBUSY: the
 * anchors are stale and were rebuilt too recently; read the page another way. */
int sq_list_shape_page(struct sq_conn *c, const struct sq_list_shape *shape, int64_t position,
		       int64_t limit, int64_t *rids, size_t *count);

/* ---- short substrings of names (store_name_search.c) -------------------------------------- */

struct name_search;

int sq_name_search_create(struct name_search **out);
void sq_name_search_destroy(struct name_search *ns);
/* The zone's hostnames whose names hold NEEDLE (lower case), in creation order (newest first
 * when DESC): how many into *MATCHES, and the rids of those at positions [OFFSET, OFFSET +
 * LIMIT) into RIDS (room for LIMIT), *COUNT of them. TOTAL is the zone's hostname count read
 * in the caller's read transaction, which every read here joins. SE_EBUSY: the process's copy
 * of the names is stale and was read too recently; search another way. */
int sq_name_search(struct sq_conn *c, const char *zone_id, int64_t total, const char *needle,
		   int desc, int64_t offset, int64_t limit, int64_t *rids, size_t *count,
		   int64_t *matches);

/* Fills ssl.certs of the N hostnames ITEMS from their current packs, in one query. */
int sq_cert_summaries_fill(struct sq_conn *c, struct store_hostname *items, size_t n);
/* What the API shows of a certificate c: SQ_CERT_SUMMARY_COLUMNS, read from column COL of S's
 * current row on. 0, SE_EINVAL for a certificate whose facts cannot be read (it is then not
 * shown), SE_ENOMEM. */
#define SQ_CERT_SUMMARY_COLUMNS                                                                    \
	"c.id, c.key_type, c.issuer, c.serial_decimal, c.signature, c.fingerprint_sha256, "        \
	"c.not_before, c.not_after, c.hosts, CASE WHEN c.issuer IS NULL THEN c.leaf END"
int sq_cert_summary_read(struct sq_stmt *s, int col, struct store_cert_summary *out);

/* The hostname of ZONE_ID whose id (BY_NAME 0) or name (BY_NAME 1) is KEY into OUT, with the
 * certificates of its current pack, in one statement (one round trip on PostgreSQL).
 * SE_ENOTFOUND when there is none. */
int sq_hostname_find(struct sq_conn *c, const char *zone_id, int by_name, const char *key,
		     struct store_hostname *out);

/* Fills OUT (zeroed first) from the current row of S; SE_ENOMEM leaves OUT disposed. */
int sq_hostname_read(struct sq_stmt *s, struct store_hostname *out);

#endif

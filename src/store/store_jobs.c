/* Jobs with leases. A worker leases the earliest due job for a while and gets a fresh fencing
 * token; finishing or retrying presents the token, so a worker whose lease expired and was
 * taken over (or was dropped by a reschedule) cannot overwrite the newer holder's work. */
#include "store/store_int.h"

#include <time.h>

#include "lib/error.h"
#include "lib/ids.h"
#include "lib/timeutil.h"

int sq_job_schedule(struct sq_conn *c, const char *kind, const char *subject_id, int64_t run_at_us)
{
	static const char resched[] = "UPDATE jobs SET run_at = ?3, lease_owner = NULL, "
				      "lease_token = NULL, lease_until = NULL "
				      "WHERE subject_id = ?2 AND kind = ?1";
	static const char insert[] = "INSERT INTO jobs(kind, subject_id, run_at, created_at) "
				     "VALUES (?1, ?2, ?3, ?4)";
	int rc;

	rc = sq_run(c, SQ_JOB_RESCHEDULE, resched, "ttI", kind, subject_id, run_at_us);
	if (rc == 0 && sq_changes(c) == 0)
		rc = sq_run(c, SQ_JOB_INSERT, insert, "ttII", kind, subject_id, run_at_us,
			    time_now_us());
	if (rc == 0)
		c->jobs_scheduled = 1;
	return rc;
}

int sq_job_add(struct sq_conn *c, const char *kind, const char *subject_id, int64_t run_at_us)
{
	static const char insert[] = "INSERT INTO jobs(kind, subject_id, run_at, created_at) "
				     "VALUES (?1, ?2, ?3, ?4)";
	int rc =
	    sq_send(c, SQ_JOB_INSERT, insert, "ttII", kind, subject_id, run_at_us, time_now_us());

	if (rc == 0)
		c->jobs_scheduled = 1;
	return rc;
}

void sq_jobs_notify(struct store *st)
{
	pthread_mutex_lock(&st->jobs_lock);
	st->jobs_generation++;
	pthread_cond_broadcast(&st->jobs_cond);
	pthread_mutex_unlock(&st->jobs_lock);
}

uint64_t store_jobs_generation(struct store *st)
{
	uint64_t g;

	pthread_mutex_lock(&st->jobs_lock);
	g = st->jobs_generation;
	pthread_mutex_unlock(&st->jobs_lock);
	return g;
}

void store_jobs_wait(struct store *st, uint64_t seen, int64_t timeout_us)
{
	struct timespec until;
	int64_t end_us;

	if (timeout_us <= 0)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	end_us = (int64_t)until.tv_sec * 1000000 + until.tv_nsec / 1000 + timeout_us;
	until.tv_sec = end_us / 1000000;
	until.tv_nsec = (end_us % 1000000) * 1000;
	pthread_mutex_lock(&st->jobs_lock);
	while (st->jobs_generation == seen) {
		if (pthread_cond_timedwait(&st->jobs_cond, &st->jobs_lock, &until) != 0)
			break;
	}
	pthread_mutex_unlock(&st->jobs_lock);
}

int store_job_next_due(struct store *st, int64_t now_us, int64_t *run_at_us)
{
	/* The lease's own query, read-only: an idle queue costs no write lock. */
	static const char sql[] = "SELECT run_at FROM jobs WHERE lease_until IS NULL OR "
				  "lease_until < ?1 ORDER BY run_at, id LIMIT 1";
	struct sq_conn *c = sq_conn_get(st);
	struct sq_stmt *s = NULL;
	int rc;

	*run_at_us = 0;
	if (!c)
		return SE_EDB;
	rc = sq_query(c, SQ_JOB_NEXT_DUE, sql, &s, "I", now_us);
	if (rc == 1) {
		*run_at_us = sq_col_int64(s, 0);
		rc = 0;
	} else if (rc == 0) {
		rc = SE_ENOTFOUND;
	}
	sq_reset(s);
	return rc;
}

int sq_jobs_delete_subject(struct sq_conn *c, const char *subject_id)
{
	return sq_run(c, SQ_JOBS_DELETE_SUBJECT, "DELETE FROM jobs WHERE subject_id = ?1", "t",
		      subject_id);
}

int sq_jobs_cleanup_packs(struct sq_conn *c, const char *hostname_id)
{
	static const char sql[] =
	    "INSERT INTO jobs(kind, subject_id, run_at, created_at, payload) "
	    "SELECT 'pack_cleanup', s.pack_id, ?2, ?2, s.state FROM issuance_state s "
	    "JOIN cert_packs p ON p.id = s.pack_id WHERE p.hostname_id = ?1";
	int64_t now = time_now_us();

	return sq_run(c, SQ_JOBS_CLEANUP_PACKS, sql, "tI", hostname_id, now);
}

int store_job_payload(struct store *st, int64_t job_id, char **out)
{
	struct sq_conn *c = sq_conn_get(st);
	struct sq_stmt *s = NULL;
	int rc;

	*out = NULL;
	if (!c)
		return SE_EDB;
	rc = sq_query(c, SQ_JOB_PAYLOAD, "SELECT payload FROM jobs WHERE id = ?1", &s, "I", job_id);
	if (rc == 1)
		rc =
		    sq_col_is_null(s, 0) ? SE_ENOTFOUND : sq_col_dup(s, 0, out);
	else if (rc == 0)
		rc = SE_ENOTFOUND;
	sq_reset(s);
	return rc;
}

/* The lease is one statement. SQLite runs it in a write transaction, which excludes every other
 * writer. On PostgreSQL it runs on its own, outside the store's write lock: FOR UPDATE SKIP
 * LOCKED makes a worker of another node pass over the row being leased, and once that commits
 * the row's lease_until keeps every later statement off it, so issuers of a fleet lease jobs
 * without queueing behind each other's writes (decisions/0026). */
#define JOB_LEASE_SQL(lock)                                                                   \
	"UPDATE jobs SET lease_owner = ?1, lease_token = ?2, lease_until = ?3 "               \
	"WHERE id = (SELECT id FROM jobs WHERE run_at <= ?4 "                                 \
	"AND (lease_until IS NULL OR lease_until < ?4) ORDER BY run_at, id LIMIT 1" lock ") " \
	"RETURNING id, kind, subject_id, run_at, attempts, lease_token, lease_until, last_error"

int store_job_lease(struct store *st, const char *owner, int64_t now_us, int64_t lease_us,
		    struct store_job *out)
{
	struct sq_conn *c = sq_conn_get(st);
	struct sq_stmt *s = NULL;
	char token[IDS_ZONE_LEN + 1];
	int rc, own_statement;

	if (!c)
		return SE_EDB;
	rc = ids_hex32(token);
	if (rc)
		return rc;
	own_statement = c->be->dialect == SQ_POSTGRES;
	rc = own_statement ? 0 : sq_begin(c);
	if (rc)
		goto out;
	rc = sq_query(c, SQ_JOB_LEASE,
		      sq_sql(c, JOB_LEASE_SQL(""), JOB_LEASE_SQL(" FOR UPDATE SKIP LOCKED")), &s,
		      "ttII", owner, token, now_us + lease_us, now_us);
	if (rc == 0)
		rc = SE_ENOTFOUND;
	if (rc < 0)
		goto out;
	out->id = sq_col_int64(s, 0);
	sq_col_copy(s, 1, out->kind, sizeof(out->kind));
	sq_col_copy(s, 2, out->subject_id, sizeof(out->subject_id));
	out->run_at_us = sq_col_int64(s, 3);
	out->attempts = sq_col_int(s, 4);
	sq_col_copy(s, 5, out->lease_token, sizeof(out->lease_token));
	out->lease_until_us = sq_col_int64(s, 6);
	sq_col_copy(s, 7, out->last_error, sizeof(out->last_error));
	/* RETURNING rows are all computed before the first one is returned: the update is done. */
	sq_reset(s);
	s = NULL;
	rc = own_statement ? 0 : sq_commit(c);
out:
	sq_reset(s);
	if (rc)
		sq_rollback(c);
	return rc;
}

int store_job_finish(struct store *st, int64_t job_id, const char *lease_token)
{
	static const char sql[] = "DELETE FROM jobs WHERE id = ?1 AND lease_token = ?2";
	struct sq_conn *c = sq_conn_get(st);
	int rc;

	if (!c)
		return SE_EDB;
	rc = sq_run(c, SQ_JOB_FINISH, sql, "It", job_id, lease_token);
	if (rc == 0 && sq_changes(c) == 0)
		rc = SE_ELEASE;
	return rc;
}

int store_job_retry(struct store *st, int64_t job_id, const char *lease_token, int64_t run_at_us,
		    const char *last_error)
{
	static const char sql[] = "UPDATE jobs SET lease_owner = NULL, lease_token = NULL, "
				  "lease_until = NULL, run_at = ?3, last_error = ?4, "
				  "attempts = attempts + 1 WHERE id = ?1 AND lease_token = ?2";
	struct sq_conn *c = sq_conn_get(st);
	int rc;

	if (!c)
		return SE_EDB;
	rc = sq_run(c, SQ_JOB_RETRY, sql, "ItIt", job_id, lease_token, run_at_us, last_error);
	if (rc == 0 && sq_changes(c) == 0)
		rc = SE_ELEASE;
	return rc;
}

int store_job_count(struct store *st, const char *kind, const char *subject_id, int64_t *count)
{
	static const char sql[] = "SELECT COUNT(*) FROM jobs WHERE subject_id = ?2 AND kind = ?1";
	struct sq_conn *c = sq_conn_get(st);
	struct sq_stmt *s = NULL;
	int rc;

	*count = 0;
	if (!c)
		return SE_EDB;
	rc = sq_query(c, SQ_JOB_COUNT, sql, &s, "tt", kind, subject_id);
	if (rc == 1) {
		*count = sq_col_int64(s, 0);
		rc = 0;
	}
	sq_reset(s);
	return rc;
}

/* The issuer's durable progress: what a hostname job works on, one fenced step of a pack, the
 * ACME accounts and the certificates of a pack. Every step is one IMMEDIATE transaction that
 * first proves the job lease still holds, so a worker whose lease was taken over (or dropped by
 * a PATCH recheck) writes nothing. */
#include "store/store_int.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "lib/error.h"
#include "lib/timeutil.h"

/* "" clears a JSON column, NULL keeps it. (The cast tells PostgreSQL the parameter's type,
 * which "IS NULL" alone does not.) */
#define JSON_ARG(col, n)                                                                           \
	col " = CASE WHEN CAST(?" n " AS TEXT) IS NULL THEN " col " WHEN ?" n " = '' THEN NULL "   \
	    "ELSE ?" n " END"

void store_issuance_subject_dispose(struct store_issuance_subject *s)
{
	free(s->state_json);
	s->state_json = NULL;
}

int store_issuance_subject(struct store *st, const char *hostname_id,
			   struct store_issuance_subject *out)
{
	static const char sql[] =
	    "SELECT h.id, h.zone_id, h.hostname, h.status, h.ownership_token, "
	    "CASE WHEN h.ssl_enabled = 1 AND COALESCE(p.custom, 0) = 0 THEN "
	    "COALESCE(h.ssl_pack_id, "
	    "'') "
	    "ELSE '' END, "
	    "COALESCE(p.status, ''), h.ssl_method, h.ssl_ca, h.ssl_wildcard, s.state, "
	    "COALESCE(p.validation_errors, '') NOT IN ('', '[]') "
	    "FROM hostnames h LEFT JOIN cert_packs p ON p.id = h.ssl_pack_id "
	    "LEFT JOIN issuance_state s ON s.pack_id = h.ssl_pack_id WHERE h.id = ?1";
	struct sq_conn *c = sq_conn_get(st);
	struct sq_stmt *s = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!c)
		return SE_EDB;
	rc = sq_query(c, SQ_ISSUANCE_GET, sql, &s, "t", hostname_id);
	if (rc == 0)
		rc = SE_ENOTFOUND;
	if (rc < 0)
		goto out;
	sq_col_copy(s, 0, out->hostname_id, sizeof(out->hostname_id));
	sq_col_copy(s, 1, out->zone_id, sizeof(out->zone_id));
	sq_col_copy(s, 2, out->hostname, sizeof(out->hostname));
	sq_col_copy(s, 3, out->hostname_status, sizeof(out->hostname_status));
	sq_col_copy(s, 4, out->ownership_token, sizeof(out->ownership_token));
	sq_col_copy(s, 5, out->pack_id, sizeof(out->pack_id));
	sq_col_copy(s, 6, out->pack_status, sizeof(out->pack_status));
	sq_col_copy(s, 7, out->method, sizeof(out->method));
	sq_col_copy(s, 8, out->certificate_authority, sizeof(out->certificate_authority));
	out->wildcard = sq_col_int(s, 9);
	rc = sq_col_dup(s, 10, &out->state_json);
	out->errors_shown = sq_col_int(s, 11);
out:
	sq_reset(s);
	return rc;
}

/* What a step's write depends on, read first under the write lock (so nobody changes it before
 * the commit): whether the lease holds, and the hostname with the step's pack. */
struct owner {
	int lease_held;
	int hostname_found;
	char host_status[24];
	struct sq_pack_owner pack; /* status "" when the pack is no longer the hostname's */
	int records_differ;        /* the step's validation records are not the pack's */
	int errors_differ;         /* nor its validation errors */
};

/* A lease is taken outside the write lock on PostgreSQL (decision 0026): FOR UPDATE keeps the
 * job's row from being taken over between this read and the step's commit. SQLite's write
 * transaction excludes every other writer. */
#define OWNER_SQL(lock)                                                                            \
	"SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM jobs WHERE id = ?5 AND lease_token = ?6" lock \
	") j), h.id IS NOT NULL, h.zone_id, h.hostname, h.status, COALESCE(p.status, ''), "        \
	"COALESCE(p.validation_records, '') <> COALESCE(?3, ''), "                                 \
	"COALESCE(p.validation_errors, '') <> COALESCE(?4, ''), h.change_seq "                     \
	"FROM (SELECT 1 AS one) x LEFT JOIN hostnames h ON h.id = ?1 "                             \
	"LEFT JOIN cert_packs p ON p.id = ?2 AND p.hostname_id = h.id"

static int owner_load(struct sq_conn *c, const struct store_issuance_step *st, struct owner *o)
{
	struct sq_stmt *s = NULL;
	int rc;

	rc = sq_query(c, SQ_ISSUANCE_PACK, sq_sql(c, OWNER_SQL(""), OWNER_SQL(" FOR UPDATE")), &s,
		      "ttttIt", st->hostname_id, st->pack_id ? st->pack_id : "",
		      st->validation_records_json, st->validation_errors_json, st->job_id,
		      st->lease_token);
	if (rc == 1) {
		o->lease_held = sq_col_int(s, 0) > 0;
		o->hostname_found = sq_col_int(s, 1);
		snprintf(o->pack.hostname_id, sizeof(o->pack.hostname_id), "%s", st->hostname_id);
		sq_col_copy(s, 2, o->pack.zone_id, sizeof(o->pack.zone_id));
		sq_col_copy(s, 3, o->pack.hostname, sizeof(o->pack.hostname));
		sq_col_copy(s, 4, o->host_status, sizeof(o->host_status));
		sq_col_copy(s, 5, o->pack.status, sizeof(o->pack.status));
		o->records_differ = sq_col_int(s, 6);
		o->errors_differ = sq_col_int(s, 7);
		o->pack.change_seq = sq_col_int64(s, 8);
		rc = 0;
	} else if (rc == 0) {
		rc = SE_EDB;
	}
	sq_reset(s);
	return rc;
}

static int job_send(struct sq_conn *c, const struct store_issuance_step *st)
{
	static const char extend[] = "UPDATE jobs SET lease_until = ?3 WHERE id = ?1 AND "
				     "lease_token = ?2";
	static const char retry[] = "UPDATE jobs SET lease_owner = NULL, lease_token = NULL, "
				    "lease_until = NULL, run_at = ?3, last_error = ?4, "
				    "attempts = attempts + 1 WHERE id = ?1 AND lease_token = ?2";
	static const char finish[] = "DELETE FROM jobs WHERE id = ?1 AND lease_token = ?2";

	switch (st->job) {
	case STORE_JOB_KEEP:
		return sq_send(c, SQ_ISSUANCE_LEASE_CHECK, extend, "ItI", st->job_id,
			       st->lease_token, st->lease_until_us);
	case STORE_JOB_RETRY:
		return sq_send(c, SQ_ISSUANCE_JOB_RETRY, retry, "ItIt", st->job_id, st->lease_token,
			       st->run_at_us, st->last_error);
	case STORE_JOB_FINISH:
	default:
		return sq_send(c, SQ_ISSUANCE_JOB_FINISH, finish, "It", st->job_id,
			       st->lease_token);
	}
}

static int event_send(struct sq_conn *c, const struct owner *o, const char *kind, const char *old,
		      const char *new)
{
	struct sq_event ev = {
	    o->pack.zone_id, o->pack.hostname_id, kind, o->pack.hostname, old, new};

	return sq_event_and_bump(c, &ev, NULL);
}

/* 1 when JSON (a JSON array's text, or NULL) holds at least one error. */
static int has_errors(const char *json)
{
	if (!json)
		return 0;
	json += strspn(json, " \t\r\n");
	if (*json != '[')
		return 0;
	json++;
	json += strspn(json, " \t\r\n");
	return *json != ']' && *json != '\0';
}

/* The step's certificates, each with its event, before the status moves: an edge that reads
 * the move finds them. */
static int certificates_send(struct sq_conn *c, const struct store_issuance_step *st,
			     const struct owner *o)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < st->n_certificates; i++) {
		if (strcmp(st->certificates[i].pack_id, st->pack_id) != 0)
			return SE_EINVAL;
		rc = sq_certificate_replace(c, &st->certificates[i]);
		if (rc == 0)
			rc = event_send(c, o, "certificate.stored", o->pack.status, o->pack.status);
	}
	return rc;
}

static int pack_send(struct sq_conn *c, const struct store_issuance_step *st, const struct owner *o,
		     int64_t now)
{
	static const char put[] = "INSERT INTO issuance_state(pack_id, state, updated_at) "
				  "VALUES (?1, ?2, ?3) ON CONFLICT(pack_id) DO UPDATE SET "
				  "state = excluded.state, updated_at = excluded.updated_at";
	/* clang-format off */
	static const char upd[] =
	    "UPDATE cert_packs SET "
	    JSON_ARG("validation_records", "2") ", "
	    JSON_ARG("validation_errors", "3") ", "
	    "certificate_authority = COALESCE(?5, certificate_authority), "
	    "updated_at = ?4 WHERE id = ?1";
	/* clang-format on */
	const char *status = o->pack.status;
	struct sq_pack_moved moved;
	int rc = certificates_send(c, st, o);

	if (rc == 0 && st->state_json)
		rc = sq_send(c, SQ_ISSUANCE_PUT, put, "ttI", st->pack_id, st->state_json, now);
	if (rc == 0 && (st->validation_records_json || st->validation_errors_json || st->issued_by))
		rc = sq_send(c, SQ_ISSUANCE_PACK_SET, upd, "tttIt", st->pack_id,
			     st->validation_records_json, st->validation_errors_json, now,
			     st->issued_by);
	/* New records to publish are news for the provider even when the status stays (a
	 * renewal's TXT values, shown while the pack is active). */
	if (rc == 0 && st->validation_records_json && st->validation_records_json[0] &&
	    o->records_differ)
		rc = event_send(c, o, "ssl.validation_records", status, status);
	/* So are new validation errors: the webhooks' validation.failed and renewal.failed. */
	if (rc == 0 && has_errors(st->validation_errors_json) && o->errors_differ)
		rc = event_send(c, o, "ssl.validation_errors", status, status);
	if (rc == 0 && st->pack_event != PACK_EV_NONE)
		rc = sq_pack_move_loaded(c, st->pack_id, &o->pack, st->pack_event, -1, NULL, &moved,
					 NULL);
	return rc;
}

static int host_send(struct sq_conn *c, const struct store_issuance_step *st, const struct owner *o,
		     int64_t now)
{
	/* clang-format off */
	static const char upd[] =
	    "UPDATE hostnames SET status = COALESCE(?2, status), "
	    JSON_ARG("verification_errors", "3") ", "
	    "updated_at = ?4 WHERE id = ?1";
	/* clang-format on */
	int rc;

	rc = sq_send(c, SQ_ISSUANCE_HOST_SET, upd, "tttI", st->hostname_id, st->hostname_status,
		     st->verification_errors_json, now);
	if (rc == 0 && st->hostname_status && strcmp(st->hostname_status, o->host_status) != 0)
		rc = event_send(c, o, "hostname.status", o->host_status, st->hostname_status);
	return rc;
}

/* 1 for a step that only saves its state and keeps its lease: most steps (keys made, an order
 * created, challenges accepted) change no status, record or error. */
static int state_only(const struct store_issuance_step *st)
{
	return st->job == STORE_JOB_KEEP && st->pack_id && st->state_json &&
	       st->pack_event == PACK_EV_NONE && !st->validation_records_json &&
	       !st->validation_errors_json && !st->issued_by && !st->n_certificates &&
	       !st->hostname_status && !st->verification_errors_json;
}

/* Such a step in one round trip: the fenced lease extension, the state (written only when the
 * fence held and the pack is still the hostname's) and the COMMIT go out together, and whether
 * the fence held is read after. The fleet's writers queue on one lock (decision 0026), and
 * this way a step holds it for the database's work alone, never across a round trip to an
 * issuer that may be descheduled in between. */
static int state_only_write(struct sq_conn *c, const struct store_issuance_step *st, int64_t now)
{
	static const char extend[] = "UPDATE jobs SET lease_until = ?3 WHERE id = ?1 AND "
				     "lease_token = ?2";
	static const char put[] =
	    "INSERT INTO issuance_state(pack_id, state, updated_at) "
	    "SELECT CAST(?1 AS TEXT), CAST(?2 AS TEXT), CAST(?3 AS BIGINT) "
	    "WHERE EXISTS (SELECT 1 FROM jobs WHERE id = ?4 AND lease_token = ?5) "
	    "AND EXISTS (SELECT 1 FROM cert_packs WHERE id = ?1 AND hostname_id = ?6) "
	    "ON CONFLICT(pack_id) DO UPDATE SET state = excluded.state, "
	    "updated_at = excluded.updated_at";
	/* After the commit: a lease dropped since (a PATCH) reads as lost, which it now is. */
	static const char check[] =
	    "SELECT EXISTS (SELECT 1 FROM jobs WHERE id = ?1 AND lease_token = ?2), "
	    "EXISTS (SELECT 1 FROM issuance_state WHERE pack_id = ?3 AND updated_at = ?4)";
	struct sq_stmt *s = NULL;
	int rc = sq_begin(c);

	if (rc == 0)
		rc = sq_send(c, SQ_ISSUANCE_LEASE_CHECK, extend, "ItI", st->job_id, st->lease_token,
			     st->lease_until_us);
	if (rc == 0)
		rc = sq_send(c, SQ_ISSUANCE_STATE_ONLY, put, "ttIItt", st->pack_id, st->state_json,
			     now, st->job_id, st->lease_token, st->hostname_id);
	if (rc == 0)
		rc = sq_commit_send(c);
	if (rc == 0)
		rc = sq_query(c, SQ_ISSUANCE_STATE_CHECK, check, &s, "IttI", st->job_id,
			      st->lease_token, st->pack_id, now);
	if (rc == 1)
		rc = !sq_col_int(s, 0) ? SE_ELEASE : !sq_col_int(s, 1) ? SE_ENOTFOUND : 0;
	else if (rc == 0)
		rc = SE_EDB;
	sq_reset(s);
	if (rc < 0)
		sq_rollback(c);
	return rc;
}

/* One read and one batch of writes: the fleet's writers queue on one lock (decision 0026), and
 * a step holds it for one round trip to its issuer, not one per statement. The writes are
 * decided from what owner_load read, which nobody can change before the commit. */
int store_issuance_write(struct store *st, const struct store_issuance_step *step)
{
	struct sq_conn *c = sq_conn_get(st);
	struct owner o;
	int64_t now = time_now_us();
	int rc;

	memset(&o, 0, sizeof(o));
	if (step->n_certificates && !step->pack_id)
		return SE_EINVAL;
	if (!c)
		return SE_EDB;
	if (state_only(step))
		return state_only_write(c, step, now);
	rc = sq_begin(c);
	if (rc)
		return rc;
	rc = owner_load(c, step, &o);
	if (rc == 0 && !o.lease_held)
		rc = SE_ELEASE;
	if (rc == 0 && (!o.hostname_found || (step->pack_id && !o.pack.status[0])))
		rc = SE_ENOTFOUND; /* the pack was replaced or deleted meanwhile */
	if (rc == 0)
		rc = job_send(c, step);
	if (rc == 0 && step->pack_id)
		rc = pack_send(c, step, &o, now);
	if (rc == 0 && (step->hostname_status || step->verification_errors_json))
		rc = host_send(c, step, &o, now);
	if (rc == 0)
		rc = sq_commit(c);
	if (rc)
		sq_rollback(c);
	return rc;
}

int store_acme_account_get(struct store *st, const char *ca_name, char key_id[37], char *kid,
			   size_t kid_len)
{
	struct sq_conn *c = sq_conn_get(st);
	struct sq_stmt *s = NULL;
	int rc;

	if (!c)
		return SE_EDB;
	rc = sq_query(c, SQ_ACME_ACCOUNT_GET, "SELECT key_id, kid FROM acme_accounts WHERE ca = ?1",
		      &s, "t", ca_name);
	if (rc == 1) {
		sq_col_copy(s, 0, key_id, 37);
		sq_col_copy(s, 1, kid, kid_len);
		rc = 0;
	} else if (rc == 0) {
		rc = SE_ENOTFOUND;
	}
	sq_reset(s);
	return rc;
}

int store_acme_account_put(struct store *st, const char *ca_name, const char *key_id,
			   const char *kid)
{
	/* The first key stored for a CA stays: a row with another key is left alone. */
	static const char sql[] =
	    "INSERT INTO acme_accounts(ca, key_id, kid, created_at) VALUES (?1, ?2, ?3, ?4) "
	    "ON CONFLICT (ca) DO UPDATE SET kid = excluded.kid "
	    "WHERE acme_accounts.key_id = excluded.key_id";
	struct sq_conn *c = sq_conn_get(st);
	int rc;

	if (!c)
		return SE_EDB;
	rc = sq_run(c, SQ_ACME_ACCOUNT_PUT, sql, "tttI", ca_name, key_id, kid, time_now_us());
	return rc == 0 && sq_changes(c) == 0 ? SE_EEXISTS : rc;
}

int store_pack_certificates(struct store *st, const char *pack_id, struct store_certificate out[2],
			    size_t *n)
{
	static const char sql[] = "SELECT id, key_type, leaf, chain, serial, not_before, "
				  "not_after, COALESCE(private_key_id, ''), created_at "
				  "FROM certificates WHERE pack_id = ?1 ORDER BY key_type LIMIT 2";
	struct sq_conn *c = sq_conn_get(st);
	struct sq_stmt *s = NULL;
	int rc;

	*n = 0;
	memset(out, 0, 2 * sizeof(*out));
	if (!c)
		return SE_EDB;
	for (rc = sq_query(c, SQ_PACK_CERTS, sql, &s, "t", pack_id); rc == 1 && *n < 2;
	     rc = sq_step(c, s, "pack_certificates")) {
		struct store_certificate *o = &out[*n];

		sq_col_copy(s, 0, o->id, sizeof(o->id));
		snprintf(o->pack_id, sizeof(o->pack_id), "%s", pack_id);
		sq_col_copy(s, 1, o->key_type, sizeof(o->key_type));
		sq_col_copy(s, 4, o->serial, sizeof(o->serial));
		o->not_before_us = sq_col_int64(s, 5);
		o->not_after_us = sq_col_int64(s, 6);
		sq_col_copy(s, 7, o->private_key_id, sizeof(o->private_key_id));
		o->created_at_us = sq_col_int64(s, 8);
		(*n)++;
		rc = sq_col_blob_dup(s, 2, &o->leaf_der, &o->leaf_len);
		if (rc == 0)
			rc = sq_col_blob_dup(s, 3, &o->chain_der, &o->chain_len);
		if (rc)
			break;
	}
	sq_reset(s);
	if (rc < 0) {
		for (size_t i = 0; i < *n; i++)
			store_certificate_dispose(&out[i]);
		*n = 0;
		return rc;
	}
	return 0;
}

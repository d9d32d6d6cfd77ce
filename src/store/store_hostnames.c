/* Custom hostnames: create, read, update, delete. Every write is one IMMEDIATE transaction that
 * also keeps the zone's counter, the certificate pack, the issuer's job and the change feed in
 * step with the row. The filtered list lives in store_hostname_list.c. */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/hostname.h"
#include "lib/timeutil.h"

#define HOSTNAME_JOB "hostname"

/* What an update or a delete needs to know about the stored row. */
struct host_state {
	int64_t rid;
	char hostname[256];
	char status[24];
	char pack_status[32]; /* status of the current pack; "" when there is none */
};

void store_hostname_dispose(struct store_hostname *h)
{
	free(h->custom_metadata_json);
	free(h->verification_errors_json);
	free(h->ssl.settings_json);
	free(h->ssl.validation_records_json);
	free(h->ssl.validation_errors_json);
	h->custom_metadata_json = NULL;
	h->verification_errors_json = NULL;
	h->ssl.settings_json = NULL;
	h->ssl.validation_records_json = NULL;
	h->ssl.validation_errors_json = NULL;
	for (size_t i = 0; i < h->ssl.n_certs; i++) {
		free(h->ssl.certs[i].hosts_json);
		h->ssl.certs[i].hosts_json = NULL;
	}
	h->ssl.n_certs = 0;
}

void store_hostname_list_free(struct store_hostname *items, size_t n)
{
	if (!items)
		return;
	for (size_t i = 0; i < n; i++)
		store_hostname_dispose(&items[i]);
	free(items);
}

static void ssl_read(struct sq_stmt *s, struct store_ssl *ssl)
{
	ssl->enabled = sq_col_int(s, 12);
	sq_col_copy(s, 13, ssl->pack_id, sizeof(ssl->pack_id));
	sq_col_copy(s, 14, ssl->status, sizeof(ssl->status));
	sq_col_copy(s, 15, ssl->method, sizeof(ssl->method));
	sq_col_copy(s, 16, ssl->type, sizeof(ssl->type));
	sq_col_copy(s, 17, ssl->bundle_method, sizeof(ssl->bundle_method));
	sq_col_copy(s, 18, ssl->certificate_authority, sizeof(ssl->certificate_authority));
	ssl->wildcard = sq_col_int(s, 19);
	ssl->custom = sq_col_int(s, 23);
	ssl->uploaded_on_us = sq_col_int64(s, 24);
	sq_col_copy(s, 25, ssl->custom_csr_id, sizeof(ssl->custom_csr_id));
	sq_col_copy(s, 26, ssl->issued_by, sizeof(ssl->issued_by));
}

int sq_hostname_read(struct sq_stmt *s, struct store_hostname *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	sq_col_copy(s, 0, out->id, sizeof(out->id));
	sq_col_copy(s, 1, out->zone_id, sizeof(out->zone_id));
	sq_col_copy(s, 2, out->hostname, sizeof(out->hostname));
	sq_col_copy(s, 3, out->status, sizeof(out->status));
	sq_col_copy(s, 4, out->ownership_token, sizeof(out->ownership_token));
	sq_col_copy(s, 6, out->custom_origin_server, sizeof(out->custom_origin_server));
	sq_col_copy(s, 7, out->custom_origin_sni, sizeof(out->custom_origin_sni));
	out->created_at_us = sq_col_int64(s, 9);
	out->updated_at_us = sq_col_int64(s, 10);
	out->change_seq = sq_col_int64(s, 11);
	ssl_read(s, &out->ssl);
	rc = sq_col_dup(s, 5, &out->custom_metadata_json);
	if (rc == 0)
		rc = sq_col_dup(s, 8, &out->verification_errors_json);
	if (rc == 0)
		rc = sq_col_dup(s, 20, &out->ssl.settings_json);
	if (rc == 0 && !out->ssl.settings_json && !(out->ssl.settings_json = strdup("{}")))
		rc = SE_ENOMEM;
	if (rc == 0)
		rc = sq_col_dup(s, 21, &out->ssl.validation_records_json);
	if (rc == 0)
		rc = sq_col_dup(s, 22, &out->ssl.validation_errors_json);
	if (rc)
		store_hostname_dispose(out);
	return rc;
}

#define FIND_SQL(key)                                                                              \
	"SELECT " SQ_HOSTNAME_COLUMNS ", " SQ_CERT_SUMMARY_COLUMNS " FROM " SQ_HOSTNAME_FROM       \
	" LEFT JOIN certificates c ON c.pack_id = h.ssl_pack_id WHERE h.zone_id = ?1 AND " key     \
	" = ?2 ORDER BY c.key_type LIMIT 2"

/* The certificates of S's rows into OUT, the current row first: one row per certificate
 * (ECDSA first), or one with NULL certificate columns. */
static int find_certs_read(struct sq_conn *c, struct sq_stmt *s, struct store_hostname *out)
{
	int rc = 1;

	while (rc == 1 && out->ssl.n_certs < 2 && !sq_col_is_null(s, SQ_HOSTNAME_NCOLS)) {
		struct store_cert_summary *cert = &out->ssl.certs[out->ssl.n_certs];

		rc = sq_cert_summary_read(s, SQ_HOSTNAME_NCOLS, cert);
		if (rc == 0)
			out->ssl.n_certs++;
		else if (rc == SE_EINVAL) /* not shown, as in a list */
			rc = 0;
		else
			free(cert->hosts_json);
		if (rc == 0)
			rc = sq_step(c, s, "hostname_find");
	}
	return rc < 0 ? rc : 0;
}

int sq_hostname_find(struct sq_conn *c, const char *zone_id, int by_name, const char *key,
		     struct store_hostname *out)
{
	struct sq_stmt *s = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = by_name
		 ? sq_query(c, SQ_HOST_FIND_BY_NAME, FIND_SQL("h.hostname"), &s, "tt", zone_id, key)
		 : sq_query(c, SQ_HOST_GET, FIND_SQL("h.id"), &s, "tt", zone_id, key);
	if (rc == 0)
		rc = SE_ENOTFOUND;
	else if (rc == 1 && (rc = sq_hostname_read(s, out)) == 0)
		rc = find_certs_read(c, s, out);
	sq_reset(s);
	if (rc)
		store_hostname_dispose(out);
	return rc;
}

int store_hostname_get(struct store *st, const char *zone_id, const char *id,
		       struct store_hostname *out)
{
	struct sq_conn *c = sq_conn_get(st);

	memset(out, 0, sizeof(*out));
	return c ? sq_hostname_find(c, zone_id, 0, id, out) : SE_EDB;
}

static int host_load_state(struct sq_conn *c, const char *zone_id, const char *id,
			   struct host_state *hs)
{
	static const char sql[] =
	    "SELECT h.rid, h.hostname, h.status, p.status FROM " SQ_HOSTNAME_FROM
	    " WHERE h.zone_id = ?1 AND h.id = ?2";
	struct sq_stmt *s = NULL;
	int rc;

	rc = sq_query(c, SQ_HOST_STATE, sql, &s, "tt", zone_id, id);
	if (rc == 1) {
		hs->rid = sq_col_int64(s, 0);
		sq_col_copy(s, 1, hs->hostname, sizeof(hs->hostname));
		sq_col_copy(s, 2, hs->status, sizeof(hs->status));
		sq_col_copy(s, 3, hs->pack_status, sizeof(hs->pack_status));
		rc = 0;
	} else if (rc == 0) {
		rc = SE_ENOTFOUND;
	}
	sq_reset(s);
	return rc;
}

static const char *settings_or_empty(const struct store_hostname *h)
{
	return h->ssl.settings_json ? h->ssl.settings_json : "{}";
}

static int host_insert(struct sq_conn *c, const struct store_hostname *h, int64_t seq)
{
	static const char sql[] =
	    "INSERT INTO hostnames(id, zone_id, hostname, status, ownership_token, "
	    "custom_metadata, custom_origin_server, custom_origin_sni, verification_errors, "
	    "ssl_enabled, ssl_pack_id, ssl_method, ssl_type, ssl_bundle_method, ssl_ca, "
	    "ssl_wildcard, ssl_settings, created_at, updated_at, change_seq) VALUES (?1, ?2, "
	    "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)";
	const struct store_ssl *ssl = &h->ssl;

	return sq_send(c, SQ_HOST_INSERT, sql, "tttttttttitttttitIII", h->id, h->zone_id,
		       h->hostname, h->status, h->ownership_token, h->custom_metadata_json,
		       h->custom_origin_server, h->custom_origin_sni, h->verification_errors_json,
		       ssl->enabled ? 1 : 0, ssl->enabled ? ssl->pack_id : NULL, ssl->method,
		       ssl->type, ssl->bundle_method, ssl->certificate_authority, ssl->wildcard,
		       settings_or_empty(h), h->created_at_us, h->updated_at_us, seq);
}

static int pack_insert(struct sq_conn *c, const struct store_hostname *h, int64_t now)
{
	static const char sql[] = "INSERT INTO cert_packs(id, hostname_id, status, "
				  "certificate_authority, validation_records, validation_errors, "
				  "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)";
	const struct store_ssl *ssl = &h->ssl;

	return sq_send(c, SQ_PACK_INSERT, sql, "ttttttI", ssl->pack_id, h->id, ssl->status,
		       ssl->certificate_authority, ssl->validation_records_json,
		       ssl->validation_errors_json, now);
}

/* Expression of the hostname's parent (everything after its first dot), the key of the
 * hostnames_parent index: "*.x" and every name directly under x share the parent x. Each
 * engine's must stay the one its index was made with. */
#define PARENT_EXPR_SQLITE   "substr(hostname, instr(hostname, '.') + 1)"
#define PARENT_EXPR_POSTGRES "substr(hostname, strpos(hostname, '.') + 1)"
#define COVERED_SQL(parent)                                                                        \
	"SELECT 1 FROM hostnames WHERE " parent " = ?1 AND zone_id <> ?2 AND "                     \
	"substr(hostname, 1, 2) <> '*.' LIMIT 1"

/* SE_ECONFLICT when NAME (of ZONE_ID) and a hostname of another zone would both answer for one
 * name: NAME under another zone's "*.parent", or NAME a wildcard "*.x" over another zone's
 * names directly under x (docs/decisions/0020). The edge picks the exact name before the
 * wildcard, so either way one zone's traffic would reach the other's origin. Called inside the
 * insert's transaction, so two concurrent creates cannot both pass. */
static int cross_zone_wildcard_check(struct sq_conn *c, const char *zone_id, const char *name)
{
	static const char covering[] =
	    "SELECT 1 FROM hostnames WHERE hostname = '*.' || ?1 AND zone_id <> ?2";
	const char *covered =
	    sq_sql(c, COVERED_SQL(PARENT_EXPR_SQLITE), COVERED_SQL(PARENT_EXPR_POSTGRES));
	const char *dot = strchr(name, '.');
	struct sq_stmt *s = NULL;
	int rc;

	if (!dot)
		return 0;
	if (hostname_is_wildcard(name))
		rc = sq_query(c, SQ_HOST_UNDER_OTHER_ZONE, covered, &s, "tt", dot + 1, zone_id);
	else
		rc = sq_query(c, SQ_HOST_WILDCARD_OF_OTHER_ZONE, covering, &s, "tt", dot + 1,
			      zone_id);
	sq_reset(s);
	return rc == 1 ? SE_ECONFLICT : rc;
}

int store_hostname_create(struct store *st, struct store_hostname *h)
{
	struct sq_conn *c = NULL;
	struct sq_event ev = {h->zone_id, h->id, "hostname.created", h->hostname, "", h->status};
	int64_t now = time_now_us(), seq = 0;
	int rc = 0;

	if (h->ssl.enabled && !h->ssl.pack_id[0]) {
		rc = SE_EINVAL;
		goto out;
	}
	c = sq_conn_get(st);
	rc = c ? sq_begin(c) : SE_EDB;
	if (rc == 0)
		rc = sq_zone_count_add(c, h->zone_id, 1);
	/* The event goes first so the row can be inserted with its change_seq in one write. */
	if (rc == 0)
		rc = sq_event_append(c, &ev, &seq);
	if (rc == 0)
		rc = host_insert(c, h, seq);
	/* After the insert, so that the same name in another zone is the plain duplicate. */
	if (rc == 0)
		rc = cross_zone_wildcard_check(c, h->zone_id, h->hostname);
	if (rc == 0 && h->ssl.enabled)
		rc = pack_insert(c, h, now);
	if (rc == 0)
		rc = sq_job_add(c, HOSTNAME_JOB, h->id, now);
	if (rc == 0)
		rc = sq_commit(c);
	if (rc == 0)
		h->change_seq = seq;
out:
	if (rc)
		sq_rollback(c);
	return rc;
}

/* "hostname.updated", then "hostname.status" when it moved; *SEQ is the last one's. */
static int update_events(struct sq_conn *c, const struct store_hostname *h,
			 const struct host_state *old, int64_t *seq)
{
	struct sq_event ev = {h->zone_id,    h->id,       "hostname.updated",
			      old->hostname, old->status, h->status};
	int rc;

	rc = sq_event_append(c, &ev, seq);
	if (rc == 0 && strcmp(old->status, h->status) != 0) {
		ev.kind = "hostname.status";
		rc = sq_event_append(c, &ev, seq);
	}
	return rc;
}

/* Brings the current pack in line with H: its CA written when it exists, created (with an
 * "ssl.status" event from OLD's pack) when it does not, and every pack dropped (with its keys)
 * when H no longer has ssl. Its status is not written here: it moves by store_pack_move's
 * rules only. *CREATED says a pack was made. */
static int update_pack(struct sq_conn *c, const struct store_hostname *h,
		       const struct host_state *old, enum store_ssl_change change, int64_t now,
		       int64_t *seq, int *created)
{
	/* The pack's CA is the one its certificates come from: the requested one from a restart
	 * on, until the issuer falls back to another (store_issuance_write). */
	static const char upd[] = "UPDATE cert_packs SET certificate_authority = CASE WHEN ?5 = 1 "
				  "THEN ?3 ELSE certificate_authority END, "
				  "updated_at = ?4 WHERE id = ?1 AND hostname_id = ?2";
	const struct store_ssl *ssl = &h->ssl;
	struct sq_event ev = {h->zone_id,       h->id,      "ssl.status", old->hostname,
			      old->pack_status, ssl->status};
	int rc;

	*created = 0;
	if (!ssl->enabled) {
		rc = sq_keys_delete_for_hostname(c, h->id);
		if (rc == 0)
			rc = sq_run(c, SQ_PACKS_DELETE,
				    "DELETE FROM cert_packs WHERE hostname_id = ?1", "t", h->id);
		return rc;
	}
	rc = sq_run(c, SQ_PACK_UPDATE, upd, "tttIi", ssl->pack_id, h->id,
		    ssl->certificate_authority, now, change == STORE_SSL_RESTART);
	if (rc == 0 && sq_changes(c) == 0) {
		*created = 1;
		rc = pack_insert(c, h, now);
		if (rc == 0 && strcmp(old->pack_status, ssl->status) != 0)
			rc = sq_event_append(c, &ev, seq);
	}
	return rc;
}

static int update_row(struct sq_conn *c, const struct store_hostname *h, int64_t rid, int64_t now,
		      int64_t seq)
{
	static const char sql[] =
	    "UPDATE hostnames SET status = ?2, custom_metadata = ?3, custom_origin_server = ?4, "
	    "custom_origin_sni = ?5, verification_errors = ?6, ssl_enabled = ?7, "
	    "ssl_pack_id = ?8, ssl_method = ?9, ssl_type = ?10, ssl_bundle_method = ?11, "
	    "ssl_ca = ?12, ssl_wildcard = ?13, ssl_settings = ?14, updated_at = ?15, "
	    "change_seq = ?16 WHERE rid = ?1";
	const struct store_ssl *ssl = &h->ssl;

	return sq_run(c, SQ_HOST_UPDATE, sql, "ItttttitttttitII", rid, h->status,
		      h->custom_metadata_json, h->custom_origin_server, h->custom_origin_sni,
		      h->verification_errors_json, ssl->enabled ? 1 : 0,
		      ssl->enabled ? ssl->pack_id : NULL, ssl->method, ssl->type,
		      ssl->bundle_method, ssl->certificate_authority, ssl->wildcard,
		      settings_or_empty(h), now, seq);
}

int store_hostname_update(struct store *st, struct store_hostname *h, enum store_ssl_change change)
{
	struct sq_conn *c = NULL;
	struct host_state old;
	struct sq_pack_moved moved;
	int64_t now = time_now_us(), seq = 0;
	int created = 0, rc = 0;

	if (h->ssl.enabled && !h->ssl.pack_id[0]) {
		rc = SE_EINVAL;
		goto out;
	}
	c = sq_conn_get(st);
	rc = c ? sq_begin(c) : SE_EDB;
	if (rc == 0)
		rc = host_load_state(c, h->zone_id, h->id, &old);
	if (rc == 0)
		rc = update_events(c, h, &old, &seq);
	if (rc == 0)
		rc = update_pack(c, h, &old, change, now, &seq, &created);
	if (rc == 0)
		rc = update_row(c, h, old.rid, now, seq);
	/* After the row: the move's event is the hostname's newest change. */
	if (rc == 0 && h->ssl.enabled && !created && change == STORE_SSL_RESTART) {
		rc = sq_pack_move(c, h->ssl.pack_id, PACK_EV_RESTART, -1, NULL, &moved);
		if (rc == 0 && moved.moved)
			seq = moved.seq;
	}
	if (rc == 0 && change != STORE_SSL_KEEP)
		rc = sq_job_schedule(c, HOSTNAME_JOB, h->id, now);
	if (rc == 0)
		rc = sq_commit(c);
	if (rc == 0) {
		h->updated_at_us = now;
		h->change_seq = seq;
		if (h->ssl.enabled && !created)
			snprintf(h->ssl.status, sizeof(h->ssl.status), "%s",
				 change == STORE_SSL_RESTART ? moved.to : old.pack_status);
		/* a new attempt, or a new pack, is the requested CA's until a fallback */
		if (h->ssl.enabled && (created || change == STORE_SSL_RESTART))
			snprintf(h->ssl.issued_by, sizeof(h->ssl.issued_by), "%s",
				 h->ssl.certificate_authority);
	}
out:
	if (rc)
		sq_rollback(c);
	return rc;
}

int store_hostname_delete(struct store *st, const char *zone_id, const char *id)
{
	struct sq_conn *c = sq_conn_get(st);
	struct host_state old;
	struct sq_event ev = {zone_id, id, "hostname.deleted", old.hostname, old.status, ""};
	int64_t seq;
	int rc = c ? sq_begin(c) : SE_EDB;

	if (rc == 0)
		rc = host_load_state(c, zone_id, id, &old);
	/* Keys are found through the packs, so they go before the cascade removes the packs. */
	if (rc == 0)
		rc = sq_keys_delete_for_hostname(c, id);
	if (rc == 0)
		rc = sq_jobs_delete_subject(c, id);
	if (rc == 0)
		rc = sq_jobs_cleanup_packs(c, id);
	if (rc == 0)
		rc =
		    sq_run(c, SQ_HOST_DELETE, "DELETE FROM hostnames WHERE rid = ?1", "I", old.rid);
	if (rc == 0)
		rc = sq_zone_count_add(c, zone_id, -1);
	if (rc == 0)
		rc = sq_event_append(c, &ev, &seq);
	if (rc == 0)
		rc = sq_commit(c);
	if (rc)
		sq_rollback(c);
	return rc;
}

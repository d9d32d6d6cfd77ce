/* Packs of uploaded ("custom") certificates. Attaching one replaces whatever the hostname had in
 * one transaction, so the edge sees either the old pack or the new one, and a failed upload
 * leaves nothing behind. Their events carry the pack's status, old and new, like the issuer's:
 * a pack that becomes pending_deployment is what the edges' change feed loads and activates. */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

#include "lib/error.h"
#include "lib/timeutil.h"

/* Writes H's mutable fields with the ssl of a custom pack; SE_ENOTFOUND when H is gone. */
static int host_set(struct sq_conn *c, const struct store_hostname *h, const char *pack_id,
		    int64_t now, int64_t seq)
{
	static const char sql[] =
	    "UPDATE hostnames SET status = ?3, custom_metadata = ?4, custom_origin_server = ?5, "
	    "custom_origin_sni = ?6, verification_errors = ?7, ssl_enabled = 1, ssl_pack_id = ?8, "
	    "ssl_method = '', ssl_type = '', ssl_bundle_method = ?9, ssl_ca = '', "
	    "ssl_wildcard = 0, ssl_settings = ?10, updated_at = ?11, change_seq = ?12 "
	    "WHERE id = ?1 AND zone_id = ?2";
	const char *settings = h->ssl.settings_json ? h->ssl.settings_json : "{}";
	int rc;

	rc = sq_run(c, SQ_CUSTOM_HOST_SET, sql, "ttttttttttII", h->id, h->zone_id, h->status,
		    h->custom_metadata_json, h->custom_origin_server, h->custom_origin_sni,
		    h->verification_errors_json, pack_id, h->ssl.bundle_method, settings, now, seq);
	if (rc == 0 && sq_changes(c) == 0)
		rc = SE_ENOTFOUND;
	return rc;
}

/* Drops the packs of HOSTNAME_ID but KEEP with the keys they own; a CSR owns its key. */
static int packs_drop(struct sq_conn *c, const char *hostname_id, const char *keep)
{
	static const char keys[] = "DELETE FROM private_keys WHERE owner_id IN (SELECT id FROM "
				   "cert_packs WHERE hostname_id = ?1 AND id <> ?2)";
	static const char packs[] = "DELETE FROM cert_packs WHERE hostname_id = ?1 AND id <> ?2";
	int rc;

	rc = sq_run(c, SQ_CUSTOM_KEYS_DROP, keys, "tt", hostname_id, keep);
	if (rc == 0)
		rc = sq_run(c, SQ_CUSTOM_PACKS_DROP, packs, "tt", hostname_id, keep);
	return rc;
}

static int pack_insert(struct sq_conn *c, const char *hostname_id,
		       const struct store_custom_pack *p, int64_t now)
{
	static const char sql[] =
	    "INSERT INTO cert_packs(id, hostname_id, status, "
	    "certificate_authority, created_at, updated_at, custom, "
	    "uploaded_on, custom_csr_id) VALUES (?1, ?2, 'pending_deployment', "
	    "'', ?3, ?3, 1, ?4, ?5)";
	const char *csr = p->custom_csr_id && p->custom_csr_id[0] ? p->custom_csr_id : NULL;

	return sq_run(c, SQ_CUSTOM_PACK_INSERT, sql, "ttIIt", p->pack_id, hostname_id, now,
		      p->uploaded_on_us, csr);
}

static int cert_insert(struct sq_conn *c, const struct store_custom_pack *p,
		       const struct store_custom_cert *cc, int64_t now)
{
	static const char key_sql[] = "INSERT INTO private_keys(id, owner_id, key_type, sealed, "
				      "created_at) VALUES (?1, ?2, ?3, ?4, ?5)";
	struct store_certificate cert = cc->cert;
	int rc = 0;

	if (cc->sealed_key)
		rc = sq_run(c, SQ_CUSTOM_KEY_INSERT, key_sql, "tttbI", cert.private_key_id,
			    p->pack_id, cc->pem_key_type, (const void *)cc->sealed_key,
			    cc->sealed_len, now);
	snprintf(cert.pack_id, sizeof(cert.pack_id), "%s", p->pack_id);
	cert.created_at_us = now;
	if (rc == 0)
		rc = sq_certificate_insert(c, &cert);
	return rc;
}

/* The pack HOSTNAME_ID serves now ("" ids and status when it has none). */
struct current_pack {
	char id[37];
	char status[32];
	int custom;
};

static int current_pack_load(struct sq_conn *c, const char *hostname_id, struct current_pack *cur)
{
	static const char sql[] =
	    "SELECT COALESCE(p.id, ''), COALESCE(p.status, ''), COALESCE(p.custom, 0) FROM "
	    "hostnames h LEFT JOIN cert_packs p ON p.id = h.ssl_pack_id WHERE h.id = ?1";
	struct sq_stmt *s = NULL;
	int rc = sq_query(c, SQ_CUSTOM_PACK_STATUS, sql, &s, "t", hostname_id);

	memset(cur, 0, sizeof(*cur));
	if (rc == 1) {
		sq_col_copy(s, 0, cur->id, sizeof(cur->id));
		sq_col_copy(s, 1, cur->status, sizeof(cur->status));
		cur->custom = sq_col_int(s, 2);
	}
	sq_reset(s);
	return rc < 0 ? rc : 0;
}

/* Moves the certificate of the key type P does not bring, and the key the old custom pack
 * FROM owns for it, into P: one upload per key type (`saasedge cert import`) fills both. */
static int carry_other_type(struct sq_conn *c, const char *from, const struct store_custom_pack *p)
{
	static const char keys[] =
	    "UPDATE private_keys SET owner_id = ?2 WHERE owner_id = ?1 AND id IN (SELECT "
	    "private_key_id FROM certificates WHERE pack_id = ?1 AND key_type <> ?3)";
	static const char certs[] =
	    "UPDATE certificates SET pack_id = ?2 WHERE pack_id = ?1 AND key_type <> ?3";
	const char *type = p->certs[0].cert.key_type;
	int rc;

	rc = sq_run(c, SQ_CUSTOM_CARRY_KEY, keys, "ttt", from, p->pack_id, type);
	if (rc == 0)
		rc = sq_run(c, SQ_CUSTOM_CARRY_CERT, certs, "ttt", from, p->pack_id, type);
	return rc;
}

int store_custom_pack_attach(struct store *st, struct store_hostname *h,
			     const struct store_custom_pack *p)
{
	struct sq_conn *c = NULL;
	struct current_pack cur;
	struct sq_event ev = {h->zone_id,  h->id,      "certificate.stored",
			      h->hostname, cur.status, pack_status_name(PACK_PENDING_DEPLOYMENT)};
	int64_t now = time_now_us(), seq = 0;
	int rc;

	memset(&cur, 0, sizeof(cur));
	if (p->n_certs < 1 || p->n_certs > 2 || !p->pack_id[0])
		return SE_EINVAL;
	c = sq_conn_get(st);
	rc = c ? sq_begin(c) : SE_EDB;
	if (rc == 0)
		rc = current_pack_load(c, h->id, &cur);
	if (rc == 0)
		rc = sq_event_append(c, &ev, &seq);
	if (rc == 0)
		rc = pack_insert(c, h->id, p, now);
	if (rc == 0 && p->keep_other_type && p->n_certs == 1 && cur.custom)
		rc = carry_other_type(c, cur.id, p);
	if (rc == 0)
		rc = host_set(c, h, p->pack_id, now, seq);
	if (rc == 0)
		rc = packs_drop(c, h->id, p->pack_id);
	for (size_t i = 0; rc == 0 && i < p->n_certs; i++)
		rc = cert_insert(c, p, &p->certs[i], now);
	/* A pending issuance job would otherwise issue over the uploaded certificate. */
	if (rc == 0)
		rc = sq_jobs_delete_subject(c, h->id);
	if (rc == 0)
		rc = sq_commit(c);
	if (rc) {
		if (c)
			sq_rollback(c);
		return rc;
	}
	h->updated_at_us = now;
	h->change_seq = seq;
	return 0;
}

int store_custom_packs_drop(struct store *st, const char *hostname_id, const char *keep_pack_id)
{
	struct sq_conn *c = sq_conn_get(st);
	int rc = c ? sq_begin(c) : SE_EDB;

	if (rc == 0)
		rc = packs_drop(c, hostname_id, keep_pack_id);
	if (rc == 0)
		rc = sq_commit(c);
	if (rc && c)
		sq_rollback(c);
	return rc;
}

int store_custom_packs_expiring(struct store *st, int64_t now_us, int64_t window_us,
				struct store_custom_watch *out, size_t max, size_t *n)
{
	static const char sql[] =
	    "SELECT p.id, p.status, MIN(c.not_after) FROM cert_packs p JOIN certificates c ON "
	    "c.pack_id = p.id WHERE p.custom = 1 AND p.status IN ('pending_deployment', 'active', "
	    "'pending_expiration') GROUP BY p.id HAVING (p.status <> 'pending_expiration' AND "
	    "MIN(c.not_after) < ?1) OR MIN(c.not_after) <= ?2 LIMIT ?3";
	struct sq_conn *c = sq_conn_get(st);
	struct sq_stmt *s = NULL;
	int rc;

	*n = 0;
	if (!c)
		return SE_EDB;
	for (rc = sq_query(c, SQ_CUSTOM_WATCH, sql, &s, "III", now_us + window_us, now_us,
			   (int64_t)max);
	     rc == 1 && *n < max; rc = sq_step(c, s, "custom_watch")) {
		sq_col_copy(s, 0, out[*n].pack_id, sizeof(out[*n].pack_id));
		sq_col_copy(s, 1, out[*n].status, sizeof(out[*n].status));
		out[*n].not_after_us = sq_col_int64(s, 2);
		(*n)++;
	}
	sq_reset(s);
	return rc < 0 ? rc : 0;
}

/* The certificate a replace or delete is about, with what its event needs. */
struct cert_target {
	char key_type[8];
	char key_id[37];
	char zone_id[33];
	char hostname_id[37];
	char hostname[256];
	char pack_status[32];
	int n_in_pack;
};

static int target_load(struct sq_conn *c, const char *zone_id, const char *hostname_id,
		       const char *pack_id, const char *cert_id, struct cert_target *t)
{
	static const char sql[] =
	    "SELECT c.key_type, COALESCE(c.private_key_id, ''), h.hostname, p.status, "
	    "(SELECT COUNT(*) FROM certificates WHERE pack_id = p.id) FROM certificates c "
	    "JOIN cert_packs p ON p.id = c.pack_id JOIN hostnames h ON h.id = p.hostname_id "
	    "WHERE c.id = ?1 AND p.id = ?2 AND h.id = ?3 AND h.zone_id = ?4 AND p.custom = 1";
	struct sq_stmt *s = NULL;
	int rc;

	memset(t, 0, sizeof(*t));
	rc = sq_query(c, SQ_CUSTOM_CERT_FIND, sql, &s, "tttt", cert_id, pack_id, hostname_id,
		      zone_id);
	if (rc == 1) {
		sq_col_copy(s, 0, t->key_type, sizeof(t->key_type));
		sq_col_copy(s, 1, t->key_id, sizeof(t->key_id));
		sq_col_copy(s, 2, t->hostname, sizeof(t->hostname));
		sq_col_copy(s, 3, t->pack_status, sizeof(t->pack_status));
		t->n_in_pack = sq_col_int(s, 4);
		snprintf(t->zone_id, sizeof(t->zone_id), "%s", zone_id);
		snprintf(t->hostname_id, sizeof(t->hostname_id), "%s", hostname_id);
		rc = 0;
	} else if (rc == 0) {
		rc = SE_ENOTFOUND;
	}
	sq_reset(s);
	return rc;
}

/* Drops certificate CERT_ID and the key PACK_ID owned for it (a CSR's key stays). */
static int cert_drop(struct sq_conn *c, const char *pack_id, const char *cert_id,
		     const struct cert_target *t)
{
	int rc = sq_run(c, SQ_CUSTOM_CERT_DELETE, "DELETE FROM certificates WHERE id = ?1", "t",
			cert_id);

	if (rc == 0 && t->key_id[0])
		rc = sq_run(c, SQ_CUSTOM_CERT_KEY_DELETE,
			    "DELETE FROM private_keys WHERE id = ?1 AND owner_id = ?2", "tt",
			    t->key_id, pack_id);
	return rc;
}

/* The event that makes edges reload the hostname, and its sequence on the hostname; the pack
 * goes from T's status to NEW_STATUS. */
static int cert_event(struct sq_conn *c, const struct cert_target *t, const char *new_status)
{
	struct sq_event ev = {t->zone_id,  t->hostname_id, "certificate.stored",
			      t->hostname, t->pack_status, new_status};
	int64_t seq = 0;
	int rc = sq_event_append(c, &ev, &seq);

	if (rc == 0)
		rc = sq_run(c, SQ_CUSTOM_HOST_SEQ,
			    "UPDATE hostnames SET change_seq = ?2, updated_at = ?3 WHERE id = ?1",
			    "tII", t->hostname_id, seq, time_now_us());
	return rc;
}

int store_custom_cert_replace(struct store *st, const char *zone_id, const char *hostname_id,
			      const char *pack_id, const char *cert_id,
			      const struct store_custom_cert *nc)
{
	static const char touch[] =
	    "UPDATE cert_packs SET uploaded_on = ?2, updated_at = ?2 WHERE id = ?1";
	struct store_custom_pack p;
	struct sq_pack_moved moved;
	struct cert_target t;
	struct sq_conn *c = sq_conn_get(st);
	int64_t now = time_now_us();
	int rc = c ? sq_begin(c) : SE_EDB;

	memset(&p, 0, sizeof(p));
	snprintf(p.pack_id, sizeof(p.pack_id), "%s", pack_id);
	if (rc == 0)
		rc = target_load(c, zone_id, hostname_id, pack_id, cert_id, &t);
	if (rc == 0 && strcmp(t.key_type, nc->cert.key_type) != 0)
		rc = SE_EINVAL;
	if (rc == 0)
		rc = cert_drop(c, pack_id, cert_id, &t);
	if (rc == 0)
		rc = cert_insert(c, &p, nc, now);
	if (rc == 0)
		rc = sq_run(c, SQ_CUSTOM_PACK_TOUCH, touch, "tI", pack_id, now);
	if (rc == 0)
		rc = sq_pack_move(c, pack_id, PACK_EV_UPLOADED, -1, NULL, &moved);
	if (rc == 0)
		rc = cert_event(c, &t, moved.to);
	if (rc == 0)
		rc = sq_commit(c);
	if (rc && c)
		sq_rollback(c);
	return rc;
}

int store_custom_cert_delete(struct store *st, const char *zone_id, const char *hostname_id,
			     const char *pack_id, const char *cert_id)
{
	struct cert_target t;
	struct sq_conn *c = sq_conn_get(st);
	int rc = c ? sq_begin(c) : SE_EDB;

	if (rc == 0)
		rc = target_load(c, zone_id, hostname_id, pack_id, cert_id, &t);
	if (rc == 0 && t.n_in_pack <= 1)
		rc = SE_EBUSY;
	if (rc == 0)
		rc = cert_drop(c, pack_id, cert_id, &t);
	if (rc == 0)
		rc = cert_event(c, &t, t.pack_status);
	if (rc == 0)
		rc = sq_commit(c);
	if (rc && c)
		sq_rollback(c);
	return rc;
}

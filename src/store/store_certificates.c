/* Certificate packs and certificates: written by the issuer or `saasedge cert import`, read by
 * the edge one hostname at a time (store_edge_lookup). Every write appends an event and bumps
 * the hostname's change sequence in the same transaction, so the edges' change feed sees it. */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib/error.h"
#include "lib/timeutil.h"
#include "lib/x509_info.h"

void store_certificate_dispose(struct store_certificate *c)
{
	free(c->leaf_der);
	free(c->chain_der);
	c->leaf_der = NULL;
	c->chain_der = NULL;
	c->leaf_len = 0;
	c->chain_len = 0;
}

void store_edge_entry_dispose(struct store_edge_entry *e)
{
	free(e->settings_json);
	e->settings_json = NULL;
	for (size_t i = 0; i < 2; i++) {
		store_certificate_dispose(&e->certs[i]);
		free(e->sealed_keys[i]);
		e->sealed_keys[i] = NULL;
		e->sealed_lens[i] = 0;
	}
	e->n_certs = 0;
}

static int cert_is_whole(const struct store_certificate *cert)
{
	return cert->leaf_der && cert->leaf_len && cert->id[0] && cert->pack_id[0] &&
	       (strcmp(cert->key_type, "ecdsa") == 0 || strcmp(cert->key_type, "rsa") == 0);
}

/* Drops the certificate of C's key type in C's pack, with its private key unless C reuses it. */
static int cert_drop_old(struct sq_conn *c, const struct store_certificate *cert)
{
	static const char del_key[] =
	    "DELETE FROM private_keys WHERE id IN (SELECT private_key_id FROM certificates "
	    "WHERE pack_id = ?1 AND key_type = ?2 AND private_key_id IS NOT NULL "
	    "AND private_key_id <> ?3)";
	static const char del_cert[] =
	    "DELETE FROM certificates WHERE pack_id = ?1 AND key_type = ?2";
	int rc;

	rc = sq_send(c, SQ_CERT_OLD_KEY_DELETE, del_key, "ttt", cert->pack_id, cert->key_type,
		     cert->private_key_id);
	if (rc == 0)
		rc = sq_send(c, SQ_CERT_DELETE_TYPE, del_cert, "tt", cert->pack_id, cert->key_type);
	return rc;
}

/* The SANs of INFO as a JSON array text (malloc'd), the API's ssl.hosts. */
static char *hosts_json(const struct cert_info *info)
{
	json_t *arr = json_array();
	char *text;

	for (size_t i = 0; arr && i < info->n_sans; i++)
		json_array_append_new(arr, json_string(info->sans[i]));
	text = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
	json_decref(arr);
	return text;
}

int sq_certificate_insert(struct sq_conn *c, const struct store_certificate *cert)
{
	static const char sql[] =
	    "INSERT INTO certificates(id, pack_id, key_type, leaf, chain, serial, not_before, "
	    "not_after, private_key_id, created_at, issuer, serial_decimal, signature, "
	    "fingerprint_sha256, hosts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
	    "?13, ?14, ?15)";
	int64_t created = cert->created_at_us ? cert->created_at_us : time_now_us();
	struct cert_info info;
	char *hosts = NULL;
	int rc;

	/* What the API shows is read once, here, rather than from the DER on every request. A
	 * leaf the store cannot read is stored all the same (the API then shows no facts). */
	memset(&info, 0, sizeof(info));
	if (cert_info_from_der(cert->leaf_der, cert->leaf_len, &info) == 0 &&
	    !(hosts = hosts_json(&info))) {
		cert_info_dispose(&info);
		return SE_ENOMEM;
	}
	rc = sq_send(c, SQ_CERT_INSERT, sql, "tttbbtIItIttttt", cert->id, cert->pack_id,
		     cert->key_type, (const void *)cert->leaf_der, cert->leaf_len,
		     (const void *)cert->chain_der, cert->chain_len, cert->serial,
		     cert->not_before_us, cert->not_after_us,
		     cert->private_key_id[0] ? cert->private_key_id : NULL, created,
		     hosts ? info.issuer : NULL, hosts ? info.serial_decimal : NULL,
		     hosts ? info.signature : NULL, hosts ? info.fingerprint_sha256 : NULL, hosts);
	free(hosts);
	cert_info_dispose(&info);
	return rc;
}

int store_certificate_put(struct store *st, const struct store_certificate *cert)
{
	struct sq_conn *c = NULL;
	struct sq_pack_owner po;
	struct sq_event ev = {po.zone_id, po.hostname_id, "certificate.stored", po.hostname, "",
			      ""};
	int rc;

	memset(&po, 0, sizeof(po));
	if (!cert_is_whole(cert))
		return SE_EINVAL;
	c = sq_conn_get(st);
	rc = c ? sq_begin(c) : SE_EDB;
	if (rc == 0)
		rc = sq_pack_owner_load(c, cert->pack_id, &po);
	ev.old_status = po.status;
	ev.new_status = po.status;
	if (rc == 0)
		rc = sq_certificate_replace(c, cert);
	if (rc == 0)
		rc = sq_event_and_bump(c, &ev, NULL);
	if (rc == 0)
		rc = sq_commit(c);
	if (rc && c)
		sq_rollback(c);
	return rc;
}

int sq_certificate_replace(struct sq_conn *c, const struct store_certificate *cert)
{
	int rc = cert_is_whole(cert) ? cert_drop_old(c, cert) : SE_EINVAL;

	return rc ? rc : sq_certificate_insert(c, cert);
}

/* Everything the edge serves a name with, in one statement (one round trip on PostgreSQL, and
 * one snapshot on either engine without a transaction): the hostname with its zone's fallback
 * origin, its newest deployable pack that holds a certificate, and that pack's certificates with
 * their sealed keys, ECDSA first ("ecdsa" < "rsa"), one row per certificate (one row with NULL
 * pack columns when there is none). */
static const char edge_entry_sql[] =
    "WITH h AS (SELECT h.id, h.zone_id, h.hostname, h.ssl_settings, h.custom_origin_server, "
    "h.custom_origin_sni, COALESCE(f.origin, '') AS origin, h.ownership_token, h.change_seq "
    "FROM hostnames h LEFT JOIN fallback_origins f ON f.zone_id = h.zone_id "
    "WHERE h.hostname = ?1), "
    "p AS (SELECT p.id, p.status FROM cert_packs p WHERE p.hostname_id = (SELECT id FROM h) "
    "AND p.status IN ('pending_deployment', 'active', 'pending_expiration') AND EXISTS "
    "(SELECT 1 FROM certificates c WHERE c.pack_id = p.id) "
    "ORDER BY p.created_at DESC, p.rowid DESC LIMIT 1) "
    "SELECT h.id, h.zone_id, h.hostname, h.ssl_settings, h.custom_origin_server, "
    "h.custom_origin_sni, h.origin, h.ownership_token, h.change_seq, p.id, p.status, "
    "c.id, c.key_type, c.leaf, c.chain, c.private_key_id, c.serial, c.not_before, "
    "c.not_after, c.created_at, k.sealed "
    "FROM h LEFT JOIN p ON 1 = 1 LEFT JOIN certificates c ON c.pack_id = p.id "
    "LEFT JOIN private_keys k ON k.id = c.private_key_id ORDER BY c.key_type LIMIT 2";

enum { EDGE_COL_PACK = 9, EDGE_COL_CERT = 11 };

static int edge_host_read(struct sq_stmt *s, struct store_edge_entry *out)
{
	sq_col_copy(s, 0, out->hostname_id, sizeof(out->hostname_id));
	sq_col_copy(s, 1, out->zone_id, sizeof(out->zone_id));
	sq_col_copy(s, 2, out->hostname, sizeof(out->hostname));
	sq_col_copy(s, 4, out->custom_origin_server, sizeof(out->custom_origin_server));
	sq_col_copy(s, 5, out->custom_origin_sni, sizeof(out->custom_origin_sni));
	sq_col_copy(s, 6, out->fallback_origin, sizeof(out->fallback_origin));
	sq_col_copy(s, 7, out->ownership_token, sizeof(out->ownership_token));
	out->change_seq = sq_col_int64(s, 8);
	sq_col_copy(s, EDGE_COL_PACK, out->pack_id, sizeof(out->pack_id));
	sq_col_copy(s, EDGE_COL_PACK + 1, out->pack_status, sizeof(out->pack_status));
	if (sq_col_dup(s, 3, &out->settings_json) != 0)
		return SE_ENOMEM;
	if (!out->settings_json && !(out->settings_json = strdup("{}")))
		return SE_ENOMEM;
	return 0;
}

/* The row's certificate into OUT's slot I. */
static int edge_cert_read(struct sq_stmt *s, struct store_edge_entry *out, size_t i)
{
	struct store_certificate *cert = &out->certs[i];
	const int b = EDGE_COL_CERT;
	int rc;

	sq_col_copy(s, b, cert->id, sizeof(cert->id));
	memcpy(cert->pack_id, out->pack_id, sizeof(cert->pack_id));
	sq_col_copy(s, b + 1, cert->key_type, sizeof(cert->key_type));
	sq_col_copy(s, b + 4, cert->private_key_id, sizeof(cert->private_key_id));
	sq_col_copy(s, b + 5, cert->serial, sizeof(cert->serial));
	cert->not_before_us = sq_col_int64(s, b + 6);
	cert->not_after_us = sq_col_int64(s, b + 7);
	cert->created_at_us = sq_col_int64(s, b + 8);
	rc = sq_col_blob_dup(s, b + 2, &cert->leaf_der, &cert->leaf_len);
	if (rc == 0)
		rc = sq_col_blob_dup(s, b + 3, &cert->chain_der, &cert->chain_len);
	if (rc == 0)
		rc = sq_col_blob_dup(s, b + 9, &out->sealed_keys[i], &out->sealed_lens[i]);
	return rc;
}

/* The certificates of S's rows, the current one first; S stays on a row between them. */
static int edge_certs_read(struct sq_conn *c, struct sq_stmt *s, struct store_edge_entry *out)
{
	int rc = 1;

	while (rc == 1 && out->n_certs < 2 && !sq_col_is_null(s, EDGE_COL_CERT)) {
		rc = edge_cert_read(s, out, out->n_certs++);
		if (rc == 0)
			rc = sq_step(c, s, "edge_entry");
	}
	return rc < 0 ? rc : 0;
}

int store_edge_lookup(struct store *st, const char *name, struct store_edge_entry *out)
{
	struct sq_conn *c = sq_conn_read(st);
	struct sq_stmt *s = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!c)
		return SE_EDB;
	rc = sq_query(c, SQ_EDGE_ENTRY, edge_entry_sql, &s, "t", name);
	if (rc == 0)
		rc = SE_ENOTFOUND;
	if (rc == 1)
		rc = edge_host_read(s, out);
	if (rc == 0)
		rc = edge_certs_read(c, s, out);
	sq_reset(s);
	if (rc)
		store_edge_entry_dispose(out);
	return rc;
}

int store_events_last_seq(struct store *st, int64_t *seq)
{
	struct sq_conn *c = sq_conn_read(st);
	struct sq_stmt *s = NULL;
	int rc;

	*seq = 0;
	if (!c)
		return SE_EDB;
	rc = sq_query(c, SQ_EVENTS_LAST, "SELECT COALESCE(MAX(seq), 0) FROM events", &s, "");
	if (rc == 1)
		*seq = sq_col_int64(s, 0);
	sq_reset(s);
	return rc < 0 ? rc : 0;
}

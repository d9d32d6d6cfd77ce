/* The certificates a hostname shows: one query for a whole page of hostnames (the pack ids go
 * in as one JSON array), reading the facts stored with each certificate. A certificate stored
 * before those facts were kept is read from its DER instead, as every one used to be. */
#include "store/store_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/x509_info.h"

/* Facts of a certificate stored without them, from its leaf (column LEAF of S). */
static int summary_from_der(struct sq_stmt *s, int leaf, struct store_cert_summary *out)
{
	size_t der_len = 0;
	const unsigned char *der = sq_col_blob(s, leaf, &der_len);
	struct cert_info info;
	json_t *hosts;
	int rc;

	memset(&info, 0, sizeof(info));
	rc = cert_info_from_der(der, der_len, &info);
	if (rc) {
		cert_info_dispose(&info);
		return rc;
	}
	snprintf(out->issuer, sizeof(out->issuer), "%s", info.issuer);
	snprintf(out->serial_decimal, sizeof(out->serial_decimal), "%s", info.serial_decimal);
	snprintf(out->signature, sizeof(out->signature), "%s", info.signature);
	snprintf(out->fingerprint_sha256, sizeof(out->fingerprint_sha256), "%s",
		 info.fingerprint_sha256);
	hosts = json_array();
	for (size_t i = 0; hosts && i < info.n_sans; i++)
		json_array_append_new(hosts, json_string(info.sans[i]));
	out->hosts_json = hosts ? json_dumps(hosts, JSON_COMPACT) : NULL;
	json_decref(hosts);
	cert_info_dispose(&info);
	return out->hosts_json ? 0 : SE_ENOMEM;
}

int sq_cert_summary_read(struct sq_stmt *s, int col, struct store_cert_summary *out)
{
	memset(out, 0, sizeof(*out));
	sq_col_copy(s, col, out->id, sizeof(out->id));
	sq_col_copy(s, col + 1, out->key_type, sizeof(out->key_type));
	out->not_before_us = sq_col_int64(s, col + 6);
	out->not_after_us = sq_col_int64(s, col + 7);
	if (sq_col_is_null(s, col + 2))
		return summary_from_der(s, col + 9, out);
	sq_col_copy(s, col + 2, out->issuer, sizeof(out->issuer));
	sq_col_copy(s, col + 3, out->serial_decimal, sizeof(out->serial_decimal));
	sq_col_copy(s, col + 4, out->signature, sizeof(out->signature));
	sq_col_copy(s, col + 5, out->fingerprint_sha256, sizeof(out->fingerprint_sha256));
	return sq_col_dup(s, col + 8, &out->hosts_json);
}

/* The pack ids of ITEMS as a JSON array text (malloc'd). */
static char *pack_ids_json(const struct store_hostname *items, size_t n)
{
	json_t *ids = json_array();
	char *text;

	for (size_t i = 0; ids && i < n; i++)
		if (items[i].ssl.pack_id[0])
			json_array_append_new(ids, json_string(items[i].ssl.pack_id));
	text = ids ? json_dumps(ids, JSON_COMPACT) : NULL;
	json_decref(ids);
	return text;
}

/* IDS: the engine's way to read the JSON array of pack ids as rows. */
#define SUMMARIES_SQL(ids)                                                                         \
	"SELECT c.pack_id, " SQ_CERT_SUMMARY_COLUMNS " FROM certificates c "                       \
	"WHERE c.pack_id IN (" ids ") ORDER BY c.pack_id, c.key_type"

int sq_cert_summaries_fill(struct sq_conn *c, struct store_hostname *items, size_t n)
{
	const char *sql =
	    sq_sql(c, SUMMARIES_SQL("SELECT value FROM json_each(?1)"),
		   SUMMARIES_SQL("SELECT json_array_elements_text(CAST(?1 AS json))"));
	struct sq_stmt *s = NULL;
	char *ids = pack_ids_json(items, n);
	char pack[37];
	int rc;

	if (!ids)
		return SE_ENOMEM;
	for (rc = sq_query(c, SQ_CERT_SUMMARIES, sql, &s, "t", ids); rc == 1;
	     rc = sq_step(c, s, "cert_summaries")) {
		sq_col_copy(s, 0, pack, sizeof(pack));
		/* A page holds a few dozen hostnames: a scan finds the row's owner. */
		for (size_t i = 0; i < n; i++) {
			struct store_ssl *ssl = &items[i].ssl;
			int got;

			if (strcmp(ssl->pack_id, pack) != 0 || ssl->n_certs == 2)
				continue;
			got = sq_cert_summary_read(s, 1, &ssl->certs[ssl->n_certs]);
			if (got == SE_ENOMEM) {
				free(ssl->certs[ssl->n_certs].hosts_json);
				rc = got;
				goto out;
			}
			if (got == 0)
				ssl->n_certs++;
		}
	}
out:
	sq_reset(s);
	free(ids);
	return rc < 0 ? rc : 0;
}

int store_hostname_read_certs(struct store *st, struct store_hostname *h)
{
	struct sq_conn *c = sq_conn_get(st);

	if (!c)
		return SE_EDB;
	for (size_t i = 0; i < h->ssl.n_certs; i++) {
		free(h->ssl.certs[i].hosts_json);
		h->ssl.certs[i].hosts_json = NULL;
	}
	h->ssl.n_certs = 0;
	return sq_cert_summaries_fill(c, h, 1);
}

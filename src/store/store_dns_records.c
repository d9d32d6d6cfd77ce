/* Delegated dns-01 TXT values: the issuer publishes what the CA (or saasedge's own check) will
 * look up under <label>.<dns.zone>, and the dns role answers from here, one indexed range read
 * per query. Rows belong to a pack and go with it (foreign key), or when it is issued. */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/timeutil.h"

int store_dns_record_put(struct store *st, const char *label, const char *value,
			 const char *pack_id, int64_t expires_us)
{
	static const char sql[] =
	    "INSERT INTO dns_records(label, value, pack_id, expires_at) VALUES (?1, ?2, ?3, ?4) "
	    "ON CONFLICT (label, value) DO UPDATE SET pack_id = excluded.pack_id, "
	    "expires_at = excluded.expires_at";
	size_t ll = strlen(label), vl = strlen(value);
	struct sq_conn *c;

	if (!ll || ll > STORE_DNS_LABEL_MAX || !vl || vl > STORE_DNS_VALUE_MAX || !pack_id[0])
		return SE_EINVAL;
	c = sq_conn_get(st);
	if (!c)
		return SE_EDB;
	return sq_run(c, SQ_DNS_RECORD_PUT, sql, "tttI", label, value, pack_id, expires_us);
}

int store_dns_records_get(struct store *st, const char *label,
			  char values[][STORE_DNS_VALUE_MAX + 1], size_t max, size_t *n)
{
	static const char sql[] = "SELECT value FROM dns_records WHERE label = ?1 AND "
				  "expires_at > ?2 ORDER BY value";
	struct sq_conn *c = sq_conn_get(st);
	struct sq_stmt *s = NULL;
	int rc;

	*n = 0;
	if (!c)
		return SE_EDB;
	rc = sq_query(c, SQ_DNS_RECORDS_GET, sql, &s, "tI", label, time_now_us());
	while (rc == 1 && *n < max) {
		sq_col_copy(s, 0, values[*n], STORE_DNS_VALUE_MAX + 1);
		(*n)++;
		rc = sq_step(c, s, "dns_records_get");
	}
	sq_reset(s);
	return rc < 0 ? rc : 0;
}

int store_dns_records_all(struct store *st, struct store_dns_record **out, size_t *n)
{
	static const char sql[] = "SELECT label, value FROM dns_records WHERE expires_at > ?1 "
				  "ORDER BY label, value";
	struct sq_conn *c = sq_conn_get(st);
	struct store_dns_record *all = NULL;
	size_t cap = 0;
	struct sq_stmt *s = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	if (!c)
		return SE_EDB;
	rc = sq_query(c, SQ_DNS_RECORDS_ALL, sql, &s, "I", time_now_us());
	while (rc == 1) {
		if (*n == cap) {
			struct store_dns_record *grown;

			cap = cap ? cap * 2 : 16;
			grown = realloc(all, cap * sizeof(*all));
			if (!grown) {
				rc = SE_ENOMEM;
				break;
			}
			all = grown;
		}
		sq_col_copy(s, 0, all[*n].label, sizeof(all[*n].label));
		sq_col_copy(s, 1, all[*n].value, sizeof(all[*n].value));
		(*n)++;
		rc = sq_step(c, s, "dns_records_all");
	}
	sq_reset(s);
	if (rc < 0) {
		free(all);
		*n = 0;
		return rc;
	}
	*out = all;
	return 0;
}

int store_dns_records_delete_pack(struct store *st, const char *pack_id)
{
	struct sq_conn *c = sq_conn_get(st);

	if (!c)
		return SE_EDB;
	return sq_run(c, SQ_DNS_RECORDS_DELETE_PACK, "DELETE FROM dns_records WHERE pack_id = ?1",
		      "t", pack_id);
}

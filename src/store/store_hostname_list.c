/* The filtered, ordered, paginated hostname list. The SQL depends on which filters are present,
 * so it is built on demand and cached per connection under a key of its shape: one prepare per
 * shape and connection, then only binds. The rows and the total are read in one snapshot. */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"

enum {
	F_ID = 1u << 0,
	F_EXACT = 1u << 1,
	F_CONTAINS = 1u << 2,
	F_PREFIX = 1u << 3,
	F_SSL_STATUS = 1u << 4,
	F_STATUS = 1u << 5,
	F_CA = 1u << 6,
	F_ORIGIN = 1u << 7,
	F_WILD_YES = 1u << 8,
	F_WILD_NO = 1u << 9,
	F_SSL_ONLY = 1u << 10,
	F_CONTAINS_SHORT = 1u << 11, /* F_CONTAINS for fewer than three characters */
};

#define KEY_ORDER_SHIFT 12 /* two bits of enum store_hostname_order */
#define KEY_DESC        (1u << 14)
#define KEY_COUNT       (1u << 15) /* the COUNT(*) statement rather than the rows */
#define KEY_ROWS_BY_RID (1u << 16) /* the rows of a page whose rids are known */

/* The trigram index needs three characters: shorter substrings are looked for row by row. */
#define TRIGRAM_MIN 3
/* From this offset on, an unfiltered page in creation order starts from an anchor: below it,
 * walking the index (~0.1 µs an entry) costs less than checking the anchors are current. */
#define ANCHOR_FROM 2048

#define PARAM_ZONE   1
#define PARAM_LIMIT  10
#define PARAM_OFFSET 11
#define PARAM_MAX    10 /* filter parameters are 2..9 */

/* Each filter's SQL binds the fixed parameter number PARAM, so one shape binds one way. Text
 * filters use = , a range, the trigram index or instr/strpos; '%' and '_' in input stay literal
 * (PostgreSQL's LIKE gets them escaped). The exact and prefix filters are lookups in the
 * (zone_id, hostname) index, ssl.status one in (zone_id, ssl_status), and a substring of three
 * characters or more a phrase of the name's trigrams (SQLite: hostnames_trigram, where every
 * trigram of the phrase, consecutive, is exactly the substring; PostgreSQL: pg_trgm's index).
 * The first eight rows are in the order of query_init's texts. */
static const struct {
	unsigned bit;
	int param; /* 0: nothing to bind */
	const char *sql;
	const char *pg_sql; /* PostgreSQL's, where it differs */
} filters[] = {
    {F_ID, 2, " AND h.id = ?2", NULL},
    {F_EXACT, 3, " AND h.hostname = ?3", NULL},
    /* PostgreSQL: pg_trgm's GIN index serves LIKE '%…%' (the pattern escaped: like_pattern). */
    {F_CONTAINS, 4,
     " AND h.rid IN (SELECT rowid FROM hostnames_trigram WHERE hostnames_trigram "
     "MATCH ?4)",
     " AND h.hostname LIKE ?4"},
    /* U+10FFFF sorts after every character a prefix can be followed by. */
    {F_PREFIX, 5, " AND h.hostname >= ?5 AND h.hostname < ?5 || char(1114111)",
     " AND h.hostname >= ?5 AND h.hostname < ?5 || chr(1114111)"},
    {F_SSL_STATUS, 6, " AND h.ssl_status = ?6", NULL},
    {F_STATUS, 7, " AND h.status = ?7", NULL},
    {F_CA, 8, " AND h.ssl_ca = ?8", NULL},
    {F_ORIGIN, 9, " AND h.custom_origin_server = ?9", NULL},
    {F_WILD_YES, 0, " AND (h.ssl_wildcard = 1 OR substr(h.hostname, 1, 2) = '*.')", NULL},
    {F_WILD_NO, 0, " AND h.ssl_wildcard = 0 AND substr(h.hostname, 1, 2) <> '*.'", NULL},
    {F_SSL_ONLY, 0, " AND h.ssl_enabled = 1", NULL},
    {F_CONTAINS_SHORT, 4, " AND instr(h.hostname, ?4) > 0", " AND strpos(h.hostname, ?4) > 0"},
};

/* rid breaks ties so that pages never overlap; hostnames are unique within a zone. */
static const char *const orders[][2] = {
    [STORE_ORDER_CREATED] = {" ORDER BY h.rid", " ORDER BY h.rid DESC"},
    [STORE_ORDER_SSL] = {" ORDER BY h.ssl_method, h.rid",
			 " ORDER BY h.ssl_method DESC, h.rid DESC"},
    [STORE_ORDER_SSL_STATUS] = {" ORDER BY h.ssl_status, h.rid",
				" ORDER BY h.ssl_status DESC, h.rid DESC"},
    [STORE_ORDER_HOSTNAME] = {" ORDER BY h.hostname", " ORDER BY h.hostname DESC"},
};

#define N_FILTERS (sizeof(filters) / sizeof(filters[0]))
#define N_ORDERS  (sizeof(orders) / sizeof(orders[0]))

struct list_query {
	const char *zone_id;
	unsigned mask;
	const char *vals[PARAM_MAX]; /* by parameter number */
	char
	    *lower[2]; /* owned: the contains phrase (or lower-case text), starts_with lower case */
	int64_t offset, limit;
};

struct sqlbuf {
	char buf[2048];
	size_t len;
	int overflow;
};

static void sb_add(struct sqlbuf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->len + n >= sizeof(b->buf)) {
		b->overflow = 1;
		return;
	}
	memcpy(b->buf + b->len, s, n + 1);
	b->len += n;
}

/* Names are stored lower case; matching substrings the same way keeps the filters
 * case-insensitive, as LIKE would be. */
static char *ascii_lower_dup(const char *s)
{
	char *d = strdup(s);

	for (char *p = d; p && *p; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	}
	return d;
}

/* TEXT as one FTS5 phrase, "…" with inner quotes doubled: matched literally, whatever it holds
 * (FTS5 operators and column filters included). Malloc'd. */
static char *fts_phrase(const char *text)
{
	size_t n = strlen(text), k = 0;
	char *out = malloc(2 * n + 3);

	if (!out)
		return NULL;
	out[k++] = '"';
	for (size_t i = 0; i < n; i++) {
		if (text[i] == '"')
			out[k++] = '"';
		out[k++] = text[i];
	}
	out[k++] = '"';
	out[k] = '\0';
	return out;
}

/* TEXT as a LIKE pattern that matches it anywhere: '%' and '_' in it, and the escape '\\',
 * matched literally. Malloc'd. */
static char *like_pattern(const char *text)
{
	size_t n = strlen(text), k = 0;
	char *out = malloc(2 * n + 3);

	if (!out)
		return NULL;
	out[k++] = '%';
	for (size_t i = 0; i < n; i++) {
		char ch = text[i] >= 'A' && text[i] <= 'Z' ? (char)(text[i] - 'A' + 'a') : text[i];

		if (ch == '%' || ch == '_' || ch == '\\')
			out[k++] = '\\';
		out[k++] = ch;
	}
	out[k++] = '%';
	out[k] = '\0';
	return out;
}

static int query_init(struct list_query *q, const struct sq_conn *c, const char *zone_id,
		      const struct store_hostname_filter *f)
{
	char *(*contains_value)(const char *) =
	    c->be->dialect == SQ_POSTGRES ? like_pattern : fts_phrase;

	const char *texts[] = {
	    f->id,         f->hostname_exact,  f->hostname_contains,     f->hostname_starts_with,
	    f->ssl_status, f->hostname_status, f->certificate_authority, f->custom_origin_server};

	memset(q, 0, sizeof(*q));
	q->zone_id = zone_id;
	q->offset = f->offset > 0 ? f->offset : 0;
	q->limit = f->limit;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		if (!texts[i])
			continue;
		q->mask |= filters[i].bit;
		q->vals[filters[i].param] = texts[i];
	}
	if (f->hostname_contains && strlen(f->hostname_contains) < TRIGRAM_MIN) {
		q->mask = (q->mask & ~F_CONTAINS) | F_CONTAINS_SHORT;
		if (!(q->vals[4] = q->lower[0] = ascii_lower_dup(texts[2])))
			return SE_ENOMEM;
	} else if (f->hostname_contains &&
		   !(q->vals[4] = q->lower[0] = contains_value(f->hostname_contains))) {
		return SE_ENOMEM;
	}
	if (f->hostname_starts_with && !(q->vals[5] = q->lower[1] = ascii_lower_dup(texts[3])))
		return SE_ENOMEM;
	if (f->wildcard == 1)
		q->mask |= F_WILD_YES;
	else if (f->wildcard == 0)
		q->mask |= F_WILD_NO;
	if (f->ssl_only == 1)
		q->mask |= F_SSL_ONLY;
	return 0;
}

/* FROM … WHERE of every shape: the hostname row alone (the pack's status is kept on it). */
static void build_where(struct sqlbuf *b, const struct sq_conn *c, unsigned key)
{
	sb_add(b, "hostnames h WHERE h.zone_id = ?1");
	for (size_t i = 0; i < N_FILTERS; i++) {
		if (key & filters[i].bit)
			sb_add(b, filters[i].pg_sql ? sq_sql(c, filters[i].sql, filters[i].pg_sql)
						    : filters[i].sql);
	}
}

/* The rows query pages over rids alone, then reads the full rows of that page only: OFFSET
 * then skips entries of an index rather than joined rows (90 ms → 3 ms at offset 50,000). */
static void build_sql(struct sqlbuf *b, const struct sq_conn *c, unsigned key)
{
	const char *order = orders[(key >> KEY_ORDER_SHIFT) & 3u][(key & KEY_DESC) ? 1 : 0];

	if (key & KEY_COUNT) {
		sb_add(b, "SELECT COUNT(*) FROM ");
		build_where(b, c, key);
		return;
	}
	sb_add(b, "SELECT " SQ_HOSTNAME_COLUMNS " FROM " SQ_HOSTNAME_FROM
		  " WHERE h.rid IN (SELECT h.rid FROM ");
	build_where(b, c, key);
	sb_add(b, order);
	sb_add(b, " LIMIT ?10 OFFSET ?11)");
	sb_add(b, order);
}

/* Binds and returns the cached statement of shape KEY, building it on first use. */
static int query_stmt(struct sq_conn *c, const struct list_query *q, unsigned key,
		      struct sq_stmt **out)
{
	struct sq_stmt *s = sq_keyed_find(c, key);
	struct sqlbuf b = {.len = 0};
	int rc = 0;

	if (!s) {
		build_sql(&b, c, key);
		if (b.overflow)
			return SE_EINVAL;
		rc = sq_keyed_add(c, key, b.buf, &s);
		if (rc)
			return rc;
	}
	rc = sq_bind_text(s, PARAM_ZONE, q->zone_id);
	for (size_t i = 0; i < N_FILTERS && rc == 0; i++) {
		if ((q->mask & filters[i].bit) && filters[i].param)
			rc = sq_bind_text(s, filters[i].param, q->vals[filters[i].param]);
	}
	if (rc == 0 && !(key & KEY_COUNT))
		rc = sq_bind_int64(s, PARAM_LIMIT, q->limit);
	if (rc == 0 && !(key & KEY_COUNT))
		rc = sq_bind_int64(s, PARAM_OFFSET, q->offset);
	if (rc != 0) {
		sq_reset(s);
		return rc;
	}
	*out = s;
	return 0;
}

static int query_total(struct sq_conn *c, const struct list_query *q, int64_t *total)
{
	struct sq_stmt *s = NULL;
	int rc;

	/* Unfiltered: the zone's counter, kept in step by every create and delete; by ssl.status
	 * alone: the per-status counters the triggers keep. */
	if (q->mask == 0)
		rc =
		    sq_query(c, SQ_ZONE_HOSTNAME_COUNT,
			     "SELECT hostname_count FROM zones WHERE id = ?1", &s, "t", q->zone_id);
	else if (q->mask == F_SSL_STATUS)
		rc =
		    sq_query(c, SQ_ZONE_SSL_COUNT,
			     "SELECT n FROM zone_ssl_counts WHERE zone_id = ?1 AND ssl_status = ?2",
			     &s, "tt", q->zone_id, q->vals[6]);
	else if ((rc = query_stmt(c, q, q->mask | KEY_COUNT, &s)) == 0)
		rc = sq_step(c, s, "hostname_count");
	*total = rc == 1 ? sq_col_int64(s, 0) : 0;
	sq_reset(s);
	return rc < 0 ? rc : 0;
}

/* The rows of the bound statement S (reset here) into a new array. */
static int rows_read(struct sq_conn *c, struct sq_stmt *s, struct store_hostname **items,
		     size_t *count)
{
	struct store_hostname *arr = NULL, *grown;
	size_t n = 0, cap = 0;
	int rc = 0;

	while (rc == 0 && (rc = sq_step(c, s, "hostname_list")) == 1) {
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			grown = realloc(arr, cap * sizeof(*arr));
			if (!grown) {
				rc = SE_ENOMEM;
				break;
			}
			arr = grown;
		}
		rc = sq_hostname_read(s, &arr[n]);
		if (rc == 0)
			n++;
	}
	sq_reset(s);
	if (rc < 0) {
		store_hostname_list_free(arr, n);
		return rc;
	}
	*items = n ? arr : NULL;
	if (!n)
		free(arr);
	*count = n;
	return 0;
}

static int query_rows(struct sq_conn *c, const struct list_query *q, unsigned key,
		      struct store_hostname **items, size_t *count)
{
	struct sq_stmt *s = NULL;
	int rc = query_stmt(c, q, key, &s);

	return rc ? rc : rows_read(c, s, items, count);
}

/* An unfiltered page in creation order, from the anchor at or before it (store_list_anchors.c)
 * rather than an OFFSET over the zone: the page is positions [start, start + n) in rid order,
 * shown newest first when DESC. */
static int query_rows_anchored(struct sq_conn *c, const struct list_query *q, int desc,
			       int64_t total, struct store_hostname **items, size_t *count)
{
	static const char *const sql[2] = {
	    "SELECT " SQ_HOSTNAME_COLUMNS " FROM " SQ_HOSTNAME_FROM " WHERE h.rid IN (SELECT rid "
	    "FROM hostnames WHERE zone_id = ?1 AND rid >= ?2 ORDER BY rid LIMIT ?3 OFFSET ?4) "
	    "ORDER BY h.rid",
	    "SELECT " SQ_HOSTNAME_COLUMNS " FROM " SQ_HOSTNAME_FROM " WHERE h.rid IN (SELECT rid "
	    "FROM hostnames WHERE zone_id = ?1 AND rid >= ?2 ORDER BY rid LIMIT ?3 OFFSET ?4) "
	    "ORDER BY h.rid DESC"};
	int64_t start = q->offset, n = q->limit, last, anchor = 0, skip = 0;
	struct sq_stmt *s = NULL;
	int rc;

	if (desc) { /* offset 0 is the newest row, position total - 1 */
		last = total - 1 - q->offset;
		start = last - q->limit + 1 > 0 ? last - q->limit + 1 : 0;
		n = last - start + 1;
	}
	rc = sq_list_anchor(c, q->zone_id, total, start, &anchor, &skip);
	if (rc == 0)
		rc = sq_prepare(c, desc ? SQ_ANCHOR_PAGE_DESC : SQ_ANCHOR_PAGE, sql[desc], &s);
	if (rc == 0 && (sq_bind_text(s, 1, q->zone_id) || sq_bind_int64(s, 2, anchor) ||
			sq_bind_int64(s, 3, n) || sq_bind_int64(s, 4, skip))) {
		rc = SE_EDB;
		sq_reset(s);
	}
	return rc ? rc : rows_read(c, s, items, count);
}

/* The rows of the N hostnames RIDS, in ORDER (descending when DESC). */
static int rows_by_rid(struct sq_conn *c, const int64_t *rids, size_t n,
		       enum store_hostname_order order, int desc, struct store_hostname **items,
		       size_t *count)
{
	unsigned key =
	    KEY_ROWS_BY_RID | ((unsigned)order << KEY_ORDER_SHIFT) | (desc ? KEY_DESC : 0);
	struct sqlbuf b = {.len = 0};
	size_t len = 0, cap = 3 + n * 21; /* 20 digits and a comma each */
	char *json = malloc(cap);
	struct sq_stmt *s = NULL;
	int rc = json ? 0 : SE_ENOMEM;

	/* the rids as a JSON array for json_each: one statement whatever the count */
	if (rc == 0) {
		len = (size_t)snprintf(json, cap, "[");
		for (size_t i = 0; i < n; i++)
			len += (size_t)snprintf(json + len, cap - len, "%s%lld", i ? "," : "",
						(long long)rids[i]);
		snprintf(json + len, cap - len, "]");
		sb_add(&b,
		       "SELECT " SQ_HOSTNAME_COLUMNS " FROM " SQ_HOSTNAME_FROM " WHERE h.rid IN ");
		sb_add(&b, sq_sql(c, "(SELECT value FROM json_each(?1))",
				  "(SELECT CAST(json_array_elements_text(CAST(?1 AS json)) AS "
				  "bigint))"));
		sb_add(&b, orders[order][desc ? 1 : 0]);
		s = sq_keyed_find(c, key);
		if (!s)
			rc = sq_keyed_add(c, key, b.buf, &s);
	}
	if (rc == 0)
		rc = sq_bind_text(s, 1, json);
	if (rc == 0)
		rc = rows_read(c, s, items, count);
	else
		sq_reset(s);
	free(json);
	return rc;
}

/* A deep page of another supported shape (store_list_shape_anchors.c): its rids from the
 * anchors, then their rows in the shape's order. */
static int query_rows_shaped(struct sq_conn *c, const struct list_query *q,
			     const struct sq_list_shape *shape, struct store_hostname **items,
			     size_t *count)
{
	int64_t *rids = calloc((size_t)q->limit, sizeof(*rids));
	size_t n = 0;
	int rc = rids ? 0 : SE_ENOMEM;

	if (rc == 0)
		rc = sq_list_shape_page(c, shape, q->offset, q->limit, rids, &n);
	if (rc == 0)
		rc = rows_by_rid(c, rids, n, shape->order, shape->desc, items, count);
	free(rids);
	return rc;
}

/* A one- or two-character ?hostname.contain= alone, in creation order: the count and the
 * page's rids from the process's copy of the zone's names (store_name_search.c). SE_EBUSY:
 * search in SQL. */
static int query_rows_searched(struct sq_conn *c, const struct list_query *q, int desc,
			       struct store_hostname **items, size_t *count, int64_t *total)
{
	struct list_query zone = {.zone_id = q->zone_id};
	int64_t zone_total = 0, *rids = NULL;
	size_t n = 0;
	int rc = query_total(c, &zone, &zone_total);

	if (rc == 0 && !(rids = calloc(q->limit > 0 ? (size_t)q->limit : 1, sizeof(*rids))))
		rc = SE_ENOMEM;
	if (rc == 0)
		rc = sq_name_search(c, q->zone_id, zone_total, q->vals[4], desc, q->offset,
				    q->limit, rids, &n, total);
	if (rc == 0 && n)
		rc = rows_by_rid(c, rids, n, STORE_ORDER_CREATED, desc, items, count);
	free(rids);
	return rc;
}

/* 1 when Q is read rows first: a first page with fewer rows than it holds has every match, so
 * its length is the total and the count (a round trip, and a scan for filters without a
 * counter: ?hostname= and the like) is left out. The zone's and the per-status counters cost
 * one indexed read: those are read first as before. */
static int first_page_tells_total(const struct list_query *q)
{
	return q->offset == 0 && q->limit > 0 && q->mask != 0 && q->mask != F_SSL_STATUS;
}

/* A first page filtered by id or exact name alone holds at most one hostname: read it with its
 * certificates in one statement (one round trip on PostgreSQL, instead of a transaction of
 * two queries). */
static int list_one(struct sq_conn *c, const struct list_query *q, struct store_hostname **items,
		    size_t *count, int64_t *total)
{
	struct store_hostname *h = calloc(1, sizeof(*h));
	int by_name = q->mask == F_EXACT;
	const char *key = q->vals[by_name ? 3 : 2]; /* where filters[] binds each */
	int rc;

	if (!h)
		return SE_ENOMEM;
	rc = sq_hostname_find(c, q->zone_id, by_name, key, h);
	if (rc == 0) {
		*items = h;
		*count = 1;
		*total = 1;
		return 0;
	}
	free(h);
	return rc == SE_ENOTFOUND ? 0 : rc;
}

/* The page and total of Q in the caller's read transaction, with SQL: the rows first when the
 * first page tells the total, deep pages from anchors where their shape has them. */
static int list_in_sql(struct sq_conn *c, const struct list_query *q,
		       const struct store_hostname_filter *filter, struct store_hostname **items,
		       size_t *count, int64_t *total)
{
	unsigned key = q->mask | ((unsigned)filter->order << KEY_ORDER_SHIFT) |
		       (filter->descending ? KEY_DESC : 0);
	int rc;

	if (first_page_tells_total(q)) {
		rc = query_rows(c, q, key, items, count);
		if (rc == 0 && (int64_t)*count < q->limit)
			*total = (int64_t)*count;
		else if (rc == 0)
			rc = query_total(c, q, total);
	} else {
		rc = query_total(c, q, total);
	}
	/* Past the end or an empty page: the total is all the caller needs. */
	if (rc == 0 && !*count && q->limit != 0 && q->offset < *total) {
		struct sq_list_shape shape = {q->zone_id, filter->order, filter->descending,
					      q->mask == F_SSL_STATUS ? q->vals[6] : NULL};

		/* A deep page seeks from an anchor where its shape has them; SE_EBUSY: read it
		 * with OFFSET. */
		rc = SE_EBUSY;
		if (q->mask == 0 && filter->order == STORE_ORDER_CREATED &&
		    q->offset >= ANCHOR_FROM)
			rc = query_rows_anchored(c, q, filter->descending, *total, items, count);
		else if ((q->mask == 0 || q->mask == F_SSL_STATUS) && q->offset >= ANCHOR_FROM &&
			 sq_list_shape_supported(&shape))
			rc = query_rows_shaped(c, q, &shape, items, count);
		if (rc == SE_EBUSY)
			rc = query_rows(c, q, key, items, count);
	}
	return rc;
}

int store_hostname_list(struct store *st, const char *zone_id,
			const struct store_hostname_filter *filter, struct store_hostname **items,
			size_t *count, int64_t *total)
{
	struct sq_conn *c = NULL;
	struct list_query q;
	int rc;

	*items = NULL;
	*count = 0;
	*total = 0;
	memset(&q, 0, sizeof(q));
	c = sq_conn_get(st);
	rc = c ? query_init(&q, c, zone_id, filter) : SE_EDB;
	if (rc == 0 && ((unsigned)filter->order >= N_ORDERS))
		rc = SE_EINVAL;
	if (rc)
		goto out;
	if ((q.mask == F_EXACT || q.mask == F_ID) && q.offset == 0 && q.limit > 0) {
		rc = list_one(c, &q, items, count, total);
		goto out;
	}
	rc = sq_begin_read(c);
	if (rc == 0) {
		rc = SE_EBUSY;
		if (q.mask == F_CONTAINS_SHORT && filter->order == STORE_ORDER_CREATED)
			rc = query_rows_searched(c, &q, filter->descending, items, count, total);
		if (rc == SE_EBUSY)
			rc = list_in_sql(c, &q, filter, items, count, total);
	}
	if (rc == 0 && *count)
		rc = sq_cert_summaries_fill(c, *items, *count);
	if (rc == 0)
		rc = sq_commit(c);
out:
	if (rc) {
		sq_rollback(c);
		store_hostname_list_free(*items, *count);
		*items = NULL;
		*count = 0;
		*total = 0;
	}
	free(q.lower[0]);
	free(q.lower[1]);
	return rc;
}

/* Deep pages of the list shapes other than "a zone in creation order" (store_list_anchors.c):
 * ordered by hostname, ssl.status or ssl method, either direction, or one ssl.status in creation
 * order. OFFSET walks every entry before the page (30-75 ms at row 500,000 of a 1M-hostname
 * zone), so each process keeps, per shape, the sort key found at every SHAPE_EVERY-th position,
 * and a page seeks to the anchor at or before it and walks fewer than SHAPE_EVERY entries.
 *
 * Unlike creation order, a change can move any position here: a status change takes a row out
 * of one run and into another. So the anchors are valid for one value of the zone's
 * list_version, which triggers bump on every create, delete and change of a sort column
 * (migration_list_shapes), and a shape whose version moved is scanned again, once, by the
 * request that finds it stale. Everything is read in the caller's read transaction, so the
 * version, the anchors and the page agree.
 *
 * In a zone whose statuses keep changing (issuance, renewal) the anchors may be stale at every
 * request; a scan costs more than one OFFSET walk, so a shape is scanned again only once four
 * times its last scan's duration has passed since that scan, and in between its pages are read
 * with OFFSET (SE_EBUSY to the caller): scans take at most a fifth of the time. */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/timeutil.h"

#define SHAPE_EVERY  1024
#define SHAPE_SLOTS  8 /* shapes remembered; the least recently used is dropped */
#define SCAN_SPACING 4 /* a shape is scanned again no sooner than this many scans' time */

/* Keys of the statements built here in the connection's keyed cache: above the list's own. */
#define KEY_SHAPE_SCAN (1u << 20)
#define KEY_SHAPE_PAGE (1u << 21)

struct shape_anchor {
	char *key; /* the sort column's value (NULL in creation order) */
	int64_t rid;
};

struct shape_slot {
	char zone_id[33];
	char ssl_status[32];
	enum store_hostname_order order;
	int desc, filtered, valid;
	int64_t version;
	int64_t scanned_at_us, scan_us; /* when the last scan ended, and how long it took */
	struct shape_anchor *a;
	size_t n, cap;
	uint64_t used;
};

struct list_shapes {
	pthread_mutex_t lock;
	struct shape_slot slots[SHAPE_SLOTS];
	uint64_t tick;
};

/* The sort column of each order: hostnames are unique, so the name alone is a position. */
static const char *const sort_column[] = {
    [STORE_ORDER_CREATED] = NULL,
    [STORE_ORDER_SSL] = "ssl_method",
    [STORE_ORDER_SSL_STATUS] = "ssl_status",
    [STORE_ORDER_HOSTNAME] = "hostname",
};

int sq_list_shapes_create(struct list_shapes **out)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return SE_ENOMEM;
	pthread_mutex_init(&(*out)->lock, NULL);
	return 0;
}

static void slot_clear(struct shape_slot *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->a[i].key);
	s->n = 0;
	s->valid = 0;
}

void sq_list_shapes_destroy(struct list_shapes *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < SHAPE_SLOTS; i++) {
		slot_clear(&l->slots[i]);
		free(l->slots[i].a);
	}
	pthread_mutex_destroy(&l->lock);
	free(l);
}

int sq_list_shape_supported(const struct sq_list_shape *shape)
{
	if ((unsigned)shape->order > STORE_ORDER_HOSTNAME)
		return 0;
	/* One ssl.status in creation order is a run of the (zone_id, ssl_status) index; with
	 * another order no index serves both, and the rows are sorted anyway. */
	return shape->ssl_status == NULL || shape->order == STORE_ORDER_CREATED;
}

static int slot_matches(const struct shape_slot *s, const struct sq_list_shape *shape)
{
	return strcmp(s->zone_id, shape->zone_id) == 0 && s->order == shape->order &&
	       s->desc == !!shape->desc && s->filtered == (shape->ssl_status != NULL) &&
	       (!shape->ssl_status || strcmp(s->ssl_status, shape->ssl_status) == 0);
}

static struct shape_slot *slot_find(struct list_shapes *l, const struct sq_list_shape *shape)
{
	struct shape_slot *oldest = &l->slots[0];

	for (size_t i = 0; i < SHAPE_SLOTS; i++) {
		struct shape_slot *s = &l->slots[i];

		if (s->zone_id[0] && slot_matches(s, shape))
			return s;
		if (s->used < oldest->used)
			oldest = s;
	}
	slot_clear(oldest);
	snprintf(oldest->zone_id, sizeof(oldest->zone_id), "%s", shape->zone_id);
	snprintf(oldest->ssl_status, sizeof(oldest->ssl_status), "%s",
		 shape->ssl_status ? shape->ssl_status : "");
	oldest->order = shape->order;
	oldest->desc = !!shape->desc;
	oldest->filtered = shape->ssl_status != NULL;
	return oldest;
}

static int anchor_push(struct shape_slot *s, const char *key, int64_t rid)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct shape_anchor *grown = realloc(s->a, cap * sizeof(*grown));

		if (!grown)
			return SE_ENOMEM;
		s->a = grown;
		s->cap = cap;
	}
	s->a[s->n].key = NULL;
	if (key && !(s->a[s->n].key = strdup(key)))
		return SE_ENOMEM;
	s->a[s->n++].rid = rid;
	return 0;
}

/* Binds and returns the cached statement KEY of C, built from SQL on first use. */
static int keyed_stmt(struct sq_conn *c, unsigned key, const char *sql, struct sq_stmt **out)
{
	*out = sq_keyed_find(c, key);
	return *out ? 0 : sq_keyed_add(c, key, sql, out);
}

static unsigned shape_key(const struct sq_list_shape *shape)
{
	return (unsigned)shape->order | (shape->desc ? 4u : 0) | (shape->ssl_status ? 8u : 0);
}

static int bind_zone_status(struct sq_conn *c, struct sq_stmt *st,
			    const struct sq_list_shape *shape)
{
	int rc = sq_bind_text(st, 1, shape->zone_id);

	if (rc == 0 && shape->ssl_status)
		rc = sq_bind_text(st, 2, shape->ssl_status);
	return rc;
}

/* Walks the whole shape once, keeping the key at every SHAPE_EVERY-th position. */
static int build(struct sq_conn *c, struct shape_slot *s, const struct sq_list_shape *shape)
{
	const char *col = sort_column[shape->order], *dir = shape->desc ? "DESC" : "ASC";
	char sql[512], order[96];
	struct sq_stmt *st = NULL;
	int64_t pos = 0;
	int rc;

	if (shape->order == STORE_ORDER_HOSTNAME)
		snprintf(order, sizeof(order), "hostname %s", dir);
	else if (col)
		snprintf(order, sizeof(order), "%s %s, rid %s", col, dir, dir);
	else
		snprintf(order, sizeof(order), "rid %s", dir);
	snprintf(sql, sizeof(sql), "SELECT %s, rid FROM hostnames WHERE zone_id = ?1%s ORDER BY %s",
		 col ? col : "NULL", shape->ssl_status ? " AND ssl_status = ?2" : "", order);
	slot_clear(s);
	rc = keyed_stmt(c, KEY_SHAPE_SCAN | shape_key(shape), sql, &st);
	if (rc == 0)
		rc = bind_zone_status(c, st, shape);
	while (rc == 0 && (rc = sq_step(c, st, "list_shape_scan")) == 1) {
		rc = pos++ % SHAPE_EVERY == 0
			 ? anchor_push(s, sq_col_text(st, 0), sq_col_int64(st, 1))
			 : 0;
	}
	sq_reset(st);
	if (rc < 0)
		slot_clear(s);
	return rc < 0 ? rc : 0;
}

/* The statement reading LIMIT rids from the anchor (key ?3, rid ?4) on, after OFFSET of them:
 * index seeks, never a walk from the start of the zone. */
static void page_sql(const struct sq_list_shape *shape, char *sql, size_t n)
{
	const char *col = sort_column[shape->order], *dir = shape->desc ? "DESC" : "ASC";
	const char *from = shape->desc ? "<=" : ">=", *past = shape->desc ? "<" : ">";

	if (shape->order == STORE_ORDER_HOSTNAME)
		snprintf(sql, n,
			 "SELECT rid FROM hostnames WHERE zone_id = ?1 AND hostname %s ?3 "
			 "ORDER BY hostname %s LIMIT ?5 OFFSET ?6",
			 from, dir);
	else if (!col)
		snprintf(sql, n,
			 "SELECT rid FROM hostnames WHERE zone_id = ?1%s AND rid %s ?4 "
			 "ORDER BY rid %s LIMIT ?5 OFFSET ?6",
			 shape->ssl_status ? " AND ssl_status = ?2" : "", from, dir);
	else /* the rest of the anchor's run, then the runs after it: (col, rid) >= (?3, ?4) as
	      * two seeks, since SQLite seeks on the first column of a row value only */
		snprintf(
		    sql, n,
		    "SELECT rid FROM ("
		    "SELECT * FROM (SELECT %1$s AS k, rid FROM hostnames WHERE zone_id = ?1 "
		    "AND %1$s = ?3 AND rid %2$s ?4 ORDER BY rid %3$s LIMIT ?5 + ?6) "
		    "UNION ALL SELECT * FROM (SELECT %1$s AS k, rid FROM hostnames WHERE "
		    "zone_id = ?1 AND %1$s %4$s ?3 ORDER BY %1$s %3$s, rid %3$s LIMIT ?5 + ?6)) "
		    "ORDER BY k %3$s, rid %3$s LIMIT ?5 OFFSET ?6",
		    col, from, dir, past);
}

/* Scans SHAPE into S unless it was scanned too recently (SE_EBUSY). */
static int refresh(struct sq_conn *c, struct shape_slot *s, const struct sq_list_shape *shape,
		   int64_t version)
{
	int64_t start = time_monotonic_us();
	int rc;

	if (s->valid && s->version == version)
		return 0;
	if (s->scanned_at_us && start - s->scanned_at_us < SCAN_SPACING * s->scan_us)
		return SE_EBUSY;
	rc = build(c, s, shape);
	s->valid = rc == 0;
	s->version = version;
	s->scanned_at_us = time_monotonic_us();
	s->scan_us = s->scanned_at_us - start;
	return rc;
}

static int zone_version(struct sq_conn *c, const char *zone_id, int64_t *version)
{
	struct sq_stmt *s = NULL;
	int rc = sq_query(c, SQ_ZONE_LIST_VERSION, "SELECT list_version FROM zones WHERE id = ?1",
			  &s, "t", zone_id);

	*version = rc == 1 ? sq_col_int64(s, 0) : 0;
	sq_reset(s);
	return rc < 0 ? rc : rc == 0 ? SE_ENOTFOUND : 0;
}

/* The page from anchor A: up to LIMIT rids SKIP entries after it, into RIDS. */
static int page_read(struct sq_conn *c, const struct sq_list_shape *shape,
		     const struct shape_anchor *a, int64_t skip, int64_t limit, int64_t *rids,
		     size_t *count)
{
	char sql[768];
	struct sq_stmt *st = NULL;
	int rc;

	page_sql(shape, sql, sizeof(sql));
	rc = keyed_stmt(c, KEY_SHAPE_PAGE | shape_key(shape), sql, &st);
	if (rc == 0)
		rc = bind_zone_status(c, st, shape);
	if (rc == 0 && (sq_bind_text(st, 3, a->key) || sq_bind_int64(st, 4, a->rid) ||
			sq_bind_int64(st, 5, limit) || sq_bind_int64(st, 6, skip)))
		rc = SE_EDB;
	*count = 0;
	while (rc == 0 && (rc = sq_step(c, st, "list_shape_page")) == 1) {
		rids[(*count)++] = sq_col_int64(st, 0);
		rc = 0;
	}
	sq_reset(st);
	return rc < 0 ? rc : 0;
}

int sq_list_shape_page(struct sq_conn *c, const struct sq_list_shape *shape, int64_t position,
		       int64_t limit, int64_t *rids, size_t *count)
{
	struct list_shapes *l = c->st->shapes;
	struct shape_slot *s;
	int64_t version = 0;
	size_t k;
	int rc;

	*count = 0;
	if (!sq_list_shape_supported(shape) || position < 0 || limit <= 0)
		return SE_EINVAL;
	rc = zone_version(c, shape->zone_id, &version);
	if (rc)
		return rc;
	/* Held while a shape is scanned: the other deep pages of it would only make the same
	 * scan. */
	pthread_mutex_lock(&l->lock);
	s = slot_find(l, shape);
	s->used = ++l->tick;
	rc = refresh(c, s, shape, version);
	k = (size_t)(position / SHAPE_EVERY);
	if (rc == 0 && k < s->n)
		rc = page_read(c, shape, &s->a[k], position % SHAPE_EVERY, limit, rids, count);
	pthread_mutex_unlock(&l->lock);
	return rc;
}

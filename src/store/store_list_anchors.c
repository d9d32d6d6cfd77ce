/* Deep pages of a zone in creation order. Cloudflare's API pages by number, and OFFSET walks
 * every index entry before the page: 60 ms at row 500,000 of a 1M-hostname zone. So each
 * process keeps, per zone, the rid found at every ANCHOR_EVERY-th position of the zone's
 * hostnames in rid order, and a page starts from the anchor at or before it: at most
 * ANCHOR_EVERY - 1 entries are walked.
 *
 * Positions only move when a row before them goes: a create takes a larger rid than any row
 * (SQLite's rowid is max + 1; PostgreSQL's sequence only grows, and writers commit one at a
 * time: decision 0026), so creates only append, and the anchors are extended over the
 * rows appended since. Whether a row they describe was deleted (by this process or another
 * node) is told by the zone's hostname count: the described rows plus the appended ones must
 * make the count, else the anchors are built again from one scan of the zone. Everything is
 * read in the caller's read transaction, so count, anchors and page agree. */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"

#define ANCHOR_EVERY 1024
#define ANCHOR_ZONES 8 /* zones remembered; the least recently used is dropped */

struct anchor_zone {
	char zone_id[33];
	int64_t rows;     /* positions 0 .. rows-1 are described */
	int64_t last_rid; /* the rid at position rows-1 (0 when rows is 0) */
	int64_t *rid;     /* rid[k]: the rid at position k * ANCHOR_EVERY */
	size_t n, cap;
	uint64_t used;
};

struct list_anchors {
	pthread_mutex_t lock;
	struct anchor_zone zones[ANCHOR_ZONES];
	uint64_t tick;
};

int sq_list_anchors_create(struct list_anchors **out)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return SE_ENOMEM;
	pthread_mutex_init(&(*out)->lock, NULL);
	return 0;
}

void sq_list_anchors_destroy(struct list_anchors *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < ANCHOR_ZONES; i++)
		free(a->zones[i].rid);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

static struct anchor_zone *zone_slot(struct list_anchors *a, const char *zone_id)
{
	struct anchor_zone *oldest = &a->zones[0];

	for (size_t i = 0; i < ANCHOR_ZONES; i++) {
		struct anchor_zone *z = &a->zones[i];

		if (strcmp(z->zone_id, zone_id) == 0)
			return z;
		if (z->used < oldest->used)
			oldest = z;
	}
	free(oldest->rid);
	memset(oldest, 0, sizeof(*oldest));
	snprintf(oldest->zone_id, sizeof(oldest->zone_id), "%s", zone_id);
	return oldest;
}

static int anchor_push(struct anchor_zone *z, int64_t rid)
{
	if (z->n == z->cap) {
		size_t cap = z->cap ? 2 * z->cap : 64;
		int64_t *grown = realloc(z->rid, cap * sizeof(*grown));

		if (!grown)
			return SE_ENOMEM;
		z->rid = grown;
		z->cap = cap;
	}
	z->rid[z->n++] = rid;
	return 0;
}

/* Walks the zone's rids after z->last_rid in order, describing them. */
static int extend(struct sq_conn *c, struct anchor_zone *z)
{
	static const char sql[] = "SELECT rid FROM hostnames WHERE zone_id = ?1 AND rid > ?2 "
				  "ORDER BY rid";
	struct sq_stmt *s = NULL;
	int rc;

	for (rc = sq_query(c, SQ_ANCHOR_SCAN, sql, &s, "tI", z->zone_id, z->last_rid); rc == 1;
	     rc = sq_step(c, s, "anchor_scan")) {
		int64_t rid = sq_col_int64(s, 0);

		if (z->rows % ANCHOR_EVERY == 0 && (rc = anchor_push(z, rid)) != 0)
			break;
		z->rows++;
		z->last_rid = rid;
	}
	sq_reset(s);
	return rc < 0 ? rc : 0;
}

int sq_zone_rows_after(struct sq_conn *c, const char *zone_id, int64_t rid, int64_t *n)
{
	static const char sql[] = "SELECT COUNT(*) FROM hostnames WHERE zone_id = ?1 AND rid > ?2";
	struct sq_stmt *s = NULL;
	int rc = sq_query(c, SQ_ZONE_ROWS_AFTER, sql, &s, "tI", zone_id, rid);

	*n = rc == 1 ? sq_col_int64(s, 0) : 0;
	sq_reset(s);
	return rc < 0 ? rc : 0;
}

/* Brings Z up to the zone's TOTAL rows, from scratch when a described row is gone. */
static int refresh(struct sq_conn *c, struct anchor_zone *z, int64_t total)
{
	int64_t more = 0;
	int rc = sq_zone_rows_after(c, z->zone_id, z->last_rid, &more);

	if (rc == 0 && z->rows + more != total) {
		z->rows = z->last_rid = 0;
		z->n = 0;
	}
	if (rc == 0 && z->rows < total)
		rc = extend(c, z);
	if (rc == 0 && z->rows != total)
		rc = SE_EDB; /* the zone's count disagrees with its rows: do not guess */
	if (rc) {
		z->rows = z->last_rid = 0;
		z->n = 0;
	}
	return rc;
}

int sq_list_anchor(struct sq_conn *c, const char *zone_id, int64_t total, int64_t position,
		   int64_t *anchor_rid, int64_t *skip)
{
	struct list_anchors *a = c->st->anchors;
	struct anchor_zone *z;
	int rc;

	if (position < 0 || position >= total)
		return SE_EINVAL;
	/* Held while a refresh reads the store: a rebuild (after a delete) is one scan of the
	 * zone, and the other list requests of a deep page would only make the same scan. */
	pthread_mutex_lock(&a->lock);
	z = zone_slot(a, zone_id);
	z->used = ++a->tick;
	rc = refresh(c, z, total);
	if (rc == 0) {
		*anchor_rid = z->rid[position / ANCHOR_EVERY];
		*skip = position % ANCHOR_EVERY;
	}
	pthread_mutex_unlock(&a->lock);
	return rc;
}

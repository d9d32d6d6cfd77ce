/* ?hostname.contain= with one or two characters. The trigram index (store_hostname_list.c)
 * needs three, and looking for a shorter substring row by row in SQL costs 120-230 ns a row:
 * 230 ms in a 1M-hostname zone for the count that result_info must give exactly. memmem over
 * the same names in memory costs about 15 ns a row. So each process keeps, for the zones
 * searched this way lately, the zone's names in creation order, and one pass over them gives
 * both the count and the page.
 *
 * The copy is kept current as the creation-order anchors are (store_list_anchors.c): creates
 * only append, so the rows after the last rid described are read and appended; when the rows
 * described plus those appended do not make the zone's count, a described row was deleted and
 * the copy is read again from one scan of the zone. A scan costs more than one search in SQL,
 * so it is made no sooner than four times its last duration after the last one (in between,
 * SE_EBUSY: the caller searches in SQL), and scans take at most a fifth of the time.
 * Everything is read in the caller's read transaction, so count, copy and page agree. */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/timeutil.h"

#define NAME_ZONES   2 /* zones remembered (a 1M-hostname zone takes ~45 MB); LRU dropped */
#define SCAN_SPACING 4 /* a zone is scanned again no sooner than this many scans' time */

struct name_zone {
	char zone_id[33];
	char *names; /* every name followed by '\0', in rid order */
	size_t len, cap;
	size_t *at;   /* at[k]: where the name at position k starts in names */
	int64_t *rid; /* rid[k]: its rid */
	size_t rows, rows_cap;
	int64_t last_rid;               /* rid[rows - 1], 0 when rows is 0 */
	int64_t scanned_at_us, scan_us; /* when the last full scan ended, and how long it took */
	uint64_t used;
};

struct name_search {
	pthread_mutex_t lock;
	struct name_zone zones[NAME_ZONES];
	uint64_t tick;
};

int sq_name_search_create(struct name_search **out)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return SE_ENOMEM;
	pthread_mutex_init(&(*out)->lock, NULL);
	return 0;
}

static void zone_free(struct name_zone *z)
{
	free(z->names);
	free(z->at);
	free(z->rid);
	memset(z, 0, sizeof(*z));
}

void sq_name_search_destroy(struct name_search *ns)
{
	if (!ns)
		return;
	for (size_t i = 0; i < NAME_ZONES; i++)
		zone_free(&ns->zones[i]);
	pthread_mutex_destroy(&ns->lock);
	free(ns);
}

static struct name_zone *zone_slot(struct name_search *ns, const char *zone_id)
{
	struct name_zone *oldest = &ns->zones[0];

	for (size_t i = 0; i < NAME_ZONES; i++) {
		struct name_zone *z = &ns->zones[i];

		if (strcmp(z->zone_id, zone_id) == 0)
			return z;
		if (z->used < oldest->used)
			oldest = z;
	}
	zone_free(oldest);
	snprintf(oldest->zone_id, sizeof(oldest->zone_id), "%s", zone_id);
	return oldest;
}

static int row_push(struct name_zone *z, int64_t rid, const char *name)
{
	size_t n = strlen(name) + 1;

	if (z->rows == z->rows_cap) {
		size_t cap = z->rows_cap ? 2 * z->rows_cap : 1024;
		size_t *at = realloc(z->at, cap * sizeof(*at));
		int64_t *rids;

		if (!at)
			return SE_ENOMEM;
		z->at = at;
		rids = realloc(z->rid, cap * sizeof(*rids));
		if (!rids)
			return SE_ENOMEM;
		z->rid = rids;
		z->rows_cap = cap;
	}
	if (z->len + n > z->cap) {
		size_t cap = z->cap ? 2 * z->cap : 64 * 1024;
		char *names;

		while (cap < z->len + n)
			cap *= 2;
		if (!(names = realloc(z->names, cap)))
			return SE_ENOMEM;
		z->names = names;
		z->cap = cap;
	}
	memcpy(z->names + z->len, name, n);
	z->at[z->rows] = z->len;
	z->rid[z->rows] = rid;
	z->len += n;
	z->rows++;
	z->last_rid = rid;
	return 0;
}

/* Reads the zone's rows after z->last_rid, in order, into Z. */
static int extend(struct sq_conn *c, struct name_zone *z)
{
	static const char sql[] = "SELECT rid, hostname FROM hostnames WHERE zone_id = ?1 AND "
				  "rid > ?2 ORDER BY rid";
	struct sq_stmt *s = NULL;
	int rc;

	for (rc = sq_query(c, SQ_NAME_SEARCH_SCAN, sql, &s, "tI", z->zone_id, z->last_rid); rc == 1;
	     rc = sq_step(c, s, "name_search_scan")) {
		if ((rc = row_push(z, sq_col_int64(s, 0), sq_col_text(s, 1))) != 0)
			break;
	}
	sq_reset(s);
	return rc < 0 ? rc : 0;
}

static void forget_rows(struct name_zone *z)
{
	z->rows = z->len = 0;
	z->last_rid = 0;
}

/* Brings Z up to the zone's TOTAL rows; from scratch, when a described row is gone, unless the
 * last scan was too recent (SE_EBUSY). */
static int refresh(struct sq_conn *c, struct name_zone *z, int64_t total)
{
	int64_t more = 0, start = time_monotonic_us();
	int rescan, rc = sq_zone_rows_after(c, z->zone_id, z->last_rid, &more);

	if (rc)
		return rc;
	rescan = z->rows == 0 || z->rows + (size_t)more != (size_t)total;
	if (rescan && z->scanned_at_us && start - z->scanned_at_us < SCAN_SPACING * z->scan_us)
		return SE_EBUSY;
	if (rescan)
		forget_rows(z);
	if ((int64_t)z->rows < total)
		rc = extend(c, z);
	if (rc == 0 && (int64_t)z->rows != total)
		rc = SE_EDB; /* the zone's count disagrees with its rows: do not guess */
	if (rc)
		forget_rows(z);
	if (rescan) {
		z->scanned_at_us = time_monotonic_us();
		z->scan_us = z->scanned_at_us - start;
	}
	return rc;
}

/* Counts Z's names that hold NEEDLE, in rid order (newest first when DESC), keeping the rids
 * of the matches at positions [OFFSET, OFFSET + LIMIT). */
static void search(const struct name_zone *z, const char *needle, int desc, int64_t offset,
		   int64_t limit, int64_t *rids, size_t *n, int64_t *matches)
{
	size_t needle_len = strlen(needle);
	int64_t found = 0;

	*n = 0;
	for (size_t i = 0; i < z->rows; i++) {
		size_t k = desc ? z->rows - 1 - i : i;
		size_t end = k + 1 < z->rows ? z->at[k + 1] : z->len;
		const char *name = z->names + z->at[k];

		if (!memmem(name, end - z->at[k] - 1, needle, needle_len))
			continue;
		if (found >= offset && (int64_t)*n < limit)
			rids[(*n)++] = z->rid[k];
		found++;
	}
	*matches = found;
}

int sq_name_search(struct sq_conn *c, const char *zone_id, int64_t total, const char *needle,
		   int desc, int64_t offset, int64_t limit, int64_t *rids, size_t *count,
		   int64_t *matches)
{
	struct name_search *ns = c->st->names;
	struct name_zone *z;
	int rc;

	/* Held while a refresh reads the store: the other searches of the zone would only make
	 * the same scan. */
	pthread_mutex_lock(&ns->lock);
	z = zone_slot(ns, zone_id);
	z->used = ++ns->tick;
	rc = refresh(c, z, total);
	if (rc == 0)
		search(z, needle, desc, offset, limit, rids, count, matches);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

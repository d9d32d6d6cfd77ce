/* Edge nodes and per-edge deployment (docs/decisions/0027). Each edge upserts its row after it
 * has applied the change feed up to acked_seq; a pack that became pending_deployment is active
 * once every edge seen within the liveness window has applied the event that moved it, so a
 * certificate is "active" only when the whole fleet serves it. O(edges) rows, whatever the
 * number of hostnames. */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/timeutil.h"
#include "metrics/metrics.h"

#define DEPLOY_BATCH 256

int store_edge_heartbeat(struct store *st, const struct store_edge *edge)
{
	static const char sql[] =
	    "INSERT INTO edges(id, name, started_at, last_seen, acked_seq) "
	    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO UPDATE SET "
	    "last_seen = excluded.last_seen, acked_seq = excluded.acked_seq";
	struct sq_conn *c = sq_conn_get(st);

	if (!c)
		return SE_EDB;
	if (!edge->id[0])
		return SE_EINVAL;
	return sq_run(c, SQ_EDGE_HEARTBEAT, sql, "ttIII", edge->id, edge->name,
		      edge->started_at_us, time_now_us(), edge->acked_seq);
}

int store_edge_remove(struct store *st, const char *id)
{
	struct sq_conn *c = sq_conn_get(st);

	return c ? sq_run(c, SQ_EDGE_REMOVE, "DELETE FROM edges WHERE id = ?1", "t", id) : SE_EDB;
}

int store_edges_prune(struct store *st, int64_t before_us)
{
	struct sq_conn *c = sq_conn_get(st);

	return c ? sq_run(c, SQ_EDGES_PRUNE, "DELETE FROM edges WHERE last_seen < ?1", "I",
			  before_us)
		 : SE_EDB;
}

int store_edges_list(struct store *st, struct store_edge **items, size_t *count)
{
	static const char sql[] = "SELECT id, name, started_at, last_seen, acked_seq FROM edges "
				  "ORDER BY last_seen DESC, id";
	struct sq_conn *c = sq_conn_get(st);
	struct store_edge *list = NULL;
	struct sq_stmt *s = NULL;
	size_t n = 0, cap = 0;
	int rc;

	*items = NULL;
	*count = 0;
	if (!c)
		return SE_EDB;
	for (rc = sq_query(c, SQ_EDGES_LIST, sql, &s, ""); rc == 1; rc = sq_step(c, s, "edges")) {
		if (n == cap) {
			struct store_edge *grown;

			cap = cap ? cap * 2 : 8;
			grown = realloc(list, cap * sizeof(*list));
			if (!grown) {
				rc = SE_ENOMEM;
				break;
			}
			list = grown;
		}
		memset(&list[n], 0, sizeof(list[n]));
		sq_col_copy(s, 0, list[n].id, sizeof(list[n].id));
		sq_col_copy(s, 1, list[n].name, sizeof(list[n].name));
		list[n].started_at_us = sq_col_int64(s, 2);
		list[n].last_seen_us = sq_col_int64(s, 3);
		list[n].acked_seq = sq_col_int64(s, 4);
		n++;
	}
	sq_reset(s);
	if (rc < 0) {
		free(list);
		return rc;
	}
	*items = list;
	*count = n;
	return 0;
}

struct deploy_candidate {
	char pack_id[37];
	int64_t seq;        /* the hostname's change_seq: the move it fences */
	int64_t created_us; /* the hostname's creation, for the time-to-active metric */
};

/* Packs pending_deployment whose hostname's last event every live edge has applied, read
 * without the write lock (most ticks find none). */
static int candidates(struct sq_conn *c, int64_t live_since_us, struct deploy_candidate *out,
		      size_t *n)
{
	static const char sql[] =
	    "SELECT p.id, h.change_seq, h.created_at FROM cert_packs p JOIN hostnames h ON "
	    "h.id = p.hostname_id "
	    "WHERE p.status = 'pending_deployment' AND h.change_seq <= "
	    "(SELECT MIN(acked_seq) FROM edges WHERE last_seen >= ?1) LIMIT ?2";
	struct sq_stmt *s = NULL;
	int rc;

	*n = 0;
	for (rc = sq_query(c, SQ_DEPLOY_CANDIDATES, sql, &s, "II", live_since_us,
			   (int64_t)DEPLOY_BATCH);
	     rc == 1 && *n < DEPLOY_BATCH; rc = sq_step(c, s, "deploy candidates")) {
		sq_col_copy(s, 0, out[*n].pack_id, sizeof(out[*n].pack_id));
		out[*n].seq = sq_col_int64(s, 1);
		out[*n].created_us = sq_col_int64(s, 2);
		(*n)++;
	}
	sq_reset(s);
	return rc < 0 ? rc : 0;
}

int store_deployments_advance(struct store *st, int64_t live_since_us, size_t *moved)
{
	struct deploy_candidate *list = malloc(DEPLOY_BATCH * sizeof(*list));
	struct sq_conn *c = sq_conn_get(st);
	size_t n = 0, done = 0;
	int rc = list ? 0 : SE_ENOMEM;

	if (moved)
		*moved = 0;
	if (rc == 0 && !c)
		rc = SE_EDB;
	if (rc == 0)
		rc = candidates(c, live_since_us, list, &n);
	if (rc == 0 && n)
		rc = sq_begin(c);
	/* Each move is fenced by the sequence read above: a hostname changed since is left for
	 * the next tick, when the edges have applied that change too. */
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct sq_pack_moved m;
		int r = sq_pack_move(c, list[i].pack_id, PACK_EV_DEPLOYED, list[i].seq, NULL, &m);

		if (r == 0 && m.moved)
			list[done++].created_us = list[i].created_us;
		else if (r != SE_EBUSY && r != SE_ENOTFOUND && r != 0)
			rc = r;
	}
	if (rc == 0 && n)
		rc = sq_commit(c);
	if (rc && c)
		sq_rollback(c);
	if (rc == 0 && moved)
		*moved = done;
	for (size_t i = 0; rc == 0 && i < done; i++)
		metrics_observe_us(M_ISSUER_TIME_TO_ACTIVE, 0, time_now_us() - list[i].created_us);
	free(list);
	return rc;
}

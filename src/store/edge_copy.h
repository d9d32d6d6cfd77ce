/* The edge's local copy: what an edge loaded from a shared store (PostgreSQL), kept in a SQLite
 * file on the edge's own disk, so that an edge restarted while the database is away still
 * serves every hostname it served before. Certificates and sealed keys are kept as the store
 * holds them: the keys are unsealed only in memory, with the master key, as always.
 *
 * It is a cache, not a second store: written on every load, read only when the store cannot be
 * reached, and kept honest by the change feed (a changed name is reloaded, or dropped from the
 * copy). Every function may be called from any thread. */
#ifndef SAASEDGE_STORE_EDGE_COPY_H
#define SAASEDGE_STORE_EDGE_COPY_H

#include <stdint.h>

#include "store/store.h"

struct edge_copy;

/* Opens (or creates, mode 0600) the copy at PATH. */
int edge_copy_open(const char *path, struct edge_copy **out);
void edge_copy_close(struct edge_copy *ec);

/* What the store said of NAME (a hostname, or a wildcard "*.rest"): REC, or nothing (REC NULL:
 * the store has no such name). */
struct edge_copy_change {
	const char *name;
	const struct store_edge_entry *rec;
};

/* Applies CHANGES in order, in one transaction (all or none). A REC is kept unless the copy
 * holds this version of it already (same change sequence and pack) or knows of a later one. */
int edge_copy_write(struct edge_copy *ec, const struct edge_copy_change *changes, size_t n);
/* One change: keeps REC as NAME, as edge_copy_write does. */
int edge_copy_put(struct edge_copy *ec, const char *name, const struct store_edge_entry *rec);
/* NAME's entry as the store last gave it; SE_ENOTFOUND when the copy has none. OUT is filled as
 * store_edge_lookup fills it (store_edge_entry_dispose frees it). */
int edge_copy_get(struct edge_copy *ec, const char *name, struct store_edge_entry *out);
/* One change: forgets NAME (the store has no such hostname). */
int edge_copy_remove(struct edge_copy *ec, const char *name);
/* Forgets NAME as of change SEQ (it changed while this edge did not hold it): a version older
 * than SEQ is dropped, and a lookup that read the store before SEQ cannot put it back. */
int edge_copy_forget(struct edge_copy *ec, const char *name, int64_t seq);
/* Forgets everything (the copy is too far behind the store to catch up). */
int edge_copy_clear(struct edge_copy *ec);

/* The change-feed position up to which every change is reflected in the copy (0: none). */
int edge_copy_position(struct edge_copy *ec, int64_t *seq);
int edge_copy_set_position(struct edge_copy *ec, int64_t seq);

#endif

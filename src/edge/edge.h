/* The edge role: TLS termination by SNI with certificates loaded lazily from the store, and an
 * HTTP/1.1 reverse proxy to each hostname's origin. Start-up loads no certificate, so it costs
 * the same whatever the number of hostnames. */
#ifndef SAASEDGE_EDGE_EDGE_H
#define SAASEDGE_EDGE_EDGE_H

#include "lib/config.h"
#include "lib/secretbox.h"
#include "store/store.h"

struct edge;

/* Binds the listeners of CFG (edge.https_listen, edge.http_listen) and starts the event loops,
 * the lookup threads and the change feed. CFG, ST and BOX are borrowed and must outlive the
 * edge. On success *out is owned by the caller (edge_stop). SE_EADDRINUSE when a port is taken,
 * SE_ECONFIG for a bad address or default certificate. Main thread only. */
int edge_start(const struct config *cfg, struct store *st, const struct secretbox *box,
	       struct edge **out);

/* Stops every thread, closes every connection and frees the edge. NULL-safe. */
void edge_stop(struct edge *e);

#endif

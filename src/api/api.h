/* The Cloudflare-compatible API server (/client/v4) over libmicrohttpd. */
#ifndef SAASEDGE_API_API_H
#define SAASEDGE_API_API_H

#include "lib/config.h"
#include "lib/secretbox.h"
#include "store/store.h"

struct api_server;

/* Starts listening on cfg->api.listen with cfg->api.threads threads, and on
 * cfg->api.approval_listen for the approval page alone when that is set. CFG, ST and BOX (the master
 * key that seals the private keys of custom CSRs and uploaded certificates) are borrowed and
 * must outlive the server. SE_EADDRINUSE when the port is taken, SE_ECONFIG for a bad address.
 * On success *out is owned by the caller (api_server_stop). */
int api_server_start(const struct config *cfg, struct store *st, const struct secretbox *box,
		     struct api_server **out);

/* The port actually bound (useful with port 0). */
unsigned api_server_port(const struct api_server *srv);

/* Stops accepting, finishes in-flight requests, frees the server. */
void api_server_stop(struct api_server *srv);

#endif

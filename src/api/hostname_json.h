/* The custom hostname object as Cloudflare shows it (docs/api.md). */
#ifndef SAASEDGE_API_HOSTNAME_JSON_H
#define SAASEDGE_API_HOSTNAME_JSON_H

#include <jansson.h>

#include "lib/config.h"
#include "store/store.h"

/* A new JSON object for H (caller owns the reference). NULL on ENOMEM. Reads nothing: the
 * certificates shown are H's ssl.certs, the delegation zone and CAs CFG's. H and CFG are
 * borrowed. */
json_t *hostname_to_json(const struct store_hostname *h, const struct config *cfg);

#endif

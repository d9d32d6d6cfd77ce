/* The ssl object of a custom hostname as Cloudflare shows it (docs/api.md, "The custom hostname
 * object"). */
#ifndef SAASEDGE_API_SSL_JSON_H
#define SAASEDGE_API_SSL_JSON_H

#include <jansson.h>

#include "lib/config.h"
#include "store/store.h"

/* A new JSON object for H's ssl (caller owns the reference; H->ssl.enabled must be set), or
 * NULL on ENOMEM. Reads nothing: what it shows comes from H and from CFG (the DCV delegation
 * zone, the configured CAs). H and CFG are borrowed. */
json_t *ssl_to_json(const struct store_hostname *h, const struct config *cfg);

/* Parses TEXT (JSON) into a new reference, or NULL when TEXT is NULL or does not parse. */
json_t *json_parse_stored(const char *text);

#endif

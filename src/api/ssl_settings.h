/* ssl.settings: min_tls_version, ciphers, http2, tls_1_3, tls_1_2_only, early_hints. */
#ifndef SAASEDGE_API_SSL_SETTINGS_H
#define SAASEDGE_API_SSL_SETTINGS_H

#include <jansson.h>

#include "api/envelope.h"

/* Merges the keys of GIVEN (an object; a null value removes a key; unknown keys are ignored)
 * into SETTINGS after checking each, then checks the result as a whole. Returns 0, or -1 with RES
 * filled and SETTINGS partly merged (the caller discards it). */
int ssl_settings_merge(const json_t *given, json_t *settings, struct api_response *res);

#endif

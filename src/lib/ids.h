/* Identifiers and secrets drawn from OpenSSL's CSPRNG, and their checks. */
#ifndef SAASEDGE_LIB_IDS_H
#define SAASEDGE_LIB_IDS_H

#include <stddef.h>

#define IDS_UUID_LEN 36  /* "0d89c70d-ad9f-4843-b99f-6cc0252067e9" */
#define IDS_ZONE_LEN 32  /* 32 lowercase hex, like Cloudflare zone ids */
#define IDS_TOKEN_LEN 40 /* API token: 40 characters of [A-Za-z0-9_-] */

/* Fills BUF with N random bytes; SE_ECRYPTO when the CSPRNG fails. */
int ids_random(void *buf, size_t n);
/* Random (version 4) UUID, lower case, NUL-terminated. */
int ids_uuid(char out[IDS_UUID_LEN + 1]);
/* 32 lowercase hex characters, NUL-terminated (zone ids, token ids, lease tokens). */
int ids_hex32(char out[IDS_ZONE_LEN + 1]);
/* A new API token secret, NUL-terminated. */
int ids_api_token(char out[IDS_TOKEN_LEN + 1]);
/* Lowercase hex SHA-256 of DATA. */
void ids_sha256_hex(const void *data, size_t n, char out[65]);

/* 1 when S is a UUID in canonical 8-4-4-4-12 hex form (either case), else 0. */
int ids_is_uuid(const char *s);
/* 1 when S is 32 hex characters, else 0. */
int ids_is_hex32(const char *s);

#endif

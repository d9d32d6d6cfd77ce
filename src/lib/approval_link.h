/* The approval link of email DCV: the issuer mails <base>/dcv/email/<token>, the API serves the
 * page there. The token is 256 random bits in hex and works as a credential: only its SHA-256
 * is stored, and it is never logged. */
#ifndef SAASEDGE_LIB_APPROVAL_LINK_H
#define SAASEDGE_LIB_APPROVAL_LINK_H

#include <stddef.h>

#include "lib/config.h"

#define APPROVAL_LINK_PATH      "/dcv/email/" /* followed by the token */
#define APPROVAL_LINK_TOKEN_LEN 64

/* A new random token, NUL-terminated; SE_ECRYPTO when the CSPRNG fails. */
int approval_link_token(char out[APPROVAL_LINK_TOKEN_LEN + 1]);
/* 1 when TOKEN has the form of a token (64 lowercase hex characters), else 0. */
int approval_link_token_ok(const char *token);
/* The lowercase hex SHA-256 of TOKEN, the form the store keeps. */
void approval_link_hash(const char *token, char out[65]);
/* The link for TOKEN under email.approval_url_base, or http://<api.approval_listen or
 * api.listen> when that is empty, which config_load allows only under --dev (a wildcard listen
 * address becomes "localhost"). SE_ETOOBIG when it does not fit OUT. */
int approval_link_url(const struct config *cfg, const char *token, char *out, size_t out_len);

#endif

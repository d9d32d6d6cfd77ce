#include "api/auth.h"

#include <string.h>
#include <strings.h>

#include "lib/error.h"
#include "lib/ids.h"

/* Our tokens are IDS_TOKEN_LEN characters of [A-Za-z0-9_-]; anything else cannot match, and
 * saying "malformed" is more helpful than "unknown". */
static int token_well_formed(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

	return n == IDS_TOKEN_LEN && s[n] == '\0';
}

static int lookup(struct store *st, const char *secret, struct store_token *token,
		  struct api_response *res, enum api_error unknown)
{
	char digest[65];
	int rc;

	ids_sha256_hex(secret, strlen(secret), digest);
	rc = store_token_find(st, digest, token);
	if (rc == SE_ENOTFOUND) {
		api_fail(res, unknown, NULL);
		return -1;
	}
	if (rc) {
		api_fail_store(res, rc, API_ERR_INTERNAL);
		return -1;
	}
	return 0;
}

static int bearer(struct store *st, const char *header, struct store_token *token,
		  struct api_response *res)
{
	if (strncasecmp(header, "Bearer ", 7) != 0 || !token_well_formed(header + 7)) {
		api_fail_chain(res, API_ERR_AUTH_FORMAT, 6111,
			       "Invalid format for Authorization header");
		return -1;
	}
	return lookup(st, header + 7, token, res, API_ERR_AUTH_BAD_TOKEN);
}

static int legacy_pair(struct store *st, const struct api_credentials *creds,
		       struct store_token *token, struct api_response *res)
{
	if (!token_well_formed(creds->auth_key)) {
		api_fail_chain(res, API_ERR_AUTH_FORMAT, 6103, "Invalid format for X-Auth-Key header");
		return -1;
	}
	if (!creds->auth_email || !strchr(creds->auth_email, '@')) {
		api_fail_chain(res, API_ERR_AUTH_FORMAT, 6102,
			       "Invalid format for X-Auth-Email header");
		return -1;
	}
	if (lookup(st, creds->auth_key, token, res, API_ERR_AUTH_BAD_KEY))
		return -1;
	if (token->email[0] == '\0' || strcasecmp(token->email, creds->auth_email) != 0) {
		api_fail(res, API_ERR_AUTH_BAD_KEY, NULL);
		return -1;
	}
	return 0;
}

int api_authenticate(struct store *st, const struct api_credentials *creds,
		     struct store_token *token, struct api_response *res)
{
	if (creds->authorization)
		return bearer(st, creds->authorization, token, res);
	if (creds->auth_key)
		return legacy_pair(st, creds, token, res);
	api_fail(res, API_ERR_AUTH_MISSING, NULL);
	return -1;
}

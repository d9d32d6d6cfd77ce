#include "api/auth.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "lib/error.h"
#include "lib/ids.h"
#include "lib/log.h"

/* What a check of the credentials concluded; only REFUSED counts against the address (a store
 * failure is ours, not the client's). */
enum verdict { AUTH_OK = 0, AUTH_REFUSED = -1, AUTH_ERROR = -2 };

/* Our tokens are IDS_TOKEN_LEN characters of [A-Za-z0-9_-]; anything else cannot match, and
 * saying "malformed" is more helpful than "unknown". */
static int token_well_formed(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

	return n == IDS_TOKEN_LEN && s[n] == '\0';
}

static enum verdict lookup(struct store *st, const char *secret, struct store_token *token,
			   struct api_response *res, enum api_error unknown)
{
	char digest[65];
	int rc;

	ids_sha256_hex(secret, strlen(secret), digest);
	rc = store_token_find(st, digest, token);
	if (rc == SE_ENOTFOUND) {
		api_fail(res, unknown, NULL);
		return AUTH_REFUSED;
	}
	if (rc) {
		api_fail_store(res, rc, API_ERR_INTERNAL);
		return AUTH_ERROR;
	}
	return AUTH_OK;
}

static enum verdict bearer(struct store *st, const char *header, struct store_token *token,
			   struct api_response *res)
{
	if (strncasecmp(header, "Bearer ", 7) != 0 || !token_well_formed(header + 7)) {
		api_fail_chain(res, API_ERR_AUTH_FORMAT, 6111,
			       "Invalid format for Authorization header");
		return AUTH_REFUSED;
	}
	return lookup(st, header + 7, token, res, API_ERR_AUTH_BAD_TOKEN);
}

static enum verdict legacy_pair(struct store *st, const struct api_credentials *creds,
				struct store_token *token, struct api_response *res)
{
	enum verdict v;

	if (!token_well_formed(creds->auth_key)) {
		api_fail_chain(res, API_ERR_AUTH_FORMAT, 6103, "Invalid format for X-Auth-Key header");
		return AUTH_REFUSED;
	}
	if (!creds->auth_email || !strchr(creds->auth_email, '@')) {
		api_fail_chain(res, API_ERR_AUTH_FORMAT, 6102,
			       "Invalid format for X-Auth-Email header");
		return AUTH_REFUSED;
	}
	v = lookup(st, creds->auth_key, token, res, API_ERR_AUTH_BAD_KEY);
	if (v != AUTH_OK)
		return v;
	if (token->email[0] == '\0' || strcasecmp(token->email, creds->auth_email) != 0) {
		api_fail(res, API_ERR_AUTH_BAD_KEY, NULL);
		return AUTH_REFUSED;
	}
	return AUTH_OK;
}

static enum verdict check(struct store *st, const struct api_credentials *creds,
			  struct store_token *token, struct api_response *res)
{
	if (creds->authorization)
		return bearer(st, creds->authorization, token, res);
	if (creds->auth_key)
		return legacy_pair(st, creds, token, res);
	api_fail(res, API_ERR_AUTH_MISSING, NULL);
	return AUTH_REFUSED;
}

/* One line when an address reaches the limit (not one per refused request): what an operator
 * needs to see a guesser, or to feed a firewall. */
static void log_limit_reached(const struct api_client *client)
{
	char addr[INET6_ADDRSTRLEN] = "?";
	const struct sockaddr *p = client->peer;

	if (p->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)p)->sin_addr, addr, sizeof(addr));
	else if (p->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)p)->sin6_addr, addr,
			  sizeof(addr));
	log_warn("api msg=\"authentication failures over the limit: address refused until its "
		 "window ends\" client=%s", addr);
}

int api_authenticate(struct store *st, const struct api_client *client,
		     const struct api_credentials *creds, struct store_token *token,
		     struct api_response *res)
{
	unsigned retry_after = 0;
	enum verdict v;

	if (!api_auth_failures_allowed(client->failures, client->peer, client->now_us,
				       &retry_after)) {
		api_fail(res, API_ERR_RATE_LIMITED, NULL);
		res->retry_after = retry_after;
		return -1;
	}
	v = check(st, creds, token, res);
	if (v == AUTH_REFUSED &&
	    api_auth_failures_add(client->failures, client->peer, client->now_us))
		log_limit_reached(client);
	return v == AUTH_OK ? 0 : -1;
}

#include "lib/approval_link.h"

#include <stdio.h>
#include <string.h>

#include "lib/error.h"
#include "lib/ids.h"

int approval_link_token(char out[APPROVAL_LINK_TOKEN_LEN + 1])
{
	int rc = ids_hex32(out);

	return rc ? rc : ids_hex32(out + IDS_ZONE_LEN);
}

int approval_link_token_ok(const char *token)
{
	size_t n = strspn(token, "0123456789abcdef");

	return n == APPROVAL_LINK_TOKEN_LEN && token[n] == '\0';
}

void approval_link_hash(const char *token, char out[65])
{
	ids_sha256_hex(token, strlen(token), out);
}

/* The API's own address as a URL base: "http://HOST:PORT". */
static void base_from_listen(const char *listen, char *out, size_t len)
{
	const char *colon = strrchr(listen, ':');
	size_t host_len = colon ? (size_t)(colon - listen) : strlen(listen);
	const char *port = colon ? colon : "";

	/* A listener on every address has no name to give: the operator sets the base. */
	if (host_len == 0 || (host_len == 7 && strncmp(listen, "0.0.0.0", 7) == 0) ||
	    (host_len == 4 && strncmp(listen, "[::]", 4) == 0))
		snprintf(out, len, "http://localhost%s", port);
	else
		snprintf(out, len, "http://%.*s%s", (int)host_len, listen, port);
}

int approval_link_url(const struct config *cfg, const char *token, char *out, size_t out_len)
{
	char base[sizeof(cfg->email.approval_url_base) + 16];
	size_t n;

	if (cfg->email.approval_url_base[0])
		snprintf(base, sizeof(base), "%s", cfg->email.approval_url_base);
	else
		base_from_listen(cfg->api.approval_listen[0] ? cfg->api.approval_listen
							     : cfg->api.listen,
				 base, sizeof(base));
	n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		base[--n] = '\0';
	if ((size_t)snprintf(out, out_len, "%s" APPROVAL_LINK_PATH "%s", base, token) >= out_len)
		return SE_ETOOBIG;
	return 0;
}

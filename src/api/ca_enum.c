#include "api/ca_enum.h"

#include <string.h>
#include <strings.h>

/* Cloudflare's CA names and the domain their ACME directories are served from. */
static const struct {
	const char *name;
	const char *domain;
} known_cas[] = {
    {"lets_encrypt", "letsencrypt.org"}, /* acme-v02.api. and acme-staging-v02.api. */
    {"google", "pki.goog"},              /* dv.acme-v02.api. and dv.acme-v02.test-api. */
    {"ssl_com", "ssl.com"},              /* acme.ssl.com */
    {"digicert", "digicert.com"},        /* acme.digicert.com */
};

/* 1 when URL is https://HOST[:port]/… with HOST equal to DOMAIN or a name under it. */
static int served_from(const char *url, const char *domain)
{
	static const char scheme[] = "https://";
	size_t host_len, dom_len = strlen(domain);
	const char *host;

	if (strncasecmp(url, scheme, sizeof(scheme) - 1) != 0)
		return 0;
	host = url + sizeof(scheme) - 1;
	host_len = strcspn(host, ":/?#");
	if (memchr(host, '@', host_len)) /* user information: the host is not what it seems */
		return 0;
	if (host_len < dom_len || strncasecmp(host + host_len - dom_len, domain, dom_len) != 0)
		return 0;
	return host_len == dom_len || host[host_len - dom_len - 1] == '.';
}

const char *ca_enum_value(const struct config *cfg, const char *ca)
{
	for (size_t i = 0; i < sizeof(known_cas) / sizeof(known_cas[0]); i++) {
		const struct config_ca *c;

		if (strcmp(ca, known_cas[i].name) != 0)
			continue;
		c = config_find_ca(cfg, ca);
		return c && served_from(c->directory, known_cas[i].domain) ? known_cas[i].name
									   : NULL;
	}
	return NULL;
}

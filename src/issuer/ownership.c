/* Hostname ownership: a pending hostname becomes active once TXT _cf-custom-hostname.<host>
 * holds its ownership token, once http://<host>/.well-known/cf-custom-hostname-challenge/<id>
 * answers it (the edge serves it when the name points at us), or once the hostname CNAMEs to
 * its zone's cname_target (the customer already routes it to us). Looked up through dns.resolver at
 * every lease of the hostname's job until it succeeds; verification_errors says what is missing
 * meanwhile. */
#include "issuer/issuer_int.h"

#include <stdio.h>
#include <string.h>

#include "lib/error.h"

int ownership_check(struct pack_work *w, char *msg, size_t msg_len)
{
	const char *host = w->subj.hostname;
	const char *token = w->subj.ownership_token;
	const char *resolver = w->is->cfg->dns.resolver;
	struct store_zone zone;
	char name[300], target[256], path[128], detail[300];

	if (strncmp(host, "*.", 2) == 0)
		host += 2;
	snprintf(name, sizeof(name), "_cf-custom-hostname.%s", host);
	if (dcv_txt_check(resolver, name, &token, 1, msg, msg_len) == 0)
		return 0;
	snprintf(path, sizeof(path), "/.well-known/cf-custom-hostname-challenge/%s",
		 w->subj.hostname_id);
	if (dcv_http_fetch_check(w->is->cfg, host, path, token, msg, msg_len) == 0)
		return 0;
	if (store_zone_get(w->is->st, w->subj.zone_id, &zone) == 0 && zone.cname_target[0]) {
		/* a failed lookup reads as no CNAME: the message below says what is missing */
		dcv_cname_lookup(resolver, host, target, sizeof(target), detail, sizeof(detail));
		if (dcv_same_name(target, zone.cname_target))
			return 0;
		snprintf(msg, msg_len,
			 "ownership not verified: neither TXT record %s nor the HTTP token holds "
			 "the ownership token, and %s does not CNAME to %s",
			 name, host, zone.cname_target);
	} else {
		snprintf(msg, msg_len,
			 "ownership not verified: neither TXT record %s nor the HTTP token holds "
			 "the ownership token",
			 name);
	}
	return SE_ENOTFOUND;
}

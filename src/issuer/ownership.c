/* Hostname ownership: a pending hostname becomes active once TXT _cf-custom-hostname.<host>
 * holds its ownership token, once http://<host>/.well-known/cf-custom-hostname-challenge/<id>
 * answers it (the edge serves it when the name points at us), or once the hostname CNAMEs to
 * its zone's cname_target (the customer already routes it to us). Looked up through dns.resolver at
 * every lease of the hostname's job until it succeeds; verification_errors says what is missing
 * meanwhile. */
#include "issuer/issuer_int.h"

#include <ares.h>
#include <arpa/nameser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/error.h"
#include "lib/log.h"

struct cname_query {
	char target[256];
	int done;
};

/* Skips a (possibly compressed) name at P; NULL when malformed. */
static const unsigned char *skip_name(const unsigned char *p, const unsigned char *end)
{
	while (p < end) {
		if ((*p & 0xC0) == 0xC0)
			return p + 2 <= end ? p + 2 : NULL;
		if (*p == 0)
			return p + 1;
		p += *p + 1;
	}
	return NULL;
}

static void on_cname(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct cname_query *q = arg;
	const unsigned char *end = abuf + alen, *p = abuf + 12;
	int qd, an;

	q->done = 1;
	if (status != ARES_SUCCESS || alen < 12)
		return;
	qd = abuf[4] << 8 | abuf[5];
	an = abuf[6] << 8 | abuf[7];
	for (int i = 0; i < qd && p; i++)
		p = skip_name(p, end) ? skip_name(p, end) + 4 : NULL;
	for (int i = 0; i < an && p && p + 10 <= end; i++) {
		const unsigned char *rr = skip_name(p, end);
		int type, rdlen;
		char *name = NULL;
		long len = 0;

		if (!rr || rr + 10 > end)
			return;
		type = rr[0] << 8 | rr[1];
		rdlen = rr[8] << 8 | rr[9];
		if (type == ns_t_cname &&
		    ares_expand_name(rr + 10, abuf, alen, &name, &len) == ARES_SUCCESS) {
			snprintf(q->target, sizeof(q->target), "%s", name);
			ares_free_string(name);
			return;
		}
		p = rr + 10 + rdlen;
	}
}

/* The CNAME target of NAME ("" when none). Waits at most a few seconds. */
static void cname_lookup(const char *resolver, const char *name, char *out, size_t len)
{
	struct ares_options opts = {.timeout = 1000, .tries = 2};
	struct cname_query q = {"", 0};
	ares_channel ch = NULL;

	out[0] = '\0';
	if (ares_init_options(&ch, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) != ARES_SUCCESS)
		return;
	if (!resolver[0] || ares_set_servers_ports_csv(ch, resolver) == ARES_SUCCESS) {
		ares_query(ch, name, ns_c_in, ns_t_cname, on_cname, &q);
		dcv_channel_wait(ch, &q.done);
	}
	ares_destroy(ch);
	snprintf(out, len, "%s", q.target);
}

static int same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	return la == lb && la && strncasecmp(a, b, la) == 0;
}

int ownership_check(struct pack_work *w, char *msg, size_t msg_len)
{
	const char *host = w->subj.hostname;
	const char *token = w->subj.ownership_token;
	const char *resolver = w->is->cfg->dns.resolver;
	struct store_zone zone;
	char name[300], target[256], path[128];

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
		cname_lookup(resolver, host, target, sizeof(target));
		if (same_name(target, zone.cname_target))
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

/* The HTTP listener: ACME http-01 answers and hostname-ownership tokens from the store, and a
 * 301 to HTTPS for every other request to a known hostname. The store is read on a lookup
 * thread; the answer is written when the job comes back.
 *
 * Nothing of the request reaches an answer unchecked (docs/edge.md, "Plain HTTP listener"): the
 * Host must be a hostname in canonical form (400 otherwise), the target must be origin-form
 * (400 otherwise), and only a name this edge serves gets a redirect or a token (404 otherwise).
 * An http-01 answer goes only to the Host its challenge was issued for. */
#include "edge/conn_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/hostname.h"

#define ACME_PREFIX      "/.well-known/acme-challenge/"
#define OWNERSHIP_PREFIX "/.well-known/cf-custom-hostname-challenge/"

/* Longest request target a redirect carries: the Location must fit one header line that
 * clients accept; a longer target is refused rather than cut. */
#define REDIRECT_TARGET_MAX 1900

static void not_found(struct edge_conn *c)
{
	conn_respond(c, 404, "Not Found", "text/plain; charset=utf-8", "not found\n", NULL);
}

static void bad_request(struct edge_conn *c, const char *why)
{
	char body[128];

	snprintf(body, sizeof(body), "<h1>400 Bad Request: %s</h1>\n", why);
	conn_respond(c, 400, "Bad Request", NULL, body, NULL);
}

/* 1 when HOST (as http_req.c read it: lower case, no port, no trailing dot) is a hostname that
 * the project's rules leave as it is: LDH labels within the length limits. An IP address in
 * canonical form passes too; it is never a served name, so it ends in a 404. Non-ASCII, '/',
 * '*', '%', spaces, a bracketed IPv6 or an IPv4 in disguise ("2130706433") do not. */
static int host_valid(const char *host)
{
	char normal[HOSTNAME_MAX + 1];

	return hostname_normalize_origin(host, normal, NULL, 0) == HOSTNAME_OK &&
	       strcmp(normal, host) == 0;
}

/* 1 when the request target is origin-form (RFC 9112 §3.2.1): "/" then visible ASCII but '#'.
 * Absolute-form, authority-form and "*" are not, nor is anything with a space, a control byte
 * or a byte above 0x7e, so a Location built from it cannot split or bend the header. */
static int target_origin_form(const struct http_head *h)
{
	if (h->url_len == 0 || h->url[0] != '/')
		return 0;
	for (size_t i = 0; i < h->url_len; i++) {
		unsigned char ch = (unsigned char)h->url[i];

		if (ch <= 0x20 || ch >= 0x7f || ch == '#')
			return 0;
	}
	return 1;
}

/* The URL's path after PREFIX when it starts with it (query dropped), else NULL. */
static const char *path_after(const struct http_head *h, const char *prefix, char *out, size_t len)
{
	size_t plen = strlen(prefix), n;
	const char *q;

	if (h->url_len <= plen || strncmp(h->url, prefix, plen) != 0)
		return NULL;
	q = memchr(h->url + plen, '?', h->url_len - plen);
	n = (q ? (size_t)(q - h->url) : h->url_len) - plen;
	if (n == 0 || n >= len || memchr(h->url + plen, '/', n))
		return NULL;
	memcpy(out, h->url + plen, n);
	out[n] = '\0';
	return out;
}

static void submit(struct edge_conn *c, enum lookup_kind kind, const char *name)
{
	struct lookup_job *job = calloc(1, sizeof(*job));

	if (!job) {
		conn_close(c);
		return;
	}
	job->kind = kind;
	snprintf(job->name, sizeof(job->name), "%s", name);
	c->state = CS_WAIT_JOB;
	conn_submit(c, job);
}

/* With the Host's entry at hand: the ownership token or the redirect. */
static void answer_for_host(struct edge_conn *c)
{
	const struct edge_entry *e = c->entry;
	char id[64], location[2048];

	if (!e || e->negative) {
		not_found(c);
		return;
	}
	if (path_after(c->head, OWNERSHIP_PREFIX, id, sizeof(id))) {
		if (strcmp(id, e->hostname_id) == 0 && e->ownership_token[0])
			conn_respond(c, 200, "OK", "text/plain", e->ownership_token, NULL);
		else
			not_found(c);
		return;
	}
	if (c->head->url_len > REDIRECT_TARGET_MAX) {
		conn_respond(c, 414, "URI Too Long", NULL, "<h1>414 URI Too Long</h1>\n", NULL);
		return;
	}
	/* Both parts were checked in plain_start: a served hostname and an origin-form target. */
	snprintf(location, sizeof(location), "https://%s%.*s", c->head->host,
		 (int)c->head->url_len, c->head->url);
	conn_respond(c, 301, "Moved Permanently", NULL, "<h1>301 Moved Permanently</h1>\n",
		     location);
}

static void host_entry(struct edge_conn *c)
{
	c->entry = cert_cache_get(c->loop->edge->cache, c->head->host);
	if (c->entry)
		answer_for_host(c);
	else if (c->jobs == 0 && c->cert_tries++ < 3)
		submit(c, LOOKUP_HOST, c->head->host);
	else
		not_found(c);
}

void plain_start(struct edge_conn *c)
{
	char token[128];

	if (!c->head->host[0]) {
		bad_request(c, "no Host");
		return;
	}
	if (!host_valid(c->head->host)) {
		bad_request(c, "Host is not a hostname");
		return;
	}
	if (!target_origin_form(c->head)) {
		bad_request(c, "request target is not a path");
		return;
	}
	if (path_after(c->head, ACME_PREFIX, token, sizeof(token))) {
		submit(c, LOOKUP_CHALLENGE, token);
		return;
	}
	host_entry(c);
}

void plain_job_done(struct edge_conn *c, struct lookup_job *job)
{
	if (job->kind == LOOKUP_CHALLENGE) {
		/* job->name is now the name the challenge was issued for (without "*.": a wildcard
		 * has no http-01). Another Host pointed at this edge, a name under a customer's
		 * wildcard DNS for one, must not prove control of it. */
		if (job->rc == 0 && strcmp(job->name, c->head->host) == 0)
			conn_respond(c, 200, "OK", "text/plain", job->response, NULL);
		else
			not_found(c);
		return;
	}
	if (job->kind == LOOKUP_HOST)
		host_entry(c);
}

/* The HTTP listener: ACME http-01 answers and hostname-ownership tokens from the store, and a
 * 301 to HTTPS for every other request to a known hostname. The store is read on a lookup
 * thread; the answer is written when the job comes back. */
#include "edge/conn_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"

#define ACME_PREFIX      "/.well-known/acme-challenge/"
#define OWNERSHIP_PREFIX "/.well-known/cf-custom-hostname-challenge/"

static void not_found(struct edge_conn *c)
{
	conn_respond(c, 404, "Not Found", "text/plain; charset=utf-8", "not found\n", NULL);
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
	snprintf(location, sizeof(location), "https://%s%.*s", c->head->host,
		 (int)(c->head->url_len < 1900 ? c->head->url_len : 1900), c->head->url);
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

	if (path_after(c->head, ACME_PREFIX, token, sizeof(token))) {
		submit(c, LOOKUP_CHALLENGE, token);
		return;
	}
	if (!c->head->host[0]) {
		conn_respond(c, 400, "Bad Request", NULL, "<h1>400 Bad Request: no Host</h1>\n",
			     NULL);
		return;
	}
	host_entry(c);
}

void plain_job_done(struct edge_conn *c, struct lookup_job *job)
{
	if (job->kind == LOOKUP_CHALLENGE) {
		if (job->rc == 0)
			conn_respond(c, 200, "OK", "text/plain", job->response, NULL);
		else
			not_found(c);
		return;
	}
	if (job->kind == LOOKUP_HOST)
		host_entry(c);
}

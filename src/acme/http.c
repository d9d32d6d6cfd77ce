/* The ACME transport: libcurl easy handles kept in a small per-client pool, so that threads
 * sharing one client run requests in parallel and still reuse connections (curl_easy_reset keeps
 * a handle's connection cache). TLS verification stays on; the CA bundle is the configured one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "acme/acme_int.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/timeutil.h"

#define CONNECT_TIMEOUT_S 10
#define TOTAL_TIMEOUT_S   30
#define USER_AGENT        "saasedge/0.1"

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int acme__http_global_init(void)
{
	pthread_once(&global_once, global_init);
	return global_rc == CURLE_OK ? 0 : SE_EIO;
}

static CURL *handle_get(struct acme_client *c)
{
	CURL *h = NULL;

	pthread_mutex_lock(&c->lock);
	if (c->n_idle > 0)
		h = c->idle[--c->n_idle];
	pthread_mutex_unlock(&c->lock);
	if (h)
		curl_easy_reset(h);
	else
		h = curl_easy_init();
	return h;
}

static void handle_put(struct acme_client *c, CURL *h)
{
	pthread_mutex_lock(&c->lock);
	if (c->n_idle < ACME_CURL_POOL) {
		c->idle[c->n_idle++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	curl_easy_cleanup(h);
}

void acme__http_pool_destroy(struct acme_client *c)
{
	while (c->n_idle > 0)
		curl_easy_cleanup(c->idle[--c->n_idle]);
}

void acme__response_dispose(struct acme__response *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
	r->retry_after_s = -1;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct acme__response *r = arg;
	size_t n = size * nmemb;

	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		char *grown;

		while (cap < r->len + n + 1)
			cap *= 2;
		if (cap > ACME_BODY_MAX) {
			r->too_big = 1;
			return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
		}
		grown = realloc(r->body, cap);
		if (!grown)
			return 0;
		r->body = grown;
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

/* Copies a header value without surrounding blanks; a value too long for OUT is flagged. */
static void header_value(struct acme__response *r, const char *v, size_t n, char *out, size_t len)
{
	while (n > 0 && (*v == ' ' || *v == '\t'))
		v++, n--;
	while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
		n--;
	if (n >= len) {
		r->truncated_header = 1;
		n = 0;
	}
	memcpy(out, v, n);
	out[n] = '\0';
}

static int header_is(const char *line, size_t n, const char *name, size_t *vstart)
{
	size_t k = strlen(name);

	if (n <= k || line[k] != ':' || strncasecmp(line, name, k) != 0)
		return 0;
	*vstart = k + 1;
	return 1;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *arg)
{
	struct acme__response *r = arg;
	size_t n = size * nmemb, v;
	char text[64];

	if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		/* a new status line (after 100 Continue): forget the previous headers */
		r->nonce[0] = r->location[0] = r->content_type[0] = '\0';
		r->retry_after_s = -1;
	} else if (header_is(line, n, "Replay-Nonce", &v)) {
		header_value(r, line + v, n - v, r->nonce, sizeof(r->nonce));
	} else if (header_is(line, n, "Location", &v)) {
		header_value(r, line + v, n - v, r->location, sizeof(r->location));
	} else if (header_is(line, n, "Content-Type", &v)) {
		header_value(r, line + v, n - v, r->content_type, sizeof(r->content_type));
	} else if (header_is(line, n, "Retry-After", &v)) {
		header_value(r, line + v, n - v, text, sizeof(text));
		if (acme__parse_retry_after(text, time(NULL), &r->retry_after_s) != 0)
			r->retry_after_s = -1;
	}
	return n;
}

static int set_options(struct acme_client *c, CURL *h, enum acme__method m, const char *url,
		       const char *body, struct curl_slist *hdrs, struct acme__response *r,
		       char *errbuf)
{
	CURLcode rc = CURLE_OK;

#define OPT(o, v)                                                                                  \
	do {                                                                                       \
		if (rc == CURLE_OK)                                                                \
			rc = curl_easy_setopt(h, o, v);                                            \
	} while (0)
	OPT(CURLOPT_URL, url);
	OPT(CURLOPT_PROTOCOLS_STR, "https"); /* RFC 8555 §6.1: ACME is HTTPS only */
	OPT(CURLOPT_NOSIGNAL, 1L);
	OPT(CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
	OPT(CURLOPT_TIMEOUT, (long)TOTAL_TIMEOUT_S);
	OPT(CURLOPT_USERAGENT, USER_AGENT);
	OPT(CURLOPT_SSL_VERIFYPEER, 1L);
	OPT(CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->ca_bundle)
		OPT(CURLOPT_CAINFO, c->ca_bundle);
	OPT(CURLOPT_HTTPHEADER, hdrs);
	OPT(CURLOPT_WRITEFUNCTION, on_body);
	OPT(CURLOPT_WRITEDATA, r);
	OPT(CURLOPT_HEADERFUNCTION, on_header);
	OPT(CURLOPT_HEADERDATA, r);
	OPT(CURLOPT_ERRORBUFFER, errbuf);
	if (m == ACME_HEAD)
		OPT(CURLOPT_NOBODY, 1L);
	if (m == ACME_POST) {
		OPT(CURLOPT_POSTFIELDS, body);
		OPT(CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
#undef OPT
	return rc == CURLE_OK ? 0 : SE_EIO;
}

static int append(struct curl_slist **list, const char *line)
{
	struct curl_slist *next = curl_slist_append(*list, line);

	if (!next)
		return 0;
	*list = next;
	return 1;
}

static struct curl_slist *build_headers(enum acme__method m, const char *accept)
{
	struct curl_slist *list = NULL;
	char line[128];
	/* "Expect:" stops curl from waiting for 100 Continue on larger POSTs */
	int ok = append(&list, "Expect:");

	if (ok && m == ACME_POST)
		ok = append(&list, "Content-Type: application/jose+json");
	if (ok && accept) {
		snprintf(line, sizeof(line), "Accept: %s", accept);
		ok = append(&list, line);
	}
	if (!ok) {
		curl_slist_free_all(list);
		return NULL;
	}
	return list;
}

static const char *method_name(enum acme__method m)
{
	return m == ACME_GET ? "GET" : m == ACME_HEAD ? "HEAD" : "POST";
}

static int perform(struct acme_client *c, CURL *h, const char *url, struct acme__response *r,
		   char *errbuf, struct acme_problem *p)
{
	CURLcode rc = curl_easy_perform(h);
	char host[256];

	if (rc == CURLE_WRITE_ERROR && r->too_big) {
		acme__url_host(url, host, sizeof(host));
		acme__problem_set(p, 0, "answer from %s larger than %u bytes", host, ACME_BODY_MAX);
		return SE_EIO;
	}
	if (rc != CURLE_OK) {
		acme__url_host(url, host, sizeof(host));
		acme__problem_set(p, 0, "connecting to %s: %s", host,
				  errbuf[0] ? errbuf : curl_easy_strerror(rc));
		return SE_EIO;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	return 0;
}

int acme__http(struct acme_client *c, enum acme__method m, const char *url, const char *body,
	       const char *accept, int claim_nonce, struct acme__response *r,
	       struct acme_problem *p)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	int64_t t0 = time_now_us();
	CURL *h = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	r->retry_after_s = -1;
	h = handle_get(c);
	hdrs = build_headers(m, accept);
	if (!h || !hdrs) {
		rc = SE_ENOMEM;
		goto out;
	}
	rc = set_options(c, h, m, url, body, hdrs, r, errbuf);
	if (rc == 0)
		rc = perform(c, h, url, r, errbuf, p);
	if (rc == 0 && r->nonce[0] && !claim_nonce)
		acme__nonce_put(c, r->nonce);
	log_debug("msg=\"acme exchange\" method=%s url=%s status=%ld ms=%lld rc=%s", method_name(m),
		  url, r->status, (long long)((time_now_us() - t0) / 1000), se_errname(rc));
out:
	curl_slist_free_all(hdrs);
	if (h)
		handle_put(c, h);
	if (rc != 0)
		acme__response_dispose(r);
	return rc;
}

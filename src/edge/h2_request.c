/* HTTP/2 request fields to an HTTP/1.1 head (h2_request.h). What this adds to nghttp2's checks
 * is what an HTTP/1.1 head needs: a method and a target that fit a start line, one Host (from
 * :authority, or the Host field, and the two must agree: RFC 9113 8.3.1), no byte a line of the
 * head cannot carry, and the edge's limits on size and fields. The head is scanned again by the
 * strict HTTP/1.1 scanner before anything is forwarded. */
#include "edge/h2_request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void h2_request_init(struct h2_request *r, size_t max_bytes, size_t max_fields)
{
	memset(r, 0, sizeof(*r));
	r->max_bytes = max_bytes;
	r->max_fields = max_fields;
}

void h2_request_dispose(struct h2_request *r)
{
	free(r->path);
	free(r->authority);
	free(r->host);
	free(r->fields);
	free(r->cookie);
	memset(r, 0, sizeof(*r));
}

static int is_name(const char *name, size_t len, const char *lower)
{
	return strlen(lower) == len && memcmp(name, lower, len) == 0;
}

/* 1 when V[0..N) can be written in a line of an HTTP/1.1 head: visible ASCII, spaces and tabs,
 * and obs-text (bytes from 0x80), as RFC 9110's field-value allows. */
static int line_safe(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return 0;
	}
	return 1;
}

/* 1 when NAME[0..N) is a lower-case field name token (RFC 9110 5.6.2, RFC 9113 8.2.1). */
static int lower_token(const char *name, size_t n)
{
	static const char others[] = "!#$%&'*+-.^_`|~";

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      memchr(others, ch, sizeof(others) - 1)))
			return 0;
	}
	return 1;
}

/* RFC 9113 8.2.2: fields of an HTTP/1.1 connection, not of a request; "te" only as "trailers". */
static int connection_specific(const char *name, size_t n, const char *v, size_t vn)
{
	static const char *const names[] = {"connection", "keep-alive", "proxy-connection",
					    "transfer-encoding", "upgrade"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (is_name(name, n, names[i]))
			return 1;
	}
	return is_name(name, n, "te") && !is_name(v, vn, "trailers");
}

/* A copy of V[0..N) as text into *OUT, its length into *LEN: 0, or 500 out of memory. */
static int text_dup(const char *v, size_t n, char **out, size_t *len)
{
	if (!(*out = malloc(n + 1)))
		return 500;
	memcpy(*out, v, n);
	(*out)[n] = '\0';
	*len = n;
	return 0;
}

/* Appends P[0..N) to *BUF (*LEN used, *CAP allocated): 0, or -1 out of memory. */
static int append(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t want = *cap ? *cap : 256;
		char *grown;

		while (want < *len + n + 1)
			want *= 2;
		if (!(grown = realloc(*buf, want)))
			return -1;
		*buf = grown;
		*cap = want;
	}
	memcpy(*buf + *len, p, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

/* RFC 9113 8.2.3: a client may send one Cookie field per pair; HTTP/1.1 wants them in one. */
static int cookie_add(struct h2_request *r, const char *v, size_t n)
{
	r->n_cookies++;
	if (r->cookie_len && append(&r->cookie, &r->cookie_len, &r->cookie_cap, "; ", 2))
		return 500;
	return append(&r->cookie, &r->cookie_len, &r->cookie_cap, v, n) ? 500 : 0;
}

/* The bytes the head has taken so far, to refuse a head over the limit as it grows. */
static size_t head_size(const struct h2_request *r)
{
	return sizeof(r->method) + r->path_len + r->authority_len + r->host_len + r->fields_len +
	       r->cookie_len + 64;
}

static int pseudo_field(struct h2_request *r, const char *name, size_t name_len, const char *v,
			size_t n)
{
	if (is_name(name, name_len, ":method")) {
		if (n == 0 || n >= sizeof(r->method) || r->method[0])
			return 400;
		memcpy(r->method, v, n);
		r->method[n] = '\0';
		/* a tunnel, plain or extended (RFC 8441): not relayed, as for HTTP/1.1 */
		return strcmp(r->method, "CONNECT") == 0 ? 405 : 0;
	}
	if (is_name(name, name_len, ":path")) {
		/* origin-form, or "*" (OPTIONS): the start line's target */
		if (n == 0 || (v[0] != '/' && !(n == 1 && v[0] == '*')) || memchr(v, ' ', n) ||
		    r->path)
			return 400;
		return text_dup(v, n, &r->path, &r->path_len);
	}
	if (is_name(name, name_len, ":authority")) {
		if (n == 0 || memchr(v, ' ', n) || memchr(v, '@', n) || r->authority)
			return 400; /* RFC 9113 8.3.1: no userinfo */
		return text_dup(v, n, &r->authority, &r->authority_len);
	}
	if (is_name(name, name_len, ":scheme")) {
		if (r->has_scheme++ || !(is_name(v, n, "https") || is_name(v, n, "http")))
			return 400;
		return 0;
	}
	return 400; /* :protocol or another: no extended CONNECT is offered */
}

int h2_request_field(struct h2_request *r, const char *name, size_t name_len, const char *value,
		     size_t value_len)
{
	int rc = 0;

	if (r->failed)
		return r->failed;
	if (!line_safe(value, value_len) || name_len == 0)
		rc = 400;
	else if (name[0] == ':')
		rc = r->n_fields ? 400 : pseudo_field(r, name, name_len, value, value_len);
	else if (!lower_token(name, name_len) ||
		 connection_specific(name, name_len, value, value_len))
		rc = 400;
	else if (++r->n_fields > r->max_fields)
		rc = 431;
	else if (is_name(name, name_len, "host"))
		rc = r->host || value_len == 0 ? 400
					       : text_dup(value, value_len, &r->host, &r->host_len);
	else if (is_name(name, name_len, "cookie"))
		rc = cookie_add(r, value, value_len);
	else if (append(&r->fields, &r->fields_len, &r->fields_cap, name, name_len) ||
		 append(&r->fields, &r->fields_len, &r->fields_cap, ": ", 2) ||
		 append(&r->fields, &r->fields_len, &r->fields_cap, value, value_len) ||
		 append(&r->fields, &r->fields_len, &r->fields_cap, "\r\n", 2))
		rc = 500;
	if (rc == 0 && is_name(name, name_len, "content-length"))
		r->has_length = 1;
	if (rc == 0 && head_size(r) > r->max_bytes)
		rc = 431;
	r->failed = rc;
	return rc;
}

/* Copies P[0..N) to *AT and moves *AT past it. */
static void put(char **at, const char *p, size_t n)
{
	memcpy(*at, p, n);
	*at += n;
}

int h2_request_head(struct h2_request *r, int end_stream, char **head, size_t *len, int *chunked)
{
	static const char te_line[] = "transfer-encoding: chunked\r\n";
	const char *host = r->authority ? r->authority : r->host;
	size_t host_len = r->authority ? r->authority_len : r->host_len, method_len, size;
	char *out, *at;

	*head = NULL;
	*len = 0;
	*chunked = 0;
	if (r->failed)
		return r->failed;
	if (!r->method[0] || !r->path || !host)
		return 400;
	if (r->authority && r->host && strcmp(r->authority, r->host) != 0)
		return 400;
	*chunked = !end_stream && !r->has_length;
	/* the fields as sent, with Host, Cookie and Transfer-Encoding counted once each */
	if (r->n_fields - (r->host ? 1 : 0) - r->n_cookies + 1 + (r->cookie ? 1 : 0) + *chunked >
	    r->max_fields)
		return 431;
	/* written with copies, not a format: a format cost more than the rest of the head */
	method_len = strlen(r->method);
	size = method_len + 1 + r->path_len + strlen(" HTTP/1.1\r\nHost: ") + host_len + 2 +
	       r->fields_len + (r->cookie ? strlen("cookie: ") + r->cookie_len + 2 : 0) +
	       (*chunked ? sizeof(te_line) - 1 : 0) + 2;
	if (size > r->max_bytes)
		return 431;
	if (!(out = malloc(size + 1)))
		return 500;
	at = out;
	put(&at, r->method, method_len);
	put(&at, " ", 1);
	put(&at, r->path, r->path_len);
	put(&at, " HTTP/1.1\r\nHost: ", strlen(" HTTP/1.1\r\nHost: "));
	put(&at, host, host_len);
	put(&at, "\r\n", 2);
	if (r->fields_len)
		put(&at, r->fields, r->fields_len);
	if (r->cookie) {
		put(&at, "cookie: ", strlen("cookie: "));
		put(&at, r->cookie, r->cookie_len);
		put(&at, "\r\n", 2);
	}
	if (*chunked)
		put(&at, te_line, sizeof(te_line) - 1);
	put(&at, "\r\n", 2);
	*at = '\0';
	*head = out;
	*len = size;
	return 0;
}

size_t h2_chunk_head(size_t n, char out[24])
{
	return (size_t)snprintf(out, 24, "%zx\r\n", n);
}

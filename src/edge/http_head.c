/* The strict head scanner (RFC 9112 sections 2 to 6): one line at a time, each checked against
 * the grammar as soon as its CRLF is there, so a slow client costs one pass over its bytes. What
 * the edge and an origin could read differently is refused rather than repaired: a bare CR or
 * LF, whitespace between a field name and its colon, obs-fold, two Content-Length or
 * Transfer-Encoding fields, both together, and any transfer coding but a single "chunked". */
#include "edge/http_frame.h"

#include <string.h>
#include <strings.h>

/* tchar (RFC 9110 5.6.2) */
static int is_tchar(unsigned char ch)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch && memchr(extra, ch, sizeof(extra) - 1));
}

/* field-vchar, SP or HTAB (RFC 9110 5.5): what a field value may hold. */
static int is_value_char(unsigned char ch)
{
	return ch == ' ' || ch == '\t' || (ch > 0x20 && ch != 0x7f);
}

static int is_ows(char ch)
{
	return ch == ' ' || ch == '\t';
}

void http_head_reset(struct http_head *h, int response)
{
	struct http_field *fields = h->fields;
	size_t max_fields = h->max_fields;

	/* not the host text: it is read only once set */
	memset(h, 0, offsetof(struct http_head, host));
	h->host[0] = '\0';
	h->head_len = h->n_fields = 0;
	h->fields = fields;
	h->max_fields = max_fields;
	h->response = response;
}

int http_name_is(const char *name, size_t name_len, const char *lower)
{
	return name_len == strlen(lower) && strncasecmp(name, lower, name_len) == 0;
}

int http_list_has(const char *v, size_t len, const char *token)
{
	size_t tl = strlen(token);

	while (len) {
		size_t n = 0, b = 0, e;

		while (n < len && v[n] != ',')
			n++;
		e = n;
		while (b < e && is_ows(v[b]))
			b++;
		while (e > b && is_ows(v[e - 1]))
			e--;
		if (e - b == tl && strncasecmp(v + b, token, tl) == 0)
			return 1;
		v += n < len ? n + 1 : n;
		len -= n < len ? n + 1 : n;
	}
	return 0;
}

int http_connection_names(const struct http_head *h, const char *name, size_t len)
{
	for (size_t i = 0; i < h->n_fields; i++) {
		const char *v = h->fields[i].value, *end = v + h->fields[i].value_len;

		if (!http_name_is(h->fields[i].name, h->fields[i].name_len, "connection"))
			continue;
		while (v < end) {
			const char *comma = memchr(v, ',', (size_t)(end - v)),
				   *e = comma ? comma : end;
			const char *b = v;

			while (b < e && (*b == ' ' || *b == '\t'))
				b++;
			while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			if ((size_t)(e - b) == len && strncasecmp(b, name, len) == 0)
				return 1;
			v = comma ? comma + 1 : end;
		}
	}
	return 0;
}

/* "HTTP/1.0" or "HTTP/1.1" at P: the minor version, or -1. */
static int version(const char *p, size_t n)
{
	if (n != 8 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1'))
		return -1;
	return p[7] - '0';
}

/* The request-target (RFC 9112 3.2): origin-form, absolute-form with an http(s) scheme (its
 * authority kept for the Host check, its path forwarded), asterisk-form for OPTIONS, anything
 * printable for CONNECT (which is refused later with 405). */
static int request_target(struct http_head *h, const char *t, size_t n)
{
	size_t skip = 0, a;

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
			return 400;
	h->url = t;
	h->url_len = n;
	if (strcmp(h->method, "CONNECT") == 0 || t[0] == '/')
		return 0;
	if (n == 1 && t[0] == '*' && strcmp(h->method, "OPTIONS") == 0)
		return 0;
	if (n > 7 && strncasecmp(t, "http://", 7) == 0)
		skip = 7;
	else if (n > 8 && strncasecmp(t, "https://", 8) == 0)
		skip = 8;
	else
		return 400;
	for (a = skip; a < n && t[a] != '/' && t[a] != '?' && t[a] != '#'; a++)
		if (t[a] == '@') /* userinfo: not for a server (RFC 9110 4.2.4) */
			return 400;
	if (a == skip)
		return 400;
	h->authority = t + skip;
	h->authority_len = a - skip;
	if (a == n || t[a] != '/') /* "http://x" or "http://x?q": the path is "/" */
		return a == n ? (h->url = "/", h->url_len = 1, 0) : 400;
	h->url = t + a;
	h->url_len = n - a;
	return 0;
}

/* method SP request-target SP HTTP-version */
static int request_line(struct http_head *h, const char *p, size_t n)
{
	const char *sp1 = memchr(p, ' ', n), *sp2;
	size_t m;

	if (!sp1 || sp1 == p || (size_t)(sp1 - p) >= sizeof(h->method))
		return 400;
	m = (size_t)(sp1 - p);
	for (size_t i = 0; i < m; i++)
		if (!is_tchar((unsigned char)p[i]))
			return 400;
	memcpy(h->method, p, m);
	h->method[m] = '\0';
	sp2 = memchr(sp1 + 1, ' ', n - m - 1);
	if (!sp2 || sp2 == sp1 + 1)
		return 400;
	if ((h->minor = version(sp2 + 1, n - (size_t)(sp2 + 1 - p))) < 0)
		return 400;
	return request_target(h, sp1 + 1, (size_t)(sp2 - sp1 - 1));
}

/* HTTP-version SP 3DIGIT [SP reason-phrase]: a missing reason (and its SP) is accepted, as
 * RFC 9112 4 asks of a client. */
static int status_line(struct http_head *h, const char *p, size_t n)
{
	if (n < 12 || (h->minor = version(p, 8)) < 0 || p[8] != ' ')
		return 400;
	for (int i = 9; i < 12; i++)
		if (p[i] < '0' || p[i] > '9')
			return 400;
	h->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (h->status < 100 || (n > 12 && p[12] != ' '))
		return 400;
	for (size_t i = 13; i < n; i++)
		if (!is_value_char((unsigned char)p[i]))
			return 400;
	return 0;
}

/* What a field means for framing and routing. */
static int field_meaning(struct http_head *h, const char *name, size_t nl, const char *v,
			 size_t vl)
{
	if (http_name_is(name, nl, "content-length")) {
		if (++h->n_cl > 1 || vl == 0 || vl > 18)
			return 400;
		h->content_length = 0;
		for (size_t i = 0; i < vl; i++) {
			if (v[i] < '0' || v[i] > '9')
				return 400;
			h->content_length = h->content_length * 10 + (uint64_t)(v[i] - '0');
		}
	} else if (http_name_is(name, nl, "transfer-encoding")) {
		int token = vl > 0;

		for (size_t i = 0; i < vl; i++)
			token &= is_tchar((unsigned char)v[i]);
		if (++h->n_te > 1 || !token)
			return 400;
		if (!http_name_is(v, vl, "chunked"))
			return 501;
		h->chunked = 1;
	} else if (http_name_is(name, nl, "host")) {
		h->n_host++;
		h->host_value = v;
		h->host_value_len = vl;
	} else if (http_name_is(name, nl, "connection")) {
		h->n_connection++;
		h->conn_close |= http_list_has(v, vl, "close");
		h->conn_keep_alive |= http_list_has(v, vl, "keep-alive");
		h->conn_upgrade |= http_list_has(v, vl, "upgrade");
	} else if (http_name_is(name, nl, "upgrade")) {
		h->has_upgrade |= vl > 0;
	}
	return 0;
}

/* field-name ":" OWS field-value OWS */
static int field_line(struct http_head *h, const char *p, size_t n)
{
	const char *colon = memchr(p, ':', n);
	size_t nl, b, e;

	if (!colon || colon == p)
		return 400;
	nl = (size_t)(colon - p);
	for (size_t i = 0; i < nl; i++)
		if (!is_tchar((unsigned char)p[i])) /* "Host :" and "Foo Bar:" end here */
			return 400;
	for (size_t i = nl + 1; i < n; i++)
		if (!is_value_char((unsigned char)p[i]))
			return 400;
	b = nl + 1;
	e = n;
	while (b < e && is_ows(p[b]))
		b++;
	while (e > b && is_ows(p[e - 1]))
		e--;
	if (h->n_fields >= h->max_fields && !h->response)
		return 431;
	if (h->n_fields < h->max_fields)
		h->fields[h->n_fields] = (struct http_field){
		    .name = p, .name_len = nl, .value = p + b, .value_len = e - b};
	h->n_fields++;
	return field_meaning(h, p, nl, p + b, e - b);
}

/* The head is complete: the framing fields must agree (RFC 9112 6.1 and 6.3). */
static int head_end(struct http_head *h)
{
	if (h->n_te && h->n_cl)
		return 400; /* CL.TE and TE.CL both start here */
	if (h->n_te && h->minor == 0)
		return 400; /* "MUST treat the message as if the framing is faulty" */
	return 1;
}

int http_head_scan(struct http_head *h, const char *data, size_t len)
{
	while (h->scan < len) {
		const char *p = data + h->scan;
		const char *lf = memchr(p, '\n', len - h->scan);
		size_t n;
		int rc;

		if (!lf)
			return 0;
		n = (size_t)(lf - p);
		if (n == 0 || p[n - 1] != '\r')
			return 400; /* a bare LF */
		n--;
		h->scan += n + 2;
		if (memchr(p, '\r', n))
			return 400; /* a bare CR */
		if (!h->started && n == 0 && !h->response && h->scan <= 8)
			continue; /* RFC 9112 2.2: empty lines before a request line are ignored */
		if (!h->started) {
			rc = h->response ? status_line(h, p, n) : request_line(h, p, n);
			h->started = 1;
		} else if (n == 0) {
			h->head_len = h->scan;
			return head_end(h);
		} else if (is_ows(p[0])) {
			rc = 400; /* obs-fold */
		} else {
			rc = field_line(h, p, n);
		}
		if (rc)
			return rc;
	}
	return 0;
}

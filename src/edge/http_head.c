/* The strict head scanner (RFC 9112 sections 2 to 6): one line at a time, each checked against
 * the grammar as soon as its CRLF is there, so a slow client costs one pass over its bytes. What
 * the edge and an origin could read differently is refused rather than repaired: a bare CR or
 * LF, whitespace between a field name and its colon, obs-fold, two Content-Length or
 * Transfer-Encoding fields, both together, and any transfer coding but a single "chunked". */
#include "edge/http_frame.h"

#include <string.h>
#include <strings.h>

/* tchar (RFC 9110 5.6.2) as a bitmap of the bytes 0-63 and one of 64-127: a byte is looked up,
 * not compared with each of the 15 other characters; the name loop runs for every byte of
 * every field name */
#define BIT(c)        ((uint64_t)1 << ((c) % 64))
#define RANGE(lo, hi) ((((uint64_t)1 << ((hi) - (lo) + 1)) - 1) << ((lo) % 64))
static const uint64_t tchar_map[2] = {
    RANGE('0', '9') | BIT('!') | BIT('#') | BIT('$') | BIT('%') | BIT('&') | BIT('\'') |
	BIT('*') | BIT('+') | BIT('-') | BIT('.'),
    RANGE('A', 'Z') | RANGE('a', 'z') | BIT('^') | BIT('_') | BIT('`') | BIT('|') | BIT('~'),
};

static int is_tchar(unsigned char ch)
{
	return ch < 128 && (tchar_map[ch / 64] >> (ch % 64)) & 1;
}

/* 1 when P[0..N) are all field-vchar, SP or HTAB (RFC 9110 5.5): what a field value may hold.
 * Every byte is looked at, without an early exit, so the loop has no branch to take. */
static int all_value_chars(const char *p, size_t n)
{
	unsigned bad = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		bad |= (unsigned)(ch < 0x20 && ch != '\t') | (unsigned)(ch == 0x7f);
	}
	return !bad;
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

/* ID when NAME is called LOWER, else HTTP_FIELD_OTHER. */
static enum http_field_id named(const char *name, size_t len, const char *lower,
				enum http_field_id id)
{
	return http_name_is(name, len, lower) ? id : HTTP_FIELD_OTHER;
}

enum http_field_id http_field_id(const char *name, size_t len)
{
	/* by length first: most fields end there, the rest after one or two comparisons */
	switch (len) {
	case 2:
		return named(name, len, "te", HTTP_FIELD_TE);
	case 4:
		return named(name, len, "host", HTTP_FIELD_HOST);
	case 7:
		return named(name, len, "upgrade", HTTP_FIELD_UPGRADE);
	case 10:
		return http_name_is(name, len, "connection")
			   ? HTTP_FIELD_CONNECTION
			   : named(name, len, "keep-alive", HTTP_FIELD_KEEP_ALIVE);
	case 14:
		return named(name, len, "content-length", HTTP_FIELD_CONTENT_LENGTH);
	case 15:
		return named(name, len, "x-forwarded-for", HTTP_FIELD_X_FORWARDED_FOR);
	case 16:
		return named(name, len, "proxy-connection", HTTP_FIELD_PROXY_CONNECTION);
	case 17:
		return http_name_is(name, len, "transfer-encoding")
			   ? HTTP_FIELD_TRANSFER_ENCODING
			   : named(name, len, "x-forwarded-proto", HTTP_FIELD_X_FORWARDED_PROTO);
	default:
		return HTTP_FIELD_OTHER;
	}
}

/* The next element of the comma-separated list [*AT, END) without its OWS: *TOKEN, *LEN (maybe
 * empty), and *AT moved past it; 0 once the list is done. */
static int list_next(const char **at, const char *end, const char **token, size_t *len)
{
	const char *v = *at, *comma, *e;

	if (v >= end)
		return 0;
	comma = memchr(v, ',', (size_t)(end - v));
	e = comma ? comma : end;
	while (v < e && is_ows(*v))
		v++;
	while (e > v && is_ows(e[-1]))
		e--;
	*token = v;
	*len = (size_t)(e - v);
	*at = comma ? comma + 1 : end;
	return 1;
}

int http_connection_names(const struct http_head *h, const char *name, size_t len)
{
	for (size_t i = 0; i < h->n_fields; i++) {
		const char *at = h->fields[i].value, *end = at + h->fields[i].value_len, *token;
		size_t token_len;

		if (h->fields[i].id != HTTP_FIELD_CONNECTION)
			continue;
		while (list_next(&at, end, &token, &token_len))
			if (token_len == len && strncasecmp(token, name, len) == 0)
				return 1;
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
	return n <= 13 || all_value_chars(p + 13, n - 13) ? 0 : 400;
}

/* The tokens of a Connection field's value V that the edge acts on, in one pass. */
static void connection_tokens(struct http_head *h, const char *v, size_t vl)
{
	const char *end = v + vl, *token;
	size_t len;

	while (list_next(&v, end, &token, &len)) {
		h->conn_close |= http_name_is(token, len, "close");
		h->conn_keep_alive |= http_name_is(token, len, "keep-alive");
		h->conn_upgrade |= http_name_is(token, len, "upgrade");
		h->conn_names_fields |= len && !http_name_is(token, len, "keep-alive") &&
					!http_name_is(token, len, "upgrade");
	}
}

/* What a field means for framing and routing. */
static int field_meaning(struct http_head *h, enum http_field_id id, const char *v, size_t vl)
{
	int token = vl > 0;

	switch (id) {
	case HTTP_FIELD_CONTENT_LENGTH:
		if (++h->n_cl > 1 || vl == 0 || vl > 18)
			return 400;
		h->content_length = 0;
		for (size_t i = 0; i < vl; i++) {
			if (v[i] < '0' || v[i] > '9')
				return 400;
			h->content_length = h->content_length * 10 + (uint64_t)(v[i] - '0');
		}
		return 0;
	case HTTP_FIELD_TRANSFER_ENCODING:
		for (size_t i = 0; i < vl; i++)
			token &= is_tchar((unsigned char)v[i]);
		if (++h->n_te > 1 || !token)
			return 400;
		if (!http_name_is(v, vl, "chunked"))
			return 501;
		h->chunked = 1;
		return 0;
	case HTTP_FIELD_HOST:
		h->n_host++;
		h->host_value = v;
		h->host_value_len = vl;
		return 0;
	case HTTP_FIELD_CONNECTION:
		connection_tokens(h, v, vl);
		return 0;
	case HTTP_FIELD_UPGRADE:
		h->has_upgrade |= vl > 0;
		return 0;
	default:
		return 0;
	}
}

/* field-name ":" OWS field-value OWS */
static int field_line(struct http_head *h, const char *p, size_t n)
{
	const char *colon = memchr(p, ':', n);
	enum http_field_id id;
	size_t nl, b, e;

	if (!colon || colon == p)
		return 400;
	nl = (size_t)(colon - p);
	for (size_t i = 0; i < nl; i++)
		if (!is_tchar((unsigned char)p[i])) /* "Host :" and "Foo Bar:" end here */
			return 400;
	if (!all_value_chars(p + nl + 1, n - nl - 1))
		return 400;
	b = nl + 1;
	e = n;
	while (b < e && is_ows(p[b]))
		b++;
	while (e > b && is_ows(p[e - 1]))
		e--;
	id = http_field_id(p, nl);
	if (h->n_fields >= h->max_fields && !h->response)
		return 431;
	if (h->n_fields < h->max_fields)
		h->fields[h->n_fields] = (struct http_field){
		    .name = p, .name_len = nl, .value = p + b, .value_len = e - b, .id = id};
	h->n_fields++;
	return field_meaning(h, id, p + b, e - b);
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

/* Request heads: the strict scanner (http_head.c) reads the head in c->in as it arrives, up to
 * edge.max_header_bytes, and says where it ends; then the Host rules of RFC 9112 3.2 apply: one
 * Host field, and it must be a hostname or an IP literal with an optional port (HTTP/1.1 must
 * send it); an absolute-form target's authority takes its place. Limits on size and on the
 * number of fields answer 431; anything malformed answers 400. */
#include "edge/conn_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* 1 when P[0..N) is LDH labels of 1 to 63 bytes (one trailing dot allowed). */
static int is_reg_name(const char *p, size_t n)
{
	size_t label = 0;

	if (n && p[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch == '.') {
			if (label == 0 || p[i - 1] == '-')
				return 0;
			label = 0;
		} else if (isalnum(ch) || (ch == '-' && label > 0)) {
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return p[n - 1] != '-';
}

/* host [":" port] (RFC 9110 7.2) into OUT (lower case, without port and trailing dot): 0, or
 * -1 when it is not a hostname, an IPv4 address or a bracketed IPv6 address with an optional
 * port of 1 to 5 digits. */
static int read_authority(const char *v, size_t n, char out[256])
{
	size_t host_len = n, k;
	const char *port = NULL;
	char tmp[64];
	struct in6_addr a6;

	if (n && v[0] == '[') {
		const char *end = memchr(v, ']', n);

		if (!end || (size_t)(end - v) - 1 >= sizeof(tmp))
			return -1;
		host_len = (size_t)(end - v) + 1;
		memcpy(tmp, v + 1, host_len - 2);
		tmp[host_len - 2] = '\0';
		if (inet_pton(AF_INET6, tmp, &a6) != 1)
			return -1;
		if (host_len < n && v[host_len] != ':')
			return -1;
	} else {
		const char *colon = memchr(v, ':', n);

		host_len = colon ? (size_t)(colon - v) : n;
		if (!is_reg_name(v, host_len)) /* IPv4 literals are LDH too */
			return -1;
	}
	if (host_len < n) {
		port = v + host_len + 1;
		if (n - host_len - 1 == 0 || n - host_len - 1 > 5)
			return -1;
		for (const char *q = port; q < v + n; q++)
			if (*q < '0' || *q > '9')
				return -1;
	}
	if (host_len >= 256)
		return -1;
	for (k = 0; k < host_len; k++)
		out[k] = (char)tolower((unsigned char)v[k]);
	out[k] = '\0';
	if (k && out[k - 1] == '.')
		out[k - 1] = '\0';
	return 0;
}

/* RFC 9112 3.2: exactly one valid Host for HTTP/1.1 (at most one for 1.0); an absolute-form
 * target's authority is the Host. */
static int check_host(struct http_head *h)
{
	if (h->n_host > 1 || (h->n_host == 0 && h->minor == 1))
		return 400;
	if (h->n_host && read_authority(h->host_value, h->host_value_len, h->host) != 0)
		return 400;
	if (h->authority && read_authority(h->authority, h->authority_len, h->host) != 0)
		return 400;
	return 1;
}

int http_head_parse(struct edge_conn *c)
{
	struct http_head *h = c->head;
	int rc;

	if (!h) {
		size_t max = (size_t)c->loop->edge->cfg->edge.max_headers;

		if (max > HTTP_MAX_FIELDS)
			max = HTTP_MAX_FIELDS;
		/* the fields live just after the head, in the same block; only the head is zeroed
		 * (http_head_reset): the fields are read up to n_fields, and zeroing 3 KB was a
		 * tenth of an HTTP/2 request's instructions */
		h = malloc(sizeof(*h) + max * sizeof(struct http_field));
		if (!h)
			return 400;
		h->fields = (struct http_field *)(h + 1);
		h->max_fields = max;
		http_head_reset(h, 0);
		c->head = h;
	}
	rc = http_head_scan(h, c->in.data, c->in.len);
	if (rc != 1)
		return rc;
	return check_host(h);
}

/* Request heads: complete heads only (up to edge.max_header_bytes, found by their blank line)
 * are parsed by nodejs http-parser, which points into the connection's buffer. Limits on size
 * and on the number of fields answer 431; anything malformed answers 400. */
#include "edge/conn_int.h"

#include <ctype.h>
#include <http_parser.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct parse_ctx {
	struct http_head *h;
	size_t max_fields;
	int too_many;
};

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct parse_ctx *ctx = p->data;

	ctx->h->url = at;
	ctx->h->url_len = len;
	return 0;
}

static int on_field(http_parser *p, const char *at, size_t len)
{
	struct parse_ctx *ctx = p->data;
	struct http_head *h = ctx->h;

	if (h->n_fields >= ctx->max_fields) {
		ctx->too_many = 1;
		return 1;
	}
	h->fields[h->n_fields].name = at;
	h->fields[h->n_fields].name_len = len;
	h->fields[h->n_fields].value = at + len;
	h->fields[h->n_fields].value_len = 0;
	h->n_fields++;
	return 0;
}

static int on_value(http_parser *p, const char *at, size_t len)
{
	struct parse_ctx *ctx = p->data;
	struct http_head *h = ctx->h;

	if (h->n_fields) {
		h->fields[h->n_fields - 1].value = at;
		h->fields[h->n_fields - 1].value_len = len;
	}
	return 0;
}

int http_field_is(const struct http_head *h, size_t i, const char *name)
{
	return h->fields[i].name_len == strlen(name) &&
	       strncasecmp(h->fields[i].name, name, h->fields[i].name_len) == 0;
}

/* Host without its port, lower case; "" when absent or too long. */
static void read_host(struct http_head *h)
{
	for (size_t i = 0; i < h->n_fields; i++) {
		const char *v = h->fields[i].value;
		size_t n = h->fields[i].value_len, k;

		if (!http_field_is(h, i, "host"))
			continue;
		if (n && v[0] == '[') { /* [v6]:port keeps its brackets out */
			const char *end = memchr(v, ']', n);

			n = end ? (size_t)(end - v) + 1 : n;
		} else {
			const char *colon = memchr(v, ':', n);

			n = colon ? (size_t)(colon - v) : n;
		}
		if (n >= sizeof(h->host))
			return;
		for (k = 0; k < n; k++)
			h->host[k] = (char)tolower((unsigned char)v[k]);
		h->host[k] = '\0';
		if (k && h->host[k - 1] == '.')
			h->host[k - 1] = '\0';
		return;
	}
}

int http_head_parse(struct edge_conn *c)
{
	static http_parser_settings settings = {
	    .on_url = on_url, .on_header_field = on_field, .on_header_value = on_value};
	const char *end = memmem(c->in.data, c->in.len, "\r\n\r\n", 4);
	struct parse_ctx ctx = {0};
	http_parser parser;
	size_t head_len;

	if (!end)
		return 0;
	head_len = (size_t)(end - c->in.data) + 4;
	if (!c->head && !(c->head = calloc(1, sizeof(*c->head))))
		return 400;
	/* not the 32 KB of fields: only the first n_fields are read */
	memset(c->head, 0, offsetof(struct http_head, fields));
	ctx.h = c->head;
	ctx.max_fields = (size_t)c->loop->edge->cfg->edge.max_headers;
	if (ctx.max_fields > HTTP_MAX_FIELDS)
		ctx.max_fields = HTTP_MAX_FIELDS;
	http_parser_init(&parser, HTTP_REQUEST);
	parser.data = &ctx;
	http_parser_execute(&parser, &settings, c->in.data, head_len);
	if (ctx.too_many)
		return 431;
	if (HTTP_PARSER_ERRNO(&parser) != HPE_OK || !c->head->url || parser.http_major != 1)
		return 400;
	snprintf(c->head->method, sizeof(c->head->method), "%s",
		 http_method_str((enum http_method)parser.method));
	c->head->minor = parser.http_minor;
	c->head->head_len = head_len;
	read_host(c->head);
	return 1;
}

/* HTTP/1.1 response heads to HTTP/2 HEADERS fields (h2_response.h). */
#include "edge/h2_response.h"

#include <stdlib.h>
#include <string.h>

/* RFC 9113 8.2.2: fields about the HTTP/1.1 connection, which HTTP/2 must not carry. */
static int connection_specific(const struct http_head *h, const struct http_field *f)
{
	switch (f->id) {
	case HTTP_FIELD_CONNECTION:
	case HTTP_FIELD_KEEP_ALIVE:
	case HTTP_FIELD_PROXY_CONNECTION:
	case HTTP_FIELD_TRANSFER_ENCODING:
	case HTTP_FIELD_UPGRADE:
		return 1;
	case HTTP_FIELD_CONTENT_LENGTH:
		return h->chunked; /* the scanner refuses both together; kept out all the same */
	default:
		return h->conn_names_fields && http_connection_names(h, f->name, f->name_len);
	}
}

static nghttp2_nv nv_of(const char *name, size_t name_len, const char *value, size_t value_len)
{
	/* nghttp2 copies them: the head's buffer is reused before the frame goes out */
	return (nghttp2_nv){(uint8_t *)name, (uint8_t *)value, name_len, value_len,
			    NGHTTP2_NV_FLAG_NONE};
}

/* OUT with room for N_NV fields and TEXT_LEN bytes of text, in one block: 0, or -1. */
static int fields_alloc(struct h2_fields *out, size_t n_nv, size_t text_len)
{
	memset(out, 0, sizeof(*out));
	if (!(out->nv = malloc(n_nv * sizeof(*out->nv) + text_len)))
		return -1;
	out->text = (char *)(out->nv + n_nv);
	return 0;
}

int h2_response_fields(const struct http_head *h, struct h2_fields *out)
{
	size_t names = 4, k = 0;
	char *t;

	memset(out, 0, sizeof(*out));
	if (h->n_fields > h->max_fields)
		return -1; /* the scanner counted fields it had no room to keep */
	for (size_t i = 0; i < h->n_fields; i++)
		names += h->fields[i].name_len + 1;
	if (fields_alloc(out, h->n_fields + 1, names) != 0)
		return -1;
	t = out->text;
	/* the scanner reads exactly three digits */
	t[0] = (char)('0' + h->status / 100 % 10);
	t[1] = (char)('0' + h->status / 10 % 10);
	t[2] = (char)('0' + h->status % 10);
	t[3] = '\0';
	out->nv[out->n++] = nv_of(":status", 7, t, 3);
	t += 4;
	for (size_t i = 0; i < h->n_fields; i++) {
		const struct http_field *f = &h->fields[i];

		if (connection_specific(h, f))
			continue;
		for (k = 0; k < f->name_len; k++)
			t[k] = (char)(f->name[k] >= 'A' && f->name[k] <= 'Z' ? f->name[k] + 32
									     : f->name[k]);
		t[k] = '\0';
		out->nv[out->n++] = nv_of(t, f->name_len, f->value, f->value_len);
		t += f->name_len + 1;
	}
	return 0;
}

int h2_trailer_fields(const char *lines, size_t len, struct h2_fields *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += lines[i] == '\n';
	if (fields_alloc(out, n ? n : 1, len ? len : 1) != 0)
		return -1;
	/* each line is "name:value\r\n" as the framer checked it: the name in lower case, the
	 * value without its OWS, both in text (the CRLF's room holds the terminators) */
	for (size_t at = 0; at < len && out->n < n;) {
		const char *line = lines + at, *colon = memchr(line, ':', len - at);
		const char *end = memchr(line, '\r', len - at);
		char *name = out->text + at, *value;
		size_t nl, vs, ve;

		if (!colon || !end || colon > end)
			break;
		nl = (size_t)(colon - line);
		for (size_t k = 0; k < nl; k++)
			name[k] = (char)(line[k] >= 'A' && line[k] <= 'Z' ? line[k] + 32 : line[k]);
		vs = nl + 1;
		ve = (size_t)(end - line);
		while (vs < ve && (line[vs] == ' ' || line[vs] == '\t'))
			vs++;
		while (ve > vs && (line[ve - 1] == ' ' || line[ve - 1] == '\t'))
			ve--;
		value = name + vs;
		memcpy(value, line + vs, ve - vs);
		out->nv[out->n++] = nv_of(name, nl, value, ve - vs);
		at += (size_t)(end - line) + 2;
	}
	return 0;
}

void h2_fields_dispose(struct h2_fields *f)
{
	free(f->nv); /* and the text after the fields */
	memset(f, 0, sizeof(*f));
}

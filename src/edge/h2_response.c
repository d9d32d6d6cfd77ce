/* HTTP/1.1 response heads to HTTP/2 HEADERS fields (h2_response.h). */
#include "edge/h2_response.h"

#include <stdlib.h>
#include <string.h>

/* RFC 9113 8.2.2: fields about the HTTP/1.1 connection, which HTTP/2 must not carry. */
static int connection_specific(const struct http_head *h, const struct http_field *f)
{
	static const char *const names[] = {"connection", "keep-alive", "proxy-connection",
					    "transfer-encoding", "upgrade"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (http_name_is(f->name, f->name_len, names[i]))
			return 1;
	}
	if (h->chunked && http_name_is(f->name, f->name_len, "content-length"))
		return 1; /* the scanner refuses both together; kept out all the same */
	return h->n_connection && http_connection_names(h, f->name, f->name_len);
}

static nghttp2_nv nv_of(const char *name, size_t name_len, const char *value, size_t value_len)
{
	/* nghttp2 copies them: the head's buffer is reused before the frame goes out */
	return (nghttp2_nv){(uint8_t *)name, (uint8_t *)value, name_len, value_len,
			    NGHTTP2_NV_FLAG_NONE};
}

int h2_response_fields(const struct http_head *h, struct h2_fields *out)
{
	size_t names = 4, k = 0;
	char *t;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < h->n_fields; i++)
		names += h->fields[i].name_len + 1;
	out->nv = malloc((h->n_fields + 1) * sizeof(*out->nv));
	out->text = malloc(names);
	if (!out->nv || !out->text) {
		h2_fields_dispose(out);
		return -1;
	}
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

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < len; i++)
		n += lines[i] == '\n';
	out->nv = malloc((n ? n : 1) * sizeof(*out->nv));
	out->text = malloc(len ? len : 1);
	if (!out->nv || !out->text) {
		h2_fields_dispose(out);
		return -1;
	}
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
	free(f->nv);
	free(f->text);
	memset(f, 0, sizeof(*f));
}

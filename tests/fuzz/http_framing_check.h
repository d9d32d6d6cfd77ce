/* Shared by fuzz_http_request.c and fuzz_http_response.c: the properties of the edge's strict
 * framing (src/edge/http_frame.h) checked on one input. Input layout: byte 0 picks the size of
 * the pieces the bytes arrive in (as reads would split them), the rest is the message.
 * Properties (abort() when broken, besides any sanitizer report):
 * - the head scanner gives the same answer fed in pieces as fed at once;
 * - the body framer gives the same bytes written in place (behind its input in one buffer, as
 *   the edge runs it) as written to a separate buffer;
 * - what it accepts as a complete chunked body re-encodes to framing that it accepts again,
 *   whole, into the very same bytes;
 * - no trailer field that frames or routes a message (Content-Length, Transfer-Encoding, Host,
 *   Trailer) is in that re-encoding;
 * - decoding it (http_body_decode, for HTTP/2 clients) gives the data of that re-encoding, and
 *   its trailer section as the trailer lines. */
#ifndef SAASEDGE_TESTS_FUZZ_HTTP_FRAMING_CHECK_H
#define SAASEDGE_TESTS_FUZZ_HTTP_FRAMING_CHECK_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "edge/http_frame.h"

#define CHECK_FIELDS 64

static int scan_whole(struct http_head *h, const char *p, size_t n, int response)
{
	http_head_reset(h, response);
	return http_head_scan(h, p, n);
}

static int scan_pieces(struct http_head *h, const char *p, size_t n, int response, size_t piece)
{
	int rc = 0;

	http_head_reset(h, response);
	for (size_t len = piece < n ? piece : n;; len = len + piece < n ? len + piece : n) {
		rc = http_head_scan(h, p, len);
		if (rc != 0 || len == n)
			return rc;
	}
}

/* Runs the body framer over IN in pieces, in place (OUT_IN_PLACE) or not; the output is
 * appended to OUT (cap n * 2 + 64 * pieces is plenty), the trailer lines of a decoded body to
 * TRAILERS (as much room) when it is not NULL. -1 malformed, else bytes consumed. */
static ssize_t frame_pieces(struct http_body *b, const char *in, size_t n, size_t piece,
			    int in_place, char *out, size_t *out_len, char *trailers,
			    size_t *trailers_len)
{
	char *buf = malloc(HTTP_BODY_SLACK + piece);
	size_t done = 0, t = 0;

	*out_len = 0;
	if (!buf)
		abort();
	while (done < n && !b->done) {
		size_t len = n - done < piece ? n - done : piece, got = 0, t_got = 0;
		ssize_t used;
		char *tp = trailers ? trailers + t : NULL;

		if (in_place) {
			memcpy(buf + HTTP_BODY_SLACK, in + done, len);
			used = http_body_step_trailers(b, buf + HTTP_BODY_SLACK, len, buf, &got, tp,
						       &t_got);
			if (used >= 0)
				memcpy(out + *out_len, buf, got);
		} else {
			used = http_body_step_trailers(b, in + done, len, out + *out_len, &got, tp,
						       &t_got);
		}
		if (used < 0) {
			free(buf);
			return -1;
		}
		if (got > len + HTTP_BODY_SLACK || t_got > len + HTTP_BODY_SLACK)
			abort(); /* more than the documented slack allows */
		t += t_got;
		*out_len += got;
		done += (size_t)used;
		if ((size_t)used < len)
			break; /* the message ended */
	}
	free(buf);
	if (trailers_len)
		*trailers_len = t;
	return (ssize_t)done;
}

/* 1 when the data of the canonical chunked body ENC (as the framer writes it: hex size, CRLF,
 * data, CRLF; a last chunk "0" CRLF, trailer lines, CRLF) is DATA[0..N) and its trailer lines
 * are TRAILERS[0..TN). */
static int same_data(const char *enc, size_t len, const char *data, size_t n,
		     const char *trailers, size_t tn)
{
	size_t i = 0, k = 0;

	for (;;) {
		char *end;
		unsigned long size = strtoul(enc + i, &end, 16);

		i = (size_t)(end - enc) + 2;
		if (size == 0)
			return k == n && len - i == tn + 2 && memcmp(enc + i, trailers, tn) == 0 &&
			       memcmp(enc + len - 2, "\r\n", 2) == 0;
		if (k + size > n || memcmp(enc + i, data + k, size) != 0)
			return 0;
		i += size + 2;
		k += size;
	}
}

/* 1 when the trailer section of the canonical chunked body ENC holds a line whose name
 * (before the colon, at a line start after the last chunk) is NAME, whatever its case. */
static int trailer_has(const char *enc, size_t len, const char *name)
{
	size_t nl = strlen(name);
	const char *last = NULL;

	for (const char *p = enc; p + 5 <= enc + len; p++)
		if (memcmp(p, "\r\n0\r\n", 5) == 0 || (p == enc && memcmp(p, "0\r\n", 3) == 0))
			last = p;
	for (const char *p = last; p && p + nl + 3 <= enc + len; p++)
		if (p[0] == '\n' && p[nl + 1] == ':' && strncasecmp(p + 1, name, nl) == 0)
			return 1;
	return 0;
}

static void check_body(enum http_body_mode mode, uint64_t length, const char *in, size_t n,
		       size_t piece)
{
	size_t cap = n * 2 + HTTP_BODY_SLACK * (n / piece + 2);
	char *a = malloc(cap), *b = malloc(cap), *c = malloc(cap), *t = malloc(cap);
	struct http_body ba, bb, bc;
	size_t la, lb, lc, lt;
	ssize_t ua, ub, uc;
	static const char *const framing[] = {"content-length", "transfer-encoding", "host",
					      "trailer"};

	if (!a || !b || !c || !t)
		abort();
	http_body_start(&ba, mode, length);
	http_body_start(&bb, mode, length);
	ua = frame_pieces(&ba, in, n, piece, 1, a, &la, NULL, NULL);
	ub = frame_pieces(&bb, in, n, piece, 0, b, &lb, NULL, NULL);
	if (ua != ub || ba.done != bb.done || (ua >= 0 && (la != lb || memcmp(a, b, la) != 0)))
		abort();
	if (mode == HTTP_BODY_CHUNKED && ua >= 0 && ba.done) {
		/* canonical: accepted again, whole, into the same bytes */
		http_body_start(&bc, mode, 0);
		uc = frame_pieces(&bc, a, la, la ? la : 1, 0, c, &lc, NULL, NULL);
		if (uc != (ssize_t)la || !bc.done || lc != la || memcmp(a, c, la) != 0)
			abort();
		for (size_t i = 0; i < sizeof(framing) / sizeof(framing[0]); i++)
			if (trailer_has(a, la, framing[i]))
				abort();
	}
	if (mode == HTTP_BODY_CHUNKED && ua >= 0 && ba.done) {
		http_body_start(&bc, mode, 0);
		http_body_decode(&bc);
		uc = frame_pieces(&bc, in, n, piece, 1, c, &lc, t, &lt);
		if (uc != ua || !bc.done || !same_data(a, la, c, lc, t, lt))
			abort();
	}
	if (mode == HTTP_BODY_LENGTH && ua >= 0 && (la != (size_t)ua || memcmp(a, in, la) != 0))
		abort(); /* a Content-Length body passes through as it is */
	free(a);
	free(b);
	free(c);
	free(t);
}

/* The whole check for one fuzz input; RESPONSE picks the start line. */
static void check_message(const uint8_t *data, size_t size, int response)
{
	static struct http_field fa[CHECK_FIELDS], fb[CHECK_FIELDS];
	struct http_head ha = {.fields = fa, .max_fields = CHECK_FIELDS};
	struct http_head hb = {.fields = fb, .max_fields = CHECK_FIELDS};
	size_t piece;
	const char *p;
	size_t n;
	int ra, rb;
	enum http_body_mode mode;

	if (size < 1)
		return;
	piece = (size_t)data[0] % 64 + 1;
	p = (const char *)data + 1;
	n = size - 1;
	ra = scan_whole(&ha, p, n, response);
	rb = scan_pieces(&hb, p, n, response, piece);
	if (ra != rb || (ra == 1 && (ha.head_len != hb.head_len || ha.n_fields != hb.n_fields ||
				     ha.chunked != hb.chunked ||
				     ha.content_length != hb.content_length)))
		abort();
	if (ra != 1)
		return;
	if (ha.head_len > n || (ha.chunked && ha.n_cl))
		abort();
	if (response && (ha.status == 204 || ha.status == 304 || ha.status < 200))
		mode = HTTP_BODY_NONE;
	else if (ha.chunked)
		mode = HTTP_BODY_CHUNKED;
	else if (ha.n_cl || !response)
		mode = HTTP_BODY_LENGTH;
	else
		mode = HTTP_BODY_CLOSE;
	check_body(mode, ha.content_length, p + ha.head_len, n - ha.head_len, piece);
}

#endif

/* The body framer: Content-Length bodies pass through as they are (the count says where the
 * message ends); chunked bodies are decoded byte by byte against RFC 9112 7.1 (hex size, optional
 * extensions, CRLF, data, CRLF; a last chunk, trailer fields, CRLF) and written out again as
 * chunks the edge sized itself, one per run of data, so that no extension, odd size spelling,
 * or bare CR or LF reaches the other side. Trailer fields are checked like head fields and
 * passed on, except those RFC 9110 6.5.1 keeps out of trailers (framing, routing, request
 * modifiers, authentication, response control, content processing) and those the edge writes
 * itself: a recipient that merges trailers into the head must not get them from a client. */
#include "edge/http_frame.h"

#include <stdio.h>
#include <string.h>

#define SIZE_DIGITS_MAX 15    /* 2^60 - 1: no overflow, larger than any real chunk */
#define LINE_MAX_BYTES  4096  /* one extension or trailer line */
#define TRAILER_MAX     16384 /* the whole trailer section */

enum {
	CK_SIZE,      /* hex digits of the chunk size */
	CK_SIZE_WS,   /* BWS after them, before ';' or CR */
	CK_EXT,       /* an extension, up to CR: dropped */
	CK_SIZE_LF,   /* the LF ending the size line */
	CK_DATA,      /* chunk data */
	CK_DATA_CR,   /* the CRLF after it */
	CK_DATA_LF,
	CK_TRAILER,   /* the start of a trailer line, or of the final CRLF */
	CK_T_NAME,    /* a trailer field's name */
	CK_T_VALUE,   /* its value, up to CR */
	CK_T_LF,      /* the LF ending a trailer line */
	CK_END_LF,    /* the LF of the final CRLF */
};

static int hex_value(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static int is_tchar(unsigned char ch)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch && memchr(extra, ch, sizeof(extra) - 1));
}

static int is_value_char(unsigned char ch)
{
	return ch == ' ' || ch == '\t' || (ch > 0x20 && ch != 0x7f);
}

static int has_prefix(const char *name, size_t len, const char *lower)
{
	size_t n = strlen(lower);

	return len >= n && http_name_is(name, n, lower);
}

/* 1 for a trailer field the edge passes on (NAME as received, LEN bytes). */
static int trailer_allowed(const char *name, size_t len)
{
	static const char *const kept_out[] = {
	    /* framing and routing, and fields about the connection */
	    "content-length", "transfer-encoding", "trailer", "host", "connection", "keep-alive",
	    "proxy-connection", "te", "upgrade",
	    /* request modifiers and authentication */
	    "cache-control", "expect", "max-forwards", "pragma", "range", "authorization",
	    "proxy-authorization", "www-authenticate", "proxy-authenticate", "cookie", "set-cookie",
	    /* response control data */
	    "age", "expires", "date", "location", "retry-after", "vary", "warning",
	    /* what the edge writes about the client */
	    "forwarded", "x-real-ip", "via"};

	if (len > HTTP_TRAILER_NAME_MAX)
		return 0;
	for (size_t i = 0; i < sizeof(kept_out) / sizeof(kept_out[0]); i++)
		if (http_name_is(name, len, kept_out[i]))
			return 0;
	/* content processing (Content-Type, -Encoding, -Range, …) but for a digest of the content,
	 * conditionals, and X-Forwarded-* */
	if (has_prefix(name, len, "content-"))
		return http_name_is(name, len, "content-digest");
	return !has_prefix(name, len, "if-") && !has_prefix(name, len, "x-forwarded-");
}

/* Where a chunked body's trailer section goes: OUT itself when re-encoding, the caller's
 * TRAILERS (or nowhere) when decoding. */
struct sinks {
	char *out, *trailers;
	size_t o, t;
};

static void trailer_put(const struct http_body *b, struct sinks *k, const char *p, size_t n)
{
	if (!b->decode) {
		memcpy(k->out + k->o, p, n);
		k->o += n;
	} else if (k->trailers) {
		memcpy(k->trailers + k->t, p, n);
		k->t += n;
	}
}

void http_body_start(struct http_body *b, enum http_body_mode mode, uint64_t length)
{
	*b = (struct http_body){.mode = mode, .remaining = length, .state = CK_SIZE};
	b->done = mode == HTTP_BODY_NONE || (mode == HTTP_BODY_LENGTH && length == 0);
}

/* Chunked: the state machine over IN, writing to K's sinks (OUT may trail IN in one buffer:
 * what is written never gets ahead of what was read by more than HTTP_BODY_SLACK, as a run's
 * chunk head, or a trailer name read in an earlier call, is written before its bytes are read). */
static ssize_t chunked_step(struct http_body *b, const char *in, size_t n, struct sinks *k)
{
	size_t i = 0;
	char *out = k->out;

	while (i < n && !b->done) {
		unsigned char ch = (unsigned char)in[i];
		int hv;

		switch (b->state) {
		case CK_SIZE:
			hv = hex_value(ch);
			if (hv >= 0 && b->digits < SIZE_DIGITS_MAX) {
				b->remaining = b->remaining * 16 + (uint64_t)hv;
				b->digits++;
				i++;
				break;
			}
			if (hv >= 0 || b->digits == 0)
				return -1;
			b->state = CK_SIZE_WS;
			break;
		case CK_SIZE_WS:
			if (ch == ' ' || ch == '\t') {
				if (++b->line > LINE_MAX_BYTES)
					return -1;
				i++;
			} else if (ch == ';') {
				b->state = CK_EXT;
				i++;
			} else if (ch == '\r') {
				b->state = CK_SIZE_LF;
				i++;
			} else {
				return -1;
			}
			break;
		case CK_EXT:
			/* chunk-ext: any field-vchar, SP or HTAB up to CR (never a bare CR or LF) */
			if (ch == '\r') {
				b->state = CK_SIZE_LF;
			} else if (!is_value_char(ch) || ++b->line > LINE_MAX_BYTES) {
				return -1;
			}
			i++;
			break;
		case CK_SIZE_LF:
			if (ch != '\n')
				return -1;
			i++;
			b->line = 0;
			b->state = b->remaining ? CK_DATA : CK_TRAILER;
			if (!b->remaining && !b->decode) {
				memcpy(out + k->o, "0\r\n", 3);
				k->o += 3;
			}
			break;
		case CK_DATA: {
			size_t run = n - i < b->remaining ? n - i : (size_t)b->remaining;
			int hl = b->decode ? 0 : snprintf(out + k->o, 20, "%zx\r\n", run);

			/* o + 20 <= i + SLACK: the header never reaches the unread data */
			memmove(out + k->o + hl, in + i, run);
			k->o += (size_t)hl + run;
			if (!b->decode) {
				out[k->o++] = '\r';
				out[k->o++] = '\n';
			}
			i += run;
			b->remaining -= run;
			if (!b->remaining)
				b->state = CK_DATA_CR;
			break;
		}
		case CK_DATA_CR:
			if (ch != '\r')
				return -1;
			i++;
			b->state = CK_DATA_LF;
			break;
		case CK_DATA_LF:
			if (ch != '\n')
				return -1;
			i++;
			b->digits = 0;
			b->state = CK_SIZE;
			break;
		case CK_TRAILER:
			if (ch == '\r') {
				b->state = CK_END_LF;
			} else if (is_tchar(ch)) {
				b->state = CK_T_NAME;
				b->line = 0;
				b->keep = 0;
				break; /* the name's first byte is counted there */
			} else {
				return -1;
			}
			i++;
			break;
		case CK_T_NAME:
			if (ch == ':') {
				b->state = CK_T_VALUE;
				b->keep = trailer_allowed(b->name, b->line);
				if (b->keep) {
					trailer_put(b, k, b->name, b->line);
					trailer_put(b, k, ":", 1);
				}
			} else if (!is_tchar(ch)) {
				return -1; /* also whitespace before the colon */
			} else if (b->line < HTTP_TRAILER_NAME_MAX) {
				b->name[b->line] = (char)ch;
			}
			b->line++;
			if (++b->trailer > TRAILER_MAX)
				return -1;
			i++;
			break;
		case CK_T_VALUE:
			if (ch == '\r')
				b->state = CK_T_LF;
			else if (!is_value_char(ch))
				return -1;
			else if (b->keep)
				trailer_put(b, k, in + i, 1);
			if (++b->trailer > TRAILER_MAX)
				return -1;
			i++;
			break;
		case CK_T_LF:
			if (ch != '\n')
				return -1;
			i++;
			if (b->keep)
				trailer_put(b, k, "\r\n", 2);
			b->state = CK_TRAILER;
			break;
		case CK_END_LF:
			if (ch != '\n')
				return -1;
			i++;
			if (!b->decode) {
				memcpy(out + k->o, "\r\n", 2);
				k->o += 2;
			}
			b->done = 1;
			break;
		}
	}
	return (ssize_t)i;
}

void http_body_decode(struct http_body *b)
{
	b->decode = 1;
}

ssize_t http_body_step(struct http_body *b, const char *in, size_t n, char *out,
		       size_t *out_len)
{
	return http_body_step_trailers(b, in, n, out, out_len, NULL, NULL);
}

ssize_t http_body_step_trailers(struct http_body *b, const char *in, size_t n, char *out,
				size_t *out_len, char *trailers, size_t *trailers_len)
{
	struct sinks k = {.out = out, .trailers = trailers};
	size_t take;
	ssize_t used;

	*out_len = 0;
	if (trailers_len)
		*trailers_len = 0;
	switch (b->mode) {
	case HTTP_BODY_NONE:
		return 0;
	case HTTP_BODY_CHUNKED:
		used = chunked_step(b, in, n, &k);
		*out_len = k.o;
		if (trailers_len)
			*trailers_len = k.t;
		return used;
	case HTTP_BODY_LENGTH:
		if (b->done)
			return 0;
		take = n < b->remaining ? n : (size_t)b->remaining;
		b->remaining -= take;
		b->done = b->remaining == 0;
		break;
	case HTTP_BODY_CLOSE:
	default:
		take = n;
		break;
	}
	if (out != in)
		memmove(out, in, take);
	*out_len = take;
	return (ssize_t)take;
}

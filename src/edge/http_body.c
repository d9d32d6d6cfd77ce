/* The body framer: Content-Length bodies pass through as they are (the count says where the
 * message ends); chunked bodies are decoded byte by byte against RFC 9112 7.1 (hex size, optional
 * extensions, CRLF, data, CRLF; a last chunk, trailer fields, CRLF) and written out again as
 * chunks the edge sized itself, one per run of data, so that no extension, odd size spelling,
 * bare CR or LF, or trailer reaches the other side. Trailers are checked and dropped. */
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

void http_body_start(struct http_body *b, enum http_body_mode mode, uint64_t length)
{
	*b = (struct http_body){.mode = mode, .remaining = length, .state = CK_SIZE};
	b->done = mode == HTTP_BODY_NONE || (mode == HTTP_BODY_LENGTH && length == 0);
}

/* Chunked: the state machine over IN, writing to OUT (which may trail IN in one buffer). */
static ssize_t chunked_step(struct http_body *b, const char *in, size_t n, char *out,
			    size_t *out_len)
{
	size_t i = 0, o = 0;

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
			break;
		case CK_DATA: {
			size_t run = n - i < b->remaining ? n - i : (size_t)b->remaining;
			int hl = b->decode ? 0 : snprintf(out + o, 20, "%zx\r\n", run);

			/* o + 20 <= i + SLACK: the header never reaches the unread data */
			memmove(out + o + hl, in + i, run);
			o += (size_t)hl + run;
			if (!b->decode) {
				out[o++] = '\r';
				out[o++] = '\n';
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
				break; /* the name's first byte is counted there */
			} else {
				return -1;
			}
			i++;
			break;
		case CK_T_NAME:
			if (ch == ':')
				b->state = CK_T_VALUE;
			else if (!is_tchar(ch))
				return -1; /* also whitespace before the colon */
			if (++b->trailer > TRAILER_MAX)
				return -1;
			i++;
			break;
		case CK_T_VALUE:
			if (ch == '\r')
				b->state = CK_T_LF;
			else if (!is_value_char(ch))
				return -1;
			if (++b->trailer > TRAILER_MAX)
				return -1;
			i++;
			break;
		case CK_T_LF:
			if (ch != '\n')
				return -1;
			i++;
			b->state = CK_TRAILER;
			break;
		case CK_END_LF:
			if (ch != '\n')
				return -1;
			i++;
			if (!b->decode) {
				memcpy(out + o, "0\r\n\r\n", 5);
				o += 5;
			}
			b->done = 1;
			break;
		}
	}
	*out_len = o;
	return (ssize_t)i;
}

void http_body_decode(struct http_body *b)
{
	b->decode = 1;
}

ssize_t http_body_step(struct http_body *b, const char *in, size_t n, char *out,
		       size_t *out_len)
{
	size_t take;

	*out_len = 0;
	switch (b->mode) {
	case HTTP_BODY_NONE:
		return 0;
	case HTTP_BODY_CHUNKED:
		return chunked_step(b, in, n, out, out_len);
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

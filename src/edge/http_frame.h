/* Strict HTTP/1.1 framing (RFC 9112) for the edge, in both directions: a head scanner that
 * resumes where it stopped as bytes arrive and accepts only the RFC's grammar (CRLF line ends,
 * token field names, no whitespace before the colon, no obs-fold, no bare CR or LF), and a body
 * framer that follows Content-Length or chunked framing and re-encodes a chunked body with chunk
 * sizes of its own (extensions dropped, trailer fields checked and filtered). Neither allocates
 * nor keeps a pointer past the buffer it was given; see docs/decisions/0018-strict-http-framing.md
 * and 0035-trailers.md. */
#ifndef SAASEDGE_EDGE_HTTP_FRAME_H
#define SAASEDGE_EDGE_HTTP_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#define HTTP_MAX_FIELDS 1000

/* The fields the edge reads or writes itself, named once by the scanner so that what follows
 * (framing, forwarding, HTTP/2 conversion) compares a number, not a name, per field. */
enum http_field_id {
	HTTP_FIELD_OTHER,
	HTTP_FIELD_CONNECTION,
	HTTP_FIELD_CONTENT_LENGTH,
	HTTP_FIELD_HOST,
	HTTP_FIELD_KEEP_ALIVE,
	HTTP_FIELD_PROXY_CONNECTION,
	HTTP_FIELD_TE,
	HTTP_FIELD_TRANSFER_ENCODING,
	HTTP_FIELD_UPGRADE,
	HTTP_FIELD_X_FORWARDED_FOR,
	HTTP_FIELD_X_FORWARDED_PROTO,
};

struct http_field {
	const char *name, *value; /* into the scanned buffer; the value without its OWS */
	size_t name_len, value_len;
	enum http_field_id id;
};

/* One message head. The pointers point into the buffer given to http_head_scan, which must not
 * move while the head is in use. */
struct http_head {
	/* scanner state */
	size_t scan;   /* bytes taken so far: the next line starts there */
	int started;   /* the start line has been read */
	int response;  /* a status line is expected */
	size_t max_fields; /* capacity of fields; more fields than this answer 431 */
	/* start line */
	char method[16];
	const char *url; /* the origin-form target ("/..."); for an absolute-form target its path */
	size_t url_len;
	const char *authority; /* absolute-form target: its authority, else NULL */
	size_t authority_len;
	int minor;  /* HTTP/1.MINOR (0 or 1) */
	int status; /* response: the status code */
	/* framing and routing, from the fields */
	int chunked;             /* Transfer-Encoding: chunked */
	int n_te, n_cl, n_host;  /* how many of those fields there were */
	uint64_t content_length; /* when n_cl == 1 */
	int conn_close, conn_keep_alive, conn_upgrade; /* tokens of Connection */
	int conn_names_fields;   /* a token of Connection other than keep-alive and upgrade (whose
				  * fields the edge drops anyway): it may name a field to drop */
	int has_upgrade;         /* a non-empty Upgrade field */
	const char *host_value;  /* the Host field's value */
	size_t host_value_len;
	char host[256];  /* set by http_req.c: the checked Host without port, lower case */
	size_t head_len; /* bytes the head takes, once complete */
	size_t n_fields;
	struct http_field *fields; /* max_fields slots, owned by whoever made the head */
};

/* Starts H over for a new head (keeps its fields array and max_fields). RESPONSE: a status
 * line is expected. */
void http_head_reset(struct http_head *h, int response);

/* Reads (more of) the head at DATA[0..LEN), resuming at H->scan (DATA is the same buffer as in
 * the previous calls, grown). 1 complete (H->head_len bytes), 0 more bytes needed, or the status
 * a request deserves: 400 malformed (including bare CR or LF, whitespace before a colon,
 * obs-fold, conflicting or duplicated framing fields), 431 more than H->max_fields fields, 501
 * a single transfer coding other than chunked. Once it has answered other than 0 it must be
 * reset before use. */
int http_head_scan(struct http_head *h, const char *data, size_t len);

/* 1 when a Connection field of H names the field NAME (LEN bytes), whatever its case: it is
 * hop-by-hop too (RFC 9110 7.6.1). */
int http_connection_names(const struct http_head *h, const char *name, size_t len);

/* 1 when the field NAME_LEN bytes at NAME is called LOWER (lower case), whatever its case.
 * Inline, so that LOWER's length is known when it is a literal and most names are told apart
 * by their length alone; the rest by their first bytes, without a call. */
static inline int http_name_is(const char *name, size_t name_len, const char *lower)
{
	if (name_len != strlen(lower))
		return 0;
	for (size_t i = 0; i < name_len; i++) {
		char ch = name[i] >= 'A' && name[i] <= 'Z' ? (char)(name[i] + 32) : name[i];

		if (ch != lower[i])
			return 0;
	}
	return 1;
}

/* The id of the field NAME_LEN bytes at NAME, whatever its case. */
enum http_field_id http_field_id(const char *name, size_t name_len);

enum http_body_mode {
	HTTP_BODY_NONE,    /* no body (or it has all been seen) */
	HTTP_BODY_LENGTH,  /* Content-Length bytes, passed through as they are */
	HTTP_BODY_CHUNKED, /* chunked: decoded and encoded again */
	HTTP_BODY_CLOSE,   /* a response read until the origin closes */
};

/* Room http_body_step needs between where it writes and where it reads, when both are in one
 * buffer: what it writes never passes what it has not read yet by more than this. */
#define HTTP_BODY_SLACK 64

/* A trailer field with a longer name is dropped: the framer keeps the name until its colon
 * says whether the field passes, and writes it then (within HTTP_BODY_SLACK). */
#define HTTP_TRAILER_NAME_MAX 48

struct http_body {
	enum http_body_mode mode;
	int done;           /* the message's end was seen */
	int decode;         /* CHUNKED: write the data alone, without chunk framing */
	uint64_t remaining; /* LENGTH: bytes left; CHUNKED: of the current chunk */
	int state;          /* CHUNKED: where in the chunk grammar */
	int digits;         /* CHUNKED: hex digits of the size line so far */
	size_t line;        /* CHUNKED: bytes of the current extension or trailer line */
	size_t trailer;     /* CHUNKED: bytes of trailer section so far */
	int keep;           /* CHUNKED: the current trailer field is passed on */
	char name[HTTP_TRAILER_NAME_MAX]; /* CHUNKED: the current trailer field's name */
};

/* Starts B for a message of MODE (LENGTH: of LENGTH bytes; an empty one is done at once). */
void http_body_start(struct http_body *b, enum http_body_mode mode, uint64_t length);

/* From now on B writes a chunked body's data alone, for a client whose own protocol frames it
 * (HTTP/2's DATA frames); the other modes are written as they are anyway. Its trailer fields
 * then go to http_body_step_trailers's TRAILERS, or nowhere. */
void http_body_decode(struct http_body *b);

/* Takes body bytes IN[0..N) and writes the framing forwarded for them to OUT (*OUT_LEN bytes):
 * the same bytes for LENGTH and CLOSE, new chunks for CHUNKED. OUT may be IN itself, or lie at
 * least HTTP_BODY_SLACK bytes before IN in the same buffer; otherwise OUT needs N +
 * HTTP_BODY_SLACK bytes. Returns the bytes of IN that belong to the message (the rest is the
 * next message's, or stray), or -1 when the chunked framing is malformed. */
ssize_t http_body_step(struct http_body *b, const char *in, size_t n, char *out,
		       size_t *out_len);

/* http_body_step, and when B decodes (http_body_decode), the trailer fields it passes on
 * written to TRAILERS (room for N + HTTP_BODY_SLACK bytes) as "name:value\r\n" lines, as received
 * (the value with its OWS), *TRAILERS_LEN bytes. A re-encoded body carries them itself. */
ssize_t http_body_step_trailers(struct http_body *b, const char *in, size_t n, char *out,
				size_t *out_len, char *trailers, size_t *trailers_len);

#endif

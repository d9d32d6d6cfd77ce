/* An HTTP/2 request (RFC 9113 8.3) written out as the HTTP/1.1 head the proxy reads. The edge
 * speaks HTTP/1.1 to origins, and every request it forwards goes through the one strict
 * HTTP/1.1 scanner (http_frame.h), whichever protocol the client spoke: the HTTP/2 side only
 * translates. nghttp2 has already applied RFC 9113's own rules to the fields it hands over
 * (pseudo-header fields first, once each, the required ones present; no connection-specific
 * field; lower-case names; no CR, LF or NUL in a value; Content-Length against the DATA). */
#ifndef SAASEDGE_EDGE_H2_REQUEST_H
#define SAASEDGE_EDGE_H2_REQUEST_H

#include <stddef.h>

struct h2_request {
	char method[16];
	char *path;      /* :path, malloc'd */
	char *authority; /* :authority, malloc'd, or NULL */
	char *host;      /* a Host field, malloc'd, or NULL */
	size_t path_len, authority_len, host_len;
	char *fields;    /* the other fields as "name: value\r\n" lines */
	size_t fields_len, fields_cap;
	char *cookie; /* the Cookie fields joined with "; " (RFC 9113 8.2.3), or NULL */
	size_t cookie_len, cookie_cap;
	size_t n_fields;  /* regular fields received */
	size_t n_cookies; /* of which Cookie fields */
	int has_length;   /* a content-length field was among them */
	int has_scheme;
	size_t max_bytes, max_fields;
	int failed; /* the status already answered (400, 431, 501), or 0 */
};

/* Starts R for a request whose head may take MAX_BYTES bytes and MAX_FIELDS fields as
 * HTTP/1.1 (the edge's limits for any request). */
void h2_request_init(struct h2_request *r, size_t max_bytes, size_t max_fields);
void h2_request_dispose(struct h2_request *r);

/* Takes one field as nghttp2 gives it (a pseudo-header field too): 0, or the status the
 * stream deserves (431 over a limit, 400 malformed, 405 CONNECT, which the edge does not
 * relay, 500 out of memory). */
int h2_request_field(struct h2_request *r, const char *name, size_t name_len, const char *value,
		     size_t value_len);

/* The HTTP/1.1 head of R (malloc'd text, *LEN bytes, ending with the empty line) once its fields
 * are all in: "METHOD PATH HTTP/1.1", Host from :authority (or the Host field), the fields,
 * and the body's framing: the request's own Content-Length, none when END_STREAM (the HEADERS
 * frame ended the stream), else "Transfer-Encoding: chunked" (*CHUNKED set: the caller frames
 * the DATA with h2_chunk_head). 0, or the status the stream deserves. */
int h2_request_head(struct h2_request *r, int end_stream, char **head, size_t *len, int *chunked);

/* The size line of a chunk of N bytes ("1f4\r\n") into OUT; its length. The chunk's data then
 * ends with "\r\n", and the body with the last chunk "0\r\n\r\n". */
size_t h2_chunk_head(size_t n, char out[24]);

#endif

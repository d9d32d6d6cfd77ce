/* An origin's HTTP/1.1 response head, as the strict scanner read it (http_frame.h), as the
 * fields of an HTTP/2 HEADERS frame (RFC 9113 8.3.2): ":status" first, then its fields with
 * lower-case names, without those of the HTTP/1.1 connection (RFC 9113 8.2.2: Connection and
 * the fields it names, Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade). DATA frames
 * carry the body whatever its HTTP/1.1 framing was, so Content-Length stays only when the
 * origin framed the body with it, where it still tells the client the size to expect. */
#ifndef SAASEDGE_EDGE_H2_RESPONSE_H
#define SAASEDGE_EDGE_H2_RESPONSE_H

#include <nghttp2/nghttp2.h>

#include "edge/http_frame.h"

struct h2_fields {
	nghttp2_nv *nv; /* n entries, pointing into text and into the head: nghttp2 copies them */
	size_t n;
	char *text; /* the lower-case names and ":status"'s value, in nv's allocation */
};

/* The HEADERS fields of the response head H (the buffer it was scanned from must outlive
 * OUT): 0, or -1 out of memory. The caller frees OUT with h2_fields_dispose. */
int h2_response_fields(const struct http_head *h, struct h2_fields *out);

/* The trailer fields the body framer passed on (LINES, LEN bytes of "name:value\r\n" lines,
 * http_frame.h) as the fields of the HEADERS frame that ends a stream: names in lower case,
 * values without their OWS. 0, or -1 out of memory; OUT does not point into LINES. */
int h2_trailer_fields(const char *lines, size_t len, struct h2_fields *out);

void h2_fields_dispose(struct h2_fields *f);

#endif

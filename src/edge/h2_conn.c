/* HTTP/2 to clients (RFC 9113), with nghttp2, in the connection's event loop. A client whose
 * TLS handshake chose h2 by ALPN gets a session here; each request stream is relayed by a
 * connection of its own (struct edge_conn with is_stream set, no socket) that runs the HTTP/1.1
 * proxy (proxy.c) unchanged: it reads the request as HTTP/1.1 bytes (h2_request.c wrote the
 * head, DATA frames the body, chunked when the client gave no length) and writes the response
 * as HTTP/1.1 bytes, which are scanned again with the strict scanner and sent as HEADERS and
 * DATA frames (h2_response.c). So every request reaches an origin through the one strict
 * HTTP/1.1 path, framed and checked by the edge itself, whichever protocol the client spoke.
 *
 * Backpressure, both ways: a stream's request bytes wait in its buffer, and the client's
 * window is only given back (WINDOW_UPDATE) as the relay takes them; a response's bytes wait
 * until DATA frames take them, and past STREAM_BUF_MAX the relay's write is refused (would
 * block), so it stops reading the origin until they go. */
#include "edge/conn_int.h"

#include <nghttp2/nghttp2.h>
#include <stdlib.h>
#include <string.h>

#include "edge/early_hints.h"
#include "edge/h2_request.h"
#include "edge/h2_response.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "metrics/metrics.h"

#define H2_MAX_STREAMS 128
#define STREAM_BUF_MAX (256 * 1024)
#define READ_CHUNK     16384
#define SEND_GATHER    65536
#define HEAD_BUF       (64 * 1024 + 64) /* the relay writes no larger head (RELAY_BUF) */

struct h2_session {
	nghttp2_session *ng;
	struct edge_conn *conn;
	/* the open ones, oldest first: relays are driven in the order the client sent its
	 * requests, so the first (a page, before its assets) gets the first pooled origin
	 * connection; and they are closed with the session */
	struct h2_stream *streams, *streams_last;
	int driving;               /* h2_drive is on the stack: a nested call only flags */
	int again;                 /* a round of h2_drive made work for another */
	/* frames to send that no event of the client's will send: on the loop's list for
	 * edge_h2_flush */
	int pending;
	struct h2_session *pending_next;
	int goaway_sent; /* the loop is draining and GOAWAY went to nghttp2 */
};

struct h2_stream {
	int32_t id;
	struct h2_session *s;
	struct edge_conn *relay; /* NULL once it closed */
	struct h2_stream *prev, *next;
	struct h2_request req;
	int refused;             /* the status answered instead of relaying (400, 405, 431), or 0 */
	int chunked;             /* the request body is chunk-framed for HTTP/1.1 */
	int req_ended;           /* the client ended the stream (and the last chunk is written) */
	struct buf in;           /* request bytes the relay has not read yet */
	struct buf req_trailers; /* chunked: the request's trailer fields, as HTTP/1.1 lines */
	size_t unconsumed; /* DATA bytes read from the client not yet given back to its window */
	int head_method;   /* the request is a HEAD: its response has no body */
	int hints;         /* a GET of a hostname with early_hints on (early_hints.h) */
	/* the response, as the relay writes it */
	struct http_head head;
	struct buf head_buf;
	int submitted;  /* HEADERS (the final ones) went to nghttp2 */
	int resp_ended; /* the whole body is in out */
	int close_delimited;
	struct http_body body;
	struct buf out;      /* body bytes not yet in DATA frames */
	struct buf trailers; /* the response's trailer fields (http_frame.h lines), sent after it */
	int64_t progress_us; /* when DATA last took some of them (or the final head was sent) */
	int relay_blocked;   /* the relay's last write was refused: drive it once there is room */
	int wants_drive;
};

/* ---- buffers ---------------------------------------------------------------------------- */

static int buf_append(struct buf *b, const char *p, size_t n)
{
	if (n == 0)
		return 0;
	if (b->off && b->off == b->len)
		b->off = b->len = 0;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *grown;

		if (b->off) { /* compact first */
			memmove(b->data, b->data + b->off, b->len - b->off);
			b->len -= b->off;
			b->off = 0;
		}
		while (cap < b->len + n)
			cap *= 2;
		if (cap > b->cap) {
			if (!(grown = realloc(b->data, cap)))
				return -1;
			b->data = grown;
			b->cap = cap;
		}
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static size_t buf_pending(const struct buf *b)
{
	return b->len - b->off;
}

/* A relay gave S something to send outside S's own events (an origin's bytes, a timeout). */
static void mark_pending(struct h2_session *s)
{
	struct edge_loop *l = s->conn->loop;

	s->again = 1;
	if (!s->driving && !s->pending) {
		s->pending = 1;
		s->pending_next = l->h2_pending;
		l->h2_pending = s;
	}
}

/* ---- streams ---------------------------------------------------------------------------- */

static struct h2_stream *stream_new(struct h2_session *s, int32_t id)
{
	struct edge *e = s->conn->loop->edge;
	struct h2_stream *st = calloc(1, sizeof(*st));
	size_t max_fields = (size_t)e->cfg->edge.max_headers;

	if (!st)
		return NULL;
	if (max_fields > HTTP_MAX_FIELDS)
		max_fields = HTTP_MAX_FIELDS;
	st->head.max_fields = max_fields; /* its fields are allocated when head_in needs them */
	http_head_reset(&st->head, 1);
	h2_request_init(&st->req, (size_t)e->cfg->edge.max_header_bytes, max_fields);
	st->id = id;
	st->s = s;
	st->prev = s->streams_last;
	if (s->streams_last)
		s->streams_last->next = st;
	else
		s->streams = st;
	s->streams_last = st;
	return st;
}

static void stream_free(struct h2_stream *st)
{
	struct h2_session *s = st->s;

	if (st->prev)
		st->prev->next = st->next;
	else
		s->streams = st->next;
	if (st->next)
		st->next->prev = st->prev;
	else
		s->streams_last = st->prev;
	h2_request_dispose(&st->req);
	free(st->head.fields);
	free(st->head_buf.data);
	free(st->in.data);
	free(st->req_trailers.data);
	free(st->out.data);
	free(st->trailers.data);
	free(st);
}

/* The relay connection of ST: an edge_conn without a socket, reading its head first. */
static struct edge_conn *relay_new(struct h2_stream *st)
{
	struct edge_conn *parent = st->s->conn;
	struct edge_loop *l = parent->loop;
	/* with room after it for the fields of the response head it hands to the stream */
	struct edge_conn *c = malloc(sizeof(*c) + st->head.max_fields * sizeof(struct http_field));

	if (!c)
		return NULL;
	memset(c, 0, sizeof(*c));
	c->resp_head.fields = (struct http_field *)(c + 1);
	c->resp_head.max_fields = st->head.max_fields;
	c->io.fd = -1;
	c->up.fd = -1;
	c->loop = l;
	c->tls = 1;
	c->is_stream = 1;
	c->stream = st;
	c->in.cap = (size_t)l->edge->cfg->edge.max_header_bytes + 1;
	if (!(c->in.data = buf_stash_take(l, c->in.cap))) {
		free(c);
		return NULL;
	}
	c->entry = parent->entry;
	edge_entry_ref(c->entry);
	memcpy(c->sni, parent->sni, sizeof(c->sni));
	memcpy(c->peer_ip, parent->peer_ip, sizeof(c->peer_ip));
	c->local_port = conn_local_port(parent);
	c->state = CS_READ_HEAD;
	c->deadline_us = time_now_us() + l->edge->cfg->edge.idle_timeout * 1000000;
	c->next = l->conns;
	if (l->conns)
		l->conns->prev = c;
	l->conns = c;
	st->relay = c;
	return c;
}

/* The response's trailer fields, as the HEADERS frame that ends ST: 0, or -1 when they cannot
 * be sent (the stream then ends with its last DATA, without them). */
static int trailers_submit(struct h2_stream *st)
{
	struct h2_fields f;
	int rc;

	if (h2_trailer_fields(st->trailers.data + st->trailers.off, buf_pending(&st->trailers),
			      &f) != 0)
		return -1;
	rc = nghttp2_submit_trailer(st->s->ng, st->id, f.nv, f.n);
	h2_fields_dispose(&f);
	st->trailers.off = st->trailers.len;
	return rc == 0 ? 0 : -1;
}

/* DATA for ST's response: what the relay has written, the end once all of it is. */
static ssize_t data_read(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t length,
			 uint32_t *flags, nghttp2_data_source *src, void *user)
{
	struct h2_stream *st = src->ptr;
	size_t n = buf_pending(&st->out);

	(void)ng;
	(void)id;
	(void)user;
	if (n > length)
		n = length;
	if (n) {
		memcpy(buf, st->out.data + st->out.off, n);
		st->out.off += n;
		st->progress_us = time_now_us();
	}
	if (st->relay_blocked && buf_pending(&st->out) < STREAM_BUF_MAX) {
		st->relay_blocked = 0;
		st->wants_drive = 1;
		st->s->again = 1;
	}
	if (st->resp_ended && buf_pending(&st->out) == 0) {
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		if (buf_pending(&st->trailers) && trailers_submit(st) == 0)
			*flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
	} else if (n == 0)
		return NGHTTP2_ERR_DEFERRED;
	return (ssize_t)n;
}

/* A response head the relay wrote: interim ones go out as they are, the final one opens the
 * stream's DATA. -1 when it cannot be sent. */
static int head_submit(struct h2_stream *st, const struct http_head *h)
{
	nghttp2_data_provider prd = {.source.ptr = st, .read_callback = data_read};
	struct h2_fields f;
	int rc;

	if (h->status == 103 && !st->hints)
		return 0; /* Early Hints are off for this hostname (or the request is no GET) */
	if (h2_response_fields(h, &f) != 0)
		return -1;
	if (h->status < 200) {
		rc = nghttp2_submit_headers(st->s->ng, NGHTTP2_FLAG_NONE, st->id, NULL, f.nv, f.n,
					    NULL);
	} else {
		enum http_body_mode mode = HTTP_BODY_CLOSE;

		if (st->head_method || h->status == 204 || h->status == 304)
			mode = HTTP_BODY_NONE;
		else if (h->chunked)
			mode = HTTP_BODY_CHUNKED;
		else if (h->n_cl)
			mode = HTTP_BODY_LENGTH;
		if (st->hints)
			hint_cache_learn(st->s->conn->loop->hints, st->s->conn->sni, st->req.path,
					 st->req.path_len, h);
		http_body_start(&st->body, mode, h->content_length);
		http_body_decode(&st->body);
		st->close_delimited = mode == HTTP_BODY_CLOSE;
		st->resp_ended = st->body.done;
		st->submitted = 1;
		st->progress_us = time_now_us();
		rc = nghttp2_submit_response(st->s->ng, st->id, f.nv, f.n,
					     mode == HTTP_BODY_NONE ? NULL : &prd);
	}
	h2_fields_dispose(&f);
	return rc == 0 ? 0 : -1;
}

/* Body bytes of the final response: decoded into st->out. -1 malformed. */
static int body_in(struct h2_stream *st, const char *p, size_t n)
{
	while (n && !st->body.done) {
		char tmp[READ_CHUNK + HTTP_BODY_SLACK], trailers[READ_CHUNK + HTTP_BODY_SLACK];
		size_t take = n < READ_CHUNK ? n : READ_CHUNK, out_len = 0, trailers_len = 0;
		ssize_t used = http_body_step_trailers(&st->body, p, take, tmp, &out_len, trailers,
						       &trailers_len);

		if (used < 0 || buf_append(&st->out, tmp, out_len) != 0 ||
		    buf_append(&st->trailers, trailers, trailers_len) != 0)
			return -1;
		p += used;
		n -= (size_t)used;
		if ((size_t)used < take)
			break; /* the message ended: anything after it is dropped */
	}
	if (st->body.done)
		st->resp_ended = 1;
	nghttp2_session_resume_data(st->s->ng, st->id);
	mark_pending(st->s);
	return 0;
}

/* Takes response head bytes until the final head is complete and submitted: the bytes of the
 * input used (the rest is body), or -1 when the head cannot be read (the relay writes only
 * heads it checked, so this does not happen). */
static ssize_t head_in(struct h2_stream *st, const char *p, size_t n)
{
	size_t take = n;

	/* one buffer for the head's life: the scanner's fields point into it */
	if (!st->head_buf.data && !(st->head_buf.data = malloc(st->head_buf.cap = HEAD_BUF)))
		return -1;
	if (!st->head.fields && !(st->head.fields = malloc(st->head.max_fields *
							    sizeof(struct http_field))))
		return -1;
	if (take > st->head_buf.cap - st->head_buf.len)
		take = st->head_buf.cap - st->head_buf.len;
	memcpy(st->head_buf.data + st->head_buf.len, p, take);
	st->head_buf.len += take;
	for (;;) {
		int rc = http_head_scan(&st->head, st->head_buf.data, st->head_buf.len);
		size_t rest;

		if (rc == 0)
			return st->head_buf.len < st->head_buf.cap ? (ssize_t)take : -1;
		if (rc != 1 || head_submit(st, &st->head) != 0)
			return -1;
		mark_pending(st->s);
		rest = st->head_buf.len - st->head.head_len;
		if (st->submitted) { /* the final head: what followed it in the buffer is body */
			int bad = rest && body_in(st, st->head_buf.data + st->head.head_len, rest);

			free(st->head_buf.data);
			st->head_buf = (struct buf){0};
			return bad ? -1 : (ssize_t)take;
		}
		/* an interim response (1xx): the next head follows */
		memmove(st->head_buf.data, st->head_buf.data + st->head.head_len, rest);
		st->head_buf.len = rest;
		http_head_reset(&st->head, 1);
	}
}

/* 1 when P[0..N), written by the relay C, starts with the final response head C has scanned
 * (c->resp_head, whose fields point into c->out): the stream takes it as it is rather than
 * copying it and scanning it a second time. Interim heads are not kept by the relay. */
static int relay_final_head(const struct edge_conn *c, const char *p, size_t n)
{
	const struct http_head *r = &c->resp_head;

	return c->response_started && r->head_len && r->status >= 200 && p == c->out.data &&
	       n >= r->head_len;
}

ssize_t h2_stream_write(struct edge_conn *c, const char *p, size_t n)
{
	struct h2_stream *st = c->stream;
	size_t done = 0;

	if (!st)
		return -2; /* the client reset the stream */
	if (buf_pending(&st->out) >= STREAM_BUF_MAX) {
		st->relay_blocked = 1;
		return -1;
	}
	if (!st->submitted && !st->head_buf.len && relay_final_head(c, p, n)) {
		if (head_submit(st, &c->resp_head) != 0)
			return -2;
		mark_pending(st->s);
		done = c->resp_head.head_len;
	}
	while (done < n && !st->submitted) {
		ssize_t used = head_in(st, p + done, n - done);

		if (used < 0)
			return -2;
		done += (size_t)used;
	}
	if (done < n && body_in(st, p + done, n - done) != 0)
		return -2;
	return (ssize_t)n;
}

ssize_t h2_stream_read(struct edge_conn *c, char *p, size_t n)
{
	struct h2_stream *st = c->stream;
	size_t k;

	if (!st)
		return 0;
	k = buf_pending(&st->in);
	if (k == 0)
		return st->resp_ended && buf_pending(&st->out) == 0 ? 0 : -1;
	if (k > n)
		k = n;
	memcpy(p, st->in.data + st->in.off, k);
	st->in.off += k;
	/* the client may send more once the buffer has room again */
	if (st->unconsumed && buf_pending(&st->in) < STREAM_BUF_MAX) {
		nghttp2_session_consume(st->s->ng, st->id, st->unconsumed);
		st->unconsumed = 0;
		mark_pending(st->s);
	}
	return (ssize_t)k;
}

void h2_stream_detach(struct edge_conn *c)
{
	struct h2_stream *st = c->stream;

	if (!st)
		return;
	c->stream = NULL;
	st->relay = NULL;
	if (st->submitted && st->close_delimited)
		st->resp_ended = 1; /* the origin closed: that was the end of the body */
	if (st->resp_ended)
		nghttp2_session_resume_data(st->s->ng, st->id);
	else
		nghttp2_submit_rst_stream(st->s->ng, NGHTTP2_FLAG_NONE, st->id,
					  NGHTTP2_INTERNAL_ERROR);
	mark_pending(st->s);
}

/* ---- session callbacks ------------------------------------------------------------------- */

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *frame, void *user)
{
	struct h2_session *s = user;
	struct h2_stream *st;

	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	if (!(st = stream_new(s, frame->hd.stream_id)))
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	nghttp2_session_set_stream_user_data(ng, frame->hd.stream_id, st);
	return 0;
}

/* A trailer field of a request: kept for the last chunk when the body goes to the origin
 * chunked (a Content-Length body has nowhere to carry it); the framer on the way to the origin
 * filters them as it does an HTTP/1.1 client's (http_frame.h). Past the edge's head size the
 * stream is reset. */
static int trailer_field(struct h2_stream *st, const uint8_t *name, size_t namelen,
			 const uint8_t *value, size_t valuelen)
{
	size_t max = (size_t)st->s->conn->loop->edge->cfg->edge.max_header_bytes;

	if (!st->relay || !st->chunked)
		return 0;
	if (st->req_trailers.len + namelen + valuelen + 4 > max ||
	    buf_append(&st->req_trailers, (const char *)name, namelen) != 0 ||
	    buf_append(&st->req_trailers, ": ", 2) != 0 ||
	    buf_append(&st->req_trailers, (const char *)value, valuelen) != 0 ||
	    buf_append(&st->req_trailers, "\r\n", 2) != 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	return 0;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *frame, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
		     void *user)
{
	struct h2_stream *st = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);

	(void)flags;
	(void)user;
	if (!st || frame->hd.type != NGHTTP2_HEADERS || st->refused)
		return 0;
	if (frame->headers.cat == NGHTTP2_HCAT_HEADERS)
		return trailer_field(st, name, namelen, value, valuelen);
	if (frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	st->refused =
	    h2_request_field(&st->req, (const char *)name, namelen, (const char *)value, valuelen);
	return 0;
}

/* A request that is refused rather than relayed: its status, and no body. */
static void refuse(struct h2_stream *st, int status)
{
	log_debug("edge msg=\"h2 request refused\" hostname=%s status=%d", st->s->conn->sni,
		  status);
	char code[4] = {(char)('0' + status / 100), (char)('0' + status / 10 % 10),
			(char)('0' + status % 10), '\0'};
	nghttp2_nv nv[] = {
	    {(uint8_t *)":status", (uint8_t *)code, 7, 3, NGHTTP2_NV_FLAG_NONE},
	    {(uint8_t *)"server", (uint8_t *)"saasedge", 6, 8, NGHTTP2_NV_FLAG_NONE}};

	metrics_count_status(M_EDGE_REQUESTS, MP_HTTP2, status);
	if (status == 400) /* malformed (RFC 9113 8.1.1): a stream error */
		nghttp2_submit_rst_stream(st->s->ng, NGHTTP2_FLAG_NONE, st->id,
					  NGHTTP2_PROTOCOL_ERROR);
	else
		nghttp2_submit_response(st->s->ng, st->id, nv, 2, NULL);
}

/* A 103 with the links remembered for the request's page, before the origin is asked. */
static void early_hints_send(struct h2_stream *st)
{
	struct edge_conn *c = st->s->conn;
	const char *links =
	    hint_cache_lookup(c->loop->hints, c->sni, st->req.path, st->req.path_len);
	nghttp2_nv nv[] = {{(uint8_t *)":status", (uint8_t *)"103", 7, 3, NGHTTP2_NV_FLAG_NONE},
			   {(uint8_t *)"link", (uint8_t *)links, 4, links ? strlen(links) : 0,
			    NGHTTP2_NV_FLAG_NONE}};

	if (links)
		nghttp2_submit_headers(st->s->ng, NGHTTP2_FLAG_NONE, st->id, NULL, nv, 2, NULL);
}

static void request_headers_end(struct h2_stream *st, int end_stream)
{
	char *head = NULL;
	size_t len = 0;
	int rc = st->refused;

	if (rc == 0)
		rc = h2_request_head(&st->req, end_stream, &head, &len, &st->chunked);
	if (rc == 0 && !relay_new(st))
		rc = 500;
	if (rc == 0 && !st->in.data) /* the head becomes the stream's input, uncopied */
		st->in = (struct buf){.data = head, .len = len, .cap = len};
	else if (rc == 0 && buf_append(&st->in, head, len) != 0)
		rc = 500;
	if (st->in.data != head)
		free(head);
	if (rc) {
		refuse(st, rc);
		return;
	}
	st->head_method = strcmp(st->req.method, "HEAD") == 0;
	st->hints = strcmp(st->req.method, "GET") == 0 && st->s->conn->entry &&
		    st->s->conn->entry->early_hints;
	if (st->hints)
		early_hints_send(st);
	st->req_ended = end_stream;
	st->wants_drive = 1;
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *frame, void *user)
{
	struct h2_stream *st = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
	int end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;

	(void)user;
	if (!st)
		return 0;
	if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
		request_headers_end(st, end_stream);
		return 0;
	}
	if (end_stream && st->relay && !st->req_ended &&
	    (frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS)) {
		st->req_ended = 1;
		if (st->chunked &&
		    (buf_append(&st->in, "0\r\n", 3) != 0 ||
		     buf_append(&st->in, st->req_trailers.data, st->req_trailers.len) != 0 ||
		     buf_append(&st->in, "\r\n", 2) != 0))
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		st->wants_drive = 1;
	}
	return 0;
}

static int on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data,
			 size_t len, void *user)
{
	struct h2_stream *st = nghttp2_session_get_stream_user_data(ng, id);
	char size_line[24];

	(void)flags;
	(void)user;
	if (!st || !st->relay) { /* nobody reads it: give the window back at once */
		nghttp2_session_consume(ng, id, len);
		return 0;
	}
	if ((st->chunked && len &&
	     (buf_append(&st->in, size_line, h2_chunk_head(len, size_line)) != 0 ||
	      buf_append(&st->in, (const char *)data, len) != 0 ||
	      buf_append(&st->in, "\r\n", 2) != 0)) ||
	    (!st->chunked && buf_append(&st->in, (const char *)data, len) != 0))
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (buf_pending(&st->in) < STREAM_BUF_MAX)
		nghttp2_session_consume(ng, id, len);
	else
		st->unconsumed += len;
	st->wants_drive = 1;
	return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t error_code, void *user)
{
	struct h2_stream *st = nghttp2_session_get_stream_user_data(ng, id);

	(void)error_code;
	(void)user;
	if (!st)
		return 0;
	if (st->relay) { /* reset by the client, or ended before the relay was done */
		struct edge_conn *c = st->relay;

		c->stream = NULL;
		st->relay = NULL;
		conn_close(c);
	}
	stream_free(st);
	return 0;
}

static int on_error(nghttp2_session *ng, int lib_error_code, const char *msg, size_t len,
		    void *user)
{
	log_debug("edge msg=\"h2 error\" code=%d detail=\"%.*s\"", lib_error_code, (int)len, msg);
	return 0;
}

static int on_invalid_frame(nghttp2_session *ng, const nghttp2_frame *frame, int lib_error_code,
			    void *user)
{
	log_debug("edge msg=\"h2 invalid frame\" type=%d code=%d", frame->hd.type, lib_error_code);
	return 0;
}

/* ---- the session on the client connection ------------------------------------------------ */

int h2_chosen(struct edge_conn *c)
{
	const unsigned char *p = NULL;
	unsigned int n = 0;

	SSL_get0_alpn_selected(c->ssl, &p, &n);
	return n == 2 && memcmp(p, "h2", 2) == 0;
}

void h2_start(struct edge_conn *c)
{
	struct edge *e = c->loop->edge;
	nghttp2_session_callbacks *cb = NULL;
	nghttp2_option *opt = NULL;
	struct h2_session *s = calloc(1, sizeof(*s));
	nghttp2_settings_entry settings[] = {
	    {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, H2_MAX_STREAMS},
	    {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, (uint32_t)e->cfg->edge.max_header_bytes},
	};
	int rc = s ? 0 : -1;

	if (rc == 0)
		rc = nghttp2_session_callbacks_new(&cb);
	if (rc == 0)
		rc = nghttp2_option_new(&opt);
	if (rc == 0) {
		nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
		nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
		nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
		nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
		nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
		nghttp2_session_callbacks_set_error_callback2(cb, on_error);
		nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cb, on_invalid_frame);
		/* windows are given back as the relays read, not as frames arrive */
		nghttp2_option_set_no_auto_window_update(opt, 1);
		nghttp2_option_set_max_settings(opt, 32);
		rc = nghttp2_session_server_new2(&s->ng, cb, s, opt);
	}
	nghttp2_session_callbacks_del(cb);
	nghttp2_option_del(opt);
	if (rc == 0)
		rc = nghttp2_submit_settings(s->ng, NGHTTP2_FLAG_NONE, settings,
					     sizeof(settings) / sizeof(settings[0]));
	if (rc != 0) {
		if (s && s->ng)
			nghttp2_session_del(s->ng);
		free(s);
		conn_close(c);
		return;
	}
	s->conn = c;
	c->h2 = s;
	c->state = CS_H2;
	c->readable = 1; /* the preface may have come with the handshake's last flight */
	c->out.off = c->out.len = 0;
	h2_drive(c);
}

/* Sends what the session has for the client; what the socket does not take waits in c->out.
 * The frames nghttp2 has ready (a response's HEADERS and DATA, those of other streams) are
 * gathered into one write, up to SEND_GATHER bytes: a write is a syscall and a TLS record.
 * -1 when the connection failed. */
static int send_frames(struct edge_conn *c)
{
	struct h2_session *s = c->h2;

	for (;;) {
		int rc;

		while (c->out.len - c->out.off < SEND_GATHER) {
			const uint8_t *data = NULL;
			ssize_t n = nghttp2_session_mem_send(s->ng, &data);

			if (n < 0)
				return -1;
			if (n == 0)
				break;
			if (buf_append(&c->out, (const char *)data, (size_t)n) != 0)
				return -1;
		}
		if (c->out.off == c->out.len)
			return 0;
		rc = conn_buf_flush(c, &c->out, 0);
		if (rc < 0)
			return -1;
		if (c->out.off < c->out.len)
			return 0; /* the socket is full: an event resumes */
	}
}

/* Reads what the client sent into the session, when an event said there is something (or TLS
 * holds some): the session is also driven for its relays' sake, and a read that would end in
 * EAGAIN is a syscall for nothing. -1 when the connection ended or failed. */
static int recv_frames(struct edge_conn *c)
{
	char buf[READ_CHUNK];

	if (!c->readable && !SSL_has_pending(c->ssl))
		return 0;
	for (;;) {
		ssize_t n = conn_side_read(c, 0, buf, sizeof(buf));

		if (n == -1) {
			if (SSL_want_read(c->ssl)) /* TLS may want a write instead */
				c->readable = 0;
			return 0;
		}
		if (n <= 0)
			return -1;
		if (nghttp2_session_mem_recv(c->h2->ng, (const uint8_t *)buf, (size_t)n) < 0)
			return -1;
	}
}

/* The relays with something to do: new request bytes, or room for their response. */
static void drive_streams(struct h2_session *s)
{
	for (struct h2_stream *st = s->streams; st; st = st->next) {
		if (!st->wants_drive || !st->relay)
			continue;
		st->wants_drive = 0;
		s->again = 1;
		conn_drive(st->relay);
	}
}

static void set_deadline(struct edge_conn *c);

void h2_drive(struct edge_conn *c)
{
	struct h2_session *s = c->h2;
	int rounds = 0;

	if (s->driving) {
		s->again = 1;
		return;
	}
	s->driving = 1;
	if (recv_frames(c) != 0) {
		s->driving = 0;
		conn_close(c);
		return;
	}
	if (c->loop->draining && !s->goaway_sent) {
		s->goaway_sent = 1;
		nghttp2_submit_goaway(s->ng, NGHTTP2_FLAG_NONE,
				      nghttp2_session_get_last_proc_stream_id(s->ng),
				      NGHTTP2_NO_ERROR, NULL, 0);
	}
	do {
		s->again = 0;
		drive_streams(s);
		if (send_frames(c) != 0) {
			s->driving = 0;
			conn_close(c);
			return;
		}
	} while (s->again && ++rounds < 64);
	s->driving = 0;
	if (!nghttp2_session_want_read(s->ng) && !nghttp2_session_want_write(s->ng) &&
	    c->out.off == c->out.len) {
		conn_close(c);
		return;
	}
	set_deadline(c);
}

/* When the sweep looks at C next: after edge.idle_timeout without a stream, or when the first
 * stream whose response waits on the client's window has waited edge.read_timeout. Streams
 * waiting on their origin are their relays' business (504). */
static void set_deadline(struct edge_conn *c)
{
	int64_t idle_us = c->loop->edge->cfg->edge.idle_timeout * 1000000;
	int64_t stall_us = c->loop->edge->cfg->edge.read_timeout * 1000000;
	int64_t at = time_now_us() + idle_us;

	for (struct h2_stream *st = c->h2->streams; st; st = st->next) {
		if (buf_pending(&st->out) && st->progress_us + stall_us < at)
			at = st->progress_us + stall_us;
	}
	c->deadline_us = at;
}

void h2_timeout(struct edge_conn *c, int64_t now_us)
{
	struct h2_session *s = c->h2;
	int64_t stall_us = c->loop->edge->cfg->edge.read_timeout * 1000000;

	if (!s->streams) { /* idle: a clean goodbye */
		nghttp2_session_terminate_session(s->ng, NGHTTP2_NO_ERROR);
		send_frames(c);
		conn_close(c);
		return;
	}
	/* a client that opens no window (or reads nothing) does not hold a response for ever */
	for (struct h2_stream *st = s->streams; st; st = st->next) {
		if (buf_pending(&st->out) && now_us - st->progress_us >= stall_us)
			nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, st->id,
						  NGHTTP2_FLOW_CONTROL_ERROR);
	}
	h2_drive(c);
}

void h2_drain(struct edge_conn *c)
{
	mark_pending(c->h2);
}

void h2_close(struct edge_conn *c)
{
	struct h2_session *s = c->h2;

	if (!s)
		return;
	for (struct h2_stream *st = s->streams; st; st = st->next) {
		if (st->relay) {
			struct edge_conn *r = st->relay;

			r->stream = NULL;
			st->relay = NULL;
			conn_close(r);
		}
	}
}

void h2_free(struct edge_conn *c)
{
	struct h2_session *s = c->h2;

	if (!s)
		return;
	if (s->pending) { /* closed while on the loop's list */
		struct h2_session **pp = &c->loop->h2_pending;

		while (*pp != s)
			pp = &(*pp)->pending_next;
		*pp = s->pending_next;
	}
	while (s->streams)
		stream_free(s->streams);
	nghttp2_session_del(s->ng);
	free(s);
	c->h2 = NULL;
}

void edge_h2_flush(struct edge_loop *l)
{
	/* a session driven here may put itself on the list again: a few rounds, the rest waits
	 * for the next iteration */
	for (int round = 0; l->h2_pending && round < 4; round++) {
		struct h2_session *s = l->h2_pending;

		l->h2_pending = NULL;
		while (s) {
			struct h2_session *next = s->pending_next;

			s->pending = 0;
			s->pending_next = NULL;
			if (!s->conn->closed)
				h2_drive(s->conn);
			s = next;
		}
	}
}

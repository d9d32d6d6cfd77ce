/* Private to the connection files of src/edge (conn.c, http_req.c, proxy.c, tunnel.c,
 * http_plain.c, sni.c):
 * one client connection and, while proxying, its origin connection. Only its loop's thread
 * touches it; lookup jobs keep it alive (jobs > 0) until they are back. */
#ifndef SAASEDGE_EDGE_CONN_INT_H
#define SAASEDGE_EDGE_CONN_INT_H

#include "edge/edge_int.h"
#include "edge/http_frame.h"

enum conn_state {
	CS_HANDSHAKE,    /* TLS handshake (may wait for a certificate lookup) */
	CS_READ_HEAD,    /* reading the request head */
	CS_WAIT_JOB,     /* a lookup job is out (Host, challenge, origin address) */
	CS_CONNECTING,   /* non-blocking connect to the origin */
	CS_UP_HANDSHAKE, /* TLS to the origin */
	CS_PROXY,        /* relaying both ways */
	CS_TUNNEL,       /* after a 101 (WebSocket...): bytes both ways, no more HTTP */
	CS_FLUSH_CLOSE,  /* writing a local response, then closing */
	CS_H2,           /* an HTTP/2 session: its streams are relayed by connections of their own */
};

struct h2_session;
struct h2_stream;

enum { ACME_ALPN_NONE, ACME_ALPN_WANTED, ACME_ALPN_READY };

struct buf {
	char *data;
	size_t len, off, cap; /* unsent bytes are data[off..len) */
};

/* buf_stash.c: buffers of a loop's exchanges, kept for the next ones. take: CAP bytes (from the
 * stash when it keeps that size), or NULL out of memory; give: B's data kept or freed, and B
 * emptied. */
void buf_stash_init(struct edge_loop *l);
char *buf_stash_take(struct edge_loop *l, size_t cap);
void buf_stash_give(struct edge_loop *l, struct buf *b);
void buf_stash_dispose(struct edge_loop *l);

struct edge_conn {
	struct edge_io io; /* the client socket */
	struct edge_io up; /* the origin socket (fd -1 when none) */
	struct edge_loop *loop;
	struct edge_conn *prev, *next; /* the loop's list */
	struct edge_conn *dead_next;
	int tls; /* accepted on the HTTPS listener */
	int closed;
	int jobs; /* lookup jobs out: freeing waits for them */
	enum conn_state state;
	SSL *ssl;
	SSL *up_ssl;
	struct edge_entry *entry; /* the name served (SNI, or Host on the HTTP listener) */
	struct edge_entry *looked_up; /* the SNI lookup's answer, for the ClientHello callback */
	enum entry_need sni_need;     /* what the callback asked the lookup to decode */
	int cert_tries;
	/* for the handshake metric: the certificate served (metric_cert_kind), and whether the
	 * ClientHello callback refused the name */
	int cert_kind;
	int name_refused;
	int acme_alpn;   /* ACME_ALPN_*: a CA's tls-alpn-01 validation, not a visitor */
	X509 *alpn_cert; /* its challenge certificate and key (owned), NULL when none */
	EVP_PKEY *alpn_key;
	char sni[256]; /* set by the ClientHello callback; "" without SNI */
	char peer_ip[64];
	unsigned local_port; /* conn_local_port's answer, 0 until asked */
	int64_t deadline_us;
	int64_t origin_start_us; /* the request was routed to its origin (for the latency metric) */
	int response_started; /* a byte of the origin's response went to the client */
	int kept_alive;       /* a response was sent: the connection waits for another request */
	int client_eof, up_eof;
	/* an event said the origin socket has bytes since a read last found it empty (see
	 * conn_side_read); up_hup: an event said the origin closed its side or failed */
	int up_readable, up_hup;
	struct origin_link *up_link; /* the pool's link the origin socket was lent through */
	int readable;    /* the same for the client socket (HTTP/2 reads only then) */
	struct buf in;          /* request head, then client → origin bytes */
	struct buf out;         /* origin → client bytes, or a local response */
	struct http_head *head; /* parsed head (heap: large) */
	char up_host[256];      /* the origin's host (SNI, resolution) */
	unsigned up_port;
	int up_tls;
	char pool_key[600]; /* the origin connection's key in the loop's keep-alive pool */
	struct http_body req_body;  /* framing of the request being relayed */
	struct http_head resp_head; /* its response's head, in c->out (fields kept for a stream's
				     * relay only: h2_conn.c allocates them with it) */
	struct http_body resp_body; /* and body */
	int resp_in_body;           /* the response's head was read: its body comes */
	size_t resp_held_off;       /* origin bytes read but not handled yet (a head's part, what */
	size_t resp_held;           /* followed an interim response): c->out.data[off..off+held) */
	int req_done, resp_done;
	int upgrade; /* the request asks for a protocol switch (Connection: upgrade + Upgrade) */
	int up_extra; /* the origin sent bytes past its response's end: not reusable */
	char *carry; /* bytes after the request's end: the next request's start */
	size_t carry_len;
	struct buf replay; /* the request, while a pooled origin connection has not answered */
	int replay_held;   /* replay holds the whole request so far: it can be sent again */
	/* The other of c->in's two buffers, kept for the connection's life so that a kept-alive
	 * connection allocates nothing per request: the head buffer (max_header_bytes + 1) while
	 * relaying, the relay buffer while reading a head. */
	struct buf spare;
	/* HTTP/2 (h2_conn.c): the session of a client connection that chose h2, or, on one of
	 * the connections relaying its streams, that stream (no socket of its own: it reads the
	 * request and writes the response through the stream, as HTTP/1.1 bytes). */
	struct h2_session *h2;
	struct h2_stream *stream;
	int is_stream;
};

/* conn.c */
void conn_close(struct edge_conn *c);
void conn_drive(struct edge_conn *c);
/* Counts a request answered with STATUS (by the origin or by the edge) in the metrics. */
void conn_count_request(const struct edge_conn *c, int status);
/* Replaces whatever is buffered for the client with a complete local response and closes
 * after writing it. BODY is text/html unless TYPE says otherwise; LOCATION may be NULL. */
void conn_respond(struct edge_conn *c, int status, const char *reason, const char *type,
		  const char *body, const char *location);
/* The port the client connected to (0 if unknown). */
unsigned conn_local_port(struct edge_conn *c);
/* Sends JOB (heap, filled by the caller) to the lookup threads on behalf of C. */
void conn_submit(struct edge_conn *c, struct lookup_job *job);
/* Read/write on the client or origin side: > 0 bytes, 0 EOF, -1 would block, -2 error. */
ssize_t conn_side_read(struct edge_conn *c, int up, char *p, size_t n);
ssize_t conn_side_write(struct edge_conn *c, int up, const char *p, size_t n);
/* Writes B's unsent bytes to the origin (UP) or the client, emptying B once all are out:
 * 1 progress, 0 none (would block), -1 the write failed. */
int conn_buf_flush(struct edge_conn *c, struct buf *b, int up);

/* Reads (more of) the next request head; called again after a response on a kept-alive
 * connection. */
void conn_read_head(struct edge_conn *c);

/* http_req.c: reads (more of) the head in c->in with the strict scanner and checks its Host
 * (c->head->host: lower case, without port; "" for HTTP/1.0 without one). 1 complete, 0 need
 * more, or an HTTP status to answer (400, 431, 501). c->head is allocated on first use and
 * owned by the connection; http_head_reset(c->head, 0) before a new request's head. */
int http_head_parse(struct edge_conn *c);

/* proxy.c */
void proxy_start(struct edge_conn *c);
void proxy_job_done(struct edge_conn *c, struct lookup_job *job);
void proxy_drive(struct edge_conn *c);
void proxy_timeout(struct edge_conn *c);

/* tunnel.c */
/* 1 when the head asks for an upgrade: an Upgrade field and "upgrade" in Connection. */
int tunnel_wanted(const struct http_head *h);
/* The origin answered 101 (its head and any bytes after it are in c->out): from now on C relays
 * bytes both ways until a side closes or edge.idle_timeout passes. */
void tunnel_start(struct edge_conn *c);
void tunnel_drive(struct edge_conn *c);

/* http_plain.c */
void plain_start(struct edge_conn *c);
void plain_job_done(struct edge_conn *c, struct lookup_job *job);

/* h2_conn.c: HTTP/2 to clients. */
/* 1 when the handshake of C chose h2 by ALPN. */
int h2_chosen(struct edge_conn *c);
/* C, its handshake done with h2 chosen, runs an HTTP/2 session from now on (CS_H2). */
void h2_start(struct edge_conn *c);
void h2_drive(struct edge_conn *c);
/* The sweep found C's deadline passed: an idle session ends (GOAWAY), and streams whose
 * response has waited edge.read_timeout on the client's window are reset. */
void h2_timeout(struct edge_conn *c, int64_t now_us);
/* The loop is draining: C's session sends GOAWAY (its last stream id: what the client sent
 * after it is refused and may be retried elsewhere) at its next turn, then ends once its open
 * streams are done. Closes no connection itself: the caller walks the loop's list. */
void h2_drain(struct edge_conn *c);
/* C is closing: the connections relaying its streams close too. */
void h2_close(struct edge_conn *c);
/* Frees C's session (C is being freed). */
void h2_free(struct edge_conn *c);
/* The client side of a stream's connection S: the request's HTTP/1.1 bytes, and the response's,
 * as conn_side_read and conn_side_write answer for a socket. */
ssize_t h2_stream_read(struct edge_conn *s, char *p, size_t n);
ssize_t h2_stream_write(struct edge_conn *s, const char *p, size_t n);
/* S is closing: its stream ends (reset, unless its response was complete). */
void h2_stream_detach(struct edge_conn *s);

/* acme_alpn.c: tls-alpn-01. */
/* 1 when the ClientHello's ALPN list is exactly "acme-tls/1". */
int acme_alpn_offered(SSL *ssl);
/* The ClientHello callback for such a client once its SNI is in c->sni (sni.c serves a client
 * without SNI as any other): RETRY until the lookup is back (C->acme_alpn tells conn.c to submit
 * a LOOKUP_ALPN job), then the challenge certificate, or an alert when no challenge is pending
 * for the SNI. */
int acme_alpn_client_hello(SSL *ssl, struct edge_conn *c, int *al);
/* The ALPN answer for such a client: acme-tls/1. */
int acme_alpn_select(const unsigned char **out, unsigned char *outlen, const unsigned char *in,
		     unsigned int inlen);
/* Lookup thread: the stored key authorization for JOB->name, a fresh P-256 key and the RFC 8737
 * certificate into JOB (rc SE_ENOTFOUND when no challenge is pending). */
void acme_alpn_lookup(struct edge *e, struct lookup_job *job);
/* Loop thread: C takes the certificate and key of its finished JOB. */
void acme_alpn_job_done(struct edge_conn *c, struct lookup_job *job);
/* Frees what JOB still owns. */
void acme_alpn_job_dispose(struct lookup_job *job);

#endif

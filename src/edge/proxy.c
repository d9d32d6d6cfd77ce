/* The reverse proxy: routes a request by its Host (which must be the SNI name) to the
 * hostname's custom origin or its zone's fallback origin, resolves the origin's name on a lookup
 * thread, connects without blocking (TLS when the origin says https://), forwards a head it
 * writes itself (hop-by-hop fields dropped, X-Forwarded-For/-Proto set, its own framing field)
 * and then relays bodies both ways under strict framing (http_frame.h): a Content-Length body
 * passes through as read, a chunked one is decoded and chunked again, and the origin's response
 * head is checked as strictly as a request's (502 when it is malformed). Framing says where each
 * message ends, so that the client connection and the origin connection can both be kept
 * alive: the origin connection goes back to the loop's pool after a complete, clean exchange.
 * An idempotent request that meets a pooled connection the origin had closed is resent once on a
 * fresh one; a 101 to an upgrade request hands the connection to tunnel.c. */
#include "edge/conn_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/hostname.h"
#include "lib/log.h"
#include "lib/origin.h"
#include "lib/timeutil.h"
#include "metrics/metrics.h"

#define REPLAY_MAX (64 * 1024) /* largest request kept to resend after a stale pooled connection */
#define REPLAY_KEEP 4096       /* a replay buffer up to this size stays for the next request */

/* S with &, <, >, " and ' as HTML entities (and any control byte as '?') into OUT (cut short
 * to fit): nothing an error page quotes can become markup. */
static const char *html_escape(const char *s, char *out, size_t len)
{
	size_t o = 0;

	for (; *s && o + 7 < len; s++) {
		const char *ent = NULL;

		switch (*s) {
		case '&': ent = "&amp;"; break;
		case '<': ent = "&lt;"; break;
		case '>': ent = "&gt;"; break;
		case '"': ent = "&quot;"; break;
		case '\'': ent = "&#39;"; break;
		default: break;
		}
		if (ent) {
			memcpy(out + o, ent, strlen(ent));
			o += strlen(ent);
		} else {
			out[o++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
		}
	}
	out[o] = '\0';
	return out;
}

static void bad_gateway(struct edge_conn *c, const char *why)
{
	char body[1024], name[256 * 6 / 2], what[512];

	log_info("edge msg=\"origin failed\" hostname=%s origin=%s:%u detail=\"%s\"", c->sni,
		 c->up_host, c->up_port, why);
	snprintf(body, sizeof(body),
		 "<h1>502 Bad Gateway</h1>\n<p>The origin of %s could not be reached: %s.</p>\n",
		 html_escape(c->sni, name, sizeof(name)), html_escape(why, what, sizeof(what)));
	conn_respond(c, 502, "Bad Gateway", NULL, body, NULL);
}

static void gateway_timeout(struct edge_conn *c)
{
	char body[1024], name[256 * 6 / 2];

	log_info("edge msg=\"origin timed out\" hostname=%s origin=%s:%u", c->sni, c->up_host,
		 c->up_port);
	snprintf(body, sizeof(body),
		 "<h1>504 Gateway Timeout</h1>\n<p>The origin of %s did not answer in time.</p>\n",
		 html_escape(c->sni, name, sizeof(name)));
	conn_respond(c, 504, "Gateway Timeout", NULL, body, NULL);
}

static void on_up_event(struct edge_io *io, uint32_t events)
{
	struct edge_conn *c = (struct edge_conn *)((char *)io - offsetof(struct edge_conn, up));

	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->up_readable = 1;
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->up_hup = 1;
	if (!c->closed)
		conn_drive(c);
}

/* Keeps DATA[0..N) for the next request on this connection. */
static int keep_carry(struct edge_conn *c, const char *data, size_t n)
{
	free(c->carry);
	c->carry = NULL;
	c->carry_len = 0;
	if (!n)
		return 0;
	c->carry = malloc(n);
	if (!c->carry)
		return SE_ENOMEM;
	memcpy(c->carry, data, n);
	c->carry_len = n;
	return 0;
}

/* Appends to B, growing it. */
static int buf_add(struct buf *b, const char *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = (b->len + n) * 2;
		char *d = realloc(b->data, cap);

		if (!d)
			return SE_ENOMEM;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static int buf_str(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

/* 1 for a field the edge does not forward as received: hop-by-hop fields (the standard ones
 * and those the client's Connection names), and those it writes itself (framing, Host,
 * X-Forwarded-*). An upgrade request keeps its Upgrade field. */
static int field_dropped(const struct edge_conn *c, size_t i)
{
	const struct http_head *h = c->head;

	switch (h->fields[i].id) {
	case HTTP_FIELD_UPGRADE:
		return !c->upgrade;
	case HTTP_FIELD_CONNECTION:
	case HTTP_FIELD_KEEP_ALIVE:
	case HTTP_FIELD_PROXY_CONNECTION:
	case HTTP_FIELD_TE:
	case HTTP_FIELD_TRANSFER_ENCODING:
	case HTTP_FIELD_CONTENT_LENGTH:
	case HTTP_FIELD_HOST:
	case HTTP_FIELD_X_FORWARDED_FOR:
	case HTTP_FIELD_X_FORWARDED_PROTO:
		return 1;
	default:
		return h->conn_names_fields &&
		       http_connection_names(h, h->fields[i].name, h->fields[i].name_len);
	}
}

/* The head sent upstream, in origin-form over HTTP/1.1: the client's end-to-end fields as
 * received (values without their OWS), then Host (the client's, an absolute-form target's
 * authority, or the SNI for HTTP/1.0 without one), the body's framing as the edge sends it,
 * X-Forwarded-For (edge.x_forwarded_for: appended to the client's or replacing it) and
 * X-Forwarded-Proto. */
static int build_up_head(struct edge_conn *c, struct buf *b)
{
	const struct http_head *h = c->head;
	int overwrite = strcmp(c->loop->edge->cfg->edge.x_forwarded_for, "overwrite") == 0;
	char line[64];
	int rc;

	rc = buf_str(b, h->method);
	rc = rc ? rc : buf_add(b, " ", 1);
	rc = rc ? rc : buf_add(b, h->url, h->url_len);
	rc = rc ? rc : buf_str(b, " HTTP/1.1\r\n");
	for (size_t i = 0; rc == 0 && i < h->n_fields; i++) {
		if (field_dropped(c, i))
			continue;
		rc = buf_add(b, h->fields[i].name, h->fields[i].name_len);
		rc = rc ? rc : buf_add(b, ": ", 2);
		rc = rc ? rc : buf_add(b, h->fields[i].value, h->fields[i].value_len);
		rc = rc ? rc : buf_add(b, "\r\n", 2);
	}
	rc = rc ? rc : buf_str(b, "Host: ");
	if (h->authority)
		rc = rc ? rc : buf_add(b, h->authority, h->authority_len);
	else if (h->n_host)
		rc = rc ? rc : buf_add(b, h->host_value, h->host_value_len);
	else
		rc = rc ? rc : buf_str(b, c->sni); /* checked as a hostname by proxy_start */
	rc = rc ? rc : buf_add(b, "\r\n", 2);
	if (h->chunked) {
		rc = rc ? rc : buf_str(b, "Transfer-Encoding: chunked\r\n");
	} else if (h->n_cl) {
		snprintf(line, sizeof(line), "Content-Length: %llu\r\n",
			 (unsigned long long)h->content_length);
		rc = rc ? rc : buf_str(b, line);
	}
	rc = rc ? rc : buf_str(b, "X-Forwarded-For: ");
	for (size_t i = 0; rc == 0 && !overwrite && i < h->n_fields; i++) {
		if (h->fields[i].id != HTTP_FIELD_X_FORWARDED_FOR || !h->fields[i].value_len)
			continue;
		rc = buf_add(b, h->fields[i].value, h->fields[i].value_len);
		rc = rc ? rc : buf_add(b, ", ", 2);
	}
	rc = rc ? rc : buf_str(b, c->peer_ip);
	rc = rc ? rc : buf_str(b, "\r\nX-Forwarded-Proto: https\r\n");
	if (rc == 0 && c->upgrade)
		rc = buf_str(b, "Connection: upgrade\r\n");
	rc = rc ? rc : buf_add(b, "\r\n", 2);
	return rc;
}

/* Makes B hold at least CAP bytes. */
static int buf_reserve(struct buf *b, size_t cap)
{
	char *d;

	if (b->cap >= cap)
		return 0;
	d = realloc(b->data, cap);
	if (!d)
		return SE_ENOMEM;
	b->data = d;
	b->cap = cap;
	return 0;
}

/* c->in becomes the client → origin buffer: the rewritten head, then the framing of the body
 * bytes read so far that belong to this request (the rest is kept for the next one). It is
 * built in c->spare, and the two buffers swap. SE_EINVAL when the body's framing is malformed. */
static int prepare_upstream(struct edge_conn *c)
{
	const struct http_head *h = c->head;
	struct buf b;
	const char *body = c->in.data + h->head_len;
	size_t body_len = c->in.len - h->head_len, out_len = 0;
	ssize_t used = 0;
	int rc;

	http_body_start(&c->req_body, h->chunked ? HTTP_BODY_CHUNKED : HTTP_BODY_LENGTH,
			h->chunked ? 0 : h->content_length);
	http_head_reset(&c->resp_head, 1);
	c->resp_in_body = 0;
	c->resp_held = c->resp_held_off = 0;
	c->req_done = c->resp_done = c->up_extra = 0;
	c->upgrade = tunnel_wanted(h);
	b = c->spare;
	b.len = b.off = 0;
	c->spare = (struct buf){0}; /* b owns it until the swap */
	if (!b.data && (b.data = buf_stash_take(c->loop, RELAY_BUF)))
		b.cap = RELAY_BUF; /* first: the head then fits without growing it */
	rc = buf_reserve(&b, RELAY_BUF);
	rc = rc ? rc : build_up_head(c, &b);
	rc = rc ? rc : buf_reserve(&b, b.len + body_len + HTTP_BODY_SLACK);
	if (rc == 0) {
		used = http_body_step(&c->req_body, body, body_len, b.data + b.len, &out_len);
		rc = used < 0 ? SE_EINVAL : 0;
	}
	if (rc == 0) {
		b.len += out_len;
		c->req_done = c->req_body.done;
		rc = keep_carry(c, body + used, body_len - (size_t)used);
	}
	if (rc == 0 && !c->out.data) {
		c->out.data = buf_stash_take(c->loop, RELAY_BUF);
		c->out.cap = RELAY_BUF;
		rc = c->out.data ? 0 : SE_ENOMEM;
	}
	if (rc) {
		buf_stash_give(c->loop, &b);
		return rc;
	}
	c->spare = c->in;
	c->in = b;
	return 0;
}

static void connect_to(struct edge_conn *c, const struct sockaddr *sa, socklen_t len)
{
	const struct config *cfg = c->loop->edge->cfg;
	int fd;

	/* On the address actually dialled, whether it came from DNS (rebinding) or a literal. */
	if (!netpolicy_allows(&cfg->edge.origin_allow, sa, 1)) {
		bad_gateway(c, "the origin's address is not allowed");
		return;
	}
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		bad_gateway(c, "no socket");
		return;
	}
	c->up.fd = fd;
	c->up.on_event = on_up_event;
	c->up_readable = c->up_hup = 0; /* registering reports the socket's state */
	if (connect(fd, sa, len) != 0 && errno != EINPROGRESS) {
		bad_gateway(c, strerror(errno));
		return;
	}
	c->state = CS_CONNECTING;
	c->deadline_us = time_now_us() + cfg->edge.connect_timeout * 1000000;
	if (edge_loop_add(c->loop, &c->up, ORIGIN_SOCKET_EVENTS) != 0)
		bad_gateway(c, "cannot watch the origin socket");
}

/* A fresh connection: an IP literal connects at once; a name goes to a lookup thread. */
static void route_fresh(struct edge_conn *c)
{
	struct sockaddr_in in4 = {.sin_family = AF_INET};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
	struct lookup_job *job;

	in4.sin_port = htons((unsigned short)c->up_port);
	in6.sin6_port = in4.sin_port;
	if (inet_pton(AF_INET, c->up_host, &in4.sin_addr) == 1) {
		connect_to(c, (struct sockaddr *)&in4, sizeof(in4));
		return;
	}
	if (inet_pton(AF_INET6, c->up_host, &in6.sin6_addr) == 1) {
		connect_to(c, (struct sockaddr *)&in6, sizeof(in6));
		return;
	}
	job = calloc(1, sizeof(*job));
	if (!job) {
		bad_gateway(c, "out of memory");
		return;
	}
	job->kind = LOOKUP_RESOLVE;
	snprintf(job->name, sizeof(job->name), "%s", c->up_host);
	job->port = c->up_port;
	c->state = CS_WAIT_JOB;
	conn_submit(c, job);
}

/* 1 for the methods RFC 9110 (9.2.2) calls idempotent: the only ones a proxy may send again
 * without knowing whether the origin applied the first attempt. */
static int method_idempotent(const char *m)
{
	static const char *const idempotent[] = {"GET", "HEAD", "OPTIONS", "TRACE", "PUT",
						 "DELETE"};

	for (size_t i = 0; i < sizeof(idempotent) / sizeof(idempotent[0]); i++)
		if (strcmp(m, idempotent[i]) == 0)
			return 1;
	return 0;
}

/* Nothing to resend any more. A buffer grown for a body is given back; a head-sized one is
 * kept for the connection's next request. */
static void replay_drop(struct edge_conn *c)
{
	c->replay_held = 0;
	if (c->replay.cap > REPLAY_KEEP) {
		free(c->replay.data);
		c->replay = (struct buf){0};
	}
}

/* A copy of the request, when RESENDABLE (idempotent), to send again on a fresh connection if
 * a pooled one turns out closed: what c->in holds now (the head and what came with it), and
 * the body bytes read later (replay_body) while the whole stays under REPLAY_MAX. A larger body
 * is streamed without a copy and cannot be replayed. The copy's buffer stays with the
 * connection, so a kept-alive connection does not allocate one per request. */
static void keep_replay(struct edge_conn *c, int resendable)
{
	c->replay.len = c->replay.off = 0;
	c->replay_held = resendable && buf_add(&c->replay, c->in.data, c->in.len) == 0;
}

/* Adds N body bytes just read to the replay copy, or drops the copy when it grows too large. */
static void replay_body(struct edge_conn *c, const char *p, size_t n)
{
	if (c->replay_held && (c->replay.len + n > REPLAY_MAX || buf_add(&c->replay, p, n) != 0))
		replay_drop(c);
}

/* The SNI sent to a TLS origin: custom_origin_sni, where ":request_host_header:" means the
 * request's Host (checked by http_req.c and equal to the client's SNI), else the origin's
 * host. */
static const char *origin_sni(const struct edge_conn *c)
{
	const char *sni = c->entry->origin_sni;

	if (strcmp(sni, ":request_host_header:") == 0)
		return c->head->host[0] ? c->head->host : c->sni;
	return sni[0] ? sni : c->up_host;
}

/* An idle pooled connection when there is one, else a fresh one. */
static void route(struct edge_conn *c)
{
	const char *sni = origin_sni(c);
	int resendable = method_idempotent(c->head->method);
	SSL *ssl = NULL;
	int fd = -1;

	origin_pool_key(c->up_host, c->up_port, c->up_tls, c->up_tls ? sni : "", c->pool_key,
			sizeof(c->pool_key));
	/* An idempotent request is resent if the connection turns out closed (retry_fresh), so
	 * only the others pay for a look at the socket before it is used. */
	if (!origin_pool_take(c->loop, c->pool_key, !resendable, &c->up, &fd, &ssl, &c->up_link)) {
		route_fresh(c);
		return;
	}
	c->up.fd = fd;
	c->up.on_event = on_up_event;
	/* Quiet when pooled, and the pool drops it at the first event that says otherwise (one
	 * still in this iteration's batch comes here). */
	c->up_readable = c->up_hup = 0;
	c->up_ssl = ssl;
	c->state = CS_PROXY;
	c->deadline_us = time_now_us() + c->loop->edge->cfg->edge.read_timeout * 1000000;
	keep_replay(c, resendable);
	proxy_drive(c);
}

/* The pooled connection failed before answering (the origin had closed it): the request goes
 * again on a fresh connection (the rest of a body still to come follows as usual). */
static void retry_fresh(struct edge_conn *c)
{
	edge_loop_del(c->loop, &c->up);
	origin_pool_forget(c->loop, c->up_link);
	c->up_link = NULL;
	SSL_free(c->up_ssl);
	c->up_ssl = NULL;
	close(c->up.fd);
	c->up.fd = -1;
	if (c->replay.len <= c->in.cap) { /* keeps the relay buffer's size for what follows */
		memcpy(c->in.data, c->replay.data, c->replay.len);
		c->in.len = c->replay.len;
		c->in.off = 0;
	} else {
		struct buf relay = c->in;

		c->in = c->replay;
		c->replay = relay;
	}
	replay_drop(c);
	c->up_eof = c->resp_done = c->up_extra = 0;
	http_head_reset(&c->resp_head, 1);
	c->resp_in_body = 0;
	c->resp_held = c->resp_held_off = 0;
	route_fresh(c);
}

void proxy_start(struct edge_conn *c)
{
	const struct edge_entry *e = c->entry;
	const struct origin *o;
	char sni[HOSTNAME_MAX + 1];

	if (strcmp(c->head->method, "CONNECT") == 0) { /* a tunnel through the edge: never */
		conn_respond(c, 405, "Method Not Allowed", NULL,
			     "<h1>405 Method Not Allowed</h1>\n", NULL);
		return;
	}
	/* HTTP/1.0 without Host is sent the SNI as Host: only a hostname may go there */
	if (!c->head->host[0] && (hostname_normalize_origin(c->sni, sni, NULL, 0) != HOSTNAME_OK ||
				  strcmp(sni, c->sni) != 0)) {
		conn_respond(c, 400, "Bad Request", NULL, "<h1>400 Bad Request</h1>\n", NULL);
		return;
	}
	if (c->head->host[0] && strcmp(c->head->host, c->sni) != 0) {
		conn_respond(c, 421, "Misdirected Request", NULL,
			     "<h1>421 Misdirected Request</h1>\n<p>The Host header does not match "
			     "the TLS server name.</p>\n",
			     NULL);
		return;
	}
	if (!e || !e->origin[0]) {
		bad_gateway(c, "no origin is configured for this hostname");
		return;
	}
	if (!e->origin_ok) {
		bad_gateway(c, "the configured origin is invalid");
		return;
	}
	o = &e->origin_parsed;
	memcpy(c->up_host, o->host, strlen(o->host) + 1); /* both HOSTNAME_MAX + 1 bytes */
	c->up_port = o->port ? o->port : conn_local_port(c);
	c->up_tls = o->tls;
	if (prepare_upstream(c) != 0) { /* a malformed body, or no memory */
		conn_respond(c, 400, "Bad Request", NULL, "<h1>400 Bad Request</h1>\n", NULL);
		return;
	}
	c->origin_start_us = metrics_on() ? time_now_us() : 0;
	route(c);
}

void proxy_job_done(struct edge_conn *c, struct lookup_job *job)
{
	if (job->kind != LOOKUP_RESOLVE || c->state != CS_WAIT_JOB)
		return;
	if (job->rc)
		bad_gateway(c, "the origin's name does not resolve");
	else
		connect_to(c, (struct sockaddr *)&job->addr, job->addr_len);
}

/* TLS to the origin with SNI (not for an IP address); under edge.origin_tls_verify its
 * certificate must name the same: the custom_origin_sni, else the origin's host. */
static int up_tls_start(struct edge_conn *c)
{
	const char *sni = origin_sni(c);
	struct in6_addr tmp;
	int ip = inet_pton(AF_INET, sni, &tmp) == 1 || inet_pton(AF_INET6, sni, &tmp) == 1;
	X509_VERIFY_PARAM *param;
	int ok = 1;

	c->up_ssl = SSL_new(c->loop->edge->origin_ctx);
	if (!c->up_ssl)
		return SE_ENOMEM;
	SSL_set_fd(c->up_ssl, c->up.fd);
	SSL_set_connect_state(c->up_ssl);
	if (!ip)
		SSL_set_tlsext_host_name(c->up_ssl, sni);
	if (SSL_get_verify_mode(c->up_ssl) & SSL_VERIFY_PEER) {
		param = SSL_get0_param(c->up_ssl);
		ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, sni)
			: X509_VERIFY_PARAM_set1_host(param, sni, 0);
	}
	ERR_clear_error();
	return ok == 1 ? 0 : SE_ENOMEM;
}

static void connecting(struct edge_conn *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int err = 0;
	socklen_t elen = sizeof(err);

	getsockopt(c->up.fd, SOL_SOCKET, SO_ERROR, &err, &elen);
	if (err) {
		bad_gateway(c, strerror(err));
		return;
	}
	if (getpeername(c->up.fd, (struct sockaddr *)&ss, &len) != 0)
		return; /* still connecting */
	c->deadline_us = time_now_us() + c->loop->edge->cfg->edge.read_timeout * 1000000;
	if (!c->up_tls) {
		c->state = CS_PROXY;
		return;
	}
	if (up_tls_start(c) != 0) {
		bad_gateway(c, "cannot start TLS");
		return;
	}
	c->state = CS_UP_HANDSHAKE;
}

static void up_handshake(struct edge_conn *c)
{
	int n = SSL_do_handshake(c->up_ssl);
	char why[200];
	long verify;
	int err;

	if (n == 1) {
		c->state = CS_PROXY;
		return;
	}
	err = SSL_get_error(c->up_ssl, n);
	ERR_clear_error();
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
		return;
	verify = SSL_get_verify_result(c->up_ssl);
	if (verify == X509_V_OK) {
		bad_gateway(c, "the TLS handshake with the origin failed");
		return;
	}
	snprintf(why, sizeof(why), "the origin's certificate was not accepted (%s)",
		 X509_verify_cert_error_string(verify));
	bad_gateway(c, why);
}

/* Client → c->in while the request lasts, through the body framer: a chunked body is read
 * HTTP_BODY_SLACK bytes in and its new chunks written from the start of the buffer; bytes past
 * the request's end are kept for the next one. -2 when the body's framing is malformed. */
static int client_in(struct edge_conn *c)
{
	size_t at = c->req_body.mode == HTTP_BODY_CHUNKED ? HTTP_BODY_SLACK : 0, out_len;
	ssize_t n, used;

	if (c->req_done || c->client_eof || c->in.len > 0)
		return 0;
	if (c->in.cap <= at + 1)
		return -1;
	n = conn_side_read(c, 0, c->in.data + at, c->in.cap - at);
	if (n == -1)
		return 0;
	if (n == 0) {
		c->client_eof = 1;
		return 1;
	}
	if (n < 0)
		return -1;
	used = http_body_step(&c->req_body, c->in.data + at, (size_t)n, c->in.data, &out_len);
	if (used < 0)
		return -2;
	/* what the framer wrote ends before c->in.data + at + used: the rest is intact */
	if (keep_carry(c, c->in.data + at + used, (size_t)(n - used)) != 0)
		return -1;
	c->in.len = out_len;
	c->req_done = c->req_body.done;
	replay_body(c, c->in.data, c->in.len);
	return 1;
}

/* How the response whose head was just read frames its body (RFC 9112 6.3). */
static void resp_body_start(struct edge_conn *c)
{
	const struct http_head *r = &c->resp_head;
	enum http_body_mode mode = HTTP_BODY_CLOSE;

	if (strcmp(c->head->method, "HEAD") == 0 || r->status == 204 || r->status == 304)
		mode = HTTP_BODY_NONE;
	else if (r->chunked)
		mode = HTTP_BODY_CHUNKED;
	else if (r->n_cl)
		mode = HTTP_BODY_LENGTH;
	http_body_start(&c->resp_body, mode, r->content_length);
	c->resp_in_body = 1;
}

/* Body bytes of the response at c->out.data + AT (N bytes) become the bytes sent from OFF on
 * (a chunked body is moved HTTP_BODY_SLACK further first, unless already there): -2 when
 * malformed. Bytes past the response's end are stray: the connection is not reused. */
static int resp_body(struct edge_conn *c, size_t off, size_t at, size_t n)
{
	size_t out_len;
	ssize_t used;

	if (c->resp_body.mode == HTTP_BODY_CHUNKED && at < off + HTTP_BODY_SLACK) {
		memmove(c->out.data + off + HTTP_BODY_SLACK, c->out.data + at, n);
		at = off + HTTP_BODY_SLACK;
	}
	used = http_body_step(&c->resp_body, c->out.data + at, n, c->out.data + off, &out_len);
	if (used < 0)
		return -2;
	c->up_extra |= (size_t)used < n;
	c->out.len = off + out_len;
	c->resp_done = c->resp_body.done;
	c->response_started = 1;
	return 1;
}

/* The origin's bytes at c->out.data[0..TOTAL) while its head is read: the head is checked
 * strictly (-2, a 502, when it is malformed); an interim response (1xx) is passed on and the
 * next head read from what followed it; a 101 hands everything after it to the client. */
static int resp_head_in(struct edge_conn *c, size_t total)
{
	struct http_head *r = &c->resp_head;
	int rc = http_head_scan(r, c->out.data, total);
	size_t rest;

	if (rc == 0) {
		c->resp_held = total;
		return total + HTTP_BODY_SLACK >= c->out.cap ? -2 : 1; /* a head too large */
	}
	if (rc != 1)
		return -2;
	if (c->is_stream && r->n_fields > r->max_fields)
		return -2; /* an HTTP/2 stream is sent the fields themselves: more than it can keep */
	rest = total - r->head_len;
	c->resp_held = 0;
	if (r->status < 200 && r->status != 101) {
		/* passed on, except to an HTTP/1.0 client (RFC 9110 15.2); a 103 only to an HTTP/2
		 * stream, which decides (early_hints.h): browsers mishandle it over HTTP/1.1 */
		int forward = c->head->minor && (r->status != 103 || c->is_stream);

		c->out.len = forward ? r->head_len : 0;
		c->resp_held_off = r->head_len;
		c->resp_held = rest;
		c->response_started = 1;
		http_head_reset(r, 1);
		return 1;
	}
	if (r->status == 101) {
		if (!c->upgrade)
			return -2; /* a switch nobody asked for */
		conn_count_request(c, r->status);
		c->out.len = total; /* what follows the 101 is the new protocol's: the client's too */
		c->resp_done = c->response_started = 1;
		return 1;
	}
	resp_body_start(c);
	if (resp_body(c, r->head_len, r->head_len, rest) < 0)
		return -2; /* nothing sent yet: still a 502 */
	conn_count_request(c, r->status);
	metrics_observe_us(M_EDGE_ORIGIN_SECONDS, 0, time_now_us() - c->origin_start_us);
	c->response_started = 1;
	return 1;
}

/* Origin → c->out while the response lasts (anything after its end is dropped). Only read when
 * an event said there is something (or TLS holds some): a read right after sending the request
 * would almost always be an EAGAIN, one syscall per request for nothing. -2 when the response
 * is malformed. */
static int origin_in(struct edge_conn *c)
{
	size_t at;
	ssize_t n;

	if (c->resp_done || c->out.len > 0)
		return 0;
	if (c->resp_held_off) { /* what followed an interim response, now that it is out */
		memmove(c->out.data, c->out.data + c->resp_held_off, c->resp_held);
		c->resp_held_off = 0;
		if (c->resp_held)
			return resp_head_in(c, c->resp_held);
	}
	if (c->up_eof)
		return 0;
	if (!c->up_readable && !(c->up_ssl && SSL_has_pending(c->up_ssl)))
		return 0;
	at = !c->resp_in_body ? c->resp_held
	     : c->resp_body.mode == HTTP_BODY_CHUNKED ? HTTP_BODY_SLACK : 0;
	n = conn_side_read(c, 1, c->out.data + at, c->out.cap - at - HTTP_BODY_SLACK);
	if (n == -1) {
		if (!c->up_ssl || SSL_want_read(c->up_ssl)) /* TLS may want a write instead */
			c->up_readable = 0;
		return 0;
	}
	if (n == 0) {
		c->up_eof = 1;
		if (c->resp_in_body && c->resp_body.mode == HTTP_BODY_CLOSE)
			c->resp_done = 1; /* the end of a close-delimited body */
		return 1;
	}
	if (n < 0)
		return -1;
	replay_drop(c); /* answered: nothing to resend any more */
	if (!c->resp_in_body)
		return resp_head_in(c, at + (size_t)n);
	return resp_body(c, 0, at, (size_t)n);
}

/* The next request on a kept-alive client connection: back to reading a head. */
static void next_request(struct edge_conn *c)
{
	size_t cap = (size_t)c->loop->edge->cfg->edge.max_header_bytes + 1;
	struct buf relay = c->in;

	/* The head buffer is in c->spare since prepare_upstream, unless a retry replaced c->in */
	if (c->spare.cap != cap) {
		buf_stash_give(c->loop, &c->spare);
		c->spare = (struct buf){.data = buf_stash_take(c->loop, cap), .cap = cap};
	}
	if (!c->spare.data || c->carry_len >= cap) {
		conn_close(c);
		return;
	}
	c->in = c->spare;
	c->spare = relay;
	if (c->carry_len)
		memcpy(c->in.data, c->carry, c->carry_len);
	c->in.len = c->carry_len;
	c->in.off = 0;
	keep_carry(c, NULL, 0);
	http_head_reset(c->head, 0);
	c->out.len = c->out.off = 0;
	c->req_done = c->resp_done = c->response_started = c->up_eof = 0;
	c->kept_alive = 1;
	c->state = CS_READ_HEAD;
	c->deadline_us = time_now_us() + c->loop->edge->cfg->edge.idle_timeout * 1000000;
	conn_read_head(c);
}

/* A complete exchange: the origin connection goes to the pool when both sides allow it and
 * the origin sent nothing past its response (what it did would be read as the next client's
 * response). */
static void finish_exchange(struct edge_conn *c)
{
	const struct http_head *q = c->head, *r = &c->resp_head;
	int resp_keep = c->resp_body.mode != HTTP_BODY_CLOSE &&
			(r->minor ? !r->conn_close : r->conn_keep_alive);
	int req_keep = q->minor ? !q->conn_close : q->conn_keep_alive;
	int framed = c->req_done && !c->up_eof && resp_keep;
	int keep_up = framed && !c->up_extra && !(c->up_ssl && SSL_has_pending(c->up_ssl));
	int keep_client = framed && !c->client_eof && req_keep && !c->loop->draining;

	if (keep_up) { /* the pool watches the socket from now on */
		origin_pool_put(c->loop, c->up_link, c->pool_key, c->up.fd, c->up_ssl,
				!c->up_readable);
	} else {
		edge_loop_del(c->loop, &c->up);
		origin_pool_forget(c->loop, c->up_link);
		SSL_free(c->up_ssl);
		close(c->up.fd);
	}
	c->up.fd = -1;
	c->up_ssl = NULL;
	c->up_link = NULL;
	if (keep_client)
		next_request(c);
	else
		conn_close(c);
}

static void relay(struct edge_conn *c)
{
	int64_t read_timeout = c->loop->edge->cfg->edge.read_timeout * 1000000;

	for (;;) {
		int a = conn_buf_flush(c, &c->in, 1);
		int b = a < 0 ? 0 : client_in(c);
		int d = conn_buf_flush(c, &c->out, 0);
		int e = d < 0 ? 0 : origin_in(c);

		if (!c->response_started && c->replay_held &&
		    (a < 0 || e == -1 || (c->up_eof && c->out.len == 0))) {
			retry_fresh(c);
			return;
		}
		if (b == -2 && !c->response_started) {
			conn_respond(c, 400, "Bad Request", NULL, "<h1>400 Bad Request</h1>\n", NULL);
			return; /* the origin connection, holding part of a request, is closed */
		}
		if (e == -2 && !c->response_started) {
			bad_gateway(c, "the origin sent a malformed response");
			return;
		}
		if (d < 0 || b < 0 || ((a < 0 || e < 0) && c->response_started)) {
			conn_close(c); /* a side went away mid-stream, or broke its framing */
			return;
		}
		if (a < 0 || e < 0) {
			bad_gateway(c, "the origin closed the connection");
			return;
		}
		if (c->resp_done && c->resp_head.status == 101) {
			tunnel_start(c);
			return;
		}
		if (c->resp_done && c->out.len == 0) {
			finish_exchange(c);
			return;
		}
		if (c->up_eof && c->out.len == 0) {
			if (!c->response_started)
				bad_gateway(c,
					    "the origin closed the connection without answering");
			else
				conn_close(c);
			return;
		}
		if (!(a | b | d | e))
			return;
		c->deadline_us = time_now_us() + read_timeout;
	}
}

void proxy_drive(struct edge_conn *c)
{
	if (c->state == CS_CONNECTING)
		connecting(c);
	if (!c->closed && c->state == CS_UP_HANDSHAKE)
		up_handshake(c);
	if (!c->closed && c->state == CS_PROXY)
		relay(c);
}

void proxy_timeout(struct edge_conn *c)
{
	if (!c->response_started)
		gateway_timeout(c);
	else
		conn_close(c);
}

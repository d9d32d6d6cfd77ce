/* The reverse proxy: routes a request by its Host (which must be the SNI name) to the
 * hostname's custom origin or its zone's fallback origin, resolves the origin's name on a lookup
 * thread, connects without blocking (TLS when the origin says https://), forwards the head with
 * X-Forwarded-For/-Proto and then relays bytes both ways, so chunked and streamed bodies pass
 * through unchanged. http-parser follows the framing of both (Content-Length, chunked, or the
 * origin's close) so that the client connection and the origin connection can both be kept
 * alive: the origin connection goes back to the loop's pool after a complete exchange. An
 * idempotent request that meets a pooled connection the origin had closed is resent once on a
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
#include "lib/log.h"
#include "lib/origin.h"
#include "lib/timeutil.h"

#define UP_EVENTS (EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP)
#define RELAY_BUF (64 * 1024)
#define REPLAY_MAX (64 * 1024) /* largest request kept to resend after a stale pooled connection */
#define REPLAY_KEEP 4096       /* a replay buffer up to this size stays for the next request */

static void bad_gateway(struct edge_conn *c, const char *why)
{
	char body[512];

	log_info("edge msg=\"origin failed\" hostname=%s origin=%s:%u detail=\"%s\"", c->sni,
		 c->up_host, c->up_port, why);
	snprintf(body, sizeof(body),
		 "<h1>502 Bad Gateway</h1>\n<p>The origin of %s could not be reached: %s.</p>\n",
		 c->sni, why);
	conn_respond(c, 502, "Bad Gateway", NULL, body, NULL);
}

static void gateway_timeout(struct edge_conn *c)
{
	char body[512];

	log_info("edge msg=\"origin timed out\" hostname=%s origin=%s:%u", c->sni, c->up_host,
		 c->up_port);
	snprintf(body, sizeof(body),
		 "<h1>504 Gateway Timeout</h1>\n<p>The origin of %s did not answer in time.</p>\n",
		 c->sni);
	conn_respond(c, 504, "Gateway Timeout", NULL, body, NULL);
}

static void on_up_event(struct edge_io *io, uint32_t events)
{
	struct edge_conn *c = (struct edge_conn *)((char *)io - offsetof(struct edge_conn, up));

	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->up_readable = 1;
	if (!c->closed)
		conn_drive(c);
}

static int req_complete(http_parser *p)
{
	struct edge_conn *c = p->data;

	c->req_done = 1;
	http_parser_pause(p, 1); /* what follows is the next request */
	return 0;
}

static int resp_headers(http_parser *p)
{
	struct edge_conn *c = p->data;

	return strcmp(c->head->method, "HEAD") == 0; /* 1: a HEAD response has no body */
}

static int resp_complete(http_parser *p)
{
	struct edge_conn *c = p->data;

	if (p->status_code >= 100 && p->status_code < 200 && p->status_code != 101)
		return 0; /* an interim response: the real one follows */
	c->resp_done = 1;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings req_settings = {.on_message_complete = req_complete};
static const http_parser_settings resp_settings = {.on_headers_complete = resp_headers,
						   .on_message_complete = resp_complete};

/* Feeds N bytes of one direction to its parser: how many belong to the current message, or -1
 * when the stream is not HTTP/1.x. N == 0 tells the parser about EOF. */
static ssize_t feed(http_parser *p, const http_parser_settings *s, const char *data, size_t n)
{
	size_t used = http_parser_execute(p, s, data, n);
	enum http_errno err = HTTP_PARSER_ERRNO(p);

	return err == HPE_OK || err == HPE_PAUSED ? (ssize_t)used : -1;
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

/* The head sent upstream: hop-by-hop fields dropped, X-Forwarded-* set, Host kept. An upgrade
 * request keeps its Upgrade field and says "Connection: upgrade"; any other loses Upgrade. */
static int build_up_head(struct edge_conn *c, struct buf *b)
{
	const struct http_head *h = c->head;
	const char *xff = NULL;
	size_t xff_len = 0;
	int rc, has_host = 0;

	rc = buf_str(b, h->method);
	rc = rc ? rc : buf_add(b, " ", 1);
	rc = rc ? rc : buf_add(b, h->url, h->url_len);
	rc = rc ? rc : buf_str(b, " HTTP/1.1\r\n");
	for (size_t i = 0; rc == 0 && i < h->n_fields; i++) {
		if (http_field_is(h, i, "x-forwarded-for")) {
			xff = h->fields[i].value;
			xff_len = h->fields[i].value_len;
			continue;
		}
		if (http_field_is(h, i, "connection") || http_field_is(h, i, "keep-alive") ||
		    http_field_is(h, i, "proxy-connection") ||
		    http_field_is(h, i, "x-forwarded-proto") ||
		    (http_field_is(h, i, "upgrade") && !c->upgrade))
			continue;
		has_host |= http_field_is(h, i, "host");
		rc = buf_add(b, h->fields[i].name, h->fields[i].name_len);
		rc = rc ? rc : buf_add(b, ": ", 2);
		rc = rc ? rc : buf_add(b, h->fields[i].value, h->fields[i].value_len);
		rc = rc ? rc : buf_add(b, "\r\n", 2);
	}
	if (rc == 0 && !has_host) {
		rc = buf_str(b, "Host: ");
		rc = rc ? rc : buf_str(b, c->sni);
		rc = rc ? rc : buf_add(b, "\r\n", 2);
	}
	rc = rc ? rc : buf_str(b, "X-Forwarded-For: ");
	if (rc == 0 && xff) {
		rc = buf_add(b, xff, xff_len);
		rc = rc ? rc : buf_add(b, ", ", 2);
	}
	rc = rc ? rc : buf_str(b, c->peer_ip);
	rc = rc ? rc : buf_str(b, "\r\nX-Forwarded-Proto: https\r\n");
	if (rc == 0 && c->upgrade)
		rc = buf_str(b, "Connection: upgrade\r\n");
	rc = rc ? rc : buf_add(b, "\r\n", 2);
	return rc;
}

/* c->in becomes the client → origin buffer: the rewritten head, then the body bytes read so far
 * that belong to this request (the rest is kept for the next one). It is built in c->spare, and
 * the two buffers swap. */
static int prepare_upstream(struct edge_conn *c)
{
	struct buf b;
	const char *body = c->in.data + c->head->head_len;
	size_t body_len = c->in.len - c->head->head_len;
	ssize_t used = 0;
	int rc;

	http_parser_init(&c->req_p, HTTP_REQUEST);
	c->req_p.data = c;
	http_parser_init(&c->resp_p, HTTP_RESPONSE);
	c->resp_p.data = c;
	c->req_done = c->resp_done = c->up_extra = 0;
	c->upgrade = tunnel_wanted(c->head);
	if (feed(&c->req_p, &req_settings, c->in.data, c->head->head_len) < 0)
		return SE_EINVAL;
	if (!c->req_done && body_len && (used = feed(&c->req_p, &req_settings, body, body_len)) < 0)
		return SE_EINVAL;
	b = c->spare;
	b.len = b.off = 0;
	c->spare = (struct buf){0}; /* b owns it until the swap */
	rc = keep_carry(c, body + used, body_len - (size_t)used);
	rc = rc ? rc : build_up_head(c, &b);
	if (rc == 0 && used)
		rc = buf_add(&b, body, (size_t)used);
	if (rc == 0 && b.cap < RELAY_BUF) {
		char *d = realloc(b.data, RELAY_BUF);

		rc = d ? 0 : SE_ENOMEM;
		if (d) {
			b.data = d;
			b.cap = RELAY_BUF;
		}
	}
	if (rc == 0 && !c->out.data) {
		c->out.data = malloc(RELAY_BUF);
		c->out.cap = RELAY_BUF;
		rc = c->out.data ? 0 : SE_ENOMEM;
	}
	if (rc) {
		free(b.data);
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
	c->up_readable = 0; /* registering reports the socket's state */
	if (connect(fd, sa, len) != 0 && errno != EINPROGRESS) {
		bad_gateway(c, strerror(errno));
		return;
	}
	c->state = CS_CONNECTING;
	c->deadline_us = time_now_us() + cfg->edge.connect_timeout * 1000000;
	if (edge_loop_add(c->loop, &c->up, UP_EVENTS) != 0)
		bad_gateway(c, "cannot watch the origin socket");
}

/* An IP literal connects at once; a name goes to a lookup thread. */
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

/* An idle pooled connection when there is one, else a fresh one. */
static void route(struct edge_conn *c)
{
	const char *sni = c->entry->origin_sni[0] ? c->entry->origin_sni : c->up_host;
	int resendable = method_idempotent(c->head->method);
	SSL *ssl = NULL;
	int fd = -1;

	origin_pool_key(c->up_host, c->up_port, c->up_tls, c->up_tls ? sni : "", c->pool_key,
			sizeof(c->pool_key));
	/* An idempotent request is resent if the connection turns out closed (retry_fresh), so
	 * only the others pay for a look at the socket before it is used. */
	if (!origin_pool_take(c->loop, c->pool_key, !resendable, &fd, &ssl)) {
		route_fresh(c);
		return;
	}
	c->up.fd = fd;
	c->up.on_event = on_up_event;
	c->up_readable = 0; /* registering reports a close or stray bytes */
	c->up_ssl = ssl;
	c->state = CS_PROXY;
	c->deadline_us = time_now_us() + c->loop->edge->cfg->edge.read_timeout * 1000000;
	keep_replay(c, resendable);
	if (edge_loop_mod(c->loop, &c->up, UP_EVENTS) != 0) /* from the pool's watch to ours */
		bad_gateway(c, "cannot watch the origin socket");
	else
		proxy_drive(c);
}

/* The pooled connection failed before answering (the origin had closed it): the request goes
 * again on a fresh connection (the rest of a body still to come follows as usual). */
static void retry_fresh(struct edge_conn *c)
{
	edge_loop_del(c->loop, &c->up);
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
	c->up_eof = c->resp_done = 0;
	http_parser_init(&c->resp_p, HTTP_RESPONSE);
	c->resp_p.data = c;
	route_fresh(c);
}

void proxy_start(struct edge_conn *c)
{
	const struct edge_entry *e = c->entry;
	struct origin o;
	char reason[128];

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
	if (origin_parse(e->origin, &o, reason, sizeof(reason)) != HOSTNAME_OK) {
		bad_gateway(c, "the configured origin is invalid");
		return;
	}
	snprintf(c->up_host, sizeof(c->up_host), "%s", o.host);
	c->up_port = o.port ? o.port : conn_local_port(c);
	c->up_tls = o.tls;
	if (prepare_upstream(c) != 0) {
		conn_respond(c, 400, "Bad Request", NULL, "<h1>400 Bad Request</h1>\n", NULL);
		return;
	}
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
	const char *sni = c->entry->origin_sni[0] ? c->entry->origin_sni : c->up_host;
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

/* Client → c->in while the request lasts; bytes past its end are kept for the next one. */
static int client_in(struct edge_conn *c)
{
	ssize_t n, used;

	if (c->req_done || c->client_eof || c->in.len > 0)
		return 0;
	n = conn_side_read(c, 0, c->in.data, c->in.cap);
	if (n == -1)
		return 0;
	if (n == 0) {
		c->client_eof = 1;
		return 1;
	}
	if (n < 0 || (used = feed(&c->req_p, &req_settings, c->in.data, (size_t)n)) < 0)
		return -1;
	if (keep_carry(c, c->in.data + used, (size_t)(n - used)) != 0)
		return -1;
	c->in.len = (size_t)used;
	replay_body(c, c->in.data, c->in.len);
	return 1;
}

/* Origin → c->out while the response lasts (anything after its end is dropped). Only read when
 * an event said there is something (or TLS holds some): a read right after sending the request
 * would almost always be an EAGAIN, one syscall per request for nothing. */
static int origin_in(struct edge_conn *c)
{
	ssize_t n, used;

	if (c->resp_done || c->up_eof || c->out.len > 0)
		return 0;
	if (!c->up_readable && !(c->up_ssl && SSL_has_pending(c->up_ssl)))
		return 0;
	n = conn_side_read(c, 1, c->out.data, c->out.cap);
	if (n == -1) {
		if (!c->up_ssl || SSL_want_read(c->up_ssl)) /* TLS may want a write instead */
			c->up_readable = 0;
		return 0;
	}
	if (n == 0) {
		c->up_eof = 1;
		feed(&c->resp_p, &resp_settings, NULL, 0); /* ends a close-delimited body */
		return 1;
	}
	if (n < 0 || (used = feed(&c->resp_p, &resp_settings, c->out.data, (size_t)n)) < 0)
		return -1;
	if (c->resp_done && c->resp_p.status_code == 101) {
		if (!c->upgrade)
			return -1; /* a switch nobody asked for */
		used = n; /* what follows the 101 is the new protocol's: the client's too */
	}
	c->up_extra |= used < n;
	c->out.len = (size_t)used;
	c->response_started = 1;
	replay_drop(c); /* answered: nothing to resend any more */
	return 1;
}

/* The next request on a kept-alive client connection: back to reading a head. */
static void next_request(struct edge_conn *c)
{
	size_t cap = (size_t)c->loop->edge->cfg->edge.max_header_bytes + 1;
	struct buf relay = c->in;

	/* The head buffer is in c->spare since prepare_upstream, unless a retry replaced c->in */
	if (c->spare.cap != cap) {
		free(c->spare.data);
		c->spare = (struct buf){.data = malloc(cap), .cap = cap};
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
	c->out.len = c->out.off = 0;
	c->req_done = c->resp_done = c->response_started = c->up_eof = 0;
	c->state = CS_READ_HEAD;
	c->deadline_us = time_now_us() + c->loop->edge->cfg->edge.idle_timeout * 1000000;
	conn_read_head(c);
}

/* A complete exchange: the origin connection goes to the pool when both sides allow it and
 * the origin sent nothing past its response (what it did would be read as the next client's
 * response). */
static void finish_exchange(struct edge_conn *c)
{
	int framed = c->req_done && !c->up_eof && http_should_keep_alive(&c->resp_p);
	int keep_up = framed && !c->up_extra && !(c->up_ssl && SSL_has_pending(c->up_ssl));
	int keep_client = framed && !c->client_eof && http_should_keep_alive(&c->req_p);

	if (keep_up) {
		origin_pool_put(c->loop, c->pool_key, c->up.fd, c->up_ssl); /* it watches the fd */
	} else {
		edge_loop_del(c->loop, &c->up);
		SSL_free(c->up_ssl);
		close(c->up.fd);
	}
	c->up.fd = -1;
	c->up_ssl = NULL;
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
		    (a < 0 || e < 0 || (c->up_eof && c->out.len == 0))) {
			retry_fresh(c);
			return;
		}
		if (d < 0 || b < 0 || ((a < 0 || e < 0) && c->response_started)) {
			conn_close(c); /* a side went away mid-stream */
			return;
		}
		if (a < 0 || e < 0) {
			bad_gateway(c, "the origin closed the connection");
			return;
		}
		if (c->resp_done && c->resp_p.status_code == 101) {
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

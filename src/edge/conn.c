/* Client connections: accept, TLS handshake, reading the request head under the slowloris
 * deadline, local responses, timeouts and the deferred free. A connection is freed only at the
 * end of a loop iteration, and only once no lookup job refers to it. */
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
#include "lib/timeutil.h"
#include "metrics/metrics.h"

#define CONN_EVENTS    (EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP)
#define MAX_CERT_TRIES 3

static void on_client_event(struct edge_io *io, uint32_t events)
{
	struct edge_conn *c = (struct edge_conn *)io;

	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->readable = 1;
	if (!c->closed)
		conn_drive(c);
}

static void set_deadline(struct edge_conn *c, int64_t seconds)
{
	c->deadline_us = time_now_us() + seconds * 1000000;
}

/* An IPv4 client of a dual-stack listener arrives as ::ffff:a.b.c.d: it is shown as a.b.c.d. */
static void peer_text(const struct sockaddr_storage *ss, char *out, size_t len)
{
	const struct in6_addr *a6 = &((const struct sockaddr_in6 *)ss)->sin6_addr;

	if (ss->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(a6))
		inet_ntop(AF_INET, &a6->s6_addr[12], out, len);
	else if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, a6, out, len);
	else
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, out, len);
}

/* Asked on first use, not at accept: only an origin without a port needs it, and a syscall
 * per connection is not free. */
unsigned conn_local_port(struct edge_conn *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (c->local_port || getsockname(c->io.fd, (struct sockaddr *)&ss, &len) != 0)
		return c->local_port;
	if (ss.ss_family == AF_INET6)
		c->local_port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	else
		c->local_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return c->local_port;
}

static struct edge_conn *conn_new(struct edge_loop *l, int fd, int tls)
{
	struct edge *e = l->edge;
	struct edge_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->io.fd = fd;
	c->io.on_event = on_client_event;
	c->up.fd = -1;
	c->loop = l;
	c->tls = tls;
	c->in.cap = (size_t)e->cfg->edge.max_header_bytes + 1;
	c->in.data = buf_stash_take(l, c->in.cap);
	if (!c->in.data || (tls && !(c->ssl = SSL_new(e->https_ctx)))) {
		buf_stash_give(l, &c->in);
		free(c);
		return NULL;
	}
	if (tls) {
		SSL_set_fd(c->ssl, fd);
		SSL_set_app_data(c->ssl, c);
		SSL_set_accept_state(c->ssl);
	}
	c->state = tls ? CS_HANDSHAKE : CS_READ_HEAD;
	c->cert_kind = MC_NONE;
	set_deadline(c, e->cfg->edge.header_timeout);
	c->next = l->conns;
	if (l->conns)
		l->conns->prev = c;
	l->conns = c;
	return c;
}

/* One connection per event: the listener is level-triggered, so the next epoll_wait reports it
 * again while more wait, and the usual single pending connection costs no accept4 that ends in
 * EAGAIN. The connection is not driven here: its first bytes (the ClientHello, a request) have
 * rarely arrived yet, and registering it reports them when they have. */
int edge_conn_accept(struct edge_loop *l, int lfd, int tls)
{
	struct edge *e = l->edge;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct edge_conn *c;

	if (fd < 0)
		return 0;
	if (atomic_fetch_add(&e->n_conns, 1) >= e->cfg->edge.max_connections ||
	    !(c = conn_new(l, fd, tls))) {
		atomic_fetch_sub(&e->n_conns, 1);
		close(fd);
		return 1;
	}
	metrics_count(M_EDGE_CONNECTIONS_TOTAL, 0, 0);
	peer_text(&ss, c->peer_ip, sizeof(c->peer_ip));
	if (edge_loop_add(l, &c->io, CONN_EVENTS) != 0)
		conn_close(c);
	return 1;
}

void edge_conn_drain_all(struct edge_loop *l)
{
	struct edge_conn *c, *next;

	for (c = l->conns; c; c = next) {
		next = c->next;
		/* Between two requests a client retries on a new connection (RFC 9112 9.3.1); on a
		 * new connection its first request may be on its way: it gets edge.header_timeout
		 * to arrive, as always. */
		if (c->state == CS_H2)
			h2_drain(c);
		else if (c->state == CS_READ_HEAD && c->kept_alive && !c->is_stream &&
			 c->in.len == 0)
			conn_close(c);
	}
}

void conn_close(struct edge_conn *c)
{
	struct edge_loop *l = c->loop;

	if (c->closed)
		return;
	c->closed = 1;
	if (c->is_stream)
		h2_stream_detach(c);
	h2_close(c);
	/* The client socket stays registered until conn_free closes it, which unregisters it: its
	 * events meanwhile find c->closed. */
	edge_loop_del(l, &c->up);
	if (c->ssl && SSL_is_init_finished(c->ssl))
		SSL_shutdown(c->ssl); /* best effort close_notify; never waited for */
	/* Unlinked from the live list now; freed by edge_conn_reap once no job refers to it. */
	if (c->prev)
		c->prev->next = c->next;
	else
		l->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->dead_next = l->dead;
	l->dead = c;
}

static void conn_free(struct edge_conn *c)
{
	SSL_free(c->ssl);
	SSL_free(c->up_ssl);
	if (c->io.fd >= 0)
		close(c->io.fd);
	if (c->up.fd >= 0)
		close(c->up.fd);
	origin_pool_forget(c->loop, c->up_link);
	edge_entry_unref(c->entry);
	edge_entry_unref(c->looked_up);
	X509_free(c->alpn_cert);
	EVP_PKEY_free(c->alpn_key);
	buf_stash_give(c->loop, &c->in);
	buf_stash_give(c->loop, &c->out);
	buf_stash_give(c->loop, &c->replay);
	buf_stash_give(c->loop, &c->spare);
	free(c->head);
	free(c->carry);
	h2_free(c);
	if (!c->is_stream) /* a stream's relay is not a connection of the client's */
		atomic_fetch_sub(&c->loop->edge->n_conns, 1);
	free(c);
}

void edge_conn_reap(struct edge_loop *l)
{
	struct edge_conn **pp = &l->dead;

	while (*pp) {
		struct edge_conn *c = *pp;

		if (c->jobs > 0) { /* a lookup still holds it: next time */
			pp = &c->dead_next;
			continue;
		}
		*pp = c->dead_next;
		conn_free(c);
	}
}

int edge_conn_count(const struct edge_loop *l)
{
	int n = 0;

	for (const struct edge_conn *c = l->conns; c; c = c->next)
		n += !c->is_stream;
	return n;
}

void edge_conn_free_all(struct edge_loop *l)
{
	while (l->conns)
		conn_close(l->conns);
	for (struct edge_conn *c = l->dead; c; c = c->dead_next)
		c->jobs = 0; /* the lookup threads are stopped: no job will come back */
	edge_conn_reap(l);
}

void conn_submit(struct edge_conn *c, struct lookup_job *job)
{
	job->loop = c->loop;
	job->conn = c;
	job->submitted_us = time_now_us();
	c->jobs++;
	lookup_submit(c->loop->edge->lookups, job);
}

void edge_conn_job_done(struct edge_loop *l, struct lookup_job *job)
{
	struct edge_conn *c = job->conn;

	c->jobs--;
	if (!c->closed && !atomic_load(&l->stop)) { /* a stopped loop only counts jobs back */
		if (job->kind == LOOKUP_ALPN) {
			acme_alpn_job_done(c, job);
			conn_drive(c);
		} else if (job->kind == LOOKUP_SNI) { /* the handshake resumes on a hit now */
			metrics_observe_us(M_EDGE_MISS_SECONDS, 0,
					   time_now_us() - job->submitted_us);
			log_debug("edge msg=\"certificate lookup\" hostname=%s us=%lld rc=%d",
				  job->name, (long long)(time_now_us() - job->submitted_us),
				  job->rc);
			edge_entry_unref(c->looked_up);
			c->looked_up = job->entry;
			job->entry = NULL;
			conn_drive(c);
		} else if (c->tls) {
			proxy_job_done(c, job);
		} else {
			plain_job_done(c, job);
		}
	}
	lookup_job_free(job);
}

/* The client's TLS side: SSL_get_error mapped to -1 (retry on an event) or -2. */
static ssize_t ssl_result(SSL *ssl, int n)
{
	int err = SSL_get_error(ssl, n);

	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
		return -1;
	if (err == SSL_ERROR_ZERO_RETURN)
		return 0;
	ERR_clear_error();
	return -2;
}

ssize_t conn_side_read(struct edge_conn *c, int up, char *p, size_t n)
{
	SSL *ssl = up ? c->up_ssl : c->ssl;
	int fd = up ? c->up.fd : c->io.fd;
	ssize_t r;

	if (!up && c->is_stream)
		return h2_stream_read(c, p, n);
	if (ssl) {
		size_t got = 0;
		int ok = SSL_read_ex(ssl, p, n, &got);

		return ok ? (ssize_t)got : ssl_result(ssl, ok);
	}
	r = recv(fd, p, n, 0);
	if (r < 0)
		return errno == EAGAIN || errno == EINTR ? -1 : -2;
	/* TCP: a read shorter than asked emptied the receive queue (the kernel copies until it is
	 * empty or the buffer full), and bytes arriving later raise a new edge-triggered event;
	 * so the origin socket is known empty without the read that would end in EAGAIN, as
	 * nginx infers. A close the event announced is still to be read. */
	if (up && (size_t)r < n && !c->up_hup)
		c->up_readable = 0;
	return r;
}

ssize_t conn_side_write(struct edge_conn *c, int up, const char *p, size_t n)
{
	SSL *ssl = up ? c->up_ssl : c->ssl;
	int fd = up ? c->up.fd : c->io.fd;
	ssize_t r;

	if (!up && c->is_stream)
		return h2_stream_write(c, p, n);
	if (ssl) {
		size_t put = 0;
		int ok = SSL_write_ex(ssl, p, n, &put);

		return ok ? (ssize_t)put : ssl_result(ssl, ok);
	}
	r = send(fd, p, n, MSG_NOSIGNAL);
	if (r < 0)
		return errno == EAGAIN || errno == EINTR ? -1 : -2;
	return r;
}

int conn_buf_flush(struct edge_conn *c, struct buf *b, int up)
{
	int progress = 0;

	while (b->off < b->len) {
		ssize_t n = conn_side_write(c, up, b->data + b->off, b->len - b->off);

		if (n == -1)
			return progress;
		if (n <= 0)
			return -1;
		b->off += (size_t)n;
		progress = 1;
	}
	b->off = b->len = 0;
	return progress;
}

static void handshake(struct edge_conn *c)
{
	int n = SSL_do_handshake(c->ssl);
	int err;

	if (n == 1 && c->acme_alpn) { /* the CA has seen the certificate: nothing more */
		conn_close(c);
		return;
	}
	if (n == 1)
		metrics_count(M_EDGE_HANDSHAKES, MH_OK, (unsigned)c->cert_kind);
	if (n == 1 && h2_chosen(c)) {
		h2_start(c);
		return;
	}
	if (n == 1) {
		c->state = CS_READ_HEAD;
		return;
	}
	err = SSL_get_error(c->ssl, n);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
		return;
	if (err == SSL_ERROR_WANT_CLIENT_HELLO_CB && c->jobs == 0 &&
	    c->cert_tries++ < MAX_CERT_TRIES) {
		struct lookup_job *job = calloc(1, sizeof(*job));

		if (job) {
			job->kind = c->acme_alpn ? LOOKUP_ALPN : LOOKUP_SNI;
			job->need = c->sni_need;
			snprintf(job->name, sizeof(job->name), "%s", c->sni);
			conn_submit(c, job);
			return;
		}
	}
	if (err == SSL_ERROR_WANT_CLIENT_HELLO_CB && c->jobs > 0)
		return;
	ERR_clear_error();
	if (!c->acme_alpn)
		metrics_count(M_EDGE_HANDSHAKES, c->name_refused ? MH_UNKNOWN_NAME : MH_FAILED,
			      MC_NONE);
	conn_close(c);
}

/* Writes c->out to the client; closes once it is all out. */
static void flush_close(struct edge_conn *c)
{
	while (c->out.off < c->out.len) {
		ssize_t n =
		    conn_side_write(c, 0, c->out.data + c->out.off, c->out.len - c->out.off);

		if (n == -1)
			return;
		if (n <= 0)
			break;
		c->out.off += (size_t)n;
	}
	conn_close(c);
}

void conn_read_head(struct edge_conn *c)
{
	int r;

	for (;;) {
		ssize_t n;

		r = http_head_parse(c);
		if (r != 0)
			break;
		if (c->in.len >= c->in.cap - 1) {
			r = 431;
			break;
		}
		n = conn_side_read(c, 0, c->in.data + c->in.len, c->in.cap - 1 - c->in.len);
		if (n == -1)
			return;
		if (n <= 0) {
			conn_close(c);
			return;
		}
		if (c->in.len == 0) /* the head has begun: from now on it must come quickly */
			set_deadline(c, c->loop->edge->cfg->edge.header_timeout);
		c->in.len += (size_t)n;
	}
	if (r == 1) {
		set_deadline(c, c->loop->edge->cfg->edge.idle_timeout);
		if (c->tls)
			proxy_start(c);
		else
			plain_start(c);
	} else if (r == 501) {
		conn_respond(c, 501, "Not Implemented", NULL, "<h1>501 Not Implemented</h1>\n",
			     NULL);
	} else if (r == 431) {
		conn_respond(c, 431, "Request Header Fields Too Large", NULL,
			     "<h1>431 Request Header Fields Too Large</h1>\n", NULL);
	} else {
		conn_respond(c, 400, "Bad Request", NULL, "<h1>400 Bad Request</h1>\n", NULL);
	}
}

void conn_drive(struct edge_conn *c)
{
	switch (c->state) {
	case CS_HANDSHAKE:
		handshake(c);
		if (!c->closed && c->state == CS_READ_HEAD)
			conn_read_head(c); /* the request may already be buffered */
		break;
	case CS_READ_HEAD:
		conn_read_head(c);
		break;
	case CS_WAIT_JOB:
		break;
	case CS_CONNECTING:
	case CS_UP_HANDSHAKE:
	case CS_PROXY:
		proxy_drive(c);
		break;
	case CS_TUNNEL:
		tunnel_drive(c);
		break;
	case CS_FLUSH_CLOSE:
		flush_close(c);
		break;
	case CS_H2:
		h2_drive(c);
		break;
	}
}

void conn_count_request(const struct edge_conn *c, int status)
{
	metrics_count_status(M_EDGE_REQUESTS, c->is_stream ? MP_HTTP2 : MP_HTTP1, status);
}

void conn_respond(struct edge_conn *c, int status, const char *reason, const char *type,
		  const char *body, const char *location)
{
	size_t blen = strlen(body);
	size_t cap = blen + 512 + (location ? strlen(location) : 0);
	char *p = malloc(cap);
	int n;

	conn_count_request(c, status);
	if (!p) {
		conn_close(c);
		return;
	}
	n = snprintf(p, cap,
		     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		     "%s%s%sConnection: close\r\nServer: saasedge\r\n\r\n",
		     status, reason, type ? type : "text/html; charset=utf-8", blen,
		     location ? "Location: " : "", location ? location : "",
		     location ? "\r\n" : "");
	memcpy(p + n, body, blen);
	http_head_reset(&c->resp_head, 1); /* an origin's head read into c->out is not sent */
	buf_stash_give(c->loop, &c->out);
	c->out.data = p;
	c->out.len = (size_t)n + blen;
	c->out.off = 0;
	c->out.cap = cap;
	c->state = CS_FLUSH_CLOSE;
	edge_loop_del(c->loop, &c->up);
	flush_close(c);
}

void edge_conn_sweep(struct edge_loop *l, int64_t now_us)
{
	struct edge_conn *c = l->conns, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->deadline_us > now_us)
			continue;
		if (c->state == CS_CONNECTING || c->state == CS_UP_HANDSHAKE ||
		    c->state == CS_PROXY)
			proxy_timeout(c);
		else if (c->state == CS_H2)
			h2_timeout(c, now_us);
		else
			conn_close(c);
	}
}

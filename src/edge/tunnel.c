/* Upgraded connections (WebSocket and any other Upgrade): once the origin answers an Upgrade
 * request with 101 Switching Protocols, the edge stops reading HTTP and relays bytes both ways
 * between the client (TLS) and the origin until either side closes or the connection has been
 * idle for edge.idle_timeout. */
#include "edge/conn_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/timeutil.h"

int tunnel_wanted(const struct http_head *h)
{
	return h->has_upgrade && h->conn_upgrade; /* both read by the head scanner */
}

/* Moves what one side sends to the other through B: 1 progress, 0 none (would block), -1 the
 * side closed or failed (only once what it sent before has been written on). */
static int pump(struct edge_conn *c, struct buf *b, int from_up)
{
	int progress = 0;

	for (;;) {
		int wrote = conn_buf_flush(c, b, !from_up);
		ssize_t n;

		if (wrote < 0)
			return -1;
		progress |= wrote;
		if (b->off < b->len)
			return progress; /* the other side takes no more for now */
		/* The origin is read only when an event said it has bytes (see proxy.c) */
		if (from_up && !c->up_readable && !(c->up_ssl && SSL_has_pending(c->up_ssl)))
			return progress;
		n = conn_side_read(c, from_up, b->data, b->cap);
		if (n == -1) {
			if (from_up && (!c->up_ssl || SSL_want_read(c->up_ssl)))
				c->up_readable = 0;
			return progress;
		}
		if (n <= 0)
			return -1;
		b->len = (size_t)n;
		progress = 1;
	}
}

void tunnel_drive(struct edge_conn *c)
{
	int64_t idle = c->loop->edge->cfg->edge.idle_timeout * 1000000;

	for (;;) {
		int up = pump(c, &c->in, 0);
		int down = up < 0 ? 0 : pump(c, &c->out, 1);

		if (up < 0 || down < 0) {
			conn_close(c);
			return;
		}
		if (!(up | down))
			return;
		c->deadline_us = time_now_us() + idle;
	}
}

void tunnel_start(struct edge_conn *c)
{
	/* Bytes the client sent after its request head (it may not wait for the 101) go first */
	if (c->carry_len) {
		if (c->in.off == c->in.len)
			c->in.off = c->in.len = 0;
		if (c->carry_len > c->in.cap - c->in.len) {
			conn_close(c);
			return;
		}
		memcpy(c->in.data + c->in.len, c->carry, c->carry_len);
		c->in.len += c->carry_len;
		free(c->carry);
		c->carry = NULL;
		c->carry_len = 0;
	}
	c->state = CS_TUNNEL;
	c->response_started = 1;
	c->deadline_us = time_now_us() + c->loop->edge->cfg->edge.idle_timeout * 1000000;
	tunnel_drive(c);
}

/* Keep-alive connections to origins, per loop (no lock: only the loop's thread uses its pool).
 * An idle connection is keyed by origin host, port, TLS and SNI. It stays registered with the
 * loop while idle, so that an origin closing it (or sending bytes nobody asked for) closes it at
 * once instead of leaving a half-closed socket until reuse; it can be checked once more when
 * taken (see origin_pool_take) and is dropped after ORIGIN_IDLE_US or when the pool is full.
 *
 * A pooled socket's registration points at its origin_link for the socket's whole life: taking
 * and giving back only change where the link passes events, so a request on a kept-alive
 * origin connection costs no epoll_ctl (two per request before; nginx's upstream keepalive
 * swaps handlers the same way). */
#include "edge/edge_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/timeutil.h"

#define ORIGIN_IDLE_US  (30 * 1000000LL)
#define ORIGIN_IDLE_MAX 256 /* per loop */

struct origin_link {
	struct edge_io io; /* io.fd -1 once closed or forgotten */
	struct edge_io *owner; /* the relay's edge_io while lent; NULL while idle */
	struct edge_loop *loop;
	char key[600];
	SSL *ssl; /* while idle (a relay holds it while lent) */
	int64_t expires_us;
	struct origin_link *next;
};

/* Unlinked entries wait in l->idle_dead until the end of the loop iteration: an event for one
 * may still be in the batch epoll_wait returned. */
static void link_bury(struct edge_loop *l, struct origin_link *o)
{
	o->io.fd = -1;
	o->owner = NULL;
	o->next = l->idle_dead;
	l->idle_dead = o;
}

/* Closes an idle entry (already out of the idle list) and what it owns. */
static void idle_retire(struct edge_loop *l, struct origin_link *o)
{
	SSL_free(o->ssl);
	o->ssl = NULL;
	close(o->io.fd); /* unregisters it */
	l->n_idle--;
	link_bury(l, o);
}

static void idle_unlink(struct edge_loop *l, struct origin_link *o)
{
	struct origin_link **pp = &l->idle;

	while (*pp && *pp != o)
		pp = &(*pp)->next;
	if (*pp)
		*pp = o->next;
}

/* A lent connection's events go to its relay. An idle one that the origin closed or sent
 * something unasked cannot be reused (being writable is no news for an idle socket). */
static void on_link_event(struct edge_io *io, uint32_t events)
{
	struct origin_link *o = (struct origin_link *)io;

	if (io->fd < 0)
		return; /* closed or forgotten earlier in this iteration */
	if (o->owner) {
		o->owner->on_event(o->owner, events);
		return;
	}
	if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		return;
	idle_unlink(o->loop, o);
	idle_retire(o->loop, o);
}

/* Appends the NUL-terminated S to OUT[*at..LEN) (truncating; OUT stays terminated). */
static void key_add(char *out, size_t len, size_t *at, const char *s)
{
	size_t n = strlen(s);

	if (*at + 1 >= len)
		return;
	if (n > len - 1 - *at)
		n = len - 1 - *at;
	memcpy(out + *at, s, n);
	*at += n;
	out[*at] = '\0';
}

/* "HOST|PORT|TLS|SNI", built by hand: snprintf cost 1,500 instructions a request. */
void origin_pool_key(const char *host, unsigned port, int tls, const char *sni, char *out,
		     size_t len)
{
	char digits[16], *d = digits + sizeof(digits);
	size_t at = 0;

	*--d = '\0';
	do
		*--d = (char)('0' + port % 10);
	while ((port /= 10) != 0);
	if (len == 0)
		return;
	out[0] = '\0';
	key_add(out, len, &at, host);
	key_add(out, len, &at, "|");
	key_add(out, len, &at, d);
	key_add(out, len, &at, tls ? "|1|" : "|0|");
	key_add(out, len, &at, sni);
}

/* 1 when the idle socket is still open and quiet (no EOF, no stray bytes). */
static int still_open(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

int origin_pool_take(struct edge_loop *l, const char *key, int peek, struct edge_io *owner,
		     int *fd, SSL **ssl, struct origin_link **link)
{
	struct origin_link **pp = &l->idle;

	while (*pp) {
		struct origin_link *o = *pp;

		if (strcmp(o->key, key) != 0) {
			pp = &o->next;
			continue;
		}
		*pp = o->next;
		if (peek && !still_open(o->io.fd)) {
			idle_retire(l, o);
			continue;
		}
		l->n_idle--; /* lent: the caller owns the socket, the link passes its events on */
		o->owner = owner;
		*fd = o->io.fd;
		*ssl = o->ssl;
		o->ssl = NULL;
		*link = o;
		return 1;
	}
	return 0;
}

void origin_pool_forget(struct edge_loop *l, struct origin_link *link)
{
	if (link)
		link_bury(l, link);
}

void origin_pool_put(struct edge_loop *l, struct origin_link *link, const char *key, int fd,
		     SSL *ssl, int quiet)
{
	struct origin_link *o = link;
	size_t key_len = 0;

	if (l->n_idle >= ORIGIN_IDLE_MAX)
		goto drop;
	if (!o) {
		o = calloc(1, sizeof(*o));
		if (!o)
			goto drop;
		o->io.fd = fd;
		o->io.on_event = on_link_event;
		o->loop = l;
		quiet = 0; /* the socket's registration moves here: re-registered below */
	}
	/* A socket not known to be quiet is registered again, which reports what it holds now
	 * (edge-triggered, an unread byte would otherwise never be heard of again). */
	if (!quiet && edge_loop_mod(l, &o->io, ORIGIN_SOCKET_EVENTS) != 0) {
		if (o != link)
			free(o);
		goto drop;
	}
	o->owner = NULL;
	if (o != link) /* a lent link comes back under the key it was taken by */
		key_add(o->key, sizeof(o->key), &key_len, key);
	o->ssl = ssl;
	o->expires_us = time_now_us() + ORIGIN_IDLE_US;
	o->next = l->idle;
	l->idle = o;
	l->n_idle++;
	return;
drop:
	origin_pool_forget(l, link);
	SSL_free(ssl);
	close(fd);
}

void origin_pool_sweep(struct edge_loop *l, int64_t now_us, int all)
{
	struct origin_link **pp = &l->idle;

	while (*pp) {
		struct origin_link *o = *pp;

		if (!all && o->expires_us > now_us) {
			pp = &o->next;
			continue;
		}
		*pp = o->next;
		idle_retire(l, o);
	}
}

void origin_pool_reap(struct edge_loop *l)
{
	while (l->idle_dead) {
		struct origin_link *o = l->idle_dead;

		l->idle_dead = o->next;
		free(o);
	}
}

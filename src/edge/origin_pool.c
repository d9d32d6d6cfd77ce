/* Keep-alive connections to origins, per loop (no lock: only the loop's thread uses its pool).
 * An idle connection is keyed by origin host, port, TLS and SNI. It stays registered with the
 * loop while idle, so that an origin closing it (or sending bytes nobody asked for) closes it at
 * once instead of leaving a half-closed socket until reuse; it can be checked once more when
 * taken (see origin_pool_take) and is dropped after ORIGIN_IDLE_US or when the pool is full. */
#include "edge/edge_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "lib/timeutil.h"

#define ORIGIN_IDLE_US  (30 * 1000000LL)
#define ORIGIN_IDLE_MAX 256 /* per loop */

struct origin_idle {
	struct edge_io io; /* io.fd -1 once retired */
	struct edge_loop *loop;
	char key[600];
	SSL *ssl;
	int64_t expires_us;
	struct origin_idle *next;
};

/* Unlinked entries wait in l->idle_dead until the end of the loop iteration: an event for one
 * may still be in the batch epoll_wait returned. Closes what the entry still owns. */
static void idle_retire(struct edge_loop *l, struct origin_idle *o)
{
	SSL_free(o->ssl);
	o->ssl = NULL;
	if (o->io.fd >= 0)
		close(o->io.fd); /* unregisters it */
	o->io.fd = -1;
	l->n_idle--;
	o->next = l->idle_dead;
	l->idle_dead = o;
}

static void idle_unlink(struct edge_loop *l, struct origin_idle *o)
{
	struct origin_idle **pp = &l->idle;

	while (*pp && *pp != o)
		pp = &(*pp)->next;
	if (*pp)
		*pp = o->next;
}

/* The origin closed an idle connection or sent something unasked: it cannot be reused. */
static void on_idle_event(struct edge_io *io, uint32_t events)
{
	struct origin_idle *o = (struct origin_idle *)io;

	if (io->fd < 0)
		return; /* taken or retired earlier in this iteration */
	idle_unlink(o->loop, o);
	idle_retire(o->loop, o);
}

void origin_pool_key(const char *host, unsigned port, int tls, const char *sni, char *out,
		     size_t len)
{
	snprintf(out, len, "%s|%u|%d|%s", host, port, tls, sni);
}

/* 1 when the idle socket is still open and quiet (no EOF, no stray bytes). */
static int still_open(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

int origin_pool_take(struct edge_loop *l, const char *key, int peek, int *fd, SSL **ssl)
{
	struct origin_idle **pp = &l->idle;

	while (*pp) {
		struct origin_idle *o = *pp;
		int open;

		if (strcmp(o->key, key) != 0) {
			pp = &o->next;
			continue;
		}
		*pp = o->next;
		open = !peek || still_open(o->io.fd);
		if (open) { /* ownership moves to the caller */
			*fd = o->io.fd;
			*ssl = o->ssl;
			o->io.fd = -1;
			o->ssl = NULL;
		}
		idle_retire(l, o);
		if (open)
			return 1;
	}
	return 0;
}

void origin_pool_put(struct edge_loop *l, const char *key, int fd, SSL *ssl)
{
	struct origin_idle *o = l->n_idle < ORIGIN_IDLE_MAX ? calloc(1, sizeof(*o)) : NULL;

	if (o) {
		o->io.fd = fd;
		o->io.on_event = on_idle_event;
	}
	if (!o || edge_loop_mod(l, &o->io, EPOLLIN | EPOLLRDHUP) != 0) {
		free(o);
		SSL_free(ssl);
		close(fd);
		return;
	}
	o->loop = l;
	snprintf(o->key, sizeof(o->key), "%s", key);
	o->ssl = ssl;
	o->expires_us = time_now_us() + ORIGIN_IDLE_US;
	o->next = l->idle;
	l->idle = o;
	l->n_idle++;
}

void origin_pool_sweep(struct edge_loop *l, int64_t now_us, int all)
{
	struct origin_idle **pp = &l->idle;

	while (*pp) {
		struct origin_idle *o = *pp;

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
		struct origin_idle *o = l->idle_dead;

		l->idle_dead = o->next;
		free(o);
	}
}

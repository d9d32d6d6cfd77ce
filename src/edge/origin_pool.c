/* Keep-alive connections to origins, per loop (no lock: only the loop's thread uses its pool).
 * An idle connection is keyed by origin host, port, TLS and SNI; it is checked for a close by
 * the origin before reuse and dropped after ORIGIN_IDLE_US or when the pool is full. */
#include "edge/edge_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/timeutil.h"

#define ORIGIN_IDLE_US  (30 * 1000000LL)
#define ORIGIN_IDLE_MAX 256 /* per loop */

struct origin_idle {
	char key[600];
	int fd;
	SSL *ssl;
	int64_t expires_us;
	struct origin_idle *next;
};

static void idle_free(struct origin_idle *o)
{
	SSL_free(o->ssl);
	close(o->fd);
	free(o);
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

int origin_pool_take(struct edge_loop *l, const char *key, int *fd, SSL **ssl)
{
	struct origin_idle **pp = &l->idle;

	while (*pp) {
		struct origin_idle *o = *pp;

		if (strcmp(o->key, key) != 0) {
			pp = &o->next;
			continue;
		}
		*pp = o->next;
		l->n_idle--;
		if (!still_open(o->fd)) {
			idle_free(o);
			continue;
		}
		*fd = o->fd;
		*ssl = o->ssl;
		free(o);
		return 1;
	}
	return 0;
}

void origin_pool_put(struct edge_loop *l, const char *key, int fd, SSL *ssl)
{
	struct origin_idle *o = l->n_idle < ORIGIN_IDLE_MAX ? calloc(1, sizeof(*o)) : NULL;

	if (!o) {
		SSL_free(ssl);
		close(fd);
		return;
	}
	snprintf(o->key, sizeof(o->key), "%s", key);
	o->fd = fd;
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
		l->n_idle--;
		idle_free(o);
	}
}

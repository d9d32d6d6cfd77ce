/* Origin name resolution with c-ares, through dns.resolver (HOST:PORT) or the system's
 * configuration, cached by the answers' TTL. It runs on the lookup threads and the fallback
 * origin's check (one c-ares channel per thread), never on an event loop. */
#include "edge/edge_int.h"

#include <ares.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/log.h"
#include "lib/timeutil.h"

#define RESOLVE_CACHE_MAX  4096
#define RESOLVE_TIMEOUT_MS 5000
#define TTL_MIN_S          1
#define TTL_MAX_S          3600

struct cached_addr {
	char name[256];
	struct sockaddr_storage addr; /* port 0: the caller sets it */
	socklen_t len;
	int64_t expires_us;
	struct cached_addr *next;
};

struct resolver {
	char servers[CONFIG_ADDR_LEN];
	pthread_mutex_t lock;
	struct cached_addr *cache;
	size_t n_cached;
	pthread_key_t chan_key;
};

static void chan_destroy(void *p)
{
	ares_channel *ch = p;

	ares_destroy(*ch);
	free(ch);
}

int resolver_create(const char *servers, struct resolver **out)
{
	struct resolver *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return SE_ENOMEM;
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
		free(r);
		return SE_EIO;
	}
	snprintf(r->servers, sizeof(r->servers), "%s", servers ? servers : "");
	pthread_mutex_init(&r->lock, NULL);
	pthread_key_create(&r->chan_key, chan_destroy);
	*out = r;
	return 0;
}

void resolver_destroy(struct resolver *r)
{
	if (!r)
		return;
	while (r->cache) {
		struct cached_addr *c = r->cache;

		r->cache = c->next;
		free(c);
	}
	pthread_key_delete(r->chan_key);
	pthread_mutex_destroy(&r->lock);
	ares_library_cleanup();
	free(r);
}

/* Caller frees the calling thread's channel with resolver_thread_cleanup (or thread exit). */
static ares_channel *thread_channel(struct resolver *r)
{
	ares_channel *ch = pthread_getspecific(r->chan_key);
	struct ares_options opt = {.timeout = 2000, .tries = 2};

	if (ch)
		return ch;
	ch = calloc(1, sizeof(*ch));
	if (!ch)
		return NULL;
	if (ares_init_options(ch, &opt, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) != ARES_SUCCESS ||
	    (r->servers[0] && ares_set_servers_ports_csv(*ch, r->servers) != ARES_SUCCESS)) {
		free(ch);
		return NULL;
	}
	pthread_setspecific(r->chan_key, ch);
	return ch;
}

void resolver_thread_cleanup(struct resolver *r)
{
	ares_channel *ch = pthread_getspecific(r->chan_key);

	if (ch) {
		pthread_setspecific(r->chan_key, NULL);
		chan_destroy(ch);
	}
}

static int cache_get(struct resolver *r, const char *name, struct sockaddr_storage *out,
		     socklen_t *len)
{
	int64_t now = time_now_us();
	int found = 0;

	pthread_mutex_lock(&r->lock);
	for (struct cached_addr *c = r->cache; c; c = c->next) {
		if (strcmp(c->name, name) == 0 && c->expires_us > now) {
			memcpy(out, &c->addr, c->len);
			*len = c->len;
			found = 1;
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return found;
}

/* Replaces NAME's entry; drops the whole cache when full (simple, and rare). */
static void cache_put(struct resolver *r, const char *name, const struct sockaddr *sa,
		      socklen_t len, int ttl)
{
	struct cached_addr *c = calloc(1, sizeof(*c)), **pp;

	if (!c)
		return;
	snprintf(c->name, sizeof(c->name), "%s", name);
	memcpy(&c->addr, sa, len);
	c->len = len;
	ttl = ttl < TTL_MIN_S ? TTL_MIN_S : ttl > TTL_MAX_S ? TTL_MAX_S : ttl;
	c->expires_us = time_now_us() + (int64_t)ttl * 1000000;
	pthread_mutex_lock(&r->lock);
	for (pp = &r->cache; *pp;) {
		struct cached_addr *old = *pp;

		if (strcmp(old->name, name) == 0 || r->n_cached >= RESOLVE_CACHE_MAX) {
			*pp = old->next;
			r->n_cached--;
			free(old);
		} else {
			pp = &old->next;
		}
	}
	c->next = r->cache;
	r->cache = c;
	r->n_cached++;
	pthread_mutex_unlock(&r->lock);
}

struct query {
	int done;
	int status;
	struct sockaddr_storage addr;
	socklen_t len;
	int ttl;
};

static void on_answer(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct query *q = arg;

	q->done = 1;
	q->status = status;
	if (status == ARES_SUCCESS && res && res->nodes &&
	    res->nodes->ai_addrlen <= (int)sizeof(q->addr)) {
		memcpy(&q->addr, res->nodes->ai_addr, (size_t)res->nodes->ai_addrlen);
		q->len = (socklen_t)res->nodes->ai_addrlen;
		q->ttl = res->nodes->ai_ttl;
	} else if (status == ARES_SUCCESS) {
		q->status = ARES_ENODATA;
	}
	ares_freeaddrinfo(res);
}

/* Drives CH until Q is answered or the deadline passes. */
static void wait_answer(ares_channel ch, struct query *q)
{
	int64_t deadline = time_now_us() + RESOLVE_TIMEOUT_MS * 1000LL;

	while (!q->done && time_now_us() < deadline) {
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		struct pollfd pfd[ARES_GETSOCK_MAXNUM];
		unsigned bits = (unsigned)ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
		int n = 0;

		for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			/* c-ares's ARES_GETSOCK_WRITABLE shifts a signed 1 into bit 31 for the last
			 * slot (undefined behaviour): the same bits, unsigned. */
			short ev = (short)((bits & (1u << i) ? POLLIN : 0) |
					   (bits & (1u << (i + ARES_GETSOCK_MAXNUM)) ? POLLOUT : 0));

			if (ev)
				pfd[n++] = (struct pollfd){.fd = socks[i], .events = ev};
		}
		poll(pfd, (nfds_t)n, 100);
		for (int i = 0; i < n; i++)
			ares_process_fd(ch, pfd[i].revents & POLLIN ? pfd[i].fd : ARES_SOCKET_BAD,
					pfd[i].revents & POLLOUT ? pfd[i].fd : ARES_SOCKET_BAD);
		if (n == 0)
			ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD); /* timeouts */
	}
	if (!q->done)
		ares_cancel(ch); /* calls on_answer with ARES_ECANCELLED */
}

static void set_port(struct sockaddr_storage *ss, unsigned port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons((unsigned short)port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons((unsigned short)port);
}

static int resolve(struct resolver *r, const char *name, unsigned port, int cached,
		   struct sockaddr_storage *out, socklen_t *len)
{
	struct ares_addrinfo_hints hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct query q = {0};
	ares_channel *ch;

	if (cached && cache_get(r, name, out, len)) {
		set_port(out, port);
		return 0;
	}
	ch = thread_channel(r);
	if (!ch)
		return SE_EIO;
	ares_getaddrinfo(*ch, name, NULL, &hints, on_answer, &q);
	wait_answer(*ch, &q);
	if (q.status != ARES_SUCCESS) {
		log_info("edge msg=\"origin name does not resolve\" name=%s detail=\"%s\"", name,
			 ares_strerror(q.status));
		return SE_ENOTFOUND;
	}
	cache_put(r, name, (struct sockaddr *)&q.addr, q.len, q.ttl);
	memcpy(out, &q.addr, q.len);
	*len = q.len;
	set_port(out, port);
	return 0;
}

int resolver_resolve(struct resolver *r, const char *name, unsigned port,
		     struct sockaddr_storage *out, socklen_t *len)
{
	return resolve(r, name, port, 1, out, len);
}

int resolver_resolve_fresh(struct resolver *r, const char *name, unsigned port,
			   struct sockaddr_storage *out, socklen_t *len)
{
	return resolve(r, name, port, 0, out, len);
}

/* One epoll loop per worker thread. Lookup threads hand finished jobs back through a locked list
 * and an eventfd; connections closed during an iteration are freed at its end, never inside
 * their own callback. */
#include "edge/conn_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "edge/early_hints.h"
#include "lib/keys.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/timeutil.h"

#define LOOP_EVENTS  128
#define LOOP_TICK_MS 250
#define SWEEP_US     (250 * 1000)

static void drain_done(struct edge_loop *l)
{
	struct lookup_job *job, *rev = NULL;

	pthread_mutex_lock(&l->lock);
	job = l->done;
	l->done = NULL;
	pthread_mutex_unlock(&l->lock);
	while (job) { /* the list is newest first: replay in arrival order */
		struct lookup_job *next = job->next;

		job->next = rev;
		rev = job;
		job = next;
	}
	while (rev) {
		struct lookup_job *next = rev->next;

		edge_conn_job_done(l, rev);
		rev = next;
	}
}

static void on_wake(struct edge_io *io, uint32_t events)
{
	struct edge_loop *l =
	    (struct edge_loop *)((char *)io - offsetof(struct edge_loop, wake_io));
	uint64_t v;

	while (read(l->wake_fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		;
	drain_done(l);
}

/* The listening sockets are closed, after the connections already queued on them are taken.
 * A socket this process handed to its successor (handover.c) stays open there, queue and all;
 * one it did not is shared with no one, and the kernel resets what reaches it between the last
 * accept and the close (see docs/edge.md). */
static void stop_listening(struct edge_loop *l)
{
	for (int i = 0; i < l->n_listeners; i++) {
		struct edge_listener *ls = &l->listeners[i];

		if (ls->io.fd < 0)
			continue;
		while (edge_conn_accept(l, ls->io.fd, ls->tls))
			;
		edge_loop_del(l, &ls->io);
		close(ls->io.fd);
		ls->io.fd = -1;
	}
}

static void drain_start(struct edge_loop *l)
{
	l->draining = 1;
	edge_conn_drain_all(l);
	/* after: the connections taken from the queues are served one request */
	stop_listening(l);
}

static void *loop_main(void *arg)
{
	struct edge_loop *l = arg;
	struct epoll_event evs[LOOP_EVENTS];

	while (!atomic_load(&l->stop)) {
		int n = epoll_wait(l->epfd, evs, LOOP_EVENTS, LOOP_TICK_MS);
		int64_t now;

		for (int i = 0; i < n; i++) {
			struct edge_io *io = evs[i].data.ptr;

			io->on_event(io, evs[i].events);
		}
		now = time_now_us();
		if (now - l->last_sweep_us >= SWEEP_US) {
			l->last_sweep_us = now;
			edge_conn_sweep(l, now);
			origin_pool_sweep(l, now, 0);
		}
		if (!l->draining && atomic_load(&l->drain_deadline_us))
			drain_start(l);
		if (l->h2_pending)
			edge_h2_flush(l);
		edge_conn_reap(l);
		origin_pool_reap(l);
		if (l->draining && (!l->conns || now >= atomic_load(&l->drain_deadline_us)))
			break;
	}
	if (l->draining && l->conns) /* edge_loop_dispose closes them */
		log_warn("edge msg=\"connections still busy at the drain deadline\" count=%d",
			 edge_conn_count(l));
	keys_thread_cleanup();
	return NULL;
}

int edge_loop_init(struct edge_loop *l, struct edge *e)
{
	memset(l, 0, sizeof(*l));
	l->edge = e;
	pthread_mutex_init(&l->lock, NULL);
	atomic_init(&l->stop, 0);
	atomic_init(&l->drain_deadline_us, 0);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->epfd < 0 || l->wake_fd < 0)
		return SE_EIO;
	if (!(l->hints = hint_cache_create()))
		return SE_ENOMEM;
	buf_stash_init(l);
	l->wake_io.fd = l->wake_fd;
	l->wake_io.on_event = on_wake;
	return edge_loop_add(l, &l->wake_io, EPOLLIN);
}

static void on_accept(struct edge_io *io, uint32_t events)
{
	struct edge_listener *ls =
	    (struct edge_listener *)((char *)io - offsetof(struct edge_listener, io));

	(void)edge_conn_accept(ls->loop, io->fd, ls->tls);
}

int edge_loop_listen(struct edge_loop *l, const int *fds, const int *tls, int n)
{
	int rc = 0;

	/* One allocation before any is registered: epoll keeps pointers into the array. */
	l->listeners = calloc((size_t)n, sizeof(*l->listeners));
	for (int i = 0; i < n; i++) {
		if (!l->listeners) {
			close(fds[i]);
			continue;
		}
		l->listeners[i] = (struct edge_listener){
		    .io = {.fd = fds[i], .on_event = on_accept}, .loop = l, .tls = tls[i]};
		l->n_listeners++;
		if (rc == 0)
			rc = edge_loop_add(l, &l->listeners[i].io, EPOLLIN);
	}
	return l->listeners ? rc : SE_ENOMEM;
}

int edge_loop_start(struct edge_loop *l)
{
	if (pthread_create(&l->thread, NULL, loop_main, l) != 0)
		return SE_ENOMEM;
	l->started = 1;
	return 0;
}

static void wake(struct edge_loop *l)
{
	uint64_t one = 1;

	if (write(l->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("edge msg=\"cannot wake a loop\" errno=%d", errno);
}

void edge_loop_complete(struct edge_loop *l, struct lookup_job *job)
{
	pthread_mutex_lock(&l->lock);
	job->next = l->done;
	l->done = job;
	pthread_mutex_unlock(&l->lock);
	wake(l);
}

void edge_loop_halt(struct edge_loop *l)
{
	if (l->started) {
		atomic_store(&l->stop, 1);
		wake(l);
		pthread_join(l->thread, NULL);
		l->started = 0;
	}
}

void edge_loop_drain(struct edge_loop *l, int64_t deadline_us)
{
	if (l->started) {
		atomic_store(&l->drain_deadline_us, deadline_us > 0 ? deadline_us : 1);
		wake(l);
	}
}

void edge_loop_join(struct edge_loop *l)
{
	if (l->started) {
		pthread_join(l->thread, NULL);
		l->started = 0;
	}
}

void edge_loop_dispose(struct edge_loop *l)
{
	edge_loop_halt(l);
	drain_done(l);
	edge_conn_free_all(l);
	buf_stash_dispose(l);
	origin_pool_sweep(l, 0, 1);
	origin_pool_reap(l);
	for (int i = 0; i < l->n_listeners; i++)
		if (l->listeners[i].io.fd >= 0)
			close(l->listeners[i].io.fd);
	free(l->listeners);
	if (l->wake_fd >= 0)
		close(l->wake_fd);
	if (l->epfd >= 0)
		close(l->epfd);
	hint_cache_destroy(l->hints);
	pthread_mutex_destroy(&l->lock);
}

int edge_loop_add(struct edge_loop *l, struct edge_io *io, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = io};

	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, io->fd, &ev) == 0 ? 0 : SE_EIO;
}

int edge_loop_mod(struct edge_loop *l, struct edge_io *io, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = io};

	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev) == 0 ? 0 : SE_EIO;
}

void edge_loop_del(struct edge_loop *l, struct edge_io *io)
{
	if (io->fd >= 0)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
}

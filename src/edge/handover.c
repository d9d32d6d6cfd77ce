/* A restart that loses no connection: the new edge process takes the old one's listening
 * sockets instead of only adding its own beside them.
 *
 * With SO_REUSEPORT alone, the kernel spreads new connections over the old process's sockets and
 * the new one's, and when the old process closes its sockets it resets every connection still
 * queued on them: those that arrived between its last accept and its close, or all of them if
 * it hung or was killed (unless net.ipv4.tcp_migrate_req is on). So every edge process serves
 * its listening sockets on a Unix socket in its data directory (edge.sock, SOCK_SEQPACKET, to
 * processes of its own user only), and a new one asks there first, as HAProxy's seamless reload
 * does (`expose-fd listeners`, `-x`). A socket received is the same socket, queue and all: once
 * both processes hold it, the old one closing its descriptor loses nothing. */
#include "edge/edge_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/log.h"

#define SOCKET_NAME "edge.sock"
#define BATCH       200 /* sockets per message, under the kernel's SCM_MAX_FD (253) */
#define TIMEOUT_S   2   /* a process that does not answer in time hands over nothing */

struct handover {
	struct edge *edge;
	int dir_fd;        /* the data directory: the socket's path is resolved through it */
	int listen_fd;     /* the Unix socket successors connect to */
	int wake_fd;       /* eventfd: stop */
	struct stat bound; /* the socket file as bound, to remove it only while it is ours */
	pthread_t thread;
	int started;
};

/* The socket's path through /proc/self/fd: a data directory's own path may be longer than
 * sun_path holds. */
static int unix_addr(int dir_fd, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	return snprintf(sun->sun_path, sizeof(sun->sun_path), "/proc/self/fd/%d/%s", dir_fd,
			SOCKET_NAME) < (int)sizeof(sun->sun_path)
		   ? 0
		   : SE_ECONFIG;
}

static int open_dir(const struct config *cfg)
{
	return open(cfg->data_dir[0] ? cfg->data_dir : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/* ---- the new process: taking the sockets --------------------------------------------------- */

/* 1 when FD is a listening TCP socket (anything else from the other end is refused). */
static int is_tcp_listener(int fd)
{
	int v = 0;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) != 0 || v != 1)
		return 0;
	len = sizeof(v);
	return getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &len) == 0 && v == IPPROTO_TCP;
}

static void keep(const struct config *cfg, struct handover_taken *out, int fd, char kind)
{
	int tls = kind == 'S';
	const char *addr = tls ? cfg->edge.https_listen : cfg->edge.http_listen;
	int flags;

	if ((kind != 'S' && kind != 'P') || out->n[tls] == HANDOVER_MAX || !is_tcp_listener(fd) ||
	    !edge_listen_matches(addr, fd)) {
		close(fd);
		return;
	}
	/* The loops accept without blocking; the flag belongs to the socket both processes share,
	 * which the old one made non-blocking too. */
	flags = fcntl(fd, F_GETFL);
	if (flags >= 0 && !(flags & O_NONBLOCK))
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	out->fds[tls][out->n[tls]++] = fd;
}

/* One message: a kind per socket ('S' HTTPS, 'P' plain HTTP) and the sockets. 1 when one came,
 * 0 at the end, < 0 on an error. */
static int receive_batch(int s, const struct config *cfg, struct handover_taken *out)
{
	char kinds[BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(int) * BATCH)];
		struct cmsghdr align;
	} ctrl;
	struct iovec iov = {.iov_base = kinds, .iov_len = sizeof(kinds)};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = ctrl.buf,
			   .msg_controllen = sizeof(ctrl.buf)};
	ssize_t n = recvmsg(s, &m, MSG_CMSG_CLOEXEC);
	int bad;

	if (n < 0) /* no answer in time: nothing came, and M's control part is not to be read */
		return SE_EIO;
	bad = (m.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) != 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		int count;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (int i = 0; i < count; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (bad || i >= n)
				close(fd);
			else
				keep(cfg, out, fd, kinds[i]);
		}
	}
	if (bad)
		return SE_EIO;
	return n > 0; /* 0: the end (anything sent with it was closed above) */
}

void handover_take(const struct config *cfg, struct handover_taken *out)
{
	struct timeval tv = {.tv_sec = TIMEOUT_S};
	struct sockaddr_un sun;
	int dir_fd = open_dir(cfg), s = -1, rc;

	memset(out, 0, sizeof(*out));
	if (dir_fd < 0 || unix_addr(dir_fd, &sun) != 0)
		goto out;
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		goto out;
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		goto out; /* no edge process on this data directory: nothing to take */
	while ((rc = receive_batch(s, cfg, out)) > 0)
		;
	if (rc < 0) /* an old process that hangs, or an answer that is not the list */
		log_warn(
		    "edge msg=\"listening sockets not handed over\" detail=\"no answer in %d s, "
		    "or not a list of sockets\"",
		    TIMEOUT_S);
	if (out->n[0] + out->n[1] > 0)
		log_info("edge msg=\"listening sockets taken over\" https=%d http=%d", out->n[1],
			 out->n[0]);
out:
	if (s >= 0)
		close(s);
	if (dir_fd >= 0)
		close(dir_fd);
}

void handover_taken_close(struct handover_taken *t)
{
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < t->n[k]; i++)
			if (t->fds[k][i] >= 0)
				close(t->fds[k][i]);
	t->n[0] = t->n[1] = 0;
}

/* ---- the running process: handing them over ----------------------------------------------- */

static int send_batch(int s, const int *fds, const char *kinds, int n)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * BATCH)];
		struct cmsghdr align;
	} ctrl;
	struct iovec iov = {.iov_base = (void *)kinds, .iov_len = (size_t)n};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = ctrl.buf,
			   .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	memset(ctrl.buf, 0, sizeof(ctrl.buf));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)n);
	return sendmsg(s, &m, MSG_NOSIGNAL) == (ssize_t)n ? 0 : SE_EIO;
}

/* Every loop's listening sockets to S, in batches; the end of the connection ends the list. */
static void send_listeners(const struct edge *e, int s)
{
	int fds[BATCH], n = 0, total = 0;
	char kinds[BATCH];

	for (int i = 0; i < e->n_loops; i++) {
		const struct edge_loop *l = &e->loops[i];

		for (int j = 0; j < l->n_listeners; j++) {
			fds[n] = l->listeners[j].io.fd;
			kinds[n++] = l->listeners[j].tls ? 'S' : 'P';
			if (n == BATCH) {
				if (send_batch(s, fds, kinds, n) != 0)
					return;
				total += n;
				n = 0;
			}
		}
	}
	if (n > 0 && send_batch(s, fds, kinds, n) != 0)
		return;
	log_info("edge msg=\"listening sockets handed over\" count=%d", total + n);
}

/* A process of another user gets nothing, even should the directory's mode let it connect. */
static int same_user(int s)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	return getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.uid == getuid();
}

static void *serve(void *arg)
{
	struct handover *h = arg;
	struct timeval tv = {.tv_sec = TIMEOUT_S};

	for (;;) {
		struct pollfd p[2] = {{.fd = h->listen_fd, .events = POLLIN},
				      {.fd = h->wake_fd, .events = POLLIN}};
		int s;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		s = accept4(h->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (s < 0)
			continue;
		setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (same_user(s))
			send_listeners(h->edge, s);
		close(s);
	}
	return NULL;
}

/* The socket file is replaced: a process still serving it (the one this one replaces) keeps
 * its socket, which no one can reach any more. */
static int bind_socket(struct handover *h)
{
	struct sockaddr_un sun;
	int rc = unix_addr(h->dir_fd, &sun);

	if (rc)
		return rc;
	h->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->listen_fd < 0)
		return SE_EIO;
	unlinkat(h->dir_fd, SOCKET_NAME, 0);
	if (bind(h->listen_fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    fchmodat(h->dir_fd, SOCKET_NAME, 0600, 0) != 0 ||
	    fstatat(h->dir_fd, SOCKET_NAME, &h->bound, 0) != 0 || listen(h->listen_fd, 8) != 0)
		return SE_EIO;
	return 0;
}

int handover_start(struct edge *e, struct handover **out)
{
	struct handover *h = calloc(1, sizeof(*h));
	int rc;

	*out = NULL;
	if (!h)
		return SE_ENOMEM;
	h->edge = e;
	h->listen_fd = -1;
	h->dir_fd = open_dir(e->cfg);
	h->wake_fd = eventfd(0, EFD_CLOEXEC);
	rc = h->dir_fd < 0 || h->wake_fd < 0 ? SE_EIO : bind_socket(h);
	if (rc == 0 && pthread_create(&h->thread, NULL, serve, h) != 0)
		rc = SE_ENOMEM;
	h->started = rc == 0;
	if (rc) {
		log_warn("edge msg=\"cannot hand the listening sockets to a successor\" path=%s/%s "
			 "error=%s",
			 e->cfg->data_dir, SOCKET_NAME, strerror(errno));
		handover_stop(h);
		return rc;
	}
	*out = h;
	return 0;
}

void handover_stop(struct handover *h)
{
	struct stat now;
	uint64_t one = 1;

	if (!h)
		return;
	if (h->started) {
		if (write(h->wake_fd, &one, sizeof(one)) < 0)
			log_warn("edge msg=\"handover thread not woken\"");
		pthread_join(h->thread, NULL);
	}
	/* Removed only while it is still the one this process bound: a successor has bound its
	 * own at the same path. */
	if (h->listen_fd >= 0 && h->dir_fd >= 0 && fstatat(h->dir_fd, SOCKET_NAME, &now, 0) == 0 &&
	    now.st_ino == h->bound.st_ino && now.st_dev == h->bound.st_dev)
		unlinkat(h->dir_fd, SOCKET_NAME, 0);
	if (h->listen_fd >= 0)
		close(h->listen_fd);
	if (h->wake_fd >= 0)
		close(h->wake_fd);
	if (h->dir_fd >= 0)
		close(h->dir_fd);
	free(h);
}

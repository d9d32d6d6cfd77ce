/* The dns role's sockets: one UDP and one TCP socket on dns.listen, served by one thread with
 * poll. Answers come from an indexed store read (microseconds), so one thread keeps up; UDP
 * answers are rate limited per client prefix (dns_rrl.c). TCP connections are non-blocking with
 * their own buffers, so a slow or silent client holds a slot, never the thread; and a slot for
 * a bounded time: a whole query must arrive within dns.tcp_idle_timeout of the connection or of
 * the last answer (bytes trickled in do not extend it), a connection ends after
 * dns.tcp_lifetime whatever it does, and after dns.tcp_max_queries answers. */
#include "dns/dns.h"
#include "dns/dns_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/log.h"
#include "lib/netaddr.h"
#include "lib/timeutil.h"

#define DNS_TCP_MAX   64 /* connections at once; more wait in the kernel's backlog */
#define SECOND_US     INT64_C(1000000)
#define DNS_UDP_BATCH 64 /* datagrams per wake-up before looking at TCP again */
#define DNS_MSG_MAX   65535
#define DNS_QUERY_MAX 4096 /* a longer query is not one we could answer: the connection ends */
/* The UDP receive buffer asked for (the kernel caps it at net.core.rmem_max): a burst the
 * default ~200 KB cannot hold (~250 small queries) would be dropped by the kernel before the
 * rate limiter sees it, so a resolver farm's burst loses queries while the thread is busy. */
#define DNS_UDP_RCVBUF (4 << 20)

struct tcp_conn {
	int fd;              /* -1: free slot */
	int64_t query_by_us; /* the next whole query must have arrived by then */
	int64_t end_us;      /* closed then, whatever happens: accepted + dns.tcp_lifetime */
	int64_t answered;
	uint8_t in[2 + DNS_QUERY_MAX];
	size_t in_len;
	uint8_t *out; /* owned: length prefix and response, being written */
	size_t out_len, out_sent;
};

struct dns_server {
	struct store *st;
	struct dns_zone zone;
	int udp_fd, tcp_fd, wake_fd;
	int port;
	pthread_t thread;
	int thread_started;
	struct dns_sync *sync; /* RFC 2136 push, when dns.update_server is set */
	struct dns_rrl *rrl;   /* NULL: dns.rrl_rate 0 */
	int64_t tcp_idle_us, tcp_lifetime_us, tcp_max_queries;
	struct tcp_conn conns[DNS_TCP_MAX];
};

static int store_lookup(void *ctx, const char *label, char values[][STORE_DNS_VALUE_MAX + 1],
			size_t max, size_t *n)
{
	return store_dns_records_get(ctx, label, values, max, n);
}

/* Sets REPLY's control message so that it leaves from the address QUERY was sent to: with a
 * socket bound to every address, the kernel would otherwise pick the source by route, and a
 * resolver drops an answer from an address it did not ask. CTL (LEN bytes) holds it. */
static void reply_source(struct msghdr *query, struct msghdr *reply, char *ctl, size_t len)
{
	struct cmsghdr *out;

	memset(ctl, 0, len);
	reply->msg_control = ctl;
	reply->msg_controllen = len;
	out = CMSG_FIRSTHDR(reply);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(query); c && out; c = CMSG_NXTHDR(query, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			pi.ipi_spec_dst = pi.ipi_addr;
			pi.ipi_ifindex = 0;
			out->cmsg_level = IPPROTO_IP;
			out->cmsg_type = IP_PKTINFO;
			out->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(out), &pi, sizeof(pi));
			reply->msg_controllen = CMSG_SPACE(sizeof(pi));
			return;
		}
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			out->cmsg_level = IPPROTO_IPV6;
			out->cmsg_type = IPV6_PKTINFO;
			out->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
			memcpy(CMSG_DATA(out), CMSG_DATA(c), sizeof(struct in6_pktinfo));
			reply->msg_controllen = CMSG_SPACE(sizeof(struct in6_pktinfo));
			return;
		}
	}
	reply->msg_control = NULL;
	reply->msg_controllen = 0;
}

static void udp_serve(struct dns_server *d)
{
	uint8_t buf[DNS_MSG_MAX];
	/* Room for one pktinfo of either family, aligned for cmsghdr. */
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} qctl, rctl;

	for (int i = 0; i < DNS_UDP_BATCH; i++) {
		struct sockaddr_storage from;
		struct iovec iov = {buf, sizeof(buf)}, riov;
		struct msghdr msg = {.msg_name = &from,
				     .msg_namelen = sizeof(from),
				     .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = qctl.buf,
				     .msg_controllen = sizeof(qctl.buf)};
		struct msghdr reply;
		ssize_t n = recvmsg(d->udp_fd, &msg, 0);
		uint8_t *out = NULL;
		size_t out_len = 0;
		enum dns_rrl_action act;

		if (n < 0)
			return; /* EAGAIN: drained */
		act = dns_rrl_account(d->rrl, &from, time_now_us());
		if (act == DNS_RRL_DROP)
			continue;
		if (dns_answer(&d->zone, store_lookup, d->st, buf, (size_t)n, DNS_UDP_PLAIN, &out,
			       &out_len) == 0) {
			if (act == DNS_RRL_SLIP)
				dns_answer_truncate(out, &out_len);
			riov = (struct iovec){out, out_len};
			reply = (struct msghdr){.msg_name = &from,
						.msg_namelen = msg.msg_namelen,
						.msg_iov = &riov,
						.msg_iovlen = 1};
			reply_source(&msg, &reply, rctl.buf, sizeof(rctl.buf));
			sendmsg(d->udp_fd, &reply, 0);
		}
		free(out);
	}
}

static void conn_close(struct tcp_conn *c)
{
	close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
	c->in_len = c->out_len = c->out_sent = 0;
}

static void tcp_accept(struct dns_server *d)
{
	for (;;) {
		int fd = accept4(d->tcp_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		size_t i = 0;

		if (fd < 0)
			return;
		while (i < DNS_TCP_MAX && d->conns[i].fd >= 0)
			i++;
		if (i == DNS_TCP_MAX) { /* full: the client retries, or uses UDP */
			close(fd);
			continue;
		}
		d->conns[i].fd = fd;
		d->conns[i].query_by_us = time_now_us() + d->tcp_idle_us;
		d->conns[i].end_us = time_now_us() + d->tcp_lifetime_us;
		d->conns[i].answered = 0;
	}
}

/* A whole message is in C->in: answer it into C->out. 0, or < 0 to close. */
static int tcp_answer(struct dns_server *d, struct tcp_conn *c, size_t msg_len)
{
	uint8_t *resp = NULL;
	size_t resp_len = 0;
	int rc = dns_answer(&d->zone, store_lookup, d->st, c->in + 2, msg_len, DNS_MSG_MAX, &resp,
			    &resp_len);

	memmove(c->in, c->in + 2 + msg_len, c->in_len - 2 - msg_len);
	c->in_len -= 2 + msg_len;
	c->answered++;
	if (rc == SE_EINVAL)
		return 0; /* nothing to say to that message */
	if (rc)
		return rc;
	c->out = malloc(resp_len + 2);
	if (!c->out) {
		free(resp);
		return SE_ENOMEM;
	}
	c->out[0] = (uint8_t)(resp_len >> 8);
	c->out[1] = (uint8_t)resp_len;
	memcpy(c->out + 2, resp, resp_len);
	c->out_len = resp_len + 2;
	c->out_sent = 0;
	free(resp);
	return 0;
}

/* Reads, answers and writes what C allows without blocking; 0, or < 0 to close. */
static int tcp_serve(struct dns_server *d, struct tcp_conn *c)
{
	for (;;) {
		if (c->out) {
			ssize_t n = write(c->fd, c->out + c->out_sent, c->out_len - c->out_sent);

			if (n < 0)
				return errno == EAGAIN ? 0 : SE_EIO;
			c->out_sent += (size_t)n;
			if (c->out_sent < c->out_len)
				continue;
			free(c->out);
			c->out = NULL;
			if (c->answered >= d->tcp_max_queries)
				return SE_EQUOTA; /* dns.tcp_max_queries: the client reconnects */
			c->query_by_us = time_now_us() + d->tcp_idle_us;
		}
		if (c->in_len >= 2) {
			size_t msg_len = (size_t)c->in[0] << 8 | c->in[1];

			if (msg_len > DNS_QUERY_MAX)
				return SE_ETOOBIG;
			if (c->in_len >= 2 + msg_len) {
				int rc = tcp_answer(d, c, msg_len);

				if (rc)
					return rc;
				continue;
			}
		}
		ssize_t n = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);

		if (n == 0)
			return SE_EIO; /* the client is done */
		if (n < 0)
			return errno == EAGAIN ? 0 : SE_EIO;
		c->in_len += (size_t)n; /* no new deadline: only an answer earns time */
	}
}

static void *dns_thread(void *arg)
{
	struct dns_server *d = arg;
	struct pollfd pfd[3 + DNS_TCP_MAX];
	int slot[3 + DNS_TCP_MAX];

	for (;;) {
		nfds_t n = 3;
		int64_t now;

		pfd[0] = (struct pollfd){.fd = d->wake_fd, .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = d->udp_fd, .events = POLLIN};
		pfd[2] = (struct pollfd){.fd = d->tcp_fd, .events = POLLIN};
		for (int i = 0; i < DNS_TCP_MAX; i++) {
			if (d->conns[i].fd < 0)
				continue;
			slot[n] = i;
			pfd[n++] = (struct pollfd){.fd = d->conns[i].fd,
						   .events = d->conns[i].out ? POLLOUT : POLLIN};
		}
		if (poll(pfd, n, 1000) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			break;
		if (pfd[1].revents)
			udp_serve(d);
		for (nfds_t i = 3; i < n; i++) {
			struct tcp_conn *c = &d->conns[slot[i]];

			if (pfd[i].revents && tcp_serve(d, c) != 0)
				conn_close(c);
		}
		now = time_now_us();
		for (int i = 0; i < DNS_TCP_MAX; i++) {
			struct tcp_conn *c = &d->conns[i];

			if (c->fd >= 0 && (now > c->query_by_us || now > c->end_us))
				conn_close(c);
		}
		/* Last, so that slots freed above (a client that hung up, a deadline) go to the
		 * connections waiting now rather than those being refused for want of a slot. */
		if (pfd[2].revents)
			tcp_accept(d);
	}
	return NULL;
}

static int bind_socket(const struct sockaddr_storage *ss, socklen_t len, int type, int *out)
{
	int one = 1, fd = socket(ss->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int rc;

	*out = -1;
	if (fd < 0)
		return SE_EIO;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (type == SOCK_DGRAM)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &(int){DNS_UDP_RCVBUF}, sizeof(int));
	if (type == SOCK_DGRAM && ss->ss_family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	else if (type == SOCK_DGRAM)
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, len) != 0 ||
	    (type == SOCK_STREAM && listen(fd, 128) != 0)) {
		rc = errno == EADDRINUSE ? SE_EADDRINUSE : SE_EIO;
		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}

/* UDP and TCP on the same port: when the configured port is 0, TCP takes the one UDP got. */
static int bind_both(struct dns_server *d, const char *listen_addr)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	int rc = netaddr_parse(listen_addr, &ss, &len);

	if (rc == 0)
		rc = bind_socket(&ss, len, SOCK_DGRAM, &d->udp_fd);
	if (rc)
		return rc;
	d->port = netaddr_bound_port(d->udp_fd);
	if (ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((unsigned short)d->port);
	else
		((struct sockaddr_in *)&ss)->sin_port = htons((unsigned short)d->port);
	return bind_socket(&ss, len, SOCK_STREAM, &d->tcp_fd);
}

int dns_start(const struct config *cfg, struct store *st, struct dns_server **out)
{
	struct dns_server *d;
	char ns[300];
	int rc;

	*out = NULL;
	if (!cfg->dns.zone[0]) {
		log_info("msg=\"dns role idle: dns.zone is not set (cname DCV unavailable)\"");
		return 0;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return SE_ENOMEM;
	d->st = st;
	d->udp_fd = d->tcp_fd = d->wake_fd = -1;
	/* A configuration built by hand may leave these 0: the table's defaults then. */
	d->tcp_idle_us = (cfg->dns.tcp_idle_timeout ? cfg->dns.tcp_idle_timeout : 10) * SECOND_US;
	d->tcp_lifetime_us = (cfg->dns.tcp_lifetime ? cfg->dns.tcp_lifetime : 30) * SECOND_US;
	d->tcp_max_queries = cfg->dns.tcp_max_queries ? cfg->dns.tcp_max_queries : 100;
	for (int i = 0; i < DNS_TCP_MAX; i++)
		d->conns[i].fd = -1;
	/* config_load fills the name server in; a configuration built by hand may not. */
	if (cfg->dns.nameserver[0])
		snprintf(ns, sizeof(ns), "%s", cfg->dns.nameserver);
	else
		snprintf(ns, sizeof(ns), "ns.%s", cfg->dns.zone);
	rc = dns_zone_init(&d->zone, cfg->dns.zone, ns, (uint32_t)(time_now_us() / 1000000));
	if (rc == 0)
		rc = dns_rrl_create(cfg->dns.rrl_rate, cfg->dns.rrl_slip, &d->rrl);
	if (rc == 0)
		rc = bind_both(d, cfg->dns.listen);
	if (rc == 0) {
		d->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		rc = d->wake_fd < 0 ? SE_EIO : 0;
	}
	if (rc == 0 && pthread_create(&d->thread, NULL, dns_thread, d) != 0)
		rc = SE_EIO;
	d->thread_started = rc == 0;
	if (rc == 0 && cfg->dns.update_server[0])
		rc = dns_sync_start(cfg, st, &d->sync);
	if (rc) {
		log_error("msg=\"dns role cannot start\" listen=%s zone=%s err=%s", cfg->dns.listen,
			  cfg->dns.zone, se_errname(rc));
		dns_stop(d);
		return rc;
	}
	log_info("msg=\"dns role serving\" zone=%s listen=%s port=%d", cfg->dns.zone,
		 cfg->dns.listen, d->port);
	*out = d;
	return 0;
}

int dns_port(const struct dns_server *d)
{
	return d ? d->port : 0;
}

void dns_stop(struct dns_server *d)
{
	uint64_t one = 1;

	if (!d)
		return;
	dns_sync_stop(d->sync);
	if (d->thread_started) {
		if (write(d->wake_fd, &one, sizeof(one)) < 0)
			log_warn("msg=\"dns role wake-up failed\"");
		pthread_join(d->thread, NULL);
	}
	for (int i = 0; i < DNS_TCP_MAX; i++) {
		if (d->conns[i].fd >= 0)
			conn_close(&d->conns[i]);
	}
	if (d->udp_fd >= 0)
		close(d->udp_fd);
	if (d->tcp_fd >= 0)
		close(d->tcp_fd);
	if (d->wake_fd >= 0)
		close(d->wake_fd);
	dns_zone_dispose(&d->zone);
	dns_rrl_destroy(d->rrl);
	free(d);
}

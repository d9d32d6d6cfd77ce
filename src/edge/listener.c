/* Listening sockets: one per loop and address, with SO_REUSEPORT so that the kernel spreads
 * accepted connections over the loops without a shared accept lock. ":PORT" listens on every
 * IPv4 and IPv6 address through one [::] socket with IPV6_V6ONLY off, or on 0.0.0.0 when the
 * host has no IPv6. */
#include "edge/edge_int.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/netaddr.h"

/* A listening socket on SA into *fd; *no_ipv6 tells a failure that only means "this host has no
 * IPv6" (the caller falls back to IPv4). */
static int listen_on(const struct sockaddr *sa, socklen_t len, int *fd, int *no_ipv6)
{
	int one = 1, zero = 0, s, rc;

	*no_ipv6 = 0;
	s = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0) {
		*no_ipv6 = sa->sa_family == AF_INET6 && errno == EAFNOSUPPORT;
		return SE_EIO;
	}
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	/* Accepted sockets inherit it: one setsockopt per listener, not one per connection. */
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (sa->sa_family == AF_INET6)
		setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(s, sa, len) != 0 || listen(s, 1024) != 0) {
		*no_ipv6 = sa->sa_family == AF_INET6 && errno == EADDRNOTAVAIL;
		rc = errno == EADDRINUSE ? SE_EADDRINUSE : SE_EIO;
		close(s);
		return rc;
	}
	*fd = s;
	return 0;
}

int edge_listen(const char *addr, int *fd, int *port)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	int rc, no_ipv6 = 0;

	*fd = -1;
	rc = netaddr_parse(addr, &ss, &len);
	if (rc)
		return rc;
	if (addr[0] == ':') { /* every address: ss is 0.0.0.0 with the port */
		struct sockaddr_in6 any = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT};

		any.sin6_port = ((struct sockaddr_in *)&ss)->sin_port;
		rc = listen_on((struct sockaddr *)&any, sizeof(any), fd, &no_ipv6);
		if (rc == 0 || !no_ipv6)
			goto out;
	}
	rc = listen_on((struct sockaddr *)&ss, len, fd, &no_ipv6);
out:
	if (rc == 0)
		*port = netaddr_bound_port(*fd);
	return rc;
}

static int port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

static int is_any(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
}

int edge_listen_matches(const char *addr, int fd)
{
	struct sockaddr_storage want, got;
	socklen_t len = sizeof(got);

	if (netaddr_parse(addr, &want, &len) != 0)
		return 0;
	len = sizeof(got);
	if (getsockname(fd, (struct sockaddr *)&got, &len) != 0)
		return 0;
	if (port_of(&want) == 0 || port_of(&want) != port_of(&got))
		return 0;
	if (addr[0] == ':') /* every address: [::] or 0.0.0.0, as edge_listen got it */
		return is_any(&got);
	if (want.ss_family != got.ss_family)
		return 0;
	if (got.ss_family == AF_INET6)
		return memcmp(&((struct sockaddr_in6 *)&want)->sin6_addr,
			      &((struct sockaddr_in6 *)&got)->sin6_addr,
			      sizeof(struct in6_addr)) == 0;
	return ((struct sockaddr_in *)&want)->sin_addr.s_addr ==
	       ((struct sockaddr_in *)&got)->sin_addr.s_addr;
}

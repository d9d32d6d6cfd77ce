/* Listening sockets: one per loop and address, with SO_REUSEPORT so that the kernel spreads
 * accepted connections over the loops without a shared accept lock. */
#include "edge/edge_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/netaddr.h"

int edge_listen(const char *addr, int *fd, int *port)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	int one = 1, s, rc;

	*fd = -1;
	rc = netaddr_parse(addr, &ss, &len);
	if (rc)
		return rc;
	s = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return SE_EIO;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&ss, len) != 0 || listen(s, 1024) != 0) {
		rc = errno == EADDRINUSE ? SE_EADDRINUSE : SE_EIO;
		close(s);
		return rc;
	}
	*fd = s;
	*port = netaddr_bound_port(s);
	return 0;
}

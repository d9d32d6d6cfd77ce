#include "lib/curl_guard.h"

#include <stdio.h>
#include <sys/socket.h>

static curl_socket_t open_guarded(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct curl_guard *g = arg;
	const struct sockaddr *sa = &a->addr;

	if (purpose != CURLSOCKTYPE_IPCXN || !netpolicy_allows(g->policy, sa, 0)) {
		const void *ip =
		    sa->sa_family == AF_INET6
			? (const void *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr
			: (const void *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;

		if (!inet_ntop(sa->sa_family, ip, g->refused, sizeof(g->refused)))
			snprintf(g->refused, sizeof(g->refused), "?");
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

void curl_guard_install(CURL *curl, struct curl_guard *guard)
{
	guard->refused[0] = '\0';
	curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, open_guarded);
	curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, guard);
	curl_easy_setopt(curl, CURLOPT_PROXY, "");
}

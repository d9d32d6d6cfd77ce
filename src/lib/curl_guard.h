/* Outbound libcurl connections under the address policy (lib/netpolicy.h): DCV pre-flight
 * fetches and webhook deliveries dial only addresses the policy allows, whatever name or
 * redirect led there. */
#ifndef SAASEDGE_LIB_CURL_GUARD_H
#define SAASEDGE_LIB_CURL_GUARD_H

#include <arpa/inet.h>
#include <curl/curl.h>

#include "lib/netpolicy.h"

struct curl_guard {
	const struct netpolicy *policy;
	char refused[INET6_ADDRSTRLEN]; /* the address refused, "" when none was */
};

/* Makes CURL open its sockets through GUARD (borrowed until the transfer ends): a refused
 * address gets no socket, so no packet reaches it and nothing about its ports comes back; its
 * text lands in guard->refused. No proxy from the environment is dialled instead. */
void curl_guard_install(CURL *curl, struct curl_guard *guard);

#endif

/* Listen addresses as the configuration spells them: "HOST:PORT", ":PORT" (every IPv4
 * address) or "[v6]:PORT", with numeric hosts only (no lookup at start-up). */
#ifndef SAASEDGE_LIB_NETADDR_H
#define SAASEDGE_LIB_NETADDR_H

#include <sys/socket.h>

/* Fills *SS and *LEN from TEXT; SE_ECONFIG when TEXT is not one of the forms above. */
int netaddr_parse(const char *text, struct sockaddr_storage *ss, socklen_t *len);

/* The local port FD is bound to, 0 when unknown. */
int netaddr_bound_port(int fd);

#endif

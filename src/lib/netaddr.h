/* Listen addresses as the configuration spells them: "HOST:PORT", ":PORT" (every IPv4
 * address) or "[v6]:PORT", with numeric hosts only (no lookup at start-up). */
#ifndef SAASEDGE_LIB_NETADDR_H
#define SAASEDGE_LIB_NETADDR_H

#include <sys/socket.h>

/* Fills *SS and *LEN from TEXT; SE_ECONFIG when TEXT is not one of the forms above. */
int netaddr_parse(const char *text, struct sockaddr_storage *ss, socklen_t *len);

/* A listening TCP socket (close-on-exec, SO_REUSEADDR, backlog 1024) on TEXT into *FD_OUT and
 * the port it got into *PORT_OUT (TEXT may ask for port 0). SE_ECONFIG for a bad address,
 * SE_EADDRINUSE, or SE_EIO. The caller owns the socket. */
int netaddr_listen_tcp(const char *text, int *fd_out, unsigned *port_out);

/* The local port FD is bound to, 0 when unknown. */
int netaddr_bound_port(int fd);

#endif

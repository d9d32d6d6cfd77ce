/* The dns role: an authoritative server for the DCV delegation zone (dns.zone). Customers CNAME
 * _acme-challenge.<host> to <label>.<dns.zone>; this role answers the TXT values that the issuer
 * published in the store for that label, so that dns-01 (ssl.method "cname") needs nothing more
 * from the customer, renewals and wildcards included. It answers for nothing outside its zone. */
#ifndef SAASEDGE_DNS_DNS_H
#define SAASEDGE_DNS_DNS_H

#include "lib/config.h"
#include "store/store.h"

struct dns_server;

/* Binds UDP and TCP on cfg->dns.listen for zone cfg->dns.zone and starts the role's thread.
 * With no dns.zone the role has nothing to serve: *out is NULL, 0 is returned and a log line
 * says so. CFG and ST are borrowed and must outlive the server; *out is freed by dns_stop.
 * SE_EADDRINUSE when the port is taken, SE_ECONFIG for a bad address. Main thread only. */
int dns_start(const struct config *cfg, struct store *st, struct dns_server **out);

/* The port the server is bound to (dns.listen may say 0); 0 for NULL. */
int dns_port(const struct dns_server *d);

/* Stops the thread, closes every socket and frees D. NULL-safe. */
void dns_stop(struct dns_server *d);

#endif

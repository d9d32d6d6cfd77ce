/* Origins: where the edge sends a hostname's traffic. Text form "[https://]host[:port]", where
 * host is a DNS name or an IP address ("[::1]" for IPv6 with a port). No port means "the port
 * the request came in on"; https:// means TLS to the origin (our extension to Cloudflare). */
#ifndef SAASEDGE_LIB_ORIGIN_H
#define SAASEDGE_LIB_ORIGIN_H

#include <stddef.h>

#include "lib/hostname.h"

struct origin {
	char host[HOSTNAME_MAX + 1]; /* normalised; IPv6 without brackets */
	unsigned port;               /* 1..65535, or 0 for the request's port */
	int tls;                     /* 1 with the https:// prefix */
};

/* Parses TEXT. Verdicts as hostname_normalize_origin; a bad port or scheme is HOSTNAME_INVALID
 * with REASON saying so. */
enum hostname_verdict origin_parse(const char *text, struct origin *out, char *reason,
				   size_t reason_len);
/* Canonical text form of O ("https://host:port", brackets around IPv6) into OUT. */
void origin_format(const struct origin *o, char *out, size_t out_len);
/* origin_format, except that SENT (the text O was parsed from) is kept when it is the same
 * text in other letter case: an API answer then shows the case a client sent, which Terraform
 * compares with its configuration. Whoever uses the origin parses it again, normalised. */
void origin_format_as_sent(const struct origin *o, const char *sent, char *out, size_t out_len);

#endif

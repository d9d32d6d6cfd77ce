/* Outbound address policy: where saasedge may connect on a customer's behalf (origins, the
 * fallback origin, DCV pre-flight fetches). Addresses inside the provider's network (loopback,
 * link-local with the cloud metadata service, RFC 1918, ULA, CGNAT, "this network", multicast,
 * reserved, and IPv4-mapped IPv6 forms of all of these) are refused unless the operator lists
 * them in edge.origin_allow_networks; see docs/decisions/0019-outbound-address-policy.md.
 * Checks are a few comparisons, no allocation: they run on every origin connect. */
#ifndef SAASEDGE_LIB_NETPOLICY_H
#define SAASEDGE_LIB_NETPOLICY_H

#include <stddef.h>
#include <sys/socket.h>

#define NETPOLICY_MAX_NETS 32
#define NETPOLICY_TEXT_MAX 1024

/* One network, IPv4 kept as its IPv4-mapped IPv6 form (::ffff:a.b.c.d, prefix + 96), so that a
 * mapped address and the plain IPv4 one match the same entry. */
struct netpolicy_net {
	unsigned char addr[16];
	unsigned prefix; /* 0..128 */
};

/* An allow-list, parsed once at start-up; read-only afterwards, so threads share it. */
struct netpolicy {
	struct netpolicy_net nets[NETPOLICY_MAX_NETS];
	size_t n;
	char text[NETPOLICY_TEXT_MAX]; /* as configured, for messages */
};

enum netpolicy_class {
	NETPOLICY_PUBLIC = 0,
	NETPOLICY_LOOPBACK,    /* 127/8, ::1 */
	NETPOLICY_UNSPECIFIED, /* 0/8 ("this network": 0.0.0.0 reaches the local host), :: */
	NETPOLICY_LINK_LOCAL,  /* 169.254/16 (cloud metadata), fe80::/10 */
	NETPOLICY_PRIVATE,     /* 10/8, 172.16/12, 192.168/16 */
	NETPOLICY_ULA,         /* fc00::/7 */
	NETPOLICY_CGNAT,       /* 100.64/10 (some clouds' metadata too) */
	NETPOLICY_MULTICAST,   /* 224/4, ff00::/8 */
	NETPOLICY_RESERVED,    /* 240/4 with broadcast, 192.0.0/24, 198.18/15 */
	NETPOLICY_OWN,         /* one of this machine's interface addresses */
};

/* Parses LIST, comma-separated CIDRs ("10.0.0.0/8, fd00::/8", a bare address is /32 or /128)
 * into *OUT (overwritten). "" is an empty list. SE_ECONFIG with a one-line message naming the
 * bad entry in ERR for a bad or misaligned CIDR (host bits set) or too many entries; *OUT is
 * then empty. */
int netpolicy_parse(const char *list, struct netpolicy *out, char *err, size_t err_len);

/* The class of SA (AF_INET or AF_INET6; any other family is NETPOLICY_RESERVED). With
 * CHECK_OWN, a public address that is one of this machine's interface addresses (read once, at
 * the first such call) is NETPOLICY_OWN. */
enum netpolicy_class netpolicy_classify(const struct sockaddr *sa, int check_own);

/* 1 when saasedge may connect to SA: its class is public, or POLICY lists it; else 0. With
 * CHECK_OWN (the edge's origins) this machine's own addresses are refused too. */
int netpolicy_allows(const struct netpolicy *policy, const struct sockaddr *sa, int check_own);

/* For origins given as text, before any DNS (the API): checks HOST (normalised, IPv6 without
 * brackets) when it is an IP literal in any form inet_aton takes ("2130706433", "0x7f.1") or a
 * well-known internal name ("localhost", "*.localhost", "metadata.google.internal", …, mapped
 * to the address it always has). 0 when allowed or when HOST is an ordinary name (checked at
 * connect time); SE_EPERM with REASON (for an API message) when refused. */
int netpolicy_check_host(const struct netpolicy *policy, const char *host, char *reason,
			 size_t reason_len);

/* "loopback", "link-local", … for messages. */
const char *netpolicy_class_name(enum netpolicy_class cls);

#endif

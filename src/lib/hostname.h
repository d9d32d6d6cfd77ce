/* Hostname rules shared by custom hostnames, origins and CSR SANs: normalisation (one trailing
 * dot dropped, lower case, IDN converted to punycode A-labels with libidn2) and the checks
 * Cloudflare applies, each with its own verdict so that callers can map it to their error code. */
#ifndef SAASEDGE_LIB_HOSTNAME_H
#define SAASEDGE_LIB_HOSTNAME_H

#include <stddef.h>

#define HOSTNAME_MAX 255

enum hostname_verdict {
	HOSTNAME_OK = 0,
	HOSTNAME_INVALID,       /* length, empty or long label, IP address, special character,
	                           misplaced wildcard (Cloudflare 1407) */
	HOSTNAME_NON_ASCII,     /* non-ASCII that is not a valid IDN (1408) */
	HOSTNAME_RESERVED_TLD,  /* test, example, invalid, localhost, local, onion (1409) */
	HOSTNAME_NO_REGISTRABLE,/* a public suffix itself, or a single label (1410) */
	HOSTNAME_EXAMPLE_DOMAIN,/* example.com, example.net, example.org or below (1411) */
	HOSTNAME_WILDCARD,      /* returned only when wildcards are not allowed and NAME is one */
};

/* Normalises NAME into OUT (HOSTNAME_MAX + 1 bytes) and checks it. With ALLOW_WILDCARD, "*." is
 * accepted as the first label (and only there). On a verdict other than HOSTNAME_OK, REASON
 * (REASON_LEN bytes, may be NULL) says why in words fit for an API error message. */
enum hostname_verdict hostname_normalize(const char *name, int allow_wildcard,
					 char out[HOSTNAME_MAX + 1], char *reason,
					 size_t reason_len);

/* Syntax-only variant for origins: the same normalisation, labels and characters, but IP
 * addresses, reserved TLDs, single labels and example domains are allowed (a self-hosted origin
 * is often "10.0.0.5" or "backend.internal"); wildcards are HOSTNAME_WILDCARD. */
enum hostname_verdict hostname_normalize_origin(const char *name, char out[HOSTNAME_MAX + 1],
						char *reason, size_t reason_len);

/* 1 when NAME (LEN bytes, already lower case, no trailing dot) is plain LDH labels of 1 to 63
 * characters, none starting or ending with '-', at most 253 in all; else 0 ("*." included).
 * No allocation and no IDNA: cheap enough for every TLS handshake's SNI. */
int hostname_ldh_ok(const char *name, size_t len);

/* 1 when NAME starts with "*.", else 0. */
int hostname_is_wildcard(const char *name);

/* 1 when FRAGMENT could be part of a hostname (for the hostname.contain/startsWith filters):
 * at most HOSTNAME_MAX characters of [A-Za-z0-9.*-] or non-ASCII; else 0. */
int hostname_fragment_ok(const char *fragment);

/* The registered domain (eTLD+1, public suffix list via libpsl) of a normalised hostname, for
 * email DCV; SE_EINVAL when there is none. */
int hostname_registered_domain(const char *name, char *out, size_t out_len);

#endif

/* Failed authentications per client address: after LIMIT failures within a window that starts
 * at an address's first failure, that address is refused (429) until the window ends, whatever
 * credentials it sends then. Other addresses are never affected. The table has a fixed size, so
 * memory stays bounded however many addresses fail. */
#ifndef SAASEDGE_API_AUTH_FAILURES_H
#define SAASEDGE_API_AUTH_FAILURES_H

#include <stdint.h>
#include <sys/socket.h>

/* Addresses tracked at once (sets of API_AUTH_FAILURES_WAYS); beyond that, in a set whose
 * addresses are all within their window, the one whose window started first is forgotten. */
#define API_AUTH_FAILURES_SLOTS 4096
#define API_AUTH_FAILURES_WAYS  8

struct api_auth_failures;

/* LIMIT failures per WINDOW_S seconds per address; LIMIT 0 disables the check (every address is
 * allowed, nothing is counted). Returns NULL on ENOMEM; the caller destroys it. */
struct api_auth_failures *api_auth_failures_create(int64_t limit, int64_t window_s);
void api_auth_failures_destroy(struct api_auth_failures *f);

/* 1 when PEER may authenticate at NOW_US; 0 when it is refused, with *RETRY_AFTER_S the whole
 * seconds (at least 1) until its window ends. IPv4 and IPv4-mapped IPv6 are one address; IPv6
 * counts by /64, the block one host usually holds. A NULL or non-IP PEER is always allowed.
 * Thread-safe. */
int api_auth_failures_allowed(struct api_auth_failures *f, const struct sockaddr *peer,
			      int64_t now_us, unsigned *retry_after_s);

/* Counts one failed authentication of PEER at NOW_US. Returns 1 when this failure is the one
 * that reaches the limit (the moment worth one log line), else 0. Thread-safe. */
int api_auth_failures_add(struct api_auth_failures *f, const struct sockaddr *peer,
			  int64_t now_us);

#endif

/* Per-token request rate limit: a token bucket per key, shared by the API's threads. */
#ifndef SAASEDGE_API_RATELIMIT_H
#define SAASEDGE_API_RATELIMIT_H

#include <stdint.h>

struct api_ratelimit;

/* RATE tokens per second refill a bucket of BURST. RATE 0 disables limiting. NULL on ENOMEM. */
struct api_ratelimit *api_ratelimit_create(int64_t rate, int64_t burst);
void api_ratelimit_destroy(struct api_ratelimit *rl);

/* Takes one request for KEY at NOW_US. Returns 1 when allowed; 0 when limited, with
 * *retry_after_s the whole seconds until one request is allowed again. Thread-safe. */
int api_ratelimit_take(struct api_ratelimit *rl, const char *key, int64_t now_us,
		       unsigned *retry_after_s);

#endif

/* Response rate limiting for the dns role's UDP answers, after BIND's responses-per-second with
 * slip: each client prefix (/24 for IPv4, /56 for IPv6) has a token bucket of dns.rrl_rate
 * responses a second (one second of burst); over it, every dns.rrl_slip-th answer goes out
 * truncated (TC: a real resolver retries over TCP, which a spoofed source cannot) and the rest
 * are dropped, so the server is no amplifier and one client cannot take the thread.
 *
 * The table has a fixed size (DNS_RRL_SETS x DNS_RRL_WAYS entries): a prefix not in it takes
 * its set's least recently used entry, with a full bucket. Set indexes are hashed with a random
 * key chosen at start, so an attacker cannot aim many prefixes at one set to evict a limited
 * one. One thread (the dns thread) uses a table: no lock. */
#include "dns/dns_int.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/ids.h"
#include "lib/log.h"

#define DNS_RRL_SETS 1024
#define DNS_RRL_WAYS 4
#define UNIT         INT64_C(1000000) /* one response, in credit units (credit is per µs) */

struct rrl_entry {
	uint64_t key; /* family and prefix; 0 = unused */
	int64_t seen_us;
	int64_t credit;   /* responses x UNIT that may still be sent */
	uint32_t limited; /* responses limited since the bucket last had credit */
};

struct dns_rrl {
	int64_t rate, slip;
	uint64_t hash_key;
	int64_t logged_us; /* last "limiting" log line: at most one a second */
	struct rrl_entry sets[DNS_RRL_SETS][DNS_RRL_WAYS];
};

int dns_rrl_create(int64_t rate, int64_t slip, struct dns_rrl **out)
{
	struct dns_rrl *r;

	*out = NULL;
	if (rate <= 0)
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return SE_ENOMEM;
	if (ids_random(&r->hash_key, sizeof(r->hash_key)) != 0) {
		free(r);
		return SE_ECRYPTO;
	}
	r->rate = rate;
	r->slip = slip;
	*out = r;
	return 0;
}

void dns_rrl_destroy(struct dns_rrl *r)
{
	free(r);
}

/* The client's prefix as a non-zero key: the family in the top byte. 0 for other families. */
static uint64_t prefix_key(const struct sockaddr_storage *from)
{
	uint64_t key = 0;

	if (from->ss_family == AF_INET) {
		const uint8_t *a = (const uint8_t *)&((const struct sockaddr_in *)from)->sin_addr;

		key = (uint64_t)4 << 56 | (uint64_t)a[0] << 16 | (uint64_t)a[1] << 8 | a[2];
	} else if (from->ss_family == AF_INET6) {
		const uint8_t *a = ((const struct sockaddr_in6 *)from)->sin6_addr.s6_addr;

		key = (uint64_t)6 << 56;
		for (int i = 0; i < 7; i++) /* /56 */
			key |= (uint64_t)a[i] << (8 * (6 - i));
	}
	return key;
}

/* A keyed mix of KEY (splitmix64's finaliser over KEY ^ HASH_KEY). */
static size_t set_of(const struct dns_rrl *r, uint64_t key)
{
	uint64_t x = key ^ r->hash_key;

	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return (size_t)(x % DNS_RRL_SETS);
}

/* KEY's entry, or its set's least recently used one made KEY's with a full bucket. */
static struct rrl_entry *entry_for(struct dns_rrl *r, uint64_t key, int64_t now_us)
{
	struct rrl_entry *set = r->sets[set_of(r, key)], *old = &set[0];

	for (int i = 0; i < DNS_RRL_WAYS; i++) {
		if (set[i].key == key)
			return &set[i];
		if (set[i].seen_us < old->seen_us)
			old = &set[i];
	}
	*old = (struct rrl_entry){.key = key, .seen_us = now_us, .credit = r->rate * UNIT};
	return old;
}

static void log_limited(struct dns_rrl *r, const struct sockaddr_storage *from, int64_t now_us)
{
	if (now_us - r->logged_us < 1000000)
		return;
	r->logged_us = now_us;
	log_warn("dns msg=\"rate limiting UDP responses\" family=%s dns.rrl_rate=%lld",
		 from->ss_family == AF_INET6 ? "ipv6" : "ipv4", (long long)r->rate);
}

enum dns_rrl_action dns_rrl_account(struct dns_rrl *r, const struct sockaddr_storage *from,
				    int64_t now_us)
{
	uint64_t key = r ? prefix_key(from) : 0;
	struct rrl_entry *e;
	int64_t elapsed, cap;

	if (!key)
		return DNS_RRL_SEND;
	e = entry_for(r, key, now_us);
	cap = r->rate * UNIT;
	elapsed = now_us - e->seen_us;
	if (elapsed > 1000000)
		elapsed = 1000000; /* a second refills the whole bucket: no overflow past it */
	if (elapsed > 0)
		e->credit =
		    e->credit + elapsed * r->rate > cap ? cap : e->credit + elapsed * r->rate;
	e->seen_us = now_us;
	if (e->credit >= UNIT) {
		e->credit -= UNIT;
		e->limited = 0;
		return DNS_RRL_SEND;
	}
	if (e->limited++ == 0)
		log_limited(r, from, now_us);
	return r->slip && e->limited % (uint32_t)r->slip == 0 ? DNS_RRL_SLIP : DNS_RRL_DROP;
}

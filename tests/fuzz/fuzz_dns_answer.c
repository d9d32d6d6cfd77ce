/* Fuzzes the dns role's answering, which reads messages from anyone on the network: the query
 * parsing and the answer (dns_answer), the truncated answer a rate-limited client gets
 * (dns_answer_truncate) and the rate limiter's accounting for the query's source (dns_rrl.c).
 * Properties: no crash, no sanitizer report, a response is never longer than the room given (so
 * UDP answers never exceed 512 bytes without EDNS or 1232 with it), it parses back with ldns and
 * carries the query's id; its truncated form parses too, with TC, the same id and no records. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every label has values: the first input byte says how many and how long. */
static int lookup(void *ctx, const char *label, char values[][STORE_DNS_VALUE_MAX + 1], size_t max,
		  size_t *n)
{
	uint8_t seed = *(const uint8_t *)ctx;
	size_t len = 1 + (size_t)(seed >> 3) * 8;

	*n = (seed & 7) < max ? (seed & 7) : max;
	for (size_t i = 0; i < *n; i++) {
		memset(values[i], 'a' + (int)i, len);
		values[i][len] = '\0';
	}
	return 0;
}

/* The truncated form of OUT: what dns_rrl's slip sends. */
static void check_truncated(const uint8_t *out, size_t out_len, uint16_t id)
{
	uint8_t *tc = malloc(out_len);
	size_t tc_len = out_len;
	ldns_pkt *r = NULL;

	if (!tc)
		abort();
	memcpy(tc, out, out_len);
	dns_answer_truncate(tc, &tc_len);
	if (tc_len > out_len || ldns_wire2pkt(&r, tc, tc_len) != LDNS_STATUS_OK)
		abort();
	if (tc_len < out_len && (!ldns_pkt_tc(r) || ldns_pkt_ancount(r) || ldns_pkt_nscount(r) ||
				 ldns_pkt_arcount(r) || ldns_pkt_id(r) != id))
		abort();
	ldns_pkt_free(r);
	free(tc);
}

/* Accounts the query to a source made of its first bytes, on a clock that moves by the seed. */
static void account(const uint8_t *data, size_t size, uint8_t seed)
{
	static struct dns_rrl *rrl;
	static int64_t now_us;
	struct sockaddr_storage ss = {0};

	if (!rrl && dns_rrl_create(3, 2, &rrl) != 0)
		abort();
	now_us += (int64_t)(seed & 0x3f) * 10000;
	if (seed & 0x40) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		memcpy(a->sin6_addr.s6_addr, data, size < 16 ? size : 16);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		memcpy(&a->sin_addr, data, size < 4 ? size : 4);
	}
	if ((unsigned)dns_rrl_account(rrl, &ss, now_us) > DNS_RRL_DROP)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dns_zone zone;
	static int ready;
	uint8_t *out = NULL, seed;
	size_t out_len = 0, room;
	ldns_pkt *r = NULL;

	if (!ready) {
		if (dns_zone_init(&zone, "dcv.saasedge.test", "ns.dcv.saasedge.test", 1) != 0)
			abort();
		ready = 1;
	}
	if (size < 1)
		return 0;
	seed = data[0];
	account(data + 1, size - 1, seed);
	room = seed & 0x80 ? 65535 : DNS_UDP_PLAIN;
	if (dns_answer(&zone, lookup, &seed, data + 1, size - 1, room, &out, &out_len) != 0)
		return 0;
	if (ldns_wire2pkt(&r, out, out_len) != LDNS_STATUS_OK)
		abort();
	/* The response has EDNS exactly when the query had: only then may UDP go past 512. */
	if (out_len > room && !(ldns_pkt_edns(r) && out_len <= DNS_UDP_EDNS))
		abort();
	if (size - 1 >= 2 && ldns_pkt_id(r) != (uint16_t)(data[1] << 8 | data[2]))
		abort();
	check_truncated(out, out_len, ldns_pkt_id(r));
	ldns_pkt_free(r);
	free(out);
	return 0;
}

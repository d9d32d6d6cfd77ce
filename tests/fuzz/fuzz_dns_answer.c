/* Fuzzes the dns role's answering, which reads messages from anyone on the network. Properties:
 * no crash, no sanitizer report, a response is never longer than the room given (so UDP answers
 * never exceed 512 bytes without EDNS or 1232 with it), it parses back with ldns and carries the
 * query's id. */
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
	ldns_pkt_free(r);
	free(out);
	return 0;
}

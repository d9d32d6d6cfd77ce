/* Unit tests of src/dns/dns_rrl.c (response rate limiting per client prefix) and of
 * dns_answer_truncate, with the clock given by the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "dns/dns_int.h"

static struct sockaddr_storage v4(const char *text)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

	sin->sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, text, &sin->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage v6(const char *text)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	sin6->sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, text, &sin6->sin6_addr), 1);
	return ss;
}

/* How many of N responses to FROM at NOW_US each got SEND, SLIP and DROP. */
static void count(struct dns_rrl *r, const struct sockaddr_storage *from, int n, int64_t now_us,
		  int got[3])
{
	got[0] = got[1] = got[2] = 0;
	for (int i = 0; i < n; i++)
		got[dns_rrl_account(r, from, now_us)]++;
}

static void test_burst_then_rate_with_slip(void **state)
{
	struct dns_rrl *r = NULL;
	struct sockaddr_storage a = v4("192.0.2.7"), same24 = v4("192.0.2.200"),
				other = v4("192.0.3.7");
	int got[3];

	assert_int_equal(dns_rrl_create(10, 2, &r), 0);
	count(r, &a, 30, 1000000, got);
	assert_int_equal(got[DNS_RRL_SEND], 10); /* one second of burst */
	assert_int_equal(got[DNS_RRL_SLIP], 10); /* every second limited one */
	assert_int_equal(got[DNS_RRL_DROP], 10);
	/* The same /24 shares the bucket; another /24 has its own. */
	assert_int_equal(dns_rrl_account(r, &same24, 1000000) == DNS_RRL_SEND, 0);
	count(r, &other, 10, 1000000, got);
	assert_int_equal(got[DNS_RRL_SEND], 10);
	/* 100 ms later one response was earned back; a second later all ten. */
	count(r, &a, 5, 1100000, got);
	assert_int_equal(got[DNS_RRL_SEND], 1);
	count(r, &a, 20, 3000000, got);
	assert_int_equal(got[DNS_RRL_SEND], 10);
	dns_rrl_destroy(r);
}

static void test_slip_zero_drops_and_ipv6_prefix(void **state)
{
	struct dns_rrl *r = NULL;
	struct sockaddr_storage a = v6("2001:db8:0:1::1"), same56 = v6("2001:db8:0:ff::2"),
				other = v6("2001:db8:0:100::1");
	int got[3];

	assert_int_equal(dns_rrl_create(3, 0, &r), 0);
	count(r, &a, 10, 5, got);
	assert_int_equal(got[DNS_RRL_SEND], 3);
	assert_int_equal(got[DNS_RRL_SLIP], 0);
	assert_int_equal(got[DNS_RRL_DROP], 7);
	assert_int_equal(dns_rrl_account(r, &same56, 5), DNS_RRL_DROP);
	assert_int_equal(dns_rrl_account(r, &other, 5), DNS_RRL_SEND);
	dns_rrl_destroy(r);
}

static void test_off_and_many_prefixes(void **state)
{
	struct dns_rrl *r = NULL;
	struct sockaddr_storage a = v4("198.51.100.1");
	int got[3];

	assert_int_equal(dns_rrl_create(0, 2, &r), 0);
	assert_null(r); /* off: everything is sent */
	count(r, &a, 1000, 0, got);
	assert_int_equal(got[DNS_RRL_SEND], 1000);
	/* More prefixes than the table holds: each new one starts with a full bucket, and the
	 * table never grows. */
	assert_int_equal(dns_rrl_create(1, 1, &r), 0);
	for (uint32_t i = 0; i < 100000; i++) {
		struct sockaddr_storage ss = {0};
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(i << 8);
		assert_int_equal(dns_rrl_account(r, &ss, 7), DNS_RRL_SEND);
	}
	dns_rrl_destroy(r);
}

static void test_truncate_keeps_header_and_question(void **state)
{
	struct dns_zone zone;
	ldns_pkt *q = NULL, *r = NULL;
	uint8_t *wire = NULL, *out = NULL;
	size_t wire_len = 0, out_len = 0;

	assert_int_equal(dns_zone_init(&zone, "dcv.saasedge.test", "ns.dcv.saasedge.test", 1), 0);
	assert_int_equal(ldns_pkt_query_new_frm_str(&q, "dcv.saasedge.test", LDNS_RR_TYPE_SOA,
						    LDNS_RR_CLASS_IN, 0),
			 LDNS_STATUS_OK);
	ldns_pkt_set_id(q, 0x1234);
	assert_int_equal(ldns_pkt2wire(&wire, q, &wire_len), LDNS_STATUS_OK);
	assert_int_equal(
	    dns_answer(&zone, NULL, NULL, wire, wire_len, DNS_UDP_PLAIN, &out, &out_len), 0);
	assert_true(out_len > wire_len); /* the SOA is in it */
	dns_answer_truncate(out, &out_len);
	assert_int_equal(out_len, wire_len); /* header and question only */
	assert_int_equal(ldns_wire2pkt(&r, out, out_len), LDNS_STATUS_OK);
	assert_true(ldns_pkt_tc(r));
	assert_true(ldns_pkt_qr(r));
	assert_int_equal(ldns_pkt_id(r), 0x1234);
	assert_int_equal(ldns_pkt_ancount(r), 0);
	assert_int_equal(ldns_pkt_qdcount(r), 1);
	/* Too short to hold its question: left alone. */
	out_len = 14;
	dns_answer_truncate(out, &out_len);
	assert_int_equal(out_len, 14);
	ldns_pkt_free(r);
	ldns_pkt_free(q);
	free(wire);
	free(out);
	dns_zone_dispose(&zone);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_burst_then_rate_with_slip),
	    cmocka_unit_test(test_slip_zero_drops_and_ipv6_prefix),
	    cmocka_unit_test(test_off_and_many_prefixes),
	    cmocka_unit_test(test_truncate_keeps_header_and_question),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

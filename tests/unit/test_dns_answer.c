/* Unit tests of src/dns/dns_answer.c: the answers of the DCV zone, from query bytes to response
 * bytes, with a fake store lookup. Queries are built and responses read with ldns, as a
 * resolver would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dns/dns_int.h"
#include "lib/error.h"

#define ZONE  "dcv.saasedge.test"
#define LABEL "0123456789abcdef0123456789abcdef"

struct fake {
	size_t n;         /* values the label has */
	size_t value_len; /* length of each value */
	int fail;         /* lookup returns SE_EDB */
	int calls;
	char asked[STORE_DNS_LABEL_MAX + 1];
};

static int fake_lookup(void *ctx, const char *label, char values[][STORE_DNS_VALUE_MAX + 1],
		       size_t max, size_t *n)
{
	struct fake *f = ctx;

	f->calls++;
	snprintf(f->asked, sizeof(f->asked), "%s", label);
	*n = 0;
	if (f->fail)
		return SE_EDB;
	if (strcmp(label, LABEL) != 0)
		return 0;
	for (size_t i = 0; i < f->n && i < max; i++) {
		memset(values[i], 'a' + (int)i, f->value_len);
		values[i][f->value_len] = '\0';
		(*n)++;
	}
	return 0;
}

struct fixture {
	struct dns_zone zone;
	struct fake fake;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	assert_int_equal(dns_zone_init(&fx->zone, ZONE, "ns." ZONE, 2026112201), 0);
	fx->fake.value_len = 43;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	dns_zone_dispose(&fx->zone);
	free(fx);
	return 0;
}

/* Asks NAME/TYPE (EDNS size EDNS when not 0) with room MAX_LEN; the parsed response. */
static ldns_pkt *ask_op(struct fixture *fx, const char *name, ldns_rr_type type, uint16_t edns,
			size_t max_len, ldns_pkt_opcode op)
{
	ldns_pkt *q = NULL, *r = NULL;
	uint8_t *wire = NULL, *out = NULL;
	size_t len = 0, out_len = 0;

	assert_int_equal(ldns_pkt_query_new_frm_str(&q, name, type, LDNS_RR_CLASS_IN, 0),
			 LDNS_STATUS_OK);
	ldns_pkt_set_id(q, 0x1234);
	ldns_pkt_set_opcode(q, op);
	if (edns)
		ldns_pkt_set_edns_udp_size(q, edns);
	assert_int_equal(ldns_pkt2wire(&wire, q, &len), LDNS_STATUS_OK);
	assert_int_equal(
	    dns_answer(&fx->zone, fake_lookup, &fx->fake, wire, len, max_len, &out, &out_len), 0);
	assert_true(out_len <= max_len || (edns && out_len <= DNS_UDP_EDNS));
	assert_int_equal(ldns_wire2pkt(&r, out, out_len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_id(r), 0x1234);
	assert_true(ldns_pkt_qr(r));
	free(wire);
	free(out);
	ldns_pkt_free(q);
	return r;
}

static ldns_pkt *ask(struct fixture *fx, const char *name, ldns_rr_type type)
{
	return ask_op(fx, name, type, 0, DNS_UDP_PLAIN, LDNS_PACKET_QUERY);
}

static ldns_rr_type first_type(ldns_rr_list *l)
{
	return ldns_rr_list_rr_count(l) ? ldns_rr_get_type(ldns_rr_list_rr(l, 0)) : 0;
}

static void test_txt_values_of_a_label(void **state)
{
	struct fixture *fx = *state;
	ldns_pkt *r;

	fx->fake.n = 2;
	/* A resolver may randomise the case: the label is looked up in lower case and the
	 * answer keeps the query's spelling. */
	r = ask(fx, "0123456789ABCDEF0123456789abcdef." ZONE, LDNS_RR_TYPE_TXT);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_aa(r));
	assert_string_equal(fx->fake.asked, LABEL);
	assert_int_equal(ldns_pkt_ancount(r), 2);
	for (size_t i = 0; i < 2; i++) {
		ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(r), i);
		char *owner = ldns_rdf2str(ldns_rr_owner(rr));
		const uint8_t *d = ldns_rdf_data(ldns_rr_rdf(rr, 0));

		assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_TXT);
		assert_int_equal(ldns_rr_ttl(rr), DNS_TTL);
		assert_string_equal(owner, "0123456789ABCDEF0123456789abcdef." ZONE ".");
		assert_int_equal(d[0], 43);
		assert_int_equal(d[1], 'a' + (int)i);
		free(owner);
	}
	ldns_pkt_free(r);

	r = ask(fx, LABEL "." ZONE, LDNS_RR_TYPE_A); /* the name exists: NODATA */
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(r), 0);
	assert_int_equal(first_type(ldns_pkt_authority(r)), LDNS_RR_TYPE_SOA);
	ldns_pkt_free(r);
}

static void test_nxdomain_with_soa(void **state)
{
	struct fixture *fx = *state;
	const char *names[] = {"ffffffffffffffffffffffffffffffff." ZONE, "x." LABEL "." ZONE,
			       "bad!label." ZONE};

	fx->fake.n = 1;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ldns_pkt *r = ask(fx, names[i], LDNS_RR_TYPE_TXT);
		ldns_rr *soa;

		if (ldns_pkt_get_rcode(r) != LDNS_RCODE_NXDOMAIN)
			fail_msg("%s: rcode %d, want NXDOMAIN", names[i], ldns_pkt_get_rcode(r));
		assert_true(ldns_pkt_aa(r));
		assert_int_equal(ldns_pkt_ancount(r), 0);
		soa = ldns_rr_list_rr(ldns_pkt_authority(r), 0);
		assert_non_null(soa);
		assert_int_equal(ldns_rr_get_type(soa), LDNS_RR_TYPE_SOA);
		/* The SOA minimum bounds negative caching: a value published a moment later is
		 * seen soon. */
		assert_true(ldns_rdf2native_int32(ldns_rr_rdf(soa, 6)) <= 60);
		ldns_pkt_free(r);
	}
	assert_int_equal(fx->fake.calls, 1); /* the deeper name and the bad label ask nothing */
}

static void test_apex(void **state)
{
	struct fixture *fx = *state;
	ldns_pkt *r;
	char *ns;

	r = ask(fx, ZONE, LDNS_RR_TYPE_SOA);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_aa(r));
	assert_int_equal(first_type(ldns_pkt_answer(r)), LDNS_RR_TYPE_SOA);
	ldns_pkt_free(r);

	r = ask(fx, ZONE, LDNS_RR_TYPE_NS);
	assert_int_equal(ldns_pkt_ancount(r), 1);
	ns = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(r), 0), 0));
	assert_string_equal(ns, "ns." ZONE ".");
	free(ns);
	ldns_pkt_free(r);

	r = ask(fx, ZONE, LDNS_RR_TYPE_TXT);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(r), 0);
	assert_int_equal(first_type(ldns_pkt_authority(r)), LDNS_RR_TYPE_SOA);
	ldns_pkt_free(r);
	assert_int_equal(fx->fake.calls, 0);
}

static void test_refused_outside_the_zone(void **state)
{
	struct fixture *fx = *state;
	const char *names[] = {"saasedge.test", "_acme-challenge.app.customer.com",
			       "xdcv.saasedge.test", "."};
	ldns_pkt *r;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		r = ask(fx, names[i], LDNS_RR_TYPE_TXT);
		if (ldns_pkt_get_rcode(r) != LDNS_RCODE_REFUSED)
			fail_msg("%s: rcode %d, want REFUSED", names[i], ldns_pkt_get_rcode(r));
		assert_false(ldns_pkt_aa(r));
		assert_int_equal(ldns_pkt_ancount(r), 0);
		ldns_pkt_free(r);
	}
	r = ask(fx, ZONE, LDNS_RR_TYPE_AXFR); /* no zone transfers */
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_REFUSED);
	ldns_pkt_free(r);
	r = ask_op(fx, ZONE, LDNS_RR_TYPE_SOA, 0, DNS_UDP_PLAIN, LDNS_PACKET_UPDATE);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOTIMPL);
	ldns_pkt_free(r);
	assert_int_equal(fx->fake.calls, 0);
}

static void test_store_failure_is_servfail(void **state)
{
	struct fixture *fx = *state;
	ldns_pkt *r;

	fx->fake.fail = 1;
	r = ask(fx, LABEL "." ZONE, LDNS_RR_TYPE_TXT);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_SERVFAIL);
	assert_false(ldns_pkt_aa(r));
	ldns_pkt_free(r);
}

static void test_truncation(void **state)
{
	struct fixture *fx = *state;
	ldns_pkt *r;

	fx->fake.n = DNS_TXT_MAX;
	fx->fake.value_len = 255;
	r = ask(fx, LABEL "." ZONE, LDNS_RR_TYPE_TXT); /* UDP without EDNS: 512 bytes */
	assert_true(ldns_pkt_tc(r));
	assert_int_equal(ldns_pkt_ancount(r), 0);
	assert_int_equal(ldns_rr_list_rr_count(ldns_pkt_question(r)), 1);
	ldns_pkt_free(r);
	/* EDNS raises the limit to at most 1232 bytes, still too small for 8 × 255. */
	r = ask_op(fx, LABEL "." ZONE, LDNS_RR_TYPE_TXT, 4096, DNS_UDP_PLAIN, LDNS_PACKET_QUERY);
	assert_true(ldns_pkt_tc(r));
	assert_int_equal(ldns_pkt_edns_udp_size(r), DNS_UDP_EDNS);
	ldns_pkt_free(r);
	/* TCP carries them all. */
	r = ask_op(fx, LABEL "." ZONE, LDNS_RR_TYPE_TXT, 0, 65535, LDNS_PACKET_QUERY);
	assert_false(ldns_pkt_tc(r));
	assert_int_equal(ldns_pkt_ancount(r), DNS_TXT_MAX);
	ldns_pkt_free(r);
	/* Four ACME values (two orders of a wildcard) fit in plain UDP. */
	fx->fake.n = 4;
	fx->fake.value_len = 43;
	r = ask(fx, LABEL "." ZONE, LDNS_RR_TYPE_TXT);
	assert_false(ldns_pkt_tc(r));
	assert_int_equal(ldns_pkt_ancount(r), 4);
	ldns_pkt_free(r);
}

/* A query whose questions alone pass 512 bytes: the answer must still fit, as a header with
 * TC (the client asks again over TCP). */
static void test_questions_too_long_for_udp(void **state)
{
	struct fixture *fx = *state;
	char name[300];
	ldns_pkt *q = ldns_pkt_new(), *r = NULL;
	uint8_t *wire = NULL, *out = NULL;
	size_t wire_len = 0, out_len = 0;

	assert_non_null(q);
	ldns_pkt_set_id(q, 0x1234);
	for (int i = 0; i < 3; i++) {
		ldns_rr *rr = ldns_rr_new();
		ldns_rdf *owner;

		/* three 60-byte labels, then the zone: about 200 bytes a name, none shared with
		 * another question (ldns would compress a shared suffix) */
		char label[3][61];

		for (int k = 0; k < 3; k++) {
			memset(label[k], 'a' + 3 * i + k, 60);
			label[k][60] = '\0';
		}
		snprintf(name, sizeof(name), "%s.%s.%s." ZONE, label[0], label[1], label[2]);
		owner = ldns_dname_new_frm_str(name);
		assert_non_null(owner);
		ldns_rr_set_owner(rr, owner);
		ldns_rr_set_type(rr, LDNS_RR_TYPE_TXT);
		ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
		ldns_rr_set_question(rr, true);
		assert_true(ldns_pkt_push_rr(q, LDNS_SECTION_QUESTION, rr));
	}
	assert_int_equal(ldns_pkt2wire(&wire, q, &wire_len), LDNS_STATUS_OK);
	assert_true(wire_len > DNS_UDP_PLAIN);
	assert_int_equal(dns_answer(&fx->zone, fake_lookup, &fx->fake, wire, wire_len,
				    DNS_UDP_PLAIN, &out, &out_len),
			 0);
	assert_true(out_len <= DNS_UDP_PLAIN);
	assert_int_equal(ldns_wire2pkt(&r, out, out_len), LDNS_STATUS_OK);
	assert_true(ldns_pkt_tc(r));
	assert_int_equal(ldns_pkt_id(r), 0x1234);
	ldns_pkt_free(r);
	ldns_pkt_free(q);
	free(wire);
	free(out);
}

static void test_garbage(void **state)
{
	struct fixture *fx = *state;
	/* A header claiming one question, then bytes that are not a name. */
	uint8_t bad[] = {0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0xff, 0x01, 'x'};
	uint8_t response[12] = {0xab, 0xcd, 0x81, 0x80};
	uint8_t *out = NULL;
	size_t out_len = 0;
	ldns_pkt *r = NULL;

	assert_int_equal(dns_answer(&fx->zone, fake_lookup, &fx->fake, bad, sizeof(bad),
				    DNS_UDP_PLAIN, &out, &out_len),
			 0);
	assert_int_equal(ldns_wire2pkt(&r, out, out_len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_id(r), 0xabcd);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_FORMERR);
	ldns_pkt_free(r);
	free(out);
	/* Too short for a header, or a response: nothing is sent back. */
	assert_int_equal(
	    dns_answer(&fx->zone, fake_lookup, &fx->fake, bad, 5, DNS_UDP_PLAIN, &out, &out_len),
	    SE_EINVAL);
	assert_int_equal(dns_answer(&fx->zone, fake_lookup, &fx->fake, response, sizeof(response),
				    DNS_UDP_PLAIN, &out, &out_len),
			 SE_EINVAL);
	assert_null(out);
	assert_int_equal(fx->fake.calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_txt_values_of_a_label, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nxdomain_with_soa, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_apex, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused_outside_the_zone, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_failure_is_servfail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_truncation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_questions_too_long_for_udp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

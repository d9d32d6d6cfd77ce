/* Answers one DNS message for the DCV zone, from bytes to bytes (ldns parses and builds every
 * packet). The zone holds the apex (SOA, NS) and one name per delegated hostname,
 * <label>.<zone>, whose TXT values come from the store through a lookup callback. Anything
 * outside the zone is REFUSED: this server is authoritative only, never a resolver. */
#include "dns/dns_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"

int dns_zone_init(struct dns_zone *z, const char *zone, const char *nameserver, uint32_t serial)
{
	char text[800];

	memset(z, 0, sizeof(*z));
	z->apex = ldns_dname_new_frm_str(zone);
	z->nameserver = ldns_dname_new_frm_str(nameserver);
	if (!z->apex || !z->nameserver)
		goto bad;
	ldns_dname2canonical(z->apex);
	ldns_dname2canonical(z->nameserver);
	z->apex_labels = ldns_dname_label_count(z->apex);
	/* Refresh, retry and expire only matter to secondaries, which this zone has none of. */
	snprintf(text, sizeof(text), "%s. %d IN SOA %s. hostmaster.%s. %u 3600 600 86400 %d", zone,
		 DNS_TTL, nameserver, zone, serial, DNS_NEGATIVE_TTL);
	if (ldns_rr_new_frm_str(&z->soa, text, 0, NULL, NULL) != LDNS_STATUS_OK)
		goto bad;
	snprintf(text, sizeof(text), "%s. %d IN NS %s.", zone, DNS_TTL, nameserver);
	if (ldns_rr_new_frm_str(&z->ns, text, 0, NULL, NULL) != LDNS_STATUS_OK)
		goto bad;
	return 0;
bad:
	dns_zone_dispose(z);
	return SE_ECONFIG;
}

void dns_zone_dispose(struct dns_zone *z)
{
	ldns_rdf_deep_free(z->apex);
	ldns_rdf_deep_free(z->nameserver);
	ldns_rr_free(z->soa);
	ldns_rr_free(z->ns);
	memset(z, 0, sizeof(*z));
}

/* A response carrying QUERY's id, opcode, RD and question (when it has one). */
static ldns_pkt *response_of(const ldns_pkt *query, uint16_t id)
{
	ldns_pkt *r = ldns_pkt_new();
	ldns_rr_list *q = query ? ldns_pkt_question(query) : NULL;

	if (!r)
		return NULL;
	ldns_pkt_set_id(r, id);
	ldns_pkt_set_qr(r, true);
	if (!query)
		return r;
	ldns_pkt_set_opcode(r, ldns_pkt_get_opcode(query));
	ldns_pkt_set_rd(r, ldns_pkt_rd(query));
	for (size_t i = 0; q && i < ldns_rr_list_rr_count(q); i++) {
		ldns_rr *c = ldns_rr_clone(ldns_rr_list_rr(q, i));

		if (!c || !ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION, c)) {
			ldns_rr_free(c);
			ldns_pkt_free(r);
			return NULL;
		}
	}
	if (ldns_pkt_edns(query))
		ldns_pkt_set_edns_udp_size(r, DNS_UDP_EDNS);
	return r;
}

/* Pushes a copy of RR to SECTION of R with OWNER (the query's spelling) when not NULL. */
static int push_copy(ldns_pkt *r, ldns_pkt_section section, const ldns_rr *rr,
		     const ldns_rdf *owner)
{
	ldns_rr *c = ldns_rr_clone(rr);

	if (c && owner) {
		ldns_rdf *o = ldns_rdf_clone(owner);

		if (!o) {
			ldns_rr_free(c);
			return SE_ENOMEM;
		}
		ldns_rdf_deep_free(ldns_rr_owner(c));
		ldns_rr_set_owner(c, o);
	}
	if (!c || !ldns_pkt_push_rr(r, section, c)) {
		ldns_rr_free(c);
		return SE_ENOMEM;
	}
	return 0;
}

static int push_txt(ldns_pkt *r, const ldns_rdf *owner, const char *value)
{
	uint8_t data[STORE_DNS_VALUE_MAX + 1];
	size_t len = strlen(value);
	ldns_rr *rr = ldns_rr_new();
	ldns_rdf *o = ldns_rdf_clone(owner), *txt;

	/* One character-string: a length byte then the bytes, taken as they are (no escapes). */
	data[0] = (uint8_t)len;
	memcpy(data + 1, value, len);
	txt = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, len + 1, data);
	if (!rr || !o || !txt) {
		ldns_rr_free(rr);
		ldns_rdf_deep_free(o);
		ldns_rdf_deep_free(txt);
		return SE_ENOMEM;
	}
	ldns_rr_set_owner(rr, o);
	ldns_rr_set_type(rr, LDNS_RR_TYPE_TXT);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, DNS_TTL);
	ldns_rr_push_rdf(rr, txt);
	if (!ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, rr)) {
		ldns_rr_free(rr);
		return SE_ENOMEM;
	}
	return 0;
}

/* The first label of NAME, lower case, into OUT; 0 when it is not a label we could have made
 * (letters, digits, '-' and '_' only). */
static int first_label(const ldns_rdf *name, char out[STORE_DNS_LABEL_MAX + 1])
{
	const uint8_t *d = ldns_rdf_data(name);
	size_t len = ldns_rdf_size(name) ? d[0] : 0;

	if (!len || len > STORE_DNS_LABEL_MAX || len + 1 > ldns_rdf_size(name))
		return 0;
	for (size_t i = 0; i < len; i++) {
		int c = tolower(d[1 + i]);

		if (!isalnum(c) && c != '-' && c != '_')
			return 0;
		out[i] = (char)c;
	}
	out[len] = '\0';
	return 1;
}

/* A name one label under the apex: its TXT values, or NXDOMAIN when it has none. */
static int answer_label(const struct dns_zone *z, dns_txt_lookup_fn lookup, void *ctx,
			const ldns_rdf *qname, ldns_rr_type qtype, ldns_pkt *r)
{
	char label[STORE_DNS_LABEL_MAX + 1], values[DNS_TXT_MAX][STORE_DNS_VALUE_MAX + 1];
	size_t n = 0;
	int rc;

	if (!first_label(qname, label)) {
		ldns_pkt_set_rcode(r, LDNS_RCODE_NXDOMAIN);
		return push_copy(r, LDNS_SECTION_AUTHORITY, z->soa, NULL);
	}
	rc = lookup(ctx, label, values, DNS_TXT_MAX, &n);
	if (rc) {
		ldns_pkt_set_aa(r, false);
		ldns_pkt_set_rcode(r, LDNS_RCODE_SERVFAIL);
		return 0;
	}
	if (n == 0)
		ldns_pkt_set_rcode(r, LDNS_RCODE_NXDOMAIN);
	if (n == 0 || (qtype != LDNS_RR_TYPE_TXT && qtype != LDNS_RR_TYPE_ANY))
		return push_copy(r, LDNS_SECTION_AUTHORITY, z->soa, NULL);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = push_txt(r, qname, values[i]);
	return rc;
}

static int answer_apex(const struct dns_zone *z, const ldns_rdf *qname, ldns_rr_type qtype,
		       ldns_pkt *r)
{
	int rc = 0;

	if (qtype == LDNS_RR_TYPE_SOA || qtype == LDNS_RR_TYPE_ANY)
		rc = push_copy(r, LDNS_SECTION_ANSWER, z->soa, qname);
	if (rc == 0 && (qtype == LDNS_RR_TYPE_NS || qtype == LDNS_RR_TYPE_ANY))
		rc = push_copy(r, LDNS_SECTION_ANSWER, z->ns, qname);
	if (rc == 0 && ldns_pkt_ancount(r) == 0) /* NODATA */
		rc = push_copy(r, LDNS_SECTION_AUTHORITY, z->soa, NULL);
	return rc;
}

/* Fills R, the response to the well-formed QUERY. */
static int answer_query(const struct dns_zone *z, dns_txt_lookup_fn lookup, void *ctx,
			const ldns_pkt *query, ldns_pkt *r)
{
	ldns_rr_list *q = ldns_pkt_question(query);
	const ldns_rr *qrr;
	const ldns_rdf *qname;
	ldns_rr_type qtype;
	ldns_rr_class qclass;
	size_t labels;

	if (ldns_pkt_get_opcode(query) != LDNS_PACKET_QUERY) {
		ldns_pkt_set_rcode(r, LDNS_RCODE_NOTIMPL);
		return 0;
	}
	if (!q || ldns_rr_list_rr_count(q) != 1) {
		ldns_pkt_set_rcode(r, LDNS_RCODE_FORMERR);
		return 0;
	}
	qrr = ldns_rr_list_rr(q, 0);
	qname = ldns_rr_owner(qrr);
	qtype = ldns_rr_get_type(qrr);
	qclass = ldns_rr_get_class(qrr);
	if ((qclass != LDNS_RR_CLASS_IN && qclass != LDNS_RR_CLASS_ANY) ||
	    (ldns_dname_compare(qname, z->apex) != 0 && !ldns_dname_is_subdomain(qname, z->apex)) ||
	    qtype == LDNS_RR_TYPE_AXFR || qtype == LDNS_RR_TYPE_IXFR) {
		ldns_pkt_set_rcode(r, LDNS_RCODE_REFUSED);
		return 0;
	}
	ldns_pkt_set_aa(r, true);
	labels = ldns_dname_label_count(qname);
	if (labels == z->apex_labels)
		return answer_apex(z, qname, qtype, r);
	if (ldns_dname_compare(qname, z->nameserver) == 0) /* exists; its address is the parent's */
		return push_copy(r, LDNS_SECTION_AUTHORITY, z->soa, NULL);
	if (labels == z->apex_labels + 1)
		return answer_label(z, lookup, ctx, qname, qtype, r);
	ldns_pkt_set_rcode(r, LDNS_RCODE_NXDOMAIN);
	return push_copy(r, LDNS_SECTION_AUTHORITY, z->soa, NULL);
}

/* Wire form of R, or of R cut to its question with TC when longer than MAX_LEN, or to its
 * header with TC when even the question section does not fit (a query may carry several). */
static int to_wire(ldns_pkt *r, size_t max_len, uint8_t **out, size_t *out_len)
{
	uint8_t *buf = NULL;
	size_t size = 0;

	if (ldns_pkt2wire(&buf, r, &size) != LDNS_STATUS_OK)
		return SE_ENOMEM;
	if (size <= max_len) {
		*out = buf;
		*out_len = size;
		return 0;
	}
	free(buf);
	buf = NULL;
	ldns_rr_list_deep_free(ldns_pkt_answer(r));
	ldns_rr_list_deep_free(ldns_pkt_authority(r));
	ldns_rr_list_deep_free(ldns_pkt_additional(r));
	ldns_pkt_set_answer(r, ldns_rr_list_new());
	ldns_pkt_set_authority(r, ldns_rr_list_new());
	ldns_pkt_set_additional(r, ldns_rr_list_new());
	ldns_pkt_set_ancount(r, 0);
	ldns_pkt_set_nscount(r, 0);
	ldns_pkt_set_arcount(r, 0);
	ldns_pkt_set_tc(r, true);
	if (ldns_pkt2wire(&buf, r, &size) != LDNS_STATUS_OK)
		return SE_ENOMEM;
	if (size > max_len) {
		free(buf);
		buf = NULL;
		ldns_rr_list_deep_free(ldns_pkt_question(r));
		ldns_pkt_set_question(r, ldns_rr_list_new());
		ldns_pkt_set_qdcount(r, 0);
		if (ldns_pkt2wire(&buf, r, &size) != LDNS_STATUS_OK)
			return SE_ENOMEM;
	}
	*out = buf;
	*out_len = size;
	return 0;
}

int dns_answer(const struct dns_zone *z, dns_txt_lookup_fn lookup, void *ctx, const uint8_t *query,
	       size_t len, size_t max_len, uint8_t **out, size_t *out_len)
{
	ldns_pkt *q = NULL, *r = NULL;
	uint16_t id;
	int rc;

	*out = NULL;
	*out_len = 0;
	/* Shorter than a header, or a response (QR set): answering could start a loop. */
	if (len < LDNS_HEADER_SIZE || LDNS_QR_WIRE(query))
		return SE_EINVAL;
	id = LDNS_ID_WIRE(query);
	if (ldns_wire2pkt(&q, query, len) != LDNS_STATUS_OK) {
		q = NULL;
		r = response_of(NULL, id);
		if (!r)
			return SE_ENOMEM;
		ldns_pkt_set_rcode(r, LDNS_RCODE_FORMERR);
		rc = 0;
	} else {
		r = response_of(q, id);
		if (!r) {
			ldns_pkt_free(q);
			return SE_ENOMEM;
		}
		if (ldns_pkt_edns(q) && ldns_pkt_edns_udp_size(q) > max_len)
			max_len = ldns_pkt_edns_udp_size(q) < DNS_UDP_EDNS
				      ? ldns_pkt_edns_udp_size(q)
				      : DNS_UDP_EDNS;
		rc = answer_query(z, lookup, ctx, q, r);
	}
	if (rc == 0)
		rc = to_wire(r, max_len, out, out_len);
	ldns_pkt_free(q);
	ldns_pkt_free(r);
	return rc;
}

void dns_answer_truncate(uint8_t *resp, size_t *len)
{
	size_t qdcount, at = LDNS_HEADER_SIZE;

	if (*len < LDNS_HEADER_SIZE)
		return;
	qdcount = (size_t)resp[4] << 8 | resp[5];
	for (size_t q = 0; q < qdcount; q++) {
		/* The question comes first, so its name has no compression pointer. */
		while (at < *len && resp[at] != 0) {
			if (resp[at] & 0xc0)
				return;
			at += 1 + resp[at];
		}
		at += 1 + 4; /* the root label, QTYPE and QCLASS */
		if (at > *len)
			return;
	}
	resp[2] |= 0x02;        /* TC */
	memset(resp + 6, 0, 6); /* ANCOUNT, NSCOUNT, ARCOUNT */
	*len = at;
}

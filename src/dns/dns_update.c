/* RFC 2136 UPDATE of one name's TXT RRset at an external server (BIND, Knot, PowerDNS), over
 * TCP, signed with TSIG when a key is configured; ldns builds, signs, sends and verifies. */
#include "dns/dns_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "lib/error.h"
#include "lib/netaddr.h"

/* The server's address as an ldns rdf and its port. */
static ldns_rdf *server_of(const char *addr, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	char text[INET6_ADDRSTRLEN];

	if (netaddr_parse(addr, &ss, &len) != 0)
		return NULL;
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		*port = ntohs(in6->sin6_port);
		inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
		return ldns_rdf_new_frm_str(LDNS_RDF_TYPE_AAAA, text);
	}
	*port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, text, sizeof(text));
	return ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, text);
}

static ldns_rr *rr_of(const ldns_rdf *owner, ldns_rr_class cls, uint32_t ttl)
{
	ldns_rr *rr = ldns_rr_new();
	ldns_rdf *o = ldns_rdf_clone(owner);

	if (!rr || !o) {
		ldns_rr_free(rr);
		ldns_rdf_deep_free(o);
		return NULL;
	}
	ldns_rr_set_owner(rr, o);
	ldns_rr_set_type(rr, LDNS_RR_TYPE_TXT);
	ldns_rr_set_class(rr, cls);
	ldns_rr_set_ttl(rr, ttl);
	return rr;
}

/* The update section: delete the RRset (class ANY, RFC 2136 2.5.2), then add each value. */
static ldns_rr_list *updates_of(const ldns_rdf *owner, const char *const *values, size_t n)
{
	ldns_rr_list *up = ldns_rr_list_new();
	ldns_rr *rr = up ? rr_of(owner, LDNS_RR_CLASS_ANY, 0) : NULL;

	if (!rr || !ldns_rr_list_push_rr(up, rr))
		goto bad;
	for (size_t i = 0; i < n; i++) {
		uint8_t data[STORE_DNS_VALUE_MAX + 1];
		size_t len = strlen(values[i]);
		ldns_rdf *txt;

		if (len > STORE_DNS_VALUE_MAX)
			goto bad;
		data[0] = (uint8_t)len;
		memcpy(data + 1, values[i], len);
		rr = rr_of(owner, LDNS_RR_CLASS_IN, DNS_TTL);
		txt = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, len + 1, data);
		if (!rr || !txt || !ldns_rr_push_rdf(rr, txt)) {
			ldns_rdf_deep_free(txt);
			goto bad;
		}
		if (!ldns_rr_list_push_rr(up, rr))
			goto bad;
	}
	return up;
bad:
	ldns_rr_free(rr);
	ldns_rr_list_deep_free(up);
	return NULL;
}

int dns_update_txt(const struct config *cfg, const char *label, const char *const *values, size_t n,
		   char *msg, size_t msg_len)
{
	char name[STORE_DNS_LABEL_MAX + 300];
	ldns_resolver *res = ldns_resolver_new();
	ldns_rdf *server = NULL, *owner = NULL, *zone = NULL;
	ldns_rr_list *up = NULL;
	ldns_pkt *p = NULL, *answer = NULL;
	ldns_status st;
	uint16_t port = 0;
	int rc = SE_EIO;

	snprintf(name, sizeof(name), "%s.%s", label, cfg->dns.zone);
	server = server_of(cfg->dns.update_server, &port);
	owner = ldns_dname_new_frm_str(name);
	zone = ldns_dname_new_frm_str(cfg->dns.zone);
	up = owner ? updates_of(owner, values, n) : NULL;
	if (!res || !server || !zone || !up) {
		snprintf(msg, msg_len, "cannot build the update of %s for %s", name,
			 cfg->dns.update_server);
		goto out;
	}
	p = ldns_update_pkt_new(zone, LDNS_RR_CLASS_IN, NULL, up, NULL);
	zone = NULL; /* the packet owns it */
	ldns_resolver_push_nameserver(res, server);
	ldns_resolver_set_port(res, port);
	ldns_resolver_set_usevc(res, true);
	ldns_resolver_set_retry(res, 1);
	ldns_resolver_set_timeout(res, (struct timeval){3, 0});
	st = p ? LDNS_STATUS_OK : LDNS_STATUS_MEM_ERR;
	if (st == LDNS_STATUS_OK && cfg->dns.tsig_name[0]) {
		/* Signed here; ldns_send then checks the answer's signature against it. */
		ldns_resolver_set_tsig_keyname(res, cfg->dns.tsig_name);
		ldns_resolver_set_tsig_algorithm(res, cfg->dns.tsig_algorithm);
		ldns_resolver_set_tsig_keydata(res, cfg->dns.tsig_secret);
		st = ldns_update_pkt_tsig_add(p, res);
	}
	if (st == LDNS_STATUS_OK)
		st = ldns_resolver_send_pkt(&answer, res, p);
	if (st != LDNS_STATUS_OK || !answer) {
		snprintf(msg, msg_len, "RFC 2136 update of %s at %s failed: %s", name,
			 cfg->dns.update_server, ldns_get_errorstr_by_id(st));
		goto out;
	}
	if (ldns_pkt_get_rcode(answer) != LDNS_RCODE_NOERROR) {
		ldns_lookup_table *rcode =
		    ldns_lookup_by_id(ldns_rcodes, (int)ldns_pkt_get_rcode(answer));

		snprintf(msg, msg_len, "RFC 2136 update of %s at %s refused: %s", name,
			 cfg->dns.update_server, rcode ? rcode->name : "error");
		goto out;
	}
	rc = 0;
out:
	ldns_pkt_free(answer);
	ldns_pkt_free(p);
	ldns_rr_list_deep_free(up);
	ldns_rdf_deep_free(zone);
	ldns_rdf_deep_free(owner);
	ldns_rdf_deep_free(server);
	if (res)
		ldns_resolver_deep_free(res);
	return rc;
}

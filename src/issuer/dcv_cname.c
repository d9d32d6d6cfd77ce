/* Delegated dns-01 (ssl.method "cname", and "txt" as Cloudflare documents delegated DCV): the
 * customer CNAMEs _acme-challenge.<host> once to <label>.<dns.zone>, and saasedge publishes the
 * TXT values there itself (the dns role answers them from the store). The label is the
 * hostname's id without dashes: stable for the hostname's life, unique, a valid DNS label, and
 * it says nothing about the customer (decisions/0011). Before a validation is spent, the CNAME
 * is looked up at dns.resolver so that validation_errors can say what the customer still has
 * to do. */
#include "issuer/issuer_int.h"

#include <ares.h>
#include <arpa/nameser.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/error.h"
#include "lib/timeutil.h"

/* The customer's record is at the name without "*.": a wildcard is validated there too. */
static const char *base_of(const char *host)
{
	return strncmp(host, "*.", 2) == 0 ? host + 2 : host;
}

static void label_of(const struct pack_work *w, char label[STORE_DNS_LABEL_MAX + 1])
{
	size_t n = 0;

	for (const char *p = w->subj.hostname_id; *p && n < STORE_DNS_LABEL_MAX; p++) {
		if (*p != '-')
			label[n++] = *p;
	}
	label[n] = '\0';
}

void dcv_cname_target(const struct pack_work *w, char *out, size_t len)
{
	char label[STORE_DNS_LABEL_MAX + 1];

	label_of(w, label);
	snprintf(out, len, "%s.%s", label, w->is->cfg->dns.zone);
}

int dcv_cname_unavailable(struct pack_work *w, struct step_out *out)
{
	if (w->is->cfg->dns.zone[0])
		return 0;
	step_fail_later(w, out,
			"DCV method cname needs the dns role's zone: this server has no dns.zone"
			" configured; use txt or http",
			-1);
	return 1;
}

int dcv_delegation_publish(struct pack_work *w, const char *value)
{
	char label[STORE_DNS_LABEL_MAX + 1];
	/* Kept while the pack's validation could still run, plus a day of slack. */
	int64_t expires =
	    time_now_us() + (w->is->cfg->issuance.validation_timeout + 86400) * 1000000;

	if (!w->is->cfg->dns.zone[0])
		return 0;
	label_of(w, label);
	return store_dns_record_put(w->is->st, label, value, w->subj.pack_id, expires);
}

int dcv_cname_add(struct pack_work *w, const char *identifier, const char *value, json_t *records)
{
	char name[300], target[320];
	size_t i;
	json_t *r;
	int rc;

	rc = dcv_delegation_publish(w, value);
	if (rc)
		return rc;
	snprintf(name, sizeof(name), "_acme-challenge.%s", base_of(identifier));
	dcv_cname_target(w, target, sizeof(target));
	json_array_foreach(records, i, r)
	{
		const char *cname = json_string_value(json_object_get(r, "cname"));

		if (cname && strcmp(cname, name) == 0)
			return 0; /* a wildcard and its parent share the record */
	}
	r = json_pack("{s:s, s:s}", "cname", name, "cname_target", target);
	if (!r || json_array_append_new(records, r) != 0)
		return SE_ENOMEM;
	return 0;
}

void dcv_cname_withdraw(struct pack_work *w)
{
	store_dns_records_delete_pack(w->is->st, w->subj.pack_id);
}

struct cname_query {
	char target[256];
	int done;
	int status;
};

/* The CNAME in the answer section of the response ABUF, parsed with ldns. */
static void on_cname(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct cname_query *q = arg;
	ldns_pkt *pkt = NULL;
	ldns_rr_list *an;

	q->done = 1;
	q->status = status;
	if (status != ARES_SUCCESS || ldns_wire2pkt(&pkt, abuf, (size_t)alen) != LDNS_STATUS_OK)
		return;
	an = ldns_pkt_answer(pkt);
	for (size_t i = 0; an && i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);
		char *s;

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_CNAME || ldns_rr_rd_count(rr) < 1)
			continue;
		s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
		if (s)
			snprintf(q->target, sizeof(q->target), "%s", s);
		free(s);
		break;
	}
	ldns_pkt_free(pkt);
}

int dcv_cname_lookup(const char *resolver, const char *name, char *out, size_t len,
		     char *detail, size_t detail_len)
{
	struct ares_options opts = {.timeout = 1000, .tries = 2};
	struct cname_query q = {"", 0, 0};
	ares_channel ch = NULL;
	int rc = 0;

	out[0] = '\0';
	if (ares_init_options(&ch, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) != ARES_SUCCESS) {
		snprintf(detail, detail_len, "DNS resolver could not start");
		return SE_EIO;
	}
	if (resolver[0] && ares_set_servers_ports_csv(ch, resolver) != ARES_SUCCESS) {
		snprintf(detail, detail_len, "invalid dns.resolver %s", resolver);
		rc = SE_ECONFIG;
		goto out;
	}
	ares_query(ch, name, ns_c_in, ns_t_cname, on_cname, &q);
	dcv_channel_wait(ch, &q.done);
	if (q.status != ARES_SUCCESS && q.status != ARES_ENOTFOUND && q.status != ARES_ENODATA) {
		snprintf(detail, detail_len, "DNS lookup of CNAME %s failed: %s", name,
			 ares_strerror(q.status));
		rc = SE_EIO;
	}
	snprintf(out, len, "%s", q.target);
out:
	ares_destroy(ch);
	return rc;
}

int dcv_same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	la -= la && a[la - 1] == '.';
	lb -= lb && b[lb - 1] == '.';
	return la == lb && la && strncasecmp(a, b, la) == 0;
}

int dcv_cname_check(struct pack_work *w, char *msg, size_t msg_len)
{
	char name[300], target[320], found[256], detail[700];
	int rc;

	snprintf(name, sizeof(name), "_acme-challenge.%s", base_of(w->subj.hostname));
	dcv_cname_target(w, target, sizeof(target));
	rc = dcv_cname_lookup(w->is->cfg->dns.resolver, name, found, sizeof(found), detail,
			  sizeof(detail));
	if (rc) {
		snprintf(msg, msg_len, "%s", detail);
		return SE_EIO;
	}
	if (!found[0]) {
		snprintf(msg, msg_len, "CNAME record %s not found: expected %s", name, target);
		return SE_ENOTFOUND;
	}
	if (!dcv_same_name(found, target)) {
		snprintf(msg, msg_len, "CNAME record %s points to %s: expected %s", name, found,
			 target);
		return SE_ENOTFOUND;
	}
	return 0;
}

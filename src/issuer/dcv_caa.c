/* CAA pre-flight (RFC 8659). A CA refuses to issue when the name's CAA records do not name it,
 * and a refused validation still counts against its rate limits; so before accepting any
 * challenge the issuer looks the records up itself, the way the CA will, and explains what to
 * change in validation_errors. The CA's identities are ca.<name>.caa_identities, else its
 * directory's meta.caaIdentities; a CA that names none is not checked. The internal CA is
 * private and does not honour CAA. */
#include "issuer/issuer_int.h"

#include <ares.h>
#include <arpa/nameser.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/error.h"

#define CAA_TYPE      257 /* RFC 8659 */
#define CAA_CRITICAL  128
#define CAA_MAX_PROPS 32

struct caa_prop {
	int critical;
	char tag[16];
	char value[256];
};

struct caa_set {
	struct caa_prop props[CAA_MAX_PROPS];
	size_t n;
};

struct caa_query {
	struct caa_set *out;
	int done;
	int status;
};

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct caa_query *q = arg;
	struct ares_caa_reply *caa = NULL;

	(void)timeouts;
	q->done = 1;
	q->status = status;
	if (status != ARES_SUCCESS)
		return;
	q->status = ares_parse_caa_reply(abuf, alen, &caa);
	for (struct ares_caa_reply *r = caa; r && q->status == ARES_SUCCESS; r = r->next) {
		struct caa_prop *p;

		if (q->out->n == CAA_MAX_PROPS)
			break;
		p = &q->out->props[q->out->n++];
		p->critical = (r->critical & CAA_CRITICAL) != 0;
		snprintf(p->tag, sizeof(p->tag), "%.*s", (int)r->plength,
			 (const char *)r->property);
		snprintf(p->value, sizeof(p->value), "%.*s", (int)r->length,
			 (const char *)r->value);
	}
	if (caa)
		ares_free_data(caa);
}

/* The CAA RRset of NAME into OUT (empty when there is none); SE_EIO with DETAIL when the lookup
 * fails (a CA treats that as a refusal too). */
static int caa_lookup(ares_channel ch, const char *name, struct caa_set *out, char *detail,
		      size_t detail_len)
{
	struct caa_query q = {out, 0, 0};

	memset(out, 0, sizeof(*out));
	ares_query(ch, name, ns_c_in, CAA_TYPE, on_answer, &q);
	dcv_channel_wait(ch, &q.done);
	if (q.status == ARES_SUCCESS || q.status == ARES_ENOTFOUND || q.status == ARES_ENODATA)
		return 0;
	snprintf(detail, detail_len, "CAA lookup of %s failed: %s", name, ares_strerror(q.status));
	return SE_EIO;
}

static int known_tag(const char *tag)
{
	static const char *const tags[] = {"issue", "issuewild", "iodef", "contactemail",
					   "contactphone", "issuemail", "issuevmc"};

	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (strcasecmp(tag, tags[i]) == 0)
			return 1;
	return 0;
}

/* 1 when VALUE ("ca.example; params", or ";" for nobody) names one of IDENTITIES. */
static int names_identity(const char *value, const char *identities)
{
	const char *end = strchr(value, ';');
	size_t len = end ? (size_t)(end - value) : strlen(value);
	const char *id = identities;

	while (len && (*value == ' ' || *value == '\t'))
		value++, len--;
	while (len && (value[len - 1] == ' ' || value[len - 1] == '\t'))
		len--;
	while (len && *id) {
		size_t n = strcspn(id, ",");

		if (n == len && strncasecmp(value, id, n) == 0)
			return 1;
		id += n + (id[n] == ',');
	}
	return 0;
}

/* Whether SET (the relevant RRset) lets IDENTITIES issue; ALLOWED lists the issuers it names. */
static int caa_allows(const struct caa_set *set, int wildcard, const char *identities,
		   char *allowed, size_t allowed_len)
{
	const char *tag = "issue";
	size_t used = 0;
	int restricted = 0, ok = 0;

	allowed[0] = '\0';
	for (size_t i = 0; i < set->n; i++) {
		if (set->props[i].critical && !known_tag(set->props[i].tag))
			return 0; /* RFC 8659 §4.5: an unknown critical property forbids issuance */
		if (wildcard && strcasecmp(set->props[i].tag, "issuewild") == 0)
			tag = "issuewild";
	}
	for (size_t i = 0; i < set->n; i++) {
		const struct caa_prop *p = &set->props[i];
		int n;

		if (strcasecmp(p->tag, tag) != 0)
			continue;
		restricted = 1;
		ok |= names_identity(p->value, identities);
		n = snprintf(allowed + used, allowed_len - used, "%s%.*s", used ? ", " : "",
			     (int)strcspn(p->value, ";"), p->value);
		if (n > 0 && (size_t)n < allowed_len - used)
			used += (size_t)n;
	}
	return !restricted || ok;
}

/* Climbs from NAME towards the root; the first non-empty CAA RRset decides (RFC 8659 §3). */
static int check_name(ares_channel ch, const char *name, int wildcard, const char *identities,
		      char *msg, size_t msg_len)
{
	const char *at = name;
	struct caa_set set;
	char allowed[200];
	int rc;

	while (at && *at) {
		rc = caa_lookup(ch, at, &set, msg, msg_len);
		if (rc)
			return rc;
		if (set.n) {
			if (caa_allows(&set, wildcard, identities, allowed, sizeof(allowed)))
				return 0;
			snprintf(msg, msg_len,
				 "CAA records at %s do not allow %s to issue for %s%s (they allow: "
				 "%s): add the record %s CAA 0 %s \"%.*s\"",
				 at, identities, wildcard ? "*." : "", name,
				 allowed[0] ? allowed : "none", at, wildcard ? "issuewild" : "issue",
				 (int)strcspn(identities, ","), identities);
			return SE_EPERM;
		}
		at = strchr(at, '.');
		at = at ? at + 1 : NULL;
	}
	return 0;
}

int dcv_caa_check(const char *resolver, const char *const *names, size_t n,
		  const char *identities, char *msg, size_t msg_len)
{
	struct ares_options opts = {.timeout = 1000, .tries = 2};
	ares_channel ch = NULL;
	int rc = 0;

	msg[0] = '\0';
	if (!identities || !identities[0])
		return 0;
	if (ares_init_options(&ch, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) != ARES_SUCCESS) {
		snprintf(msg, msg_len, "DNS resolver could not start");
		return SE_EIO;
	}
	if (resolver && resolver[0] && ares_set_servers_ports_csv(ch, resolver) != ARES_SUCCESS) {
		snprintf(msg, msg_len, "invalid dns.resolver %s", resolver);
		rc = SE_ECONFIG;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		int wildcard = strncmp(names[i], "*.", 2) == 0;

		rc = check_name(ch, names[i] + (wildcard ? 2 : 0), wildcard, identities, msg,
				msg_len);
	}
	ares_destroy(ch);
	return rc;
}

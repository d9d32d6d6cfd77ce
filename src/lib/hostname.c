/* Hostname normalisation and Cloudflare's custom-hostname rules.
 *
 * Pipeline, shared by custom hostnames and origins: copy and drop one trailing dot, lower-case
 * ASCII, convert non-ASCII labels to A-labels, recognise IP literals, then check length, labels
 * and characters. Custom hostnames then go through the policy checks (reserved TLD, example
 * domains, public suffix) in that order, so the verdict is the first rule that fails.
 *
 * IDN choices:
 * - Non-ASCII labels are converted one by one with IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL and no
 *   transitional fallback. Browsers resolve names with UTS#46 non-transitional processing, so
 *   "faß.de" must become "xn--fa-hia.de" (transitional would give "fass.de", a name nobody sends
 *   in SNI). A fallback would only kick in for names that are invalid under IDNA2008 (emoji, a
 *   zero-width joiner out of context) and would silently map them to a different name or to one
 *   the CA refuses later; a clear NON_ASCII up front is better.
 * - Only labels holding non-ASCII bytes go through libidn2: ASCII labels keep our own rules
 *   (libidn2 would, for instance, refuse "ab--c", which Cloudflare accepts).
 * - An ASCII label starting with "xn--" must be a valid A-label: libidn2 must accept it under the
 *   same flags and give it back unchanged. idn2_to_unicode_8z8z alone is too lax ("xn--a" decodes
 *   to an empty label). Failure is HOSTNAME_NON_ASCII, not INVALID, so that a name gets the same
 *   verdict whether the client sent its U-label or its A-label form ("💩.la" / "xn--ls8h.la").
 *
 * IP literals: v4 as inet_pton or inet_aton reads it ("127.1" and "0x7f.1" are addresses to
 * getaddrinfo), v6 with or without brackets. A single label is NO_REGISTRABLE through the public
 * suffix list's implicit "*" rule, as the header says, unless a reserved TLD matched first.
 *
 * Thread safety: no mutable static state. psl_builtin() returns the list compiled into libpsl,
 * read-only and shared; libidn2 calls only touch their arguments. */
#include "lib/hostname.h"
#include "lib/reason.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <libpsl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/error.h"

/* Longest raw input we look at. A 255-byte A-label name cannot come from much more (UTF-8 takes
 * at most 4 bytes a character); longer input is refused as too long without converting it. */
#define RAW_MAX   1024
#define LABEL_MAX 63
#define LDH_NAME_MAX 253 /* RFC 1035: 255 octets on the wire, 253 characters as text */
#define IDN_FLAGS (IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL)

enum mode { MODE_CUSTOM, MODE_ORIGIN };

static const char *const reserved_tlds[] = {"test",      "example", "invalid",
					    "localhost", "local",   "onion"};
static const char *const example_domains[] = {"example.com", "example.net", "example.org"};


static int is_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

static int has_non_ascii(const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s >= 0x80)
			return 1;
	}
	return 0;
}

static enum hostname_verdict too_long(char *reason, size_t reason_len)
{
	reason_set(reason, reason_len, "hostname is longer than %d characters", HOSTNAME_MAX);
	return HOSTNAME_INVALID;
}

static enum hostname_verdict long_label(char *reason, size_t reason_len)
{
	reason_set(reason, reason_len, "hostname has a label longer than %d characters", LABEL_MAX);
	return HOSTNAME_INVALID;
}

static enum hostname_verdict bad_hyphen(char *reason, size_t reason_len)
{
	reason_set(reason, reason_len, "hostname labels cannot start or end with a hyphen");
	return HOSTNAME_INVALID;
}

static enum hostname_verdict misplaced_wildcard(char *reason, size_t reason_len)
{
	reason_set(reason, reason_len, "a wildcard '*' is only allowed as the whole first label");
	return HOSTNAME_INVALID;
}

static enum hostname_verdict bad_char(unsigned char c, char *reason, size_t reason_len)
{
	if (c == '*')
		return misplaced_wildcard(reason, reason_len);
	if (c == ' ')
		reason_set(reason, reason_len, "hostname contains a space");
	else if (c < 0x20 || c == 0x7f)
		reason_set(reason, reason_len, "hostname contains the control character 0x%02x", c);
	else
		reason_set(reason, reason_len, "hostname contains the character '%c'", c);
	return HOSTNAME_INVALID;
}

/* Copies NAME into BUF (RAW_MAX + 1 bytes) without one trailing dot, ASCII lower-cased. */
static enum hostname_verdict prepare(const char *name, char *buf, char *reason, size_t reason_len)
{
	size_t n;

	if (!name || !name[0]) {
		reason_set(reason, reason_len, "hostname is empty");
		return HOSTNAME_INVALID;
	}
	n = strnlen(name, RAW_MAX + 1);
	if (n > RAW_MAX)
		return too_long(reason, reason_len);
	if (name[n - 1] == '.')
		n--;
	if (n == 0) {
		reason_set(reason, reason_len, "hostname is empty");
		return HOSTNAME_INVALID;
	}
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		buf[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	buf[n] = '\0';
	return HOSTNAME_OK;
}

/* Maps a libidn2 failure to the verdict of the rule it broke; the rest is a bad IDN. */
static enum hostname_verdict idn_failure(int rc, char *reason, size_t reason_len)
{
	switch (rc) {
	case IDN2_TOO_BIG_DOMAIN:
		return too_long(reason, reason_len);
	case IDN2_TOO_BIG_LABEL:
	case IDN2_PUNYCODE_BIG_OUTPUT:
		return long_label(reason, reason_len);
	case IDN2_HYPHEN_STARTEND:
		return bad_hyphen(reason, reason_len);
	default:
		reason_set(reason, reason_len, "hostname is not a valid internationalized domain name: %s",
		    idn2_strerror(rc));
		return HOSTNAME_NON_ASCII;
	}
}

/* Appends label P (N bytes) to RES at *USED, converted to an A-label when it is not ASCII. */
static enum hostname_verdict convert_label(const char *p, size_t n, char *res, size_t res_size,
					   size_t *used, char *reason, size_t reason_len)
{
	char label[RAW_MAX + 1];
	char *alabel = NULL;
	const char *src = label;
	size_t len;
	int rc;

	memcpy(label, p, n);
	label[n] = '\0';
	if (has_non_ascii(label)) {
		rc = idn2_lookup_u8((const uint8_t *)label, (uint8_t **)&alabel, IDN_FLAGS);
		if (rc != IDN2_OK)
			return idn_failure(rc, reason, reason_len);
		src = alabel;
	}
	len = strlen(src);
	if (*used + len >= res_size) {
		idn2_free(alabel);
		return too_long(reason, reason_len);
	}
	memcpy(res + *used, src, len);
	*used += len;
	idn2_free(alabel);
	return HOSTNAME_OK;
}

/* Converts BUF (RAW_MAX + 1 bytes) to A-labels in place when it holds non-ASCII bytes. */
static enum hostname_verdict to_ascii(char *buf, char *reason, size_t reason_len)
{
	char res[RAW_MAX + 1];
	size_t used = 0;
	const char *p = buf;
	enum hostname_verdict v;

	if (!has_non_ascii(buf))
		return HOSTNAME_OK;
	/* Name a stray ASCII character ourselves: libidn2 would pass some through and report
	 * others as an opaque "A-label roundtrip failed". */
	for (const unsigned char *c = (const unsigned char *)buf; *c; c++) {
		if (*c < 0x80 && !is_ldh(*c) && *c != '.' && *c != '*')
			return bad_char(*c, reason, reason_len);
	}
	for (;;) {
		const char *end = strchr(p, '.');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		v = convert_label(p, n, res, sizeof(res), &used, reason, reason_len);
		if (v != HOSTNAME_OK)
			return v;
		if (!end)
			break;
		if (used + 1 >= sizeof(res))
			return too_long(reason, reason_len);
		res[used++] = '.';
		p = end + 1;
	}
	res[used] = '\0';
	memcpy(buf, res, used + 1);
	return HOSTNAME_OK;
}

/* Recognises an IP literal in BUF. Returns 1 with *V set when BUF is one (for origins, BUF is
 * rewritten in canonical form: IPv6 without brackets, as inet_ntop prints it), 0 otherwise. */
static int match_ip(char *buf, enum mode mode, enum hostname_verdict *v, char *reason,
		    size_t reason_len)
{
	struct in6_addr a6;
	struct in_addr a4;
	char inner[RAW_MAX + 1];
	size_t n = strlen(buf);
	int family = 0;

	memcpy(inner, buf, n + 1);
	if (n >= 2 && buf[0] == '[' && buf[n - 1] == ']') {
		memcpy(inner, buf + 1, n - 2);
		inner[n - 2] = '\0';
	}
	if (inet_pton(AF_INET6, inner, &a6) == 1)
		family = AF_INET6;
	else if (inet_pton(AF_INET, buf, &a4) == 1)
		family = AF_INET;
	else if (inet_aton(buf, &a4) == 0)
		return 0;
	/* inet_aton also takes "127.1", "0x7f.1" or "010.0.0.1": getaddrinfo would read those as
	 * addresses, so they are IP addresses in disguise, never host names. */
	if (mode == MODE_CUSTOM) {
		reason_set(reason, reason_len, "IP addresses are not allowed");
		*v = HOSTNAME_INVALID;
	} else if (family == 0) {
		reason_set(reason, reason_len,
		    "IPv4 addresses must be four decimal numbers without leading zeros");
		*v = HOSTNAME_INVALID;
	} else {
		inet_ntop(family, family == AF_INET6 ? (void *)&a6 : (void *)&a4, buf, RAW_MAX + 1);
		*v = HOSTNAME_OK;
	}
	return 1;
}

/* An "xn--" label must be an A-label libidn2 gives back unchanged (see the file comment). */
static enum hostname_verdict check_alabel(const char *p, size_t n, char *reason, size_t reason_len)
{
	char label[LABEL_MAX + 1];
	char *out = NULL;
	int rc;
	enum hostname_verdict v = HOSTNAME_OK;

	memcpy(label, p, n);
	label[n] = '\0';
	rc = idn2_lookup_u8((const uint8_t *)label, (uint8_t **)&out, IDN_FLAGS);
	if (rc != IDN2_OK || strcmp(out, label) != 0) {
		reason_set(reason, reason_len, "hostname label '%s' is not a valid IDN A-label: %s", label,
		    rc != IDN2_OK ? idn2_strerror(rc) : "not in canonical form");
		v = HOSTNAME_NON_ASCII;
	}
	idn2_free(out);
	return v;
}

/* Checks label P (N bytes). FIRST is set for the first label of a name with several. */
static enum hostname_verdict check_label(const char *p, size_t n, int first, int *wildcard,
					 char *reason, size_t reason_len)
{
	if (n == 0) {
		reason_set(reason, reason_len, "hostname contains an empty label");
		return HOSTNAME_INVALID;
	}
	if (first && n == 1 && p[0] == '*') {
		*wildcard = 1;
		return HOSTNAME_OK;
	}
	for (size_t i = 0; i < n; i++) {
		if (!is_ldh((unsigned char)p[i]))
			return bad_char((unsigned char)p[i], reason, reason_len);
	}
	if (n > LABEL_MAX)
		return long_label(reason, reason_len);
	if (p[0] == '-' || p[n - 1] == '-')
		return bad_hyphen(reason, reason_len);
	if (n >= 4 && memcmp(p, "xn--", 4) == 0)
		return check_alabel(p, n, reason, reason_len);
	return HOSTNAME_OK;
}

static int all_digits(const char *s)
{
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return 0;
	}
	return 1;
}

static enum hostname_verdict check_labels(const char *name, int *wildcard, char *reason,
					  size_t reason_len)
{
	const char *p = name;
	enum hostname_verdict v;

	*wildcard = 0;
	for (;;) {
		const char *end = strchr(p, '.');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		v = check_label(p, n, p == name && end, wildcard, reason, reason_len);
		if (v != HOSTNAME_OK)
			return v;
		if (!end)
			break;
		p = end + 1;
	}
	/* The last label of an IP that was not caught as one ("1.2.3.4444"): never a TLD. */
	if (all_digits(p)) {
		reason_set(reason, reason_len, "the last label of a hostname cannot be all-numeric");
		return HOSTNAME_INVALID;
	}
	return HOSTNAME_OK;
}

/* The syntax half shared by both entry points: BUF (RAW_MAX + 1 bytes) receives the normalised
 * name; *WILDCARD says whether it starts with "*.". */
static enum hostname_verdict normalize_syntax(const char *name, enum mode mode, char *buf,
					      int *wildcard, char *reason, size_t reason_len)
{
	enum hostname_verdict v;

	*wildcard = 0;
	v = prepare(name, buf, reason, reason_len);
	if (v == HOSTNAME_OK)
		v = to_ascii(buf, reason, reason_len);
	if (v != HOSTNAME_OK)
		return v;
	if (match_ip(buf, mode, &v, reason, reason_len))
		return v;
	if (strlen(buf) > HOSTNAME_MAX)
		return too_long(reason, reason_len);
	return check_labels(buf, wildcard, reason, reason_len);
}

static int ends_with_domain(const char *name, const char *domain)
{
	size_t n = strlen(name), d = strlen(domain);

	if (n == d)
		return strcmp(name, domain) == 0;
	return n > d && name[n - d - 1] == '.' && strcmp(name + n - d, domain) == 0;
}

/* Reserved TLD, example domains, public suffix, in that order, on NAME without its "*.". */
static enum hostname_verdict check_policy(const char *name, char *reason, size_t reason_len)
{
	const char *dot = strrchr(name, '.');
	const char *tld = dot ? dot + 1 : name;
	const psl_ctx_t *psl = psl_builtin();

	for (size_t i = 0; i < sizeof(reserved_tlds) / sizeof(reserved_tlds[0]); i++) {
		if (strcmp(tld, reserved_tlds[i]) == 0) {
			reason_set(reason, reason_len, "the top-level domain '%s' is reserved", tld);
			return HOSTNAME_RESERVED_TLD;
		}
	}
	for (size_t i = 0; i < sizeof(example_domains) / sizeof(example_domains[0]); i++) {
		if (ends_with_domain(name, example_domains[i])) {
			reason_set(reason, reason_len, "%s is reserved for documentation",
			    example_domains[i]);
			return HOSTNAME_EXAMPLE_DOMAIN;
		}
	}
	/* A single label is a public suffix too, through the list's implicit "*" rule. */
	if (!psl || !psl_registrable_domain(psl, name)) {
		reason_set(reason, reason_len, "publicsuffix: cannot derive eTLD+1 for domain %s", name);
		return HOSTNAME_NO_REGISTRABLE;
	}
	return HOSTNAME_OK;
}

/* OUT holds the normalised name whenever normalisation succeeded, whatever the policy verdict
 * (callers may want it for their error message); "" otherwise. */
enum hostname_verdict hostname_normalize(const char *name, int allow_wildcard,
					 char out[HOSTNAME_MAX + 1], char *reason,
					 size_t reason_len)
{
	char buf[RAW_MAX + 1];
	int wildcard;
	enum hostname_verdict v;

	out[0] = '\0';
	v = normalize_syntax(name, MODE_CUSTOM, buf, &wildcard, reason, reason_len);
	if (v != HOSTNAME_OK)
		return v;
	memcpy(out, buf, strlen(buf) + 1);
	/* The rest of a wildcard must pass every rule itself, so "*.co.uk" is NO_REGISTRABLE
	 * and WILDCARD is only for names that would otherwise be accepted. */
	v = check_policy(wildcard ? buf + 2 : buf, reason, reason_len);
	if (v != HOSTNAME_OK)
		return v;
	if (wildcard && !allow_wildcard) {
		reason_set(reason, reason_len, "wildcard hostnames are not allowed");
		return HOSTNAME_WILDCARD;
	}
	return HOSTNAME_OK;
}

enum hostname_verdict hostname_normalize_origin(const char *name, char out[HOSTNAME_MAX + 1],
						char *reason, size_t reason_len)
{
	char buf[RAW_MAX + 1];
	int wildcard;
	enum hostname_verdict v;

	out[0] = '\0';
	v = normalize_syntax(name, MODE_ORIGIN, buf, &wildcard, reason, reason_len);
	if (v != HOSTNAME_OK)
		return v;
	memcpy(out, buf, strlen(buf) + 1);
	if (wildcard) {
		reason_set(reason, reason_len, "an origin cannot be a wildcard");
		return HOSTNAME_WILDCARD;
	}
	return HOSTNAME_OK;
}

int hostname_ldh_ok(const char *name, size_t len)
{
	size_t label = 0;

	if (len == 0 || len > LDH_NAME_MAX)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = i < len ? (unsigned char)name[i] : '.';

		if (c != '.') {
			if (!is_ldh(c) || ++label > LABEL_MAX)
				return 0;
			continue;
		}
		/* a label ends: not empty, no hyphen at either end */
		if (label == 0 || name[i - label] == '-' || name[i - 1] == '-')
			return 0;
		label = 0;
	}
	return 1;
}

int hostname_is_wildcard(const char *name)
{
	return name && name[0] == '*' && name[1] == '.';
}

static int fragment_char(unsigned char c)
{
	return c >= 0x80 || is_ldh(c) || (c >= 'A' && c <= 'Z') || c == '.' || c == '*';
}

/* Counts characters, not bytes: a UTF-8 continuation byte does not start a character. The
 * empty fragment is accepted (it is part of every hostname). */
int hostname_fragment_ok(const char *fragment)
{
	size_t chars = 0;

	if (!fragment)
		return 0;
	for (const unsigned char *c = (const unsigned char *)fragment; *c; c++) {
		if (!fragment_char(*c))
			return 0;
		if ((*c & 0xc0) != 0x80 && ++chars > HOSTNAME_MAX)
			return 0;
	}
	return 1;
}

/* Borrows NAME (a normalised hostname); SE_ETOOBIG when the domain does not fit OUT. */
int hostname_registered_domain(const char *name, char *out, size_t out_len)
{
	const psl_ctx_t *psl = psl_builtin();
	const char *domain;
	size_t n;

	if (!name || !psl)
		return SE_EINVAL;
	domain = psl_registrable_domain(psl, name);
	if (!domain)
		return SE_EINVAL;
	n = strlen(domain);
	if (n >= out_len)
		return SE_ETOOBIG;
	memcpy(out, domain, n + 1);
	return 0;
}

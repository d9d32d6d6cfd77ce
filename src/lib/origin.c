/* Origin text form: "[https://|http://]host[:port]". Anything that looks like a URL beyond that
 * (another scheme, user information, a path, a query or a fragment) is refused rather than
 * ignored, so that an operator never believes a path is honoured when it is not. */
#include "lib/origin.h"
#include "lib/reason.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The host part is checked by hostname_normalize_origin, which takes at most this much. */
#define HOST_TEXT_MAX 1024
#define SCHEME_SHOWN  16
#define SCHEME_CHARS  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-."


/* Skips an "https://" or "http://" prefix of *TEXT and sets *TLS. */
static enum hostname_verdict parse_scheme(const char **text, int *tls, char *reason,
					  size_t reason_len)
{
	const char *sep = strstr(*text, "://");
	size_t n;

	*tls = 0;
	if (!sep)
		return HOSTNAME_OK;
	n = (size_t)(sep - *text);
	if (n == 5 && strncasecmp(*text, "https", 5) == 0) {
		*tls = 1;
	} else if (!(n == 4 && strncasecmp(*text, "http", 4) == 0)) {
		/* Quoted only when it is scheme characters (RFC 3986 §3.1): anything else, cut
		 * anywhere, could be half a UTF-8 character in an API error message. */
		if (n > 0 && n <= SCHEME_SHOWN && strspn(*text, SCHEME_CHARS) >= n)
			reason_set(reason, reason_len,
				   "unsupported scheme '%.*s', use https:// or http://", (int)n,
				   *text);
		else
			reason_set(reason, reason_len, "unsupported scheme, use https:// or http://");
		return HOSTNAME_INVALID;
	}
	*text = sep + 3;
	return HOSTNAME_OK;
}

static enum hostname_verdict reject_url_parts(const char *rest, char *reason, size_t reason_len)
{
	const char *what = NULL;

	if (strchr(rest, '@'))
		what = "user information";
	else if (strchr(rest, '/'))
		what = "a path";
	else if (strchr(rest, '?'))
		what = "a query";
	else if (strchr(rest, '#'))
		what = "a fragment";
	if (!what)
		return HOSTNAME_OK;
	reason_set(reason, reason_len, "an origin cannot contain %s", what);
	return HOSTNAME_INVALID;
}

/* Decimal 1..65535, no sign, no leading zero. */
static enum hostname_verdict parse_port(const char *s, unsigned *port, char *reason,
					size_t reason_len)
{
	unsigned long v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 5 || s[0] == '0')
		goto bad;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto bad;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		goto bad;
	*port = (unsigned)v;
	return HOSTNAME_OK;
bad:
	reason_set(reason, reason_len, "invalid port");
	return HOSTNAME_INVALID;
}

/* Splits REST into HOST (HOST_TEXT_MAX + 1 bytes) and the port text (*PORT_TEXT, NULL when
 * there is none). A bracketed IPv6 host keeps its brackets for hostname_normalize_origin. */
static enum hostname_verdict split_host_port(const char *rest, char *host, const char **port_text,
					     char *reason, size_t reason_len)
{
	const char *colon = NULL;
	size_t n;

	*port_text = NULL;
	if (rest[0] == '[') {
		const char *close = strchr(rest, ']');

		if (!close || (close[1] != '\0' && close[1] != ':')) {
			reason_set(reason, reason_len, "malformed IPv6 address in brackets");
			return HOSTNAME_INVALID;
		}
		if (close[1] == ':')
			colon = close + 1;
	} else if ((colon = strchr(rest, ':')) && strchr(colon + 1, ':')) {
		colon = NULL; /* several colons: a bare IPv6 address, which cannot have a port */
	}
	n = colon ? (size_t)(colon - rest) : strlen(rest);
	if (n > HOST_TEXT_MAX) {
		reason_set(reason, reason_len, "hostname is longer than %d characters", HOSTNAME_MAX);
		return HOSTNAME_INVALID;
	}
	memcpy(host, rest, n);
	host[n] = '\0';
	if (colon)
		*port_text = colon + 1;
	return HOSTNAME_OK;
}

/* Borrows TEXT; OUT is fully written on HOSTNAME_OK and zeroed otherwise. */
enum hostname_verdict origin_parse(const char *text, struct origin *out, char *reason,
				   size_t reason_len)
{
	char host[HOST_TEXT_MAX + 1];
	const char *rest = text;
	const char *port_text;
	struct origin o = {.port = 0};
	enum hostname_verdict v;

	memset(out, 0, sizeof(*out));
	if (!text || !text[0]) {
		reason_set(reason, reason_len, "origin is empty");
		return HOSTNAME_INVALID;
	}
	v = parse_scheme(&rest, &o.tls, reason, reason_len);
	if (v == HOSTNAME_OK)
		v = reject_url_parts(rest, reason, reason_len);
	if (v == HOSTNAME_OK)
		v = split_host_port(rest, host, &port_text, reason, reason_len);
	if (v == HOSTNAME_OK && port_text)
		v = parse_port(port_text, &o.port, reason, reason_len);
	if (v == HOSTNAME_OK)
		v = hostname_normalize_origin(host, o.host, reason, reason_len);
	if (v == HOSTNAME_OK)
		*out = o;
	return v;
}

void origin_format(const struct origin *o, char *out, size_t out_len)
{
	int v6 = strchr(o->host, ':') != NULL;
	char port[sizeof(":4294967295")] = "";

	if (out_len == 0)
		return;
	if (o->port)
		snprintf(port, sizeof(port), ":%u", o->port);
	snprintf(out, out_len, "%s%s%s%s%s", o->tls ? "https://" : "", v6 ? "[" : "", o->host,
		 v6 ? "]" : "", port);
}

void origin_format_as_sent(const struct origin *o, const char *sent, char *out, size_t out_len)
{
	origin_format(o, out, out_len);
	if (strlen(sent) < out_len && strcasecmp(out, sent) == 0)
		memcpy(out, sent, strlen(sent) + 1);
}

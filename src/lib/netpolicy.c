#include "lib/netpolicy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"

#define OWN_MAX 64

static const unsigned char mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
static const unsigned char nat64_prefix[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};

/* ---- this machine's addresses --------------------------------------------------------------- */

static pthread_once_t own_once = PTHREAD_ONCE_INIT;
static unsigned char own_addrs[OWN_MAX][16];
static size_t n_own;

static void to16(const struct sockaddr *sa, unsigned char out[16])
{
	if (sa->sa_family == AF_INET) {
		memcpy(out, mapped_prefix, 12);
		memcpy(out + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
	} else {
		memcpy(out, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
	}
}

/* Read once: interfaces seldom change while a server runs, and a connect must not pay for a
 * netlink dump. An address added later is still refused by its class when it is private. */
static void own_load(void)
{
	struct ifaddrs *list = NULL;

	if (getifaddrs(&list) != 0)
		return;
	for (struct ifaddrs *i = list; i && n_own < OWN_MAX; i = i->ifa_next) {
		if (i->ifa_addr &&
		    (i->ifa_addr->sa_family == AF_INET || i->ifa_addr->sa_family == AF_INET6))
			to16(i->ifa_addr, own_addrs[n_own++]);
	}
	freeifaddrs(list);
}

static int is_own(const unsigned char a[16])
{
	pthread_once(&own_once, own_load);
	for (size_t i = 0; i < n_own; i++) {
		if (memcmp(own_addrs[i], a, 16) == 0)
			return 1;
	}
	return 0;
}

/* ---- classes ------------------------------------------------------------------------------- */

static enum netpolicy_class classify_v4(const unsigned char v[4])
{
	if (v[0] == 0)
		return NETPOLICY_UNSPECIFIED;
	if (v[0] == 127)
		return NETPOLICY_LOOPBACK;
	if (v[0] == 10 || (v[0] == 172 && (v[1] & 0xf0) == 16) || (v[0] == 192 && v[1] == 168))
		return NETPOLICY_PRIVATE;
	if (v[0] == 169 && v[1] == 254)
		return NETPOLICY_LINK_LOCAL;
	if (v[0] == 100 && (v[1] & 0xc0) == 64)
		return NETPOLICY_CGNAT;
	if ((v[0] & 0xf0) == 224)
		return NETPOLICY_MULTICAST;
	if ((v[0] & 0xf0) == 240 || (v[0] == 192 && v[1] == 0 && v[2] == 0) ||
	    (v[0] == 198 && (v[1] & 0xfe) == 18))
		return NETPOLICY_RESERVED;
	return NETPOLICY_PUBLIC;
}

/* Forms that carry an IPv4 address (mapped, NAT64, 6to4) take that address's class: a
 * translator inside the provider's network would otherwise reach 127.0.0.1 or 10/8 for us. */
static enum netpolicy_class classify16(const unsigned char a[16])
{
	static const unsigned char zero[16];

	if (memcmp(a, mapped_prefix, 12) == 0 || memcmp(a, nat64_prefix, 12) == 0)
		return classify_v4(a + 12);
	if (a[0] == 0x20 && a[1] == 0x02) /* 2002::/16, 6to4 */
		return classify_v4(a + 2);
	if (memcmp(a, zero, 15) == 0)
		return a[15] == 1 ? NETPOLICY_LOOPBACK
		       : a[15] == 0 ? NETPOLICY_UNSPECIFIED
				    : NETPOLICY_RESERVED;
	if (a[0] == 0 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b && a[4] == 0 && a[5] == 1)
		return NETPOLICY_PRIVATE; /* 64:ff9b:1::/48, local-use NAT64 */
	if (memcmp(a, zero, 12) == 0)
		return NETPOLICY_RESERVED; /* ::/96, IPv4-compatible (deprecated) */
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return NETPOLICY_LINK_LOCAL;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)
		return NETPOLICY_PRIVATE; /* fec0::/10, deprecated site-local */
	if ((a[0] & 0xfe) == 0xfc)
		return NETPOLICY_ULA;
	if (a[0] == 0xff)
		return NETPOLICY_MULTICAST;
	return NETPOLICY_PUBLIC;
}

enum netpolicy_class netpolicy_classify(const struct sockaddr *sa, int check_own)
{
	unsigned char a[16];
	enum netpolicy_class cls;

	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
		return NETPOLICY_RESERVED;
	to16(sa, a);
	cls = classify16(a);
	if (cls == NETPOLICY_PUBLIC && check_own && is_own(a))
		return NETPOLICY_OWN;
	return cls;
}

const char *netpolicy_class_name(enum netpolicy_class cls)
{
	switch (cls) {
	case NETPOLICY_PUBLIC:
		return "public";
	case NETPOLICY_LOOPBACK:
		return "loopback";
	case NETPOLICY_UNSPECIFIED:
		return "unspecified (this host)";
	case NETPOLICY_LINK_LOCAL:
		return "link-local";
	case NETPOLICY_PRIVATE:
		return "private";
	case NETPOLICY_ULA:
		return "unique local";
	case NETPOLICY_CGNAT:
		return "shared (CGNAT)";
	case NETPOLICY_MULTICAST:
		return "multicast";
	case NETPOLICY_RESERVED:
		return "reserved";
	case NETPOLICY_OWN:
		return "this server's own";
	}
	return "reserved";
}

/* ---- the allow-list ------------------------------------------------------------------------ */

static int in_net(const struct netpolicy_net *n, const unsigned char a[16])
{
	unsigned full = n->prefix / 8, rest = n->prefix % 8;

	if (memcmp(n->addr, a, full) != 0)
		return 0;
	return rest == 0 || ((n->addr[full] ^ a[full]) & (0xff00 >> rest) & 0xff) == 0;
}

static int listed(const struct netpolicy *p, const unsigned char a[16])
{
	for (size_t i = 0; p && i < p->n; i++) {
		if (in_net(&p->nets[i], a))
			return 1;
	}
	return 0;
}

int netpolicy_allows(const struct netpolicy *policy, const struct sockaddr *sa, int check_own)
{
	unsigned char a[16];

	if (netpolicy_classify(sa, check_own) == NETPOLICY_PUBLIC)
		return 1;
	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
		return 0;
	to16(sa, a);
	return listed(policy, a);
}

static int fail(char *err, size_t err_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	return SE_ECONFIG;
}

/* One "ADDR[/PREFIX]" (ENTRY, LEN bytes, trimmed) into *NET. */
static int parse_net(const char *entry, size_t len, struct netpolicy_net *net, char *err,
		     size_t err_len)
{
	char text[INET6_ADDRSTRLEN + 8], *slash;
	unsigned char v4[4];
	unsigned max, prefix;

	if (len == 0 || len >= sizeof(text))
		return fail(err, err_len, "\"%.*s\" is not a CIDR network (ADDRESS/PREFIX)",
			    (int)(len > 64 ? 64 : len), entry);
	memcpy(text, entry, len);
	text[len] = '\0';
	slash = strchr(text, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, text, v4) == 1) {
		memcpy(net->addr, mapped_prefix, 12);
		memcpy(net->addr + 12, v4, 4);
		max = 32;
	} else if (inet_pton(AF_INET6, text, net->addr) == 1) {
		max = 128;
	} else {
		return fail(err, err_len, "\"%.*s\" is not a CIDR network (ADDRESS/PREFIX)",
			    (int)len, entry);
	}
	prefix = max;
	if (slash) {
		const char *p = slash + 1;

		if (!*p || strlen(p) > 3)
			return fail(err, err_len, "\"%.*s\": the prefix length must be 0 to %u",
				    (int)len, entry, max);
		prefix = 0;
		for (; *p; p++) {
			if (!isdigit((unsigned char)*p))
				return fail(err, err_len,
					    "\"%.*s\": the prefix length must be 0 to %u", (int)len,
					    entry, max);
			prefix = prefix * 10 + (unsigned)(*p - '0');
		}
		if (prefix > max)
			return fail(err, err_len, "\"%.*s\": the prefix length must be 0 to %u",
				    (int)len, entry, max);
	}
	net->prefix = prefix + (128 - max);
	for (unsigned bit = net->prefix; bit < 128; bit++) {
		if (net->addr[bit / 8] & (0x80 >> (bit % 8)))
			return fail(err, err_len,
				    "\"%.*s\" has bits set after the prefix (a network such as "
				    "10.0.0.0/8 is expected)",
				    (int)len, entry);
	}
	return 0;
}

int netpolicy_parse(const char *list, struct netpolicy *out, char *err, size_t err_len)
{
	const char *p = list;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (strlen(list) >= sizeof(out->text))
		return fail(err, err_len, "the list is longer than %d characters",
			    NETPOLICY_TEXT_MAX - 1);
	while (*p) {
		size_t len;

		while (*p == ' ' || *p == '\t')
			p++;
		len = strcspn(p, ",");
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (out->n == NETPOLICY_MAX_NETS) {
			rc = fail(err, err_len, "more than %d networks", NETPOLICY_MAX_NETS);
			break;
		}
		rc = parse_net(p, len, &out->nets[out->n], err, err_len);
		if (rc)
			break;
		out->n++;
		p += strcspn(p, ",");
		if (*p == ',' && !*++p) {
			rc = fail(err, err_len, "an empty entry after the last comma");
			break;
		}
	}
	if (rc) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	snprintf(out->text, sizeof(out->text), "%s", list);
	return 0;
}

/* ---- origins as text ----------------------------------------------------------------------- */

struct known_name {
	const char *name;
	const char *addr;
};

/* Names that always mean an internal address, whatever DNS says: resolver libraries answer
 * them from /etc/hosts or the cloud's own resolver. */
static const struct known_name known_names[] = {
	{"localhost", "127.0.0.1"},
	{"localhost.localdomain", "127.0.0.1"},
	{"ip6-localhost", "::1"},
	{"ip6-loopback", "::1"},
	{"metadata", "169.254.169.254"},
	{"metadata.google.internal", "169.254.169.254"},
	{"metadata.goog", "169.254.169.254"},
	{"instance-data", "169.254.169.254"},
	{"instance-data.ec2.internal", "169.254.169.254"},
};

/* The address HOST stands for, when it is a literal or a known name; 0 when it is neither. */
static int host_address(const char *host, struct sockaddr_storage *ss)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	size_t n = strlen(host);

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		return 1;
	}
	/* inet_aton, not inet_pton: "2130706433", "0x7f.1" and "127.1" are what the system's
	 * resolver makes of such names, so they are addresses here too. */
	if (inet_aton(host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		return 1;
	}
	if (n >= strlen(".localhost") &&
	    strcmp(host + n - strlen(".localhost"), ".localhost") == 0)
		host = "localhost";
	for (size_t i = 0; i < sizeof(known_names) / sizeof(known_names[0]); i++) {
		if (strcmp(host, known_names[i].name) != 0)
			continue;
		if (inet_pton(AF_INET, known_names[i].addr, &in4->sin_addr) == 1) {
			in4->sin_family = AF_INET;
		} else {
			inet_pton(AF_INET6, known_names[i].addr, &in6->sin6_addr);
			in6->sin6_family = AF_INET6;
		}
		return 1;
	}
	return 0;
}

int netpolicy_check_host(const struct netpolicy *policy, const char *host, char *reason,
			 size_t reason_len)
{
	struct sockaddr_storage ss;
	const struct sockaddr *sa = (const struct sockaddr *)&ss;

	if (!host_address(host, &ss) || netpolicy_allows(policy, sa, 1))
		return 0;
	snprintf(reason, reason_len,
		 "%.100s is a %s address; origins on internal networks need "
		 "edge.origin_allow_networks to list them",
		 host, netpolicy_class_name(netpolicy_classify(sa, 1)));
	return SE_EPERM;
}

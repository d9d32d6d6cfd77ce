#include "lib/config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/hostname.h"
#include "lib/netaddr.h"

#define HELP_HINT    "(see saasedge serve --help)"
#define KEY_NAME_MAX 128

/* ---- the table ---------------------------------------------------------------------------- */

enum key_type { KEY_STRING, KEY_PATH, KEY_INT, KEY_BOOL, KEY_NETWORKS };

/* A key that only makes sense on the command line: it decides which defaults and which file
 * apply, so a file or the environment setting it would come too late. */
#define KEY_ARGV_ONLY 1u

struct key {
	const char *name;
	enum key_type type;
	unsigned flags;
	size_t offset;
	size_t size;                /* buffer size for text, sizeof the field for numbers */
	int64_t min, max;           /* KEY_INT bounds */
	const char *def;            /* default, as text parsed like any other source */
	const char *dev_def;        /* default under --dev; NULL: same as def */
	const char *const *choices; /* allowed values (NULL-terminated), or NULL for any */
	const char *meta;           /* value placeholder in --help */
	const char *help;
};

#define FIELD(f) .offset = offsetof(struct config, f), .size = sizeof(((struct config *)0)->f)

static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const log_formats[] = {"logfmt", "json", NULL};
static const char *const xff_modes[] = {"append", "overwrite", NULL};
static const char *const tsig_algorithms[] = {"hmac-sha256", "hmac-sha384", "hmac-sha512",
					      "hmac-sha1", NULL};

/* One row per key reads better than one line per field. */
/* clang-format off */
static const struct key keys[] = {
	{.name = "config", .type = KEY_PATH, .flags = KEY_ARGV_ONLY, FIELD(config_file), .def = "",
	 .meta = "FILE", .help = "INI file: [section] then key = value lines; flag only"},
	{.name = "dev", .type = KEY_BOOL, .flags = KEY_ARGV_ONLY, FIELD(dev), .def = "false",
	 .help = "local development: ./var, a zone, a token; flag only"},
	{.name = "data", .type = KEY_PATH, FIELD(data_dir), .def = "/var/lib/saasedge",
	 .dev_def = "./var", .meta = "DIR", .help = "store, keys and CA files"},
	{.name = "log.level", .type = KEY_STRING, FIELD(log_level), .def = "info",
	 .choices = log_levels, .meta = "LEVEL", .help = "debug, info, warn or error"},
	{.name = "log.format", .type = KEY_STRING, FIELD(log_format), .def = "logfmt",
	 .choices = log_formats, .meta = "FORMAT",
	 .help = "logfmt (key=value) or json (one object a line, the same fields)"},
	{.name = "store.url", .type = KEY_STRING, FIELD(store_url), .def = "",
	 .meta = "URL", .help = "PostgreSQL (postgres://…); \"\" = SQLite in <data>"},
	{.name = "store.read_url", .type = KEY_STRING, FIELD(store_read_url), .def = "",
	 .meta = "URL", .help = "a PostgreSQL hot standby for the edge's reads; \"\" = store.url"},
	{.name = "store.master_key", .type = KEY_PATH, FIELD(master_key), .def = "",
	 .meta = "FILE", .help = "key encrypting private keys at rest; \"\" = <data>/master.key"},
	{.name = "api.listen", .type = KEY_STRING, FIELD(api.listen), .def = "127.0.0.1:8787",
	 .meta = "HOST:PORT", .help = "address of the /client/v4 API"},
	{.name = "api.threads", .type = KEY_INT, FIELD(api.threads), .min = 1, .max = 64,
	 .def = "4", .help = "API worker threads"},
	{.name = "api.max_body", .type = KEY_INT, FIELD(api.max_body), .min = 1024,
	 .max = 67108864, .def = "1048576", .meta = "BYTES", .help = "largest request body"},
	{.name = "api.rate_limit", .type = KEY_INT, FIELD(api.rate_limit), .min = 0,
	 .max = 1000000, .def = "50", .help = "requests/s per API token, 0 = off"},
	{.name = "api.rate_burst", .type = KEY_INT, FIELD(api.rate_burst), .min = 1,
	 .max = 10000000, .def = "200", .help = "burst per API token"},
	{.name = "api.auth_fail_limit", .type = KEY_INT, FIELD(api.auth_fail_limit), .min = 0,
	 .max = 100000, .def = "60",
	 .help = "failed authentications per client address and window before 429, 0 = off"},
	{.name = "api.auth_fail_window", .type = KEY_INT, FIELD(api.auth_fail_window), .min = 1,
	 .max = 86400, .def = "60", .meta = "SECONDS",
	 .help = "window of api.auth_fail_limit, from an address's first failure"},
	{.name = "api.default_quota", .type = KEY_INT, FIELD(api.default_quota), .min = 1,
	 .max = 100000000, .def = "1000000",
	 .help = "hostnames per zone from --dev or zone create"},
	{.name = "issuance.default_ca", .type = KEY_STRING, FIELD(issuance.default_ca),
	 .def = "internal", .meta = "NAME", .help = "\"internal\" or the name of a ca.<name>"},
	{.name = "roles", .type = KEY_STRING, FIELD(roles), .def = "api,issuer,edge,dns",
	 .meta = "LIST", .help = "roles this process runs: api, issuer, edge, dns"},
	{.name = "issuance.validation_timeout", .type = KEY_INT,
	 FIELD(issuance.validation_timeout), .min = 1, .max = 31536000, .def = "86400",
	 .meta = "SECONDS", .help = "pending_validation longer than this: validation_timed_out"},
	{.name = "issuance.issuance_timeout", .type = KEY_INT, FIELD(issuance.issuance_timeout),
	 .min = 1, .max = 31536000, .def = "3600", .meta = "SECONDS",
	 .help = "pending_issuance longer than this: issuance_timed_out"},
	{.name = "issuance.internal_validity", .type = KEY_INT,
	 FIELD(issuance.internal_validity), .min = 60, .max = 315360000, .def = "31536000",
	 .meta = "SECONDS", .help = "lifetime of internal CA certificates"},
	{.name = "issuance.renew_before", .type = KEY_INT, FIELD(issuance.renew_before),
	 .min = 1, .max = 315360000, .def = "2592000", .meta = "SECONDS",
	 .help = "renew this long before not_after"},
	{.name = "issuance.ca_attempts", .type = KEY_INT, FIELD(issuance.ca_attempts), .min = 1,
	 .max = 1000, .def = "5", .help = "failed orders at one CA before trying the next"},
	{.name = "issuance.http_challenges", .type = KEY_STRING,
	 FIELD(issuance.http_challenges), .def = "http-01,tls-alpn-01", .meta = "LIST",
	 .help = "ACME challenges for method http, preferred first: http-01, tls-alpn-01"},
	{.name = "issuer.workers", .type = KEY_INT, FIELD(issuer.workers), .min = 1, .max = 256,
	 .def = "2", .help = "issuer worker threads"},
	{.name = "issuer.key_pool", .type = KEY_INT, FIELD(issuer.key_pool), .min = 0,
	 .max = 100000, .def = "32", .meta = "KEYS",
	 .help = "RSA-2048 keys generated ahead of need, while the issuer is idle; 0 = none"},
	{.name = "webhooks.workers", .type = KEY_INT, FIELD(webhooks.workers), .min = 1,
	 .max = 64, .def = "4", .help = "threads of the issuer role sending webhooks, each up to 16 at once"},
	{.name = "webhooks.timeout", .type = KEY_INT, FIELD(webhooks.timeout), .min = 1,
	 .max = 300, .def = "10", .meta = "SECONDS",
	 .help = "time a webhook receiver has to answer"},
	{.name = "webhooks.retry_for", .type = KEY_INT, FIELD(webhooks.retry_for), .min = 60,
	 .max = 2592000, .def = "86400", .meta = "SECONDS",
	 .help = "how long a webhook is retried (with backoff) before it is given up"},
	{.name = "dns.resolver", .type = KEY_STRING, FIELD(dns.resolver), .def = "",
	 .meta = "HOST:PORT", .help = "DNS server for DCV lookups; \"\" = the system's"},
	{.name = "email.smtp_url", .type = KEY_STRING, FIELD(email.smtp_url), .def = "",
	 .meta = "URL", .help = "SMTP server for email DCV, smtp://HOST:PORT or smtps://"},
	{.name = "email.from", .type = KEY_STRING, FIELD(email.from),
	 .def = "saasedge@localhost", .meta = "ADDRESS", .help = "sender of approval mail"},
	{.name = "email.approval_url_base", .type = KEY_STRING, FIELD(email.approval_url_base),
	 .def = "", .meta = "URL",
	 .help = "public https:// URL of the approval page for links in mail (required with "
		 "email.smtp_url); \"\" = http://<api.listen> under --dev"},
	{.name = "dns.zone", .type = KEY_STRING, FIELD(dns.zone), .def = "",
	 .dev_def = "dcv.saasedge.test", .meta = "NAME",
	 .help = "DCV delegation zone served by the dns role; \"\" = none (no cname DCV)"},
	{.name = "dns.listen", .type = KEY_STRING, FIELD(dns.listen), .def = ":53",
	 .dev_def = "127.0.0.1:8053", .meta = "HOST:PORT",
	 .help = "dns role address, UDP and TCP"},
	{.name = "dns.nameserver", .type = KEY_STRING, FIELD(dns.nameserver), .def = "",
	 .meta = "NAME", .help = "the zone's NS and SOA host; \"\" = ns.<dns.zone>"},
	{.name = "dns.update_server", .type = KEY_STRING, FIELD(dns.update_server), .def = "",
	 .meta = "HOST:PORT", .help = "also push the TXT values there (RFC 2136); \"\" = off"},
	{.name = "dns.tsig_name", .type = KEY_STRING, FIELD(dns.tsig_name), .def = "",
	 .meta = "NAME", .help = "TSIG key name for dns.update_server; \"\" = unsigned"},
	{.name = "dns.tsig_secret", .type = KEY_STRING, FIELD(dns.tsig_secret), .def = "",
	 .meta = "BASE64", .help = "TSIG secret (keep it out of shared files: use the environment)"},
	{.name = "dns.tsig_algorithm", .type = KEY_STRING, FIELD(dns.tsig_algorithm),
	 .def = "hmac-sha256", .choices = tsig_algorithms, .meta = "NAME",
	 .help = "hmac-sha256, hmac-sha384, hmac-sha512 or hmac-sha1"},
	{.name = "edge.name", .type = KEY_STRING, FIELD(edge.name), .def = "",
	 .meta = "NAME", .help = "this edge in `saasedge edge list`; \"\" = the host name"},
	{.name = "edge.heartbeat_timeout", .type = KEY_INT, FIELD(edge.heartbeat_timeout),
	 .min = 2, .max = 86400, .def = "30", .meta = "SECONDS",
	 .help = "an edge not heard from for this long is not waited for to activate a certificate"},
	{.name = "edge.https_listen", .type = KEY_STRING, FIELD(edge.https_listen), .def = ":443",
	 .dev_def = "127.0.0.1:8443", .meta = "HOST:PORT",
	 .help = "edge HTTPS listener; :PORT = every IPv4 and IPv6 address"},
	{.name = "edge.http_listen", .type = KEY_STRING, FIELD(edge.http_listen), .def = ":80",
	 .dev_def = "127.0.0.1:8080", .meta = "HOST:PORT",
	 .help = "edge HTTP listener; :PORT = every IPv4 and IPv6 address"},
	{.name = "edge.workers", .type = KEY_INT, FIELD(edge.workers), .min = 0, .max = 256,
	 .def = "0", .help = "edge event-loop threads, 0 = one per core"},
	{.name = "edge.cache_bytes", .type = KEY_INT, FIELD(edge.cache_bytes), .min = 65536,
	 .max = INT64_C(68719476736), .def = "268435456", .meta = "BYTES",
	 .help = "edge certificate cache size (an entry is ~17 KB: 256 MiB holds ~15k names)"},
	{.name = "edge.negative_ttl", .type = KEY_INT, FIELD(edge.negative_ttl), .min = 1,
	 .max = 86400, .def = "30", .meta = "SECONDS", .help = "how long an unknown name is cached"},
	{.name = "edge.header_timeout", .type = KEY_INT, FIELD(edge.header_timeout), .min = 1,
	 .max = 3600, .def = "10", .meta = "SECONDS",
	 .help = "time for a client to send a request head (slowloris guard)"},
	{.name = "edge.idle_timeout", .type = KEY_INT, FIELD(edge.idle_timeout), .min = 1,
	 .max = 86400, .def = "60", .meta = "SECONDS", .help = "idle client connections close"},
	{.name = "edge.connect_timeout", .type = KEY_INT, FIELD(edge.connect_timeout), .min = 1,
	 .max = 600, .def = "5", .meta = "SECONDS", .help = "origin connect timeout"},
	{.name = "edge.read_timeout", .type = KEY_INT, FIELD(edge.read_timeout), .min = 1,
	 .max = 3600, .def = "60", .meta = "SECONDS", .help = "origin response timeout (504)"},
	{.name = "edge.drain_timeout", .type = KEY_INT, FIELD(edge.drain_timeout), .min = 0,
	 .max = 3600, .def = "10", .meta = "SECONDS",
	 .help = "on SIGTERM, how long requests in flight may take to finish"},
	{.name = "edge.max_header_bytes", .type = KEY_INT, FIELD(edge.max_header_bytes),
	 .min = 1024, .max = 1048576, .def = "16384", .meta = "BYTES",
	 .help = "largest request head"},
	{.name = "edge.max_headers", .type = KEY_INT, FIELD(edge.max_headers), .min = 8,
	 .max = 1000, .def = "100", .help = "most request header fields"},
	{.name = "edge.max_connections", .type = KEY_INT, FIELD(edge.max_connections), .min = 1,
	 .max = 10000000, .def = "10000", .help = "client connections at once"},
	{.name = "edge.default_certificate", .type = KEY_PATH, FIELD(edge.default_certificate),
	 .def = "", .meta = "FILE", .help = "PEM cert+key for unknown SNI; \"\" = alert"},
	{.name = "edge.ticket_rotation", .type = KEY_INT, FIELD(edge.ticket_rotation), .min = 60,
	 .max = 604800, .def = "43200", .meta = "SECONDS",
	 .help = "age at which a new session-ticket key is made"},
	{.name = "edge.session_tickets", .type = KEY_INT, FIELD(edge.session_tickets), .min = 0,
	 .max = 4, .def = "1",
	 .help = "session tickets sent per TLS 1.3 handshake; 0 = no tickets (1.2 or 1.3)"},
	{.name = "edge.trust_bundle", .type = KEY_PATH, FIELD(edge.trust_bundle),
	 .def = "/etc/ssl/certs/ca-certificates.crt", .meta = "FILE",
	 .help = "PEM CAs an uploaded custom certificate must chain to"},
	{.name = "edge.http2", .type = KEY_BOOL, FIELD(edge.http2), .def = "true",
	 .help = "offer HTTP/2 (h2) to TLS clients besides HTTP/1.1 (per hostname: "
		 "ssl.settings.http2)"},
	{.name = "edge.origin_tls_verify", .type = KEY_BOOL, FIELD(edge.origin_tls_verify),
	 .def = "false", .help = "https origins must show a valid certificate for their name"},
	{.name = "edge.origin_ca_file", .type = KEY_PATH, FIELD(edge.origin_ca_file), .def = "",
	 .meta = "FILE", .help = "PEM CAs for edge.origin_tls_verify; \"\" = the system's CAs"},
	{.name = "edge.origin_allow_networks", .type = KEY_NETWORKS, FIELD(edge.origin_allow),
	 .def = "", .dev_def = "127.0.0.0/8,::1/128", .meta = "CIDR,...",
	 .help = "internal networks origins and DCV fetches may reach (loopback, 10/8, ... are "
		 "refused otherwise)"},
	{.name = "edge.x_forwarded_for", .type = KEY_STRING, FIELD(edge.x_forwarded_for),
	 .def = "append", .choices = xff_modes, .meta = "MODE",
	 .help = "a client's X-Forwarded-For: append the peer to it, or overwrite it"},
	/* Hardening (issue 10, findings 10 and 13): where the approval page is served, how mail
	 * is sent, and what one DNS client may take. */
	{.name = "metrics.listen", .type = KEY_STRING, FIELD(metrics.listen), .def = "",
	 .meta = "HOST:PORT",
	 .help = "serve Prometheus metrics at /metrics here; \"\" = no metrics (and no counting)"},
	{.name = "api.dashboard", .type = KEY_BOOL, FIELD(api.dashboard), .def = "true",
	 .help = "serve the web dashboard at /dashboard/ on api.listen"},
	{.name = "api.approval_listen", .type = KEY_STRING, FIELD(api.approval_listen),
	 .def = "", .meta = "HOST:PORT",
	 .help = "serve the email DCV approval page here only; \"\" = on api.listen"},
	{.name = "email.smtp_ca_file", .type = KEY_PATH, FIELD(email.smtp_ca_file), .def = "",
	 .meta = "FILE", .help = "PEM CAs for the SMTP server's certificate; \"\" = the system's"},
	{.name = "dns.tcp_idle_timeout", .type = KEY_INT, FIELD(dns.tcp_idle_timeout), .min = 1,
	 .max = 300, .def = "10", .meta = "SECONDS",
	 .help = "time for a TCP client to send a whole query (from connect or the last answer)"},
	{.name = "dns.tcp_lifetime", .type = KEY_INT, FIELD(dns.tcp_lifetime), .min = 1,
	 .max = 3600, .def = "30", .meta = "SECONDS",
	 .help = "a TCP connection closes this long after it was accepted, whatever it does"},
	{.name = "dns.tcp_max_queries", .type = KEY_INT, FIELD(dns.tcp_max_queries), .min = 1,
	 .max = 65535, .def = "100", .help = "queries answered per TCP connection"},
	{.name = "dns.rrl_rate", .type = KEY_INT, FIELD(dns.rrl_rate), .min = 0, .max = 1000000,
	 .def = "20", .meta = "N",
	 .help = "UDP responses/s per client /24 (IPv4) or /56 (IPv6); 0 = no rate limit"},
	{.name = "dns.rrl_slip", .type = KEY_INT, FIELD(dns.rrl_slip), .min = 0, .max = 10,
	 .def = "2",
	 .help = "over the rate, every Nth answer goes out truncated (TC: retry over TCP), the "
		 "rest are dropped; 0 = drop all"},
};
/* clang-format on */

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

/* The fields of a dynamic ca.<name>.<field> key. */
struct ca_field {
	const char *name;
	size_t offset;
	size_t size;
	const char *meta;
	const char *help;
};

#define CA_FIELD(f) #f, offsetof(struct config_ca, f), sizeof(((struct config_ca *)0)->f)

static const struct ca_field ca_fields[] = {
    {CA_FIELD(directory), "URL", "ACME directory URL (required for each CA)"},
    {CA_FIELD(ca_bundle), "FILE", "PEM file trusted for the directory's TLS"},
    {CA_FIELD(eab_kid), "KID", "external account binding key id"},
    {CA_FIELD(eab_hmac), "KEY", "external account binding HMAC key (base64url)"},
    {CA_FIELD(caa_identities), "DOMAINS",
     "CAA issuer domains of this CA, comma-separated (default: the directory's)"},
    {CA_FIELD(order_limit), "N/TIME",
     "new orders allowed per window, for every node together, e.g. 300/3h (default: none)"},
};

#define N_CA_FIELDS (sizeof(ca_fields) / sizeof(ca_fields[0]))

/* CA's order_limit "N/T[smhd]" into max_orders and order_window_s ("" = no limit). At least
 * two orders: a step may make the ECDSA and the RSA order together. */
static int parse_order_limit(struct config_ca *ca)
{
	static const struct {
		char unit;
		int64_t seconds;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
	long long n = 0, t = 0;
	char unit = 0, extra = 0;

	ca->max_orders = 0;
	ca->order_window_s = 0;
	if (!ca->order_limit[0])
		return 0;
	if (sscanf(ca->order_limit, "%lld/%lld%c%c", &n, &t, &unit, &extra) != 3 || n < 2 ||
	    n > 1000000000 || t < 1 || t > 100000000)
		return SE_ECONFIG;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (units[i].unit == unit) {
			ca->max_orders = n;
			ca->order_window_s = t * units[i].seconds;
			return 0;
		}
	}
	return SE_ECONFIG;
}

static const struct key *key_find(const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	}
	return NULL;
}

static const struct ca_field *ca_field_find(const char *name)
{
	for (size_t i = 0; i < N_CA_FIELDS; i++) {
		if (strcmp(ca_fields[i].name, name) == 0)
			return &ca_fields[i];
	}
	return NULL;
}

/* ---- values ------------------------------------------------------------------------------- */

static int fail(char *err, size_t err_len, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t err_len, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	return code;
}

static int set_text(char *dst, size_t size, const char *name, const char *value, char *err,
		    size_t err_len)
{
	size_t n = strlen(value);

	if (n >= size)
		return fail(err, err_len, SE_ECONFIG, "%s is too long (at most %zu characters)",
			    name, size - 1);
	memcpy(dst, value, n + 1);
	return 0;
}

static int check_choice(const struct key *k, const char *value, char *err, size_t err_len)
{
	char list[256] = "";
	size_t used = 0;

	for (size_t i = 0; k->choices[i]; i++) {
		if (strcmp(k->choices[i], value) == 0)
			return 0;
	}
	for (size_t i = 0; k->choices[i] && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
					 k->choices[i]);
	return fail(err, err_len, SE_ECONFIG, "%s must be one of %s (got %s)", k->name, list,
		    value);
}

/* Decimal only, the whole string: "8k", " 5", "+5" and "0x10" are not numbers. */
static int set_int(struct config *cfg, const struct key *k, const char *value, char *err,
		   size_t err_len)
{
	const char *digits = value[0] == '-' ? value + 1 : value;
	char *end = NULL;
	long long v;

	errno = 0;
	v = strtoll(value, &end, 10);
	if (!isdigit((unsigned char)digits[0]) || *end != '\0')
		return fail(err, err_len, SE_ECONFIG, "%s must be an integer (got %s)", k->name,
			    value);
	if (errno == ERANGE || v < k->min || v > k->max)
		return fail(err, err_len, SE_ECONFIG,
			    "%s must be between %" PRId64 " and %" PRId64 " (got %s)", k->name,
			    k->min, k->max, value);
	if (k->size == sizeof(int))
		*(int *)(void *)((char *)cfg + k->offset) = (int)v;
	else
		*(int64_t *)(void *)((char *)cfg + k->offset) = (int64_t)v;
	return 0;
}

/* 1 or 0 for the spellings of a boolean, -1 for anything else. */
static int parse_bool(const char *value)
{
	static const char *const yes[] = {"true", "1", "on", "yes"};
	static const char *const no[] = {"false", "0", "off", "no"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(value, yes[i]) == 0)
			return 1;
		if (strcasecmp(value, no[i]) == 0)
			return 0;
	}
	return -1;
}

static int set_bool(struct config *cfg, const struct key *k, const char *value, char *err,
		    size_t err_len)
{
	int b = parse_bool(value);

	if (b < 0)
		return fail(err, err_len, SE_ECONFIG, "%s must be true or false (got %s)", k->name,
			    value);
	*(int *)(void *)((char *)cfg + k->offset) = b;
	return 0;
}

/* Parsed here, once, so that a bad CIDR stops start-up and no role parses it again. */
static int set_networks(struct config *cfg, const struct key *k, const char *value, char *err,
			size_t err_len)
{
	char why[256];

	if (netpolicy_parse(value, (struct netpolicy *)(void *)((char *)cfg + k->offset), why,
			    sizeof(why)))
		return fail(err, err_len, SE_ECONFIG, "%s: %s", k->name, why);
	return 0;
}

static int set_key(struct config *cfg, const struct key *k, const char *value, char *err,
		   size_t err_len)
{
	switch (k->type) {
	case KEY_INT:
		return set_int(cfg, k, value, err, err_len);
	case KEY_BOOL:
		return set_bool(cfg, k, value, err, err_len);
	case KEY_PATH:
		/* An empty path is only meaningful where the default is empty ("use the usual
		 * place"); elsewhere it is a mistake that would point at the working directory. */
		if (!value[0] && k->def[0])
			return fail(err, err_len, SE_ECONFIG, "%s must not be empty", k->name);
		break;
	case KEY_STRING:
		if (k->choices && check_choice(k, value, err, err_len))
			return SE_ECONFIG;
		break;
	case KEY_NETWORKS:
		return set_networks(cfg, k, value, err, err_len);
	}
	return set_text((char *)cfg + k->offset, k->size, k->name, value, err, err_len);
}

/* ---- dynamic CA keys ---------------------------------------------------------------------- */

static int ca_name_ok(const char *name, size_t n)
{
	if (n == 0 || n >= sizeof(((struct config_ca *)0)->name))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return 0;
	}
	return 1;
}

static int ca_slot(struct config *cfg, const char *name, size_t n, const char *key,
		   struct config_ca **out, char *err, size_t err_len)
{
	if (!ca_name_ok(name, n))
		return fail(err, err_len, SE_ECONFIG,
			    "invalid CA name \"%.*s\" in %s (use 1 to 63 of a-z, 0-9 and _)",
			    (int)n, name, key);
	if (n == strlen("internal") && memcmp(name, "internal", n) == 0)
		return fail(err, err_len, SE_ECONFIG,
			    "%s: \"internal\" is the built-in CA and has no keys", key);
	for (size_t i = 0; i < cfg->n_cas; i++) {
		if (strlen(cfg->cas[i].name) == n && memcmp(cfg->cas[i].name, name, n) == 0) {
			*out = &cfg->cas[i];
			return 0;
		}
	}
	if (cfg->n_cas == CONFIG_MAX_CAS)
		return fail(err, err_len, SE_ECONFIG, "too many CAs: at most %d (at %s)",
			    CONFIG_MAX_CAS, key);
	*out = &cfg->cas[cfg->n_cas++];
	memcpy((*out)->name, name, n);
	(*out)->name[n] = '\0';
	return 0;
}

/* KEY is "ca.<name>.<field>"; the field is checked first so that a typo in it reads as an
 * unknown key rather than as a bad CA name. */
static int ca_set(struct config *cfg, const char *key, const char *value, char *err, size_t err_len)
{
	const char *name = key + strlen("ca.");
	const char *dot = strrchr(name, '.');
	const struct ca_field *f = dot ? ca_field_find(dot + 1) : NULL;
	struct config_ca *ca = NULL;
	int rc;

	if (!f)
		return fail(err, err_len, SE_ENOTFOUND, "unknown key %s", key);
	rc = ca_slot(cfg, name, (size_t)(dot - name), key, &ca, err, err_len);
	if (rc)
		return rc;
	return set_text((char *)ca + f->offset, f->size, key, value, err, err_len);
}

int config_set(struct config *cfg, const char *key, const char *value, char *err, size_t err_len)
{
	const struct key *k = key_find(key);

	if (k)
		return set_key(cfg, k, value, err, err_len);
	if (strncmp(key, "ca.", 3) == 0)
		return ca_set(cfg, key, value, err, err_len);
	return fail(err, err_len, SE_ENOTFOUND, "unknown key %s", key);
}

void config_defaults(struct config *cfg, int dev)
{
	char ignored[8];

	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < N_KEYS; i++) {
		const char *def = dev && keys[i].dev_def ? keys[i].dev_def : keys[i].def;

		/* The defaults are constants checked by the unit tests: they cannot fail. */
		(void)set_key(cfg, &keys[i], def, ignored, sizeof(ignored));
	}
	cfg->dev = dev;
}

const struct config_ca *config_find_ca(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_cas; i++) {
		if (strcmp(cfg->cas[i].name, name) == 0)
			return &cfg->cas[i];
	}
	return NULL;
}

/* ---- flags -------------------------------------------------------------------------------- */

enum flag_kind { FLAG_UNKNOWN, FLAG_BOOL, FLAG_VALUE };

static enum flag_kind flag_kind(const char *key)
{
	const struct key *k = key_find(key);
	const char *dot;

	if (k)
		return k->type == KEY_BOOL ? FLAG_BOOL : FLAG_VALUE;
	if (strncmp(key, "ca.", 3) != 0)
		return FLAG_UNKNOWN;
	dot = strrchr(key, '.');
	return dot > key + 2 && ca_field_find(dot + 1) ? FLAG_VALUE : FLAG_UNKNOWN;
}

struct flag {
	char key[KEY_NAME_MAX];
	const char *value; /* borrowed from argv, or a constant */
};

/* Reads the flag at argv[*i] ("--k=v", "--k v", or "--k" for a boolean) into F and moves *i
 * past it and its value. */
static int flag_next(int argc, char **argv, int *i, struct flag *f, char *err, size_t err_len)
{
	const char *arg = argv[*i];
	const char *eq;
	size_t n;

	if (strncmp(arg, "--", 2) != 0 || !arg[2])
		return fail(err, err_len, SE_ECONFIG, "unexpected argument %s " HELP_HINT, arg);
	eq = strchr(arg + 2, '=');
	n = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
	snprintf(f->key, sizeof(f->key), "%.*s", (int)n, arg + 2);
	switch (n < sizeof(f->key) ? flag_kind(f->key) : FLAG_UNKNOWN) {
	case FLAG_UNKNOWN:
		/* The value is left out of the message: it may be a secret (eab_hmac). */
		return fail(err, err_len, SE_ECONFIG, "unknown option --%.*s " HELP_HINT, (int)n,
			    arg + 2);
	case FLAG_BOOL:
		f->value = eq ? eq + 1 : "true";
		break;
	case FLAG_VALUE:
		if (eq)
			f->value = eq + 1;
		else if (*i + 1 < argc && strncmp(argv[*i + 1], "--", 2) != 0)
			f->value = argv[++*i];
		else
			return fail(err, err_len, SE_ECONFIG, "option --%s needs a value", f->key);
		break;
	}
	++*i;
	return 0;
}

/* Applies the flags of ARGV; with ONLY_EARLY, just those that decide the defaults and the file
 * (--dev, --config), so that they can be read before the weaker sources. */
static int load_flags(struct config *cfg, int argc, char **argv, int only_early, char *err,
		      size_t err_len)
{
	struct flag f;
	int rc = 0;

	for (int i = 0; i < argc && rc == 0;) {
		const struct key *k;

		rc = flag_next(argc, argv, &i, &f, err, err_len);
		if (rc)
			break;
		k = key_find(f.key);
		if (only_early && !(k && (k->flags & KEY_ARGV_ONLY)))
			continue;
		rc = config_set(cfg, f.key, f.value, err, err_len);
	}
	return rc ? SE_ECONFIG : 0;
}

int config_flag_takes_value(const char *arg)
{
	if (strncmp(arg, "--", 2) != 0 || strchr(arg, '='))
		return 0;
	return flag_kind(arg + 2) == FLAG_VALUE;
}

/* ---- environment -------------------------------------------------------------------------- */

/* "api.listen" -> "API_LISTEN", in place. */
static void env_upper(char *s)
{
	for (; *s; s++)
		*s = *s == '.' ? '_' : (char)toupper((unsigned char)*s);
}

static int env_fail(const char *var, char *err, size_t err_len)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "%s", err);
	return fail(err, err_len, SE_ECONFIG, "environment %s: %s", var, msg);
}

/* SAASEDGE_CA_<NAME>_<FIELD>=VALUE (ENTRY is one line of environ) -> ca.<name>.<field>. The
 * field is matched from the end because names may contain '_'. Other variables: 0, no change. */
static int env_ca(struct config *cfg, const char *entry, char *err, size_t err_len)
{
	static const char prefix[] = "SAASEDGE_CA_";
	const size_t plen = sizeof(prefix) - 1;
	const char *eq = strchr(entry, '=');
	size_t n = eq ? (size_t)(eq - entry) : 0;
	char var[KEY_NAME_MAX], key[KEY_NAME_MAX], suffix[32];

	if (strncmp(entry, prefix, plen) != 0 || n >= sizeof(var))
		return 0;
	snprintf(var, sizeof(var), "%.*s", (int)n, entry);
	for (size_t i = 0; i < N_CA_FIELDS; i++) {
		size_t sn = (size_t)snprintf(suffix, sizeof(suffix), "_%s", ca_fields[i].name);

		env_upper(suffix);
		if (n <= plen + sn || strcmp(var + n - sn, suffix) != 0)
			continue;
		snprintf(key, sizeof(key), "ca.%.*s.%s", (int)(n - plen - sn), var + plen,
			 ca_fields[i].name);
		for (char *p = key; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (config_set(cfg, key, eq + 1, err, err_len))
			return env_fail(var, err, err_len);
		return 0;
	}
	return 0;
}

static int load_env(struct config *cfg, char *err, size_t err_len)
{
	char var[KEY_NAME_MAX];

	for (size_t i = 0; i < N_KEYS; i++) {
		const char *value;

		if (keys[i].flags & KEY_ARGV_ONLY)
			continue;
		snprintf(var, sizeof(var), "SAASEDGE_%s", keys[i].name);
		env_upper(var);
		value = getenv(var);
		if (value && set_key(cfg, &keys[i], value, err, err_len))
			return env_fail(var, err, err_len);
	}
	for (char **e = environ; *e; e++) {
		if (env_ca(cfg, *e, err, err_len))
			return SE_ECONFIG;
	}
	return 0;
}

/* ---- config file -------------------------------------------------------------------------- */

struct file_ctx {
	struct config *cfg;
	FILE *f;
	int line;      /* lines read so far: inih counts one per reader call, as we do */
	int long_line; /* first line that did not fit inih's buffer, 0 if none */
	int read_errno;
	int err_line;  /* line of the first key that could not be set, 0 if none */
	char msg[512]; /* why */
};

/* An fgets for inih that counts lines and notices lines too long for inih's buffer, which inih
 * would otherwise cut silently. */
static char *file_reader(char *buf, int num, void *stream)
{
	struct file_ctx *ctx = stream;
	size_t n;
	int c;

	if (!fgets(buf, num, ctx->f)) {
		if (ferror(ctx->f))
			ctx->read_errno = errno;
		return NULL;
	}
	ctx->line++;
	n = strlen(buf);
	if (n == 0 || buf[n - 1] == '\n' || (c = fgetc(ctx->f)) == EOF || c == '\n')
		return buf;
	if (!ctx->long_line)
		ctx->long_line = ctx->line;
	while ((c = fgetc(ctx->f)) != EOF && c != '\n')
		;
	return buf;
}

static int file_handler(void *user, const char *section, const char *name, const char *value)
{
	struct file_ctx *ctx = user;
	char key[KEY_NAME_MAX * 2];
	const struct key *k;
	int rc;

	if (ctx->err_line)
		return 0; /* only the first error is reported; stop setting keys after it */
	snprintf(key, sizeof(key), "%s%s%s", section, section[0] ? "." : "", name);
	k = key_find(key);
	if (k && (k->flags & KEY_ARGV_ONLY)) {
		snprintf(ctx->msg, sizeof(ctx->msg), "%s can only be given as a flag (--%s)",
			 k->name, k->name);
		rc = SE_ECONFIG;
	} else {
		rc = config_set(ctx->cfg, key, value, ctx->msg, sizeof(ctx->msg));
	}
	if (rc)
		ctx->err_line = ctx->line;
	return rc == 0;
}

static int file_result(const char *path, const struct file_ctx *ctx, int rc, char *err,
		       size_t err_len)
{
	if (ctx->read_errno)
		return fail(err, err_len, SE_ECONFIG, "cannot read config file %s: %s", path,
			    strerror(ctx->read_errno));
	if (rc == -2)
		return SE_ENOMEM;
	if (ctx->long_line && (rc == 0 || ctx->long_line <= rc))
		return fail(err, err_len, SE_ECONFIG, "config file %s line %d: line too long", path,
			    ctx->long_line);
	if (rc > 0 && rc == ctx->err_line)
		return fail(err, err_len, SE_ECONFIG, "config file %s line %d: %s", path, rc,
			    ctx->msg);
	if (rc != 0)
		return fail(err, err_len, SE_ECONFIG,
			    "config file %s line %d: expected [section] or key = value", path, rc);
	return 0;
}

static int load_file(struct config *cfg, const char *path, char *err, size_t err_len)
{
	struct file_ctx ctx = {.cfg = cfg};
	int rc;

	ctx.f = fopen(path, "r");
	if (!ctx.f)
		return fail(err, err_len, SE_ECONFIG, "cannot read config file %s: %s", path,
			    strerror(errno));
	/* Debian's libinih makes its options run-time variables. An indented "key = value" must
	 * be a key, not the continuation of the previous value. The library-wide setting is
	 * only ever set to this one value, so a reload (SIGHUP) beside running threads is safe. */
	ini_allow_multiline = false;
	rc = ini_parse_stream(file_reader, &ctx, file_handler, &ctx);
	fclose(ctx.f);
	return file_result(path, &ctx, rc, err, err_len);
}

/* ---- loading ------------------------------------------------------------------------------ */

/* A misspelt role would otherwise start a process that silently does nothing. */
static int check_roles(const char *roles, char *err, size_t err_len)
{
	static const char *const known[] = {"api", "issuer", "edge", "dns"};

	for (const char *p = roles; *p;) {
		size_t len = strcspn(p, ",");
		size_t i;

		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strlen(known[i]) == len && strncmp(p, known[i], len) == 0)
				break;
		if (i == sizeof(known) / sizeof(known[0]))
			return fail(err, err_len, SE_ECONFIG,
				    "roles: unknown role '%.*s' (known: api, issuer, edge, dns)",
				    (int)len, p);
		p += len;
		p += *p == ',';
	}
	return roles[0] ? 0 : fail(err, err_len, SE_ECONFIG, "roles must name at least one role");
}

/* issuance.http_challenges: a non-empty list of http-01 and tls-alpn-01. */
static int check_http_challenges(const char *list, char *err, size_t err_len)
{
	const char *p = list;

	while (*p) {
		size_t len = strcspn(p, ",");

		if (!(len == 7 && strncmp(p, "http-01", 7) == 0) &&
		    !(len == 11 && strncmp(p, "tls-alpn-01", 11) == 0))
			return fail(err, err_len, SE_ECONFIG,
				    "issuance.http_challenges: unknown challenge '%.*s' (known: "
				    "http-01, tls-alpn-01)",
				    (int)len, p);
		p += len;
		p += *p == ',';
	}
	return list[0] ? 0
		       : fail(err, err_len, SE_ECONFIG,
			      "issuance.http_challenges must name at least one challenge");
}

/* dns.zone and dns.nameserver are written into answers: normalised like any host name, and
 * the name server defaults to one inside the zone. */
static int check_dns(struct config *cfg, char *err, size_t err_len)
{
	char norm[HOSTNAME_MAX + 1], reason[128];

	if (!cfg->dns.zone[0] && cfg->dns.update_server[0])
		return fail(err, err_len, SE_ECONFIG, "dns.update_server needs dns.zone");
	if (!cfg->dns.tsig_name[0] != !cfg->dns.tsig_secret[0])
		return fail(err, err_len, SE_ECONFIG,
			    "dns.tsig_name and dns.tsig_secret go together");
	if (!cfg->dns.zone[0])
		return 0;
	if (hostname_normalize_origin(cfg->dns.zone, norm, reason, sizeof(reason)) != HOSTNAME_OK)
		return fail(err, err_len, SE_ECONFIG, "dns.zone: %s", reason);
	/* A label under the zone (32 characters and a dot) must still fit in a name. */
	if (strlen(norm) > HOSTNAME_MAX - 34)
		return fail(err, err_len, SE_ECONFIG, "dns.zone is too long (at most %d characters)",
			    HOSTNAME_MAX - 34);
	memcpy(cfg->dns.zone, norm, strlen(norm) + 1);
	if (!cfg->dns.nameserver[0]) {
		snprintf(cfg->dns.nameserver, sizeof(cfg->dns.nameserver), "ns.%s", norm);
		return 0;
	}
	if (hostname_normalize_origin(cfg->dns.nameserver, norm, reason, sizeof(reason)) !=
	    HOSTNAME_OK)
		return fail(err, err_len, SE_ECONFIG, "dns.nameserver: %s", reason);
	memcpy(cfg->dns.nameserver, norm, strlen(norm) + 1);
	return 0;
}

/* Approval links carry a credential: outside --dev they must be https (a TLS proxy or load
 * balancer in front of api.approval_listen), so mail with a link needs such a base. */
static int check_email(const struct config *cfg, char *err, size_t err_len)
{
	const char *base = cfg->email.approval_url_base;

	if (cfg->dev)
		return 0;
	if (base[0] && strncasecmp(base, "https://", 8) != 0)
		return fail(err, err_len, SE_ECONFIG,
			    "email.approval_url_base must be an https:// URL (the approval link is "
			    "a credential); plain http is allowed with --dev only");
	if (!base[0] && cfg->email.smtp_url[0])
		return fail(err, err_len, SE_ECONFIG,
			    "email.smtp_url needs email.approval_url_base, the public https:// URL "
			    "that reaches the approval page (api.approval_listen or api.listen)");
	return 0;
}

static int finish(struct config *cfg, char *err, size_t err_len)
{
	const char *def_ca = cfg->issuance.default_ca;
	int rc;

	if (!cfg->master_key[0]) {
		int n = snprintf(cfg->master_key, sizeof(cfg->master_key), "%s/master.key",
				 cfg->data_dir);

		if (n < 0 || (size_t)n >= sizeof(cfg->master_key))
			return fail(err, err_len, SE_ECONFIG, "data is too long");
	}
	if (!cfg->edge.name[0] && gethostname(cfg->edge.name, sizeof(cfg->edge.name) - 1) != 0)
		snprintf(cfg->edge.name, sizeof(cfg->edge.name), "edge");
	for (size_t i = 0; i < cfg->n_cas; i++) {
		if (!cfg->cas[i].directory[0])
			return fail(err, err_len, SE_ECONFIG,
				    "ca.%s has no directory (set ca.%s.directory)",
				    cfg->cas[i].name, cfg->cas[i].name);
		if (parse_order_limit(&cfg->cas[i]) != 0)
			return fail(err, err_len, SE_ECONFIG,
				    "ca.%s.order_limit must be ORDERS/WINDOW, e.g. 300/3h or 50/10m "
				    "(s, m, h or d; at least 2 orders)",
				    cfg->cas[i].name);
	}
	if (strcmp(def_ca, "internal") != 0 && !config_find_ca(cfg, def_ca))
		return fail(err, err_len, SE_ECONFIG,
			    "issuance.default_ca is %s but no ca.%s.directory is configured",
			    def_ca, def_ca);
	if (check_http_challenges(cfg->issuance.http_challenges, err, err_len))
		return SE_ECONFIG;
	rc = check_dns(cfg, err, err_len);
	if (rc == 0)
		rc = check_email(cfg, err, err_len);
	return rc ? rc : check_roles(cfg->roles, err, err_len);
}

int config_load(struct config *cfg, int argc, char **argv, char *err, size_t err_len)
{
	char file[PATH_MAX];
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	rc = load_flags(cfg, argc, argv, 1, err, err_len);
	if (rc)
		return rc;
	memcpy(file, cfg->config_file, sizeof(file));
	config_defaults(cfg, cfg->dev);
	if (file[0])
		rc = load_file(cfg, file, err, err_len);
	if (rc == 0)
		rc = load_env(cfg, err, err_len);
	if (rc == 0)
		rc = load_flags(cfg, argc, argv, 0, err, err_len);
	if (rc == 0)
		rc = finish(cfg, err, err_len);
	return rc;
}

/* ---- checking and comparing --------------------------------------------------------------- */

/* A listen address of a role that runs (or of every role, for those outside one). */
static int check_listen(const char *key, const char *value, char *err, size_t err_len)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (!value[0] || netaddr_parse(value, &ss, &len) == 0)
		return 0;
	return fail(err, err_len, SE_ECONFIG,
		    "%s: '%s' is not HOST:PORT, :PORT or [IPv6]:PORT with a numeric host", key,
		    value);
}

/* A file a key names: readable; the data directory: a directory, or one that can be made
 * (its parent is one); the master key: readable once it exists (the first start makes it). */
static int check_path(const struct key *k, const char *path, char *err, size_t err_len)
{
	struct stat sb;
	char parent[PATH_MAX];
	char *slash;

	if (!path[0] || strcmp(k->name, "config") == 0)
		return 0;
	if (strcmp(k->name, "data") == 0) {
		if (stat(path, &sb) == 0)
			return S_ISDIR(sb.st_mode) ? 0
						   : fail(err, err_len, SE_ECONFIG,
							  "data: %s is not a directory", path);
		snprintf(parent, sizeof(parent), "%s", path);
		slash = strrchr(parent, '/');
		if (slash && slash != parent)
			*slash = '\0';
		else
			snprintf(parent, sizeof(parent), "%s", slash ? "/" : ".");
		if (stat(parent, &sb) == 0 && S_ISDIR(sb.st_mode))
			return 0;
		return fail(err, err_len, SE_ECONFIG, "data: neither %s nor its parent exists",
			    path);
	}
	if (strcmp(k->name, "store.master_key") == 0 && access(path, F_OK) != 0)
		return 0;
	if (access(path, R_OK) != 0)
		return fail(err, err_len, SE_ECONFIG, "%s: cannot read %s: %s", k->name, path,
			    strerror(errno));
	return 0;
}

int config_check(const struct config *cfg, char *err, size_t err_len)
{
	int rc = 0;

	if (config_has_role(cfg, "api") &&
	    (rc = check_listen("api.listen", cfg->api.listen, err, err_len)) == 0)
		rc = check_listen("api.approval_listen", cfg->api.approval_listen, err, err_len);
	if (rc == 0 && config_has_role(cfg, "edge") &&
	    (rc = check_listen("edge.https_listen", cfg->edge.https_listen, err, err_len)) == 0)
		rc = check_listen("edge.http_listen", cfg->edge.http_listen, err, err_len);
	if (rc == 0 && config_has_role(cfg, "dns"))
		rc = check_listen("dns.listen", cfg->dns.listen, err, err_len);
	if (rc == 0)
		rc = check_listen("metrics.listen", cfg->metrics.listen, err, err_len);
	for (size_t i = 0; rc == 0 && i < N_KEYS; i++)
		if (keys[i].type == KEY_PATH)
			rc = check_path(&keys[i], (const char *)cfg + keys[i].offset, err, err_len);
	for (size_t i = 0; rc == 0 && i < cfg->n_cas; i++)
		if (cfg->cas[i].ca_bundle[0] && access(cfg->cas[i].ca_bundle, R_OK) != 0)
			rc = fail(err, err_len, SE_ECONFIG, "ca.%s.ca_bundle: cannot read %s: %s",
				  cfg->cas[i].name, cfg->cas[i].ca_bundle, strerror(errno));
	return rc;
}

void config_diff(const struct config *a, const struct config *b,
		 void (*changed)(const char *key, void *ctx), void *ctx)
{
	char name[KEY_NAME_MAX];

	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key *k = &keys[i];
		const char *x = (const char *)a + k->offset, *y = (const char *)b + k->offset;
		/* text as text: a buffer may hold an earlier, longer value after its NUL */
		int text = k->type == KEY_STRING || k->type == KEY_PATH;

		if (text ? strcmp(x, y) != 0 : memcmp(x, y, k->size) != 0)
			changed(k->name, ctx);
	}
	if (a->n_cas != b->n_cas) {
		changed("ca", ctx);
		return;
	}
	for (size_t i = 0; i < a->n_cas; i++) {
		const char *x = (const char *)&a->cas[i], *y = (const char *)&b->cas[i];

		if (strcmp(a->cas[i].name, b->cas[i].name) != 0) {
			changed("ca", ctx);
			return;
		}
		for (size_t f = 0; f < N_CA_FIELDS; f++) {
			if (strcmp(x + ca_fields[f].offset, y + ca_fields[f].offset) == 0)
				continue;
			snprintf(name, sizeof(name), "ca.%s.%s", a->cas[i].name, ca_fields[f].name);
			changed(name, ctx);
		}
	}
}

/* ---- help --------------------------------------------------------------------------------- */

static void help_row(FILE *f, const struct key *k)
{
	char flag[64];

	if (k->type == KEY_BOOL)
		snprintf(flag, sizeof(flag), "--%s", k->name);
	else
		snprintf(flag, sizeof(flag), "--%s=%s", k->name,
			 k->meta              ? k->meta
			 : k->type == KEY_INT ? "N"
					      : "VALUE");
	fprintf(f, "  %-28s %s", flag, k->help);
	if (k->type == KEY_INT)
		fprintf(f, " (%" PRId64 "..%" PRId64 ")", k->min, k->max);
	/* a flag alone says true: only a flag that is on unless turned off shows its default */
	if (k->def[0] && (k->type != KEY_BOOL || strcmp(k->def, "true") == 0))
		fprintf(f, " [default %s]", k->def);
	if (k->dev_def && strcmp(k->dev_def, k->def) != 0)
		fprintf(f, " [--dev: %s]", k->dev_def);
	fputc('\n', f);
}

void config_print_help(void *out)
{
	FILE *f = out;

	fputs("Options (also SAASEDGE_<KEY> with . as _, e.g. SAASEDGE_API_LISTEN, or\n"
	      "\"[section]\" then \"key = value\" in the --config file; flags win over the\n"
	      "environment, which wins over the file):\n",
	      f);
	for (size_t i = 0; i < N_KEYS; i++)
		help_row(f, &keys[i]);
	fprintf(f, "ACME CAs, up to %d, each named with a-z, 0-9 and _:\n", CONFIG_MAX_CAS);
	for (size_t i = 0; i < N_CA_FIELDS; i++) {
		char flag[64];

		snprintf(flag, sizeof(flag), "--ca.<name>.%s=%s", ca_fields[i].name,
			 ca_fields[i].meta);
		fprintf(f, "  %-28s %s\n", flag, ca_fields[i].help);
	}
}

int config_has_role(const struct config *cfg, const char *role)
{
	size_t n = strlen(role);

	for (const char *p = cfg->roles; *p;) {
		size_t len = strcspn(p, ",");

		if (len == n && strncmp(p, role, n) == 0)
			return 1;
		p += len;
		p += *p == ',';
	}
	return 0;
}

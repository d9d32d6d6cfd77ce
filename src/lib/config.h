/* Configuration. Every key is one row of a table (src/lib/config.c): name, type, bounds,
 * default, dev-mode default and help. Each key can be set, from weakest to strongest, by the
 * table default, the config file (`--config FILE`, INI: "[api]\nlisten = …"), the environment
 * (SAASEDGE_API_LISTEN for api.listen) and a flag (`--api.listen=ADDR` or `--api.listen ADDR`).
 * `--help` is generated from the table. Keys of the form ca.<name>.<field> define ACME CAs. */
#ifndef SAASEDGE_LIB_CONFIG_H
#define SAASEDGE_LIB_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/netpolicy.h"

#define CONFIG_MAX_CAS  8
#define CONFIG_ADDR_LEN 128

struct config_ca {
	char name[64];
	char directory[512];
	char ca_bundle[PATH_MAX];
	char eab_kid[256];
	char eab_hmac[256];
	char caa_identities[256]; /* CAA issuer domains of this CA, comma-separated; "" = ask */
	char order_limit[32];     /* "ORDERS/WINDOW", e.g. "300/3h"; "" = none */
	int64_t max_orders;       /* order_limit parsed: 0 = no limit */
	int64_t order_window_s;
};

struct config {
	int dev;                    /* --dev: everything local, under ./var (flag only) */
	char config_file[PATH_MAX]; /* --config: the INI file read, "" for none (flag only) */
	char data_dir[PATH_MAX];    /* data: store, master key, CA files */
	char log_level[16];         /* log.level: debug | info | warn | error */
	char log_format[16];        /* log.format: logfmt | json */
	char master_key[PATH_MAX];  /* store.master_key: default <data>/master.key */
	char store_url[1024];       /* store.url: PostgreSQL connection string, "" = SQLite */
	char store_read_url[1024];  /* store.read_url: a hot standby for the edge's reads, or "" */

	struct {
		char listen[CONFIG_ADDR_LEN]; /* api.listen: HOST:PORT, [::1]:PORT */
		int threads;                  /* api.threads: worker threads */
		int64_t max_body;             /* api.max_body: request body limit in bytes */
		int64_t rate_limit;           /* api.rate_limit: requests/s per token, 0 = off */
		int64_t rate_burst;           /* api.rate_burst: bucket size */
		int64_t auth_fail_limit;      /* api.auth_fail_limit: failures per window, 0 = off */
		int64_t auth_fail_window;     /* api.auth_fail_window: seconds */
		int64_t default_quota;        /* api.default_quota: hostnames per new zone */
		/* api.approval_listen: HOST:PORT of the email DCV approval page alone; "" = served
		 * by api.listen */
		char approval_listen[CONFIG_ADDR_LEN];
		int dashboard; /* api.dashboard: serve the web dashboard on api.listen */
	} api;

	char roles[64]; /* roles: comma-separated subset of api,issuer,edge,dns */
	struct {
		char default_ca[64]; /* issuance.default_ca: "internal" or a configured CA name */
		int64_t validation_timeout; /* issuance.validation_timeout: seconds */
		int64_t issuance_timeout;   /* issuance.issuance_timeout: seconds */
		int64_t internal_validity;  /* issuance.internal_validity: seconds */
		int64_t renew_before;       /* issuance.renew_before: seconds before not_after */
		int64_t ca_attempts;        /* issuance.ca_attempts: failures before the next CA */
		/* issuance.http_challenges: ACME challenges for method http, preferred first
		 * ("http-01", "tls-alpn-01", comma-separated) */
		char http_challenges[64];
	} issuance;
	struct {
		int workers;      /* issuer.workers: threads leasing hostname jobs */
		int64_t key_pool; /* issuer.key_pool: RSA keys generated ahead of need */
	} issuer;
	struct {
		char listen[CONFIG_ADDR_LEN]; /* metrics.listen: HOST:PORT of /metrics, "" = off */
	} metrics;
	struct {
		int workers;       /* webhooks.workers: threads sending deliveries */
		int64_t timeout;   /* webhooks.timeout: seconds a receiver has to answer */
		int64_t retry_for; /* webhooks.retry_for: seconds a delivery is retried */
	} webhooks;
	struct {
		char resolver[CONFIG_ADDR_LEN]; /* dns.resolver: HOST:PORT for DCV lookups, "" system */
		char zone[256];                 /* dns.zone: DCV delegation zone, "" none */
		char listen[CONFIG_ADDR_LEN];   /* dns.listen: HOST:PORT, UDP and TCP */
		char nameserver[256];           /* dns.nameserver: NS/SOA host, default ns.<zone> */
		char update_server[CONFIG_ADDR_LEN]; /* dns.update_server: RFC 2136 push, "" off */
		char tsig_name[256];                 /* dns.tsig_name: "" unsigned */
		char tsig_secret[256];               /* dns.tsig_secret: base64; never logged */
		char tsig_algorithm[32];             /* dns.tsig_algorithm */
		int64_t tcp_idle_timeout; /* dns.tcp_idle_timeout: seconds to send a whole query */
		int64_t tcp_lifetime;     /* dns.tcp_lifetime: seconds a TCP connection may last */
		int64_t tcp_max_queries;  /* dns.tcp_max_queries: queries per TCP connection */
		int64_t rrl_rate;         /* dns.rrl_rate: UDP responses/s per client prefix, 0 off */
		int64_t rrl_slip;         /* dns.rrl_slip: every Nth limited answer sent with TC */
	} dns;
	struct {
		char smtp_url[512];          /* email.smtp_url: where email DCV mail goes, "" none */
		char from[256];              /* email.from: the sender of approval mail */
		char approval_url_base[512]; /* email.approval_url_base: https:// outside --dev */
		char smtp_ca_file[PATH_MAX]; /* email.smtp_ca_file: CAs of the SMTP server, "" system */
	} email;
	struct {
		char name[256];                     /* edge.name: "" = the host name */
		int64_t heartbeat_timeout;          /* edge.heartbeat_timeout: seconds */
		char https_listen[CONFIG_ADDR_LEN]; /* edge.https_listen: HOST:PORT, ":443" */
		char http_listen[CONFIG_ADDR_LEN];  /* edge.http_listen */
		int workers;                        /* edge.workers: loops, 0 = one per core */
		int64_t cache_bytes;                /* edge.cache_bytes: certificate cache */
		int64_t negative_ttl;               /* edge.negative_ttl: seconds */
		int64_t header_timeout;             /* edge.header_timeout: seconds */
		int64_t idle_timeout;               /* edge.idle_timeout: seconds */
		int64_t connect_timeout;            /* edge.connect_timeout: seconds */
		int64_t read_timeout;               /* edge.read_timeout: seconds */
		int64_t drain_timeout;              /* edge.drain_timeout: seconds */
		int64_t max_header_bytes;           /* edge.max_header_bytes */
		int64_t max_headers;                /* edge.max_headers */
		int64_t max_connections;            /* edge.max_connections */
		char default_certificate[PATH_MAX]; /* edge.default_certificate: PEM, "" none */
		int64_t ticket_rotation;            /* edge.ticket_rotation: seconds */
		int64_t session_tickets;            /* edge.session_tickets: per 1.3 handshake */
		char trust_bundle[PATH_MAX]; /* edge.trust_bundle: CAs uploaded certificates chain to */
		int http2;                     /* edge.http2: h2 offered by ALPN */
		int origin_tls_verify;         /* edge.origin_tls_verify: verify origins */
		char origin_ca_file[PATH_MAX]; /* edge.origin_ca_file: their CAs, "" system */
		/* edge.origin_allow_networks: internal networks origins, the fallback origin and
		 * DCV fetches may reach (parsed at load; --dev: loopback) */
		struct netpolicy origin_allow;
		char x_forwarded_for[16];      /* edge.x_forwarded_for: "append" or "overwrite" */
	} edge;

	struct config_ca cas[CONFIG_MAX_CAS];
	size_t n_cas;
};

/* Fills CFG from the defaults, the file named by --config, the environment and the flags in
 * ARGV[0..ARGC) (the arguments after the subcommand). Unknown flags, bad values and unreadable
 * files are SE_ECONFIG with a one-line message in ERR. Dev defaults apply when --dev is given. */
int config_load(struct config *cfg, int argc, char **argv, char *err, size_t err_len);

/* Fills CFG with the table defaults (the dev-mode defaults when DEV is set), store.master_key
 * still "" (config_load resolves it). Useful for callers and tests that build a config by hand. */
void config_defaults(struct config *cfg, int dev);

/* Sets KEY ("api.listen", "ca.pebble.directory") from the text VALUE, as every source does:
 * parsed by the key's type and checked against its bounds. SE_ECONFIG with a one-line message
 * in ERR for a bad value; SE_ENOTFOUND (ERR: "unknown key KEY") when there is no such key. */
int config_set(struct config *cfg, const char *key, const char *value, char *err, size_t err_len);

/* 1 when ARG is a flag that config_load reads with the next argument as its value ("--data"
 * but not "--data=DIR", "--dev" or "--foo"): lets subcommands that take positional arguments
 * tell a flag's value from a positional one. */
int config_flag_takes_value(const char *arg);

/* What config_load cannot see alone (`saasedge serve --check-config`): the listen addresses of
 * CFG's roles parse, the files its keys name can be read (the master key once it exists), the
 * data directory exists or can be made. 0, or SE_ECONFIG with a one-line message in ERR. */
int config_check(const struct config *cfg, char *err, size_t err_len);

/* Calls CHANGED with the name of each key whose value differs between A and B ("ca.NAME.FIELD"
 * for an ACME CA's, "ca" when the CAs themselves differ). */
void config_diff(const struct config *a, const struct config *b,
		 void (*changed)(const char *key, void *ctx), void *ctx);

/* Prints one line per key (name, default, help) to F: the body of `saasedge serve --help`. */
void config_print_help(void *f);

/* 1 when ROLE ("api", "issuer", "edge", "dns") is in cfg->roles, else 0. */
int config_has_role(const struct config *cfg, const char *role);
/* The configured CA called NAME, or NULL. */
const struct config_ca *config_find_ca(const struct config *cfg, const char *name);

#endif

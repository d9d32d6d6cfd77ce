#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "cli/cli.h"
#include "dns/dns.h"
#include "edge/edge.h"
#include "issuer/issuer.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/secretbox.h"
#include "metrics/metrics.h"
#include "notify/notify.h"

static const char serve_usage[] =
    "usage: saasedge serve [--dev] [--config FILE] [--data DIR] [--KEY=VALUE ...]\n"
    "       saasedge serve --check-config [--config FILE] [--KEY=VALUE ...]\n"
    "Runs the server until SIGINT or SIGTERM (which drain the edge first). --dev needs nothing\n"
    "else: it keeps everything under ./var and prints a zone id, an API token and a curl\n"
    "example. SIGHUP reads the configuration again and applies log.level and log.format; the\n"
    "log names the changed keys that need a restart. --check-config checks the configuration\n"
    "(keys, values, listen addresses, files it names) and exits: 0 when it is good.\n\n";

/* Everything serve holds, so that one function can release it whatever the point of failure. */
struct serve_state {
	struct config cfg;
	struct secretbox box;
	int box_loaded;
	struct store *st;
	struct api_server *api;
	struct issuer *issuer;
	struct notify *notify;
	struct edge *edge;
	struct dns_server *dns;
	struct metrics_server *metrics;
	struct dev_info dev;
};

/* "http://HOST:PORT/client/v4" for LISTEN with the port actually bound (api.listen may say 0). */
static void api_url(const char *listen, unsigned port, char *out, size_t len)
{
	const char *colon = strrchr(listen, ':');

	if (colon && port)
		snprintf(out, len, "http://%.*s:%u/client/v4", (int)(colon - listen), listen, port);
	else
		snprintf(out, len, "http://%s/client/v4", listen);
}

static int load_master_key(struct serve_state *s)
{
	int rc = cli_load_master_key(&s->cfg, &s->box);

	s->box_loaded = rc == CLI_EXIT_OK;
	return rc;
}

static int start_api(struct serve_state *s)
{
	int rc = api_server_start(&s->cfg, s->st, &s->box, &s->api);

	if (rc && s->cfg.api.approval_listen[0])
		cli_error("cannot start the API on %s and the approval page on %s: %s (see the log "
			  "above)",
			  s->cfg.api.listen, s->cfg.api.approval_listen, se_strerror(rc));
	else if (rc == SE_EADDRINUSE)
		cli_error("cannot listen on %s: address already in use", s->cfg.api.listen);
	else if (rc == SE_ECONFIG)
		cli_error("invalid api.listen address %s (expected HOST:PORT or [IPv6]:PORT)",
			  s->cfg.api.listen);
	else if (rc)
		cli_error("cannot start the API on %s: %s", s->cfg.api.listen, se_strerror(rc));
	return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

/* The dev banner's lines about the DCV zone (ssl.method cname), with a dig to try. */
static void print_dns_banner(const struct config *cfg, int port)
{
	const char *colon = strrchr(cfg->dns.listen, ':');
	int host_len = colon ? (int)(colon - cfg->dns.listen) : 0;
	const char *host = host_len ? cfg->dns.listen : "127.0.0.1";

	if (!host_len)
		host_len = (int)strlen(host);
	printf("  DCV zone   %s on %.*s port %d, UDP and TCP (for ssl.method cname)\n"
	       "  try:       dig -p %d @%.*s SOA %s\n",
	       cfg->dns.zone, host_len, host, port, port, host_len, host, cfg->dns.zone);
}

static int start(struct serve_state *s)
{
	char url[CONFIG_ADDR_LEN + 32];
	/* An edge serves from its local copy while the database is away, so a database outage
	 * never keeps it from starting; the other roles then wait for the database with it. */
	int rc = config_has_role(&s->cfg, "edge") && !s->cfg.dev
		     ? cli_open_store_unreachable_ok(&s->cfg, &s->st)
		     : cli_open_store(&s->cfg, &s->st);

	if (rc == CLI_EXIT_OK && s->cfg.store_read_url[0] &&
	    store_read_from(s->st, s->cfg.store_read_url) != 0) {
		cli_error("store.read_url needs store.url, and both must be PostgreSQL");
		rc = CLI_EXIT_USAGE;
	}
	if (rc == CLI_EXIT_OK)
		rc = load_master_key(s);
	if (rc == CLI_EXIT_OK && s->cfg.dev)
		rc = dev_bootstrap(&s->cfg, s->st, &s->dev);
	/* before the roles, so that everything they do from their start is counted */
	if (rc == CLI_EXIT_OK && metrics_server_start(&s->cfg, s->st, &s->metrics) != 0) {
		cli_error("cannot serve metrics on %s (see the log above)", s->cfg.metrics.listen);
		rc = CLI_EXIT_FAIL;
	}
	/* A node runs only its roles: an edge-only node has no API listener to attack. */
	if (rc == CLI_EXIT_OK && config_has_role(&s->cfg, "api"))
		rc = start_api(s);
	if (rc == CLI_EXIT_OK && config_has_role(&s->cfg, "issuer") &&
	    issuer_start(&s->cfg, s->st, &s->box, &s->issuer) != 0) {
		cli_error("cannot start the issuer (see the log above)");
		rc = CLI_EXIT_FAIL;
	}
	/* Webhooks go out from the nodes that do the background work: the issuer's. */
	if (rc == CLI_EXIT_OK && s->issuer && notify_start(&s->cfg, s->st, &s->box, &s->notify)) {
		cli_error("cannot start the webhook senders");
		rc = CLI_EXIT_FAIL;
	}
	if (rc == CLI_EXIT_OK && config_has_role(&s->cfg, "edge") &&
	    edge_start(&s->cfg, s->st, &s->box, &s->edge) != 0) {
		cli_error("cannot start the edge on %s and %s (see the log above)",
			  s->cfg.edge.https_listen, s->cfg.edge.http_listen);
		rc = CLI_EXIT_FAIL;
	}
	if (rc == CLI_EXIT_OK && config_has_role(&s->cfg, "dns") &&
	    dns_start(&s->cfg, s->st, &s->dns) != 0) {
		cli_error("cannot serve the DNS zone %s on %s (see the log above)", s->cfg.dns.zone,
			  s->cfg.dns.listen);
		rc = CLI_EXIT_FAIL;
	}
	if (rc != CLI_EXIT_OK)
		return rc;
	if (s->api)
		api_url(s->cfg.api.listen, api_server_port(s->api), url, sizeof(url));
	else
		snprintf(url, sizeof(url), "off");
	log_info("msg=\"saasedge serving\" roles=%s api=%s data=%s dev=%d", s->cfg.roles, url,
		 s->cfg.data_dir, s->cfg.dev);
	if (s->cfg.dev && s->api) {
		dev_print_banner(&s->dev, url);
		if (s->dns)
			print_dns_banner(&s->cfg, dns_port(s->dns));
		fflush(stdout);
	}
	dev_info_wipe(&s->dev);
	return CLI_EXIT_OK;
}

static void stop(struct serve_state *s)
{
	api_server_stop(s->api);
	s->api = NULL;
	edge_stop(s->edge);
	s->edge = NULL;
	dns_stop(s->dns);
	s->dns = NULL;
	notify_stop(s->notify); /* before the issuer, which ends curl's global state */
	s->notify = NULL;
	issuer_stop(s->issuer);
	s->issuer = NULL;
	metrics_server_stop(s->metrics);
	s->metrics = NULL;
	store_close(s->st);
	s->st = NULL;
	if (s->box_loaded)
		secretbox_wipe(&s->box);
	dev_info_wipe(&s->dev);
}

static int wait_for_signal(const sigset_t *set)
{
	int sig = 0;

	while (sigwait(set, &sig) != 0)
		;
	return sig;
}

/* The keys a reload found changed: those it applies, and those that need a restart. */
struct reload_report {
	char applied[256];
	char restart[1024];
};

static void add_name(char *list, size_t size, const char *key)
{
	size_t n = strlen(list);

	snprintf(list + n, size - n, "%s%s", n ? "," : "", key);
}

static void note_changed(const char *key, void *ctx)
{
	struct reload_report *r = ctx;

	if (strcmp(key, "log.level") == 0 || strcmp(key, "log.format") == 0)
		add_name(r->applied, sizeof(r->applied), key);
	else
		add_name(r->restart, sizeof(r->restart), key);
}

/* SIGHUP: the configuration read again from the same sources (file, environment, flags). What
 * a running process can take (the log's level and format) is applied; the other keys keep
 * their running values until a restart, and the log says which changed. A configuration that
 * no longer loads changes nothing. */
static void reload(struct serve_state *s, int argc, char **argv)
{
	static struct config fresh; /* large: off the stack; only the main thread reloads */
	struct reload_report r;
	char err[512];

	if (config_load(&fresh, argc, argv, err, sizeof(err)) != 0 ||
	    config_check(&fresh, err, sizeof(err)) != 0) {
		for (char *q = strchr(err, '"'); q; q = strchr(q, '"'))
			*q = '\''; /* the message is one quoted logfmt value */
		log_warn("msg=\"configuration not re-read: it does not load\" error=\"%s\"", err);
		return;
	}
	memset(&r, 0, sizeof(r));
	config_diff(&s->cfg, &fresh, note_changed, &r);
	(void)log_set_level(fresh.log_level);
	(void)log_set_format(fresh.log_format);
	memcpy(s->cfg.log_level, fresh.log_level, sizeof(s->cfg.log_level));
	memcpy(s->cfg.log_format, fresh.log_format, sizeof(s->cfg.log_format));
	/* whatever the new level: the operator asked for this and looks for the answer */
	log_write(LOG_INFO, "msg=\"configuration re-read\" applied=%s needs_restart=%s",
		  r.applied[0] ? r.applied : "none", r.restart[0] ? r.restart : "none");
}

/* --check-config: what serve would start with, checked, without starting anything. */
static int check_config(const struct config *cfg)
{
	char err[512];

	if (config_check(cfg, err, sizeof(err)) != 0) {
		cli_error("%s", err);
		return CLI_EXIT_USAGE;
	}
	printf("configuration OK: roles %s, store %s%s\n", cfg->roles,
	       cfg->store_url[0] ? "on PostgreSQL" : "SQLite in ",
	       cfg->store_url[0] ? "" : cfg->data_dir);
	return CLI_EXIT_OK;
}

/* Takes --check-config out of ARGV (config_load does not know it): 1 when it was there. */
static int take_check_flag(int *argc, char **argv)
{
	int found = 0, n = 0;

	for (int i = 0; i < *argc; i++) {
		if (strcmp(argv[i], "--check-config") == 0)
			found = 1;
		else
			argv[n++] = argv[i];
	}
	*argc = n;
	return found;
}

#define SERVE_TRIM_THRESHOLD (32 << 20)

int cli_serve(int argc, char **argv)
{
	static struct serve_state s; /* large (paths, CA table): off the stack */
	sigset_t set;
	int rc, sig, check;

	if (cli_wants_help(argc, argv)) {
		fputs(serve_usage, stdout);
		config_print_help(stdout);
		return CLI_EXIT_OK;
	}
	check = take_check_flag(&argc, argv);
	rc = cli_load_config(&(struct cli_args){.rest = argv, .n_rest = argc}, &s.cfg);
	if (rc != CLI_EXIT_OK || check)
		return rc != CLI_EXIT_OK ? rc : check_config(&s.cfg);
	/* Blocked before any thread starts, so every thread inherits the mask and the signals
	 * wait for sigwait below instead of killing a worker mid-request. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/* A request's buffers (64 KiB relays, HTTP/2 streams) are freed at the top of a thread's
	 * heap, and glibc gave that back to the kernel (madvise) as soon as 128 KiB were free, only
	 * to fault it in again for the next request: 7% of the edge's CPU at 16k HTTP/2 requests/s.
	 * Memory freed is now kept for reuse until 32 MiB of it are free at a heap's top. */
	mallopt(M_TRIM_THRESHOLD, SERVE_TRIM_THRESHOLD);
	signal(SIGPIPE, SIG_IGN);
	rc = start(&s);
	while (rc == CLI_EXIT_OK && (sig = wait_for_signal(&set)) == SIGHUP)
		reload(&s, argc, argv);
	if (rc == CLI_EXIT_OK)
		log_info("msg=\"saasedge stopping\" signal=%s",
			 sig == SIGINT ? "SIGINT" : "SIGTERM");
	stop(&s);
	return rc;
}

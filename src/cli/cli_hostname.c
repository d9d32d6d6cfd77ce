/* `saasedge hostname create|list|show|delete|wait`: custom hostnames through the API, for
 * operators and provisioning scripts. The server is reached at --api (or $SAASEDGE_API_URL),
 * with --token ($SAASEDGE_API_TOKEN) and --zone ($SAASEDGE_ZONE_ID). Text output is for people;
 * --output json prints the API's objects as they came, for scripts. `wait` polls until the
 * certificate is active (exit 0), failed (1, with the validation errors) or the timeout (3). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/api_client.h"
#include "cli/cli.h"

#define CLI_EXIT_TIMEOUT 3
#define WAIT_POLL_MS     500
#define WAIT_DEFAULT_S   600
#define LIST_PER_PAGE    50

static const char usage[] =
    "usage: saasedge hostname create NAME [--method http|txt|email] [--origin HOST]\n"
    "                                     [--ca ACME_CA]\n"
    "       saasedge hostname list [--status SSL_STATUS]\n"
    "       saasedge hostname show NAME|ID\n"
    "       saasedge hostname delete NAME|ID\n"
    "       saasedge hostname wait NAME|ID [--timeout SECONDS]\n"
    "each also takes:\n"
    "  --api URL        the API (default $SAASEDGE_API_URL, else http://127.0.0.1:8787)\n"
    "  --token TOKEN    an API token of the zone (default $SAASEDGE_API_TOKEN)\n"
    "  --zone ID        the zone (default $SAASEDGE_ZONE_ID)\n"
    "  --output FORMAT  text (default) or json: the API's objects as they came\n"
    "wait exits 0 once the certificate is active, 1 when validation or issuance failed (the\n"
    "errors on stderr), 3 at the timeout (600 s by default).\n";

/* What every subcommand takes, and the client made from it. */
struct session {
	struct api_client *api;
	char zone[33];
	int json; /* --output json */
};

enum { OPT_API, OPT_TOKEN, OPT_ZONE, OPT_OUTPUT, OPT_COMMON };

static const char *opt_or_env(const struct cli_opt *opt, const char *env, const char *def)
{
	const char *v = opt->value ? opt->value : getenv(env);

	return v && *v ? v : def;
}

/* Sorts ARGV (the subcommand's own options after the common ones in OPTS) and opens the
 * session; the positional arguments go to ARGS. */
static int session_open(int argc, char **argv, struct cli_opt *opts, size_t n_opts,
			struct cli_args *args, struct session *s)
{
	const char *url, *token, *zone, *output;
	int rc;

	opts[OPT_API].name = "--api";
	opts[OPT_TOKEN].name = "--token";
	opts[OPT_ZONE].name = "--zone";
	opts[OPT_OUTPUT].name = "--output";
	memset(s, 0, sizeof(*s));
	if ((rc = cli_args_split(argc, argv, opts, n_opts, args)) != CLI_EXIT_OK)
		return rc;
	if (args->n_rest) {
		cli_error("unknown option %s (see saasedge hostname --help)", args->rest[0]);
		return CLI_EXIT_USAGE;
	}
	url = opt_or_env(&opts[OPT_API], "SAASEDGE_API_URL", "http://127.0.0.1:8787");
	token = opt_or_env(&opts[OPT_TOKEN], "SAASEDGE_API_TOKEN", NULL);
	zone = opt_or_env(&opts[OPT_ZONE], "SAASEDGE_ZONE_ID", NULL);
	output = opts[OPT_OUTPUT].value ? opts[OPT_OUTPUT].value : "text";
	if (!token) {
		cli_error("no API token: give --token or set SAASEDGE_API_TOKEN");
		return CLI_EXIT_USAGE;
	}
	if (!zone) {
		cli_error("no zone: give --zone or set SAASEDGE_ZONE_ID");
		return CLI_EXIT_USAGE;
	}
	if ((rc = cli_parse_id("--zone", zone, s->zone)) != CLI_EXIT_OK)
		return rc;
	if (strcmp(output, "json") != 0 && strcmp(output, "text") != 0) {
		cli_error("--output must be text or json, not %s", output);
		return CLI_EXIT_USAGE;
	}
	s->json = strcmp(output, "json") == 0;
	s->api = api_client_new(url, token);
	return s->api ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static void session_close(struct session *s, struct cli_args *args)
{
	api_client_free(s->api);
	cli_args_dispose(args);
}

/* The one positional argument of a subcommand that takes NAME|ID. */
static int one_target(const struct cli_args *args, const char *sub, const char **target)
{
	if (args->n_pos != 1) {
		cli_error("hostname %s takes one hostname or id (see saasedge hostname --help)",
			  sub);
		return CLI_EXIT_USAGE;
	}
	*target = args->pos[0];
	return CLI_EXIT_OK;
}

/* 1 for a hostname's id (a UUID as the API writes it), which no hostname can be (no dot). */
static int is_id(const char *v)
{
	if (strlen(v) != 36)
		return 0;
	for (size_t i = 0; i < 36; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? v[i] != '-' : !isxdigit((unsigned char)v[i]))
			return 0;
	}
	return 1;
}

static const char *str_at(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

/* GET of the hostname TARGET (an id, or a name looked up with ?hostname=): 0 with *H its
 * object (the caller's), else CLI_EXIT_FAIL after saying why. */
static int fetch(struct session *s, const char *target, json_t **h)
{
	char path[512];
	json_t *env = NULL;
	int rc;

	*h = NULL;
	if (is_id(target)) {
		snprintf(path, sizeof(path), "/zones/%s/custom_hostnames/%s", s->zone, target);
		if ((rc = api_client_call(s->api, "GET", path, NULL, &env, NULL)) != 0)
			return rc;
		*h = json_incref(json_object_get(env, "result"));
	} else {
		char *q = api_client_escape(s->api, target);

		if (!q)
			return CLI_EXIT_FAIL;
		snprintf(path, sizeof(path), "/zones/%s/custom_hostnames?hostname=%s", s->zone, q);
		free(q);
		if ((rc = api_client_call(s->api, "GET", path, NULL, &env, NULL)) != 0)
			return rc;
		*h = json_incref(json_array_get(json_object_get(env, "result"), 0));
	}
	json_decref(env);
	if (!json_is_object(*h)) {
		cli_error("no hostname %s in zone %s", target, s->zone);
		json_decref(*h);
		*h = NULL;
		return CLI_EXIT_FAIL;
	}
	return 0;
}

static void print_json(const json_t *v)
{
	char *text = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (text)
		puts(text);
	free(text);
}

/* The validation errors of H (the certificate's and the hostname's) on stderr. */
static void print_errors(const json_t *h)
{
	const json_t *ssl = json_object_get(h, "ssl");
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(ssl, "validation_errors"), i, e)
	    cli_error("%s: %s", str_at(h, "hostname"), str_at(e, "message"));
	json_array_foreach(json_object_get(h, "verification_errors"), i, e) cli_error(
	    "%s: %s", str_at(h, "hostname"), json_string_value(e) ? json_string_value(e) : "");
}

/* What a person needs of H: names, statuses, what the customer must publish, errors. */
static void print_text(const json_t *h)
{
	const json_t *ssl = json_object_get(h, "ssl"), *r;
	size_t i;

	printf("hostname     %s\n", str_at(h, "hostname"));
	printf("id           %s\n", str_at(h, "id"));
	printf("status       %s\n", str_at(h, "status"));
	printf("ssl status   %s\n", str_at(ssl, "status"));
	printf("ssl method   %s\n", str_at(ssl, "method"));
	if (*str_at(h, "custom_origin_server"))
		printf("origin       %s\n", str_at(h, "custom_origin_server"));
	json_array_foreach(json_object_get(ssl, "validation_records"), i, r)
	{
		if (*str_at(r, "txt_name"))
			printf("validation   TXT %s \"%s\"\n", str_at(r, "txt_name"),
			       str_at(r, "txt_value"));
		if (*str_at(r, "http_url"))
			printf("validation   HTTP %s -> %s\n", str_at(r, "http_url"),
			       str_at(r, "http_body"));
		if (*str_at(r, "cname"))
			printf("validation   CNAME %s -> %s\n", str_at(r, "cname"),
			       str_at(r, "cname_target"));
		if (json_array_size(json_object_get(r, "emails")))
			printf("validation   email to %s\n",
			       json_string_value(json_array_get(json_object_get(r, "emails"), 0)));
	}
	if (*str_at(ssl, "expires_on"))
		printf("expires on   %s\n", str_at(ssl, "expires_on"));
	json_array_foreach(json_object_get(ssl, "validation_errors"), i, r)
	    printf("error        %s\n", str_at(r, "message"));
}

/* ---- the subcommands -------------------------------------------------------------------- */

static int run_create(int argc, char **argv)
{
	enum { METHOD = OPT_COMMON, ORIGIN, CA, N_OPTS };
	struct cli_opt opts[N_OPTS] = {
	    [METHOD] = {"--method", NULL}, [ORIGIN] = {"--origin", NULL}, [CA] = {"--ca", NULL}};
	struct cli_args args;
	struct session s;
	json_t *body, *ssl, *env = NULL;
	char path[128];
	int rc = session_open(argc, argv, opts, N_OPTS, &args, &s);

	if (rc == CLI_EXIT_OK && args.n_pos != 1) {
		cli_error("hostname create takes one hostname (see saasedge hostname --help)");
		rc = CLI_EXIT_USAGE;
	}
	if (rc != CLI_EXIT_OK) {
		session_close(&s, &args);
		return rc;
	}
	ssl = json_pack("{s:s, s:s}", "method", opts[METHOD].value ? opts[METHOD].value : "http",
			"type", "dv");
	if (ssl && opts[CA].value)
		json_object_set_new(ssl, "certificate_authority", json_string(opts[CA].value));
	body = json_pack("{s:s, s:o}", "hostname", args.pos[0], "ssl", ssl);
	if (body && opts[ORIGIN].value)
		json_object_set_new(body, "custom_origin_server", json_string(opts[ORIGIN].value));
	snprintf(path, sizeof(path), "/zones/%s/custom_hostnames", s.zone);
	rc = body ? api_client_call(s.api, "POST", path, body, &env, NULL) : CLI_EXIT_FAIL;
	if (rc == 0 && s.json)
		print_json(json_object_get(env, "result"));
	else if (rc == 0) /* the id alone: what a script keeps */
		puts(str_at(json_object_get(env, "result"), "id"));
	json_decref(body);
	json_decref(env);
	session_close(&s, &args);
	return rc;
}

static int run_list(int argc, char **argv)
{
	enum { STATUS = OPT_COMMON, N_OPTS };
	struct cli_opt opts[N_OPTS] = {[STATUS] = {"--status", NULL}};
	struct cli_args args;
	struct session s;
	json_t *all = json_array(), *env = NULL, *h;
	char path[512], *status = NULL;
	int rc = session_open(argc, argv, opts, N_OPTS, &args, &s);
	size_t i;

	if (rc == CLI_EXIT_OK && args.n_pos) {
		cli_error("hostname list takes no argument (see saasedge hostname --help)");
		rc = CLI_EXIT_USAGE;
	}
	if (rc == CLI_EXIT_OK && opts[STATUS].value &&
	    !(status = api_client_escape(s.api, opts[STATUS].value)))
		rc = CLI_EXIT_FAIL;
	/* every page, in the API's order */
	for (long page = 1; rc == CLI_EXIT_OK && all; page++) {
		json_t *result;

		snprintf(path, sizeof(path), "/zones/%s/custom_hostnames?per_page=%d&page=%ld%s%s",
			 s.zone, LIST_PER_PAGE, page, status ? "&ssl_status=" : "",
			 status ? status : "");
		if ((rc = api_client_call(s.api, "GET", path, NULL, &env, NULL)) != 0)
			break;
		result = json_object_get(env, "result");
		json_array_extend(all, result);
		if (json_array_size(result) < LIST_PER_PAGE) {
			json_decref(env);
			break;
		}
		json_decref(env);
	}
	if (rc == CLI_EXIT_OK && !all)
		rc = CLI_EXIT_FAIL;
	if (rc == CLI_EXIT_OK && s.json) {
		print_json(all);
	} else if (rc == CLI_EXIT_OK) {
		printf("%-40s %-10s %-22s %s\n", "HOSTNAME", "STATUS", "SSL STATUS", "ID");
		json_array_foreach(all, i, h)
		    printf("%-40s %-10s %-22s %s\n", str_at(h, "hostname"), str_at(h, "status"),
			   str_at(json_object_get(h, "ssl"), "status"), str_at(h, "id"));
	}
	free(status);
	json_decref(all);
	session_close(&s, &args);
	return rc;
}

static int run_show(int argc, char **argv)
{
	struct cli_opt opts[OPT_COMMON] = {0};
	struct cli_args args;
	struct session s;
	const char *target = NULL;
	json_t *h = NULL;
	int rc = session_open(argc, argv, opts, OPT_COMMON, &args, &s);

	rc = rc ? rc : one_target(&args, "show", &target);
	rc = rc ? rc : fetch(&s, target, &h);
	if (rc == 0 && s.json)
		print_json(h);
	else if (rc == 0)
		print_text(h);
	json_decref(h);
	session_close(&s, &args);
	return rc;
}

static int run_delete(int argc, char **argv)
{
	struct cli_opt opts[OPT_COMMON] = {0};
	struct cli_args args;
	struct session s;
	const char *target = NULL;
	json_t *h = NULL, *env = NULL;
	char path[256];
	int rc = session_open(argc, argv, opts, OPT_COMMON, &args, &s);

	rc = rc ? rc : one_target(&args, "delete", &target);
	rc = rc ? rc : fetch(&s, target, &h);
	if (rc == 0) {
		snprintf(path, sizeof(path), "/zones/%s/custom_hostnames/%s", s.zone,
			 str_at(h, "id"));
		rc = api_client_call(s.api, "DELETE", path, NULL, &env, NULL);
	}
	if (rc == 0 && s.json)
		print_json(json_object_get(env, "result"));
	else if (rc == 0)
		puts(str_at(h, "id"));
	json_decref(h);
	json_decref(env);
	session_close(&s, &args);
	return rc;
}

/* ---- wait ------------------------------------------------------------------------------- */

/* A certificate status that will not become active by itself. */
static int status_failed(const char *status)
{
	size_t n = strlen(status);

	return (n > 10 && strcmp(status + n - 10, "_timed_out") == 0) ||
	       strcmp(status, "deleted") == 0 || strcmp(status, "expired") == 0 ||
	       strcmp(status, "inactive") == 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Progress on stderr: on a terminal one line rewritten in place with the time so far, each
 * status kept on a line of its own as it is left; elsewhere (a log) one line per status. */
struct progress {
	int tty;
	char last[64];
};

static void progress_show(struct progress *p, const char *name, const char *status, double elapsed)
{
	int changed = strcmp(p->last, status) != 0;

	if (p->tty) {
		if (changed && p->last[0])
			fputc('\n', stderr);
		fprintf(stderr, "\r\033[K%s  %-22s %5.0fs", name, status, elapsed);
	} else if (changed) {
		fprintf(stderr, "%s: %s (%.0fs)\n", name, status, elapsed);
	}
	fflush(stderr);
	snprintf(p->last, sizeof(p->last), "%s", status);
}

static void progress_end(const struct progress *p)
{
	if (p->tty && p->last[0])
		fputc('\n', stderr);
}

static int run_wait(int argc, char **argv)
{
	enum { TIMEOUT = OPT_COMMON, N_OPTS };
	struct cli_opt opts[N_OPTS] = {[TIMEOUT] = {"--timeout", NULL}};
	struct cli_args args;
	struct session s;
	struct progress p = {.tty = isatty(STDERR_FILENO)};
	const char *target = NULL, *status = "";
	json_t *h = NULL;
	double timeout = WAIT_DEFAULT_S, start = now_s();
	char *end = NULL;
	int rc = session_open(argc, argv, opts, N_OPTS, &args, &s);

	if (rc == CLI_EXIT_OK && opts[TIMEOUT].value &&
	    ((timeout = strtod(opts[TIMEOUT].value, &end)) <= 0 || *end)) {
		cli_error("--timeout must be a number of seconds, not %s", opts[TIMEOUT].value);
		rc = CLI_EXIT_USAGE;
	}
	rc = rc ? rc : one_target(&args, "wait", &target);
	while (rc == 0) {
		json_decref(h);
		if ((rc = fetch(&s, target, &h)) != 0)
			break;
		status = str_at(json_object_get(h, "ssl"), "status");
		progress_show(&p, str_at(h, "hostname"), status, now_s() - start);
		if (strcmp(status, "active") == 0 || status_failed(status))
			break;
		if (now_s() - start >= timeout) {
			rc = CLI_EXIT_TIMEOUT;
			break;
		}
		usleep(WAIT_POLL_MS * 1000);
	}
	progress_end(&p);
	if (h && rc != CLI_EXIT_USAGE && (rc == CLI_EXIT_TIMEOUT || status_failed(status))) {
		if (rc == CLI_EXIT_TIMEOUT)
			cli_error("%s: still %s after %.0f s", str_at(h, "hostname"), status,
				  timeout);
		else
			cli_error("%s: %s", str_at(h, "hostname"), status);
		print_errors(h);
		rc = rc ? rc : CLI_EXIT_FAIL;
	}
	if (h && (rc == 0 || rc == CLI_EXIT_FAIL || rc == CLI_EXIT_TIMEOUT)) {
		if (s.json)
			print_json(h);
		else if (rc == 0)
			puts(status);
	}
	json_decref(h);
	session_close(&s, &args);
	return rc;
}

int cli_hostname(int argc, char **argv)
{
	static const struct cli_subcommand subs[] = {
	    {"create", run_create}, {"list", run_list}, {"show", run_show},
	    {"delete", run_delete}, {"wait", run_wait},
	};

	return cli_dispatch("hostname", usage, subs, sizeof(subs) / sizeof(subs[0]), argc, argv);
}

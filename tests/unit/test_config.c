/* Unit tests of src/lib/config.c: defaults, the four sources and their precedence, the flag and
 * boolean spellings, CA keys, and the exact text of every error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/config.h"
#include "lib/error.h"

struct fixture {
	struct config cfg;
	char err[512];
	char ini[64]; /* temporary INI file, "" when none */
};

/* Removes every SAASEDGE_* variable so that the caller's environment cannot leak in. */
static void clear_env(void)
{
	char name[256];
	int again = 1;

	while (again) {
		again = 0;
		for (char **e = environ; *e; e++) {
			const char *eq = strchr(*e, '=');

			if (strncmp(*e, "SAASEDGE_", 9) != 0 || !eq)
				continue;
			snprintf(name, sizeof(name), "%.*s", (int)(eq - *e), *e);
			unsetenv(name);
			again = 1; /* environ changed under us: rescan */
			break;
		}
	}
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	clear_env();
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	if (fx->ini[0])
		unlink(fx->ini);
	free(fx);
	clear_env();
	return 0;
}

/* Writes TEXT to a new temporary file whose path the fixture keeps (and removes). */
static const char *write_ini(struct fixture *fx, const char *text)
{
	int fd;

	snprintf(fx->ini, sizeof(fx->ini), "/tmp/test_config_XXXXXX");
	fd = mkstemp(fx->ini);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return fx->ini;
}

/* config_load on a NULL-terminated list of arguments. */
static int load(struct fixture *fx, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;

	va_start(ap, fx);
	while (argc < 31 && (argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	fx->err[0] = '\0';
	return config_load(&fx->cfg, argc, argv, fx->err, sizeof(fx->err));
}

/* Asserts that loading failed with SE_ECONFIG and exactly the message WANT. */
#define assert_error(fx, rc, want)                                                                 \
	do {                                                                                       \
		assert_int_equal((rc), SE_ECONFIG);                                                \
		assert_string_equal((fx)->err, (want));                                            \
	} while (0)

static void test_defaults(void **state)
{
	struct fixture *fx = *state;
	struct config *c = &fx->cfg;

	assert_int_equal(load(fx, NULL), 0);
	assert_int_equal(c->dev, 0);
	assert_string_equal(c->config_file, "");
	assert_string_equal(c->data_dir, "/var/lib/saasedge");
	assert_string_equal(c->log_level, "info");
	assert_string_equal(c->master_key, "/var/lib/saasedge/master.key");
	assert_string_equal(c->api.listen, "127.0.0.1:8787");
	assert_int_equal(c->api.threads, 4);
	assert_int_equal(c->api.max_body, 1048576);
	assert_int_equal(c->api.rate_limit, 50);
	assert_int_equal(c->api.rate_burst, 200);
	assert_int_equal(c->api.default_quota, 1000000);
	assert_string_equal(c->issuance.default_ca, "internal");
	assert_int_equal(c->n_cas, 0);
	assert_null(config_find_ca(c, "internal"));
}

static void test_dev_defaults(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(load(fx, "--dev", NULL), 0);
	assert_int_equal(fx->cfg.dev, 1);
	assert_string_equal(fx->cfg.data_dir, "./var");
	assert_string_equal(fx->cfg.master_key, "./var/master.key");
	assert_string_equal(fx->cfg.api.listen, "127.0.0.1:8787");

	/* --dev anywhere in argv picks the dev defaults, even after other flags. */
	assert_int_equal(load(fx, "--api.threads=2", "--dev", NULL), 0);
	assert_string_equal(fx->cfg.data_dir, "./var");
	assert_int_equal(fx->cfg.api.threads, 2);

	/* An explicit --data still wins over the dev default. */
	assert_int_equal(load(fx, "--dev", "--data", "/srv/se", NULL), 0);
	assert_string_equal(fx->cfg.data_dir, "/srv/se");
	assert_string_equal(fx->cfg.master_key, "/srv/se/master.key");
}

static void test_dns_keys(void **state)
{
	struct fixture *fx = *state;

	/* No zone by default: the dns role stays idle. */
	assert_int_equal(load(fx, NULL), 0);
	assert_string_equal(fx->cfg.dns.zone, "");
	assert_string_equal(fx->cfg.dns.listen, ":53");
	assert_true(config_has_role(&fx->cfg, "dns"));
	assert_int_equal(load(fx, "--dev", NULL), 0);
	assert_string_equal(fx->cfg.dns.zone, "dcv.saasedge.test");
	assert_string_equal(fx->cfg.dns.listen, "127.0.0.1:8053");
	assert_string_equal(fx->cfg.dns.nameserver, "ns.dcv.saasedge.test");

	/* Names are normalised as they go into answers. */
	assert_int_equal(load(fx, "--dns.zone=DCV.SaaSProvider.com.", NULL), 0);
	assert_string_equal(fx->cfg.dns.zone, "dcv.saasprovider.com");
	assert_string_equal(fx->cfg.dns.nameserver, "ns.dcv.saasprovider.com");
	assert_int_equal(
	    load(fx, "--dns.zone=dcv.saasprovider.com", "--dns.nameserver=NS1.Provider.NET", NULL),
	    0);
	assert_string_equal(fx->cfg.dns.nameserver, "ns1.provider.net");

	assert_int_equal(load(fx, "--dns.zone=bad zone.com", NULL), SE_ECONFIG);
	assert_true(strncmp(fx->err, "dns.zone: ", 10) == 0);
	assert_int_equal(load(fx, "--dns.zone=dcv.provider.com", "--dns.nameserver=-bad-", NULL),
			 SE_ECONFIG);
	assert_true(strncmp(fx->err, "dns.nameserver: ", 16) == 0);

	/* RFC 2136 push: a zone to push, and a TSIG key name with its secret or neither. */
	assert_int_equal(load(fx, "--dns.zone=dcv.provider.com", "--dns.update_server=10.0.0.53:53",
			      "--dns.tsig_name=k", "--dns.tsig_secret=c2VjcmV0", NULL),
			 0);
	assert_string_equal(fx->cfg.dns.tsig_algorithm, "hmac-sha256");
	assert_error(fx, load(fx, "--dns.update_server=10.0.0.53:53", NULL),
		     "dns.update_server needs dns.zone");
	assert_error(fx, load(fx, "--dns.zone=dcv.provider.com", "--dns.tsig_name=k", NULL),
		     "dns.tsig_name and dns.tsig_secret go together");
	assert_int_equal(load(fx, "--dns.tsig_algorithm=md5", NULL), SE_ECONFIG);
}

static void test_config_defaults_function(void **state)
{
	struct fixture *fx = *state;

	config_defaults(&fx->cfg, 1);
	assert_int_equal(fx->cfg.dev, 1);
	assert_string_equal(fx->cfg.data_dir, "./var");
	assert_string_equal(fx->cfg.master_key, "");
	config_defaults(&fx->cfg, 0);
	assert_string_equal(fx->cfg.data_dir, "/var/lib/saasedge");
}

static void test_precedence(void **state)
{
	struct fixture *fx = *state;
	const char *ini = write_ini(fx, "data = /from/file\n"
					"[api]\n"
					"listen = 10.0.0.1:1\n"
					"threads = 2\n"
					"rate_limit = 7\n"
					"[log]\n"
					"level = warn\n");

	setenv("SAASEDGE_API_LISTEN", "10.0.0.2:2", 1);
	setenv("SAASEDGE_API_RATE_LIMIT", "8", 1);
	assert_int_equal(load(fx, "--config", ini, "--api.listen=10.0.0.3:3", NULL), 0);
	assert_string_equal(fx->cfg.config_file, ini);
	assert_string_equal(fx->cfg.api.listen, "10.0.0.3:3"); /* flag > env > file */
	assert_int_equal(fx->cfg.api.rate_limit, 8);           /* env > file */
	assert_int_equal(fx->cfg.api.threads, 2);              /* file > default */
	assert_string_equal(fx->cfg.log_level, "warn");
	assert_string_equal(fx->cfg.data_dir, "/from/file");
	assert_string_equal(fx->cfg.master_key, "/from/file/master.key");

	/* The file also beats the dev defaults. */
	assert_int_equal(load(fx, "--dev", "--config", ini, NULL), 0);
	assert_string_equal(fx->cfg.data_dir, "/from/file");

	setenv("SAASEDGE_DATA", "/from/env", 1);
	assert_int_equal(load(fx, "--config", ini, NULL), 0);
	assert_string_equal(fx->cfg.data_dir, "/from/env");
	assert_int_equal(load(fx, "--config", ini, "--data", "/from/flag", NULL), 0);
	assert_string_equal(fx->cfg.data_dir, "/from/flag");
}

static void test_flag_forms(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(load(fx, "--api.threads=8", "--api.max_body", "2048", "--log.level",
			      "debug", "--store.master_key=/k", "--issuance.default_ca=internal",
			      NULL),
			 0);
	assert_int_equal(fx->cfg.api.threads, 8);
	assert_int_equal(fx->cfg.api.max_body, 2048);
	assert_string_equal(fx->cfg.log_level, "debug");
	assert_string_equal(fx->cfg.master_key, "/k");

	/* "--k=" sets an empty value (allowed where the default is empty), and "=" may appear in
	 * a value. */
	assert_int_equal(load(fx, "--store.master_key=", "--api.listen=a=b", NULL), 0);
	assert_string_equal(fx->cfg.master_key, "/var/lib/saasedge/master.key");
	assert_string_equal(fx->cfg.api.listen, "a=b");

	/* Extremes of a bound are accepted, and 0 switches rate limiting off. */
	assert_int_equal(load(fx, "--api.threads=64", "--api.rate_limit", "0",
			      "--api.default_quota=100000000", NULL),
			 0);
	assert_int_equal(fx->cfg.api.threads, 64);
	assert_int_equal(fx->cfg.api.rate_limit, 0);
	assert_int_equal(fx->cfg.api.default_quota, 100000000);
}

static void test_bool_forms(void **state)
{
	struct fixture *fx = *state;
	static const char *const yes[] = {"--dev",    "--dev=true", "--dev=1",
					  "--dev=on", "--dev=TRUE", "--dev=yes"};
	static const char *const no[] = {"--dev=false", "--dev=0", "--dev=off", "--dev=no"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		assert_int_equal(load(fx, yes[i], NULL), 0);
		assert_int_equal(fx->cfg.dev, 1);
		assert_string_equal(fx->cfg.data_dir, "./var");
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		assert_int_equal(load(fx, no[i], NULL), 0);
		assert_int_equal(fx->cfg.dev, 0);
		assert_string_equal(fx->cfg.data_dir, "/var/lib/saasedge");
	}
	/* The last one wins; a boolean never takes the next argument as its value. */
	assert_int_equal(load(fx, "--dev", "--dev=off", NULL), 0);
	assert_int_equal(fx->cfg.dev, 0);
	assert_error(fx, load(fx, "--dev", "true", NULL),
		     "unexpected argument true (see saasedge serve --help)");
	assert_error(fx, load(fx, "--dev=maybe", NULL), "dev must be true or false (got maybe)");
}

static void test_ca_keys(void **state)
{
	struct fixture *fx = *state;
	const struct config_ca *ca;
	const char *ini = write_ini(fx, "[ca.pebble]\n"
					"directory = https://127.0.0.1:14000/dir\n"
					"ca_bundle = /tmp/pebble.pem\n"
					"[issuance]\n"
					"default_ca = pebble\n");

	setenv("SAASEDGE_CA_LETS_ENCRYPT_DIRECTORY", "https://acme-v02.example/dir", 1);
	setenv("SAASEDGE_CA_LETS_ENCRYPT_EAB_KID", "kid1", 1);
	setenv("SAASEDGE_CA_PEBBLE_EAB_HMAC", "from-env", 1);
	setenv("SAASEDGE_CA_NOT_A_FIELD", "ignored", 1);
	assert_int_equal(load(fx, "--config", ini, "--ca.zerossl.directory",
			      "https://zerossl.example/dir", "--ca.pebble.eab_hmac=from-flag",
			      "--ca.zerossl.eab_kid=zk", NULL),
			 0);
	assert_int_equal(fx->cfg.n_cas, 3);
	assert_string_equal(fx->cfg.issuance.default_ca, "pebble");

	ca = config_find_ca(&fx->cfg, "pebble");
	assert_non_null(ca);
	assert_string_equal(ca->directory, "https://127.0.0.1:14000/dir");
	assert_string_equal(ca->ca_bundle, "/tmp/pebble.pem");
	assert_string_equal(ca->eab_hmac, "from-flag"); /* flag > env */

	ca = config_find_ca(&fx->cfg, "lets_encrypt");
	assert_non_null(ca);
	assert_string_equal(ca->directory, "https://acme-v02.example/dir");
	assert_string_equal(ca->eab_kid, "kid1");
	assert_string_equal(ca->ca_bundle, "");

	ca = config_find_ca(&fx->cfg, "zerossl");
	assert_non_null(ca);
	assert_string_equal(ca->directory, "https://zerossl.example/dir");
	assert_string_equal(ca->eab_kid, "zk");
	assert_null(config_find_ca(&fx->cfg, "not_a"));
}

static void test_ca_order_limit(void **state)
{
	static const char *const bad[] = {"300", "300/", "1/3h", "300/3", "300/3x", "300/0h",
					  "x/3h", "300/3hh", "-5/3h"};
	struct fixture *fx = *state;
	const struct config_ca *ca;
	char flag[64];

	assert_int_equal(load(fx, "--ca.le.directory=https://le/dir", "--ca.le.order_limit=300/3h",
			      "--ca.zs.directory=https://zs/dir", NULL),
			 0);
	ca = config_find_ca(&fx->cfg, "le");
	assert_int_equal(ca->max_orders, 300);
	assert_int_equal(ca->order_window_s, 3 * 3600);
	ca = config_find_ca(&fx->cfg, "zs");
	assert_int_equal(ca->max_orders, 0); /* no limit */
	assert_int_equal(load(fx, "--ca.le.directory=https://le/dir", "--ca.le.order_limit=2/45s",
			      NULL),
			 0);
	assert_int_equal(config_find_ca(&fx->cfg, "le")->order_window_s, 45);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(flag, sizeof(flag), "--ca.le.order_limit=%s", bad[i]);
		assert_error(fx, load(fx, "--ca.le.directory=https://le/dir", flag, NULL),
			     "ca.le.order_limit must be ORDERS/WINDOW, e.g. 300/3h or 50/10m (s, m, "
			     "h or d; at least 2 orders)");
	}
}

static void test_ca_errors(void **state)
{
	struct fixture *fx = *state;
	char *argv[2 * CONFIG_MAX_CAS + 2];
	char flags[CONFIG_MAX_CAS + 1][64];

	for (int i = 0; i <= CONFIG_MAX_CAS; i++) {
		snprintf(flags[i], sizeof(flags[i]), "--ca.c%d.directory=https://c%d/dir", i, i);
		argv[i] = flags[i];
	}
	assert_int_equal(config_load(&fx->cfg, CONFIG_MAX_CAS, argv, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(fx->cfg.n_cas, CONFIG_MAX_CAS);
	assert_int_equal(config_load(&fx->cfg, CONFIG_MAX_CAS + 1, argv, fx->err, sizeof(fx->err)),
			 SE_ECONFIG);
	assert_string_equal(fx->err, "too many CAs: at most 8 (at ca.c8.directory)");

	assert_error(fx, load(fx, "--ca.Pebble.directory=x", NULL),
		     "invalid CA name \"Pebble\" in ca.Pebble.directory "
		     "(use 1 to 63 of a-z, 0-9 and _)");
	assert_error(fx, load(fx, "--ca.a-b.directory=x", NULL),
		     "invalid CA name \"a-b\" in ca.a-b.directory (use 1 to 63 of a-z, 0-9 and _)");
	assert_error(fx, load(fx, "--ca..directory=x", NULL),
		     "invalid CA name \"\" in ca..directory (use 1 to 63 of a-z, 0-9 and _)");
	assert_error(fx, load(fx, "--ca.internal.directory=x", NULL),
		     "ca.internal.directory: \"internal\" is the built-in CA and has no keys");
	assert_error(fx, load(fx, "--ca.pebble.url=x", NULL),
		     "unknown option --ca.pebble.url (see saasedge serve --help)");
	assert_error(fx, load(fx, "--ca.directory=x", NULL),
		     "unknown option --ca.directory (see saasedge serve --help)");
	assert_error(fx, load(fx, "--ca.pebble.eab_kid=k", NULL),
		     "ca.pebble has no directory (set ca.pebble.directory)");
	assert_error(fx, load(fx, "--issuance.default_ca=pebble", NULL),
		     "issuance.default_ca is pebble but no ca.pebble.directory is configured");

	setenv("SAASEDGE_CA_BAD-NAME_DIRECTORY", "x", 1);
	assert_error(fx, load(fx, NULL),
		     "environment SAASEDGE_CA_BAD-NAME_DIRECTORY: invalid CA name \"bad-name\" in "
		     "ca.bad-name.directory (use 1 to 63 of a-z, 0-9 and _)");
}

static void test_flag_errors(void **state)
{
	struct fixture *fx = *state;

	assert_error(fx, load(fx, "--foo", NULL),
		     "unknown option --foo (see saasedge serve --help)");
	assert_error(fx, load(fx, "--roles=api,dsn", NULL),
		     "roles: unknown role 'dsn' (known: api, issuer, edge, dns)");
	assert_error(fx, load(fx, "--roles=", NULL), "roles must name at least one role");
	assert_error(fx, load(fx, "--api.secret=hunter2", NULL),
		     "unknown option --api.secret (see saasedge serve --help)");
	assert_error(fx, load(fx, "-d", NULL),
		     "unexpected argument -d (see saasedge serve --help)");
	assert_error(fx, load(fx, "--", NULL),
		     "unexpected argument -- (see saasedge serve --help)");
	assert_error(fx, load(fx, "extra", NULL),
		     "unexpected argument extra (see saasedge serve --help)");
	assert_error(fx, load(fx, "--api.listen", NULL), "option --api.listen needs a value");
	assert_error(fx, load(fx, "--data", "--dev", NULL), "option --data needs a value");
	assert_error(fx, load(fx, "--config", NULL), "option --config needs a value");
	assert_error(fx, load(fx, "--api.threads=abc", NULL),
		     "api.threads must be an integer (got abc)");
	assert_error(fx, load(fx, "--api.threads=", NULL), "api.threads must be an integer (got )");
	assert_error(fx, load(fx, "--api.threads= 5", NULL),
		     "api.threads must be an integer (got  5)");
	assert_error(fx, load(fx, "--api.threads=5k", NULL),
		     "api.threads must be an integer (got 5k)");
	assert_error(fx, load(fx, "--api.threads=0", NULL),
		     "api.threads must be between 1 and 64 (got 0)");
	assert_error(fx, load(fx, "--api.threads", "65", NULL),
		     "api.threads must be between 1 and 64 (got 65)");
	assert_error(fx, load(fx, "--api.rate_limit=-1", NULL),
		     "api.rate_limit must be between 0 and 1000000 (got -1)");
	assert_error(fx, load(fx, "--api.max_body=99999999999999999999", NULL),
		     "api.max_body must be between 1024 and 67108864 (got 99999999999999999999)");
	assert_error(fx, load(fx, "--log.level=loud", NULL),
		     "log.level must be one of debug, info, warn, error (got loud)");
	assert_error(fx, load(fx, "--data=", NULL), "data must not be empty");

	char long_value[200];
	char flag[256];

	memset(long_value, 'a', sizeof(long_value) - 1);
	long_value[sizeof(long_value) - 1] = '\0';
	snprintf(flag, sizeof(flag), "--api.listen=%s", long_value);
	assert_error(fx, load(fx, flag, NULL), "api.listen is too long (at most 127 characters)");
}

static void test_env_errors(void **state)
{
	struct fixture *fx = *state;

	setenv("SAASEDGE_API_THREADS", "0", 1);
	assert_error(fx, load(fx, NULL),
		     "environment SAASEDGE_API_THREADS: "
		     "api.threads must be between 1 and 64 (got 0)");
	/* A flag does not hide a bad environment: the operator should hear about it. */
	assert_error(fx, load(fx, "--api.threads=3", NULL),
		     "environment SAASEDGE_API_THREADS: "
		     "api.threads must be between 1 and 64 (got 0)");
	unsetenv("SAASEDGE_API_THREADS");

	/* Flag-only keys and unrelated SAASEDGE_ variables are not read from the environment. */
	setenv("SAASEDGE_DEV", "1", 1);
	setenv("SAASEDGE_BIN", "/usr/bin/true", 1);
	assert_int_equal(load(fx, NULL), 0);
	assert_int_equal(fx->cfg.dev, 0);
}

static void test_file_errors(void **state)
{
	struct fixture *fx = *state;
	char want[512];
	const char *ini;

	assert_error(fx, load(fx, "--config", "/nonexistent/saasedge.ini", NULL),
		     "cannot read config file /nonexistent/saasedge.ini: "
		     "No such file or directory");
	assert_error(fx, load(fx, "--config=/tmp", NULL),
		     "cannot read config file /tmp: Is a directory");

	ini = write_ini(fx, "[api]\nlisten = 127.0.0.1:1\nthis is not ini\nthreads = 0\n");
	snprintf(want, sizeof(want), "config file %s line 3: expected [section] or key = value",
		 ini);
	assert_error(fx, load(fx, "--config", ini, NULL), want);
	unlink(fx->ini);

	ini = write_ini(fx, "; comment\n[api]\nthreads = 0\nnonsense\n");
	snprintf(want, sizeof(want),
		 "config file %s line 3: api.threads must be between 1 and 64 (got 0)", ini);
	assert_error(fx, load(fx, "--config", ini, NULL), want);
	unlink(fx->ini);

	ini = write_ini(fx, "[api]\n\nlistn = 127.0.0.1:1\n");
	snprintf(want, sizeof(want), "config file %s line 3: unknown key api.listn", ini);
	assert_error(fx, load(fx, "--config", ini, NULL), want);
	unlink(fx->ini);

	ini = write_ini(fx, "[api\nlisten = x\n");
	snprintf(want, sizeof(want), "config file %s line 1: expected [section] or key = value",
		 ini);
	assert_error(fx, load(fx, "--config", ini, NULL), want);
	unlink(fx->ini);

	ini = write_ini(fx, "dev = true\n");
	snprintf(want, sizeof(want),
		 "config file %s line 1: dev can only be given as a flag (--dev)", ini);
	assert_error(fx, load(fx, "--config", ini, NULL), want);
	unlink(fx->ini);

	ini = write_ini(fx, "[ca.Pebble]\ndirectory = x\n");
	snprintf(want, sizeof(want),
		 "config file %s line 2: invalid CA name \"Pebble\" in ca.Pebble.directory "
		 "(use 1 to 63 of a-z, 0-9 and _)",
		 ini);
	assert_error(fx, load(fx, "--config", ini, NULL), want);
}

static void test_file_long_line_and_indent(void **state)
{
	struct fixture *fx = *state;
	char text[600], want[512];
	const char *ini;

	/* An indented key is a key, not the continuation of the previous value. */
	ini = write_ini(fx, "[api]\n  listen = 127.0.0.1:9\n  threads = 3\n");
	assert_int_equal(load(fx, "--config", ini, NULL), 0);
	assert_string_equal(fx->cfg.api.listen, "127.0.0.1:9");
	assert_int_equal(fx->cfg.api.threads, 3);
	unlink(fx->ini);

	/* A line longer than inih's buffer is an error, not a silently cut value. */
	snprintf(text, sizeof(text), "[store]\nmaster_key = /%0400d\n", 0);
	ini = write_ini(fx, text);
	snprintf(want, sizeof(want), "config file %s line 2: line too long", ini);
	assert_error(fx, load(fx, "--config", ini, NULL), want);
}

static void test_config_set(void **state)
{
	struct fixture *fx = *state;

	config_defaults(&fx->cfg, 0);
	assert_int_equal(config_set(&fx->cfg, "api.rate_burst", "9", fx->err, sizeof(fx->err)), 0);
	assert_int_equal(fx->cfg.api.rate_burst, 9);
	assert_int_equal(config_set(&fx->cfg, "nope", "1", fx->err, sizeof(fx->err)), SE_ENOTFOUND);
	assert_string_equal(fx->err, "unknown key nope");
	assert_int_equal(config_set(&fx->cfg, "ca.x.nope", "1", fx->err, sizeof(fx->err)),
			 SE_ENOTFOUND);
	assert_string_equal(fx->err, "unknown key ca.x.nope");
}

static void collect(const char *key, void *ctx)
{
	char *list = ctx;

	strcat(list, list[0] ? "," : "");
	strcat(list, key);
}

static void test_diff(void **state)
{
	struct fixture *fx = *state;
	static struct config before;
	char changed[256] = "";

	assert_int_equal(load(fx, "--api.threads=3", "--ca.one.directory=https://a/dir",
			      "--edge.x_forwarded_for=overwrite", NULL),
			 0);
	before = fx->cfg;
	/* a shorter text value over a longer one differs; an equal one (set again) does not */
	assert_int_equal(load(fx, "--api.threads=3", "--ca.one.directory=https://b/d",
			      "--edge.x_forwarded_for=append", "--log.level=warn", NULL),
			 0);
	config_diff(&before, &fx->cfg, collect, changed);
	assert_string_equal(changed, "log.level,edge.x_forwarded_for,ca.one.directory");
	changed[0] = '\0';
	config_diff(&fx->cfg, &fx->cfg, collect, changed);
	assert_string_equal(changed, "");
	assert_int_equal(load(fx, "--ca.two.directory=https://b/d", NULL), 0);
	config_diff(&before, &fx->cfg, collect, changed);
	assert_true(strstr(changed, "api.threads") != NULL);
	assert_true(strstr(changed, ",ca") != NULL);
}

static void test_check(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(load(fx, "--roles=api,edge", "--data=/tmp/test-config-not-made", NULL), 0);
	assert_int_equal(config_check(&fx->cfg, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(load(fx, "--roles=api", "--api.approval_listen=example.com:80", NULL), 0);
	assert_error(fx, config_check(&fx->cfg, fx->err, sizeof(fx->err)),
		     "api.approval_listen: 'example.com:80' is not HOST:PORT, :PORT or [IPv6]:PORT "
		     "with a numeric host");
	/* an edge's address is not checked on a node without the edge */
	assert_int_equal(load(fx, "--roles=api", "--edge.https_listen=nowhere", NULL), 0);
	assert_int_equal(config_check(&fx->cfg, fx->err, sizeof(fx->err)), 0);
	assert_int_equal(load(fx, "--edge.trust_bundle=/nonexistent/bundle.pem", NULL), 0);
	assert_error(fx, config_check(&fx->cfg, fx->err, sizeof(fx->err)),
		     "edge.trust_bundle: cannot read /nonexistent/bundle.pem: No such file or "
		     "directory");
	assert_int_equal(load(fx, "--data=/nonexistent/a/b", NULL), 0);
	assert_error(fx, config_check(&fx->cfg, fx->err, sizeof(fx->err)),
		     "data: neither /nonexistent/a/b nor its parent exists");
	assert_int_equal(load(fx, "--store.master_key=/tmp/test-config-no-key-yet", NULL), 0);
	assert_int_equal(config_check(&fx->cfg, fx->err, sizeof(fx->err)), 0);
}

static void test_flag_takes_value(void **state)
{
	(void)state;
	assert_int_equal(config_flag_takes_value("--data"), 1);
	assert_int_equal(config_flag_takes_value("--api.listen"), 1);
	assert_int_equal(config_flag_takes_value("--ca.x.directory"), 1);
	assert_int_equal(config_flag_takes_value("--data=/x"), 0);
	assert_int_equal(config_flag_takes_value("--dev"), 0);
	assert_int_equal(config_flag_takes_value("--quota"), 0);
	assert_int_equal(config_flag_takes_value("data"), 0);
}

static void test_help(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	static const char *const want[] = {"--config=FILE",
					   "--dev ",
					   "--data=DIR",
					   "[--dev: ./var]",
					   "--log.level=LEVEL",
					   "--store.master_key=FILE",
					   "--api.listen=HOST:PORT",
					   "[default 127.0.0.1:8787]",
					   "--api.threads=N",
					   "(1..64)",
					   "--api.max_body=BYTES",
					   "--api.rate_limit=N",
					   "--api.rate_burst=N",
					   "--api.default_quota=N",
					   "--issuance.default_ca=NAME",
					   "--ca.<name>.directory",
					   "--ca.<name>.ca_bundle",
					   "--ca.<name>.eab_kid",
					   "--ca.<name>.eab_hmac",
					   "SAASEDGE_API_LISTEN"};

	(void)state;
	assert_non_null(f);
	config_print_help(f);
	fclose(f);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (!strstr(text, want[i]))
			fail_msg("help lacks \"%s\":\n%s", want[i], text);
	}
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dev_defaults, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dns_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_defaults_function, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flag_forms, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bool_forms, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ca_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ca_order_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ca_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flag_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_env_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_long_line_and_indent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_set, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_diff, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_check, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flag_takes_value, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_help, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

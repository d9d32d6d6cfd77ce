#include "cli/cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/log.h"
#include "lib/secretbox.h"

void cli_error(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "saasedge: %s\n", line);
}

int cli_wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	}
	return 0;
}

static struct cli_opt *opt_find(struct cli_opt *opts, size_t n_opts, const char *arg,
				const char **inline_value)
{
	for (size_t i = 0; i < n_opts; i++) {
		size_t n = strlen(opts[i].name);

		if (strncmp(arg, opts[i].name, n) != 0 || (arg[n] != '\0' && arg[n] != '='))
			continue;
		*inline_value = arg[n] == '=' ? arg + n + 1 : NULL;
		return &opts[i];
	}
	return NULL;
}

/* Handles ARGV[*i], one of the subcommand's options, and moves *i past its value. */
static int take_opt(int argc, char **argv, int *i, struct cli_opt *opt, const char *inline_value)
{
	if (inline_value) {
		opt->value = inline_value;
	} else if (*i + 1 < argc && strncmp(argv[*i + 1], "--", 2) != 0) {
		opt->value = argv[++*i];
	} else {
		cli_error("option %s needs a value", opt->name);
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

static int take_pos(struct cli_args *args, const char *arg)
{
	if (args->n_pos == sizeof(args->pos) / sizeof(args->pos[0])) {
		cli_error("unexpected argument %s", arg);
		return CLI_EXIT_USAGE;
	}
	args->pos[args->n_pos++] = arg;
	return CLI_EXIT_OK;
}

int cli_dispatch(const char *command, const char *usage, const struct cli_subcommand *subs,
		 size_t n, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(usage, stdout);
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; argc >= 1 && i < n; i++) {
		if (strcmp(argv[0], subs[i].name) == 0)
			return subs[i].run(argc - 1, argv + 1);
	}
	if (argc >= 1)
		cli_error("unknown %s command %s", command, argv[0]);
	fputs(usage, stderr);
	return CLI_EXIT_USAGE;
}

int cli_args_split(int argc, char **argv, struct cli_opt *opts, size_t n_opts,
		   struct cli_args *args)
{
	int rc = CLI_EXIT_OK;

	memset(args, 0, sizeof(*args));
	args->rest = calloc((size_t)argc + 1, sizeof(*args->rest));
	if (!args->rest) {
		cli_error("out of memory");
		return CLI_EXIT_FAIL;
	}
	for (int i = 0; i < argc && rc == CLI_EXIT_OK; i++) {
		const char *inline_value = NULL;
		struct cli_opt *opt = opt_find(opts, n_opts, argv[i], &inline_value);

		if (opt) {
			rc = take_opt(argc, argv, &i, opt, inline_value);
		} else if (argv[i][0] != '-' || argv[i][1] == '\0') {
			rc = take_pos(args, argv[i]);
		} else {
			/* config_load's flag: keep its value with it, so it is not positional. */
			args->rest[args->n_rest++] = argv[i];
			if (config_flag_takes_value(argv[i]) && i + 1 < argc)
				args->rest[args->n_rest++] = argv[++i];
		}
	}
	if (rc != CLI_EXIT_OK)
		cli_args_dispose(args);
	return rc;
}

void cli_args_dispose(struct cli_args *args)
{
	free(args->rest);
	args->rest = NULL;
	args->n_rest = 0;
}

int cli_load_config(const struct cli_args *args, struct config *cfg)
{
	char err[512];

	if (config_load(cfg, args->n_rest, args->rest, err, sizeof(err)) != 0) {
		cli_error("%s", err);
		return CLI_EXIT_USAGE;
	}
	/* The table only admits known level and format names. */
	(void)log_set_level(cfg->log_level);
	(void)log_set_format(cfg->log_format);
	return CLI_EXIT_OK;
}

/* The store says what failed in its own log line; this names the directory and, when it can,
 * the reason in the operator's terms. */
static void explain_store_error(const char *dir, int rc)
{
	struct stat sb;
	int e;

	if (stat(dir, &sb) != 0) {
		e = errno;
		/* Retrying the last step tells why the store could not create it. */
		if (e == ENOENT && mkdir(dir, 0700) != 0)
			e = errno;
		cli_error("cannot create data directory %s: %s", dir, strerror(e));
	} else if (!S_ISDIR(sb.st_mode)) {
		cli_error("data directory %s is not a directory", dir);
	} else if (access(dir, W_OK | X_OK) != 0) {
		cli_error("data directory %s is not writable: %s", dir, strerror(errno));
	} else {
		cli_error("cannot open the store in %s: %s", dir, se_strerror(rc));
	}
}

/* Opens the store (with OPEN, one of store.h's openers), saying on stderr why it cannot. */
static int open_store_with(int (*open)(const char *, const char *, struct store **),
			   const struct config *cfg, struct store **st)
{
	int rc = open(cfg->data_dir, cfg->store_url, st);

	if (rc == 0)
		return CLI_EXIT_OK;
	if (cfg->store_url[0])
		/* The URL may carry a password: the log line from the store says what failed. */
		cli_error("cannot open the PostgreSQL store given by store.url: %s",
			  se_strerror(rc));
	else
		explain_store_error(cfg->data_dir, rc);
	return CLI_EXIT_FAIL;
}

int cli_open_store(const struct config *cfg, struct store **st)
{
	return open_store_with(store_open, cfg, st);
}

int cli_open_store_unreachable_ok(const struct config *cfg, struct store **st)
{
	return open_store_with(store_open_unreachable_ok, cfg, st);
}

int cli_load_master_key(const struct config *cfg, struct secretbox *box)
{
	const char *path = cfg->master_key;
	int from_env = 0;
	/* A missing key file is created: the first start makes it; issuance needs it from then
	 * on. A key in the environment writes nothing. */
	int rc = secretbox_load_master(path, 1, box, &from_env);

	if (rc && from_env)
		cli_error("%s must hold the 32-byte master key in base64 (44 characters, e.g. "
			  "from `base64 -w0 master.key`)",
			  SECRETBOX_KEY_ENV);
	else if (rc == SE_EPERM)
		cli_error("master key %s is readable by other users: run chmod 600 %s", path, path);
	else if (rc)
		cli_error("cannot load the master key %s: %s (it must be 32 bytes, mode 0600)",
			  path, se_strerror(rc));
	return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int cli_parse_id(const char *flag, const char *value, char out[33])
{
	size_t n = strlen(value);

	for (size_t i = 0; i < n && i < 32; i++)
		out[i] = (char)tolower((unsigned char)value[i]);
	out[n < 32 ? n : 32] = '\0';
	if (n != 32 || !ids_is_hex32(out)) {
		cli_error("%s must be an id of 32 hex characters (got %s)", flag, value);
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

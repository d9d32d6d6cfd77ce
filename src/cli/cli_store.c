/* `saasedge store migrate`: brings the store's schema to this program's version and says which
 * store and version it is. `saasedge store copy`: moves a SQLite store into PostgreSQL. Every node
 * also migrates when it starts (each migration runs once, whichever node gets there first); an
 * operator runs this before rolling a new version over a fleet, so that no node starts on a schema
 * it must change under the others. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/error.h"

static const char store_usage[] =
    "usage: saasedge store migrate [--store.url URL] --data DIR\n"
    "       saasedge store copy --from DIR --to URL\n"
    "migrate applies pending schema migrations and prints the backend and schema version.\n"
    "Without --store.url the store is SQLite in DIR; with it, the PostgreSQL database it names.\n"
    "copy moves the SQLite store of DIR (stop its server first) into the empty PostgreSQL\n"
    "database URL, private keys still sealed: run the nodes with the same master key.\n";

static void print_progress(void *arg, const char *table, int64_t rows)
{
	(void)arg;
	printf("%-18s %lld\n", table, (long long)rows);
}

static int store_copy_run(int argc, char **argv)
{
	struct cli_opt opts[] = {{.name = "--from"}, {.name = "--to"}};
	struct cli_args args;
	struct store *from = NULL, *to = NULL;
	int rc = cli_args_split(argc, argv, opts, 2, &args);
	int err = 0;

	if (rc == CLI_EXIT_OK && (!opts[0].value || !opts[1].value || args.n_pos)) {
		cli_error("store copy needs --from DIR (a SQLite store) and --to URL (PostgreSQL)");
		fputs(store_usage, stderr);
		rc = CLI_EXIT_USAGE;
	}
	if (rc == CLI_EXIT_OK && (err = store_open(opts[0].value, NULL, &from)) != 0) {
		cli_error("cannot open the store in %s: %s", opts[0].value, se_strerror(err));
		rc = CLI_EXIT_FAIL;
	}
	if (rc == CLI_EXIT_OK && (err = store_open(opts[0].value, opts[1].value, &to)) != 0) {
		cli_error("cannot open the PostgreSQL store given by --to: %s", se_strerror(err));
		rc = CLI_EXIT_FAIL;
	}
	if (rc == CLI_EXIT_OK && (err = store_copy(from, to, print_progress, NULL)) != 0) {
		if (err == SE_EEXISTS)
			cli_error("the target store is not empty: copy only into a new database");
		else
			cli_error("copy failed, nothing was written: %s", se_strerror(err));
		rc = CLI_EXIT_FAIL;
	}
	store_close(to);
	store_close(from);
	cli_args_dispose(&args);
	return rc;
}

static int store_migrate(int argc, char **argv)
{
	struct cli_args args;
	struct config cfg;
	struct store *st = NULL;
	int rc = cli_args_split(argc, argv, NULL, 0, &args);

	if (rc != CLI_EXIT_OK)
		return rc;
	if (args.n_pos != 0) {
		cli_error("unexpected argument %s", args.pos[0]);
		fputs(store_usage, stderr);
		rc = CLI_EXIT_USAGE;
	}
	if (rc == CLI_EXIT_OK)
		rc = cli_load_config(&args, &cfg);
	if (rc == CLI_EXIT_OK)
		rc = cli_open_store(&cfg, &st);
	if (rc == CLI_EXIT_OK)
		printf("%s schema %d\n", store_backend_name(st), store_schema_version(st));
	store_close(st);
	cli_args_dispose(&args);
	return rc;
}

int cli_store(int argc, char **argv)
{
	static const struct cli_subcommand subs[] = {{"migrate", store_migrate},
						     {"copy", store_copy_run}};

	return cli_dispatch("store", store_usage, subs, sizeof(subs) / sizeof(subs[0]), argc, argv);
}

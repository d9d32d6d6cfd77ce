/* saasedge: one binary, one subcommand per role or task. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"

#ifndef SAASEDGE_VERSION
#define SAASEDGE_VERSION "0.1.0-dev"
#endif

static const char usage[] =
    "usage: saasedge COMMAND [ARGS]\n"
    "commands:\n"
    "  serve [--dev] [--config FILE] [--KEY=VALUE ...]  run the server (see serve --help)\n"
    "  account create NAME --data DIR                   create an account, print its id\n"
    "  zone create NAME [--account ID] [--cname-target HOST] [--quota N] --data DIR\n"
    "                                                   create a zone, print its id\n"
    "  token create --zone ID | --account ID [--email EMAIL] --data DIR\n"
    "                                                   create an API token, print it once\n"
    "  cert import --hostname NAME --cert FILE --key FILE [--zone ID] --data DIR\n"
    "                                                   store a certificate for the edge\n"
    "  hostname create|list|show|delete|wait ...       custom hostnames over the API, for\n"
    "                                                   scripts too (see hostname --help)\n"
    "  store migrate [--store.url URL] --data DIR       apply schema migrations, print the "
    "version\n"
    "  store copy --from DIR --to URL                   move a SQLite store to PostgreSQL\n"
    "  edge list [--store.url URL] --data DIR           the fleet's edges, live or silent\n"
    "  version                                          print the version\n"
    "  help                                             print this text\n";

static int cmd_version(int argc, char **argv)
{
	printf("saasedge %s\n", SAASEDGE_VERSION);
	return CLI_EXIT_OK;
}

static int cmd_help(int argc, char **argv)
{
	fputs(usage, stdout);
	return CLI_EXIT_OK;
}

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
    {"serve", cli_serve},       {"account", cli_account}, {"zone", cli_zone},
    {"token", cli_token},       {"cert", cli_cert},       {"hostname", cli_hostname},
    {"store", cli_store},       {"edge", cli_edge},       {"version", cmd_version},
    {"--version", cmd_version}, {"help", cmd_help},       {"--help", cmd_help},
    {"-h", cmd_help},
};

int main(int argc, char **argv)
{
	/* Everything saasedge writes (the store and its -wal/-shm, the master key, logs, exports)
	 * is for its own user only; files meant for others (the CA's root.pem) set their mode
	 * explicitly. */
	umask(077);
	if (argc >= 2) {
		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
			if (strcmp(argv[1], commands[i].name) == 0)
				return commands[i].run(argc - 2, argv + 2);
		}
		fprintf(stderr, "saasedge: unknown command %s\n", argv[1]);
	}
	fputs(usage, stderr);
	return CLI_EXIT_USAGE;
}

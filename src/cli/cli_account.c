/* `saasedge account create NAME`: the account above zones, as Cloudflare has one, for
 * account-level CSRs and tokens that reach every zone of the account. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/error.h"
#include "lib/timeutil.h"

static const char account_usage[] =
    "usage: saasedge account create NAME --data DIR\n"
    "Creates an account and prints its id; give it to zone create --account and token create\n"
    "--account. Zones created without --account belong to the default account.\n";

static int account_store(const struct config *cfg, struct store_account *account)
{
	struct store *st = NULL;
	int rc = cli_open_store(cfg, &st);

	if (rc != CLI_EXIT_OK)
		return rc;
	rc = ids_hex32(account->id);
	account->created_at_us = time_now_us();
	if (rc == 0)
		rc = store_account_create(st, account);
	if (rc)
		cli_error("cannot create account %s in %s: %s", account->name, cfg->data_dir,
			  se_strerror(rc));
	else
		printf("%s\n", account->id);
	store_close(st);
	return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static int account_create(int argc, char **argv)
{
	struct cli_args args;
	struct store_account account = {0};
	struct config cfg;
	int rc = cli_args_split(argc, argv, NULL, 0, &args);

	if (rc != CLI_EXIT_OK)
		return rc;
	if (args.n_pos != 1 || !args.pos[0][0] || strlen(args.pos[0]) >= sizeof(account.name)) {
		fputs(account_usage, stderr);
		rc = CLI_EXIT_USAGE;
	}
	if (rc == CLI_EXIT_OK) {
		snprintf(account.name, sizeof(account.name), "%s", args.pos[0]);
		rc = cli_load_config(&args, &cfg);
	}
	if (rc == CLI_EXIT_OK)
		rc = account_store(&cfg, &account);
	cli_args_dispose(&args);
	return rc;
}

int cli_account(int argc, char **argv)
{
	static const struct cli_subcommand subs[] = {{"create", account_create}};

	return cli_dispatch("account", account_usage, subs, sizeof(subs) / sizeof(subs[0]), argc,
			    argv);
}

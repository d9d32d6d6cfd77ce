#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/error.h"
#include "lib/timeutil.h"

static const char token_usage[] =
    "usage: saasedge token create --zone ID | --account ID [--email EMAIL] --data DIR\n"
    "Creates an API token and prints it; only its hash is kept, so it cannot be shown again.\n"
    "A zone's token reaches that zone; an account's reaches every zone of the account and the\n"
    "account's own resources (/accounts/ID/custom_csrs). --email pairs the token with an\n"
    "address for X-Auth-Email/X-Auth-Key.\n";

int cli_token_issue(struct store *st, const char *zone_id, const char *account_id,
		    const char *email, char token[IDS_TOKEN_LEN + 1])
{
	struct store_token rec = {0};
	int rc = ids_api_token(token);

	if (rc == 0)
		rc = ids_hex32(rec.id);
	if (rc)
		return rc;
	snprintf(rec.zone_id, sizeof(rec.zone_id), "%s", zone_id);
	snprintf(rec.account_id, sizeof(rec.account_id), "%s", zone_id[0] ? "" : account_id);
	snprintf(rec.email, sizeof(rec.email), "%s", email);
	ids_sha256_hex(token, strlen(token), rec.token_sha256);
	rec.created_at_us = time_now_us();
	return store_token_create(st, &rec);
}

/* Exactly one of --zone and --account, as an id; EMAIL short enough. */
static int token_check_args(const char *zone_arg, const char *account_arg, const char *email,
			    struct store_token *scope)
{
	int rc;

	if (!zone_arg == !account_arg) {
		cli_error("token create needs --zone ID (the id printed by zone create) or "
			  "--account ID (printed by account create)");
		return CLI_EXIT_USAGE;
	}
	rc = zone_arg ? cli_parse_id("--zone", zone_arg, scope->zone_id)
		      : cli_parse_id("--account", account_arg, scope->account_id);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (strlen(email) >= sizeof(scope->email)) {
		cli_error("--email is too long");
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

static int token_store(const struct config *cfg, const struct store_token *scope,
		       const char *email)
{
	struct store *st = NULL;
	struct store_zone zone;
	struct store_account account;
	const char *what = scope->zone_id[0] ? "zone" : "account";
	const char *id = scope->zone_id[0] ? scope->zone_id : scope->account_id;
	char token[IDS_TOKEN_LEN + 1] = "";
	int rc = cli_open_store(cfg, &st);

	if (rc != CLI_EXIT_OK)
		return rc;
	rc = scope->zone_id[0] ? store_zone_get(st, id, &zone) : store_account_get(st, id, &account);
	if (rc == 0)
		rc = cli_token_issue(st, scope->zone_id, scope->account_id, email, token);
	if (rc == SE_ENOTFOUND)
		cli_error("%s %s does not exist in %s", what, id, cfg->data_dir);
	else if (rc)
		cli_error("cannot create a token for %s %s: %s", what, id, se_strerror(rc));
	else
		printf("%s\n", token);
	explicit_bzero(token, sizeof(token));
	store_close(st);
	return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static int token_create(int argc, char **argv)
{
	struct cli_opt opts[] = {{.name = "--zone"}, {.name = "--email"}, {.name = "--account"}};
	struct cli_args args;
	struct store_token scope = {0};
	struct config cfg;
	const char *email;
	int rc = cli_args_split(argc, argv, opts, 3, &args);

	if (rc != CLI_EXIT_OK)
		return rc;
	email = opts[1].value ? opts[1].value : "";
	if (args.n_pos != 0) {
		cli_error("unexpected argument %s", args.pos[0]);
		fputs(token_usage, stderr);
		rc = CLI_EXIT_USAGE;
	}
	if (rc == CLI_EXIT_OK)
		rc = token_check_args(opts[0].value, opts[2].value, email, &scope);
	if (rc == CLI_EXIT_OK)
		rc = cli_load_config(&args, &cfg);
	if (rc == CLI_EXIT_OK)
		rc = token_store(&cfg, &scope, email);
	cli_args_dispose(&args);
	return rc;
}

int cli_token(int argc, char **argv)
{
	static const struct cli_subcommand subs[] = {{"create", token_create}};

	return cli_dispatch("token", token_usage, subs, sizeof(subs) / sizeof(subs[0]), argc, argv);
}

#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/error.h"
#include "lib/timeutil.h"

static const char token_usage[] =
    "usage: saasedge token create --zone ID [--email EMAIL] --data DIR\n"
    "Creates an API token for the zone and prints it; only its hash is kept, so it cannot be\n"
    "shown again. --email pairs the token with an address for X-Auth-Email/X-Auth-Key.\n";

int cli_token_issue(struct store *st, const char *zone_id, const char *email,
		    char token[IDS_TOKEN_LEN + 1])
{
	struct store_token rec = {0};
	int rc = ids_api_token(token);

	if (rc == 0)
		rc = ids_hex32(rec.id);
	if (rc)
		return rc;
	snprintf(rec.zone_id, sizeof(rec.zone_id), "%s", zone_id);
	snprintf(rec.email, sizeof(rec.email), "%s", email);
	ids_sha256_hex(token, strlen(token), rec.token_sha256);
	rec.created_at_us = time_now_us();
	return store_token_create(st, &rec);
}

static int token_check_args(const char *zone_id, const char *email)
{
	if (!zone_id) {
		cli_error("token create needs --zone ID (the id printed by zone create)");
		return CLI_EXIT_USAGE;
	}
	if (!ids_is_hex32(zone_id)) {
		cli_error("--zone must be a zone id of 32 hex characters (got %s)", zone_id);
		return CLI_EXIT_USAGE;
	}
	if (strlen(email) >= sizeof(((struct store_token *)0)->email)) {
		cli_error("--email is too long");
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

/* Zone ids are shown in lower case; accept what a person may paste. */
static void lower(char *s)
{
	for (; *s; s++) {
		if (*s >= 'A' && *s <= 'F')
			*s = (char)(*s - 'A' + 'a');
	}
}

static int token_store(const struct config *cfg, const char *zone_arg, const char *email)
{
	struct store *st = NULL;
	struct store_zone zone;
	char zone_id[IDS_ZONE_LEN + 1];
	char token[IDS_TOKEN_LEN + 1] = "";
	int rc = cli_open_store(cfg, &st);

	if (rc != CLI_EXIT_OK)
		return rc;
	snprintf(zone_id, sizeof(zone_id), "%s", zone_arg);
	lower(zone_id);
	rc = store_zone_get(st, zone_id, &zone);
	if (rc == 0)
		rc = cli_token_issue(st, zone_id, email, token);
	if (rc == SE_ENOTFOUND)
		cli_error("zone %s does not exist in %s", zone_id, cfg->data_dir);
	else if (rc)
		cli_error("cannot create a token for zone %s: %s", zone_id, se_strerror(rc));
	else
		printf("%s\n", token);
	explicit_bzero(token, sizeof(token));
	store_close(st);
	return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static int token_create(int argc, char **argv)
{
	struct cli_opt opts[] = {{.name = "--zone"}, {.name = "--email"}};
	struct cli_args args;
	struct config cfg;
	int rc = cli_args_split(argc, argv, opts, 2, &args);

	if (rc != CLI_EXIT_OK)
		return rc;
	if (args.n_pos != 0) {
		cli_error("unexpected argument %s", args.pos[0]);
		fputs(token_usage, stderr);
		rc = CLI_EXIT_USAGE;
	}
	if (rc == CLI_EXIT_OK)
		rc = token_check_args(opts[0].value, opts[1].value ? opts[1].value : "");
	if (rc == CLI_EXIT_OK)
		rc = cli_load_config(&args, &cfg);
	if (rc == CLI_EXIT_OK)
		rc = token_store(&cfg, opts[0].value, opts[1].value ? opts[1].value : "");
	cli_args_dispose(&args);
	return rc;
}

int cli_token(int argc, char **argv)
{
	static const struct cli_subcommand subs[] = {{"create", token_create}};

	return cli_dispatch("token", token_usage, subs, sizeof(subs) / sizeof(subs[0]), argc, argv);
}

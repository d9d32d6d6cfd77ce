#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/error.h"
#include "lib/hostname.h"
#include "lib/timeutil.h"

static const char zone_usage[] =
    "usage: saasedge zone create NAME [--account ID] [--cname-target HOST] [--quota N]\n"
    "                          [--hard-cap M] --data DIR\n"
    "Creates a zone and prints its id. It belongs to the account ID (saasedge account create),\n"
    "or else to the default account (the oldest, made when there is none). --quota is the\n"
    "allocation (api.default_quota by default): above it the quota reads \"exceeded\", and\n"
    "creates go on until --hard-cap (at least N; N by default). --config FILE, SAASEDGE_DATA\n"
    "and the other options of saasedge serve --help are read as well.\n";

int cli_zone_insert(struct store *st, struct store_zone *zone)
{
	int rc = ids_hex32(zone->id);

	if (rc)
		return rc;
	zone->hostname_count = 0;
	zone->created_at_us = time_now_us();
	return store_zone_create(st, zone);
}

/* Fills ZONE's name and cname_target from the command line, normalised; CLI_EXIT_FAIL (after
 * saying why) when either is not a usable hostname. */
static int zone_names(const char *name, const char *cname_target, struct store_zone *zone)
{
	char reason[256];

	if (hostname_normalize(name, 0, zone->name, reason, sizeof(reason)) != HOSTNAME_OK) {
		cli_error("invalid zone name %s: %s", name, reason);
		return CLI_EXIT_FAIL;
	}
	if (!cname_target)
		return CLI_EXIT_OK;
	/* A CNAME target is the provider's own name, often on a private or test domain, so only
	 * the syntax is checked; an address is no CNAME target. */
	if (hostname_normalize_origin(cname_target, zone->cname_target, reason, sizeof(reason)) !=
	    HOSTNAME_OK) {
		cli_error("invalid --cname-target %s: %s", cname_target, reason);
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

static int zone_store(const struct config *cfg, struct store_zone *zone)
{
	struct store *st = NULL;
	struct store_zone old;
	int rc = cli_open_store(cfg, &st);

	if (rc != CLI_EXIT_OK)
		return rc;
	rc = cli_zone_insert(st, zone);
	if (rc == SE_EEXISTS && store_zone_find_by_name(st, zone->name, &old) == 0)
		cli_error("zone %s already exists (id %s)", zone->name, old.id);
	else if (rc == SE_ENOTFOUND)
		cli_error("account %s does not exist in %s", zone->account_id, cfg->data_dir);
	else if (rc)
		cli_error("cannot create zone %s in %s: %s", zone->name, cfg->data_dir,
			  se_strerror(rc));
	else
		printf("%s\n", zone->id);
	store_close(st);
	return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static int zone_create(int argc, char **argv)
{
	struct cli_opt opts[] = {{.name = "--cname-target"},
				 {.name = "--quota"},
				 {.name = "--account"},
				 {.name = "--hard-cap"}};
	struct cli_args args;
	struct store_zone zone = {0};
	struct config cfg;
	char err[512];
	int rc = cli_args_split(argc, argv, opts, 4, &args);

	if (rc != CLI_EXIT_OK)
		return rc;
	if (args.n_pos != 1) {
		fputs(zone_usage, stderr);
		rc = CLI_EXIT_USAGE;
	}
	if (rc == CLI_EXIT_OK)
		rc = cli_load_config(&args, &cfg);
	/* --quota is api.default_quota for this one zone: same bounds, same parser. */
	if (rc == CLI_EXIT_OK && opts[1].value &&
	    config_set(&cfg, "api.default_quota", opts[1].value, err, sizeof(err))) {
		cli_error("--quota: %s", err);
		rc = CLI_EXIT_USAGE;
	}
	if (rc == CLI_EXIT_OK && opts[2].value)
		rc = cli_parse_id("--account", opts[2].value, zone.account_id);
	if (rc == CLI_EXIT_OK)
		rc = zone_names(args.pos[0], opts[0].value, &zone);
	zone.quota = cfg.api.default_quota;
	/* The same bounds again, and the cap may not be below the allocation. */
	if (rc == CLI_EXIT_OK && opts[3].value) {
		if (config_set(&cfg, "api.default_quota", opts[3].value, err, sizeof(err))) {
			cli_error("--hard-cap: %s", err);
			rc = CLI_EXIT_USAGE;
		} else if (cfg.api.default_quota < zone.quota) {
			cli_error("--hard-cap must be at least the quota (%lld)",
				  (long long)zone.quota);
			rc = CLI_EXIT_USAGE;
		}
		zone.hard_cap = cfg.api.default_quota;
	}
	if (rc == CLI_EXIT_OK)
		rc = zone_store(&cfg, &zone);
	cli_args_dispose(&args);
	return rc;
}

int cli_zone(int argc, char **argv)
{
	static const struct cli_subcommand subs[] = {{"create", zone_create}};

	return cli_dispatch("zone", zone_usage, subs, sizeof(subs) / sizeof(subs[0]), argc, argv);
}

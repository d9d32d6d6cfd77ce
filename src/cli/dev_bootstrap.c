/* `serve --dev` first-start setup: one zone and one API token, so that the README walk-through
 * works with nothing else. The store only ever holds the token's hash; the token itself is kept
 * in <data>/dev-token (mode 0600) as a dev-mode convenience, read back on every start. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/error.h"

#define DEV_ZONE         "saasprovider.dev"
#define DEV_CNAME_TARGET "customers.saasprovider.dev"
#define DEV_TOKEN_FILE   "dev-token"
#define DEV_ZONE_FILE    "dev-zone"

static int dev_zone(const struct config *cfg, struct store *st, char zone_id[IDS_ZONE_LEN + 1])
{
	struct store_zone zone = {0};
	int rc = store_zone_find_by_name(st, DEV_ZONE, &zone);

	if (rc == SE_ENOTFOUND) {
		snprintf(zone.name, sizeof(zone.name), "%s", DEV_ZONE);
		snprintf(zone.cname_target, sizeof(zone.cname_target), "%s", DEV_CNAME_TARGET);
		zone.quota = cfg->api.default_quota;
		rc = cli_zone_insert(st, &zone);
	}
	if (rc) {
		cli_error("cannot create the dev zone %s: %s", DEV_ZONE, se_strerror(rc));
		return CLI_EXIT_FAIL;
	}
	memcpy(zone_id, zone.id, IDS_ZONE_LEN + 1);
	return CLI_EXIT_OK;
}

/* Reads the token file into TOKEN: 1 when it holds a token of the right shape, 0 when it is
 * missing or holds anything else. */
static int token_file_read(const char *path, char token[IDS_TOKEN_LEN + 1])
{
	char buf[IDS_TOKEN_LEN + 8];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < IDS_TOKEN_LEN)
		return 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (strlen(buf) == IDS_TOKEN_LEN)
		memcpy(token, buf, IDS_TOKEN_LEN + 1);
	explicit_bzero(buf, sizeof(buf));
	return token[0] != '\0';
}

/* 1 when the store knows TOKEN as a token of ZONE_ID. */
static int token_known(struct store *st, const char *zone_id, const char *token)
{
	struct store_token rec;
	char sha[65];

	ids_sha256_hex(token, strlen(token), sha);
	return store_token_find(st, sha, &rec) == 0 && strcmp(rec.zone_id, zone_id) == 0;
}

static int token_file_write(const char *path, const char *token)
{
	char line[IDS_TOKEN_LEN + 2];
	int fd, n, rc = CLI_EXIT_OK;

	n = snprintf(line, sizeof(line), "%s\n", token);
	/* O_EXCL: never follow or reuse a file someone else put there. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, line, (size_t)n) != n || fsync(fd) != 0) {
		cli_error("cannot write the dev token to %s: %s", path, strerror(errno));
		rc = CLI_EXIT_FAIL;
	}
	if (fd >= 0)
		close(fd);
	explicit_bzero(line, sizeof(line));
	return rc;
}

static int dev_token(struct store *st, struct dev_info *info)
{
	int rc;

	if (token_file_read(info->token_path, info->token) &&
	    token_known(st, info->zone_id, info->token))
		return CLI_EXIT_OK;
	/* Missing, or left over from a store that was wiped: start afresh. */
	if (unlink(info->token_path) != 0 && errno != ENOENT) {
		cli_error("cannot replace the dev token %s: %s", info->token_path, strerror(errno));
		return CLI_EXIT_FAIL;
	}
	rc = cli_token_issue(st, info->zone_id, "", "", info->token);
	if (rc) {
		cli_error("cannot create the dev API token: %s", se_strerror(rc));
		return CLI_EXIT_FAIL;
	}
	return token_file_write(info->token_path, info->token);
}

/* The zone id is no secret; keeping it in a file lets scripts and the README find it. */
static int zone_file_write(const struct config *cfg, const char *zone_id)
{
	char path[PATH_MAX];
	FILE *f;

	int n = snprintf(path, sizeof(path), "%s/%s", cfg->data_dir, DEV_ZONE_FILE);

	if (n < 0 || (size_t)n >= sizeof(path)) {
		cli_error("data directory path is too long: %s", cfg->data_dir);
		return CLI_EXIT_FAIL;
	}
	f = fopen(path, "w");
	if (!f || fprintf(f, "%s\n", zone_id) < 0 || fclose(f) != 0) {
		cli_error("cannot write the dev zone id to %s: %s", path, strerror(errno));
		if (f)
			fclose(f);
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

int dev_bootstrap(const struct config *cfg, struct store *st, struct dev_info *info)
{
	int n;

	memset(info, 0, sizeof(*info));
	n = snprintf(info->token_path, sizeof(info->token_path), "%s/%s", cfg->data_dir,
		     DEV_TOKEN_FILE);
	if (n < 0 || (size_t)n >= sizeof(info->token_path)) {
		cli_error("data directory path is too long: %s", cfg->data_dir);
		return CLI_EXIT_FAIL;
	}
	if (dev_zone(cfg, st, info->zone_id) != CLI_EXIT_OK ||
	    zone_file_write(cfg, info->zone_id) != CLI_EXIT_OK)
		return CLI_EXIT_FAIL;
	return dev_token(st, info);
}

void dev_print_banner(const struct dev_info *info, const char *api_url)
{
	/* The dashboard is on the same listener, beside /client/v4. */
	size_t origin_len = strlen(api_url);
	const char *suffix = "/client/v4";

	if (origin_len >= strlen(suffix) &&
	    strcmp(api_url + origin_len - strlen(suffix), suffix) == 0)
		origin_len -= strlen(suffix);
	printf("saasedge dev mode\n"
	       "  API        %s\n"
	       "  dashboard  %.*s/dashboard/   (sign in with the API token)\n"
	       "  zone id    %s   (%s, also in the data directory's dev-zone file)\n"
	       "  API token  %s   (also in %s)\n"
	       "  try:       curl -s -H \"Authorization: Bearer $(cat %s)\" "
	       "%s/zones/%s/custom_hostnames\n",
	       api_url, (int)origin_len, api_url, info->zone_id, DEV_ZONE, info->token,
	       info->token_path, info->token_path, api_url, info->zone_id);
	fflush(stdout);
}

void dev_info_wipe(struct dev_info *info)
{
	explicit_bzero(info, sizeof(*info));
}

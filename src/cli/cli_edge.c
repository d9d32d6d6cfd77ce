/* `saasedge edge list`: the fleet's edges as the store knows them, and whether each counts for
 * deployment: an edge silent for longer than edge.heartbeat_timeout is not waited for before a
 * certificate becomes active, and is listed as "silent". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/error.h"
#include "lib/timeutil.h"

static const char edge_usage[] =
    "usage: saasedge edge list [--store.url URL] [--edge.heartbeat_timeout S] --data DIR\n"
    "Lists the edges registered in the store: id, name, state (live, or silent when not heard\n"
    "from for edge.heartbeat_timeout seconds), seconds since last heard from, and the change\n"
    "feed sequence number each has applied (the newest is printed first).\n";

static void print_edges(const struct config *cfg, const struct store_edge *edges, size_t n,
			int64_t newest_seq)
{
	int64_t now = time_now_us();
	int64_t window = cfg->edge.heartbeat_timeout * 1000000;

	printf("newest event %lld\n", (long long)newest_seq);
	printf("%-32s  %-24s  %-6s  %9s  %s\n", "ID", "NAME", "STATE", "SEEN_S_AGO", "APPLIED");
	for (size_t i = 0; i < n; i++) {
		int64_t ago = now - edges[i].last_seen_us;

		printf("%-32s  %-24.24s  %-6s  %9.1f  %lld\n", edges[i].id, edges[i].name,
		       ago <= window ? "live" : "silent", (double)ago / 1e6,
		       (long long)edges[i].acked_seq);
	}
}

static int edge_list(int argc, char **argv)
{
	struct cli_args args;
	struct config cfg;
	struct store *st = NULL;
	struct store_edge *edges = NULL;
	size_t n = 0;
	int64_t newest = 0;
	int rc = cli_args_split(argc, argv, NULL, 0, &args);

	if (rc == CLI_EXIT_OK && args.n_pos != 0) {
		cli_error("unexpected argument %s", args.pos[0]);
		fputs(edge_usage, stderr);
		rc = CLI_EXIT_USAGE;
	}
	if (rc == CLI_EXIT_OK)
		rc = cli_load_config(&args, &cfg);
	if (rc == CLI_EXIT_OK)
		rc = cli_open_store(&cfg, &st);
	if (rc == CLI_EXIT_OK) {
		int err = store_events_last_seq(st, &newest);

		if (err == 0)
			err = store_edges_list(st, &edges, &n);
		if (err) {
			cli_error("cannot read the edges: %s", se_strerror(err));
			rc = CLI_EXIT_FAIL;
		} else {
			print_edges(&cfg, edges, n, newest);
		}
	}
	free(edges);
	store_close(st);
	cli_args_dispose(&args);
	return rc;
}

int cli_edge(int argc, char **argv)
{
	static const struct cli_subcommand subs[] = {{"list", edge_list}};

	return cli_dispatch("edge", edge_usage, subs, sizeof(subs) / sizeof(subs[0]), argc, argv);
}

/* The subcommands of the saasedge binary and the helpers they share. Each entry point takes the
 * arguments after its own name and returns the process exit status (CLI_EXIT_*). Messages for
 * people go to stderr prefixed "saasedge: "; stdout carries only the result a script captures
 * (a zone id, a token) or, for serve --dev, the dev-mode banner. Main thread only. */
#ifndef SAASEDGE_CLI_CLI_H
#define SAASEDGE_CLI_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "lib/config.h"
#include "lib/ids.h"
#include "lib/keys.h"
#include "lib/secretbox.h"
#include "lib/x509_info.h"
#include "store/store.h"

enum cli_exit { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };

/* `saasedge account create NAME --data DIR` */
int cli_account(int argc, char **argv);
/* `saasedge zone create NAME [--account ID] [--cname-target HOST] [--quota N] --data DIR` */
int cli_zone(int argc, char **argv);
/* `saasedge token create --zone ID | --account ID [--email EMAIL] --data DIR` */
int cli_token(int argc, char **argv);
/* `saasedge serve [--config FILE] [--dev] [--data DIR] [--KEY=VALUE ...]`: runs until SIGINT or
 * SIGTERM. */
int cli_serve(int argc, char **argv);
/* `saasedge edge list [--store.url URL] --data DIR` */
int cli_edge(int argc, char **argv);
/* `saasedge store migrate [--store.url URL] --data DIR`, `saasedge store copy --from DIR --to
 * URL` */
int cli_store(int argc, char **argv);
/* `saasedge hostname create|list|show|delete|wait ...` over the API (cli_hostname.c) */
int cli_hostname(int argc, char **argv);
/* `saasedge cert import --hostname NAME --cert FILE --key FILE [--zone ID] --data DIR` */
int cli_cert(int argc, char **argv);
/* Creates NAME in ZONE_ID with ssl on (http, dv) and a fresh pack in PACK_STATUS, routed to
 * ORIGIN ("" = the zone's fallback origin), as an import does. Fills H, which the caller
 * disposes with store_hostname_dispose. Also used by bench/populate_store. */
int cli_cert_hostname_create(struct store *st, const char *zone_id, const char *name,
			     const char *pack_status, const char *origin, struct store_hostname *h);
/* Seals PKEY under a fresh key id (as the issuer does) and stores it with LEAF (+ CHAIN, DER
 * back to back) as PACK's certificate of TYPE; INFO is the leaf's facts. Also used by
 * bench/populate_store. */
int cli_cert_store(struct store *st, const struct secretbox *box, const char *pack,
		   enum key_type type, EVP_PKEY *pkey, const unsigned char *leaf, size_t leaf_len,
		   const unsigned char *chain, size_t chain_len, const struct cert_info *info);

/* ---- shared by the subcommands (cli_common.c) --------------------------------------------- */

/* Prints "saasedge: " FMT "\n" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* 1 when ARGV holds --help or -h. */
int cli_wants_help(int argc, char **argv);

/* A subcommand of a command ("create" of `saasedge zone`): RUN takes the arguments after it. */
struct cli_subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
};

/* Runs the subcommand ARGV[0] names among SUBS[0..N), unless --help is asked for (USAGE on
 * stdout, CLI_EXIT_OK); an unknown or missing one prints the error and USAGE on stderr and
 * returns CLI_EXIT_USAGE. COMMAND is the command's name for the message. */
int cli_dispatch(const char *command, const char *usage, const struct cli_subcommand *subs,
		 size_t n, int argc, char **argv);

/* An option of a subcommand that config_load does not know (--zone, --quota, ...). */
struct cli_opt {
	const char *name;  /* "--zone" */
	const char *value; /* out: borrowed from argv, NULL when not given */
};

/* The arguments of a subcommand, sorted: its own options get their values, arguments that are
 * neither flags nor flag values are positional, and the rest is left for config_load. */
struct cli_args {
	const char *pos[4];
	size_t n_pos;
	char **rest; /* owned (cli_args_dispose); the strings are borrowed from argv */
	int n_rest;
};

/* Sorts ARGV into ARGS, filling OPTS[0..N_OPTS) values. Prints the error and returns
 * CLI_EXIT_USAGE for an option without its value or too many positional arguments. */
int cli_args_split(int argc, char **argv, struct cli_opt *opts, size_t n_opts,
		   struct cli_args *args);
void cli_args_dispose(struct cli_args *args);

/* config_load on ARGS->rest; prints the error and returns CLI_EXIT_USAGE on failure. */
int cli_load_config(const struct cli_args *args, struct config *cfg);

/* Opens the store (CFG->store_url, or SQLite in CFG->data_dir), explaining a failure (naming the
 * directory) on stderr. Returns CLI_EXIT_OK with *st owned by the caller (store_close), or
 * CLI_EXIT_FAIL. */
int cli_open_store(const struct config *cfg, struct store **st);
/* The same, for a node that starts while its PostgreSQL database is away
 * (store_open_unreachable_ok). */
int cli_open_store_unreachable_ok(const struct config *cfg, struct store **st);

struct secretbox;

/* Loads the master key into BOX from $SAASEDGE_MASTER_KEY, or else from CFG->master_key
 * (created there when missing), explaining a failure on stderr without the key. Returns
 * CLI_EXIT_OK (wipe BOX with secretbox_wipe when done) or CLI_EXIT_FAIL. */
int cli_load_master_key(const struct config *cfg, struct secretbox *box);

/* ---- shared between account, zone, token and dev bootstrap -------------------------------- */

/* Reads the zone or account id VALUE of option FLAG into OUT, in lower case (ids are shown so;
 * a person may paste them otherwise); CLI_EXIT_USAGE, after saying why, when it is not 32 hex
 * characters. */
int cli_parse_id(const char *flag, const char *value, char out[33]);

/* Inserts a zone with a new id: ZONE's name, cname_target, quota and account_id are the
 * caller's (no account_id: the default account, made when there is none), id and created_at
 * are filled here. Returns 0 or the store's code (SE_EEXISTS for a taken name, SE_ENOTFOUND
 * for a missing account). */
int cli_zone_insert(struct store *st, struct store_zone *zone);

/* Creates an API token for ZONE_ID, or for ACCOUNT_ID when ZONE_ID is "" (EMAIL may be ""):
 * the secret goes to TOKEN, and only its SHA-256 to the store. The caller wipes TOKEN after
 * use. Returns 0 or the store's code (SE_ENOTFOUND when the zone or account does not exist). */
int cli_token_issue(struct store *st, const char *zone_id, const char *account_id,
		    const char *email, char token[IDS_TOKEN_LEN + 1]);

/* ---- dev mode (dev_bootstrap.c) ----------------------------------------------------------- */

struct dev_info {
	char zone_id[IDS_ZONE_LEN + 1];
	char token[IDS_TOKEN_LEN + 1];
	char token_path[PATH_MAX]; /* <data>/dev-token */
};

/* First start of `serve --dev`: makes sure the dev zone exists and that <data>/dev-token holds a
 * token the store knows, creating either when missing. Fills INFO (wipe it with dev_info_wipe).
 * Returns CLI_EXIT_OK, or CLI_EXIT_FAIL after printing why. */
int dev_bootstrap(const struct config *cfg, struct store *st, struct dev_info *info);

/* Prints the dev-mode banner (API URL, zone id, token, a curl example) to stdout. */
void dev_print_banner(const struct dev_info *info, const char *api_url);

void dev_info_wipe(struct dev_info *info);

#endif

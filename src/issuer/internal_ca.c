/* One internal CA for the whole installation (docs/decisions/0029): its files live in the store,
 * so every issuer node of a fleet signs with the same intermediate and every client trusts one
 * root. DATA_DIR/ca stays as each node's mirror of it: ca_open loads from there, and operators
 * find root.pem where they always did. The first node to start offers its CA (a new one, or the
 * one an earlier version or a single-node install kept in DATA_DIR/ca); every other node takes
 * the store's, and a different CA found in its own DATA_DIR/ca is moved aside, not deleted. */
#include "issuer/issuer_int.h"

#include "ca/ca.h"
#include "lib/error.h"
#include "lib/log.h"

/* The set to offer when the store holds none: this node's own, made now if it has none. */
static int own_set(struct issuer *is, struct ca_file_set *set)
{
	struct ca *ca = NULL;
	int rc = ca_open(is->cfg->data_dir, is->box, &ca); /* creates it, and checks it */

	ca_close(ca);
	return rc ? rc : ca_file_set_read(is->cfg->data_dir, set);
}

static int store_set(struct issuer *is, struct ca_file_set *set)
{
	return store_ca_files_get(is->st, ca_file_names, set->data, set->len, CA_N_FILES);
}

int internal_ca_open(struct issuer *is)
{
	struct ca_file_set set = {0};
	int rc = store_set(is, &set);

	if (rc == SE_ENOTFOUND) {
		rc = own_set(is, &set);
		if (rc == 0)
			rc = store_ca_files_offer(is->st, ca_file_names, set.data, set.len,
						  CA_N_FILES);
		if (rc == 0)
			log_info("msg=\"internal CA kept in the store for every issuer node\"");
		if (rc == SE_EEXISTS) { /* another node was first: its CA is the one */
			ca_file_set_dispose(&set);
			rc = store_set(is, &set);
		}
	}
	if (rc == 0)
		rc = ca_file_set_publish(is->cfg->data_dir, &set);
	if (rc == 0)
		rc = ca_open(is->cfg->data_dir, is->box, &is->ca);
	else
		log_error("msg=\"cannot share the internal CA through the store\" err=%s",
			  se_errname(rc));
	ca_file_set_dispose(&set);
	return rc;
}

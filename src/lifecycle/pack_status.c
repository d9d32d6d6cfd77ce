/* The pack status table: names, and which event moves which status where. A move that is not
 * in the table is refused, so a role that writes a status it has no business writing (or a
 * stale worker writing after another role moved the pack on) fails loudly instead of rewinding
 * what a customer sees. */
#include "lifecycle/pack_status.h"

#include <string.h>

static const char *const status_names[PACK_STATUS_COUNT] = {
    [PACK_INITIALIZING] = "initializing",
    [PACK_PENDING_VALIDATION] = "pending_validation",
    [PACK_DELETED] = "deleted",
    [PACK_PENDING_ISSUANCE] = "pending_issuance",
    [PACK_PENDING_DEPLOYMENT] = "pending_deployment",
    [PACK_PENDING_DELETION] = "pending_deletion",
    [PACK_PENDING_EXPIRATION] = "pending_expiration",
    [PACK_EXPIRED] = "expired",
    [PACK_ACTIVE] = "active",
    [PACK_INITIALIZING_TIMED_OUT] = "initializing_timed_out",
    [PACK_VALIDATION_TIMED_OUT] = "validation_timed_out",
    [PACK_ISSUANCE_TIMED_OUT] = "issuance_timed_out",
    [PACK_DEPLOYMENT_TIMED_OUT] = "deployment_timed_out",
    [PACK_DELETION_TIMED_OUT] = "deletion_timed_out",
    [PACK_PENDING_CLEANUP] = "pending_cleanup",
    [PACK_STAGING_DEPLOYMENT] = "staging_deployment",
    [PACK_STAGING_ACTIVE] = "staging_active",
    [PACK_DEACTIVATING] = "deactivating",
    [PACK_INACTIVE] = "inactive",
    [PACK_BACKUP_ISSUED] = "backup_issued",
    [PACK_HOLDING_DEPLOYMENT] = "holding_deployment",
};

static const char *const event_names[PACK_EVENT_COUNT] = {
    [PACK_EV_NONE] = "none",
    [PACK_EV_RESTART] = "restart",
    [PACK_EV_RECORDS_SHOWN] = "records_shown",
    [PACK_EV_VALIDATED] = "validated",
    [PACK_EV_ISSUED] = "issued",
    [PACK_EV_UPLOADED] = "uploaded",
    [PACK_EV_DEPLOYED] = "deployed",
    [PACK_EV_EXPIRING] = "expiring",
    [PACK_EV_EXPIRED] = "expired",
    [PACK_EV_VALIDATION_TIMED_OUT] = "validation_timed_out",
    [PACK_EV_ISSUANCE_TIMED_OUT] = "issuance_timed_out",
};

#define BIT(s) (1u << (s))
#define ANY    (~0u)

/* Where each event leads, and the statuses it may start from. */
static const struct {
	enum pack_status to;
	unsigned from;
} moves[PACK_EVENT_COUNT] = {
    /* A restart is the API's to ask for at any time: the pack starts over. */
    [PACK_EV_RESTART] = {PACK_INITIALIZING, ANY},
    /* Records are shown before validation, and again when an authorization must be redone
     * (the CA dropped it, or a renewal of a lapsed pack). */
    [PACK_EV_RECORDS_SHOWN] = {PACK_PENDING_VALIDATION, BIT(PACK_INITIALIZING) |
							    BIT(PACK_PENDING_VALIDATION) |
							    BIT(PACK_PENDING_ISSUANCE)},
    [PACK_EV_VALIDATED] = {PACK_PENDING_ISSUANCE, BIT(PACK_INITIALIZING) |
						      BIT(PACK_PENDING_VALIDATION) |
						      BIT(PACK_PENDING_ISSUANCE)},
    /* First issuance (never straight from initializing: that is a worker that missed a
     * restart), or a renewal of a pack that is live or has lapsed. */
    [PACK_EV_ISSUED] = {PACK_PENDING_DEPLOYMENT,
			BIT(PACK_PENDING_VALIDATION) | BIT(PACK_PENDING_ISSUANCE) |
			    BIT(PACK_PENDING_DEPLOYMENT) | BIT(PACK_ACTIVE) |
			    BIT(PACK_PENDING_EXPIRATION) | BIT(PACK_EXPIRED)},
    /* An upload replaces whatever the hostname had. */
    [PACK_EV_UPLOADED] = {PACK_PENDING_DEPLOYMENT, ANY},
    [PACK_EV_DEPLOYED] = {PACK_ACTIVE, BIT(PACK_PENDING_DEPLOYMENT)},
    [PACK_EV_EXPIRING] = {PACK_PENDING_EXPIRATION, BIT(PACK_PENDING_DEPLOYMENT) | BIT(PACK_ACTIVE)},
    [PACK_EV_EXPIRED] = {PACK_EXPIRED, BIT(PACK_PENDING_DEPLOYMENT) | BIT(PACK_ACTIVE) |
					   BIT(PACK_PENDING_EXPIRATION)},
    [PACK_EV_VALIDATION_TIMED_OUT] = {PACK_VALIDATION_TIMED_OUT, BIT(PACK_INITIALIZING) |
								     BIT(PACK_PENDING_VALIDATION) |
								     BIT(PACK_PENDING_ISSUANCE)},
    [PACK_EV_ISSUANCE_TIMED_OUT] = {PACK_ISSUANCE_TIMED_OUT,
				    BIT(PACK_PENDING_VALIDATION) | BIT(PACK_PENDING_ISSUANCE)},
};

const char *pack_status_name(enum pack_status s)
{
	return (unsigned)s < PACK_STATUS_COUNT ? status_names[s] : "";
}

int pack_status_parse(const char *name, enum pack_status *out)
{
	for (unsigned i = 0; name && i < PACK_STATUS_COUNT; i++) {
		if (strcmp(name, status_names[i]) == 0) {
			*out = (enum pack_status)i;
			return 0;
		}
	}
	return -1;
}

const char *pack_event_name(enum pack_event ev)
{
	return (unsigned)ev < PACK_EVENT_COUNT ? event_names[ev] : "unknown";
}

int pack_status_next(enum pack_status from, enum pack_event ev, enum pack_status *to)
{
	if ((unsigned)from >= PACK_STATUS_COUNT || (unsigned)ev >= PACK_EVENT_COUNT)
		return -1;
	if (ev == PACK_EV_NONE) {
		*to = from;
		return 0;
	}
	if (!(moves[ev].from & BIT(from)))
		return -1;
	*to = moves[ev].to;
	return 0;
}

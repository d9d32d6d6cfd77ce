/* The certificate pack's status, Cloudflare's ssl.status, and the events that move it: one
 * table (pack_status.c) says which moves are legal, and every role moves a pack through the
 * store's one function for it (store_pack_move, and the issuer's store_issuance_write), which
 * checks the move against this table in the transaction that writes it. */
#ifndef SAASEDGE_LIFECYCLE_PACK_STATUS_H
#define SAASEDGE_LIFECYCLE_PACK_STATUS_H

#include <stddef.h>

/* Every ssl.status value of Cloudflare's API, in its documentation's order. saasedge reaches
 * the first twelve or so; the rest are accepted as list filters and never stored. */
enum pack_status {
	PACK_INITIALIZING,
	PACK_PENDING_VALIDATION,
	PACK_DELETED,
	PACK_PENDING_ISSUANCE,
	PACK_PENDING_DEPLOYMENT,
	PACK_PENDING_DELETION,
	PACK_PENDING_EXPIRATION,
	PACK_EXPIRED,
	PACK_ACTIVE,
	PACK_INITIALIZING_TIMED_OUT,
	PACK_VALIDATION_TIMED_OUT,
	PACK_ISSUANCE_TIMED_OUT,
	PACK_DEPLOYMENT_TIMED_OUT,
	PACK_DELETION_TIMED_OUT,
	PACK_PENDING_CLEANUP,
	PACK_STAGING_DEPLOYMENT,
	PACK_STAGING_ACTIVE,
	PACK_DEACTIVATING,
	PACK_INACTIVE,
	PACK_BACKUP_ISSUED,
	PACK_HOLDING_DEPLOYMENT,
	PACK_STATUS_COUNT
};

/* What happens to a pack, named by who makes it happen. */
enum pack_event {
	PACK_EV_NONE,          /* no move: the status stays */
	PACK_EV_RESTART,       /* API: a new method, CA or name set, or a timed-out pack retried */
	PACK_EV_RECORDS_SHOWN, /* issuer: DCV records shown, waiting for the customer or the CA */
	PACK_EV_VALIDATED,     /* issuer: every authorization valid, the certificate is ordered */
	PACK_EV_ISSUED,        /* issuer: certificates stored (first issuance or a renewal) */
	PACK_EV_UPLOADED,      /* API or `cert import`: a customer's certificate stored */
	PACK_EV_DEPLOYED,      /* edge: serving the pack's certificates */
	PACK_EV_EXPIRING,      /* expiry watch: an uploaded certificate ends within the window */
	PACK_EV_EXPIRED,       /* expiry watch: an uploaded certificate has ended */
	PACK_EV_VALIDATION_TIMED_OUT, /* issuer: no validation within issuance.validation_timeout */
	PACK_EV_ISSUANCE_TIMED_OUT,   /* issuer: no certificate within issuance.issuance_timeout */
	PACK_EVENT_COUNT
};

/* The status's API name ("pending_validation"); "" for a value out of range. */
const char *pack_status_name(enum pack_status s);
/* 0 with *OUT the status named NAME, or -1 when NAME is none. */
int pack_status_parse(const char *name, enum pack_status *out);

/* The event's name for logs ("records_shown"). */
const char *pack_event_name(enum pack_event ev);

/* 0 with *TO the status after EV from FROM (PACK_EV_NONE: FROM itself), or -1 when EV is not
 * legal in FROM: the caller refuses the move and logs it. */
int pack_status_next(enum pack_status from, enum pack_event ev, enum pack_status *to);

#endif

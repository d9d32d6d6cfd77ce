/* The pack moves of src/lifecycle/pack_status.c, as Cloudflare names them in its webhooks for
 * custom hostnames: validation, issuance, deployment, deletion and renewal, each succeeded or
 * failed. A renewal is an issuance for a pack that already had a certificate. */
#include "notify/webhook_events.h"

#include <string.h>

#define PREFIX "ssl.custom_hostname_certificate."

static int is(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

/* A status before the first certificate. */
static int before_issuance(const char *status)
{
	return is(status, "initializing") || is(status, "pending_validation") ||
	       is(status, "pending_issuance");
}

/* A status of a pack that has, or had, a certificate in service. */
static int certified(const char *status)
{
	return is(status, "active") || is(status, "pending_expiration") || is(status, "expired") ||
	       is(status, "pending_deployment");
}

static const char *status_event(const char *from, const char *to)
{
	if (is(to, "pending_issuance") && before_issuance(from))
		return PREFIX "validation.succeeded";
	if (is(to, "validation_timed_out"))
		return PREFIX "validation.failed";
	if (is(to, "pending_deployment") && before_issuance(from))
		return PREFIX "issuance.succeeded";
	if (is(to, "pending_deployment") && certified(from))
		return PREFIX "renewal.succeeded";
	if (is(to, "issuance_timed_out"))
		return PREFIX "issuance.failed";
	if (is(to, "active") && is(from, "pending_deployment"))
		return PREFIX "deployment.succeeded";
	if (is(to, "deployment_timed_out"))
		return PREFIX "deployment.failed";
	if (is(to, "pending_expiration"))
		return PREFIX "renewal.upcoming_certificate_expiration_notification";
	return NULL;
}

const char *webhook_event_type(const struct store_event *ev)
{
	if (is(ev->kind, "ssl.status"))
		return status_event(ev->old_status, ev->new_status);
	/* New errors while validating, or while renewing a certificate still in service. */
	if (is(ev->kind, "ssl.validation_errors"))
		return before_issuance(ev->new_status) ? PREFIX "validation.failed"
		       : certified(ev->new_status)     ? PREFIX "renewal.failed"
						       : NULL;
	if (is(ev->kind, "hostname.deleted"))
		return PREFIX "deletion.succeeded";
	return NULL;
}

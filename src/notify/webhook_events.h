/* Which Cloudflare webhook event, if any, a change-feed event is (docs/decisions/0037). Pure:
 * unit-tested without a store. */
#ifndef SAASEDGE_NOTIFY_WEBHOOK_EVENTS_H
#define SAASEDGE_NOTIFY_WEBHOOK_EVENTS_H

#include "store/store.h"

/* The alert type of Cloudflare's "SSL for SaaS Custom Hostnames" notifications. */
#define WEBHOOK_ALERT_TYPE "custom_ssl_certificate_event_type"
/* The event type of the message sent when a destination is created. */
#define WEBHOOK_TEST_EVENT "test"

/* "ssl.custom_hostname_certificate.issuance.succeeded" and the like for EV, or NULL when EV
 * is not something a webhook tells. */
const char *webhook_event_type(const struct store_event *ev);

#endif

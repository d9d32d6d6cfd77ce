/* Webhooks: the notifier turns the change feed's events into deliveries (the outbox in the
 * store) and sends them to the destinations of the accounts' notification policies, retried
 * with backoff, in order per hostname and destination (docs/decisions/0037). It runs beside
 * the issuer role, on threads of its own: a slow or absent receiver delays no issuance and no
 * API call. Any number of nodes may run it on one store. */
#ifndef SAASEDGE_NOTIFY_NOTIFY_H
#define SAASEDGE_NOTIFY_NOTIFY_H

#include "lib/config.h"
#include "lib/secretbox.h"
#include "store/store.h"

struct notify;

/* Starts the dispatcher and cfg->webhooks.workers senders. CFG, ST and BOX are borrowed and
 * must outlive the notifier. Call from the main thread, after curl_global_init. */
int notify_start(const struct config *cfg, struct store *st, const struct secretbox *box,
		 struct notify **out);
/* Stops the threads (a send in flight is abandoned and stays pending) and frees N. NULL-safe. */
void notify_stop(struct notify *n);

#endif

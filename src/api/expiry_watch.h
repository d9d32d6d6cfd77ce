/* The expiry watch of uploaded certificates: a thread of the API role that moves a custom pack
 * to pending_expiration 30 days before its earliest certificate's not_after and to expired
 * after it (each with an "ssl.status" event). Nothing is issued in its place: a customer who
 * uploaded a certificate replaces it, or asks for a managed one with a PATCH. */
#ifndef SAASEDGE_API_EXPIRY_WATCH_H
#define SAASEDGE_API_EXPIRY_WATCH_H

#include <stdint.h>

#include "store/store.h"

#define EXPIRY_WATCH_WINDOW_US (30LL * 86400 * 1000000) /* pending_expiration this early */

struct expiry_watch;

/* Starts the thread: a pass now, then one every INTERVAL_S seconds. ST is borrowed and must
 * outlive the watch. *out is the caller's (expiry_watch_stop). */
int expiry_watch_start(struct store *st, unsigned interval_s, struct expiry_watch **out);
/* Wakes the thread, joins it and frees the watch; NULL-safe. */
void expiry_watch_stop(struct expiry_watch *w);

/* One pass at NOW_US (any thread): every pack due a change gets it. */
int expiry_watch_pass(struct store *st, int64_t now_us);

#endif

/* One HTTP POST of a webhook message to its receiver. */
#ifndef SAASEDGE_NOTIFY_WEBHOOK_SEND_H
#define SAASEDGE_NOTIFY_WEBHOOK_SEND_H

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdint.h>

#include "lib/curl_guard.h"
#include "lib/netpolicy.h"

struct webhook_message {
	const char *url;
	const char *secret; /* NULL or "": neither cf-webhook-auth nor a signature is sent */
	const char *event_id;
	const char *body;
};

struct webhook_outcome {
	long status;     /* the receiver's HTTP status, 0 when it gave none */
	char error[256]; /* why there is no 2xx: for the delivery log, never holds the secret */
};

/* One request in flight: what its easy handle borrows until webhook_request_end. */
struct webhook_request {
	struct curl_slist *headers;
	struct curl_guard guard;
};

/* Sets CURL (reused, so that connections are kept) up to POST M within TIMEOUT_S seconds,
 * dialling only what POLICY allows and abandoned as soon as *STOPPING is set; M and POLICY
 * are borrowed until webhook_request_end. SE_ENOMEM (OUT says so) when it cannot. */
int webhook_request_start(CURL *curl, struct webhook_request *req, const struct webhook_message *m,
			  long timeout_s, const struct netpolicy *policy,
			  const atomic_int *stopping, struct webhook_outcome *out);
/* What the transfer CC of CURL came to: 0 when the receiver answered 2xx. Frees REQ's state. */
int webhook_request_end(CURL *curl, struct webhook_request *req, CURLcode cc,
			struct webhook_outcome *out);

#endif

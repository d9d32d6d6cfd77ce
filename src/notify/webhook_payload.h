/* The bodies and headers of webhook messages, as Cloudflare sends them, and the signature
 * saasedge adds (docs/decisions/0037). Pure: unit-tested without a store or a network. */
#ifndef SAASEDGE_NOTIFY_WEBHOOK_PAYLOAD_H
#define SAASEDGE_NOTIFY_WEBHOOK_PAYLOAD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The header carrying the HMAC: "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "t.body")>". */
#define WEBHOOK_SIGNATURE_HEADER "saasedge-webhook-signature"
#define WEBHOOK_SIGNATURE_MAX    (2 + 20 + 4 + 64 + 1)

/* The event's body: {"metadata":{"event":{id,type,created_at},"account":{id},"zone":{id}},
 * "data":DATA}. DATA is stolen (NULL: an empty object). A malloc'd string, NULL on ENOMEM. */
char *webhook_payload(const char *event_id, const char *event_type, int64_t created_at_us,
		      const char *account_id, const char *zone_id, json_t *data);

/* What data carries for hostname HOST (the API's custom hostname object, borrowed): its id,
 * hostname, ssl (with STATUS, the status the event moved it to, when not NULL),
 * custom_metadata and custom_origin_server. A new reference, NULL on ENOMEM. */
json_t *webhook_hostname_data(const json_t *host, const char *status);

/* The body of the message sent when a destination is created. Malloc'd, NULL on ENOMEM. */
char *webhook_test_payload(void);

/* Writes the signature header's value for BODY sent at UNIX_SECONDS with SECRET into OUT. */
int webhook_sign(const char *secret, int64_t unix_seconds, const char *body,
		 char out[WEBHOOK_SIGNATURE_MAX]);

#endif

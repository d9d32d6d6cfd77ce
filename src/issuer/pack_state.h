/* The issuer's saved state of one pack: where its issuance is, the CA's orders and challenges,
 * its keys and renewal times. Saved with every step as a JSON document in the store
 * (issuance_state.state), read back by whichever worker of whichever node takes the pack next,
 * and handed to the pack_cleanup job when the hostname is deleted. Only pack_state.c knows the
 * document's keys; documents written by earlier versions read the same. */
#ifndef SAASEDGE_ISSUER_PACK_STATE_H
#define SAASEDGE_ISSUER_PACK_STATE_H

#include <stdint.h>

#include "acme/acme.h"
#include "lib/keys.h"

#define PACK_STATE_MAX_ORDERS 2 /* one per key type */
#define PACK_STATE_MAX_CHALS  (PACK_STATE_MAX_ORDERS * ACME_MAX_AUTHZ)
#define PACK_STATE_KEY_TYPES  2 /* indexed by enum key_type */

/* Where a pack is in its issuance. */
enum pack_step {
	PACK_STEP_KEYS,      /* make the pack's keys */
	PACK_STEP_ORDER,     /* ACME: make the orders; internal CA: show the records */
	PACK_STEP_PREFLIGHT, /* ACME: look for the records ourselves first */
	PACK_STEP_ACCEPT,    /* ACME: ask the CA to validate */
	PACK_STEP_POLL,      /* ACME: wait for the authorizations */
	PACK_STEP_FINALIZE,  /* ACME: finalize and download */
	PACK_STEP_MAIL,      /* email DCV: mail the approval link */
	PACK_STEP_CHECK,     /* internal CA: check the record or the approval */
	PACK_STEP_ISSUE,     /* internal CA: sign */
	PACK_STEP_DONE,      /* issued: wait for the renewal */
	PACK_STEP_TIMED_OUT, /* gave up: a PATCH starts over */
};

/* An ACME order for the certificate of one key type. */
struct pack_order {
	enum key_type key;
	char url[ACME_URL_MAX];
	char finalize[ACME_URL_MAX];
	char authz[ACME_MAX_AUTHZ][ACME_URL_MAX];
	size_t n_authz;
	int stored; /* its certificate is downloaded and stored */
};

/* The challenge answered for one authorization (shared by both orders when the CA reuses it). */
struct pack_challenge {
	char authz[ACME_URL_MAX];       /* the authorization's URL */
	char url[ACME_URL_MAX];         /* the challenge's URL, posted to accept it */
	char type[16];                  /* dns-01, http-01, tls-alpn-01 */
	char name[300];                 /* where the CA looks: the TXT name or the hostname */
	char value[ACME_KEY_AUTHZ_MAX]; /* the TXT value or key authorization */
	int accepted;
};

struct pack_state {
	char sig[128]; /* the hostname's settings it was started for: a change starts over */
	enum pack_step step;
	char ca[64];             /* the configured CA it orders from, or "internal" */
	int64_t ca_failures;     /* at this CA, towards issuance.ca_attempts */
	int64_t tries;           /* of the current step, for its backoff */
	int64_t vstart_us;       /* validation started (0: not yet) */
	int64_t istart_us;       /* issuance started (0: not yet) */
	int records_written;     /* the customer has been shown records */
	char last_problem[1024]; /* why the last attempt failed, shown on a timeout */
	struct pack_order orders[PACK_STATE_MAX_ORDERS];
	size_t n_orders;
	struct pack_challenge chals[PACK_STATE_MAX_CHALS];
	size_t n_chals;
	char key_ids[PACK_STATE_KEY_TYPES][37]; /* the pack's private keys ("" none yet) */
	/* RFC 9773 certIDs of the certificates a renewal replaces ("" none) */
	char replaces[PACK_STATE_KEY_TYPES][ACME_URL_MAX];
	int64_t not_after_us;    /* of the earliest-expiring certificate issued */
	int64_t renew_at_us;     /* 0: never renewed (issued before renewal existed) */
	int64_t ari_check_at_us; /* next renewalInfo check; -1: the CA has none */
	int renewal;             /* this issuance renews live certificates */
	char dcv_value[40];      /* internal CA: the token shown, kept across renewals */
};

/* A fresh state: step keys, SIG and CA as given. */
void pack_state_init(struct pack_state *s, const char *sig, const char *ca);
/* Parses the document TEXT (may be NULL) into *OUT. SE_EINVAL when it is not a state document
 * this version can use (the caller starts over); a step name no version wrote reads as
 * PACK_STEP_KEYS. */
int pack_state_load(const char *text, struct pack_state *out);
/* The document of S (malloc'd, compact), or NULL when out of memory. */
char *pack_state_dump(const struct pack_state *s);

const char *pack_step_name(enum pack_step step);

/* Copies VALUE into the field DST of LEN bytes; SE_EINVAL (DST unchanged) when it does not fit:
 * a CA's URL cut short would be a wrong URL, so the state refuses it instead. */
int pack_state_copy(char *dst, size_t len, const char *value);

#endif

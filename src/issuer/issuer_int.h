/* Shared by the files of src/issuer: the issuer's context, one leased job's working set, and
 * the steps of the certificate state machine. Nothing outside src/issuer includes this. */
#ifndef SAASEDGE_ISSUER_ISSUER_INT_H
#define SAASEDGE_ISSUER_ISSUER_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "acme/acme.h"
#include "ca/ca.h"
#include "issuer/pack_state.h"
#include "lib/config.h"
#include "lib/keys.h"
#include "lib/secretbox.h"
#include "store/store.h"

/* Short, and extended by every step written: a crashed worker's packs wait at most this long
 * for another worker. One step (a few CA exchanges) stays well within it. */
#define ISSUER_LEASE_US       (15LL * 1000000)
#define ISSUER_STEP_BUDGET_US (10LL * 1000000) /* chain steps within one lease this long */
/* Waits up to this long (polling a CA) happen inside the lease. */
#define ISSUER_SHORT_WAIT_US 500000
#define ISSUER_MAX_ORDERS    PACK_STATE_MAX_ORDERS

/* One configured ACME CA: its client is made on first use (account key created or unsealed,
 * account registered) and then shared by every worker. */
struct issuer_acme_ca {
	const struct config_ca *cfg;
	pthread_mutex_t lock; /* guards the lazy creation below */
	struct acme_client *client;
	EVP_PKEY *account_key;
};

struct issuer_worker {
	struct issuer *is;
	int index; /* names the lease owner "issuer:<pid>:<index>" */
};

struct issuer {
	const struct config *cfg;
	struct store *st;
	const struct secretbox *box;
	struct ca *ca;
	struct issuer_acme_ca acme[CONFIG_MAX_CAS];
	size_t n_acme;
	pthread_t threads[256];
	struct issuer_worker workers[256];
	int n_threads;
	pthread_t pool_threads[8]; /* key_pool.c's fillers */
	int n_pool_threads;
	/* Keys the fillers are making now, not yet in the store. pool_lock orders each filler's
	 * count-and-reserve against the others' store-and-release, so a key is never counted twice
	 * (stored and still being made) nor missed (made and not yet stored). */
	pthread_mutex_t pool_lock;
	int pool_generating;
	atomic_int stopping; /* set by issuer_stop, read by every worker */
	/* Jobs being run now, and when the last one ended: the key pool's fillers start a key
	 * only when both say the issuer is idle (key_pool.c). */
	atomic_int jobs_running;
	_Atomic int64_t last_job_end_us;
};

/* What a step decided: written by pack_machine.c in one fenced transaction. */
enum step_next {
	STEP_NOW,   /* go on with the next step at once */
	STEP_LATER, /* wait DELAY_US (backoff or polling) */
	STEP_DONE,  /* nothing more to do for this job */
};

struct step_out {
	enum pack_event event; /* how the pack's status moves; PACK_EV_NONE: it stays */
	char *records;         /* malloc'd JSON array text, or NULL: unchanged */
	const char *issued_by; /* the CA the stored certificates came from; NULL: unchanged */
	char *errors;          /* malloc'd JSON array text, "" (malloc'd) clears, NULL unchanged */
	/* Certificates the step obtained (leaf and chain owned), stored with its write. */
	struct store_certificate certs[2];
	size_t n_certs;
	enum step_next next;
	int64_t delay_us;
	int hold; /* STEP_LATER: wait inside the lease (short CA polls) instead of releasing it */
	char last_error[256];
};

/* One leased job: the pack's subject and its saved state (edited by the steps, written with
 * each). */
struct pack_work {
	struct issuer *is;
	struct store_job job;
	struct store_issuance_subject subj;
	struct pack_state state;
	char names[2][260]; /* names of the certificate: the host, maybe "*.host" */
	size_t n_names;
	int64_t ownership_retry_us; /* > 0: ownership still pending, look again this soon */
	int64_t lease_until_us;     /* until when the lease holds, as last taken or extended */
	int errors_shown;           /* the pack's validation_errors are not empty */
	/* This lease's ownership check, not written yet: the hostname's new status (NULL: it
	 * stays) and verification errors (malloc'd JSON text, "" clears; NULL: none to write). */
	const char *hostname_status;
	char *verification_errors;
};

/* ---- pack_machine.c ------------------------------------------------------------------------ */

/* Advances the hostname job JOB (leased by the caller) as far as it can go now. */
void pack_machine_run(struct issuer *is, const struct store_job *job);

/* OUT->errors = [{"message": MSG}] and a LATER retry with backoff (honouring RETRY_AFTER_S when
 * >= 0); MSG must hold no secret. */
void step_fail_later(struct pack_work *w, struct step_out *out, const char *msg,
		     int64_t retry_after_s);
/* Exponential backoff with jitter for the TRIES-th retry, BASE_US doubling up to CAP_US. */
int64_t step_backoff_us(int tries, int64_t base_us, int64_t cap_us);
/* Counts a failed validation of W's hostname for REASON (enum metric_dcv_reason). */
void pack_count_validation_failure(const struct pack_work *w, int reason);

/* ---- pack_keys.c: ECDSA + RSA keys of a pack, generated and sealed once -------------------- */

int pack_keys_step(struct pack_work *w, struct step_out *out);
/* The key of TYPE of the pack, unsealed; caller frees with EVP_PKEY_free. */
int pack_key_load(struct pack_work *w, enum key_type type, EVP_PKEY **out);
/* LEAF (+ CHAIN, DER certificates back to back), copied into OUT as the pack's certificate of
 * TYPE, stored by the step's write. */
int pack_cert_add(struct pack_work *w, struct step_out *out, enum key_type type,
		  const unsigned char *leaf, size_t leaf_len, const unsigned char *chain,
		  size_t chain_len);

/* ---- key_pool.c: RSA keys generated ahead of need, on idle CPU ---------------------------- */

/* Starts the filler thread when issuer.key_pool > 0. */
int key_pool_start(struct issuer *is);
/* Joins the filler; the caller has set is->stopping. */
void key_pool_stop(struct issuer *is);
/* Gives W's pack a pooled key of TYPE: its id in KEY_ID; SE_ENOTFOUND when the pool is empty. */
int key_pool_claim(struct pack_work *w, enum key_type type, char key_id[37]);

/* ---- internal_ca.c: one internal CA for every issuer node ---------------------------------- */

/* Opens the internal CA the store holds into is->ca, making it (or offering the one in
 * DATA_DIR/ca) when the store has none yet, and mirrors it into DATA_DIR/ca. */
int internal_ca_open(struct issuer *is);

/* ---- issue_acme.c / issue_internal.c: the steps of each CA kind ---------------------------- */

int issue_acme_step(struct pack_work *w, struct step_out *out);
int issue_internal_step(struct pack_work *w, struct step_out *out);

/* ---- dcv_http.c ----------------------------------------------------------------------------- */

/* 0 when http://HOST/.well-known/acme-challenge/TOKEN, fetched from the edge's HTTP port at
 * HOST's address, answers EXPECTED; otherwise SE_ENOTFOUND or SE_EIO with MSG a sentence for
 * validation_errors. Blocks the calling worker up to a few seconds. */
int dcv_http_check(const struct config *cfg, const char *host, const char *token,
		   const char *expected, char *msg, size_t msg_len);
/* The same for any PATH on HOST (the ownership token's URL). */
int dcv_http_fetch_check(const struct config *cfg, const char *host, const char *path,
			 const char *expected, char *msg, size_t msg_len);

/* ---- ownership.c --------------------------------------------------------------------------- */

/* 0 when the hostname's ownership is proven (TXT token, HTTP token served by the edge, or CNAME
 * to the zone's target);
 * otherwise SE_ENOTFOUND with MSG a sentence for verification_errors. */
int ownership_check(struct pack_work *w, char *msg, size_t msg_len);

/* ---- pack_cleanup.c ----------------------------------------------------------------------- */

/* Runs the "pack_cleanup" job JOB (leased by the caller): deactivates the ACME authorizations
 * of a deleted pack, best effort, then finishes the job. */
void pack_cleanup_run(struct issuer *is, const struct store_job *job);
/* Deactivates, once and best effort, every ACME authorization that STATE (a pack's saved
 * state) names: a pack restarted by a PATCH gives up the old attempt's before it orders
 * again. 0, or SE_EIO when the CA did not answer for some. */
int pack_authz_deactivate(struct issuer *is, const char *pack_id, const struct pack_state *state);

/* ---- renewal.c ----------------------------------------------------------------------------- */

/* The pack's certificates are issued: pending_deployment, job due again at renewal time. */
void renewal_schedule(struct pack_work *w, struct step_out *out);
/* Step "done": wait for the renewal time, then restart the pack's steps as a renewal. */
int renewal_step(struct pack_work *w, struct step_out *out);
/* 1 while the pack is being renewed (its certificates still serve). */
int renewal_active(struct pack_work *w);
/* Drops the status changes of a renewal but its end, so the pack stays deployable. */
void renewal_filter(struct pack_work *w, struct step_out *out);
/* A renewal ran out of time: keep serving, try again later (errors stay shown). */
void renewal_failed(struct pack_work *w, struct step_out *out);

/* ---- renewal_ari.c: RFC 9773 renewal windows ---------------------------------------------- */

/* A time in [START_US, END_US) drawn from RAND (uniformly for a uniform RAND). */
int64_t renewal_ari_pick(int64_t start_us, int64_t end_us, uint64_t rand);
/* After issuance: when to first ask the pack's CA for renewal information (never for the
 * internal CA). Sets the state's ari_check_at_us. */
void renewal_ari_schedule(struct pack_work *w);
/* When the check is due, asks the CA and moves the state's renew_at_us into its window; a CA
 * without renewalInfo is not asked again. Never fails: problems are logged and retried later. */
void renewal_ari_check(struct pack_work *w);
/* At the start of a renewal: FRESH's replaces = the certIDs of the pack's current
 * certificates, by key type, named in the new orders (RFC 9773 §5), when the CA offers
 * renewalInfo. */
int renewal_ari_replaces(struct pack_work *w, struct pack_state *fresh);

/* ---- acme_accounts.c ----------------------------------------------------------------------- */

/* The ready client (account registered) of configured CA NAME, or NULL with P filled (or
 * P->detail saying the CA is not configured). Borrowed from IS. */
struct acme_client *acme_accounts_client(struct issuer *is, const char *name,
					 struct acme_problem *p);
/* The CA NAME answered accountDoesNotExist (it lost its data, e.g. a test CA restarted):
 * reloads its directory and registers the account key again, keeping the new account URL. */
int acme_accounts_register_again(struct issuer *is, const char *name, struct acme_problem *p);
void acme_accounts_dispose(struct issuer *is);

/* ---- dcv_records.c ------------------------------------------------------------------------- */

/* New JSON objects for validation_records (caller owns the reference). */
json_t *dcv_record_txt(const char *name, const char *value);
json_t *dcv_record_http(const char *host, const char *token, const char *body);
/* {"emails": [EMAILS…]}: where email DCV's approval mail went. */
json_t *dcv_record_emails(const char *const *emails, size_t n);
/* Stores the http-01 response BODY for TOKEN so that the edge answers it for the pack. */
int dcv_http_challenge_put(struct pack_work *w, const char *host, const char *token,
			   const char *body);
/* Stores the response BODY of challenge KIND under TOKEN for the pack: the edge answers
 * tls-alpn-01 by hostname, so its TOKEN is the hostname and its BODY the key authorization. */
int dcv_challenge_put(struct pack_work *w, const char *kind, const char *host, const char *token,
		      const char *body);
/* JSON text of RECORDS (malloc'd, NULL on failure); takes the reference. */
char *dcv_records_dump(json_t *records);

/* ---- dcv_txt.c ----------------------------------------------------------------------------- */

#define DCV_TXT_MAX 16

struct dcv_txt {
	char values[DCV_TXT_MAX][256];
	size_t n;
};

/* The TXT records of NAME as RESOLVER ("HOST:PORT", "" = system) answers them. SE_ENOTFOUND
 * for NXDOMAIN or no TXT, SE_EIO when no answer came (DETAIL says why). */
int dcv_txt_lookup(const char *resolver, const char *name, struct dcv_txt *out, char *detail,
		   size_t detail_len);
/* Runs the c-ares CHANNEL (an ares_channel) until *DONE is set by a callback. */
void dcv_channel_wait(void *channel, int *done);

/* ---- dcv_caa.c ----------------------------------------------------------------------------- */

/* 0 when the CAA records of every name in NAMES ("*.x" for a wildcard) let a CA known by
 * IDENTITIES (comma-separated CAA issuer domains; "" skips the check) issue; SE_EPERM with MSG
 * saying which record to add, or SE_EIO with MSG when a lookup fails. Blocks a few seconds at
 * most. */
int dcv_caa_check(const char *resolver, const char *const *names, size_t n, const char *identities,
		  char *msg, size_t msg_len);
/* 0 when every value of EXPECTED (N) is among NAME's TXT records; otherwise SE_ENOTFOUND or
 * SE_EIO with MSG a sentence for validation_errors. */
int dcv_txt_check(const char *resolver, const char *name, const char *const *expected, size_t n,
		  char *msg, size_t msg_len);

/* ---- dcv_cname.c: delegated dns-01 (ssl.method "cname") ---------------------------------- */

/* <label>.<dns.zone>: where the customer's _acme-challenge.<host> must point. */
void dcv_cname_target(const struct pack_work *w, char *out, size_t len);
/* 1 (with OUT set to retry later, saying why) when this server has no dns.zone, else 0. */
int dcv_cname_unavailable(struct pack_work *w, struct step_out *out);
/* Publishes VALUE (a dns-01 TXT value) under the pack's label in dns.zone, where a customer's
 * delegating CNAME leads the CA: for method txt too, whose customers may delegate instead of
 * publishing each value (ssl.dcv_delegation_records). 0 (nothing done without a dns.zone) or
 * SE_E*. */
int dcv_delegation_publish(struct pack_work *w, const char *value);
/* dcv_delegation_publish, then adds the {cname, cname_target} record for IDENTIFIER to RECORDS
 * unless it is there already. 0 or SE_E*. */
int dcv_cname_add(struct pack_work *w, const char *identifier, const char *value, json_t *records);
/* Withdraws every value the pack published (it is issued). */
void dcv_cname_withdraw(struct pack_work *w);
/* NAME's CNAME target at RESOLVER into OUT ("" when none), the answer parsed with ldns.
 * SE_EIO (SE_ECONFIG for a bad RESOLVER) with DETAIL when no answer came. */
int dcv_cname_lookup(const char *resolver, const char *name, char *out, size_t len, char *detail,
		     size_t detail_len);
/* 1 when A and B are the same DNS name (case-insensitive, a final dot ignored). */
int dcv_same_name(const char *a, const char *b);
/* 0 when _acme-challenge.<host> CNAMEs to the target at dns.resolver; otherwise SE_ENOTFOUND
 * or SE_EIO with MSG a sentence for validation_errors. Blocks up to a few seconds. */
int dcv_cname_check(struct pack_work *w, char *msg, size_t msg_len);

#endif

/* Shared by the files of src/dns: the zone's fixed records and the pure answering function, kept
 * apart from the sockets so that unit tests drive it with bytes. Nothing outside src/dns (and its
 * unit test) includes this header. */
#ifndef SAASEDGE_DNS_DNS_INT_H
#define SAASEDGE_DNS_DNS_INT_H

#include <ldns/ldns.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/config.h"
#include "store/store.h"

#define DNS_TTL          60 /* TXT, NS and SOA records */
#define DNS_NEGATIVE_TTL 5  /* SOA minimum: how long a resolver remembers "not there" */
#define DNS_UDP_PLAIN    512
#define DNS_UDP_EDNS     1232 /* the DNS flag day 2020 size: no IP fragmentation */
#define DNS_TXT_MAX      8    /* values answered per label (two orders of a wildcard need 4) */

/* The zone: its apex and the records that never change while the server runs. */
struct dns_zone {
	ldns_rdf *apex;
	ldns_rdf *nameserver;
	ldns_rr *soa;
	ldns_rr *ns;
	size_t apex_labels;
};

/* The TXT values of LABEL (lower case, one label) into VALUES; *N = 0 when none. 0 or SE_E*
 * (answered as SERVFAIL). */
typedef int (*dns_txt_lookup_fn)(void *ctx, const char *label,
				 char values[][STORE_DNS_VALUE_MAX + 1], size_t max, size_t *n);

/* Builds Z from ZONE and NAMESERVER (normalised host names) with SOA serial SERIAL. Z is
 * disposed with dns_zone_dispose. SE_ECONFIG when a name is not a valid domain name. */
int dns_zone_init(struct dns_zone *z, const char *zone, const char *nameserver, uint32_t serial);
void dns_zone_dispose(struct dns_zone *z);

/* The response to the message QUERY (LEN bytes) in *OUT (malloc'd, caller frees), at most
 * MAX_LEN bytes: a longer one is cut to its question with TC set (UDP: the client retries over
 * TCP). MAX_LEN is raised to the query's EDNS size (up to DNS_UDP_EDNS) when it advertises one.
 * SE_EINVAL when nothing should be sent back (shorter than a header, or not a query); SE_ENOMEM.
 * LOOKUP is called at most once, with CTX. */
int dns_answer(const struct dns_zone *z, dns_txt_lookup_fn lookup, void *ctx, const uint8_t *query,
	       size_t len, size_t max_len, uint8_t **out, size_t *out_len);

/* RESP (a response of *LEN bytes from dns_answer) cut in place to its header and question with
 * TC set: the answer a rate-limited UDP client gets instead of the real one, telling a real
 * resolver to ask again over TCP. Left as it is when it does not parse that far. */
void dns_answer_truncate(uint8_t *resp, size_t *len);

/* ---- response rate limiting (dns_rrl.c) ---------------------------------------------------- */

struct sockaddr_storage;
struct dns_rrl;

enum dns_rrl_action {
	DNS_RRL_SEND, /* within the rate: answer */
	DNS_RRL_SLIP, /* over it: answer truncated (TC) */
	DNS_RRL_DROP, /* over it: no answer */
};

/* A table for RATE responses a second per client prefix, every SLIP-th limited one slipped (0:
 * none). *OUT is NULL (no limiting) when RATE is 0; free it with dns_rrl_destroy (NULL-safe).
 * SE_ENOMEM, SE_ECRYPTO (no random hash key). */
int dns_rrl_create(int64_t rate, int64_t slip, struct dns_rrl **out);
void dns_rrl_destroy(struct dns_rrl *r);
/* Counts one response to FROM at NOW_US and says what to do with it; always DNS_RRL_SEND when R
 * is NULL. One thread at a time. */
enum dns_rrl_action dns_rrl_account(struct dns_rrl *r, const struct sockaddr_storage *from,
				    int64_t now_us);

/* ---- RFC 2136 push (dns_update.c, dns_sync.c) --------------------------------------------- */

/* Replaces the TXT RRset of LABEL.<dns.zone> at cfg->dns.update_server by VALUES (N of them; 0
 * deletes it), over TCP, TSIG-signed when dns.tsig_name is set (the answer's signature is
 * checked). 0, or SE_EIO with MSG a sentence that holds no secret. Blocks up to a few seconds. */
int dns_update_txt(const struct config *cfg, const char *label, const char *const *values, size_t n,
		   char *msg, size_t msg_len);

struct dns_sync;

/* Starts the thread that keeps dns.update_server's TXT values equal to the store's. CFG and ST
 * are borrowed; *OUT is stopped and freed by dns_sync_stop (NULL-safe). */
int dns_sync_start(const struct config *cfg, struct store *st, struct dns_sync **out);
void dns_sync_stop(struct dns_sync *s);

#endif

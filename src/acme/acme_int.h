/* What the files of src/acme share and nobody else may use: the client object, the HTTP
 * transport, the nonce pool, JWS signing, base64url, date parsing and the helpers that copy CA
 * JSON into fixed buffers. Prefix acme__ marks these as internal. */
#ifndef SAASEDGE_ACME_ACME_INT_H
#define SAASEDGE_ACME_ACME_INT_H

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>

#include "acme/acme.h"

#define ACME_NONCE_MAX  128
#define ACME_NONCE_POOL 8
#define ACME_CURL_POOL  4
#define ACME_JWK_MAX    160        /* {"crv":"P-256","kty":"EC","x":<43>,"y":<43>} = 125 */
#define ACME_BODY_MAX   (4u << 20) /* a certificate chain or a JSON object: far below this */
#define ACME_PEM_CHAIN  "application/pem-certificate-chain"

struct acme__directory {
	int loaded;
	int eab_required;
	char new_nonce[ACME_URL_MAX];
	char new_account[ACME_URL_MAX];
	char new_order[ACME_URL_MAX];
	char renewal_info[ACME_URL_MAX]; /* "" when the CA does not offer ARI */
	char caa_identities[256];        /* meta.caaIdentities, comma-separated; "" none */
};

struct acme_client {
	char *directory_url;
	char *ca_bundle;
	char *eab_kid;
	unsigned char *eab_key; /* decoded MAC key, wiped on destroy */
	size_t eab_key_len;
	EVP_PKEY *key; /* borrowed */
	char jwk[ACME_JWK_MAX];
	char thumbprint[ACME_THUMBPRINT_MAX];

	/* Guards everything below; held only for copies, never across network I/O. */
	pthread_mutex_t lock;
	struct acme__directory dir;
	char kid[ACME_URL_MAX];
	char nonces[ACME_NONCE_POOL][ACME_NONCE_MAX];
	size_t n_nonces;
	CURL *idle[ACME_CURL_POOL];
	size_t n_idle;
	unsigned long badnonce_retries;
};

/* One HTTP response. body is malloc'd and NUL-terminated (freed by acme__response_dispose). */
struct acme__response {
	long status;
	char *body;
	size_t len;
	size_t cap;
	char nonce[ACME_NONCE_MAX];
	char location[ACME_URL_MAX];
	char content_type[96];
	int64_t retry_after_s;
	int truncated_header; /* a Location or nonce did not fit: treat the answer as malformed */
	int too_big;          /* the body passed ACME_BODY_MAX and was cut off */
};

enum acme__method { ACME_GET, ACME_HEAD, ACME_POST };

/* http.c: one request on a pooled curl handle. BODY is POSTed as application/jose+json.
 * Network failures fill P (status 0) and return SE_EIO; any HTTP status is success here. The
 * Replay-Nonce of the answer is put into the pool unless the caller claims it (newNonce). */
int acme__http(struct acme_client *c, enum acme__method m, const char *url, const char *body,
	       const char *accept, int claim_nonce, struct acme__response *r,
	       struct acme_problem *p);
void acme__response_dispose(struct acme__response *r);
void acme__http_pool_destroy(struct acme_client *c);
int acme__http_global_init(void);

/* nonce.c */
void acme__nonce_put(struct acme_client *c, const char *nonce);
/* Copies a pooled nonce into OUT (ACME_NONCE_MAX); 0 when the pool was empty. */
int acme__nonce_take(struct acme_client *c, char *out);

/* request.c: a JWS-signed POST with nonce handling and badNonce retries. PAYLOAD NULL means
 * POST-as-GET. USE_JWK selects the "jwk" header (newAccount) instead of "kid". A status >= 400
 * fills P from the answer and returns SE_EIO (R still holds the answer). */
int acme__post(struct acme_client *c, const char *url, const char *payload, int use_jwk,
	       const char *accept, struct acme__response *r, struct acme_problem *p);
/* Parses R's body as a JSON object; on failure fills P and returns SE_EIO. */
int acme__response_json(const struct acme__response *r, const char *what, json_t **out,
			struct acme_problem *p);

/* The parsers of the CA's answers (order.c, authz.c, directory.c, ari.c): every field
 * checked for type and length, nothing trusted. Also what tests/fuzz/fuzz_acme_json drives. */
/* Fills OUT (except url) from the order object in R. */
int acme__order_parse(const struct acme__response *r, struct acme_order *out,
		      struct acme_problem *p);
/* Fills OUT from an authorization object (challenges of unknown types skipped). */
int acme__authz_parse(json_t *doc, struct acme_authz *out, struct acme_problem *p);
/* Fills D from a directory object. */
int acme__directory_parse(json_t *doc, struct acme__directory *d, struct acme_problem *p);
/* Fills OUT from a renewalInfo object (RFC 9773). */
int acme__renewal_window_parse(json_t *doc, struct acme_renewal_window *out,
			       struct acme_problem *p);

/* problem.c */
void acme__problem_clear(struct acme_problem *p);
void acme__problem_set(struct acme_problem *p, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Fills P from an error answer (problem document or not). */
void acme__problem_from_response(const struct acme__response *r, const char *url,
				 struct acme_problem *p);
/* Fills TYPE/DETAIL from a JSON problem object ("error" members of orders and challenges). */
void acme__problem_fields(json_t *obj, char *type, size_t type_len, char *detail,
			  size_t detail_len);

/* The host[:port] part of URL, for messages. */
void acme__url_host(const char *url, char *out, size_t len);

/* directory.c: copies one directory URL (loading the directory first if needed); FIELD is an
 * offsetof into struct acme__directory. SE_ENOTFOUND when the CA does not offer it. */
int acme__directory_url(struct acme_client *c, size_t field, char *out, struct acme_problem *p);

/* challenge.c: fills OUT from a challenge object. SE_ETOOBIG when its type does not fit
 * (a type saasedge cannot use: skip it), SE_EIO with P filled when it is malformed. */
int acme__challenge_parse(json_t *obj, struct acme_challenge *out, struct acme_problem *p);

/* jws.c */
int acme__jwk_build(EVP_PKEY *key, char *out, size_t len);
int acme__jwk_thumbprint(const char *jwk, char *out, size_t len);
/* Builds a flattened JWS object over PAYLOAD (a string, "" for POST-as-GET). With KEY it is
 * ES256; without, HS256 under HMAC_KEY. PROTECTED is borrowed. *out is the caller's. */
int acme__jws_build(EVP_PKEY *key, const unsigned char *hmac_key, size_t hmac_len,
		    json_t *protected_hdr, const char *payload, json_t **out);

/* b64url.c: unpadded base64url. encode returns the length written (OUT gets a NUL) or
 * SE_ETOOBIG; decode mallocs *out (caller frees) and accepts either alphabet and padding. */
int acme__b64url_encode(const void *data, size_t n, char *out, size_t out_len);
int acme__b64url_decode(const char *text, unsigned char **out, size_t *out_len);
/* 1 when S is a non-empty string of base64url characters. */
int acme__b64url_valid(const char *s);

/* dates.c: RFC 3339 to microseconds; Retry-After (delta-seconds or HTTP-date) to seconds from
 * NOW_S (never negative, at most a year). Both SE_EINVAL on bad text. */
int acme__parse_rfc3339(const char *text, int64_t *us);
int acme__parse_retry_after(const char *text, int64_t now_s, int64_t *seconds);

/* json.c: copy a string member into a fixed buffer. Missing: "" and 0 (or SE_EIO when
 * REQUIRED); not a string or too long: SE_EIO. P gets the reason naming WHAT. */
int acme__json_str(json_t *obj, const char *key, int required, char *out, size_t len,
		   const char *what, struct acme_problem *p);
/* Copies a URL string under a length limit; SE_ETOOBIG when it does not fit. */
int acme__copy(char *out, size_t len, const char *s);

#endif

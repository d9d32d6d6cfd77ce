/* ACME client (RFC 8555, RFC 8737 tls-alpn-01, RFC 9773 renewal information) as a library of
 * single exchanges over explicit state. The issuer persists an order's state, performs ONE call
 * below, persists the result and moves on, so that a crash at any point resumes: nothing here
 * loops over protocol states, sleeps or keeps state other than the per-CA client object.
 *
 * Return convention: 0 or a negative SE_E* code (lib/error.h). Every call that talks to the CA
 * takes a struct acme_problem, cleared on entry and filled on failure:
 *   - the CA answered with an error: SE_EIO, status = HTTP status (>= 400), type/detail from the
 *     application/problem+json document (empty type when the body was not a problem document);
 *   - no answer (DNS, connect, TLS, timeout): SE_EIO, status = 0, detail "connecting to <host>:
 *     <reason>";
 *   - the answer made no sense (bad JSON, missing field, value too long): SE_EIO, status = the
 *     HTTP status, type empty, detail says what was wrong.
 * retry_after_s is the Retry-After header of the failed response (delta-seconds or HTTP-date
 * turned into seconds from now), -1 when absent. badNonce is retried inside each call (up to
 * ACME_BADNONCE_RETRIES times) and only reaches the caller when the CA keeps rejecting nonces.
 *
 * URL arguments may point into the struct the call fills (acme_order_fetch(c, o.url, &o, p)).
 *
 * Threads: one struct acme_client per CA, shared by any number of threads; every function may
 * be called concurrently on the same client. The account key is borrowed and must outlive the
 * client; OpenSSL allows concurrent signing with one EVP_PKEY. libcurl runs with
 * CURLOPT_NOSIGNAL (required with threads), so it does not ignore SIGPIPE for us: the process
 * must (saasedge serve does). */
#ifndef SAASEDGE_ACME_ACME_H
#define SAASEDGE_ACME_ACME_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#define ACME_URL_MAX        512
#define ACME_MAX_AUTHZ      8 /* a saasedge order names a hostname, maybe its wildcard too */
#define ACME_MAX_CHALLENGES 8
#define ACME_TOKEN_MAX      128
/* Retries of one request rejected with badNonce. Test CAs reject up to half of all nonces on
 * purpose; at 50% a request still fails after 20 retries only once in two million. */
#define ACME_BADNONCE_RETRIES 20
/* "token.thumbprint": a token and a 43-character thumbprint. */
#define ACME_KEY_AUTHZ_MAX (ACME_TOKEN_MAX + 48)
/* base64url of a SHA-256 digest, NUL included: the dns-01 TXT value, the JWK thumbprint. */
#define ACME_DNS01_VALUE_MAX 44
#define ACME_THUMBPRINT_MAX  44

#define ACME_ERROR_PREFIX "urn:ietf:params:acme:error:"

struct acme_problem {
	char type[128];        /* e.g. "urn:ietf:params:acme:error:orderNotReady"; may be "" */
	char detail[512];      /* human-readable, safe to show to the API user */
	int status;            /* HTTP status, 0 when no response came */
	int64_t retry_after_s; /* from Retry-After, -1 when absent */
};

struct acme_client_config {
	const char *directory_url; /* https://…/directory */
	const char *ca_bundle;     /* PEM file trusted for the CA's TLS; NULL = system store */
	const char *eab_kid;       /* external account binding, both NULL or both set */
	const char *eab_hmac;      /* base64url MAC key as the CA hands it out */
};

struct acme_client;

struct acme_order {
	char url[ACME_URL_MAX];
	char status[24]; /* pending, ready, processing, valid, invalid */
	char finalize[ACME_URL_MAX];
	char certificate[ACME_URL_MAX]; /* "" until valid */
	char authz[ACME_MAX_AUTHZ][ACME_URL_MAX];
	size_t n_authz;
	int64_t expires_us;    /* 0 when absent */
	int64_t retry_after_s; /* Retry-After of the response (polling hint), -1 when absent */
	char error_type[128];  /* the order's "error" member when it failed, else "" */
	char error_detail[512];
};

struct acme_challenge {
	char type[16]; /* http-01, dns-01, tls-alpn-01, … */
	char url[ACME_URL_MAX];
	char token[ACME_TOKEN_MAX];
	char status[24];
	char error_type[128]; /* the challenge's "error" member when validation failed */
	char error_detail[512];
};

struct acme_authz {
	char identifier[256]; /* without "*." for a wildcard; see wildcard */
	int wildcard;
	char status[24]; /* pending, valid, invalid, deactivated, expired, revoked */
	int64_t expires_us;
	int64_t retry_after_s;
	struct acme_challenge ch[ACME_MAX_CHALLENGES]; /* types longer than 15 bytes are skipped */
	size_t n_ch;
};

struct acme_renewal_window {
	int64_t start_us; /* suggestedWindow */
	int64_t end_us;
	int64_t retry_after_s; /* when to ask again, -1 when the CA did not say */
	char explanation_url[ACME_URL_MAX];
};

/* Client life cycle ---------------------------------------------------------------------------*/

/* Creates a client for one CA. Copies CFG's strings; borrows ACCOUNT_KEY (ECDSA P-256, must
 * outlive the client). Talks to nobody. SE_EINVAL for another key type or a missing URL,
 * SE_ECONFIG for a malformed EAB MAC key. *out is freed with acme_client_destroy. */
int acme_client_create(const struct acme_client_config *cfg, EVP_PKEY *account_key,
		       struct acme_client **out);
/* Frees C (NULL is fine). No other thread may be using it. */
void acme_client_destroy(struct acme_client *c);

/* Sets the account URL used as "kid" in every signed request after newAccount (the issuer
 * stores it next to the sealed account key). Copies KID; NULL clears it. SE_ETOOBIG (and no
 * account set) when it is longer than ACME_URL_MAX - 1. */
int acme_client_set_kid(struct acme_client *c, const char *kid);
/* Copies the account URL into OUT ("" when none); SE_ETOOBIG if OUT is too small. */
int acme_client_get_kid(struct acme_client *c, char *out, size_t len);

/* Number of badNonce rejections retried so far (for tests and metrics). */
unsigned long acme_client_badnonce_retries(struct acme_client *c);

/* 1 when P's type is ACME_ERROR_PREFIX + SHORT_TYPE (e.g. "rateLimited"), else 0. */
int acme_problem_is(const struct acme_problem *p, const char *short_type);

/* Exchanges: each performs one request to the CA, plus the directory GET on first use, a
 * newNonce when the nonce pool is empty and the badNonce retries. -----------------------------*/

/* GETs the directory and caches its URLs (renewalInfo included when offered). Every other call
 * loads the directory on first use, so calling this is only needed to refresh it. */
int acme_directory_load(struct acme_client *c, struct acme_problem *p);
/* 1 when the directory says externalAccountRequired, 0 otherwise (loads it when needed). */
int acme_directory_eab_required(struct acme_client *c, struct acme_problem *p);
/* The directory's meta.caaIdentities (the domains this CA recognises in CAA "issue" records)
 * comma-separated into OUT, "" when it names none (loads the directory when needed). */
int acme_directory_caa_identities(struct acme_client *c, char *out, size_t len,
				  struct acme_problem *p);

/* newAccount with termsOfServiceAgreed (agreeing is the operator's act of configuring the CA),
 * contact "mailto:EMAIL" when EMAIL is not NULL, and the external account binding when the
 * config has one. An existing account for the key is returned, not duplicated. Writes the
 * account URL into KID_OUT and sets it on the client. */
int acme_account_register(struct acme_client *c, const char *email, char *kid_out, size_t kid_len,
			  struct acme_problem *p);

/* newOrder for N dNS identifiers (a wildcard is given as "*.example.com"). REPLACES is the
 * RFC 9773 certID (acme_ari_cert_id) of the certificate this order renews, or NULL; it is
 * dropped for CAs whose directory has no renewalInfo. When the CA refuses the order because of
 * it (e.g. problem "alreadyReplaced"), create the order again without. Fills *out including
 * its URL. */
int acme_order_create(struct acme_client *c, const char *const *names, size_t n,
		      const char *replaces, struct acme_order *out, struct acme_problem *p);
/* POST-as-GET of an order. */
int acme_order_fetch(struct acme_client *c, const char *url, struct acme_order *out,
		     struct acme_problem *p);
/* Sends the DER CSR to the order's finalize URL. The CA answers with the order (usually
 * "processing" or "valid"). out->url is kept as the caller set it unless the CA sends a
 * Location, so pass the stored order in. An order not yet ready fails with orderNotReady. */
int acme_order_finalize(struct acme_client *c, const char *finalize_url,
			const unsigned char *csr_der, size_t len, struct acme_order *out,
			struct acme_problem *p);

/* POST-as-GET of an authorization with its challenges. */
int acme_authz_fetch(struct acme_client *c, const char *url, struct acme_authz *out,
		     struct acme_problem *p);
/* Deactivates an authorization (cleanup when an order is abandoned); best effort. */
int acme_authz_deactivate(struct acme_client *c, const char *url, struct acme_problem *p);

/* Tells the CA to validate a challenge (POST {}). OUT (may be NULL) receives the challenge the
 * CA returns, usually "processing" or already "valid". */
int acme_challenge_accept(struct acme_client *c, const char *challenge_url,
			  struct acme_challenge *out, struct acme_problem *p);

/* Downloads the certificate chain (application/pem-certificate-chain, leaf first). *pem is
 * malloc'd and NUL-terminated, the caller frees it; *len excludes the NUL. */
int acme_certificate_download(struct acme_client *c, const char *url, char **pem, size_t *len,
			      struct acme_problem *p);

/* RFC 9773: GETs renewalInfo for the certificate LEAF_DER. SE_ENOTFOUND (problem left empty)
 * when the directory offers no renewalInfo; the caller then falls back to its own schedule. */
int acme_renewal_info(struct acme_client *c, const unsigned char *leaf_der, size_t len,
		      struct acme_renewal_window *out, struct acme_problem *p);

/* Local computations (no network) -------------------------------------------------------------*/

/* RFC 9773 certID of LEAF_DER: base64url(authority key identifier) "." base64url(serial
 * number DER content octets). SE_EINVAL when the certificate has no AKI keyIdentifier. */
int acme_ari_cert_id(const unsigned char *leaf_der, size_t len, char *out, size_t out_len);

/* Key authorization "TOKEN.thumbprint" (the http-01 body; hashed for tls-alpn-01).
 * SE_EINVAL when TOKEN is not base64url. */
int acme_key_authorization(struct acme_client *c, const char *token, char *out, size_t len);
/* dns-01 TXT value: base64url(SHA-256(key authorization)). */
int acme_dns01_txt_value(struct acme_client *c, const char *token, char *out, size_t len);
/* base64url of the account key's RFC 7638 JWK thumbprint (SHA-256); OUT needs
 * ACME_THUMBPRINT_MAX bytes. */
int acme_account_thumbprint(struct acme_client *c, char *out, size_t len);

/* RFC 8737: a self-signed certificate for the tls-alpn-01 responder, with SAN dNSName NAME and
 * the critical acmeIdentifier extension holding SHA-256(KEY_AUTHORIZATION). Signed by KEY
 * (borrowed; EC, RSA or Ed25519), valid from a day ago for a week. *out is the caller's
 * (X509_free). */
int acme_tls_alpn01_certificate(const char *name, const char *key_authorization, EVP_PKEY *key,
				X509 **out);

#endif

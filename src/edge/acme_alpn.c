/* tls-alpn-01 (RFC 8737) on the HTTPS listener. A client whose ALPN list is exactly
 * "acme-tls/1" is a CA validating a name, not a visitor: it gets, for its SNI, a self-signed
 * certificate carrying the acmeIdentifier of the key authorization the issuer stored, ALPN
 * "acme-tls/1" selected, and the connection closes once the handshake is done (no application
 * data). The store read and the certificate (a fresh P-256 key) are made on a lookup thread, as
 * certificate misses are, so the loop never waits for them; see decisions/0013. */
#include "edge/conn_int.h"

#include <string.h>

#include "acme/acme.h"
#include "lib/error.h"
#include "lib/keys.h"
#include "lib/log.h"

#define EXT_ALPN 16

/* The ALPN extension of a ClientHello offering only acme-tls/1: list length, name length,
 * name. */
static const unsigned char acme_only[] = "\x00\x0b\x0a"
					 "acme-tls/1";

int acme_alpn_offered(SSL *ssl)
{
	const unsigned char *p;
	size_t n;

	return SSL_client_hello_get0_ext(ssl, EXT_ALPN, &p, &n) && n == sizeof(acme_only) - 1 &&
	       memcmp(p, acme_only, n) == 0;
}

int acme_alpn_client_hello(SSL *ssl, struct edge_conn *c, int *al)
{
	if (c->acme_alpn != ACME_ALPN_READY) {
		c->acme_alpn = ACME_ALPN_WANTED;
		return SSL_CLIENT_HELLO_RETRY; /* conn.c sends the name to a lookup thread */
	}
	if (!c->alpn_cert) { /* no challenge pending for the name */
		*al = SSL_AD_UNRECOGNIZED_NAME;
		return SSL_CLIENT_HELLO_ERROR;
	}
	if (!SSL_use_cert_and_key(ssl, c->alpn_cert, c->alpn_key, NULL, 1)) {
		ERR_clear_error();
		*al = SSL_AD_INTERNAL_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	SSL_set_num_tickets(ssl, 0); /* the connection ends with its handshake */
	return SSL_CLIENT_HELLO_SUCCESS;
}

int acme_alpn_select(const unsigned char **out, unsigned char *outlen, const unsigned char *in,
		     unsigned int inlen)
{
	unsigned char *sel = NULL;
	unsigned char sel_len = 0;

	if (SSL_select_next_proto(&sel, &sel_len, acme_only + 2, sizeof(acme_only) - 3, in,
				  inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = sel;
	*outlen = sel_len;
	return SSL_TLSEXT_ERR_OK;
}

void acme_alpn_lookup(struct edge *e, struct lookup_job *job)
{
	struct store_challenge ch;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	int rc;

	rc = store_challenge_get(e->st, "tls-alpn-01", job->name, &ch);
	if (rc == 0)
		rc = keys_generate(KEY_ECDSA_P256, &key);
	if (rc == 0)
		rc = acme_tls_alpn01_certificate(job->name, ch.response, key, &cert);
	if (rc == 0) {
		log_info("edge msg=\"tls-alpn-01 challenge served\" hostname=%s pack=%s", job->name,
			 ch.pack_id);
		job->alpn_cert = cert;
		job->alpn_key = key;
		cert = NULL;
		key = NULL;
	} else if (rc != SE_ENOTFOUND) {
		log_warn("edge msg=\"tls-alpn-01 certificate unavailable\" hostname=%s error=%s",
			 job->name, se_errname(rc));
	}
	job->rc = rc;
	X509_free(cert);
	EVP_PKEY_free(key);
}

void acme_alpn_job_done(struct edge_conn *c, struct lookup_job *job)
{
	if (c->acme_alpn == ACME_ALPN_WANTED) {
		c->alpn_cert = job->alpn_cert;
		c->alpn_key = job->alpn_key;
		job->alpn_cert = NULL;
		job->alpn_key = NULL;
		c->acme_alpn = ACME_ALPN_READY;
	}
}

void acme_alpn_job_dispose(struct lookup_job *job)
{
	X509_free(job->alpn_cert);
	EVP_PKEY_free(job->alpn_key);
	job->alpn_cert = NULL;
	job->alpn_key = NULL;
}

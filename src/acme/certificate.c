/* Certificate download (RFC 8555 §7.4.2): POST-as-GET of the order's certificate URL, answered
 * with a PEM chain, leaf first. The issuer parses and checks it before storing. */
#include <stdlib.h>
#include <string.h>

#include "acme/acme_int.h"
#include "lib/error.h"

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"

int acme_certificate_download(struct acme_client *c, const char *url, char **pem, size_t *len,
			      struct acme_problem *p)
{
	struct acme__response r = {0};
	int rc;

	acme__problem_clear(p);
	*pem = NULL;
	*len = 0;
	rc = acme__post(c, url, NULL, 0, ACME_PEM_CHAIN, &r, p);
	if (rc != 0)
		goto out;
	if (!r.body || strncmp(r.body, PEM_BEGIN, strlen(PEM_BEGIN)) != 0 ||
	    strlen(r.body) != r.len) {
		acme__problem_set(p, (int)r.status, "certificate from the CA is not a PEM chain");
		rc = SE_EIO;
		goto out;
	}
	/* hand the body over instead of copying it */
	*pem = r.body;
	*len = r.len;
	r.body = NULL;
out:
	acme__response_dispose(&r);
	return rc;
}

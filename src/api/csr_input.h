/* Validation of a POST …/custom_csrs body (docs/api.md, "Custom CSRs"), with the CSR error codes
 * of Cloudflare's own table (1405-1417), which differ from the custom-hostname codes. */
#ifndef SAASEDGE_API_CSR_INPUT_H
#define SAASEDGE_API_CSR_INPUT_H

#include <jansson.h>
#include <stddef.h>

#include "api/envelope.h"
#include "lib/hostname.h"
#include "lib/keys.h"

/* A checked request. The string pointers borrow from the body the request was parsed from;
 * SANS is owned (csr_request_dispose). */
struct csr_request {
	char country[3];                                                   /* upper case */
	const char *state, *locality, *organization, *organizational_unit; /* OU may be "" */
	char common_name[HOSTNAME_MAX + 1];                                /* normalised */
	enum key_type key_type;
	const char *key_type_name;      /* "rsa2048" | "p256v1" */
	char (*sans)[HOSTNAME_MAX + 1]; /* normalised, in the order given */
	size_t n_sans;
	const char *name, *description; /* NULL when absent */
};

/* Checks BODY into RQ. Returns 0, or -1 with RES filled (RQ then needs no dispose). */
int csr_input_parse(const json_t *body, struct csr_request *rq, struct api_response *res);
void csr_request_dispose(struct csr_request *rq);

/* 1 when CODE (two letters, any case) is an assigned ISO 3166-1 alpha-2 code. */
int csr_country_known(const char *code);

#endif

/* The Cloudflare response envelope: {"success","errors","messages","result"[,"result_info"]}.
 * Handlers fill a struct api_response through these functions and never build envelopes by hand.
 */
#ifndef SAASEDGE_API_ENVELOPE_H
#define SAASEDGE_API_ENVELOPE_H

#include <jansson.h>
#include <stdint.h>

#include "api/errors.h"
#include "api/pagination.h"

struct api_response {
	unsigned status;      /* HTTP status */
	json_t *body;         /* owned: the whole envelope */
	unsigned retry_after; /* seconds for a Retry-After header; 0 = none */
};

/* Success with RESULT (stolen; NULL becomes JSON null). */
void api_respond(struct api_response *res, unsigned status, json_t *result);
/* 200 list: ITEMS (stolen, an array) with result_info for PAGE and TOTAL matching rows. */
void api_respond_list(struct api_response *res, json_t *items, const struct api_page *page,
		      int64_t total);
/* Failure ERR; DETAIL fills the "%s" of its message (may be NULL). */
void api_fail(struct api_response *res, enum api_error err, const char *detail);
/* Failure ERR with an error_chain of one entry {CHAIN_CODE, CHAIN_MESSAGE}. */
void api_fail_chain(struct api_response *res, enum api_error err, int chain_code,
		    const char *chain_message);
/* Failure for a store error code (SE_E*): SE_EEXISTS → duplicate, SE_EQUOTA → quota,
 * SE_ENOTFOUND → NOT_FOUND_ERR, anything else → 500 (logged, never detailed to the client). */
void api_fail_store(struct api_response *res, int rc, enum api_error not_found_err);

/* Frees the body. */
void api_response_dispose(struct api_response *res);

#endif

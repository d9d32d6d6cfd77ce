/* The uploaded-certificate members of a create or PATCH "ssl" object (custom_certificate,
 * custom_key, custom_csr_id, custom_cert_bundle): their shape, the CSR they name and every
 * certificate check (cert_verify.h), done before anything is stored. */
#ifndef SAASEDGE_API_CUSTOM_CERT_INPUT_H
#define SAASEDGE_API_CUSTOM_CERT_INPUT_H

#include <jansson.h>

#include "api/cert_verify.h"
#include "api/request.h"

/* A checked upload, ready for store_custom_pack_attach. Owned: custom_upload_dispose. */
struct custom_upload {
	size_t n; /* 1 or 2, one per key family */
	struct cert_verified certs[2];
	char key_ids[2][37];           /* new ids, or the CSR's key id */
	unsigned char *sealed_keys[2]; /* malloc'd; NULL for the CSR's key (already stored) */
	size_t sealed_lens[2];
	char csr_id[37]; /* "" when no CSR */
};

/* 1 when SSL (an object) carries any of the four upload members (null counts as absent). */
int custom_cert_in_request(const json_t *ssl);

/* Checks the upload in SSL for HOSTNAME (normalised) with BUNDLE_METHOD and seals its keys
 * with req->box. 0 with UP filled, or -1 with RES filled (UP then needs no dispose). */
int custom_upload_parse(const json_t *ssl, const char *hostname, const char *bundle_method,
			const struct api_request *req, struct custom_upload *up,
			struct api_response *res);
void custom_upload_dispose(struct custom_upload *up);

/* Fills P from UP (borrowing its buffers) with a new pack id; SE_ECRYPTO when no id can be
 * made. */
int custom_upload_to_pack(const struct custom_upload *up, struct store_custom_pack *p);

#endif

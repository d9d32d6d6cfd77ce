/* Route handlers. Each fills RES; none blocks on anything but the store. */
#ifndef SAASEDGE_API_HANDLERS_H
#define SAASEDGE_API_HANDLERS_H

#include "api/request.h"

void api_hostname_create(struct api_request *req, struct api_response *res);
void api_hostname_list(struct api_request *req, struct api_response *res);
void api_hostname_get(struct api_request *req, struct api_response *res);
void api_hostname_edit(struct api_request *req, struct api_response *res);
void api_hostname_delete(struct api_request *req, struct api_response *res);

void api_fallback_origin_get(struct api_request *req, struct api_response *res);
void api_fallback_origin_put(struct api_request *req, struct api_response *res);
void api_fallback_origin_delete(struct api_request *req, struct api_response *res);

void api_quota_get(struct api_request *req, struct api_response *res);

void api_custom_cert_put(struct api_request *req, struct api_response *res);
void api_custom_cert_delete(struct api_request *req, struct api_response *res);

void api_csr_create(struct api_request *req, struct api_response *res);
void api_csr_list(struct api_request *req, struct api_response *res);
void api_csr_get(struct api_request *req, struct api_response *res);
void api_csr_delete(struct api_request *req, struct api_response *res);

void api_webhook_create(struct api_request *req, struct api_response *res);
void api_webhook_list(struct api_request *req, struct api_response *res);
void api_webhook_get(struct api_request *req, struct api_response *res);
void api_webhook_update(struct api_request *req, struct api_response *res);
void api_webhook_delete(struct api_request *req, struct api_response *res);
void api_policy_create(struct api_request *req, struct api_response *res);
void api_policy_list(struct api_request *req, struct api_response *res);
void api_policy_get(struct api_request *req, struct api_response *res);
void api_policy_update(struct api_request *req, struct api_response *res);
void api_policy_delete(struct api_request *req, struct api_response *res);
void api_history_list(struct api_request *req, struct api_response *res);

void api_account_get(struct api_request *req, struct api_response *res);
void api_zone_get(struct api_request *req, struct api_response *res);
void api_zone_list(struct api_request *req, struct api_response *res);

#endif

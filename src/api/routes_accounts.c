/* GET /accounts/{id} and GET /zones/{id}: the account and the zone as Cloudflare's clients
 * look them up (Terraform and the SDKs read a zone's account, and an account's name). Only
 * what saasedge has is answered; the rest of Cloudflare's fields are left out, or given the
 * value they have for a zone saasedge serves (active, full, not paused). */
#include "api/handlers.h"
#include "lib/error.h"
#include "lib/timeutil.h"

static json_t *account_ref(const struct store_account *a)
{
	return json_pack("{s:s, s:s}", "id", a->id, "name", a->name);
}

void api_account_get(struct api_request *req, struct api_response *res)
{
	struct store_account a;
	char created[TIME_RFC3339_LEN + 1];
	int rc = store_account_get(req->store, req->account_id, &a);

	if (rc) {
		api_fail_store(res, rc, API_ERR_AUTH_ZONE);
		return;
	}
	time_format_rfc3339(a.created_at_us, created);
	api_respond(res, 200,
		    json_pack("{s:s, s:s, s:s, s:{s:b, s:n}, s:s}", "id", a.id, "name", a.name,
			      "type", "standard", "settings", "enforce_twofactor", 0,
			      "abuse_contact_email", "created_on", created));
}

void api_zone_get(struct api_request *req, struct api_response *res)
{
	struct store_zone z;
	struct store_account a = {0};
	char created[TIME_RFC3339_LEN + 1];
	int rc = store_zone_get(req->store, req->zone_id, &z);

	if (rc == 0)
		rc = store_account_get(req->store, z.account_id, &a);
	if (rc) {
		api_fail_store(res, rc, API_ERR_AUTH_ZONE);
		return;
	}
	time_format_rfc3339(z.created_at_us, created);
	api_respond(res, 200,
		    json_pack("{s:s, s:s, s:s, s:b, s:s, s:i, s:[], s:n, s:n, s:n, s:s, s:s, s:s, "
			      "s:o, s:{s:n, s:s, s:n}, s:{}, s:[]}",
			      "id", z.id, "name", z.name, "status", "active", "paused", 0, "type",
			      "full", "development_mode", 0, "name_servers", "original_name_servers",
			      "original_registrar", "original_dnshost", "created_on", created,
			      "modified_on", created, "activated_on", created, "account",
			      account_ref(&a), "owner", "id", "type", "user", "email", "meta",
			      "permissions"));
}

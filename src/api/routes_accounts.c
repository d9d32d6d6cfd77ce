/* GET /accounts/{id}, GET /zones/{id} and GET /zones: the account and the zones as Cloudflare's
 * clients look them up (Terraform and the SDKs read a zone's account, and an account's name).
 * Only what saasedge has is answered; the rest of Cloudflare's fields are left out, or given the
 * value they have for a zone saasedge serves (active, full, not paused). */
#include "api/handlers.h"
#include "api/pagination.h"
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

/* A zone as Cloudflare's zone object, with ACCOUNT's reference. */
static json_t *zone_json(const struct store_zone *z, const struct store_account *account)
{
	char created[TIME_RFC3339_LEN + 1];

	time_format_rfc3339(z->created_at_us, created);
	return json_pack("{s:s, s:s, s:s, s:b, s:s, s:i, s:[], s:n, s:n, s:n, s:s, s:s, s:s, "
			 "s:o, s:{s:n, s:s, s:n}, s:{}, s:[]}",
			 "id", z->id, "name", z->name, "status", "active", "paused", 0, "type",
			 "full", "development_mode", 0, "name_servers", "original_name_servers",
			 "original_registrar", "original_dnshost", "created_on", created,
			 "modified_on", created, "activated_on", created, "account",
			 account_ref(account), "owner", "id", "type", "user", "email", "meta",
			 "permissions");
}

void api_zone_get(struct api_request *req, struct api_response *res)
{
	struct store_zone z;
	struct store_account a = {0};
	int rc = store_zone_get(req->store, req->zone_id, &z);

	if (rc == 0)
		rc = store_account_get(req->store, z.account_id, &a);
	if (rc) {
		api_fail_store(res, rc, API_ERR_AUTH_ZONE);
		return;
	}
	api_respond(res, 200, zone_json(&z, &a));
}

#define ZONE_PAGE_MAX 50 /* Cloudflare's per_page limit for zones */

/* GET /zones: the zones the credential reaches, by name: its own zone, or its account's. The
 * dashboard asks it at sign-in; Cloudflare's clients ask it to find a zone's id. */
void api_zone_list(struct api_request *req, struct api_response *res)
{
	struct store_zone zones[ZONE_PAGE_MAX];
	struct store_account a = {0};
	struct api_page page;
	char err[128];
	size_t n = 0;
	int64_t total = 0;
	int rc;

	if (api_page_parse(api_query(req, "page"), api_query(req, "per_page"), &page, err,
			   sizeof(err))) {
		api_fail(res, API_ERR_BAD_QUERY, err);
		return;
	}
	if (page.per_page > ZONE_PAGE_MAX)
		page.per_page = ZONE_PAGE_MAX;
	if (req->token.account_id[0]) {
		rc = store_account_get(req->store, req->token.account_id, &a);
		if (rc == 0)
			rc = store_zone_list_account(req->store, a.id, api_page_offset(&page), zones,
						     (size_t)page.per_page, &n, &total);
	} else {
		rc = store_zone_get(req->store, req->token.zone_id, &zones[0]);
		if (rc == 0)
			rc = store_account_get(req->store, zones[0].account_id, &a);
		total = rc == 0 ? 1 : 0;
		n = rc == 0 && page.page == 1 ? 1 : 0;
	}
	if (rc) {
		api_fail_store(res, rc, API_ERR_AUTH_ZONE);
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, zone_json(&zones[i], &a));
	api_respond_list(res, items, &page, total);
}

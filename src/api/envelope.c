#include "api/envelope.h"

#include <stdio.h>
#include <string.h>

#include "lib/error.h"
#include "lib/log.h"

static json_t *envelope(int success, json_t *errors, json_t *result)
{
	return json_pack("{s:b, s:o, s:[], s:o}", "success", success, "errors", errors,
			 "messages", "result", result ? result : json_null());
}

void api_respond(struct api_response *res, unsigned status, json_t *result)
{
	res->status = status;
	res->body = envelope(1, json_array(), result);
}

void api_respond_list(struct api_response *res, json_t *items, const struct api_page *page,
		      int64_t total)
{
	size_t count = json_array_size(items);

	api_respond(res, 200, items);
	json_object_set_new(res->body, "result_info",
			    json_pack("{s:I, s:I, s:I, s:I, s:I}", "page", (json_int_t)page->page,
				      "per_page", (json_int_t)page->per_page, "count",
				      (json_int_t)count, "total_count", (json_int_t)total,
				      "total_pages",
				      (json_int_t)api_page_total_pages(total, page->per_page)));
}

/* Expands FORMAT's "%s" with DETAIL and "%%" with "%" into OUT. Done by hand because the
 * formats come from a table, and a non-literal printf format is a bug waiting to happen. */
static void expand(const char *format, const char *detail, char *out, size_t out_len)
{
	size_t n = 0;

	for (const char *f = format; *f && n + 1 < out_len; f++) {
		if (f[0] == '%' && f[1] == 's') {
			n += (size_t)snprintf(out + n, out_len - n, "%s", detail ? detail : "");
			if (n >= out_len)
				n = out_len - 1;
			f++;
		} else {
			if (f[0] == '%' && f[1] == '%')
				f++;
			out[n++] = *f;
		}
	}
	out[n] = '\0';
}

static json_t *error_entry(enum api_error err, const char *detail)
{
	char message[1024];
	json_t *entry;

	expand(api_error_format(err), detail, message, sizeof(message));
	entry = json_pack("{s:i, s:s}", "code", api_error_code(err), "message", message);
	if (!entry) {
		/* JSON strings are UTF-8: a detail quoting input cut mid-character would lose the
		 * whole error, so the message goes out with its non-ASCII bytes as '?'. */
		for (char *p = message; *p; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		entry = json_pack("{s:i, s:s}", "code", api_error_code(err), "message", message);
	}
	return entry;
}

void api_fail(struct api_response *res, enum api_error err, const char *detail)
{
	json_t *errors = json_array();

	json_array_append_new(errors, error_entry(err, detail));
	res->status = api_error_http_status(err);
	res->body = envelope(0, errors, NULL);
}

void api_fail_chain(struct api_response *res, enum api_error err, int chain_code,
		    const char *chain_message)
{
	json_t *entry = error_entry(err, NULL);
	json_t *errors = json_array();

	json_object_set_new(entry, "error_chain",
			    json_pack("[{s:i, s:s}]", "code", chain_code, "message",
				      chain_message));
	json_array_append_new(errors, entry);
	res->status = api_error_http_status(err);
	res->body = envelope(0, errors, NULL);
}

void api_fail_store(struct api_response *res, int rc, enum api_error not_found_err)
{
	switch (rc) {
	case SE_EEXISTS:
		api_fail(res, API_ERR_DUPLICATE, NULL);
		return;
	case SE_ENOTFOUND:
		api_fail(res, not_found_err, NULL);
		return;
	case SE_EUNAVAILABLE:
		/* The database is away (the store reconnects on its own): a retry will do. */
		api_fail(res, API_ERR_UNAVAILABLE, NULL);
		res->retry_after = 1;
		return;
	default:
		log_error("msg=\"store failure\" err=%s", se_errname(rc));
		api_fail(res, API_ERR_INTERNAL, NULL);
	}
}

void api_response_dispose(struct api_response *res)
{
	json_decref(res->body);
	res->body = NULL;
}

/* Fuzzes the validation of custom-hostname create and PATCH bodies with arbitrary JSON.
 * Properties: no crash or sanitizer report; an accepted create has a hostname that the rules
 * accept, and email validation only with the internal CA; a rejected body always carries an
 * error envelope with a Cloudflare code. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/hostname_input.h"
#include "lib/hostname.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void apply(const json_t *body, int creating)
{
	static struct config cfg; /* zeroed: default CA "internal", no ACME CAs */
	struct store_hostname h = {0};
	struct api_response res = {0};
	char again[HOSTNAME_MAX + 1];
	enum store_ssl_change change;

	if (!creating)
		memcpy(h.hostname, "app.customer.com", sizeof("app.customer.com"));
	if (hostname_input_apply(body, &cfg, creating, &h, &change, &res) == 0) {
		if (creating && hostname_normalize(h.hostname, 1, again, NULL, 0) != HOSTNAME_OK)
			abort();
		/* Email validation exists only with the internal CA (ACME has none). */
		if (strcmp(h.ssl.method, "email") == 0 &&
		    strcmp(h.ssl.certificate_authority, "internal") != 0)
			abort();
	} else {
		const json_t *err = json_array_get(json_object_get(res.body, "errors"), 0);
		if (!json_is_integer(json_object_get(err, "code")) || res.status < 400)
			abort();
	}
	api_response_dispose(&res);
	store_hostname_dispose(&h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *body = json_loadb((const char *)data, size, 0, NULL);

	if (json_is_object(body)) {
		apply(body, 1);
		apply(body, 0);
	}
	json_decref(body);
	return 0;
}

/* Fuzzes the validation of POST …/custom_csrs bodies (src/api/csr_input.c) with arbitrary JSON.
 * Properties: no crash or sanitizer report; an accepted body has a known country, a common
 * name and SANs that the hostname rules accept as they are (already normalised), a key type
 * saasedge can make; a refused one carries an error envelope with a Cloudflare code. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/csr_input.h"
#include "lib/hostname.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void normalised(const char *name)
{
	char again[HOSTNAME_MAX + 1];

	if (hostname_normalize(name, 1, again, NULL, 0) != HOSTNAME_OK || strcmp(again, name) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *body = json_loadb((const char *)data, size, 0, NULL);
	struct csr_request rq;
	struct api_response res = {0};

	if (!json_is_object(body)) {
		json_decref(body);
		return 0;
	}
	memset(&rq, 0, sizeof(rq));
	if (csr_input_parse(body, &rq, &res) == 0) {
		if (!csr_country_known(rq.country) || !rq.common_name[0])
			abort();
		if (rq.key_type != KEY_RSA_2048 && rq.key_type != KEY_ECDSA_P256)
			abort();
		normalised(rq.common_name);
		for (size_t i = 0; i < rq.n_sans; i++)
			normalised(rq.sans[i]);
		csr_request_dispose(&rq);
	} else {
		const json_t *err = json_array_get(json_object_get(res.body, "errors"), 0);

		if (!json_is_integer(json_object_get(err, "code")) || res.status < 400)
			abort();
	}
	api_response_dispose(&res);
	json_decref(body);
	return 0;
}

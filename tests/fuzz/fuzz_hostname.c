/* Fuzzes the hostname and origin rules, the first code to see a customer's input. Properties:
 * no crash, no sanitizer report, and normalisation is idempotent: an accepted name normalises
 * to itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hostname.h"
#include "lib/origin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_idempotent(const char *name, int allow_wildcard)
{
	char out[HOSTNAME_MAX + 1], again[HOSTNAME_MAX + 1], reason[256];

	if (hostname_normalize(name, allow_wildcard, out, reason, sizeof(reason)) != HOSTNAME_OK)
		return;
	if (hostname_normalize(out, allow_wildcard, again, NULL, 0) != HOSTNAME_OK ||
	    strcmp(out, again) != 0)
		abort();
}

static void check_origin(const char *text)
{
	struct origin o, again;
	char formatted[512];

	if (origin_parse(text, &o, NULL, 0) != HOSTNAME_OK)
		return;
	origin_format(&o, formatted, sizeof(formatted));
	if (origin_parse(formatted, &again, NULL, 0) != HOSTNAME_OK ||
	    strcmp(o.host, again.host) != 0 || o.port != again.port || o.tls != again.tls)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char out[HOSTNAME_MAX + 1];

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	check_idempotent(text, 0);
	check_idempotent(text, 1);
	check_origin(text);
	hostname_normalize_origin(text, out, NULL, 0);
	hostname_fragment_ok(text);
	free(text);
	return 0;
}

/* Fuzzes the Link field parser of Early Hints (src/edge/early_hints.c) with what an origin may
 * send. Input: one byte that sets the room for the links (1..256 bytes, or all of
 * EARLY_HINTS_MAX when 0), then the field's value. The links selected must fit that room, each
 * must start with '<' and be a piece of the value as it was sent, and as many links as counted
 * must have been written. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edge/early_hints.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[EARLY_HINTS_MAX];
	const char *value = (const char *)data + 1;
	size_t cap, len = 0, n, pieces = 0;

	if (size == 0)
		return 0;
	cap = data[0] ? data[0] : EARLY_HINTS_MAX;
	n = early_hints_select(value, size - 1, out, &len, cap);
	if (len > cap)
		abort();
	for (size_t at = 0; at < len;) {
		const char *sep = memmem(out + at, len - at, ", <", 3);
		size_t piece = sep ? (size_t)(sep - (out + at)) : len - at;

		if (out[at] != '<' || !memmem(value, size - 1, out + at, piece))
			abort();
		pieces++;
		at += piece + (sep ? 2 : 0);
	}
	if (pieces < n) /* a link may hold ", <" itself: then it makes more than one piece */
		abort();
	return 0;
}

/* Fuzzes the edge's response framing (src/edge/http_head.c, http_body.c): an origin's status
 * line, fields and body framing, with the properties in http_framing_check.h. */
#include "http_framing_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_message(data, size, 1);
	return 0;
}

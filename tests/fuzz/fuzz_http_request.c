/* Fuzzes the edge's request framing (src/edge/http_head.c, http_body.c): the strict head
 * scanner and the body framer over one request, with the properties in http_framing_check.h. */
#include "http_framing_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_message(data, size, 0);
	return 0;
}

/* Fuzzes the HTTP/2 request translation (src/edge/h2_request.c). Input: one byte of flags (bit
 * 0: the HEADERS frame ended the stream), then NAME NUL VALUE NUL pairs, as nghttp2 would hand
 * them over (the fuzzer also gets to send what nghttp2 refuses). Whatever head comes out must
 * be one the strict HTTP/1.1 scanner reads the same way: the whole head and nothing more, one
 * Host, and the body framing the translation said (a smuggled Content-Length or chunked coding
 * would be a desynchronisation with the origin). */
#include <stdlib.h>
#include <string.h>

#include "edge/h2_request.h"
#include "edge/http_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_field fields[HTTP_MAX_FIELDS];
	struct http_head h = {.fields = fields, .max_fields = 100};
	const char *p = (const char *)data + 1, *end = (const char *)data + size;
	struct h2_request r;
	char *head = NULL;
	size_t len = 0;
	int chunked = 0, rc = 0;

	if (size == 0)
		return 0;
	h2_request_init(&r, 8192, 100);
	while (p < end && rc == 0) {
		const char *name = p, *name_end = memchr(p, '\0', (size_t)(end - p)), *value,
			   *value_end;

		if (!name_end)
			break;
		value = name_end + 1;
		value_end = memchr(value, '\0', (size_t)(end - value));
		if (!value_end)
			value_end = end;
		rc = h2_request_field(&r, name, (size_t)(name_end - name), value,
				      (size_t)(value_end - value));
		p = value_end + 1;
	}
	if (rc == 0)
		rc = h2_request_head(&r, data[0] & 1, &head, &len, &chunked);
	if (rc == 0) {
		http_head_reset(&h, 0);
		rc = http_head_scan(&h, head, len);
		if (rc != 1 && rc != 400)
			abort();
		if (rc == 1 && (h.head_len != len || h.n_host != 1 || h.chunked != chunked ||
				h.n_te != chunked || (chunked && h.n_cl)))
			abort();
	}
	free(head);
	h2_request_dispose(&r);
	return 0;
}

/* Fuzzes log.format=json (src/lib/log.c: log_logfmt_to_json) with log lines whose values an
 * outsider chose. Input: one byte that sets the room for the object (16..271 bytes), then the
 * line, its bytes made printable ASCII as log_write makes every line before converting it. The
 * result must be one JSON object of string values that fits the room. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char line[4096], out[272];
	size_t n = size > sizeof(line) ? sizeof(line) - 1 : size ? size - 1 : 0, room;
	json_t *obj, *value;
	const char *key;

	if (size == 0)
		return 0;
	room = 16 + data[0];
	for (size_t i = 0; i < n; i++)
		line[i] = (char)(0x20 + data[1 + i] % 0x5f);
	line[n] = '\0';
	log_logfmt_to_json(line, out, room);
	if (strlen(out) >= room)
		abort();
	obj = json_loads(out, 0, NULL); /* a key may repeat: a line may have two bare words */
	if (!json_is_object(obj))
		abort();
	json_object_foreach(obj, key, value)
	{
		if (!json_is_string(value))
			abort();
	}
	json_decref(obj);
	return 0;
}

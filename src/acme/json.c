/* Copying CA JSON into the fixed buffers of the public structs. A value that does not fit is an
 * error, never a silent truncation: a cut URL would send the next exchange elsewhere. */
#include <string.h>

#include "acme/acme_int.h"
#include "lib/error.h"

int acme__copy(char *out, size_t len, const char *s)
{
	size_t n = strlen(s);

	if (n >= len)
		return SE_ETOOBIG;
	memcpy(out, s, n + 1);
	return 0;
}

int acme__json_str(json_t *obj, const char *key, int required, char *out, size_t len,
		   const char *what, struct acme_problem *p)
{
	json_t *v = json_object_get(obj, key);

	out[0] = '\0';
	if (!v) {
		if (!required)
			return 0;
		acme__problem_set(p, p->status, "%s from the CA lacks \"%s\"", what, key);
		return SE_EIO;
	}
	if (!json_is_string(v)) {
		acme__problem_set(p, p->status, "%s from the CA has a non-string \"%s\"", what,
				  key);
		return SE_EIO;
	}
	if (required && json_string_length(v) == 0) {
		/* A status or URL that says nothing (or a duplicate member that emptied it) would
		 * leave the order waiting on nothing. */
		acme__problem_set(p, p->status, "%s from the CA has an empty \"%s\"", what, key);
		return SE_EIO;
	}
	if (acme__copy(out, len, json_string_value(v)) != 0) {
		acme__problem_set(p, p->status, "%s from the CA has a \"%s\" longer than %zu bytes",
				  what, key, len - 1);
		return SE_EIO;
	}
	return 0;
}

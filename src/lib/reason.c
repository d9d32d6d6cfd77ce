#include "lib/reason.h"

#include <stdarg.h>
#include <stdio.h>

void reason_set(char *reason, size_t reason_len, const char *fmt, ...)
{
	va_list ap;

	if (!reason || reason_len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, reason_len, fmt, ap);
	va_end(ap);
}

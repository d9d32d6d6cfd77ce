/* Verdict reasons: the optional "why" text that checks write for API error messages. */
#ifndef SAASEDGE_LIB_REASON_H
#define SAASEDGE_LIB_REASON_H

#include <stddef.h>

/* Formats into REASON (REASON_LEN bytes) unless REASON is NULL or REASON_LEN is 0. */
void reason_set(char *reason, size_t reason_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif

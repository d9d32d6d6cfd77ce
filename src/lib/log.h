/* Operator logs: one line per event, key=value (logfmt) or one JSON object with the same fields,
 * to stderr. The level check happens before any formatting, so a disabled debug line costs one
 * comparison. Never log a private key, a token or any other secret. */
#ifndef SAASEDGE_LIB_LOG_H
#define SAASEDGE_LIB_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

extern _Atomic enum log_level log_threshold; /* set at start and on SIGHUP */

/* Sets the threshold from "debug", "info", "warn" or "error"; returns SE_EINVAL otherwise. */
int log_set_level(const char *name);

/* Sets the format from "logfmt" (the default) or "json"; returns SE_EINVAL otherwise. */
int log_set_format(const char *name);

/* The JSON object of LINE, a logfmt line of printable ASCII as log_write makes it (key=value,
 * key="quoted value"; a bare word, such as the role that starts some lines, is "component"),
 * into OUT (OUT_LEN > 0 bytes, cut to a valid object when it does not fit). Every value is a
 * string. */
void log_logfmt_to_json(const char *line, char *out, size_t out_len);

void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_at(level, ...)                                                                         \
	do {                                                                                       \
		if ((level) >= log_threshold)                                                      \
			log_write((level), __VA_ARGS__);                                           \
	} while (0)
#define log_debug(...) log_at(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_at(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_at(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_at(LOG_ERROR, __VA_ARGS__)

#endif

/* Operator logs: one line per event, key=value, to stderr. The level check happens before any
 * formatting, so a disabled debug line costs one comparison. Never log a private key, a token or
 * any other secret. */
#ifndef SAASEDGE_LIB_LOG_H
#define SAASEDGE_LIB_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

extern enum log_level log_threshold;

/* Sets the threshold from "debug", "info", "warn" or "error"; returns SE_EINVAL otherwise. */
int log_set_level(const char *name);

void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_at(level, ...)                                                  \
	do {                                                                \
		if ((level) >= log_threshold)                               \
			log_write((level), __VA_ARGS__);                    \
	} while (0)
#define log_debug(...) log_at(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_at(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_at(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_at(LOG_ERROR, __VA_ARGS__)

#endif

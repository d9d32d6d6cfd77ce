#include "lib/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/error.h"

enum log_level log_threshold = LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int log_set_level(const char *name)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			log_threshold = (enum log_level)i;
			return 0;
		}
	}
	return SE_EINVAL;
}

/* 1 for a byte that is written as an escape: anything that could end the line or fool a
 * terminal or a log shipper (CR, LF, other controls, DEL), non-ASCII (a value's bytes are not
 * known to be UTF-8), and the backslash itself so that an escape cannot be forged. */
static int needs_escape(unsigned char ch)
{
	return ch < 0x20 || ch >= 0x7f || ch == '\\';
}

/* IN escaped into OUT (OUT_LEN > 0): \r, \n, \t, \\ and \xHH; cut before an escape that would
 * not fit, so OUT never ends inside one. */
static void escape_line(const char *in, char *out, size_t out_len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		char esc[4];
		size_t n = 0;

		if (!needs_escape(*p)) {
			esc[n++] = (char)*p;
		} else if (*p == '\r' || *p == '\n' || *p == '\t' || *p == '\\') {
			esc[n++] = '\\';
			esc[n++] = *p == '\r' ? 'r' : *p == '\n' ? 'n' : *p == '\t' ? 't' : '\\';
		} else {
			esc[n++] = '\\';
			esc[n++] = 'x';
			esc[n++] = hex[*p >> 4];
			esc[n++] = hex[*p & 15];
		}
		if (o + n >= out_len)
			break;
		memcpy(out + o, esc, n);
		o += n;
	}
	out[o] = '\0';
}

void log_write(enum log_level level, const char *fmt, ...)
{
	char line[2048], escaped[sizeof(line) * 4];
	const char *out = line;
	struct timespec now;
	struct tm tm;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	int n = snprintf(line, sizeof(line), "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, now.tv_nsec / 1000000, level_names[level]);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* Values come from outside (SNI, Host, DNS answers, error texts): one scan, and a copy only
	 * for the rare line that needs it, keeps every event on one line of plain ASCII. */
	for (const char *p = line; *p; p++) {
		if (needs_escape((unsigned char)*p)) {
			escape_line(line, escaped, sizeof(escaped));
			out = escaped;
			break;
		}
	}
	/* One fputs per line keeps lines from different threads whole. */
	flockfile(stderr);
	fputs(out, stderr);
	fputc('\n', stderr);
	funlockfile(stderr);
}

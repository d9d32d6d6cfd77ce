#include "lib/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/error.h"

_Atomic enum log_level log_threshold = LOG_INFO;
static _Atomic int log_json; /* log.format=json; set at start and on SIGHUP */

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

int log_set_format(const char *name)
{
	if (strcmp(name, "logfmt") != 0 && strcmp(name, "json") != 0)
		return SE_EINVAL;
	log_json = name[0] == 'j';
	return 0;
}

struct json_out {
	char *p;
	size_t len, cap;
};

/* Bytes of S[0..N) as a JSON string's content: the line is printable ASCII, so only '"' and
 * the backslash need an escape. */
static size_t json_size(const char *s, size_t n)
{
	size_t size = n;

	for (size_t i = 0; i < n; i++)
		size += s[i] == '"' || s[i] == '\\';
	return size;
}

static void json_put(struct json_out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			o->p[o->len++] = '\\';
		o->p[o->len++] = s[i];
	}
}

/* ,"KEY":"VALUE" when it fits with the closing brace; 0 when it did not (nothing written). */
static int json_field(struct json_out *o, const char *key, size_t key_len, const char *value,
		      size_t value_len)
{
	size_t need = json_size(key, key_len) + json_size(value, value_len) + 6;

	if (o->len + need + 2 > o->cap)
		return 0;
	if (o->len > 1)
		o->p[o->len++] = ',';
	o->p[o->len++] = '"';
	json_put(o, key, key_len);
	memcpy(o->p + o->len, "\":\"", 3);
	o->len += 3;
	json_put(o, value, value_len);
	o->p[o->len++] = '"';
	return 1;
}

void log_logfmt_to_json(const char *line, char *out, size_t out_len)
{
	struct json_out o = {.p = out, .cap = out_len};
	const char *p = line;
	int room = out_len >= 3;

	if (room)
		o.p[o.len++] = '{';
	while (room && *p) {
		const char *key, *value, *end;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		key = p;
		while (*p && *p != '=' && *p != ' ')
			p++;
		if (*p != '=' || p == key) { /* a bare word */
			while (*p && *p != ' ')
				p++;
			room = json_field(&o, "component", 9, key, (size_t)(p - key));
			continue;
		}
		end = p++;
		if (*p == '"') { /* up to the quote that ends the token */
			value = ++p;
			while (*p && !(*p == '"' && (p[1] == ' ' || p[1] == '\0')))
				p++;
			room = json_field(&o, key, (size_t)(end - key), value, (size_t)(p - value));
			if (*p)
				p++;
		} else {
			value = p;
			while (*p && *p != ' ')
				p++;
			room = json_field(&o, key, (size_t)(end - key), value, (size_t)(p - value));
		}
	}
	if (out_len >= 3)
		o.p[o.len++] = '}';
	if (out_len)
		o.p[o.len] = '\0';
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
	char line[2048], escaped[sizeof(line) * 4], json[sizeof(escaped) * 2];
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
	if (log_json) {
		log_logfmt_to_json(out, json, sizeof(json));
		out = json;
	}
	/* One fputs per line keeps lines from different threads whole. */
	flockfile(stderr);
	fputs(out, stderr);
	fputc('\n', stderr);
	funlockfile(stderr);
}

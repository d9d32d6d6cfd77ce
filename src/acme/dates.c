/* The two date formats ACME servers send: RFC 3339 timestamps in JSON (expires, ARI windows)
 * and Retry-After headers (RFC 9110: delta-seconds or an IMF-fixdate HTTP-date). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acme/acme_int.h"
#include "lib/error.h"

/* A Retry-After beyond a year is a server bug; capping keeps later arithmetic in range. */
#define RETRY_AFTER_MAX (366LL * 86400)

static int parse_digits(const char **s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*s)[i]))
			return SE_EINVAL;
		v = v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	*out = v;
	return 0;
}

static int expect(const char **s, const char *set)
{
	if (!**s || !strchr(set, **s))
		return SE_EINVAL;
	(*s)++;
	return 0;
}

/* Fractional seconds as microseconds; digits beyond the sixth are dropped. */
static int64_t parse_fraction(const char **s)
{
	int64_t us = 0;
	int digits = 0;

	if (**s != '.')
		return 0;
	for ((*s)++; isdigit((unsigned char)**s); (*s)++, digits++) {
		if (digits < 6)
			us = us * 10 + (**s - '0');
	}
	for (; digits < 6; digits++)
		us *= 10;
	return us;
}

static int parse_offset(const char **s, int *offset_s)
{
	int sign, hh, mm;

	if (**s == 'Z' || **s == 'z') {
		(*s)++;
		*offset_s = 0;
		return 0;
	}
	sign = **s == '-' ? -1 : 1;
	if (expect(s, "+-") || parse_digits(s, 2, &hh) || expect(s, ":") || parse_digits(s, 2, &mm))
		return SE_EINVAL;
	*offset_s = sign * (hh * 3600 + mm * 60);
	return 0;
}

int acme__parse_rfc3339(const char *text, int64_t *us)
{
	const char *s = text;
	struct tm tm = {0};
	int offset_s;
	int64_t frac;

	if (parse_digits(&s, 4, &tm.tm_year) || expect(&s, "-") ||
	    parse_digits(&s, 2, &tm.tm_mon) || expect(&s, "-") ||
	    parse_digits(&s, 2, &tm.tm_mday) || expect(&s, "Tt ") ||
	    parse_digits(&s, 2, &tm.tm_hour) || expect(&s, ":") ||
	    parse_digits(&s, 2, &tm.tm_min) || expect(&s, ":") || parse_digits(&s, 2, &tm.tm_sec))
		return SE_EINVAL;
	frac = parse_fraction(&s);
	if (parse_offset(&s, &offset_s) || *s)
		return SE_EINVAL;
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return SE_EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*us = ((int64_t)timegm(&tm) - offset_s) * 1000000 + frac;
	return 0;
}

int acme__parse_retry_after(const char *text, int64_t now_s, int64_t *seconds)
{
	struct tm tm = {0};
	const char *end;
	char *num_end;

	while (*text == ' ' || *text == '\t')
		text++;
	if (isdigit((unsigned char)*text)) {
		long long v = strtoll(text, &num_end, 10);

		if (*num_end && !isspace((unsigned char)*num_end))
			return SE_EINVAL;
		*seconds = v > RETRY_AFTER_MAX ? RETRY_AFTER_MAX : v;
		return 0;
	}
	/* IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT" (the only form senders may use). */
	end = strptime(text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (!end)
		return SE_EINVAL;
	*seconds = (int64_t)timegm(&tm) - now_s;
	if (*seconds < 0)
		*seconds = 0;
	if (*seconds > RETRY_AFTER_MAX)
		*seconds = RETRY_AFTER_MAX;
	return 0;
}

#include "lib/timeutil.h"

#include <stdio.h>
#include <time.h>

int64_t time_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t time_monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void time_format_rfc3339(int64_t us, char out[TIME_RFC3339_LEN + 1])
{
	time_t secs = (time_t)(us / 1000000);
	long micros = (long)(us % 1000000);
	struct tm tm;

	char date[24];

	if (micros < 0) { /* before 1970: floor, not truncate */
		micros += 1000000;
		secs -= 1;
	}
	gmtime_r(&secs, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, TIME_RFC3339_LEN + 1, "%.19s.%06uZ", date, (unsigned)micros % 1000000u);
}

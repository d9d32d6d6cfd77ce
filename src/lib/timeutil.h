/* Wall-clock time in microseconds and its RFC 3339 text form; the monotonic clock. */
#ifndef SAASEDGE_LIB_TIMEUTIL_H
#define SAASEDGE_LIB_TIMEUTIL_H

#include <stdint.h>

#define TIME_RFC3339_LEN 27 /* "2020-02-06T18:11:23.531995Z" */

/* Microseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t time_now_us(void);
/* Microseconds of CLOCK_MONOTONIC: for durations, immune to clock steps. */
int64_t time_monotonic_us(void);
/* Formats US as "YYYY-MM-DDTHH:MM:SS.ffffffZ" (UTC) into OUT. */
void time_format_rfc3339(int64_t us, char out[TIME_RFC3339_LEN + 1]);

#endif

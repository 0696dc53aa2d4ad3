/*
 * timefmt.c -- RFC 3339 UTC formatting (see timefmt.h).
 */
#include "agent/timefmt.h"

#include <stdio.h>
#include <time.h>

void agent_time_format(int64_t ms, char buf[AGENT_TIME_LEN])
{
	/* 0000-01-01 .. 9999-12-31T23:59:59.999 */
	const int64_t lo = -62167219200000LL, hi = 253402300799999LL;
	int64_t s, r;
	time_t t;
	struct tm tm;

	if (ms < lo)
		ms = lo;
	if (ms > hi)
		ms = hi;
	s = ms / 1000;
	r = ms % 1000;
	if (r < 0) {
		r += 1000;
		s -= 1;
	}
	t = (time_t)s;
	gmtime_r(&t, &tm);
	snprintf(buf, AGENT_TIME_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100, tm.tm_mday % 100,
		 tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100, (int)r);
}

int64_t agent_time_now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/*
 * timefmt.c -- RFC 3339 UTC formatting, the wall clock and the monotonic clock (see timefmt.h).
 */
#include "agent/timefmt.h"
#include "connectors/clock.h"

#include <time.h>

void agent_time_format(int64_t ms, char buf[AGENT_TIME_LEN])
{
	conn_text_time_format(ms, buf);
}

int64_t agent_time_now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

int64_t agent_time_mono_ms(void)
{
	return conn_clock_mono_ms();
}

int64_t agent_time_mono_at(int64_t wall)
{
	return agent_time_mono_ms() - (agent_time_now_ms() - wall);
}

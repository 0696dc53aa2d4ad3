/*
 * timefmt.h -- RFC 3339 UTC timestamps with milliseconds ("2026-11-26T21:14:00.123Z") and the
 * clocks. The format is text.h's conn_text_time_format (which conn_text_time_parse reads
 * back); this header keeps the agent's name for it.
 */
#ifndef DRIFTD_AGENT_TIMEFMT_H
#define DRIFTD_AGENT_TIMEFMT_H

#include "connectors/text.h"

#include <stdint.h>

#define AGENT_TIME_LEN CONN_TEXT_TIME_LEN /* buffer size for agent_time_format */

/* Formats epoch milliseconds (any int64; years outside 0..9999 are clamped) into buf. */
void agent_time_format(int64_t ms, char buf[AGENT_TIME_LEN]);
/* Wall clock, epoch milliseconds: for times shown, stored or compared across processes. */
int64_t agent_time_now_ms(void);
/* Monotonic clock, milliseconds since an arbitrary start: for every duration measured inside
 * the process (intervals, timeouts, idleness, leases, backoff), which a step of the wall clock
 * (NTP, a VM resumed, an operator's `date -s`) must not stretch or cut short. */
int64_t agent_time_mono_ms(void);
/* The monotonic time of the wall-clock instant wall, read a moment ago (a record's receive
 * time): its age on the wall clock is kept, a step of the wall clock since is not. */
int64_t agent_time_mono_at(int64_t wall);

#endif

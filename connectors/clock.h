/*
 * clock.h -- the monotonic clock every duration inside the process is measured on: intervals,
 * timeouts, idleness, leases, backoff, and the waits of threads on a condition variable. A step
 * of the wall clock (NTP, a VM resumed, an operator's `date -s`) must neither stretch them nor
 * cut them short; the wall clock is for times shown, stored or compared across processes.
 */
#ifndef DRIFTD_CONNECTORS_CLOCK_H
#define DRIFTD_CONNECTORS_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* Milliseconds since an arbitrary start (CLOCK_MONOTONIC). */
int64_t conn_clock_mono_ms(void);
/* Initializes cv so that pthread_cond_timedwait takes deadlines on the monotonic clock. */
void conn_clock_cond_init(pthread_cond_t *cv);
/* The monotonic deadline ms milliseconds from now, for a cv of conn_clock_cond_init. */
struct timespec conn_clock_deadline(int64_t ms);

#endif

/*
 * stats.h -- common definitions of driftd's statistics library.
 *
 * stats/ is pure computation: histograms, categorical counts, divergences, statistical tests and
 * a quantile sketch. It depends on libc, libm and GSL only, never logs and never does I/O (the
 * one exception is stats_init() reading DRIFTD_HIST_KERNEL from the environment, so that tests
 * can force a kernel). Every function that can fail returns an enum stats_status; 0 is success.
 */
#ifndef DRIFTD_STATS_H
#define DRIFTD_STATS_H

#include <stddef.h>
#include <stdint.h>

enum stats_status {
	STATS_OK = 0,	     /* success */
	STATS_EINVAL = 1,    /* an argument is out of its documented domain */
	STATS_ENOMEM = 2,    /* allocation failed */
	STATS_ERANGE = 3,    /* a result or a counter would overflow */
	STATS_EFORMAT = 4,   /* serialized bytes are malformed (truncated, bad magic, bad value) */
	STATS_EVERSION = 5,  /* serialized bytes carry a format version this build cannot read */
	STATS_EMISMATCH = 6, /* two accumulators of different shape (bins, edges, accuracy) */
	STATS_ENUMERIC = 7,  /* a GSL routine reported an error or returned a non-finite value */
	STATS_ENOTSUP = 8,   /* the requested kernel is not supported by this CPU or build */
};

/* Human-readable name of a status; never NULL. */
const char *stats_strerror(enum stats_status st);

/*
 * Once per process, before any other stats_* call: turns GSL's abort-on-error handler off (GSL
 * must never abort driftd) and selects the histogram kernel (CPU detection, or the environment
 * variable DRIFTD_HIST_KERNEL=ref|avx2|avx512). Returns STATS_ENOTSUP when the environment names
 * a kernel this CPU or build cannot run, STATS_EINVAL when it names no kernel at all; the best
 * supported kernel stays selected in both cases. Idempotent.
 */
enum stats_status stats_init(void);

#endif

/*
 * status.c -- status names and the one-time initialisation of the stats library.
 */
#include "stats.h"
#include "hist_kernel.h"

#include <gsl/gsl_errno.h>

const char *stats_strerror(enum stats_status st)
{
	switch (st) {
	case STATS_OK:
		return "success";
	case STATS_EINVAL:
		return "invalid argument";
	case STATS_ENOMEM:
		return "out of memory";
	case STATS_ERANGE:
		return "counter or result out of range";
	case STATS_EFORMAT:
		return "malformed serialized data";
	case STATS_EVERSION:
		return "unsupported serialization version";
	case STATS_EMISMATCH:
		return "accumulators of different shape";
	case STATS_ENUMERIC:
		return "numerical error";
	case STATS_ENOTSUP:
		return "not supported on this CPU or build";
	}
	return "unknown status";
}

enum stats_status stats_init(void)
{
	gsl_set_error_handler_off();
	return stats_hist_kernel_init();
}

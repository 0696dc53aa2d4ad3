/*
 * hist_dispatch.c -- picks the histogram kernel once: the best one the CPU supports, unless the
 * environment variable DRIFTD_HIST_KERNEL=ref|avx2|avx512 forces one (tests and benchmarks).
 */
#ifdef HAVE_CONFIG_H
#include "build.h"
#endif
#include "hist.h"
#include "hist_kernel.h"

#include <stdlib.h>
#include <string.h>

static const struct hist_kernel *selected = &hist_kernel_ref;
static enum stats_hist_kernel selected_id = STATS_HIST_KERNEL_REF;

static int cpu_has_avx2(void)
{
#if defined(__x86_64__) && defined(HAVE_HIST_AVX2)
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
	       __builtin_cpu_supports("bmi2");
#else
	return 0;
#endif
}

static int cpu_has_avx512(void)
{
#if defined(__x86_64__) && defined(HAVE_HIST_AVX512)
	__builtin_cpu_init();
	return cpu_has_avx2() && __builtin_cpu_supports("avx512f") &&
	       __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
	       __builtin_cpu_supports("avx512dq");
#else
	return 0;
#endif
}

int stats_hist_kernel_supported(enum stats_hist_kernel k)
{
	switch (k) {
	case STATS_HIST_KERNEL_AUTO:
	case STATS_HIST_KERNEL_REF:
		return 1;
	case STATS_HIST_KERNEL_AVX2:
		return cpu_has_avx2();
	case STATS_HIST_KERNEL_AVX512:
		return cpu_has_avx512();
	}
	return 0;
}

const struct hist_kernel *hist_kernel_get(int k)
{
	if (!stats_hist_kernel_supported((enum stats_hist_kernel)k))
		return NULL;
	switch ((enum stats_hist_kernel)k) {
	case STATS_HIST_KERNEL_AUTO:
		return selected;
	case STATS_HIST_KERNEL_REF:
		return &hist_kernel_ref;
#ifdef HAVE_HIST_AVX2
	case STATS_HIST_KERNEL_AVX2:
		return &hist_kernel_avx2;
#endif
#ifdef HAVE_HIST_AVX512
	case STATS_HIST_KERNEL_AVX512:
		return &hist_kernel_avx512;
#endif
	default:
		return NULL;
	}
}

enum stats_status stats_hist_kernel_select(enum stats_hist_kernel k)
{
	const struct hist_kernel *kern;

	if (k == STATS_HIST_KERNEL_AUTO) {
		k = cpu_has_avx512() ? STATS_HIST_KERNEL_AVX512
		    : cpu_has_avx2() ? STATS_HIST_KERNEL_AVX2
				     : STATS_HIST_KERNEL_REF;
	}
	kern = hist_kernel_get(k);
	if (!kern)
		return STATS_ENOTSUP;
	selected = kern;
	selected_id = k;
	return STATS_OK;
}

enum stats_hist_kernel stats_hist_kernel_selected(void)
{
	return selected_id;
}

const char *stats_hist_kernel_name(enum stats_hist_kernel k)
{
	switch (k) {
	case STATS_HIST_KERNEL_AUTO:
		return "auto";
	case STATS_HIST_KERNEL_REF:
		return "ref";
	case STATS_HIST_KERNEL_AVX2:
		return "avx2";
	case STATS_HIST_KERNEL_AVX512:
		return "avx512";
	}
	return "unknown";
}

enum stats_status stats_hist_kernel_init(void)
{
	const char *env = getenv("DRIFTD_HIST_KERNEL");
	enum stats_status st;

	stats_hist_kernel_select(STATS_HIST_KERNEL_AUTO);
	if (!env || !*env || strcmp(env, "auto") == 0)
		return STATS_OK;
	for (int k = STATS_HIST_KERNEL_REF; k <= STATS_HIST_KERNEL_AVX512; k++) {
		if (strcmp(env, stats_hist_kernel_name((enum stats_hist_kernel)k)) == 0) {
			st = stats_hist_kernel_select((enum stats_hist_kernel)k);
			return st;
		}
	}
	return STATS_EINVAL;
}

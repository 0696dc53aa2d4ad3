/*
 * about.c -- version and usage text of driftd.
 */
#ifdef HAVE_CONFIG_H
#include "build.h"
#endif
#include "agent/about.h"
#include "connectors/versions.h"
#include "stats/hist.h"

#include <gsl/gsl_version.h>

void agent_about_version(FILE *out)
{
	char libs[256];

	conn_versions(libs, sizeof libs);
	fprintf(out, "driftd %s\n", PACKAGE_VERSION);
	fprintf(out, "libraries: %s gsl %s\n", libs, gsl_version);
	fprintf(out, "histogram kernel: %s (supported:%s%s%s)\n",
		stats_hist_kernel_name(stats_hist_kernel_selected()),
		stats_hist_kernel_supported(STATS_HIST_KERNEL_REF) ? " ref" : "",
		stats_hist_kernel_supported(STATS_HIST_KERNEL_AVX2) ? " avx2" : "",
		stats_hist_kernel_supported(STATS_HIST_KERNEL_AVX512) ? " avx512" : "");
}

void agent_about_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: driftd [-c FILE.json] [--OPTION VALUE]...   run the agent\n"
	    "       driftd check-config [-c FILE.json] [--OPTION VALUE]...\n"
	    "       driftd config-doc        the configuration reference (Markdown)\n"
	    "       driftd generate [--records N] [--drift SIGMAS] ...   generated records "
	    "(JSONL)\n"
	    "       driftd --version | --help\n"
	    "\n"
	    "driftd monitors ML models in production for data drift and performance decay and\n"
	    "emits rollback events. Most used options: --source file:PATH|-  --events file:PATH|-\n"
	    "--store dir:PATH  --window SECONDS  --dry-run  --log-format text|json  --log-level "
	    "LEVEL\n"
	    "Every option: doc/configuration.md (driftd config-doc). Environment: DRIFTD_*.\n");
}

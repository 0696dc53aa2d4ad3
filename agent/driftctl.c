/*
 * driftctl.c -- main of driftctl, the admin CLI: everything is in agent/ctl.c.
 */
#ifdef HAVE_CONFIG_H
#include "build.h"
#endif
#include "agent/ctl.h"
#include "stats/stats.h"

#include <stdio.h>

int main(int argc, char **argv)
{
	enum stats_status st = stats_init();

	if (st != STATS_OK)
		fprintf(stderr,
			"driftctl: DRIFTD_HIST_KERNEL: %s; using the best supported kernel\n",
			stats_strerror(st));
	return agent_ctl_main(argc, argv, stdout, stderr);
}

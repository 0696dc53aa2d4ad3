/*
 * driftd.c -- main of the driftd agent: little more than argument dispatch.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include "agent/about.h"
#include "stats/stats.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	enum stats_status st = stats_init();

	if (st != STATS_OK)
		fprintf(stderr, "driftd: DRIFTD_HIST_KERNEL: %s; using the best supported kernel\n",
			stats_strerror(st));
	if (argc == 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
		agent_about_version(stdout);
		return 0;
	}
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		agent_about_usage(stdout);
		return 0;
	}
	agent_about_usage(stderr);
	return 2;
}

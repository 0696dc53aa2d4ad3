/*
 * cmdline.c -- getopt_long with a reset and exact long names (see cmdline.h).
 */
#include "agent/cmdline.h"

#include <string.h>

void agent_cmdline_reset(void)
{
	optind = 0;
	opterr = 0;
}

const struct option *agent_cmdline_find(const struct option *lo, int val)
{
	for (; lo->name; lo++)
		if (lo->val == val)
			return lo;
	return NULL;
}

/* Whether arg spells the long option name in full: "--name" or "--name=...". */
static int spelled_out(const char *arg, const char *name)
{
	size_t n = strlen(name);

	return strncmp(arg, "--", 2) == 0 && strncmp(arg + 2, name, n) == 0 &&
	       (arg[n + 2] == '\0' || arg[n + 2] == '=');
}

int agent_cmdline_next(int argc, char **argv, const char *shortopts, const struct option *lo,
		       int *at)
{
	const struct option *o = NULL;
	int idx = -1, r;

	*at = optind > 0 ? optind : 1;
	r = getopt_long(argc, argv, shortopts, lo, &idx);
	if (r == ':')
		o = agent_cmdline_find(lo, optopt);
	else if (idx >= 0 && r == lo[idx].val)
		o = &lo[idx];
	if (r == -1 || r == 1 || r == '?' || *at >= argc)
		return r;
	if (strncmp(argv[*at], "--", 2) == 0) /* a long option: its whole name */
		return o && !spelled_out(argv[*at], o->name) ? '?' : r;
	return argv[*at][2] == '\0' ? r : '?'; /* a short option stands alone: "-h", not "-hh" */
}

/*
 * cmdline.h -- getopt_long as the command lines of driftctl and the driftd subcommands (demo,
 * generate, mock-kafka) use it: a full reset before each parse (they may run many times in one
 * process, as the tests do), long option names matched exactly (getopt's abbreviations, "--dur"
 * for "--duration", are refused as unknown options, as they always were) and short options
 * standing alone ("-h"; "-hh" is refused, a short option's value is the next argument).
 */
#ifndef DRIFTD_AGENT_CMDLINE_H
#define DRIFTD_AGENT_CMDLINE_H

#include <getopt.h>

/* Starts a new parse: optind = 0 (glibc: a full reset of getopt's state), opterr = 0 (the
 * callers print their own messages; shortopts should start with "+:" or "-:"). */
void agent_cmdline_reset(void);

/* One getopt_long step over argv[0..argc) with the long options lo ({NULL} terminated): returns
 * what getopt_long returns (an option's val, 1 for an argument in "-" mode, '?' for an unknown
 * option, ':' for a missing value with optopt = the option's val, -1 at the end), except that an
 * abbreviated long option and a short one not alone in its argument come back as '?'. *at is the
 * index of the argument looked at, for messages. */
int agent_cmdline_next(int argc, char **argv, const char *shortopts, const struct option *lo,
		       int *at);

/* The long option of lo whose val is val, or NULL. */
const struct option *agent_cmdline_find(const struct option *lo, int val);

#endif

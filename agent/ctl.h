/*
 * ctl.h -- driftctl, the admin CLI, as one function that tests can call: it parses the command
 * line, runs the admin operation on the store (admin.h, where the operations and the rules of
 * the version registry live) and writes what it returns to the streams it is given (SPEC.md
 * "Interfaces").
 *
 *   driftctl [--store SPEC] [--json] COMMAND ...
 *     register MODEL VERSION --training-data-hash H --feature-params JSON|@FILE
 *              --hyperparams JSON|@FILE [--tag K=V]...
 *     versions MODEL
 *     baseline build MODEL VERSION --from FILE.jsonl [--bins N]
 *     baseline show MODEL VERSION | baseline export MODEL VERSION | baseline import FILE
 *     good MODEL VERSION | hold MODEL | release MODEL | rearm MODEL VERSION
 *     history MODEL | status [MODEL]
 *
 * The store is --store, else $DRIFTD_STORE, else "dir:./driftd-store". Every command that
 * changes state appends an audit entry ({"type":"driftctl.<command>", ...}) to the model's
 * history. --json prints one JSON document on `out` for every command. Errors are one line
 * "driftctl: ..." on `err`.
 */
#ifndef DRIFTD_AGENT_CTL_H
#define DRIFTD_AGENT_CTL_H

#include <stdio.h>

#define AGENT_CTL_OK	0 /* done */
#define AGENT_CTL_ERROR 1 /* failed: not found, bad state, store or file error */
#define AGENT_CTL_USAGE 2 /* the command line is wrong (registration refusals included) */

/* Runs driftctl with argv[0..argc) (argv[0] is the program name). Returns the exit code. Never
 * calls exit(); does not call stats_init() (main does). */
int agent_ctl_main(int argc, char **argv, FILE *out, FILE *err);

#endif

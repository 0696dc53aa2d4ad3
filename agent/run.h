/*
 * run.h -- `driftd` running: a source, the engine, a sink and a store, until the source ends
 * (a file replay: every open window is then closed and decided, exit 0) or SIGTERM/SIGINT
 * (finish the current batch, close what can be closed, exit 0).
 */
#ifndef DRIFTD_AGENT_RUN_H
#define DRIFTD_AGENT_RUN_H

#include "agent/config.h"
#include "agent/engine.h"

/* Returns the process exit code (0 success, 1 runtime error). */
int agent_run(const struct agent_config *c);

/* The same with an observer of every closed window (the demo's table, tests). */
int agent_run_observed(const struct agent_config *c, agent_window_fn fn, void *arg);

#endif

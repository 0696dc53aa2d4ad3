/*
 * demo.h -- `driftd demo`: the embedded default of SPEC.md, needing no server and no config.
 *
 * In a temporary directory it registers fraud v2.3.1 and v2.4.0 with their metadata (as
 * driftctl does), builds v2.3.1's baseline from generated good traffic and marks it good; it
 * starts librdkafka's mock cluster in process, produces v2.4.0's traffic to it -- healthy
 * windows, then windows with drift in the features amount and country and latency decay --
 * and runs the same engine as driftd on a Kafka consumer of that topic, printing each window's
 * decision as a table row as it closes, and finally the rollback event.
 *
 *   driftd demo [--duration SECONDS] [--windows N] [--keep]
 * --duration: wall time to spread the windows over (default 20, at most 600); --windows: windows
 * in all (default 12, the second half degraded); --keep: leave the directory (its path is shown).
 * Exit 0 when the rollback event was emitted.
 */
#ifndef DRIFTD_AGENT_DEMO_H
#define DRIFTD_AGENT_DEMO_H

#include <stdio.h>

int agent_demo_main(int argc, char **argv, FILE *out, FILE *err);

#endif

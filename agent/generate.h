/*
 * generate.h -- `driftd generate`: writes generated inference log records (traffic.h) as JSONL,
 * for tours, tests and benchmarks.
 *
 *   driftd generate [--model M] [--version V] [--records N] [--start-ms T] [--rate R]
 *                   [--seed S] [--drift SIGMAS] [--country-mix P] [--latency-factor F]
 *                   [--label-noise P] [--no-label]
 * --drift shifts the feature amount, --country-mix the feature country (traffic.h).
 * Records are spaced 1000/R ms apart from T (default rate 1000/s, start 1795730000000).
 */
#ifndef DRIFTD_AGENT_GENERATE_H
#define DRIFTD_AGENT_GENERATE_H

#include <stdio.h>

/* argv[0] is "generate". Returns the exit code (0, or 2 on a usage error with a message on
 * err). */
int agent_generate_main(int argc, char **argv, FILE *out, FILE *err);

#endif

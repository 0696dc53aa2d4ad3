/*
 * mockkafka.h -- `driftd mock-kafka [--brokers N] [--topic NAME[:PARTITIONS]]...`: librdkafka's
 * mock cluster as a process, for local development and tests. Its first line on stdout is
 * "bootstrap=HOST:PORT[,...]" (real TCP listeners on 127.0.0.1 that any Kafka client can use);
 * it then serves until SIGTERM or SIGINT and exits 0. Topics default to 1 partition.
 */
#ifndef DRIFTD_AGENT_MOCKKAFKA_H
#define DRIFTD_AGENT_MOCKKAFKA_H

#include <stdio.h>

int agent_mockkafka_main(int argc, char **argv, FILE *out, FILE *err);

#endif

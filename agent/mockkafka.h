/*
 * mockkafka.h -- `driftd mock-kafka [--brokers N] [--topic NAME[:PARTITIONS]]... [--control
 * FIFO]`: librdkafka's mock cluster as a process, for local development and tests. Its first
 * line on stdout is "bootstrap=HOST:PORT[,...]" (real TCP listeners on 127.0.0.1 that any
 * Kafka client can use); it then serves until SIGTERM or SIGINT and exits 0. Topics default to 1
 * partition.
 *
 * --control FIFO (created when missing) takes fault-injection commands, one per line, each
 * answered on stdout with "control: LINE: ok" or "control: LINE: error: WHY":
 *   broker down ID|all        the broker's connections closed, new ones refused (no leader
 *                             change: its partitions are unreachable until it is up)
 *   broker up ID|all          it accepts connections again
 *   broker rtt ID|all MS      every response of it delayed by MS (0: none)
 *   errors API N ERROR        the next N requests of API (produce, fetch, listoffsets,
 *                             metadata, offsetcommit, offsetfetch, findcoordinator, joingroup,
 *                             heartbeat, leavegroup, syncgroup, initproducerid, or a key number)
 *                             fail with ERROR (librdkafka's name without RD_KAFKA_RESP_ERR_, e.g.
 *                             NOT_ENOUGH_REPLICAS, or its number)
 *   broker errors ID API N ERROR
 *                             the same, for the requests broker ID answers (before the
 *                             cluster-wide ones)
 *   leader TOPIC PARTITION ID broker ID leads the partition from now on
 * Broker ids are 1..N.
 */
#ifndef DRIFTD_AGENT_MOCKKAFKA_H
#define DRIFTD_AGENT_MOCKKAFKA_H

#include <stdio.h>

int agent_mockkafka_main(int argc, char **argv, FILE *out, FILE *err);

#endif

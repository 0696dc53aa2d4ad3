/*
 * kafka_census.h -- every partition of a consumer's topics and its offsets, from the brokers
 * (kafka.c's source; kafka.h conn_source_kafka_partitions is the public side).
 *
 * A thread of its own asks the brokers, every CONN_KAFKA_CENSUS_MS, for the metadata of each
 * topic (so that partitions added to a topic are counted within one round) and for each
 * partition's low and high watermark offsets (the first offset kept and the log end). The
 * result of the last complete round is what a reader sees; a partition whose offsets could not
 * be read in that round is listed with unknown offsets (-1). The calls block only this thread.
 */
#ifndef DRIFTD_CONN_KAFKA_CENSUS_H
#define DRIFTD_CONN_KAFKA_CENSUS_H

#include "connectors/kafka.h"

#include <librdkafka/rdkafka.h>

#define CONN_KAFKA_CENSUS_MS 1000 /* one round of metadata and offsets this often */

struct kafka_census;

/* Starts the census of the NUL-separated topics (len bytes) on client rk (borrowed: it outlives
 * the census). NULL on no memory or when the thread cannot start. */
struct kafka_census *kafka_census_start(rd_kafka_t *rk, const char *topics, size_t len);
/* Stops the thread (within one broker call's timeout) and frees the census. */
void kafka_census_stop(struct kafka_census *c);
/* Calls fn for each partition of the last complete round; returns how many, or -1 when no
 * round has completed yet. */
int kafka_census_each(struct kafka_census *c, conn_kafka_partition_fn fn, void *arg);

#endif

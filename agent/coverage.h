/*
 * coverage.h -- which input partitions a window's counts account for (doc/scaling.md
 * "Coverage"): several agents share a topic's partitions, and a window is decided on all of
 * them, or says which are missing.
 *
 * A partition is accounted for, for a window whose end plus grace is `need`, when
 *   - it is this agent's (its own watermark passed need: that is why the window closes), or
 *   - its stored checkpoint (the owner's committed offset and high-water mark) has a mark at or
 *     past need: its records of the window are in the owner's committed partial, or
 *   - nothing of it is left unread: its stored next offset is at its log end, or it is empty
 *     (low == high watermark), as the last census of the brokers said --
 * and a partition another agent is reading now (its checkpoint updated within
 * AGENT_STREAM_IDLE_MS) with a mark short of need is not, whatever its offsets say: its owner
 * may still count records of the window (like one of this agent's own partitions at its end).
 * Without a census (a file, a group-less source, the brokers not answered yet) the partitions
 * are this agent's and those in the store.
 */
#ifndef DRIFTD_AGENT_COVERAGE_H
#define DRIFTD_AGENT_COVERAGE_H

#include <stddef.h>
#include <stdint.h>

#define AGENT_COVERAGE_LISTED 8	  /* missing partitions named (the count is exact) */
#define AGENT_COVERAGE_NAME   160 /* bytes of a listed name ("TOPIC/PARTITION", cut) */

/* What a window's counts account for. partitions 0: nothing is known (one stream, a file):
 * complete. */
struct agent_coverage {
	uint32_t partitions, covered;
	uint32_t nlisted; /* names in missing (the first ones, in census order) */
	char missing[AGENT_COVERAGE_LISTED][AGENT_COVERAGE_NAME];
};

/* A partition as the brokers list it. */
struct agent_census_part {
	const char *name;  /* "TOPIC/PARTITION" */
	int64_t low, high; /* watermark offsets, -1: not known */
};

/* A partition's checkpoint in the store. */
struct agent_stored_part {
	const char *name;
	int64_t next_offset; /* -1: assigned, nothing read */
	int64_t hwm_ms;	     /* -1: no record yet; INT64_MAX: a labels partition */
	int64_t updated_ms;  /* wall time of its last commit */
};

struct agent_coverage_in {
	const struct agent_census_part *census; /* NULL: no census */
	size_t ncensus;
	const struct agent_stored_part *stored;
	size_t nstored;
	/* whether the partition is this agent's (an input partition it reads) */
	int (*ours)(void *arg, const char *name);
	void *arg;
	size_t nours; /* this agent's input partitions */
	int64_t need; /* the window's end plus the grace */
	int64_t now;  /* wall ms */
};

/* Where the census comes from (the Kafka source's, through the caller): census(arg, each, earg)
 * calls each(earg, topic, partition, low, high) for every input partition and returns how many,
 * or -1 when it knows none yet. */
typedef void (*agent_census_each_fn)(void *earg, const char *topic, int32_t partition, int64_t low,
				     int64_t high);
typedef int (*agent_census_fn)(void *arg, agent_census_each_fn each, void *earg);

/* Judges the coverage of one window. */
void agent_coverage_judge(const struct agent_coverage_in *in, struct agent_coverage *out);
/* covered / partitions, 1 when partitions is 0. */
double agent_coverage_fraction(const struct agent_coverage *c);
/* Whether every partition is accounted for. */
int agent_coverage_complete(const struct agent_coverage *c);

#endif

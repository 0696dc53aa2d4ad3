/*
 * fuzz.h -- the contract of a driftd fuzz target.
 *
 * Each tests/fuzz/fuzz_<name>.c defines LLVMFuzzerTestOneInput (libFuzzer's entry point: must
 * accept any bytes without crashing, leaking or reading out of bounds, and abort() only when an
 * invariant of the code under test is broken) and fuzz_seed, which writes the i-th valid seed
 * input (i = 0, 1, ...) into buf and returns its length, 0 when there are no more seeds.
 * `make check` runs each target through tests/fuzz/replay.c: the seeds, then seeded random
 * mutations of them and random bytes (deterministic, bounded count). `make fuzz` links the same
 * file with libFuzzer for open-ended fuzzing (tests/fuzz/run-libfuzzer.sh).
 */
#ifndef DRIFTD_FUZZ_H
#define DRIFTD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t fuzz_seed(uint8_t *buf, size_t cap, unsigned i);

/* fuzz_seed for a target whose seeds are C strings: seeds[i] (cut to cap), 0 past the last. */
static inline size_t fuzz_seed_string(const char *const *seeds, size_t nseeds, uint8_t *buf,
				      size_t cap, unsigned i)
{
	size_t n;

	if (i >= nseeds)
		return 0;
	n = strlen(seeds[i]);
	if (n > cap)
		n = cap;
	memcpy(buf, seeds[i], n);
	return n;
}

/* Aborts with a message when cond is false: an invariant of the code under test is broken. */
#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif

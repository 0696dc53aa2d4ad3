/*
 * replay.c -- runs a fuzz target under `make check` without libFuzzer: every seed, then seeded
 * mutations of the seeds (bit flips, byte sets, truncations, extensions, splices) and random
 * byte strings, then every file of the committed corpus tests/fuzz/corpus/NAME. Deterministic
 * (fixed seed, bounded count) so a failure reproduces; prints TAP. Environment: FUZZ_ITERATIONS
 * (default FUZZ_REPLAY_ITERATIONS: 20000, or the target's own -DFUZZ_REPLAY_ITERATIONS=N when each
 * input is costly); FUZZ_WRITE_SEEDS=DIR writes the seeds as files into DIR and exits (to seed a
 * libFuzzer corpus, tests/fuzz/run-libfuzzer.sh).
 */
#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXLEN 65536
#ifndef FUZZ_REPLAY_ITERATIONS
#define FUZZ_REPLAY_ITERATIONS 20000
#endif

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint64_t next(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Every file of the committed corpus, $top_srcdir/tests/fuzz/corpus/NAME (the inputs fuzzing
 * found interesting, and every input that ever crashed a target: a regression test each); the
 * count. */
static unsigned replay_corpus(uint8_t *buf)
{
	const char *top = getenv("top_srcdir");
	char dir[4096], path[8192];
	struct dirent *de;
	unsigned n = 0;
	DIR *d;

	snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/%s", top ? top : ".", FUZZ_NAME);
	if (!(d = opendir(dir)))
		return 0;
	while ((de = readdir(d)) != NULL) {
		FILE *f;
		size_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (!(f = fopen(path, "rb")))
			continue;
		len = fread(buf, 1, MAXLEN, f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, len);
		n++;
	}
	closedir(d);
	return n;
}

static size_t mutate(uint8_t *buf, size_t len, const uint8_t *other, size_t olen)
{
	unsigned rounds = 1 + next() % 4;

	while (rounds--) {
		switch (next() % 6) {
		case 0: /* flip a bit */
			if (len)
				buf[next() % len] ^= (uint8_t)(1u << (next() % 8));
			break;
		case 1: /* set a byte to an interesting value */
			if (len) {
				static const uint8_t v[] = { 0, 1, 0x7f, 0x80, 0xff, 0xfe };
				buf[next() % len] = v[next() % sizeof v];
			}
			break;
		case 2: /* truncate */
			if (len)
				len = next() % len;
			break;
		case 3: /* extend with random bytes */
		{
			size_t add = next() % 16;
			for (size_t i = 0; i < add && len < MAXLEN; i++)
				buf[len++] = (uint8_t)next();
			break;
		}
		case 4: /* splice a tail of another seed */
			if (olen && len) {
				size_t at = next() % len, from = next() % olen;
				size_t n = olen - from;
				if (at + n > MAXLEN)
					n = MAXLEN - at;
				memcpy(buf + at, other + from, n);
				len = at + n;
			}
			break;
		default: /* overwrite 8 bytes (a double or a counter) */
			if (len >= 8) {
				uint64_t r = next();
				memcpy(buf + next() % (len - 7), &r, 8);
			}
			break;
		}
	}
	return len;
}

int main(void)
{
	static uint8_t seeds[64][MAXLEN];
	static uint8_t buf[MAXLEN];
	size_t seedlen[64];
	unsigned nseeds = 0;
	unsigned long iterations = FUZZ_REPLAY_ITERATIONS;
	const char *env = getenv("FUZZ_ITERATIONS");

	if (env)
		iterations = strtoul(env, NULL, 10);
	while (nseeds < 64 && (seedlen[nseeds] = fuzz_seed(seeds[nseeds], MAXLEN, nseeds)) > 0)
		nseeds++;
	if ((env = getenv("FUZZ_WRITE_SEEDS")) != NULL) {
		for (unsigned i = 0; i < nseeds; i++) {
			char path[4096];
			FILE *f;

			snprintf(path, sizeof path, "%s/seed-%u", env, i);
			f = fopen(path, "wb");
			if (!f || fwrite(seeds[i], 1, seedlen[i], f) != seedlen[i] ||
			    fclose(f) != 0) {
				fprintf(stderr, "%s: cannot write\n", path);
				return 1;
			}
		}
		return 0;
	}

	printf("1..4\n");
	for (unsigned i = 0; i < nseeds; i++)
		LLVMFuzzerTestOneInput(seeds[i], seedlen[i]);
	printf("ok 1 - %s: %u seeds\n", FUZZ_NAME, nseeds);

	for (unsigned long it = 0; it < iterations && nseeds; it++) {
		unsigned s = (unsigned)(next() % nseeds), o = (unsigned)(next() % nseeds);
		size_t len = seedlen[s];

		memcpy(buf, seeds[s], len);
		len = mutate(buf, len, seeds[o], seedlen[o]);
		LLVMFuzzerTestOneInput(buf, len);
	}
	printf("ok 2 - %s: %lu mutated inputs\n", FUZZ_NAME, nseeds ? iterations : 0ul);

	for (unsigned long it = 0; it < iterations / 4; it++) {
		size_t len = next() % 512;
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)next();
		LLVMFuzzerTestOneInput(buf, len);
	}
	printf("ok 3 - %s: %lu random inputs\n", FUZZ_NAME, iterations / 4);
	printf("ok 4 - %s: %u inputs of the committed corpus\n", FUZZ_NAME, replay_corpus(buf));
	return 0;
}

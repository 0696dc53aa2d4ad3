/*
 * hash.h -- the one fast seeded hash of short byte strings, for the open-addressing tables of
 * names: the JSON keys a decoder has seen in a record (record_simdjson.cc, seeded per decoder)
 * and the feature names of a baseline being built (agent/baseline.c). Whole 8-byte words, then
 * the tail as overlapping loads (it never reads outside the key), a multiply-xorshift finish.
 * Not for keys an adversary chooses in bulk against a long-lived table: the join table of late
 * labels uses SipHash-1-3 keyed per table (agent/join_table.h).
 */
#ifndef DRIFTD_CONN_HASH_H
#define DRIFTD_CONN_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t conn_hash(uint64_t seed, const void *key, size_t n)
{
	const unsigned char *p = (const unsigned char *)key;
	const uint64_t m = 0x9e3779b97f4a7c15ull;
	uint64_t h = seed ^ (n * m), x;
	uint32_t a, b;

	if (n >= 8) {
		for (size_t i = 0; i + 8 < n; i += 8) {
			memcpy(&x, p + i, 8);
			h = (h ^ x) * m;
			h ^= h >> 29;
		}
		memcpy(&x, p + n - 8, 8);
	} else if (n >= 4) {
		memcpy(&a, p, 4);
		memcpy(&b, p + n - 4, 4);
		x = a | (uint64_t)b << 32;
	} else if (n > 0) {
		x = (uint64_t)p[0] | (uint64_t)p[n / 2] << 8 | (uint64_t)p[n - 1] << 16;
	} else {
		x = 0;
	}
	h = (h ^ x) * 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 31);
}

#endif

/*
 * bench_labels.c -- benchmark of late labels; `make bench`, not a test.
 *
 * Measures, each the median of 5 runs (CLOCK_MONOTONIC):
 *   - agent_labels_remember of 10^6 predictions with distinct 36-byte UUID-like request ids
 *     into a table of 10^5 entries (so 90 % of them evict the oldest): the per-record cost on
 *     the inference path;
 *   - agent_labels_take of the 10^5 held entries in random order, plus as many misses;
 *   - conn_label_decode of a typical label message.
 * Prints one JSON object per line.
 */
#include "agent/join_table.h"
#include "connectors/label_decoder.h"
#include "benchutil.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define NREC	1000000 /* remembered per run */
#define NMAX	100000	/* table size */
#define RUNS	5
#define NDECODE 200000 /* label messages decoded per run */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void uuid(uint64_t *s, char out[37])
{
	uint64_t a = rng_next(s), b = rng_next(s);

	snprintf(out, 37, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(a >> 32),
		 (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xffff, (unsigned)(b >> 48),
		 (unsigned long long)(b & 0xffffffffffffull));
}

int main(void)
{
	static char rid[NREC][37];
	static unsigned order[NMAX];
	double t_rem[RUNS], t_take[RUNS], t_dec[RUNS];
	struct agent_label_match m = { 0 };
	struct conn_limits lim;
	struct conn_label_decoder *d;
	const char *msg =
	    "{\"model\":\"fraud\",\"request_id\":\"7f3a9c12-88e1-4c55-9a7b-2f0c11d0a6e3\","
	    "\"label\":1}";
	uint64_t s = 42;
	size_t bytes = 0;

	conn_limits_default(&lim);
	for (unsigned i = 0; i < NREC; i++)
		uuid(&s, rid[i]);
	for (int run = 0; run < RUNS; run++) {
		struct agent_labels *t = agent_labels_new(NMAX, 3600000, &lim);
		struct agent_labels_counters c;
		struct conn_record r;
		double t0;
		unsigned found = 0;

		if (!t)
			return 1;
		memset(&r, 0, sizeof r);
		r.model = "fraud";
		r.model_len = 5;
		r.version = "v2.4.0";
		r.version_len = 6;
		r.request_id_len = 36;
		r.prediction.kind = CONN_VALUE_NUMBER;
		t0 = now();
		for (unsigned i = 0; i < NREC; i++) {
			r.request_id = rid[i];
			r.prediction.num = i * 1e-6;
			if (agent_labels_remember(t, &r, i, 1000 + i / 1000) != 0)
				return 1;
		}
		t_rem[run] = (now() - t0) / NREC * 1e9;
		agent_labels_counters(t, &c);
		bytes = c.bytes;
		for (unsigned i = 0; i < NMAX; i++)
			order[i] = NREC - NMAX + i;
		for (unsigned i = NMAX - 1; i > 0; i--) {
			unsigned j = (unsigned)(rng_next(&s) % (i + 1)), x = order[i];

			order[i] = order[j];
			order[j] = x;
		}
		t0 = now();
		for (unsigned i = 0; i < NMAX; i++) {
			found += agent_labels_take(t, "fraud", 5, rid[order[i]], 36, 3000, &m) == 0;
			found +=
			    agent_labels_take(t, "fraud", 5, rid[i], 36, 3000, &m) == 0; /* miss */
		}
		t_take[run] = (now() - t0) / (2.0 * NMAX) * 1e9;
		if (found != NMAX)
			return 1;
		agent_labels_free(t);
	}
	agent_label_match_clear(&m);

	if (!(d = conn_label_decoder_new(&lim, NULL, 0)))
		return 1;
	for (int run = 0; run < RUNS; run++) {
		struct conn_label l;
		size_t len = strlen(msg);
		double t0 = now();

		for (unsigned i = 0; i < NDECODE; i++)
			if (conn_label_decode(d, msg, len, &l) != CONN_REJECT_NONE)
				return 1;
		t_dec[run] = (now() - t0) / NDECODE * 1e9;
	}
	conn_label_decoder_free(d);

	printf(
	    "{\"bench\":\"labels_remember\",\"entries\":%d,\"records\":%d,\"ns_per_record\":%.1f,"
	    "\"table_bytes\":%zu}\n",
	    NMAX, NREC, median(t_rem, RUNS), bytes);
	printf(
	    "{\"bench\":\"labels_take\",\"entries\":%d,\"hit_ratio\":0.5,\"ns_per_take\":%.1f}\n",
	    NMAX, median(t_take, RUNS));
	printf("{\"bench\":\"label_decode\",\"decoder\":\"jansson\",\"message_bytes\":%zu,"
	       "\"ns_per_message\":%.1f}\n",
	       strlen(msg), median(t_dec, RUNS));
	return 0;
}

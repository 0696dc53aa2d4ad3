/*
 * bench_decode.c -- benchmark of the record decoders (connectors/record.h); `make bench`, not a
 * test.
 *
 * 1000 distinct inference records are built in memory, each with the SPEC's top-level fields
 * and 22 numeric features "f00".."f21" with 3 to 5 significant digits (about 435 bytes, like
 * the record NOTES.md measured). Each decoder
 * available decodes them round-robin on one core, 200,000 records per run, 5 runs (10^6
 * records per decoder); the median run is printed as one JSON object per line:
 *   {"bench":"decode","decoder":"jansson","record_bytes":435.2,"records_per_s":...,
 *    "mbytes_per_s":...}
 * and for simdjson also "vs_jansson", its speed-up over jansson in this same process.
 * Every decode must accept its record; a checksum of the decoded values keeps the work live.
 */
#include "connectors/record.h"
#include "benchutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NRECORDS 1000	/* distinct records */
#define NFEAT	 22	/* numeric features per record */
#define PER_RUN	 200000 /* decodes per run */
#define RUNS	 5	/* runs per decoder: the median is printed */

/* ---- helpers ---- */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Record i: fixed field names, values drawn from s. Returns its length. */
static size_t make_record(char *buf, size_t cap, unsigned i, uint64_t *s)
{
	size_t n = (size_t)snprintf(buf, cap,
				    "{\"model\":\"fraud\",\"version\":\"v2.4.%u\",\"request_id\":"
				    "\"%08x\",\"ts\":%llu,\"latency_ms\":%.1f,\"prediction\":%.2f,"
				    "\"label\":%u,\"error\":false,\"features\":{",
				    i % 3, (unsigned)rng_next(s),
				    1795730000000ull + (unsigned long long)i * 37,
				    (double)(rng_next(s) % 1000) / 10,
				    (double)(rng_next(s) % 100) / 100, (unsigned)(rng_next(s) & 1));

	for (int f = 0; f < NFEAT; f++) {
		uint64_t r = rng_next(s);
		double v = (double)(r % 1000000) / (double)(1u << (r >> 60));

		n += (size_t)snprintf(buf + n, cap - n, "%s\"f%02d\":%.*g", f ? "," : "", f,
				      (int)(3 + (r >> 56) % 3), v);
	}
	n += (size_t)snprintf(buf + n, cap - n, "}}");
	return n;
}

/* Median records/s of RUNS runs of PER_RUN decodes with a decoder of the given kind. */
static double run(enum conn_decoder_kind kind, char *const *rec, const size_t *len, double *sum)
{
	struct conn_limits l;
	struct conn_decoder *d;
	double rate[RUNS];
	char err[256];

	conn_limits_default(&l);
	d = conn_decoder_new(kind, &l, err, sizeof err);
	if (!d) {
		fprintf(stderr, "bench_decode: %s\n", err);
		exit(1);
	}
	for (int r = 0; r < RUNS; r++) {
		double t0 = now();

		for (unsigned i = 0; i < PER_RUN; i++) {
			struct conn_record out;
			unsigned k = i % NRECORDS;

			if (conn_decode(d, rec[k], len[k], &out) != CONN_REJECT_NONE) {
				fprintf(stderr, "bench_decode: record %u rejected\n", k);
				exit(1);
			}
			*sum += out.features[NFEAT - 1].value.num + (double)out.nfeatures;
		}
		rate[r] = PER_RUN / (now() - t0);
	}
	conn_decoder_free(d);
	qsort(rate, RUNS, sizeof *rate, cmp_double);
	return rate[RUNS / 2];
}

int main(void)
{
	static char storage[NRECORDS][640];
	char *rec[NRECORDS];
	size_t len[NRECORDS], total = 0;
	uint64_t seed = 0x0decade5ull;
	double sum = 0, bytes, jansson;

	for (unsigned i = 0; i < NRECORDS; i++) {
		rec[i] = storage[i];
		len[i] = make_record(storage[i], sizeof storage[i], i, &seed);
		total += len[i];
	}
	bytes = (double)total / NRECORDS;

	jansson = run(CONN_DECODER_JANSSON, rec, len, &sum);
	printf("{\"bench\":\"decode\",\"decoder\":\"jansson\",\"record_bytes\":%.1f,"
	       "\"records_per_s\":%.0f,\"mbytes_per_s\":%.1f}\n",
	       bytes, jansson, jansson * bytes / 1e6);
	if (conn_decoder_available(CONN_DECODER_SIMDJSON)) {
		double sj = run(CONN_DECODER_SIMDJSON, rec, len, &sum);

		printf("{\"bench\":\"decode\",\"decoder\":\"simdjson\",\"record_bytes\":%.1f,"
		       "\"records_per_s\":%.0f,\"mbytes_per_s\":%.1f,\"vs_jansson\":%.1f}\n",
		       bytes, sj, sj * bytes / 1e6, sj / jansson);
	}
	fprintf(stderr, "bench_decode: checksum %g\n", sum);
	return 0;
}

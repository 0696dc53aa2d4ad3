/*
 * traffic.h -- a deterministic generator of inference log records for one model: the demo's
 * traffic, the end-to-end tests' input, the benchmarks' records (`driftd generate`).
 *
 * Each record has 22 features (about 435 bytes of JSON, the size the targets are stated for):
 *   amount    lognormal(mu 4, sigma 1)          (drift: the mean shifts by drift_shift sigmas)
 *   age       round(normal(41, 12)), 18..95
 *   country   categorical, 8 values, skewed      (drift: country_mix of a flatter mix)
 *   device    categorical: ios, android, web
 *   is_new    boolean, p = 0.2
 *   f06..f22  normal(0, 1) each
 * prediction = logistic(score) with score from amount, age, is_new and f06; label ~
 * Bernoulli(prediction) normally, or flipped with probability label_noise (accuracy decay);
 * latency_ms lognormal(mu ln 12, sigma 0.35) x latency_factor; error with probability error_p.
 * The same seed gives the same records.
 */
#ifndef DRIFTD_AGENT_TRAFFIC_H
#define DRIFTD_AGENT_TRAFFIC_H

#include <stddef.h>
#include <stdint.h>

struct agent_traffic {
	uint64_t rng;	       /* generator state (seed) */
	const char *model;     /* "fraud" */
	const char *version;   /* "v2.4.0" */
	double drift_shift;    /* amount drift in sigmas (0: none) */
	double country_mix;    /* 0..1: share of the drifted country mix (0: none) */
	double latency_factor; /* 1: healthy */
	double label_noise;    /* probability that a label is flipped (0: healthy) */
	double error_p;	       /* probability of "error": true */
	int with_label;	       /* write labels */
	uint64_t seq;	       /* records written (request ids) */
};

void agent_traffic_init(struct agent_traffic *t, uint64_t seed, const char *model,
			const char *version);
/* Writes one record with time ts_ms as one line (no newline) into buf; returns its length, or 0
 * when cap is too small (4096 always suffices for names up to 128 bytes). */
size_t agent_traffic_record(struct agent_traffic *t, int64_t ts_ms, char *buf, size_t cap);

#endif

/*
 * traffic.c -- the record generator (see traffic.h).
 */
#include "agent/traffic.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static uint64_t next(struct agent_traffic *t)
{
	uint64_t z = (t->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double uniform(struct agent_traffic *t)
{
	return ((double)(next(t) >> 11) + 0.5) * 0x1.0p-53;
}

static double normal(struct agent_traffic *t)
{
	return sqrt(-2.0 * log(uniform(t))) * cos(6.283185307179586 * uniform(t));
}

void agent_traffic_init(struct agent_traffic *t, uint64_t seed, const char *model,
			const char *version)
{
	memset(t, 0, sizeof *t);
	t->rng = seed;
	t->model = model;
	t->version = version;
	t->latency_factor = 1.0;
	t->error_p = 0.002;
	t->with_label = 1;
}

static const char *country(struct agent_traffic *t)
{
	static const char *const names[] = { "DE", "FR", "US", "GB", "ES", "IT", "NL", "PL" };
	/* healthy mix, and the drifted one (more of the tail countries) */
	static const double healthy[] = { 0.30, 0.20, 0.15, 0.12, 0.08, 0.07, 0.05, 0.03 };
	static const double drifted[] = { 0.10, 0.10, 0.10, 0.10, 0.15, 0.15, 0.15, 0.15 };
	double u = uniform(t), acc = 0;
	double mix = t->country_mix < 0 ? 0 : t->country_mix > 1 ? 1 : t->country_mix;

	for (int i = 0; i < 8; i++) {
		acc += (1 - mix) * healthy[i] + mix * drifted[i];
		if (u < acc)
			return names[i];
	}
	return names[7];
}

size_t agent_traffic_record(struct agent_traffic *t, int64_t ts_ms, char *buf, size_t cap)
{
	static const char *const devices[] = { "ios", "android", "web" };
	double amount = exp(4.0 + 1.0 * (normal(t) + t->drift_shift));
	double age = round(41 + 12 * normal(t));
	const char *c = country(t), *dev = devices[next(t) % 3];
	int is_new = uniform(t) < 0.2;
	double f[17], score, pred, latency;
	int label, err;
	size_t o = 0;
	int n;

	age = age < 18 ? 18 : age > 95 ? 95 : age;
	for (int i = 0; i < 17; i++)
		f[i] = normal(t);
	score = -1.2 + 0.35 * (log(amount) - 4.0) + 0.02 * (age - 41) + 0.8 * is_new + 0.5 * f[0];
	pred = 1.0 / (1.0 + exp(-score));
	label = uniform(t) < pred;
	if (t->label_noise > 0 && uniform(t) < t->label_noise)
		label = !label;
	latency = 12.0 * exp(0.35 * normal(t)) * t->latency_factor;
	err = uniform(t) < t->error_p;
	t->seq++;

	n = snprintf(buf, cap,
		     "{\"model\":\"%s\",\"version\":\"%s\",\"request_id\":\"r%" PRIu64 "\","
		     "\"ts\":%" PRId64 ",\"latency_ms\":%.2f,\"prediction\":%.4f,",
		     t->model, t->version, t->seq, ts_ms, latency, pred);
	if (n < 0 || (size_t)n >= cap)
		return 0;
	o = (size_t)n;
	if (t->with_label) {
		n = snprintf(buf + o, cap - o, "\"label\":%d,", label);
		if (n < 0 || (size_t)n >= cap - o)
			return 0;
		o += (size_t)n;
	}
	n = snprintf(buf + o, cap - o,
		     "\"error\":%s,\"features\":{\"amount\":%.2f,\"age\":%.0f,\"country\":\"%s\","
		     "\"device\":\"%s\",\"is_new\":%s",
		     err ? "true" : "false", amount, age, c, dev, is_new ? "true" : "false");
	if (n < 0 || (size_t)n >= cap - o)
		return 0;
	o += (size_t)n;
	for (int i = 0; i < 17; i++) {
		n = snprintf(buf + o, cap - o, ",\"f%02d\":%.3f", i + 6, f[i]);
		if (n < 0 || (size_t)n >= cap - o)
			return 0;
		o += (size_t)n;
	}
	if (cap - o < 3)
		return 0;
	buf[o++] = '}';
	buf[o++] = '}';
	buf[o] = '\0';
	return o;
}

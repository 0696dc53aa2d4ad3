/*
 * generate.c -- `driftd generate` (see generate.h).
 */
#include "agent/generate.h"
#include "agent/traffic.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A number option's value; 0, or -1 when it is not a finite number within [lo, hi]. */
static int num_arg(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int agent_generate_main(int argc, char **argv, FILE *out, FILE *err)
{
	const char *model = "fraud", *version = "v2.4.0";
	double records = 10000, start = 1795730000000.0, rate = 1000, seed = 1;
	double drift = 0, mix = 0, latency = 1, noise = 0;
	int with_label = 1;
	struct agent_traffic t;
	char buf[4096];

	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int bad = 0;

		if (!strcmp(o, "--no-label")) {
			with_label = 0;
			continue;
		}
		if (!v)
			bad = 1;
		else if (!strcmp(o, "--model"))
			model = v;
		else if (!strcmp(o, "--version"))
			version = v;
		else if (!strcmp(o, "--records"))
			bad = num_arg(v, 0, 1e12, &records);
		else if (!strcmp(o, "--start-ms"))
			bad = num_arg(v, 0, 9e15, &start);
		else if (!strcmp(o, "--rate"))
			bad = num_arg(v, 1e-3, 1e9, &rate);
		else if (!strcmp(o, "--seed"))
			bad = num_arg(v, 0, 9e15, &seed);
		else if (!strcmp(o, "--drift"))
			bad = num_arg(v, -10, 10, &drift);
		else if (!strcmp(o, "--country-mix"))
			bad = num_arg(v, 0, 1, &mix);
		else if (!strcmp(o, "--latency-factor"))
			bad = num_arg(v, 0, 1000, &latency);
		else if (!strcmp(o, "--label-noise"))
			bad = num_arg(v, 0, 1, &noise);
		else
			bad = 1;
		if (bad) {
			fprintf(err, "driftd generate: bad option or value: %s%s%s\n", o,
				v ? " " : "", v ? v : "");
			return 2;
		}
		i++;
	}
	agent_traffic_init(&t, (uint64_t)seed, model, version);
	t.drift_shift = drift;
	t.country_mix = mix;
	t.latency_factor = latency;
	t.label_noise = noise;
	t.with_label = with_label;
	for (uint64_t k = 0; k < (uint64_t)records; k++) {
		int64_t ts = (int64_t)start + (int64_t)floor((double)k * 1000.0 / rate);
		size_t n = agent_traffic_record(&t, ts, buf, sizeof buf);

		if (n == 0) {
			fprintf(err, "driftd generate: model or version name too long\n");
			return 2;
		}
		buf[n] = '\n';
		if (fwrite(buf, 1, n + 1, out) != n + 1) {
			fprintf(err, "driftd generate: write error\n");
			return 1;
		}
	}
	return 0;
}

/*
 * generate.c -- `driftd generate` (see generate.h): its options (getopt_long, cmdline.h), then
 * the records.
 */
#include "agent/generate.h"
#include "agent/cmdline.h"
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

enum {
	OPT_MODEL = 256,
	OPT_VERSION,
	OPT_RECORDS,
	OPT_START_MS,
	OPT_RATE,
	OPT_SEED,
	OPT_DRIFT,
	OPT_COUNTRY_MIX,
	OPT_LATENCY_FACTOR,
	OPT_LABEL_NOISE,
	OPT_NO_LABEL,
};

static const struct option options[] = {
	{ "model", required_argument, NULL, OPT_MODEL },
	{ "version", required_argument, NULL, OPT_VERSION },
	{ "records", required_argument, NULL, OPT_RECORDS },
	{ "start-ms", required_argument, NULL, OPT_START_MS },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "drift", required_argument, NULL, OPT_DRIFT },
	{ "country-mix", required_argument, NULL, OPT_COUNTRY_MIX },
	{ "latency-factor", required_argument, NULL, OPT_LATENCY_FACTOR },
	{ "label-noise", required_argument, NULL, OPT_LABEL_NOISE },
	{ "no-label", no_argument, NULL, OPT_NO_LABEL },
	{ NULL, 0, NULL, 0 },
};

/* What to generate. */
struct gen {
	const char *model, *version;
	double records, start, rate, seed;
	double drift, mix, latency, noise;
	int with_label;
};

/* Stores the value of option r (optarg); 0, or -1 when it is out of range. */
static int set_option(struct gen *g, int r, const char *v)
{
	switch (r) {
	case OPT_MODEL:
		g->model = v;
		return 0;
	case OPT_VERSION:
		g->version = v;
		return 0;
	case OPT_RECORDS:
		return num_arg(v, 0, 1e12, &g->records);
	case OPT_START_MS:
		return num_arg(v, 0, 9e15, &g->start);
	case OPT_RATE:
		return num_arg(v, 1e-3, 1e9, &g->rate);
	case OPT_SEED:
		return num_arg(v, 0, 9e15, &g->seed);
	case OPT_DRIFT:
		return num_arg(v, -10, 10, &g->drift);
	case OPT_COUNTRY_MIX:
		return num_arg(v, 0, 1, &g->mix);
	case OPT_LATENCY_FACTOR:
		return num_arg(v, 0, 1000, &g->latency);
	case OPT_LABEL_NOISE:
		return num_arg(v, 0, 1, &g->noise);
	case OPT_NO_LABEL:
		g->with_label = 0;
		return 0;
	default:
		return -1;
	}
}

/* Parses argv into g: 0, or 2 with a message on err. */
static int parse(struct gen *g, int argc, char **argv, FILE *err)
{
	int r, at;

	agent_cmdline_reset();
	while ((r = agent_cmdline_next(argc, argv, "-:", options, &at)) != -1) {
		const struct option *o = agent_cmdline_find(options, r);

		if (r == 1 || r == '?' || r == ':' || set_option(g, r, optarg) < 0) {
			/* the argument as given: "--rate x", "--rate=x", "--frob" */
			fprintf(err, "driftd generate: bad option or value: %s%s%s\n", argv[at],
				o && o->has_arg && at + 1 == optind - 1 ? " " : "",
				o && o->has_arg && at + 1 == optind - 1 ? optarg : "");
			return 2;
		}
	}
	if (optind < argc) { /* after "--" */
		fprintf(err, "driftd generate: bad option or value: %s\n", argv[optind]);
		return 2;
	}
	return 0;
}

int agent_generate_main(int argc, char **argv, FILE *out, FILE *err)
{
	struct gen g = { .model = "fraud",
			 .version = "v2.4.0",
			 .records = 10000,
			 .start = 1795730000000.0,
			 .rate = 1000,
			 .seed = 1,
			 .latency = 1,
			 .with_label = 1 };
	struct agent_traffic t;
	char buf[4096];
	int rc = parse(&g, argc, argv, err);

	if (rc != 0)
		return rc;
	agent_traffic_init(&t, (uint64_t)g.seed, g.model, g.version);
	t.drift_shift = g.drift;
	t.country_mix = g.mix;
	t.latency_factor = g.latency;
	t.label_noise = g.noise;
	t.with_label = g.with_label;
	for (uint64_t k = 0; k < (uint64_t)g.records; k++) {
		int64_t ts = (int64_t)g.start + (int64_t)floor((double)k * 1000.0 / g.rate);
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

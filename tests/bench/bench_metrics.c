/*
 * bench_metrics.c -- benchmark of the /metrics renderer (agent/metrics.h); `make bench`, not a
 * test. One JSON object per line.
 *
 * Snapshots shaped like a busy agent: P (model, version) pairs, each with F features plus the
 * prediction (KL, PSI, JS and n each: 4 series per feature), latency quantiles, accuracy,
 * error and target-missing ratios, 5 enabled rules, rollback counters; realistic names
 * ("fraud-detector-7", "v2.4.3", "feature_0042_amount") and scores with full-precision doubles
 * (the slow path of the number formatting). Two sizes: about 10,000 series (the scrape
 * target: <= 10 ms) and 64 x 50 (the default max_models with 50 features).
 *
 * Per size and format (Prometheus text 0.0.4 and OpenMetrics 1.0): the series and bytes of the
 * page, the median and p99 of the render time over RUNS renders (CLOCK_MONOTONIC), and ns per
 * series. Each render includes its malloc/free of the page, as the agent pays it.
 *
 * Then, per size, the reference the renderer's own double formatting (agent/metrics.c
 * fmt_double) is measured against: the page's non-integral values formatted the standard way
 * (printf "%.15g", strtod back, "%.17g" when it does not read back) -- the median time of
 * formatting all of them, beside the page's render median of the same run. When that time is
 * a large part of the render, fmt_double earns its lines.
 */
#include "agent/metrics.h"
#include "benchutil.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUNS 200

struct fixture {
	struct agent_counters k;
	struct agent_metrics m;
	struct agent_metrics_pair *pairs;
	struct agent_window_summary *sums; /* the pairs' last decided windows */
	struct agent_feature_summary *feats;
	char *names; /* storage of every string */
};

static double frand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (double)((z ^ (z >> 31)) >> 11) * 0x1p-53;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_metrics: %s\n", what);
	exit(1);
}

static void make(struct fixture *x, size_t npairs, size_t nfeat)
{
	size_t per = nfeat + 1;
	char *n;
	uint64_t seed = 42;

	memset(x, 0, sizeof *x);
	x->pairs = calloc(npairs, sizeof *x->pairs);
	x->sums = calloc(npairs, sizeof *x->sums);
	x->feats = calloc(npairs * per, sizeof *x->feats);
	x->names = malloc(npairs * (per + 2) * 48);
	if (!x->pairs || !x->sums || !x->feats || !x->names)
		die("out of memory");
	n = x->names;
	x->k.records = 123456789;
	x->k.accepted = 123456000;
	x->k.rejected[1] = 789;
	for (size_t i = 0; i < npairs; i++) {
		struct agent_metrics_pair *mp = &x->pairs[i];
		struct agent_window_summary *p = &x->sums[i];

		mp->last = p;
		mp->model = n;
		n += sprintf(n, "fraud-detector-%zu", i / 2) + 1;
		mp->version = n;
		n += sprintf(n, "v2.4.%zu", i % 2) + 1;
		p->window_end_ms = 1795730040000;
		p->samples = 12840;
		p->features = x->feats + i * per;
		p->nfeatures = per;
		for (size_t j = 0; j < per; j++) {
			struct agent_feature_summary *f = &x->feats[i * per + j];

			f->name = n;
			if (j == nfeat)
				n += sprintf(n, "__prediction__") + 1;
			else
				n += sprintf(n, "feature_%04zu_amount", j) + 1;
			f->kl = frand(&seed) * 0.3;
			f->psi = frand(&seed) * 0.5;
			f->js = frand(&seed) * 0.2;
			f->n = 12840;
		}
		p->p50 = 0.0127;
		p->p95 = 0.0251 + frand(&seed) * 1e-3;
		p->p99 = 0.04;
		p->p95_ratio = 1.0 + frand(&seed) * 0.2;
		p->accuracy = 0.9 + frand(&seed) * 0.05;
		p->accuracy_delta = frand(&seed) * 0.02 - 0.01;
		p->error_ratio = frand(&seed) * 0.01;
		p->target_missing = frand(&seed);
		for (int r = 0; r < AGENT_RULE_COUNT; r++) {
			p->rule_enabled[r] = r != AGENT_RULE_PSI;
			p->rule_state[r] = AGENT_PASS;
			p->rule_value[r] = frand(&seed);
			p->rule_threshold[r] = 0.2;
			p->rule_n[r] = 12840;
		}
	}
	x->m.k = &x->k;
	x->m.pairs = x->pairs;
	x->m.npairs = npairs;
	x->m.pairs_tracked = npairs;
	x->m.pairs_max = 64;
	x->m.kl_threshold = 0.2;
	x->m.psi_threshold = 0.25;
	x->m.js_threshold = 0.1;
	x->m.start_time_s = 1795729000.25;
	x->m.redis_up = 1;
	x->m.kafka_ready = 1;
}

static size_t count_series(const char *page)
{
	size_t n = 0;

	for (const char *p = page; *p; p = strchr(p, '\n') + 1)
		n += *p != '#';
	return n;
}

/* The non-integral finite values of page's samples into a malloc'd array (*n of them). */
static double *page_doubles(const char *page, size_t *n)
{
	size_t cap = 1024, k = 0;
	double *v = malloc(cap * sizeof *v);

	for (const char *p = page; v && *p; p = strchr(p, '\n') + 1) {
		const char *nl = strchr(p, '\n'), *sp = nl;
		double x;

		while (sp > p && sp[-1] != ' ')
			sp--;
		if (*p == '#' || sp == p)
			continue;
		x = strtod(sp, NULL);
		if (!isfinite(x) || x == (double)(int64_t)x)
			continue;
		if (k == cap) {
			double *g = realloc(v, 2 * cap * sizeof *v);

			if (!g)
				die("out of memory");
			v = g;
			cap *= 2;
		}
		v[k++] = x;
	}
	if (!v)
		die("out of memory");
	*n = k;
	return v;
}

/* The standard formatting of v[0..n), as the renderer would do it without fmt_double: the median
 * time of one pass over all of them. */
static double printf_pass(const double *v, size_t n)
{
	double t[RUNS / 4];
	char buf[40];
	size_t bytes = 0;

	for (int r = 0; r < RUNS / 4; r++) {
		double t0 = now();

		for (size_t i = 0; i < n; i++) {
			int len = snprintf(buf, sizeof buf, "%.15g", v[i]);

			if (strtod(buf, NULL) != v[i])
				len = snprintf(buf, sizeof buf, "%.17g", v[i]);
			bytes += (size_t)len;
		}
		t[r] = now() - t0;
	}
	if (bytes == 0)
		die("no doubles");
	return median(t, RUNS / 4);
}

static void run(const char *name, size_t npairs, size_t nfeat)
{
	struct fixture x;

	make(&x, npairs, nfeat);
	for (int om = 0; om <= 1; om++) {
		double t[RUNS];
		char *page;
		size_t len, series;

		/* warm-up, and the page's size */
		if (agent_metrics_render(&x.m, om, &page, &len) < 0)
			die("out of memory");
		series = count_series(page);
		free(page);
		for (int i = 0; i < RUNS; i++) {
			double t0 = now();

			if (agent_metrics_render(&x.m, om, &page, &len) < 0)
				die("out of memory");
			t[i] = now() - t0;
			free(page);
		}
		qsort(t, RUNS, sizeof *t, cmp_double);
		if (!om) { /* the standard formatting of the same page's doubles, same run */
			size_t nd;
			double *d, pass;

			if (agent_metrics_render(&x.m, om, &page, &len) < 0)
				die("out of memory");
			d = page_doubles(page, &nd);
			free(page);
			pass = printf_pass(d, nd);
			free(d);
			printf("{\"bench\":\"metrics_doubles_printf\",\"snapshot\":\"%s\","
			       "\"doubles\":%zu,\"printf_ms\":%.3f,\"ns_per_double\":%.0f,"
			       "\"render_median_ms\":%.3f}\n",
			       name, nd, pass * 1e3, pass * 1e9 / (double)nd, t[RUNS / 2] * 1e3);
		}
		printf("{\"bench\":\"metrics_render\",\"snapshot\":\"%s\",\"pairs\":%zu,"
		       "\"features_per_pair\":%zu,\"format\":\"%s\",\"series\":%zu,\"bytes\":%zu,"
		       "\"median_ms\":%.3f,\"p99_ms\":%.3f,\"ns_per_series\":%.0f,"
		       "\"target_ms\":10}\n",
		       name, npairs, nfeat + 1, om ? "openmetrics" : "text", series, len,
		       t[RUNS / 2] * 1e3, t[RUNS * 99 / 100] * 1e3,
		       t[RUNS / 2] * 1e9 / (double)series);
	}
	free(x.pairs);
	free(x.sums);
	free(x.feats);
	free(x.names);
}

int main(void)
{
	run("10k", 44, 50);
	run("64x50", 64, 50);
	return 0;
}

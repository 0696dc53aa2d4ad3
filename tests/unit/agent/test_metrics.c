/*
 * test_metrics.c -- the /metrics renderer (agent/metrics.h) in both formats: exact sample lines
 * written from SPEC.md and doc/metrics.md, HELP/TYPE once per family and families contiguous,
 * escaping and UTF-8 repair of label values, NaN samples omitted, determinism whatever the
 * order of the snapshot's arrays, duplicates dropped -- and validity checked by real consumers:
 * `promtool check metrics` (Debian prometheus) on the text 0.0.4 page, and the OpenMetrics
 * parser of Debian's python3-prometheus-client (tests/tools/check-openmetrics.py) on the
 * OpenMetrics page, which also checks that both pages carry the same samples. Those two are
 * skipped only when the tool is not installed.
 */
#include "agent/metrics.h"
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the snapshot: two pairs, one plain, one with NaNs and odd strings ---- */

static struct agent_counters k;
static struct agent_feature_summary fa[3], fb[4];
static struct agent_window_summary sums[2]; /* their last decided windows */
static struct agent_metrics_pair pairs[2];
static struct agent_metrics_lag lags[3];
static struct agent_metrics_http_route routes[2];
static struct agent_metrics snap;

#define ODD_MODEL   "we\"ird\\model\nx"
#define ODD_VERSION "v1 \xc3\xa9t\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac" /* "v1 été 日本" */
#define BAD_UTF8    "bad\xff\xc0\xafz"				    /* 0xff, overlong '/' */

static void fill(void)
{
	memset(&k, 0, sizeof k);
	k.records = 1000;
	k.accepted = 950;
	k.rejected[CONN_REJECT_BAD_JSON] = 7;
	k.rejected[AGENT_REJECT_TOO_MANY_MODELS] = 3;
	k.late = 5;
	k.windows = 12;
	k.events = 2;
	k.duplicates = 1;
	k.event_retries = 6;
	k.checkpoints = 40;
	k.checkpoint_ns = 1500000000; /* 1.5 s */
	k.labels = 77;
	k.labels_rejected[CONN_REJECT_BAD_MODEL] = 4;
	k.labels_rejected[CONN_REJECT_BAD_TS] = 1; /* not a label decoder's reason: shown */
	k.labels_joined = 70;

	fa[0] = (struct agent_feature_summary){ "amount", 0.34, 0.5, 0.125, 12840, 3 };
	fa[1] = (struct agent_feature_summary){ "country", 0.01, 0.02, 0.03, 12000, 0 };
	fa[2] = (struct agent_feature_summary){ "__prediction__", 1e-12, NAN, NAN, 12840, 0 };
	sums[0] = (struct agent_window_summary){ .window_end_ms = 1795730040500,
						 .samples = 12840,
						 .features = fa,
						 .nfeatures = 3,
						 .p50 = 0.0127,
						 .p95 = 0.0251,
						 .p99 = 0.04,
						 .p95_ratio = 1.2,
						 .accuracy = 0.91,
						 .accuracy_delta = -0.03,
						 .error_ratio = 0.001,
						 .target_missing = 0.25 };
	pairs[0] =
	    (struct agent_metrics_pair){ .model = "fraud", .version = "v2.4.0", .last = &sums[0] };
	sums[0].rule_enabled[AGENT_RULE_KL] = 1;
	sums[0].rule_state[AGENT_RULE_KL] = AGENT_BREACH;
	sums[0].rule_value[AGENT_RULE_KL] = 0.34;
	sums[0].rule_threshold[AGENT_RULE_KL] = 0.2;
	sums[0].rule_n[AGENT_RULE_KL] = 12840;
	pairs[0].rule_streak[AGENT_RULE_KL] = 1;
	sums[0].rule_enabled[AGENT_RULE_LATENCY] = 1;
	sums[0].rule_state[AGENT_RULE_LATENCY] = AGENT_BREACH;
	sums[0].rule_value[AGENT_RULE_LATENCY] = 1.2;
	sums[0].rule_threshold[AGENT_RULE_LATENCY] = 1.15;
	sums[0].rule_n[AGENT_RULE_LATENCY] = 12840;
	sums[0].rule_enabled[AGENT_RULE_ACCURACY] = 1;
	sums[0].rule_state[AGENT_RULE_ACCURACY] = AGENT_INCONCLUSIVE;
	sums[0].rule_value[AGENT_RULE_ACCURACY] = NAN;
	sums[0].rule_threshold[AGENT_RULE_ACCURACY] = 0.05;
	pairs[0].rollbacks[AGENT_METRICS_DRYRUN] = 2;

	fb[0] = (struct agent_feature_summary){ "a\\b\"c\nd", 0.1, 0.2, 0.3, 300, 0 };
	fb[1] = (struct agent_feature_summary){ "\xc3\xa9l\xc3\xa9ment", NAN, NAN, NAN, 10, 0 };
	fb[2] = (struct agent_feature_summary){ BAD_UTF8, 0.5, 0.6, 0.7, 300, 0 };
	fb[3] = (struct agent_feature_summary){ "__prediction__", 0.3, 0.3, 0.3, 300, 0 };
	sums[1] = (struct agent_window_summary){ .window_end_ms = 1795730040000,
						 .samples = 300,
						 .features = fb,
						 .nfeatures = 4,
						 .p50 = NAN,
						 .p95 = NAN,
						 .p99 = NAN,
						 .p95_ratio = INFINITY,
						 .accuracy = NAN,
						 .accuracy_delta = NAN,
						 .error_ratio = NAN,
						 .target_missing = NAN };
	pairs[1] = (struct agent_metrics_pair){ .model = ODD_MODEL,
						.version = ODD_VERSION,
						.last = &sums[1] };
	for (int r = 0; r < AGENT_RULE_COUNT; r++) {
		sums[1].rule_enabled[r] = r != AGENT_RULE_PSI;
		sums[1].rule_state[r] = AGENT_INCONCLUSIVE;
		sums[1].rule_value[r] = NAN;
		sums[1].rule_threshold[r] = 0.1 + 0.2; /* 0.30000000000000004 */
	}

	lags[0] = (struct agent_metrics_lag){ "inference", 1, 42 };
	lags[1] = (struct agent_metrics_lag){ "inference", 0, 0 };
	lags[2] = (struct agent_metrics_lag){ "inference", 2, -1 };
	routes[0] = (struct agent_metrics_http_route){ "/metrics", 10, 0 };
	routes[1] = (struct agent_metrics_http_route){ "/alertmanager", 3, 1 };

	memset(&snap, 0, sizeof snap);
	snap.k = &k;
	snap.pairs = pairs;
	snap.npairs = 2;
	snap.pairs_tracked = 3;
	snap.pairs_max = 64;
	snap.kl_threshold = 0.2;
	snap.psi_threshold = 0.25;
	snap.js_threshold = 0.1;
	snap.start_time_s = 1795729000.25;
	snap.redis_up = 1;
	snap.kafka_ready = 0;
	snap.lag = lags;
	snap.nlag = 3;
	snap.http_routes = routes;
	snap.nhttp_routes = 2;
	snap.http_not_found = 4;
	snap.alerts_received = 6;
	snap.alerts_rejected[CONN_AM_BAD_JSON] = 2;
	snap.alerts_acted = 1;
}

/* An agent that has decided nothing yet, without Kafka, Redis nor HTTP: every family still
 * present (no sample for the per-pair ones), the page valid. */
static struct agent_metrics empty_snapshot(void)
{
	struct agent_metrics m;

	memset(&m, 0, sizeof m);
	m.kl_threshold = 0.2;
	m.psi_threshold = 0.25;
	m.js_threshold = 0.1;
	m.redis_up = -1;
	m.kafka_ready = -1;
	return m;
}

/* splitmix64 */
static uint64_t rng(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static char *render(const struct agent_metrics *m, int om)
{
	char *out = NULL;
	size_t len = 0;

	assert_int_equal(agent_metrics_render(m, om, &out, &len), 0);
	assert_non_null(out);
	assert_int_equal(strlen(out), len);
	return out;
}

static void has(const char *page, const char *text)
{
	if (!strstr(page, text))
		fail_msg("missing from the page: %s", text);
}

static void hasnt(const char *page, const char *text)
{
	if (strstr(page, text))
		fail_msg("unexpected in the page: %s", text);
}

static size_t count(const char *page, const char *text)
{
	size_t n = 0;

	for (const char *p = strstr(page, text); p; p = strstr(p + 1, text))
		n++;
	return n;
}

/* ---- exact lines ---- */

static void test_text_lines(void **state)
{
	char *p;

	(void)state;
	fill();
	p = render(&snap, 0);
	has(p, "# HELP driftd_records_total Inference log messages received\n"
	       "# TYPE driftd_records_total counter\n"
	       "driftd_records_total 1000\n");
	has(p, "\ndriftd_records_accepted_total 950\n");
	has(p, "\ndriftd_records_rejected_total{reason=\"bad_json\"} 7\n");
	has(p, "\ndriftd_records_rejected_total{reason=\"too_many_models\"} 3\n");
	has(p, "\ndriftd_records_rejected_total{reason=\"too_large\"} 0\n");
	has(p, "\ndriftd_labels_rejected_total{reason=\"bad_model\"} 4\n");
	has(p, "\ndriftd_checkpoint_seconds_total 1.5\n");
	has(p, "\ndriftd_event_retries_total 6\n");
	has(p, "\ndriftd_start_time_seconds 1795729000.25\n");
	has(p, "# TYPE driftd_build_info gauge\ndriftd_build_info{version=\"");
	has(p, "# TYPE driftd_feature_kl gauge\n"
	       "driftd_feature_kl{model=\"fraud\",version=\"v2.4.0\",feature=\"__prediction__\"} "
	       "1e-12\n"
	       "driftd_feature_kl{model=\"fraud\",version=\"v2.4.0\",feature=\"amount\"} 0.34\n");
	has(p, "\ndriftd_feature_kl_threshold 0.2\n");
	has(p, "\ndriftd_feature_psi_threshold 0.25\n");
	has(p,
	    "\ndriftd_feature_js{model=\"fraud\",version=\"v2.4.0\",feature=\"amount\"} 0.125\n");
	has(p, "\ndriftd_feature_samples{model=\"fraud\",version=\"v2.4.0\",feature=\"country\"} "
	       "12000\n");
	has(p, "\ndriftd_feature_nonfinite{model=\"fraud\",version=\"v2.4.0\",feature=\"amount\"} "
	       "3\n");
	has(p, "\ndriftd_feature_nonfinite{model=\"fraud\",version=\"v2.4.0\",feature=\"country\"} "
	       "0\n");
	has(p,
	    "# TYPE driftd_latency_seconds summary\n"
	    "driftd_latency_seconds{model=\"fraud\",version=\"v2.4.0\",quantile=\"0.5\"} 0.0127\n"
	    "driftd_latency_seconds{model=\"fraud\",version=\"v2.4.0\",quantile=\"0.95\"} 0.0251\n"
	    "driftd_latency_seconds{model=\"fraud\",version=\"v2.4.0\",quantile=\"0.99\"} 0.04\n"
	    "# HELP driftd_latency_p95_ratio ");
	has(p, "\ndriftd_window_samples{model=\"fraud\",version=\"v2.4.0\"} 12840\n");
	has(p, "\ndriftd_window_end_timestamp_seconds{model=\"fraud\",version=\"v2.4.0\"} "
	       "1795730040.5\n");
	has(p, "\ndriftd_accuracy_delta{model=\"fraud\",version=\"v2.4.0\"} -0.03\n");
	has(p, "\ndriftd_target_missing_ratio{model=\"fraud\",version=\"v2.4.0\"} 0.25\n");
	has(p, "\ndriftd_rule_state{model=\"fraud\",version=\"v2.4.0\",rule=\"kl\"} 1\n");
	has(p, "\ndriftd_rule_state{model=\"fraud\",version=\"v2.4.0\",rule=\"accuracy\"} 2\n");
	has(p, "\ndriftd_rule_score{model=\"fraud\",version=\"v2.4.0\",rule=\"latency\"} 1.2\n");
	has(p, "\ndriftd_rule_threshold{model=\"fraud\",version=\"v2.4.0\",rule=\"latency\"} "
	       "1.15\n");
	has(p, "\ndriftd_rule_samples{model=\"fraud\",version=\"v2.4.0\",rule=\"kl\"} 12840\n");
	has(p, "\ndriftd_rule_streak{model=\"fraud\",version=\"v2.4.0\",rule=\"kl\"} 1\n");
	has(p, "\ndriftd_rollbacks_total{model=\"fraud\",version=\"v2.4.0\",type=\"dryrun\"} 2\n");
	has(p,
	    "\ndriftd_rollbacks_total{model=\"fraud\",version=\"v2.4.0\",type=\"rollback\"} 0\n");
	/* lag: sorted by partition, unknown omitted */
	has(p, "# TYPE driftd_kafka_consumer_lag gauge\n"
	       "driftd_kafka_consumer_lag{topic=\"inference\",partition=\"0\"} 0\n"
	       "driftd_kafka_consumer_lag{topic=\"inference\",partition=\"1\"} 42\n"
	       "# HELP driftd_redis_up");
	has(p, "\ndriftd_kafka_ready 0\n");
	has(p, "\ndriftd_redis_up 1\n");
	has(p, "# TYPE driftd_http_requests_total counter\n"
	       "driftd_http_requests_total{path=\"/alertmanager\"} 3\n"
	       "driftd_http_requests_total{path=\"/metrics\"} 10\n");
	has(p, "\ndriftd_alerts_rejected_total{reason=\"bad_json\"} 2\n");
	has(p, "\ndriftd_alerts_acted_total 1\n");
	hasnt(p, "# EOF");
	free(p);
}

static void test_every_reason(void **state)
{
	char *p, line[128];

	(void)state;
	fill();
	p = render(&snap, 0);
	for (int i = 1; i < AGENT_REJECT_COUNT; i++) {
		snprintf(line, sizeof line, "\ndriftd_records_rejected_total{reason=\"%s\"} ",
			 agent_reject_name(i));
		assert_int_equal(count(p, line), 1);
	}
	/* labels: the label decoder's reasons always, another one only when not 0 */
	for (int i = 1; i < AGENT_REJECT_COUNT; i++) {
		int always = i <= CONN_REJECT_BAD_MODEL || i == CONN_REJECT_BAD_REQUEST_ID ||
			     i == CONN_REJECT_BAD_LABEL;

		snprintf(line, sizeof line, "\ndriftd_labels_rejected_total{reason=\"%s\"} ",
			 agent_reject_name(i));
		assert_int_equal(count(p, line), always || i == CONN_REJECT_BAD_TS);
	}
	for (int i = 1; i < CONN_AM_REJECT_COUNT; i++) {
		snprintf(line, sizeof line, "\ndriftd_alerts_rejected_total{reason=\"%s\"} ",
			 conn_am_reject_name((enum conn_am_reject)i));
		assert_int_equal(count(p, line), 1);
	}
	free(p);
}

static void test_escaping_and_nan(void **state)
{
	char *p;

	(void)state;
	fill();
	p = render(&snap, 0);
	/* \ " and newline escaped, valid UTF-8 kept */
	has(p, "\ndriftd_window_samples{model=\"we\\\"ird\\\\model\\nx\",version=\"v1 "
	       "\xc3\xa9t\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac\"} 300\n");
	has(p, ",feature=\"a\\\\b\\\"c\\nd\"} 0.1\n");
	has(p, ",feature=\"\xc3\xa9l\xc3\xa9ment\"} 10\n"); /* samples, though every score NaN */
	/* invalid UTF-8: each bad byte becomes U+FFFD */
	has(p, ",feature=\"bad\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz\"} 0.5\n");
	hasnt(p, "\xff");
	/* numbers */
	has(p, "\ndriftd_latency_p95_ratio{model=\"we\\\"ird\\\\model\\nx\",version=\"v1 "
	       "\xc3\xa9t\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac\"} +Inf\n");
	has(p, ",rule=\"kl\"} 0.30000000000000004\n");
	/* NaN: never printed, its sample omitted */
	hasnt(p, "NaN");
	hasnt(p, " nan\n");
	hasnt(p, " inf\n");
	assert_int_equal(count(p, "\ndriftd_feature_kl{"), 6);	/* 3 + 3 (élément has none) */
	assert_int_equal(count(p, "\ndriftd_feature_psi{"), 5); /* __prediction__ of fraud: NaN */
	assert_int_equal(count(p, "\ndriftd_feature_samples{"), 7);
	assert_int_equal(count(p, "\ndriftd_latency_seconds{"), 3);
	assert_int_equal(count(p, "\ndriftd_accuracy{"), 1);
	assert_int_equal(count(p, "\ndriftd_error_ratio{"), 1);
	assert_int_equal(count(p, "\ndriftd_window_samples{"), 2);
	/* only enabled rules; a NaN score omitted, its state, threshold, samples kept */
	assert_int_equal(count(p, "\ndriftd_rule_state{"), 3 + 5);
	assert_int_equal(count(p, "\ndriftd_rule_score{"), 2);
	assert_int_equal(count(p, "\ndriftd_rule_threshold{"), 3 + 5);
	assert_int_equal(count(p, "\ndriftd_rule_samples{"), 3 + 5);
	hasnt(p, "rule=\"psi\"");
	assert_int_equal(count(p, "\ndriftd_rollbacks_total{"), 6);
	free(p);
}

static void test_openmetrics_lines(void **state)
{
	char *p;
	size_t n;

	(void)state;
	fill();
	p = render(&snap, 1);
	has(p, "# TYPE driftd_records counter\n"
	       "# HELP driftd_records Inference log messages received\n"
	       "driftd_records_total 1000\n");
	has(p, "# TYPE driftd_checkpoint_seconds counter\n"
	       "# UNIT driftd_checkpoint_seconds seconds\n"
	       "# HELP driftd_checkpoint_seconds Time spent writing checkpoints\n"
	       "driftd_checkpoint_seconds_total 1.5\n");
	has(p, "# TYPE driftd_build info\n");
	has(p, "\ndriftd_build_info{version=\"");
	has(p, "# TYPE driftd_latency_seconds summary\n# UNIT driftd_latency_seconds seconds\n");
	has(p, "# TYPE driftd_error_ratio gauge\n# UNIT driftd_error_ratio ratio\n");
	has(p, "\ndriftd_rollbacks_total{model=\"fraud\",version=\"v2.4.0\",type=\"dryrun\"} 2\n");
	has(p, "# TYPE driftd_feature_kl gauge\n# HELP driftd_feature_kl ");
	hasnt(p, "# TYPE driftd_records_total");
	hasnt(p, "untyped");
	n = strlen(p);
	assert_true(n > 6);
	assert_string_equal(p + n - 6, "# EOF\n");
	assert_int_equal(count(p, "# EOF"), 1);
	free(p);
}

/* Every double reads back (strtod, like Prometheus' ParseFloat) as the double rendered, over
 * magnitudes from 1e-300 to 1e300, both signs, integers, values next to powers of ten and the
 * 15/17-digit boundary; and short decimals print short. */
static void test_numbers_round_trip(void **state)
{
	enum { N = 20000 };
	static struct agent_feature_summary f[N];
	static char names[N][8];
	struct agent_window_summary l = { .features = f, .nfeatures = N };
	struct agent_metrics_pair p = { .model = "m", .version = "v", .last = &l };
	struct agent_metrics m = empty_snapshot();
	uint64_t s = 12345;
	size_t seen = 0;
	char *page, *q;

	(void)state;
	for (size_t i = 0; i < N; i++) {
		uint64_t r = rng(&s);
		double v;

		snprintf(names[i], sizeof names[i], "%05zu", i);
		switch (i % 5) {
		case 0: /* any finite double */
			do {
				r = rng(&s);
				memcpy(&v, &r, sizeof v);
			} while (!isfinite(v));
			break;
		case 1: /* the fast path's range and around it */
			v = ldexp((double)(r >> 11), (int)(rng(&s) % 110) - 100);
			break;
		case 2: /* next to a power of ten */
			v = nextafter(pow(10, (double)((int)(r % 40) - 20)), (r >> 8) & 1 ? 1 : -1);
			break;
		case 3: /* short decimals */
			v = (double)(int64_t)(r % 200000) / 1000.0;
			break;
		default: /* integers, large and small */
			v = (double)(int64_t)(r >> (r % 64));
			break;
		}
		if (i % 2)
			v = -v;
		f[i] = (struct agent_feature_summary){ names[i], v, NAN, NAN, 1, 0 };
	}
	m.pairs = &p;
	m.npairs = 1;
	page = render(&m, 0);
	for (q = strstr(page, "\ndriftd_feature_kl{"); q;
	     q = strstr(q + 1, "\ndriftd_feature_kl{")) {
		const char *name = strstr(q, "feature=\"") + 9;
		const char *val = strstr(q, "} ") + 2;
		size_t i = strtoul(name, NULL, 10);
		char *end;
		double v = strtod(val, &end);

		assert_true(i < N);
		assert_int_equal(*end, '\n');
		if (memcmp(&v, &f[i].kl, sizeof v) && !(v == 0 && f[i].kl == 0))
			fail_msg("feature %zu: %.17g rendered as %.*s", i, f[i].kl,
				 (int)(end - val), val);
		seen++;
	}
	assert_int_equal(seen, N);
	free(page);

	/* short values print short, long ones exactly */
	f[0].kl = 0.34;
	f[1].kl = 0.1 + 0.2;
	f[2].kl = 1.0 / 3;
	f[3].kl = 1e-300;
	f[4].kl = -2.5e+200;
	f[5].kl = 123456789012.5;
	f[6].kl = 0.0001;
	f[7].kl = -0.0;
	f[8].kl = 9007199254740993.0; /* 2^53 + 1 rounds to 2^53: integral, printed by printf */
	l.nfeatures = 9;
	page = render(&m, 0);
	has(page, "feature=\"00000\"} 0.34\n");
	has(page, "feature=\"00001\"} 0.30000000000000004\n");
	has(page, "feature=\"00002\"} 0.33333333333333331\n");
	has(page, "feature=\"00003\"} 1e-300\n");
	has(page, "feature=\"00004\"} -2.5e+200\n");
	has(page, "feature=\"00005\"} 123456789012.5\n");
	has(page, "feature=\"00006\"} 0.0001\n");
	has(page, "feature=\"00007\"} 0\n");
	has(page, "feature=\"00008\"} 9007199254740992\n");
	free(page);
}

/* Walks the page: HELP and TYPE once per family, each family's samples right after its
 * metadata (never split), every sample in the family its metadata announced. */
static void check_families(const char *page, int om, size_t min_samples)
{
	char fams[256][64], cur[64] = "";
	size_t nf = 0, ntype = 0, nhelp = 0, nsamples = 0;
	const char *line = page;

	while (*line) {
		const char *eol = strchr(line, '\n');
		size_t len;

		assert_non_null(eol);
		len = (size_t)(eol - line);
		if (!strncmp(line, "# HELP ", 7) || !strncmp(line, "# TYPE ", 7) ||
		    !strncmp(line, "# UNIT ", 7)) {
			const char *name = line + 7;
			size_t nl = strcspn(name, " \n");
			char nm[64];

			assert_true(nl < sizeof nm);
			memcpy(nm, name, nl);
			nm[nl] = '\0';
			if (strcmp(nm, cur)) {
				for (size_t i = 0; i < nf; i++)
					if (!strcmp(fams[i], nm))
						fail_msg("family %s split or repeated", nm);
				assert_true(nf < 256);
				strcpy(fams[nf++], nm);
				strcpy(cur, nm);
			}
			ntype += line[2] == 'T';
			nhelp += line[2] == 'H';
		} else if (!strncmp(line, "# EOF", 5)) {
			assert_true(om);
			assert_int_equal(eol[1], '\0');
		} else {
			size_t nl = strcspn(line, "{ ");
			size_t cl = strlen(cur);

			assert_true(line[0] != '#');
			assert_true(cl > 0);
			/* the sample name is the family name (+ _total for an OM counter,
			 * + _info for the OM info) */
			if (nl != cl || strncmp(line, cur, cl)) {
				assert_true(om);
				assert_true(nl > cl && !strncmp(line, cur, cl));
				assert_true((nl - cl == 6 && !strncmp(line + cl, "_total", 6)) ||
					    (nl - cl == 5 && !strncmp(line + cl, "_info", 5)));
			}
			nsamples++;
		}
		(void)len;
		line = eol + 1;
	}
	assert_int_equal(ntype, nf);
	assert_int_equal(nhelp, nf);
	assert_true(nf > 60);
	assert_true(nsamples >= min_samples);
}

static void test_families_once(void **state)
{
	(void)state;
	fill();
	for (int om = 0; om <= 1; om++) {
		char *p = render(&snap, om);

		check_families(p, om, 150);
		free(p);
	}
}

/* The same content in another order (and duplicates appended) renders the same page. */
static void test_deterministic(void **state)
{
	struct agent_feature_summary fa2[4], fb2[5];
	struct agent_window_summary sums2[3];
	struct agent_metrics_pair pairs2[3];
	struct agent_metrics_lag lags2[4];
	struct agent_metrics_http_route routes2[2];
	struct agent_metrics m2;
	char *a, *b, *c;

	(void)state;
	fill();
	a = render(&snap, 0);
	b = render(&snap, 0);
	assert_string_equal(a, b);
	free(b);

	for (size_t i = 0; i < 3; i++)
		fa2[i] = fa[2 - i];
	fa2[3] = fa[0];
	fa2[3].kl = 99; /* a later duplicate: dropped */
	for (size_t i = 0; i < 4; i++)
		fb2[i] = fb[(i + 2) % 4];
	fb2[4] = fb[1];
	sums2[0] = sums[1];
	sums2[0].features = fb2;
	sums2[0].nfeatures = 5;
	sums2[1] = sums[0];
	sums2[1].features = fa2;
	sums2[1].nfeatures = 4;
	sums2[2] = sums[0];
	sums2[2].samples = 1;
	for (size_t i = 0; i < 3; i++) {
		pairs2[i] = pairs[i == 0 ? 1 : 0]; /* the third: a later duplicate pair, dropped */
		pairs2[i].last = &sums2[i];
	}
	lags2[0] = lags[2];
	lags2[1] = lags[0];
	lags2[2] = lags[1];
	lags2[3] = lags[0];
	routes2[0] = routes[1];
	routes2[1] = routes[0];
	m2 = snap;
	m2.pairs = pairs2;
	m2.npairs = 3;
	m2.lag = lags2;
	m2.nlag = 4;
	m2.http_routes = routes2;
	b = render(&m2, 0);
	assert_string_equal(a, b);
	c = render(&m2, 1);
	free(a);
	a = render(&snap, 1);
	assert_string_equal(a, c);
	hasnt(b, " 99\n");
	free(a);
	free(b);
	free(c);
}

static void test_empty(void **state)
{
	struct agent_metrics m = empty_snapshot();
	char *p;

	(void)state;
	p = render(&m, 0);
	has(p, "\ndriftd_records_total 0\n");
	has(p, "# TYPE driftd_feature_kl gauge\n# HELP driftd_feature_kl_threshold ");
	hasnt(p, "\ndriftd_redis_up ");
	hasnt(p, "\ndriftd_kafka_ready ");
	check_families(p, 0, 60);
	free(p);
	p = render(&m, 1);
	check_families(p, 1, 60);
	free(p);
}

/* ---- real consumers ---- */

/* The path of an executable: $env when set, else Debian's in /usr/bin, else the first in $PATH.
 * NULL: none. */
static const char *find_tool(const char *env, const char *name, char *buf, size_t cap)
{
	const char *v = getenv(env), *path = getenv("PATH");
	char dirs[4096];

	if (v && *v)
		return access(v, X_OK) == 0 ? v : NULL;
	snprintf(dirs, sizeof dirs, "/usr/bin:%s", path ? path : "");
	for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d;
	     d = strtok_r(NULL, ":", &save)) {
		snprintf(buf, cap, "%s/%s", d, name);
		if (access(buf, X_OK) == 0)
			return buf;
	}
	return NULL;
}

static void write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(s, 1, strlen(s), f), strlen(s));
	assert_int_equal(fclose(f), 0);
}

/* Runs cmd (a shell command line) and returns its exit status; prints its output on failure. */
static int run(const char *cmd, const char *outfile)
{
	char line[8192];
	int st = system(cmd);
	FILE *f;

	if (st == -1 || !WIFEXITED(st))
		return -1;
	if (WEXITSTATUS(st) != 0 && (f = fopen(outfile, "r"))) {
		while (fgets(line, sizeof line, f))
			fprintf(stderr, "# %s", line);
		fclose(f);
	}
	return WEXITSTATUS(st);
}

static char tmpdir[] = "/tmp/driftd-test-metrics-XXXXXX";

static int setup_tmp(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
	char cmd[256];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void promtool_check(const char *promtool, const struct agent_metrics *m, const char *tag)
{
	char path[512], out[512], cmd[2048];
	char *p = render(m, 0);

	snprintf(path, sizeof path, "%s/%s.prom", tmpdir, tag);
	snprintf(out, sizeof out, "%s/%s.promtool", tmpdir, tag);
	write_file(path, p);
	free(p);
	snprintf(cmd, sizeof cmd, "'%s' check metrics <'%s' >'%s' 2>&1", promtool, path, out);
	if (run(cmd, out) != 0)
		fail_msg("promtool check metrics failed on %s", path);
}

static void test_promtool(void **state)
{
	char buf[1024];
	const char *promtool = find_tool("PROMTOOL", "promtool", buf, sizeof buf);
	struct agent_metrics m = empty_snapshot();

	(void)state;
	if (!promtool) {
		fprintf(stderr, "# promtool not installed (Debian package prometheus)\n");
		skip();
	}
	fill();
	promtool_check(promtool, &snap, "full");
	promtool_check(promtool, &m, "empty");
}

static void openmetrics_check(const char *python, const struct agent_metrics *m, const char *tag)
{
	char om[512], text[512], out[512], cmd[4096];
	char *p;
	int rc;

	snprintf(om, sizeof om, "%s/%s.om", tmpdir, tag);
	snprintf(text, sizeof text, "%s/%s.txt", tmpdir, tag);
	snprintf(out, sizeof out, "%s/%s.check", tmpdir, tag);
	p = render(m, 1);
	write_file(om, p);
	free(p);
	p = render(m, 0);
	write_file(text, p);
	free(p);
	snprintf(cmd, sizeof cmd, "'%s' '%s/../tools/check-openmetrics.py' '%s' '%s' >'%s' 2>&1",
		 python, DRIFTD_TEST_DATA, om, text, out);
	rc = run(cmd, out);
	if (rc == 77) {
		fprintf(stderr, "# python3-prometheus-client not installed\n");
		skip();
	}
	if (rc != 0)
		fail_msg("check-openmetrics.py failed (%d) on %s", rc, om);
}

static void test_openmetrics_parser(void **state)
{
	char buf[1024];
	const char *python = find_tool("PYTHON3", "python3", buf, sizeof buf);
	struct agent_metrics m = empty_snapshot();

	(void)state;
	if (!python) {
		fprintf(stderr, "# python3 not installed\n");
		skip();
	}
	fill();
	openmetrics_check(python, &snap, "full");
	openmetrics_check(python, &m, "empty");
}

/* The checker must fail on a broken page (so that its passing means something). */
static void test_checkers_reject(void **state)
{
	char buf[1024], buf2[1024], path[512], path2[512], out[512], cmd[4096];
	const char *python = find_tool("PYTHON3", "python3", buf, sizeof buf);
	const char *promtool = find_tool("PROMTOOL", "promtool", buf2, sizeof buf2);
	int rc;

	(void)state;
	if (!python && !promtool)
		skip();
	snprintf(out, sizeof out, "%s/reject.out", tmpdir);
	snprintf(path, sizeof path, "%s/bad.om", tmpdir);
	snprintf(path2, sizeof path2, "%s/bad.txt", tmpdir);
	/* HELP twice; a counter sample without _total in OM */
	write_file(path, "# TYPE driftd_x counter\n# HELP driftd_x x\n# HELP driftd_x y\n"
			 "driftd_x_total 1\n# EOF\n");
	write_file(path2, "# HELP driftd_x_total x\n# TYPE driftd_x_total counter\n"
			  "driftd_x_total{a=\"q\"q\"} 1\n");
	if (python) {
		snprintf(cmd, sizeof cmd, "'%s' '%s/../tools/check-openmetrics.py' '%s' >'%s' 2>&1",
			 python, DRIFTD_TEST_DATA, path, out);
		rc = system(cmd);
		assert_true(WIFEXITED(rc));
		if (WEXITSTATUS(rc) != 77)
			assert_int_equal(WEXITSTATUS(rc), 1);
		write_file(path, "# TYPE driftd_x gauge\n# HELP driftd_x x\ndriftd_x 1\n");
		rc = system(cmd); /* no # EOF */
		assert_true(WIFEXITED(rc));
		if (WEXITSTATUS(rc) != 77)
			assert_int_equal(WEXITSTATUS(rc), 1);
	}
	if (promtool) {
		snprintf(cmd, sizeof cmd, "'%s' check metrics <'%s' >'%s' 2>&1", promtool, path2,
			 out);
		rc = system(cmd); /* a quote not escaped */
		assert_true(WIFEXITED(rc));
		assert_int_not_equal(WEXITSTATUS(rc), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_lines),
		cmocka_unit_test(test_every_reason),
		cmocka_unit_test(test_escaping_and_nan),
		cmocka_unit_test(test_openmetrics_lines),
		cmocka_unit_test(test_numbers_round_trip),
		cmocka_unit_test(test_families_once),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_promtool),
		cmocka_unit_test(test_openmetrics_parser),
		cmocka_unit_test(test_checkers_reject),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}

/*
 * metrics.c -- renders a struct agent_metrics snapshot as a Prometheus text format 0.0.4 page or
 * an OpenMetrics 1.0 one (see metrics.h; every family is described in doc/metrics.md).
 *
 * The page is written into one growing buffer (doubling; its first size is estimated from the
 * snapshot, so a page usually needs no realloc). Families come from one table (struct fam) in
 * their fixed order; the per-(model, version) families loop over the pairs sorted once, with
 * their features sorted once, through arrays of pointers (the snapshot stays const), and their
 * labels escaped once into a side buffer that every series of the pair or feature copies. Numbers:
 * integers by hand; doubles as the shortest of 15 or 17 significant digits that reads back as
 * the same double -- printf's %.15g / %.17g digits, computed exactly with 128-bit integers in
 * the usual range (fmt_double), by printf outside it (driftd never calls setlocale(), so
 * printf and strtod use '.'). Cost: about 70 ns a series, 0.7 ms for 10,000 (bench_metrics).
 *
 * The two formats differ only in metadata and suffixes:
 *                 Prometheus 0.0.4                 OpenMetrics 1.0
 *   counter       # HELP x_total / # TYPE x_total   # TYPE x counter / # HELP x; samples x_total
 *   build info    # TYPE driftd_build_info gauge    # TYPE driftd_build info; driftd_build_info
 *   unit          (none)                           # UNIT x seconds|ratio when x ends with it
 *   end           (nothing)                        # EOF
 * HELP texts: 0.0.4 escapes \ and newline, OpenMetrics also the double quote.
 */
#ifdef HAVE_CONFIG_H
#include "build.h"
#endif
#include "agent/metrics.h"
#include "connectors/buf.h"
#include "connectors/text.h"
#include "connectors/versions.h"
#include "stats/hist.h"

#include <gsl/gsl_version.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- output buffer (connectors/buf.h) ---- */

static void puts_(struct conn_buf *o, const char *s)
{
	conn_buf_put(o, s, strlen(s));
}

/* ---- numbers ----
 * Integers by hand. A double: integral values below 2^53 as integers; values in [1e-4, 1e15)
 * exactly by integer arithmetic (below); anything else (tiny, huge) with printf. */

#define NUM_MAX 32 /* bytes a number takes at most */

static const uint64_t pow10u[20] = { 1u,
				     10u,
				     100u,
				     1000u,
				     10000u,
				     100000u,
				     1000000u,
				     10000000u,
				     100000000u,
				     1000000000u,
				     10000000000u,
				     100000000000u,
				     1000000000000u,
				     10000000000000u,
				     100000000000000u,
				     1000000000000000u,
				     10000000000000000u,
				     100000000000000000u,
				     1000000000000000000u,
				     10000000000000000000u };
/* 10^0..10^22: exactly representable doubles */
static const double pow10d[23] = { 1e0,	 1e1,  1e2,  1e3,  1e4,	 1e5,  1e6,  1e7,
				   1e8,	 1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
				   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };

static size_t fmt_u64(char *d, uint64_t v)
{
	char buf[20], *e = buf + sizeof buf, *s = e;

	do {
		*--s = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	memcpy(d, s, (size_t)(e - s));
	return (size_t)(e - s);
}

static size_t fmt_i64(char *d, int64_t v)
{
	if (v >= 0)
		return fmt_u64(d, (uint64_t)v);
	d[0] = '-';
	return 1 + fmt_u64(d + 1, (uint64_t)0 - (uint64_t)v);
}

/* round(m * 10^k / 2^s), ties to even, exactly: m < 2^53, k <= 22, 1 <= s <= 120. */
static uint64_t scale_round(uint64_t m, int k, int s)
{
	unsigned __int128 p = k <= 19 ? pow10u[k] : (unsigned __int128)pow10u[19] * pow10u[k - 19];
	unsigned __int128 x = (unsigned __int128)m * p; /* < 2^53 * 10^22 < 2^127 */
	unsigned __int128 half = (unsigned __int128)1 << (s - 1);
	unsigned __int128 rem = x & ((half << 1) - 1);
	uint64_t q = (uint64_t)(x >> s); /* < 10^18 for the k used */

	if (rem > half || (rem == half && (q & 1)))
		q++;
	return q;
}

/* n / 10^k in plain decimal notation, trailing zeros dropped. */
static size_t fmt_fixed(char *d, uint64_t n, int k)
{
	char digits[20];
	size_t len, o = 0;

	while (k > 0 && n % 10 == 0) {
		n /= 10;
		k--;
	}
	len = fmt_u64(digits, n);
	if ((size_t)k >= len) {
		d[o++] = '0';
		d[o++] = '.';
		memset(d + o, '0', (size_t)k - len);
		o += (size_t)k - len;
		memcpy(d + o, digits, len);
		return o + len;
	}
	memcpy(d, digits, len - (size_t)k);
	o = len - (size_t)k;
	if (k > 0) {
		d[o++] = '.';
		memcpy(d + o, digits + len - (size_t)k, (size_t)k);
		o += (size_t)k;
	}
	return o;
}

/* A finite or infinite double (never NaN: callers omit those) that reads back (strtod, Go's
 * ParseFloat) as the same double. In [1e-4, 1e15): with v = m * 2^-s exactly (m < 2^53), x its
 * decimal exponent, n15 = round(v * 10^(14-x)) is v correctly rounded to 15 significant digits,
 * and when n15 / 10^(14-x) -- a division of two exact doubles, so correctly rounded like strtod
 * -- gives v back, those digits are printed (0.34 prints as 0.34); otherwise the 17 significant
 * digits n17 = round(v * 10^(16-x)), which always read back. Both are exact integer arithmetic
 * on 128 bits, the same digits as printf's %.15g / %.17g, at a tenth of their cost. Kept over
 * the standard way (printf %.15g, strtod back, %.17g) because bench_metrics measures that way
 * (metrics_doubles_printf) at 470-730 ns a value: 3.5-6.8 ms for the 7,500-11,000 values of a
 * full page, 3 to 5 times the whole render with this function (1.0-1.8 ms), in the agent loop. */
static size_t fmt_double(char *d, double v)
{
	size_t o = 0;
	uint64_t m, n;
	int ex, s, x;

	if (isinf(v)) {
		memcpy(d, v > 0 ? "+Inf" : "-Inf", 4);
		return 4;
	}
	if (v > -9007199254740992.0 && v < 9007199254740992.0 && v == (double)(int64_t)v)
		return fmt_i64(d, (int64_t)v);
	if (v < 0) {
		d[o++] = '-';
		v = -v;
	}
	if (!(v >= 1e-4 && v < 1e15)) {
		char buf[40];
		int len = snprintf(buf, sizeof buf, "%.15g", v);

		if (strtod(buf, NULL) != v)
			len = snprintf(buf, sizeof buf, "%.17g", v);
		memcpy(d + o, buf, (size_t)len);
		return o + (size_t)len;
	}
	m = (uint64_t)ldexp(frexp(v, &ex), 53); /* v = m * 2^(ex-53), exactly */
	s = 53 - ex;				/* 3..66 in this range */
	/* x = floor(log10(v)) is x0 or x0 + 1, as v is in [2^(ex-1), 2^ex): with x0, n17 has 17
	 * digits, or 18 when x is x0 + 1 (x0 >= -5, so 10^(16-x0) <= 10^21) */
	x = (int)floor((ex - 1) * 0.30102999566398120);
	n = scale_round(m, 16 - x, s);
	if (n >= pow10u[17]) {
		x++;
		n = scale_round(m, 16 - x, s);
	}
	if (14 - x >= 0) {
		uint64_t n15 = scale_round(m, 14 - x, s);

		if ((double)n15 / pow10d[14 - x] == v)
			return o + fmt_fixed(d + o, n15, 14 - x);
	}
	return o + fmt_fixed(d + o, n, 16 - x);
}

static void put_u64(struct conn_buf *o, uint64_t v)
{
	if (conn_buf_reserve(o, NUM_MAX) == 0)
		o->len += fmt_u64(o->p + o->len, v);
}

static void put_double(struct conn_buf *o, double v)
{
	if (conn_buf_reserve(o, NUM_MAX) == 0)
		o->len += fmt_double(o->p + o->len, v);
}

/* Writes s escaped: backslash, newline and (quote) the double quote get a backslash; bytes
 * that are not UTF-8 (text.h's conn_text_utf8_len) become U+FFFD, as in every JSON string.
 * Label values escape the quote in both formats, HELP text only in OpenMetrics. */
static void put_escaped(struct conn_buf *o, const char *s, int quote)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p);
	const unsigned char *end = p + n;
	char *d;

	if (conn_buf_reserve(o, 3 * n) < 0) /* worst case: every byte an invalid one -> 3 bytes */
		return;
	d = o->p + o->len;
	while (*p) {
		unsigned char c = *p;

		if (c < 0x80) {
			if (c == '\\' || (c == '"' && quote)) {
				*d++ = '\\';
				*d++ = (char)c;
			} else if (c == '\n') {
				*d++ = '\\';
				*d++ = 'n';
			} else {
				*d++ = (char)c;
			}
			p++;
		} else {
			size_t k = conn_text_utf8_len((const char *)p, (size_t)(end - p));

			if (k) {
				memcpy(d, p, k);
				d += k;
				p += k;
			} else {
				memcpy(d, "\xEF\xBF\xBD", 3);
				d += 3;
				p++;
			}
		}
	}
	o->len = (size_t)(d - o->p);
}

/* ---- families and samples ---- */

enum ftype { GAUGE, COUNTER, SUMMARY, INFO };

/* A MetricFamily; name is the family's name: a counter's without "_total", the info's without
 * "_info" (the suffixes of its samples). */
struct fam {
	const char *name;
	enum ftype type;
	const char *unit; /* OpenMetrics UNIT (a suffix of name) or NULL */
	const char *help;
};

struct render {
	struct conn_buf o;
	int om;		     /* OpenMetrics */
	const struct fam *f; /* the current family */
	char name[96];	     /* its samples' name (with _total, _info) */
	size_t namelen;
	unsigned nlabels;    /* labels written in the current sample */
	struct conn_buf lab; /* pre-escaped labels of the pairs and features (struct spair) */
};

static const char *suffix(enum ftype t)
{
	return t == COUNTER ? "_total" : t == INFO ? "_info" : "";
}

/* Writes the metadata of family f and makes it current. */
static void family(struct render *r, const struct fam *f)
{
	static const char *const om_type[] = { "gauge", "counter", "summary", "info" };
	static const char *const text_type[] = { "gauge", "counter", "summary", "gauge" };
	struct conn_buf *o = &r->o;

	r->f = f;
	r->namelen = (size_t)snprintf(r->name, sizeof r->name, "%s%s", f->name, suffix(f->type));
	if (r->om) {
		puts_(o, "# TYPE ");
		puts_(o, f->name);
		conn_buf_putc(o, ' ');
		puts_(o, om_type[f->type]);
		if (f->unit) {
			puts_(o, "\n# UNIT ");
			puts_(o, f->name);
			conn_buf_putc(o, ' ');
			puts_(o, f->unit);
		}
		puts_(o, "\n# HELP ");
		puts_(o, f->name);
		conn_buf_putc(o, ' ');
		put_escaped(o, f->help, 1);
		conn_buf_putc(o, '\n');
	} else {
		puts_(o, "# HELP ");
		puts_(o, f->name);
		puts_(o, suffix(f->type));
		conn_buf_putc(o, ' ');
		put_escaped(o, f->help, 0);
		puts_(o, "\n# TYPE ");
		puts_(o, f->name);
		puts_(o, suffix(f->type));
		conn_buf_putc(o, ' ');
		puts_(o, text_type[f->type]);
		conn_buf_putc(o, '\n');
	}
}

/* Starts a sample of the current family: its name. */
static void sample(struct render *r)
{
	conn_buf_put(&r->o, r->name, r->namelen);
	r->nlabels = 0;
}

static void label(struct render *r, const char *name, const char *value)
{
	conn_buf_putc(&r->o, r->nlabels++ ? ',' : '{');
	puts_(&r->o, name);
	conn_buf_put(&r->o, "=\"", 2);
	put_escaped(&r->o, value, 1);
	conn_buf_putc(&r->o, '"');
}

/* Pre-escaped labels (name="value"[,name="value"...]) from r->lab. */
static void labels_cached(struct render *r, size_t off, size_t len)
{
	conn_buf_putc(&r->o, r->nlabels++ ? ',' : '{');
	conn_buf_put(&r->o, r->lab.p + off, len);
}

static void end_labels(struct render *r)
{
	if (r->nlabels)
		conn_buf_put(&r->o, "} ", 2);
	else
		conn_buf_putc(&r->o, ' ');
}

static void value_u64(struct render *r, uint64_t v)
{
	end_labels(r);
	put_u64(&r->o, v);
	conn_buf_putc(&r->o, '\n');
}

static void value_double(struct render *r, double v)
{
	end_labels(r);
	put_double(&r->o, v);
	conn_buf_putc(&r->o, '\n');
}

/* An unlabelled sample. */
static void single_u64(struct render *r, const struct fam *f, uint64_t v)
{
	family(r, f);
	sample(r);
	value_u64(r, v);
}

static void single_double(struct render *r, const struct fam *f, double v)
{
	family(r, f);
	if (isnan(v))
		return;
	sample(r);
	value_double(r, v);
}

/* ---- the families, in page order ---- */

static const struct fam F_BUILD = { "driftd_build", INFO, NULL,
				    "driftd version, client library versions and histogram "
				    "kernel; always 1" };
static const struct fam F_START = { "driftd_start_time_seconds", GAUGE, "seconds",
				    "Start time of the process since the Unix epoch" };
static const struct fam F_RECORDS = { "driftd_records", COUNTER, NULL,
				      "Inference log messages received" };
static const struct fam F_ACCEPTED = { "driftd_records_accepted", COUNTER, NULL,
				       "Records counted in a window" };
static const struct fam F_REJECTED = { "driftd_records_rejected", COUNTER, NULL,
				       "Messages rejected by validation, by reason" };
static const struct fam F_LATE = { "driftd_records_late", COUNTER, NULL,
				   "Records for a window already closed: counted, not used" };
static const struct fam F_DROPPED = { "driftd_records_dropped", COUNTER, NULL,
				      "Records not counted for lack of memory" };
static const struct fam F_EVICTED = { "driftd_records_evicted", COUNTER, NULL,
				      "Records of open windows forgotten with their (model, "
				      "version) to make room for a new pair" };
static const struct fam F_STORE_LOST = { "driftd_store_lost", COUNTER, NULL,
					 "Good versions found gone from the store (emptied or "
					 "replaced): not ready until stored again" };
static const struct fam F_TRACKED = { "driftd_model_versions_tracked", GAUGE, NULL,
				      "(model, version) pairs tracked now" };
static const struct fam F_TRACKED_MAX = { "driftd_model_versions_max", GAUGE, NULL,
					  "(model, version) pairs tracked at most (max_models); "
					  "records of further pairs are rejected" };
static const struct fam F_WINDOWS = { "driftd_windows", COUNTER, NULL,
				      "Windows closed and evaluated by this agent" };
static const struct fam F_SKIPPED = { "driftd_windows_skipped", COUNTER, NULL,
				      "Windows decided by another agent" };
static const struct fam F_MERGED = { "driftd_partials_merged", COUNTER, NULL,
				     "Partial windows of other agents merged before a decision" };
static const struct fam F_REFUSED = { "driftd_partials_refused", COUNTER, NULL,
				      "Partial windows of other agents not mergeable" };
static const struct fam F_EVENTS = { "driftd_events", COUNTER, NULL,
				     "Rollback events handed to the event sink" };
static const struct fam F_DUPLICATE = { "driftd_events_duplicate", COUNTER, NULL,
					"Rollback events suppressed as duplicates of one already "
					"claimed in the store" };
static const struct fam F_EVENT_ERRORS = { "driftd_event_errors", COUNTER, NULL,
					   "Event sink or store failures on the event path" };
static const struct fam F_EVENT_RETRIES = { "driftd_event_retries", COUNTER, NULL,
					    "Deliveries of refused events tried again" };
static const struct fam F_STORE_ERRORS = { "driftd_store_errors", COUNTER, NULL,
					   "Store reads that failed" };
static const struct fam F_CHECKPOINTS = { "driftd_checkpoints", COUNTER, NULL,
					  "Window checkpoints committed to the store" };
static const struct fam F_CHECKPOINT_ERRORS = { "driftd_checkpoint_errors", COUNTER, NULL,
						"Window checkpoints that failed (retried)" };
static const struct fam F_CHECKPOINT_SECONDS = { "driftd_checkpoint_seconds", COUNTER, "seconds",
						 "Time spent writing checkpoints" };
static const struct fam F_LABELS = { "driftd_labels_received", COUNTER, NULL,
				     "Messages of the labels topic received" };
static const struct fam F_LABELS_REJECTED = { "driftd_labels_rejected", COUNTER, NULL,
					      "Labels messages rejected by validation, by reason" };
static const struct fam F_LABELS_JOINED = { "driftd_labels_joined", COUNTER, NULL,
					    "Labels joined to their prediction and scored" };
static const struct fam F_LABELS_UNMATCHED = {
	"driftd_labels_unmatched", COUNTER, NULL,
	"Labels with no prediction to join (never seen, expired or evicted)"
};
static const struct fam F_LABELS_EXPIRED = { "driftd_labels_expired", COUNTER, NULL,
					     "Predictions that waited for a label in vain (TTL)" };
static const struct fam F_LABELS_EVICTED = {
	"driftd_labels_evicted", COUNTER, NULL,
	"Predictions forgotten before their label came, for room (labels_max)"
};
static const struct fam F_LABELS_LATE = {
	"driftd_labels_late", COUNTER, NULL,
	"Labels joined after their window closed, counted in the newest open window"
};
static const struct fam F_LABELS_UNPLACED = {
	"driftd_labels_unplaced", COUNTER, NULL,
	"Labels joined with no open window to count them in"
};
static const struct fam F_ALERTS = { "driftd_alerts_received", COUNTER, NULL,
				     "Alerts in accepted Alertmanager webhook payloads" };
static const struct fam F_ALERTS_REJECTED = {
	"driftd_alerts_rejected", COUNTER, NULL,
	"Alertmanager webhook payloads refused (HTTP 400), by reason"
};
static const struct fam F_ALERTS_RESOLVED = { "driftd_alerts_resolved", COUNTER, NULL,
					      "Resolved alerts received (recorded, not acted on)" };
static const struct fam F_ALERTS_ACTED = {
	"driftd_alerts_acted", COUNTER, NULL,
	"Firing alerts that matched the selector and named a model, handed to the decision"
};
static const struct fam F_KAFKA_READY = {
	"driftd_kafka_ready", GAUGE, NULL, "1 when the Kafka source has partitions assigned, else 0"
};
static const struct fam F_LAG = { "driftd_kafka_consumer_lag", GAUGE, NULL,
				  "Messages between the consumer position and the high watermark, "
				  "per source partition" };
static const struct fam F_REDIS_UP = { "driftd_redis_up", GAUGE, NULL,
				       "1 when the Redis store answered its last probe, else 0" };
static const struct fam F_HTTP_REQUESTS = { "driftd_http_requests", COUNTER, NULL,
					    "HTTP requests, by route path" };
static const struct fam F_HTTP_ERRORS = { "driftd_http_errors", COUNTER, NULL,
					  "HTTP requests answered with a status of 400 or more, "
					  "by route path" };
static const struct fam F_HTTP_NOT_FOUND = { "driftd_http_not_found", COUNTER, NULL,
					     "HTTP requests for an unknown path (404)" };
static const struct fam F_HTTP_CUT = { "driftd_http_requests_cut", COUNTER, NULL,
				       "HTTP connections cut by the per-request deadline (slow "
				       "clients)" };
static const struct fam F_HTTP_TIMEOUTS = { "driftd_http_timeouts", COUNTER, NULL,
					    "HTTP connections closed by the idle timeout" };
static const struct fam F_HTTP_ABORTED = {
	"driftd_http_aborted", COUNTER, NULL,
	"HTTP requests ended by a client that went away or a read error"
};
static const struct fam F_WINDOW_SAMPLES = { "driftd_window_samples", GAUGE, NULL,
					     "Records in the last decided window" };
static const struct fam F_WINDOW_END = { "driftd_window_end_timestamp_seconds", GAUGE, "seconds",
					 "End of the last decided window since the Unix epoch" };
static const struct fam F_KL = { "driftd_feature_kl", GAUGE, NULL,
				 "KL divergence (nats) of a feature in the last decided window "
				 "against the baseline" };
static const struct fam F_KL_THRESHOLD = { "driftd_feature_kl_threshold", GAUGE, NULL,
					   "Threshold of the kl rule (rules.kl.threshold)" };
static const struct fam F_PSI = { "driftd_feature_psi", GAUGE, NULL,
				  "Population stability index of a feature in the last decided "
				  "window against the baseline" };
static const struct fam F_PSI_THRESHOLD = { "driftd_feature_psi_threshold", GAUGE, NULL,
					    "Threshold of the psi rule (rules.psi.threshold)" };
static const struct fam F_JS = { "driftd_feature_js", GAUGE, NULL,
				 "Jensen-Shannon distance (base 2, 0..1) of a feature in the last "
				 "decided window against the baseline" };
static const struct fam F_JS_THRESHOLD = { "driftd_feature_js_threshold", GAUGE, NULL,
					   "Threshold of the js rule (rules.js.threshold)" };
static const struct fam F_FEATURE_SAMPLES = {
	"driftd_feature_samples", GAUGE, NULL,
	"Live values of a feature compared in the last decided window"
};
static const struct fam F_FEATURE_NONFINITE = {
	"driftd_feature_nonfinite", GAUGE, NULL,
	"Non-finite values (not a number, infinite) of a feature in the last decided window: "
	"not compared"
};
static const struct fam F_LATENCY = { "driftd_latency_seconds", SUMMARY, "seconds",
				      "Latency quantiles of the last decided window" };
static const struct fam F_P95_RATIO = { "driftd_latency_p95_ratio", GAUGE, "ratio",
					"Latency p95 of the last decided window over the "
					"baseline's" };
static const struct fam F_ACCURACY = {
	"driftd_accuracy", GAUGE, NULL, "Accuracy (correct/scored, 0..1) of the last decided window"
};
static const struct fam F_ACCURACY_DELTA = { "driftd_accuracy_delta", GAUGE, NULL,
					     "Accuracy of the last decided window minus the "
					     "baseline's (negative: worse)" };
static const struct fam F_ERROR_RATIO = { "driftd_error_ratio", GAUGE, "ratio",
					  "Share of the last decided window's records with "
					  "error true" };
static const struct fam F_TARGET_MISSING = { "driftd_target_missing_ratio", GAUGE, "ratio",
					     "Share of the last decided window's records without "
					     "a label" };
static const struct fam F_COVERAGE = { "driftd_window_coverage", GAUGE, NULL,
				       "Share of the input partitions the last decided window's "
				       "counts account for (1: all; doc/scaling.md)" };
static const struct fam F_RULE_STATE = { "driftd_rule_state", GAUGE, NULL,
					 "Outcome of an enabled rule in the last decided window: 0 "
					 "pass, 1 breach, 2 inconclusive" };
static const struct fam F_RULE_SCORE = { "driftd_rule_score", GAUGE, NULL,
					 "Score an enabled rule compared with its threshold (per "
					 "feature rules: the worst feature's)" };
static const struct fam F_RULE_THRESHOLD = { "driftd_rule_threshold", GAUGE, NULL,
					     "Threshold of an enabled rule" };
static const struct fam F_RULE_SAMPLES = { "driftd_rule_samples", GAUGE, NULL,
					   "Live sample size behind an enabled rule's score" };
static const struct fam F_RULE_STREAK = { "driftd_rule_streak", GAUGE, NULL,
					  "Consecutive breaching windows of an enabled rule "
					  "(a rollback fires at breach_windows)" };
static const struct fam F_ROLLBACKS = { "driftd_rollbacks", COUNTER, NULL,
					"Rollback events emitted, by type (rollback, dryrun, "
					"needs_target)" };

/* ---- sorting the snapshot ---- */

/* The snapshot's pairs and features sorted, with their labels escaped once in r->lab. */
struct sfeat {
	const struct agent_feature_summary *f;
	size_t lab, lablen; /* feature="..." */
};
struct spair {
	const struct agent_metrics_pair *p;
	struct sfeat *f; /* sorted by name, duplicates dropped */
	size_t nf;
	size_t lab, lablen; /* model="...",version="..." */
};

static const char *str(const char *s)
{
	return s ? s : "";
}

/* Ties (duplicates) are broken by address, i.e. by index in the caller's array: the first one
 * is kept, whatever qsort does. */
#define TIE(a, b) (((a) > (b)) - ((a) < (b)))

static int cmp_pair(const void *x, const void *y)
{
	const struct agent_metrics_pair *a = ((const struct spair *)x)->p;
	const struct agent_metrics_pair *b = ((const struct spair *)y)->p;
	int c = strcmp(str(a->model), str(b->model));

	if (!c)
		c = strcmp(str(a->version), str(b->version));
	return c ? c : TIE(a, b);
}

static int cmp_feature(const void *x, const void *y)
{
	const struct agent_feature_summary *a = ((const struct sfeat *)x)->f;
	const struct agent_feature_summary *b = ((const struct sfeat *)y)->f;
	int c = strcmp(str(a->name), str(b->name));

	return c ? c : TIE(a, b);
}

static int cmp_lag(const void *x, const void *y)
{
	const struct agent_metrics_lag *a = *(const struct agent_metrics_lag *const *)x;
	const struct agent_metrics_lag *b = *(const struct agent_metrics_lag *const *)y;
	int c = strcmp(str(a->topic), str(b->topic));

	if (!c)
		c = (a->partition > b->partition) - (a->partition < b->partition);
	return c ? c : TIE(a, b);
}

static int cmp_route(const void *x, const void *y)
{
	const struct agent_metrics_http_route *a =
	    *(const struct agent_metrics_http_route *const *)x;
	const struct agent_metrics_http_route *b =
	    *(const struct agent_metrics_http_route *const *)y;
	int c = strcmp(str(a->path), str(b->path));

	return c ? c : TIE(a, b);
}

/* ---- sections ---- */

static void build_info(struct render *r)
{
	char libs[256], *save = NULL, *name, *ver;

	family(r, &F_BUILD);
	sample(r);
#ifdef PACKAGE_VERSION
	label(r, "version", PACKAGE_VERSION);
#else
	label(r, "version", "unknown");
#endif
	/* "librdkafka X hiredis Y jansson Z libmicrohttpd W": name/version pairs; the names are
	 * valid label names */
	conn_versions(libs, sizeof libs);
	for (name = strtok_r(libs, " ", &save); name && (ver = strtok_r(NULL, " ", &save));
	     name = strtok_r(NULL, " ", &save))
		label(r, name, ver);
	label(r, "gsl", gsl_version);
	label(r, "histogram_kernel", stats_hist_kernel_name(stats_hist_kernel_selected()));
	value_u64(r, 1);
}

/* A counter with one sample per reason name(1..n-1): each reason in always[] (by reason number;
 * NULL: all) always, any other one when its count is not 0. */
static void by_reason(struct render *r, const struct fam *f, const uint64_t *v, int n,
		      const char *(*name)(int), const unsigned char *always)
{
	family(r, f);
	for (int i = 1; i < n; i++) {
		if (always && !always[i] && !v[i])
			continue;
		sample(r);
		label(r, "reason", name(i));
		value_u64(r, v[i]);
	}
}

static const char *am_reject_name(int i)
{
	return conn_am_reject_name((enum conn_am_reject)i);
}

static void counters(struct render *r, const struct agent_counters *k)
{
	single_u64(r, &F_RECORDS, k->records);
	single_u64(r, &F_ACCEPTED, k->accepted);
	by_reason(r, &F_REJECTED, k->rejected, AGENT_REJECT_COUNT, agent_reject_name, NULL);
	single_u64(r, &F_LATE, k->late);
	single_u64(r, &F_DROPPED, k->dropped_nomem);
	single_u64(r, &F_EVICTED, k->records_evicted);
	single_u64(r, &F_STORE_LOST, k->store_lost);
}

/* The reasons the labels decoder gives (connectors/label_decoder.h): always shown for labels. */
static const unsigned char label_reasons[AGENT_REJECT_COUNT] = {
	[CONN_REJECT_TOO_LARGE] = 1,	 [CONN_REJECT_BAD_JSON] = 1,
	[CONN_REJECT_TOO_DEEP] = 1,	 [CONN_REJECT_NOT_OBJECT] = 1,
	[CONN_REJECT_DUPLICATE_KEY] = 1, [CONN_REJECT_MISSING_MODEL] = 1,
	[CONN_REJECT_BAD_MODEL] = 1,	 [CONN_REJECT_BAD_REQUEST_ID] = 1,
	[CONN_REJECT_BAD_LABEL] = 1,
};

static void engine_counters(struct render *r, const struct agent_counters *k)
{
	single_u64(r, &F_WINDOWS, k->windows);
	single_u64(r, &F_SKIPPED, k->windows_skipped);
	single_u64(r, &F_MERGED, k->partials_merged);
	single_u64(r, &F_REFUSED, k->partials_refused);
	single_u64(r, &F_EVENTS, k->events);
	single_u64(r, &F_DUPLICATE, k->duplicates);
	single_u64(r, &F_EVENT_ERRORS, k->event_errors);
	single_u64(r, &F_EVENT_RETRIES, k->event_retries);
	single_u64(r, &F_STORE_ERRORS, k->store_errors);
	single_u64(r, &F_CHECKPOINTS, k->checkpoints);
	single_u64(r, &F_CHECKPOINT_ERRORS, k->checkpoint_errors);
	single_double(r, &F_CHECKPOINT_SECONDS, (double)k->checkpoint_ns / 1e9);
	single_u64(r, &F_LABELS, k->labels);
	by_reason(r, &F_LABELS_REJECTED, k->labels_rejected, AGENT_REJECT_COUNT, agent_reject_name,
		  label_reasons);
	single_u64(r, &F_LABELS_JOINED, k->labels_joined);
	single_u64(r, &F_LABELS_UNMATCHED, k->labels_unmatched);
	single_u64(r, &F_LABELS_EXPIRED, k->labels_expired);
	single_u64(r, &F_LABELS_EVICTED, k->labels_evicted);
	single_u64(r, &F_LABELS_LATE, k->labels_late);
	single_u64(r, &F_LABELS_UNPLACED, k->labels_unplaced);
}

static void alerts(struct render *r, const struct agent_metrics *m)
{
	single_u64(r, &F_ALERTS, m->alerts_received);
	by_reason(r, &F_ALERTS_REJECTED, m->alerts_rejected, CONN_AM_REJECT_COUNT, am_reject_name,
		  NULL);
	single_u64(r, &F_ALERTS_RESOLVED, m->alerts_resolved);
	single_u64(r, &F_ALERTS_ACTED, m->alerts_acted);
}

static void connectors(struct render *r, const struct agent_metrics *m,
		       const struct agent_metrics_lag **lag, size_t nlag,
		       const struct agent_metrics_http_route **routes, size_t nroutes)
{
	family(r, &F_KAFKA_READY);
	if (m->kafka_ready >= 0) {
		sample(r);
		value_u64(r, m->kafka_ready ? 1 : 0);
	}
	family(r, &F_LAG);
	for (size_t i = 0; i < nlag; i++) {
		char part[16];

		if (lag[i]->lag < 0)
			continue;
		snprintf(part, sizeof part, "%ld", (long)lag[i]->partition);
		sample(r);
		label(r, "topic", lag[i]->topic);
		label(r, "partition", part);
		value_u64(r, (uint64_t)lag[i]->lag);
	}
	family(r, &F_REDIS_UP);
	if (m->redis_up >= 0) {
		sample(r);
		value_u64(r, m->redis_up ? 1 : 0);
	}
	family(r, &F_HTTP_REQUESTS);
	for (size_t i = 0; i < nroutes; i++) {
		sample(r);
		label(r, "path", routes[i]->path);
		value_u64(r, routes[i]->requests);
	}
	family(r, &F_HTTP_ERRORS);
	for (size_t i = 0; i < nroutes; i++) {
		sample(r);
		label(r, "path", routes[i]->path);
		value_u64(r, routes[i]->errors);
	}
	single_u64(r, &F_HTTP_NOT_FOUND, m->http_not_found);
	single_u64(r, &F_HTTP_CUT, m->http_cut);
	single_u64(r, &F_HTTP_TIMEOUTS, m->http_timeouts);
	single_u64(r, &F_HTTP_ABORTED, m->http_aborted);
}

static void pair_labels(struct render *r, const struct spair *sp)
{
	sample(r);
	labels_cached(r, sp->lab, sp->lablen);
}

/* One gauge per pair from a double field (NaN omitted). */
static void per_pair(struct render *r, const struct fam *f, const struct spair *sp, size_t n,
		     size_t offset)
{
	family(r, f);
	for (size_t i = 0; i < n; i++) {
		double v = *(const double *)((const char *)sp[i].p->last + offset);

		if (isnan(v))
			continue;
		pair_labels(r, &sp[i]);
		value_double(r, v);
	}
}

enum fscore { FS_KL, FS_PSI, FS_JS, FS_N, FS_NONFINITE };

static void per_feature(struct render *r, const struct fam *f, const struct spair *sp, size_t n,
			enum fscore which)
{
	family(r, f);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < sp[i].nf; j++) {
			const struct agent_feature_summary *x = sp[i].f[j].f;
			double v = which == FS_KL ? x->kl : which == FS_PSI ? x->psi : x->js;

			if (which != FS_N && which != FS_NONFINITE && isnan(v))
				continue;
			pair_labels(r, &sp[i]);
			labels_cached(r, sp[i].f[j].lab, sp[i].f[j].lablen);
			if (which == FS_N)
				value_u64(r, x->n);
			else if (which == FS_NONFINITE)
				value_u64(r, x->nonfinite);
			else
				value_double(r, v);
		}
}

enum rfield { RF_STATE, RF_SCORE, RF_THRESHOLD, RF_SAMPLES, RF_STREAK };

static void per_rule(struct render *r, const struct fam *f, const struct spair *sp, size_t n,
		     enum rfield which)
{
	family(r, f);
	for (size_t i = 0; i < n; i++) {
		const struct agent_metrics_pair *p = sp[i].p;

		for (int k = 0; k < AGENT_RULE_COUNT; k++) {
			double v =
			    which == RF_SCORE ? p->last->rule_value[k] : p->last->rule_threshold[k];

			if (!p->last->rule_enabled[k])
				continue;
			if ((which == RF_SCORE || which == RF_THRESHOLD) && isnan(v))
				continue;
			pair_labels(r, &sp[i]);
			label(r, "rule", agent_rule_name((enum agent_rule_id)k));
			if (which == RF_STATE)
				value_u64(r, (uint64_t)p->last->rule_state[k]);
			else if (which == RF_SAMPLES)
				value_u64(r, p->last->rule_n[k]);
			else if (which == RF_STREAK)
				value_u64(r, p->rule_streak[k]);
			else
				value_double(r, v);
		}
	}
}

static void pairs(struct render *r, const struct agent_metrics *m, const struct spair *sp, size_t n)
{
	static const char *const quantile[3] = { "0.5", "0.95", "0.99" };
	static const char *const rtype[AGENT_METRICS_ROLLBACK_TYPES] = { "rollback", "dryrun",
									 "needs_target" };

	family(r, &F_WINDOW_SAMPLES);
	for (size_t i = 0; i < n; i++) {
		pair_labels(r, &sp[i]);
		value_u64(r, sp[i].p->last->samples);
	}
	family(r, &F_WINDOW_END);
	for (size_t i = 0; i < n; i++) {
		pair_labels(r, &sp[i]);
		value_double(r, (double)sp[i].p->last->window_end_ms / 1000.0);
	}
	per_feature(r, &F_KL, sp, n, FS_KL);
	single_double(r, &F_KL_THRESHOLD, m->kl_threshold);
	per_feature(r, &F_PSI, sp, n, FS_PSI);
	single_double(r, &F_PSI_THRESHOLD, m->psi_threshold);
	per_feature(r, &F_JS, sp, n, FS_JS);
	single_double(r, &F_JS_THRESHOLD, m->js_threshold);
	per_feature(r, &F_FEATURE_SAMPLES, sp, n, FS_N);
	per_feature(r, &F_FEATURE_NONFINITE, sp, n, FS_NONFINITE);

	family(r, &F_LATENCY);
	for (size_t i = 0; i < n; i++) {
		const struct agent_window_summary *l = sp[i].p->last;
		const double q[3] = { l->p50, l->p95, l->p99 };

		for (int k = 0; k < 3; k++) {
			if (isnan(q[k]))
				continue;
			pair_labels(r, &sp[i]);
			label(r, "quantile", quantile[k]);
			value_double(r, q[k]);
		}
	}
	per_pair(r, &F_P95_RATIO, sp, n, offsetof(struct agent_window_summary, p95_ratio));
	per_pair(r, &F_ACCURACY, sp, n, offsetof(struct agent_window_summary, accuracy));
	per_pair(r, &F_ACCURACY_DELTA, sp, n,
		 offsetof(struct agent_window_summary, accuracy_delta));
	per_pair(r, &F_ERROR_RATIO, sp, n, offsetof(struct agent_window_summary, error_ratio));
	per_pair(r, &F_TARGET_MISSING, sp, n,
		 offsetof(struct agent_window_summary, target_missing));
	per_pair(r, &F_COVERAGE, sp, n, offsetof(struct agent_window_summary, coverage));

	per_rule(r, &F_RULE_STATE, sp, n, RF_STATE);
	per_rule(r, &F_RULE_SCORE, sp, n, RF_SCORE);
	per_rule(r, &F_RULE_THRESHOLD, sp, n, RF_THRESHOLD);
	per_rule(r, &F_RULE_SAMPLES, sp, n, RF_SAMPLES);
	per_rule(r, &F_RULE_STREAK, sp, n, RF_STREAK);

	family(r, &F_ROLLBACKS);
	for (size_t i = 0; i < n; i++)
		for (int t = 0; t < AGENT_METRICS_ROLLBACK_TYPES; t++) {
			pair_labels(r, &sp[i]);
			label(r, "type", rtype[t]);
			value_u64(r, sp[i].p->rollbacks[t]);
		}
}

/* ---- API ---- */

int agent_metrics_render(const struct agent_metrics *m, int openmetrics, char **out, size_t *len)
{
	static const struct agent_counters zero;
	const struct agent_counters *k = m->k ? m->k : &zero;
	struct render r = { .om = openmetrics != 0 };
	struct spair *sp = NULL;
	struct sfeat *fp = NULL;
	const struct agent_metrics_lag **lag = NULL;
	const struct agent_metrics_http_route **routes = NULL;
	size_t nsp = 0, nfeat = 0, nlag = 0, nroutes = 0;

	*out = NULL;
	*len = 0;

	/* sort what is listed, drop later duplicates */
	for (size_t i = 0; i < m->npairs; i++)
		nfeat += m->pairs[i].last->nfeatures;
	sp = malloc((m->npairs ? m->npairs : 1) * sizeof *sp);
	fp = malloc((nfeat ? nfeat : 1) * sizeof *fp);
	lag = malloc((m->nlag ? m->nlag : 1) * sizeof *lag);
	routes = malloc((m->nhttp_routes ? m->nhttp_routes : 1) * sizeof *routes);
	if (!sp || !fp || !lag || !routes)
		goto nomem;
	for (size_t i = 0; i < m->npairs; i++)
		sp[i].p = &m->pairs[i];
	qsort(sp, m->npairs, sizeof *sp, cmp_pair);
	nfeat = 0;
	for (size_t i = 0; i < m->npairs; i++) {
		const struct agent_metrics_pair *p = sp[i].p;
		size_t nf = 0;

		if (nsp && !strcmp(str(sp[nsp - 1].p->model), str(p->model)) &&
		    !strcmp(str(sp[nsp - 1].p->version), str(p->version)))
			continue;
		sp[nsp].p = p;
		sp[nsp].f = fp + nfeat;
		sp[nsp].lab = r.lab.len;
		puts_(&r.lab, "model=\"");
		put_escaped(&r.lab, p->model, 1);
		puts_(&r.lab, "\",version=\"");
		put_escaped(&r.lab, p->version, 1);
		conn_buf_putc(&r.lab, '"');
		sp[nsp].lablen = r.lab.len - sp[nsp].lab;
		for (size_t j = 0; j < p->last->nfeatures; j++)
			sp[nsp].f[j].f = &p->last->features[j];
		qsort(sp[nsp].f, p->last->nfeatures, sizeof *fp, cmp_feature);
		for (size_t j = 0; j < p->last->nfeatures; j++) {
			const struct agent_feature_summary *x = sp[nsp].f[j].f;
			struct sfeat *y = &sp[nsp].f[nf];

			if (nf && !strcmp(str(y[-1].f->name), str(x->name)))
				continue;
			y->f = x;
			y->lab = r.lab.len;
			puts_(&r.lab, "feature=\"");
			put_escaped(&r.lab, x->name, 1);
			conn_buf_putc(&r.lab, '"');
			y->lablen = r.lab.len - y->lab;
			nf++;
		}
		sp[nsp++].nf = nf;
		nfeat += nf;
	}
	for (size_t i = 0; i < m->nlag; i++)
		lag[i] = &m->lag[i];
	qsort(lag, m->nlag, sizeof *lag, cmp_lag);
	for (size_t i = 0; i < m->nlag; i++)
		if (!nlag || strcmp(str(lag[nlag - 1]->topic), str(lag[i]->topic)) ||
		    lag[nlag - 1]->partition != lag[i]->partition)
			lag[nlag++] = lag[i];
	for (size_t i = 0; i < m->nhttp_routes; i++)
		routes[i] = &m->http_routes[i];
	qsort(routes, m->nhttp_routes, sizeof *routes, cmp_route);
	for (size_t i = 0; i < m->nhttp_routes; i++)
		if (!nroutes || strcmp(str(routes[nroutes - 1]->path), str(routes[i]->path)))
			routes[nroutes++] = routes[i];

	/* about 130 bytes a series, plus the metadata (about 12 KiB) */
	if (r.lab.oom ||
	    conn_buf_reserve(&r.o, 16384 + 130 * (4 * nfeat + 24 * nsp + 2 * nlag)) < 0)
		goto nomem;

	build_info(&r);
	single_double(&r, &F_START, m->start_time_s);
	counters(&r, k);
	single_u64(&r, &F_TRACKED, m->pairs_tracked);
	single_u64(&r, &F_TRACKED_MAX, m->pairs_max);
	engine_counters(&r, k);
	alerts(&r, m);
	connectors(&r, m, lag, nlag, routes, nroutes);
	pairs(&r, m, sp, nsp);
	if (r.om)
		puts_(&r.o, "# EOF\n");
	if (r.o.oom)
		goto nomem;
	r.o.p[r.o.len] = '\0';
	free(sp);
	free(fp);
	free(lag);
	free(routes);
	free(r.lab.p);
	*out = r.o.p;
	*len = r.o.len;
	return 0;
nomem:
	free(sp);
	free(fp);
	free(lag);
	free(routes);
	free(r.lab.p);
	free(r.o.p);
	return -1;
}

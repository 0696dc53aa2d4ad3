/*
 * ctl.c -- driftctl's command line (see ctl.h): argument parsing, then one function per command
 * that calls the admin operation (admin.h) and prints what it returns, as text or --json.
 *
 * Parsing is getopt_long (cmdline.h: reset before each pass, so tests may call agent_ctl_main
 * many times; exact option names) in two passes: the global options (--store, --store-prefix,
 * --json, --help) up to the command; then the command's arguments in order, where the global
 * options may appear too: each command has its positional count and its options, a value
 * either as the next argument or after '='; "--" ends the options. A wrong command line exits
 * 2; a failure to act (not found, already there, store or file error) exits 1.
 *
 * Model and version names given on the command line must be 1..128 bytes of valid UTF-8 (they
 * go into JSON documents). In text output and in error messages, control bytes of names are
 * printed as \xNN, so a name cannot forge a line. The store is shown as agent_admin_store gives
 * it: its password masked as "***", in text, --json and messages alike.
 */
#include "agent/ctl.h"
#include "agent/admin.h"
#include "agent/cmdline.h"
#include "agent/json_out.h"
#include "agent/timefmt.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_STORE "dir:./driftd-store"
#define OUT_FLAGS     (JSON_INDENT(2) | JSON_REAL_PRECISION(17))
#define MAX_OPTS      64
#define MAX_CMD_OPTS  8
#define QBUFS	      8

/* ---- state, messages ---- */

struct ctl {
	FILE *out, *err;
	int json;		   /* --json */
	const char *store_spec;	   /* --store, $DRIFTD_STORE or the default */
	const char *store_prefix;  /* --store-prefix, $DRIFTD_STORE_PREFIX or NULL */
	struct agent_admin *admin; /* the operations on the store */
	const char *cmd;	   /* the command, for messages */
	char qbuf[QBUFS][AGENT_ADMIN_PRINTABLE_LEN]; /* q()'s rotating buffers */
	unsigned qnext;
};

/* s made printable (agent_admin_printable); valid until QBUFS more calls. */
static const char *q(struct ctl *c, const char *s)
{
	return agent_admin_printable(s, c->qbuf[c->qnext++ % QBUFS]);
}

static int fail(struct ctl *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prints "driftctl: <command>: message" on err; returns code. */
static int fail(struct ctl *c, int code, const char *fmt, ...)
{
	va_list ap;

	fputs("driftctl: ", c->err);
	if (c->cmd)
		fprintf(c->err, "%s: ", c->cmd);
	va_start(ap, fmt);
	vfprintf(c->err, fmt, ap);
	va_end(ap);
	fputc('\n', c->err);
	return code;
}

static int nomem(struct ctl *c)
{
	return fail(c, AGENT_CTL_ERROR, "out of memory");
}

/* The exit code of an admin result, its message printed when it is not OK. */
static int admin_rc(struct ctl *c, enum agent_admin_result r)
{
	if (r == AGENT_ADMIN_OK)
		return AGENT_CTL_OK;
	return fail(c, r == AGENT_ADMIN_REFUSED ? AGENT_CTL_USAGE : AGENT_CTL_ERROR, "%s",
		    agent_admin_error(c->admin));
}

/* Prints a JSON document on out (and drops it); AGENT_CTL_OK, or ERROR on no memory. */
static int emit(struct ctl *c, json_t *j)
{
	int rc = j ? json_dumpf(j, c->out, OUT_FLAGS) : -1;

	json_decref(j);
	if (rc < 0)
		return nomem(c);
	fputc('\n', c->out);
	return AGENT_CTL_OK;
}

/* ---- the parsed command line ---- */

struct optdef {
	const char *name; /* without the leading "--" */
	int repeat;	  /* may be given more than once */
};

struct args {
	const char *pos[4];
	size_t npos;
	const char *opt[MAX_OPTS]; /* option names (optdef.name) */
	const char *val[MAX_OPTS]; /* their values */
	size_t nopt;
};

static const char *opt_get(const struct args *a, const char *name)
{
	for (size_t i = 0; i < a->nopt; i++)
		if (strcmp(a->opt[i], name) == 0)
			return a->val[i];
	return NULL;
}

/* ---- register, versions ---- */

static int cmd_register(struct ctl *c, const struct args *a)
{
	const char *tags[MAX_OPTS];
	struct agent_admin_version v = {
		.model = a->pos[0],
		.version = a->pos[1],
		.training_data_hash = opt_get(a, "training-data-hash"),
		.feature_params = opt_get(a, "feature-params"),
		.hyperparams = opt_get(a, "hyperparams"),
		.tags = tags,
	};
	json_t *doc = NULL;
	int rc;

	for (size_t i = 0; i < a->nopt; i++)
		if (strcmp(a->opt[i], "tag") == 0)
			tags[v.ntags++] = a->val[i];
	rc = admin_rc(c, agent_admin_register(c->admin, &v, &doc));
	if (rc != AGENT_CTL_OK)
		return rc;
	if (c->json)
		return emit(c, doc);
	fprintf(c->out, "registered %s %s at %s\n", q(c, v.model), q(c, v.version),
		agent_json_str(doc, "registered"));
	json_decref(doc);
	return AGENT_CTL_OK;
}

static int cmd_versions(struct ctl *c, const struct args *a)
{
	json_t *doc = NULL, *v;
	size_t i;
	int rc = admin_rc(c, agent_admin_versions(c->admin, a->pos[0], &doc));

	if (rc != AGENT_CTL_OK)
		return rc;
	if (c->json)
		return emit(c, doc);
	json_array_foreach(json_object_get(doc, "versions"), i, v)
	{
		const char *hash = agent_json_str(v, "training_data_hash");

		fprintf(c->out, "%-20s  %s  hash %s%s%s%s\n", q(c, agent_json_str(v, "version")),
			agent_json_str(v, "registered"), hash ? q(c, hash) : "-",
			agent_json_true(v, "baseline") ? "  baseline" : "",
			agent_json_true(v, "good") ? "  good" : "",
			agent_json_true(v, "latched") ? "  latched" : "");
	}
	json_decref(doc);
	return AGENT_CTL_OK;
}

/* ---- baseline build ---- */

static int parse_bins(struct ctl *c, const char *s, size_t *bins)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = s ? strtoul(s, &end, 10) : AGENT_ADMIN_DEFAULT_BINS;
	if (s && (errno || end == s || *end || s[0] == '-' || v < 1 || v > STATS_HIST_MAX_BINS))
		return fail(c, AGENT_CTL_USAGE, "--bins must be an integer from 1 to %u",
			    STATS_HIST_MAX_BINS);
	*bins = v;
	return AGENT_CTL_OK;
}

static int print_build_json(struct ctl *c, const struct args *a, const char *from,
			    const struct agent_admin_build *st)
{
	json_t *rj = json_object();
	char t[AGENT_TIME_LEN];
	int rc;

	for (int k = 1; rj && k < CONN_REJECT_COUNT; k++)
		if (st->rejected[k] && agent_json_set(rj, conn_reject_name((enum conn_reject)k),
						      agent_json_count(st->rejected[k])))
			break;
	agent_time_format(st->created_ms, t);
	rc = emit(c, json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:O, s:I, s:I}", "model",
			       a->pos[0], "version", a->pos[1], "source", q(c, from), "created", t,
			       "lines", (json_int_t)st->lines, "samples", (json_int_t)st->samples,
			       "features", (json_int_t)st->features, "rejected_total",
			       (json_int_t)st->rejected_total, "rejected", rj, "skipped_other",
			       (json_int_t)st->skipped, "bins", (json_int_t)st->bins));
	json_decref(rj);
	return rc;
}

static void print_build_text(struct ctl *c, const struct args *a, const char *from,
			     const struct agent_admin_build *st)
{
	fprintf(c->out, "built baseline %s %s from %s: %llu records, %zu features%s\n",
		q(c, a->pos[0]), q(c, a->pos[1]), q(c, from), (unsigned long long)st->samples,
		st->features,
		!st->has_prediction	     ? ", no prediction"
		: st->categorical_prediction ? ", categorical prediction"
					     : ", numeric prediction");
	if (st->rejected_total) {
		fprintf(c->out,
			"rejected %llu of %llu lines:", (unsigned long long)st->rejected_total,
			(unsigned long long)st->lines);
		for (int k = 1, any = 0; k < CONN_REJECT_COUNT; k++)
			if (st->rejected[k])
				fprintf(c->out, "%s %s %llu (first at line %llu)", any++ ? "," : "",
					conn_reject_name((enum conn_reject)k),
					(unsigned long long)st->rejected[k],
					(unsigned long long)st->first_rejected[k]);
		fputc('\n', c->out);
	}
	if (st->skipped)
		fprintf(c->out, "skipped %llu records of other models or versions\n",
			(unsigned long long)st->skipped);
}

static int cmd_baseline_build(struct ctl *c, const struct args *a)
{
	const char *from = opt_get(a, "from");
	struct agent_admin_build st;
	size_t bins = 0;
	int rc;

	if (!from)
		return fail(c, AGENT_CTL_USAGE, "--from FILE.jsonl is required");
	if ((rc = parse_bins(c, opt_get(a, "bins"), &bins)) != AGENT_CTL_OK)
		return rc;
	rc = admin_rc(c,
		      agent_admin_baseline_build(c->admin, a->pos[0], a->pos[1], from, bins, &st));
	if (rc != AGENT_CTL_OK)
		return rc;
	if (c->json)
		return print_build_json(c, a, from, &st);
	print_build_text(c, a, from, &st);
	return AGENT_CTL_OK;
}

/* ---- baseline show / export / import ---- */

/* Indices of the k largest categories (count descending, then first seen). */
static size_t top_categories(const struct stats_cat *cat, size_t *idx, size_t k)
{
	size_t n = stats_cat_size(cat), m = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t ci = stats_cat_count(cat, i);
		size_t j = m < k ? m++ : k;

		if (j == k && (k == 0 || ci <= stats_cat_count(cat, idx[k - 1])))
			continue;
		if (j == k)
			j = k - 1;
		while (j > 0 && stats_cat_count(cat, idx[j - 1]) < ci) {
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = i;
	}
	return m;
}

static uint64_t feature_values(const struct agent_bfeature *f)
{
	return f->categorical ? stats_cat_total(f->cat) : stats_hist_total(f->hist);
}

static json_t *feature_summary(const struct agent_bfeature *f)
{
	json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I}", "name", f->name, "kind",
			      f->categorical ? "categorical" : "numeric", "values",
			      (json_int_t)feature_values(f), "missing", (json_int_t)f->missing,
			      "mismatched", (json_int_t)f->mismatched);
	int bad = !o;

	if (bad)
		return NULL;
	if (!f->categorical) {
		size_t bins = stats_hist_bins(f->hist);
		const double *e = stats_hist_edges(f->hist);

		bad |= agent_json_set(o, "bins", json_integer((json_int_t)bins));
		bad |= agent_json_set(o, "min", json_real(e[0]));
		bad |= agent_json_set(o, "max_edge", json_real(e[bins]));
		bad |= agent_json_set(o, "iqr", agent_json_num(f->iqr));
	} else {
		size_t idx[5], k = top_categories(f->cat, idx, 5), len;
		json_t *top = json_array();

		bad |= agent_json_set(o, "categories",
				      json_integer((json_int_t)stats_cat_size(f->cat)));
		bad |= agent_json_set(o, "other", agent_json_count(stats_cat_other(f->cat)));
		for (size_t i = 0; i < k && top; i++) {
			const char *v = stats_cat_value(f->cat, idx[i], &len);

			bad |=
			    json_array_append_new(
				top, json_pack("{s:s%, s:I}", "value", v, len, "count",
					       (json_int_t)stats_cat_count(f->cat, idx[i]))) != 0;
		}
		bad |= agent_json_set(o, "top", top);
	}
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void print_feature(struct ctl *c, const struct agent_bfeature *f, uint64_t samples)
{
	fprintf(c->out, "    %-24s ", q(c, f->name));
	if (!f->categorical) {
		size_t bins = stats_hist_bins(f->hist);
		const double *e = stats_hist_edges(f->hist);

		fprintf(c->out, "numeric      %zu bins over [%.6g, %.6g)  iqr %.6g", bins, e[0],
			e[bins], f->iqr);
	} else {
		size_t idx[3], k = top_categories(f->cat, idx, 3), len;
		uint64_t tot = stats_cat_total(f->cat);

		fprintf(c->out, "categorical  %zu categories + %s %llu", stats_cat_size(f->cat),
			STATS_CAT_OTHER, (unsigned long long)stats_cat_other(f->cat));
		for (size_t i = 0; i < k; i++) {
			const char *v = stats_cat_value(f->cat, idx[i], &len);

			fprintf(c->out, "%s%s %.1f%%", i ? ", " : "  top: ", q(c, v),
				tot ? 100.0 * (double)stats_cat_count(f->cat, idx[i]) / (double)tot
				    : 0.0);
		}
	}
	fprintf(c->out, "  missing %.1f%%", 100.0 * (double)f->missing / (double)samples);
	if (f->mismatched)
		fprintf(c->out, "  mismatched %llu", (unsigned long long)f->mismatched);
	fputc('\n', c->out);
}

/* A baseline's quantities as show prints them. */
struct show {
	double p[3]; /* latency p50, p95, p99 (seconds) */
	double acc, mae, er;
	uint64_t nlat;
	char created[AGENT_TIME_LEN];
};

static void show_values(const struct agent_baseline *b, struct show *s)
{
	static const double qs[3] = { 0.5, 0.95, 0.99 };

	s->p[0] = s->p[1] = s->p[2] = NAN;
	s->nlat = stats_sketch_count(b->latency);
	for (int i = 0; i < 3 && s->nlat; i++)
		stats_sketch_quantile(b->latency, qs[i], &s->p[i]);
	s->acc = b->scored ? (double)b->correct / (double)b->scored : NAN;
	s->mae = b->reg_n ? b->abs_err_sum / (double)b->reg_n : NAN;
	s->er = b->error_known ? (double)b->errors / (double)b->error_known : NAN;
	agent_time_format(b->created_ms, s->created);
}

static json_t *baseline_summary(const struct agent_baseline *b, const struct show *s)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I}", "model", b->model, "version", b->version,
			      "created", s->created, "created_ms", (json_int_t)b->created_ms,
			      "samples", (json_int_t)b->samples);
	json_t *fs = json_array();
	int bad = !o || !fs;

	for (size_t i = 0; i < b->nfeatures && !bad; i++)
		bad |= json_array_append_new(fs, feature_summary(&b->features[i])) != 0;
	bad |= agent_json_set(o, "features", fs);
	bad |= agent_json_set(o, "prediction",
			      b->has_prediction ? feature_summary(&b->prediction) : json_null());
	bad |= agent_json_set(o, "latency_seconds",
			      json_pack("{s:I, s:o, s:o, s:o}", "count", (json_int_t)s->nlat, "p50",
					agent_json_num(s->p[0]), "p95", agent_json_num(s->p[1]),
					"p99", agent_json_num(s->p[2])));
	bad |=
	    agent_json_set(o, "accuracy",
			   json_pack("{s:I, s:I, s:o}", "scored", (json_int_t)b->scored, "correct",
				     (json_int_t)b->correct, "value", agent_json_num(s->acc)));
	bad |= agent_json_set(
	    o, "regression",
	    json_pack("{s:I, s:o}", "n", (json_int_t)b->reg_n, "mae", agent_json_num(s->mae)));
	bad |= agent_json_set(o, "error_rate",
			      json_pack("{s:I, s:I, s:o}", "known", (json_int_t)b->error_known,
					"errors", (json_int_t)b->errors, "value",
					agent_json_num(s->er)));
	if (b->metadata)
		bad |= agent_json_set(o, "metadata", json_loads(b->metadata, 0, NULL));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The registration document the baseline carries: what the version was trained on. */
static void print_metadata(struct ctl *c, const char *metadata)
{
	json_t *m = metadata ? json_loads(metadata, 0, NULL) : NULL;
	static const char *const objs[] = { "feature_params", "hyperparams", "tags" };
	static const char *const labels[] = { "feature params", "hyperparams", "tags" };

	if (!json_is_object(m)) {
		fprintf(c->out, "  metadata    none\n");
		json_decref(m);
		return;
	}
	fprintf(c->out, "  metadata    registered %s, training data %s\n",
		q(c, agent_json_str(m, "registered")),
		q(c, agent_json_str(m, "training_data_hash")));
	for (size_t i = 0; i < sizeof objs / sizeof *objs; i++) {
		char *v = json_dumps(json_object_get(m, objs[i]), JSON_COMPACT | JSON_SORT_KEYS |
								      JSON_ENCODE_ANY |
								      JSON_REAL_PRECISION(15));

		fprintf(c->out, "              %s %s\n", labels[i], v ? q(c, v) : "?");
		free(v);
	}
	json_decref(m);
}

static void print_baseline(struct ctl *c, const struct agent_baseline *b, const struct show *s)
{
	fprintf(c->out, "baseline %s %s\n", q(c, b->model), q(c, b->version));
	fprintf(c->out, "  created     %s\n", s->created);
	fprintf(c->out, "  samples     %llu\n", (unsigned long long)b->samples);
	print_metadata(c, b->metadata);
	if (s->nlat)
		fprintf(c->out,
			"  latency     p50 %.4g ms  p95 %.4g ms  p99 %.4g ms  (%llu values)\n",
			s->p[0] * 1e3, s->p[1] * 1e3, s->p[2] * 1e3, (unsigned long long)s->nlat);
	else
		fprintf(c->out, "  latency     none recorded\n");
	if (b->scored)
		fprintf(c->out, "  accuracy    %.4f (%llu of %llu scored)\n", s->acc,
			(unsigned long long)b->correct, (unsigned long long)b->scored);
	else
		fprintf(c->out, "  accuracy    n/a (no labelled classification record)\n");
	if (b->reg_n)
		fprintf(c->out, "  mae         %.6g (%llu regression records)\n", s->mae,
			(unsigned long long)b->reg_n);
	if (b->error_known)
		fprintf(c->out, "  error rate  %.4f (%llu of %llu)\n", s->er,
			(unsigned long long)b->errors, (unsigned long long)b->error_known);
	else
		fprintf(c->out, "  error rate  n/a (no record with \"error\")\n");
	fprintf(c->out, "  features    %zu\n", b->nfeatures);
	for (size_t i = 0; i < b->nfeatures; i++)
		print_feature(c, &b->features[i], b->samples);
	if (b->has_prediction) {
		fprintf(c->out, "  prediction\n");
		print_feature(c, &b->prediction, b->samples);
	} else {
		fprintf(c->out, "  prediction  none\n");
	}
}

static int cmd_baseline_show(struct ctl *c, const struct args *a)
{
	struct agent_baseline *b;
	struct show s;
	int rc = admin_rc(c, agent_admin_baseline_get(c->admin, a->pos[0], a->pos[1], &b, NULL));

	if (rc != AGENT_CTL_OK)
		return rc;
	show_values(b, &s);
	if (c->json)
		rc = emit(c, baseline_summary(b, &s));
	else
		print_baseline(c, b, &s);
	agent_baseline_free(b);
	return rc;
}

static int cmd_baseline_export(struct ctl *c, const struct args *a)
{
	struct agent_baseline *b;
	struct conn_blob raw = { 0 };
	int rc = admin_rc(c, agent_admin_baseline_get(c->admin, a->pos[0], a->pos[1], &b, &raw));

	if (rc != AGENT_CTL_OK)
		return rc;
	fwrite(raw.data, 1, raw.len, c->out);
	fputc('\n', c->out);
	free(raw.data);
	agent_baseline_free(b);
	return AGENT_CTL_OK;
}

static int cmd_baseline_import(struct ctl *c, const struct args *a)
{
	json_t *doc = NULL;
	int rc = admin_rc(c, agent_admin_baseline_import(c->admin, a->pos[0], &doc));

	if (rc != AGENT_CTL_OK)
		return rc;
	if (c->json)
		return emit(c, doc);
	fprintf(c->out, "imported baseline %s %s (%lld samples, %lld features) from %s\n",
		q(c, agent_json_str(doc, "model")), q(c, agent_json_str(doc, "version")),
		(long long)json_integer_value(json_object_get(doc, "samples")),
		(long long)json_integer_value(json_object_get(doc, "features")), q(c, a->pos[0]));
	json_decref(doc);
	return AGENT_CTL_OK;
}

/* ---- good, hold, release, rearm ---- */

static int cmd_good(struct ctl *c, const struct args *a)
{
	const char *model = a->pos[0], *version = a->pos[1], *prev;
	json_t *doc = NULL;
	int rc = admin_rc(c, agent_admin_good(c->admin, model, version, &doc));

	if (rc != AGENT_CTL_OK)
		return rc;
	if (!agent_json_true(doc, "baseline"))
		fprintf(c->err,
			"driftctl: good: note: %s %s has no baseline yet; live versions are "
			"compared with the good version's baseline (driftctl baseline build)\n",
			q(c, model), q(c, version));
	if (c->json)
		return emit(c, doc);
	prev = agent_json_str(doc, "previous");
	if (prev)
		fprintf(c->out, "%s: last known good is now %s (was %s)\n", q(c, model),
			q(c, version), q(c, prev));
	else
		fprintf(c->out, "%s: last known good is now %s\n", q(c, model), q(c, version));
	json_decref(doc);
	return AGENT_CTL_OK;
}

static int set_hold(struct ctl *c, const char *model, int on)
{
	json_t *doc = NULL;
	int rc = admin_rc(c, agent_admin_hold(c->admin, model, on, &doc));

	if (rc != AGENT_CTL_OK)
		return rc;
	if (c->json)
		return emit(c, doc);
	fprintf(c->out, "%s: %s%s\n", q(c, model),
		on ? "automatic rollback on hold" : "automatic rollback released",
		agent_json_true(doc, "changed") ? "" : " (it already was)");
	json_decref(doc);
	return AGENT_CTL_OK;
}

static int cmd_hold(struct ctl *c, const struct args *a)
{
	return set_hold(c, a->pos[0], 1);
}

static int cmd_release(struct ctl *c, const struct args *a)
{
	return set_hold(c, a->pos[0], 0);
}

static int cmd_rearm(struct ctl *c, const struct args *a)
{
	json_t *doc = NULL;
	int rc = admin_rc(c, agent_admin_rearm(c->admin, a->pos[0], a->pos[1], &doc));

	if (rc != AGENT_CTL_OK)
		return rc;
	if (c->json)
		return emit(c, doc);
	fprintf(c->out, "%s %s: rearmed%s\n", q(c, a->pos[0]), q(c, a->pos[1]),
		agent_json_true(doc, "was_latched") ? " (it was latched)"
						    : " (it was not latched)");
	json_decref(doc);
	return AGENT_CTL_OK;
}

/* ---- history ---- */

struct hist_ctx {
	struct ctl *c;
	json_t *arr; /* --json: the entries */
	size_t n;
	int nomem;
};

/* key=value pairs of an object's members other than skip (scalars plain, nested objects one
 * level deep with a dotted prefix, arrays as compact JSON). */
static void print_members(struct ctl *c, json_t *o, const char *prefix)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v)
	{
		if (!prefix[0] && (!strcmp(k, "type") || !strcmp(k, "time") ||
				   !strcmp(k, "time_ms") || !strcmp(k, "model")))
			continue;
		if (json_is_object(v) && !prefix[0]) {
			print_members(c, v, k);
			continue;
		}
		fprintf(c->out, " %s%s%s=", prefix, prefix[0] ? "." : "", q(c, k));
		if (json_is_string(v)) {
			fputs(q(c, json_string_value(v)), c->out);
		} else {
			char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

			fputs(s ? s : "?", c->out);
			free(s);
		}
	}
}

static int history_entry(void *arg, const char *doc, size_t len)
{
	struct hist_ctx *h = arg;
	json_t *e = json_loadb(doc, len, 0, NULL);

	h->n++;
	if (h->c->json) {
		if (!e)
			e = json_pack("{s:s%}", "unparsed", doc, len);
		if (!e)
			e = json_pack("{s:s}", "unparsed", "(not UTF-8)");
		if (!e || json_array_append_new(h->arr, e) != 0) {
			h->nomem = 1;
			return 1;
		}
		return 0;
	}
	if (!json_is_object(e)) {
		fprintf(h->c->out, "? %.*s\n", (int)len, doc);
	} else {
		const char *t = agent_json_str(e, "time"), *type = agent_json_str(e, "type");

		fprintf(h->c->out, "%s  %s", t ? q(h->c, t) : "-", type ? q(h->c, type) : "-");
		print_members(h->c, e, "");
		fputc('\n', h->c->out);
	}
	json_decref(e);
	return 0;
}

static int cmd_history(struct ctl *c, const struct args *a)
{
	const char *model = a->pos[0];
	struct hist_ctx h = { .c = c };
	enum agent_admin_result r;

	h.arr = json_array();
	if (!h.arr)
		return nomem(c);
	r = agent_admin_history(c->admin, model, history_entry, &h);
	if (r != AGENT_ADMIN_OK) {
		json_decref(h.arr);
		return h.nomem ? nomem(c) : admin_rc(c, r);
	}
	if (c->json)
		return emit(c, json_pack("{s:s, s:o}", "model", model, "entries", h.arr));
	json_decref(h.arr);
	if (h.n == 0)
		fprintf(c->out, "no history for %s\n", q(c, model));
	return AGENT_CTL_OK;
}

/* ---- status ---- */

/* The names of a JSON array of strings as ", a, b" (or " none"). */
static void print_names(struct ctl *c, json_t *arr)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
	    fprintf(c->out, "%s %s", i ? "," : "", q(c, json_string_value(v)));
	fprintf(c->out, "%s\n", json_array_size(arr) ? "" : " none");
}

static void print_status(struct ctl *c, json_t *m)
{
	const char *good = agent_json_str(m, "good");

	fprintf(c->out, "%s\n", q(c, agent_json_str(m, "model")));
	fprintf(c->out, "  versions   %lld, latest %s (registered %s)\n",
		(long long)json_integer_value(json_object_get(m, "versions")),
		q(c, agent_json_str(m, "latest")), agent_json_str(m, "latest_registered"));
	if (good)
		fprintf(c->out, "  good       %s%s\n", q(c, good),
			agent_json_true(m, "good_has_baseline") ? "" : " (no baseline)");
	else
		fprintf(c->out, "  good       none (a rollback would need a target)\n");
	fprintf(c->out, "  hold       %s\n",
		agent_json_true(m, "hold") ? "on (no automatic rollback)" : "off");
	if (agent_json_str(m, "last_rollback_window_end"))
		fprintf(c->out, "  cooldown   from the last rollback's window end, %s\n",
			agent_json_str(m, "last_rollback_window_end"));
	else
		fprintf(c->out, "  cooldown   none (no rollback yet)\n");
	fprintf(c->out, "  latched   ");
	print_names(c, json_object_get(m, "latched"));
	fprintf(c->out, "  baselines ");
	print_names(c, json_object_get(m, "baselines"));
}

static int cmd_status(struct ctl *c, const struct args *a)
{
	json_t *doc = NULL, *models, *m;
	size_t i;
	int rc;

	if (a->npos == 1)
		rc = admin_rc(c, agent_admin_status(c->admin, a->pos[0], &doc));
	else
		rc = admin_rc(c, agent_admin_status_all(c->admin, &doc));
	if (rc != AGENT_CTL_OK)
		return rc;
	if (c->json)
		return emit(c, doc);
	if (a->npos == 1) {
		print_status(c, doc);
	} else {
		models = json_object_get(doc, "models");
		json_array_foreach(models, i, m)
		{
			if (i > 0)
				fputc('\n', c->out);
			print_status(c, m);
		}
		if (json_array_size(models) == 0)
			fprintf(c->out, "no model registered in %s\n",
				q(c, agent_admin_store(c->admin)));
	}
	json_decref(doc);
	return AGENT_CTL_OK;
}

/* ---- the command table ---- */

struct cmddef {
	const char *name;	   /* "register", "baseline build" */
	size_t min_pos, max_pos;   /* positional arguments */
	const struct optdef *opts; /* options with a value, {NULL} terminated */
	int (*run)(struct ctl *c, const struct args *a);
	const char *usage; /* after "driftctl " */
};

static const struct optdef no_opts[] = { { NULL, 0 } };
static const struct optdef register_opts[] = { { "training-data-hash", 0 },
					       { "feature-params", 0 },
					       { "hyperparams", 0 },
					       { "tag", 1 },
					       { NULL, 0 } };
static const struct optdef build_opts[] = { { "from", 0 }, { "bins", 0 }, { NULL, 0 } };

static const struct cmddef commands[] = {
	{ "register", 2, 2, register_opts, cmd_register,
	  "register MODEL VERSION --training-data-hash H --feature-params JSON|@FILE "
	  "--hyperparams JSON|@FILE [--tag K=V]..." },
	{ "versions", 1, 1, no_opts, cmd_versions, "versions MODEL" },
	{ "baseline build", 2, 2, build_opts, cmd_baseline_build,
	  "baseline build MODEL VERSION --from FILE.jsonl [--bins N]" },
	{ "baseline show", 2, 2, no_opts, cmd_baseline_show, "baseline show MODEL VERSION" },
	{ "baseline export", 2, 2, no_opts, cmd_baseline_export, "baseline export MODEL VERSION" },
	{ "baseline import", 1, 1, no_opts, cmd_baseline_import, "baseline import FILE" },
	{ "good", 2, 2, no_opts, cmd_good, "good MODEL VERSION" },
	{ "hold", 1, 1, no_opts, cmd_hold, "hold MODEL" },
	{ "release", 1, 1, no_opts, cmd_release, "release MODEL" },
	{ "rearm", 2, 2, no_opts, cmd_rearm, "rearm MODEL VERSION" },
	{ "history", 1, 1, no_opts, cmd_history, "history MODEL" },
	{ "status", 0, 1, no_opts, cmd_status, "status [MODEL]" },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
	fprintf(f, "usage: driftctl [--store SPEC] [--store-prefix P] [--json] COMMAND ...\n\n"
		   "commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s\n", commands[i].usage);
	fprintf(f,
		"\n--store dir:PATH (default $DRIFTD_STORE, else %s); --store-prefix: the Redis\n"
		"key prefix driftd uses (default $DRIFTD_STORE_PREFIX, else driftd:); --json:\n"
		"machine-readable output. Exit status: 0 done, 1 failed (not found, bad state, "
		"store error),\n"
		"2 wrong command line. Baseline files: doc/baseline.md.\n",
		DEFAULT_STORE);
}

/* ---- argument parsing (getopt_long) ---- */

enum {
	OPT_POSITIONAL = 1, /* getopt's code for an argument in "-" (in order) mode */
	OPT_HELP = 'h',
	OPT_STORE = 256,
	OPT_STORE_PREFIX,
	OPT_JSON,
	OPT_COMMAND, /* OPT_COMMAND + k: the command's option k */
};

#define NGLOBAL 4
static const struct option global_opts[NGLOBAL] = {
	{ "store", required_argument, NULL, OPT_STORE },
	{ "store-prefix", required_argument, NULL, OPT_STORE_PREFIX },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, OPT_HELP },
};

/* Handles a global option's code r (with optarg); 1 when it was one, 0 when not, -1 (message
 * printed) when its value is missing. */
static int global_opt(struct ctl *c, int r, const struct option *lo, int *help)
{
	switch (r) {
	case OPT_JSON:
		c->json = 1;
		return 1;
	case OPT_HELP:
		*help = 1;
		return 1;
	case OPT_STORE:
		c->store_spec = optarg;
		return 1;
	case OPT_STORE_PREFIX:
		c->store_prefix = optarg;
		return 1;
	case ':':
		if (optopt == OPT_STORE)
			fail(c, AGENT_CTL_USAGE, "--store needs a value (dir:PATH)");
		else if (optopt == OPT_STORE_PREFIX)
			fail(c, AGENT_CTL_USAGE, "--store-prefix needs a value");
		else
			fail(c, AGENT_CTL_USAGE, "--%s needs a value",
			     agent_cmdline_find(lo, optopt)->name);
		return -1;
	default:
		return 0;
	}
}

/* The global options before the command: OK with *first = the command's index. */
static int parse_globals(struct ctl *c, int argc, char **argv, int *first, int *help)
{
	struct option lo[NGLOBAL + 1] = { { NULL, 0, NULL, 0 } };
	int r, at, g;

	memcpy(lo, global_opts, sizeof global_opts);
	agent_cmdline_reset(); /* agent_ctl_main may run many times */
	while ((r = agent_cmdline_next(argc, argv, "+:h", lo, &at)) != -1) {
		if ((g = global_opt(c, r, lo, help)) < 0)
			return AGENT_CTL_USAGE;
		if (g == 0)
			return fail(c, AGENT_CTL_USAGE, "unknown option '%s' (see driftctl --help)",
				    q(c, argv[at]));
	}
	*first = optind;
	return AGENT_CTL_OK;
}

static int add_positional(struct ctl *c, const struct cmddef *cmd, struct args *a, const char *s)
{
	if (a->npos == cmd->max_pos)
		return fail(c, AGENT_CTL_USAGE, "unexpected argument '%s' (usage: driftctl %s)",
			    q(c, s), cmd->usage);
	a->pos[a->npos++] = s;
	return AGENT_CTL_OK;
}

static int add_option(struct ctl *c, const struct optdef *o, struct args *a, const char *val)
{
	if (!o->repeat && opt_get(a, o->name))
		return fail(c, AGENT_CTL_USAGE, "--%s given twice", o->name);
	if (a->nopt == MAX_OPTS)
		return fail(c, AGENT_CTL_USAGE, "too many options");
	a->opt[a->nopt] = o->name;
	a->val[a->nopt++] = val;
	return AGENT_CTL_OK;
}

/* The command's arguments argv[1..argc) (argv[0] is the command's last word), in order. */
static int parse_args(struct ctl *c, const struct cmddef *cmd, int argc, char **argv,
		      struct args *a, int *help)
{
	struct option lo[NGLOBAL + MAX_CMD_OPTS + 1] = { { NULL, 0, NULL, 0 } };
	size_t nlo = NGLOBAL;
	int r, at, g, rc = AGENT_CTL_OK;

	memcpy(lo, global_opts, sizeof global_opts);
	for (size_t k = 0; cmd->opts[k].name; k++, nlo++)
		lo[nlo] = (struct option){ cmd->opts[k].name, required_argument, NULL,
					   OPT_COMMAND + (int)k };
	agent_cmdline_reset();
	while (rc == AGENT_CTL_OK && (r = agent_cmdline_next(argc, argv, "-:h", lo, &at)) != -1) {
		if (r == OPT_POSITIONAL)
			rc = add_positional(c, cmd, a, optarg);
		else if (r >= OPT_COMMAND)
			rc = add_option(c, &cmd->opts[r - OPT_COMMAND], a, optarg);
		else if ((g = global_opt(c, r, lo, help)) < 0)
			rc = AGENT_CTL_USAGE;
		else if (g == 0)
			rc = fail(c, AGENT_CTL_USAGE, "unknown option '%s' (usage: driftctl %s)",
				  q(c, argv[at]), cmd->usage);
	}
	for (int i = optind; rc == AGENT_CTL_OK && i < argc; i++) /* after "--" */
		rc = add_positional(c, cmd, a, argv[i]);
	if (rc != AGENT_CTL_OK || *help)
		return rc;
	if (a->npos < cmd->min_pos)
		return fail(c, AGENT_CTL_USAGE, "missing arguments (usage: driftctl %s)",
			    cmd->usage);
	return AGENT_CTL_OK;
}

/* The command at argv[*i] ("baseline" takes the next word too, *i then moves to it): OK with
 * *cmd, or OK with *cmd NULL when --help answered "baseline" alone. */
static int find_command(struct ctl *c, int argc, char **argv, int *i, int help,
			const struct cmddef **cmd)
{
	char name[64];

	*cmd = NULL;
	if (!strcmp(argv[*i], "-"))
		return fail(c, AGENT_CTL_USAGE, "unknown option '-' (see driftctl --help)");
	snprintf(name, sizeof name, "%s", argv[*i]);
	if (!strcmp(argv[*i], "baseline")) {
		if (*i + 1 >= argc || argv[*i + 1][0] == '-') {
			c->cmd = "baseline";
			if (!help)
				return fail(c, AGENT_CTL_USAGE, "build, show, export or import?");
			usage(c->out);
			return AGENT_CTL_OK;
		}
		snprintf(name, sizeof name, "baseline %.40s", argv[++*i]);
	}
	for (size_t k = 0; k < NCOMMANDS; k++)
		if (!strcmp(commands[k].name, name))
			*cmd = &commands[k];
	if (!*cmd)
		return fail(c, AGENT_CTL_USAGE, "unknown command '%s' (see driftctl --help)",
			    q(c, name));
	return AGENT_CTL_OK;
}

/* Parses the whole command line and runs the command. */
static int run(struct ctl *c, int argc, char **argv)
{
	const struct cmddef *cmd = NULL;
	struct args a = { 0 };
	int i = 1, help = 0, rc;

	if ((rc = parse_globals(c, argc, argv, &i, &help)) != AGENT_CTL_OK)
		return rc;
	if (i >= argc) {
		if (help) {
			usage(c->out);
			return AGENT_CTL_OK;
		}
		return fail(c, AGENT_CTL_USAGE,
			    "no command (usage: driftctl [--store SPEC] [--json] COMMAND ...; "
			    "driftctl --help lists the commands)");
	}
	if ((rc = find_command(c, argc, argv, &i, help, &cmd)) != AGENT_CTL_OK || !cmd)
		return rc;
	c->cmd = cmd->name;
	if ((rc = parse_args(c, cmd, argc - i, argv + i, &a, &help)) != AGENT_CTL_OK)
		return rc;
	if (help) {
		fprintf(c->out, "usage: driftctl [--store SPEC] [--json] %s\n", cmd->usage);
		return AGENT_CTL_OK;
	}
	for (size_t k = 0; k < a.npos; k++) {
		if (agent_admin_valid_name(a.pos[k]) || !strcmp(cmd->name, "baseline import"))
			continue;
		return fail(c, AGENT_CTL_USAGE, "'%s': names are 1 to %u bytes of UTF-8 text",
			    q(c, a.pos[k]), AGENT_ADMIN_MAX_NAME);
	}
	c->admin = agent_admin_new(c->store_spec, c->store_prefix);
	if (!c->admin)
		return nomem(c);
	return cmd->run(c, &a);
}

int agent_ctl_main(int argc, char **argv, FILE *out, FILE *err)
{
	struct ctl *c = calloc(1, sizeof *c);
	const char *env = getenv("DRIFTD_STORE");
	int rc;

	if (!c) {
		fprintf(err, "driftctl: out of memory\n");
		return AGENT_CTL_ERROR;
	}
	c->out = out;
	c->err = err;
	c->store_spec = env && env[0] ? env : DEFAULT_STORE;
	env = getenv("DRIFTD_STORE_PREFIX");
	c->store_prefix = env && env[0] ? env : NULL;
	rc = run(c, argc, argv);
	agent_admin_free(c->admin);
	fflush(out);
	fflush(err);
	free(c);
	return rc;
}

/*
 * engine.c -- the pipeline of SPEC.md "Windows and decisions" (see engine.h): a message is
 * decoded and its record counted in the window of its (model, version) holding its event time;
 * when the watermark passes a window's end, the window is closed: evaluated (rules.h), decided
 * (decide.h) and, when a rollback fires, its event emitted (emit.h).
 *
 * The state lives in the modules that own it: the (model, version) table and its windows
 * (pairs.h), the baseline cache (baselines.h), event time (watermark.h), emission and cooldowns
 * (emit.h), exactly-once checkpoints (checkpoint.h) and late labels (late_labels.h). This file
 * wires them together and holds the counters.
 */
#include "agent/engine.h"
#include "agent/baselines.h"
#include "agent/checkpoint.h"
#include "agent/emit.h"
#include "agent/event.h"
#include "agent/late_labels.h"
#include "agent/log.h"
#include "agent/pairs.h"
#include "agent/timefmt.h"
#include "agent/watermark.h"

#include <fnmatch.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct agent_engine {
	const struct agent_config *c; /* borrowed */
	struct conn_store *store;     /* borrowed */
	struct conn_decoder *dec;
	struct conn_limits lim; /* the decoders' limits */
	struct agent_baselines *bl;
	struct agent_pairs *pairs;
	struct agent_watermark *wm;
	struct agent_emitter *em;
	struct agent_ckpt *ck;	      /* NULL: checkpoints off */
	struct agent_late_labels *ll; /* NULL: no labels topic */
	int64_t grace_ms, cooldown_ms;
	int64_t last_wall; /* the latest receive time: records added directly are heard then */
	int64_t last_mono; /* last_wall on the monotonic clock: when streams were last heard */
	struct agent_counters k;
	agent_window_fn fn;
	void *fn_arg;
	agent_reject_fn reject_fn; /* dead letters */
	void *reject_arg;
	int replay;	      /* event time is the file's own (agent_engine_replay) */
	int64_t skew_ms;      /* max_skew; 0: off */
	struct conn_msg held; /* replay: the record held back beyond the bound (data owned) */
	int64_t held_ts;
	int has_held;
};

static const char *const engine_reject_names[] = { "too_many_models", "future_ts",
						   "too_many_windows", "model_not_allowed" };

const char *agent_reject_name(int reason)
{
	if (reason > 0 && reason < CONN_REJECT_COUNT)
		return conn_reject_name((enum conn_reject)reason);
	if (reason >= CONN_REJECT_COUNT && reason < AGENT_REJECT_COUNT)
		return engine_reject_names[reason - CONN_REJECT_COUNT];
	return "unknown";
}

/* ---- construction ---- */

/* Without checkpoints an idle pair may be forgotten while it never decided a window; with them,
 * once its decision state is saved. */
static int can_forget(void *arg, const struct agent_pair *p)
{
	struct agent_engine *e = arg;

	return e->ck ? agent_ckpt_pair_saved(e->ck, p) : !p->any_closed;
}

static void forget(void *arg, const struct agent_pair *p)
{
	struct agent_engine *e = arg;

	e->k.pairs_evicted += p->nwin != 0;
	e->k.records_evicted += agent_pair_open_records(p);
	if (e->ck) /* what the store holds of its windows stays: no agent's counts are lost */
		for (size_t i = 0; i < p->nwin; i++)
			agent_ckpt_window_forget(e->ck, p->win[i]);
	if (e->ck)
		agent_ckpt_pair_forget(e->ck, p);
}

struct agent_engine *agent_engine_new(const struct agent_config *c, struct conn_store *store,
				      struct conn_sink *sink, char *err, size_t errlen)
{
	struct agent_engine *e = calloc(1, sizeof *e);
	int64_t window_ms;

	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->c = c;
	e->store = store;
	window_ms = (int64_t)llround(c->window_s * 1000.0);
	e->grace_ms = (int64_t)llround(c->grace_s * 1000.0);
	e->cooldown_ms = (int64_t)llround(c->cooldown_s * 1000.0);
	e->skew_ms = (int64_t)llround(c->max_skew_s * 1000.0);
	conn_limits_default(&e->lim);
	e->lim.max_message = c->max_message;
	e->lim.max_features = c->max_features;
	e->lim.max_feature_name = c->max_feature_name;
	e->dec = conn_decoder_new(CONN_DECODER_AUTO, &e->lim, err, errlen);
	if (!e->dec)
		goto fail;
	e->bl = agent_baselines_new(store, &e->k.store_errors);
	e->pairs = e->bl ? agent_pairs_new(c->max_models, window_ms, c->max_categories,
					   c->sliding_k, c->baseline, e->bl)
			 : NULL;
	e->wm = agent_watermark_new();
	{
		char owner[200];

		snprintf(owner, sizeof owner, "%s-%ld-%lld", c->agent_id ? c->agent_id : "driftd",
			 (long)getpid(), (long long)agent_time_now_ms());
		e->em = agent_emitter_new(store, sink, &e->k, owner);
	}
	if (!e->pairs || !e->wm || !e->em) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	agent_pairs_set_hooks(e->pairs, &(struct agent_pairs_hooks){ can_forget, forget, e });
	agent_pairs_set_min_samples(e->pairs, c->min_samples);
	agent_pairs_set_max_windows(e->pairs, c->max_open_windows);
	if (c->labels && !(e->ll = agent_late_labels_new(c, &e->lim, e->pairs, &e->k, err, errlen)))
		goto fail;
	return e;
fail:
	agent_engine_free(e);
	return NULL;
}

void agent_engine_free(struct agent_engine *e)
{
	if (!e)
		return;
	agent_late_labels_free(e->ll);
	agent_ckpt_free(e->ck);
	agent_pairs_free(e->pairs);
	agent_baselines_free(e->bl);
	agent_emitter_free(e->em);
	agent_watermark_free(e->wm);
	conn_decoder_free(e->dec);
	free((char *)e->held.data);
	free(e);
}

void agent_engine_on_window(struct agent_engine *e, agent_window_fn fn, void *arg)
{
	e->fn = fn;
	e->fn_arg = arg;
}

void agent_engine_on_reject(struct agent_engine *e, agent_reject_fn fn, void *arg)
{
	e->reject_fn = fn;
	e->reject_arg = arg;
}

const struct agent_counters *agent_engine_counters(const struct agent_engine *e)
{
	return &e->k;
}

int agent_engine_watermark(const struct agent_engine *e, int64_t *ts_ms)
{
	return agent_watermark_max(e->wm, ts_ms);
}

const struct agent_pairs *agent_engine_pairs(const struct agent_engine *e)
{
	return e->pairs;
}

const struct agent_config *agent_engine_config(const struct agent_engine *e)
{
	return e->c;
}

size_t agent_engine_assigned(const struct agent_engine *e)
{
	return agent_watermark_event_streams(e->wm);
}

/* ---- closing a window ---- */

static void log_window(const struct agent_engine *e, const struct agent_pair *p,
		       const struct agent_eval *ev, const struct agent_decision *d, uint64_t labels)
{
	char line[1024], s[AGENT_TIME_LEN];
	size_t o = 0;

	if (!agent_log_enabled(AGENT_LOG_INFO))
		return;
	agent_time_format(ev->start_ms, s);
	o += (size_t)snprintf(line + o, sizeof line - o, "%s %s window %s n=%" PRIu64, p->model,
			      p->version, s, ev->n);
	if (!agent_coverage_complete(&ev->coverage)) {
		o += (size_t)snprintf(line + o, sizeof line - o,
				      " coverage=%u/%u missing=", ev->coverage.covered,
				      ev->coverage.partitions);
		for (uint32_t i = 0; i < ev->coverage.nlisted && o < sizeof line; i++)
			o += (size_t)snprintf(line + o, sizeof line - o, "%s%s", i ? "," : "",
					      ev->coverage.missing[i]);
		if (o < sizeof line &&
		    ev->coverage.partitions - ev->coverage.covered > ev->coverage.nlisted)
			o += (size_t)snprintf(line + o, sizeof line - o, ",...");
	}
	if (e->ll) /* the share of records without a label, own or joined */
		o += (size_t)snprintf(line + o, sizeof line - o, " target_missing=%.4f",
				      !ev->n		? 1.0
				      : labels >= ev->n ? 0.0
							: 1.0 - (double)labels / (double)ev->n);
	for (int r = 0; r < AGENT_RULE_COUNT && o < sizeof line; r++) {
		const struct agent_rule_result *rr = &ev->rule[r];

		if (!rr->enabled)
			continue;
		if (rr->outcome == AGENT_INCONCLUSIVE)
			o += (size_t)snprintf(line + o, sizeof line - o, " %s=inconclusive(%s)",
					      agent_rule_name(r), rr->why);
		else
			o += (size_t)snprintf(line + o, sizeof line - o, " %s=%s(%s%s%.4g vs %.4g)",
					      agent_rule_name(r), agent_outcome_name(rr->outcome),
					      rr->feature ? rr->feature : "",
					      rr->feature ? " " : "", rr->value, rr->threshold);
	}
	if (o < sizeof line && d->fired_mask)
		snprintf(line + o, sizeof line - o, " -> %s%s",
			 d->fire ? d->type : "blocked:", d->fire ? "" : d->blocked);
	agent_log(AGENT_LOG_INFO, "window", "%s", line);
}

/* Counts an event handed to the sink in its pair's emitted events, by type. */
static void count_event(struct agent_pair *p, const struct agent_event *ev, enum agent_emit how)
{
	if (how != AGENT_EMIT_SENT)
		return;
	p->events[!strcmp(ev->type, AGENT_EVENT_DRYRUN)		? AGENT_PAIR_DRYRUN
		  : !strcmp(ev->type, AGENT_EVENT_NEEDS_TARGET) ? AGENT_PAIR_NEEDS_TARGET
								: AGENT_PAIR_ROLLBACK]++;
}

/* Evaluates, decides and (when a rollback fires) emits closed window w of p. */
static void close_window(struct agent_engine *e, struct agent_pair *p, struct agent_window *w,
			 const struct agent_coverage *cov)
{
	struct agent_window *view = NULL;
	struct agent_eval ev;
	struct agent_decision d;
	struct agent_decide_ctx ctx = { 0 };
	struct agent_event event = { 0 };
	struct agent_window_report rep = { 0 };
	const struct agent_window *seen;
	const char *bver = w->base ? w->base->version : NULL;
	char *good = NULL;
	int64_t cool;

	agent_window_flush(w);
	e->k.windows++;
	view = agent_pair_sliding_view(e->pairs, p, w);
	seen = view ? view : w;
	if (agent_rules_eval(e->c, seen, &ev) < 0) {
		agent_window_free(view);
		agent_log(AGENT_LOG_ERR, "window", "%s %s: out of memory evaluating", p->model,
			  p->version);
		return;
	}
	agent_eval_coverage(e->c, &ev, cov);
	good = agent_baselines_good(e->bl, p->model); /* first: it notices an emptied store */
	agent_emit_flags(e->em, p->model, p->version,
			 agent_baselines_lost(e->bl, &e->k.store_lost) > 0, &ctx.hold,
			 &ctx.latched);
	ctx.good_version = good;
	ctx.version = p->version;
	/* the rollback's own window decided again (a restart) is the same decision, not one in
	 * its cooldown: its claim makes it a duplicate */
	ctx.in_cooldown = agent_cooldown_get(e->em, p->model, &cool) == 0 && w->end_ms != cool &&
			  w->end_ms - cool < e->cooldown_ms;
	agent_decide(&p->streaks, &ev, e->c->breach_windows, e->c->dry_run, &ctx, &d);
	log_window(e, p, &ev, &d, seen->labels);
	agent_pair_set_decided(p, &ev, seen->labels, agent_time_now_ms());

	rep.labels = seen->labels;
	rep.model = p->model;
	rep.version = p->version;
	rep.baseline_version = bver;
	rep.eval = &ev;
	rep.decision = &d;
	if (d.fire &&
	    agent_event_build(&event, e->c->agent_id, p->model, p->version, bver, &ev, &d) == 0) {
		enum agent_emit how = agent_emit(e->em, p->model, p->version, &event);

		count_event(p, &event, how);
		rep.duplicate = how == AGENT_EMIT_DUPLICATE;
		rep.event_json = how == AGENT_EMIT_SENT ? event.json : NULL;
		if (how != AGENT_EMIT_DUPLICATE && !strcmp(event.type, AGENT_EVENT_ROLLBACK))
			agent_cooldown_set(e->em, p->model, w->end_ms);
	} else if (d.fire) {
		e->k.event_errors++;
		agent_log(AGENT_LOG_CRIT, "events", "%s %s: out of memory building the event",
			  p->model, p->version);
	}
	if (e->fn)
		e->fn(e->fn_arg, &rep);
	agent_event_free(&event);
	agent_eval_free(&ev);
	agent_window_free(view);
	free(good);
}

/* Closes the windows of p ending at or before upto (all when all != 0), oldest first. */
static void close_pair_windows(struct agent_engine *e, struct agent_pair *p, int64_t upto, int all)
{
	size_t n = 0;

	while (n < p->nwin && (all || p->win[n]->end_ms <= upto)) {
		struct agent_window *w = p->win[n];
		struct agent_coverage cov = { 0 };
		enum agent_ckpt_close how =
		    e->ck ? agent_ckpt_before_close(e->ck, p, w, &cov) : AGENT_CKPT_DECIDE;

		if (how == AGENT_CKPT_WAIT)
			break; /* later windows wait too: decisions stay in window order */
		if (how == AGENT_CKPT_DECIDE)
			close_window(e, p, w, &cov);
		agent_pair_mark_closed(p, w);
		if (e->ck) {
			if (how == AGENT_CKPT_DECIDE) /* skipped: the state is the decider's */
				agent_ckpt_pair_changed(e->ck, p);
			agent_ckpt_after_close(e->ck, p, w);
		}
		if (how != AGENT_CKPT_DECIDE || !agent_pair_keep_past(e->pairs, p, w))
			agent_window_free(w);
		n++;
	}
	agent_pair_drop_oldest(p, n);
}

/* ---- alerts ---- */

enum agent_alert_result agent_engine_alert(struct agent_engine *e, const struct conn_am_alert *a,
					   const char **why)
{
	const char *model = conn_am_label(&a->labels, "model");
	const char *version = conn_am_label(&a->labels, "version");
	struct agent_decide_ctx ctx = { 0 };
	struct agent_decision d;
	struct agent_event event;
	struct agent_pair *p;
	char *good = NULL;
	enum agent_emit how;

	*why = NULL;
	if (a->status != CONN_AM_FIRING) {
		e->k.alerts_resolved++;
		*why = "resolved";
		return AGENT_ALERT_IGNORED;
	}
	e->k.alerts_firing++;
	e->k.alerts_ignored++; /* until it is acted on */
	if (!model || !model[0] || strlen(model) > 128) {
		*why = "no usable model label";
		return AGENT_ALERT_IGNORED;
	}
	if (version && version[0])
		p = strlen(version) > 128
			? NULL
			: agent_pairs_get(e->pairs, model, strlen(model), version, strlen(version));
	else
		p = agent_pairs_newest(e->pairs, model);
	if (!p) {
		*why = version && version[0]
			   ? "too many (model, version) pairs"
			   : "no version of the model seen (label it with version)";
		return AGENT_ALERT_IGNORED;
	}
	agent_emit_flags(e->em, p->model, p->version, agent_baselines_lost(e->bl, NULL) > 0,
			 &ctx.hold, &ctx.latched);
	if (!ctx.hold && !ctx.latched)
		good = agent_baselines_good(e->bl, p->model);
	ctx.good_version = good;
	ctx.version = p->version;
	agent_decide_alert(e->c->dry_run, &ctx, &d);
	if (!d.fire) {
		*why = d.blocked;
		return AGENT_ALERT_IGNORED;
	}
	if (agent_event_build_alert(&event, e->c->agent_id, p->model, p->version, d.to_version,
				    d.type, e->c->dry_run, a, agent_time_now_ms()) < 0) {
		free(good);
		e->k.event_errors++;
		*why = "out of memory";
		return AGENT_ALERT_IGNORED;
	}
	free(good);
	how = agent_emit(e->em, p->model, p->version, &event);
	count_event(p, &event, how);
	agent_event_free(&event);
	if (how == AGENT_EMIT_DUPLICATE) {
		*why = "duplicate";
		return AGENT_ALERT_IGNORED;
	}
	e->k.alerts_ignored--;
	e->k.alerts_acted++;
	return AGENT_ALERT_ACTED;
}

/* ---- ticks ---- */

void agent_engine_tick(struct agent_engine *e)
{
	uint64_t closed = e->k.windows + e->k.windows_skipped;
	int64_t now = agent_time_mono_ms(), wm; /* durations only: a wall-clock step is none */

	agent_emit_tick(e->em, now);
	if (e->ll)
		agent_late_labels_tick(e->ll, now);
	if (agent_watermark_low(e->wm, now, &wm) < 0 || wm == INT64_MIN) {
		/* no record yet, or an assigned stream not heard from yet: it may bring records of
		 * any window still */
		agent_pairs_set_horizon(e->pairs, INT64_MIN);
		goto checkpoint;
	}
	wm -= e->grace_ms;
	if (agent_log_enabled(AGENT_LOG_DEBUG)) {
		char t[AGENT_TIME_LEN];

		agent_time_format(wm, t);
		agent_log(AGENT_LOG_DEBUG, "engine", "watermark %s over %zu streams", t,
			  agent_watermark_streams(e->wm));
	}
	agent_pairs_set_horizon(e->pairs, wm);
	for (size_t i = 0; i < agent_pairs_count(e->pairs); i++)
		close_pair_windows(e, agent_pairs_at(e->pairs, i), wm, 0);
checkpoint:
	/* a decision is committed (its state, its partials dropped) right after it is made */
	if (e->ck)
		agent_ckpt_commit(e->ck, e->k.windows + e->k.windows_skipped != closed);
}

static void reject_held(struct agent_engine *e);

void agent_engine_finish(struct agent_engine *e)
{
	reject_held(e); /* the last record, beyond the bound with nothing to confirm it */
	for (size_t i = 0; i < agent_pairs_count(e->pairs); i++)
		close_pair_windows(e, agent_pairs_at(e->pairs, i), 0, 1);
	agent_emit_drain(e->em, AGENT_ENGINE_DRAIN_MS);
}

size_t agent_engine_store_lost(const struct agent_engine *e)
{
	return agent_baselines_lost(e->bl, NULL);
}

int64_t agent_engine_checkpoint_failing_ms(const struct agent_engine *e)
{
	return e->ck ? agent_ckpt_failing_ms(e->ck, agent_time_mono_ms()) : 0;
}

size_t agent_engine_drain(struct agent_engine *e, int timeout_ms)
{
	return agent_emit_drain(e->em, timeout_ms);
}

/* ---- records ---- */

/* Counts record r at event time ts, from stream received at wall time now; m is its message
 * (NULL when added directly), for the dead letter of a rejection. */
static void add_record_at(struct agent_engine *e, const struct conn_record *r, int64_t ts,
			  uint32_t stream, int64_t now, const struct conn_msg *m, int mark);

static void add_record(struct agent_engine *e, const struct conn_record *r, int64_t ts,
		       uint32_t stream, int64_t now, const struct conn_msg *m)
{
	add_record_at(e, r, ts, stream, now, m, 1);
}

/* A record counted at ts without moving event time. */
static void add_record_unmarked(struct agent_engine *e, const struct conn_record *r, int64_t ts,
				int64_t now, const struct conn_msg *m)
{
	add_record_at(e, r, ts, m->stream, now, m, 0);
}

/* Counts record r at event time ts; mark: the time moves its stream's watermark. */
/* Whether model[0..len) is in the `models` list (always, without one). */
static int model_allowed(const struct agent_engine *e, const char *model, size_t len)
{
	char name[129];
	const char *p = e->c->models;

	if (!p)
		return 1;
	if (len >= sizeof name)
		return 0; /* no pattern is that long (config_check_models) */
	memcpy(name, model, len);
	name[len] = '\0';
	if (memchr(model, '\0', len))
		return 0;
	do {
		char pat[129];
		size_t n = strcspn(p, ",");

		if (n < sizeof pat) {
			memcpy(pat, p, n);
			pat[n] = '\0';
			if (fnmatch(pat, name, 0) == 0)
				return 1;
		}
		p += n;
	} while (*p++ == ',');
	return 0;
}

static void add_record_at(struct agent_engine *e, const struct conn_record *r, int64_t ts,
			  uint32_t stream, int64_t now, const struct conn_msg *m, int mark)
{
	struct agent_pair *p;
	struct agent_window *w;
	int why = 0;

	/* a pair the table has was allowed when it was made: the list is read for new ones only,
	 * never per record of a known pair */
	p = agent_pairs_find(e->pairs, r->model, r->model_len, r->version, r->version_len);
	if (!p && !model_allowed(e, r->model, r->model_len))
		why = AGENT_REJECT_MODEL_NOT_ALLOWED;
	else if (!p && !(p = agent_pairs_get(e->pairs, r->model, r->model_len, r->version,
					     r->version_len)))
		why = AGENT_REJECT_TOO_MANY_MODELS;
	if (why) {
		e->k.rejected[why]++;
		if (e->reject_fn && m)
			e->reject_fn(e->reject_arg, m, agent_reject_name(why));
		return;
	}
	switch (agent_pair_window(e->pairs, p, ts, &w)) {
	case AGENT_SLOT_LATE:
		e->k.late++;
		return;
	case AGENT_SLOT_FULL:
		e->k.rejected[AGENT_REJECT_TOO_MANY_WINDOWS]++;
		if (e->reject_fn && m)
			e->reject_fn(e->reject_arg, m,
				     agent_reject_name(AGENT_REJECT_TOO_MANY_WINDOWS));
		return;
	case AGENT_SLOT_NOMEM:
		e->k.dropped_nomem++;
		return;
	case AGENT_SLOT_OPEN:
		break;
	}
	agent_window_add(w, r, e->c->accuracy_threshold);
	p->last_wall = now;
	e->k.accepted++;
	if (mark) /* stream heard at last_mono: its silence is measured on the monotonic clock */
		agent_watermark_mark(e->wm, stream, ts,
				     now == e->last_wall ? e->last_mono : agent_time_mono_at(now));
}

void agent_engine_add(struct agent_engine *e, const struct conn_record *r, int64_t ts)
{
	add_record(e, r, ts, 0, e->last_wall, NULL);
}

/* ---- event-time admission ---- */

void agent_engine_replay(struct agent_engine *e, int replay)
{
	e->replay = replay;
}

enum admit { ADMIT_OK, ADMIT_FUTURE, ADMIT_HOLD, ADMIT_WITH_HELD };

/* Rejects the record of m (time ts) as future_ts. */
static void reject_future(struct agent_engine *e, const struct conn_msg *m, int64_t ts)
{
	char t[AGENT_TIME_LEN];

	e->k.rejected[AGENT_REJECT_FUTURE_TS]++;
	if (e->reject_fn)
		e->reject_fn(e->reject_arg, m, agent_reject_name(AGENT_REJECT_FUTURE_TS));
	agent_time_format(ts, t);
	agent_log(AGENT_LOG_DEBUG, "records", "offset %" PRId64 " rejected: future_ts (%s)",
		  m->offset, t);
}

static void drop_held(struct agent_engine *e)
{
	free((char *)e->held.data);
	e->held.data = NULL;
	e->has_held = 0;
}

/* The held record was a lone outlier: rejected now. */
static void reject_held(struct agent_engine *e)
{
	if (!e->has_held)
		return;
	reject_future(e, &e->held, e->held_ts);
	drop_held(e);
}

static void hold(struct agent_engine *e, const struct conn_msg *m, int64_t ts)
{
	char *copy;

	reject_held(e);
	copy = malloc(m->len ? m->len : 1);
	if (!copy) {
		reject_future(e, m, ts);
		return;
	}
	memcpy(copy, m->data, m->len);
	e->held = *m;
	e->held.data = copy;
	e->held.topic = NULL; /* a file: no topic to keep */
	e->held_ts = ts;
	e->has_held = 1;
}

/* The held record, confirmed by the next one: decoded again and counted. */
static void add_held(struct agent_engine *e, int64_t now)
{
	struct conn_record r;

	if (conn_decode(e->dec, e->held.data, e->held.len, &r) == CONN_REJECT_NONE)
		add_record(e, &r, e->held_ts, e->held.stream, now, &e->held);
	drop_held(e);
}

/* Whether a record of time ts received at now is admitted (see engine.h). */
static enum admit admit(struct agent_engine *e, int64_t ts, int64_t now)
{
	int64_t max;

	if (!e->skew_ms)
		return ADMIT_OK;
	if (!e->replay)
		return ts > now + e->skew_ms ? ADMIT_FUTURE : ADMIT_OK;
	if (agent_watermark_max(e->wm, &max) < 0 || ts <= max + e->skew_ms) {
		reject_held(e); /* a record in line: the held one stood alone */
		return ADMIT_OK;
	}
	if (e->has_held && ts >= e->held_ts - e->skew_ms && ts <= e->held_ts + e->skew_ms)
		return ADMIT_WITH_HELD;
	return ADMIT_HOLD;
}

/* A partition assigned: announced in the checkpoint; counted before (by this agent before a
 * restart, or by another), it holds its stored mark as if its last record had just come --
 * until it stays silent -- and not, as a partition that never delivered a record does, nothing
 * once it is at its end: its producer may only be behind (the records of the others would
 * otherwise close windows without its own). */
static void hello_mark(struct agent_engine *e, const struct conn_msg *m)
{
	int64_t hwm = agent_ckpt_hello(e->ck, m);

	if (hwm >= 0 && hwm != INT64_MAX)
		agent_watermark_mark(e->wm, m->stream, hwm, e->last_mono);
}

void agent_engine_feed(struct agent_engine *e, const struct conn_msg *m, int64_t now_ms)
{
	struct conn_record r;
	enum conn_reject why;
	uint64_t accepted;
	int64_t ts;
	int labels = e->ll && agent_late_labels_owns(e->ll, m);

	if (m->eof) {
		agent_watermark_at_end(e->wm, m->stream);
		return;
	}
	if (now_ms != e->last_wall) { /* a batch shares its receive time: one clock read each */
		e->last_wall = now_ms;
		e->last_mono = agent_time_mono_at(now_ms);
	}
	if (m->hello) {
		if (m->topic)
			agent_log(AGENT_LOG_INFO, "source", "assigned %s/%d", m->topic,
				  (int)m->partition);
		if (labels) {
			agent_watermark_labels(e->wm, m->stream, e->last_mono);
		} else {
			agent_watermark_hello(e->wm, m->stream, e->last_mono);
			agent_pairs_set_horizon(e->pairs, INT64_MIN); /* it holds time back */
			if (e->ck && m->topic)
				hello_mark(e, m);
		}
		return;
	}
	if (labels) {
		if (e->ck)
			agent_ckpt_note_offset(e->ck, m);
		agent_watermark_labels(e->wm, m->stream, e->last_mono);
		why = agent_late_labels_message(e->ll, m, e->last_mono);
		if (why != CONN_REJECT_NONE && e->reject_fn)
			e->reject_fn(e->reject_arg, m, conn_reject_name(why));
		return;
	}
	e->k.records++;
	if (e->ck && m->topic)
		agent_ckpt_note_offset(e->ck, m);
	why = m->oversized ? CONN_REJECT_TOO_LARGE : conn_decode(e->dec, m->data, m->len, &r);
	if (why != CONN_REJECT_NONE) {
		e->k.rejected[why]++;
		if (e->reject_fn)
			e->reject_fn(e->reject_arg, m, conn_reject_name(why));
		agent_log(AGENT_LOG_DEBUG, "records", "offset %" PRId64 " rejected: %s", m->offset,
			  conn_reject_name(why));
		return;
	}
	accepted = e->k.accepted;
	if (r.has_ts || m->ts_ms >= 0) {
		ts = r.has_ts ? r.ts_ms : m->ts_ms;
		switch (admit(e, ts, now_ms)) {
		case ADMIT_FUTURE:
			reject_future(e, m, ts);
			return;
		case ADMIT_HOLD:
			hold(e, m, ts);
			return;
		case ADMIT_WITH_HELD:
			add_record(e, &r, ts, m->stream, now_ms, m);
			add_held(e, now_ms); /* after: it re-decodes into the decoder's buffers */
			return;
		case ADMIT_OK:
			break;
		}
		add_record(e, &r, ts, m->stream, now_ms, m);
	} else if (e->replay) { /* no time: at the file's time so far, never moving it */
		if (agent_watermark_max(e->wm, &ts) < 0)
			ts = now_ms;
		add_record_unmarked(e, &r, ts, now_ms, m);
	} else {
		ts = now_ms;
		add_record(e, &r, ts, m->stream, now_ms, m);
	}
	if (e->ll && e->k.accepted != accepted)
		agent_late_labels_remember(e->ll, &r, ts, e->last_mono);
}

/* ---- checkpoints (checkpoint.h) ---- */

int agent_engine_checkpoints(struct agent_engine *e, const char *scope, const char *instance,
			     int64_t interval_ms, char *err, size_t errlen)
{
	struct agent_ckpt_env env = { .c = e->c,
				      .store = e->store,
				      .pairs = e->pairs,
				      .wm = e->wm,
				      .em = e->em,
				      .k = &e->k,
				      .grace_ms = e->grace_ms,
				      .coverage_wait_ms =
					  (int64_t)llround(e->c->coverage_wait_s * 1000.0) };
	struct agent_ckpt *ck = e->ck ? e->ck : agent_ckpt_new(&env, scope, instance, interval_ms);

	if (!ck) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (agent_ckpt_restore(ck, err, errlen) < 0) {
		if (ck != e->ck)
			agent_ckpt_free(ck);
		return -1;
	}
	e->ck = ck;
	if (agent_emitter_owner(e->em, instance) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

void agent_engine_census(struct agent_engine *e, agent_census_fn fn, void *arg)
{
	if (e->ck)
		agent_ckpt_census(e->ck, fn, arg);
}

void agent_engine_checkpoint_lock_ttl(struct agent_engine *e, int64_t ms)
{
	if (e->ck)
		agent_ckpt_lock_ttl(e->ck, ms);
}

int agent_engine_checkpoint(struct agent_engine *e, int force)
{
	return e->ck ? agent_ckpt_commit(e->ck, force) : 0;
}

int agent_engine_resume_offset(struct agent_engine *e, const char *topic, int32_t partition,
			       int64_t *next)
{
	return e->ck ? agent_ckpt_resume_offset(e->ck, topic, partition, next) : 1;
}

void agent_engine_stream_gone(struct agent_engine *e, uint32_t stream)
{
	agent_watermark_gone(e->wm, stream);
	if (e->ck)
		agent_ckpt_gone(e->ck, stream);
}

size_t agent_engine_rewind(struct agent_engine *e, agent_rewind_fn fn, void *arg)
{
	return e->ck ? agent_ckpt_rewind(e->ck, fn, arg) : 0;
}

void agent_engine_committed_offsets(struct agent_engine *e, agent_offset_fn fn, void *arg)
{
	if (e->ck)
		agent_ckpt_committed_offsets(e->ck, fn, arg);
}

/*
 * engine.c -- routing records into windows, closing windows on the event-time watermark,
 * deciding and emitting (see engine.h).
 *
 * State: a small array of (model, version) pairs (at most max_models; the last one used is
 * tried first, as streams are usually dominated by one pair), each with its open windows sorted
 * by start and its rule streaks; a cache of baselines loaded from the store; per model the end
 * of the window of its last rollback (cooldown); events the sink refused, retried on each tick.
 */
#include "agent/engine_impl.h"
#include "agent/event.h"
#include "agent/log.h"
#include "agent/timefmt.h"
#include "agent/util.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const engine_reject_names[] = { "too_many_models" };

const char *agent_reject_name(int reason)
{
	if (reason > 0 && reason < CONN_REJECT_COUNT)
		return conn_reject_name((enum conn_reject)reason);
	if (reason >= CONN_REJECT_COUNT && reason < AGENT_REJECT_COUNT)
		return engine_reject_names[reason - CONN_REJECT_COUNT];
	return "unknown";
}

/* ---- construction ---- */

struct agent_engine *agent_engine_new(const struct agent_config *c, struct conn_store *store,
				      struct conn_sink *sink, char *err, size_t errlen)
{
	struct agent_engine *e = calloc(1, sizeof *e);
	struct conn_limits lim;

	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->c = c;
	e->store = store;
	e->sink = sink;
	e->window_ms = (int64_t)llround(c->window_s * 1000.0);
	e->grace_ms = (int64_t)llround(c->grace_s * 1000.0);
	e->cooldown_ms = (int64_t)llround(c->cooldown_s * 1000.0);
	if (e->window_ms <= 0)
		e->window_ms = 1;
	conn_limits_default(&lim);
	lim.max_message = c->max_message;
	lim.max_features = c->max_features;
	lim.max_feature_name = c->max_feature_name;
	e->lim = lim;
	e->dec = conn_decoder_new(CONN_DECODER_AUTO, &lim, err, errlen);
	e->pairs = calloc(c->max_models ? c->max_models : 1, sizeof *e->pairs);
	e->pending = calloc(PENDING_MAX, sizeof *e->pending);
	if (!e->dec || !e->pairs || !e->pending) {
		if (e->dec)
			snprintf(err, errlen, "out of memory");
		agent_engine_free(e);
		return NULL;
	}
	if (join_init(e, err, errlen) < 0) {
		agent_engine_free(e);
		return NULL;
	}
	return e;
}

static void free_last(struct pair_last *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->nf; i++)
		free(l->f[i].name);
	free(l->f);
	free(l);
}

static void free_pair(struct pair *p)
{
	free_last(p->last);
	for (size_t i = 0; i < p->npast; i++)
		agent_window_free(p->past[i]);
	free(p->past);
	for (size_t i = 0; i < p->nwin; i++)
		agent_window_free(p->win[i]);
	free(p->win);
	free(p->model);
	free(p->version);
	free(p->base_version);
	memset(p, 0, sizeof *p);
}

void agent_engine_free(struct agent_engine *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->npairs; i++)
		free_pair(&e->pairs[i]);
	free(e->pairs);
	for (size_t i = 0; i < e->ncache; i++) {
		free(e->cache[i].model);
		free(e->cache[i].version);
		agent_baseline_free(e->cache[i].b);
	}
	free(e->cache);
	for (size_t i = 0; i < e->ncool; i++)
		free(e->cool[i].model);
	free(e->cool);
	for (size_t i = 0; e->pending && i < e->npending; i++) {
		free(e->pending[i].key);
		free(e->pending[i].json);
		free(e->pending[i].model);
		free(e->pending[i].id);
	}
	free(e->pending);
	for (size_t i = 0; i < e->nstreams; i++)
		free(e->streams[i].name);
	free(e->streams);
	ckpt_free(e);
	join_free(e);
	conn_decoder_free(e->dec);
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
	if (!e->have_ts)
		return -1;
	*ts_ms = e->max_ts;
	return 0;
}

/* ---- baselines ---- */

/* The baseline of (model, version) from the cache or the store; NULL when there is none. */
static const struct agent_baseline *baseline_of(struct agent_engine *e, const char *model,
						const char *version)
{
	struct cached_baseline *cb = NULL, *grown;
	struct conn_blob blob;
	char err[256];
	int rc;

	for (size_t i = 0; i < e->ncache; i++)
		if (!strcmp(e->cache[i].model, model) && !strcmp(e->cache[i].version, version))
			cb = &e->cache[i];
	if (cb && cb->b)
		return cb->b;
	rc = conn_store_baseline_get(e->store, model, version, &blob);
	if (rc < 0) {
		e->k.store_errors++;
		agent_log(AGENT_LOG_WARNING, "store", "baseline %s %s: %s", model, version,
			  conn_store_error(e->store));
		return NULL;
	}
	if (!cb) {
		grown = realloc(e->cache, (e->ncache + 1) * sizeof *e->cache);
		if (!grown) {
			if (rc == 0)
				free(blob.data);
			return NULL;
		}
		e->cache = grown;
		cb = &e->cache[e->ncache];
		cb->model = strdup(model);
		cb->version = strdup(version);
		cb->b = NULL;
		if (!cb->model || !cb->version) {
			free(cb->model);
			free(cb->version);
			if (rc == 0)
				free(blob.data);
			return NULL;
		}
		e->ncache++;
	}
	if (rc == 1)
		return NULL;
	cb->b = agent_baseline_from_json(blob.data, blob.len, err, sizeof err);
	free(blob.data);
	if (!cb->b)
		agent_log(AGENT_LOG_ERR, "store", "baseline %s %s is invalid: %s", model, version,
			  err);
	else
		agent_log(AGENT_LOG_INFO, "baseline",
			  "loaded %s %s (%" PRIu64 " samples, %zu features)", model, version,
			  cb->b->samples, cb->b->nfeatures);
	return cb->b;
}

/* The model's last known good version (malloc'd) or NULL. */
static char *good_of(struct agent_engine *e, const char *model)
{
	struct conn_blob blob;
	int rc = conn_store_good_get(e->store, model, &blob);

	if (rc < 0) {
		e->k.store_errors++;
		return NULL;
	}
	return rc == 0 ? blob.data : NULL;
}

/* Chooses the comparison baseline for a new window of p: the last known good version's (or,
 * with none, the version's own), or the version's own with baseline = self. */
static const struct agent_baseline *choose_baseline(struct agent_engine *e, struct pair *p)
{
	const struct agent_baseline *b = NULL;
	char *good = e->c->baseline == AGENT_BASELINE_LAST_GOOD ? good_of(e, p->model) : NULL;

	if (good)
		b = baseline_of(e, p->model, good);
	if (!b)
		b = baseline_of(e, p->model, p->version);
	free(good);
	free(p->base_version);
	p->base_version = b ? strdup(b->version) : NULL;
	return b;
}

/* ---- pairs and windows ---- */

struct pair *engine_pair(struct agent_engine *e, const char *model, size_t mlen,
			 const char *version, size_t vlen)
{
	struct pair *p;

	if (e->last < e->npairs) {
		p = &e->pairs[e->last];
		if (p->mlen == mlen && p->vlen == vlen && !memcmp(p->model, model, mlen) &&
		    !memcmp(p->version, version, vlen))
			return p;
	}
	for (size_t i = 0; i < e->npairs; i++) {
		p = &e->pairs[i];
		if (p->mlen == mlen && p->vlen == vlen && !memcmp(p->model, model, mlen) &&
		    !memcmp(p->version, version, vlen)) {
			e->last = i;
			return p;
		}
	}
	if (e->npairs == e->c->max_models) {
		/* reuse an idle pair (no open window, state saved): its streaks are forgotten */
		for (size_t i = 0; i < e->npairs; i++) {
			if (e->pairs[i].nwin == 0 && !e->pairs[i].state_dirty) {
				agent_log(AGENT_LOG_INFO, "engine", "forgetting idle %s %s",
					  e->pairs[i].model, e->pairs[i].version);
				free_pair(&e->pairs[i]);
				e->pairs[i] = e->pairs[--e->npairs];
				break;
			}
		}
		if (e->npairs == e->c->max_models)
			return NULL;
	}
	p = &e->pairs[e->npairs];
	memset(p, 0, sizeof *p);
	p->model = agent_strndup(model, mlen);
	p->version = agent_strndup(version, vlen);
	if (!p->model || !p->version) {
		free_pair(p);
		return NULL;
	}
	p->mlen = mlen;
	p->vlen = vlen;
	e->last = e->npairs++;
	return p;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The open window of p holding time ts (created if needed), or NULL when late / no memory. */
struct agent_window *engine_window(struct agent_engine *e, struct pair *p, int64_t ts, int *late)
{
	int64_t start = floor_div(ts, e->window_ms) * e->window_ms;
	struct agent_window *w;
	size_t at;

	*late = 0;
	if (p->nwin && p->win[p->nwin - 1]->start_ms == start)
		return p->win[p->nwin - 1];
	if (p->any_closed && start + e->window_ms <= p->closed_upto) {
		*late = 1;
		return NULL;
	}
	for (at = 0; at < p->nwin && p->win[at]->start_ms < start; at++)
		;
	if (at < p->nwin && p->win[at]->start_ms == start)
		return p->win[at];
	if (p->nwin == p->capwin) {
		size_t cap = p->capwin ? 2 * p->capwin : 4;
		struct agent_window **g = realloc(p->win, cap * sizeof *g);

		if (!g)
			return NULL;
		p->win = g;
		p->capwin = cap;
	}
	w = agent_window_new(start, start + e->window_ms, choose_baseline(e, p),
			     e->c->max_categories);
	if (!w)
		return NULL;
	memmove(p->win + at + 1, p->win + at, (p->nwin - at) * sizeof *p->win);
	p->win[at] = w;
	p->nwin++;
	return w;
}

/* ---- events ---- */

int64_t *engine_cooldown(struct agent_engine *e, const char *model)
{
	struct model_cooldown *g;

	for (size_t i = 0; i < e->ncool; i++)
		if (!strcmp(e->cool[i].model, model))
			return &e->cool[i].last_end_ms;
	g = realloc(e->cool, (e->ncool + 1) * sizeof *g);
	if (!g)
		return NULL;
	e->cool = g;
	g[e->ncool].model = strdup(model);
	if (!g[e->ncool].model)
		return NULL;
	g[e->ncool].last_end_ms = INT64_MIN;
	return &g[e->ncool++].last_end_ms;
}

/* After the sink took an event: history, and the latch for a rollback or needs_target. */
static void after_emit(struct agent_engine *e, const char *model, const char *version,
		       const char *json, size_t len, const char *type)
{
	e->k.events++;
	if (conn_store_history_append(e->store, model, json, len) < 0) {
		e->k.event_errors++;
		agent_log(AGENT_LOG_ERR, "store", "history %s: %s", model,
			  conn_store_error(e->store));
	}
	if (version && strcmp(type, AGENT_EVENT_DRYRUN) != 0 &&
	    conn_store_latch_set(e->store, model, version, 1) < 0) {
		e->k.event_errors++;
		agent_log(AGENT_LOG_ERR, "store", "latch %s %s: %s", model, version,
			  conn_store_error(e->store));
	}
}

/* Keeps an event the sink refused, for retry on the next tick. */
static void keep_pending(struct agent_engine *e, const char *model, const struct agent_event *ev)
{
	struct pending_event *pe;

	if (e->npending == PENDING_MAX) {
		agent_log(AGENT_LOG_CRIT, "events", "retry queue full: event %s not kept", ev->id);
		return;
	}
	pe = &e->pending[e->npending];
	pe->key = strdup(model);
	pe->model = strdup(model);
	pe->id = strdup(ev->id);
	pe->json = agent_strndup(ev->json, ev->len);
	pe->len = ev->len;
	if (pe->key && pe->model && pe->id && pe->json) {
		e->npending++;
		if (e->ck && conn_store_pending_put(e->store, ev->id, model, ev->json, ev->len) < 0)
			agent_log(AGENT_LOG_ERR, "events", "%s kept in memory only: %s", ev->id,
				  conn_store_error(e->store));
		return;
	}
	free(pe->key);
	free(pe->model);
	free(pe->id);
	free(pe->json);
	agent_log(AGENT_LOG_CRIT, "events", "out of memory: event %s not kept", ev->id);
}

static void retry_pending(struct agent_engine *e)
{
	size_t kept = 0;

	for (size_t i = 0; i < e->npending; i++) {
		struct pending_event *pe = &e->pending[i];

		if (conn_sink_emit(e->sink, pe->key, pe->json, pe->len, NULL, 0) == 0) {
			agent_log(AGENT_LOG_NOTICE, "events", "delivered %s after retry", pe->id);
			after_emit(e, pe->model, NULL, pe->json, pe->len, "");
			if (e->ck && conn_store_pending_del(e->store, pe->id) < 0)
				agent_log(AGENT_LOG_WARNING, "events",
					  "%s delivered, still kept: %s", pe->id,
					  conn_store_error(e->store));
			free(pe->key);
			free(pe->json);
			free(pe->model);
			free(pe->id);
		} else {
			e->pending[kept++] = *pe;
		}
	}
	e->npending = kept;
}

/* ---- closing a window ---- */

/* Claims the event's id, hands it to the sink (kept for retry when refused) and records it:
 * 0 emitted, 1 a duplicate (not emitted), 2 kept for retry. */
static int emit_event(struct agent_engine *e, struct pair *p, const struct agent_event *event)
{
	int claim = conn_store_claim(e->store, event->id);

	if (claim == 1) {
		e->k.duplicates++;
		agent_log(AGENT_LOG_NOTICE, "events", "%s already decided: not emitted again",
			  event->id);
		return 1;
	}
	if (claim < 0) {
		e->k.event_errors++;
		agent_log(AGENT_LOG_ERR, "store", "claim %s: %s (emitting anyway)", event->id,
			  conn_store_error(e->store));
	}
	if (conn_sink_emit(e->sink, p->model, event->json, event->len, event->headers,
			   AGENT_EVENT_HEADERS) != 0) {
		e->k.event_errors++;
		agent_log(AGENT_LOG_ERR, "events", "%s: %s (kept for retry)", event->id,
			  conn_sink_error(e->sink));
		keep_pending(e, p->model, event);
		return 2;
	}
	after_emit(e, p->model, p->version, event->json, event->len, event->type);
	p->events[!strcmp(event->type, AGENT_EVENT_DRYRUN)	   ? 1
		  : !strcmp(event->type, AGENT_EVENT_NEEDS_TARGET) ? 2
								   : 0]++;
	agent_log(AGENT_LOG_NOTICE, "events", "%s %s", event->type, event->id);
	return 0;
}

static void log_window(const struct agent_engine *e, const struct pair *p,
		       const struct agent_eval *ev, const struct agent_decision *d, uint64_t labels)
{
	char line[1024], s[AGENT_TIME_LEN];
	size_t o = 0;

	if (!agent_log_enabled(AGENT_LOG_INFO))
		return;
	agent_time_format(ev->start_ms, s);
	o += (size_t)snprintf(line + o, sizeof line - o, "%s %s window %s n=%" PRIu64, p->model,
			      p->version, s, ev->n);
	if (e->labels) /* the share of records without a label, own or joined */
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

/* Keeps what the metrics show of the window just evaluated (nothing on no memory). */
static void save_last(struct pair *p, const struct agent_eval *ev, uint64_t labels)
{
	struct pair_last *l = calloc(1, sizeof *l);

	if (!l)
		return;
	l->f = calloc(ev->nfeatures ? ev->nfeatures : 1, sizeof *l->f);
	if (!l->f) {
		free(l);
		return;
	}
	for (size_t i = 0; i < ev->nfeatures; i++) {
		const struct agent_fscore *fs = &ev->features[i];

		l->f[i] = (struct pair_feature){ .name = strdup(fs->name),
						 .kl = fs->kl,
						 .psi = fs->psi,
						 .js = fs->js,
						 .n = fs->n };
		l->nf++;
		if (!l->f[i].name) {
			free_last(l);
			return;
		}
	}
	l->decided_wall_ms = agent_time_now_ms();
	l->window_end_ms = ev->end_ms;
	l->samples = ev->n;
	l->p50 = ev->p50;
	l->p95 = ev->p95;
	l->p99 = ev->p99;
	l->p95_ratio = ev->base_p95 > 0 ? ev->p95 / ev->base_p95 : NAN;
	l->accuracy = ev->accuracy;
	l->accuracy_delta = ev->accuracy - ev->base_accuracy; /* NaN when either is */
	l->error_ratio = ev->error_ratio;
	/* late labels of earlier windows may count here too: at least 0 */
	l->target_missing =
	    ev->n ? (labels >= ev->n ? 0.0 : 1.0 - (double)labels / (double)ev->n) : NAN;
	for (int r = 0; r < AGENT_RULE_COUNT; r++) {
		l->rule_enabled[r] = ev->rule[r].enabled;
		l->rule_state[r] = ev->rule[r].outcome;
		l->rule_value[r] = ev->rule[r].value;
		l->rule_threshold[r] = ev->rule[r].threshold;
		l->rule_n[r] = ev->rule[r].n;
	}
	free_last(p->last);
	p->last = l;
}

/* With sliding_k > 1: a new window holding w merged with the pair's last sliding_k - 1 closed
 * windows of the same baseline (NULL without a sliding view, or on no memory: w alone). */
static struct agent_window *sliding_view(struct agent_engine *e, struct pair *p,
					 const struct agent_window *w)
{
	struct agent_window *v;

	if (e->c->sliding_k <= 1 || p->npast == 0)
		return NULL;
	v = agent_window_new(w->start_ms, w->end_ms, w->base, e->c->max_categories);
	if (!v || agent_window_merge(v, w) < 0)
		goto fail;
	for (size_t i = 0; i < p->npast; i++)
		if (p->past[i]->base == w->base && agent_window_merge(v, p->past[i]) < 0)
			goto fail;
	return v;
fail:
	agent_window_free(v);
	return NULL;
}

/* Keeps w (closed) among the pair's last sliding_k - 1 windows; 1 when taken, 0 when not. */
static int keep_past(struct agent_engine *e, struct pair *p, struct agent_window *w)
{
	size_t keep = e->c->sliding_k > 1 ? e->c->sliding_k - 1 : 0;

	if (keep == 0)
		return 0;
	if (!p->past && !(p->past = calloc(keep, sizeof *p->past)))
		return 0;
	if (p->npast == keep) {
		agent_window_free(p->past[0]);
		memmove(p->past, p->past + 1, (keep - 1) * sizeof *p->past);
		p->npast--;
	}
	p->past[p->npast++] = w;
	return 1;
}

static void close_window(struct agent_engine *e, struct pair *p, struct agent_window *w)
{
	struct agent_window *view = NULL;
	struct agent_eval ev;
	struct agent_decision d;
	struct agent_decide_ctx ctx = { 0 };
	struct agent_event event = { 0 };
	struct agent_window_report rep = { 0 };
	const char *bver = w->base ? w->base->version : NULL;
	char *good = NULL;
	int64_t *cool;

	agent_window_flush(w);
	e->k.windows++;
	view = sliding_view(e, p, w);
	if (agent_rules_eval(e->c, view ? view : w, &ev) < 0) {
		agent_window_free(view);
		agent_log(AGENT_LOG_ERR, "window", "%s %s: out of memory evaluating", p->model,
			  p->version);
		return;
	}
	if (conn_store_hold_get(e->store, p->model, &ctx.hold) < 0 ||
	    conn_store_latch_get(e->store, p->model, p->version, &ctx.latched) < 0)
		e->k.store_errors++;
	good = good_of(e, p->model);
	ctx.good_version = good;
	ctx.version = p->version;
	cool = engine_cooldown(e, p->model);
	ctx.in_cooldown = cool && *cool != INT64_MIN && w->end_ms - *cool < e->cooldown_ms;
	agent_decide(&p->streaks, &ev, e->c->breach_windows, e->c->dry_run, &ctx, &d);
	p->state_dirty = 1;
	log_window(e, p, &ev, &d, (view ? view : w)->labels);
	save_last(p, &ev, (view ? view : w)->labels);

	rep.labels = (view ? view : w)->labels;
	rep.model = p->model;
	rep.version = p->version;
	rep.baseline_version = bver;
	rep.eval = &ev;
	rep.decision = &d;
	if (d.fire &&
	    agent_event_build(&event, e->c->agent_id, p->model, p->version, bver, &ev, &d) == 0) {
		int how = emit_event(e, p, &event);

		rep.duplicate = how == 1;
		rep.event_json = how == 0 ? event.json : NULL;
		if (how != 1 && cool && !strcmp(event.type, AGENT_EVENT_ROLLBACK))
			*cool = w->end_ms;
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

/* ---- alerts ---- */

/* The model's most recently active (model, version) pair, or NULL. */
static struct pair *newest_pair(struct agent_engine *e, const char *model)
{
	struct pair *best = NULL;
	int64_t best_t = INT64_MIN;

	for (size_t i = 0; i < e->npairs; i++) {
		struct pair *p = &e->pairs[i];
		int64_t t = p->nwin	    ? p->win[p->nwin - 1]->start_ms
			    : p->any_closed ? p->closed_upto
					    : INT64_MIN;

		if (!strcmp(p->model, model) && (!best || t > best_t)) {
			best = p;
			best_t = t;
		}
	}
	return best;
}

int agent_engine_alert(struct agent_engine *e, const struct conn_am_alert *a, const char **why)
{
	const char *model = conn_am_label(&a->labels, "model");
	const char *version = conn_am_label(&a->labels, "version");
	struct agent_event event;
	struct pair *p;
	char *good;
	const char *type;
	int hold = 0, latched = 0, how;

	*why = NULL;
	if (a->status != CONN_AM_FIRING) {
		e->k.alerts_resolved++;
		*why = "resolved";
		return 1;
	}
	e->k.alerts_firing++;
	e->k.alerts_ignored++; /* until it is acted on */
	if (!model || !model[0] || strlen(model) > 128) {
		*why = "no usable model label";
		return 1;
	}
	if (version && version[0])
		p = strlen(version) > 128
			? NULL
			: engine_pair(e, model, strlen(model), version, strlen(version));
	else
		p = newest_pair(e, model);
	if (!p) {
		*why = version && version[0]
			   ? "too many (model, version) pairs"
			   : "no version of the model seen (label it with version)";
		return 1;
	}
	if (conn_store_hold_get(e->store, p->model, &hold) < 0 ||
	    conn_store_latch_get(e->store, p->model, p->version, &latched) < 0)
		e->k.store_errors++;
	if (hold || latched) {
		*why = hold ? "hold" : "latched";
		return 1;
	}
	good = good_of(e, p->model);
	if (good && !strcmp(good, p->version)) { /* the good version itself: nowhere to go */
		free(good);
		good = NULL;
	}
	type = e->c->dry_run ? AGENT_EVENT_DRYRUN
	       : good	     ? AGENT_EVENT_ROLLBACK
			     : AGENT_EVENT_NEEDS_TARGET;
	if (agent_event_build_alert(&event, e->c->agent_id, p->model, p->version, good, type,
				    e->c->dry_run, a) < 0) {
		free(good);
		e->k.event_errors++;
		*why = "out of memory";
		return 1;
	}
	free(good);
	how = emit_event(e, p, &event);
	agent_event_free(&event);
	if (how == 1) {
		*why = "duplicate";
		return 1;
	}
	e->k.alerts_ignored--;
	e->k.alerts_acted++;
	return 0;
}

/* Closes the windows of p ending at or before upto (all when all != 0), oldest first. */
static void close_pair_windows(struct agent_engine *e, struct pair *p, int64_t upto, int all)
{
	size_t n = 0;

	while (n < p->nwin && (all || p->win[n]->end_ms <= upto)) {
		struct agent_window *w = p->win[n];
		int how = e->ck ? ckpt_before_close(e, p, w) : 0;

		if (how == 2)
			break; /* later windows wait too: decisions stay in window order */
		if (how == 0)
			close_window(e, p, w);
		if (!p->any_closed || w->end_ms > p->closed_upto)
			p->closed_upto = w->end_ms;
		p->any_closed = 1;
		p->state_dirty |= how == 0; /* skipped: the state is the decider's */
		if (e->ck)
			ckpt_after_close(e, p, w);
		if (how != 0 || !keep_past(e, p, w))
			agent_window_free(w);
		n++;
	}
	if (n) {
		memmove(p->win, p->win + n, (p->nwin - n) * sizeof *p->win);
		p->nwin -= n;
	}
}

/* The mark of stream id, created (holding time at "none yet", heard from now) when new; NULL
 * beyond AGENT_STREAMS_MAX streams or on no memory. */
struct stream_mark *engine_stream(struct agent_engine *e, uint32_t id)
{
	struct stream_mark *sm;

	/* records come in runs from one partition: try the last stream first */
	if (e->last_stream < e->nstreams && e->streams[e->last_stream].id == id)
		return &e->streams[e->last_stream];
	for (size_t i = 0; i < e->nstreams; i++)
		if (e->streams[i].id == id) {
			e->last_stream = i;
			return &e->streams[i];
		}
	if (e->nstreams == AGENT_STREAMS_MAX)
		return NULL; /* beyond the bound: only the streams already known hold time */
	if (!(e->nstreams & (e->nstreams - 1))) { /* grow at powers of two */
		size_t cap = e->nstreams ? 2 * e->nstreams : 4;
		struct stream_mark *g = realloc(e->streams, cap * sizeof *g);

		if (!g)
			return NULL;
		e->streams = g;
	}
	e->last_stream = e->nstreams;
	sm = &e->streams[e->nstreams++];
	*sm = (struct stream_mark){ .id = id,
				    .max_ts = INT64_MIN,
				    .last_wall = e->cur_wall,
				    .next_offset = -1,
				    .saved_offset = -1,
				    .told_offset = -1,
				    .stored_hwm = -1 };
	return sm;
}

/* Notes ts on the current stream's high-water mark. */
static void mark_stream(struct agent_engine *e, int64_t ts)
{
	struct stream_mark *sm = engine_stream(e, e->cur_stream);

	if (!sm)
		return;
	if (ts > sm->max_ts)
		sm->max_ts = ts;
	sm->last_wall = e->cur_wall;
}

/* The smallest high-water mark over the active streams: heard from within AGENT_STREAM_IDLE_MS
 * of now and not at their end. With none active, the largest record time seen. */
static int64_t low_water(const struct agent_engine *e, int64_t now)
{
	int64_t low = INT64_MAX;

	for (size_t i = 0; i < e->nstreams; i++)
		if (!e->streams[i].labels &&
		    e->streams[i].last_wall >= now - AGENT_STREAM_IDLE_MS &&
		    e->streams[i].max_ts < low)
			low = e->streams[i].max_ts;
	return low == INT64_MAX ? e->max_ts : low;
}

/* A stream was assigned to us: until it delivers a record, reaches its end or stays silent for
 * AGENT_STREAM_IDLE_MS, it holds the watermark (at "no time yet"). */
static void stream_hello(struct agent_engine *e, uint32_t id, int64_t now)
{
	int64_t saved = e->cur_wall;
	uint32_t saved_id = e->cur_stream;

	e->cur_stream = id;
	e->cur_wall = now;
	mark_stream(e, INT64_MIN);
	e->cur_stream = saved_id;
	e->cur_wall = saved;
}

/* A stream reached its end for now: it no longer holds the watermark until its next record. */
static void stream_at_end(struct agent_engine *e, uint32_t id)
{
	for (size_t i = 0; i < e->nstreams; i++)
		if (e->streams[i].id == id)
			e->streams[i].last_wall = INT64_MIN;
}

void agent_engine_tick(struct agent_engine *e)
{
	uint64_t closed = e->k.windows + e->k.windows_skipped;
	int64_t wm;

	if (e->npending)
		retry_pending(e);
	if (e->labels)
		join_tick(e, agent_time_now_ms());
	if (!e->have_ts)
		goto checkpoint;
	wm = low_water(e, agent_time_now_ms());
	if (wm == INT64_MIN)
		goto checkpoint; /* an assigned stream has not been heard from yet */
	wm -= e->grace_ms;
	if (agent_log_enabled(AGENT_LOG_DEBUG)) {
		char t[AGENT_TIME_LEN];

		agent_time_format(wm, t);
		agent_log(AGENT_LOG_DEBUG, "engine", "watermark %s over %zu streams", t,
			  e->nstreams);
	}
	for (size_t i = 0; i < e->npairs; i++)
		close_pair_windows(e, &e->pairs[i], wm, 0);
checkpoint:
	/* a decision is committed (its state, its partials dropped) right after it is made */
	if (e->ck)
		agent_engine_checkpoint(e, e->k.windows + e->k.windows_skipped != closed);
}

void agent_engine_finish(struct agent_engine *e)
{
	for (size_t i = 0; i < e->npairs; i++)
		close_pair_windows(e, &e->pairs[i], 0, 1);
	if (e->npending)
		retry_pending(e);
}

/* ---- records ---- */

void agent_engine_add(struct agent_engine *e, const struct conn_record *r, int64_t ts)
{
	struct pair *p = engine_pair(e, r->model, r->model_len, r->version, r->version_len);
	struct agent_window *w;
	int late;

	if (!p) {
		e->k.rejected[AGENT_REJECT_TOO_MANY_MODELS]++;
		if (e->reject_fn && e->cur_msg)
			e->reject_fn(e->reject_arg, e->cur_msg,
				     agent_reject_name(AGENT_REJECT_TOO_MANY_MODELS));
		return;
	}
	w = engine_window(e, p, ts, &late);
	if (!w) {
		if (late)
			e->k.late++;
		else
			e->k.dropped_nomem++;
		return;
	}
	agent_window_add(w, r, e->c->accuracy_threshold);
	w->dirty = 1;
	e->k.accepted++;
	if (!e->have_ts || ts > e->max_ts) {
		e->max_ts = ts;
		e->have_ts = 1;
	}
	mark_stream(e, ts);
	e->cur_stream = 0;
}

/* A message of the labels topic: its stream never holds event time. */
static int is_labels(const struct agent_engine *e, const struct conn_msg *m)
{
	return e->labels && m->topic && !strcmp(m->topic, e->labels_topic);
}

static void mark_labels_stream(struct agent_engine *e, uint32_t id)
{
	struct stream_mark *sm = engine_stream(e, id);

	if (sm)
		sm->labels = 1;
}

void agent_engine_feed(struct agent_engine *e, const struct conn_msg *m, int64_t now_ms)
{
	struct conn_record r;
	enum conn_reject why;
	uint64_t accepted;
	int64_t ts;

	if (m->eof) {
		stream_at_end(e, m->stream);
		return;
	}
	if (m->hello) {
		if (m->topic)
			agent_log(AGENT_LOG_INFO, "source", "assigned %s/%d", m->topic,
				  (int)m->partition);
		if (is_labels(e, m)) {
			mark_labels_stream(e, m->stream);
		} else {
			stream_hello(e, m->stream, now_ms);
			if (e->ck && m->topic)
				ckpt_hello(e, m);
		}
		return;
	}
	e->cur_wall = now_ms; /* a stream first seen here is heard from now */
	if (is_labels(e, m)) {
		if (e->ck)
			ckpt_note_offset(e, m);
		mark_labels_stream(e, m->stream);
		join_message(e, m, now_ms);
		return;
	}
	e->k.records++;
	if (e->ck && m->topic)
		ckpt_note_offset(e, m);
	why = m->oversized ? CONN_REJECT_TOO_LARGE : conn_decode(e->dec, m->data, m->len, &r);
	if (why != CONN_REJECT_NONE) {
		e->k.rejected[why]++;
		if (e->reject_fn)
			e->reject_fn(e->reject_arg, m, conn_reject_name(why));
		agent_log(AGENT_LOG_DEBUG, "records", "offset %" PRId64 " rejected: %s", m->offset,
			  conn_reject_name(why));
		return;
	}
	e->cur_stream = m->stream;
	e->cur_msg = m;
	accepted = e->k.accepted;
	ts = r.has_ts ? r.ts_ms : m->ts_ms >= 0 ? m->ts_ms : now_ms;
	agent_engine_add(e, &r, ts);
	e->cur_msg = NULL;
	if (e->labels && e->k.accepted != accepted)
		join_remember(e, &r, ts, now_ms);
}

size_t agent_engine_assigned(const struct agent_engine *e)
{
	size_t n = 0;

	for (size_t i = 0; i < e->nstreams; i++)
		n += !e->streams[i].labels;
	return n;
}

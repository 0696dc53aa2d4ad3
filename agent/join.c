/*
 * join.c -- late labels: predictions remembered by (model, request_id) in the join table
 * (labels.h), label messages of the labels topic decoded (connectors/label.h), joined and
 * scored into the accuracy of a window (doc/labels.md, "Which window a label counts in").
 *
 * A joined label counts in the window its prediction belongs to (the prediction's event time)
 * while that window is open; once it is closed, in the newest open window of the same (model,
 * version) -- so every joined label counts exactly once, and a decision never changes after it
 * was made. The labels topic's partitions hold no event time (labels come late by nature).
 */
#include "agent/engine_impl.h"
#include "agent/labels.h"
#include "agent/log.h"
#include "connectors/label.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

int join_init(struct agent_engine *e, char *err, size_t errlen)
{
	const char *spec = e->c->labels;

	if (!spec)
		return 0;
	if (strncmp(spec, "kafka:", 6) != 0 || !spec[6]) {
		snprintf(err, errlen, "labels: expected kafka:TOPIC");
		return -1;
	}
	e->labels_topic = spec + 6;
	e->labels = agent_labels_new(e->c->labels_max,
				     (int64_t)llround(e->c->labels_ttl_s * 1000.0), &e->lim);
	e->ldec = conn_label_decoder_new(&e->lim, err, errlen);
	if (!e->labels || !e->ldec) {
		if (e->ldec)
			snprintf(err, errlen, "labels: out of memory");
		return -1;
	}
	return 0;
}

void join_free(struct agent_engine *e)
{
	agent_labels_free(e->labels);
	conn_label_decoder_free(e->ldec);
	e->labels = NULL;
	e->ldec = NULL;
}

static void sync_counters(struct agent_engine *e)
{
	struct agent_labels_counters c;

	agent_labels_counters(e->labels, &c);
	e->k.labels_expired = c.expired;
	e->k.labels_evicted = c.evicted;
}

void join_remember(struct agent_engine *e, const struct conn_record *r, int64_t ts_ms,
		   int64_t now_ms)
{
	/* a record with its own label is scored already: a late one would count twice */
	if (!r->request_id || r->label.kind != CONN_VALUE_MISSING)
		return;
	if (agent_labels_remember(e->labels, r, ts_ms, now_ms) < 0)
		agent_log(AGENT_LOG_WARNING, "labels",
			  "out of memory: a prediction not remembered");
}

/* The window a joined label counts in: its prediction's while open, else the pair's newest. */
static struct agent_window *label_window(struct agent_engine *e, const struct agent_label_match *mt,
					 const char *model, size_t mlen)
{
	struct pair *p = engine_pair(e, model, mlen, mt->version, mt->version_len);
	struct agent_window *w;
	int late;

	if (!p)
		return NULL;
	w = engine_window(e, p, mt->ts_ms, &late);
	if (w || !late)
		return w;
	e->k.labels_late++;
	return p->nwin ? p->win[p->nwin - 1] : NULL;
}

int join_message(struct agent_engine *e, const struct conn_msg *m, int64_t now_ms)
{
	struct conn_label l;
	struct agent_label_match mt = { 0 };
	struct agent_window *w;
	enum conn_reject why;

	if (!e->labels || !m->topic || strcmp(m->topic, e->labels_topic) != 0)
		return 0;
	e->k.labels++;
	why =
	    m->oversized ? CONN_REJECT_TOO_LARGE : conn_label_decode(e->ldec, m->data, m->len, &l);
	if (why != CONN_REJECT_NONE) {
		e->k.labels_rejected[why]++;
		if (e->reject_fn)
			e->reject_fn(e->reject_arg, m, conn_reject_name(why));
		return 1;
	}
	if (agent_labels_take(e->labels, l.model, l.model_len, l.request_id, l.request_id_len,
			      now_ms, &mt) != 0) {
		e->k.labels_unmatched++;
		sync_counters(e);
		return 1;
	}
	e->k.labels_joined++;
	w = label_window(e, &mt, l.model, l.model_len);
	if (w) {
		agent_window_add_label(w, &mt.prediction, &l.label, e->c->accuracy_threshold);
		w->dirty = 1;
	} else {
		e->k.labels_unplaced++;
	}
	agent_label_match_clear(&mt);
	sync_counters(e);
	return 1;
}

void join_tick(struct agent_engine *e, int64_t now_ms)
{
	if (!e->labels)
		return;
	agent_labels_expire(e->labels, now_ms);
	sync_counters(e);
}

/*
 * late_labels.c -- late labels joined to their predictions and scored (see late_labels.h).
 */
#include "agent/late_labels.h"
#include "agent/join_table.h"
#include "agent/log.h"
#include "connectors/endpoint.h"
#include "connectors/label_decoder.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct agent_late_labels {
	struct conn_endpoint spec; /* --labels, parsed: kafka:TOPIC */
	const char *topic;	   /* its topic */
	double accuracy_threshold;
	struct agent_labels *table;	/* owned */
	struct conn_label_decoder *dec; /* owned */
	struct agent_pairs *pairs;	/* borrowed */
	struct agent_counters *k;	/* borrowed */
};

struct agent_late_labels *agent_late_labels_new(const struct agent_config *c,
						const struct conn_limits *lim,
						struct agent_pairs *pairs, struct agent_counters *k,
						char *err, size_t errlen)
{
	struct agent_late_labels *ll = calloc(1, sizeof *ll);
	char msg[256];

	if (!ll) {
		snprintf(err, errlen, "labels: out of memory");
		return NULL;
	}
	if (conn_endpoint_parse(c->labels, CONN_ENDPOINT_TOPIC, &ll->spec, msg, sizeof msg) < 0) {
		snprintf(err, errlen, "labels: %s", msg);
		free(ll);
		return NULL;
	}
	ll->topic = ll->spec.topics[0];
	ll->accuracy_threshold = c->accuracy_threshold;
	ll->pairs = pairs;
	ll->k = k;
	ll->table =
	    agent_labels_new(c->labels_max, (int64_t)llround(c->labels_ttl_s * 1000.0), lim);
	ll->dec = conn_label_decoder_new(lim, err, errlen);
	if (!ll->table || !ll->dec) {
		if (ll->dec)
			snprintf(err, errlen, "labels: out of memory");
		agent_late_labels_free(ll);
		return NULL;
	}
	return ll;
}

void agent_late_labels_free(struct agent_late_labels *ll)
{
	if (!ll)
		return;
	agent_labels_free(ll->table);
	conn_label_decoder_free(ll->dec);
	conn_endpoint_free(&ll->spec);
	free(ll);
}

int agent_late_labels_owns(const struct agent_late_labels *ll, const struct conn_msg *m)
{
	return m->topic && !strcmp(m->topic, ll->topic);
}

static void sync_counters(struct agent_late_labels *ll)
{
	struct agent_labels_counters c;

	agent_labels_counters(ll->table, &c);
	ll->k->labels_expired = c.expired;
	ll->k->labels_evicted = c.evicted;
}

void agent_late_labels_remember(struct agent_late_labels *ll, const struct conn_record *r,
				int64_t ts_ms, int64_t now_ms)
{
	/* a record with its own label is scored already: a late one would count twice */
	if (!r->request_id || r->label.kind != CONN_VALUE_MISSING)
		return;
	if (agent_labels_remember(ll->table, r, ts_ms, now_ms) < 0)
		agent_log(AGENT_LOG_WARNING, "labels",
			  "out of memory: a prediction not remembered");
}

/* The window a joined label counts in: its prediction's while open, else the pair's newest. */
static struct agent_window *label_window(struct agent_late_labels *ll,
					 const struct agent_label_match *mt, const char *model,
					 size_t mlen)
{
	struct agent_pair *p =
	    agent_pairs_get(ll->pairs, model, mlen, mt->version, mt->version_len);
	struct agent_window *w;

	if (!p)
		return NULL;
	switch (agent_pair_window(ll->pairs, p, mt->ts_ms, &w)) {
	case AGENT_SLOT_OPEN:
		return w;
	case AGENT_SLOT_LATE:
		ll->k->labels_late++;
		return p->nwin ? p->win[p->nwin - 1] : NULL;
	default:
		return NULL;
	}
}

enum conn_reject agent_late_labels_message(struct agent_late_labels *ll, const struct conn_msg *m,
					   int64_t now_ms)
{
	struct conn_label l;
	struct agent_label_match mt = { 0 };
	struct agent_window *w;
	enum conn_reject why;

	ll->k->labels++;
	why =
	    m->oversized ? CONN_REJECT_TOO_LARGE : conn_label_decode(ll->dec, m->data, m->len, &l);
	if (why != CONN_REJECT_NONE) {
		ll->k->labels_rejected[why]++;
		return why;
	}
	if (agent_labels_take(ll->table, l.model, l.model_len, l.request_id, l.request_id_len,
			      now_ms, &mt) != 0) {
		ll->k->labels_unmatched++;
		sync_counters(ll);
		return CONN_REJECT_NONE;
	}
	ll->k->labels_joined++;
	w = label_window(ll, &mt, l.model, l.model_len);
	if (w)
		agent_window_add_label(w, &mt.prediction, &l.label, ll->accuracy_threshold);
	else
		ll->k->labels_unplaced++;
	agent_label_match_clear(&mt);
	sync_counters(ll);
	return CONN_REJECT_NONE;
}

void agent_late_labels_tick(struct agent_late_labels *ll, int64_t now_ms)
{
	agent_labels_expire(ll->table, now_ms);
	sync_counters(ll);
}

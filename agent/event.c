/*
 * event.c -- the CloudEvents JSON of a rollback decision (see event.h).
 *
 * data.reasons lists the evidence of every firing rule: for the per-feature rules (kl, psi, js)
 * one entry per feature breaching in the deciding window, worst first; for latency, accuracy and
 * error_rate one entry each. Non-finite numbers are written as null (JSON has no NaN).
 */
#include "agent/event.h"
#include "agent/timefmt.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* json_object_set_new that tolerates a NULL value (no memory): reports it through *ok. */
static void put(json_t *o, const char *k, json_t *v, int *ok)
{
	if (!v || json_object_set_new(o, k, v) != 0)
		*ok = 0;
}

static void add_feature_reasons(json_t *reasons, const struct agent_eval *e, int r, int *ok)
{
	for (size_t i = 0; i < e->nfeatures; i++) {
		const struct agent_fscore *fs = &e->features[i];
		double v = r == AGENT_RULE_KL ? fs->kl : r == AGENT_RULE_PSI ? fs->psi : fs->js;
		json_t *o;

		if (fs->state[r] != AGENT_BREACH)
			continue;
		o = json_object();
		if (!o) {
			*ok = 0;
			return;
		}
		put(o, "rule", json_string(agent_rule_name(r)), ok);
		put(o, "feature", json_string(fs->name), ok);
		put(o, "value", num(v), ok);
		put(o, "threshold", num(e->rule[r].threshold), ok);
		put(o, "n", json_integer((json_int_t)fs->n), ok);
		put(o, "baseline_n", json_integer((json_int_t)fs->m), ok);
		put(o, "p_value", num(r == AGENT_RULE_KL ? fs->kl_p : NAN), ok);
		if (json_array_append_new(reasons, o) != 0)
			*ok = 0;
	}
}

static void add_rule_reason(json_t *reasons, const struct agent_eval *e, int r, int *ok)
{
	const struct agent_rule_result *rr = &e->rule[r];
	json_t *o = json_object();

	if (!o) {
		*ok = 0;
		return;
	}
	put(o, "rule", json_string(agent_rule_name(r)), ok);
	put(o, "value", num(rr->value), ok);
	put(o, "threshold", num(rr->threshold), ok);
	put(o, "n", json_integer((json_int_t)rr->n), ok);
	put(o, "baseline_n", json_integer((json_int_t)rr->m), ok);
	put(o, "p_value", num(rr->p_value), ok);
	if (r == AGENT_RULE_LATENCY) {
		put(o, "p95_seconds", num(e->p95), ok);
		put(o, "baseline_p95_seconds", num(e->base_p95), ok);
	} else if (r == AGENT_RULE_ACCURACY) {
		put(o, "accuracy", num(e->accuracy), ok);
		put(o, "baseline_accuracy", num(e->base_accuracy), ok);
	} else if (r == AGENT_RULE_ERROR_RATE) {
		put(o, "error_ratio", num(e->error_ratio), ok);
		put(o, "baseline_error_ratio", num(e->base_error_ratio), ok);
	}
	if (json_array_append_new(reasons, o) != 0)
		*ok = 0;
}

static json_t *kv_object(const struct conn_am_labels *set, int *ok)
{
	json_t *o = json_object();

	if (!o) {
		*ok = 0;
		return NULL;
	}
	for (size_t i = 0; i < set->n; i++)
		put(o, set->kv[i].name, json_string(set->kv[i].value), ok);
	return o;
}

/* data.coverage: the share of the input partitions the window's counts account for, how many
 * there are and are accounted for, and the missing ones (the first AGENT_COVERAGE_LISTED). */
static json_t *coverage(const struct agent_coverage *c)
{
	json_t *o = json_object(), *missing = json_array();
	int ok = o && missing;

	for (uint32_t i = 0; ok && i < c->nlisted; i++)
		ok = json_array_append_new(missing, json_string(c->missing[i])) == 0;
	put(o, "fraction", json_real(agent_coverage_fraction(c)), &ok);
	put(o, "partitions", json_integer(c->partitions), &ok);
	put(o, "covered", json_integer(c->covered), &ok);
	put(o, "missing", json_incref(missing), &ok);
	json_decref(missing);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The parts every event shares: id, source, type, time already set in ev; data given. */
static int finish_event(struct agent_event *ev, const char *model, json_t *data, int ok)
{
	json_t *root = json_object();

	ok = ok && root;
	put(root, "specversion", json_string("1.0"), &ok);
	put(root, "id", json_string(ev->id), &ok);
	put(root, "source", json_string(ev->source), &ok);
	put(root, "type", json_string(ev->type), &ok);
	put(root, "time", json_string(ev->time), &ok);
	put(root, "subject", json_string(model), &ok);
	put(root, "datacontenttype", json_string("application/json"), &ok);
	put(root, "data", json_incref(data), &ok);
	if (ok) {
		ev->json =
		    json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
		ok = ev->json != NULL;
		ev->len = ok ? strlen(ev->json) : 0;
	}
	if (ok) {
		ev->headers[0] = (struct conn_header){ "ce_specversion", "1.0" };
		ev->headers[1] = (struct conn_header){ "ce_id", ev->id };
		ev->headers[2] = (struct conn_header){ "ce_source", ev->source };
		ev->headers[3] = (struct conn_header){ "ce_type", ev->type };
		ev->headers[4] = (struct conn_header){ "ce_time", ev->time };
		ev->headers[5] = (struct conn_header){ "ce_subject", model };
		ev->headers[6] = (struct conn_header){ "content-type", AGENT_EVENT_CONTENT_TYPE };
	}
	json_decref(root);
	return ok;
}

/* Dry runs have ids of their own ("/dryrun" at the end): a dry-run decision's claim never
 * suppresses the real decision of the same window or alert, nor the reverse, and a consumer
 * deduplicating by id never takes one for the other. */
static const char *id_space(const char *type)
{
	return type && !strcmp(type, AGENT_EVENT_DRYRUN) ? "/dryrun" : "";
}

int agent_event_build_alert(struct agent_event *ev, const char *agent_id, const char *model,
			    const char *version, const char *to_version, const char *type,
			    int dry_run, const struct conn_am_alert *a, int64_t received_ms)
{
	json_t *data = json_object(), *reasons = json_array(), *r = json_object();
	const char *fp = a->fingerprint && a->fingerprint[0] ? a->fingerprint : NULL;
	char fpbuf[24];
	size_t idlen;
	int ok = data && reasons && r;

	memset(ev, 0, sizeof *ev);
	if (!fp) { /* no fingerprint: the alert's start identifies it */
		snprintf(fpbuf, sizeof fpbuf, "%lld",
			 (long long)(a->has_starts ? a->starts_ms : 0));
		fp = fpbuf;
	}
	idlen = strlen(model) + strlen(version) + strlen(fp) + 24;
	ev->id = malloc(idlen);
	ev->source = malloc(strlen(agent_id) + 10);
	if (!ev->id || !ev->source)
		ok = 0;
	if (!ok)
		goto out;
	snprintf(ev->id, idlen, "%s/%s/alert/%s%s", model, version, fp, id_space(type));
	snprintf(ev->source, strlen(agent_id) + 10, "driftd://%s", agent_id);
	agent_time_format(a->has_starts ? a->starts_ms : received_ms, ev->time);
	ev->type = type;

	put(data, "model", json_string(model), &ok);
	put(data, "from_version", json_string(version), &ok);
	put(data, "to_version", to_version ? json_string(to_version) : json_null(), &ok);
	put(data, "trigger", json_string("alert"), &ok);
	put(r, "rule", json_string("alert"), &ok);
	put(r, "labels", kv_object(&a->labels, &ok), &ok);
	put(r, "annotations", kv_object(&a->annotations, &ok), &ok);
	if (a->fingerprint)
		put(r, "fingerprint", json_string(a->fingerprint), &ok);
	if (a->has_starts)
		put(r, "starts_at", json_string(ev->time), &ok);
	if (a->generator_url)
		put(r, "generator_url", json_string(a->generator_url), &ok);
	if (json_array_append(reasons, r) != 0)
		ok = 0;
	put(data, "reasons", json_incref(reasons), &ok);
	put(data, "breach_windows", json_integer(0), &ok);
	put(data, "dry_run", json_boolean(dry_run), &ok);
	put(data, "baseline_version", json_null(), &ok);
	ok = finish_event(ev, model, data, ok);
out:
	json_decref(data);
	json_decref(reasons);
	json_decref(r);
	if (!ok)
		agent_event_free(ev);
	return ok ? 0 : -1;
}

int agent_event_build(struct agent_event *ev, const char *agent_id, const char *model,
		      const char *version, const char *baseline_version, const struct agent_eval *e,
		      const struct agent_decision *d)
{
	json_t *data = json_object(), *win = json_object();
	json_t *reasons = json_array();
	char start[AGENT_TIME_LEN];
	int ok = data && win && reasons;
	size_t idlen = strlen(model) + strlen(version) + 32;

	memset(ev, 0, sizeof *ev);
	ev->id = malloc(idlen);
	ev->source = malloc(strlen(agent_id) + 10);
	if (!ev->id || !ev->source)
		ok = 0;
	if (!ok)
		goto out;
	snprintf(ev->id, idlen, "%s/%s/%lld%s", model, version, (long long)e->end_ms,
		 id_space(d->type));
	snprintf(ev->source, strlen(agent_id) + 10, "driftd://%s", agent_id);
	agent_time_format(e->end_ms, ev->time);
	agent_time_format(e->start_ms, start);
	ev->type = d->type;

	put(data, "model", json_string(model), &ok);
	put(data, "from_version", json_string(version), &ok);
	put(data, "to_version", d->to_version ? json_string(d->to_version) : json_null(), &ok);
	put(data, "trigger", json_string(d->trigger), &ok);
	put(win, "start", json_string(start), &ok);
	put(win, "end", json_string(ev->time), &ok);
	put(win, "samples", json_integer((json_int_t)e->n), &ok);
	put(data, "window", json_incref(win), &ok);
	put(data, "coverage", coverage(&e->coverage), &ok);
	for (int r = 0; r < AGENT_RULE_COUNT; r++) {
		if (!(d->fired_mask & (1u << r)))
			continue;
		if (r <= AGENT_RULE_JS)
			add_feature_reasons(reasons, e, r, &ok);
		else
			add_rule_reason(reasons, e, r, &ok);
	}
	put(data, "reasons", json_incref(reasons), &ok);
	put(data, "breach_windows", json_integer(d->breach_windows), &ok);
	put(data, "dry_run", json_boolean(d->dry_run), &ok);
	put(data, "baseline_version",
	    baseline_version ? json_string(baseline_version) : json_null(), &ok);
	ok = finish_event(ev, model, data, ok);
out:
	json_decref(data);
	json_decref(win);
	json_decref(reasons);
	if (!ok)
		agent_event_free(ev);
	return ok ? 0 : -1;
}

void agent_event_free(struct agent_event *ev)
{
	free(ev->id);
	free(ev->json);
	free(ev->source);
	ev->id = ev->json = ev->source = NULL;
}

/* ---- a stored event's attributes ---- */

static char *str_of(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? strdup(v) : NULL;
}

int agent_event_attrs_parse(struct agent_event_attrs *a, const char *json, size_t len)
{
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);

	memset(a, 0, sizeof *a);
	if (!json_is_object(root)) {
		json_decref(root);
		return -1;
	}
	a->id = str_of(root, "id");
	a->source = str_of(root, "source");
	a->type = str_of(root, "type");
	a->time = str_of(root, "time");
	a->subject = str_of(root, "subject");
	a->from_version = str_of(json_object_get(root, "data"), "from_version");
	json_decref(root);
	if (!a->id || !a->source || !a->type || !a->time || !a->subject) {
		agent_event_attrs_free(a);
		return -1;
	}
	return 0;
}

void agent_event_attrs_free(struct agent_event_attrs *a)
{
	free(a->id);
	free(a->source);
	free(a->type);
	free(a->time);
	free(a->subject);
	free(a->from_version);
	memset(a, 0, sizeof *a);
}

void agent_event_attrs_headers(const struct agent_event_attrs *a, struct conn_header *h)
{
	h[0] = (struct conn_header){ "ce_specversion", "1.0" };
	h[1] = (struct conn_header){ "ce_id", a->id };
	h[2] = (struct conn_header){ "ce_source", a->source };
	h[3] = (struct conn_header){ "ce_type", a->type };
	h[4] = (struct conn_header){ "ce_time", a->time };
	h[5] = (struct conn_header){ "ce_subject", a->subject };
	h[6] = (struct conn_header){ "content-type", AGENT_EVENT_CONTENT_TYPE };
}

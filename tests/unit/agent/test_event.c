/*
 * test_event.c -- the rollback event (agent/event.c) against SPEC.md "Rollback event" and
 * doc/events.md: the exact bytes of the documented examples, every CloudEvents attribute and
 * data field parsed back with jansson (specversion, id, source, type for rollback / dryrun /
 * needs_target, time, subject, datacontenttype; data.model, from/to versions, trigger, window,
 * reasons with their evidence, breach_windows, dry_run, baseline_version), non-finite numbers as
 * null, 10 significant digits, the ce_* headers, determinism (same input, same bytes) and the
 * escaping of odd names (quotes, backslashes, control bytes, non-ASCII). Alert events likewise.
 *
 * Evaluations and decisions are written out in the test (struct agent_eval is public), so the
 * event is checked alone, without rules or decide.
 */
#include "agent/event.h"
#include "testutil.h"

#include <string.h>

/* 2026-11-26T22:00:00.000Z = 1795730400 s after the epoch (doc/events.md); the window began a
 * minute earlier. */
#define END_MS	 1795730400000LL
#define START_MS 1795730340000LL

/* The evaluation of doc/events.md's example: "amount" breaching KL, "country" passing,
 * latency breaching. */
static void example_eval(struct agent_eval *e, struct agent_fscore fs[2])
{
	memset(e, 0, sizeof *e);
	memset(fs, 0, 2 * sizeof *fs);
	e->start_ms = START_MS;
	e->end_ms = END_MS;
	e->n = 3000;
	fs[0] = (struct agent_fscore){ .name = "amount",
				       .n = 3000,
				       .m = 40000,
				       .k = 22,
				       .kl = 0.4485962,
				       .psi = 0.9,
				       .js = 0.3,
				       .kl_p = 0,
				       .kl_q = 0,
				       .state = { AGENT_BREACH, AGENT_BREACH, AGENT_BREACH } };
	fs[1] = (struct agent_fscore){ .name = "country",
				       .categorical = 1,
				       .n = 3000,
				       .m = 40000,
				       .k = 4,
				       .kl = 0.01,
				       .psi = 0.02,
				       .js = 0.05,
				       .kl_p = 0.5,
				       .kl_q = 0.5,
				       .state = { AGENT_PASS, AGENT_PASS, AGENT_PASS } };
	e->features = fs;
	e->nfeatures = 2;
	e->coverage.partitions = e->coverage.covered = 6; /* a Kafka topic's 6, all counted */
	for (int r = 0; r < AGENT_RULE_COUNT; r++) {
		e->rule[r].outcome = AGENT_INCONCLUSIVE;
		e->rule[r].value = NAN;
		e->rule[r].p_value = NAN;
	}
	e->rule[AGENT_RULE_KL] = (struct agent_rule_result){ .enabled = 1,
							     .outcome = AGENT_BREACH,
							     .value = 0.4485962,
							     .threshold = 0.2,
							     .n = 3000,
							     .m = 40000,
							     .p_value = 0,
							     .feature = "amount" };
	e->rule[AGENT_RULE_PSI].threshold = 0.25;
	e->rule[AGENT_RULE_JS].threshold = 0.1;
	e->rule[AGENT_RULE_LATENCY] = (struct agent_rule_result){ .enabled = 1,
								  .outcome = AGENT_BREACH,
								  .value = 1.365734,
								  .threshold = 1.15,
								  .n = 3000,
								  .m = 40000,
								  .p_value = NAN };
	e->rule[AGENT_RULE_ACCURACY] = (struct agent_rule_result){ .enabled = 1,
								   .outcome = AGENT_PASS,
								   .value = 0.03,
								   .threshold = 0.05,
								   .n = 3000,
								   .m = 40000,
								   .p_value = 0.2 };
	e->rule[AGENT_RULE_ERROR_RATE].threshold = 0.05;
	e->p50 = 0.015;
	e->p95 = 0.02917;
	e->p99 = 0.04;
	e->base_p95 = 0.02136;
	e->accuracy = 0.9;
	e->base_accuracy = 0.93;
	e->error_ratio = 0.01;
	e->base_error_ratio = 0.02;
}

static struct agent_decision example_decision(void)
{
	struct agent_decision d;

	memset(&d, 0, sizeof d);
	d.fire = 1;
	d.type = AGENT_EVENT_ROLLBACK;
	d.trigger = "drift";
	d.to_version = "v2.3.1";
	d.fired_mask = 1u << AGENT_RULE_KL | 1u << AGENT_RULE_LATENCY;
	d.breach_windows = 2;
	return d;
}

static json_t *parse(const struct agent_event *ev)
{
	json_error_t err;
	json_t *j = json_loadb(ev->json, ev->len, 0, &err);

	if (!j)
		fail_msg("event JSON: %s: %s", err.text, ev->json);
	assert_true(json_is_object(j));
	return j;
}

static const char *sget(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	if (!json_is_string(v))
		fail_msg("%s is not a string", k);
	return json_string_value(v);
}

static double nget(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	if (!json_is_number(v))
		fail_msg("%s is not a number", k);
	return json_number_value(v);
}

static json_int_t iget(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	if (!json_is_integer(v))
		fail_msg("%s is not an integer", k);
	return json_integer_value(v);
}

static void assert_null_key(const json_t *o, const char *k)
{
	if (!json_is_null(json_object_get(o, k)))
		fail_msg("%s is not null", k);
}

/* The object's keys in document order are exactly keys[] (NULL-terminated). */
static void assert_keys(const json_t *o, const char *const *keys)
{
	size_t i = 0;

	for (void *it = json_object_iter((json_t *)o); it;
	     it = json_object_iter_next((json_t *)o, it), i++) {
		if (!keys[i])
			fail_msg("extra key %s", json_object_iter_key(it));
		assert_string_equal(json_object_iter_key(it), keys[i]);
	}
	if (keys[i])
		fail_msg("missing key %s", keys[i]);
}

/* One line of printable text: no byte below 0x20 (control bytes are escaped). */
static void assert_one_line(const struct agent_event *ev)
{
	assert_int_equal(ev->len, strlen(ev->json));
	for (size_t i = 0; i < ev->len; i++)
		if ((unsigned char)ev->json[i] < 0x20)
			fail_msg("raw control byte 0x%02x at %zu", ev->json[i], i);
}

static void assert_headers(const struct agent_event *ev, const char *model)
{
	static const char *const names[AGENT_EVENT_HEADERS] = { "ce_specversion", "ce_id",
								"ce_source",	  "ce_type",
								"ce_time",	  "ce_subject",
								"content-type" };
	const char *values[AGENT_EVENT_HEADERS] = { "1.0",
						    ev->id,
						    ev->source,
						    ev->type,
						    ev->time,
						    model,
						    "application/cloudevents+json; charset=UTF-8" };

	for (size_t i = 0; i < AGENT_EVENT_HEADERS; i++) {
		assert_string_equal(ev->headers[i].name, names[i]);
		assert_string_equal(ev->headers[i].value, values[i]);
	}
}

/* ---- window events ---- */

/* doc/events.md's example, byte for byte (numbers as jansson writes them at 10 significant
 * digits: a real zero is "0.0"). */
static void test_documented_example(void **state)
{
	static const char want[] =
	    "{\"specversion\":\"1.0\",\"id\":\"fraud/v2.4.0/1795730400000\","
	    "\"source\":\"driftd://demo\",\"type\":\"io.driftd.rollback\","
	    "\"time\":\"2026-11-26T22:00:00.000Z\",\"subject\":\"fraud\","
	    "\"datacontenttype\":\"application/json\","
	    "\"data\":{\"model\":\"fraud\",\"from_version\":\"v2.4.0\",\"to_version\":\"v2.3.1\","
	    "\"trigger\":\"drift\",\"window\":{\"start\":\"2026-11-26T21:59:00.000Z\","
	    "\"end\":\"2026-11-26T22:00:00.000Z\",\"samples\":3000},"
	    "\"coverage\":{\"fraction\":1.0,\"partitions\":6,\"covered\":6,\"missing\":[]},"
	    "\"reasons\":[{\"rule\":\"kl\",\"feature\":\"amount\",\"value\":0.4485962,"
	    "\"threshold\":0.2,\"n\":3000,\"baseline_n\":40000,\"p_value\":0.0},"
	    "{\"rule\":\"latency\",\"value\":1.365734,\"threshold\":1.15,\"n\":3000,"
	    "\"baseline_n\":40000,\"p_value\":null,\"p95_seconds\":0.02917,"
	    "\"baseline_p95_seconds\":0.02136}],"
	    "\"breach_windows\":2,\"dry_run\":false,\"baseline_version\":\"v2.3.1\"}}";
	struct agent_eval e;
	struct agent_fscore fs[2];
	struct agent_decision d = example_decision();
	struct agent_event ev;

	(void)state;
	example_eval(&e, fs);
	assert_int_equal(agent_event_build(&ev, "demo", "fraud", "v2.4.0", "v2.3.1", &e, &d), 0);
	assert_string_equal(ev.json, want);
	assert_int_equal(ev.len, sizeof want - 1);
	assert_string_equal(ev.id, "fraud/v2.4.0/1795730400000");
	assert_string_equal(ev.source, "driftd://demo");
	assert_string_equal(ev.time, "2026-11-26T22:00:00.000Z");
	assert_string_equal(ev.type, AGENT_EVENT_ROLLBACK);
	assert_headers(&ev, "fraud");
	agent_event_free(&ev);
	assert_null(ev.json);
	assert_null(ev.id);
	assert_null(ev.source);
	agent_event_free(&ev); /* twice is harmless */
}

/* Every attribute and field, parsed back. */
static void test_fields(void **state)
{
	static const char *const top[] = { "specversion", "id",	     "source",		"type",
					   "time",	  "subject", "datacontenttype", "data",
					   NULL };
	static const char *const data_keys[] = {
		"model",   "from_version",   "to_version", "trigger",	       "window", "coverage",
		"reasons", "breach_windows", "dry_run",	   "baseline_version", NULL
	};
	static const char *const win_keys[] = { "start", "end", "samples", NULL };
	static const char *const cov_keys[] = { "fraction", "partitions", "covered", "missing",
						NULL };
	static const char *const feat_keys[] = { "rule", "feature",    "value",	  "threshold",
						 "n",	 "baseline_n", "p_value", NULL };
	static const char *const acc_keys[] = {
		"rule",	   "value",    "threshold",	    "n", "baseline_n",
		"p_value", "accuracy", "baseline_accuracy", NULL
	};
	static const char *const err_keys[] = { "rule",	       "value",
						"threshold",   "n",
						"baseline_n",  "p_value",
						"error_ratio", "baseline_error_ratio",
						NULL };
	struct agent_eval e;
	struct agent_fscore fs[2];
	struct agent_decision d = example_decision();
	struct agent_event ev;
	json_t *j, *data, *r;

	(void)state;
	example_eval(&e, fs);
	e.end_ms = END_MS + 123; /* milliseconds in the time */
	e.start_ms = START_MS + 123;
	/* every rule fired; psi and js list the breaching feature, accuracy and error_rate
	 * their own evidence */
	d.fired_mask = (1u << AGENT_RULE_COUNT) - 1;
	d.trigger = "accuracy";
	d.breach_windows = 3;
	/* 4 of 6 partitions accounted for: the two missing are named */
	e.coverage.covered = 4;
	e.coverage.nlisted = 2;
	strcpy(e.coverage.missing[0], "inference-logs/1");
	strcpy(e.coverage.missing[1], "inference-logs/4");
	e.rule[AGENT_RULE_ERROR_RATE] = (struct agent_rule_result){ .enabled = 1,
								    .outcome = AGENT_BREACH,
								    .value = 0.07,
								    .threshold = 0.05,
								    .n = 2990,
								    .m = 39000,
								    .p_value = 1e-9 };
	assert_int_equal(agent_event_build(&ev, "agent-7", "fraud", "v2.4.0", "v2.3.0", &e, &d), 0);
	assert_one_line(&ev);
	j = parse(&ev);
	assert_keys(j, top);
	assert_string_equal(sget(j, "specversion"), "1.0");
	assert_string_equal(sget(j, "id"), "fraud/v2.4.0/1795730400123");
	assert_string_equal(sget(j, "source"), "driftd://agent-7");
	assert_string_equal(sget(j, "type"), "io.driftd.rollback");
	assert_string_equal(sget(j, "time"), "2026-11-26T22:00:00.123Z");
	assert_string_equal(sget(j, "subject"), "fraud");
	assert_string_equal(sget(j, "datacontenttype"), "application/json");
	data = json_object_get(j, "data");
	assert_keys(data, data_keys);
	assert_string_equal(sget(data, "model"), "fraud");
	assert_string_equal(sget(data, "from_version"), "v2.4.0");
	assert_string_equal(sget(data, "to_version"), "v2.3.1");
	assert_string_equal(sget(data, "trigger"), "accuracy");
	assert_int_equal(iget(data, "breach_windows"), 3);
	assert_true(json_is_false(json_object_get(data, "dry_run")));
	assert_string_equal(sget(data, "baseline_version"), "v2.3.0");
	r = json_object_get(data, "window");
	assert_keys(r, win_keys);
	assert_string_equal(sget(r, "start"), "2026-11-26T21:59:00.123Z");
	assert_string_equal(sget(r, "end"), "2026-11-26T22:00:00.123Z");
	assert_int_equal(iget(r, "samples"), 3000);
	r = json_object_get(data, "coverage");
	assert_keys(r, cov_keys);
	tu_assert_rel(nget(r, "fraction"), 4.0 / 6.0, 1e-9, "coverage"); /* 10 digits */
	assert_int_equal(iget(r, "partitions"), 6);
	assert_int_equal(iget(r, "covered"), 4);
	r = json_object_get(r, "missing");
	assert_int_equal(json_array_size(r), 2);
	assert_string_equal(json_string_value(json_array_get(r, 0)), "inference-logs/1");
	assert_string_equal(json_string_value(json_array_get(r, 1)), "inference-logs/4");

	/* kl amount, psi amount, js amount, latency, accuracy, error_rate -- in rule order;
	 * "country" passes every per-feature rule and is not listed */
	r = json_object_get(data, "reasons");
	assert_int_equal(json_array_size(r), 6);
	{
		static const char *const rules[] = { "kl",	"psi",	    "js",
						     "latency", "accuracy", "error_rate" };
		static const double values[] = { 0.4485962, 0.9, 0.3, 1.365734, 0.03, 0.07 };
		static const double thresholds[] = { 0.2, 0.25, 0.1, 1.15, 0.05, 0.05 };

		for (size_t i = 0; i < 6; i++) {
			const json_t *o = json_array_get(r, i);

			assert_string_equal(sget(o, "rule"), rules[i]);
			tu_assert_rel(nget(o, "value"), values[i], 0, "value");
			tu_assert_rel(nget(o, "threshold"), thresholds[i], 0, "threshold");
			if (i < 3) {
				assert_keys(o, feat_keys);
				assert_string_equal(sget(o, "feature"), "amount");
				assert_int_equal(iget(o, "n"), 3000);
				assert_int_equal(iget(o, "baseline_n"), 40000);
			}
		}
		/* the KL p-value is the feature's; PSI and JS have none */
		tu_assert_rel(nget(json_array_get(r, 0), "p_value"), 0, 0, "kl p");
		assert_null_key(json_array_get(r, 1), "p_value");
		assert_null_key(json_array_get(r, 2), "p_value");
		tu_assert_rel(nget(json_array_get(r, 3), "p95_seconds"), 0.02917, 0, "p95");
		tu_assert_rel(nget(json_array_get(r, 3), "baseline_p95_seconds"), 0.02136, 0,
			      "base p95");
		assert_keys(json_array_get(r, 4), acc_keys);
		tu_assert_rel(nget(json_array_get(r, 4), "accuracy"), 0.9, 0, "accuracy");
		tu_assert_rel(nget(json_array_get(r, 4), "baseline_accuracy"), 0.93, 0, "base acc");
		tu_assert_rel(nget(json_array_get(r, 4), "p_value"), 0.2, 0, "acc p");
		assert_keys(json_array_get(r, 5), err_keys);
		assert_int_equal(iget(json_array_get(r, 5), "n"), 2990);
		assert_int_equal(iget(json_array_get(r, 5), "baseline_n"), 39000);
		tu_assert_rel(nget(json_array_get(r, 5), "p_value"), 1e-9, 0, "err p");
		tu_assert_rel(nget(json_array_get(r, 5), "error_ratio"), 0.01, 0, "ratio");
		tu_assert_rel(nget(json_array_get(r, 5), "baseline_error_ratio"), 0.02, 0,
			      "base ratio");
	}
	assert_headers(&ev, "fraud");
	assert_string_equal(ev.headers[4].value, "2026-11-26T22:00:00.123Z");
	json_decref(j);
	agent_event_free(&ev);
}

/* The three types; to_version null for needs_target; dry_run; baseline_version null; a fired
 * rule without a breaching feature lists nothing, an unfired breaching one neither. */
static void test_types(void **state)
{
	struct agent_eval e;
	struct agent_fscore fs[2];
	struct agent_decision d = example_decision();
	struct agent_event ev;
	json_t *j, *data;

	(void)state;
	example_eval(&e, fs);
	d.type = AGENT_EVENT_NEEDS_TARGET;
	d.to_version = NULL;
	d.fired_mask = 1u << AGENT_RULE_LATENCY;
	assert_int_equal(agent_event_build(&ev, "a", "m", "v2", NULL, &e, &d), 0);
	j = parse(&ev);
	data = json_object_get(j, "data");
	assert_string_equal(sget(j, "type"), "io.driftd.rollback.needs_target");
	assert_string_equal(ev.type, AGENT_EVENT_NEEDS_TARGET);
	assert_string_equal(ev.headers[3].value, AGENT_EVENT_NEEDS_TARGET);
	assert_null_key(data, "to_version");
	assert_null_key(data, "baseline_version");
	assert_int_equal(json_array_size(json_object_get(data, "reasons")), 1); /* latency */
	json_decref(j);
	agent_event_free(&ev);

	d.type = AGENT_EVENT_DRYRUN;
	d.dry_run = 1;
	d.to_version = "v1";
	d.fired_mask = 1u << AGENT_RULE_PSI; /* psi fired but no feature breaches psi now */
	fs[0].state[1] = AGENT_PASS;
	assert_int_equal(agent_event_build(&ev, "a", "m", "v2", "v1", &e, &d), 0);
	j = parse(&ev);
	data = json_object_get(j, "data");
	assert_string_equal(sget(j, "type"), "io.driftd.rollback.dryrun");
	assert_true(json_is_true(json_object_get(data, "dry_run")));
	assert_string_equal(sget(data, "to_version"), "v1");
	assert_int_equal(json_array_size(json_object_get(data, "reasons")), 0);
	json_decref(j);
	agent_event_free(&ev);
}

/* Non-finite numbers are null; numbers carry 10 significant digits. */
static void test_numbers(void **state)
{
	struct agent_eval e;
	struct agent_fscore fs[2];
	struct agent_decision d = example_decision();
	struct agent_event ev;
	json_t *j, *r;

	(void)state;
	example_eval(&e, fs);
	fs[0].kl = INFINITY;
	fs[0].kl_p = NAN;
	e.rule[AGENT_RULE_LATENCY].value = 0.123456789012345;
	e.rule[AGENT_RULE_LATENCY].threshold = 1e-300;
	e.p95 = NAN;
	e.base_p95 = -INFINITY;
	assert_int_equal(agent_event_build(&ev, "a", "m", "v2", "v1", &e, &d), 0);
	j = parse(&ev);
	r = json_object_get(json_object_get(j, "data"), "reasons");
	assert_null_key(json_array_get(r, 0), "value");
	assert_null_key(json_array_get(r, 0), "p_value");
	tu_assert_rel(nget(json_array_get(r, 1), "value"), 0.123456789, 0, "10 digits");
	assert_non_null(strstr(ev.json, "\"value\":0.123456789,"));
	tu_assert_rel(nget(json_array_get(r, 1), "threshold"), 1e-300, 0, "tiny");
	assert_null_key(json_array_get(r, 1), "p95_seconds");
	assert_null_key(json_array_get(r, 1), "baseline_p95_seconds");
	json_decref(j);
	agent_event_free(&ev);
}

/* The same input gives the same bytes; the id depends on model, version, window end and
 * whether it is a dry run only (not on the agent, the decision's streak or the evidence). */
static void test_determinism(void **state)
{
	struct agent_eval e;
	struct agent_fscore fs[2];
	struct agent_decision d = example_decision();
	struct agent_event a, b;

	(void)state;
	example_eval(&e, fs);
	assert_int_equal(agent_event_build(&a, "agent-1", "fraud", "v2.4.0", "v2.3.1", &e, &d), 0);
	assert_int_equal(agent_event_build(&b, "agent-1", "fraud", "v2.4.0", "v2.3.1", &e, &d), 0);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.json, b.json, a.len);
	agent_event_free(&b);

	d.breach_windows = 5; /* another decision and other evidence: the same id */
	fs[0].kl = 0.5;
	assert_int_equal(agent_event_build(&b, "agent-2", "fraud", "v2.4.0", "v2.3.1", &e, &d), 0);
	assert_string_equal(a.id, b.id);
	assert_string_equal(a.time, b.time);
	assert_string_not_equal(a.source, b.source);
	agent_event_free(&b);

	/* a dry run has an id of its own: its claim never suppresses the real decision */
	d.type = AGENT_EVENT_DRYRUN;
	assert_int_equal(agent_event_build(&b, "agent-2", "fraud", "v2.4.0", "v2.3.1", &e, &d), 0);
	assert_string_not_equal(a.id, b.id);
	assert_int_equal(strlen(b.id), strlen(a.id) + strlen("/dryrun"));
	assert_memory_equal(b.id, a.id, strlen(a.id));
	assert_string_equal(b.id + strlen(a.id), "/dryrun");
	assert_string_equal(a.time, b.time);
	agent_event_free(&b);

	e.end_ms += 60000;
	assert_int_equal(agent_event_build(&b, "agent-1", "fraud", "v2.4.0", "v2.3.1", &e, &d), 0);
	assert_string_equal(b.id, "fraud/v2.4.0/1795730460000/dryrun");
	assert_string_equal(b.time, "2026-11-26T22:01:00.000Z");
	agent_event_free(&b);
	agent_event_free(&a);
}

/* Names with quotes, backslashes, control bytes and non-ASCII come back intact from the JSON,
 * which stays one line. */
static void test_escaping(void **state)
{
	static const char model[] = "fr\"au\\d\x01\n\t/\x7f-\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac";
	static const char version[] = "v\"2\"\x1f";
	static const char feat[] = "amo\"unt\\\x02\xe2\x82\xac";
	static const char agent[] = "ag\"ent";
	struct agent_eval e;
	struct agent_fscore fs[2];
	struct agent_decision d = example_decision();
	struct agent_event ev;
	char id[128];
	json_t *j, *data;

	(void)state;
	example_eval(&e, fs);
	fs[0].name = feat;
	assert_int_equal(agent_event_build(&ev, agent, model, version, version, &e, &d), 0);
	assert_one_line(&ev);
	assert_non_null(strstr(ev.json, "\\u0001"));
	assert_non_null(strstr(ev.json, "\\n"));
	assert_non_null(strstr(ev.json, "\\\""));
	snprintf(id, sizeof id, "%s/%s/%lld", model, version, END_MS);
	assert_string_equal(ev.id, id);
	j = parse(&ev);
	data = json_object_get(j, "data");
	assert_string_equal(sget(j, "id"), id);
	assert_string_equal(sget(j, "subject"), model);
	assert_string_equal(sget(j, "source"), "driftd://ag\"ent");
	assert_string_equal(sget(data, "model"), model);
	assert_string_equal(sget(data, "from_version"), version);
	assert_string_equal(sget(data, "baseline_version"), version);
	assert_string_equal(sget(json_array_get(json_object_get(data, "reasons"), 0), "feature"),
			    feat);
	/* the headers carry the raw strings */
	assert_headers(&ev, model);
	json_decref(j);
	agent_event_free(&ev);

	/* a name that is not UTF-8 cannot be written as JSON: refused, nothing left allocated */
	assert_int_equal(agent_event_build(&ev, "a", "bad\xff", "v2", NULL, &e, &d), -1);
	assert_null(ev.json);
	assert_null(ev.id);
	assert_null(ev.source);
}

/* ---- alert events ---- */

static const struct conn_am_kv LABELS[] = { { "alertname", "FraudModelDown" },
					    { "model", "fraud" },
					    { "severity", "P0" },
					    { "version", "v2.4.0" } };
static const struct conn_am_kv ANNOTATIONS[] = { { "summary", "fraud scores all zero" } };

static struct conn_am_alert example_alert(void)
{
	struct conn_am_alert a;

	memset(&a, 0, sizeof a);
	a.status = CONN_AM_FIRING;
	a.labels = (struct conn_am_labels){ LABELS, 4 };
	a.annotations = (struct conn_am_labels){ ANNOTATIONS, 1 };
	a.starts_at = "2026-11-27T00:56:29Z";
	a.has_starts = 1;
	a.starts_ms = 1795740989000LL; /* 2026-11-27T00:56:29Z */
	a.ends_at = "";
	a.generator_url = "http://prometheus:9090/graph?g0.expr=...";
	a.fingerprint = "2350ba9e08fdbb81";
	return a;
}

/* doc/events.md's alert example, byte for byte. */
static void test_alert_documented(void **state)
{
	static const char want[] =
	    "{\"specversion\":\"1.0\",\"id\":\"fraud/v2.4.0/alert/2350ba9e08fdbb81\","
	    "\"source\":\"driftd://agent-1\",\"type\":\"io.driftd.rollback\","
	    "\"time\":\"2026-11-27T00:56:29.000Z\",\"subject\":\"fraud\","
	    "\"datacontenttype\":\"application/json\","
	    "\"data\":{\"model\":\"fraud\",\"from_version\":\"v2.4.0\",\"to_version\":\"v2.3.1\","
	    "\"trigger\":\"alert\",\"reasons\":[{\"rule\":\"alert\","
	    "\"labels\":{\"alertname\":\"FraudModelDown\",\"model\":\"fraud\","
	    "\"severity\":\"P0\",\"version\":\"v2.4.0\"},"
	    "\"annotations\":{\"summary\":\"fraud scores all zero\"},"
	    "\"fingerprint\":\"2350ba9e08fdbb81\",\"starts_at\":\"2026-11-27T00:56:29.000Z\","
	    "\"generator_url\":\"http://prometheus:9090/graph?g0.expr=...\"}],"
	    "\"breach_windows\":0,\"dry_run\":false,\"baseline_version\":null}}";
	struct conn_am_alert a = example_alert();
	struct agent_event ev, ev2;

	(void)state;
	assert_int_equal(agent_event_build_alert(&ev, "agent-1", "fraud", "v2.4.0", "v2.3.1",
						 AGENT_EVENT_ROLLBACK, 0, &a, 0),
			 0);
	assert_string_equal(ev.json, want);
	assert_int_equal(ev.len, sizeof want - 1);
	assert_string_equal(ev.id, "fraud/v2.4.0/alert/2350ba9e08fdbb81");
	assert_string_equal(ev.time, "2026-11-27T00:56:29.000Z");
	assert_string_equal(ev.source, "driftd://agent-1");
	assert_headers(&ev, "fraud");
	/* deterministic: the same alert again is the same event */
	assert_int_equal(agent_event_build_alert(&ev2, "agent-1", "fraud", "v2.4.0", "v2.3.1",
						 AGENT_EVENT_ROLLBACK, 0, &a, 0),
			 0);
	assert_int_equal(ev.len, ev2.len);
	assert_memory_equal(ev.json, ev2.json, ev.len);
	agent_event_free(&ev2);
	agent_event_free(&ev);
}

/* Without a fingerprint the id uses startsAt in ms; without startsAt either, 0 (and the time
 * is when the alert was received, no starts_at). dry_run, the type and a null to_version as given;
 * no window. */
static void test_alert_fallbacks(void **state)
{
	struct conn_am_alert a = example_alert();
	struct agent_event ev;
	json_t *j, *data, *r;

	(void)state;
	a.fingerprint = "";
	assert_int_equal(agent_event_build_alert(&ev, "x", "fraud", "v2.4.0", NULL,
						 AGENT_EVENT_NEEDS_TARGET, 0, &a, 0),
			 0);
	assert_string_equal(ev.id, "fraud/v2.4.0/alert/1795740989000");
	j = parse(&ev);
	data = json_object_get(j, "data");
	assert_string_equal(sget(j, "id"), "fraud/v2.4.0/alert/1795740989000");
	assert_string_equal(sget(j, "type"), "io.driftd.rollback.needs_target");
	assert_null_key(data, "to_version");
	assert_null(json_object_get(data, "window"));
	assert_string_equal(sget(data, "trigger"), "alert");
	assert_int_equal(iget(data, "breach_windows"), 0);
	json_decref(j);
	agent_event_free(&ev);

	a.has_starts = 0;
	a.starts_ms = 0;
	a.starts_at = "";
	a.labels.n = 0;
	a.annotations.n = 0;
	assert_int_equal(agent_event_build_alert(&ev, "x", "fraud", "v2.4.0", "v1",
						 AGENT_EVENT_DRYRUN, 1, &a, 1795730400000),
			 0);
	assert_one_line(&ev);
	assert_string_equal(ev.id, "fraud/v2.4.0/alert/0/dryrun"); /* a dry run's own id space */
	assert_string_equal(ev.time, "2026-11-26T22:00:00.000Z");  /* received, not the epoch */
	j = parse(&ev);
	data = json_object_get(j, "data");
	assert_string_equal(sget(j, "time"), "2026-11-26T22:00:00.000Z");
	assert_string_equal(sget(j, "type"), "io.driftd.rollback.dryrun");
	assert_true(json_is_true(json_object_get(data, "dry_run")));
	assert_string_equal(sget(data, "to_version"), "v1");
	assert_null_key(data, "baseline_version");
	r = json_array_get(json_object_get(data, "reasons"), 0);
	assert_string_equal(sget(r, "rule"), "alert");
	assert_int_equal(json_object_size(json_object_get(r, "labels")), 0);
	assert_int_equal(json_object_size(json_object_get(r, "annotations")), 0);
	assert_null(json_object_get(r, "starts_at"));
	assert_headers(&ev, "fraud");
	json_decref(j);
	agent_event_free(&ev);
}

/* Label names and values with odd bytes are escaped and come back intact. */
static void test_alert_escaping(void **state)
{
	static const struct conn_am_kv odd[] = { { "a\"b", "line1\nline2\x01" },
						 { "z\xc3\xa9", "\\\xe2\x82\xac" } };
	struct conn_am_alert a = example_alert();
	struct agent_event ev;
	json_t *j, *r;

	(void)state;
	a.labels = (struct conn_am_labels){ odd, 2 };
	a.fingerprint = "f\"p";
	assert_int_equal(
	    agent_event_build_alert(&ev, "x", "m\x02", "v", NULL, AGENT_EVENT_ROLLBACK, 0, &a, 0),
	    0);
	assert_one_line(&ev);
	assert_string_equal(ev.id, "m\x02/v/alert/f\"p");
	j = parse(&ev);
	assert_string_equal(sget(j, "id"), "m\x02/v/alert/f\"p");
	assert_string_equal(sget(j, "subject"), "m\x02");
	r = json_array_get(json_object_get(json_object_get(j, "data"), "reasons"), 0);
	assert_string_equal(sget(json_object_get(r, "labels"), "a\"b"), "line1\nline2\x01");
	assert_string_equal(sget(json_object_get(r, "labels"), "z\xc3\xa9"), "\\\xe2\x82\xac");
	assert_string_equal(sget(r, "fingerprint"), "f\"p");
	json_decref(j);
	agent_event_free(&ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_documented_example),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_alert_documented),
		cmocka_unit_test(test_alert_fallbacks),
		cmocka_unit_test(test_alert_escaping),
	};

	return TU_RUN(tests);
}

/*
 * test_alertmanager.c -- the Alertmanager webhook payload parser and label selectors
 * (connectors/alertmanager.h): payloads shaped like what Alertmanager 0.25 sends (firing and
 * resolved, Go's zero endsAt, nanosecond timestamps with offsets), every required field
 * missing in turn, wrong types, wrong version, bad JSON, limits exactly at and one past,
 * RFC 3339 edge cases, unknown keys; selector syntax, errors and matching.
 */
#include "connectors/alertmanager.h"
#include "testutil.h"

/* What Alertmanager 0.25 POSTs to a webhook receiver for one P0 alert of model fraud. */
static const char firing[] =
    "{\"receiver\":\"driftd\",\"status\":\"firing\",\"alerts\":[{\"status\":\"firing\","
    "\"labels\":{\"alertname\":\"FraudModelErrors\",\"severity\":\"P0\",\"model\":\"fraud\","
    "\"version\":\"v2.4.0\",\"team\":\"ml\"},\"annotations\":{\"summary\":\"5xx on "
    "fraud\",\"runbook_url\":\"https://runbooks/fraud\"},"
    "\"startsAt\":\"2026-11-26T21:14:00.123456789Z\",\"endsAt\":\"0001-01-01T00:00:00Z\","
    "\"generatorURL\":\"http://prometheus:9090/graph?g0.expr=up\\u0026g0.tab=1\","
    "\"fingerprint\":\"1a30ba71cca2921f\"},{\"status\":\"firing\",\"labels\":{\"alertname\":"
    "\"FraudModelErrors\",\"severity\":\"P2\",\"model\":\"fraud\"},\"annotations\":{},"
    "\"startsAt\":\"2018-08-03T09:52:26.739266876+02:00\",\"endsAt\":\"0001-01-01T00:00:00Z\","
    "\"generatorURL\":\"\",\"fingerprint\":\"bc97ff14869b13e3\"}],"
    "\"groupLabels\":{\"alertname\":\"FraudModelErrors\"},\"commonLabels\":{\"alertname\":"
    "\"FraudModelErrors\",\"model\":\"fraud\"},\"commonAnnotations\":{},"
    "\"externalURL\":\"http://alertmanager:9093\",\"version\":\"4\","
    "\"groupKey\":\"{}:{alertname=\\\"FraudModelErrors\\\"}\",\"truncatedAlerts\":0}";

static const char resolved[] =
    "{\"version\":\"4\",\"groupKey\":\"{}:{}\",\"truncatedAlerts\":3,\"status\":\"resolved\","
    "\"receiver\":\"driftd\",\"groupLabels\":{},\"commonLabels\":{\"severity\":\"P0\"},"
    "\"commonAnnotations\":{},\"externalURL\":\"http://am:9093\",\"alerts\":[{\"status\":"
    "\"resolved\",\"labels\":{\"severity\":\"P0\",\"model\":\"fraud\"},\"annotations\":{},"
    "\"startsAt\":\"2026-11-26T21:14:00.123Z\",\"endsAt\":\"2026-11-26T21:20:30Z\","
    "\"generatorURL\":\"http://p/graph\",\"fingerprint\":\"1a30ba71cca2921f\"}]}";

static struct conn_am_payload *parse_ok(const char *body)
{
	struct conn_am_payload *p = NULL;
	char reason[256];
	enum conn_am_reject r = conn_am_parse(body, strlen(body), NULL, &p, reason, sizeof reason);

	if (r != CONN_AM_OK)
		fail_msg("rejected (%s): %s", conn_am_reject_name(r), reason);
	assert_non_null(p);
	return p;
}

/* Expects a rejection with code and a reason containing `part`. */
static void parse_bad(const char *body, const struct conn_am_limits *l, enum conn_am_reject code,
		      const char *part)
{
	struct conn_am_payload *p = (void *)1;
	char reason[256];
	enum conn_am_reject r = conn_am_parse(body, strlen(body), l, &p, reason, sizeof reason);

	if (r != code || !strstr(reason, part))
		fail_msg("%s\n  got %s \"%s\", want %s containing \"%s\"", body,
			 conn_am_reject_name(r), reason, conn_am_reject_name(code), part);
	assert_null(p);
}

static void test_firing(void **state)
{
	struct conn_am_payload *p = parse_ok(firing);
	const struct conn_am_alert *a;

	(void)state;
	assert_int_equal(p->status, CONN_AM_FIRING);
	assert_string_equal(p->receiver, "driftd");
	assert_string_equal(p->group_key, "{}:{alertname=\"FraudModelErrors\"}");
	assert_string_equal(p->external_url, "http://alertmanager:9093");
	assert_int_equal(p->truncated_alerts, 0);
	assert_int_equal(p->group_labels.n, 1);
	assert_int_equal(p->common_labels.n, 2);
	assert_string_equal(conn_am_label(&p->common_labels, "model"), "fraud");
	assert_int_equal(p->common_annotations.n, 0);
	assert_int_equal(p->nalerts, 2);

	a = &p->alerts[0];
	assert_int_equal(a->status, CONN_AM_FIRING);
	assert_int_equal(a->labels.n, 5);
	/* sorted by name */
	assert_string_equal(a->labels.kv[0].name, "alertname");
	assert_string_equal(a->labels.kv[1].name, "model");
	assert_string_equal(a->labels.kv[2].name, "severity");
	assert_string_equal(a->labels.kv[3].name, "team");
	assert_string_equal(a->labels.kv[4].name, "version");
	assert_string_equal(conn_am_label(&a->labels, "severity"), "P0");
	assert_string_equal(conn_am_label(&a->labels, "version"), "v2.4.0");
	assert_null(conn_am_label(&a->labels, "absent"));
	assert_string_equal(conn_am_label(&a->annotations, "summary"), "5xx on fraud");
	assert_string_equal(a->starts_at, "2026-11-26T21:14:00.123456789Z");
	assert_true(a->has_starts);
	assert_int_equal(a->starts_ms, 1795727640123LL);
	assert_false(a->has_ends); /* Go's zero time */
	assert_string_equal(a->ends_at, "0001-01-01T00:00:00Z");
	assert_string_equal(a->generator_url, "http://prometheus:9090/graph?g0.expr=up&g0.tab=1");
	assert_string_equal(a->fingerprint, "1a30ba71cca2921f");

	a = &p->alerts[1];
	assert_string_equal(conn_am_label(&a->labels, "severity"), "P2");
	assert_int_equal(a->annotations.n, 0);
	assert_int_equal(a->starts_ms, 1533282746739LL); /* +02:00 applied, ns truncated */
	assert_string_equal(a->generator_url, "");
	conn_am_payload_free(p);
}

static void test_resolved(void **state)
{
	struct conn_am_payload *p = parse_ok(resolved);

	(void)state;
	assert_int_equal(p->status, CONN_AM_RESOLVED);
	assert_int_equal(p->truncated_alerts, 3);
	assert_int_equal(p->nalerts, 1);
	assert_int_equal(p->alerts[0].status, CONN_AM_RESOLVED);
	assert_true(p->alerts[0].has_ends);
	assert_int_equal(p->alerts[0].ends_ms, 1795728030000LL);
	assert_int_equal(p->alerts[0].starts_ms, 1795727640123LL);
	conn_am_payload_free(p);
}

/* The minimal payload: optional fields absent or null. */
static void test_minimal_and_unknown(void **state)
{
	struct conn_am_payload *p;

	(void)state;
	p = parse_ok("{\"version\":\"4\",\"status\":\"firing\",\"receiver\":\"r\",\"groupKey\":"
		     "\"k\",\"alerts\":[{\"status\":\"firing\",\"labels\":{}}]}");
	assert_string_equal(p->external_url, "");
	assert_int_equal(p->alerts[0].labels.n, 0);
	assert_int_equal(p->alerts[0].annotations.n, 0);
	assert_false(p->alerts[0].has_starts);
	assert_string_equal(p->alerts[0].starts_at, "");
	assert_string_equal(p->alerts[0].fingerprint, "");
	conn_am_payload_free(p);

	p = parse_ok("{\"version\":\"4\",\"status\":\"resolved\",\"receiver\":\"r\",\"groupKey\":"
		     "\"k\",\"externalURL\":null,\"truncatedAlerts\":null,\"groupLabels\":null,"
		     "\"alerts\":[]}");
	assert_int_equal(p->nalerts, 0);
	assert_null(p->alerts);
	conn_am_payload_free(p);

	/* Grafana-style extras (orgId, values, silenceURL) and unknown nested values */
	p = parse_ok(
	    "{\"version\":\"4\",\"orgId\":1,\"status\":\"firing\",\"receiver\":\"r\","
	    "\"groupKey\":\"k\",\"title\":\"[FIRING:1]\",\"alerts\":[{\"status\":"
	    "\"firing\",\"labels\":{\"a\":\"b\"},\"values\":{\"B\":44.2,\"C\":1},"
	    "\"silenceURL\":\"http://g/s\",\"dashboardURL\":\"\",\"x\":[1,{\"y\":null}]}]}");
	assert_int_equal(p->nalerts, 1);
	conn_am_payload_free(p);
}

static void test_version(void **state)
{
	(void)state;
	parse_bad("{\"status\":\"firing\",\"receiver\":\"r\",\"groupKey\":\"k\",\"alerts\":[]}",
		  NULL, CONN_AM_BAD_VERSION, "version: missing");
	parse_bad("{\"version\":\"3\",\"status\":\"firing\",\"receiver\":\"r\",\"groupKey\":\"k\","
		  "\"alerts\":[]}",
		  NULL, CONN_AM_BAD_VERSION, "\"4\"");
	parse_bad("{\"version\":4,\"status\":\"firing\",\"receiver\":\"r\",\"groupKey\":\"k\","
		  "\"alerts\":[]}",
		  NULL, CONN_AM_BAD_VERSION, "version");
	parse_bad("{\"version\":null}", NULL, CONN_AM_BAD_VERSION, "version");
}

/* Each required field removed in turn from the real payload (with jansson), then set null. */
static void test_missing(void **state)
{
	static const struct {
		int alert; /* -1 top level, else the alert's index */
		const char *key, *reason;
	} cases[] = {
		{ -1, "status", "status: missing" },
		{ -1, "receiver", "receiver: missing" },
		{ -1, "groupKey", "groupKey: missing" },
		{ -1, "alerts", "alerts: missing" },
		{ 0, "status", "alerts[0].status: missing" },
		{ 1, "labels", "alerts[1].labels: missing" },
	};

	(void)state;
	for (int null = 0; null < 2; null++) {
		for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
			json_t *root = json_loads(firing, 0, NULL), *obj = root;
			char *body;

			assert_non_null(root);
			if (cases[i].alert >= 0)
				obj = json_array_get(json_object_get(root, "alerts"),
						     (size_t)cases[i].alert);
			if (null)
				json_object_set_new(obj, cases[i].key, json_null());
			else
				json_object_del(obj, cases[i].key);
			body = json_dumps(root, 0);
			parse_bad(body, NULL, CONN_AM_MISSING, cases[i].reason);
			free(body);
			json_decref(root);
		}
	}
}

#define HEAD	 "{\"version\":\"4\",\"status\":\"firing\",\"receiver\":\"r\",\"groupKey\":\"k\","
#define ALERT(x) HEAD "\"alerts\":[{\"status\":\"firing\",\"labels\":{\"a\":\"b\"}" x "}]}"

static void test_types(void **state)
{
	(void)state;
	parse_bad("{\"version\":\"4\",\"status\":1,\"receiver\":\"r\",\"groupKey\":\"k\","
		  "\"alerts\":[]}",
		  NULL, CONN_AM_BAD_TYPE, "status: expected a string");
	parse_bad("{\"version\":\"4\",\"status\":\"firing\",\"receiver\":[],\"groupKey\":\"k\","
		  "\"alerts\":[]}",
		  NULL, CONN_AM_BAD_TYPE, "receiver: expected a string");
	parse_bad(HEAD "\"externalURL\":true,\"alerts\":[]}", NULL, CONN_AM_BAD_TYPE,
		  "externalURL: expected a string");
	parse_bad(HEAD "\"truncatedAlerts\":\"0\",\"alerts\":[]}", NULL, CONN_AM_BAD_TYPE,
		  "truncatedAlerts: expected an integer");
	parse_bad(HEAD "\"truncatedAlerts\":1.5,\"alerts\":[]}", NULL, CONN_AM_BAD_TYPE,
		  "truncatedAlerts");
	parse_bad(HEAD "\"truncatedAlerts\":-1,\"alerts\":[]}", NULL, CONN_AM_BAD_VALUE,
		  "truncatedAlerts: negative");
	parse_bad(HEAD "\"groupLabels\":[],\"alerts\":[]}", NULL, CONN_AM_BAD_TYPE,
		  "groupLabels: expected an object");
	parse_bad(HEAD "\"commonLabels\":{\"a\":1},\"alerts\":[]}", NULL, CONN_AM_BAD_TYPE,
		  "commonLabels.a: expected a string");
	parse_bad(HEAD "\"alerts\":{}}", NULL, CONN_AM_BAD_TYPE, "alerts: expected an array");
	parse_bad(HEAD "\"alerts\":[\"x\"]}", NULL, CONN_AM_BAD_TYPE,
		  "alerts[0]: expected an object");
	parse_bad(HEAD "\"alerts\":[{\"status\":\"firing\",\"labels\":\"severity=P0\"}]}", NULL,
		  CONN_AM_BAD_TYPE, "alerts[0].labels: expected an object");
	parse_bad(HEAD "\"alerts\":[{\"status\":\"firing\",\"labels\":{\"severity\":0}}]}", NULL,
		  CONN_AM_BAD_TYPE, "alerts[0].labels.severity: expected a string");
	parse_bad(ALERT(",\"annotations\":{\"s\":null}"), NULL, CONN_AM_BAD_TYPE,
		  "alerts[0].annotations.s: expected a string");
	parse_bad(ALERT(",\"startsAt\":1795730000"), NULL, CONN_AM_BAD_TYPE,
		  "alerts[0].startsAt: expected a string");
	parse_bad(ALERT(",\"fingerprint\":{}"), NULL, CONN_AM_BAD_TYPE,
		  "alerts[0].fingerprint: expected a string");
	parse_bad(ALERT(",\"generatorURL\":[]"), NULL, CONN_AM_BAD_TYPE,
		  "alerts[0].generatorURL: expected a string");
	/* values */
	parse_bad("{\"version\":\"4\",\"status\":\"pending\",\"receiver\":\"r\",\"groupKey\":"
		  "\"k\",\"alerts\":[]}",
		  NULL, CONN_AM_BAD_VALUE, "status: \"pending\" is neither");
	parse_bad(HEAD "\"alerts\":[{\"status\":\"FIRING\",\"labels\":{}}]}", NULL,
		  CONN_AM_BAD_VALUE, "alerts[0].status");
	parse_bad(HEAD "\"alerts\":[{\"status\":\"firing\",\"labels\":{\"\":\"x\"}}]}", NULL,
		  CONN_AM_BAD_VALUE, "alerts[0].labels: an empty name");
	parse_bad(ALERT(",\"startsAt\":\"yesterday\""), NULL, CONN_AM_BAD_VALUE,
		  "alerts[0].startsAt: not an RFC 3339 time");
	parse_bad(ALERT(",\"endsAt\":\"\""), NULL, CONN_AM_BAD_VALUE, "alerts[0].endsAt");
	/* a status value with control characters is shown sanitised */
	parse_bad("{\"version\":\"4\",\"status\":\"a\\nb\",\"receiver\":\"r\",\"groupKey\":\"k\","
		  "\"alerts\":[]}",
		  NULL, CONN_AM_BAD_VALUE, "\"a?b\"");
}

static void test_bad_json(void **state)
{
	(void)state;
	parse_bad("", NULL, CONN_AM_BAD_JSON, "not valid JSON");
	parse_bad("{\"version\":\"4\",", NULL, CONN_AM_BAD_JSON, "not valid JSON (line 1");
	parse_bad("[]", NULL, CONN_AM_BAD_JSON, "not a JSON object");
	parse_bad("\"4\"", NULL, CONN_AM_BAD_JSON, "not a JSON object");
	parse_bad("{\"version\":\"4\",\"version\":\"4\"}", NULL, CONN_AM_BAD_JSON, "duplicate");
	parse_bad(ALERT(",\"annotations\":{\"s\":\"x\",\"s\":\"y\"}"), NULL, CONN_AM_BAD_JSON,
		  "duplicate");
	parse_bad(ALERT(",\"fingerprint\":\"a\\u0000b\""), NULL, CONN_AM_BAD_JSON, "JSON");
	parse_bad("{\"version\":\"\xff\"}", NULL, CONN_AM_BAD_JSON, "JSON");
	/* a body with a NUL byte inside */
	{
		static const char body[] = "{\"version\":\"4\"}\0xyz";
		struct conn_am_payload *p;
		char reason[128];

		assert_int_equal(
		    conn_am_parse(body, sizeof body - 1, NULL, &p, reason, sizeof reason),
		    CONN_AM_BAD_JSON);
	}
}

/* A payload of nalerts alerts, each with nlabels labels; label values of vlen bytes. */
static char *big(size_t nalerts, size_t nlabels, size_t vlen)
{
	size_t cap = 256 + nalerts * (64 + nlabels * (32 + vlen)), n;
	char *b = malloc(cap);

	assert_non_null(b);
	n = (size_t)snprintf(b, cap, HEAD "\"alerts\":[");
	for (size_t a = 0; a < nalerts; a++) {
		n += (size_t)snprintf(b + n, cap - n, "%s{\"status\":\"firing\",\"labels\":{",
				      a ? "," : "");
		for (size_t l = 0; l < nlabels; l++) {
			n += (size_t)snprintf(b + n, cap - n, "%s\"l%zu\":\"", l ? "," : "", l);
			memset(b + n, 'v', vlen);
			n += vlen;
			n += (size_t)snprintf(b + n, cap - n, "\"");
		}
		n += (size_t)snprintf(b + n, cap - n, "}}");
	}
	snprintf(b + n, cap - n, "]}");
	return b;
}

static void test_limits(void **state)
{
	struct conn_am_limits l = { .max_alerts = 3, .max_labels = 4, .max_string = 10 };
	struct conn_am_payload *p;
	char reason[256], *b;

	(void)state;
	b = big(3, 4, 10); /* every limit reached exactly */
	assert_int_equal(conn_am_parse(b, strlen(b), &l, &p, reason, sizeof reason), CONN_AM_OK);
	assert_int_equal(p->nalerts, 3);
	assert_int_equal(p->alerts[2].labels.n, 4);
	assert_int_equal(strlen(p->alerts[2].labels.kv[3].value), 10);
	conn_am_payload_free(p);
	free(b);

	b = big(4, 1, 1);
	parse_bad(b, &l, CONN_AM_TOO_MANY_ALERTS, "alerts: 4 alerts, more than the limit of 3");
	free(b);
	b = big(2, 5, 1);
	parse_bad(b, &l, CONN_AM_TOO_MANY_LABELS,
		  "alerts[0].labels: 5 entries, more than the limit of 4");
	free(b);
	b = big(2, 2, 11);
	parse_bad(b, &l, CONN_AM_TOO_LONG,
		  "alerts[0].labels.l0: a value of 11 bytes, more than the limit of 10");
	free(b);
	parse_bad(HEAD "\"alerts\":[{\"status\":\"firing\",\"labels\":{\"abcdefghijk\":\"x\"}}]}",
		  &l, CONN_AM_TOO_LONG, "alerts[0].labels: a name of 11 bytes");
	parse_bad("{\"version\":\"4\",\"status\":\"firing\",\"receiver\":\"0123456789A\","
		  "\"groupKey\":\"k\",\"alerts\":[]}",
		  &l, CONN_AM_TOO_LONG, "receiver: 11 bytes, more than the limit of 10");

	/* the defaults: 256 alerts of 64 labels pass, 257 alerts do not */
	b = big(256, 64, 8);
	assert_int_equal(conn_am_parse(b, strlen(b), NULL, &p, reason, sizeof reason), CONN_AM_OK);
	assert_int_equal(p->nalerts, 256);
	conn_am_payload_free(p);
	free(b);
	b = big(257, 1, 1);
	parse_bad(b, NULL, CONN_AM_TOO_MANY_ALERTS, "257 alerts");
	free(b);
}

static void test_times(void **state)
{
	static const struct {
		const char *t;
		int ok, has;
		long long ms;
	} cases[] = {
		{ "2026-11-26T21:14:00.123Z", 1, 1, 1795727640123LL },
		{ "2026-11-26t21:14:00.1239z", 1, 1, 1795727640123LL },
		{ "2026-11-26T21:14:00Z", 1, 1, 1795727640000LL },
		{ "1969-12-31T23:59:59.999Z", 1, 1, -1 },
		{ "2024-02-29T12:00:00-05:30", 1, 1, 1709227800000LL },
		{ "0001-01-01T00:00:00Z", 1, 0, 0 },
		{ "2023-02-29T12:00:00Z", 0, 0, 0 },
		{ "2026-11-26 21:14:00Z", 0, 0, 0 },
		{ "2026-11-26T21:14:00", 0, 0, 0 },
		{ "2026-11-26T21:14:00.Z", 0, 0, 0 },
		{ "2026-11-26T24:00:00Z", 0, 0, 0 },
		{ "2026-11-26T21:14:60Z", 0, 0, 0 },
		{ "2026-13-26T21:14:00Z", 0, 0, 0 },
		{ "2026-11-26T21:14:00+2:00", 0, 0, 0 },
		{ "2026-11-26T21:14:00+02:00x", 0, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char body[512], reason[256];
		struct conn_am_payload *p;
		enum conn_am_reject r;

		snprintf(body, sizeof body, ALERT(",\"startsAt\":\"%s\""), cases[i].t);
		r = conn_am_parse(body, strlen(body), NULL, &p, reason, sizeof reason);
		if (!cases[i].ok) {
			if (r != CONN_AM_BAD_VALUE)
				fail_msg("%s: accepted", cases[i].t);
			continue;
		}
		if (r != CONN_AM_OK)
			fail_msg("%s: %s", cases[i].t, reason);
		assert_int_equal(p->alerts[0].has_starts, cases[i].has);
		assert_int_equal(p->alerts[0].starts_ms, cases[i].ms);
		assert_string_equal(p->alerts[0].starts_at, cases[i].t);
		conn_am_payload_free(p);
	}
}

static void test_reject_names(void **state)
{
	(void)state;
	for (int i = 0; i < CONN_AM_REJECT_COUNT; i++) {
		assert_non_null(conn_am_reject_name(i));
		for (int j = 0; j < i; j++)
			assert_string_not_equal(conn_am_reject_name(i), conn_am_reject_name(j));
	}
	assert_string_equal(conn_am_reject_name(CONN_AM_TOO_LONG), "too_long");
	assert_string_equal(conn_am_reject_name(CONN_AM_REJECT_COUNT), "unknown");
}

/* ---- selectors ---- */

static int match(const char *sel, const struct conn_am_alert *a)
{
	char err[256];
	struct conn_am_selector *s = conn_am_selector_new(sel, err, sizeof err);
	int m;

	if (!s)
		fail_msg("selector %s: %s", sel, err);
	m = conn_am_match(s, a);
	conn_am_selector_free(s);
	return m;
}

static void sel_bad(const char *sel, const char *part)
{
	char err[256];
	struct conn_am_selector *s = conn_am_selector_new(sel, err, sizeof err);

	if (s || !strstr(err, part))
		fail_msg("selector %s: %s, want an error with \"%s\"", sel, s ? "accepted" : err,
			 part);
}

static void test_selector(void **state)
{
	struct conn_am_payload *p = parse_ok(firing);
	const struct conn_am_alert *p0 = &p->alerts[0], *p2 = &p->alerts[1];

	(void)state;
	assert_true(match("severity=\"P0\"", p0));
	assert_false(match("severity=\"P0\"", p2));
	assert_true(match("severity=P0", p0));
	assert_true(match("  { severity = \"P0\" , team=\"ml\" , }  ", p0));
	assert_true(match("severity=\"P0\",team=\"ml\"", p0));
	assert_false(match("severity=\"P0\",team=\"data\"", p0));
	assert_false(match("severity=\"p0\"", p0)); /* case-sensitive */
	assert_true(match("severity!=\"P0\"", p2));
	assert_false(match("severity!=\"P0\"", p0));
	/* absent labels are "" */
	assert_true(match("team=\"\"", p2));
	assert_false(match("team=\"\"", p0));
	assert_true(match("team!=\"\"", p0));
	assert_false(match("team!=\"\"", p2));
	assert_true(match("team=", p2));
	/* escapes */
	assert_false(match("alertname=\"Fraud\\\"Model\"", p0));
	assert_true(match("alertname=\"FraudModelErrors\",model=\"fraud\"", p2));

	sel_bad("", "empty");
	sel_bad("  {}  ", "empty");
	sel_bad("severity=~\"P0|P1\"", "regular-expression");
	sel_bad("severity!~\"P3\"", "regular-expression");
	sel_bad("severity:\"P0\"", "expected = or !=");
	sel_bad("1severity=\"P0\"", "expected a label name at offset 0");
	sel_bad("severity=\"P0", "unterminated");
	sel_bad("severity=\"P\\t0\"", "unknown escape");
	sel_bad("{severity=\"P0\"", "missing }");
	sel_bad("severity=\"P0\" team=\"ml\"", "expected , between matchers");
	sel_bad("{severity=\"P0\"} x", "unexpected text");
	sel_bad("a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,i=9,j=10,k=11,l=12,m=13,n=14,o=15,p=16,q=17",
		"more than 16 matchers");
	assert_true(match("a=\"\",b=\"\",c=\"\",d=\"\",e=\"\",f=\"\",g=\"\",h=\"\",i=\"\","
			  "j=\"\",k=\"\",l=\"\",m=\"\",n=\"\",o=\"\",severity=\"P0\"",
			  p0));
	conn_am_payload_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_firing),
		cmocka_unit_test(test_resolved),
		cmocka_unit_test(test_minimal_and_unknown),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_bad_json),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_reject_names),
		cmocka_unit_test(test_selector),
	};

	return TU_RUN(tests);
}

/*
 * fuzz_alertmanager.c -- fuzz target of the Alertmanager webhook parser and the label selectors
 * (connectors/alertmanager.h).
 *
 * Every input is parsed as a payload under the default limits and under tight ones (every
 * limit reachable by a short input), and -- NUL-terminated, at most 1 KiB -- as a selector.
 * Invariants: a code in range, a payload exactly when the code is OK, a reason exactly when it
 * is not; an accepted payload keeps its limits (alerts, entries per set, bytes per string),
 * label sets are sorted with unique non-empty names and conn_am_label finds each entry, times
 * flagged present have their text; whatever the tight limits accept the default ones accept
 * too, identically. An accepted selector matches 0 or 1 against every alert parsed.
 */
#include "fuzz.h"
#include "connectors/alertmanager.h"

#include <string.h>

static void check_set(const struct conn_am_labels *s, const struct conn_am_limits *l)
{
	FUZZ_CHECK(s->n <= l->max_labels);
	FUZZ_CHECK(s->n == 0 || s->kv);
	for (size_t i = 0; i < s->n; i++) {
		size_t nl = strlen(s->kv[i].name);

		FUZZ_CHECK(nl >= 1 && nl <= l->max_string);
		FUZZ_CHECK(strlen(s->kv[i].value) <= l->max_string);
		FUZZ_CHECK(i == 0 || strcmp(s->kv[i - 1].name, s->kv[i].name) < 0);
		FUZZ_CHECK(conn_am_label(s, s->kv[i].name) == s->kv[i].value);
	}
}

static void check_str(const char *s, const struct conn_am_limits *l)
{
	FUZZ_CHECK(s && strlen(s) <= l->max_string);
}

static void check_payload(const struct conn_am_payload *p, const struct conn_am_limits *l)
{
	FUZZ_CHECK(p->status == CONN_AM_FIRING || p->status == CONN_AM_RESOLVED);
	check_str(p->receiver, l);
	check_str(p->group_key, l);
	check_str(p->external_url, l);
	FUZZ_CHECK(p->truncated_alerts >= 0);
	check_set(&p->group_labels, l);
	check_set(&p->common_labels, l);
	check_set(&p->common_annotations, l);
	FUZZ_CHECK(p->nalerts <= l->max_alerts);
	FUZZ_CHECK(p->nalerts == 0 || p->alerts);
	for (size_t i = 0; i < p->nalerts; i++) {
		const struct conn_am_alert *a = &p->alerts[i];

		FUZZ_CHECK(a->status == CONN_AM_FIRING || a->status == CONN_AM_RESOLVED);
		check_set(&a->labels, l);
		check_set(&a->annotations, l);
		check_str(a->starts_at, l);
		check_str(a->ends_at, l);
		check_str(a->generator_url, l);
		check_str(a->fingerprint, l);
		FUZZ_CHECK(!a->has_starts || a->starts_at[0]);
		FUZZ_CHECK(!a->has_ends || a->ends_at[0]);
	}
}

static int same_set(const struct conn_am_labels *a, const struct conn_am_labels *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->kv[i].name, b->kv[i].name) || strcmp(a->kv[i].value, b->kv[i].value))
			return 0;
	return 1;
}

static void check_same(const struct conn_am_payload *a, const struct conn_am_payload *b)
{
	FUZZ_CHECK(a->status == b->status && !strcmp(a->receiver, b->receiver) &&
		   !strcmp(a->group_key, b->group_key) && a->nalerts == b->nalerts);
	for (size_t i = 0; i < a->nalerts; i++) {
		const struct conn_am_alert *x = &a->alerts[i], *y = &b->alerts[i];

		FUZZ_CHECK(x->status == y->status && same_set(&x->labels, &y->labels) &&
			   same_set(&x->annotations, &y->annotations) &&
			   x->has_starts == y->has_starts && x->starts_ms == y->starts_ms &&
			   x->has_ends == y->has_ends && x->ends_ms == y->ends_ms &&
			   !strcmp(x->fingerprint, y->fingerprint));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conn_am_limits lim[2];
	struct conn_am_payload *p[2];
	char reason[256], text[1025], err[256];
	struct conn_am_selector *sel;

	conn_am_limits_default(&lim[0]);
	lim[1].max_alerts = 2;
	lim[1].max_labels = 3;
	lim[1].max_string = 8;
	for (int k = 0; k < 2; k++) {
		enum conn_am_reject r =
		    conn_am_parse((const char *)data, size, &lim[k], &p[k], reason, sizeof reason);

		FUZZ_CHECK((unsigned)r < CONN_AM_REJECT_COUNT);
		FUZZ_CHECK((r == CONN_AM_OK) == (p[k] != NULL));
		FUZZ_CHECK((r == CONN_AM_OK) == (reason[0] == '\0'));
		if (p[k])
			check_payload(p[k], &lim[k]);
	}
	if (p[1]) {
		FUZZ_CHECK(p[0] != NULL);
		check_same(p[0], p[1]);
	}

	size = size < sizeof text - 1 ? size : sizeof text - 1;
	memcpy(text, data, size);
	text[size] = '\0';
	sel = conn_am_selector_new(text, err, sizeof err);
	if (sel) {
		for (size_t i = 0; p[0] && i < p[0]->nalerts; i++) {
			int m = conn_am_match(sel, &p[0]->alerts[i]);
			FUZZ_CHECK(m == 0 || m == 1);
		}
		conn_am_selector_free(sel);
	} else {
		FUZZ_CHECK(err[0] != '\0');
	}
	conn_am_payload_free(p[0]);
	conn_am_payload_free(p[1]);
	return 0;
}

/* ---- seeds ---- */

static const char *const seeds[] = {
	/* Alertmanager 0.25, one P0 alert */
	"{\"receiver\":\"driftd\",\"status\":\"firing\",\"alerts\":[{\"status\":\"firing\","
	"\"labels\":{\"alertname\":\"FraudModelErrors\",\"severity\":\"P0\",\"model\":\"fraud\"},"
	"\"annotations\":{\"summary\":\"5xx\"},\"startsAt\":\"2026-11-26T21:14:00.123456789Z\","
	"\"endsAt\":\"0001-01-01T00:00:00Z\",\"generatorURL\":\"http://p:9090/graph\","
	"\"fingerprint\":\"1a30ba71cca2921f\"}],\"groupLabels\":{\"alertname\":"
	"\"FraudModelErrors\"},"
	"\"commonLabels\":{\"severity\":\"P0\"},\"commonAnnotations\":{},\"externalURL\":"
	"\"http://am:9093\",\"version\":\"4\",\"groupKey\":\"{}:{alertname=\\\"F\\\"}\","
	"\"truncatedAlerts\":0}",
	/* resolved, with an offset */
	"{\"version\":\"4\",\"groupKey\":\"k\",\"status\":\"resolved\",\"receiver\":\"r\","
	"\"alerts\":[{\"status\":\"resolved\",\"labels\":{\"a\":\"b\"},\"startsAt\":"
	"\"2018-08-03T09:52:26.739+02:00\",\"endsAt\":\"2018-08-03T10:00:00-05:30\"}]}",
	/* minimal, short enough for the tight limits */
	"{\"version\":\"4\",\"status\":\"firing\",\"receiver\":\"r\",\"groupKey\":\"k\","
	"\"alerts\":[{\"status\":\"firing\",\"labels\":{\"s\":\"P0\"}}]}",
	/* nulls and unknown keys */
	"{\"version\":\"4\",\"orgId\":1,\"status\":\"firing\",\"receiver\":\"r\",\"groupKey\":"
	"\"k\","
	"\"externalURL\":null,\"truncatedAlerts\":null,\"alerts\":[{\"status\":\"firing\","
	"\"labels\":{},\"annotations\":null,\"values\":{\"B\":1.5}}]}",
	/* rejections */
	"{\"version\":\"3\",\"status\":\"firing\"}",
	"{\"version\":\"4\",\"status\":\"pending\",\"receiver\":\"r\",\"groupKey\":\"k\","
	"\"alerts\":[]}",
	"{\"version\":\"4\",\"status\":\"firing\",\"receiver\":\"r\",\"groupKey\":\"k\","
	"\"alerts\":[{\"status\":\"firing\",\"labels\":{\"a\":1,\"a\":2}}]}",
	"{\"version\":\"4\",\"status\":\"firing\",\"receiver\":\"r\",\"groupKey\":\"k\","
	"\"alerts\":[{\"status\":\"firing\",\"labels\":{\"a\":\"b\"},\"startsAt\":\"2023-02-29T00:"
	"00:00Z\"}]}",
	"[{\"labels\":{\"alertname\":\"x\"}}]",
	/* selectors */
	"severity=\"P0\"",
	"{severity=\"P0\", team!=\"\", model=fraud}",
	"severity=~\"P0|P1\"",
	"a=\"\\\"\\\\\\n\",b!=c,",
};

size_t fuzz_seed(uint8_t *buf, size_t cap, unsigned i)
{
	return fuzz_seed_string(seeds, sizeof seeds / sizeof *seeds, buf, cap, i);
}

/*
 * store_suite.h -- the behaviour every store backend owes store.h, as cmocka tests that know
 * nothing of the backend: a test file includes this header (after testutil.h), gives each test a
 * fixture that starts with struct suite_fx (an empty store, open, and the spec that opens it
 * again), and lists SUITE_TESTS("name: ", setup, teardown) in its test array.
 *
 * Covered: every call and its not-found path, registration order within one millisecond and
 * across pages, the refusal of a second registration, hostile and colliding names (every name
 * comes back, distinct), binary values, history order and paging, claims, invalid names and the
 * error kept on the handle, and processes racing for one claim and one registration or reading
 * while another writes (a reader sees the old or the new value).
 */
#ifndef DRIFTD_TEST_STORE_SUITE_H
#define DRIFTD_TEST_STORE_SUITE_H

#include "connectors/store.h"

#include <sys/wait.h>
#include <unistd.h>

/* What every suite test finds in *state (the backend's fixture starts with it). */
struct suite_fx {
	char spec[512];	      /* opens the same store again (other handles, other processes) */
	struct conn_store *s; /* an open handle on an empty store */
};

/* ---- helpers ---- */

/* Collected names (versions or models). */
struct suite_vl {
	char name[64][300];
	int64_t ms[64];
	int n;
	int stop_after; /* 0: never */
};

static int suite_collect_version(void *arg, const char *version, int64_t ms)
{
	struct suite_vl *l = arg;

	assert_true(l->n < 64);
	snprintf(l->name[l->n], sizeof l->name[0], "%s", version);
	l->ms[l->n++] = ms;
	return l->stop_after && l->n >= l->stop_after;
}

static int suite_collect_model(void *arg, const char *model)
{
	return suite_collect_version(arg, model, 0);
}

/* Collected history entries. */
struct suite_el {
	char doc[8][128];
	int n;
	int stop_after;
};

static int suite_collect_entry(void *arg, const char *doc, size_t len)
{
	struct suite_el *l = arg;

	assert_true(l->n < 8);
	assert_int_equal(strlen(doc), len);
	snprintf(l->doc[l->n++], sizeof l->doc[0], "%s", doc);
	return l->stop_after && l->n >= l->stop_after;
}

static void suite_put_version(struct conn_store *s, const char *m, const char *v, int64_t ms)
{
	char doc[512];

	snprintf(doc, sizeof doc, "{\"version\":\"%.400s\"}", v);
	if (conn_store_version_put(s, m, v, doc, strlen(doc), ms) != 0)
		fail_msg("version_put: %s", conn_store_error(s));
}

/* ---- version registry ---- */

static void suite_versions(void **state)
{
	struct suite_fx *f = *state;
	struct conn_blob b = { 0 };
	struct suite_vl l = { 0 };

	/* nothing yet */
	assert_int_equal(conn_store_version_get(f->s, "fraud", "v1", &b), 1);
	assert_int_equal(conn_store_versions(f->s, "fraud", suite_collect_version, &l), 0);
	assert_int_equal(l.n, 0);

	/* registration order is exact within one millisecond, whatever the names */
	suite_put_version(f->s, "fraud", "v2", 1000);
	suite_put_version(f->s, "fraud", "v10", 1000);
	suite_put_version(f->s, "fraud", "a", 1000);
	/* a clock that went back: still registration order */
	suite_put_version(f->s, "fraud", "v1", 999);
	assert_int_equal(conn_store_versions(f->s, "fraud", suite_collect_version, &l), 0);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.name[0], "v2");
	assert_string_equal(l.name[1], "v10");
	assert_string_equal(l.name[2], "a");
	assert_string_equal(l.name[3], "v1");
	assert_true(l.ms[0] == 1000 && l.ms[2] == 1000 && l.ms[3] == 999);

	/* early stop */
	memset(&l, 0, sizeof l);
	l.stop_after = 2;
	assert_int_equal(conn_store_versions(f->s, "fraud", suite_collect_version, &l), 0);
	assert_int_equal(l.n, 2);

	/* get */
	assert_int_equal(conn_store_version_get(f->s, "fraud", "v10", &b), 0);
	assert_string_equal(b.data, "{\"version\":\"v10\"}");
	assert_int_equal(b.len, strlen(b.data));
	free(b.data);
	assert_int_equal(conn_store_version_get(f->s, "fraud", "v3", &b), 1);
	assert_int_equal(conn_store_version_get(f->s, "other", "v1", &b), 1);

	/* a second registration is refused and changes nothing */
	assert_int_equal(conn_store_version_put(f->s, "fraud", "v2", "{}", 2, 5000), 2);
	assert_int_equal(conn_store_version_get(f->s, "fraud", "v2", &b), 0);
	assert_string_equal(b.data, "{\"version\":\"v2\"}");
	free(b.data);
	memset(&l, 0, sizeof l);
	assert_int_equal(conn_store_versions(f->s, "fraud", suite_collect_version, &l), 0);
	assert_int_equal(l.n, 4);
	assert_true(l.ms[0] == 1000);

	/* negative and large registration times come back as they were */
	suite_put_version(f->s, "times", "neg", -5);
	suite_put_version(f->s, "times", "big", INT64_MAX);
	memset(&l, 0, sizeof l);
	assert_int_equal(conn_store_versions(f->s, "times", suite_collect_version, &l), 0);
	assert_int_equal(l.n, 2);
	assert_true(l.ms[0] == -5 && l.ms[1] == INT64_MAX);

	/* invalid names */
	assert_int_equal(conn_store_version_put(f->s, "", "v1", "{}", 2, 0), -1);
	assert_non_null(strstr(conn_store_error(f->s), "model name"));
	{
		char longname[130];

		memset(longname, 'x', 129);
		longname[129] = '\0';
		assert_int_equal(conn_store_version_get(f->s, "fraud", longname, &b), -1);
		longname[128] = '\0'; /* 128 bytes is fine */
		assert_int_equal(conn_store_version_get(f->s, "fraud", longname, &b), 1);
		assert_string_equal(conn_store_error(f->s), "");
	}
}

/* Checks the order of many registrations, across the pages a backend may read them in. */
struct suite_count {
	int n;
	int bad; /* first out-of-order index + 1; 0 when in order */
	int stop_after;
};

static int suite_count_version(void *arg, const char *version, int64_t ms)
{
	struct suite_count *c = arg;
	char want[32];

	snprintf(want, sizeof want, "v%04d", c->n);
	if (!c->bad && (strcmp(version, want) != 0 || ms != 7))
		c->bad = c->n + 1;
	c->n++;
	return c->stop_after && c->n >= c->stop_after;
}

static void suite_many_versions(void **state)
{
	struct suite_fx *f = *state;
	struct suite_count c = { 0 };
	enum { N = 1203 };

	for (int i = 0; i < N; i++) {
		char v[32];

		snprintf(v, sizeof v, "v%04d", i);
		if (conn_store_version_put(f->s, "many", v, "{}", 2, 7) != 0)
			fail_msg("version_put %s: %s", v, conn_store_error(f->s));
	}
	assert_int_equal(conn_store_versions(f->s, "many", suite_count_version, &c), 0);
	assert_int_equal(c.bad, 0);
	assert_int_equal(c.n, N);
	memset(&c, 0, sizeof c);
	c.stop_after = 777; /* a stop in the middle of a later page */
	assert_int_equal(conn_store_versions(f->s, "many", suite_count_version, &c), 0);
	assert_int_equal(c.bad, 0);
	assert_int_equal(c.n, 777);
}

static void suite_models(void **state)
{
	struct suite_fx *f = *state;
	struct suite_vl l = { 0 };

	assert_int_equal(conn_store_models(f->s, suite_collect_model, &l), 0);
	assert_int_equal(l.n, 0);
	suite_put_version(f->s, "b", "v1", 1);
	suite_put_version(f->s, "a", "v1", 1);
	suite_put_version(f->s, "a", "v2", 2);
	/* state without any version: not a model */
	assert_int_equal(conn_store_hold_set(f->s, "c", 1), 0);
	assert_int_equal(conn_store_history_append(f->s, "d", "{}", 2), 0);
	assert_int_equal(conn_store_baseline_put(f->s, "e", "v1", "{}", 2), 0);
	assert_int_equal(conn_store_models(f->s, suite_collect_model, &l), 0);
	assert_int_equal(l.n, 2);
	assert_true((!strcmp(l.name[0], "a") && !strcmp(l.name[1], "b")) ||
		    (!strcmp(l.name[0], "b") && !strcmp(l.name[1], "a")));
	memset(&l, 0, sizeof l);
	l.stop_after = 1;
	assert_int_equal(conn_store_models(f->s, suite_collect_model, &l), 0);
	assert_int_equal(l.n, 1);
}

/* ---- names ---- */

/* Names that break naive encodings: path syntax, percent signs, the braces of Redis hash tags,
 * the separators of a key layout, control bytes, UTF-8, and the longest legal names. */
static const char *suite_hostile[] = {
	"../x",
	"a/b",
	".",
	"..",
	".hidden",
	"%2E",
	"x%",
	"sp ace",
	"tab\there",
	"new\nline",
	"mod\xc3\xa8le-\xc3\xbc/\xe6\x97\xa5\xe6\x9c\xac",
	"}",
	"{",
	"a}b",
	"%7D",
	"%25",
	"{x}",
	"x}:good",
	"*",
	"?[a]",
	"\x01\x7f\xff",
};
#define SUITE_NHOSTILE (sizeof suite_hostile / sizeof suite_hostile[0] + 3)

/* The hostile names, plus 128 'L', 128 '/' and 42 three-byte characters, into names[]. */
static void suite_hostile_names(const char *names[SUITE_NHOSTILE], char longname[129],
				char slashes[129], char utf[129])
{
	size_t i = 0;

	memset(longname, 'L', 128);
	longname[128] = '\0';
	memset(slashes, '/', 128);
	slashes[128] = '\0';
	utf[0] = '\0';
	for (int k = 0; k < 42; k++) /* 126 bytes */
		strcat(utf, "\xe6\x97\xa5");
	for (; i < sizeof suite_hostile / sizeof suite_hostile[0]; i++)
		names[i] = suite_hostile[i];
	names[i++] = longname;
	names[i++] = slashes;
	names[i++] = utf;
}

/* Stores every kind of state under each hostile name (as model, version and claim id) and
 * checks that every name comes back, distinct. */
static void suite_names_roundtrip(struct conn_store *s)
{
	char longname[129], slashes[129], utf[129];
	const char *names[SUITE_NHOSTILE];
	const size_t n = SUITE_NHOSTILE;
	struct suite_vl l = { 0 };
	struct conn_blob b = { 0 };

	suite_hostile_names(names, longname, slashes, utf);
	for (size_t i = 0; i < n; i++) {
		suite_put_version(s, names[i], names[i], (int64_t)i);
		assert_int_equal(
		    conn_store_baseline_put(s, names[i], names[i], names[i], strlen(names[i])), 0);
		assert_int_equal(conn_store_latch_set(s, names[i], names[i], 1), 0);
		assert_int_equal(conn_store_good_set(s, names[i], names[i]), 0);
		assert_int_equal(conn_store_hold_set(s, names[i], (int)(i % 2)), 0);
		assert_int_equal(conn_store_history_append(s, names[i], "{}", 2), 0);
		assert_int_equal(conn_store_claim(s, names[i]), 0);
		assert_int_equal(conn_store_claim(s, names[i]), 1);
	}
	for (size_t i = 0; i < n; i++) {
		struct suite_el el = { 0 };
		int on = 0;

		memset(&l, 0, sizeof l);
		assert_int_equal(conn_store_versions(s, names[i], suite_collect_version, &l), 0);
		assert_int_equal(l.n, 1);
		assert_string_equal(l.name[0], names[i]);
		assert_int_equal(l.ms[0], (int64_t)i);
		assert_int_equal(conn_store_good_get(s, names[i], &b), 0);
		assert_string_equal(b.data, names[i]);
		free(b.data);
		assert_int_equal(conn_store_baseline_get(s, names[i], names[i], &b), 0);
		assert_string_equal(b.data, names[i]);
		free(b.data);
		assert_int_equal(conn_store_latch_get(s, names[i], names[i], &on), 0);
		assert_int_equal(on, 1);
		assert_int_equal(conn_store_hold_get(s, names[i], &on), 0);
		assert_int_equal(on, (int)(i % 2));
		assert_int_equal(conn_store_history(s, names[i], suite_collect_entry, &el), 0);
		assert_int_equal(el.n, 1);
	}
	memset(&l, 0, sizeof l);
	assert_int_equal(conn_store_models(s, suite_collect_model, &l), 0);
	assert_int_equal(l.n, (int)n);
	for (size_t i = 0; i < n; i++) {
		int found = 0;

		for (int k = 0; k < l.n; k++)
			found += strcmp(l.name[k], names[i]) == 0;
		if (found != 1)
			fail_msg("model %zu listed %d times", i, found);
	}
}

static void suite_names(void **state)
{
	struct suite_fx *f = *state;

	suite_names_roundtrip(f->s);
}

/* Pairs of names whose state would share a key or a file under a naive layout. */
static void suite_collisions(void **state)
{
	struct suite_fx *f = *state;
	struct conn_blob b = { 0 };
	int on = 7;

	/* "driftd:{a}:baseline:v}:good" for both, were the model not escaped */
	assert_int_equal(conn_store_baseline_put(f->s, "a", "v}:good", "B", 1), 0);
	assert_int_equal(conn_store_good_set(f->s, "a}:baseline:v", "g"), 0);
	assert_int_equal(conn_store_baseline_get(f->s, "a", "v}:good", &b), 0);
	assert_string_equal(b.data, "B");
	free(b.data);
	assert_int_equal(conn_store_good_get(f->s, "a}:baseline:v", &b), 0);
	assert_string_equal(b.data, "g");
	free(b.data);
	/* an escape and what it stands for */
	assert_int_equal(conn_store_hold_set(f->s, "a}", 1), 0);
	assert_int_equal(conn_store_hold_get(f->s, "a%7D", &on), 0);
	assert_int_equal(on, 0);
	assert_int_equal(conn_store_hold_set(f->s, "a%", 1), 0);
	assert_int_equal(conn_store_hold_get(f->s, "a%25", &on), 0);
	assert_int_equal(on, 0);
	/* version and baseline names that look like the other keys of the model */
	suite_put_version(f->s, "m", "s", 1); /* "version:s" next to "versions" */
	suite_put_version(f->s, "m", ":good", 2);
	assert_int_equal(conn_store_good_get(f->s, "m", &b), 1);
	assert_int_equal(conn_store_baseline_get(f->s, "m", "s", &b), 1);
	assert_int_equal(conn_store_version_get(f->s, "m", "s", &b), 0);
	assert_string_equal(b.data, "{\"version\":\"s\"}");
	free(b.data);
	/* a claim id that looks like a model key */
	assert_int_equal(conn_store_claim(f->s, "{m}:good"), 0);
	assert_int_equal(conn_store_good_get(f->s, "m", &b), 1);
	assert_int_equal(conn_store_claim(f->s, "{m}:good"), 1);
}

/* ---- baselines, good, hold, latch ---- */

static void suite_state(void **state)
{
	struct suite_fx *f = *state;
	struct conn_blob b = { 0 };
	int on = 7;

	assert_int_equal(conn_store_baseline_get(f->s, "m", "v1", &b), 1);
	assert_int_equal(conn_store_baseline_put(f->s, "m", "v1", "one", 3), 0);
	assert_int_equal(conn_store_baseline_put(f->s, "m", "v1", "second", 6), 0);
	assert_int_equal(conn_store_baseline_get(f->s, "m", "v1", &b), 0);
	assert_int_equal(b.len, 6);
	assert_string_equal(b.data, "second");
	free(b.data);
	assert_int_equal(conn_store_baseline_get(f->s, "m", "v2", &b), 1);
	/* an empty value */
	assert_int_equal(conn_store_baseline_put(f->s, "m", "v3", "", 0), 0);
	assert_int_equal(conn_store_baseline_get(f->s, "m", "v3", &b), 0);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	free(b.data);

	assert_int_equal(conn_store_good_get(f->s, "m", &b), 1);
	assert_int_equal(conn_store_good_set(f->s, "m", "v1"), 0);
	assert_int_equal(conn_store_good_set(f->s, "m", "v2"), 0);
	assert_int_equal(conn_store_good_get(f->s, "m", &b), 0);
	assert_string_equal(b.data, "v2");
	free(b.data);
	assert_int_equal(conn_store_good_get(f->s, "nomodel", &b), 1);

	assert_int_equal(conn_store_hold_get(f->s, "m", &on), 0);
	assert_int_equal(on, 0);
	assert_int_equal(conn_store_hold_set(f->s, "m", 1), 0);
	assert_int_equal(conn_store_hold_get(f->s, "m", &on), 0);
	assert_int_equal(on, 1);
	assert_int_equal(conn_store_hold_get(f->s, "other", &on), 0);
	assert_int_equal(on, 0);
	assert_int_equal(conn_store_hold_set(f->s, "m", 0), 0);
	assert_int_equal(conn_store_hold_get(f->s, "m", &on), 0);
	assert_int_equal(on, 0);
	assert_int_equal(conn_store_hold_set(f->s, "m", 0), 0); /* releasing twice is fine */

	on = 7;
	assert_int_equal(conn_store_latch_get(f->s, "m", "v1", &on), 0);
	assert_int_equal(on, 0);
	assert_int_equal(conn_store_latch_set(f->s, "m", "v1", 1), 0);
	assert_int_equal(conn_store_latch_set(f->s, "m", "v1", 1), 0);
	assert_int_equal(conn_store_latch_get(f->s, "m", "v1", &on), 0);
	assert_int_equal(on, 1);
	assert_int_equal(conn_store_latch_get(f->s, "m", "v2", &on), 0);
	assert_int_equal(on, 0);
	assert_int_equal(conn_store_latch_set(f->s, "m", "v1", 0), 0);
	assert_int_equal(conn_store_latch_get(f->s, "m", "v1", &on), 0);
	assert_int_equal(on, 0);
	assert_int_equal(conn_store_latch_set(f->s, "m", "v9", 0), 0);
}

/* Values are bytes: NULs, every byte value, and a few MiB come back exactly. */
static void suite_binary_values(void **state)
{
	struct suite_fx *f = *state;
	const size_t big = (size_t)9 << 20;
	char *v = malloc(big);
	struct conn_blob b = { 0 };

	assert_non_null(v);
	for (size_t i = 0; i < big; i++)
		v[i] = (char)(i * 7 + i / 256);
	assert_int_equal(conn_store_baseline_put(f->s, "m", "v", v, 256), 0);
	assert_int_equal(conn_store_baseline_get(f->s, "m", "v", &b), 0);
	assert_int_equal(b.len, 256);
	assert_memory_equal(b.data, v, 256);
	assert_int_equal(b.data[256], '\0');
	free(b.data);
	assert_int_equal(conn_store_version_put(f->s, "m", "v", "a\0b", 3, 1), 0);
	assert_int_equal(conn_store_version_get(f->s, "m", "v", &b), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "a\0b", 3);
	free(b.data);
	assert_int_equal(conn_store_baseline_put(f->s, "m", "big", v, big), 0);
	assert_int_equal(conn_store_baseline_get(f->s, "m", "big", &b), 0);
	assert_int_equal(b.len, big);
	assert_true(memcmp(b.data, v, big) == 0);
	free(b.data);
	free(v);
}

/* ---- history and claims ---- */

static void suite_history(void **state)
{
	struct suite_fx *f = *state;
	struct suite_el l = { 0 };

	assert_int_equal(conn_store_history(f->s, "m", suite_collect_entry, &l), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(conn_store_history_append(f->s, "m", "{\"n\":1}", 7), 0);
	assert_int_equal(conn_store_history_append(f->s, "m", "{\"n\":2}", 7), 0);
	assert_int_equal(conn_store_history_append(f->s, "m", "{\"n\":3}xx", 7),
			 0); /* len counts */
	assert_int_equal(conn_store_history_append(f->s, "other", "{\"o\":1}", 7), 0);
	assert_int_equal(conn_store_history(f->s, "m", suite_collect_entry, &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.doc[0], "{\"n\":1}");
	assert_string_equal(l.doc[1], "{\"n\":2}");
	assert_string_equal(l.doc[2], "{\"n\":3}");
	memset(&l, 0, sizeof l);
	l.stop_after = 1;
	assert_int_equal(conn_store_history(f->s, "m", suite_collect_entry, &l), 0);
	assert_int_equal(l.n, 1);

	/* one line, not empty, no NUL */
	assert_int_equal(conn_store_history_append(f->s, "m", "{\n}", 3), -1);
	assert_int_equal(conn_store_history_append(f->s, "m", "", 0), -1);
	assert_int_equal(conn_store_history_append(f->s, "m", "a\0b", 3), -1);
	memset(&l, 0, sizeof l);
	assert_int_equal(conn_store_history(f->s, "m", suite_collect_entry, &l), 0);
	assert_int_equal(l.n, 3);
}

/* Checks a long history: entries "{\"i\":N}" in order. */
static int suite_count_entry(void *arg, const char *doc, size_t len)
{
	struct suite_count *c = arg;
	char want[32];

	snprintf(want, sizeof want, "{\"i\":%d}", c->n);
	if (!c->bad && (strlen(want) != len || strcmp(doc, want) != 0))
		c->bad = c->n + 1;
	c->n++;
	return c->stop_after && c->n >= c->stop_after;
}

static void suite_long_history(void **state)
{
	struct suite_fx *f = *state;
	struct suite_count c = { 0 };
	enum { N = 1501 };

	for (int i = 0; i < N; i++) {
		char doc[32];

		snprintf(doc, sizeof doc, "{\"i\":%d}", i);
		if (conn_store_history_append(f->s, "h", doc, strlen(doc)) != 0)
			fail_msg("history_append: %s", conn_store_error(f->s));
	}
	assert_int_equal(conn_store_history(f->s, "h", suite_count_entry, &c), 0);
	assert_int_equal(c.bad, 0);
	assert_int_equal(c.n, N);
	memset(&c, 0, sizeof c);
	c.stop_after = 1000; /* exactly at the end of a page of 500 */
	assert_int_equal(conn_store_history(f->s, "h", suite_count_entry, &c), 0);
	assert_int_equal(c.n, 1000);
}

static void suite_claims(void **state)
{
	struct suite_fx *f = *state;
	char id[1026];

	assert_int_equal(conn_store_claim(f->s, "fraud/v2.4.0/1795730040000"), 0);
	assert_int_equal(conn_store_claim(f->s, "fraud/v2.4.0/1795730040000"), 1);
	assert_int_equal(conn_store_claim(f->s, "fraud/v2.4.0/1795730100000"), 0);
	assert_int_equal(conn_store_claim(f->s, "fraud/v2.4.0/1795730040000"), 1);
	/* long ids: still distinct */
	memset(id, 'i', 1024);
	id[1024] = '\0';
	assert_int_equal(conn_store_claim(f->s, id), 0);
	assert_int_equal(conn_store_claim(f->s, id), 1);
	id[1023] = 'j';
	assert_int_equal(conn_store_claim(f->s, id), 0);
	id[1024] = 'k';
	id[1025] = '\0';
	assert_int_equal(conn_store_claim(f->s, id), -1); /* 1025 bytes */
	assert_int_equal(conn_store_claim(f->s, ""), -1);
	assert_non_null(strstr(conn_store_error(f->s), "claim id"));
	/* a second handle sees the same claims */
	{
		char err[256];
		struct conn_store *s2 = conn_store_open(f->spec, err, sizeof err);

		if (!s2)
			fail_msg("open: %s", err);
		assert_int_equal(conn_store_claim(s2, "fraud/v2.4.0/1795730100000"), 1);
		conn_store_close(s2);
	}
}

/* ---- errors ---- */

static void suite_errors(void **state)
{
	struct suite_fx *f = *state;
	struct conn_blob b = { 0 };
	struct suite_vl l = { 0 };
	char first[512], name129[130];
	int on = 7;

	memset(name129, 'n', 129);
	name129[129] = '\0';
	assert_string_equal(conn_store_error(f->s), "");
	assert_int_equal(conn_store_version_put(f->s, "", "v1", "{}", 2, 1), -1);
	snprintf(first, sizeof first, "%s", conn_store_error(f->s));
	assert_non_null(strstr(first, "model name"));
	/* first error wins */
	assert_int_equal(conn_store_claim(f->s, ""), -1);
	assert_int_equal(conn_store_version_put(f->s, "m", "", "{}", 2, 1), -1);
	assert_int_equal(conn_store_version_get(f->s, name129, "v", &b), -1);
	assert_int_equal(conn_store_versions(f->s, "", suite_collect_version, &l), -1);
	assert_int_equal(conn_store_baseline_put(f->s, "m", name129, "{}", 2), -1);
	assert_int_equal(conn_store_baseline_get(f->s, "", "v", &b), -1);
	assert_int_equal(conn_store_good_set(f->s, "m", ""), -1);
	assert_int_equal(conn_store_good_get(f->s, "", &b), -1);
	assert_int_equal(conn_store_hold_set(f->s, "", 1), -1);
	assert_int_equal(conn_store_hold_get(f->s, name129, &on), -1);
	assert_int_equal(on, 0);
	assert_int_equal(conn_store_latch_set(f->s, "m", "", 1), -1);
	on = 7;
	assert_int_equal(conn_store_latch_get(f->s, "", "v", &on), -1);
	assert_int_equal(on, 0);
	assert_int_equal(conn_store_history_append(f->s, "", "{}", 2), -1);
	assert_int_equal(conn_store_history(f->s, "", suite_collect_entry, NULL), -1);
	assert_string_equal(conn_store_error(f->s), first);
	assert_null(b.data);
	assert_int_equal(l.n, 0);
	/* a call that succeeds (not found) clears it */
	assert_int_equal(conn_store_baseline_get(f->s, "m", "v1", &b), 1);
	assert_string_equal(conn_store_error(f->s), "");
	assert_int_equal(conn_store_claim(f->s, ""), -1);
	assert_non_null(strstr(conn_store_error(f->s), "claim id"));
	assert_int_equal(conn_store_models(f->s, suite_collect_model, &l), 0);
	assert_string_equal(conn_store_error(f->s), "");
}

/* ---- processes ---- */

/* Processes racing for one claim and one registration: exactly one wins each. */
static void suite_races(void **state)
{
	struct suite_fx *f = *state;
	enum { N = 8 };
	pid_t pid[N];
	int claimed = 0, registered = 0;

	for (int i = 0; i < N; i++) {
		pid[i] = fork();
		assert_true(pid[i] >= 0);
		if (pid[i] == 0) { /* no cmocka in here: exit codes only */
			char err[256], v[16];
			struct conn_store *s = conn_store_open(f->spec, err, sizeof err);
			int c, r;

			if (!s)
				_exit(100);
			snprintf(v, sizeof v, "p%d", i);
			c = conn_store_claim(s, "race/v1/0");
			r = conn_store_version_put(s, "race", "v1", v, strlen(v), i);
			conn_store_version_put(s, "race", v, v, strlen(v), i);
			conn_store_close(s);
			_exit((c == 0 ? 1 : c == 1 ? 0 : 50) + (r == 0 ? 2 : r == 2 ? 0 : 50));
		}
	}
	for (int i = 0; i < N; i++) {
		int st = 0;

		assert_int_equal(waitpid(pid[i], &st, 0), pid[i]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) < 4);
		claimed += WEXITSTATUS(st) & 1;
		registered += (WEXITSTATUS(st) >> 1) & 1;
	}
	assert_int_equal(claimed, 1);
	assert_int_equal(registered, 1);
	{
		struct suite_vl l = { 0 };

		assert_int_equal(conn_store_versions(f->s, "race", suite_collect_version, &l), 0);
		assert_int_equal(l.n, N + 1);
	}
}

/* A reader never sees a torn value while another process rewrites it. */
static void suite_atomic_put(void **state)
{
	struct suite_fx *f = *state;
	const size_t na = 300000, nb = 100000;
	char *a = malloc(na), *bb = malloc(nb);
	struct conn_blob b = { 0 };
	pid_t pid;
	int st = 0, seen_a = 0, seen_b = 0;

	assert_non_null(a);
	assert_non_null(bb);
	memset(a, 'a', na);
	memset(bb, 'b', nb);
	assert_int_equal(conn_store_baseline_put(f->s, "m", "v", a, na), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[256];
		struct conn_store *s = conn_store_open(f->spec, err, sizeof err);

		for (int i = 0; s && i < 300; i++)
			if (conn_store_baseline_put(s, "m", "v", i % 2 ? a : bb, i % 2 ? na : nb))
				_exit(1);
		conn_store_close(s);
		_exit(s ? 0 : 2);
	}
	for (int i = 0; i < 2000; i++) {
		assert_int_equal(conn_store_baseline_get(f->s, "m", "v", &b), 0);
		if (b.len == na && memcmp(b.data, a, na) == 0)
			seen_a++;
		else if (b.len == nb && memcmp(b.data, bb, nb) == 0)
			seen_b++;
		else
			fail_msg("torn read: %zu bytes", b.len);
		free(b.data);
		if (waitpid(pid, &st, WNOHANG) == pid) {
			pid = 0;
			break;
		}
	}
	if (pid)
		assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_true(seen_a + seen_b > 0);
	free(a);
	free(bb);
}

/* ---- the list ---- */

#define SUITE_TEST(prefix, fn, setup, teardown)                                                    \
	{                                                                                          \
		prefix #fn, fn, setup, teardown, NULL                                              \
	}

/* Every suite test, named prefix + function, each on a fresh store from setup. */
#define SUITE_TESTS(prefix, setup, teardown)                                                       \
	SUITE_TEST(prefix, suite_versions, setup, teardown),                                       \
	    SUITE_TEST(prefix, suite_many_versions, setup, teardown),                              \
	    SUITE_TEST(prefix, suite_models, setup, teardown),                                     \
	    SUITE_TEST(prefix, suite_names, setup, teardown),                                      \
	    SUITE_TEST(prefix, suite_collisions, setup, teardown),                                 \
	    SUITE_TEST(prefix, suite_state, setup, teardown),                                      \
	    SUITE_TEST(prefix, suite_binary_values, setup, teardown),                              \
	    SUITE_TEST(prefix, suite_history, setup, teardown),                                    \
	    SUITE_TEST(prefix, suite_long_history, setup, teardown),                               \
	    SUITE_TEST(prefix, suite_claims, setup, teardown),                                     \
	    SUITE_TEST(prefix, suite_errors, setup, teardown),                                     \
	    SUITE_TEST(prefix, suite_races, setup, teardown),                                      \
	    SUITE_TEST(prefix, suite_atomic_put, setup, teardown)

#endif

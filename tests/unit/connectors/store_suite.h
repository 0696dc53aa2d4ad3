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
 * while another writes (a reader sees the old or the new value); the checkpoints, their point
 * reads (one pair state, one stream offset) and their locks.
 */
#ifndef DRIFTD_TEST_STORE_SUITE_H
#define DRIFTD_TEST_STORE_SUITE_H

#include "connectors/store.h"

#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* What every suite test finds in *state (the backend's fixture starts with it). */
struct suite_fx {
	char spec[512];	      /* opens the same store again (other handles, other processes) */
	struct conn_store *s; /* an open handle on an empty store */
	/* makes every checkpoint read of the store fail from now on, until the test's end (Redis:
	 * the server killed; dir: the checkpoint files made unreadable); NULL: not testable */
	void (*cut)(struct suite_fx *f);
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

/* ---- prefix, ping, pending events ---- */

/* Collected entries of the listings added with the checkpoints: keys (window keys, stream
 * names, pair keys, instance names, event ids), names (event models), blobs and offsets, each a
 * malloc'd copy (free with suite_kv_free). */
#define SUITE_KV_MAX 64
struct suite_kv {
	int n;
	int stop_after; /* 0: never */
	char *key[SUITE_KV_MAX];
	size_t klen[SUITE_KV_MAX];
	char *name[SUITE_KV_MAX];
	char *blob[SUITE_KV_MAX];
	size_t blen[SUITE_KV_MAX];
	int64_t v[SUITE_KV_MAX][3];
};

static char *suite_dup(const char *p, size_t n)
{
	char *d = malloc(n + 1);

	assert_non_null(d);
	if (n)
		memcpy(d, p, n);
	d[n] = '\0';
	return d;
}

static void suite_kv_free(struct suite_kv *l)
{
	for (int i = 0; i < l->n; i++) {
		free(l->key[i]);
		free(l->name[i]);
		free(l->blob[i]);
	}
	memset(l, 0, sizeof *l);
}

/* Adds one entry; non-zero when the listing should stop. */
static int suite_kv_add(struct suite_kv *l, const char *k, size_t kl, const char *name,
			const char *b, size_t bl)
{
	assert_true(l->n < SUITE_KV_MAX);
	l->key[l->n] = suite_dup(k, kl);
	l->klen[l->n] = kl;
	l->name[l->n] = name ? suite_dup(name, strlen(name)) : NULL;
	l->blob[l->n] = b ? suite_dup(b, bl) : NULL;
	l->blen[l->n] = bl;
	l->n++;
	return l->stop_after && l->n >= l->stop_after;
}

/* The index of key k in l, -1 when absent; fails when it is there twice. */
static int suite_kv_find(const struct suite_kv *l, const char *k, size_t kl)
{
	int at = -1;

	for (int i = 0; i < l->n; i++) {
		if (l->klen[i] == kl && memcmp(l->key[i], k, kl) == 0) {
			if (at >= 0)
				fail_msg("key %.*s listed twice", (int)kl, k);
			at = i;
		}
	}
	return at;
}

static int suite_kv_pending(void *arg, const char *id, const char *model, const char *doc,
			    size_t len)
{
	assert_int_equal(doc[len], '\0');
	return suite_kv_add(arg, id, strlen(id), model, doc, len);
}

static int suite_kv_offset(void *arg, const struct conn_ckpt_offset *o)
{
	struct suite_kv *l = arg;
	int stop = suite_kv_add(l, o->stream, strlen(o->stream), NULL, NULL, 0);

	l->v[l->n - 1][0] = o->next_offset;
	l->v[l->n - 1][1] = o->hwm_ms;
	l->v[l->n - 1][2] = o->updated_ms;
	return stop;
}

static int suite_kv_key(void *arg, const char *key, size_t klen)
{
	return suite_kv_add(arg, key, klen, NULL, NULL, 0);
}

static int suite_kv_blob(void *arg, const char *name, size_t nlen, const char *blob, size_t len)
{
	return suite_kv_add(arg, name, nlen, NULL, blob, len);
}

static void suite_ping(void **state)
{
	struct suite_fx *f = *state;

	assert_int_equal(conn_store_ping(f->s), 0);
	assert_string_equal(conn_store_error(f->s), "");
	assert_int_equal(conn_store_ping(f->s), 0);
}

static void suite_prefix(void **state)
{
	struct suite_fx *f = *state;
	const char *bad[] = { "", "bad prefix", "a{b}:", "x/", "caf\xc3\xa9:", "a\n" };
	char longp[66];
	struct conn_blob b = { 0 };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(conn_store_set_prefix(f->s, bad[i]), -1);
		assert_non_null(strstr(conn_store_error(f->s), "prefix"));
	}
	assert_int_equal(conn_store_set_prefix(f->s, NULL), -1);
	memset(longp, 'p', 65);
	longp[65] = '\0';
	assert_int_equal(conn_store_set_prefix(f->s, longp), -1);
	longp[64] = '\0'; /* 64 bytes is fine */
	assert_int_equal(conn_store_set_prefix(f->s, longp), 0);
	assert_string_equal(conn_store_error(f->s), "");
	assert_int_equal(conn_store_set_prefix(f->s, "Tenant_1.prod-a:driftd:"), 0);
	/* the store works under it */
	suite_put_version(f->s, "m", "v1", 1);
	assert_int_equal(conn_store_version_get(f->s, "m", "v1", &b), 0);
	free(b.data);
	assert_int_equal(conn_store_claim(f->s, "p/1"), 0);
	assert_int_equal(conn_store_claim(f->s, "p/1"), 1);
}

static void suite_pending(void **state)
{
	struct suite_fx *f = *state;
	struct suite_kv l = { 0 };
	const char *ids[] = { "../x", "{x}", "a/b", "\xff", "sp ace", "%7D", "}" };
	char id1[1025], id2[1025];
	int k;

	assert_int_equal(conn_store_pending_list(f->s, suite_kv_pending, &l), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(conn_store_pending_del(f->s, "none"), 0);
	assert_int_equal(conn_store_pending_put(f->s, "fraud/v2/60000", "fraud", "{\"a\":1}", 7),
			 0);
	assert_int_equal(conn_store_pending_put(f->s, "churn/v1/60000", "churn", "{}", 2), 0);
	assert_int_equal(conn_store_pending_list(f->s, suite_kv_pending, &l), 0);
	assert_int_equal(l.n, 2);
	k = suite_kv_find(&l, "fraud/v2/60000", 14);
	assert_true(k >= 0);
	assert_string_equal(l.name[k], "fraud");
	assert_int_equal(l.blen[k], 7);
	assert_memory_equal(l.blob[k], "{\"a\":1}", 7);
	suite_kv_free(&l);

	/* put replaces: model and document; a document is bytes (NUL included) */
	assert_int_equal(conn_store_pending_put(f->s, "fraud/v2/60000", "fraud-2", "a\0b", 3), 0);
	assert_int_equal(conn_store_pending_list(f->s, suite_kv_pending, &l), 0);
	assert_int_equal(l.n, 2);
	k = suite_kv_find(&l, "fraud/v2/60000", 14);
	assert_true(k >= 0);
	assert_string_equal(l.name[k], "fraud-2");
	assert_int_equal(l.blen[k], 3);
	assert_memory_equal(l.blob[k], "a\0b", 3);
	suite_kv_free(&l);

	/* delete, twice */
	assert_int_equal(conn_store_pending_del(f->s, "churn/v1/60000"), 0);
	assert_int_equal(conn_store_pending_del(f->s, "churn/v1/60000"), 0);
	assert_int_equal(conn_store_pending_list(f->s, suite_kv_pending, &l), 0);
	assert_int_equal(l.n, 1);
	suite_kv_free(&l);

	/* hostile and long ids stay distinct; an empty document */
	memset(id1, 'i', 1024);
	id1[1024] = '\0';
	memcpy(id2, id1, sizeof id1);
	id2[1023] = 'j';
	assert_int_equal(conn_store_pending_put(f->s, id1, "m", "1", 1), 0);
	assert_int_equal(conn_store_pending_put(f->s, id2, "m", "", 0), 0);
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
		assert_int_equal(
		    conn_store_pending_put(f->s, ids[i], ids[i], ids[i], strlen(ids[i])), 0);
	assert_int_equal(conn_store_pending_list(f->s, suite_kv_pending, &l), 0);
	assert_int_equal(l.n, 3 + (int)(sizeof ids / sizeof ids[0]));
	k = suite_kv_find(&l, id1, 1024);
	assert_true(k >= 0 && l.blen[k] == 1);
	k = suite_kv_find(&l, id2, 1024);
	assert_true(k >= 0 && l.blen[k] == 0);
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		k = suite_kv_find(&l, ids[i], strlen(ids[i]));
		assert_true(k >= 0);
		assert_string_equal(l.name[k], ids[i]);
		assert_string_equal(l.blob[k], ids[i]);
	}
	suite_kv_free(&l);

	/* early stop */
	l.stop_after = 2;
	assert_int_equal(conn_store_pending_list(f->s, suite_kv_pending, &l), 0);
	assert_int_equal(l.n, 2);
	suite_kv_free(&l);

	/* a second handle sees them */
	{
		char err[256];
		struct conn_store *s2 = conn_store_open(f->spec, err, sizeof err);

		if (!s2)
			fail_msg("open: %s", err);
		assert_int_equal(conn_store_pending_list(s2, suite_kv_pending, &l), 0);
		assert_int_equal(l.n, 3 + (int)(sizeof ids / sizeof ids[0]));
		/* delete them all (what a delivery loop does) */
		for (int i = 0; i < l.n; i++)
			assert_int_equal(conn_store_pending_del(s2, l.key[i]), 0);
		suite_kv_free(&l);
		conn_store_close(s2);
	}
	assert_int_equal(conn_store_pending_list(f->s, suite_kv_pending, &l), 0);
	assert_int_equal(l.n, 0);

	/* invalid arguments */
	assert_int_equal(conn_store_pending_put(f->s, "", "m", "{}", 2), -1);
	assert_non_null(strstr(conn_store_error(f->s), "pending event id"));
	assert_int_equal(conn_store_pending_del(f->s, "ok"), 0);
	{
		char id3[1026];

		memset(id3, 'i', 1025);
		id3[1025] = '\0';
		assert_int_equal(conn_store_pending_put(f->s, id3, "m", "{}", 2), -1);
		assert_int_equal(conn_store_pending_del(f->s, id3), -1);
	}
	assert_int_equal(conn_store_pending_put(f->s, "id", "", "{}", 2), -1);
	assert_int_equal(conn_store_pending_put(f->s, "id", NULL, "{}", 2), -1);
	assert_int_equal(conn_store_pending_put(f->s, "id", "m", NULL, 2), -1);
	assert_int_equal(conn_store_pending_put(f->s, NULL, "m", "{}", 2), -1);
	assert_int_equal(conn_store_pending_list(f->s, NULL, NULL), -1);
	assert_int_equal(conn_store_pending_list(f->s, suite_kv_pending, &l), 0);
	assert_int_equal(l.n, 0);
}

/* The outbox: the claim and the event in one write; a duplicate writes nothing; the pending
 * list gives the claim's event until it is delivered; a stale index entry is removed; a claim
 * made without an event (conn_store_claim, or a driftd before the outbox) with an entry on the
 * pending list is still delivered (the refused events of an earlier version). */
static void suite_outbox(void **state)
{
	struct suite_fx *f = *state;
	struct suite_kv l = { 0 };
	struct conn_blob m, d;
	int k;

	assert_int_equal(conn_store_outbox_get(f->s, "m/v/1", &m, &d), CONN_OUTBOX_NONE);
	assert_null(m.data);
	assert_int_equal(conn_store_outbox_claim(f->s, "m/v/1", "m", "{\"a\":1}", 7), 0);
	/* a second decider (another agent: another source) writes nothing */
	assert_int_equal(conn_store_outbox_claim(f->s, "m/v/1", "m", "{\"b\":22}", 8), 1);
	assert_int_equal(conn_store_claim(f->s, "m/v/1"), 1); /* the same claim space */
	assert_int_equal(conn_store_outbox_get(f->s, "m/v/1", &m, &d), CONN_OUTBOX_PENDING);
	assert_string_equal(m.data, "m");
	assert_int_equal(d.len, 7);
	assert_memory_equal(d.data, "{\"a\":1}", 8); /* followed by its NUL */
	free(m.data);
	free(d.data);
	assert_int_equal(conn_store_pending_list(f->s, suite_kv_pending, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.key[0], "m/v/1");
	assert_string_equal(l.name[0], "m");
	assert_string_equal(l.blob[0], "{\"a\":1}");
	suite_kv_free(&l);

	/* the index written again by another decider's hint cannot change the event */
	assert_int_equal(conn_store_pending_put(f->s, "m/v/1", "m", "{\"b\":22}", 8), 0);
	assert_int_equal(conn_store_pending_list(f->s, suite_kv_pending, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.blob[0], "{\"a\":1}");
	suite_kv_free(&l);

	/* delivered: off the list, still claimed */
	assert_int_equal(conn_store_outbox_done(f->s, "m/v/1"), 0);
	assert_int_equal(conn_store_outbox_get(f->s, "m/v/1", &m, &d), CONN_OUTBOX_DELIVERED);
	assert_null(d.data);
	assert_int_equal(conn_store_outbox_claim(f->s, "m/v/1", "m", "{}", 2), 1);
	assert_int_equal(conn_store_pending_list(f->s, suite_kv_pending, &l), 0);
	assert_int_equal(l.n, 0);
	/* a crash between the "delivered" and the index removal: the listing removes it */
	assert_int_equal(conn_store_pending_put(f->s, "m/v/1", "m", "{}", 2), 0);
	assert_int_equal(conn_store_pending_list(f->s, suite_kv_pending, &l), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(conn_store_pending_list(f->s, suite_kv_pending, &l), 0);
	assert_int_equal(l.n, 0);
	/* done is idempotent */
	assert_int_equal(conn_store_outbox_done(f->s, "m/v/1"), 0);

	/* an earlier version's refused event: claimed without its event, kept on the list */
	assert_int_equal(conn_store_claim(f->s, "old/v/2"), 0);
	assert_int_equal(conn_store_pending_put(f->s, "old/v/2", "old", "{\"o\":1}", 7), 0);
	assert_int_equal(conn_store_outbox_get(f->s, "old/v/2", &m, &d), CONN_OUTBOX_DELIVERED);
	assert_int_equal(conn_store_outbox_claim(f->s, "m/v/3", "m", "x\0y", 3), 0);
	assert_int_equal(conn_store_pending_list(f->s, suite_kv_pending, &l), 0);
	assert_int_equal(l.n, 2);
	k = suite_kv_find(&l, "old/v/2", 7);
	assert_true(k >= 0);
	assert_string_equal(l.blob[k], "{\"o\":1}");
	k = suite_kv_find(&l, "m/v/3", 5);
	assert_true(k >= 0);
	assert_int_equal(l.blen[k], 3);
	assert_memory_equal(l.blob[k], "x\0y", 3); /* bytes, NUL included */
	suite_kv_free(&l);
	assert_int_equal(conn_store_outbox_done(f->s, "old/v/2"), 0);
	assert_int_equal(conn_store_outbox_done(f->s, "m/v/3"), 0);
	assert_int_equal(conn_store_pending_list(f->s, suite_kv_pending, &l), 0);
	assert_int_equal(l.n, 0);

	/* a second handle (another agent) sees the same outbox */
	{
		char err[256];
		struct conn_store *s2 = conn_store_open(f->spec, err, sizeof err);

		if (!s2)
			fail_msg("open: %s", err);
		assert_int_equal(conn_store_outbox_claim(f->s, "m/v/4", "m", "{}", 2), 0);
		assert_int_equal(conn_store_outbox_claim(s2, "m/v/4", "m", "{}", 2), 1);
		assert_int_equal(conn_store_outbox_get(s2, "m/v/4", &m, &d), CONN_OUTBOX_PENDING);
		free(m.data);
		free(d.data);
		assert_int_equal(conn_store_outbox_done(s2, "m/v/4"), 0);
		assert_int_equal(conn_store_outbox_get(f->s, "m/v/4", &m, &d),
				 CONN_OUTBOX_DELIVERED);
		conn_store_close(s2);
	}

	/* invalid arguments */
	assert_int_equal(conn_store_outbox_claim(f->s, "", "m", "{}", 2), -1);
	assert_int_equal(conn_store_outbox_claim(f->s, "i", "", "{}", 2), -1);
	assert_int_equal(conn_store_outbox_claim(f->s, "i", "m", NULL, 2), -1);
	assert_int_equal(conn_store_outbox_get(f->s, NULL, &m, &d), CONN_OUTBOX_ERROR);
	assert_int_equal(conn_store_outbox_done(f->s, ""), -1);
	assert_int_equal(conn_store_outbox_get(f->s, "i", &m, &d), CONN_OUTBOX_NONE);
}

/* The cooldown: none at first, raised only (an older end is ignored), per model, shared by
 * every handle. */
static void suite_cooldown(void **state)
{
	struct suite_fx *f = *state;
	int64_t v = 42;

	assert_int_equal(conn_store_cooldown_get(f->s, "m", &v), 1);
	assert_true(v == 42); /* untouched */
	assert_int_equal(conn_store_cooldown_raise(f->s, "m", 1795730100000LL), 0);
	assert_int_equal(conn_store_cooldown_get(f->s, "m", &v), 0);
	assert_true(v == 1795730100000LL);
	assert_int_equal(conn_store_cooldown_raise(f->s, "m", 1000), 0); /* older: ignored */
	assert_int_equal(conn_store_cooldown_get(f->s, "m", &v), 0);
	assert_true(v == 1795730100000LL);
	assert_int_equal(conn_store_cooldown_raise(f->s, "m", 1795730160000LL), 0);
	assert_int_equal(conn_store_cooldown_get(f->s, "m", &v), 0);
	assert_true(v == 1795730160000LL);
	assert_int_equal(conn_store_cooldown_get(f->s, "other", &v), 1); /* per model */
	assert_int_equal(conn_store_cooldown_raise(f->s, "a/b {c}", -5), 0);
	assert_int_equal(conn_store_cooldown_get(f->s, "a/b {c}", &v), 0);
	assert_true(v == -5);
	{
		char err[256];
		struct conn_store *s2 = conn_store_open(f->spec, err, sizeof err);

		if (!s2)
			fail_msg("open: %s", err);
		assert_int_equal(conn_store_cooldown_get(s2, "m", &v), 0);
		assert_true(v == 1795730160000LL);
		conn_store_close(s2);
	}
	assert_int_equal(conn_store_cooldown_raise(f->s, "", 1), -1);
	assert_int_equal(conn_store_cooldown_get(f->s, "", &v), -1);
}

/* ---- window checkpoints ---- */

static void suite_commit(struct conn_store *s, const char *scope, const struct conn_ckpt *c)
{
	if (conn_store_ckpt_commit(s, scope, c) != 0)
		fail_msg("ckpt_commit %s: %s", scope, conn_store_error(s));
}

static void suite_read_offsets(struct conn_store *s, const char *scope, struct suite_kv *l)
{
	suite_kv_free(l);
	if (conn_store_ckpt_offsets(s, scope, suite_kv_offset, l) != 0)
		fail_msg("ckpt_offsets: %s", conn_store_error(s));
}

static void suite_read_windows(struct conn_store *s, const char *scope, struct suite_kv *l)
{
	suite_kv_free(l);
	if (conn_store_ckpt_windows(s, scope, suite_kv_key, l) != 0)
		fail_msg("ckpt_windows: %s", conn_store_error(s));
}

static void suite_read_partials(struct conn_store *s, const char *scope, const char *key,
				size_t klen, struct suite_kv *l)
{
	suite_kv_free(l);
	if (conn_store_ckpt_partials(s, scope, key, klen, suite_kv_blob, l) != 0)
		fail_msg("ckpt_partials: %s", conn_store_error(s));
}

static void suite_read_states(struct conn_store *s, const char *scope, struct suite_kv *l)
{
	suite_kv_free(l);
	if (conn_store_ckpt_states(s, scope, suite_kv_blob, l) != 0)
		fail_msg("ckpt_states: %s", conn_store_error(s));
}

/* Fails unless l holds key k with blob b (blen bytes). */
static void suite_has(const struct suite_kv *l, const char *k, size_t kl, const char *b, size_t bl)
{
	int i = suite_kv_find(l, k, kl);

	if (i < 0)
		fail_msg("key %.*s missing", (int)kl, k);
	if (l->blen[i] != bl || (bl && memcmp(l->blob[i], b, bl) != 0))
		fail_msg("key %.*s: %zu bytes, expected %zu", (int)kl, k, l->blen[i], bl);
	assert_int_equal(l->blob[i][bl], '\0');
}

#define S(lit) lit, sizeof lit - 1 /* a literal and its length (NULs included) */

/* One commit of everything, read back whole, from this handle and another. */
static void suite_ckpt_roundtrip(void **state)
{
	struct suite_fx *f = *state;
	const struct conn_ckpt_offset offs[] = {
		{ "events/0", 100, 1795730000123, 1795730001000 },
		{ "events/1", 0, -1, 5 },
		{ "events/2", INT64_MAX, INT64_MIN, -7 },
	};
	const struct conn_ckpt_item parts[] = {
		{ S("fraud/v1/60000"), S("P1") },
		{ S("fraud/v1/120000"), S("P2") },
	};
	const struct conn_ckpt_item states[] = {
		{ S("fraud/v1"), S("S1") },
		{ S("churn/v3"), S("S2") },
	};
	const struct conn_ckpt c = { "agent-a", offs, 3, parts, 2, NULL, 0, states, 2 };
	struct suite_kv l = { 0 };
	int i;

	/* nothing yet: no call */
	suite_read_offsets(f->s, "grp", &l);
	assert_int_equal(l.n, 0);
	suite_read_windows(f->s, "grp", &l);
	assert_int_equal(l.n, 0);
	suite_read_partials(f->s, "grp", S("fraud/v1/60000"), &l);
	assert_int_equal(l.n, 0);
	suite_read_states(f->s, "grp", &l);
	assert_int_equal(l.n, 0);

	suite_commit(f->s, "grp", &c);
	for (int h = 0; h < 2; h++) {
		char err[256];
		struct conn_store *s = h == 0 ? f->s : conn_store_open(f->spec, err, sizeof err);

		if (!s)
			fail_msg("open: %s", err);
		suite_read_offsets(s, "grp", &l);
		assert_int_equal(l.n, 3);
		for (int o = 0; o < 3; o++) {
			i = suite_kv_find(&l, offs[o].stream, strlen(offs[o].stream));
			assert_true(i >= 0);
			assert_true(l.v[i][0] == offs[o].next_offset);
			assert_true(l.v[i][1] == offs[o].hwm_ms);
			assert_true(l.v[i][2] == offs[o].updated_ms);
		}
		suite_read_windows(s, "grp", &l);
		assert_int_equal(l.n, 2);
		assert_true(suite_kv_find(&l, S("fraud/v1/60000")) >= 0);
		assert_true(suite_kv_find(&l, S("fraud/v1/120000")) >= 0);
		suite_read_partials(s, "grp", S("fraud/v1/60000"), &l);
		assert_int_equal(l.n, 1);
		suite_has(&l, S("agent-a"), S("P1"));
		suite_read_partials(s, "grp", S("fraud/v1/120000"), &l);
		assert_int_equal(l.n, 1);
		suite_has(&l, S("agent-a"), S("P2"));
		suite_read_partials(s, "grp", S("fraud/v1/180000"), &l);
		assert_int_equal(l.n, 0);
		suite_read_states(s, "grp", &l);
		assert_int_equal(l.n, 2);
		suite_has(&l, S("fraud/v1"), S("S1"));
		suite_has(&l, S("churn/v3"), S("S2"));
		if (h == 1)
			conn_store_close(s);
	}
	assert_string_equal(conn_store_error(f->s), "");

	/* another scope sees nothing of it */
	suite_read_offsets(f->s, "grp2", &l);
	assert_int_equal(l.n, 0);
	suite_read_windows(f->s, "gr", &l);
	assert_int_equal(l.n, 0);
	suite_read_states(f->s, "grpp", &l);
	assert_int_equal(l.n, 0);

	/* early stops */
	suite_kv_free(&l);
	l.stop_after = 1;
	assert_int_equal(conn_store_ckpt_offsets(f->s, "grp", suite_kv_offset, &l), 0);
	assert_int_equal(l.n, 1);
	suite_kv_free(&l);
	l.stop_after = 1;
	assert_int_equal(conn_store_ckpt_windows(f->s, "grp", suite_kv_key, &l), 0);
	assert_int_equal(l.n, 1);
	suite_kv_free(&l);
	l.stop_after = 1;
	assert_int_equal(conn_store_ckpt_states(f->s, "grp", suite_kv_blob, &l), 0);
	assert_int_equal(l.n, 1);
	suite_kv_free(&l);

	/* an empty commit changes nothing */
	{
		const struct conn_ckpt none = { "agent-a", NULL, 0, NULL, 0, NULL, 0, NULL, 0 };

		suite_commit(f->s, "grp", &none);
		suite_read_windows(f->s, "grp", &l);
		assert_int_equal(l.n, 2);
	}
	suite_kv_free(&l);
}

/* Binary blobs and keys, scopes and instances of odd bytes: every one comes back, distinct. */
static void suite_ckpt_bytes(void **state)
{
	struct suite_fx *f = *state;
	static const struct {
		const char *k;
		size_t n;
	} keys[] = {
		{ S("{") },    { S("}") },	    { S("/") },	 { S(" ") },	{ S("\xff") },
		{ S("a\0b") }, { S("a\0c") },	    { S("\0") }, { S("%7D") },	{ S("%") },
		{ S("w:x") },  { S("{w}/1 \xff") }, { S("..") }, { S("a}b{") }, { S("\n") },
	};
	const size_t nk = sizeof keys / sizeof keys[0];
	const char *scopes[] = { "g{1}", "a}b", "a%7Db", "sp ace/\xff", "{", "}" };
	char longkey[1024], longscope[256], all[256], big_inst[129];
	struct conn_ckpt_item parts[20], states[20];
	struct suite_kv l = { 0 };
	char *big = malloc((size_t)1 << 20);

	assert_non_null(big);
	for (size_t i = 0; i < ((size_t)1 << 20); i++)
		big[i] = (char)(i * 31 + i / 7);
	for (int i = 0; i < 256; i++)
		all[i] = (char)i;
	memset(longkey, '\xff', sizeof longkey);
	memset(longscope, '}', 255);
	longscope[255] = '\0';
	memset(big_inst, '{', 128);
	big_inst[128] = '\0';
	for (size_t i = 0; i < nk; i++) {
		parts[i] = (struct conn_ckpt_item){ keys[i].k, keys[i].n, all, 1 + i * 17 };
		states[i] = (struct conn_ckpt_item){ keys[i].k, keys[i].n, all + i, 256 - i };
	}
	parts[nk] = (struct conn_ckpt_item){ longkey, sizeof longkey, big, (size_t)1 << 20 };
	states[nk] = (struct conn_ckpt_item){ longkey, sizeof longkey, "", 0 }; /* empty */
	for (size_t sc = 0; sc < sizeof scopes / sizeof scopes[0] + 1; sc++) {
		const char *scope = sc < sizeof scopes / sizeof scopes[0] ? scopes[sc] : longscope;
		const char *inst = sc % 2 ? big_inst : "in st{}\xff";
		const struct conn_ckpt_offset off = { scope, (int64_t)sc, 1, 2 };
		struct conn_ckpt c = { inst, &off, 1, parts, nk + 1, NULL, 0, states, nk + 1 };

		suite_commit(f->s, scope, &c);
	}
	for (size_t sc = 0; sc < sizeof scopes / sizeof scopes[0] + 1; sc++) {
		const char *scope = sc < sizeof scopes / sizeof scopes[0] ? scopes[sc] : longscope;
		const char *inst = sc % 2 ? big_inst : "in st{}\xff";
		int i;

		suite_read_offsets(f->s, scope, &l);
		assert_int_equal(l.n, 1); /* each scope its own */
		assert_string_equal(l.key[0], scope);
		assert_true(l.v[0][0] == (int64_t)sc);
		suite_read_windows(f->s, scope, &l);
		assert_int_equal(l.n, (int)nk + 1);
		for (size_t k = 0; k <= nk; k++) {
			struct suite_kv p = { 0 };

			assert_true(suite_kv_find(&l, parts[k].key, parts[k].klen) >= 0);
			suite_read_partials(f->s, scope, parts[k].key, parts[k].klen, &p);
			assert_int_equal(p.n, 1);
			suite_has(&p, inst, strlen(inst), parts[k].blob, parts[k].len);
			suite_kv_free(&p);
		}
		suite_read_states(f->s, scope, &l);
		assert_int_equal(l.n, (int)nk + 1);
		for (size_t k = 0; k <= nk; k++)
			suite_has(&l, states[k].key, states[k].klen, states[k].blob, states[k].len);
		i = suite_kv_find(&l, longkey, sizeof longkey);
		assert_int_equal(l.blen[i], 0);
	}
	suite_kv_free(&l);
	free(big);
}

/* One instance deleting its partial keeps the others'; the window stays listed until its
 * last partial goes. */
static void suite_ckpt_instances(void **state)
{
	struct suite_fx *f = *state;
	const struct conn_ckpt_item set_a[] = { { S("W"), S("pa") }, { S("V"), S("va") } };
	const struct conn_ckpt_item set_b[] = { { S("W"), S("pb") } };
	const struct conn_ckpt_item del[] = { { S("W"), NULL, 0 }, { S("never"), NULL, 0 } };
	struct suite_kv l = { 0 };

	suite_commit(f->s, "g", &(struct conn_ckpt){ "a", NULL, 0, set_a, 2, NULL, 0, NULL, 0 });
	suite_commit(f->s, "g", &(struct conn_ckpt){ "b", NULL, 0, set_b, 1, NULL, 0, NULL, 0 });
	suite_read_partials(f->s, "g", S("W"), &l);
	assert_int_equal(l.n, 2);
	suite_has(&l, S("a"), S("pa"));
	suite_has(&l, S("b"), S("pb"));

	/* a deletes its partial of W (and of a window it never had) */
	suite_commit(f->s, "g", &(struct conn_ckpt){ "a", NULL, 0, del, 2, NULL, 0, NULL, 0 });
	suite_read_partials(f->s, "g", S("W"), &l);
	assert_int_equal(l.n, 1);
	suite_has(&l, S("b"), S("pb"));
	suite_read_windows(f->s, "g", &l);
	assert_int_equal(l.n, 2);
	assert_true(suite_kv_find(&l, S("W")) >= 0);
	assert_true(suite_kv_find(&l, S("V")) >= 0);
	assert_true(suite_kv_find(&l, S("never")) < 0);

	/* b deletes its own: W is gone from the listing */
	suite_commit(f->s, "g", &(struct conn_ckpt){ "b", NULL, 0, del, 1, NULL, 0, NULL, 0 });
	suite_read_partials(f->s, "g", S("W"), &l);
	assert_int_equal(l.n, 0);
	suite_read_windows(f->s, "g", &l);
	assert_int_equal(l.n, 1);
	assert_true(suite_kv_find(&l, S("V")) >= 0);
	suite_read_partials(f->s, "g", S("V"), &l);
	assert_int_equal(l.n, 1);
	suite_has(&l, S("a"), S("va"));
	suite_kv_free(&l);
}

/* A decided window is dropped: every instance's partial goes, and the window from the list. */
static void suite_ckpt_drops(void **state)
{
	struct suite_fx *f = *state;
	const struct conn_ckpt_item w12[] = { { S("W1"), S("1") }, { S("W2"), S("2") } };
	const struct conn_ckpt_item drop1[] = { { S("W1"), NULL, 0 }, { S("W9"), NULL, 0 } };
	const struct conn_ckpt_item set3[] = { { S("W3"), S("3") } };
	const struct conn_ckpt_item drop3[] = { { S("W3"), NULL, 0 } };
	const struct conn_ckpt_item st[] = { { S("pair"), S("decided W1") } };
	const struct conn_ckpt_offset off = { "t/0", 42, 1000, 2000 };
	struct suite_kv l = { 0 };

	suite_commit(f->s, "g", &(struct conn_ckpt){ "a", NULL, 0, w12, 2, NULL, 0, NULL, 0 });
	suite_commit(f->s, "g", &(struct conn_ckpt){ "b", NULL, 0, w12, 2, NULL, 0, NULL, 0 });
	/* c decides W1: drops it, with its offsets and the pair's new state, in one commit */
	suite_commit(f->s, "g", &(struct conn_ckpt){ "c", &off, 1, NULL, 0, drop1, 2, st, 1 });
	suite_read_partials(f->s, "g", S("W1"), &l);
	assert_int_equal(l.n, 0);
	suite_read_windows(f->s, "g", &l);
	assert_int_equal(l.n, 1);
	assert_true(suite_kv_find(&l, S("W2")) >= 0);
	suite_read_partials(f->s, "g", S("W2"), &l);
	assert_int_equal(l.n, 2);
	suite_has(&l, S("a"), S("2"));
	suite_has(&l, S("b"), S("2"));
	suite_read_states(f->s, "g", &l);
	assert_int_equal(l.n, 1);
	suite_has(&l, S("pair"), S("decided W1"));
	suite_read_offsets(f->s, "g", &l);
	assert_int_equal(l.n, 1);
	assert_true(l.v[0][0] == 42);

	/* a window set and dropped in one commit ends dropped (drops come after partials) */
	suite_commit(f->s, "g", &(struct conn_ckpt){ "a", NULL, 0, set3, 1, drop3, 1, NULL, 0 });
	suite_read_partials(f->s, "g", S("W3"), &l);
	assert_int_equal(l.n, 0);
	suite_read_windows(f->s, "g", &l);
	assert_int_equal(l.n, 1);
	/* a partial written after the drop, in a later commit, lists the window again */
	suite_commit(f->s, "g", &(struct conn_ckpt){ "b", NULL, 0, set3, 1, NULL, 0, NULL, 0 });
	suite_read_windows(f->s, "g", &l);
	assert_int_equal(l.n, 2);
	suite_kv_free(&l);
}

/* Pair states: set, replace, delete; offsets: replace; a second commit overwrites. */
static void suite_ckpt_overwrite(void **state)
{
	struct suite_fx *f = *state;
	const struct conn_ckpt_offset off1[] = { { "t/0", 10, 100, 1000 }, { "t/1", 5, 50, 1000 } };
	const struct conn_ckpt_offset off2[] = { { "t/0", 20, 200, 2000 },
						 { "t/2", 1, 2, 3 },
						 { "t/2", 7, 8, 9 } }; /* the last one wins */
	const struct conn_ckpt_item p1[] = { { S("W"), S("first partial") } };
	const struct conn_ckpt_item p2[] = { { S("W"), S("second") }, { S("W"), S("third") } };
	const struct conn_ckpt_item s1[] = { { S("p1"), S("x") }, { S("p2"), S("y") } };
	const struct conn_ckpt_item s2[] = {
		{ S("p1"), S("z") }, { S("p2"), NULL, 0 }, { S("p3"), NULL, 0 }, { S("p4"), S("") }
	};
	const struct conn_ckpt_item s3[] = { { S("p1"), NULL, 0 }, { S("p4"), NULL, 0 } };
	struct suite_kv l = { 0 };
	int i;

	suite_commit(f->s, "g", &(struct conn_ckpt){ "a", off1, 2, p1, 1, NULL, 0, s1, 2 });
	suite_commit(f->s, "g", &(struct conn_ckpt){ "a", off2, 3, p2, 2, NULL, 0, s2, 4 });
	suite_read_offsets(f->s, "g", &l);
	assert_int_equal(l.n, 3);
	i = suite_kv_find(&l, S("t/0"));
	assert_true(i >= 0 && l.v[i][0] == 20 && l.v[i][1] == 200 && l.v[i][2] == 2000);
	i = suite_kv_find(&l, S("t/1"));
	assert_true(i >= 0 && l.v[i][0] == 5 && l.v[i][1] == 50 && l.v[i][2] == 1000);
	i = suite_kv_find(&l, S("t/2"));
	assert_true(i >= 0 && l.v[i][0] == 7 && l.v[i][1] == 8 && l.v[i][2] == 9);
	suite_read_partials(f->s, "g", S("W"), &l);
	assert_int_equal(l.n, 1);
	suite_has(&l, S("a"), S("third"));
	suite_read_states(f->s, "g", &l);
	assert_int_equal(l.n, 2);
	suite_has(&l, S("p1"), S("z"));
	suite_has(&l, S("p4"), S(""));
	suite_commit(f->s, "g", &(struct conn_ckpt){ "a", NULL, 0, NULL, 0, NULL, 0, s3, 2 });
	suite_read_states(f->s, "g", &l);
	assert_int_equal(l.n, 0);
	suite_kv_free(&l);
}

/* Fails unless state_get of key finds exactly b[0..bl) (followed by a NUL). */
static void suite_state_is(struct conn_store *s, const char *scope, const char *k, size_t kl,
			   const char *b, size_t bl)
{
	struct conn_blob out = { (char *)"junk", 99 };
	enum conn_store_lookup rc = conn_store_ckpt_state_get(s, scope, k, kl, &out);

	if (rc != CONN_STORE_FOUND)
		fail_msg("state_get %.*s: %d (%s)", (int)kl, k, rc, conn_store_error(s));
	assert_non_null(out.data);
	assert_int_equal(out.len, bl);
	if (bl)
		assert_memory_equal(out.data, b, bl);
	assert_int_equal(out.data[bl], '\0');
	assert_string_equal(conn_store_error(s), "");
	free(out.data);
}

/* Fails unless state_get of key finds nothing (and empties out). */
static void suite_state_none(struct conn_store *s, const char *scope, const char *k, size_t kl)
{
	struct conn_blob out = { (char *)"junk", 99 };

	assert_int_equal(conn_store_ckpt_state_get(s, scope, k, kl, &out), CONN_STORE_NONE);
	assert_null(out.data);
	assert_int_equal(out.len, 0);
	assert_string_equal(conn_store_error(s), "");
}

/* Fails unless offset_get of stream finds exactly next, hwm, updated. */
static void suite_offset_is(struct conn_store *s, const char *scope, const char *stream,
			    int64_t next, int64_t hwm, int64_t updated)
{
	struct conn_ckpt_offset o = { "junk", 1, 2, 3 };
	enum conn_store_lookup rc = conn_store_ckpt_offset_get(s, scope, stream, &o);

	if (rc != CONN_STORE_FOUND)
		fail_msg("offset_get %s: %d (%s)", stream, rc, conn_store_error(s));
	assert_ptr_equal(o.stream, stream);
	assert_true(o.next_offset == next);
	assert_true(o.hwm_ms == hwm);
	assert_true(o.updated_ms == updated);
	assert_string_equal(conn_store_error(s), "");
}

static void suite_offset_none(struct conn_store *s, const char *scope, const char *stream)
{
	struct conn_ckpt_offset o = { "junk", 1, 2, 3 };

	assert_int_equal(conn_store_ckpt_offset_get(s, scope, stream, &o), CONN_STORE_NONE);
	assert_ptr_equal(o.stream, stream);
	assert_true(o.next_offset == 0 && o.hwm_ms == 0 && o.updated_ms == 0);
	assert_string_equal(conn_store_error(s), "");
}

/* The point reads: one pair state, one stream offset, each what the listing would say. */
static void suite_ckpt_point_reads(void **state)
{
	struct suite_fx *f = *state;
	const struct conn_ckpt_offset offs[] = {
		{ "events/0", 100, 1795730000123, 1795730001000 },
		{ "events/2", INT64_MAX, INT64_MIN, -7 },
	};
	const struct conn_ckpt_item parts[] = { { S("fraud/v1/60000"), S("P1") } };
	const struct conn_ckpt_item drops[] = { { S("fraud/v1/60000"), NULL, 0 } };
	const struct conn_ckpt_item states[] = {
		{ S("fraud/v1"), S("S1") },
		{ S("b\0in\n{ary} %7D"), S("\0\1\2 state\0") },
		{ S("empty"), S("") },
	};
	const struct conn_ckpt_item states2[] = { { S("fraud/v1"), S("S2 after the drop") } };
	const struct conn_ckpt_item del[] = { { S("empty"), NULL, 0 } };
	char err[256];
	struct conn_store *s2;

	/* a scope never committed to: nothing */
	suite_state_none(f->s, "grp", S("fraud/v1"));
	suite_offset_none(f->s, "grp", "events/0");

	/* found after a commit, from this handle and another */
	suite_commit(f->s, "grp",
		     &(struct conn_ckpt){ "agent-a", offs, 2, parts, 1, NULL, 0, states, 3 });
	s2 = conn_store_open(f->spec, err, sizeof err);
	if (!s2)
		fail_msg("open: %s", err);
	for (int h = 0; h < 2; h++) {
		struct conn_store *s = h ? s2 : f->s;

		suite_state_is(s, "grp", S("fraud/v1"), S("S1"));
		suite_state_is(s, "grp", S("b\0in\n{ary} %7D"), S("\0\1\2 state\0"));
		suite_state_is(s, "grp", S("empty"), S(""));
		suite_offset_is(s, "grp", "events/0", 100, 1795730000123, 1795730001000);
		suite_offset_is(s, "grp", "events/2", INT64_MAX, INT64_MIN, -7);
		/* absent: another key, a prefix of a key, another stream, another scope */
		suite_state_none(s, "grp", S("churn/v3"));
		suite_state_none(s, "grp", S("fraud/v"));
		suite_state_none(s, "grp", S("b"));
		suite_state_none(s, "grp", S("fraud/v1/60000")); /* a window key, not a pair */
		suite_offset_none(s, "grp", "events/1");
		suite_offset_none(s, "grp", "events/00");
		suite_state_none(s, "grp2", S("fraud/v1"));
		suite_offset_none(s, "gr", "events/0");
	}
	conn_store_close(s2);

	/* after a drop of the window (with the new state in the same commit) and a deletion */
	suite_commit(f->s, "grp",
		     &(struct conn_ckpt){ "agent-b", NULL, 0, NULL, 0, drops, 1, states2, 1 });
	suite_state_is(f->s, "grp", S("fraud/v1"), S("S2 after the drop"));
	suite_offset_is(f->s, "grp", "events/0", 100, 1795730000123, 1795730001000);
	suite_commit(f->s, "grp",
		     &(struct conn_ckpt){ "agent-b", NULL, 0, NULL, 0, NULL, 0, del, 1 });
	suite_state_none(f->s, "grp", S("empty"));
	suite_state_is(f->s, "grp", S("b\0in\n{ary} %7D"), S("\0\1\2 state\0"));
	{ /* the offset replaced: the last one wins */
		const struct conn_ckpt_offset o2[] = { { "events/0", 7, 8, 9 },
						       { "events/0", 170, 180, 190 } };

		suite_commit(f->s, "grp",
			     &(struct conn_ckpt){ "agent-b", o2, 2, NULL, 0, NULL, 0, NULL, 0 });
		suite_offset_is(f->s, "grp", "events/0", 170, 180, 190);
	}

	/* under a key prefix */
	assert_int_equal(conn_store_set_prefix(f->s, "Tenant_1.prod-a:driftd:"), 0);
	suite_commit(f->s, "grp",
		     &(struct conn_ckpt){ "agent-a", offs, 1, NULL, 0, NULL, 0, states, 1 });
	suite_state_is(f->s, "grp", S("fraud/v1"), S("S1"));
	suite_offset_is(f->s, "grp", "events/0", 100, 1795730000123, 1795730001000);
	s2 = conn_store_open(f->spec, err, sizeof err);
	if (!s2)
		fail_msg("open: %s", err);
	assert_int_equal(conn_store_set_prefix(s2, "Tenant_1.prod-a:driftd:"), 0);
	suite_state_is(s2, "grp", S("fraud/v1"), S("S1"));
	suite_offset_is(s2, "grp", "events/0", 100, 1795730000123, 1795730001000);
	conn_store_close(s2);
}

/* The point reads' refusals (store.c, before the backend) and a store that cannot answer. */
static void suite_ckpt_point_errors(void **state)
{
	struct suite_fx *f = *state;
	const struct conn_ckpt_item st[] = { { S("pair"), S("x") } };
	const struct conn_ckpt_offset off = { "t/0", 1, 2, 3 };
	char scope256[257], key1025[1025], stream513[514], first[512];
	const char *t0 = "t/0";
	struct conn_blob b = { (char *)"junk", 9 };
	struct conn_ckpt_offset o = { "junk", 1, 2, 3 };

	memset(scope256, 's', 256);
	scope256[256] = '\0';
	memset(key1025, 'k', sizeof key1025);
	memset(stream513, 't', 513);
	stream513[513] = '\0';
	assert_int_equal(conn_store_ckpt_state_get(f->s, "", S("pair"), &b), CONN_STORE_ERROR);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	snprintf(first, sizeof first, "%s", conn_store_error(f->s));
	assert_non_null(strstr(first, "checkpoint scope"));
	assert_int_equal(conn_store_ckpt_state_get(f->s, scope256, S("pair"), &b),
			 CONN_STORE_ERROR);
	assert_int_equal(conn_store_ckpt_state_get(f->s, NULL, S("pair"), &b), CONN_STORE_ERROR);
	assert_string_equal(conn_store_error(f->s), first); /* first error wins */
	suite_state_none(f->s, "g", S("pair"));		    /* a success clears it */
	assert_int_equal(conn_store_ckpt_state_get(f->s, "g", key1025, 1025, &b), CONN_STORE_ERROR);
	assert_non_null(strstr(conn_store_error(f->s), "pair key"));
	suite_state_none(f->s, "g", S("pair"));
	assert_int_equal(conn_store_ckpt_state_get(f->s, "g", "", 0, &b), CONN_STORE_ERROR);
	assert_int_equal(conn_store_ckpt_state_get(f->s, "g", NULL, 3, &b), CONN_STORE_ERROR);
	assert_non_null(strstr(conn_store_error(f->s), "pair key"));
	suite_state_none(f->s, "g", S("pair"));
	assert_int_equal(conn_store_ckpt_state_get(f->s, "g", S("pair"), NULL), CONN_STORE_ERROR);
	assert_non_null(strstr(conn_store_error(f->s), "no result"));
	suite_offset_none(f->s, "g", "t/0");
	assert_int_equal(conn_store_ckpt_offset_get(f->s, scope256, t0, &o), CONN_STORE_ERROR);
	assert_non_null(strstr(conn_store_error(f->s), "checkpoint scope"));
	assert_ptr_equal(o.stream, t0);
	assert_true(o.next_offset == 0 && o.hwm_ms == 0 && o.updated_ms == 0);
	suite_offset_none(f->s, "g", "t/0");
	assert_int_equal(conn_store_ckpt_offset_get(f->s, "g", stream513, &o), CONN_STORE_ERROR);
	assert_non_null(strstr(conn_store_error(f->s), "stream name"));
	suite_offset_none(f->s, "g", "t/0");
	assert_int_equal(conn_store_ckpt_offset_get(f->s, "g", "", &o), CONN_STORE_ERROR);
	assert_int_equal(conn_store_ckpt_offset_get(f->s, "g", NULL, &o), CONN_STORE_ERROR);
	assert_non_null(strstr(conn_store_error(f->s), "stream name"));
	suite_offset_none(f->s, "g", "t/0");
	assert_int_equal(conn_store_ckpt_offset_get(f->s, "g", "t/0", NULL), CONN_STORE_ERROR);
	assert_non_null(strstr(conn_store_error(f->s), "no result"));

	/* a store that cannot answer: -1 with a message, nothing handed out */
	suite_commit(f->s, "g", &(struct conn_ckpt){ "a", &off, 1, NULL, 0, NULL, 0, st, 1 });
	suite_state_is(f->s, "g", S("pair"), S("x"));
	if (!f->cut)
		return;
	f->cut(f);
	b = (struct conn_blob){ (char *)"junk", 9 };
	assert_int_equal(conn_store_ckpt_state_get(f->s, "g", S("pair"), &b), CONN_STORE_ERROR);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_true(conn_store_error(f->s)[0] != '\0');
	o = (struct conn_ckpt_offset){ "junk", 1, 2, 3 };
	assert_int_equal(conn_store_ckpt_offset_get(f->s, "g", t0, &o), CONN_STORE_ERROR);
	assert_ptr_equal(o.stream, t0);
	assert_true(o.next_offset == 0 && o.hwm_ms == 0 && o.updated_ms == 0);
	assert_true(conn_store_error(f->s)[0] != '\0');
}

static void suite_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0)
		;
}

static void suite_ckpt_locks(void **state)
{
	struct suite_fx *f = *state;
	char longname[1026], longowner[257];

	assert_int_equal(conn_store_lock(f->s, "g", "w1", "a", 10000), 0);
	assert_int_equal(conn_store_lock(f->s, "g", "w1", "b", 10000), 1);  /* held by a */
	assert_int_equal(conn_store_lock(f->s, "g", "w1", "a", 10000), 0);  /* renewed */
	assert_int_equal(conn_store_lock(f->s, "g2", "w1", "b", 10000), 0); /* another scope */
	assert_int_equal(conn_store_lock(f->s, "g", "w2", "b", 10000), 0);  /* another name */
	/* an unlock by another owner does nothing */
	assert_int_equal(conn_store_unlock(f->s, "g", "w1", "b"), 0);
	assert_int_equal(conn_store_lock(f->s, "g", "w1", "b", 10000), 1);
	/* a second handle sees it */
	{
		char err[256];
		struct conn_store *s2 = conn_store_open(f->spec, err, sizeof err);

		if (!s2)
			fail_msg("open: %s", err);
		assert_int_equal(conn_store_lock(s2, "g", "w1", "c", 10000), 1);
		conn_store_close(s2);
	}
	/* released by its owner: anyone may take it */
	assert_int_equal(conn_store_unlock(f->s, "g", "w1", "a"), 0);
	assert_int_equal(conn_store_lock(f->s, "g", "w1", "b", 10000), 0);
	assert_int_equal(conn_store_lock(f->s, "g", "w1", "a", 10000), 1);
	assert_int_equal(conn_store_unlock(f->s, "g", "never", "a"), 0);
	assert_int_equal(conn_store_unlock(f->s, "no-such-scope", "x", "a"), 0);
	assert_string_equal(conn_store_error(f->s), "");

	/* expiry: a lock not renewed within its ttl is free */
	assert_int_equal(conn_store_lock(f->s, "g", "t", "a", 200), 0);
	assert_int_equal(conn_store_lock(f->s, "g", "t", "b", 200), 1);
	suite_sleep_ms(400);
	assert_int_equal(conn_store_lock(f->s, "g", "t", "b", 10000), 0);
	assert_int_equal(conn_store_lock(f->s, "g", "t", "a", 10000), 1);
	/* a renewal extends it from now */
	assert_int_equal(conn_store_lock(f->s, "g", "r", "a", 600), 0);
	suite_sleep_ms(350);
	assert_int_equal(conn_store_lock(f->s, "g", "r", "a", 600), 0);
	suite_sleep_ms(350); /* past the first expiry, within the second */
	assert_int_equal(conn_store_lock(f->s, "g", "r", "b", 600), 1);
	/* an expired lock unlocked by its former owner, after another took it: no effect */
	assert_int_equal(conn_store_unlock(f->s, "g", "t", "a"), 0);
	assert_int_equal(conn_store_lock(f->s, "g", "t", "a", 10000), 1);

	/* odd bytes in scope, name and owner */
	assert_int_equal(conn_store_lock(f->s, "{g}", "w/1 }{\xff", "own er{}", 10000), 0);
	assert_int_equal(conn_store_lock(f->s, "{g}", "w/1 }{\xff", "own er{", 10000), 1);
	memset(longname, 'n', 1024);
	longname[1024] = '\0';
	memset(longowner, 'o', 255);
	longowner[255] = '\0';
	assert_int_equal(conn_store_lock(f->s, "g", longname, longowner, 10000), 0);
	assert_int_equal(conn_store_lock(f->s, "g", longname, "x", 10000), 1);
	assert_int_equal(conn_store_unlock(f->s, "g", longname, longowner), 0);
	assert_int_equal(conn_store_lock(f->s, "g", longname, "x", 10000), 0);

	/* invalid arguments */
	assert_int_equal(conn_store_lock(f->s, "g", "w", "a", 0), -1);
	assert_non_null(strstr(conn_store_error(f->s), "ttl"));
	assert_int_equal(conn_store_lock(f->s, "g", "w", "a", -5), -1);
	assert_int_equal(conn_store_lock(f->s, "g", "w", "a", INT64_MAX), -1);
	assert_int_equal(conn_store_lock(f->s, "g", "", "a", 100), -1);
	assert_int_equal(conn_store_lock(f->s, "g", "w", "", 100), -1);
	assert_int_equal(conn_store_lock(f->s, "", "w", "a", 100), -1);
	assert_int_equal(conn_store_lock(f->s, "g", "w", NULL, 100), -1);
	longname[1024] = 'n';
	longname[1025] = '\0';
	assert_int_equal(conn_store_lock(f->s, "g", longname, "a", 100), -1);
	longowner[255] = 'o';
	longowner[256] = '\0';
	assert_int_equal(conn_store_unlock(f->s, "g", "w", longowner), -1);
	assert_int_equal(conn_store_unlock(f->s, "g", NULL, "a"), -1);
}

/* Arguments refused before anything is written; the first error is kept. */
static void suite_ckpt_errors(void **state)
{
	struct suite_fx *f = *state;
	char scope256[257], inst129[130], key1025[1025], first[512];
	const struct conn_ckpt_item ok[] = { { S("W"), S("x") } };
	const struct conn_ckpt_item nokey[] = { { NULL, 3, "x", 1 } };
	const struct conn_ckpt_item empty[] = { { "", 0, "x", 1 } };
	const struct conn_ckpt_item toolong[] = { { key1025, 1025, "x", 1 } };
	const struct conn_ckpt_item nodata[] = { { S("W"), NULL, 0 }, { S("V"), NULL, 0 } };
	const struct conn_ckpt_offset nostream[] = { { "", 1, 1, 1 } };
	struct suite_kv l = { 0 };

	memset(scope256, 's', 256);
	scope256[256] = '\0';
	memset(inst129, 'i', 129);
	inst129[129] = '\0';
	memset(key1025, 'k', sizeof key1025);
	assert_int_equal(
	    conn_store_ckpt_commit(f->s, "",
				   &(struct conn_ckpt){ "a", NULL, 0, ok, 1, NULL, 0, NULL, 0 }),
	    -1);
	snprintf(first, sizeof first, "%s", conn_store_error(f->s));
	assert_non_null(strstr(first, "checkpoint scope"));
	assert_int_equal(
	    conn_store_ckpt_commit(f->s, scope256,
				   &(struct conn_ckpt){ "a", NULL, 0, ok, 1, NULL, 0, NULL, 0 }),
	    -1);
	assert_int_equal(conn_store_ckpt_commit(f->s, "g", NULL), -1);
	assert_int_equal(
	    conn_store_ckpt_commit(f->s, NULL,
				   &(struct conn_ckpt){ "a", NULL, 0, ok, 1, NULL, 0, NULL, 0 }),
	    -1);
	assert_string_equal(conn_store_error(f->s), first); /* first error wins */
	/* each refusal names what is wrong; a success in between clears the error */
#define REFUSED(c, what)                                                                           \
	do {                                                                                       \
		assert_int_equal(conn_store_ping(f->s), 0);                                        \
		assert_int_equal(conn_store_ckpt_commit(f->s, "g", &(c)), -1);                     \
		if (!strstr(conn_store_error(f->s), what))                                         \
			fail_msg("\"%s\" does not say %s", conn_store_error(f->s), what);          \
	} while (0)
	REFUSED(((struct conn_ckpt){ "", NULL, 0, ok, 1, NULL, 0, NULL, 0 }), "instance name");
	REFUSED(((struct conn_ckpt){ NULL, NULL, 0, ok, 1, NULL, 0, NULL, 0 }), "instance name");
	REFUSED(((struct conn_ckpt){ inst129, NULL, 0, ok, 1, NULL, 0, NULL, 0 }), "instance name");
	REFUSED(((struct conn_ckpt){ "a", nostream, 1, ok, 1, NULL, 0, NULL, 0 }), "stream name");
	REFUSED(((struct conn_ckpt){ "a", NULL, 1, ok, 1, NULL, 0, NULL, 0 }), "offsets");
	REFUSED(((struct conn_ckpt){ "a", NULL, 0, nokey, 1, NULL, 0, NULL, 0 }), "window key");
	REFUSED(((struct conn_ckpt){ "a", NULL, 0, empty, 1, NULL, 0, NULL, 0 }), "window key");
	REFUSED(((struct conn_ckpt){ "a", NULL, 0, toolong, 1, NULL, 0, NULL, 0 }), "window key");
	REFUSED(((struct conn_ckpt){ "a", NULL, 0, ok, 1, empty, 1, NULL, 0 }), "window key");
	REFUSED(((struct conn_ckpt){ "a", NULL, 0, ok, 1, NULL, 0, empty, 1 }), "pair key");
	REFUSED(((struct conn_ckpt){ "a", NULL, 0, ok, 1, NULL, 0, toolong, 1 }), "pair key");
	REFUSED(((struct conn_ckpt){ "a", NULL, 0, NULL, 2, NULL, 0, NULL, 0 }), "partials");
	REFUSED(((struct conn_ckpt){ "a", NULL, 0, ok, 100001, NULL, 0, NULL, 0 }), "at most");
	REFUSED(((struct conn_ckpt){ "a", NULL, 0, nodata, 2, NULL, 0, ok, 100000 }), "at most");
	{
		const struct conn_ckpt_item blobless[] = { { S("W"), NULL, 0 },
							   { S("V"), (const char *)0, 5 } };
		/* a NULL blob is a deletion whatever its len: accepted */
		assert_int_equal(conn_store_ckpt_commit(f->s, "g",
							&(struct conn_ckpt){ "a", NULL, 0, blobless,
									     2, NULL, 0, NULL, 0 }),
				 0);
	}
#undef REFUSED
	/* nothing of the refused commits was written */
	suite_read_windows(f->s, "g", &l);
	assert_int_equal(l.n, 0);
	suite_read_offsets(f->s, "g", &l);
	assert_int_equal(l.n, 0);
	suite_read_states(f->s, "g", &l);
	assert_int_equal(l.n, 0);
	suite_kv_free(&l);
	/* the readers check theirs */
	assert_int_equal(conn_store_ckpt_offsets(f->s, "", suite_kv_offset, &l), -1);
	assert_non_null(strstr(conn_store_error(f->s), "checkpoint scope"));
	assert_int_equal(conn_store_ckpt_offsets(f->s, "g", NULL, NULL), -1);
	assert_int_equal(conn_store_ckpt_windows(f->s, scope256, suite_kv_key, &l), -1);
	assert_int_equal(conn_store_ckpt_windows(f->s, "g", NULL, NULL), -1);
	assert_int_equal(conn_store_ckpt_states(f->s, NULL, suite_kv_blob, &l), -1);
	assert_int_equal(conn_store_ckpt_states(f->s, "g", NULL, NULL), -1);
	assert_int_equal(conn_store_ckpt_partials(f->s, "g", "", 0, suite_kv_blob, &l), -1);
	assert_int_equal(conn_store_ckpt_partials(f->s, "g", NULL, 1, suite_kv_blob, &l), -1);
	assert_int_equal(conn_store_ckpt_partials(f->s, "g", key1025, 1025, suite_kv_blob, &l), -1);
	assert_int_equal(conn_store_ckpt_partials(f->s, "g", "W", 1, NULL, NULL), -1);
	assert_int_equal(l.n, 0);
	/* 255 bytes of scope, 1024 of key, 128 of instance are fine */
	scope256[255] = '\0';
	inst129[128] = '\0';
	{
		const struct conn_ckpt_item longest[] = { { key1025, 1024, "x", 1 } };

		suite_commit(
		    f->s, scope256,
		    &(struct conn_ckpt){ inst129, NULL, 0, longest, 1, NULL, 0, longest, 1 });
		suite_read_partials(f->s, scope256, key1025, 1024, &l);
		assert_int_equal(l.n, 1);
		assert_int_equal(l.klen[0], 128);
		suite_kv_free(&l);
	}
	assert_string_equal(conn_store_error(f->s), "");
}

/* Processes racing: for one lock (exactly one wins), and committing partials of one window
 * (none is lost: the commits of a scope are serialized). */
static void suite_ckpt_races(void **state)
{
	struct suite_fx *f = *state;
	enum { N = 8, ROUNDS = 15 };
	pid_t pid[N];
	int won = 0;
	struct suite_kv l = { 0 };

	for (int i = 0; i < N; i++) {
		pid[i] = fork();
		assert_true(pid[i] >= 0);
		if (pid[i] == 0) { /* no cmocka in here: exit codes only */
			char err[256], inst[16], stream[16], blob[32];
			struct conn_store *s = conn_store_open(f->spec, err, sizeof err);
			int rc, bad = 0;

			if (!s)
				_exit(100);
			snprintf(inst, sizeof inst, "i%d", i);
			rc = conn_store_lock(s, "race", "window/1", inst, 30000);
			for (int r = 0; r < ROUNDS; r++) {
				/* the names first: the items below take their lengths */
				int bl = snprintf(blob, sizeof blob, "%d/%d", i, r);
				const struct conn_ckpt_offset off = { stream, r, r, r };
				const struct conn_ckpt_item p[] = { { "shared", 6, blob,
								      (size_t)bl } };
				const struct conn_ckpt_item st[] = { { inst, strlen(inst), blob,
								       (size_t)bl } };

				snprintf(stream, sizeof stream, "t/%d", i);
				bad |= conn_store_ckpt_commit(s, "race",
							      &(struct conn_ckpt){ inst, &off, 1, p,
										   1, NULL, 0, st,
										   1 }) != 0;
			}
			conn_store_close(s);
			_exit(bad ? 60 : rc == 0 ? 1 : rc == 1 ? 0 : 50);
		}
	}
	for (int i = 0; i < N; i++) {
		int st = 0;

		assert_int_equal(waitpid(pid[i], &st, 0), pid[i]);
		if (!WIFEXITED(st) || WEXITSTATUS(st) > 1)
			fail_msg("child %d: status %d", i, st);
		won += WEXITSTATUS(st);
	}
	assert_int_equal(won, 1);
	suite_read_partials(f->s, "race", S("shared"), &l);
	assert_int_equal(l.n, N);
	for (int i = 0; i < N; i++) {
		char inst[16], blob[32];

		snprintf(inst, sizeof inst, "i%d", i);
		snprintf(blob, sizeof blob, "%d/%d", i, ROUNDS - 1);
		suite_has(&l, inst, strlen(inst), blob, strlen(blob));
	}
	suite_read_offsets(f->s, "race", &l);
	assert_int_equal(l.n, N);
	suite_read_states(f->s, "race", &l);
	assert_int_equal(l.n, N);
	suite_kv_free(&l);
}

/* A reader sees a commit whole or not at all: every commit writes the same number into two
 * offsets and two states, and every read finds them equal. */
static int suite_same_offsets(void *arg, const struct conn_ckpt_offset *o)
{
	int64_t *v = arg;

	if (v[0] < 0)
		v[0] = o->next_offset;
	else if (v[0] != o->next_offset)
		v[1] = 1;
	return 0;
}

static int suite_same_states(void *arg, const char *name, size_t nlen, const char *blob, size_t len)
{
	char *seen = arg;

	(void)name;
	(void)nlen;
	if (len >= 32)
		seen[32] = 1;
	else if (!seen[0])
		memcpy(seen, blob, len + 1);
	else if (strcmp(seen, blob) != 0)
		seen[32] = 1;
	return 0;
}

static void suite_ckpt_atomic(void **state)
{
	struct suite_fx *f = *state;
	pid_t pid;
	int st = 0, reads = 0;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[256], v[32];
		struct conn_store *s = conn_store_open(f->spec, err, sizeof err);

		for (int i = 1; s && i <= 200; i++) {
			const struct conn_ckpt_offset off[] = { { "t/0", i, i, i },
								{ "t/1", i, i, i } };
			const struct conn_ckpt_item sts[] = { { "x", 1, v, 0 }, { "y", 1, v, 0 } };
			struct conn_ckpt_item s2[2];

			snprintf(v, sizeof v, "%d", i);
			memcpy(s2, sts, sizeof s2);
			s2[0].len = s2[1].len = strlen(v);
			if (conn_store_ckpt_commit(
				s, "atomic",
				&(struct conn_ckpt){ "w", off, 2, NULL, 0, NULL, 0, s2, 2 }))
				_exit(1);
		}
		conn_store_close(s);
		_exit(s ? 0 : 2);
	}
	for (;;) {
		int64_t v[2] = { -1, 0 };
		char seen[33] = { 0 };
		int done = waitpid(pid, &st, WNOHANG) == pid;

		assert_int_equal(conn_store_ckpt_offsets(f->s, "atomic", suite_same_offsets, v), 0);
		assert_int_equal(v[1], 0);
		assert_int_equal(conn_store_ckpt_states(f->s, "atomic", suite_same_states, seen),
				 0);
		assert_int_equal(seen[32], 0);
		reads++;
		if (done)
			break;
	}
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_true(reads > 0);
	{
		int64_t v[2] = { -1, 0 };

		assert_int_equal(conn_store_ckpt_offsets(f->s, "atomic", suite_same_offsets, v), 0);
		assert_true(v[0] == 200 && v[1] == 0);
	}
}

#undef S

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
	    SUITE_TEST(prefix, suite_atomic_put, setup, teardown),                                 \
	    SUITE_TEST(prefix, suite_ping, setup, teardown),                                       \
	    SUITE_TEST(prefix, suite_prefix, setup, teardown),                                     \
	    SUITE_TEST(prefix, suite_pending, setup, teardown),                                    \
	    SUITE_TEST(prefix, suite_outbox, setup, teardown),                                     \
	    SUITE_TEST(prefix, suite_cooldown, setup, teardown),                                   \
	    SUITE_TEST(prefix, suite_ckpt_roundtrip, setup, teardown),                             \
	    SUITE_TEST(prefix, suite_ckpt_bytes, setup, teardown),                                 \
	    SUITE_TEST(prefix, suite_ckpt_instances, setup, teardown),                             \
	    SUITE_TEST(prefix, suite_ckpt_drops, setup, teardown),                                 \
	    SUITE_TEST(prefix, suite_ckpt_overwrite, setup, teardown),                             \
	    SUITE_TEST(prefix, suite_ckpt_point_reads, setup, teardown),                           \
	    SUITE_TEST(prefix, suite_ckpt_point_errors, setup, teardown),                          \
	    SUITE_TEST(prefix, suite_ckpt_locks, setup, teardown),                                 \
	    SUITE_TEST(prefix, suite_ckpt_errors, setup, teardown),                                \
	    SUITE_TEST(prefix, suite_ckpt_races, setup, teardown),                                 \
	    SUITE_TEST(prefix, suite_ckpt_atomic, setup, teardown)

#endif

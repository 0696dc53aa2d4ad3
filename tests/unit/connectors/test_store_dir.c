/*
 * test_store_dir.c -- the "dir:PATH" store (connectors/store_dir.c): every call of store.h, the
 * not-found paths, registration order within one millisecond, percent-encoding of hostile and
 * long names (nothing escapes the directory, every name comes back), atomic puts (a concurrent
 * reader sees the old or the new value, temporary files are never versions), claims, history
 * order and torn lines, and the errors kept on the handle.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "connectors/store.h"
#include "testutil.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- fixtures ---- */

struct fx {
	char dir[64];	/* the temporary directory */
	char spec[112]; /* "dir:<dir>/store" */
	char root[96];	/* "<dir>/store" */
	struct conn_store *s;
};

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char err[256];

	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/driftd-test-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->root, sizeof f->root, "%s/store", f->dir);
	snprintf(f->spec, sizeof f->spec, "dir:%s", f->root);
	f->s = conn_store_open(f->spec, err, sizeof err);
	if (!f->s)
		fail_msg("open: %s", err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	conn_store_close(f->s);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* Collected versions. */
struct vl {
	char name[16][300];
	int64_t ms[16];
	int n;
	int stop_after; /* 0: never */
};

static int collect_version(void *arg, const char *version, int64_t ms)
{
	struct vl *l = arg;

	assert_true(l->n < 16);
	snprintf(l->name[l->n], sizeof l->name[0], "%s", version);
	l->ms[l->n++] = ms;
	return l->stop_after && l->n >= l->stop_after;
}

static int collect_model(void *arg, const char *model)
{
	return collect_version(arg, model, 0);
}

struct el {
	char doc[8][128];
	int n;
	int stop_after;
};

static int collect_entry(void *arg, const char *doc, size_t len)
{
	struct el *l = arg;

	assert_true(l->n < 8);
	assert_int_equal(strlen(doc), len);
	snprintf(l->doc[l->n++], sizeof l->doc[0], "%s", doc);
	return l->stop_after && l->n >= l->stop_after;
}

static void put_version(struct conn_store *s, const char *m, const char *v, int64_t ms)
{
	char doc[512];

	snprintf(doc, sizeof doc, "{\"version\":\"%.400s\"}", v);
	if (conn_store_version_put(s, m, v, doc, strlen(doc), ms) != 0)
		fail_msg("version_put: %s", conn_store_error(s));
}

/* ---- open ---- */

static void test_open(void **state)
{
	struct fx *f = *state;
	char err[256], spec[160];
	struct conn_store *s;
	struct stat st;

	/* nested directories are created */
	snprintf(spec, sizeof spec, "dir:%s/a/b/c", f->dir);
	s = conn_store_open(spec, err, sizeof err);
	assert_non_null(s);
	assert_string_equal(conn_store_error(s), "");
	conn_store_close(s);
	snprintf(spec, sizeof spec, "%s/a/b/c", f->dir);
	assert_int_equal(stat(spec, &st), 0);
	assert_true(S_ISDIR(st.st_mode));

	err[0] = '\0';
	assert_null(conn_store_open("redis://:secret@localhost:6379/0", err, sizeof err));
	assert_non_null(strstr(err, "redis comes later"));
	assert_null(strstr(err, "secret")); /* a password is never echoed */
	assert_null(conn_store_open("file:/tmp/x", err, sizeof err));
	assert_non_null(strstr(err, "unsupported store"));
	assert_null(conn_store_open("dir:", err, sizeof err));
	/* a path that is a file */
	snprintf(spec, sizeof spec, "%s/file", f->dir);
	close(open(spec, O_WRONLY | O_CREAT, 0644));
	snprintf(spec, sizeof spec, "dir:%s/file", f->dir);
	err[0] = '\0';
	assert_null(conn_store_open(spec, err, sizeof err));
	assert_true(err[0] != '\0');
}

/* ---- version registry ---- */

static void test_versions(void **state)
{
	struct fx *f = *state;
	struct conn_blob b = { 0 };
	struct vl l = { 0 };

	/* nothing yet */
	assert_int_equal(conn_store_version_get(f->s, "fraud", "v1", &b), 1);
	assert_int_equal(conn_store_versions(f->s, "fraud", collect_version, &l), 0);
	assert_int_equal(l.n, 0);

	/* registration order is exact within one millisecond, whatever the names */
	put_version(f->s, "fraud", "v2", 1000);
	put_version(f->s, "fraud", "v10", 1000);
	put_version(f->s, "fraud", "a", 1000);
	put_version(f->s, "fraud", "v1", 999); /* a clock that went back: order is registration */
	assert_int_equal(conn_store_versions(f->s, "fraud", collect_version, &l), 0);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.name[0], "v2");
	assert_string_equal(l.name[1], "v10");
	assert_string_equal(l.name[2], "a");
	assert_string_equal(l.name[3], "v1");
	assert_true(l.ms[0] == 1000 && l.ms[2] == 1000 && l.ms[3] == 999);

	/* early stop */
	memset(&l, 0, sizeof l);
	l.stop_after = 2;
	assert_int_equal(conn_store_versions(f->s, "fraud", collect_version, &l), 0);
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
	assert_int_equal(conn_store_versions(f->s, "fraud", collect_version, &l), 0);
	assert_int_equal(l.n, 4);
	assert_true(l.ms[0] == 1000);

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

static void test_models(void **state)
{
	struct fx *f = *state;
	struct vl l = { 0 };

	assert_int_equal(conn_store_models(f->s, collect_model, &l), 0);
	assert_int_equal(l.n, 0);
	put_version(f->s, "b", "v1", 1);
	put_version(f->s, "a", "v1", 1);
	put_version(f->s, "a", "v2", 2);
	/* state without any version: not a model */
	assert_int_equal(conn_store_hold_set(f->s, "c", 1), 0);
	assert_int_equal(conn_store_history_append(f->s, "d", "{}", 2), 0);
	assert_int_equal(conn_store_models(f->s, collect_model, &l), 0);
	assert_int_equal(l.n, 2);
	assert_true((!strcmp(l.name[0], "a") && !strcmp(l.name[1], "b")) ||
		    (!strcmp(l.name[0], "b") && !strcmp(l.name[1], "a")));
	memset(&l, 0, sizeof l);
	l.stop_after = 1;
	assert_int_equal(conn_store_models(f->s, collect_model, &l), 0);
	assert_int_equal(l.n, 1);
}

/* ---- names ---- */

/* Fails when any path under dir is not what the store may create. */
static const char *walk_root;
static int walk_bad;

static int check_path(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	const char *rel = p + strlen(walk_root), *base = p + ftw->base;

	(void)st;
	(void)flag;
	if (strncmp(p, walk_root, strlen(walk_root)) != 0)
		walk_bad = 1;
	if (ftw->level > 0 && base[0] == '.') /* no entry of ours starts with '.' */
		walk_bad = 1;
	if (ftw->level == 1 && strcmp(rel, "/models") && strcmp(rel, "/claims"))
		walk_bad = 1;
	if (strlen(base) > 200)
		walk_bad = 1;
	return 0;
}

static void test_hostile_names(void **state)
{
	struct fx *f = *state;
	char longname[129], slashes[129], utf[129] = "";
	const char *names[] = {
		"../x",	     "a/b",	  ".",
		"..",	     ".hidden",	  "%2E",
		"x%",	     "sp ace",	  "mod\xc3\xa8le-\xc3\xbc/\xe6\x97\xa5\xe6\x9c\xac",
		"tab\there", "new\nline", longname,
		slashes,     utf
	};
	const size_t n = sizeof names / sizeof names[0];
	struct vl l = { 0 };
	struct conn_blob b = { 0 };
	char path[256];
	struct stat st;

	memset(longname, 'L', 128);
	longname[128] = '\0';
	memset(slashes, '/', 128);
	slashes[128] = '\0';
	for (int i = 0; i < 42; i++) /* 126 bytes of 3-byte characters */
		strcat(utf, "\xe6\x97\xa5");

	for (size_t i = 0; i < n; i++) {
		put_version(f->s, names[i], names[i], (int64_t)i);
		assert_int_equal(conn_store_baseline_put(f->s, names[i], names[i], "B", 1), 0);
		assert_int_equal(conn_store_latch_set(f->s, names[i], names[i], 1), 0);
		assert_int_equal(conn_store_good_set(f->s, names[i], names[i]), 0);
		assert_int_equal(conn_store_history_append(f->s, names[i], "{}", 2), 0);
		assert_int_equal(conn_store_claim(f->s, names[i]), 0);
		assert_int_equal(conn_store_claim(f->s, names[i]), 1);
	}
	/* every name comes back, distinct */
	for (size_t i = 0; i < n; i++) {
		int on = 0;

		memset(&l, 0, sizeof l);
		assert_int_equal(conn_store_versions(f->s, names[i], collect_version, &l), 0);
		assert_int_equal(l.n, 1);
		assert_string_equal(l.name[0], names[i]);
		assert_int_equal(conn_store_good_get(f->s, names[i], &b), 0);
		assert_string_equal(b.data, names[i]);
		free(b.data);
		assert_int_equal(conn_store_latch_get(f->s, names[i], names[i], &on), 0);
		assert_int_equal(on, 1);
	}
	memset(&l, 0, sizeof l);
	assert_int_equal(conn_store_models(f->s, collect_model, &l), 0);
	assert_int_equal(l.n, (int)n);
	for (size_t i = 0; i < n; i++) {
		int found = 0;

		for (int k = 0; k < l.n; k++)
			found += strcmp(l.name[k], names[i]) == 0;
		if (found != 1)
			fail_msg("model %zu listed %d times", i, found);
	}
	/* nothing outside the root, nothing hidden, nothing too long */
	walk_root = f->root;
	walk_bad = 0;
	nftw(f->root, check_path, 16, FTW_PHYS);
	assert_int_equal(walk_bad, 0);
	snprintf(path, sizeof path, "%s/x", f->dir);
	assert_int_equal(stat(path, &st), -1);
	snprintf(path, sizeof path, "%s/models/..%%2Fx", f->root);
	assert_int_equal(stat(path, &st), -1);
	snprintf(path, sizeof path, "%s/models/%%2E.%%2Fx", f->root); /* "../x" */
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof path, "%s/models/%%2E./versions/%%2E..json", f->root); /* ".." */
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof path, "%s/models/a%%2Fb/versions/a%%2Fb.json", f->root);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof path, "%s/models/%%2E/versions/%%2E.json", f->root);
	assert_int_equal(stat(path, &st), 0);
}

/* ---- baselines, good, hold, latch ---- */

static void test_state(void **state)
{
	struct fx *f = *state;
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

	on = 7;
	assert_int_equal(conn_store_latch_get(f->s, "m", "v1", &on), 0);
	assert_int_equal(on, 0);
	assert_int_equal(conn_store_latch_set(f->s, "m", "v1", 1), 0);
	assert_int_equal(conn_store_latch_get(f->s, "m", "v1", &on), 0);
	assert_int_equal(on, 1);
	assert_int_equal(conn_store_latch_get(f->s, "m", "v2", &on), 0);
	assert_int_equal(on, 0);
	assert_int_equal(conn_store_latch_set(f->s, "m", "v1", 0), 0);
	assert_int_equal(conn_store_latch_get(f->s, "m", "v1", &on), 0);
	assert_int_equal(on, 0);

	/* a corrupt flag file is an error, not a guess */
	{
		char path[256];
		int fd;

		snprintf(path, sizeof path, "%s/models/m/hold", f->root);
		fd = open(path, O_WRONLY | O_TRUNC);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, "yes", 3), 3);
		close(fd);
		assert_int_equal(conn_store_hold_get(f->s, "m", &on), -1);
		assert_non_null(strstr(conn_store_error(f->s), "flag"));
	}
}

/* ---- history and claims ---- */

static void test_history(void **state)
{
	struct fx *f = *state;
	struct el l = { 0 };
	char path[256];
	int fd;

	assert_int_equal(conn_store_history(f->s, "m", collect_entry, &l), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(conn_store_history_append(f->s, "m", "{\"n\":1}", 7), 0);
	assert_int_equal(conn_store_history_append(f->s, "m", "{\"n\":2}", 7), 0);
	assert_int_equal(conn_store_history_append(f->s, "m", "{\"n\":3}xx", 7),
			 0); /* len counts */
	assert_int_equal(conn_store_history(f->s, "m", collect_entry, &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.doc[0], "{\"n\":1}");
	assert_string_equal(l.doc[1], "{\"n\":2}");
	assert_string_equal(l.doc[2], "{\"n\":3}");
	memset(&l, 0, sizeof l);
	l.stop_after = 1;
	assert_int_equal(conn_store_history(f->s, "m", collect_entry, &l), 0);
	assert_int_equal(l.n, 1);

	/* one line, not empty */
	assert_int_equal(conn_store_history_append(f->s, "m", "{\n}", 3), -1);
	assert_int_equal(conn_store_history_append(f->s, "m", "", 0), -1);

	/* a torn last line (a crash mid-append) is not an entry, and does not swallow the next */
	snprintf(path, sizeof path, "%s/models/m/history.jsonl", f->root);
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"torn", 6), 6);
	close(fd);
	memset(&l, 0, sizeof l);
	assert_int_equal(conn_store_history(f->s, "m", collect_entry, &l), 0);
	assert_int_equal(l.n, 3);
	assert_int_equal(conn_store_history_append(f->s, "m", "{\"n\":4}", 7), 0);
	memset(&l, 0, sizeof l);
	assert_int_equal(conn_store_history(f->s, "m", collect_entry, &l), 0);
	assert_int_equal(l.n, 5);
	assert_string_equal(l.doc[3], "{\"torn");
	assert_string_equal(l.doc[4], "{\"n\":4}");
}

static void test_claims(void **state)
{
	struct fx *f = *state;
	char id[1025];

	assert_int_equal(conn_store_claim(f->s, "fraud/v2.4.0/1795730040000"), 0);
	assert_int_equal(conn_store_claim(f->s, "fraud/v2.4.0/1795730040000"), 1);
	assert_int_equal(conn_store_claim(f->s, "fraud/v2.4.0/1795730100000"), 0);
	assert_int_equal(conn_store_claim(f->s, "fraud/v2.4.0/1795730040000"), 1);
	/* long ids are shortened with a hash: still distinct */
	memset(id, 'i', 1024);
	id[1024] = '\0';
	assert_int_equal(conn_store_claim(f->s, id), 0);
	assert_int_equal(conn_store_claim(f->s, id), 1);
	id[1023] = 'j';
	assert_int_equal(conn_store_claim(f->s, id), 0);
	assert_int_equal(conn_store_claim(f->s, ""), -1);
	/* a second handle sees the same claims */
	{
		char err[256];
		struct conn_store *s2 = conn_store_open(f->spec, err, sizeof err);

		assert_non_null(s2);
		assert_int_equal(conn_store_claim(s2, "fraud/v2.4.0/1795730100000"), 1);
		conn_store_close(s2);
	}
}

/* Processes racing for one claim and one registration: exactly one wins each. */
static void test_races(void **state)
{
	struct fx *f = *state;
	enum { N = 8 };
	pid_t pid[N];
	int claimed = 0, registered = 0;

	for (int i = 0; i < N; i++) {
		pid[i] = fork();
		assert_true(pid[i] >= 0);
		if (pid[i] == 0) {
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
		struct vl l = { 0 };

		assert_int_equal(conn_store_versions(f->s, "race", collect_version, &l), 0);
		assert_int_equal(l.n, N + 1);
	}
}

/* ---- atomicity ---- */

static void test_atomic_put(void **state)
{
	struct fx *f = *state;
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

static void test_temp_files(void **state)
{
	struct fx *f = *state;
	struct vl l = { 0 };
	struct conn_blob b = { 0 };
	char path[256];
	int fd;

	put_version(f->s, "m", "v1", 1);
	/* a temporary file left by a crash, and one that looks like a document */
	snprintf(path, sizeof path, "%s/models/m/versions/.tmp.1.1", f->root);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	close(fd);
	snprintf(path, sizeof path, "%s/models/m/versions/.tmp.1.2.json", f->root);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	close(fd);
	/* an index line without a document: a registration that crashed before its link */
	snprintf(path, sizeof path, "%s/models/m/versions.idx", f->root);
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "5 ghost\n", 8), 8);
	close(fd);
	put_version(f->s, "m", "v2", 2);
	assert_int_equal(conn_store_versions(f->s, "m", collect_version, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.name[0], "v1");
	assert_string_equal(l.name[1], "v2");
	assert_int_equal(conn_store_version_get(f->s, "m", "ghost", &b), 1);
	/* the retried registration takes its own place */
	put_version(f->s, "m", "ghost", 9);
	memset(&l, 0, sizeof l);
	assert_int_equal(conn_store_versions(f->s, "m", collect_version, &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.name[2], "ghost");
	assert_int_equal(l.ms[2], 9);
	/* no temporary file of ours is left behind */
	{
		struct stat st;

		snprintf(path, sizeof path, "%s/models/m/versions/.tmp.%ld.1", f->root,
			 (long)getpid());
		assert_int_equal(stat(path, &st), -1);
	}
}

static void test_big_file(void **state)
{
	struct fx *f = *state;
	struct conn_blob b = { 0 };
	char path[256];
	int fd;

	assert_int_equal(conn_store_baseline_put(f->s, "m", "v", "x", 1), 0);
	snprintf(path, sizeof path, "%s/models/m/baselines/v.json", f->root);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)(64 << 20) + 1), 0);
	close(fd);
	assert_int_equal(conn_store_baseline_get(f->s, "m", "v", &b), -1);
	assert_non_null(strstr(conn_store_error(f->s), "larger"));
	assert_null(b.data);
}

/* ---- errors ---- */

static void test_errors(void **state)
{
	struct fx *f = *state;
	struct conn_blob b = { 0 };
	char path[256];
	const char *e;
	char first[512];
	int fd;

	/* "models" and "claims" are files: nothing can be created below them */
	snprintf(path, sizeof path, "%s/models", f->root);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	close(fd);
	snprintf(path, sizeof path, "%s/claims", f->root);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	close(fd);

	assert_int_equal(conn_store_version_put(f->s, "m", "v1", "{}", 2, 1), -1);
	e = conn_store_error(f->s);
	assert_true(e[0] != '\0');
	assert_non_null(strstr(e, "models"));
	snprintf(first, sizeof first, "%s", e);
	/* first error wins */
	assert_int_equal(conn_store_claim(f->s, "id"), -1);
	assert_string_equal(conn_store_error(f->s), first);
	assert_int_equal(conn_store_baseline_put(f->s, "m", "v1", "{}", 2), -1);
	assert_int_equal(conn_store_history_append(f->s, "m", "{}", 2), -1);
	assert_int_equal(conn_store_good_set(f->s, "m", "v1"), -1);
	assert_int_equal(conn_store_hold_set(f->s, "m", 1), -1);
	assert_int_equal(conn_store_latch_set(f->s, "m", "v1", 1), -1);
	assert_string_equal(conn_store_error(f->s), first);
	/* a lookup that succeeds (not found) clears it */
	assert_int_equal(conn_store_baseline_get(f->s, "m", "v1", &b), 1);
	assert_string_equal(conn_store_error(f->s), "");
	assert_int_equal(conn_store_claim(f->s, "id"), -1);
	assert_non_null(strstr(conn_store_error(f->s), "claims"));

	/* without write permission (meaningless for root, who may write anyway) */
	if (geteuid() != 0) {
		char err[256], spec[200], dir[160];
		struct conn_store *s;

		snprintf(dir, sizeof dir, "%s/ro", f->dir);
		assert_int_equal(mkdir(dir, 0555), 0);
		snprintf(spec, sizeof spec, "dir:%s", dir);
		s = conn_store_open(spec, err, sizeof err);
		assert_non_null(s);
		assert_int_equal(conn_store_version_put(s, "m", "v1", "{}", 2, 1), -1);
		assert_non_null(strstr(conn_store_error(s), "ermission"));
		assert_int_equal(conn_store_claim(s, "x"), -1);
		conn_store_close(s);
		chmod(dir, 0755);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_models, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claims, setup, teardown),
		cmocka_unit_test_setup_teardown(test_races, setup, teardown),
		cmocka_unit_test_setup_teardown(test_atomic_put, setup, teardown),
		cmocka_unit_test_setup_teardown(test_temp_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	};

	return TU_RUN(tests);
}

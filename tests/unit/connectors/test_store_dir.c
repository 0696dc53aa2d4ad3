/*
 * test_store_dir.c -- the "dir:PATH" store (connectors/store_dir*.c, atomic_file.c): the behaviour
 * every backend owes store.h (store_suite.h), then what is particular to files: nested directories
 * created at open, the dispatch's refusals, percent-encoding of hostile and long names on disk
 * (nothing escapes the directory, nothing hidden, nothing too long), corrupt flag files, torn
 * history lines, temporary files and index lines left by a crash, the read bound, and system errors
 * kept on the handle.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "connectors/store.h"
#include "testutil.h"
#include "store_suite.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- fixtures ---- */

struct fx {
	struct suite_fx sf; /* first: spec "dir:<dir>/store" and the open handle */
	char dir[64];	    /* the temporary directory */
	char root[96];	    /* "<dir>/store" */
};

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* suite_fx.cut: every ckpt/<scope>/checkpoint becomes a directory, so that every read of a
 * scope that was committed to fails ("not a regular file"). */
static void cut(struct suite_fx *sf)
{
	struct fx *f = (struct fx *)sf;
	char ck[128], p[512];
	struct dirent *de;
	DIR *d;

	snprintf(ck, sizeof ck, "%s/ckpt", f->root);
	d = opendir(ck);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/%s/checkpoint", ck, de->d_name);
		unlink(p);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	closedir(d);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char err[256];

	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/driftd-test-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->root, sizeof f->root, "%s/store", f->dir);
	snprintf(f->sf.spec, sizeof f->sf.spec, "dir:%s", f->root);
	f->sf.cut = cut;
	f->sf.s = conn_store_open(f->sf.spec, err, sizeof err);
	if (!f->sf.s)
		fail_msg("open: %s", err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	conn_store_close(f->sf.s);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
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

	/* the dispatch: other schemes are refused, a password is never echoed */
	err[0] = '\0';
	assert_null(conn_store_open("rediss://:secret@localhost:6379/0", err, sizeof err));
	assert_non_null(strstr(err, "TLS"));
	assert_null(strstr(err, "secret"));
	assert_null(conn_store_open("file:/tmp/x", err, sizeof err));
	assert_non_null(strstr(err, "unsupported store file:"));
	assert_null(conn_store_open("mysql://root:secret@db/x", err, sizeof err));
	assert_non_null(strstr(err, "unsupported store mysql:"));
	assert_null(strstr(err, "secret"));
	assert_null(conn_store_open("secret", err, sizeof err));
	assert_non_null(strstr(err, "unsupported store"));
	assert_null(strstr(err, "secret"));
	assert_null(conn_store_open("", err, sizeof err));
	assert_non_null(strstr(err, "no store"));
	assert_null(conn_store_open(NULL, err, sizeof err));
	assert_null(conn_store_open("dir:", err, sizeof err));
	assert_non_null(strstr(err, "store dir"));
	/* a path that is a file */
	snprintf(spec, sizeof spec, "%s/file", f->dir);
	close(open(spec, O_WRONLY | O_CREAT, 0644));
	snprintf(spec, sizeof spec, "dir:%s/file", f->dir);
	err[0] = '\0';
	assert_null(conn_store_open(spec, err, sizeof err));
	assert_true(err[0] != '\0');
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

/* The suite's names round trip, then what they became on disk. */
static void test_hostile_names(void **state)
{
	struct fx *f = *state;
	char path[256];
	struct stat st;

	suite_names_roundtrip(f->sf.s);
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

/* ---- flags and history on disk ---- */

/* A corrupt flag file is an error, not a guess. */
static void test_corrupt_flag(void **state)
{
	struct fx *f = *state;
	char path[256];
	int fd, on = 7;

	assert_int_equal(conn_store_hold_set(f->sf.s, "m", 1), 0);
	snprintf(path, sizeof path, "%s/models/m/hold", f->root);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "yes", 3), 3);
	close(fd);
	assert_int_equal(conn_store_hold_get(f->sf.s, "m", &on), -1);
	assert_int_equal(on, 0);
	assert_non_null(strstr(conn_store_error(f->sf.s), "flag"));
}

/* A torn last line (a crash mid-append) is not an entry, and does not swallow the next. */
static void test_torn_history(void **state)
{
	struct fx *f = *state;
	struct suite_el l = { 0 };
	char path[256];
	int fd;

	assert_int_equal(conn_store_history_append(f->sf.s, "m", "{\"n\":1}", 7), 0);
	assert_int_equal(conn_store_history_append(f->sf.s, "m", "{\"n\":2}", 7), 0);
	snprintf(path, sizeof path, "%s/models/m/history.jsonl", f->root);
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"torn", 6), 6);
	close(fd);
	assert_int_equal(conn_store_history(f->sf.s, "m", suite_collect_entry, &l), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(conn_store_history_append(f->sf.s, "m", "{\"n\":4}", 7), 0);
	memset(&l, 0, sizeof l);
	assert_int_equal(conn_store_history(f->sf.s, "m", suite_collect_entry, &l), 0);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.doc[2], "{\"torn");
	assert_string_equal(l.doc[3], "{\"n\":4}");
}

/* ---- crashes and bounds ---- */

static void test_temp_files(void **state)
{
	struct fx *f = *state;
	struct suite_vl l = { 0 };
	struct conn_blob b = { 0 };
	char path[256];
	int fd;

	suite_put_version(f->sf.s, "m", "v1", 1);
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
	suite_put_version(f->sf.s, "m", "v2", 2);
	assert_int_equal(conn_store_versions(f->sf.s, "m", suite_collect_version, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.name[0], "v1");
	assert_string_equal(l.name[1], "v2");
	assert_int_equal(conn_store_version_get(f->sf.s, "m", "ghost", &b), 1);
	/* the retried registration takes its own place */
	suite_put_version(f->sf.s, "m", "ghost", 9);
	memset(&l, 0, sizeof l);
	assert_int_equal(conn_store_versions(f->sf.s, "m", suite_collect_version, &l), 0);
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

	assert_int_equal(conn_store_baseline_put(f->sf.s, "m", "v", "x", 1), 0);
	snprintf(path, sizeof path, "%s/models/m/baselines/v.json", f->root);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)(64 << 20) + 1), 0);
	close(fd);
	assert_int_equal(conn_store_baseline_get(f->sf.s, "m", "v", &b), -1);
	assert_non_null(strstr(conn_store_error(f->sf.s), "larger"));
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

	assert_int_equal(conn_store_version_put(f->sf.s, "m", "v1", "{}", 2, 1), -1);
	e = conn_store_error(f->sf.s);
	assert_true(e[0] != '\0');
	assert_non_null(strstr(e, "models"));
	snprintf(first, sizeof first, "%s", e);
	/* first error wins */
	assert_int_equal(conn_store_claim(f->sf.s, "id"), -1);
	assert_string_equal(conn_store_error(f->sf.s), first);
	assert_int_equal(conn_store_baseline_put(f->sf.s, "m", "v1", "{}", 2), -1);
	assert_int_equal(conn_store_history_append(f->sf.s, "m", "{}", 2), -1);
	assert_int_equal(conn_store_good_set(f->sf.s, "m", "v1"), -1);
	assert_int_equal(conn_store_hold_set(f->sf.s, "m", 1), -1);
	assert_int_equal(conn_store_latch_set(f->sf.s, "m", "v1", 1), -1);
	assert_string_equal(conn_store_error(f->sf.s), first);
	/* a lookup that succeeds (not found) clears it */
	assert_int_equal(conn_store_baseline_get(f->sf.s, "m", "v1", &b), 1);
	assert_string_equal(conn_store_error(f->sf.s), "");
	assert_int_equal(conn_store_claim(f->sf.s, "id"), -1);
	assert_non_null(strstr(conn_store_error(f->sf.s), "claims"));

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

/* ---- checkpoints, pending events and locks on disk ---- */

/* Writes a whole file (for damaging the store's). */
static void write_file(const char *path, const void *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
}

/* The number of entries of dir whose name starts with '.' (beyond . and ..). */
static int hidden_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] == '.' && strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

static void test_ckpt_files(void **state)
{
	struct fx *f = *state;
	const struct conn_ckpt_item part[] = { { "W", 1, "p\0q", 3 } };
	const struct conn_ckpt_offset off = { "t/0", 1, 2, 3 };
	const struct conn_ckpt c = { "a", &off, 1, part, 1, NULL, 0, part, 1 };
	struct suite_kv l = { 0 };
	char path[256], dir[200];
	struct conn_blob b = { 0 };
	struct stat st;
	int fd;

	suite_commit(f->sf.s, "g/1", &c);
	assert_int_equal(conn_store_lock(f->sf.s, "g/1", "L", "a", 10000), 0);
	assert_int_equal(conn_store_pending_put(f->sf.s, "e/1", "m", "{}", 2), 0);
	snprintf(dir, sizeof dir, "%s/ckpt/g%%2F1", f->root);
	for (size_t i = 0; i < 3; i++) {
		static const char *files[] = { "checkpoint", "flock", "locks/L" };

		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		if (stat(path, &st) != 0)
			fail_msg("%s is missing", path);
	}
	snprintf(path, sizeof path, "%s/pending/e%%2F1", f->root);
	assert_int_equal(stat(path, &st), 0);
	/* no temporary file left behind */
	assert_int_equal(hidden_files(dir), 0);
	snprintf(path, sizeof path, "%s/pending", f->root);
	assert_int_equal(hidden_files(path), 0);
	assert_int_equal(hidden_files(f->root), 0); /* ping's probe neither */
	assert_int_equal(conn_store_ping(f->sf.s), 0);
	assert_int_equal(hidden_files(f->root), 0);

	/* the file format: magic first, "end" last */
	snprintf(path, sizeof path, "%s/checkpoint", dir);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	b.len = (size_t)st.st_size;
	b.data = malloc(b.len + 1);
	assert_non_null(b.data);
	assert_int_equal(read(fd, b.data, b.len), (ssize_t)b.len);
	close(fd);
	assert_memory_equal(b.data, "driftd checkpoint 1\n", 20);
	assert_memory_equal(b.data + b.len - 4, "end\n", 4);

	/* a damaged checkpoint is an error, and no commit replaces it */
	write_file(path, b.data, b.len - 4);
	assert_int_equal(conn_store_ckpt_offsets(f->sf.s, "g/1", suite_kv_offset, &l), -1);
	assert_non_null(strstr(conn_store_error(f->sf.s), "checkpoint"));
	assert_int_equal(conn_store_ckpt_commit(f->sf.s, "g/1", &c), -1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, (off_t)b.len - 4);
	write_file(path, "driftd checkpoint 1\np 1 1 5\nW\na\nxx\nend\n", 38);
	assert_int_equal(conn_store_ckpt_windows(f->sf.s, "g/1", suite_kv_key, &l), -1);
	write_file(path, b.data, b.len);
	free(b.data);
	suite_read_windows(f->sf.s, "g/1", &l);
	assert_int_equal(l.n, 1);

	/* a temporary file of a crashed writer is no data */
	snprintf(path, sizeof path, "%s/.tmp.1.1", dir);
	write_file(path, "garbage", 7);
	suite_read_states(f->sf.s, "g/1", &l);
	assert_int_equal(l.n, 1);
	suite_has(&l, "W", 1, "p\0q", 3);
	suite_commit(f->sf.s, "g/1", &c);
	unlink(path);

	/* a lock whose expiry passed is free; a lock file that is not one is an error */
	snprintf(path, sizeof path, "%s/locks/L", dir);
	write_file(path, "lock 1 1 1\nz\n", 13);
	assert_int_equal(conn_store_lock(f->sf.s, "g/1", "L", "b", 10000), 0);
	assert_int_equal(conn_store_lock(f->sf.s, "g/1", "L", "z", 10000), 1);
	write_file(path, "lock 1 x\n", 9);
	assert_int_equal(conn_store_lock(f->sf.s, "g/1", "L", "b", 10000), -1);
	assert_non_null(strstr(conn_store_error(f->sf.s), "lock file"));
	assert_int_equal(conn_store_unlock(f->sf.s, "g/1", "L", "b"), -1);
	unlink(path);
	assert_int_equal(conn_store_lock(f->sf.s, "g/1", "L", "b", 10000), 0);

	/* a pending file that is not one, or under the name of another id */
	snprintf(path, sizeof path, "%s/pending/e%%2F2", f->root);
	write_file(path, "pending 1 3 1 2\ne/1\nm\n{}\n", 25);
	suite_kv_free(&l);
	assert_int_equal(conn_store_pending_list(f->sf.s, suite_kv_pending, &l), -1);
	assert_non_null(strstr(conn_store_error(f->sf.s), "another id"));
	suite_kv_free(&l);
	assert_int_equal(conn_store_ping(f->sf.s), 0);
	write_file(path, "pending 1 3 1 9\ne/2\nm\n{}\n", 25);
	assert_int_equal(conn_store_pending_list(f->sf.s, suite_kv_pending, &l), -1);
	assert_non_null(strstr(conn_store_error(f->sf.s), "not a pending event"));
	suite_kv_free(&l);
	unlink(path);
	assert_int_equal(conn_store_pending_list(f->sf.s, suite_kv_pending, &l), 0);
	assert_int_equal(l.n, 1);
	suite_kv_free(&l);
}

/* ping: the directory must be there and writable. */
static void test_ping_gone(void **state)
{
	struct fx *f = *state;
	char spec[160], dir[128], err[256];
	struct conn_store *s;

	snprintf(dir, sizeof dir, "%s/gone", f->dir);
	snprintf(spec, sizeof spec, "dir:%s", dir);
	s = conn_store_open(spec, err, sizeof err);
	assert_non_null(s);
	assert_int_equal(conn_store_ping(s), 0);
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(conn_store_ping(s), -1);
	assert_non_null(strstr(conn_store_error(s), "store directory"));
	conn_store_close(s);
	if (geteuid() != 0) { /* root may write anyway */
		snprintf(dir, sizeof dir, "%s/ro2", f->dir);
		snprintf(spec, sizeof spec, "dir:%s", dir);
		s = conn_store_open(spec, err, sizeof err);
		assert_non_null(s);
		chmod(dir, 0555);
		assert_int_equal(conn_store_ping(s), -1);
		chmod(dir, 0755);
		conn_store_close(s);
	}
}

/* A full disk (a 256 KiB tmpfs, filled): the probe writes and syncs a small file, so it says
 * unreachable (an empty file could still be created), and reachable again once there is room.
 * Needs the right to mount (root, as in CI): skipped otherwise, saying so. */
static void test_ping_disk_full(void **state)
{
	struct fx *f = *state;
	char spec[160], mnt[128], fill[192], err[256];
	struct conn_store *s;

	snprintf(mnt, sizeof mnt, "%s/small", f->dir);
	if (tu_tmpfs_mount(mnt, "256k") < 0) {
		fprintf(stderr,
			"# cannot mount a tmpfs here (not root?): disk-full probe skipped\n");
		skip();
	}
	snprintf(spec, sizeof spec, "dir:%s/store", mnt);
	s = conn_store_open(spec, err, sizeof err);
	assert_non_null(s);
	assert_int_equal(conn_store_ping(s), 0);
	snprintf(fill, sizeof fill, "%s/filler", mnt);
	tu_fill_disk(fill);
	assert_int_equal(conn_store_ping(s), -1);
	assert_non_null(strstr(conn_store_error(s), "write a file in the store directory"));
	assert_int_equal(unlink(fill), 0);
	assert_int_equal(conn_store_ping(s), 0);
	conn_store_close(s);
	tu_tmpfs_umount(mnt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SUITE_TESTS("dir: ", setup, teardown),
		cmocka_unit_test_setup_teardown(test_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_temp_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ckpt_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ping_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ping_disk_full, setup, teardown),
	};

	return TU_RUN(tests);
}

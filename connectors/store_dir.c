/*
 * store_dir.c -- the "dir:PATH" backend of store.h: driftd's durable state as files under one
 * directory (layout in doc/store.md), behind the ops table of store_impl.h (store.c dispatches).
 *
 *   PATH/models/<m>/name                   the raw model name (only when <m> is a hashed name)
 *   PATH/models/<m>/versions.idx           "<registered_ms> <full encoding of version>\n" lines
 *   PATH/models/<m>/versions/<v>.json      registration documents
 *   PATH/models/<m>/baselines/<v>.json     baselines
 *   PATH/models/<m>/good                   the last known good version (raw bytes)
 *   PATH/models/<m>/hold                   "1\n" or "0\n"
 *   PATH/models/<m>/latch/<v>              "1\n" or "0\n"
 *   PATH/models/<m>/cooldown               the window end (ms) of its last rollback, "<ms>\n"
 *   PATH/models/<m>/cooldown.lock          empty; its flock serializes the raises
 *   PATH/models/<m>/history.jsonl          one entry per line, appended
 *   PATH/claims/<id>                       a claim: empty (claimed), the outbox entry of its
 *                                          event (pending) or "d" (delivered); never replaced
 *                                          but by conn_store_outbox_done
 *   PATH/pending/<id>                      an event waiting for delivery: its id, model, JSON
 *   PATH/ckpt/<scope>/checkpoint           the scope's whole checkpoint, rewritten per commit
 *   PATH/ckpt/<scope>/flock                empty; its flock serializes the scope's writers
 *   PATH/ckpt/<scope>/locks/<name>         a lock: its owner and expiry (wall clock, ms)
 *
 * Names (models, versions, ids, scopes, lock names) are percent-encoded: every byte outside
 * [A-Za-z0-9._-], and a leading '.', becomes %XX, so no name can be "." or "..", contain '/',
 * or start with '.' (the temporary files do). An encoding longer than 160 bytes is shortened
 * to its first bytes, '~' and the SHA-256 of the raw name in hex ('~' never appears in an
 * encoding): file names stay under NAME_MAX for every legal name.
 *
 * Writes: a temporary ".tmp.<pid>.<n>" in the target's directory, written, fsync'd, renamed over
 * the target (linked, for a registration, so that an existing version is never replaced), then
 * the directory fsync'd. A version is registered once its document exists; versions.idx gives
 * the order. version_put holds an flock on versions.idx, appends the index line (fsync'd) and
 * only then links the document, so a crash can leave an index line without a document (ignored;
 * a retry appends a new one, and the last line of a name wins) but never a document without its
 * line. History appends hold an flock on history.jsonl and complete a torn last line first.
 * A checkpoint commit holds the scope's flock, reads the checkpoint, applies the commit and
 * writes the whole file back the same way (one rename: all of the commit or none of it);
 * readers take no lock. Pending events and checkpoints are framed files that hold the raw ids
 * and keys, so shortened file names lose nothing. A key prefix is accepted and ignored. Reads
 * refuse files over CONN_DIR_MAX_FILE bytes (a checkpoint: CKPT_MAX_FILE). Nothing is ever
 * printed: errors stay on the handle.
 *
 * The file layer (name encoding, atomic writes, bounded reads, flocks, framed files) is
 * atomic_file.c; the checkpoints and locks are store_dir_ckpt.c. This file holds the layout
 * of the registry, baselines, flags, history, claims and pending events, and the ops table.
 */
#include "connectors/store_dir_impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_NAME 128u			   /* model and version names, bytes */
#define MAX_ID	 1024u			   /* claim ids, bytes */
#define MREL_MAX (8 + CONN_AFILE_NAME_MAX) /* "models/<m>" with its NUL */

/* ---- names ---- */

/* 0 when name is 1..max bytes without NUL; -1 with the error set otherwise. */
static int check_name(struct dir_store *s, const char *what, const char *name, size_t max)
{
	size_t n = name ? strnlen(name, max + 1) : 0;

	if (n == 0 || n > max) {
		conn_store_errf(&s->base, "%s name must be 1 to %zu bytes", what, max);
		return -1;
	}
	return 0;
}

/* "models/<enc(model)>" into rel (MREL_MAX bytes); -1 when the model name is invalid. */
static int model_rel(struct dir_store *s, const char *model, char *rel)
{
	char e[CONN_AFILE_NAME_MAX];

	if (check_name(s, "model", model, MAX_NAME) < 0)
		return -1;
	conn_afile_enc_name(model, strlen(model), e);
	snprintf(rel, MREL_MAX, "models/%s", e);
	return 0;
}

/* Reads root-relative rel (at most CONN_DIR_MAX_FILE bytes) into out: 0, 1 when missing, -1 on
 * error. */
static int get_file(struct dir_store *s, const char *rel, struct conn_blob *out)
{
	return conn_afile_get(&s->fs, rel, CONN_DIR_MAX_FILE, out);
}

/* Creates models/<m> with, for a shortened name, the file "name" holding the raw name. */
static int model_dir_create(struct dir_store *s, const char *model, char *rel)
{
	char name_rel[CONN_AFILE_REL_MAX];
	int e;

	if (model_rel(s, model, rel) < 0 || conn_afile_mkdirs(&s->fs, rel) < 0)
		return -1;
	if (!strchr(rel, '~'))
		return 0;
	snprintf(name_rel, sizeof name_rel, "%s/name", rel);
	e = conn_afile_exists(&s->fs, name_rel);
	if (e != 0)
		return e < 0 ? -1 : 0;
	return conn_afile_put(&s->fs, rel, "name", model, strlen(model), 0);
}

/* A flag file ("1\n" / "0\n"): *on receives its value, 0 when missing. */
static int get_flag(struct dir_store *s, const char *rel, int *on)
{
	struct conn_blob b = { 0 };
	int rc = get_file(s, rel, &b);

	*on = 0;
	if (rc < 0)
		return -1;
	if (rc == 1)
		return 0;
	if (b.len == 2 && (b.data[0] == '0' || b.data[0] == '1') && b.data[1] == '\n') {
		*on = b.data[0] == '1';
	} else {
		conn_store_errf(&s->base, "%s: not a flag file", rel);
		rc = -1;
	}
	free(b.data);
	return rc;
}

/* ---- open / close ---- */

static const struct conn_store_ops dir_ops;

struct conn_store *conn_store_dir_open(const char *path, char *errbuf, size_t errlen)
{
	struct dir_store *s;
	char buf[4096];
	size_t n;

	n = strlen(path);
	if (n == 0 || n >= sizeof buf) {
		snprintf(errbuf, errlen, "store dir: the path must be 1 to %zu bytes",
			 sizeof buf - 1);
		return NULL;
	}
	/* mkdir -p PATH */
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST) {
			snprintf(errbuf, errlen, "store %s: mkdir %s: %s", path, buf,
				 strerror(errno));
			return NULL;
		}
		buf[i] = i < n ? '/' : '\0';
	}
	s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	s->base.ops = &dir_ops;
	s->fs.err = &s->base;
	s->fs.root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->fs.root < 0) {
		snprintf(errbuf, errlen, "store %s: %s", path, strerror(errno));
		free(s);
		return NULL;
	}
	return &s->base;
}

static void dir_close(struct conn_store *cs)
{
	struct dir_store *s = (struct dir_store *)cs;

	close(s->fs.root);
	free(s);
}

/* ---- version registry ---- */

static int dir_version_put(struct conn_store *cs, const char *model, const char *version,
			   const char *doc, size_t len, int64_t registered_ms)
{
	struct dir_store *s = (struct dir_store *)cs;
	char mrel[MREL_MAX], idx[CONN_AFILE_REL_MAX], dir[MREL_MAX + 16],
	    vfile[CONN_AFILE_NAME_MAX + 8], vfull[CONN_AFILE_FULL_MAX];
	char line[CONN_AFILE_FULL_MAX + 32], vrel[CONN_AFILE_REL_MAX];
	int fd, rc;

	if (check_name(s, "version", version, MAX_NAME) < 0 || model_dir_create(s, model, mrel) < 0)
		return -1;
	conn_afile_enc_name(version, strlen(version), vfile);
	strcat(vfile, ".json");
	conn_afile_enc_full(version, strlen(version), vfull);
	snprintf(dir, sizeof dir, "%s/versions", mrel);
	snprintf(idx, sizeof idx, "%s/versions.idx", mrel);
	snprintf(vrel, sizeof vrel, "%s/%s", dir, vfile);

	fd = conn_afile_lock(&s->fs, idx, O_RDWR | O_CREAT | O_APPEND);
	if (fd < 0)
		return -1;
	rc = conn_afile_exists(&s->fs, vrel);
	if (rc != 0) {
		if (rc > 0)
			conn_store_errf(&s->base, "version already registered");
		close(fd);
		return rc > 0 ? 2 : -1;
	}
	snprintf(line, sizeof line, "%lld %s\n", (long long)registered_ms, vfull);
	if (conn_afile_write_all(fd, line, strlen(line)) < 0 || fsync(fd) < 0) {
		conn_afile_sys_err(&s->fs, "append to", idx);
		close(fd);
		return -1;
	}
	rc = conn_afile_put(&s->fs, dir, vfile, doc, len, 1);
	close(fd); /* releases the lock */
	return rc == 0 ? conn_store_done(&s->base, 0) : rc;
}

static int dir_version_get(struct conn_store *cs, const char *model, const char *version,
			   struct conn_blob *out)
{
	struct dir_store *s = (struct dir_store *)cs;
	char mrel[MREL_MAX], vfile[CONN_AFILE_NAME_MAX], rel[CONN_AFILE_REL_MAX];

	if (model_rel(s, model, mrel) < 0 || check_name(s, "version", version, MAX_NAME) < 0)
		return -1;
	conn_afile_enc_name(version, strlen(version), vfile);
	snprintf(rel, sizeof rel, "%s/versions/%s.json", mrel, vfile);
	return conn_store_done(&s->base, get_file(s, rel, out));
}

/* One line of versions.idx. */
struct idx_entry {
	char *name; /* decoded version name */
	int64_t ms; /* registration time */
	size_t pos; /* line number */
	int keep;   /* the last line of its name, with a document */
};

static int cmp_entry_name(const void *a, const void *b)
{
	const struct idx_entry *x = *(struct idx_entry *const *)a,
			       *y = *(struct idx_entry *const *)b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

/* Parses versions.idx into entries (keep set on the registered ones). *n receives the count. */
static int read_index(struct dir_store *s, const char *mrel, struct idx_entry **out, size_t *n)
{
	char rel[CONN_AFILE_REL_MAX], vrel[CONN_AFILE_REL_MAX], vfile[CONN_AFILE_NAME_MAX];
	struct conn_blob b = { 0 };
	struct idx_entry *e = NULL, **by = NULL;
	size_t ne = 0, cap = 0;
	int rc;
	char *p, *end;

	*out = NULL;
	*n = 0;
	snprintf(rel, sizeof rel, "%s/versions.idx", mrel);
	rc = get_file(s, rel, &b);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	for (p = b.data, end = b.data + b.len; p < end;) {
		char *nl = memchr(p, '\n', (size_t)(end - p)), *sp, name[MAX_ID + 1];
		long long ms;
		long len;

		if (!nl)
			break; /* a torn last line */
		*nl = '\0';
		sp = strchr(p, ' ');
		if (!sp || sscanf(p, "%lld", &ms) != 1 ||
		    (len = conn_afile_dec_full(sp + 1, name, sizeof name)) < 0) {
			conn_store_errf(&s->base, "%s: malformed line", rel);
			goto fail;
		}
		if (ne == cap) {
			struct idx_entry *ng;

			cap = cap ? 2 * cap : 16;
			ng = realloc(e, cap * sizeof *e);
			if (!ng)
				goto nomem;
			e = ng;
		}
		e[ne] = (struct idx_entry){ .name = strdup(name), .ms = ms, .pos = ne };
		if (!e[ne].name)
			goto nomem;
		ne++;
		p = nl + 1;
	}
	free(b.data);
	b.data = NULL;
	/* the last line of each name counts, when its document exists */
	by = malloc((ne ? ne : 1) * sizeof *by);
	if (!by)
		goto nomem;
	for (size_t i = 0; i < ne; i++)
		by[i] = &e[i];
	qsort(by, ne, sizeof *by, cmp_entry_name);
	for (size_t i = 0; i < ne; i++) {
		if (i + 1 < ne && strcmp(by[i]->name, by[i + 1]->name) == 0)
			continue;
		conn_afile_enc_name(by[i]->name, strlen(by[i]->name), vfile);
		snprintf(vrel, sizeof vrel, "%s/versions/%s.json", mrel, vfile);
		rc = conn_afile_exists(&s->fs, vrel);
		if (rc < 0)
			goto fail;
		by[i]->keep = rc;
	}
	free(by);
	*out = e;
	*n = ne;
	return 0;
nomem:
	conn_store_errf(&s->base, "out of memory reading %s", rel);
fail:
	free(by);
	free(b.data);
	for (size_t i = 0; i < ne; i++)
		free(e[i].name);
	free(e);
	return -1;
}

static void free_index(struct idx_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].name);
	free(e);
}

static int dir_versions(struct conn_store *cs, const char *model, conn_store_version_fn fn,
			void *arg)
{
	struct dir_store *s = (struct dir_store *)cs;
	char mrel[MREL_MAX];
	struct idx_entry *e;
	size_t n;

	if (model_rel(s, model, mrel) < 0 || read_index(s, mrel, &e, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (e[i].keep && fn(arg, e[i].name, e[i].ms) != 0)
			break;
	free_index(e, n);
	return conn_store_done(&s->base, 0);
}

static int stop_at_first(void *arg, const char *version, int64_t ms)
{
	(void)version;
	(void)ms;
	*(int *)arg = 1;
	return 1;
}

static int dir_models(struct conn_store *cs, conn_store_model_fn fn, void *arg)
{
	struct dir_store *s = (struct dir_store *)cs;
	int dfd = conn_afile_open_dir(&s->fs, "models", 0), stop = 0;
	DIR *d;
	struct dirent *de;

	if (dfd == -2)
		return conn_store_done(&s->base, 0);
	if (dfd < 0)
		return -1;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return conn_afile_sys_err(&s->fs, "open", "models");
	}
	while (!stop && (errno = 0, de = readdir(d)) != NULL) {
		char name[MAX_ID + 1], rel[CONN_AFILE_REL_MAX];
		int any = 0;

		if (de->d_name[0] == '.')
			continue;
		if (strchr(de->d_name, '~')) { /* shortened: the raw name is in the name file */
			struct conn_blob b = { 0 };
			int rc;

			snprintf(rel, sizeof rel, "models/%s/name", de->d_name);
			rc = get_file(s, rel, &b);
			if (rc < 0) {
				closedir(d);
				return -1;
			}
			if (rc == 1 || b.len == 0 || b.len > MAX_NAME || memchr(b.data, 0, b.len)) {
				free(b.data);
				continue;
			}
			memcpy(name, b.data, b.len + 1);
			free(b.data);
		} else if (conn_afile_dec_full(de->d_name, name, sizeof name) < 0 ||
			   strlen(name) > MAX_NAME) {
			continue; /* not ours */
		}
		if (dir_versions(&s->base, name, stop_at_first, &any) < 0) {
			closedir(d);
			return -1;
		}
		if (any && fn(arg, name) != 0)
			stop = 1;
	}
	if (!stop && errno != 0) {
		conn_afile_sys_err(&s->fs, "read", "models");
		closedir(d);
		return -1;
	}
	closedir(d);
	return conn_store_done(&s->base, 0);
}

/* ---- baselines ---- */

static int dir_baseline_put(struct conn_store *cs, const char *model, const char *version,
			    const char *doc, size_t len)
{
	struct dir_store *s = (struct dir_store *)cs;
	char mrel[MREL_MAX], dir[MREL_MAX + 16], vfile[CONN_AFILE_NAME_MAX + 8];

	if (check_name(s, "version", version, MAX_NAME) < 0 || model_dir_create(s, model, mrel) < 0)
		return -1;
	conn_afile_enc_name(version, strlen(version), vfile);
	strcat(vfile, ".json");
	snprintf(dir, sizeof dir, "%s/baselines", mrel);
	return conn_store_done(&s->base, conn_afile_put(&s->fs, dir, vfile, doc, len, 0));
}

static int dir_baseline_get(struct conn_store *cs, const char *model, const char *version,
			    struct conn_blob *out)
{
	struct dir_store *s = (struct dir_store *)cs;
	char mrel[MREL_MAX], vfile[CONN_AFILE_NAME_MAX], rel[CONN_AFILE_REL_MAX];

	if (model_rel(s, model, mrel) < 0 || check_name(s, "version", version, MAX_NAME) < 0)
		return -1;
	conn_afile_enc_name(version, strlen(version), vfile);
	snprintf(rel, sizeof rel, "%s/baselines/%s.json", mrel, vfile);
	return conn_store_done(&s->base, get_file(s, rel, out));
}

/* ---- last known good, hold, latch ---- */

static int dir_good_set(struct conn_store *cs, const char *model, const char *version)
{
	struct dir_store *s = (struct dir_store *)cs;
	char mrel[MREL_MAX];

	if (check_name(s, "version", version, MAX_NAME) < 0 || model_dir_create(s, model, mrel) < 0)
		return -1;
	return conn_store_done(&s->base,
			       conn_afile_put(&s->fs, mrel, "good", version, strlen(version), 0));
}

static int dir_good_get(struct conn_store *cs, const char *model, struct conn_blob *out)
{
	struct dir_store *s = (struct dir_store *)cs;
	char mrel[MREL_MAX], rel[CONN_AFILE_REL_MAX];
	int rc;

	if (model_rel(s, model, mrel) < 0)
		return -1;
	snprintf(rel, sizeof rel, "%s/good", mrel);
	rc = get_file(s, rel, out);
	if (rc == 0 && (out->len == 0 || out->len > MAX_NAME || memchr(out->data, 0, out->len))) {
		free(out->data);
		out->data = NULL;
		out->len = 0;
		conn_store_errf(&s->base, "%s: not a version name", rel);
		return -1;
	}
	return conn_store_done(&s->base, rc);
}

static int dir_hold_set(struct conn_store *cs, const char *model, int on)
{
	struct dir_store *s = (struct dir_store *)cs;
	char mrel[MREL_MAX];

	if (model_dir_create(s, model, mrel) < 0)
		return -1;
	return conn_store_done(&s->base,
			       conn_afile_put(&s->fs, mrel, "hold", on ? "1\n" : "0\n", 2, 0));
}

static int dir_hold_get(struct conn_store *cs, const char *model, int *on)
{
	struct dir_store *s = (struct dir_store *)cs;
	char mrel[MREL_MAX], rel[CONN_AFILE_REL_MAX];

	*on = 0;
	if (model_rel(s, model, mrel) < 0)
		return -1;
	snprintf(rel, sizeof rel, "%s/hold", mrel);
	return conn_store_done(&s->base, get_flag(s, rel, on));
}

static int dir_latch_set(struct conn_store *cs, const char *model, const char *version, int on)
{
	struct dir_store *s = (struct dir_store *)cs;
	char mrel[MREL_MAX], dir[MREL_MAX + 16], vfile[CONN_AFILE_NAME_MAX];

	if (check_name(s, "version", version, MAX_NAME) < 0 || model_dir_create(s, model, mrel) < 0)
		return -1;
	conn_afile_enc_name(version, strlen(version), vfile);
	snprintf(dir, sizeof dir, "%s/latch", mrel);
	return conn_store_done(&s->base,
			       conn_afile_put(&s->fs, dir, vfile, on ? "1\n" : "0\n", 2, 0));
}

static int dir_latch_get(struct conn_store *cs, const char *model, const char *version, int *on)
{
	struct dir_store *s = (struct dir_store *)cs;
	char mrel[MREL_MAX], vfile[CONN_AFILE_NAME_MAX], rel[CONN_AFILE_REL_MAX];

	*on = 0;
	if (model_rel(s, model, mrel) < 0 || check_name(s, "version", version, MAX_NAME) < 0)
		return -1;
	conn_afile_enc_name(version, strlen(version), vfile);
	snprintf(rel, sizeof rel, "%s/latch/%s", mrel, vfile);
	return conn_store_done(&s->base, get_flag(s, rel, on));
}

/* ---- cooldown: models/<m>/cooldown, the window end (ms) in decimal and a newline ---- */

/* 0 with *v, 1 when rel does not exist, -1 (the error set) when it holds no number. */
static int get_ms(struct dir_store *s, const char *rel, int64_t *v)
{
	struct conn_blob b = { 0 };
	char *end;
	long long x;
	int rc = get_file(s, rel, &b);

	if (rc != 0)
		return rc;
	errno = 0;
	x = strtoll(b.data, &end, 10);
	if (b.len < 2 || end != b.data + b.len - 1 || *end != '\n' || errno) {
		free(b.data);
		conn_store_errf(&s->base, "%s: not a window end", rel);
		return -1;
	}
	free(b.data);
	*v = (int64_t)x;
	return 0;
}

static int dir_cooldown_raise(struct conn_store *cs, const char *model, int64_t end_ms)
{
	struct dir_store *s = (struct dir_store *)cs;
	char mrel[MREL_MAX], rel[CONN_AFILE_REL_MAX], lock[CONN_AFILE_REL_MAX], v[24];
	int64_t cur;
	int fd, rc, n;

	if (model_dir_create(s, model, mrel) < 0)
		return -1;
	snprintf(rel, sizeof rel, "%s/cooldown", mrel);
	snprintf(lock, sizeof lock, "%s/cooldown.lock", mrel);
	fd = conn_afile_lock(&s->fs, lock, O_RDWR | O_CREAT);
	if (fd < 0)
		return -1;
	rc = get_ms(s, rel, &cur);
	if (rc < 0 || (rc == 0 && cur >= end_ms)) {
		close(fd);
		return rc < 0 ? -1 : conn_store_done(&s->base, 0);
	}
	n = snprintf(v, sizeof v, "%lld\n", (long long)end_ms);
	rc = conn_afile_put(&s->fs, mrel, "cooldown", v, (size_t)n, 0);
	close(fd);
	return conn_store_done(&s->base, rc);
}

static int dir_cooldown_get(struct conn_store *cs, const char *model, int64_t *end_ms)
{
	struct dir_store *s = (struct dir_store *)cs;
	char mrel[MREL_MAX], rel[CONN_AFILE_REL_MAX];

	if (model_rel(s, model, mrel) < 0)
		return -1;
	snprintf(rel, sizeof rel, "%s/cooldown", mrel);
	return conn_store_done(&s->base, get_ms(s, rel, end_ms));
}

/* ---- rollback history and dedup ---- */

static int dir_history_append(struct conn_store *cs, const char *model, const char *doc, size_t len)
{
	struct dir_store *s = (struct dir_store *)cs;
	char mrel[MREL_MAX], rel[CONN_AFILE_REL_MAX], *line;
	struct stat st;
	int fd, rc = -1;

	if (len == 0 || memchr(doc, '\n', len) || memchr(doc, '\0', len)) {
		conn_store_errf(&s->base, "a history entry must be one non-empty line");
		return -1;
	}
	if (len > CONN_DIR_MAX_FILE) {
		conn_store_errf(&s->base, "a history entry must be at most %zu bytes",
				CONN_DIR_MAX_FILE);
		return -1;
	}
	if (model_dir_create(s, model, mrel) < 0)
		return -1;
	snprintf(rel, sizeof rel, "%s/history.jsonl", mrel);
	line = malloc(len + 2);
	if (!line) {
		conn_store_errf(&s->base, "out of memory");
		return -1;
	}
	fd = conn_afile_lock(&s->fs, rel, O_WRONLY | O_CREAT | O_APPEND);
	if (fd < 0) {
		free(line);
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		conn_afile_sys_err(&s->fs, "lock", rel);
		goto out;
	}
	/* complete a line torn by a crash so that this entry starts on a line of its own */
	line[0] = '\n';
	memcpy(line + 1, doc, len);
	line[len + 1] = '\n';
	{
		char last = '\n';
		int rfd = st.st_size > 0
			      ? openat(s->fs.root, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
			      : -1;

		if (rfd >= 0) {
			if (pread(rfd, &last, 1, st.st_size - 1) != 1)
				last = '\n';
			close(rfd);
		}
		if (conn_afile_write_all(fd, last == '\n' ? line + 1 : line,
					 last == '\n' ? len + 1 : len + 2) < 0 ||
		    fsync(fd) < 0) {
			conn_afile_sys_err(&s->fs, "append to", rel);
			goto out;
		}
	}
	rc = 0;
out:
	close(fd);
	free(line);
	return conn_store_done(&s->base, rc);
}

static int dir_history(struct conn_store *cs, const char *model, conn_store_entry_fn fn, void *arg)
{
	struct dir_store *s = (struct dir_store *)cs;
	char mrel[MREL_MAX], rel[CONN_AFILE_REL_MAX], buf[65536], *line = NULL;
	size_t llen = 0, lcap = 0;
	int fd, rc = 0, stop = 0;

	if (model_rel(s, model, mrel) < 0)
		return -1;
	snprintf(rel, sizeof rel, "%s/history.jsonl", mrel);
	fd = openat(s->fs.root, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
		return conn_store_done(&s->base, 0);
	if (fd < 0)
		return conn_afile_sys_err(&s->fs, "open", rel);
	/* streamed: the file may grow past CONN_DIR_MAX_FILE over the years; one line may not */
	while (!stop) {
		ssize_t r = read(fd, buf, sizeof buf);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = conn_afile_sys_err(&s->fs, "read", rel);
			break;
		}
		if (r == 0)
			break; /* a last line without its newline is being written: not an entry */
		for (ssize_t i = 0; i < r && !stop; i++) {
			if (buf[i] != '\n') {
				if (llen == lcap) {
					char *nl;

					if (lcap >= CONN_DIR_MAX_FILE) {
						conn_store_errf(
						    &s->base,
						    "%s: an entry is longer than %zu bytes", rel,
						    CONN_DIR_MAX_FILE);
						rc = -1;
						stop = 1;
						break;
					}
					lcap = lcap ? 2 * lcap : 4096;
					nl = realloc(line, lcap + 1);
					if (!nl) {
						conn_store_errf(&s->base,
								"out of memory reading %s", rel);
						rc = -1;
						stop = 1;
						break;
					}
					line = nl;
				}
				line[llen++] = buf[i];
				continue;
			}
			if (llen > 0) {
				line[llen] = '\0';
				if (fn(arg, line, llen) != 0)
					stop = 1;
			}
			llen = 0;
		}
	}
	free(line);
	close(fd);
	return conn_store_done(&s->base, rc);
}

static int dir_claim(struct conn_store *cs, const char *id)
{
	struct dir_store *s = (struct dir_store *)cs;
	char name[CONN_AFILE_NAME_MAX], rel[CONN_AFILE_REL_MAX];
	int dfd, fd;

	if (check_name(s, "claim id", id, MAX_ID) < 0)
		return -1;
	conn_afile_enc_name(id, strlen(id), name);
	snprintf(rel, sizeof rel, "claims/%s", name);
	dfd = conn_afile_open_dir(&s->fs, "claims", 1);
	if (dfd < 0)
		return -1;
	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		int e = errno;

		close(dfd);
		if (e == EEXIST)
			return conn_store_done(&s->base, 1);
		errno = e;
		return conn_afile_sys_err(&s->fs, "create", rel);
	}
	close(fd);
	if (fsync(dfd) < 0) {
		close(dfd);
		return conn_afile_sys_err(&s->fs, "fsync", "claims");
	}
	close(dfd);
	return conn_store_done(&s->base, 0);
}

/* claims/<id> holding value: written whole and linked, so an existing claim is never replaced. */
static int dir_claim_put(struct conn_store *cs, const char *id, const char *value, size_t len)
{
	struct dir_store *s = (struct dir_store *)cs;
	char name[CONN_AFILE_NAME_MAX];
	int rc;

	if (check_name(s, "claim id", id, MAX_ID) < 0)
		return -1;
	conn_afile_enc_name(id, strlen(id), name);
	rc = conn_afile_put(&s->fs, "claims", name, value, len, 1);
	return conn_store_done(&s->base, rc < 0 ? -1 : rc == 2);
}

static int dir_claim_get(struct conn_store *cs, const char *id, struct conn_blob *out)
{
	struct dir_store *s = (struct dir_store *)cs;
	char name[CONN_AFILE_NAME_MAX], rel[CONN_AFILE_REL_MAX];

	if (check_name(s, "claim id", id, MAX_ID) < 0)
		return -1;
	conn_afile_enc_name(id, strlen(id), name);
	snprintf(rel, sizeof rel, "claims/%s", name);
	return conn_store_done(&s->base, get_file(s, rel, out));
}

/* Replaces the content of an existing claim (renamed over it): 0, or 1 when there is none. */
static int dir_claim_mark(struct conn_store *cs, const char *id, const char *value, size_t len)
{
	struct dir_store *s = (struct dir_store *)cs;
	char name[CONN_AFILE_NAME_MAX], rel[CONN_AFILE_REL_MAX];
	int rc;

	if (check_name(s, "claim id", id, MAX_ID) < 0)
		return -1;
	conn_afile_enc_name(id, strlen(id), name);
	snprintf(rel, sizeof rel, "claims/%s", name);
	rc = conn_afile_exists(&s->fs, rel);
	if (rc <= 0)
		return rc < 0 ? -1 : conn_store_done(&s->base, 1);
	return conn_store_done(&s->base, conn_afile_put(&s->fs, "claims", name, value, len, 0));
}

/* ---- prefix and reachability ---- */

static int dir_set_prefix(struct conn_store *cs, const char *prefix)
{
	(void)prefix; /* checked by store.c; the directory is the store's namespace */
	return conn_store_done(cs, 0);
}

/* The directory takes a write: a small file can be created in it, written, synced and removed
 * (this fails when the directory was removed, on a read-only file system even for root, and on
 * a full disk, where an empty file could still be created). */
static int dir_ping(struct conn_store *cs)
{
	struct dir_store *s = (struct dir_store *)cs;
	static unsigned long counter;
	static const char probe[512] = "driftd store probe\n";
	char tmp[64];
	int fd;

	snprintf(tmp, sizeof tmp, ".tmp.ping.%ld.%lu", (long)getpid(),
		 __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
	fd = openat(s->fs.root, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return conn_afile_sys_err(&s->fs, "create a file in", "the store directory");
	if (conn_afile_write_all(fd, probe, sizeof probe) < 0 || fsync(fd) < 0) {
		int e = errno;

		close(fd);
		unlinkat(s->fs.root, tmp, 0);
		errno = e;
		return conn_afile_sys_err(&s->fs, "write a file in", "the store directory");
	}
	close(fd);
	if (unlinkat(s->fs.root, tmp, 0) < 0)
		return conn_afile_sys_err(&s->fs, "remove", tmp);
	return conn_store_done(&s->base, 0);
}

/* ---- events waiting for delivery ----
 * pending/<id>: "pending 1 <idlen> <modellen> <doclen>\n<id>\n<model>\n<doc>\n", written
 * atomically (put_file), so put replaces. The raw id is in the file: a long id's file name is
 * shortened. */

static int dir_pending_put(struct conn_store *cs, const char *id, const char *model,
			   const char *doc, size_t len)
{
	struct dir_store *s = (struct dir_store *)cs;
	size_t il = strlen(id), ml = strlen(model), hl, n;
	char name[CONN_AFILE_NAME_MAX], head[CONN_AFILE_HEAD_MAX], *buf, *o;
	int rc;

	hl = (size_t)snprintf(head, sizeof head, "pending 1 %zu %zu %zu\n", il, ml, len);
	n = hl + il + ml + len + 3;
	buf = malloc(n);
	if (!buf) {
		conn_store_errf(&s->base, "out of memory");
		return -1;
	}
	memcpy(buf, head, hl);
	o = buf + hl;
	conn_afile_frame_put(&o, id, il);
	conn_afile_frame_put(&o, model, ml);
	conn_afile_frame_put(&o, doc, len);
	conn_afile_enc_name(id, il, name);
	rc = conn_afile_put(&s->fs, "pending", name, buf, n, 0);
	free(buf);
	return conn_store_done(&s->base, rc);
}

static int dir_pending_del(struct conn_store *cs, const char *id)
{
	struct dir_store *s = (struct dir_store *)cs;
	char name[CONN_AFILE_NAME_MAX], rel[CONN_AFILE_REL_MAX];

	conn_afile_enc_name(id, strlen(id), name);
	snprintf(rel, sizeof rel, "pending/%s", name);
	if (unlinkat(s->fs.root, rel, 0) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return conn_store_done(&s->base, 0);
		return conn_afile_sys_err(&s->fs, "remove", rel);
	}
	return conn_store_done(&s->base, conn_afile_sync_dir(&s->fs, "pending"));
}

/* Parses a pending file read from rel (the file name fname) and calls fn; the callback's
 * return, or -1 with the error set when the file is not a pending event of that name. */
static int pending_call(struct dir_store *s, const char *rel, const char *fname,
			struct conn_blob *b, conn_store_pending_fn fn, void *arg)
{
	char *p = b->data, *end = b->data + b->len, tag[16], *id, *model, *doc,
	     encoded[CONN_AFILE_NAME_MAX];
	long long v[4];
	int nv;

	if (conn_afile_frame_head(&p, end, tag, sizeof tag, v, &nv) < 0 ||
	    strcmp(tag, "pending") != 0 || nv != 4 || v[0] != 1 || v[1] < 1 || v[1] > MAX_ID ||
	    v[2] < 1 || v[2] > MAX_NAME || !(id = conn_afile_frame_take(&p, end, v[1])) ||
	    !(model = conn_afile_frame_take(&p, end, v[2])) ||
	    !(doc = conn_afile_frame_take(&p, end, v[3])) || p != end ||
	    strlen(id) != (size_t)v[1] || strlen(model) != (size_t)v[2]) {
		conn_store_errf(&s->base, "%s: not a pending event", rel);
		return -1;
	}
	conn_afile_enc_name(id, (size_t)v[1], encoded);
	if (strcmp(encoded, fname) != 0) {
		conn_store_errf(&s->base, "%s: holds the event of another id", rel);
		return -1;
	}
	return fn(arg, id, model, doc, (size_t)v[3]) != 0;
}

static int dir_pending_list(struct conn_store *cs, conn_store_pending_fn fn, void *arg)
{
	struct dir_store *s = (struct dir_store *)cs;
	int dfd = conn_afile_open_dir(&s->fs, "pending", 0), stop = 0;
	struct dirent *de;
	DIR *d;

	if (dfd == -2)
		return conn_store_done(&s->base, 0);
	if (dfd < 0)
		return -1;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return conn_afile_sys_err(&s->fs, "open", "pending");
	}
	/* fn may delete the entry it is given (the usual: deliver, then delete) */
	while (!stop && (errno = 0, de = readdir(d)) != NULL) {
		struct conn_blob b = { 0 };
		char rel[CONN_AFILE_REL_MAX];
		int rc;

		if (de->d_name[0] == '.')
			continue; /* ., .. and temporary files */
		snprintf(rel, sizeof rel, "pending/%s", de->d_name);
		rc = get_file(s, rel, &b);
		if (rc == 1)
			continue; /* deleted since readdir */
		if (rc == 0)
			rc = pending_call(s, rel, de->d_name, &b, fn, arg);
		free(b.data);
		if (rc < 0) {
			closedir(d);
			return -1;
		}
		stop = rc;
	}
	if (!stop && errno != 0) {
		conn_afile_sys_err(&s->fs, "read", "pending");
		closedir(d);
		return -1;
	}
	closedir(d);
	return conn_store_done(&s->base, 0);
}

static const struct conn_store_ops dir_ops = {
	.close = dir_close,
	.version_put = dir_version_put,
	.version_get = dir_version_get,
	.versions = dir_versions,
	.models = dir_models,
	.baseline_put = dir_baseline_put,
	.baseline_get = dir_baseline_get,
	.good_set = dir_good_set,
	.good_get = dir_good_get,
	.hold_set = dir_hold_set,
	.hold_get = dir_hold_get,
	.latch_set = dir_latch_set,
	.latch_get = dir_latch_get,
	.cooldown_raise = dir_cooldown_raise,
	.cooldown_get = dir_cooldown_get,
	.history_append = dir_history_append,
	.history = dir_history,
	.claim = dir_claim,
	.claim_put = dir_claim_put,
	.claim_get = dir_claim_get,
	.claim_mark = dir_claim_mark,
	.set_prefix = dir_set_prefix,
	.ping = dir_ping,
	.pending_put = dir_pending_put,
	.pending_del = dir_pending_del,
	.pending_list = dir_pending_list,
	.ckpt_commit = conn_dir_ckpt_commit,
	.ckpt_offsets = conn_dir_ckpt_offsets,
	.ckpt_offset_get = conn_dir_ckpt_offset_get,
	.ckpt_windows = conn_dir_ckpt_windows,
	.ckpt_partials = conn_dir_ckpt_partials,
	.ckpt_states = conn_dir_ckpt_states,
	.ckpt_state_get = conn_dir_ckpt_state_get,
	.lock = conn_dir_lock,
	.unlock = conn_dir_unlock,
};

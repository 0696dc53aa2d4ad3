/*
 * store_dir_ckpt.c -- the window checkpoints and locks of the dir store (store.h "window
 * checkpoints"): one checkpoint file per scope, rewritten whole per commit, and one file per
 * lock, over the file layer of atomic_file.c.
 */
#include "connectors/store_dir_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- window checkpoints ----
 * ckpt/<scope>/checkpoint holds the whole state of a scope; a commit rewrites it atomically
 * (put_file: temporary file, fsync, rename, fsync of the directory) under an flock of
 * ckpt/<scope>/flock that serializes the commits and lock calls of the scope, so a reader (who
 * takes no lock) and a restart see the old or the new checkpoint, never a mix. The cost of a
 * commit is the size of the scope's state (read, merged, written): fine for one host and a few
 * MiB; use Redis for scale-out. The file (at most CKPT_MAX_FILE bytes):
 *   driftd checkpoint 1\n
 *   o <streamlen> <next_offset> <hwm_ms> <updated_ms>\n<stream>\n        per stream
 *   p <keylen> <instancelen> <bloblen>\n<key>\n<instance>\n<blob>\n      per partial
 *   s <keylen> <bloblen>\n<key>\n<blob>\n                                 per pair state
 *   end\n
 * with the records of each kind sorted by key (then instance). */

#define CKPT_MAX_FILE ((size_t)1 << 30)
#define CKPT_MAGIC    "driftd checkpoint 1\n"

/* One stream offset, partial or pair state, in the file or to apply. */
struct ck_ent {
	const char *k; /* stream, window key or pair key */
	size_t kl;
	const char *n; /* the instance of a partial; NULL otherwise */
	size_t nl;
	const char *b; /* the blob (partials, states); NULL for a deletion */
	size_t bl;
	int64_t v[3]; /* an offset's next_offset, hwm_ms, updated_ms */
	size_t seq;   /* order of application: the last entry of a key wins */
	int del;      /* a deletion (applying only) */
};

struct ck_vec {
	struct ck_ent *e;
	size_t n, cap;
};

/* A scope's state: the file as read, and its entries (pointing into it or into a commit). */
struct ck_state {
	struct conn_blob file;
	struct ck_vec off, part, st;
	size_t seq; /* the next seq */
};

static int ck_push(struct dir_store *s, struct ck_state *st, struct ck_vec *v, struct ck_ent e)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 16;
		struct ck_ent *ne = realloc(v->e, cap * sizeof *ne);

		if (!ne) {
			conn_store_errf(&s->base, "out of memory");
			return -1;
		}
		v->e = ne;
		v->cap = cap;
	}
	e.seq = st->seq++;
	v->e[v->n++] = e;
	return 0;
}

static void ck_free(struct ck_state *st)
{
	free(st->file.data);
	free(st->off.e);
	free(st->part.e);
	free(st->st.e);
	memset(st, 0, sizeof *st);
}

static int cmp_bytes(const char *a, size_t al, const char *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	return c ? c : (al > bl) - (al < bl);
}

static int cmp_ent(const void *x, const void *y)
{
	const struct ck_ent *a = x, *b = y;
	int c = cmp_bytes(a->k, a->kl, b->k, b->kl);

	if (!c)
		c = cmp_bytes(a->n ? a->n : "", a->nl, b->n ? b->n : "", b->nl);
	return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

/* Sorts v by key (then instance), keeps the last entry of each, drops deletions. */
static void ck_norm(struct ck_vec *v)
{
	size_t o = 0;

	if (v->n)
		qsort(v->e, v->n, sizeof *v->e, cmp_ent);
	for (size_t i = 0; i < v->n; i++) {
		const struct ck_ent *a = &v->e[i], *b = i + 1 < v->n ? &v->e[i + 1] : NULL;

		if (b && !cmp_bytes(a->k, a->kl, b->k, b->kl) &&
		    !cmp_bytes(a->n ? a->n : "", a->nl, b->n ? b->n : "", b->nl))
			continue; /* a later one of the same key */
		if (!a->del)
			v->e[o++] = *a;
	}
	v->n = o;
}

static int cmp_item(const void *x, const void *y)
{
	const struct conn_ckpt_item *a = x, *b = y;

	return cmp_bytes(a->key, a->klen, b->key, b->klen);
}

/* Removes every partial of the dropped window keys. */
static int ck_drop(struct dir_store *s, struct ck_vec *part, const struct conn_ckpt_item *drops,
		   size_t n)
{
	struct conn_ckpt_item *d;
	size_t o = 0;

	if (n == 0)
		return 0;
	d = malloc(n * sizeof *d);
	if (!d) {
		conn_store_errf(&s->base, "out of memory");
		return -1;
	}
	memcpy(d, drops, n * sizeof *d);
	qsort(d, n, sizeof *d, cmp_item);
	for (size_t i = 0; i < part->n; i++) {
		struct conn_ckpt_item k = { .key = part->e[i].k, .klen = part->e[i].kl };

		if (!bsearch(&k, d, n, sizeof *d, cmp_item))
			part->e[o++] = part->e[i];
	}
	part->n = o;
	free(d);
	return 0;
}

/* "ckpt/<scope>" into rel (CONN_AFILE_REL_MAX bytes). */
static void scope_rel(const char *scope, char *rel)
{
	char e[CONN_AFILE_NAME_MAX];

	conn_afile_enc_name(scope, strlen(scope), e);
	snprintf(rel, CONN_AFILE_REL_MAX, "ckpt/%s", e);
}

/* Creates ckpt/<scope> and takes the exclusive flock of its "flock" file: the fd (close it to
 * release), or -1. */
static int scope_lock(struct dir_store *s, const char *dir)
{
	char rel[CONN_AFILE_REL_MAX + 8]; /* dir and "/flock" */

	if (conn_afile_mkdirs(&s->fs, dir) < 0)
		return -1;
	snprintf(rel, sizeof rel, "%s/flock", dir);
	return conn_afile_lock(&s->fs, rel, O_RDWR | O_CREAT);
}

/* Reads and parses ckpt/<scope>/checkpoint (dir: "ckpt/<scope>") into st; a missing file is
 * an empty state. */
static int ck_load(struct dir_store *s, const char *dir, struct ck_state *st)
{
	char rel[CONN_AFILE_REL_MAX], *p, *end;
	int rc;

	memset(st, 0, sizeof *st);
	snprintf(rel, sizeof rel, "%s/checkpoint", dir);
	rc = conn_afile_get(&s->fs, rel, CKPT_MAX_FILE, &st->file);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	p = st->file.data;
	end = p + st->file.len;
	if (st->file.len < strlen(CKPT_MAGIC) || memcmp(p, CKPT_MAGIC, strlen(CKPT_MAGIC)) != 0)
		goto bad;
	p += strlen(CKPT_MAGIC);
	for (;;) {
		struct ck_ent e = { 0 };
		char tag[8];
		long long v[4];
		int nv;

		if (conn_afile_frame_head(&p, end, tag, sizeof tag, v, &nv) < 0)
			goto bad;
		if (!strcmp(tag, "end") && nv == 0 && p == end)
			break;
		if (!strcmp(tag, "o") && nv == 4 && v[0] >= 1 && v[0] <= CONN_CKPT_MAX_STREAM) {
			e.k = conn_afile_frame_take(&p, end, v[0]);
			if (!e.k || strlen(e.k) != (size_t)v[0])
				goto bad;
			e.kl = (size_t)v[0];
			e.v[0] = v[1], e.v[1] = v[2], e.v[2] = v[3];
			rc = ck_push(s, st, &st->off, e);
		} else if (!strcmp(tag, "p") && nv == 3 && v[0] >= 1 && v[0] <= CONN_CKPT_MAX_KEY &&
			   v[1] >= 1 && v[1] <= CONN_CKPT_MAX_INSTANCE && v[2] >= 0 &&
			   v[2] <= (long long)CONN_STORE_MAX_VALUE) {
			e.k = conn_afile_frame_take(&p, end, v[0]);
			e.n = e.k ? conn_afile_frame_take(&p, end, v[1]) : NULL;
			e.b = e.n ? conn_afile_frame_take(&p, end, v[2]) : NULL;
			if (!e.b || strlen(e.n) != (size_t)v[1])
				goto bad;
			e.kl = (size_t)v[0], e.nl = (size_t)v[1], e.bl = (size_t)v[2];
			rc = ck_push(s, st, &st->part, e);
		} else if (!strcmp(tag, "s") && nv == 2 && v[0] >= 1 && v[0] <= CONN_CKPT_MAX_KEY &&
			   v[1] >= 0 && v[1] <= (long long)CONN_STORE_MAX_VALUE) {
			e.k = conn_afile_frame_take(&p, end, v[0]);
			e.b = e.k ? conn_afile_frame_take(&p, end, v[1]) : NULL;
			if (!e.b)
				goto bad;
			e.kl = (size_t)v[0], e.bl = (size_t)v[1];
			rc = ck_push(s, st, &st->st, e);
		} else {
			goto bad;
		}
		if (rc < 0) {
			ck_free(st);
			return -1;
		}
	}
	ck_norm(&st->off);
	ck_norm(&st->part);
	ck_norm(&st->st);
	return 0;
bad:
	conn_store_errf(&s->base, "%s: not a checkpoint file (or a damaged one)", rel);
	ck_free(st);
	return -1;
}

/* Writes st as ckpt/<scope>/checkpoint, atomically. */
static int ck_save(struct dir_store *s, const char *dir, const struct ck_state *st)
{
	size_t cap = strlen(CKPT_MAGIC) + 8, n;
	char *buf, *o;
	int rc;

	for (size_t i = 0; i < st->off.n; i++)
		cap += CONN_AFILE_HEAD_MAX + st->off.e[i].kl + 1;
	for (size_t i = 0; i < st->part.n; i++)
		cap += CONN_AFILE_HEAD_MAX + st->part.e[i].kl + st->part.e[i].nl +
		       st->part.e[i].bl + 3;
	for (size_t i = 0; i < st->st.n; i++)
		cap += CONN_AFILE_HEAD_MAX + st->st.e[i].kl + st->st.e[i].bl + 2;
	if (cap > CKPT_MAX_FILE) {
		conn_store_errf(&s->base, "%s/checkpoint would be larger than %zu bytes", dir,
				CKPT_MAX_FILE);
		return -1;
	}
	buf = malloc(cap);
	if (!buf) {
		conn_store_errf(&s->base, "out of memory");
		return -1;
	}
	o = buf;
	memcpy(o, CKPT_MAGIC, strlen(CKPT_MAGIC));
	o += strlen(CKPT_MAGIC);
	for (size_t i = 0; i < st->off.n; i++) {
		const struct ck_ent *e = &st->off.e[i];

		o += snprintf(o, CONN_AFILE_HEAD_MAX, "o %zu %lld %lld %lld\n", e->kl,
			      (long long)e->v[0], (long long)e->v[1], (long long)e->v[2]);
		conn_afile_frame_put(&o, e->k, e->kl);
	}
	for (size_t i = 0; i < st->part.n; i++) {
		const struct ck_ent *e = &st->part.e[i];

		o += snprintf(o, CONN_AFILE_HEAD_MAX, "p %zu %zu %zu\n", e->kl, e->nl, e->bl);
		conn_afile_frame_put(&o, e->k, e->kl);
		conn_afile_frame_put(&o, e->n, e->nl);
		conn_afile_frame_put(&o, e->b, e->bl);
	}
	for (size_t i = 0; i < st->st.n; i++) {
		const struct ck_ent *e = &st->st.e[i];

		o += snprintf(o, CONN_AFILE_HEAD_MAX, "s %zu %zu\n", e->kl, e->bl);
		conn_afile_frame_put(&o, e->k, e->kl);
		conn_afile_frame_put(&o, e->b, e->bl);
	}
	memcpy(o, "end\n", 4);
	n = (size_t)(o + 4 - buf);
	rc = conn_afile_put(&s->fs, dir, "checkpoint", buf, n, 0);
	free(buf);
	return rc;
}

int conn_dir_ckpt_commit(struct conn_store *cs, const char *scope, const struct conn_ckpt *c)
{
	struct dir_store *s = (struct dir_store *)cs;
	struct ck_state st = { 0 };
	char dir[CONN_AFILE_REL_MAX];
	size_t il = strlen(c->instance);
	int lfd, rc = -1;

	if (c->noffsets + c->npartials + c->ndrops + c->nstates == 0)
		return conn_store_done(&s->base, 0);
	scope_rel(scope, dir);
	lfd = scope_lock(s, dir);
	if (lfd < 0)
		return -1;
	if (ck_load(s, dir, &st) < 0)
		goto out;
	/* in the order of store.h: offsets, partials, drops, states; the last of a key wins */
	for (size_t i = 0; i < c->noffsets; i++) {
		const struct conn_ckpt_offset *o = &c->offsets[i];
		struct ck_ent e = { .k = o->stream, .kl = strlen(o->stream) };

		e.v[0] = o->next_offset, e.v[1] = o->hwm_ms, e.v[2] = o->updated_ms;
		if (ck_push(s, &st, &st.off, e) < 0)
			goto out;
	}
	for (size_t i = 0; i < c->npartials; i++) {
		const struct conn_ckpt_item *it = &c->partials[i];
		struct ck_ent e = { .k = it->key,
				    .kl = it->klen,
				    .n = c->instance,
				    .nl = il,
				    .b = it->blob ? it->blob : NULL,
				    .bl = it->blob ? it->len : 0,
				    .del = !it->blob };

		if (ck_push(s, &st, &st.part, e) < 0)
			goto out;
	}
	for (size_t i = 0; i < c->nstates; i++) {
		const struct conn_ckpt_item *it = &c->states[i];
		struct ck_ent e = { .k = it->key,
				    .kl = it->klen,
				    .b = it->blob,
				    .bl = it->blob ? it->len : 0,
				    .del = !it->blob };

		if (ck_push(s, &st, &st.st, e) < 0)
			goto out;
	}
	ck_norm(&st.off);
	ck_norm(&st.part);
	ck_norm(&st.st);
	if (ck_drop(s, &st.part, c->drops, c->ndrops) < 0)
		goto out;
	rc = ck_save(s, dir, &st);
out:
	ck_free(&st);
	close(lfd); /* releases the flock */
	return rc == 0 ? conn_store_done(&s->base, 0) : -1;
}

/* Loads the state of scope for a reader (no lock: the file is replaced atomically). */
static int ck_read(struct dir_store *s, const char *scope, struct ck_state *st)
{
	char dir[CONN_AFILE_REL_MAX];

	scope_rel(scope, dir);
	return ck_load(s, dir, st);
}

int conn_dir_ckpt_offsets(struct conn_store *cs, const char *scope, conn_ckpt_offset_fn fn,
			  void *arg)
{
	struct dir_store *s = (struct dir_store *)cs;
	struct ck_state st;

	if (ck_read(s, scope, &st) < 0)
		return -1;
	for (size_t i = 0; i < st.off.n; i++) {
		const struct ck_ent *e = &st.off.e[i];
		struct conn_ckpt_offset o = { e->k, e->v[0], e->v[1], e->v[2] };

		if (fn(arg, &o) != 0)
			break;
	}
	ck_free(&st);
	return conn_store_done(&s->base, 0);
}

/* The entry of key k[0..kl) in v (normalized: one per key), or NULL. */
static const struct ck_ent *ck_find(const struct ck_vec *v, const char *k, size_t kl)
{
	for (size_t i = 0; i < v->n; i++)
		if (!cmp_bytes(v->e[i].k, v->e[i].kl, k, kl))
			return &v->e[i];
	return NULL;
}

int conn_dir_ckpt_offset_get(struct conn_store *cs, const char *scope, const char *stream,
			     struct conn_ckpt_offset *out)
{
	struct dir_store *s = (struct dir_store *)cs;
	const struct ck_ent *e;
	struct ck_state st;

	if (ck_read(s, scope, &st) < 0)
		return -1;
	e = ck_find(&st.off, stream, strlen(stream));
	if (e)
		*out = (struct conn_ckpt_offset){ stream, e->v[0], e->v[1], e->v[2] };
	ck_free(&st);
	return conn_store_done(&s->base, e ? 0 : 1);
}

int conn_dir_ckpt_windows(struct conn_store *cs, const char *scope, conn_ckpt_key_fn fn, void *arg)
{
	struct dir_store *s = (struct dir_store *)cs;
	struct ck_state st;

	if (ck_read(s, scope, &st) < 0)
		return -1;
	for (size_t i = 0; i < st.part.n; i++) {
		const struct ck_ent *e = &st.part.e[i];

		if (i > 0 && !cmp_bytes(e->k, e->kl, e[-1].k, e[-1].kl))
			continue; /* sorted: the same window as the one before */
		if (fn(arg, e->k, e->kl) != 0)
			break;
	}
	ck_free(&st);
	return conn_store_done(&s->base, 0);
}

int conn_dir_ckpt_partials(struct conn_store *cs, const char *scope, const char *key, size_t klen,
			   conn_ckpt_blob_fn fn, void *arg)
{
	struct dir_store *s = (struct dir_store *)cs;
	struct ck_state st;

	if (ck_read(s, scope, &st) < 0)
		return -1;
	for (size_t i = 0; i < st.part.n; i++) {
		const struct ck_ent *e = &st.part.e[i];

		if (!cmp_bytes(e->k, e->kl, key, klen) && fn(arg, e->n, e->nl, e->b, e->bl) != 0)
			break;
	}
	ck_free(&st);
	return conn_store_done(&s->base, 0);
}

int conn_dir_ckpt_states(struct conn_store *cs, const char *scope, conn_ckpt_blob_fn fn, void *arg)
{
	struct dir_store *s = (struct dir_store *)cs;
	struct ck_state st;

	if (ck_read(s, scope, &st) < 0)
		return -1;
	for (size_t i = 0; i < st.st.n; i++) {
		const struct ck_ent *e = &st.st.e[i];

		if (fn(arg, e->k, e->kl, e->b, e->bl) != 0)
			break;
	}
	ck_free(&st);
	return conn_store_done(&s->base, 0);
}

int conn_dir_ckpt_state_get(struct conn_store *cs, const char *scope, const char *key, size_t klen,
			    struct conn_blob *out)
{
	struct dir_store *s = (struct dir_store *)cs;
	const struct ck_ent *e;
	struct ck_state st;
	int rc = 1;

	if (ck_read(s, scope, &st) < 0)
		return -1;
	e = ck_find(&st.st, key, klen);
	if (e) {
		out->data = malloc(e->bl + 1);
		if (!out->data) {
			conn_store_errf(&s->base, "out of memory");
			rc = -1;
		} else {
			if (e->bl)
				memcpy(out->data, e->b, e->bl);
			out->data[e->bl] = '\0';
			out->len = e->bl;
			rc = 0;
		}
	}
	ck_free(&st);
	return rc < 0 ? -1 : conn_store_done(&s->base, rc);
}

/* ---- locks ----
 * ckpt/<scope>/locks/<name>: "lock 1 <expires_ms> <ownerlen>\n<owner>\n", expires_ms on the
 * wall clock (CLOCK_REALTIME, shared by the processes of one host and kept across a reboot);
 * read and written under the scope's flock. An expired file stays until it is taken again. */

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads lock file rel: 0 with its owner (malloc'd in b, at *owner) and expiry, 1 when there
 * is none, -1 on error. */
static int lock_read(struct dir_store *s, const char *rel, struct conn_blob *b, char **owner,
		     int64_t *expires)
{
	char *p, *end, tag[8];
	long long v[4];
	int nv, rc = conn_afile_get(&s->fs, rel, CONN_DIR_MAX_FILE, b);

	if (rc != 0)
		return rc;
	p = b->data;
	end = p + b->len;
	if (conn_afile_frame_head(&p, end, tag, sizeof tag, v, &nv) < 0 ||
	    strcmp(tag, "lock") != 0 || nv != 3 || v[0] != 1 || v[2] < 1 ||
	    v[2] > CONN_LOCK_MAX_OWNER || !(*owner = conn_afile_frame_take(&p, end, v[2])) ||
	    p != end || strlen(*owner) != (size_t)v[2]) {
		conn_store_errf(&s->base, "%s: not a lock file", rel);
		free(b->data);
		b->data = NULL;
		return -1;
	}
	*expires = v[1];
	return 0;
}

int conn_dir_lock(struct conn_store *cs, const char *scope, const char *name, const char *owner,
		  int64_t ttl_ms)
{
	struct dir_store *s = (struct dir_store *)cs;
	char dir[CONN_AFILE_REL_MAX], ldir[CONN_AFILE_REL_MAX + 8], file[CONN_AFILE_NAME_MAX],
	    rel[2 * CONN_AFILE_REL_MAX];
	char head[CONN_AFILE_HEAD_MAX], *buf = NULL, *cur = NULL, *o;
	struct conn_blob b = { 0 };
	int64_t expires = 0, now;
	size_t ol = strlen(owner), hl;
	int lfd, rc;

	scope_rel(scope, dir);
	snprintf(ldir, sizeof ldir, "%s/locks", dir);
	conn_afile_enc_name(name, strlen(name), file);
	snprintf(rel, sizeof rel, "%s/%s", ldir, file);
	lfd = scope_lock(s, dir);
	if (lfd < 0)
		return -1;
	rc = lock_read(s, rel, &b, &cur, &expires);
	now = wall_ms();
	if (rc == 0 && strcmp(cur, owner) != 0 && expires > now) {
		rc = 1; /* held by another owner */
	} else if (rc >= 0) {
		hl = (size_t)snprintf(head, sizeof head, "lock 1 %lld %zu\n",
				      (long long)(now + ttl_ms), ol);
		buf = malloc(hl + ol + 1);
		if (!buf) {
			conn_store_errf(&s->base, "out of memory");
			rc = -1;
		} else {
			memcpy(buf, head, hl);
			o = buf + hl;
			conn_afile_frame_put(&o, owner, ol);
			rc = conn_afile_put(&s->fs, ldir, file, buf, hl + ol + 1, 0);
		}
	}
	free(buf);
	free(b.data);
	close(lfd);
	return conn_store_done(&s->base, rc);
}

int conn_dir_unlock(struct conn_store *cs, const char *scope, const char *name, const char *owner)
{
	struct dir_store *s = (struct dir_store *)cs;
	char dir[CONN_AFILE_REL_MAX], ldir[CONN_AFILE_REL_MAX + 8], file[CONN_AFILE_NAME_MAX],
	    rel[2 * CONN_AFILE_REL_MAX];
	struct conn_blob b = { 0 };
	char *cur = NULL;
	int64_t expires;
	int lfd, rc, e;

	scope_rel(scope, dir);
	e = conn_afile_exists(&s->fs, dir);
	if (e <= 0)
		return e < 0 ? -1 : conn_store_done(&s->base, 0); /* nothing was ever locked */
	snprintf(ldir, sizeof ldir, "%s/locks", dir);
	conn_afile_enc_name(name, strlen(name), file);
	snprintf(rel, sizeof rel, "%s/%s", ldir, file);
	lfd = scope_lock(s, dir);
	if (lfd < 0)
		return -1;
	rc = lock_read(s, rel, &b, &cur, &expires);
	if (rc == 0 && strcmp(cur, owner) == 0) { /* ours (expired or not): release */
		if (unlinkat(s->fs.root, rel, 0) < 0 && errno != ENOENT)
			rc = conn_afile_sys_err(&s->fs, "remove", rel);
		else
			rc = conn_afile_sync_dir(&s->fs, ldir);
	}
	free(b.data);
	close(lfd);
	return rc < 0 ? -1 : conn_store_done(&s->base, 0);
}

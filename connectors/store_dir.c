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
 *   PATH/models/<m>/history.jsonl          one entry per line, appended
 *   PATH/claims/<id>                       empty files, created with O_CREAT|O_EXCL
 *   PATH/pending/<id>                      an event waiting for delivery: its id, model, JSON
 *   PATH/ckpt/<scope>/checkpoint           the scope's whole checkpoint, rewritten per commit
 *   PATH/ckpt/<scope>/flock                empty; its flock serializes the scope's writers
 *   PATH/ckpt/<scope>/locks/<name>         a lock: its owner and expiry (wall clock, ms)
 *
 * Names (models, versions, ids, scopes, lock names) are percent-encoded: every byte outside
 * [A-Za-z0-9._-], and a leading '.', becomes %XX, so no name can be "." or "..", contain '/',
 * or start with '.' (the temporary files do). An
 * encoding longer than ENC_SHORT bytes is shortened to its first bytes, '~' and the SHA-256 of
 * the raw name in hex ('~' never appears in an encoding): file names stay under NAME_MAX for
 * every legal name.
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
 * readers take no lock. Pending events and checkpoints are framed files (below) that hold the
 * raw ids and keys, so shortened file names lose nothing. A key prefix is accepted and ignored.
 * Reads refuse files over MAX_FILE bytes (a checkpoint: CKPT_MAX_FILE). Nothing is ever
 * printed: errors stay on the handle.
 */
#include "connectors/store_impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILE     ((size_t)64 << 20) /* largest file a read accepts */
#define MAX_NAME     128u		/* model and version names, bytes */
#define MAX_ID	     1024u		/* claim ids, bytes */
#define ENC_SHORT    160u		/* longer encodings are shortened */
#define ENC_PREFIX   90u		/* bytes of the encoding kept in a shortened name */
#define ENC_FULL_MAX (3 * MAX_ID + 1)	/* a full encoding with its NUL */
#define ENC_FILE_MAX 168u		/* a file-name encoding with its NUL */
#define MREL_MAX     (8 + ENC_FILE_MAX) /* "models/<m>" with its NUL */
#define REL_MAX	     512u		/* a path relative to the root */

struct dir_store {
	struct conn_store base; /* first: the ops table */
	int root;		/* directory fd of PATH */
};

/* ---- errors ---- */

/* The error of a failed system call on a relative path. */
static int sys_err(struct dir_store *s, const char *what, const char *rel)
{
	conn_store_errf(&s->base, "%s %s: %s", what, rel, strerror(errno));
	return -1;
}

/* ---- SHA-256 (FIPS 180-4), for shortened names ---- */

static const uint32_t sha_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2
};

static uint32_t ror(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static void sha_block(uint32_t h[8], const uint8_t *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, k;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) +
			      sha_k[i] + w[i];
		uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		k = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

/* Writes the 64 hex digits of SHA-256(p[0..n)) and a NUL into hex. */
static void sha256_hex(const void *data, size_t n, char hex[65])
{
	uint32_t h[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
			  0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	const uint8_t *p = data;
	uint8_t tail[128] = { 0 };
	size_t full = n / 64 * 64, rest = n - full, tlen = rest < 56 ? 64 : 128;
	uint64_t bits = (uint64_t)n * 8;

	for (size_t off = 0; off < full; off += 64)
		sha_block(h, p + off);
	if (rest)
		memcpy(tail, p + full, rest);
	tail[rest] = 0x80;
	for (int i = 0; i < 8; i++)
		tail[tlen - 1 - i] = (uint8_t)(bits >> (8 * i));
	sha_block(h, tail);
	if (tlen == 128)
		sha_block(h, tail + 64);
	for (int i = 0; i < 8; i++)
		snprintf(hex + 8 * i, 9, "%08x", h[i]);
}

/* ---- names ---- */

static int safe_byte(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

/* The full percent-encoding of name (out holds ENC_FULL_MAX bytes; n <= MAX_ID). */
static void enc_full(const char *name, size_t n, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (safe_byte(c) && !(i == 0 && c == '.')) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

/* The file-name form of name (out holds ENC_FILE_MAX bytes): the encoding, or when that is
 * longer than ENC_SHORT, its first at most ENC_PREFIX bytes (never half an %XX), '~' and the
 * hex SHA-256 of the raw name. */
static void enc_file(const char *name, size_t n, char *out)
{
	char full[ENC_FULL_MAX];
	size_t len, cut = 0;

	enc_full(name, n, full);
	len = strlen(full);
	if (len <= ENC_SHORT) {
		memcpy(out, full, len + 1);
		return;
	}
	while (cut < len) {
		size_t step = full[cut] == '%' ? 3 : 1;

		if (cut + step > ENC_PREFIX)
			break;
		cut += step;
	}
	memcpy(out, full, cut);
	out[cut] = '~';
	sha256_hex(name, n, out + cut + 1);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes a full encoding into out (cap bytes, NUL-terminated); the length, or -1 when enc is
 * not exactly what enc_full produces for some name. */
static long dec_full(const char *enc, char *out, size_t cap)
{
	size_t o = 0;
	char again[ENC_FULL_MAX];

	for (size_t i = 0; enc[i]; i++) {
		int c = (unsigned char)enc[i];

		if (c == '%') {
			int hi = hexval(enc[i + 1]), lo = hi < 0 ? -1 : hexval(enc[i + 2]);

			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == 0 || o + 1 >= cap || o >= MAX_ID)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	if (o == 0)
		return -1;
	enc_full(out, o, again);
	return strcmp(again, enc) == 0 ? (long)o : -1;
}

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
	char e[ENC_FILE_MAX];

	if (check_name(s, "model", model, MAX_NAME) < 0)
		return -1;
	enc_file(model, strlen(model), e);
	snprintf(rel, MREL_MAX, "models/%s", e);
	return 0;
}

/* ---- files ---- */

/* Creates rel and its missing parents under the root (like mkdir -p). */
static int mkdirs(struct dir_store *s, const char *rel)
{
	char buf[REL_MAX];
	size_t n = strlen(rel);

	memcpy(buf, rel, n + 1);
	for (size_t i = 0; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdirat(s->root, buf, 0755) < 0 && errno != EEXIST)
			return sys_err(s, "mkdir", buf);
		buf[i] = i < n ? '/' : '\0';
	}
	return 0;
}

/* Opens directory rel (created when create is set). The fd; -2 when it does not exist and
 * create is 0; -1 on error. */
static int open_dir(struct dir_store *s, const char *rel, int create)
{
	int fd;

	if (create && mkdirs(s, rel) < 0)
		return -1;
	fd = openat(s->root, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT && !create)
		return -2;
	if (fd < 0)
		return sys_err(s, "open", rel);
	return fd;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Writes data atomically as dir/name: a temporary file in dir, fsync'd, then renamed over name
 * (excl == 0) or linked to it (excl == 1: 2 when name exists, nothing changed); the directory
 * is fsync'd. 0 on success, -1 on error. */
static int put_file(struct dir_store *s, const char *dir, const char *name, const void *data,
		    size_t len, int excl)
{
	static unsigned long counter;
	char tmp[64], rel[REL_MAX];
	int dfd, fd, rc = -1;

	snprintf(rel, sizeof rel, "%s/%s", dir, name);
	dfd = open_dir(s, dir, 1);
	if (dfd < 0)
		return -1;
	snprintf(tmp, sizeof tmp, ".tmp.%ld.%lu", (long)getpid(),
		 __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		sys_err(s, "create a temporary file in", dir);
		close(dfd);
		return -1;
	}
	if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		sys_err(s, "write", rel);
		close(fd);
		goto out;
	}
	if (close(fd) < 0) {
		sys_err(s, "write", rel);
		goto out;
	}
	if (excl) {
		if (linkat(dfd, tmp, dfd, name, 0) < 0) {
			if (errno == EEXIST) {
				conn_store_errf(&s->base, "%s already exists", rel);
				rc = 2;
			} else {
				sys_err(s, "link", rel);
			}
			goto out;
		}
	} else if (renameat(dfd, tmp, dfd, name) < 0) {
		sys_err(s, "rename", rel);
		goto out;
	}
	rc = 0;
	if (excl)
		unlinkat(dfd, tmp, 0);
	if (fsync(dfd) < 0)
		rc = sys_err(s, "fsync", dir);
out:
	if (rc != 0)
		unlinkat(dfd, tmp, 0);
	close(dfd);
	return rc;
}

/* Reads the whole of an open regular file, at most max bytes, into out. */
static int read_fd(struct dir_store *s, int fd, const char *rel, size_t max, struct conn_blob *out)
{
	struct stat st;
	size_t cap, len = 0;
	char *buf;

	if (fstat(fd, &st) < 0)
		return sys_err(s, "stat", rel);
	if (!S_ISREG(st.st_mode)) {
		conn_store_errf(&s->base, "%s is not a regular file", rel);
		return -1;
	}
	if ((uint64_t)st.st_size > max) {
		conn_store_errf(&s->base, "%s is larger than %zu bytes", rel, max);
		return -1;
	}
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap + 1);
	if (!buf) {
		conn_store_errf(&s->base, "out of memory reading %s", rel);
		return -1;
	}
	for (;;) {
		ssize_t r = pread(fd, buf + len, cap - len, (off_t)len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return sys_err(s, "read", rel);
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len == cap) { /* the file grew while read: take more, within the bound */
			char *nb;

			if (cap > max) {
				free(buf);
				conn_store_errf(&s->base, "%s is larger than %zu bytes", rel, max);
				return -1;
			}
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				conn_store_errf(&s->base, "out of memory reading %s", rel);
				return -1;
			}
			buf = nb;
		}
	}
	buf[len] = '\0';
	out->data = buf;
	out->len = len;
	return 0;
}

/* Reads root-relative rel (at most max bytes) into out: 0, 1 when it does not exist, -1 on
 * error. */
static int get_file_max(struct dir_store *s, const char *rel, size_t max, struct conn_blob *out)
{
	int fd = openat(s->root, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), rc;

	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
		return 1;
	if (fd < 0)
		return sys_err(s, "open", rel);
	rc = read_fd(s, fd, rel, max, out);
	close(fd);
	return rc;
}

/* Reads root-relative rel (at most MAX_FILE bytes) into out: 0, 1 when missing, -1 on error. */
static int get_file(struct dir_store *s, const char *rel, struct conn_blob *out)
{
	return get_file_max(s, rel, MAX_FILE, out);
}

/* 1 when root-relative rel exists, 0 when not, -1 on error. */
static int exists(struct dir_store *s, const char *rel)
{
	struct stat st;

	if (fstatat(s->root, rel, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	if (errno == ENOENT || errno == ENOTDIR)
		return 0;
	return sys_err(s, "stat", rel);
}

/* Creates models/<m> with, for a shortened name, the file "name" holding the raw name. */
static int model_dir_create(struct dir_store *s, const char *model, char *rel)
{
	char name_rel[REL_MAX];
	int e;

	if (model_rel(s, model, rel) < 0 || mkdirs(s, rel) < 0)
		return -1;
	if (!strchr(rel, '~'))
		return 0;
	snprintf(name_rel, sizeof name_rel, "%s/name", rel);
	e = exists(s, name_rel);
	if (e != 0)
		return e < 0 ? -1 : 0;
	return put_file(s, rel, "name", model, strlen(model), 0);
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
	s->root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->root < 0) {
		snprintf(errbuf, errlen, "store %s: %s", path, strerror(errno));
		free(s);
		return NULL;
	}
	return &s->base;
}

static void dir_close(struct conn_store *cs)
{
	struct dir_store *s = (struct dir_store *)cs;

	close(s->root);
	free(s);
}

/* ---- version registry ---- */

static int dir_version_put(struct conn_store *cs, const char *model, const char *version,
			   const char *doc, size_t len, int64_t registered_ms)
{
	struct dir_store *s = (struct dir_store *)cs;
	char mrel[MREL_MAX], idx[REL_MAX], dir[MREL_MAX + 16], vfile[ENC_FILE_MAX + 8],
	    vfull[ENC_FULL_MAX];
	char line[ENC_FULL_MAX + 32], vrel[REL_MAX];
	int fd, rc;

	if (check_name(s, "version", version, MAX_NAME) < 0 || model_dir_create(s, model, mrel) < 0)
		return -1;
	enc_file(version, strlen(version), vfile);
	strcat(vfile, ".json");
	enc_full(version, strlen(version), vfull);
	snprintf(dir, sizeof dir, "%s/versions", mrel);
	snprintf(idx, sizeof idx, "%s/versions.idx", mrel);
	snprintf(vrel, sizeof vrel, "%s/%s", dir, vfile);

	fd = openat(s->root, idx, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return sys_err(s, "open", idx);
	if (flock(fd, LOCK_EX) < 0) {
		sys_err(s, "lock", idx);
		close(fd);
		return -1;
	}
	rc = exists(s, vrel);
	if (rc != 0) {
		if (rc > 0)
			conn_store_errf(&s->base, "version already registered");
		close(fd);
		return rc > 0 ? 2 : -1;
	}
	snprintf(line, sizeof line, "%lld %s\n", (long long)registered_ms, vfull);
	if (write_all(fd, line, strlen(line)) < 0 || fsync(fd) < 0) {
		sys_err(s, "append to", idx);
		close(fd);
		return -1;
	}
	rc = put_file(s, dir, vfile, doc, len, 1);
	close(fd); /* releases the lock */
	return rc == 0 ? conn_store_done(&s->base, 0) : rc;
}

static int dir_version_get(struct conn_store *cs, const char *model, const char *version,
			   struct conn_blob *out)
{
	struct dir_store *s = (struct dir_store *)cs;
	char mrel[MREL_MAX], vfile[ENC_FILE_MAX], rel[REL_MAX];

	if (model_rel(s, model, mrel) < 0 || check_name(s, "version", version, MAX_NAME) < 0)
		return -1;
	enc_file(version, strlen(version), vfile);
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
	char rel[REL_MAX], vrel[REL_MAX], vfile[ENC_FILE_MAX];
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
		    (len = dec_full(sp + 1, name, sizeof name)) < 0) {
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
		enc_file(by[i]->name, strlen(by[i]->name), vfile);
		snprintf(vrel, sizeof vrel, "%s/versions/%s.json", mrel, vfile);
		rc = exists(s, vrel);
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
	int dfd = open_dir(s, "models", 0), stop = 0;
	DIR *d;
	struct dirent *de;

	if (dfd == -2)
		return conn_store_done(&s->base, 0);
	if (dfd < 0)
		return -1;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return sys_err(s, "open", "models");
	}
	while (!stop && (errno = 0, de = readdir(d)) != NULL) {
		char name[MAX_ID + 1], rel[REL_MAX];
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
		} else if (dec_full(de->d_name, name, sizeof name) < 0 || strlen(name) > MAX_NAME) {
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
		sys_err(s, "read", "models");
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
	char mrel[MREL_MAX], dir[MREL_MAX + 16], vfile[ENC_FILE_MAX + 8];

	if (check_name(s, "version", version, MAX_NAME) < 0 || model_dir_create(s, model, mrel) < 0)
		return -1;
	enc_file(version, strlen(version), vfile);
	strcat(vfile, ".json");
	snprintf(dir, sizeof dir, "%s/baselines", mrel);
	return conn_store_done(&s->base, put_file(s, dir, vfile, doc, len, 0));
}

static int dir_baseline_get(struct conn_store *cs, const char *model, const char *version,
			    struct conn_blob *out)
{
	struct dir_store *s = (struct dir_store *)cs;
	char mrel[MREL_MAX], vfile[ENC_FILE_MAX], rel[REL_MAX];

	if (model_rel(s, model, mrel) < 0 || check_name(s, "version", version, MAX_NAME) < 0)
		return -1;
	enc_file(version, strlen(version), vfile);
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
	return conn_store_done(&s->base, put_file(s, mrel, "good", version, strlen(version), 0));
}

static int dir_good_get(struct conn_store *cs, const char *model, struct conn_blob *out)
{
	struct dir_store *s = (struct dir_store *)cs;
	char mrel[MREL_MAX], rel[REL_MAX];
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
	return conn_store_done(&s->base, put_file(s, mrel, "hold", on ? "1\n" : "0\n", 2, 0));
}

static int dir_hold_get(struct conn_store *cs, const char *model, int *on)
{
	struct dir_store *s = (struct dir_store *)cs;
	char mrel[MREL_MAX], rel[REL_MAX];

	*on = 0;
	if (model_rel(s, model, mrel) < 0)
		return -1;
	snprintf(rel, sizeof rel, "%s/hold", mrel);
	return conn_store_done(&s->base, get_flag(s, rel, on));
}

static int dir_latch_set(struct conn_store *cs, const char *model, const char *version, int on)
{
	struct dir_store *s = (struct dir_store *)cs;
	char mrel[MREL_MAX], dir[MREL_MAX + 16], vfile[ENC_FILE_MAX];

	if (check_name(s, "version", version, MAX_NAME) < 0 || model_dir_create(s, model, mrel) < 0)
		return -1;
	enc_file(version, strlen(version), vfile);
	snprintf(dir, sizeof dir, "%s/latch", mrel);
	return conn_store_done(&s->base, put_file(s, dir, vfile, on ? "1\n" : "0\n", 2, 0));
}

static int dir_latch_get(struct conn_store *cs, const char *model, const char *version, int *on)
{
	struct dir_store *s = (struct dir_store *)cs;
	char mrel[MREL_MAX], vfile[ENC_FILE_MAX], rel[REL_MAX];

	*on = 0;
	if (model_rel(s, model, mrel) < 0 || check_name(s, "version", version, MAX_NAME) < 0)
		return -1;
	enc_file(version, strlen(version), vfile);
	snprintf(rel, sizeof rel, "%s/latch/%s", mrel, vfile);
	return conn_store_done(&s->base, get_flag(s, rel, on));
}

/* ---- rollback history and dedup ---- */

static int dir_history_append(struct conn_store *cs, const char *model, const char *doc, size_t len)
{
	struct dir_store *s = (struct dir_store *)cs;
	char mrel[MREL_MAX], rel[REL_MAX], *line;
	struct stat st;
	int fd, rc = -1;

	if (len == 0 || memchr(doc, '\n', len) || memchr(doc, '\0', len)) {
		conn_store_errf(&s->base, "a history entry must be one non-empty line");
		return -1;
	}
	if (len > MAX_FILE) {
		conn_store_errf(&s->base, "a history entry must be at most %zu bytes", MAX_FILE);
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
	fd = openat(s->root, rel, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		sys_err(s, "open", rel);
		free(line);
		return -1;
	}
	if (flock(fd, LOCK_EX) < 0 || fstat(fd, &st) < 0) {
		sys_err(s, "lock", rel);
		goto out;
	}
	/* complete a line torn by a crash so that this entry starts on a line of its own */
	line[0] = '\n';
	memcpy(line + 1, doc, len);
	line[len + 1] = '\n';
	{
		char last = '\n';
		int rfd =
		    st.st_size > 0 ? openat(s->root, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;

		if (rfd >= 0) {
			if (pread(rfd, &last, 1, st.st_size - 1) != 1)
				last = '\n';
			close(rfd);
		}
		if (write_all(fd, last == '\n' ? line + 1 : line,
			      last == '\n' ? len + 1 : len + 2) < 0 ||
		    fsync(fd) < 0) {
			sys_err(s, "append to", rel);
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
	char mrel[MREL_MAX], rel[REL_MAX], buf[65536], *line = NULL;
	size_t llen = 0, lcap = 0;
	int fd, rc = 0, stop = 0;

	if (model_rel(s, model, mrel) < 0)
		return -1;
	snprintf(rel, sizeof rel, "%s/history.jsonl", mrel);
	fd = openat(s->root, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
		return conn_store_done(&s->base, 0);
	if (fd < 0)
		return sys_err(s, "open", rel);
	/* streamed: the file may grow past MAX_FILE over the years; one line may not */
	while (!stop) {
		ssize_t r = read(fd, buf, sizeof buf);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = sys_err(s, "read", rel);
			break;
		}
		if (r == 0)
			break; /* a last line without its newline is being written: not an entry */
		for (ssize_t i = 0; i < r && !stop; i++) {
			if (buf[i] != '\n') {
				if (llen == lcap) {
					char *nl;

					if (lcap >= MAX_FILE) {
						conn_store_errf(
						    &s->base,
						    "%s: an entry is longer than %zu bytes", rel,
						    MAX_FILE);
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
	char name[ENC_FILE_MAX], rel[REL_MAX];
	int dfd, fd;

	if (check_name(s, "claim id", id, MAX_ID) < 0)
		return -1;
	enc_file(id, strlen(id), name);
	snprintf(rel, sizeof rel, "claims/%s", name);
	dfd = open_dir(s, "claims", 1);
	if (dfd < 0)
		return -1;
	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		int e = errno;

		close(dfd);
		if (e == EEXIST)
			return conn_store_done(&s->base, 1);
		errno = e;
		return sys_err(s, "create", rel);
	}
	close(fd);
	if (fsync(dfd) < 0) {
		close(dfd);
		return sys_err(s, "fsync", "claims");
	}
	close(dfd);
	return conn_store_done(&s->base, 0);
}

/* ---- prefix and reachability ---- */

static int dir_set_prefix(struct conn_store *cs, const char *prefix)
{
	(void)prefix; /* checked by store.c; the directory is the store's namespace */
	return conn_store_done(cs, 0);
}

/* The directory is writable: a file can be created in it and removed (this also fails when the
 * directory was removed, or on a read-only file system, even for root). */
static int dir_ping(struct conn_store *cs)
{
	struct dir_store *s = (struct dir_store *)cs;
	static unsigned long counter;
	char tmp[64];
	int fd;

	snprintf(tmp, sizeof tmp, ".tmp.ping.%ld.%lu", (long)getpid(),
		 __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
	fd = openat(s->root, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return sys_err(s, "create a file in", "the store directory");
	close(fd);
	if (unlinkat(s->root, tmp, 0) < 0)
		return sys_err(s, "remove", tmp);
	return conn_store_done(&s->base, 0);
}

/* ---- framed files (pending events, checkpoints, locks) ----
 * A framed file is a sequence of records: a header line "<tag> <n> <n> ...\n" of decimal
 * numbers, then the fields whose lengths it gives, each followed by '\n'. Fields are raw bytes;
 * the reader replaces each field's '\n' by a NUL, so every field it hands out is NUL-terminated
 * in place (beyond its length). */

#define HEAD_MAX 160 /* the longest header line */

/* Parses the header line at *p (before end): tag receives its first word (tagcap bytes), v[]
 * at most 4 numbers, *nv their count; *p moves past the line. -1 when malformed. */
static int parse_head(char **p, const char *end, char *tag, size_t tagcap, long long v[4], int *nv)
{
	size_t avail = (size_t)(end - *p), len;
	const char *nl = memchr(*p, '\n', avail < HEAD_MAX ? avail : HEAD_MAX);
	char line[HEAD_MAX + 1], *save = NULL, *tok;

	if (!nl)
		return -1;
	len = (size_t)(nl - *p);
	memcpy(line, *p, len);
	line[len] = '\0';
	if (strlen(line) != len)
		return -1;
	*p += len + 1;
	tok = strtok_r(line, " ", &save);
	if (!tok || strlen(tok) >= tagcap)
		return -1;
	snprintf(tag, tagcap, "%s", tok);
	*nv = 0;
	while ((tok = strtok_r(NULL, " ", &save)) != NULL) {
		char *e;

		if (*nv == 4)
			return -1;
		errno = 0;
		v[*nv] = strtoll(tok, &e, 10);
		if (errno || *e || e == tok)
			return -1;
		(*nv)++;
	}
	return 0;
}

/* The field of n bytes at *p, NUL-terminated in place of its '\n'; NULL when it is not there. */
static char *take(char **p, const char *end, long long n)
{
	char *f = *p;

	if (n < 0 || (unsigned long long)n >= (unsigned long long)(end - *p) || f[n] != '\n')
		return NULL;
	f[n] = '\0';
	*p += n + 1;
	return f;
}

/* Appends n bytes and a '\n' at *o. */
static void put_field(char **o, const void *data, size_t n)
{
	if (n)
		memcpy(*o, data, n);
	(*o)[n] = '\n';
	*o += n + 1;
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
	char name[ENC_FILE_MAX], head[HEAD_MAX], *buf, *o;
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
	put_field(&o, id, il);
	put_field(&o, model, ml);
	put_field(&o, doc, len);
	enc_file(id, il, name);
	rc = put_file(s, "pending", name, buf, n, 0);
	free(buf);
	return conn_store_done(&s->base, rc);
}

/* Syncs directory rel (absent: nothing to do). */
static int sync_dir(struct dir_store *s, const char *rel)
{
	int dfd = open_dir(s, rel, 0);

	if (dfd == -2)
		return 0;
	if (dfd < 0)
		return -1;
	if (fsync(dfd) < 0) {
		close(dfd);
		return sys_err(s, "fsync", rel);
	}
	close(dfd);
	return 0;
}

static int dir_pending_del(struct conn_store *cs, const char *id)
{
	struct dir_store *s = (struct dir_store *)cs;
	char name[ENC_FILE_MAX], rel[REL_MAX];

	enc_file(id, strlen(id), name);
	snprintf(rel, sizeof rel, "pending/%s", name);
	if (unlinkat(s->root, rel, 0) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return conn_store_done(&s->base, 0);
		return sys_err(s, "remove", rel);
	}
	return conn_store_done(&s->base, sync_dir(s, "pending"));
}

/* Parses a pending file read from rel (the file name fname) and calls fn; the callback's
 * return, or -1 with the error set when the file is not a pending event of that name. */
static int pending_call(struct dir_store *s, const char *rel, const char *fname,
			struct conn_blob *b, conn_store_pending_fn fn, void *arg)
{
	char *p = b->data, *end = b->data + b->len, tag[16], *id, *model, *doc,
	     encoded[ENC_FILE_MAX];
	long long v[4];
	int nv;

	if (parse_head(&p, end, tag, sizeof tag, v, &nv) < 0 || strcmp(tag, "pending") != 0 ||
	    nv != 4 || v[0] != 1 || v[1] < 1 || v[1] > MAX_ID || v[2] < 1 || v[2] > MAX_NAME ||
	    !(id = take(&p, end, v[1])) || !(model = take(&p, end, v[2])) ||
	    !(doc = take(&p, end, v[3])) || p != end || strlen(id) != (size_t)v[1] ||
	    strlen(model) != (size_t)v[2]) {
		conn_store_errf(&s->base, "%s: not a pending event", rel);
		return -1;
	}
	enc_file(id, (size_t)v[1], encoded);
	if (strcmp(encoded, fname) != 0) {
		conn_store_errf(&s->base, "%s: holds the event of another id", rel);
		return -1;
	}
	return fn(arg, id, model, doc, (size_t)v[3]) != 0;
}

static int dir_pending_list(struct conn_store *cs, conn_store_pending_fn fn, void *arg)
{
	struct dir_store *s = (struct dir_store *)cs;
	int dfd = open_dir(s, "pending", 0), stop = 0;
	struct dirent *de;
	DIR *d;

	if (dfd == -2)
		return conn_store_done(&s->base, 0);
	if (dfd < 0)
		return -1;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return sys_err(s, "open", "pending");
	}
	/* fn may delete the entry it is given (the usual: deliver, then delete) */
	while (!stop && (errno = 0, de = readdir(d)) != NULL) {
		struct conn_blob b = { 0 };
		char rel[REL_MAX];
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
		sys_err(s, "read", "pending");
		closedir(d);
		return -1;
	}
	closedir(d);
	return conn_store_done(&s->base, 0);
}

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

/* "ckpt/<scope>" into rel (REL_MAX bytes). */
static void scope_rel(const char *scope, char *rel)
{
	char e[ENC_FILE_MAX];

	enc_file(scope, strlen(scope), e);
	snprintf(rel, REL_MAX, "ckpt/%s", e);
}

/* Creates ckpt/<scope> and takes the exclusive flock of its "flock" file: the fd (close it to
 * release), or -1. */
static int scope_lock(struct dir_store *s, const char *dir)
{
	char rel[REL_MAX];
	int fd;

	if (mkdirs(s, dir) < 0)
		return -1;
	snprintf(rel, sizeof rel, "%s/flock", dir);
	fd = openat(s->root, rel, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return sys_err(s, "open", rel);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			sys_err(s, "lock", rel);
			close(fd);
			return -1;
		}
	}
	return fd;
}

/* Reads and parses ckpt/<scope>/checkpoint (dir: "ckpt/<scope>") into st; a missing file is
 * an empty state. */
static int ck_load(struct dir_store *s, const char *dir, struct ck_state *st)
{
	char rel[REL_MAX], *p, *end;
	int rc;

	memset(st, 0, sizeof *st);
	snprintf(rel, sizeof rel, "%s/checkpoint", dir);
	rc = get_file_max(s, rel, CKPT_MAX_FILE, &st->file);
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

		if (parse_head(&p, end, tag, sizeof tag, v, &nv) < 0)
			goto bad;
		if (!strcmp(tag, "end") && nv == 0 && p == end)
			break;
		if (!strcmp(tag, "o") && nv == 4 && v[0] >= 1 && v[0] <= CONN_CKPT_MAX_STREAM) {
			e.k = take(&p, end, v[0]);
			if (!e.k || strlen(e.k) != (size_t)v[0])
				goto bad;
			e.kl = (size_t)v[0];
			e.v[0] = v[1], e.v[1] = v[2], e.v[2] = v[3];
			rc = ck_push(s, st, &st->off, e);
		} else if (!strcmp(tag, "p") && nv == 3 && v[0] >= 1 && v[0] <= CONN_CKPT_MAX_KEY &&
			   v[1] >= 1 && v[1] <= CONN_CKPT_MAX_INSTANCE && v[2] >= 0 &&
			   v[2] <= (long long)CONN_STORE_MAX_VALUE) {
			e.k = take(&p, end, v[0]);
			e.n = e.k ? take(&p, end, v[1]) : NULL;
			e.b = e.n ? take(&p, end, v[2]) : NULL;
			if (!e.b || strlen(e.n) != (size_t)v[1])
				goto bad;
			e.kl = (size_t)v[0], e.nl = (size_t)v[1], e.bl = (size_t)v[2];
			rc = ck_push(s, st, &st->part, e);
		} else if (!strcmp(tag, "s") && nv == 2 && v[0] >= 1 && v[0] <= CONN_CKPT_MAX_KEY &&
			   v[1] >= 0 && v[1] <= (long long)CONN_STORE_MAX_VALUE) {
			e.k = take(&p, end, v[0]);
			e.b = e.k ? take(&p, end, v[1]) : NULL;
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
		cap += HEAD_MAX + st->off.e[i].kl + 1;
	for (size_t i = 0; i < st->part.n; i++)
		cap += HEAD_MAX + st->part.e[i].kl + st->part.e[i].nl + st->part.e[i].bl + 3;
	for (size_t i = 0; i < st->st.n; i++)
		cap += HEAD_MAX + st->st.e[i].kl + st->st.e[i].bl + 2;
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

		o += snprintf(o, HEAD_MAX, "o %zu %lld %lld %lld\n", e->kl, (long long)e->v[0],
			      (long long)e->v[1], (long long)e->v[2]);
		put_field(&o, e->k, e->kl);
	}
	for (size_t i = 0; i < st->part.n; i++) {
		const struct ck_ent *e = &st->part.e[i];

		o += snprintf(o, HEAD_MAX, "p %zu %zu %zu\n", e->kl, e->nl, e->bl);
		put_field(&o, e->k, e->kl);
		put_field(&o, e->n, e->nl);
		put_field(&o, e->b, e->bl);
	}
	for (size_t i = 0; i < st->st.n; i++) {
		const struct ck_ent *e = &st->st.e[i];

		o += snprintf(o, HEAD_MAX, "s %zu %zu\n", e->kl, e->bl);
		put_field(&o, e->k, e->kl);
		put_field(&o, e->b, e->bl);
	}
	memcpy(o, "end\n", 4);
	n = (size_t)(o + 4 - buf);
	rc = put_file(s, dir, "checkpoint", buf, n, 0);
	free(buf);
	return rc;
}

static int dir_ckpt_commit(struct conn_store *cs, const char *scope, const struct conn_ckpt *c)
{
	struct dir_store *s = (struct dir_store *)cs;
	struct ck_state st = { 0 };
	char dir[REL_MAX];
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
	char dir[REL_MAX];

	scope_rel(scope, dir);
	return ck_load(s, dir, st);
}

static int dir_ckpt_offsets(struct conn_store *cs, const char *scope, conn_ckpt_offset_fn fn,
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

static int dir_ckpt_windows(struct conn_store *cs, const char *scope, conn_ckpt_key_fn fn,
			    void *arg)
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

static int dir_ckpt_partials(struct conn_store *cs, const char *scope, const char *key, size_t klen,
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

static int dir_ckpt_states(struct conn_store *cs, const char *scope, conn_ckpt_blob_fn fn,
			   void *arg)
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
	int nv, rc = get_file(s, rel, b);

	if (rc != 0)
		return rc;
	p = b->data;
	end = p + b->len;
	if (parse_head(&p, end, tag, sizeof tag, v, &nv) < 0 || strcmp(tag, "lock") != 0 ||
	    nv != 3 || v[0] != 1 || v[2] < 1 || v[2] > CONN_LOCK_MAX_OWNER ||
	    !(*owner = take(&p, end, v[2])) || p != end || strlen(*owner) != (size_t)v[2]) {
		conn_store_errf(&s->base, "%s: not a lock file", rel);
		free(b->data);
		b->data = NULL;
		return -1;
	}
	*expires = v[1];
	return 0;
}

static int dir_lock(struct conn_store *cs, const char *scope, const char *name, const char *owner,
		    int64_t ttl_ms)
{
	struct dir_store *s = (struct dir_store *)cs;
	char dir[REL_MAX], ldir[REL_MAX + 8], file[ENC_FILE_MAX], rel[2 * REL_MAX];
	char head[HEAD_MAX], *buf = NULL, *cur = NULL, *o;
	struct conn_blob b = { 0 };
	int64_t expires = 0, now;
	size_t ol = strlen(owner), hl;
	int lfd, rc;

	scope_rel(scope, dir);
	snprintf(ldir, sizeof ldir, "%s/locks", dir);
	enc_file(name, strlen(name), file);
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
			put_field(&o, owner, ol);
			rc = put_file(s, ldir, file, buf, hl + ol + 1, 0);
		}
	}
	free(buf);
	free(b.data);
	close(lfd);
	return conn_store_done(&s->base, rc);
}

static int dir_unlock(struct conn_store *cs, const char *scope, const char *name, const char *owner)
{
	struct dir_store *s = (struct dir_store *)cs;
	char dir[REL_MAX], ldir[REL_MAX + 8], file[ENC_FILE_MAX], rel[2 * REL_MAX];
	struct conn_blob b = { 0 };
	char *cur = NULL;
	int64_t expires;
	int lfd, rc, e;

	scope_rel(scope, dir);
	e = exists(s, dir);
	if (e <= 0)
		return e < 0 ? -1 : conn_store_done(&s->base, 0); /* nothing was ever locked */
	snprintf(ldir, sizeof ldir, "%s/locks", dir);
	enc_file(name, strlen(name), file);
	snprintf(rel, sizeof rel, "%s/%s", ldir, file);
	lfd = scope_lock(s, dir);
	if (lfd < 0)
		return -1;
	rc = lock_read(s, rel, &b, &cur, &expires);
	if (rc == 0 && strcmp(cur, owner) == 0) { /* ours (expired or not): release */
		if (unlinkat(s->root, rel, 0) < 0 && errno != ENOENT)
			rc = sys_err(s, "remove", rel);
		else
			rc = sync_dir(s, ldir);
	}
	free(b.data);
	close(lfd);
	return rc < 0 ? -1 : conn_store_done(&s->base, 0);
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
	.history_append = dir_history_append,
	.history = dir_history,
	.claim = dir_claim,
	.set_prefix = dir_set_prefix,
	.ping = dir_ping,
	.pending_put = dir_pending_put,
	.pending_del = dir_pending_del,
	.pending_list = dir_pending_list,
	.ckpt_commit = dir_ckpt_commit,
	.ckpt_offsets = dir_ckpt_offsets,
	.ckpt_windows = dir_ckpt_windows,
	.ckpt_partials = dir_ckpt_partials,
	.ckpt_states = dir_ckpt_states,
	.lock = dir_lock,
	.unlock = dir_unlock,
};

/*
 * atomic_file.c -- the file layer under the dir store (atomic_file.h): name encoding, atomic
 * writes (temporary file, fsync, rename or link, fsync of the directory), bounded reads,
 * flocks and framed files, all relative to one directory fd. The percent and hex coding are
 * text.h's; SHA-256 for shortened names is nettle's (Debian nettle-dev).
 */
#include "connectors/atomic_file.h"
#include "connectors/text.h"

#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define ENC_SHORT  160u /* longer encodings are shortened */
#define ENC_PREFIX 90u	/* bytes of the encoding kept in a shortened name */

/* ---- errors ---- */

/* The error of a failed system call on a relative path. */
int conn_afile_sys_err(const struct conn_afile_dir *d, const char *what, const char *rel)
{
	conn_store_errf(d->err, "%s %s: %s", what, rel, strerror(errno));
	return -1;
}

/* ---- names ---- */

/* Writes the 64 lowercase hex digits of SHA-256(p[0..n)) and a NUL into hex. */
static void sha256_hex(const void *data, size_t n, char hex[65])
{
	struct sha256_ctx ctx;
	uint8_t md[SHA256_DIGEST_SIZE];

	sha256_init(&ctx);
	sha256_update(&ctx, n, data);
	sha256_digest(&ctx, sizeof md, md);
	conn_text_hex_encode(hex, md, sizeof md);
}

/* The full percent-encoding of name (out holds CONN_AFILE_FULL_MAX bytes; n <= CONN_AFILE_ID_MAX):
 * text.h's, with a leading '.' encoded too. */
void conn_afile_enc_full(const char *name, size_t n, char *out)
{
	conn_text_pct_encode(out, name, n, CONN_TEXT_PCT_DOT);
}

/* The file-name form of name (out holds CONN_AFILE_NAME_MAX bytes): the encoding, or when that is
 * longer than ENC_SHORT, its first at most ENC_PREFIX bytes (never half an %XX), '~' and the
 * hex SHA-256 of the raw name. */
void conn_afile_enc_name(const char *name, size_t n, char *out)
{
	char full[CONN_AFILE_FULL_MAX];
	size_t len, cut = 0;

	conn_afile_enc_full(name, n, full);
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

/* Decodes a full encoding into out (cap bytes, NUL-terminated); the length, or -1 when enc is
 * not exactly what enc_full produces for some name. */
long conn_afile_dec_full(const char *enc, char *out, size_t cap)
{
	size_t n = strlen(enc);
	char raw[CONN_AFILE_FULL_MAX], again[CONN_AFILE_FULL_MAX];
	long o;

	if (n >= CONN_AFILE_FULL_MAX) /* longer than the encoding of any name */
		return -1;
	o = conn_text_pct_decode(raw, enc, n);
	if (o <= 0 || (size_t)o > CONN_AFILE_ID_MAX || (size_t)o >= cap)
		return -1;
	memcpy(out, raw, (size_t)o + 1);
	conn_afile_enc_full(out, (size_t)o, again);
	return strcmp(again, enc) == 0 ? o : -1;
}

/* ---- directories and files ---- */

/* Creates rel and its missing parents under the root (like mkdir -p). */
int conn_afile_mkdirs(const struct conn_afile_dir *d, const char *rel)
{
	char buf[CONN_AFILE_REL_MAX];
	size_t n = strlen(rel);

	memcpy(buf, rel, n + 1);
	for (size_t i = 0; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdirat(d->root, buf, 0755) < 0 && errno != EEXIST)
			return conn_afile_sys_err(d, "mkdir", buf);
		buf[i] = i < n ? '/' : '\0';
	}
	return 0;
}

/* Opens directory rel (created when create is set). The fd; -2 when it does not exist and
 * create is 0; -1 on error. */
int conn_afile_open_dir(const struct conn_afile_dir *d, const char *rel, int create)
{
	int fd;

	if (create && conn_afile_mkdirs(d, rel) < 0)
		return -1;
	fd = openat(d->root, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT && !create)
		return -2;
	if (fd < 0)
		return conn_afile_sys_err(d, "open", rel);
	return fd;
}

int conn_afile_write_all(int fd, const void *data, size_t len)
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
int conn_afile_put(const struct conn_afile_dir *d, const char *dir, const char *name,
		   const void *data, size_t len, int excl)
{
	static unsigned long counter;
	char tmp[64], rel[CONN_AFILE_REL_MAX];
	int dfd, fd, rc = -1;

	snprintf(rel, sizeof rel, "%s/%s", dir, name);
	dfd = conn_afile_open_dir(d, dir, 1);
	if (dfd < 0)
		return -1;
	snprintf(tmp, sizeof tmp, ".tmp.%ld.%lu", (long)getpid(),
		 __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		conn_afile_sys_err(d, "create a temporary file in", dir);
		close(dfd);
		return -1;
	}
	if (conn_afile_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		conn_afile_sys_err(d, "write", rel);
		close(fd);
		goto out;
	}
	if (close(fd) < 0) {
		conn_afile_sys_err(d, "write", rel);
		goto out;
	}
	if (excl) {
		if (linkat(dfd, tmp, dfd, name, 0) < 0) {
			if (errno == EEXIST) {
				conn_store_errf(d->err, "%s already exists", rel);
				rc = 2;
			} else {
				conn_afile_sys_err(d, "link", rel);
			}
			goto out;
		}
	} else if (renameat(dfd, tmp, dfd, name) < 0) {
		conn_afile_sys_err(d, "rename", rel);
		goto out;
	}
	rc = 0;
	if (excl)
		unlinkat(dfd, tmp, 0);
	if (fsync(dfd) < 0)
		rc = conn_afile_sys_err(d, "fsync", dir);
out:
	if (rc != 0)
		unlinkat(dfd, tmp, 0);
	close(dfd);
	return rc;
}

/* Reads the whole of an open regular file, at most max bytes, into out. */
static int read_fd(const struct conn_afile_dir *d, int fd, const char *rel, size_t max,
		   struct conn_blob *out)
{
	struct stat st;
	size_t cap, len = 0;
	char *buf;

	if (fstat(fd, &st) < 0)
		return conn_afile_sys_err(d, "stat", rel);
	if (!S_ISREG(st.st_mode)) {
		conn_store_errf(d->err, "%s is not a regular file", rel);
		return -1;
	}
	if ((uint64_t)st.st_size > max) {
		conn_store_errf(d->err, "%s is larger than %zu bytes", rel, max);
		return -1;
	}
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap + 1);
	if (!buf) {
		conn_store_errf(d->err, "out of memory reading %s", rel);
		return -1;
	}
	for (;;) {
		ssize_t r = pread(fd, buf + len, cap - len, (off_t)len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return conn_afile_sys_err(d, "read", rel);
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len == cap) { /* the file grew while read: take more, within the bound */
			char *nb;

			if (cap > max) {
				free(buf);
				conn_store_errf(d->err, "%s is larger than %zu bytes", rel, max);
				return -1;
			}
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				conn_store_errf(d->err, "out of memory reading %s", rel);
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
int conn_afile_get(const struct conn_afile_dir *d, const char *rel, size_t max,
		   struct conn_blob *out)
{
	int fd = openat(d->root, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), rc;

	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
		return 1;
	if (fd < 0)
		return conn_afile_sys_err(d, "open", rel);
	rc = read_fd(d, fd, rel, max, out);
	close(fd);
	return rc;
}

/* 1 when root-relative rel exists, 0 when not, -1 on error. */
int conn_afile_exists(const struct conn_afile_dir *d, const char *rel)
{
	struct stat st;

	if (fstatat(d->root, rel, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	if (errno == ENOENT || errno == ENOTDIR)
		return 0;
	return conn_afile_sys_err(d, "stat", rel);
}

/* Syncs directory rel (absent: nothing to do). */
int conn_afile_sync_dir(const struct conn_afile_dir *d, const char *rel)
{
	int dfd = conn_afile_open_dir(d, rel, 0);

	if (dfd == -2)
		return 0;
	if (dfd < 0)
		return -1;
	if (fsync(dfd) < 0) {
		close(dfd);
		return conn_afile_sys_err(d, "fsync", rel);
	}
	close(dfd);
	return 0;
}

int conn_afile_lock(const struct conn_afile_dir *d, const char *rel, int flags)
{
	int fd = openat(d->root, rel, flags | O_CLOEXEC | O_NOFOLLOW, 0644);

	if (fd < 0)
		return conn_afile_sys_err(d, "open", rel);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			conn_afile_sys_err(d, "lock", rel);
			close(fd);
			return -1;
		}
	}
	return fd;
}

/* ---- framed files ---- */

/* Parses the header line at *p (before end): tag receives its first word (tagcap bytes), v[]
 * at most 4 numbers, *nv their count; *p moves past the line. -1 when malformed. */
int conn_afile_frame_head(char **p, const char *end, char *tag, size_t tagcap, long long v[4],
			  int *nv)
{
	size_t avail = (size_t)(end - *p), len;
	const char *nl =
	    memchr(*p, '\n', avail < CONN_AFILE_HEAD_MAX ? avail : CONN_AFILE_HEAD_MAX);
	char line[CONN_AFILE_HEAD_MAX + 1], *save = NULL, *tok;

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
char *conn_afile_frame_take(char **p, const char *end, long long n)
{
	char *f = *p;

	if (n < 0 || (unsigned long long)n >= (unsigned long long)(end - *p) || f[n] != '\n')
		return NULL;
	f[n] = '\0';
	*p += n + 1;
	return f;
}

/* Appends n bytes and a '\n' at *o. */
void conn_afile_frame_put(char **o, const void *data, size_t n)
{
	if (n)
		memcpy(*o, data, n);
	(*o)[n] = '\n';
	*o += n + 1;
}

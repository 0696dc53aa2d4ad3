/*
 * atomic_file.h -- the file layer under the dir store (store_dir.c, store_dir_ckpt.c): files
 * under one directory (an fd), written atomically (a temporary file, fsync, rename or link,
 * fsync of the directory), read whole within a bound, locked with flock; names of any bytes
 * encoded into file names that stay under NAME_MAX; and framed files, records of raw fields
 * behind a header line of lengths. Errors go to a store handle (conn_store_errf: first wins);
 * nothing is printed.
 */
#ifndef DRIFTD_CONN_ATOMIC_FILE_H
#define DRIFTD_CONN_ATOMIC_FILE_H

#include "connectors/store_impl.h"

#include <stddef.h>

#define CONN_AFILE_ID_MAX   1024u			/* the longest name encoded, bytes */
#define CONN_AFILE_FULL_MAX (3 * CONN_AFILE_ID_MAX + 1) /* a full encoding with its NUL */
#define CONN_AFILE_NAME_MAX 168u			/* a file-name encoding with its NUL */
#define CONN_AFILE_REL_MAX  512u			/* a path relative to the root */
#define CONN_AFILE_HEAD_MAX 160				/* the longest header line of a frame */

/* The directory the files are under, and where errors go. */
struct conn_afile_dir {
	int root;		/* directory fd; every rel path below is relative to it */
	struct conn_store *err; /* the handle errors are recorded on */
};

/* Records "<what> <rel>: <strerror(errno)>"; -1. */
int conn_afile_sys_err(const struct conn_afile_dir *d, const char *what, const char *rel);

/* ---- names ----
 * The full encoding percent-encodes every byte outside [A-Za-z0-9._-], and a leading '.', as
 * %XX: no name can be "." or "..", contain '/', or start with '.' (the temporary files do). */

/* The full encoding of name[0..n) (n <= CONN_AFILE_ID_MAX) into out (CONN_AFILE_FULL_MAX). */
void conn_afile_enc_full(const char *name, size_t n, char *out);
/* The file-name form of name[0..n) into out (CONN_AFILE_NAME_MAX bytes): its full encoding, or
 * when that is longer than 160 bytes, its first at most 90 bytes (never half an %XX), '~' and
 * the lowercase hex SHA-256 of the raw name ('~' never appears in an encoding). */
void conn_afile_enc_name(const char *name, size_t n, char *out);
/* Decodes a full encoding into out (cap bytes, NUL-terminated): the length, or -1 when enc is
 * not exactly what conn_afile_enc_full produces for some name of 1..CONN_AFILE_ID_MAX bytes. */
long conn_afile_dec_full(const char *enc, char *out, size_t cap);

/* ---- directories ---- */

/* Creates rel and its missing parents under the root (like mkdir -p). */
int conn_afile_mkdirs(const struct conn_afile_dir *d, const char *rel);
/* Opens directory rel (created when create is set): the fd; -2 when it does not exist and
 * create is 0; -1 on error. */
int conn_afile_open_dir(const struct conn_afile_dir *d, const char *rel, int create);
/* fsyncs directory rel (absent: nothing to do). */
int conn_afile_sync_dir(const struct conn_afile_dir *d, const char *rel);
/* 1 when rel exists, 0 when not, -1 on error. */
int conn_afile_exists(const struct conn_afile_dir *d, const char *rel);

/* ---- files ---- */

/* write(2) of all len bytes (EINTR retried); 0 or -1 with errno. */
int conn_afile_write_all(int fd, const void *data, size_t len);
/* Writes data atomically as dir/name (dir created when missing): a temporary ".tmp.<pid>.<n>"
 * in dir, fsync'd, then renamed over name (excl == 0) or linked to it (excl == 1: 2 when name
 * exists, nothing changed); the directory is fsync'd. 0 on success, -1 on error. */
int conn_afile_put(const struct conn_afile_dir *d, const char *dir, const char *name,
		   const void *data, size_t len, int excl);
/* Reads rel, a regular file of at most max bytes, whole into out (malloc'd, NUL-terminated):
 * 0, 1 when it does not exist, -1 on error. A file growing while read is still bounded. */
int conn_afile_get(const struct conn_afile_dir *d, const char *rel, size_t max,
		   struct conn_blob *out);
/* Opens rel (flags | O_CLOEXEC | O_NOFOLLOW, mode 0644 when created) and takes its exclusive
 * flock (waiting): the fd (close it to release), or -1. */
int conn_afile_lock(const struct conn_afile_dir *d, const char *rel, int flags);

/* ---- framed files ----
 * A framed file is a sequence of records: a header line "<tag> <n> <n> ...\n" of decimal
 * numbers, then the fields whose lengths it gives, each followed by '\n'. Fields are raw
 * bytes; the reader replaces each field's '\n' by a NUL, so every field it hands out is
 * NUL-terminated in place (beyond its length). */

/* Parses the header line at *p (before end): tag receives its first word (tagcap bytes), v[]
 * at most 4 numbers, *nv their count; *p moves past the line. -1 when malformed. */
int conn_afile_frame_head(char **p, const char *end, char *tag, size_t tagcap, long long v[4],
			  int *nv);
/* The field of n bytes at *p, NUL-terminated in place of its '\n'; NULL when it is not there. */
char *conn_afile_frame_take(char **p, const char *end, long long n);
/* Appends n bytes and a '\n' at *o (which moves past them). */
void conn_afile_frame_put(char **o, const void *data, size_t n);

#endif

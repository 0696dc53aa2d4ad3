/*
 * codec.h -- internal: the byte codec shared by every serialized stats object.
 *
 * Layout rules of all formats: little-endian fixed-width integers, doubles as the little-endian
 * bytes of their IEEE-754 encoding, counters as unsigned LEB128 varints (canonical: at most 10
 * bytes, no superfluous 0x80 continuation bytes), each object starting with a 4-byte magic and a
 * one-byte format version. The writer records overflow instead of failing on every call; the
 * reader records the first error and returns 0s afterwards, so a decoder can read a whole
 * structure and check once.
 */
#ifndef DRIFTD_STATS_CODEC_H
#define DRIFTD_STATS_CODEC_H

#include "stats.h"

struct codec_w {
	uint8_t *p; /* output buffer */
	size_t cap; /* its size */
	size_t len; /* bytes written (or that would have been) */
};

struct codec_r {
	const uint8_t *p; /* input */
	size_t len;	  /* its size */
	size_t off;	  /* read position */
	int err;	  /* first error: 0 or a stats_status */
};

#define CODEC_VARINT_MAX 10 /* bytes of the longest varint (a uint64) */

void codec_put_bytes(struct codec_w *w, const void *src, size_t n);
void codec_put_u8(struct codec_w *w, uint8_t v);
void codec_put_u32(struct codec_w *w, uint32_t v);
void codec_put_f64(struct codec_w *w, double v);
void codec_put_varint(struct codec_w *w, uint64_t v);
/* STATS_OK when everything fitted, STATS_ERANGE otherwise. */
enum stats_status codec_w_status(const struct codec_w *w);

/* Readers return 0 (or leave dst untouched) once r->err is set. */
void codec_get_bytes(struct codec_r *r, void *dst, size_t n);
const uint8_t *codec_get_span(struct codec_r *r, size_t n); /* pointer into the input */
uint8_t codec_get_u8(struct codec_r *r);
uint32_t codec_get_u32(struct codec_r *r);
double codec_get_f64(struct codec_r *r);
uint64_t codec_get_varint(struct codec_r *r);
/* Checks magic and version; sets EFORMAT / EVERSION. */
void codec_get_header(struct codec_r *r, const char magic[4], uint8_t version);
/* The same for a reader of several versions: the version read (oldest..newest), or 0 with
 * STATS_EVERSION (or the format error) set. */
uint8_t codec_get_header_range(struct codec_r *r, const char magic[4], uint8_t oldest,
			       uint8_t newest);
void codec_put_header(struct codec_w *w, const char magic[4], uint8_t version);
/* STATS_OK when no error occurred and every byte was consumed, else EFORMAT / EVERSION. */
enum stats_status codec_r_finish(const struct codec_r *r);
/* Sets r->err = EFORMAT (first error wins). */
void codec_r_fail(struct codec_r *r);

#endif

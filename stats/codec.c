/*
 * codec.c -- the byte codec shared by the serialized stats objects (see codec.h).
 */
#include "codec.h"

#include <string.h>

/* ---- writer ---- */

void codec_put_bytes(struct codec_w *w, const void *src, size_t n)
{
	if (w->len <= w->cap && n <= w->cap - w->len)
		memcpy(w->p + w->len, src, n);
	w->len += n;
}

void codec_put_u8(struct codec_w *w, uint8_t v)
{
	codec_put_bytes(w, &v, 1);
}

void codec_put_u32(struct codec_w *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	codec_put_bytes(w, b, 4);
}

void codec_put_f64(struct codec_w *w, double v)
{
	uint64_t u;
	uint8_t b[8];

	memcpy(&u, &v, sizeof u);
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(u >> (8 * i));
	codec_put_bytes(w, b, 8);
}

void codec_put_varint(struct codec_w *w, uint64_t v)
{
	uint8_t b[CODEC_VARINT_MAX];
	size_t n = 0;

	while (v >= 0x80) {
		b[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	b[n++] = (uint8_t)v;
	codec_put_bytes(w, b, n);
}

void codec_put_header(struct codec_w *w, const char magic[4], uint8_t version)
{
	codec_put_bytes(w, magic, 4);
	codec_put_u8(w, version);
}

enum stats_status codec_w_status(const struct codec_w *w)
{
	return w->len <= w->cap ? STATS_OK : STATS_ERANGE;
}

/* ---- reader ---- */

void codec_r_fail(struct codec_r *r)
{
	if (!r->err)
		r->err = STATS_EFORMAT;
}

const uint8_t *codec_get_span(struct codec_r *r, size_t n)
{
	const uint8_t *s;

	if (r->err)
		return NULL;
	if (n > r->len - r->off) {
		codec_r_fail(r);
		return NULL;
	}
	s = r->p + r->off;
	r->off += n;
	return s;
}

void codec_get_bytes(struct codec_r *r, void *dst, size_t n)
{
	const uint8_t *s = codec_get_span(r, n);

	if (s)
		memcpy(dst, s, n);
}

uint8_t codec_get_u8(struct codec_r *r)
{
	const uint8_t *s = codec_get_span(r, 1);

	return s ? s[0] : 0;
}

uint32_t codec_get_u32(struct codec_r *r)
{
	const uint8_t *s = codec_get_span(r, 4);

	if (!s)
		return 0;
	return (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 | (uint32_t)s[3] << 24;
}

double codec_get_f64(struct codec_r *r)
{
	const uint8_t *s = codec_get_span(r, 8);
	uint64_t u = 0;
	double v;

	if (!s)
		return 0.0;
	for (int i = 0; i < 8; i++)
		u |= (uint64_t)s[i] << (8 * i);
	memcpy(&v, &u, sizeof v);
	return v;
}

uint64_t codec_get_varint(struct codec_r *r)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		const uint8_t *s = codec_get_span(r, 1);

		if (!s)
			return 0;
		/* the 10th byte may carry only the top bit of a uint64 */
		if (shift == 63 && (*s & 0xfe)) {
			codec_r_fail(r);
			return 0;
		}
		v |= (uint64_t)(*s & 0x7f) << shift;
		if (!(*s & 0x80)) {
			/* canonical: no trailing zero group (0 itself is one byte) */
			if (*s == 0 && shift != 0) {
				codec_r_fail(r);
				return 0;
			}
			return v;
		}
	}
	codec_r_fail(r);
	return 0;
}

uint8_t codec_get_header_range(struct codec_r *r, const char magic[4], uint8_t oldest,
			       uint8_t newest)
{
	const uint8_t *m = codec_get_span(r, 4);
	uint8_t v;

	if (!m)
		return 0;
	if (memcmp(m, magic, 4) != 0) {
		codec_r_fail(r);
		return 0;
	}
	v = codec_get_u8(r);
	if (!r->err && (v < oldest || v > newest))
		r->err = STATS_EVERSION;
	return r->err ? 0 : v;
}

void codec_get_header(struct codec_r *r, const char magic[4], uint8_t version)
{
	codec_get_header_range(r, magic, version, version);
}

enum stats_status codec_r_finish(const struct codec_r *r)
{
	if (r->err)
		return (enum stats_status)r->err;
	return r->off == r->len ? STATS_OK : STATS_EFORMAT;
}

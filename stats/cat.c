/*
 * cat.c -- counts of a categorical feature (see cat.h): the first max_values distinct values are
 * interned in first-seen order, everything else is counted in __other__.
 *
 * Three pieces of storage, all grown geometrically on the (rare) path that interns a new value and
 * never beyond what max_values allows, so a boolean feature costs a few hundred bytes and a
 * feature flooded with distinct values stops growing once it holds max_values of them:
 *   - `ent`, the interned values in first-seen order (index i): count, offset, length;
 *   - `arena`, their bytes, each followed by a NUL (values may contain NULs: the length rules);
 *   - `slots`, an open-addressing table with linear probing whose capacity is a power of two at
 *     least twice the capacity of `ent`, so its load never exceeds 1/2. A slot keeps a 32-bit hash
 *     (its low bits pick the home slot; all 32 bits screen candidates before their bytes are
 *     compared) and the value's index + 1.
 * stats_cat_add, the per-record path, is one hash of the value, usually one probe and one byte
 * comparison (both inlined, with fixed-size loads), and one increment: about 8 ns for a Zipf
 * stream of 50 country codes. `total` is kept beside the counters and never allowed to wrap: every
 * count therefore fits too, merge needs a single overflow check, and stats_cat_total is O(1).
 *
 * Serialization (codec.h rules): magic "DCAT", version 1, varint max_values, varint number of
 * values, then for each value in index order a varint length, its bytes and a varint count, and
 * finally a varint __other__ count.
 */
#ifdef HAVE_CONFIG_H
#include "build.h"
#endif
#include "cat.h"
#include "codec.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define CAT_MAGIC     "DCAT"
#define CAT_VERSION   1
#define CAT_OTHER_LEN (sizeof STATS_CAT_OTHER - 1)
#define VALUES_MIN    8u   /* first capacity of `ent` (the table then has 16 slots) */
#define ARENA_MIN     256u /* first capacity of the arena, in bytes */

struct slot {
	uint32_t hash; /* hash32() of the value; meaningless while idx == 0 */
	uint32_t idx;  /* index of the value + 1; 0 marks an empty slot */
};

struct entry {
	uint64_t count; /* occurrences of the value */
	uint32_t off;	/* offset of its first byte in the arena */
	uint32_t len;	/* its length (<= STATS_CAT_MAX_VALUE_LEN) */
};

struct stats_cat {
	size_t max_values;  /* bound on interned values, 1..STATS_CAT_MAX_VALUES_LIMIT */
	size_t size;	    /* interned values (<= vcap) */
	uint64_t other;	    /* the __other__ bucket */
	uint64_t total;	    /* other + every count; never wraps (see add_count) */
	struct entry *ent;  /* vcap entries, the first `size` in use, first-seen order */
	size_t vcap;	    /* capacity of ent (<= max_values) */
	struct slot *slots; /* mask + 1 slots, a power of two >= 2 * vcap; NULL while vcap == 0 */
	size_t mask;	    /* slot count - 1 */
	char *arena;	    /* value bytes, each followed by a NUL */
	size_t arena_len;   /* bytes in use */
	size_t arena_cap;   /* bytes allocated (<= arena_bound()) */
};

/* ---- hashing and interning ---- */

static inline uint64_t load64(const char *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
	return w;
}

static inline uint32_t load32(const char *p)
{
	uint32_t w;

	memcpy(&w, p, 4);
	return w;
}

/* The last (or only) word of a value of 1..8 bytes (len <= 8) or of the tail of a longer one:
 * overlapping fixed-size loads, never a byte outside s[0..len), and a one-to-one function of the
 * bytes for a given len (len 1..3: s[0], s[len/2], s[len-1] are all the bytes). */
static inline uint64_t tail_word(const char *s, size_t len)
{
	if (len >= 4)
		return load32(s) | (uint64_t)load32(s + len - 4) << 32;
	if (len)
		return (uint64_t)(uint8_t)s[0] | (uint64_t)(uint8_t)s[len / 2] << 8 |
		       (uint64_t)(uint8_t)s[len - 1] << 16;
	return 0;
}

static inline uint64_t mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

/* 32-bit hash of any bytes: the length seeds the state, each 8-byte word (the last one loaded so
 * that it ends at the last byte, overlapping the previous) is xored in, multiplied by an odd
 * constant and folded, and a final multiply-xorshift spreads every input bit over the output.
 * Not keyed: values are bounded in number and length, so a flood of colliding values costs at
 * most one scan of a table of < 4 * max_values slots per call. Host byte order: the hash is
 * never stored outside memory. */
static inline uint32_t hash32(const char *s, size_t len)
{
	uint64_t h = 0x6a09e667f3bcc909ull ^ (len * 0xff51afd7ed558ccdull);
	uint64_t w;

	if (len > 8) {
		const char *end = s + len;

		for (; end - s > 8; s += 8)
			h = mix(h, load64(s));
		w = load64(end - 8);
	} else {
		w = tail_word(s, len);
	}
	h = mix(h, w);
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 32;
	return (uint32_t)h;
}

/* a[0..len) == b[0..len), with the same loads as the hash (inlined; short values are common). */
static inline int same_bytes(const char *a, const char *b, size_t len)
{
	if (len > 8) {
		for (size_t i = 0; i + 8 < len; i += 8)
			if (load64(a + i) != load64(b + i))
				return 0;
		return load64(a + len - 8) == load64(b + len - 8);
	}
	return tail_word(a, len) == tail_word(b, len);
}

/* Whether a value may be interned at all: not too long, not the literal __other__. */
static int internable(const char *s, size_t len)
{
	if (len > STATS_CAT_MAX_VALUE_LEN)
		return 0;
	return !(len == CAT_OTHER_LEN && memcmp(s, STATS_CAT_OTHER, CAT_OTHER_LEN) == 0);
}

/* The largest arena max_values values can need. */
static size_t arena_bound(const struct stats_cat *c)
{
	return c->max_values * (STATS_CAT_MAX_VALUE_LEN + 1);
}

/* Position of the value in the table: its slot, or the empty slot where it would go. Terminates
 * because at least half of the slots are empty. */
static inline size_t probe(const struct stats_cat *c, const char *s, size_t len, uint32_t h)
{
	size_t pos = h & c->mask;

	for (;;) {
		const struct slot *sl = &c->slots[pos];

		if (!sl->idx)
			return pos;
		if (sl->hash == h) {
			const struct entry *e = &c->ent[sl->idx - 1];

			if (e->len == len && same_bytes(c->arena + e->off, s, len))
				return pos;
		}
		pos = (pos + 1) & c->mask;
	}
}

/* Index of an internable value, or STATS_CAT_OTHER_INDEX. */
static size_t lookup(const struct stats_cat *c, const char *s, size_t len, uint32_t h)
{
	size_t pos;

	if (!c->size)
		return STATS_CAT_OTHER_INDEX;
	pos = probe(c, s, len, h);
	return c->slots[pos].idx ? (size_t)c->slots[pos].idx - 1 : STATS_CAT_OTHER_INDEX;
}

static size_t pow2_at_least(size_t n)
{
	size_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

/* Grows ent to hold at least `values` values (<= max_values) and the table to twice that, all or
 * nothing: c is unchanged on STATS_ENOMEM. */
static enum stats_status grow_values(struct stats_cat *c, size_t values)
{
	struct slot *slots = NULL;
	struct entry *ent = NULL;
	size_t vcap = c->vcap ? c->vcap : VALUES_MIN, mask;

	assert(values <= c->max_values);
	if (values <= c->vcap)
		return STATS_OK;
	while (vcap < values)
		vcap *= 2;
	if (vcap > c->max_values)
		vcap = c->max_values;
	/* vcap at least doubled (or was clamped up to max_values): the table always grows */
	mask = pow2_at_least(2 * vcap) - 1;
	slots = calloc(mask + 1, sizeof *slots);
	if (!slots)
		goto error;
	ent = realloc(c->ent, vcap * sizeof *ent);
	if (!ent)
		goto error;
	c->ent = ent;
	c->vcap = vcap;
	/* rehash: the stored hashes give the new home slots */
	for (size_t i = 0; c->slots && i <= c->mask; i++) {
		size_t pos = c->slots[i].hash & mask;

		if (!c->slots[i].idx)
			continue;
		while (slots[pos].idx)
			pos = (pos + 1) & mask;
		slots[pos] = c->slots[i];
	}
	free(c->slots);
	c->slots = slots;
	c->mask = mask;
	return STATS_OK;

error:
	free(slots);
	return STATS_ENOMEM;
}

/* Ensures room for `bytes` more arena bytes (never more than arena_bound() in all). */
static enum stats_status grow_arena(struct stats_cat *c, size_t bytes)
{
	size_t cap = c->arena_cap ? c->arena_cap : ARENA_MIN, bound = arena_bound(c);
	char *arena = NULL;

	if (bytes <= c->arena_cap - c->arena_len)
		return STATS_OK;
	while (cap < c->arena_len + bytes)
		cap *= 2;
	if (cap > bound)
		cap = bound;
	assert(c->arena_len + bytes <= cap);
	arena = realloc(c->arena, cap);
	if (!arena)
		return STATS_ENOMEM;
	c->arena = arena;
	c->arena_cap = cap;
	return STATS_OK;
}

/* Interns a new value at slot `pos` (as returned by probe(), empty). Room must be reserved. */
static size_t insert(struct stats_cat *c, size_t pos, const char *s, size_t len, uint32_t h)
{
	struct entry *e = &c->ent[c->size];

	e->count = 0;
	e->off = (uint32_t)c->arena_len;
	e->len = (uint32_t)len;
	memcpy(c->arena + c->arena_len, s, len);
	c->arena[c->arena_len + len] = '\0';
	c->arena_len += len + 1;
	c->slots[pos].hash = h;
	c->slots[pos].idx = (uint32_t)++c->size;
	return c->size - 1;
}

/* Index of the value, interning it when new and room remains; STATS_CAT_OTHER_INDEX when it is
 * not internable, the set is full, or memory ran out. */
static inline size_t intern(struct stats_cat *c, const char *s, size_t len)
{
	uint32_t h;
	size_t pos;

	if (!internable(s, len))
		return STATS_CAT_OTHER_INDEX;
	h = hash32(s, len);
	if (c->slots) {
		pos = probe(c, s, len, h);
		if (c->slots[pos].idx)
			return (size_t)c->slots[pos].idx - 1;
		if (c->size < c->vcap && len + 1 <= c->arena_cap - c->arena_len)
			return insert(c, pos, s, len, h);
	}
	if (c->size == c->max_values)
		return STATS_CAT_OTHER_INDEX;
	if (grow_values(c, c->size + 1) != STATS_OK || grow_arena(c, len + 1) != STATS_OK)
		return STATS_CAT_OTHER_INDEX;
	return insert(c, probe(c, s, len, h), s, len, h);
}

/* Adds count to slot i (an index or STATS_CAT_OTHER_INDEX), clamped so that total never wraps. */
static void add_count(struct stats_cat *c, size_t i, uint64_t count)
{
	if (count > UINT64_MAX - c->total)
		count = UINT64_MAX - c->total;
	if (i == STATS_CAT_OTHER_INDEX)
		c->other += count;
	else
		c->ent[i].count += count;
	c->total += count;
}

/* ---- API ---- */

/* A new empty set, or NULL with *st (if st) = EINVAL when max_values > the limit, ENOMEM.
 * max_values 0 means STATS_CAT_MAX_VALUES_DEFAULT. Allocates only the handle: storage for values
 * comes as they are interned. */
struct stats_cat *stats_cat_new(size_t max_values, enum stats_status *st)
{
	struct stats_cat *c = NULL;
	enum stats_status ret = STATS_OK;

	if (max_values == 0)
		max_values = STATS_CAT_MAX_VALUES_DEFAULT;
	if (max_values > STATS_CAT_MAX_VALUES_LIMIT) {
		ret = STATS_EINVAL;
		goto error;
	}
	c = calloc(1, sizeof *c);
	if (!c) {
		ret = STATS_ENOMEM;
		goto error;
	}
	c->max_values = max_values;
	if (st)
		*st = STATS_OK;
	return c;

error:
	if (st)
		*st = ret;
	return NULL;
}

/* A deep copy with the same values, order, counts and bound; NULL when memory runs out. */
struct stats_cat *stats_cat_clone(const struct stats_cat *c)
{
	struct stats_cat *d = NULL;

	d = calloc(1, sizeof *d);
	if (!d)
		goto error;
	*d = *c;
	d->ent = NULL;
	d->slots = NULL;
	d->arena = NULL;
	d->arena_cap = c->arena_len;
	if (c->vcap) {
		d->ent = malloc(c->vcap * sizeof *d->ent);
		d->slots = malloc((c->mask + 1) * sizeof *d->slots);
		if (!d->ent || !d->slots)
			goto error;
		memcpy(d->ent, c->ent, c->size * sizeof *d->ent);
		memcpy(d->slots, c->slots, (c->mask + 1) * sizeof *d->slots);
	}
	if (c->arena_len) {
		d->arena = malloc(c->arena_len);
		if (!d->arena)
			goto error;
		memcpy(d->arena, c->arena, c->arena_len);
	}
	return d;

error:
	stats_cat_free(d);
	return NULL;
}

/* Frees c and everything it owns; NULL is a no-op. */
void stats_cat_free(struct stats_cat *c)
{
	if (!c)
		return;
	free(c->arena);
	free(c->slots);
	free(c->ent);
	free(c);
}

/* The per-record path. s may be NULL when len is 0. The value's count grows by `count` (the value
 * is interned first if new, possibly with count 0); __other__'s when it is not interned. Never
 * fails: when memory for a new value cannot be had, it is counted in __other__, and a count that
 * would make the total wrap is clamped so that total = UINT64_MAX (2^64 records: unreachable in
 * practice). O(len); allocates only when interning a new value, geometrically. */
size_t stats_cat_add(struct stats_cat *c, const char *s, size_t len, uint64_t count)
{
	size_t i;

	if (!len)
		s = "";
	i = intern(c, s, len);
	add_count(c, i, count);
	return i;
}

/* Index of the value s[0..len), or STATS_CAT_OTHER_INDEX if it is not interned (never for
 * "__other__" or over-long values). O(len); never allocates. */
size_t stats_cat_find(const struct stats_cat *c, const char *s, size_t len)
{
	if (!len)
		s = "";
	if (!internable(s, len))
		return STATS_CAT_OTHER_INDEX;
	return lookup(c, s, len, hash32(s, len));
}

size_t stats_cat_size(const struct stats_cat *c)
{
	return c->size;
}

size_t stats_cat_max_values(const struct stats_cat *c)
{
	return c->max_values;
}

/* The i-th value (NUL-terminated; *len, if len, receives its length, which counts any inner NUL),
 * valid until the next call that modifies c. STATS_CAT_OTHER_INDEX gives "__other__"; any other
 * index >= size gives NULL (and *len = 0). */
const char *stats_cat_value(const struct stats_cat *c, size_t i, size_t *len)
{
	if (i == STATS_CAT_OTHER_INDEX) {
		if (len)
			*len = CAT_OTHER_LEN;
		return STATS_CAT_OTHER;
	}
	if (i >= c->size) {
		if (len)
			*len = 0;
		return NULL;
	}
	if (len)
		*len = c->ent[i].len;
	return c->arena + c->ent[i].off;
}

/* Count of the i-th value; STATS_CAT_OTHER_INDEX gives the __other__ count, any other index
 * >= size gives 0. */
uint64_t stats_cat_count(const struct stats_cat *c, size_t i)
{
	if (i == STATS_CAT_OTHER_INDEX)
		return c->other;
	return i < c->size ? c->ent[i].count : 0;
}

uint64_t stats_cat_other(const struct stats_cat *c)
{
	return c->other;
}

/* other + the sum of all counts, O(1). */
uint64_t stats_cat_total(const struct stats_cat *c)
{
	return c->total;
}

/* Forgets every value and zeroes every counter; keeps the allocated storage (bounded) for reuse. */
void stats_cat_reset(struct stats_cat *c)
{
	c->size = 0;
	c->other = 0;
	c->total = 0;
	c->arena_len = 0;
	if (c->slots)
		memset(c->slots, 0, (c->mask + 1) * sizeof *c->slots);
}

/* dst += src by value: src's values in src order (those new to dst are appended while room
 * remains, otherwise counted in dst's __other__), then src's __other__. dst == src doubles every
 * count. STATS_ERANGE when dst's total would wrap, STATS_ENOMEM when storage for the new values
 * cannot be had; dst is unchanged on both. O(size(src) * value length). */
enum stats_status stats_cat_merge(struct stats_cat *dst, const struct stats_cat *src)
{
	const uint64_t src_total = src->total, src_other = src->other;
	const size_t n = src->size;
	size_t room = dst->max_values - dst->size, fresh = 0, bytes = 0;
	enum stats_status st;

	if (src_total > UINT64_MAX - dst->total)
		return STATS_ERANGE;
	/* reserve everything first, so that nothing can fail once dst starts changing */
	for (size_t i = 0; i < n && fresh < room; i++) {
		const struct entry *e = &src->ent[i];
		const char *s = src->arena + e->off;

		if (lookup(dst, s, e->len, hash32(s, e->len)) == STATS_CAT_OTHER_INDEX) {
			fresh++;
			bytes += e->len + 1;
		}
	}
	if (fresh) {
		st = grow_values(dst, dst->size + fresh);
		if (st == STATS_OK)
			st = grow_arena(dst, bytes);
		if (st != STATS_OK)
			return st;
	}
	for (size_t i = 0; i < n; i++) {
		const struct entry *e = &src->ent[i];
		size_t j = intern(dst, src->arena + e->off, e->len);

		if (j == STATS_CAT_OTHER_INDEX)
			dst->other += e->count;
		else
			dst->ent[j].count += e->count;
	}
	dst->other += src_other;
	dst->total += src_total;
	return STATS_OK;
}

/* See cat.h. *k receives size(base) + 1 on every path, so that a caller whose cap was too small
 * (STATS_EINVAL, outputs untouched) learns the size it needs. live == base is allowed.
 * O(size(base) * value length); never allocates. */
enum stats_status stats_cat_align(const struct stats_cat *live, const struct stats_cat *base,
				  uint64_t *live_out, uint64_t *base_out, size_t cap, size_t *k)
{
	const size_t n = base->size;
	uint64_t rest = live->total;

	*k = n + 1;
	if (cap < n + 1)
		return STATS_EINVAL;
	for (size_t i = 0; i < n; i++) {
		const struct entry *e = &base->ent[i];
		const char *s = base->arena + e->off;
		size_t j = live == base ? i : lookup(live, s, e->len, hash32(s, e->len));
		uint64_t lc = j == STATS_CAT_OTHER_INDEX ? 0 : live->ent[j].count;

		live_out[i] = lc;
		base_out[i] = e->count;
		rest -= lc; /* each live value matches at most one base value: never below 0 */
	}
	live_out[n] = rest;
	base_out[n] = base->other;
	return STATS_OK;
}

/* ---- serialization ---- */

/* An upper bound on the serialized size of c. */
size_t stats_cat_serialized_max(const struct stats_cat *c)
{
	/* header, max_values, size, other; per value a length, a count and its bytes + 1 */
	return 5 + 3 * CODEC_VARINT_MAX + c->size * 2 * CODEC_VARINT_MAX + c->arena_len;
}

/* Writes c into buf[0..cap); *len receives the bytes written. STATS_ERANGE (and *len = 0) when
 * cap is too small; stats_cat_serialized_max(c) always suffices. */
enum stats_status stats_cat_serialize(const struct stats_cat *c, uint8_t *buf, size_t cap,
				      size_t *len)
{
	struct codec_w w = { buf, cap, 0 };

	codec_put_header(&w, CAT_MAGIC, CAT_VERSION);
	codec_put_varint(&w, c->max_values);
	codec_put_varint(&w, c->size);
	for (size_t i = 0; i < c->size; i++) {
		const struct entry *e = &c->ent[i];

		codec_put_varint(&w, e->len);
		codec_put_bytes(&w, c->arena + e->off, e->len);
		codec_put_varint(&w, e->count);
	}
	codec_put_varint(&w, c->other);
	*len = codec_w_status(&w) == STATS_OK ? w.len : 0;
	return codec_w_status(&w);
}

/* Reads a set written by stats_cat_serialize. NULL with *st (if st) = STATS_EFORMAT for any
 * malformed input (truncated, bad magic, max_values outside [1, limit], more values than
 * max_values, a value longer than STATS_CAT_MAX_VALUE_LEN, a duplicate value, a "__other__"
 * value, counts whose total wraps, trailing bytes), STATS_EVERSION for another format version,
 * STATS_ENOMEM. Never reads outside buf[0..len). */
struct stats_cat *stats_cat_deserialize(const uint8_t *buf, size_t len, enum stats_status *st)
{
	struct codec_r r = { buf, len, 0, 0 };
	struct stats_cat *c = NULL;
	enum stats_status ret = STATS_EFORMAT;
	uint64_t max_values, n, count;

	codec_get_header(&r, CAT_MAGIC, CAT_VERSION);
	max_values = codec_get_varint(&r);
	n = codec_get_varint(&r);
	if (r.err) {
		ret = (enum stats_status)r.err;
		goto error;
	}
	if (max_values < 1 || max_values > STATS_CAT_MAX_VALUES_LIMIT || n > max_values)
		goto error;
	c = stats_cat_new((size_t)max_values, &ret);
	if (!c)
		goto error;
	ret = STATS_EFORMAT;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t vlen = codec_get_varint(&r);
		const char *s = NULL;
		size_t j;

		if (r.err || vlen > STATS_CAT_MAX_VALUE_LEN)
			goto error;
		s = (const char *)codec_get_span(&r, (size_t)vlen);
		count = codec_get_varint(&r);
		if (r.err || !internable(s, (size_t)vlen))
			goto error;
		if (stats_cat_find(c, s, (size_t)vlen) != STATS_CAT_OTHER_INDEX)
			goto error; /* duplicate */
		if (count > UINT64_MAX - c->total)
			goto error;
		j = intern(c, s, (size_t)vlen);
		if (j == STATS_CAT_OTHER_INDEX) {
			ret = STATS_ENOMEM; /* room was certain: only memory can be missing */
			goto error;
		}
		add_count(c, j, count);
	}
	count = codec_get_varint(&r);
	if (r.err) {
		ret = (enum stats_status)r.err;
		goto error;
	}
	if (count > UINT64_MAX - c->total)
		goto error;
	add_count(c, STATS_CAT_OTHER_INDEX, count);
	ret = codec_r_finish(&r);
	if (ret != STATS_OK)
		goto error;
	if (st)
		*st = STATS_OK;
	return c;

error:
	stats_cat_free(c);
	if (st)
		*st = ret;
	return NULL;
}

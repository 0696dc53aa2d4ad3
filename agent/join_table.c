/*
 * join_table.c -- the join table of delayed ground truth (see join_table.h).
 *
 * One malloc'd block per entry: a fixed part and the strings after it (model, request_id,
 * version, string prediction, each NUL-terminated). The block is linked twice, intrusively:
 *   - into a bucket chain of the hash table (singly linked; buckets are a power of two, the
 *     hash's low bits index them; the array doubles while entries outnumber buckets, up to the
 *     power of two >= max_entries, and never shrinks; a failed doubling only raises the load);
 *   - into the recency list (doubly linked, oldest first): remember appends, take unlinks, and
 *     expiry and eviction pop from the oldest end. Every insertion happens at the table's
 *     clock, the largest now_ms seen, so the list is also sorted by remember time and expiry
 *     stops at the first entry still alive.
 * take hands the block itself to the caller's match (no copy, no allocation): the match owns it
 * until agent_label_match_clear.
 *
 * The hash is SipHash-1-3 (the reference algorithm of Aumasson & Bernstein, with 1 compression
 * and 3 finalization rounds, as CPython uses for str and bytes) in a streaming form so the key
 * needs no concatenation buffer: the model's length as 8 little-endian bytes (so that no two
 * (model, request_id) pairs give the same byte stream), the model, the request id.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* getrandom on older glibc headers */
#endif
#include "agent/join_table.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define MIN_BUCKETS 16
#define MAX_STRING  ((size_t)1 << 30) /* the largest max_name / max_value accepted */

/* One remembered prediction (the block's fixed part). */
struct entry {
	struct entry *chain;	     /* next entry in the same bucket */
	struct entry *older, *newer; /* recency list neighbours (NULL at the ends) */
	uint64_t hash;		     /* of (model, request_id) */
	int64_t ts_ms;		     /* event time of the prediction */
	int64_t at_ms;		     /* remembered at (table clock) */
	double num;		     /* prediction, CONN_VALUE_NUMBER */
	uint32_t model_len, rid_len; /* key bytes */
	uint32_t version_len;	     /* version bytes */
	uint32_t pred_len;	     /* prediction bytes, CONN_VALUE_STRING */
	uint8_t kind;		     /* prediction enum conn_value_kind */
	uint8_t b;		     /* prediction, CONN_VALUE_BOOL */
	char data[];		     /* model\0 request_id\0 version\0 prediction\0 */
};

_Static_assert(sizeof(struct entry) + 4 + 2 * sizeof(void *) <= AGENT_LABELS_ENTRY_OVERHEAD,
	       "join_table.h: AGENT_LABELS_ENTRY_OVERHEAD understates an entry");

struct agent_labels {
	struct entry **bucket;		/* nbuckets chain heads */
	size_t nbuckets;		/* a power of two */
	size_t max_buckets;		/* the power of two >= max_entries */
	size_t max_entries;		/* eviction beyond this */
	size_t max_name, max_value;	/* string bounds (from the limits) */
	int64_t ttl_ms;			/* expiry age */
	int64_t clock;			/* the largest now_ms seen */
	struct entry *oldest, *newest;	/* the recency list */
	uint8_t key[16];		/* SipHash key, random per table */
	struct agent_labels_counters c; /* entries and bytes kept current */
};

/* ---- SipHash-1-3, streaming ---- */

struct sip {
	uint64_t v0, v1, v2, v3; /* state */
	uint64_t tail;		 /* pending bytes, little-endian */
	unsigned ntail;		 /* 0..7 of them */
	uint64_t len;		 /* bytes absorbed */
};

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
	       (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	       (uint64_t)p[7] << 56;
}

static void sip_round(struct sip *s)
{
	s->v0 += s->v1;
	s->v1 = ROTL(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = ROTL(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = ROTL(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = ROTL(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = ROTL(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = ROTL(s->v2, 32);
}

static void sip_compress(struct sip *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s); /* c = 1 */
	s->v0 ^= m;
}

static void sip_init(struct sip *s, const uint8_t key[16])
{
	uint64_t k0 = le64(key), k1 = le64(key + 8);

	s->v0 = k0 ^ 0x736f6d6570736575ull;
	s->v1 = k1 ^ 0x646f72616e646f6dull;
	s->v2 = k0 ^ 0x6c7967656e657261ull;
	s->v3 = k1 ^ 0x7465646279746573ull;
	s->tail = 0;
	s->ntail = 0;
	s->len = 0;
}

static void sip_update(struct sip *s, const void *p, size_t n)
{
	const uint8_t *b = p;

	s->len += n;
	for (; n > 0 && s->ntail > 0; n--) { /* complete a pending word */
		s->tail |= (uint64_t)*b++ << (8 * s->ntail++);
		if (s->ntail == 8) {
			sip_compress(s, s->tail);
			s->tail = 0;
			s->ntail = 0;
		}
	}
	for (; n >= 8; n -= 8, b += 8)
		sip_compress(s, le64(b));
	for (; n > 0; n--)
		s->tail |= (uint64_t)*b++ << (8 * s->ntail++);
}

static uint64_t sip_final(struct sip *s)
{
	sip_compress(s, s->len << 56 | s->tail);
	s->v2 ^= 0xff;
	sip_round(s); /* d = 3 */
	sip_round(s);
	sip_round(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/* join_table.h. */
uint64_t agent_labels_hash(const uint8_t key[16], const char *model, size_t model_len,
			   const char *request_id, size_t request_id_len)
{
	uint8_t n[8];
	struct sip s;

	for (int i = 0; i < 8; i++)
		n[i] = (uint8_t)((uint64_t)model_len >> (8 * i));
	sip_init(&s, key);
	sip_update(&s, n, sizeof n);
	sip_update(&s, model, model_len);
	sip_update(&s, request_id, request_id_len);
	return sip_final(&s);
}

/* 16 unpredictable bytes: the kernel's CSPRNG, else (no getrandom, or its pool not ready yet
 * at early boot) a splitmix64 stream over the clocks, the pid and an address. */
static void random_key(uint8_t key[16], const void *salt)
{
	static uint64_t calls;
	struct timespec rt, mono;
	uint64_t x;

	if (getrandom(key, 16, GRND_NONBLOCK) == 16)
		return;
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	x = (uint64_t)rt.tv_sec * 1000000000u + (uint64_t)rt.tv_nsec;
	x ^= ROTL((uint64_t)mono.tv_sec * 1000000000u + (uint64_t)mono.tv_nsec, 21);
	x ^= ROTL((uint64_t)getpid(), 42) ^ (uint64_t)(uintptr_t)salt ^ ++calls;
	for (int i = 0; i < 16; i++) {
		uint64_t z = (x += 0x9e3779b97f4a7c15ull);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		key[i] = (uint8_t)(z ^ (z >> 31));
	}
}

/* ---- the structures ---- */

static size_t entry_bytes(const struct entry *e)
{
	return sizeof *e + e->model_len + e->rid_len + e->version_len + e->pred_len + 4;
}

static const char *entry_rid(const struct entry *e)
{
	return e->data + e->model_len + 1;
}

static int entry_is(const struct entry *e, uint64_t h, const char *model, size_t mlen,
		    const char *rid, size_t rlen)
{
	return e->hash == h && e->model_len == mlen && e->rid_len == rlen &&
	       memcmp(e->data, model, mlen) == 0 && memcmp(entry_rid(e), rid, rlen) == 0;
}

/* The link that points at the entry of the key (the bucket head or a chain field), or at the
 * NULL ending its chain. */
static struct entry **find(struct agent_labels *t, uint64_t h, const char *model, size_t mlen,
			   const char *rid, size_t rlen)
{
	struct entry **p = &t->bucket[h & (t->nbuckets - 1)];

	while (*p && !entry_is(*p, h, model, mlen, rid, rlen))
		p = &(*p)->chain;
	return p;
}

static void list_unlink(struct agent_labels *t, struct entry *e)
{
	if (e->older)
		e->older->newer = e->newer;
	else
		t->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		t->newest = e->older;
	e->older = e->newer = NULL;
}

static void list_append(struct agent_labels *t, struct entry *e)
{
	e->older = t->newest;
	e->newer = NULL;
	if (t->newest)
		t->newest->newer = e;
	else
		t->oldest = e;
	t->newest = e;
}

/* Unlinks e from its chain and the list; the caller frees or hands it over. */
static void detach(struct agent_labels *t, struct entry *e)
{
	struct entry **p = &t->bucket[e->hash & (t->nbuckets - 1)];

	while (*p != e)
		p = &(*p)->chain;
	*p = e->chain;
	e->chain = NULL;
	list_unlink(t, e);
	t->c.entries--;
	t->c.bytes -= entry_bytes(e);
}

/* Doubles the bucket array when entries outnumber buckets and it may still grow. A failed
 * allocation leaves the table as it was (chains only get longer). */
static void maybe_grow(struct agent_labels *t)
{
	size_t n = t->nbuckets * 2;
	struct entry **b;

	if (t->c.entries <= t->nbuckets || t->nbuckets >= t->max_buckets)
		return;
	if (!(b = calloc(n, sizeof *b)))
		return;
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct entry *e = t->bucket[i], *next;

		for (; e; e = next) {
			size_t j = e->hash & (n - 1);

			next = e->chain;
			e->chain = b[j];
			b[j] = e;
		}
	}
	free(t->bucket);
	t->c.bytes += (n - t->nbuckets) * sizeof *b;
	t->bucket = b;
	t->nbuckets = n;
}

/* Advances the clock to now_ms (never back) and drops what it expires. */
static size_t advance(struct agent_labels *t, int64_t now_ms)
{
	size_t n = 0;
	int64_t cutoff;

	if (now_ms > t->clock)
		t->clock = now_ms;
	if (t->clock < INT64_MIN + t->ttl_ms)
		return 0; /* nothing can be older than the start of time */
	cutoff = t->clock - t->ttl_ms;
	while (t->oldest && t->oldest->at_ms < cutoff) {
		struct entry *e = t->oldest;

		detach(t, e);
		free(e);
		n++;
	}
	t->c.expired += n;
	return n;
}

/* ---- API ---- */

/* join_table.h. */
struct agent_labels *agent_labels_new(size_t max_entries, int64_t ttl_ms,
				      const struct conn_limits *lim)
{
	struct agent_labels *t;
	size_t maxb = 1;

	if (max_entries < 1 || max_entries > SIZE_MAX / 4 / sizeof(void *) || ttl_ms < 0 || !lim ||
	    lim->max_name < 1 || lim->max_name > MAX_STRING || lim->max_value < 1 ||
	    lim->max_value > MAX_STRING)
		return NULL;
	while (maxb < max_entries)
		maxb *= 2;
	if (!(t = calloc(1, sizeof *t)))
		return NULL;
	t->max_buckets = maxb;
	t->nbuckets = maxb < MIN_BUCKETS ? maxb : MIN_BUCKETS;
	if (!(t->bucket = calloc(t->nbuckets, sizeof *t->bucket))) {
		free(t);
		return NULL;
	}
	t->max_entries = max_entries;
	t->max_name = lim->max_name;
	t->max_value = lim->max_value;
	t->ttl_ms = ttl_ms;
	t->clock = INT64_MIN;
	random_key(t->key, t);
	t->c.bytes = sizeof *t + t->nbuckets * sizeof *t->bucket;
	return t;
}

/* join_table.h. O(entries). */
void agent_labels_free(struct agent_labels *t)
{
	struct entry *e, *next;

	if (!t)
		return;
	for (e = t->oldest; e; e = next) {
		next = e->newer;
		free(e);
	}
	free(t->bucket);
	free(t);
}

/* join_table.h. The new block is made before anything is dropped, so no memory changes nothing. */
int agent_labels_remember(struct agent_labels *t, const struct conn_record *r, int64_t ts_ms,
			  int64_t now_ms)
{
	const struct conn_value *p = &r->prediction;
	size_t plen = p->kind == CONN_VALUE_STRING ? p->len : 0;
	struct entry *e, **link;
	uint64_t h;
	char *d;

	advance(t, now_ms);
	if (!r->request_id || r->request_id_len == 0 || r->model_len == 0 ||
	    p->kind == CONN_VALUE_MISSING || r->model_len > t->max_name ||
	    r->request_id_len > t->max_name || r->version_len > t->max_name || plen > t->max_value)
		return 1;
	if (!(e = malloc(sizeof *e + r->model_len + r->request_id_len + r->version_len + plen + 4)))
		return -1;
	e->chain = e->older = e->newer = NULL;
	e->hash = h =
	    agent_labels_hash(t->key, r->model, r->model_len, r->request_id, r->request_id_len);
	e->ts_ms = ts_ms;
	e->at_ms = t->clock;
	e->num = p->kind == CONN_VALUE_NUMBER ? p->num : 0;
	e->b = p->kind == CONN_VALUE_BOOL ? (uint8_t)(p->b != 0) : 0;
	e->kind = (uint8_t)p->kind;
	e->model_len = (uint32_t)r->model_len;
	e->rid_len = (uint32_t)r->request_id_len;
	e->version_len = (uint32_t)r->version_len;
	e->pred_len = (uint32_t)plen;
	d = e->data;
	memcpy(d, r->model, r->model_len);
	d += r->model_len;
	*d++ = '\0';
	memcpy(d, r->request_id, r->request_id_len);
	d += r->request_id_len;
	*d++ = '\0';
	if (r->version_len)
		memcpy(d, r->version, r->version_len);
	d += r->version_len;
	*d++ = '\0';
	if (plen)
		memcpy(d, p->str, plen);
	d[plen] = '\0';

	link = find(t, h, r->model, r->model_len, r->request_id, r->request_id_len);
	if (*link) { /* the same key: the new entry takes its place */
		struct entry *old = *link;

		detach(t, old);
		free(old);
		t->c.replaced++;
	} else if (t->c.entries >= t->max_entries) { /* room: the least recently remembered */
		struct entry *old = t->oldest;

		detach(t, old);
		free(old);
		t->c.evicted++;
	}
	t->c.entries++;
	t->c.bytes += entry_bytes(e);
	t->c.remembered++;
	maybe_grow(t);
	link = &t->bucket[h & (t->nbuckets - 1)];
	e->chain = *link;
	*link = e;
	list_append(t, e);
	return 0;
}

/* join_table.h. */
int agent_labels_take(struct agent_labels *t, const char *model, size_t model_len,
		      const char *request_id, size_t request_id_len, int64_t now_ms,
		      struct agent_label_match *out)
{
	struct entry *e;
	uint64_t h;

	agent_label_match_clear(out);
	advance(t, now_ms);
	if (model_len == 0 || request_id_len == 0) { /* never remembered */
		t->c.unmatched++;
		return 1;
	}
	h = agent_labels_hash(t->key, model, model_len, request_id, request_id_len);
	if (!(e = *find(t, h, model, model_len, request_id, request_id_len))) {
		t->c.unmatched++;
		return 1;
	}
	detach(t, e);
	t->c.joined++;
	out->mem = e;
	out->version = e->data + e->model_len + 1 + e->rid_len + 1;
	out->version_len = e->version_len;
	out->prediction.kind = (enum conn_value_kind)e->kind;
	out->prediction.num = e->num;
	out->prediction.b = e->b;
	if (e->kind == CONN_VALUE_STRING) {
		out->prediction.str = out->version + e->version_len + 1;
		out->prediction.len = e->pred_len;
	}
	out->ts_ms = e->ts_ms;
	out->remembered_ms = e->at_ms;
	return 0;
}

/* join_table.h. */
void agent_label_match_clear(struct agent_label_match *m)
{
	free(m->mem);
	memset(m, 0, sizeof *m);
}

/* join_table.h. */
size_t agent_labels_expire(struct agent_labels *t, int64_t now_ms)
{
	return advance(t, now_ms);
}

/* join_table.h. */
void agent_labels_counters(const struct agent_labels *t, struct agent_labels_counters *c)
{
	*c = t->c;
}

/*
 * record_nonfinite.c -- the literals NaN, Infinity and -Infinity (what Python's json.dumps writes
 * by default for float('nan') and float('inf')), which JSON does not have, for both walkers
 * (record_impl.h).
 *
 * Neither walker parses them, so the decoder rewrites the text first, when it has one of them
 * outside a string: each literal becomes a string no input can hold, U+FDD0 (a noncharacter,
 * valid UTF-8 and valid JSON) followed by "NaN", "+Inf" or "-Inf". The walkers then see a valid
 * text exactly when the original was valid JSON but for those literals (a literal glued to
 * another token -- "NaNx", "-NaN", "1Infinity" -- leaves a string glued to a token, still
 * invalid), and record.c reads the marked strings back as the non-finite numbers they stood
 * for. Only literals where a value may start are rewritten (a literal in a key's place, or
 * glued after another token, keeps the text invalid). A text that holds U+FDD0 itself, raw or
 * escaped, or nests deeper than CONN_DEPTH_MAX, is not rewritten (its literals then make it
 * bad_json, as before): the marks could not be told from its own strings.
 */
#include "connectors/record_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MARK	 "\xEF\xB7\x90" /* U+FDD0 in UTF-8 */
#define MARK_LEN 3

static const struct lit {
	const char *text, *mark; /* the literal, the string written for it (JSON, escaped) */
	size_t tlen, mlen;
} lits[] = {
	{ "NaN", "\"\\uFDD0NaN\"", 3, 11 },
	{ "Infinity", "\"\\uFDD0+Inf\"", 8, 12 },
	{ "-Infinity", "\"\\uFDD0-Inf\"", 9, 12 },
};

static int hex_is(const char *p, const char *want) /* 4 hex digits, case-insensitive */
{
	for (int i = 0; i < 4; i++) {
		char c = p[i] >= 'a' && p[i] <= 'f' ? (char)(p[i] - 'a' + 'A') : p[i];

		if (c != want[i])
			return 0;
	}
	return 1;
}

/* The literal starting at buf[i] (outside strings), or NULL. */
static const struct lit *literal_at(const char *buf, size_t len, size_t i)
{
	for (size_t k = sizeof lits / sizeof *lits; k-- > 0;) /* -Infinity before Infinity */
		if (len - i >= lits[k].tlen && !memcmp(buf + i, lits[k].text, lits[k].tlen))
			return &lits[k];
	return NULL;
}

/* Where a value may start, outside strings: after ':', '[', or ',' in an array (a ',' in an
 * object, and '{', are followed by a key), and at the top. The containers are tracked up to
 * CONN_DEPTH_MAX levels (deeper than any limit: such a text is too_deep). */
struct pos {
	unsigned char arr[CONN_DEPTH_MAX / 8 + 1]; /* bit d: the container at depth d is an array */
	size_t depth;
	int value; /* a value may start at the next token */
	int lost;  /* deeper than CONN_DEPTH_MAX */
};

static void pos_step(struct pos *p, char c)
{
	switch (c) {
	case '{':
	case '[':
		if (p->depth >= CONN_DEPTH_MAX) {
			p->lost = 1;
			return;
		}
		p->depth++;
		if (c == '[')
			p->arr[p->depth / 8] |= (unsigned char)(1u << (p->depth % 8));
		else
			p->arr[p->depth / 8] &= (unsigned char)~(1u << (p->depth % 8));
		p->value = c == '[';
		return;
	case '}':
	case ']':
		if (p->depth)
			p->depth--;
		p->value = 0;
		return;
	case ':':
		p->value = 1;
		return;
	case ',':
		p->value = p->depth && (p->arr[p->depth / 8] >> (p->depth % 8) & 1u);
		return;
	case ' ':
	case '\t':
	case '\n':
	case '\r':
		return;
	default:
		p->value = 0; /* inside a number or a literal, or after one */
	}
}

/* Whether "NaN" or "Infinity" occurs anywhere in buf: memchr for the capitals (vectorized, and
 * rare in JSON), then a look at the bytes after each. Several times faster than memmem. */
static int has_literal(const char *buf, size_t len)
{
	const char *end = buf + len, *p;

	for (p = buf; (p = memchr(p, 'N', (size_t)(end - p))) != NULL; p++)
		if (end - p >= 3 && p[1] == 'a' && p[2] == 'N')
			return 1;
	for (p = buf; (p = memchr(p, 'I', (size_t)(end - p))) != NULL; p++)
		if (end - p >= 8 && !memcmp(p, "Infinity", 8))
			return 1;
	return 0;
}

/* Whether the UTF-8 of U+FDD0 occurs raw in buf. */
static int has_mark(const char *buf, size_t len)
{
	const char *end = buf + len, *p;

	for (p = buf; (p = memchr(p, MARK[0], (size_t)(end - p))) != NULL; p++)
		if (end - p >= MARK_LEN && !memcmp(p, MARK, MARK_LEN))
			return 1;
	return 0;
}

/* One walk over the text outside and inside its strings: the literals where a value may
 * start, each copied into out as its mark when out is not NULL (the rest copied as it is,
 * *outlen the length written). The number of literals, or -1 when the text must not be
 * rewritten: a U+FDD0 escaped in a string, or nesting deeper than CONN_DEPTH_MAX. */
static long walk(const char *buf, size_t len, char *out, size_t *outlen)
{
	struct pos p = { .value = 1 };
	size_t o = 0;
	long found = 0;
	int in_str = 0;

	for (size_t i = 0; i < len; i++) {
		char c = buf[i];
		const struct lit *l;

		if (in_str) {
			if (c == '\\' && i + 1 < len) {
				if (buf[i + 1] == 'u' && len - i >= 6 &&
				    hex_is(buf + i + 2, "FDD0"))
					return -1;
				if (out)
					out[o++] = c;
				c = buf[++i];
			} else if (c == '"') {
				in_str = 0;
			}
		} else if (c == '"') {
			in_str = 1;
			p.value = 0;
		} else if (p.value && (c == 'N' || c == 'I' || c == '-') &&
			   (l = literal_at(buf, len, i))) {
			found++;
			p.value = 0;
			if (out) {
				memcpy(out + o, l->mark, l->mlen);
				o += l->mlen;
			}
			i += l->tlen - 1;
			continue;
		} else {
			pos_step(&p, c);
			if (p.lost)
				return -1;
		}
		if (out)
			out[o++] = c;
	}
	if (outlen)
		*outlen = o;
	return found;
}

int conn_nonfinite_rewrite(const char *buf, size_t len, char **out, size_t *cap, size_t *outlen)
{
	size_t need = len * 4 + 16; /* "NaN" (3 bytes) grows the most: to 11 */

	/* the common case: no literal anywhere (inside strings included), nothing to do */
	if (!has_literal(buf, len) || has_mark(buf, len) || walk(buf, len, NULL, NULL) <= 0 ||
	    need > CONN_MESSAGE_MAX)
		return 1;
	if (*cap < need) {
		char *g = realloc(*out, need);

		if (!g)
			return -2;
		*out = g;
		*cap = need;
	}
	walk(buf, len, *out, outlen);
	return 0;
}

int conn_nonfinite_mark(const char *s, size_t len, double *num)
{
	if (len < MARK_LEN + 3 || memcmp(s, MARK, MARK_LEN) != 0)
		return 0;
	s += MARK_LEN;
	len -= MARK_LEN;
	if (len == 3 && !memcmp(s, "NaN", 3))
		*num = NAN;
	else if (len == 4 && !memcmp(s, "+Inf", 4))
		*num = INFINITY;
	else if (len == 4 && !memcmp(s, "-Inf", 4))
		*num = -INFINITY;
	else
		return 0;
	return 1;
}

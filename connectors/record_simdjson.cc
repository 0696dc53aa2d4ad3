/*
 * record_simdjson.cc -- the simdjson walker of the record decoder (record_impl.h), the fast one;
 * the only C++ in driftd. simdjson On-Demand (3.x, C++17) behind extern "C" functions; built
 * with -fno-exceptions: every simdjson call goes through its error-code API and every allocation
 * is std::nothrow or malloc, so nothing here can throw or abort.
 *
 * On-Demand is lazy: it validates only what is read (stage 1 checks the UTF-8 and the string
 * characters of the whole text; the grammar, escapes, numbers and literals are checked when a
 * value is consumed). To give the same answers as the jansson walker this walker therefore
 * reads every value of the message, unknown keys included, recursively: numbers parsed,
 * strings and keys unescaped, literals matched; then it requires the end of the text after the
 * top object. On top of that it does what jansson does for free:
 *   - "\u0000": simdjson unescapes it to a NUL byte; any NUL in an unescaped string or key is
 *     BAD_JSON (a raw NUL byte in a string is already refused by stage 1);
 *   - duplicate keys: two sets of unescaped keys (top object, "features"), hashed with a
 *     per-decoder seed, cleared in O(1) per message by a generation counter;
 *   - depth: counted while walking; a container deeper than max_depth stops the walk, and the
 *     exact validator of record.c decides between TOO_DEEP and BAD_JSON on the whole text (so the
 *     recursion never goes below max_depth + 1 <= CONN_DEPTH_MAX + 1 frames);
 *   - numbers: simdjson 3.0.1 refuses some valid ones (exponents of 20 digits or more) and
 *     mis-rounds others (more than 19 significant digits after "0.000"); those tokens, and any
 *     get_double() fails on, are re-read by conn_json_number(), which applies the JSON grammar,
 *     strtod's correct rounding and the same overflow rule as jansson;
 *   - a top value that is not an object (scalar documents have their own quirks in On-Demand) is
 *     handed to the exact validator, which answers NOT_OBJECT, TOO_DEEP or BAD_JSON.
 *
 * Memory. The message is copied into a buffer with SIMDJSON_PADDING zeroed bytes after it; that
 * buffer, the parser's capacity and the key sets grow geometrically up to what the longest text
 * needs and are reused. The record's strings point into the parser's string buffer, valid until
 * the next iterate(), i.e. the next walk.
 */
#ifdef HAVE_CONFIG_H
#include "build.h"
#endif
#include "connectors/hash.h"
#include "connectors/record_impl.h"

#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <new>

namespace od = simdjson::ondemand;
using simdjson::error_code;
using simdjson::SUCCESS;

namespace
{

/* ---- key sets ---- */

struct key_slot {
	const char *p; /* the unescaped key (parser string buffer) */
	size_t len;    /* its length */
	uint64_t hash; /* conn_hash() of it */
	uint32_t gen;  /* the slot is in use when gen == key_set.gen */
};

/* An open-addressing set of strings, emptied in O(1) by bumping gen. */
struct key_set {
	key_slot *slots; /* cap entries, calloc'd (gen 0 = free) */
	size_t cap;	 /* a power of two, or 0 */
	size_t n;	 /* keys in the set */
	uint32_t gen;	 /* current generation, >= 1 */
	uint64_t seed;	 /* hash seed */
};

void key_set_clear(key_set *k)
{
	k->n = 0;
	if (++k->gen == 0) { /* wrapped: really clear once every 2^32 messages */
		for (size_t i = 0; i < k->cap; i++)
			k->slots[i].gen = 0;
		k->gen = 1;
	}
}

/* Doubles the table (at least 32 slots), re-inserting the current keys. 0 or -1. */
int key_set_grow(key_set *k)
{
	size_t cap = k->cap ? 2 * k->cap : 32;
	key_slot *s = static_cast<key_slot *>(calloc(cap, sizeof *s));

	if (!s)
		return -1;
	for (size_t i = 0; i < k->cap; i++) {
		const key_slot &o = k->slots[i];
		size_t j;

		if (o.gen != k->gen)
			continue;
		for (j = o.hash & (cap - 1); s[j].gen != 0; j = (j + 1) & (cap - 1))
			;
		s[j] = o;
	}
	free(k->slots);
	k->slots = s;
	k->cap = cap;
	return 0;
}

/* Adds p[0..n): 1 when new, 0 when already there, -1 when memory is short. */
int key_set_add(key_set *k, const char *p, size_t n)
{
	uint64_t h = conn_hash(k->seed, p, n);
	size_t j;

	if (2 * (k->n + 1) > k->cap && key_set_grow(k) < 0)
		return -1;
	for (j = h & (k->cap - 1); k->slots[j].gen == k->gen; j = (j + 1) & (k->cap - 1)) {
		const key_slot &o = k->slots[j];

		if (o.hash == h && o.len == n && memcmp(o.p, p, n) == 0)
			return 0;
	}
	k->slots[j] = key_slot{ p, n, h, k->gen };
	k->n++;
	return 1;
}

/* ---- walking ---- */

/* How a walk ends. */
enum walk_status {
	WALK_OK = 0,
	WALK_BAD,   /* not valid JSON: BAD_JSON */
	WALK_DEEP,  /* a container deeper than max_depth: the validator decides */
	WALK_NOMEM, /* TOO_LARGE */
};

} // namespace

/* The walker's state: one per decoder. */
struct conn_simdjson {
	od::parser parser; /* its capacity grows up to max_text */
	char *buf;	   /* padded copy of the message: cap + SIMDJSON_PADDING bytes */
	size_t cap;	   /* message bytes buf can hold */
	size_t max_text;   /* the longest text a walk sees (conn_nonfinite_max_text) */
	size_t max_depth;  /* limits.max_depth */
	key_set top;	   /* keys of the top object */
	key_set feat;	   /* keys of "features" */
	bool dup;	   /* a repeated key was seen in this message */
	bool escapes;	   /* the message holds a backslash */
	const char *end;   /* the end of the message in buf */
	conn_raw scratch;  /* where values of unknown keys are read to */

	explicit conn_simdjson(size_t max) noexcept : parser(max)
	{
	}
};

namespace
{

/* A NUL byte in an unescaped string can only come from "\u0000" (stage 1 refuses raw control
 * characters in strings), so a message without any backslash needs no check. */
bool has_nul(const conn_simdjson *s, std::string_view str)
{
	return s->escapes && memchr(str.data(), '\0', str.size()) != nullptr;
}

walk_status walk_value(conn_simdjson *s, od::value &v, size_t depth, conn_raw *out);

/* The text of a string whose opening quote is just before p, in a message without any
 * backslash: then it is its own unescaped form and ends at the next quote (stage 1 validated
 * it), so it is used in place instead of being unescaped into the parser's string buffer. */
bool plain_string(const conn_simdjson *s, const char *p, std::string_view *out)
{
	const char *q = p;

	/* keys and categorical values are short: a byte loop beats a call to memchr */
	while (q < s->end && *q != '"')
		q++;
	if (q == s->end)
		return false;
	*out = std::string_view(p, static_cast<size_t>(q - p));
	return true;
}

/* The unescaped key of f. */
bool field_key(conn_simdjson *s, od::field &f, std::string_view *key)
{
	if (!s->escapes)
		return plain_string(s, f.key().raw(), key);
	return f.unescaped_key().get(*key) == SUCCESS && !has_nul(s, *key);
}

/* Digits of the mantissa of a number token from its first non-zero digit on. simdjson 3.0.1
 * mis-rounds "0.000...ddd" with more than 19 such digits after at most 17 zeros (its overflow
 * check counts the zeros instead of the digits), so those tokens take the exact path. A token
 * of at most 21 bytes has at most 19 significant digits or no leading zero: it never needs
 * this count. */
size_t significant_digits(std::string_view t)
{
	size_t i = 0, n = 0;
	bool seen = false;

	if (i < t.size() && t[i] == '-')
		i++;
	for (; i < t.size(); i++) {
		char c = t[i];

		if (c == '.')
			continue;
		if (c < '0' || c > '9')
			break;
		seen |= c != '0';
		n += seen;
	}
	return n;
}

/* Reads every member of the object o at nesting depth (already checked against max_depth). */
walk_status walk_object(conn_simdjson *s, od::object &o, size_t depth)
{
	for (auto fr : o) {
		od::field f;
		std::string_view key;

		if (std::move(fr).get(f) != SUCCESS || !field_key(s, f, &key))
			return WALK_BAD;
		walk_status st = walk_value(s, f.value(), depth, &s->scratch);
		if (st != WALK_OK)
			return st;
	}
	return WALK_OK;
}

/* Reads v, a value inside a container at nesting depth, completely, into *out (only the fields
 * its type uses are written). */
walk_status walk_value(conn_simdjson *s, od::value &v, size_t depth, conn_raw *out)
{
	od::json_type t;

	if (v.type().get(t) != SUCCESS)
		return WALK_BAD;
	switch (t) {
	case od::json_type::object: {
		od::object o;

		if (depth + 1 > s->max_depth)
			return WALK_DEEP;
		if (v.get_object().get(o) != SUCCESS)
			return WALK_BAD;
		walk_status st = walk_object(s, o, depth + 1);
		if (st != WALK_OK)
			return st;
		out->type = CONN_RAW_OBJECT;
		return WALK_OK;
	}
	case od::json_type::array: {
		od::array a;

		if (depth + 1 > s->max_depth)
			return WALK_DEEP;
		if (v.get_array().get(a) != SUCCESS)
			return WALK_BAD;
		for (auto er : a) {
			od::value e;

			if (std::move(er).get(e) != SUCCESS)
				return WALK_BAD;
			walk_status st = walk_value(s, e, depth + 1, &s->scratch);
			if (st != WALK_OK)
				return st;
		}
		out->type = CONN_RAW_ARRAY;
		return WALK_OK;
	}
	case od::json_type::number: {
		std::string_view tok = v.raw_json_token(); /* up to the next token */
		double d;

		if ((tok.size() > 21 && significant_digits(tok) > 19) ||
		    v.get_double().get(d) != SUCCESS) {
			size_t n = tok.size();

			while (n && (tok[n - 1] == ' ' || tok[n - 1] == '\t' ||
				     tok[n - 1] == '\n' || tok[n - 1] == '\r'))
				n--;
			int e = conn_json_number(tok.data(), n, &d);
			if (e == -2)
				return WALK_NOMEM;
			if (e != 0)
				return WALK_BAD;
		}
		out->type = CONN_RAW_NUMBER;
		out->num = d;
		return WALK_OK;
	}
	case od::json_type::string: {
		std::string_view str;
		od::raw_json_string raw;

		if (!s->escapes ? v.get_raw_json_string().get(raw) != SUCCESS ||
				      !plain_string(s, raw.raw(), &str)
				: v.get_string().get(str) != SUCCESS || has_nul(s, str))
			return WALK_BAD;
		out->type = CONN_RAW_STRING;
		out->str = str.data();
		out->len = str.size();
		return WALK_OK;
	}
	case od::json_type::boolean: {
		bool b;

		if (v.get_bool().get(b) != SUCCESS)
			return WALK_BAD;
		out->type = CONN_RAW_BOOL;
		out->b = b;
		return WALK_OK;
	}
	case od::json_type::null: {
		bool is_null;

		if (v.is_null().get(is_null) != SUCCESS || !is_null)
			return WALK_BAD;
		out->type = CONN_RAW_NULL;
		return WALK_OK;
	}
	default:
		return WALK_BAD;
	}
}

/* The value of the top member "features" (the top object is depth 1). */
walk_status walk_features(conn_simdjson *s, od::value &v, conn_walk *w)
{
	od::json_type t;
	od::object o;

	if (v.type().get(t) != SUCCESS)
		return WALK_BAD;
	if (t != od::json_type::object)
		return walk_value(s, v, 1, &w->field[CONN_FIELD_FEATURES]);
	if (2 > s->max_depth)
		return WALK_DEEP;
	if (v.get_object().get(o) != SUCCESS)
		return WALK_BAD;
	key_set_clear(&s->feat);
	for (auto fr : o) {
		od::field f;
		std::string_view key;
		conn_raw raw;

		if (std::move(fr).get(f) != SUCCESS || !field_key(s, f, &key))
			return WALK_BAD;
		int added = key_set_add(&s->feat, key.data(), key.size());
		if (added < 0)
			return WALK_NOMEM;
		s->dup |= added == 0;
		walk_status st = walk_value(s, f.value(), 2, &raw);
		if (st != WALK_OK)
			return st;
		conn_walk_feature(w, key.data(), key.size(), &raw);
	}
	w->field[CONN_FIELD_FEATURES].type = CONN_RAW_OBJECT;
	return WALK_OK;
}

/* The top object: every member read, known ones recorded. */
walk_status walk_top(conn_simdjson *s, od::object &o, conn_walk *w)
{
	key_set_clear(&s->top);
	for (auto fr : o) {
		od::field f;
		std::string_view key;
		walk_status st;

		if (std::move(fr).get(f) != SUCCESS || !field_key(s, f, &key))
			return WALK_BAD;
		int added = key_set_add(&s->top, key.data(), key.size());
		if (added < 0)
			return WALK_NOMEM;
		s->dup |= added == 0;
		int idx = conn_walk_field(key.data(), key.size());
		if (idx == CONN_FIELD_FEATURES)
			st = walk_features(s, f.value(), w);
		else
			st = walk_value(s, f.value(), 1, idx >= 0 ? &w->field[idx] : &s->scratch);
		if (st != WALK_OK)
			return st;
	}
	return WALK_OK;
}

/* The exact validator's answer for a text the walk could not finish (too deep) or does not
 * walk (top value not an object). */
conn_reject exact_check(const char *buf, size_t len, size_t max_depth)
{
	conn_reject r = conn_json_check(buf, len, max_depth);

	/* NONE would mean a valid top object within max_depth, which the walk handles itself */
	return r == CONN_REJECT_NONE ? CONN_REJECT_BAD_JSON : r;
}

/* Makes room for a message of len bytes in the copy and in the parser. 0 or -1. */
int reserve(conn_simdjson *s, size_t len)
{
	size_t cap = s->cap < 4096 ? 4096 : s->cap;

	while (cap < len)
		cap *= 2;
	if (cap > s->max_text && len <= s->max_text) /* record.c checks len first; a */
		cap = s->max_text; /* rewritten text (non-finite literals) may be longer */
	if (cap != s->cap) {
		char *b = static_cast<char *>(realloc(s->buf, cap + simdjson::SIMDJSON_PADDING));

		if (!b)
			return -1;
		s->buf = b;
		s->cap = cap;
	}
	if (s->parser.capacity() < cap && s->parser.allocate(cap) != SUCCESS)
		return -1;
	return 0;
}

} // namespace

/* ---- the C interface (record_impl.h) ---- */

/* record_impl.h. No allocation beyond the state itself until the first message. */
extern "C" struct conn_simdjson *conn_simdjson_new(const struct conn_limits *l)
{
	/* the parser's largest capacity: the longest text a walk sees, a rewrite of non-finite
	 * literals included (with max_message alone, a message with them near max_message was
	 * refused too_large where jansson, rightly, judged its JSON) */
	conn_simdjson *s =
	    new (std::nothrow) conn_simdjson(conn_nonfinite_max_text(l->max_message));
	struct timespec ts;

	if (!s)
		return nullptr;
	s->buf = nullptr;
	s->cap = 0;
	s->max_text = conn_nonfinite_max_text(l->max_message);
	s->max_depth = l->max_depth;
	s->top = key_set{};
	s->feat = key_set{};
	s->top.gen = s->feat.gen = 1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s->top.seed = conn_hash(reinterpret_cast<uintptr_t>(s), reinterpret_cast<const char *>(&ts),
				sizeof ts);
	s->feat.seed = conn_hash(s->top.seed, "features", 8);
	s->dup = false;
	s->escapes = false;
	return s;
}

/* record_impl.h. */
extern "C" void conn_simdjson_free(struct conn_simdjson *s)
{
	if (!s)
		return;
	free(s->top.slots);
	free(s->feat.slots);
	free(s->buf);
	delete s;
}

/* record_impl.h. O(len): stage 1, then one pass over every token. */
extern "C" enum conn_reject conn_simdjson_walk(struct conn_simdjson *s, const char *buf, size_t len,
					       struct conn_walk *w)
{
	od::document doc;
	od::json_type t;
	od::object top;
	const char *loc;
	error_code e;

	if (reserve(s, len) < 0)
		return CONN_REJECT_TOO_LARGE;
	memcpy(s->buf, buf, len);
	memset(s->buf + len, 0,
	       simdjson::SIMDJSON_PADDING); /* stale bytes could extend a last token */
	s->dup = false;
	s->escapes = memchr(buf, '\\', len) != nullptr;
	s->end = s->buf + len;

	e = s->parser.iterate(s->buf, len, s->cap + simdjson::SIMDJSON_PADDING).get(doc);
	if (e != SUCCESS) /* stage 1: UTF-8, control characters, unclosed string */
		return e == simdjson::MEMALLOC ? CONN_REJECT_TOO_LARGE : CONN_REJECT_BAD_JSON;
	if (doc.type().get(t) != SUCCESS || t != od::json_type::object)
		return exact_check(buf, len, s->max_depth);
	if (doc.get_object().get(top) != SUCCESS)
		return CONN_REJECT_BAD_JSON;
	switch (walk_top(s, top, w)) {
	case WALK_OK:
		break;
	case WALK_DEEP:
		return exact_check(buf, len, s->max_depth);
	case WALK_NOMEM:
		return CONN_REJECT_TOO_LARGE;
	default:
		return CONN_REJECT_BAD_JSON;
	}
	/* nothing may follow the top object */
	if (doc.current_location().get(loc) != simdjson::OUT_OF_BOUNDS)
		return CONN_REJECT_BAD_JSON;
	return s->dup ? CONN_REJECT_DUPLICATE_KEY : CONN_REJECT_NONE;
}

/*
 * record_jansson.c -- the jansson walker of the record decoder (record_impl.h): always built,
 * the reference the simdjson walker is tested against.
 *
 * jansson parses the whole message into a tree (json_loadb with JSON_DECODE_ANY, so that a
 * scalar top value is NOT_OBJECT rather than a syntax error, and JSON_DECODE_INT_AS_REAL, so that
 * every number is a correctly rounded double and big integers are not errors). Any parse error
 * is BAD_JSON -- syntax, invalid UTF-8, "\u0000", a number overflowing a double -- except two:
 * jansson's own depth limit (JSON_PARSER_MAX_DEPTH, 2048, above CONN_DEPTH_MAX) stops it before
 * the end of the text, so the exact validator of record.c decides between BAD_JSON and TOO_DEEP;
 * and running out of memory, which is TOO_LARGE. One jansson quirk is corrected first: its
 * reader uses a NUL byte as the "buffer empty" mark, so a NUL byte right after a number or a
 * literal is silently dropped ("0\0" parses as 0). A raw NUL byte is never valid JSON (a control
 * character in a string, an invalid token outside), so any NUL byte is BAD_JSON up front.
 *
 * Depth and duplicate keys are measured on the text, by one plain scan once jansson has
 * accepted it (so the scan needs to know only strings and brackets).
 * JSON_REJECT_DUPLICATES cannot be used: it refuses duplicates at every level
 * (the contract only looks at the top object and "features") and it stops parsing at the first
 * one (a later syntax error must still win). Without it jansson keeps one member per key (the
 * last value, at the first key's place in insertion order), comparing decoded keys; the scan
 * counts the members as written (a ':' outside strings at depth 1 ends a top-level key; at
 * depth 2 inside the member whose index is that of "features", a feature key), and fewer
 * members in the tree than in the text means a repeated key. The depth cannot come from the
 * tree either: a value replaced by a repeated key, at any level, is no longer in it.
 *
 * The record's strings point into the tree, which lives until the next walk.
 */
#ifdef HAVE_CONFIG_H
#include "build.h"
#endif
#include "connectors/record_impl.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct conn_jansson {
	json_t *root; /* the tree of the last message, NULL before the first */
};

/* ---- lifecycle ---- */

/* record_impl.h. */
struct conn_jansson *conn_jansson_new(void)
{
	return calloc(1, sizeof(struct conn_jansson));
}

/* record_impl.h. */
void conn_jansson_free(struct conn_jansson *j)
{
	if (!j)
		return;
	json_decref(j->root);
	free(j);
}

/* ---- helpers ---- */

/* The raw form of a jansson value. */
static void raw_of(json_t *v, struct conn_raw *o)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		o->type = CONN_RAW_OBJECT;
		break;
	case JSON_ARRAY:
		o->type = CONN_RAW_ARRAY;
		break;
	case JSON_STRING:
		o->type = CONN_RAW_STRING;
		o->str = json_string_value(v);
		o->len = json_string_length(v);
		break;
	case JSON_INTEGER: /* not produced under JSON_DECODE_INT_AS_REAL */
		o->type = CONN_RAW_NUMBER;
		o->num = (double)json_integer_value(v);
		break;
	case JSON_REAL:
		o->type = CONN_RAW_NUMBER;
		o->num = json_real_value(v);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		o->type = CONN_RAW_BOOL;
		o->b = json_is_true(v);
		break;
	default:
		o->type = CONN_RAW_NULL;
		break;
	}
}

/* record_impl.h. */
void conn_text_scan(const char *buf, size_t len, size_t fidx, struct conn_text_scan *t)
{
	size_t depth = 0;

	t->max_depth = t->ntop = t->nfeat = 0;
	for (size_t i = 0; i < len; i++) {
		switch (buf[i]) {
		case '"':
			for (i++; i < len && buf[i] != '"'; i++)
				if (buf[i] == '\\')
					i++; /* the escaped character, never the closing quote */
			break;
		case '{':
		case '[':
			if (++depth > t->max_depth)
				t->max_depth = depth;
			break;
		case '}':
		case ']':
			depth--;
			break;
		case ':':
			if (depth == 1)
				t->ntop++;
			else if (depth == 2 && t->ntop == fidx + 1)
				t->nfeat++;
			break;
		default:
			break;
		}
	}
}

/* record_impl.h. */
enum conn_reject conn_jansson_parse(const char *buf, size_t len, size_t max_depth, json_t **root)
{
	json_error_t err;

	*root = NULL;
	if (memchr(buf, '\0', len))
		return CONN_REJECT_BAD_JSON;
	*root = json_loadb(buf, len, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &err);
	if (*root)
		return CONN_REJECT_NONE;
	switch (json_error_code(&err)) {
	case json_error_out_of_memory:
		return CONN_REJECT_TOO_LARGE;
	case json_error_stack_overflow: {
		/* more than 2048 levels before any error: deeper than max_depth whatever follows,
		 * so only the validity of the rest is in question */
		enum conn_reject r = conn_json_check(buf, len, max_depth);

		return r == CONN_REJECT_NONE || r == CONN_REJECT_NOT_OBJECT
			   ? CONN_REJECT_TOO_DEEP /* unreachable: r says how deep */
			   : r;
	}
	default:
		return CONN_REJECT_BAD_JSON;
	}
}

/* ---- the walk ---- */

/* record_impl.h. O(len): the parse, one scan of the text, one pass over the top members and the
 * features. */
enum conn_reject conn_jansson_walk(struct conn_jansson *j, const char *buf, size_t len,
				   struct conn_walk *w)
{
	json_t *root, *features = NULL;
	size_t idx = 0, fidx = SIZE_MAX;
	struct conn_text_scan t;
	const char *key;
	json_t *v;
	void *it;

	enum conn_reject r;

	json_decref(j->root);
	j->root = NULL;
	if ((r = conn_jansson_parse(buf, len, w->lim.max_depth, &j->root)) != CONN_REJECT_NONE)
		return r;
	root = j->root;
	if (json_is_object(root)) {
		for (it = json_object_iter(root); it; it = json_object_iter_next(root, it), idx++) {
			int f =
			    conn_walk_field(json_object_iter_key(it), json_object_iter_key_len(it));

			if (f < 0)
				continue;
			v = json_object_iter_value(it);
			raw_of(v, &w->field[f]);
			if (f == CONN_FIELD_FEATURES && json_is_object(v)) {
				features = v;
				fidx = idx;
			}
		}
	}
	/* the text, not the tree: a value replaced by a repeated key is gone from the tree */
	conn_text_scan(buf, len, fidx, &t);
	if (t.max_depth > w->lim.max_depth)
		return CONN_REJECT_TOO_DEEP;
	if (!json_is_object(root))
		return CONN_REJECT_NOT_OBJECT;
	if (t.ntop != json_object_size(root) || (features && t.nfeat != json_object_size(features)))
		return CONN_REJECT_DUPLICATE_KEY;

	if (features) {
		for (it = json_object_iter(features); it;
		     it = json_object_iter_next(features, it)) {
			struct conn_raw raw = { 0 };

			key = json_object_iter_key(it);
			raw_of(json_object_iter_value(it), &raw);
			conn_walk_feature(w, key, json_object_iter_key_len(it), &raw);
		}
	}
	return CONN_REJECT_NONE;
}

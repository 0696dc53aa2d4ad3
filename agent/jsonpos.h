/*
 * jsonpos.h -- a strict JSON reader that keeps the line and column of every key and value, so
 * that the caller can report a wrong type, an unknown key or an out-of-range value as
 * "NAME:LINE:COL: message" at the offending token (jansson gives positions of syntax errors
 * only). driftd's configuration file (config_load.c) is its user.
 *
 * The document is one JSON object (a UTF-8 BOM before it is skipped, white space around it is
 * allowed, nothing else). It is bounded (AGENT_JSONPOS_MAX_BYTES, nesting AGENT_JSONPOS_MAX_DEPTH,
 * AGENT_JSONPOS_MAX_MEMBERS keys per object), checks UTF-8 and refuses what strict JSON refuses:
 * duplicate keys, trailing commas, single quotes, leading zeros, control characters and \u0000 in
 * strings, unpaired surrogates. Lines count from 1 and end at '\n' (so CRLF works); columns count
 * characters (not bytes) from 1. Messages never quote the content of a string value: it may be a
 * secret.
 *
 * Also here: the reader's lexical rules, for callers that apply them to text from elsewhere (the
 * configuration reads numbers and UTF-8 text from flags and the environment exactly as the file).
 */
#ifndef DRIFTD_AGENT_JSONPOS_H
#define DRIFTD_AGENT_JSONPOS_H

#include <stddef.h>

#define AGENT_JSONPOS_MAX_BYTES	  (1024 * 1024) /* of a document */
#define AGENT_JSONPOS_MAX_DEPTH	  32		/* nesting of objects and arrays */
#define AGENT_JSONPOS_MAX_MEMBERS 4096		/* keys of one object */

enum agent_jsonpos_kind {
	AGENT_JSONPOS_STRING,
	AGENT_JSONPOS_NUMBER,
	AGENT_JSONPOS_BOOL,
	AGENT_JSONPOS_NULL,
	AGENT_JSONPOS_OBJECT,
	AGENT_JSONPOS_ARRAY
};

struct agent_jsonpos_member;

/* A parsed value; arrays are checked but their items are not kept. */
struct agent_jsonpos {
	enum agent_jsonpos_kind kind; /* which of the fields below hold the value */
	int line, col;		      /* where the value starts */
	char *s;		      /* STRING: decoded text; NUMBER: the lexeme; NUL-terminated */
	size_t len;		      /* of s */
	int b;			      /* BOOL */
	struct agent_jsonpos_member *m; /* OBJECT: the members in document order */
	size_t n;			/* of m */
};

struct agent_jsonpos_member {
	char *key;		/* decoded, NUL-terminated */
	size_t klen;		/* of key */
	int line, col;		/* of the key's opening quote */
	struct agent_jsonpos v; /* the value */
};

/* Parses json[0..len) (NULL: an empty document) into *root, which must be zeroed. 0, or -1 with
 * "NAME:LINE:COL: message" in err (NULL/0: no message) and *root freed. name names the document
 * in messages (NULL: "<json>"); what names it in "WHAT must be a JSON object" (NULL: "the
 * document"). On success the caller frees *root with agent_jsonpos_free. */
int agent_jsonpos_parse(struct agent_jsonpos *root, const char *name, const char *what,
			const char *json, size_t len, char *err, size_t errlen);
/* Frees what a value holds and zeroes it (freeing twice is safe). */
void agent_jsonpos_free(struct agent_jsonpos *v);

/* A JSON number at s: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?; the length matched, 0 if
 * none. */
size_t agent_jsonpos_number_len(const char *s, size_t n);
/* Writes s[0..len) into buf (n bytes) as a double-quoted, escaped excerpt of at most 48 bytes,
 * the way the reader names a key in its messages; for messages that name a key, a flag or a
 * non-secret value. */
void agent_jsonpos_quote(char *buf, size_t n, const char *s, size_t len);

#endif

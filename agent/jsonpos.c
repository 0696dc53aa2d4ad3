/*
 * jsonpos.c -- the positional JSON reader (see jsonpos.h): a small recursive-descent parser over
 * a bounded buffer that records where every value and key starts, and the lexical helpers it
 * shares with its callers (number lexemes, quoted excerpts for messages). UTF-8 sequences and
 * hex digits are text.h's (conn_text_utf8_len, conn_text_hex_value).
 *
 * Every error goes through jerr_at(): the first one wins and is written as "NAME:LINE:COL:
 * message" at the token that caused it: a value or key at its first character, a bad escape at
 * its backslash, a raw control character or invalid UTF-8 at that byte, an unterminated string at
 * its opening quote, a missing token where it was expected. Positions are kept as the reader
 * advances one byte at a time (jadv): '\n' starts a line, UTF-8 continuation bytes do not advance
 * the column.
 */
#include "agent/jsonpos.h"
#include "agent/ascii.h"
#include "agent/util.h"
#include "connectors/buf.h"
#include "connectors/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- lexical helpers ---- */

/* Writes s[0..len) into buf as a double-quoted, escaped excerpt of at most 48 bytes: for
 * messages that name a key, a flag or a non-secret value. */
void agent_jsonpos_quote(char *buf, size_t n, const char *s, size_t len)
{
	size_t o = 0, i;

	if (n < 8) {
		if (n)
			buf[0] = '\0';
		return;
	}
	buf[o++] = '"';
	for (i = 0; i < len && i < 48 && o + 6 < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)ch;
		} else if (ch < 0x20 || ch == 0x7f) {
			o += (size_t)snprintf(buf + o, n - o, "\\x%02x", ch);
		} else {
			buf[o++] = (char)ch;
		}
	}
	if (i < len && o + 5 < n) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '"';
	buf[o] = '\0';
}

/* A JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?; the length matched, 0 if none. */
size_t agent_jsonpos_number_len(const char *s, size_t n)
{
	size_t i = 0;

	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0')
		i++;
	else if (i < n && s[i] >= '1' && s[i] <= '9')
		while (i < n && is_digit((unsigned char)s[i]))
			i++;
	else
		return 0;
	if (i < n && s[i] == '.') {
		if (++i >= n || !is_digit((unsigned char)s[i]))
			return 0;
		while (i < n && is_digit((unsigned char)s[i]))
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || !is_digit((unsigned char)s[i]))
			return 0;
		while (i < n && is_digit((unsigned char)s[i]))
			i++;
	}
	return i;
}

/* ---- the reader ---- */

/* The reader's state: where it is in the document and where its first error goes. */
struct jreader {
	const unsigned char *p, *end; /* the next byte, the end of the document */
	int line, col;		      /* of *p */
	int depth;		      /* open objects and arrays */
	const char *name;	      /* of the document, for messages */
	const char *what;	      /* of the document, in "WHAT must be a JSON object" */
	char *err;		      /* the first error, "NAME:LINE:COL: message" */
	size_t errlen;
	int failed;
};

void agent_jsonpos_free(struct agent_jsonpos *nd)
{
	for (size_t i = 0; i < nd->n; i++) {
		free(nd->m[i].key);
		agent_jsonpos_free(&nd->m[i].v);
	}
	free(nd->m);
	free(nd->s);
	memset(nd, 0, sizeof *nd);
}

static void jerr_at(struct jreader *r, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void jerr_at(struct jreader *r, int line, int col, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (r->failed)
		return;
	r->failed = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	agent_errf(r->err, r->errlen, "%s:%d:%d: %s", r->name, line, col, msg);
}

/* Consumes one byte; columns count characters (UTF-8 continuation bytes do not advance). */
static void jadv(struct jreader *r)
{
	if (*r->p == '\n') {
		r->line++;
		r->col = 1;
	} else if ((*r->p & 0xc0) != 0x80) {
		r->col++;
	}
	r->p++;
}

static void jskip(struct jreader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		jadv(r);
}

/* The 4 hex digits of a \u escape at p (before end) into *out; -1 when they are not. */
static int hex4(const unsigned char *p, const unsigned char *end, unsigned *out)
{
	long v = end - p < 4 ? -1 : conn_text_hex_value((const char *)p, 4);

	if (v < 0)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* After a backslash at (line, col): one escape sequence into b. */
static int jescape(struct jreader *r, struct conn_buf *b, int line, int col)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	unsigned cp, lo;
	unsigned char u[4];
	size_t ulen;
	const char *e;

	if (r->p == r->end)
		return -1; /* reported by the caller as unterminated */
	if (*r->p != 'u') {
		if (!*r->p || !(e = strchr(from, *r->p))) {
			jerr_at(r, line, col, "invalid escape sequence in a string");
			return -1;
		}
		jadv(r);
		return conn_buf_put(b, &to[e - from], 1);
	}
	jadv(r);
	if (hex4(r->p, r->end, &cp)) {
		jerr_at(r, line, col, "invalid \\u escape in a string");
		return -1;
	}
	for (int i = 0; i < 4; i++)
		jadv(r);
	if (cp >= 0xdc00 && cp <= 0xdfff) {
		jerr_at(r, line, col, "invalid \\u escape in a string: unpaired surrogate");
		return -1;
	}
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u' ||
		    hex4(r->p + 2, r->end, &lo) || lo < 0xdc00 || lo > 0xdfff) {
			jerr_at(r, line, col, "invalid \\u escape in a string: unpaired surrogate");
			return -1;
		}
		for (int i = 0; i < 6; i++)
			jadv(r);
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (cp == 0) {
		jerr_at(r, line, col, "\\u0000 is not allowed in a string");
		return -1;
	}
	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		ulen = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | (cp >> 6));
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		ulen = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | (cp >> 12));
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		ulen = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | (cp >> 18));
		u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f));
		ulen = 4;
	}
	return conn_buf_put(b, u, ulen);
}

/* A string at r->p (the opening quote) into a malloc'd, NUL-terminated *out. Messages never
 * quote the string's content: it may be a secret. */
static int jstring(struct jreader *r, char **out, size_t *outlen)
{
	int line = r->line, col = r->col;
	struct conn_buf b = { 0 };

	if (conn_buf_put(&b, "", 0))
		goto oom;
	jadv(r);
	for (;;) {
		unsigned char ch;

		if (r->p == r->end) {
			jerr_at(r, line, col, "unterminated string");
			goto fail;
		}
		ch = *r->p;
		if (ch == '"') {
			jadv(r);
			break;
		}
		if (ch < 0x20) {
			jerr_at(r, r->line, r->col,
				"control character in a string (write it as an escape)");
			goto fail;
		}
		if (ch == '\\') {
			int eline = r->line, ecol = r->col;

			jadv(r);
			if (r->p == r->end) {
				jerr_at(r, line, col, "unterminated string");
				goto fail;
			}
			if (jescape(r, &b, eline, ecol)) {
				if (!r->failed)
					goto oom;
				goto fail;
			}
		} else {
			size_t k = conn_text_utf8_len((const char *)r->p, (size_t)(r->end - r->p));

			if (!k) {
				jerr_at(r, r->line, r->col, "invalid UTF-8 in a string");
				goto fail;
			}
			if (conn_buf_put(&b, r->p, k))
				goto oom;
			for (size_t i = 0; i < k; i++)
				jadv(r);
		}
	}
	*out = b.p;
	*outlen = b.len;
	return 0;
oom:
	jerr_at(r, line, col, "out of memory");
fail:
	free(b.p);
	return -1;
}

static int jvalue(struct jreader *r, struct agent_jsonpos *nd);

/* After a member or an element: 1 at a ',' (taken: another follows), 0 at the closing
 * character (taken: the container ends), -1 with the error at anything else. */
static int jnext(struct jreader *r, char close)
{
	jskip(r);
	if (r->p == r->end) {
		jerr_at(r, r->line, r->col, "unexpected end of input: expected ',' or '%c'", close);
		return -1;
	}
	if (*r->p == close || *r->p == ',') {
		int more = *r->p == ',';

		jadv(r);
		return more;
	}
	jerr_at(r, r->line, r->col, "expected ',' or '%c'", close);
	return -1;
}

static int jobject(struct jreader *r, struct agent_jsonpos *nd)
{
	int rc;

	if (++r->depth > AGENT_JSONPOS_MAX_DEPTH) {
		jerr_at(r, nd->line, nd->col, "nesting deeper than %d levels",
			AGENT_JSONPOS_MAX_DEPTH);
		return -1;
	}
	jadv(r);
	jskip(r);
	if (r->p < r->end && *r->p == '}') {
		jadv(r);
		r->depth--;
		return 0;
	}
	for (;;) {
		struct agent_jsonpos_member m = { 0 };
		char q[64];

		jskip(r);
		if (r->p == r->end) {
			jerr_at(r, r->line, r->col, "unexpected end of input in an object");
			return -1;
		}
		if (*r->p != '"') {
			jerr_at(r, r->line, r->col, "%s",
				*r->p == '}' ? "trailing comma before '}'"
					     : "expected a key (a double-quoted string)");
			return -1;
		}
		m.line = r->line;
		m.col = r->col;
		if (jstring(r, &m.key, &m.klen))
			return -1;
		for (size_t i = 0; i < nd->n; i++) {
			if (nd->m[i].klen == m.klen && !memcmp(nd->m[i].key, m.key, m.klen)) {
				agent_jsonpos_quote(q, sizeof q, m.key, m.klen);
				jerr_at(r, m.line, m.col, "duplicate key %s (first at %d:%d)", q,
					nd->m[i].line, nd->m[i].col);
				free(m.key);
				return -1;
			}
		}
		if (nd->n >= AGENT_JSONPOS_MAX_MEMBERS) {
			jerr_at(r, m.line, m.col, "more than %d keys in one object",
				AGENT_JSONPOS_MAX_MEMBERS);
			free(m.key);
			return -1;
		}
		jskip(r);
		if (r->p == r->end || *r->p != ':') {
			jerr_at(r, r->line, r->col, "expected ':' after the key");
			free(m.key);
			return -1;
		}
		jadv(r);
		if (jvalue(r, &m.v)) {
			free(m.key);
			agent_jsonpos_free(&m.v);
			return -1;
		}
		if (nd->n % 8 == 0) {
			struct agent_jsonpos_member *mm = realloc(nd->m, (nd->n + 8) * sizeof *mm);

			if (!mm) {
				jerr_at(r, m.line, m.col, "out of memory");
				free(m.key);
				agent_jsonpos_free(&m.v);
				return -1;
			}
			nd->m = mm;
		}
		nd->m[nd->n++] = m;
		if ((rc = jnext(r, '}')) <= 0) {
			if (rc < 0)
				return -1;
			break;
		}
	}
	r->depth--;
	return 0;
}

static int jarray(struct jreader *r, struct agent_jsonpos *nd)
{
	if (++r->depth > AGENT_JSONPOS_MAX_DEPTH) {
		jerr_at(r, nd->line, nd->col, "nesting deeper than %d levels",
			AGENT_JSONPOS_MAX_DEPTH);
		return -1;
	}
	jadv(r);
	jskip(r);
	if (r->p < r->end && *r->p == ']') {
		jadv(r);
		r->depth--;
		return 0;
	}
	for (;;) {
		struct agent_jsonpos item = { 0 };
		int rc = jvalue(r, &item);

		agent_jsonpos_free(&item);
		if (rc)
			return -1;
		if ((rc = jnext(r, ']')) <= 0) {
			if (rc < 0)
				return -1;
			break;
		}
	}
	r->depth--;
	return 0;
}

static int jliteral(struct jreader *r, struct agent_jsonpos *nd)
{
	static const struct {
		const char *word;
		enum agent_jsonpos_kind kind;
		int b;
	} lits[] = { { "true", AGENT_JSONPOS_BOOL, 1 },
		     { "false", AGENT_JSONPOS_BOOL, 0 },
		     { "null", AGENT_JSONPOS_NULL, 0 } };
	size_t avail = (size_t)(r->end - r->p);

	for (size_t i = 0; i < 3; i++) {
		size_t len = strlen(lits[i].word);

		if (avail >= len && !memcmp(r->p, lits[i].word, len) &&
		    (avail == len || !is_alnum(r->p[len]))) {
			nd->kind = lits[i].kind;
			nd->b = lits[i].b;
			for (size_t k = 0; k < len; k++)
				jadv(r);
			return 0;
		}
	}
	jerr_at(r, nd->line, nd->col, "invalid literal (strings need double quotes)");
	return -1;
}

static int jnumber(struct jreader *r, struct agent_jsonpos *nd)
{
	size_t avail = (size_t)(r->end - r->p);
	size_t len = agent_jsonpos_number_len((const char *)r->p, avail);

	if (!len || (len < avail && (is_alnum(r->p[len]) || r->p[len] == '.'))) {
		jerr_at(r, nd->line, nd->col, "invalid number");
		return -1;
	}
	nd->kind = AGENT_JSONPOS_NUMBER;
	if (!(nd->s = agent_strndup((const char *)r->p, len))) {
		jerr_at(r, nd->line, nd->col, "out of memory");
		return -1;
	}
	nd->len = len;
	for (size_t k = 0; k < len; k++)
		jadv(r);
	return 0;
}

static int jvalue(struct jreader *r, struct agent_jsonpos *nd)
{
	unsigned char ch;

	jskip(r);
	nd->line = r->line;
	nd->col = r->col;
	if (r->p == r->end) {
		jerr_at(r, r->line, r->col, "unexpected end of input: expected a value");
		return -1;
	}
	ch = *r->p;
	switch (ch) {
	case '{':
		nd->kind = AGENT_JSONPOS_OBJECT;
		return jobject(r, nd);
	case '[':
		nd->kind = AGENT_JSONPOS_ARRAY;
		return jarray(r, nd);
	case '"':
		nd->kind = AGENT_JSONPOS_STRING;
		return jstring(r, &nd->s, &nd->len);
	case '-':
		return jnumber(r, nd);
	default:
		break;
	}
	if (is_digit(ch))
		return jnumber(r, nd);
	if (is_alnum(ch))
		return jliteral(r, nd);
	if (ch > 0x20 && ch < 0x7f)
		jerr_at(r, r->line, r->col, "expected a value, got '%c'", ch);
	else
		jerr_at(r, r->line, r->col, "expected a value");
	return -1;
}

/* The whole document: one object, nothing after it but white space (a UTF-8 BOM is skipped). */
static int jdocument(struct jreader *r, struct agent_jsonpos *root)
{
	if (r->end - r->p >= 3 && r->p[0] == 0xef && r->p[1] == 0xbb && r->p[2] == 0xbf)
		r->p += 3;
	jskip(r);
	if (r->p == r->end) {
		jerr_at(r, r->line, r->col, "empty document: expected a JSON object");
		return -1;
	}
	if (*r->p != '{') {
		jerr_at(r, r->line, r->col, "%s must be a JSON object", r->what);
		return -1;
	}
	if (jvalue(r, root))
		return -1;
	jskip(r);
	if (r->p != r->end) {
		jerr_at(r, r->line, r->col, "unexpected data after the JSON object");
		return -1;
	}
	return 0;
}

/* ---- API ---- */

int agent_jsonpos_parse(struct agent_jsonpos *root, const char *name, const char *what,
			const char *json, size_t len, char *err, size_t errlen)
{
	struct jreader r = { 0 };

	r.name = name ? name : "<json>";
	r.what = what ? what : "the document";
	r.err = err;
	r.errlen = errlen;
	r.line = r.col = 1;
	if (len > AGENT_JSONPOS_MAX_BYTES) {
		jerr_at(&r, 1, 1, "larger than %d bytes (1 MiB)", AGENT_JSONPOS_MAX_BYTES);
		return -1;
	}
	r.p = (const unsigned char *)(json ? json : "");
	r.end = r.p + (json ? len : 0);
	if (jdocument(&r, root)) {
		agent_jsonpos_free(root);
		return -1;
	}
	return 0;
}

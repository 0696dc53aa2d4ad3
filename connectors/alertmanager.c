/*
 * alertmanager.c -- the Alertmanager webhook payload parser and label selectors of
 * alertmanager.h.
 *
 * jansson parses the body into a tree; one walk over the tree then runs twice: a first pass
 * validates everything and measures what the result needs (alerts, label entries, string
 * bytes), a second pass -- which cannot fail -- copies into a single allocation laid out as
 * [payload][alerts][label entries][strings]. Label sets are sorted by name in that copy.
 */
#include "connectors/alertmanager.h"
#include "connectors/text.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZERO_TIME_MS (-62135596800000LL) /* 0001-01-01T00:00:00Z, Go's zero time.Time */
#define ECHO_MAX     64			 /* bytes of a payload name shown in a reason */

/* ---- names and defaults ---- */

static const char *const reject_names[CONN_AM_REJECT_COUNT] = {
	[CONN_AM_OK] = "ok",
	[CONN_AM_BAD_JSON] = "bad_json",
	[CONN_AM_BAD_VERSION] = "bad_version",
	[CONN_AM_MISSING] = "missing",
	[CONN_AM_BAD_TYPE] = "bad_type",
	[CONN_AM_BAD_VALUE] = "bad_value",
	[CONN_AM_TOO_MANY_ALERTS] = "too_many_alerts",
	[CONN_AM_TOO_MANY_LABELS] = "too_many_labels",
	[CONN_AM_TOO_LONG] = "too_long",
	[CONN_AM_NO_MEMORY] = "no_memory",
};

const char *conn_am_reject_name(enum conn_am_reject r)
{
	return (unsigned)r < CONN_AM_REJECT_COUNT ? reject_names[r] : "unknown";
}

void conn_am_limits_default(struct conn_am_limits *l)
{
	l->max_alerts = 256;
	l->max_labels = 64;
	l->max_string = 4096;
}

/* ---- the two-pass walk ---- */

struct build {
	int fill;			/* 0: validate and measure; 1: copy (cannot fail) */
	const struct conn_am_limits *l; /* the limits */
	size_t nkv, nbytes;		/* measured: label entries, string bytes with NULs */
	struct conn_am_kv *kv;		/* fill: next free label entry */
	char *str;			/* fill: next free string byte */
	enum conn_am_reject code;	/* the rejection */
	char *reason;			/* its text */
	size_t cap;
};

/* Printable ASCII copy of a payload string for a reason: others become '?', long ones end in
 * "...". */
static void echo(char *dst, size_t cap, const char *src)
{
	size_t i = 0;

	for (; src[i] && i < ECHO_MAX && i + 1 < cap; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[i] = '\0';
	if (src[i] && i + 4 < cap)
		strcpy(dst + i, "...");
}

static int fail(struct build *b, enum conn_am_reject code, const char *fmt, ...)
{
	va_list ap;

	b->code = code;
	if (b->cap) {
		va_start(ap, fmt);
		vsnprintf(b->reason, b->cap, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* A string of len bytes: checked against max_string, measured or copied. */
static int put_str(struct build *b, const char *s, size_t len, const char *where, const char *key,
		   const char **out)
{
	if (len > b->l->max_string)
		return fail(b, CONN_AM_TOO_LONG, "%s%s: %zu bytes, more than the limit of %zu",
			    where, key, len, b->l->max_string);
	if (!b->fill) {
		b->nbytes += len + 1;
		*out = "";
		return 0;
	}
	memcpy(b->str, s, len);
	b->str[len] = '\0';
	*out = b->str;
	b->str += len + 1;
	return 0;
}

/* String field key of obj: absent or null -> "" (*present 0), or MISSING when required. */
static int get_str(struct build *b, json_t *obj, const char *key, const char *where, int required,
		   const char **out, int *present)
{
	json_t *v = json_object_get(obj, key);

	*out = "";
	if (present)
		*present = 0;
	if (!v || json_is_null(v)) {
		if (required)
			return fail(b, CONN_AM_MISSING, "%s%s: missing", where, key);
		return 0;
	}
	if (!json_is_string(v))
		return fail(b, CONN_AM_BAD_TYPE, "%s%s: expected a string", where, key);
	if (present)
		*present = 1;
	return put_str(b, json_string_value(v), json_string_length(v), where, key, out);
}

static int get_status(struct build *b, json_t *obj, const char *where, enum conn_am_status *st)
{
	json_t *v = json_object_get(obj, "status");
	const char *s;
	char shown[ECHO_MAX + 4];

	if (!v || json_is_null(v))
		return fail(b, CONN_AM_MISSING, "%sstatus: missing", where);
	if (!json_is_string(v))
		return fail(b, CONN_AM_BAD_TYPE, "%sstatus: expected a string", where);
	s = json_string_value(v);
	if (!strcmp(s, "firing"))
		*st = CONN_AM_FIRING;
	else if (!strcmp(s, "resolved"))
		*st = CONN_AM_RESOLVED;
	else {
		echo(shown, sizeof shown, s);
		return fail(b, CONN_AM_BAD_VALUE,
			    "%sstatus: \"%s\" is neither \"firing\" nor \"resolved\"", where,
			    shown);
	}
	return 0;
}

static int kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct conn_am_kv *)a)->name, ((const struct conn_am_kv *)b)->name);
}

/* An object of strings: labels or annotations. */
static int get_labels(struct build *b, json_t *obj, const char *key, const char *where,
		      int required, struct conn_am_labels *out)
{
	json_t *v = json_object_get(obj, key);
	struct conn_am_kv *kv = b->kv;
	size_t n, i = 0;
	char path[160], shown[ECHO_MAX + 4];

	out->kv = NULL;
	out->n = 0;
	if (!v || json_is_null(v)) {
		if (required)
			return fail(b, CONN_AM_MISSING, "%s%s: missing", where, key);
		return 0;
	}
	if (!json_is_object(v))
		return fail(b, CONN_AM_BAD_TYPE, "%s%s: expected an object of strings", where, key);
	n = json_object_size(v);
	if (n > b->l->max_labels)
		return fail(b, CONN_AM_TOO_MANY_LABELS,
			    "%s%s: %zu entries, more than the limit of %zu", where, key, n,
			    b->l->max_labels);
	snprintf(path, sizeof path, "%s%s", where, key);
	for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it), i++) {
		const char *name = json_object_iter_key(it), *cn, *cv;
		json_t *val = json_object_iter_value(it);
		size_t nlen = strlen(name), vlen;

		echo(shown, sizeof shown, name);
		if (nlen == 0)
			return fail(b, CONN_AM_BAD_VALUE, "%s: an empty name", path);
		if (nlen > b->l->max_string)
			return fail(b, CONN_AM_TOO_LONG,
				    "%s: a name of %zu bytes, more than the limit of %zu", path,
				    nlen, b->l->max_string);
		if (!json_is_string(val))
			return fail(b, CONN_AM_BAD_TYPE, "%s.%s: expected a string", path, shown);
		vlen = json_string_length(val);
		if (vlen > b->l->max_string)
			return fail(b, CONN_AM_TOO_LONG,
				    "%s.%s: a value of %zu bytes, more than the limit of %zu", path,
				    shown, vlen, b->l->max_string);
		/* both within max_string: cannot fail */
		(void)put_str(b, name, nlen, path, "", &cn);
		(void)put_str(b, json_string_value(val), vlen, path, "", &cv);
		if (b->fill) {
			kv[i].name = cn;
			kv[i].value = cv;
		}
	}
	if (!b->fill) {
		b->nkv += n;
		return 0;
	}
	qsort(kv, n, sizeof *kv, kv_cmp);
	b->kv += n;
	out->kv = kv;
	out->n = n;
	return 0;
}

static int get_time(struct build *b, json_t *obj, const char *key, const char *where,
		    const char **text, int *has, int64_t *ms)
{
	json_t *v;
	int present;

	*has = 0;
	*ms = 0;
	if (get_str(b, obj, key, where, 0, text, &present))
		return -1;
	if (!present)
		return 0;
	v = json_object_get(obj, key);
	if (conn_text_time_parse(json_string_value(v), json_string_length(v), 0, ms))
		return fail(b, CONN_AM_BAD_VALUE,
			    "%s%s: not an RFC 3339 time (YYYY-MM-DDThh:mm:ss[.frac]Z or +hh:mm)",
			    where, key);
	*has = *ms != ZERO_TIME_MS;
	if (!*has)
		*ms = 0;
	return 0;
}

static int walk_alert(struct build *b, json_t *a, size_t idx, struct conn_am_alert *out)
{
	char where[48];

	snprintf(where, sizeof where, "alerts[%zu].", idx);
	if (!json_is_object(a))
		return fail(b, CONN_AM_BAD_TYPE, "alerts[%zu]: expected an object", idx);
	if (get_status(b, a, where, &out->status) ||
	    get_labels(b, a, "labels", where, 1, &out->labels) ||
	    get_labels(b, a, "annotations", where, 0, &out->annotations) ||
	    get_time(b, a, "startsAt", where, &out->starts_at, &out->has_starts, &out->starts_ms) ||
	    get_time(b, a, "endsAt", where, &out->ends_at, &out->has_ends, &out->ends_ms) ||
	    get_str(b, a, "generatorURL", where, 0, &out->generator_url, NULL) ||
	    get_str(b, a, "fingerprint", where, 0, &out->fingerprint, NULL))
		return -1;
	return 0;
}

/* alerts: NULL while measuring (each alert goes into a scratch struct). */
static int walk(struct build *b, json_t *root, struct conn_am_payload *p,
		struct conn_am_alert *alerts)
{
	json_t *v, *arr;
	size_t n;

	v = json_object_get(root, "version");
	if (!v)
		return fail(b, CONN_AM_BAD_VERSION,
			    "version: missing (only webhook payload version \"4\" is accepted)");
	if (!json_is_string(v) || strcmp(json_string_value(v), "4"))
		return fail(b, CONN_AM_BAD_VERSION,
			    "version: only webhook payload version \"4\" is accepted");
	if (get_status(b, root, "", &p->status) ||
	    get_str(b, root, "receiver", "", 1, &p->receiver, NULL) ||
	    get_str(b, root, "groupKey", "", 1, &p->group_key, NULL) ||
	    get_str(b, root, "externalURL", "", 0, &p->external_url, NULL))
		return -1;
	p->truncated_alerts = 0;
	v = json_object_get(root, "truncatedAlerts");
	if (v && !json_is_null(v)) {
		if (!json_is_integer(v))
			return fail(b, CONN_AM_BAD_TYPE, "truncatedAlerts: expected an integer");
		if (json_integer_value(v) < 0)
			return fail(b, CONN_AM_BAD_VALUE, "truncatedAlerts: negative");
		p->truncated_alerts = json_integer_value(v);
	}
	if (get_labels(b, root, "groupLabels", "", 0, &p->group_labels) ||
	    get_labels(b, root, "commonLabels", "", 0, &p->common_labels) ||
	    get_labels(b, root, "commonAnnotations", "", 0, &p->common_annotations))
		return -1;
	arr = json_object_get(root, "alerts");
	if (!arr || json_is_null(arr))
		return fail(b, CONN_AM_MISSING, "alerts: missing");
	if (!json_is_array(arr))
		return fail(b, CONN_AM_BAD_TYPE, "alerts: expected an array");
	n = json_array_size(arr);
	if (n > b->l->max_alerts)
		return fail(b, CONN_AM_TOO_MANY_ALERTS,
			    "alerts: %zu alerts, more than the limit of %zu", n, b->l->max_alerts);
	for (size_t i = 0; i < n; i++) {
		struct conn_am_alert scratch;

		if (walk_alert(b, json_array_get(arr, i), i, alerts ? &alerts[i] : &scratch))
			return -1;
	}
	p->alerts = alerts;
	p->nalerts = n;
	return 0;
}

/* ---- API ---- */

enum conn_am_reject conn_am_parse(const char *body, size_t len, const struct conn_am_limits *limits,
				  struct conn_am_payload **out, char *reason, size_t reasoncap)
{
	struct conn_am_limits def;
	struct build b;
	struct conn_am_payload tmp, *p;
	json_error_t je;
	json_t *root;
	size_t nalerts, size;
	char *block;

	*out = NULL;
	if (reasoncap)
		reason[0] = '\0';
	if (!limits) {
		conn_am_limits_default(&def);
		limits = &def;
	}
	memset(&b, 0, sizeof b);
	b.l = limits;
	b.reason = reason;
	b.cap = reasoncap;

	root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (!root) {
		char shown[ECHO_MAX + 4];

		if (json_error_code(&je) == json_error_out_of_memory) {
			fail(&b, CONN_AM_NO_MEMORY, "out of memory");
			return b.code;
		}
		echo(shown, sizeof shown, je.text);
		fail(&b, CONN_AM_BAD_JSON, "not valid JSON (line %d, column %d): %s", je.line,
		     je.column, shown);
		return b.code;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		fail(&b, CONN_AM_BAD_JSON, "the body is not a JSON object");
		return b.code;
	}
	memset(&tmp, 0, sizeof tmp);
	if (walk(&b, root, &tmp, NULL)) {
		json_decref(root);
		return b.code;
	}
	nalerts = tmp.nalerts;
	size = sizeof *p + nalerts * sizeof(struct conn_am_alert) +
	       b.nkv * sizeof(struct conn_am_kv) + b.nbytes;
	block = malloc(size);
	if (!block) {
		json_decref(root);
		fail(&b, CONN_AM_NO_MEMORY, "out of memory");
		return b.code;
	}
	memset(block, 0, size - b.nbytes);
	p = (struct conn_am_payload *)block;
	b.fill = 1;
	b.kv = (struct conn_am_kv *)(block + sizeof *p + nalerts * sizeof(struct conn_am_alert));
	b.str = (char *)(b.kv + b.nkv);
	if (walk(&b, root, p, nalerts ? (struct conn_am_alert *)(p + 1) : NULL)) {
		/* cannot happen: the first pass checked everything */
		json_decref(root);
		free(block);
		return b.code;
	}
	json_decref(root);
	*out = p;
	return CONN_AM_OK;
}

void conn_am_payload_free(struct conn_am_payload *p)
{
	free(p);
}

const char *conn_am_label(const struct conn_am_labels *set, const char *name)
{
	size_t lo = 0, hi = set->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(set->kv[mid].name, name);

		if (c == 0)
			return set->kv[mid].value;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- selectors ---- */

struct matcher {
	char *name;
	char *value;
	int negate; /* != */
};

struct conn_am_selector {
	struct matcher m[CONN_AM_MAX_MATCHERS];
	size_t n;
};

void conn_am_selector_free(struct conn_am_selector *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->m[i].name);
		free(s->m[i].value);
	}
	free(s);
}

static const char *sp(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static int is_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

/* The value at *pp (quoted or bare) into a new string; advances *pp. NULL with errbuf. */
static char *parse_value(const char **pp, const char *text, char *errbuf, size_t errlen)
{
	const char *p = *pp;
	char *v, *o;

	if (*p != '"') {
		const char *s = p;

		while (*p && *p != ',' && *p != '}' && *p != '"' && *p != ' ' && *p != '\t' &&
		       *p != '\n' && *p != '\r')
			p++;
		v = strndup(s, (size_t)(p - s));
		if (!v)
			snprintf(errbuf, errlen, "out of memory");
		*pp = p;
		return v;
	}
	v = o = malloc(strlen(p) + 1);
	if (!v) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	for (p++; *p != '"'; p++) {
		if (!*p) {
			snprintf(errbuf, errlen, "selector: unterminated string");
			free(v);
			return NULL;
		}
		if (*p == '\\') {
			p++;
			if (*p == '"' || *p == '\\')
				*o++ = *p;
			else if (*p == 'n')
				*o++ = '\n';
			else {
				snprintf(
				    errbuf, errlen,
				    "selector: unknown escape at offset %zu (use \\\", \\\\ or "
				    "\\n)",
				    (size_t)(p - text));
				free(v);
				return NULL;
			}
			continue;
		}
		*o++ = *p;
	}
	*o = '\0';
	*pp = p + 1;
	return v;
}

struct conn_am_selector *conn_am_selector_new(const char *text, char *errbuf, size_t errlen)
{
	struct conn_am_selector *s = calloc(1, sizeof *s);
	const char *p = text;
	int brace = 0, closed = 0;

	if (!s) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	p = sp(p);
	if (*p == '{') {
		brace = 1;
		p++;
	}
	for (;;) {
		const char *name;
		struct matcher *m;
		int negate;

		p = sp(p);
		if (brace && *p == '}') {
			p++;
			closed = 1;
			break;
		}
		if (!*p)
			break;
		if (!is_name_start(*p)) {
			snprintf(errbuf, errlen, "selector: expected a label name at offset %zu",
				 (size_t)(p - text));
			goto error;
		}
		name = p;
		while (is_name_char(*p))
			p++;
		if (s->n == CONN_AM_MAX_MATCHERS) {
			snprintf(errbuf, errlen, "selector: more than %d matchers",
				 CONN_AM_MAX_MATCHERS);
			goto error;
		}
		m = &s->m[s->n];
		m->name = strndup(name, (size_t)(p - name));
		if (!m->name) {
			snprintf(errbuf, errlen, "out of memory");
			goto error;
		}
		s->n++;
		p = sp(p);
		if ((p[0] == '=' || p[0] == '!') && p[1] == '~') {
			snprintf(
			    errbuf, errlen,
			    "selector: regular-expression matchers (=~, !~) are not supported, "
			    "only = and !=");
			goto error;
		}
		if (p[0] == '!' && p[1] == '=') {
			negate = 1;
			p += 2;
		} else if (p[0] == '=') {
			negate = 0;
			p += 1;
		} else {
			snprintf(errbuf, errlen, "selector: expected = or != at offset %zu",
				 (size_t)(p - text));
			goto error;
		}
		m->negate = negate;
		p = sp(p);
		m->value = parse_value(&p, text, errbuf, errlen);
		if (!m->value)
			goto error;
		p = sp(p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (brace && *p == '}') {
			p++;
			closed = 1;
			break;
		}
		if (*p) {
			snprintf(errbuf, errlen,
				 "selector: expected , between matchers at offset %zu",
				 (size_t)(p - text));
			goto error;
		}
	}
	if (brace && !closed) {
		snprintf(errbuf, errlen, "selector: missing }");
		goto error;
	}
	p = sp(p);
	if (*p) {
		snprintf(errbuf, errlen, "selector: unexpected text at offset %zu",
			 (size_t)(p - text));
		goto error;
	}
	if (s->n == 0) {
		snprintf(errbuf, errlen, "selector: empty (it would match every alert)");
		goto error;
	}
	return s;
error:
	conn_am_selector_free(s);
	return NULL;
}

int conn_am_match(const struct conn_am_selector *s, const struct conn_am_alert *a)
{
	for (size_t i = 0; i < s->n; i++) {
		const char *v = conn_am_label(&a->labels, s->m[i].name);
		int equal = strcmp(v ? v : "", s->m[i].value) == 0;

		if (equal == s->m[i].negate)
			return 0;
	}
	return 1;
}

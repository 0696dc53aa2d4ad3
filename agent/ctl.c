/*
 * ctl.c -- driftctl's commands (see ctl.h): argument parsing, one function per command, the
 * audit trail.
 *
 * Parsing is table-driven and reentrant (no getopt: tests call agent_ctl_main many times): the
 * global options --store, --json and --help may appear before or after the command; each
 * command has its positional count and its options, a value either as the next argument or
 * after '='; "--" ends the options. A wrong command line exits 2; a failure to act (not found,
 * already there, store or file error) exits 1.
 *
 * Model and version names given on the command line must be 1..128 bytes of valid UTF-8 (they
 * go into JSON documents). In text output and in error messages, control bytes of names are
 * printed as \xNN, so a name cannot forge a line.
 */
#include "agent/ctl.h"
#include "agent/baseline.h"
#include "agent/timefmt.h"
#include "connectors/io.h"
#include "connectors/record.h"
#include "connectors/store.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_NAME	   128u		      /* model and version names, bytes */
#define MAX_JSON_ARG	   ((size_t)16 << 20) /* --feature-params @FILE, --hyperparams @FILE */
#define MAX_BASELINE	   ((size_t)64 << 20) /* baseline import FILE */
#define DEFAULT_STORE	   "dir:./driftd-store"
#define DEFAULT_BINS	   20
#define ACCURACY_THRESHOLD 0.5 /* numeric predictions against 0/1 labels (accuracy.h) */
#define OUT_FLAGS	   (JSON_INDENT(2) | JSON_REAL_PRECISION(17))
#define MAX_OPTS	   64
#define QBUFS		   8
#define QMAX		   512u /* bytes of a string q() prints, the rest shown as '~' */

/* ---- state, messages ---- */

struct ctl {
	FILE *out, *err;
	int json;			/* --json */
	const char *store_spec;		/* --store, $DRIFTD_STORE or the default */
	const char *store_prefix;	/* --store-prefix, $DRIFTD_STORE_PREFIX or NULL (default) */
	struct conn_store *store;	/* opened on first use */
	const char *cmd;		/* the command, for messages */
	char qbuf[QBUFS][4 * QMAX + 8]; /* q()'s rotating buffers */
	unsigned qnext;
};

/* Whether s is valid UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
static int utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned c = *p, n = c < 0x80		     ? 0
				     : c >= 0xc2 && c < 0xe0 ? 1
				     : (c & 0xf0) == 0xe0    ? 2
				     : c >= 0xf0 && c < 0xf5 ? 3
							     : 9;
		unsigned cp = n == 1 ? c & 0x1f : n == 2 ? c & 0x0f : c & 0x07;

		if (n == 9)
			return 0;
		for (unsigned i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		p += n + 1;
	}
	return 1;
}

/* s with control bytes (and, when s is not UTF-8, every byte >= 0x80) escaped as \xNN and cut
 * at QMAX bytes, for messages and text output: a name cannot forge a line. Valid until QBUFS
 * more calls. */
static const char *q(struct ctl *c, const char *s)
{
	char *b = c->qbuf[c->qnext++ % QBUFS];
	int utf8 = utf8_valid(s);
	size_t o = 0;

	for (size_t i = 0; s[i] && i < QMAX; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch == 0x7f || ch == '\\' || (ch >= 0x80 && !utf8))
			o += (size_t)snprintf(b + o, 5, ch == '\\' ? "\\\\" : "\\x%02x", ch);
		else
			b[o++] = (char)ch;
	}
	if (strlen(s) > QMAX)
		b[o++] = '~';
	b[o] = '\0';
	return b;
}

static int fail(struct ctl *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prints "driftctl: <command>: message" on err; returns code. */
static int fail(struct ctl *c, int code, const char *fmt, ...)
{
	va_list ap;

	fputs("driftctl: ", c->err);
	if (c->cmd)
		fprintf(c->err, "%s: ", c->cmd);
	va_start(ap, fmt);
	vfprintf(c->err, fmt, ap);
	va_end(ap);
	fputc('\n', c->err);
	return code;
}

static int nomem(struct ctl *c)
{
	return fail(c, AGENT_CTL_ERROR, "out of memory");
}

/* Prints a JSON document on out (and drops it); AGENT_CTL_OK, or ERROR on no memory. */
static int emit(struct ctl *c, json_t *j)
{
	int rc = j ? json_dumpf(j, c->out, OUT_FLAGS) : -1;

	json_decref(j);
	if (rc < 0)
		return nomem(c);
	fputc('\n', c->out);
	return AGENT_CTL_OK;
}

static int store_fail(struct ctl *c)
{
	return fail(c, AGENT_CTL_ERROR, "store: %s", conn_store_error(c->store));
}

static int open_store(struct ctl *c)
{
	char errbuf[512];

	if (c->store)
		return AGENT_CTL_OK;
	c->store = conn_store_open(c->store_spec, errbuf, sizeof errbuf);
	if (!c->store)
		return fail(c, AGENT_CTL_ERROR, "%s", q(c, errbuf));
	if (c->store_prefix && conn_store_set_prefix(c->store, c->store_prefix) < 0)
		return store_fail(c);
	return AGENT_CTL_OK;
}

/* 1..128 bytes of valid UTF-8. */
static int valid_name(const char *s)
{
	size_t n = strlen(s);
	json_t *j;

	if (n == 0 || n > MAX_NAME)
		return 0;
	j = json_string(s);
	json_decref(j);
	return j != NULL;
}

/* obj[key] = v (stolen); non-zero when v is NULL or on no memory. */
static int jset(json_t *obj, const char *key, json_t *v)
{
	return v ? json_object_set_new(obj, key, v) != 0 : 1;
}

static json_t *jcount(uint64_t v)
{
	return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

/* A JSON number, or null when x is not finite. */
static json_t *jnum(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

static json_t *jstr_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* ---- argument parsing ---- */

struct optdef {
	const char *name; /* without the leading "--" */
	int repeat;	  /* may be given more than once */
};

struct args {
	const char *pos[4];
	size_t npos;
	const char *opt[MAX_OPTS]; /* option names (optdef.name) */
	const char *val[MAX_OPTS]; /* their values */
	size_t nopt;
};

struct cmddef {
	const char *name;	   /* "register", "baseline build" */
	size_t min_pos, max_pos;   /* positional arguments */
	const struct optdef *opts; /* options with a value, {NULL} terminated */
	int (*run)(struct ctl *c, const struct args *a);
	const char *usage; /* after "driftctl " */
};

static const char *opt_get(const struct args *a, const char *name)
{
	for (size_t i = 0; i < a->nopt; i++)
		if (strcmp(a->opt[i], name) == 0)
			return a->val[i];
	return NULL;
}

/* ---- store helpers ---- */

/* The registration document of (model, version): OK with *doc (and *text when not NULL, the
 * raw JSON, caller frees), ERROR with a message when it is not registered or on error. */
static int get_registration(struct ctl *c, const char *model, const char *version, json_t **doc,
			    char **text)
{
	struct conn_blob b = { 0 };
	int rc = conn_store_version_get(c->store, model, version, &b);

	*doc = NULL;
	if (rc < 0)
		return store_fail(c);
	if (rc == 1)
		return fail(c, AGENT_CTL_ERROR,
			    "%s %s is not registered (driftctl register MODEL VERSION ...)",
			    q(c, model), q(c, version));
	*doc = json_loadb(b.data, b.len, 0, NULL);
	if (!json_is_object(*doc)) {
		json_decref(*doc);
		*doc = NULL;
		free(b.data);
		return fail(c, AGENT_CTL_ERROR, "the registration of %s %s is not a JSON object",
			    q(c, model), q(c, version));
	}
	if (text)
		*text = b.data;
	else
		free(b.data);
	return AGENT_CTL_OK;
}

/* Versions of a model in registration order. */
struct vlist {
	char **name;
	int64_t *ms;
	size_t n, cap;
	int nomem;
};

static int vlist_add(void *arg, const char *version, int64_t ms)
{
	struct vlist *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		char **nn = realloc(l->name, cap * sizeof *nn);
		int64_t *nm;

		if (!nn)
			goto nomem;
		l->name = nn;
		nm = realloc(l->ms, cap * sizeof *nm);
		if (!nm)
			goto nomem;
		l->ms = nm;
		l->cap = cap;
	}
	l->name[l->n] = strdup(version);
	if (!l->name[l->n])
		goto nomem;
	l->ms[l->n++] = ms;
	return 0;
nomem:
	l->nomem = 1;
	return 1;
}

static void vlist_free(struct vlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->name[i]);
	free(l->name);
	free(l->ms);
}

static int get_versions(struct ctl *c, const char *model, struct vlist *l)
{
	memset(l, 0, sizeof *l);
	if (conn_store_versions(c->store, model, vlist_add, l) < 0)
		return store_fail(c);
	if (l->nomem)
		return nomem(c);
	return AGENT_CTL_OK;
}

/* OK when the model has a registered version, ERROR with a message otherwise. */
static int need_model(struct ctl *c, const char *model)
{
	struct vlist l;
	int rc = get_versions(c, model, &l);

	if (rc == AGENT_CTL_OK && l.n == 0)
		rc = fail(c, AGENT_CTL_ERROR, "model %s has no registered version", q(c, model));
	vlist_free(&l);
	return rc;
}

/* The last known good version (malloc'd) or NULL in *good. */
static int get_good(struct ctl *c, const char *model, char **good)
{
	struct conn_blob b = { 0 };
	int rc = conn_store_good_get(c->store, model, &b);

	*good = NULL;
	if (rc < 0)
		return store_fail(c);
	if (rc == 0)
		*good = b.data;
	return AGENT_CTL_OK;
}

/* *has = whether (model, version) has a stored baseline. */
static int has_baseline(struct ctl *c, const char *model, const char *version, int *has)
{
	struct conn_blob b = { 0 };
	int rc = conn_store_baseline_get(c->store, model, version, &b);

	if (rc < 0)
		return store_fail(c);
	free(b.data);
	*has = rc == 0;
	return AGENT_CTL_OK;
}

static const char *user_name(char *buf, size_t len)
{
	struct passwd *pw = getpwuid(geteuid());

	if (pw && pw->pw_name && pw->pw_name[0])
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "uid %ld", (long)geteuid());
	return buf;
}

/* Appends the audit entry {"type":"driftctl.<type>","time",...,"model", fields..., "user"} to
 * the model's history. fields is stolen (NULL: its construction failed, no memory). */
static int audit(struct ctl *c, const char *model, const char *type, json_t *fields)
{
	json_t *e = json_object();
	char t[AGENT_TIME_LEN], tbuf[64], ubuf[128], *line = NULL;
	int64_t now = agent_time_now_ms();
	int bad = !e || !fields, rc;

	agent_time_format(now, t);
	snprintf(tbuf, sizeof tbuf, "driftctl.%s", type);
	bad |= jset(e, "type", json_string(tbuf));
	bad |= jset(e, "time", json_string(t));
	bad |= jset(e, "time_ms", json_integer(now));
	bad |= jset(e, "model", json_string(model));
	if (!bad)
		bad |= json_object_update(e, fields) != 0;
	bad |= jset(e, "user", json_string(user_name(ubuf, sizeof ubuf)));
	json_decref(fields);
	if (!bad)
		line = json_dumps(e, JSON_COMPACT | JSON_REAL_PRECISION(17));
	json_decref(e);
	if (!line)
		return nomem(c);
	rc = conn_store_history_append(c->store, model, line, strlen(line));
	free(line);
	if (rc < 0)
		return fail(c, AGENT_CTL_ERROR, "done, but the history entry was not written: %s",
			    conn_store_error(c->store));
	return AGENT_CTL_OK;
}

/* Reads a whole file (or stdin for "-"), at most max bytes, NUL-terminated. */
static int read_file(struct ctl *c, const char *path, size_t max, char **out, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	size_t cap = 65536, n = 0;
	char *buf = NULL;

	*out = NULL;
	if (!f)
		return fail(c, AGENT_CTL_ERROR, "%s: %s", q(c, path), strerror(errno));
	for (;;) {
		size_t got;

		if (n == cap || !buf) {
			char *nb;

			if (buf)
				cap *= 2;
			if (cap > max + 1)
				cap = max + 1;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				if (f != stdin)
					fclose(f);
				return nomem(c);
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n > max) {
			free(buf);
			if (f != stdin)
				fclose(f);
			return fail(c, AGENT_CTL_ERROR, "%s: larger than %zu bytes", q(c, path),
				    max);
		}
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		if (f != stdin)
			fclose(f);
		return fail(c, AGENT_CTL_ERROR, "%s: read error", q(c, path));
	}
	if (f != stdin)
		fclose(f);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return AGENT_CTL_OK;
}

/* ---- register ---- */

/* A JSON object given inline or as @FILE. */
static int json_arg(struct ctl *c, const char *opt, const char *arg, json_t **out)
{
	json_error_t je;
	char *text = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if (arg[0] == '@') {
		rc = read_file(c, arg + 1, MAX_JSON_ARG, &text, &len);
		if (rc != AGENT_CTL_OK)
			return rc;
		*out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
		free(text);
	} else {
		*out = json_loads(arg, JSON_REJECT_DUPLICATES, &je);
	}
	if (!*out)
		return fail(c, AGENT_CTL_USAGE, "--%s: not valid JSON (%s, column %d)", opt,
			    je.text, je.column);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return fail(c, AGENT_CTL_USAGE, "--%s must be a JSON object", opt);
	}
	return AGENT_CTL_OK;
}

static int cmd_register(struct ctl *c, const struct args *a)
{
	const char *model = a->pos[0], *version = a->pos[1];
	const char *hash = opt_get(a, "training-data-hash"), *fp = opt_get(a, "feature-params");
	const char *hp = opt_get(a, "hyperparams");
	json_t *doc = NULL, *jfp = NULL, *jhp = NULL, *tags = json_object(), *fields;
	char t[AGENT_TIME_LEN], *text = NULL;
	int64_t now;
	int rc;

	if (!hash || !fp || !hp)
		rc = fail(c, AGENT_CTL_USAGE,
			  "refused: every version must carry --training-data-hash, "
			  "--feature-params and --hyperparams (missing %s)",
			  !hash ? "--training-data-hash"
			  : !fp ? "--feature-params"
				: "--hyperparams");
	else if (!hash[0] || !valid_name(hash) || strlen(hash) > 1024)
		rc = fail(c, AGENT_CTL_USAGE,
			  "--training-data-hash must be 1 to 1024 bytes of UTF-8 text");
	else if ((rc = json_arg(c, "feature-params", fp, &jfp)) == AGENT_CTL_OK)
		rc = json_arg(c, "hyperparams", hp, &jhp);
	if (rc != AGENT_CTL_OK || !tags)
		goto out;
	for (size_t i = 0; i < a->nopt; i++) {
		const char *kv = a->val[i], *eq;
		char key[256];

		if (strcmp(a->opt[i], "tag") != 0)
			continue;
		eq = strchr(kv, '=');
		if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof key) {
			rc = fail(c, AGENT_CTL_USAGE,
				  "--tag wants KEY=VALUE (a key of 1 to 255 bytes)");
			goto out;
		}
		memcpy(key, kv, (size_t)(eq - kv));
		key[eq - kv] = '\0';
		if (json_object_get(tags, key)) {
			rc = fail(c, AGENT_CTL_USAGE, "--tag %s given twice", q(c, key));
			goto out;
		}
		if (!valid_name(key) || json_object_set_new(tags, key, json_string(eq + 1)) != 0) {
			rc = fail(c, AGENT_CTL_USAGE, "--tag: not UTF-8 text");
			goto out;
		}
	}
	if ((rc = open_store(c)) != AGENT_CTL_OK)
		goto out;
	now = agent_time_now_ms();
	agent_time_format(now, t);
	doc = json_object();
	if (!doc || jset(doc, "model", json_string(model)) ||
	    jset(doc, "version", json_string(version)) || jset(doc, "registered", json_string(t)) ||
	    jset(doc, "registered_ms", json_integer(now)) ||
	    jset(doc, "training_data_hash", json_string(hash)) ||
	    jset(doc, "feature_params", json_incref(jfp)) ||
	    jset(doc, "hyperparams", json_incref(jhp)) || jset(doc, "tags", json_incref(tags)) ||
	    !(text = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(17)))) {
		rc = nomem(c);
		goto out;
	}
	switch (conn_store_version_put(c->store, model, version, text, strlen(text), now)) {
	case 0:
		break;
	case 2:
		rc = fail(c, AGENT_CTL_ERROR, "%s %s is already registered", q(c, model),
			  q(c, version));
		goto out;
	default:
		rc = store_fail(c);
		goto out;
	}
	fields = json_pack("{s:s, s:s}", "version", version, "training_data_hash", hash);
	rc = audit(c, model, "register", fields);
	if (rc != AGENT_CTL_OK)
		goto out;
	if (c->json) {
		rc = emit(c, doc);
		doc = NULL;
	} else {
		fprintf(c->out, "registered %s %s at %s\n", q(c, model), q(c, version), t);
	}
out:
	free(text);
	json_decref(doc);
	json_decref(jfp);
	json_decref(jhp);
	json_decref(tags);
	return rc;
}

/* ---- versions ---- */

static int cmd_versions(struct ctl *c, const struct args *a)
{
	const char *model = a->pos[0];
	struct vlist l;
	json_t *arr = NULL;
	char *good = NULL;
	int rc = open_store(c);

	if (rc != AGENT_CTL_OK)
		return rc;
	if ((rc = get_versions(c, model, &l)) != AGENT_CTL_OK)
		return rc;
	if (l.n == 0) {
		vlist_free(&l);
		return fail(c, AGENT_CTL_ERROR, "model %s has no registered version", q(c, model));
	}
	if ((rc = get_good(c, model, &good)) != AGENT_CTL_OK)
		goto out;
	arr = json_array();
	if (!arr) {
		rc = nomem(c);
		goto out;
	}
	for (size_t i = 0; i < l.n; i++) {
		char t[AGENT_TIME_LEN];
		json_t *doc = NULL, *v;
		int latched = 0, base = 0, isgood = good && strcmp(good, l.name[i]) == 0;
		const char *hash;

		if ((rc = get_registration(c, model, l.name[i], &doc, NULL)) != AGENT_CTL_OK)
			goto out;
		hash = json_string_value(json_object_get(doc, "training_data_hash"));
		if (conn_store_latch_get(c->store, model, l.name[i], &latched) < 0) {
			json_decref(doc);
			rc = store_fail(c);
			goto out;
		}
		if ((rc = has_baseline(c, model, l.name[i], &base)) != AGENT_CTL_OK) {
			json_decref(doc);
			goto out;
		}
		agent_time_format(l.ms[i], t);
		if (c->json) {
			v = json_pack("{s:s, s:s, s:I, s:o, s:b, s:b, s:b}", "version", l.name[i],
				      "registered", t, "registered_ms", (json_int_t)l.ms[i],
				      "training_data_hash", jstr_or_null(hash), "good", isgood,
				      "latched", latched, "baseline", base);
			if (!v || json_array_append_new(arr, v) != 0) {
				json_decref(doc);
				rc = nomem(c);
				goto out;
			}
		} else {
			fprintf(c->out, "%-20s  %s  hash %s%s%s%s\n", q(c, l.name[i]), t,
				hash ? q(c, hash) : "-", base ? "  baseline" : "",
				isgood ? "  good" : "", latched ? "  latched" : "");
		}
		json_decref(doc);
	}
	if (c->json) {
		rc = emit(c, json_pack("{s:s, s:O}", "model", model, "versions", arr));
	}
out:
	json_decref(arr);
	free(good);
	vlist_free(&l);
	return rc;
}

/* ---- baseline build ---- */

static int parse_bins(struct ctl *c, const char *s, size_t *bins)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = s ? strtoul(s, &end, 10) : DEFAULT_BINS;
	if (s && (errno || end == s || *end || s[0] == '-' || v < 1 || v > STATS_HIST_MAX_BINS))
		return fail(c, AGENT_CTL_USAGE, "--bins must be an integer from 1 to %u",
			    STATS_HIST_MAX_BINS);
	*bins = v;
	return AGENT_CTL_OK;
}

static int cmd_baseline_build(struct ctl *c, const struct args *a)
{
	const char *model = a->pos[0], *version = a->pos[1], *from = opt_get(a, "from");
	uint64_t rejected[CONN_REJECT_COUNT] = { 0 }, first[CONN_REJECT_COUNT] = { 0 };
	uint64_t lines = 0, skipped = 0, nrej = 0;
	struct agent_baseline_builder *bb = NULL;
	struct agent_baseline *b = NULL;
	struct conn_decoder *dec = NULL;
	struct conn_source *src = NULL;
	struct conn_limits lim;
	struct conn_msg msgs[64];
	json_t *doc = NULL, *rj = NULL;
	char *reg = NULL, *text = NULL, errbuf[512], *spec = NULL;
	size_t bins = 0, mlen = strlen(model), vlen = strlen(version);
	int rc, n;

	if (!from)
		return fail(c, AGENT_CTL_USAGE, "--from FILE.jsonl is required");
	if ((rc = parse_bins(c, opt_get(a, "bins"), &bins)) != AGENT_CTL_OK ||
	    (rc = open_store(c)) != AGENT_CTL_OK ||
	    (rc = get_registration(c, model, version, &doc, &reg)) != AGENT_CTL_OK)
		goto out;
	conn_limits_default(&lim);
	dec = conn_decoder_new(CONN_DECODER_AUTO, &lim, errbuf, sizeof errbuf);
	if (!dec) {
		rc = fail(c, AGENT_CTL_ERROR, "decoder: %s", errbuf);
		goto out;
	}
	spec = malloc(strlen(from) + 6);
	if (!spec) {
		rc = nomem(c);
		goto out;
	}
	snprintf(spec, strlen(from) + 6, "file:%s", from);
	src = conn_source_open(spec, lim.max_message, errbuf, sizeof errbuf);
	if (!src) {
		rc = fail(c, AGENT_CTL_ERROR, "%s", q(c, errbuf));
		goto out;
	}
	bb = agent_baseline_builder_new(model, version, bins, 0, ACCURACY_THRESHOLD);
	if (!bb) {
		rc = nomem(c);
		goto out;
	}
	while ((n = conn_source_next(src, msgs, 64)) > 0) {
		for (int i = 0; i < n; i++) {
			struct conn_record r;
			enum conn_reject why =
			    msgs[i].oversized ? CONN_REJECT_TOO_LARGE
					      : conn_decode(dec, msgs[i].data, msgs[i].len, &r);

			lines++;
			if (why != CONN_REJECT_NONE) {
				if (rejected[why]++ == 0)
					first[why] = (uint64_t)msgs[i].offset;
				nrej++;
				continue;
			}
			if (r.model_len != mlen || memcmp(r.model, model, mlen) != 0 ||
			    r.version_len != vlen || memcmp(r.version, version, vlen) != 0) {
				skipped++;
				continue;
			}
			if (agent_baseline_builder_add(bb, &r) < 0) {
				rc = nomem(c);
				goto out;
			}
		}
	}
	if (n < 0) {
		rc = fail(c, AGENT_CTL_ERROR, "%s: %s", q(c, from), conn_source_error(src));
		goto out;
	}
	b = agent_baseline_builder_finish(bb, agent_time_now_ms(), errbuf, sizeof errbuf);
	bb = NULL;
	if (!b && lines == nrej + skipped) {
		rc =
		    fail(c, AGENT_CTL_ERROR,
			 "%s: no record of %s %s to build from (%llu lines: %llu rejected, %llu of "
			 "other models or versions)",
			 q(c, from), q(c, model), q(c, version), (unsigned long long)lines,
			 (unsigned long long)nrej, (unsigned long long)skipped);
		goto out;
	}
	if (!b) {
		rc = fail(c, AGENT_CTL_ERROR, "%s", errbuf);
		goto out;
	}
	b->metadata = reg;
	reg = NULL;
	text = agent_baseline_to_json(b);
	if (!text) {
		rc = nomem(c);
		goto out;
	}
	if (conn_store_baseline_put(c->store, model, version, text, strlen(text)) < 0) {
		rc = store_fail(c);
		goto out;
	}
	rj = json_object();
	for (int k = 1; rj && k < CONN_REJECT_COUNT; k++)
		if (rejected[k] &&
		    jset(rj, conn_reject_name((enum conn_reject)k), jcount(rejected[k])))
			break;
	rc = audit(c, model, "baseline.build",
		   json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "version", version, "source",
			     q(c, from), "samples", (json_int_t)b->samples, "lines",
			     (json_int_t)lines, "rejected", (json_int_t)nrej, "skipped",
			     (json_int_t)skipped));
	if (rc != AGENT_CTL_OK)
		goto out;
	if (c->json) {
		char t[AGENT_TIME_LEN];

		agent_time_format(b->created_ms, t);
		rc = emit(c, json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:O, s:I, s:I}",
				       "model", model, "version", version, "source", q(c, from),
				       "created", t, "lines", (json_int_t)lines, "samples",
				       (json_int_t)b->samples, "features", (json_int_t)b->nfeatures,
				       "rejected_total", (json_int_t)nrej, "rejected", rj,
				       "skipped_other", (json_int_t)skipped, "bins",
				       (json_int_t)bins));
	} else {
		fprintf(c->out, "built baseline %s %s from %s: %llu records, %zu features%s\n",
			q(c, model), q(c, version), q(c, from), (unsigned long long)b->samples,
			b->nfeatures,
			!b->has_prediction	    ? ", no prediction"
			: b->prediction.categorical ? ", categorical prediction"
						    : ", numeric prediction");
		if (nrej) {
			fprintf(c->out, "rejected %llu of %llu lines:", (unsigned long long)nrej,
				(unsigned long long)lines);
			for (int k = 1, any = 0; k < CONN_REJECT_COUNT; k++)
				if (rejected[k])
					fprintf(c->out, "%s %s %llu (first at line %llu)",
						any++ ? "," : "",
						conn_reject_name((enum conn_reject)k),
						(unsigned long long)rejected[k],
						(unsigned long long)first[k]);
			fputc('\n', c->out);
		}
		if (skipped)
			fprintf(c->out, "skipped %llu records of other models or versions\n",
				(unsigned long long)skipped);
	}
out:
	if (bb)
		agent_baseline_free(agent_baseline_builder_finish(bb, 0, NULL, 0));
	agent_baseline_free(b);
	conn_source_close(src);
	conn_decoder_free(dec);
	json_decref(doc);
	json_decref(rj);
	free(reg);
	free(text);
	free(spec);
	return rc;
}

/* ---- baseline show / export / import ---- */

/* Loads and validates the stored baseline; *raw (when not NULL) receives its text. */
static int load_baseline(struct ctl *c, const char *model, const char *version,
			 struct agent_baseline **out, struct conn_blob *raw)
{
	struct conn_blob blob = { 0 };
	char errbuf[512];
	int rc;

	*out = NULL;
	if ((rc = open_store(c)) != AGENT_CTL_OK)
		return rc;
	rc = conn_store_baseline_get(c->store, model, version, &blob);
	if (rc < 0)
		return store_fail(c);
	if (rc == 1)
		return fail(c, AGENT_CTL_ERROR,
			    "%s %s has no baseline (driftctl baseline build or import)",
			    q(c, model), q(c, version));
	*out = agent_baseline_from_json(blob.data, blob.len, errbuf, sizeof errbuf);
	if (!*out) {
		free(blob.data);
		return fail(c, AGENT_CTL_ERROR, "the stored baseline of %s %s is invalid: %s",
			    q(c, model), q(c, version), errbuf);
	}
	if (raw)
		*raw = blob;
	else
		free(blob.data);
	return AGENT_CTL_OK;
}

/* Indices of the k largest categories (count descending, then first seen). */
static size_t top_categories(const struct stats_cat *cat, size_t *idx, size_t k)
{
	size_t n = stats_cat_size(cat), m = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t ci = stats_cat_count(cat, i);
		size_t j = m < k ? m++ : k;

		if (j == k && (k == 0 || ci <= stats_cat_count(cat, idx[k - 1])))
			continue;
		if (j == k)
			j = k - 1;
		while (j > 0 && stats_cat_count(cat, idx[j - 1]) < ci) {
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = i;
	}
	return m;
}

static uint64_t feature_values(const struct agent_bfeature *f)
{
	return f->categorical ? stats_cat_total(f->cat) : stats_hist_total(f->hist);
}

static json_t *feature_summary(const struct agent_bfeature *f)
{
	json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I}", "name", f->name, "kind",
			      f->categorical ? "categorical" : "numeric", "values",
			      (json_int_t)feature_values(f), "missing", (json_int_t)f->missing,
			      "mismatched", (json_int_t)f->mismatched);
	int bad = !o;

	if (bad)
		return NULL;
	if (!f->categorical) {
		size_t bins = stats_hist_bins(f->hist);
		const double *e = stats_hist_edges(f->hist);

		bad |= jset(o, "bins", json_integer((json_int_t)bins));
		bad |= jset(o, "min", json_real(e[0]));
		bad |= jset(o, "max_edge", json_real(e[bins]));
		bad |= jset(o, "iqr", jnum(f->iqr));
	} else {
		size_t idx[5], k = top_categories(f->cat, idx, 5), len;
		json_t *top = json_array();

		bad |= jset(o, "categories", json_integer((json_int_t)stats_cat_size(f->cat)));
		bad |= jset(o, "other", jcount(stats_cat_other(f->cat)));
		for (size_t i = 0; i < k && top; i++) {
			const char *v = stats_cat_value(f->cat, idx[i], &len);

			bad |=
			    json_array_append_new(
				top, json_pack("{s:s%, s:I}", "value", v, len, "count",
					       (json_int_t)stats_cat_count(f->cat, idx[i]))) != 0;
		}
		bad |= jset(o, "top", top);
	}
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void print_feature(struct ctl *c, const struct agent_bfeature *f, uint64_t samples)
{
	fprintf(c->out, "    %-24s ", q(c, f->name));
	if (!f->categorical) {
		size_t bins = stats_hist_bins(f->hist);
		const double *e = stats_hist_edges(f->hist);

		fprintf(c->out, "numeric      %zu bins over [%.6g, %.6g)  iqr %.6g", bins, e[0],
			e[bins], f->iqr);
	} else {
		size_t idx[3], k = top_categories(f->cat, idx, 3), len;
		uint64_t tot = stats_cat_total(f->cat);

		fprintf(c->out, "categorical  %zu categories + %s %llu", stats_cat_size(f->cat),
			STATS_CAT_OTHER, (unsigned long long)stats_cat_other(f->cat));
		for (size_t i = 0; i < k; i++) {
			const char *v = stats_cat_value(f->cat, idx[i], &len);

			fprintf(c->out, "%s%s %.1f%%", i ? ", " : "  top: ", q(c, v),
				tot ? 100.0 * (double)stats_cat_count(f->cat, idx[i]) / (double)tot
				    : 0.0);
		}
	}
	fprintf(c->out, "  missing %.1f%%", 100.0 * (double)f->missing / (double)samples);
	if (f->mismatched)
		fprintf(c->out, "  mismatched %llu", (unsigned long long)f->mismatched);
	fputc('\n', c->out);
}

static int cmd_baseline_show(struct ctl *c, const struct args *a)
{
	struct agent_baseline *b;
	double p[3] = { NAN, NAN, NAN }, acc, mae, er;
	static const double qs[3] = { 0.5, 0.95, 0.99 };
	char t[AGENT_TIME_LEN];
	uint64_t nlat;
	int rc = load_baseline(c, a->pos[0], a->pos[1], &b, NULL);

	if (rc != AGENT_CTL_OK)
		return rc;
	nlat = stats_sketch_count(b->latency);
	for (int i = 0; i < 3 && nlat; i++)
		stats_sketch_quantile(b->latency, qs[i], &p[i]);
	acc = b->scored ? (double)b->correct / (double)b->scored : NAN;
	mae = b->reg_n ? b->abs_err_sum / (double)b->reg_n : NAN;
	er = b->error_known ? (double)b->errors / (double)b->error_known : NAN;
	agent_time_format(b->created_ms, t);
	if (c->json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I}", "model", b->model, "version",
				      b->version, "created", t, "created_ms",
				      (json_int_t)b->created_ms, "samples", (json_int_t)b->samples);
		json_t *fs = json_array();
		int bad = !o || !fs;

		for (size_t i = 0; i < b->nfeatures && !bad; i++)
			bad |= json_array_append_new(fs, feature_summary(&b->features[i])) != 0;
		bad |= jset(o, "features", fs);
		bad |= jset(o, "prediction",
			    b->has_prediction ? feature_summary(&b->prediction) : json_null());
		bad |= jset(o, "latency_seconds",
			    json_pack("{s:I, s:o, s:o, s:o}", "count", (json_int_t)nlat, "p50",
				      jnum(p[0]), "p95", jnum(p[1]), "p99", jnum(p[2])));
		bad |= jset(o, "accuracy",
			    json_pack("{s:I, s:I, s:o}", "scored", (json_int_t)b->scored, "correct",
				      (json_int_t)b->correct, "value", jnum(acc)));
		bad |= jset(o, "regression",
			    json_pack("{s:I, s:o}", "n", (json_int_t)b->reg_n, "mae", jnum(mae)));
		bad |= jset(o, "error_rate",
			    json_pack("{s:I, s:I, s:o}", "known", (json_int_t)b->error_known,
				      "errors", (json_int_t)b->errors, "value", jnum(er)));
		if (b->metadata)
			bad |= jset(o, "metadata", json_loads(b->metadata, 0, NULL));
		if (bad) {
			json_decref(o);
			o = NULL;
		}
		rc = emit(c, o);
		agent_baseline_free(b);
		return rc;
	}
	fprintf(c->out, "baseline %s %s\n", q(c, b->model), q(c, b->version));
	fprintf(c->out, "  created     %s\n", t);
	fprintf(c->out, "  samples     %llu\n", (unsigned long long)b->samples);
	if (nlat)
		fprintf(c->out,
			"  latency     p50 %.4g ms  p95 %.4g ms  p99 %.4g ms  (%llu values)\n",
			p[0] * 1e3, p[1] * 1e3, p[2] * 1e3, (unsigned long long)nlat);
	else
		fprintf(c->out, "  latency     none recorded\n");
	if (b->scored)
		fprintf(c->out, "  accuracy    %.4f (%llu of %llu scored)\n", acc,
			(unsigned long long)b->correct, (unsigned long long)b->scored);
	else
		fprintf(c->out, "  accuracy    n/a (no labelled classification record)\n");
	if (b->reg_n)
		fprintf(c->out, "  mae         %.6g (%llu regression records)\n", mae,
			(unsigned long long)b->reg_n);
	if (b->error_known)
		fprintf(c->out, "  error rate  %.4f (%llu of %llu)\n", er,
			(unsigned long long)b->errors, (unsigned long long)b->error_known);
	else
		fprintf(c->out, "  error rate  n/a (no record with \"error\")\n");
	fprintf(c->out, "  features    %zu\n", b->nfeatures);
	for (size_t i = 0; i < b->nfeatures; i++)
		print_feature(c, &b->features[i], b->samples);
	if (b->has_prediction) {
		fprintf(c->out, "  prediction\n");
		print_feature(c, &b->prediction, b->samples);
	} else {
		fprintf(c->out, "  prediction  none\n");
	}
	agent_baseline_free(b);
	return AGENT_CTL_OK;
}

static int cmd_baseline_export(struct ctl *c, const struct args *a)
{
	struct agent_baseline *b;
	struct conn_blob raw = { 0 };
	int rc = load_baseline(c, a->pos[0], a->pos[1], &b, &raw);

	if (rc != AGENT_CTL_OK)
		return rc;
	fwrite(raw.data, 1, raw.len, c->out);
	fputc('\n', c->out);
	free(raw.data);
	agent_baseline_free(b);
	return AGENT_CTL_OK;
}

static int cmd_baseline_import(struct ctl *c, const struct args *a)
{
	const char *path = a->pos[0];
	struct agent_baseline *b = NULL;
	json_t *reg = NULL, *meta = NULL;
	char *text = NULL, *reg_text = NULL, *out = NULL, errbuf[512];
	const char *h1, *h2;
	size_t len = 0;
	int rc = read_file(c, path, MAX_BASELINE, &text, &len);

	if (rc != AGENT_CTL_OK)
		return rc;
	b = agent_baseline_from_json(text, len, errbuf, sizeof errbuf);
	if (!b) {
		rc = fail(c, AGENT_CTL_ERROR, "%s: not a valid baseline: %s", q(c, path), errbuf);
		goto out;
	}
	if ((rc = open_store(c)) != AGENT_CTL_OK ||
	    (rc = get_registration(c, b->model, b->version, &reg, &reg_text)) != AGENT_CTL_OK)
		goto out;
	if (b->metadata) {
		/* a baseline of other training data than the registered version is refused */
		meta = json_loads(b->metadata, 0, NULL);
		h1 = json_string_value(json_object_get(meta, "training_data_hash"));
		h2 = json_string_value(json_object_get(reg, "training_data_hash"));
		if (h1 && h2 && strcmp(h1, h2) != 0) {
			rc = fail(c, AGENT_CTL_ERROR,
				  "%s: the baseline's training_data_hash (%s) differs from the "
				  "registered one of %s %s (%s)",
				  q(c, path), q(c, h1), q(c, b->model), q(c, b->version), q(c, h2));
			goto out;
		}
	} else {
		b->metadata = reg_text;
		reg_text = NULL;
	}
	out = agent_baseline_to_json(b);
	if (!out) {
		rc = nomem(c);
		goto out;
	}
	if (conn_store_baseline_put(c->store, b->model, b->version, out, strlen(out)) < 0) {
		rc = store_fail(c);
		goto out;
	}
	rc = audit(c, b->model, "baseline.import",
		   json_pack("{s:s, s:s, s:I}", "version", b->version, "source", q(c, path),
			     "samples", (json_int_t)b->samples));
	if (rc != AGENT_CTL_OK)
		goto out;
	if (c->json)
		rc = emit(c,
			  json_pack("{s:s, s:s, s:s, s:I, s:I}", "model", b->model, "version",
				    b->version, "source", q(c, path), "samples",
				    (json_int_t)b->samples, "features", (json_int_t)b->nfeatures));
	else
		fprintf(c->out, "imported baseline %s %s (%llu samples, %zu features) from %s\n",
			q(c, b->model), q(c, b->version), (unsigned long long)b->samples,
			b->nfeatures, q(c, path));
out:
	agent_baseline_free(b);
	json_decref(reg);
	json_decref(meta);
	free(text);
	free(reg_text);
	free(out);
	return rc;
}

/* ---- good, hold, release, rearm ---- */

static int cmd_good(struct ctl *c, const struct args *a)
{
	const char *model = a->pos[0], *version = a->pos[1];
	json_t *reg = NULL;
	char *prev = NULL;
	int base = 0, rc = open_store(c);

	if (rc != AGENT_CTL_OK || (rc = get_registration(c, model, version, &reg, NULL)) ||
	    (rc = get_good(c, model, &prev)) || (rc = has_baseline(c, model, version, &base)))
		goto out;
	if (conn_store_good_set(c->store, model, version) < 0) {
		rc = store_fail(c);
		goto out;
	}
	rc = audit(c, model, "good",
		   json_pack("{s:s, s:o}", "version", version, "previous", jstr_or_null(prev)));
	if (rc != AGENT_CTL_OK)
		goto out;
	if (!base)
		fprintf(c->err,
			"driftctl: good: note: %s %s has no baseline yet; live versions are "
			"compared with the good version's baseline (driftctl baseline build)\n",
			q(c, model), q(c, version));
	if (c->json)
		rc = emit(c, json_pack("{s:s, s:s, s:o, s:b}", "model", model, "good", version,
				       "previous", jstr_or_null(prev), "baseline", base));
	else if (prev)
		fprintf(c->out, "%s: last known good is now %s (was %s)\n", q(c, model),
			q(c, version), q(c, prev));
	else
		fprintf(c->out, "%s: last known good is now %s\n", q(c, model), q(c, version));
out:
	json_decref(reg);
	free(prev);
	return rc;
}

static int set_hold(struct ctl *c, const char *model, int on)
{
	int prev = 0, rc = open_store(c);

	if (rc != AGENT_CTL_OK || (rc = need_model(c, model)) != AGENT_CTL_OK)
		return rc;
	if (conn_store_hold_get(c->store, model, &prev) < 0 ||
	    conn_store_hold_set(c->store, model, on) < 0)
		return store_fail(c);
	rc = audit(c, model, on ? "hold" : "release", json_pack("{s:b}", "was_on_hold", prev));
	if (rc != AGENT_CTL_OK)
		return rc;
	if (c->json)
		return emit(c, json_pack("{s:s, s:b, s:b}", "model", model, "hold", on, "changed",
					 prev != on));
	fprintf(c->out, "%s: %s%s\n", q(c, model),
		on ? "automatic rollback on hold" : "automatic rollback released",
		prev == on ? " (it already was)" : "");
	return AGENT_CTL_OK;
}

static int cmd_hold(struct ctl *c, const struct args *a)
{
	return set_hold(c, a->pos[0], 1);
}

static int cmd_release(struct ctl *c, const struct args *a)
{
	return set_hold(c, a->pos[0], 0);
}

static int cmd_rearm(struct ctl *c, const struct args *a)
{
	const char *model = a->pos[0], *version = a->pos[1];
	json_t *reg = NULL;
	int was = 0, rc = open_store(c);

	if (rc != AGENT_CTL_OK || (rc = get_registration(c, model, version, &reg, NULL)))
		goto out;
	if (conn_store_latch_get(c->store, model, version, &was) < 0 ||
	    conn_store_latch_set(c->store, model, version, 0) < 0) {
		rc = store_fail(c);
		goto out;
	}
	rc = audit(c, model, "rearm",
		   json_pack("{s:s, s:b}", "version", version, "was_latched", was));
	if (rc != AGENT_CTL_OK)
		goto out;
	if (c->json)
		rc = emit(c, json_pack("{s:s, s:s, s:b}", "model", model, "version", version,
				       "was_latched", was));
	else
		fprintf(c->out, "%s %s: rearmed%s\n", q(c, model), q(c, version),
			was ? " (it was latched)" : " (it was not latched)");
out:
	json_decref(reg);
	return rc;
}

/* ---- history ---- */

struct hist_ctx {
	struct ctl *c;
	json_t *arr; /* --json: the entries */
	size_t n;
	int nomem;
};

/* key=value pairs of an object's members other than skip (scalars plain, nested objects one
 * level deep with a dotted prefix, arrays as compact JSON). */
static void print_members(struct ctl *c, json_t *o, const char *prefix)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v)
	{
		if (!prefix[0] && (!strcmp(k, "type") || !strcmp(k, "time") ||
				   !strcmp(k, "time_ms") || !strcmp(k, "model")))
			continue;
		if (json_is_object(v) && !prefix[0]) {
			print_members(c, v, k);
			continue;
		}
		fprintf(c->out, " %s%s%s=", prefix, prefix[0] ? "." : "", q(c, k));
		if (json_is_string(v)) {
			fputs(q(c, json_string_value(v)), c->out);
		} else {
			char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

			fputs(s ? s : "?", c->out);
			free(s);
		}
	}
}

static int history_entry(void *arg, const char *doc, size_t len)
{
	struct hist_ctx *h = arg;
	json_t *e = json_loadb(doc, len, 0, NULL);

	h->n++;
	if (h->c->json) {
		if (!e)
			e = json_pack("{s:s%}", "unparsed", doc, len);
		if (!e)
			e = json_pack("{s:s}", "unparsed", "(not UTF-8)");
		if (!e || json_array_append_new(h->arr, e) != 0) {
			h->nomem = 1;
			return 1;
		}
		return 0;
	}
	if (!json_is_object(e)) {
		fprintf(h->c->out, "? %.*s\n", (int)len, doc);
	} else {
		const char *t = json_string_value(json_object_get(e, "time"));
		const char *type = json_string_value(json_object_get(e, "type"));

		fprintf(h->c->out, "%s  %s", t ? q(h->c, t) : "-", type ? q(h->c, type) : "-");
		print_members(h->c, e, "");
		fputc('\n', h->c->out);
	}
	json_decref(e);
	return 0;
}

static int cmd_history(struct ctl *c, const struct args *a)
{
	const char *model = a->pos[0];
	struct hist_ctx h = { .c = c };
	struct vlist l;
	int rc = open_store(c);

	if (rc != AGENT_CTL_OK)
		return rc;
	h.arr = json_array();
	if (!h.arr)
		return nomem(c);
	if (conn_store_history(c->store, model, history_entry, &h) < 0) {
		json_decref(h.arr);
		return store_fail(c);
	}
	if (h.nomem) {
		json_decref(h.arr);
		return nomem(c);
	}
	if (h.n == 0) {
		if ((rc = get_versions(c, model, &l)) != AGENT_CTL_OK) {
			json_decref(h.arr);
			return rc;
		}
		if (l.n == 0)
			rc = fail(c, AGENT_CTL_ERROR, "model %s has no registered version",
				  q(c, model));
		vlist_free(&l);
		if (rc != AGENT_CTL_OK) {
			json_decref(h.arr);
			return rc;
		}
	}
	if (c->json)
		return emit(c, json_pack("{s:s, s:o}", "model", model, "entries", h.arr));
	json_decref(h.arr);
	if (h.n == 0)
		fprintf(c->out, "no history for %s\n", q(c, model));
	return AGENT_CTL_OK;
}

/* ---- status ---- */

/* The status of one model as JSON (and printed in text mode). */
static int model_status(struct ctl *c, const char *model, json_t **out)
{
	struct vlist l;
	json_t *latched = json_array(), *bases = json_array(), *o = NULL;
	char *good = NULL, t[AGENT_TIME_LEN] = "";
	int hold = 0, rc, good_base = 0;

	*out = NULL;
	if ((rc = get_versions(c, model, &l)) != AGENT_CTL_OK) {
		json_decref(latched);
		json_decref(bases);
		return rc;
	}
	if (l.n == 0) {
		rc = fail(c, AGENT_CTL_ERROR, "model %s has no registered version", q(c, model));
		goto out;
	}
	if (!latched || !bases) {
		rc = nomem(c);
		goto out;
	}
	if ((rc = get_good(c, model, &good)) != AGENT_CTL_OK)
		goto out;
	if (conn_store_hold_get(c->store, model, &hold) < 0) {
		rc = store_fail(c);
		goto out;
	}
	for (size_t i = 0; i < l.n; i++) {
		int on = 0, base = 0;

		if (conn_store_latch_get(c->store, model, l.name[i], &on) < 0) {
			rc = store_fail(c);
			goto out;
		}
		if ((rc = has_baseline(c, model, l.name[i], &base)) != AGENT_CTL_OK)
			goto out;
		if ((on && json_array_append_new(latched, json_string(l.name[i]))) ||
		    (base && json_array_append_new(bases, json_string(l.name[i])))) {
			rc = nomem(c);
			goto out;
		}
		if (good && base && strcmp(good, l.name[i]) == 0)
			good_base = 1;
	}
	agent_time_format(l.ms[l.n - 1], t);
	o = json_pack("{s:s, s:I, s:s, s:s, s:o, s:b, s:b, s:O, s:O}", "model", model, "versions",
		      (json_int_t)l.n, "latest", l.name[l.n - 1], "latest_registered", t, "good",
		      jstr_or_null(good), "good_has_baseline", good_base, "hold", hold, "latched",
		      latched, "baselines", bases);
	if (!o) {
		rc = nomem(c);
		goto out;
	}
	if (!c->json) {
		size_t i;
		json_t *v;

		fprintf(c->out, "%s\n", q(c, model));
		fprintf(c->out, "  versions   %zu, latest %s (registered %s)\n", l.n,
			q(c, l.name[l.n - 1]), t);
		if (good)
			fprintf(c->out, "  good       %s%s\n", q(c, good),
				good_base ? "" : " (no baseline)");
		else
			fprintf(c->out, "  good       none (a rollback would need a target)\n");
		fprintf(c->out, "  hold       %s\n", hold ? "on (no automatic rollback)" : "off");
		fprintf(c->out, "  latched   ");
		json_array_foreach(latched, i, v)
		    fprintf(c->out, "%s %s", i ? "," : "", q(c, json_string_value(v)));
		fprintf(c->out, "%s\n", json_array_size(latched) ? "" : " none");
		fprintf(c->out, "  baselines ");
		json_array_foreach(bases, i, v)
		    fprintf(c->out, "%s %s", i ? "," : "", q(c, json_string_value(v)));
		fprintf(c->out, "%s\n", json_array_size(bases) ? "" : " none");
	}
	*out = o;
out:
	json_decref(latched);
	json_decref(bases);
	free(good);
	vlist_free(&l);
	return rc;
}

struct mlist {
	char **name;
	size_t n, cap;
	int nomem;
};

static int mlist_add(void *arg, const char *model)
{
	struct mlist *m = arg;

	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 16;
		char **nn = realloc(m->name, cap * sizeof *nn);

		if (!nn) {
			m->nomem = 1;
			return 1;
		}
		m->name = nn;
		m->cap = cap;
	}
	if (!(m->name[m->n] = strdup(model))) {
		m->nomem = 1;
		return 1;
	}
	m->n++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmd_status(struct ctl *c, const struct args *a)
{
	struct mlist m = { 0 };
	json_t *one = NULL, *arr = NULL;
	int rc = open_store(c);

	if (rc != AGENT_CTL_OK)
		return rc;
	if (a->npos == 1) {
		rc = model_status(c, a->pos[0], &one);
		return rc == AGENT_CTL_OK && c->json ? emit(c, one) : (json_decref(one), rc);
	}
	if (conn_store_models(c->store, mlist_add, &m) < 0) {
		rc = store_fail(c);
		goto out;
	}
	if (m.nomem || !(arr = json_array())) {
		rc = nomem(c);
		goto out;
	}
	if (m.n) /* qsort's pointer must not be NULL, even for 0 elements */
		qsort(m.name, m.n, sizeof *m.name, cmp_str);
	for (size_t i = 0; i < m.n; i++) {
		if (!c->json && i > 0)
			fputc('\n', c->out);
		if ((rc = model_status(c, m.name[i], &one)) != AGENT_CTL_OK)
			goto out;
		if (json_array_append_new(arr, one) != 0) {
			rc = nomem(c);
			goto out;
		}
	}
	if (c->json) {
		rc = emit(c, json_pack("{s:s, s:O}", "store", q(c, c->store_spec), "models", arr));
	} else if (m.n == 0) {
		fprintf(c->out, "no model registered in %s\n", c->store_spec);
	}
out:
	json_decref(arr);
	for (size_t i = 0; i < m.n; i++)
		free(m.name[i]);
	free(m.name);
	return rc;
}

/* ---- the command table and main ---- */

static const struct optdef no_opts[] = { { NULL, 0 } };
static const struct optdef register_opts[] = { { "training-data-hash", 0 },
					       { "feature-params", 0 },
					       { "hyperparams", 0 },
					       { "tag", 1 },
					       { NULL, 0 } };
static const struct optdef build_opts[] = { { "from", 0 }, { "bins", 0 }, { NULL, 0 } };

static const struct cmddef commands[] = {
	{ "register", 2, 2, register_opts, cmd_register,
	  "register MODEL VERSION --training-data-hash H --feature-params JSON|@FILE "
	  "--hyperparams JSON|@FILE [--tag K=V]..." },
	{ "versions", 1, 1, no_opts, cmd_versions, "versions MODEL" },
	{ "baseline build", 2, 2, build_opts, cmd_baseline_build,
	  "baseline build MODEL VERSION --from FILE.jsonl [--bins N]" },
	{ "baseline show", 2, 2, no_opts, cmd_baseline_show, "baseline show MODEL VERSION" },
	{ "baseline export", 2, 2, no_opts, cmd_baseline_export, "baseline export MODEL VERSION" },
	{ "baseline import", 1, 1, no_opts, cmd_baseline_import, "baseline import FILE" },
	{ "good", 2, 2, no_opts, cmd_good, "good MODEL VERSION" },
	{ "hold", 1, 1, no_opts, cmd_hold, "hold MODEL" },
	{ "release", 1, 1, no_opts, cmd_release, "release MODEL" },
	{ "rearm", 2, 2, no_opts, cmd_rearm, "rearm MODEL VERSION" },
	{ "history", 1, 1, no_opts, cmd_history, "history MODEL" },
	{ "status", 0, 1, no_opts, cmd_status, "status [MODEL]" },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
	fprintf(f, "usage: driftctl [--store SPEC] [--store-prefix P] [--json] COMMAND ...\n\n"
		   "commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s\n", commands[i].usage);
	fprintf(f,
		"\n--store dir:PATH (default $DRIFTD_STORE, else %s); --store-prefix: the Redis\n"
		"key prefix driftd uses (default $DRIFTD_STORE_PREFIX, else driftd:); --json:\n"
		"machine-readable output. Exit status: 0 done, 1 failed (not found, bad state, "
		"store error),\n"
		"2 wrong command line. Baseline files: doc/baseline.md.\n",
		DEFAULT_STORE);
}

/* Handles a global option at argv[*i]: 1 when it was one (and *i advanced past a value), 0
 * when not, -1 on a usage error. */
static int global_opt(struct ctl *c, int argc, char **argv, int *i, int *help)
{
	const char *s = argv[*i];

	if (!strcmp(s, "--json")) {
		c->json = 1;
		return 1;
	}
	if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
		*help = 1;
		return 1;
	}
	if (!strncmp(s, "--store-prefix=", 15)) {
		c->store_prefix = s + 15;
		return 1;
	}
	if (!strcmp(s, "--store-prefix")) {
		if (*i + 1 >= argc) {
			fail(c, AGENT_CTL_USAGE, "--store-prefix needs a value");
			return -1;
		}
		c->store_prefix = argv[++*i];
		return 1;
	}
	if (!strncmp(s, "--store=", 8)) {
		c->store_spec = s + 8;
		return 1;
	}
	if (!strcmp(s, "--store")) {
		if (*i + 1 >= argc) {
			fail(c, AGENT_CTL_USAGE, "--store needs a value (dir:PATH)");
			return -1;
		}
		c->store_spec = argv[++*i];
		return 1;
	}
	return 0;
}

/* Parses the command's arguments from argv[i..argc). */
static int parse_args(struct ctl *c, const struct cmddef *cmd, int argc, char **argv, int i,
		      struct args *a, int *help)
{
	int only_pos = 0;

	for (; i < argc; i++) {
		const char *s = argv[i], *eq, *val;
		const struct optdef *o;
		size_t nlen;
		int g;

		if (!only_pos && !strcmp(s, "--")) {
			only_pos = 1;
			continue;
		}
		if (only_pos || s[0] != '-' || s[1] == '\0') {
			if (a->npos == cmd->max_pos)
				return fail(c, AGENT_CTL_USAGE,
					    "unexpected argument '%s' (usage: driftctl %s)",
					    q(c, s), cmd->usage);
			a->pos[a->npos++] = s;
			continue;
		}
		if ((g = global_opt(c, argc, argv, &i, help)) != 0) {
			if (g < 0)
				return AGENT_CTL_USAGE;
			continue;
		}
		eq = strchr(s, '=');
		nlen = eq ? (size_t)(eq - s) : strlen(s);
		for (o = cmd->opts; o->name; o++)
			if (s[0] == '-' && s[1] == '-' && strlen(o->name) == nlen - 2 &&
			    !strncmp(o->name, s + 2, nlen - 2))
				break;
		if (!o->name)
			return fail(c, AGENT_CTL_USAGE, "unknown option '%s' (usage: driftctl %s)",
				    q(c, s), cmd->usage);
		if (eq) {
			val = eq + 1;
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			return fail(c, AGENT_CTL_USAGE, "--%s needs a value", o->name);
		}
		if (!o->repeat && opt_get(a, o->name))
			return fail(c, AGENT_CTL_USAGE, "--%s given twice", o->name);
		if (a->nopt == MAX_OPTS)
			return fail(c, AGENT_CTL_USAGE, "too many options");
		a->opt[a->nopt] = o->name;
		a->val[a->nopt++] = val;
	}
	if (*help)
		return AGENT_CTL_OK;
	if (a->npos < cmd->min_pos)
		return fail(c, AGENT_CTL_USAGE, "missing arguments (usage: driftctl %s)",
			    cmd->usage);
	return AGENT_CTL_OK;
}

int agent_ctl_main(int argc, char **argv, FILE *out, FILE *err)
{
	struct ctl *c = calloc(1, sizeof *c);
	const struct cmddef *cmd = NULL;
	struct args a = { 0 };
	char name[64];
	int i = 1, help = 0, rc, g;
	const char *env = getenv("DRIFTD_STORE");

	if (!c) {
		fprintf(err, "driftctl: out of memory\n");
		return AGENT_CTL_ERROR;
	}
	c->out = out;
	c->err = err;
	c->store_spec = env && env[0] ? env : DEFAULT_STORE;
	env = getenv("DRIFTD_STORE_PREFIX");
	c->store_prefix = env && env[0] ? env : NULL;
	/* global options before the command */
	for (; i < argc && argv[i][0] == '-'; i++) {
		if ((g = global_opt(c, argc, argv, &i, &help)) < 0) {
			rc = AGENT_CTL_USAGE;
			goto out;
		}
		if (g == 0) {
			rc = fail(c, AGENT_CTL_USAGE, "unknown option '%s' (see driftctl --help)",
				  q(c, argv[i]));
			goto out;
		}
	}
	if (i >= argc) {
		if (help) {
			usage(out);
			rc = AGENT_CTL_OK;
		} else {
			rc =
			    fail(c, AGENT_CTL_USAGE,
				 "no command (usage: driftctl [--store SPEC] [--json] COMMAND ...; "
				 "driftctl --help lists the commands)");
		}
		goto out;
	}
	snprintf(name, sizeof name, "%s", argv[i]);
	if (!strcmp(argv[i], "baseline")) {
		if (i + 1 >= argc || argv[i + 1][0] == '-') {
			c->cmd = "baseline";
			rc = help ? (usage(out), AGENT_CTL_OK)
				  : fail(c, AGENT_CTL_USAGE, "build, show, export or import?");
			goto out;
		}
		snprintf(name, sizeof name, "baseline %.40s", argv[++i]);
	}
	for (size_t k = 0; k < NCOMMANDS; k++)
		if (!strcmp(commands[k].name, name))
			cmd = &commands[k];
	if (!cmd) {
		rc = fail(c, AGENT_CTL_USAGE, "unknown command '%s' (see driftctl --help)",
			  q(c, name));
		goto out;
	}
	c->cmd = cmd->name;
	rc = parse_args(c, cmd, argc, argv, i + 1, &a, &help);
	if (rc != AGENT_CTL_OK)
		goto out;
	if (help) {
		fprintf(out, "usage: driftctl [--store SPEC] [--json] %s\n", cmd->usage);
		goto out;
	}
	for (size_t k = 0; k < a.npos; k++) {
		if (valid_name(a.pos[k]) || !strcmp(cmd->name, "baseline import"))
			continue;
		rc = fail(c, AGENT_CTL_USAGE, "'%s': names are 1 to %u bytes of UTF-8 text",
			  q(c, a.pos[k]), MAX_NAME);
		goto out;
	}
	rc = cmd->run(c, &a);
out:
	conn_store_close(c->store);
	fflush(out);
	fflush(err);
	free(c);
	return rc;
}

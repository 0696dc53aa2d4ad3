/*
 * admin.c -- the version registry and its admin operations (see admin.h): the store handle and
 * its messages, the required-metadata rule of a registration, the baseline build, load and
 * import, good / hold / release / rearm, history and status, and the audit trail.
 *
 * Messages name models, versions, paths and hashes through q() (agent_admin_printable), so a
 * hostile name cannot forge a line wherever the message is shown. The store spec is read by
 * connectors/endpoint.h and only ever shown masked (agent_admin_store: the password as "***").
 */
#include "agent/admin.h"
#include "agent/json_out.h"
#include "agent/timefmt.h"
#include "connectors/endpoint.h"
#include "connectors/io.h"
#include "connectors/text.h"

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_HASH	   1024u	      /* training-data hash, bytes */
#define MAX_TAG_KEY	   256u		      /* a tag's key, bytes + NUL */
#define MAX_JSON_ARG	   ((size_t)16 << 20) /* feature params or hyperparams @FILE */
#define MAX_BASELINE	   ((size_t)64 << 20) /* a baseline file to import */
#define ACCURACY_THRESHOLD 0.5 /* numeric predictions against 0/1 labels (accuracy.h) */
#define DOC_FLAGS	   (JSON_COMPACT | JSON_REAL_PRECISION(17))
#define QBUFS		   8

/* ---- the handle, messages ---- */

struct agent_admin {
	char *store_spec;			     /* copied */
	char *store_shown;			     /* the spec, its password masked */
	char *store_prefix;			     /* copied, or NULL (default) */
	struct conn_store *store;		     /* opened on first use */
	char err[16384];			     /* the last message */
	char qbuf[QBUFS][AGENT_ADMIN_PRINTABLE_LEN]; /* q()'s rotating buffers */
	unsigned qnext;
};

struct agent_admin *agent_admin_new(const char *store_spec, const char *store_prefix)
{
	struct agent_admin *a = calloc(1, sizeof *a);
	size_t shown = conn_endpoint_mask(store_spec, NULL, 0) + 1;

	if (!a)
		return NULL;
	a->store_spec = strdup(store_spec);
	a->store_prefix = store_prefix ? strdup(store_prefix) : NULL;
	a->store_shown = malloc(shown);
	if (!a->store_spec || (store_prefix && !a->store_prefix) || !a->store_shown) {
		agent_admin_free(a);
		return NULL;
	}
	conn_endpoint_mask(store_spec, a->store_shown, shown);
	return a;
}

void agent_admin_free(struct agent_admin *a)
{
	if (!a)
		return;
	conn_store_close(a->store);
	free(a->store_spec);
	free(a->store_shown);
	free(a->store_prefix);
	free(a);
}

const char *agent_admin_error(const struct agent_admin *a)
{
	return a->err;
}

const char *agent_admin_store(const struct agent_admin *a)
{
	return a->store_shown;
}

const char *agent_admin_printable(const char *s, char *b)
{
	int utf8 = conn_text_utf8_valid(s, strlen(s));
	size_t o = 0;

	for (size_t i = 0; s[i] && i < AGENT_ADMIN_PRINTABLE_MAX; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch == 0x7f || ch == '\\' || (ch >= 0x80 && !utf8))
			o += (size_t)snprintf(b + o, 5, ch == '\\' ? "\\\\" : "\\x%02x", ch);
		else
			b[o++] = (char)ch;
	}
	if (strlen(s) > AGENT_ADMIN_PRINTABLE_MAX)
		b[o++] = '~';
	b[o] = '\0';
	return b;
}

/* s made printable, valid until QBUFS more calls. */
static const char *q(struct agent_admin *a, const char *s)
{
	return agent_admin_printable(s, a->qbuf[a->qnext++ % QBUFS]);
}

static enum agent_admin_result fail(struct agent_admin *a, enum agent_admin_result r,
				    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Sets the handle's message; returns r. */
static enum agent_admin_result fail(struct agent_admin *a, enum agent_admin_result r,
				    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->err, sizeof a->err, fmt, ap);
	va_end(ap);
	return r;
}

static enum agent_admin_result nomem(struct agent_admin *a)
{
	return fail(a, AGENT_ADMIN_FAILED, "out of memory");
}

/* A store call failed: the message names the operation (what, "reading the hold") and the
 * store's own error. */
static enum agent_admin_result store_fail(struct agent_admin *a, const char *what)
{
	return fail(a, AGENT_ADMIN_FAILED, "store: %s: %s", what, conn_store_error(a->store));
}

static enum agent_admin_result open_store(struct agent_admin *a)
{
	struct conn_endpoint ep;
	char errbuf[512];

	if (a->store)
		return AGENT_ADMIN_OK;
	/* the one grammar first: its messages never quote the spec (nor its password) */
	if (conn_endpoint_parse(a->store_spec, CONN_ENDPOINT_STORE, &ep, errbuf, sizeof errbuf) < 0)
		return fail(a, AGENT_ADMIN_FAILED, "store: %s", q(a, errbuf));
	conn_endpoint_free(&ep);
	a->store = conn_store_open(a->store_spec, errbuf, sizeof errbuf);
	if (!a->store)
		return fail(a, AGENT_ADMIN_FAILED, "%s", q(a, errbuf));
	if (a->store_prefix && conn_store_set_prefix(a->store, a->store_prefix) < 0)
		return store_fail(a, "setting the key prefix");
	return AGENT_ADMIN_OK;
}

int agent_admin_valid_name(const char *s)
{
	size_t n = strlen(s);
	json_t *j;

	if (n == 0 || n > AGENT_ADMIN_MAX_NAME)
		return 0;
	j = json_string(s);
	json_decref(j);
	return j != NULL;
}

/* *doc = j when j is not NULL, else no memory. */
static enum agent_admin_result give(struct agent_admin *a, json_t *j, json_t **doc)
{
	if (!j)
		return nomem(a);
	if (doc)
		*doc = j;
	else
		json_decref(j);
	return AGENT_ADMIN_OK;
}

/* ---- store reads ---- */

/* The registration document of (model, version): OK with *doc (and *text when not NULL, the
 * raw JSON, caller frees), failed with a message when it is not registered or on error. */
static enum agent_admin_result get_registration(struct agent_admin *a, const char *model,
						const char *version, json_t **doc, char **text)
{
	struct conn_blob b = { 0 };
	int rc = conn_store_version_get(a->store, model, version, &b);

	*doc = NULL;
	if (rc < 0)
		return store_fail(a, "reading the registration");
	if (rc == 1)
		return fail(a, AGENT_ADMIN_FAILED,
			    "%s %s is not registered (driftctl register MODEL VERSION ...)",
			    q(a, model), q(a, version));
	*doc = json_loadb(b.data, b.len, 0, NULL);
	if (!json_is_object(*doc)) {
		json_decref(*doc);
		*doc = NULL;
		free(b.data);
		return fail(a, AGENT_ADMIN_FAILED, "the registration of %s %s is not a JSON object",
			    q(a, model), q(a, version));
	}
	if (text)
		*text = b.data;
	else
		free(b.data);
	return AGENT_ADMIN_OK;
}

/* A list of names read from the store (versions with their registration times, or models). */
struct names {
	char **name;
	int64_t *ms;
	size_t n, cap;
	int nomem;
};

/* Appends a copy of name (and ms); non-zero on no memory (which stops the store's listing). */
static int names_add(void *arg, const char *name, int64_t ms)
{
	struct names *l = arg;

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
	l->name[l->n] = strdup(name);
	if (!l->name[l->n])
		goto nomem;
	l->ms[l->n++] = ms;
	return 0;
nomem:
	l->nomem = 1;
	return 1;
}

/* The callback of conn_store_models: the models go into the same list, without a time. */
static int names_add_model(void *arg, const char *model)
{
	return names_add(arg, model, 0);
}

static void names_free(struct names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->name[i]);
	free(l->name);
	free(l->ms);
}

static enum agent_admin_result get_versions(struct agent_admin *a, const char *model,
					    struct names *l)
{
	memset(l, 0, sizeof *l);
	if (conn_store_versions(a->store, model, names_add, l) < 0)
		return store_fail(a, "listing the versions");
	if (l->nomem)
		return nomem(a);
	return AGENT_ADMIN_OK;
}

static enum agent_admin_result no_version(struct agent_admin *a, const char *model)
{
	return fail(a, AGENT_ADMIN_FAILED, "model %s has no registered version", q(a, model));
}

/* OK when the model has a registered version, failed with a message otherwise. */
static enum agent_admin_result need_model(struct agent_admin *a, const char *model)
{
	struct names l;
	enum agent_admin_result rc = get_versions(a, model, &l);

	if (rc == AGENT_ADMIN_OK && l.n == 0)
		rc = no_version(a, model);
	names_free(&l);
	return rc;
}

/* The last known good version (malloc'd) or NULL in *good. */
static enum agent_admin_result get_good(struct agent_admin *a, const char *model, char **good)
{
	struct conn_blob b = { 0 };
	int rc = conn_store_good_get(a->store, model, &b);

	*good = NULL;
	if (rc < 0)
		return store_fail(a, "reading the good version");
	if (rc == 0)
		*good = b.data;
	return AGENT_ADMIN_OK;
}

/* *has = whether (model, version) has a stored baseline. */
static enum agent_admin_result has_baseline(struct agent_admin *a, const char *model,
					    const char *version, int *has)
{
	struct conn_blob b = { 0 };
	int rc = conn_store_baseline_get(a->store, model, version, &b);

	if (rc < 0)
		return store_fail(a, "reading the baseline");
	free(b.data);
	*has = rc == 0;
	return AGENT_ADMIN_OK;
}

/* Reads a whole file (or stdin for "-"), at most max bytes, NUL-terminated. */
static enum agent_admin_result read_file(struct agent_admin *a, const char *path, size_t max,
					 char **out, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	size_t cap = 65536, n = 0;
	char *buf = NULL;
	enum agent_admin_result rc = AGENT_ADMIN_OK;

	*out = NULL;
	if (!f)
		return fail(a, AGENT_ADMIN_FAILED, "%s: %s", q(a, path), strerror(errno));
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
				rc = nomem(a);
				goto out;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n > max) {
			rc = fail(a, AGENT_ADMIN_FAILED, "%s: larger than %zu bytes", q(a, path),
				  max);
			goto out;
		}
		if (got == 0)
			break;
	}
	if (ferror(f))
		rc = fail(a, AGENT_ADMIN_FAILED, "%s: read error", q(a, path));
out:
	if (f != stdin)
		fclose(f);
	if (rc != AGENT_ADMIN_OK) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return AGENT_ADMIN_OK;
}

/* ---- the audit trail ---- */

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
static enum agent_admin_result audit(struct agent_admin *a, const char *model, const char *type,
				     json_t *fields)
{
	json_t *e = json_object();
	char t[AGENT_TIME_LEN], tbuf[64], ubuf[128], *line = NULL;
	int64_t now = agent_time_now_ms();
	int bad = !e || !fields, rc;

	agent_time_format(now, t);
	snprintf(tbuf, sizeof tbuf, "driftctl.%s", type);
	bad |= agent_json_set(e, "type", json_string(tbuf));
	bad |= agent_json_set(e, "time", json_string(t));
	bad |= agent_json_set(e, "time_ms", json_integer(now));
	bad |= agent_json_set(e, "model", json_string(model));
	if (!bad)
		bad |= json_object_update(e, fields) != 0;
	bad |= agent_json_set(e, "user", json_string(user_name(ubuf, sizeof ubuf)));
	json_decref(fields);
	if (!bad)
		line = json_dumps(e, DOC_FLAGS);
	json_decref(e);
	if (!line)
		return nomem(a);
	rc = conn_store_history_append(a->store, model, line, strlen(line));
	free(line);
	if (rc < 0)
		return fail(a, AGENT_ADMIN_FAILED,
			    "done, but the history entry was not written: %s",
			    conn_store_error(a->store));
	return AGENT_ADMIN_OK;
}

/* ---- register: the required-metadata rule ---- */

/* A JSON object given inline or as @FILE; refused when it is not one. */
static enum agent_admin_result json_arg(struct agent_admin *a, const char *opt, const char *arg,
					json_t **out)
{
	json_error_t je;
	char *text = NULL;
	size_t len = 0;
	enum agent_admin_result rc;

	*out = NULL;
	if (arg[0] == '@') {
		rc = read_file(a, arg + 1, MAX_JSON_ARG, &text, &len);
		if (rc != AGENT_ADMIN_OK)
			return rc;
		*out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
		free(text);
	} else {
		*out = json_loads(arg, JSON_REJECT_DUPLICATES, &je);
	}
	if (!*out)
		return fail(a, AGENT_ADMIN_REFUSED, "--%s: not valid JSON (%s, column %d)", opt,
			    je.text, je.column);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return fail(a, AGENT_ADMIN_REFUSED, "--%s must be a JSON object", opt);
	}
	return AGENT_ADMIN_OK;
}

/* The tags "KEY=VALUE" as an object in *out. */
static enum agent_admin_result tags_arg(struct agent_admin *a, const struct agent_admin_version *v,
					json_t **out)
{
	json_t *tags = json_object();

	*out = NULL;
	if (!tags)
		return nomem(a);
	for (size_t i = 0; i < v->ntags; i++) {
		const char *kv = v->tags[i], *eq = strchr(kv, '=');
		char key[MAX_TAG_KEY];
		enum agent_admin_result rc = AGENT_ADMIN_OK;

		if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof key) {
			rc = fail(a, AGENT_ADMIN_REFUSED,
				  "--tag wants KEY=VALUE (a key of 1 to 255 bytes)");
		} else {
			memcpy(key, kv, (size_t)(eq - kv));
			key[eq - kv] = '\0';
			if (json_object_get(tags, key))
				rc =
				    fail(a, AGENT_ADMIN_REFUSED, "--tag %s given twice", q(a, key));
			else if (!agent_admin_valid_name(key) ||
				 json_object_set_new(tags, key, json_string(eq + 1)) != 0)
				rc = fail(a, AGENT_ADMIN_REFUSED, "--tag: not UTF-8 text");
		}
		if (rc != AGENT_ADMIN_OK) {
			json_decref(tags);
			return rc;
		}
	}
	*out = tags;
	return AGENT_ADMIN_OK;
}

/* The required-metadata rule: hash, feature params and hyperparams present and valid, tags
 * well formed. */
static enum agent_admin_result check_metadata(struct agent_admin *a,
					      const struct agent_admin_version *v, json_t **jfp,
					      json_t **jhp, json_t **tags)
{
	const char *hash = v->training_data_hash;
	enum agent_admin_result rc;

	if (!agent_admin_valid_name(v->model) || !agent_admin_valid_name(v->version))
		return fail(a, AGENT_ADMIN_REFUSED, "'%s': names are 1 to %u bytes of UTF-8 text",
			    q(a, agent_admin_valid_name(v->model) ? v->version : v->model),
			    AGENT_ADMIN_MAX_NAME);
	if (!hash || !v->feature_params || !v->hyperparams)
		return fail(a, AGENT_ADMIN_REFUSED,
			    "refused: every version must carry --training-data-hash, "
			    "--feature-params and --hyperparams (missing %s)",
			    !hash		 ? "--training-data-hash"
			    : !v->feature_params ? "--feature-params"
						 : "--hyperparams");
	if (!hash[0] || !agent_admin_valid_name(hash) || strlen(hash) > MAX_HASH)
		return fail(a, AGENT_ADMIN_REFUSED,
			    "--training-data-hash must be 1 to 1024 bytes of UTF-8 text");
	if ((rc = json_arg(a, "feature-params", v->feature_params, jfp)) != AGENT_ADMIN_OK ||
	    (rc = json_arg(a, "hyperparams", v->hyperparams, jhp)) != AGENT_ADMIN_OK ||
	    (rc = tags_arg(a, v, tags)) != AGENT_ADMIN_OK)
		return rc;
	return AGENT_ADMIN_OK;
}

enum agent_admin_result agent_admin_register(struct agent_admin *a,
					     const struct agent_admin_version *v, json_t **out)
{
	json_t *doc = NULL, *jfp = NULL, *jhp = NULL, *tags = NULL;
	char t[AGENT_TIME_LEN], *text = NULL;
	int64_t now;
	enum agent_admin_result rc = check_metadata(a, v, &jfp, &jhp, &tags);

	if (rc != AGENT_ADMIN_OK || (rc = open_store(a)) != AGENT_ADMIN_OK)
		goto out;
	now = agent_time_now_ms();
	agent_time_format(now, t);
	doc = json_object();
	if (!doc || agent_json_set(doc, "model", json_string(v->model)) ||
	    agent_json_set(doc, "version", json_string(v->version)) ||
	    agent_json_set(doc, "registered", json_string(t)) ||
	    agent_json_set(doc, "registered_ms", json_integer(now)) ||
	    agent_json_set(doc, "training_data_hash", json_string(v->training_data_hash)) ||
	    agent_json_set(doc, "feature_params", json_incref(jfp)) ||
	    agent_json_set(doc, "hyperparams", json_incref(jhp)) ||
	    agent_json_set(doc, "tags", json_incref(tags)) ||
	    !(text = json_dumps(doc, DOC_FLAGS))) {
		rc = nomem(a);
		goto out;
	}
	switch (conn_store_version_put(a->store, v->model, v->version, text, strlen(text), now)) {
	case 0:
		break;
	case 2:
		rc = fail(a, AGENT_ADMIN_FAILED, "%s %s is already registered", q(a, v->model),
			  q(a, v->version));
		goto out;
	default:
		rc = store_fail(a, "registering the version");
		goto out;
	}
	rc = audit(a, v->model, "register",
		   json_pack("{s:s, s:s}", "version", v->version, "training_data_hash",
			     v->training_data_hash));
	if (rc == AGENT_ADMIN_OK) {
		rc = give(a, doc, out);
		doc = NULL;
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

/* The versions entry of version i of l. */
static enum agent_admin_result version_entry(struct agent_admin *a, const char *model,
					     const struct names *l, size_t i, const char *good,
					     json_t **out)
{
	char t[AGENT_TIME_LEN];
	json_t *doc = NULL;
	int latched = 0, base = 0, isgood = good && strcmp(good, l->name[i]) == 0;
	enum agent_admin_result rc = get_registration(a, model, l->name[i], &doc, NULL);

	*out = NULL;
	if (rc != AGENT_ADMIN_OK)
		return rc;
	if (conn_store_latch_get(a->store, model, l->name[i], &latched) < 0)
		rc = store_fail(a, "reading a latch");
	else
		rc = has_baseline(a, model, l->name[i], &base);
	if (rc == AGENT_ADMIN_OK) {
		agent_time_format(l->ms[i], t);
		*out = json_pack("{s:s, s:s, s:I, s:o, s:b, s:b, s:b}", "version", l->name[i],
				 "registered", t, "registered_ms", (json_int_t)l->ms[i],
				 "training_data_hash",
				 agent_json_str_or_null(
				     json_string_value(json_object_get(doc, "training_data_hash"))),
				 "good", isgood, "latched", latched, "baseline", base);
		if (!*out)
			rc = nomem(a);
	}
	json_decref(doc);
	return rc;
}

enum agent_admin_result agent_admin_versions(struct agent_admin *a, const char *model, json_t **doc)
{
	struct names l = { 0 };
	json_t *arr = NULL, *v;
	char *good = NULL;
	enum agent_admin_result rc = open_store(a);

	if (rc != AGENT_ADMIN_OK || (rc = get_versions(a, model, &l)) != AGENT_ADMIN_OK)
		goto out;
	if (l.n == 0) {
		rc = no_version(a, model);
		goto out;
	}
	if ((rc = get_good(a, model, &good)) != AGENT_ADMIN_OK)
		goto out;
	if (!(arr = json_array())) {
		rc = nomem(a);
		goto out;
	}
	for (size_t i = 0; i < l.n; i++) {
		if ((rc = version_entry(a, model, &l, i, good, &v)) != AGENT_ADMIN_OK)
			goto out;
		if (json_array_append_new(arr, v) != 0) {
			rc = nomem(a);
			goto out;
		}
	}
	rc = give(a, json_pack("{s:s, s:O}", "model", model, "versions", arr), doc);
out:
	json_decref(arr);
	free(good);
	names_free(&l);
	return rc;
}

/* ---- baseline build ---- */

/* Feeds every record of `from` of (model, version) to bb, counting what is not. */
static enum agent_admin_result build_read(struct agent_admin *a, const char *model,
					  const char *version, const char *from,
					  struct agent_baseline_builder *bb,
					  struct agent_admin_build *st)
{
	size_t mlen = strlen(model), vlen = strlen(version);
	struct conn_decoder *dec = NULL;
	struct conn_source *src = NULL;
	struct conn_limits lim;
	struct conn_msg msgs[64];
	char errbuf[512], *spec = NULL;
	enum agent_admin_result rc = AGENT_ADMIN_OK;
	int n;

	conn_limits_default(&lim);
	dec = conn_decoder_new(CONN_DECODER_AUTO, &lim, errbuf, sizeof errbuf);
	if (!dec)
		return fail(a, AGENT_ADMIN_FAILED, "decoder: %s", errbuf);
	spec = malloc(strlen(from) + 6);
	if (!spec) {
		rc = nomem(a);
		goto out;
	}
	snprintf(spec, strlen(from) + 6, "file:%s", from);
	src = conn_source_open(spec, lim.max_message, errbuf, sizeof errbuf);
	if (!src) {
		rc = fail(a, AGENT_ADMIN_FAILED, "%s", q(a, errbuf));
		goto out;
	}
	while ((n = conn_source_next(src, msgs, 64)) > 0) {
		for (int i = 0; i < n; i++) {
			struct conn_record r;
			enum conn_reject why =
			    msgs[i].oversized ? CONN_REJECT_TOO_LARGE
					      : conn_decode(dec, msgs[i].data, msgs[i].len, &r);

			st->lines++;
			if (why != CONN_REJECT_NONE) {
				if (st->rejected[why]++ == 0)
					st->first_rejected[why] = (uint64_t)msgs[i].offset;
				st->rejected_total++;
				continue;
			}
			if (r.model_len != mlen || memcmp(r.model, model, mlen) != 0 ||
			    r.version_len != vlen || memcmp(r.version, version, vlen) != 0) {
				st->skipped++;
				continue;
			}
			if (agent_baseline_builder_add(bb, &r) < 0) {
				rc = nomem(a);
				goto out;
			}
		}
	}
	if (n < 0)
		rc = fail(a, AGENT_ADMIN_FAILED, "%s: %s", q(a, from), conn_source_error(src));
out:
	conn_source_close(src);
	conn_decoder_free(dec);
	free(spec);
	return rc;
}

enum agent_admin_result agent_admin_baseline_build(struct agent_admin *a, const char *model,
						   const char *version, const char *from,
						   size_t bins, struct agent_admin_build *st)
{
	struct agent_baseline_builder *bb = NULL;
	struct agent_baseline *b = NULL;
	json_t *doc = NULL;
	char *reg = NULL, *text = NULL, errbuf[512];
	enum agent_admin_result rc;

	memset(st, 0, sizeof *st);
	st->bins = bins ? bins : AGENT_ADMIN_DEFAULT_BINS;
	if (st->bins > STATS_HIST_MAX_BINS)
		return fail(a, AGENT_ADMIN_REFUSED, "--bins must be an integer from 1 to %u",
			    STATS_HIST_MAX_BINS);
	if ((rc = open_store(a)) != AGENT_ADMIN_OK ||
	    (rc = get_registration(a, model, version, &doc, &reg)) != AGENT_ADMIN_OK)
		goto out;
	bb = agent_baseline_builder_new(model, version, st->bins, 0, ACCURACY_THRESHOLD);
	if (!bb) {
		rc = nomem(a);
		goto out;
	}
	if ((rc = build_read(a, model, version, from, bb, st)) != AGENT_ADMIN_OK)
		goto out;
	b = agent_baseline_builder_finish(bb, agent_time_now_ms(), errbuf, sizeof errbuf);
	bb = NULL;
	if (!b && st->lines == st->rejected_total + st->skipped) {
		rc =
		    fail(a, AGENT_ADMIN_FAILED,
			 "%s: no record of %s %s to build from (%llu lines: %llu rejected, %llu of "
			 "other models or versions)",
			 q(a, from), q(a, model), q(a, version), (unsigned long long)st->lines,
			 (unsigned long long)st->rejected_total, (unsigned long long)st->skipped);
		goto out;
	}
	if (!b) {
		rc = fail(a, AGENT_ADMIN_FAILED, "%s", errbuf);
		goto out;
	}
	b->metadata = reg;
	reg = NULL;
	if (!(text = agent_baseline_to_json(b))) {
		rc = nomem(a);
		goto out;
	}
	if (conn_store_baseline_put(a->store, model, version, text, strlen(text)) < 0) {
		rc = store_fail(a, "writing the baseline");
		goto out;
	}
	st->samples = b->samples;
	st->features = b->nfeatures;
	st->created_ms = b->created_ms;
	st->has_prediction = b->has_prediction;
	st->categorical_prediction = b->has_prediction && b->prediction.categorical;
	rc = audit(a, model, "baseline.build",
		   json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "version", version, "source",
			     q(a, from), "samples", (json_int_t)b->samples, "lines",
			     (json_int_t)st->lines, "rejected", (json_int_t)st->rejected_total,
			     "skipped", (json_int_t)st->skipped));
out:
	if (bb)
		agent_baseline_free(agent_baseline_builder_finish(bb, 0, NULL, 0));
	agent_baseline_free(b);
	json_decref(doc);
	free(reg);
	free(text);
	return rc;
}

/* ---- baseline get, import ---- */

enum agent_admin_result agent_admin_baseline_get(struct agent_admin *a, const char *model,
						 const char *version, struct agent_baseline **out,
						 struct conn_blob *raw)
{
	struct conn_blob blob = { 0 };
	char errbuf[512];
	int rc;

	*out = NULL;
	if ((rc = open_store(a)) != AGENT_ADMIN_OK)
		return rc;
	rc = conn_store_baseline_get(a->store, model, version, &blob);
	if (rc < 0)
		return store_fail(a, "reading the baseline");
	if (rc == 1)
		return fail(a, AGENT_ADMIN_FAILED,
			    "%s %s has no baseline (driftctl baseline build or import)",
			    q(a, model), q(a, version));
	*out = agent_baseline_from_json(blob.data, blob.len, errbuf, sizeof errbuf);
	if (!*out) {
		free(blob.data);
		return fail(a, AGENT_ADMIN_FAILED, "the stored baseline of %s %s is invalid: %s",
			    q(a, model), q(a, version), errbuf);
	}
	if (raw)
		*raw = blob;
	else
		free(blob.data);
	return AGENT_ADMIN_OK;
}

/* Refuses a baseline of other training data than the registered version (failed). */
static enum agent_admin_result same_training_data(struct agent_admin *a, const char *path,
						  const struct agent_baseline *b, json_t *reg)
{
	json_t *meta = json_loads(b->metadata, 0, NULL);
	const char *h1 = json_string_value(json_object_get(meta, "training_data_hash"));
	const char *h2 = json_string_value(json_object_get(reg, "training_data_hash"));
	enum agent_admin_result rc = AGENT_ADMIN_OK;

	if (h1 && h2 && strcmp(h1, h2) != 0)
		rc = fail(a, AGENT_ADMIN_FAILED,
			  "%s: the baseline's training_data_hash (%s) differs from the "
			  "registered one of %s %s (%s)",
			  q(a, path), q(a, h1), q(a, b->model), q(a, b->version), q(a, h2));
	json_decref(meta);
	return rc;
}

enum agent_admin_result agent_admin_baseline_import(struct agent_admin *a, const char *path,
						    json_t **doc)
{
	struct agent_baseline *b = NULL;
	json_t *reg = NULL;
	char *text = NULL, *reg_text = NULL, *out = NULL, errbuf[512];
	size_t len = 0;
	enum agent_admin_result rc = read_file(a, path, MAX_BASELINE, &text, &len);

	if (rc != AGENT_ADMIN_OK)
		return rc;
	b = agent_baseline_from_json(text, len, errbuf, sizeof errbuf);
	if (!b) {
		rc =
		    fail(a, AGENT_ADMIN_FAILED, "%s: not a valid baseline: %s", q(a, path), errbuf);
		goto out;
	}
	if ((rc = open_store(a)) != AGENT_ADMIN_OK ||
	    (rc = get_registration(a, b->model, b->version, &reg, &reg_text)) != AGENT_ADMIN_OK)
		goto out;
	if (b->metadata) {
		if ((rc = same_training_data(a, path, b, reg)) != AGENT_ADMIN_OK)
			goto out;
	} else {
		b->metadata = reg_text;
		reg_text = NULL;
	}
	if (!(out = agent_baseline_to_json(b))) {
		rc = nomem(a);
		goto out;
	}
	if (conn_store_baseline_put(a->store, b->model, b->version, out, strlen(out)) < 0) {
		rc = store_fail(a, "writing the baseline");
		goto out;
	}
	rc = audit(a, b->model, "baseline.import",
		   json_pack("{s:s, s:s, s:I}", "version", b->version, "source", q(a, path),
			     "samples", (json_int_t)b->samples));
	if (rc == AGENT_ADMIN_OK)
		rc = give(a,
			  json_pack("{s:s, s:s, s:s, s:I, s:I}", "model", b->model, "version",
				    b->version, "source", q(a, path), "samples",
				    (json_int_t)b->samples, "features", (json_int_t)b->nfeatures),
			  doc);
out:
	agent_baseline_free(b);
	json_decref(reg);
	free(text);
	free(reg_text);
	free(out);
	return rc;
}

/* ---- good, hold, release, rearm ---- */

enum agent_admin_result agent_admin_good(struct agent_admin *a, const char *model,
					 const char *version, json_t **doc)
{
	json_t *reg = NULL;
	char *prev = NULL;
	int base = 0;
	enum agent_admin_result rc = open_store(a);

	if (rc != AGENT_ADMIN_OK || (rc = get_registration(a, model, version, &reg, NULL)) ||
	    (rc = get_good(a, model, &prev)) || (rc = has_baseline(a, model, version, &base)))
		goto out;
	if (conn_store_good_set(a->store, model, version) < 0) {
		rc = store_fail(a, "writing the good version");
		goto out;
	}
	rc = audit(
	    a, model, "good",
	    json_pack("{s:s, s:o}", "version", version, "previous", agent_json_str_or_null(prev)));
	if (rc == AGENT_ADMIN_OK)
		rc = give(a,
			  json_pack("{s:s, s:s, s:o, s:b}", "model", model, "good", version,
				    "previous", agent_json_str_or_null(prev), "baseline", base),
			  doc);
out:
	json_decref(reg);
	free(prev);
	return rc;
}

enum agent_admin_result agent_admin_hold(struct agent_admin *a, const char *model, int on,
					 json_t **doc)
{
	int prev = 0;
	enum agent_admin_result rc = open_store(a);

	on = !!on;
	if (rc != AGENT_ADMIN_OK || (rc = need_model(a, model)) != AGENT_ADMIN_OK)
		return rc;
	if (conn_store_hold_get(a->store, model, &prev) < 0 ||
	    conn_store_hold_set(a->store, model, on) < 0)
		return store_fail(a, "setting the hold");
	rc = audit(a, model, on ? "hold" : "release", json_pack("{s:b}", "was_on_hold", prev));
	if (rc != AGENT_ADMIN_OK)
		return rc;
	return give(a,
		    json_pack("{s:s, s:b, s:b}", "model", model, "hold", on, "changed", prev != on),
		    doc);
}

enum agent_admin_result agent_admin_rearm(struct agent_admin *a, const char *model,
					  const char *version, json_t **doc)
{
	json_t *reg = NULL;
	int was = 0;
	enum agent_admin_result rc = open_store(a);

	if (rc != AGENT_ADMIN_OK || (rc = get_registration(a, model, version, &reg, NULL)))
		goto out;
	if (conn_store_latch_get(a->store, model, version, &was) < 0 ||
	    conn_store_latch_set(a->store, model, version, 0) < 0) {
		rc = store_fail(a, "clearing the latch");
		goto out;
	}
	rc = audit(a, model, "rearm",
		   json_pack("{s:s, s:b}", "version", version, "was_latched", was));
	if (rc == AGENT_ADMIN_OK)
		rc = give(a,
			  json_pack("{s:s, s:s, s:b}", "model", model, "version", version,
				    "was_latched", was),
			  doc);
out:
	json_decref(reg);
	return rc;
}

/* ---- history ---- */

struct hist_ctx {
	agent_admin_entry_fn fn;
	void *arg;
	size_t n;
	int stopped;
};

static int history_entry(void *arg, const char *doc, size_t len)
{
	struct hist_ctx *h = arg;

	h->n++;
	if (h->fn(h->arg, doc, len) != 0) {
		h->stopped = 1;
		return 1;
	}
	return 0;
}

enum agent_admin_result agent_admin_history(struct agent_admin *a, const char *model,
					    agent_admin_entry_fn fn, void *arg)
{
	struct hist_ctx h = { .fn = fn, .arg = arg };
	enum agent_admin_result rc = open_store(a);

	if (rc != AGENT_ADMIN_OK)
		return rc;
	if (conn_store_history(a->store, model, history_entry, &h) < 0 && !h.stopped)
		return store_fail(a, "reading the history");
	if (h.stopped)
		return fail(a, AGENT_ADMIN_FAILED, "stopped by the caller");
	return h.n == 0 ? need_model(a, model) : AGENT_ADMIN_OK;
}

/* ---- status ---- */

/* The latched versions and those with a baseline of l in two arrays; *good_base: whether the
 * good version has a baseline. */
static enum agent_admin_result version_flags(struct agent_admin *a, const char *model,
					     const struct names *l, const char *good,
					     json_t *latched, json_t *bases, int *good_base)
{
	*good_base = 0;
	for (size_t i = 0; i < l->n; i++) {
		int on = 0, base = 0;
		enum agent_admin_result rc;

		if (conn_store_latch_get(a->store, model, l->name[i], &on) < 0)
			return store_fail(a, "reading a latch");
		if ((rc = has_baseline(a, model, l->name[i], &base)) != AGENT_ADMIN_OK)
			return rc;
		if ((on && json_array_append_new(latched, json_string(l->name[i]))) ||
		    (base && json_array_append_new(bases, json_string(l->name[i]))))
			return nomem(a);
		if (good && base && strcmp(good, l->name[i]) == 0)
			*good_base = 1;
	}
	return AGENT_ADMIN_OK;
}

/* The status of one model; the store is open. */
static enum agent_admin_result model_status(struct agent_admin *a, const char *model, json_t **out)
{
	struct names l = { 0 };
	json_t *latched = json_array(), *bases = json_array(), *cooldown = NULL;
	char *good = NULL, t[AGENT_TIME_LEN] = "", ct[AGENT_TIME_LEN];
	int hold = 0, good_base = 0;
	int64_t cool = 0;
	enum agent_admin_result rc = get_versions(a, model, &l);

	if (rc != AGENT_ADMIN_OK)
		goto out;
	if (l.n == 0) {
		rc = no_version(a, model);
		goto out;
	}
	if (!latched || !bases) {
		rc = nomem(a);
		goto out;
	}
	if ((rc = get_good(a, model, &good)) != AGENT_ADMIN_OK)
		goto out;
	if (conn_store_hold_get(a->store, model, &hold) < 0) {
		rc = store_fail(a, "reading the hold");
		goto out;
	}
	switch (conn_store_cooldown_get(a->store, model, &cool)) {
	case 0:
		agent_time_format(cool, ct);
		cooldown = json_string(ct);
		break;
	case 1:
		cooldown = json_null();
		break;
	default:
		rc = store_fail(a, "reading the cooldown");
		goto out;
	}
	rc = version_flags(a, model, &l, good, latched, bases, &good_base);
	if (rc != AGENT_ADMIN_OK)
		goto out;
	agent_time_format(l.ms[l.n - 1], t);
	rc = give(a,
		  json_pack("{s:s, s:I, s:s, s:s, s:o, s:b, s:b, s:O, s:O, s:O}", "model", model,
			    "versions", (json_int_t)l.n, "latest", l.name[l.n - 1],
			    "latest_registered", t, "good", agent_json_str_or_null(good),
			    "good_has_baseline", good_base, "hold", hold, "latched", latched,
			    "baselines", bases, "last_rollback_window_end", cooldown),
		  out);
out:
	json_decref(latched);
	json_decref(bases);
	json_decref(cooldown);
	free(good);
	names_free(&l);
	return rc;
}

enum agent_admin_result agent_admin_status(struct agent_admin *a, const char *model, json_t **doc)
{
	enum agent_admin_result rc = open_store(a);

	if (rc != AGENT_ADMIN_OK)
		return rc;
	return model_status(a, model, doc);
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

enum agent_admin_result agent_admin_status_all(struct agent_admin *a, json_t **doc)
{
	struct names m = { 0 };
	json_t *one = NULL, *arr = NULL;
	enum agent_admin_result rc = open_store(a);

	if (rc != AGENT_ADMIN_OK)
		return rc;
	if (conn_store_models(a->store, names_add_model, &m) < 0) {
		rc = store_fail(a, "listing the models");
		goto out;
	}
	if (m.nomem || !(arr = json_array())) {
		rc = nomem(a);
		goto out;
	}
	if (m.n) /* qsort's pointer must not be NULL, even for 0 elements */
		qsort(m.name, m.n, sizeof *m.name, cmp_str);
	for (size_t i = 0; i < m.n; i++) {
		if ((rc = model_status(a, m.name[i], &one)) != AGENT_ADMIN_OK)
			goto out;
		if (json_array_append_new(arr, one) != 0) {
			rc = nomem(a);
			goto out;
		}
	}
	rc = give(a, json_pack("{s:s, s:O}", "store", q(a, a->store_shown), "models", arr), doc);
out:
	json_decref(arr);
	names_free(&m);
	return rc;
}

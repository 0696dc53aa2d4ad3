/*
 * config_load.c -- the loaders (see config.h): a JSON document (a file or a string, parsed by
 * jsonpos.c so that every message points at its key or value as "FILE:LINE:COL: message"), the
 * DRIFTD_* environment and the command-line flags, each applied to a copy of the configuration
 * that replaces it only on success; and the "did you mean" suggestions for an unknown key,
 * variable or flag (the closest name within two edits).
 *
 * A document is parsed completely before anything is applied: a syntax error anywhere is reported
 * before a semantic one earlier in the document.
 */
#include "agent/config_impl.h"
#include "agent/jsonpos.h"
#include "agent/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* DRIFTD_* variables that are not options but belong to driftd (the stats library reads them). */
static const char *const env_allowed[] = { "DRIFTD_HIST_KERNEL" };

/* The secrets of Kafka clients may come from the environment (SPEC: "secrets may come from a
 * file or env"); every other Kafka property comes from the file or --kafka.PROP. The value may
 * be @FILE too. */
static const struct {
	const char *env, *prop;
} env_kafka_secrets[] = {
	{ "DRIFTD_KAFKA_SASL_PASSWORD", "sasl.password" },
	{ "DRIFTD_KAFKA_SSL_KEY_PASSWORD", "ssl.key.password" },
	{ "DRIFTD_KAFKA_SSL_KEYSTORE_PASSWORD", "ssl.keystore.password" },
};

/* ---- did you mean ---- */

/* Levenshtein distance, ASCII case-insensitive; SIZE_MAX for words longer than MAX_NAME. */
static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
	size_t row[MAX_NAME + 1];

	if (la > MAX_NAME || lb > MAX_NAME)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (to_lower((unsigned char)a[i - 1]) !=
					      to_lower((unsigned char)b[j - 1]));

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* Keeps in *best the candidate closest to word (at most 2 edits, fewer than its length). */
static void consider(const char *word, size_t wlen, const char *cand, size_t clen,
		     const char **best, size_t *best_len, size_t *best_d)
{
	size_t d = edit_distance(word, wlen, cand, clen);

	if (d <= 2 && d < wlen && d < *best_d) {
		*best = cand;
		*best_len = clen;
		*best_d = d;
	}
}

/* " (did you mean "X"?)" or "" into buf. */
static void did_you_mean(char *buf, size_t n, const char *best, size_t len)
{
	if (best)
		snprintf(buf, n, " (did you mean \"%.*s\"?)", (int)len, best);
	else if (n)
		buf[0] = '\0';
}

/* The closest known JSON path (option, section or "kafka") to path. */
static void suggest_path(const char *path, size_t len, char *buf, size_t n)
{
	const char *best = NULL;
	size_t best_len = 0, best_d = SIZE_MAX;

	consider(path, len, "kafka", 5, &best, &best_len, &best_d);
	for (size_t i = 0; i < config_nopts; i++) {
		const char *name = config_opts[i].name;

		for (const char *dot = strchr(name, '.'); dot; dot = strchr(dot + 1, '.'))
			consider(path, len, name, (size_t)(dot - name), &best, &best_len, &best_d);
		consider(path, len, name, strlen(name), &best, &best_len, &best_d);
	}
	did_you_mean(buf, n, best, best_len);
}

static void suggest_env(const char *name, size_t len, char *buf, size_t n)
{
	char cand[MAX_NAME + 8], best_name[MAX_NAME + 8];
	const char *best = NULL;
	size_t best_len = 0, best_d = SIZE_MAX;

	for (size_t i = 0; i < config_nopts; i++) {
		const char *before = best;

		config_env_name(&config_opts[i], cand, sizeof cand);
		consider(name, len, cand, strlen(cand), &best, &best_len, &best_d);
		if (best != before) { /* cand is overwritten by the next name: keep a copy */
			memcpy(best_name, cand, best_len + 1);
			best = best_name;
		}
	}
	did_you_mean(buf, n, best, best_len);
}

static void suggest_flag(const char *name, size_t len, char *buf, size_t n)
{
	const char *best = NULL;
	size_t best_len = 0, best_d = SIZE_MAX;
	char tmp[MAX_NAME + 8];

	for (size_t i = 0; i < config_nopts; i++) {
		consider(name, len, config_opts[i].name, strlen(config_opts[i].name), &best,
			 &best_len, &best_d);
		if (config_opts[i].flag)
			consider(name, len, config_opts[i].flag, strlen(config_opts[i].flag), &best,
				 &best_len, &best_d);
	}
	if (best) {
		snprintf(tmp, sizeof tmp, "--%.*s", (int)best_len, best);
		did_you_mean(buf, n, tmp, strlen(tmp));
	} else if (n) {
		buf[0] = '\0';
	}
}

/* ---- applying a parsed document ---- */

/* Where the messages of one document go. */
struct doc {
	const char *name; /* of the document */
	char *err;	  /* "NAME:LINE:COL: message" */
	size_t errlen;
};

static void doc_err(const struct doc *d, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void doc_err(const struct doc *d, int line, int col, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	agent_errf(d->err, d->errlen, "%s:%d:%d: %s", d->name, line, col, msg);
}

/* A parsed JSON value as the setters take it (its text still owned by the node). */
static struct val node_val(const struct agent_jsonpos *nd)
{
	static const enum vkind kinds[] = {
		[AGENT_JSONPOS_STRING] = V_STRING, [AGENT_JSONPOS_NUMBER] = V_NUMBER,
		[AGENT_JSONPOS_BOOL] = V_BOOL,	   [AGENT_JSONPOS_NULL] = V_NULL,
		[AGENT_JSONPOS_OBJECT] = V_OBJECT, [AGENT_JSONPOS_ARRAY] = V_ARRAY,
	};
	struct val v = { .kind = kinds[nd->kind], .s = nd->s, .len = nd->len, .b = nd->b };

	return v;
}

static int apply_kafka(const struct doc *d, struct agent_config *c, const struct agent_jsonpos *obj)
{
	char msg[400], q[64];

	if (obj->kind != AGENT_JSONPOS_OBJECT) {
		doc_err(d, obj->line, obj->col,
			"kafka: expected an object of librdkafka properties, got %s",
			config_kind_name(node_val(obj).kind));
		return -1;
	}
	for (size_t i = 0; i < obj->n; i++) {
		const struct agent_jsonpos_member *m = &obj->m[i];
		struct val v = node_val(&m->v);
		char *value;

		if (!config_kafka_name_ok(m->key, m->klen)) {
			agent_jsonpos_quote(q, sizeof q, m->key, m->klen);
			doc_err(d, m->line, m->col,
				"kafka: invalid property name %s (letters, digits, '.', '_', '-')",
				q);
			return -1;
		}
		if (!(value = config_kafka_text(m->key, &v, msg, sizeof msg)) ||
		    config_kafka_put(c, m->key, m->klen, value, msg, sizeof msg)) {
			doc_err(d, m->v.line, m->v.col, "kafka.%s: %s", m->key, msg);
			return -1;
		}
	}
	return 0;
}

static int apply_object(const struct doc *d, struct agent_config *c,
			const struct agent_jsonpos *obj, const char *prefix)
{
	for (size_t i = 0; i < obj->n; i++) {
		const struct agent_jsonpos_member *m = &obj->m[i];
		char path[MAX_NAME + 1], q[64], hint[MAX_NAME + 32], msg[400];
		size_t plen = prefix ? strlen(prefix) : 0;
		const struct opt *o = NULL;
		int fits =
		    m->klen > 0 && plen + 1 + m->klen <= MAX_NAME && !memchr(m->key, '.', m->klen);

		if (!prefix && m->klen == 5 && !memcmp(m->key, "kafka", 5)) {
			if (apply_kafka(d, c, &m->v))
				return -1;
			continue;
		}
		if (fits) {
			snprintf(path, sizeof path, "%s%s%s", prefix ? prefix : "",
				 prefix ? "." : "", m->key);
			plen = strlen(path);
			o = config_find_opt(path, plen);
		}
		if (o) {
			struct val v = node_val(&m->v);

			if (config_set_opt(c, o, &v, msg, sizeof msg)) {
				doc_err(d, m->v.line, m->v.col, "%s: %s", o->name, msg);
				return -1;
			}
			continue;
		}
		if (fits && config_is_section(path, plen)) {
			if (m->v.kind != AGENT_JSONPOS_OBJECT) {
				doc_err(d, m->v.line, m->v.col, "%s: expected an object, got %s",
					path, config_kind_name(node_val(&m->v).kind));
				return -1;
			}
			if (apply_object(d, c, &m->v, path))
				return -1;
			continue;
		}
		agent_jsonpos_quote(q, sizeof q, m->key, m->klen);
		if (m->klen && memchr(m->key, '.', m->klen)) {
			snprintf(hint, sizeof hint,
				 " (dotted names are written as nested objects)");
		} else if (fits) {
			suggest_path(path, plen, hint, sizeof hint);
		} else {
			hint[0] = '\0';
		}
		if (prefix)
			doc_err(d, m->line, m->col, "unknown key %s in \"%s\"%s", q, prefix, hint);
		else
			doc_err(d, m->line, m->col, "unknown key %s%s", q, hint);
		return -1;
	}
	return 0;
}

/* ---- API: loading ---- */

int agent_config_load_string(struct agent_config *c, const char *name, const char *json, size_t len,
			     char *err, size_t errlen)
{
	struct doc d = { .name = name ? name : "<config>", .err = err, .errlen = errlen };
	struct agent_jsonpos root = { 0 };
	struct agent_config tmp;

	if (agent_jsonpos_parse(&root, d.name, "the configuration", json, len, err, errlen))
		return -1;
	if (config_copy(&tmp, c)) {
		doc_err(&d, 1, 1, "out of memory");
		agent_jsonpos_free(&root);
		return -1;
	}
	if (apply_object(&d, &tmp, &root, NULL)) {
		agent_config_free(&tmp);
		agent_jsonpos_free(&root);
		return -1;
	}
	agent_jsonpos_free(&root);
	config_commit(c, &tmp);
	return 0;
}

int agent_config_load_file(struct agent_config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t len = 0;
	int rc;

	if (!f) {
		agent_errf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (!(buf = malloc(AGENT_JSONPOS_MAX_BYTES + 1))) {
		fclose(f);
		agent_errf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	while (len <= AGENT_JSONPOS_MAX_BYTES) {
		size_t k = fread(buf + len, 1, AGENT_JSONPOS_MAX_BYTES + 1 - len, f);

		if (k == 0)
			break;
		len += k;
	}
	if (ferror(f)) {
		agent_errf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		rc = -1;
	} else if (len > AGENT_JSONPOS_MAX_BYTES) {
		agent_errf(err, errlen, "%s: larger than %d bytes (1 MiB)", path,
			   AGENT_JSONPOS_MAX_BYTES);
		rc = -1;
	} else {
		rc = agent_config_load_string(c, path, buf, len, err, errlen);
	}
	free(buf);
	fclose(f);
	return rc;
}

int agent_config_load_env(struct agent_config *c, char *const *envp, char *err, size_t errlen)
{
	struct agent_config tmp;

	if (!envp)
		return 0;
	if (config_copy(&tmp, c)) {
		agent_errf(err, errlen, "environment: out of memory");
		return -1;
	}
	for (size_t i = 0; envp[i]; i++) {
		const char *e = envp[i], *eq = strchr(e, '=');
		size_t nlen = eq ? (size_t)(eq - e) : 0;
		const struct opt *o;
		char msg[400], hint[MAX_NAME + 32];
		int allowed = 0;

		if (!eq || strncmp(e, "DRIFTD_", 7) != 0)
			continue;
		for (size_t k = 0; k < sizeof env_allowed / sizeof env_allowed[0]; k++)
			if (strlen(env_allowed[k]) == nlen && !memcmp(env_allowed[k], e, nlen))
				allowed = 1;
		if (allowed)
			continue;
		for (size_t k = 0; k < sizeof env_kafka_secrets / sizeof env_kafka_secrets[0];
		     k++) {
			const char *prop = env_kafka_secrets[k].prop;
			char *text;

			if (strlen(env_kafka_secrets[k].env) != nlen ||
			    memcmp(env_kafka_secrets[k].env, e, nlen) != 0)
				continue;
			allowed = 1;
			text = config_secret_text(eq + 1, strlen(eq + 1), msg, sizeof msg);
			if (!text ||
			    config_kafka_put(&tmp, prop, strlen(prop), text, msg, sizeof msg)) {
				agent_errf(err, errlen, "%.*s: %s", (int)nlen, e, msg);
				agent_config_free(&tmp);
				return -1;
			}
		}
		if (allowed)
			continue;
		if (!(o = config_find_env(e, nlen))) {
			if (nlen > 13 && !strncmp(e, "DRIFTD_KAFKA_", 13))
				snprintf(hint, sizeof hint,
					 " (Kafka properties come from the file or "
					 "--kafka.PROP=VALUE)");
			else
				suggest_env(e, nlen, hint, sizeof hint);
			agent_errf(err, errlen, "environment: unknown variable %.*s%s",
				   (int)(nlen > MAX_NAME ? MAX_NAME : nlen), e, hint);
			agent_config_free(&tmp);
			return -1;
		}
		struct val v = { .kind = V_TEXT, .s = eq + 1, .len = strlen(eq + 1) };
		if (config_set_opt(&tmp, o, &v, msg, sizeof msg)) {
			agent_errf(err, errlen, "%.*s: %s", (int)nlen, e, msg);
			agent_config_free(&tmp);
			return -1;
		}
	}
	config_commit(c, &tmp);
	return 0;
}

int agent_config_load_args(struct agent_config *c, int argc, char **argv, int *i, char *err,
			   size_t errlen)
{
	struct agent_config tmp;
	int k = *i;

	if (config_copy(&tmp, c)) {
		agent_errf(err, errlen, "out of memory");
		return -1;
	}
	while (k < argc) {
		const char *a = argv[k], *name, *eq, *value;
		size_t nlen;
		const struct opt *o;
		char msg[400], hint[MAX_NAME + 32];
		int neg = 0;

		if (!strcmp(a, "--")) {
			k++;
			break;
		}
		if (strncmp(a, "--", 2) != 0)
			break;
		if (!strcmp(a, "--config") || !strncmp(a, "--config=", 9))
			break; /* the caller's (-c): the file is applied before the environment */
		name = a + 2;
		eq = strchr(name, '=');
		nlen = eq ? (size_t)(eq - name) : strlen(name);
		value = eq ? eq + 1 : NULL;
		if (nlen > 6 && !strncmp(name, "kafka.", 6)) {
			struct val v = { .kind = V_TEXT };
			char *text;

			if (!config_kafka_name_ok(name + 6, nlen - 6)) {
				agent_errf(err, errlen, "--%.*s: invalid Kafka property name",
					   (int)(nlen > MAX_NAME ? MAX_NAME : nlen), name);
				goto fail;
			}
			if (!value) {
				if (k + 1 >= argc) {
					agent_errf(err, errlen, "--%.*s: missing value", (int)nlen,
						   name);
					goto fail;
				}
				value = argv[++k];
			}
			v.s = value;
			v.len = strlen(value);
			{
				char prop[MAX_PROP + 1];

				snprintf(prop, sizeof prop, "%.*s", (int)(nlen - 6), name + 6);
				if (!(text = config_kafka_text(prop, &v, msg, sizeof msg)) ||
				    config_kafka_put(&tmp, prop, nlen - 6, text, msg, sizeof msg)) {
					agent_errf(err, errlen, "--%.*s: %s", (int)nlen, name, msg);
					goto fail;
				}
			}
			k++;
			continue;
		}
		o = config_find_flag(name, nlen);
		if (!o && nlen > 3 && !strncmp(name, "no-", 3)) {
			o = config_find_flag(name + 3, nlen - 3);
			if (o && o->type == OPT_BOOL)
				neg = 1;
			else
				o = NULL;
		}
		if (!o) {
			suggest_flag(name, nlen, hint, sizeof hint);
			agent_errf(err, errlen, "unknown option --%.*s%s",
				   (int)(nlen > MAX_NAME ? MAX_NAME : nlen), name, hint);
			goto fail;
		}
		if (neg && value) {
			agent_errf(err, errlen, "--%.*s takes no value", (int)nlen, name);
			goto fail;
		}
		if (neg || (o->type == OPT_BOOL && !value)) {
			*(int *)field(&tmp, o) = !neg;
			k++;
			continue;
		}
		if (!value) {
			if (k + 1 >= argc) {
				agent_errf(err, errlen, "--%.*s: missing value", (int)nlen, name);
				goto fail;
			}
			value = argv[++k];
		}
		struct val v = { .kind = V_TEXT, .s = value, .len = strlen(value) };
		if (config_set_opt(&tmp, o, &v, msg, sizeof msg)) {
			agent_errf(err, errlen, "--%.*s: %s", (int)nlen, name, msg);
			goto fail;
		}
		k++;
	}
	config_commit(c, &tmp);
	*i = k;
	return 0;
fail:
	agent_config_free(&tmp);
	*i = k < argc ? k : argc - 1;
	return -1;
}

/*
 * config_doc.c -- the configuration written out (see config.h): agent_config_dump prints the
 * effective configuration as JSON in the shape of the file (nested objects, option-table order,
 * Kafka properties sorted, secrets as "***"), and agent_config_write_doc generates
 * doc/configuration.md from the option table: a fixed introduction, then one Markdown table per
 * section (type, default, variable, flags, description of every option).
 */
#include "agent/config_impl.h"
#include "connectors/endpoint.h"
#include "connectors/text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- dump ---- */

/* s[0..len) as a JSON string, escaped by text.h's one policy (bytes that are not UTF-8 become
 * U+FFFD). */
static void put_json_string(FILE *out, const char *s, size_t len)
{
	fputc('"', out);
	conn_text_json_fput(out, s, len);
	fputc('"', out);
}

/* A secret option's value: the store spec as connectors/endpoint.h shows it (its password as
 * "***"), any other secret (a token) as "***". */
static void put_secret(FILE *out, const struct opt *o, const char *s)
{
	size_t len;
	char *m;

	if (o->check != config_check_store) {
		put_json_string(out, "***", 3);
		return;
	}
	len = conn_endpoint_mask(s, NULL, 0);
	if (!(m = malloc(len + 1))) {
		put_json_string(out, "***", 3);
		return;
	}
	conn_endpoint_mask(s, m, len + 1);
	put_json_string(out, m, len);
	free(m);
}

static void put_indent(FILE *out, int depth)
{
	for (int i = 0; i < depth; i++)
		fputs("  ", out);
}

/* Opens a member: ",\n" or "\n", indentation, "key": . */
static void put_key(FILE *out, int depth, int *first, const char *key, size_t klen)
{
	fputs(*first ? "\n" : ",\n", out);
	*first = 0;
	put_indent(out, depth);
	put_json_string(out, key, klen);
	fputs(": ", out);
}

static void put_value(FILE *out, const struct agent_config *c, const struct opt *o)
{
	const void *f = cfield(c, o);
	char num[48];
	int v;

	switch (o->type) {
	case OPT_STRING: {
		const char *s = *(char *const *)f;

		if (!s)
			fputs("null", out);
		else if (o->flags & OPT_SECRET)
			put_secret(out, o, s);
		else
			put_json_string(out, s, strlen(s));
		return;
	}
	case OPT_BOOL:
		fputs(*(const int *)f ? "true" : "false", out);
		return;
	case OPT_UINT:
		fprintf(out, "%u", *(const unsigned *)f);
		return;
	case OPT_U64:
		fprintf(out, "%llu", (unsigned long long)*(const uint64_t *)f);
		return;
	case OPT_SIZE:
		fprintf(out, "%zu", *(const size_t *)f);
		return;
	case OPT_DOUBLE:
	case OPT_SECONDS:
		if (isfinite(*(const double *)f)) {
			config_fmt_double(num, sizeof num, *(const double *)f);
			fputs(num, out);
		} else {
			fputs("null", out);
		}
		return;
	case OPT_ENUM:
		v = *(const int *)f;
		for (int k = 0; o->names[k]; k++)
			if (k == v) {
				put_json_string(out, o->names[k], strlen(o->names[k]));
				return;
			}
		fprintf(out, "%d", v);
		return;
	case OPT_LOG_LEVEL:
		v = *(const int *)f;
		if (v >= 0 && v <= 7)
			put_json_string(out, config_log_level_names[v],
					strlen(config_log_level_names[v]));
		else
			fprintf(out, "%d", v);
		return;
	}
}

static int cmp_kv(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void put_kafka(FILE *out, const struct agent_config *c, int *first)
{
	const char **kv;
	int inner = 1;

	put_key(out, 1, first, "kafka", 5);
	if (!c->kafka_n) {
		fputs("{}", out);
		return;
	}
	fputc('{', out);
	kv = malloc(2 * c->kafka_n * sizeof *kv);
	for (size_t i = 0; i < c->kafka_n; i++) {
		if (kv) {
			kv[2 * i] = c->kafka_keys[i];
			kv[2 * i + 1] = c->kafka_values[i];
		}
	}
	if (kv)
		qsort(kv, c->kafka_n, 2 * sizeof *kv, cmp_kv);
	for (size_t i = 0; i < c->kafka_n; i++) {
		const char *k = kv ? kv[2 * i] : c->kafka_keys[i];
		const char *v = kv ? kv[2 * i + 1] : c->kafka_values[i];

		put_key(out, 2, &inner, k, strlen(k));
		if (config_kafka_secret(k))
			put_json_string(out, "***", 3);
		else
			put_json_string(out, v, strlen(v));
	}
	free(kv);
	fputc('\n', out);
	put_indent(out, 1);
	fputc('}', out);
}

void agent_config_dump(const struct agent_config *c, FILE *out)
{
	const char *open[8]; /* the open objects: pointers into an option name */
	size_t open_len[8];
	int first[9] = { 1 }, depth = 0;

	fputc('{', out);
	for (size_t i = 0; i < config_nopts; i++) {
		const char *name = config_opts[i].name;
		const char *comp[8];
		size_t clen[8], ncomp = 0;
		int common = 0;

		for (const char *s = name; ncomp < 8;) {
			const char *dot = strchr(s, '.');

			comp[ncomp] = s;
			clen[ncomp++] = dot ? (size_t)(dot - s) : strlen(s);
			if (!dot)
				break;
			s = dot + 1;
		}
		while (common < depth && common + 1 < (int)ncomp &&
		       open_len[common] == clen[common] &&
		       !memcmp(open[common], comp[common], clen[common]))
			common++;
		while (depth > common) {
			fputc('\n', out);
			put_indent(out, depth);
			fputc('}', out);
			depth--;
		}
		while (depth + 1 < (int)ncomp) {
			put_key(out, depth + 1, &first[depth], comp[depth], clen[depth]);
			fputc('{', out);
			open[depth] = comp[depth];
			open_len[depth] = clen[depth];
			depth++;
			first[depth] = 1;
		}
		put_key(out, depth + 1, &first[depth], comp[ncomp - 1], clen[ncomp - 1]);
		put_value(out, c, &config_opts[i]);
	}
	while (depth > 0) {
		fputc('\n', out);
		put_indent(out, depth);
		fputc('}', out);
		depth--;
	}
	put_kafka(out, c, &first[0]);
	fputs("\n}\n", out);
}

/* ---- documentation ---- */

/* The sections of the manual page, in order: title and one paragraph. */
static const struct {
	const char *title;
	const char *intro;
} sections[SEC_COUNT] = {
	[SEC_IO] = { "Inputs, outputs and store",
		     "Where inference records come from, where decisions go, where state lives." },
	[SEC_WINDOWS] = { "Windows",
			  "Tumbling event-time windows, one series per (model, version)." },
	[SEC_DECISIONS] = { "Decisions", "When breaching rules become a rollback event." },
	[SEC_RULES] = { "Rules",
			"Every rule has a threshold, can be disabled, and can be put in dry-run "
			"mode on its own (evaluated and exported, never fires a rollback)." },
	[SEC_LIMITS] = { "Limits",
			 "Bounds on what one record or the agent may hold: beyond them a record is "
			 "rejected or folded, and counted; memory never grows without bound." },
	[SEC_LOG] = { "Logs", "One line per event, syslog levels." },
};

/* Markdown table cell text: '|' escaped. */
static void md_cell(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', out);
		fputc(*s, out);
	}
}

static void doc_type(FILE *out, const struct opt *o)
{
	char r[96];

	switch (o->type) {
	case OPT_STRING:
		fputs((o->flags & OPT_SECRET) ? "string, secret" : "string", out);
		return;
	case OPT_BOOL:
		fputs("boolean", out);
		return;
	case OPT_UINT:
	case OPT_U64:
	case OPT_SIZE:
		config_range_text(o, r, sizeof r);
		fprintf(out, "integer %s", r);
		return;
	case OPT_DOUBLE:
	case OPT_SECONDS:
		config_range_text(o, r, sizeof r);
		fprintf(out, "%s%s%s", o->type == OPT_SECONDS ? "seconds" : "number",
			r[0] ? " " : "", r);
		return;
	case OPT_ENUM:
		for (int k = 0; o->names[k]; k++)
			fprintf(out, "%s`%s`",
				k == 0		  ? ""
				: o->names[k + 1] ? ", "
						  : " or ",
				o->names[k]);
		return;
	case OPT_LOG_LEVEL:
		fputs(
		    "`emerg`, `alert`, `crit`, `err`, `warning`, `notice`, `info`, `debug` or 0-7",
		    out);
		return;
	}
}

static void doc_intro(FILE *out)
{
	fputs(
	    "<!-- Generated from agent/config.c by `driftd config-doc`; do not edit. -->\n"
	    "# Configuration\n"
	    "\n"
	    "driftd takes every setting from four places; a later one overrides an earlier one:\n"
	    "\n"
	    "1. the defaults listed below;\n"
	    "2. the JSON file given with `-c FILE` (or `--config FILE`);\n"
	    "3. `DRIFTD_*` environment variables;\n"
	    "4. command-line flags.\n"
	    "\n"
	    "`driftd check-config [-c FILE] [flags]` checks the result and prints it as JSON, "
	    "secrets masked.\n"
	    "\n"
	    "Every option has a dotted name. In the file, the dots are nested objects: "
	    "`rules.kl.threshold` is\n"
	    "`{\"rules\": {\"kl\": {\"threshold\": 0.3}}}`. Its environment variable is "
	    "`DRIFTD_` and the name\n"
	    "upper-cased with `.` turned into `_` (`DRIFTD_RULES_KL_THRESHOLD`), and its flag is "
	    "`--NAME`\n"
	    "(`--rules.kl.threshold 0.3`); the options used most also have the short flag shown "
	    "in the tables.\n"
	    "\n"
	    "## The file\n"
	    "\n"
	    "A JSON object of at most 1 MiB, UTF-8, nested at most 32 deep. It is strict: an "
	    "unknown key, a\n"
	    "duplicate key, a value of the wrong type or out of range is an error reported as\n"
	    "`FILE:LINE:COLUMN: message` at the offending key or value (columns count characters "
	    "from 1), and\n"
	    "driftd does not start. Durations are numbers of seconds; strings that may be unset "
	    "take `null`.\n"
	    "\n"
	    "```json\n"
	    "{\n"
	    "  \"source\": \"kafka:inference-logs\",\n"
	    "  \"brokers\": \"kafka-0:9092,kafka-1:9092\",\n"
	    "  \"events\": \"kafka:model-rollbacks\",\n"
	    "  \"store\": \"@/run/secrets/driftd-store-url\",\n"
	    "  \"window\": 60,\n"
	    "  \"rules\": {\"kl\": {\"threshold\": 0.2}, \"psi\": {\"enabled\": true, "
	    "\"dry_run\": true}},\n"
	    "  \"log\": {\"format\": \"json\"},\n"
	    "  \"kafka\": {\"security.protocol\": \"SASL_SSL\", \"sasl.mechanisms\": "
	    "\"SCRAM-SHA-512\",\n"
	    "            \"sasl.username\": \"driftd\", \"sasl.password\": "
	    "\"@/run/secrets/kafka-password\"}\n"
	    "}\n"
	    "```\n"
	    "\n"
	    "## Environment and flags\n"
	    "\n"
	    "Values are written the same way in both: numbers as in JSON, booleans as `true`, "
	    "`false`, `1`,\n"
	    "`0`, `yes`, `no`, `on` or `off`, names of choices as listed. An empty value unsets a "
	    "string that may\n"
	    "be unset. A `DRIFTD_*` variable that is not an option is an error (a typo must not be "
	    "ignored),\n"
	    "except `DRIFTD_HIST_KERNEL` (forces the histogram kernel: `ref`, `avx2` or "
	    "`avx512`).\n"
	    "\n"
	    "Flags are `--NAME VALUE` or `--NAME=VALUE`. A boolean is set by `--NAME` alone "
	    "(it never takes\n"
	    "the next argument), cleared by `--no-NAME`, or given as `--NAME=VALUE`.\n"
	    "\n"
	    "## Secrets\n"
	    "\n"
	    "The password of a `redis://` store URL and every Kafka property whose name contains "
	    "`password`\n"
	    "or `secret` (and `ssl.key.pem`, `sasl.oauthbearer.config`) are never printed: the "
	    "effective\n"
	    "configuration shows them as `***` and no error message quotes them. Their value may "
	    "be\n"
	    "`@FILE`: it is then read from that regular file (at most 64 KiB; trailing newlines "
	    "are removed),\n"
	    "so that it need not appear on a command line or in the configuration file. `@@` "
	    "stands for a\n"
	    "literal leading `@`.\n",
	    out);
}

void agent_config_write_doc(FILE *out)
{
	char env[MAX_NAME + 8];

	doc_intro(out);
	for (int s = 0; s < SEC_COUNT; s++) {
		fprintf(out, "\n## %s\n\n%s\n\n", sections[s].title, sections[s].intro);
		fputs("| Option | Type | Default | Environment | Flags | Description |\n"
		      "|---|---|---|---|---|---|\n",
		      out);
		for (size_t i = 0; i < config_nopts; i++) {
			const struct opt *o = &config_opts[i];

			if (o->sec != (enum section)s)
				continue;
			config_env_name(o, env, sizeof env);
			fprintf(out, "| `%s` | ", o->name);
			doc_type(out, o);
			fputs(" | ", out);
			if (o->flags & OPT_HOSTNAME)
				fputs("the host name", out);
			else if (!o->def)
				fputs("unset", out);
			else
				fprintf(out, "`%s`", o->def);
			fprintf(out, " | `%s` | ", env);
			if (o->flag)
				fprintf(out, "`--%s`, ", o->flag);
			fprintf(out, "`--%s` | ", o->name);
			md_cell(out, o->desc);
			fputs(" |\n", out);
		}
	}
	fputs(
	    "\n## Kafka client properties\n"
	    "\n"
	    "The `kafka` object of the file holds librdkafka properties, passed through unchanged "
	    "to every\n"
	    "Kafka client driftd creates (consumer and producer): security, SASL, SSL, timeouts. "
	    "Values are\n"
	    "strings, numbers or booleans, e.g. `{\"kafka\": {\"security.protocol\": \"SSL\", "
	    "\"ssl.ca.location\":\n"
	    "\"/etc/ssl/ca.pem\"}}`. On the command line: `--kafka.PROP=VALUE` or "
	    "`--kafka.PROP VALUE`.\n"
	    "Property names are not derivable from variable names, so the only `DRIFTD_KAFKA_*` "
	    "variables\n"
	    "are the secrets: `DRIFTD_KAFKA_SASL_PASSWORD` (`sasl.password`),\n"
	    "`DRIFTD_KAFKA_SSL_KEY_PASSWORD` (`ssl.key.password`) and "
	    "`DRIFTD_KAFKA_SSL_KEYSTORE_PASSWORD`\n"
	    "(`ssl.keystore.password`); each may also be `@FILE`. librdkafka checks names and "
	    "values "
	    "when the client is "
	    "created. Set the\n"
	    "brokers with `brokers` or `kafka.bootstrap.servers` (not both) and the consumer group "
	    "with\n"
	    "`group`, not `kafka.group.id`.\n",
	    out);
}

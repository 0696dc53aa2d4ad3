/*
 * test_config.c -- unit tests of the configuration (agent/config*.c over the JSON reader
 * agent/jsonpos.c): defaults, the strict JSON file (every type, every error kind with its exact
 * FILE:LINE:COL), the environment, the flags, their precedence, bounds, secrets (masked in the
 * dump, never in an error message, @FILE), Kafka pass-through, validation, the dump (valid JSON
 * that loads back to itself) and the generated documentation.
 *
 * Expected values are written out by hand from config.h and SPEC.md; the dump is read back with
 * jansson, an independent JSON parser.
 */
#include "agent/config.h"
#include "testutil.h"

#include <unistd.h>

#define SECRET "hunter2"

static char err[1024];

/* ---- helpers ---- */

static char *dump_str(const struct agent_config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	agent_config_dump(c, f);
	assert_int_equal(fclose(f), 0);
	assert_non_null(buf);
	return buf;
}

static char *doc_str(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	agent_config_write_doc(f);
	assert_int_equal(fclose(f), 0);
	assert_non_null(buf);
	return buf;
}

static int load(struct agent_config *c, const char *json)
{
	err[0] = '\0';
	return agent_config_load_string(c, "t.json", json, strlen(json), err, sizeof err);
}

/* Loads json into defaults; must fail with exactly `want` and leave the configuration as it was. */
static void expect_error_n(const char *json, size_t len, const char *want)
{
	struct agent_config c;
	char *before, *after;

	agent_config_defaults(&c);
	before = dump_str(&c);
	err[0] = '\0';
	if (agent_config_load_string(&c, "t.json", json, len, err, sizeof err) != -1)
		fail_msg("accepted: %.*s", (int)len, json);
	if (strcmp(err, want))
		fail_msg("input %.*s\n got: %s\nwant: %s", (int)len, json, err, want);
	after = dump_str(&c);
	assert_string_equal(before, after);
	free(before);
	free(after);
	agent_config_free(&c);
}

static void expect_error(const char *json, const char *want)
{
	expect_error_n(json, strlen(json), want);
}

/* Applies the NULL-terminated list of "NAME=VALUE" strings. */
static int env(struct agent_config *c, ...)
{
	char *envp[32];
	size_t n = 0;
	va_list ap;

	va_start(ap, c);
	while (n < 31 && (envp[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	envp[n] = NULL;
	err[0] = '\0';
	return agent_config_load_env(c, envp, err, sizeof err);
}

/* Applies the NULL-terminated argument list from index 0; *i receives where it stopped. */
static int args(struct agent_config *c, int *i, ...)
{
	char *argv[64];
	int argc = 0;
	va_list ap;

	va_start(ap, i);
	while (argc < 63 && (argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	*i = 0;
	err[0] = '\0';
	return agent_config_load_args(c, argc, argv, i, err, sizeof err);
}

/* A temporary file holding `content`; the caller unlinks and frees the path. */
static char *temp_file(const char *content, size_t len)
{
	char *path = strdup("/tmp/driftd-test-config-XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	close(fd);
	return path;
}

static void assert_no_secret(const char *s)
{
	if (strstr(s, SECRET))
		fail_msg("the secret leaked: %s", s ? s : "");
}

/* Calls fn(path, value, ctx) for every leaf of a JSON object, path dotted. */
static void leaves(const json_t *o, const char *prefix,
		   void (*fn)(const char *path, const json_t *v, void *ctx), void *ctx)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)o, key, v)
	{
		char path[256];

		snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "." : "", key);
		if (json_is_object(v) && strcmp(path, "kafka"))
			leaves(v, path, fn, ctx);
		else
			fn(path, v, ctx);
	}
}

static json_t *parse_dump(const struct agent_config *c)
{
	char *d = dump_str(c);
	json_error_t je;
	json_t *j = json_loads(d, JSON_REJECT_DUPLICATES, &je);

	if (!j)
		fail_msg("dump is not JSON: %d:%d: %s\n%s", je.line, je.column, je.text, d);
	free(d);
	return j;
}

/* ---- defaults ---- */

static void test_defaults(void **state)
{
	struct agent_config c;
	char host[256];

	(void)state;
	agent_config_defaults(&c);
	assert_string_equal(c.source, "file:-");
	assert_null(c.brokers);
	assert_string_equal(c.group, "driftd");
	assert_null(c.labels);
	assert_string_equal(c.events, "file:-");
	assert_null(c.dead_letters);
	assert_string_equal(c.store, "dir:./driftd-store");
	assert_string_equal(c.metrics_listen, "127.0.0.1:9640");
	assert_non_null(c.agent_id);
	assert_true(c.agent_id[0] != '\0');
	if (gethostname(host, sizeof host) == 0 && host[0] &&
	    strspn(host, "abcdefghijklmnopqrstuvwxyz"
			 "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789.-_~") == strlen(host))
		assert_string_equal(c.agent_id, host);
	assert_true(c.replay_speed == 0.0);
	assert_true(c.window_s == 60.0);
	assert_true(c.grace_s == 5.0);
	assert_int_equal(c.sliding_k, 1);
	assert_int_equal(c.min_samples, 200);
	assert_int_equal(c.breach_windows, 2);
	assert_true(c.cooldown_s == 600.0);
	assert_int_equal(c.dry_run, 0);
	assert_int_equal(c.baseline, AGENT_BASELINE_LAST_GOOD);
	assert_int_equal(c.kl.enabled, 1);
	assert_true(c.kl.threshold == 0.2);
	assert_int_equal(c.kl.dry_run, 0);
	assert_int_equal(c.kl_direction, AGENT_KL_LIVE_BASELINE);
	assert_int_equal(c.psi.enabled, 0);
	assert_true(c.psi.threshold == 0.25);
	assert_int_equal(c.psi.dry_run, 0);
	assert_int_equal(c.js.enabled, 0);
	assert_true(c.js.threshold == 0.1);
	assert_int_equal(c.js.dry_run, 0);
	assert_int_equal(c.latency.enabled, 1);
	assert_true(c.latency.threshold == 1.15);
	assert_int_equal(c.latency.dry_run, 0);
	assert_int_equal(c.accuracy.enabled, 1);
	assert_true(c.accuracy.threshold == 0.05);
	assert_int_equal(c.accuracy.dry_run, 0);
	assert_int_equal(c.accuracy_mode, AGENT_ACC_ABSOLUTE);
	assert_true(c.accuracy_threshold == 0.5);
	assert_int_equal(c.error_rate.enabled, 0);
	assert_true(c.error_rate.threshold == 0.05);
	assert_int_equal(c.error_rate.dry_run, 0);
	assert_true(c.alpha == 0.5);
	assert_int_equal(c.sample_size_aware, 0);
	assert_true(c.fdr == 0.05);
	assert_int_equal(c.monitor_prediction, 1);
	assert_int_equal(c.max_message, 1048576);
	assert_int_equal(c.max_features, 1024);
	assert_int_equal(c.max_feature_name, 128);
	assert_int_equal(c.max_models, 64);
	assert_int_equal(c.max_categories, 256);
	assert_int_equal(c.log_format, AGENT_LOG_TEXT);
	assert_int_equal(c.log_level, 6);
	assert_int_equal(c.kafka_n, 0);
	assert_int_equal(agent_config_validate(&c, err, sizeof err), 0);
	agent_config_free(&c);
	/* free leaves an empty configuration that can be freed again */
	assert_null(c.source);
	agent_config_free(&c);
}

/* ---- the file: every type ---- */

static const char every_type[] =
    "{\n"
    "  \"source\": \"kafka:a,b.c\",\n"
    "  \"brokers\": \"k1:9092,k2:9092\",\n"
    "  \"group\": \"g1\",\n"
    "  \"labels\": \"kafka:labels\",\n"
    "  \"events\": \"kafka:rollbacks\",\n"
    "  \"dead_letters\": \"kafka:dlq\",\n"
    "  \"store\": \"redis://:pw@redis:6379/2\",\n"
    "  \"metrics_listen\": \"[::1]:9000\",\n"
    "  \"agent_id\": \"agent-7\",\n"
    "  \"replay_speed\": 2.5,\n"
    "  \"window\": 30,\n"
    "  \"grace\": 2.5,\n"
    "  \"sliding_windows\": 5,\n"
    "  \"min_samples\": 1000000000000,\n"
    "  \"breach_windows\": 3,\n"
    "  \"cooldown\": 0,\n"
    "  \"dry_run\": true,\n"
    "  \"baseline\": \"self\",\n"
    "  \"rules\": {\n"
    "    \"alpha\": 0,\n"
    "    \"monitor_prediction\": false,\n"
    "    \"kl\": {\"enabled\": false, \"threshold\": 0.35, \"dry_run\": true,\n"
    "           \"direction\": \"baseline_live\", \"sample_size_aware\": true, \"fdr\": 0.01},\n"
    "    \"psi\": {\"enabled\": true, \"threshold\": 0.1, \"dry_run\": true},\n"
    "    \"js\": {\"enabled\": true, \"threshold\": 1, \"dry_run\": false},\n"
    "    \"latency\": {\"enabled\": false, \"threshold\": 1.5e0, \"dry_run\": true},\n"
    "    \"accuracy\": {\"enabled\": false, \"threshold\": 0.1, \"dry_run\": true,\n"
    "                 \"mode\": \"relative\", \"class_threshold\": -2.5},\n"
    "    \"error_rate\": {\"enabled\": true, \"threshold\": 0.2, \"dry_run\": true}\n"
    "  },\n"
    "  \"limits\": {\"max_message\": 2048, \"max_features\": 10, \"max_feature_name\": 64,\n"
    "             \"max_models\": 8, \"max_categories\": 65536},\n"
    "  \"log\": {\"format\": \"json\", \"level\": \"debug\"},\n"
    "  \"kafka\": {\"security.protocol\": \"SASL_SSL\", \"linger.ms\": 5,\n"
    "            \"enable.idempotence\": true, \"batch.size\": 1e3}\n"
    "}\n";

static const char *kafka(const struct agent_config *c, const char *key)
{
	for (size_t i = 0; i < c->kafka_n; i++)
		if (!strcmp(c->kafka_keys[i], key))
			return c->kafka_values[i];
	return NULL;
}

static void test_file_every_type(void **state)
{
	struct agent_config c;

	(void)state;
	agent_config_defaults(&c);
	if (load(&c, every_type))
		fail_msg("%s", err);
	assert_string_equal(c.source, "kafka:a,b.c");
	assert_string_equal(c.brokers, "k1:9092,k2:9092");
	assert_string_equal(c.group, "g1");
	assert_string_equal(c.labels, "kafka:labels");
	assert_string_equal(c.events, "kafka:rollbacks");
	assert_string_equal(c.dead_letters, "kafka:dlq");
	assert_string_equal(c.store, "redis://:pw@redis:6379/2");
	assert_string_equal(c.metrics_listen, "[::1]:9000");
	assert_string_equal(c.agent_id, "agent-7");
	assert_true(c.replay_speed == 2.5);
	assert_true(c.window_s == 30.0);
	assert_true(c.grace_s == 2.5);
	assert_int_equal(c.sliding_k, 5);
	assert_true(c.min_samples == UINT64_C(1000000000000));
	assert_int_equal(c.breach_windows, 3);
	assert_true(c.cooldown_s == 0.0);
	assert_int_equal(c.dry_run, 1);
	assert_int_equal(c.baseline, AGENT_BASELINE_SELF);
	assert_true(c.alpha == 0.0);
	assert_int_equal(c.monitor_prediction, 0);
	assert_int_equal(c.kl.enabled, 0);
	assert_true(c.kl.threshold == 0.35);
	assert_int_equal(c.kl.dry_run, 1);
	assert_int_equal(c.kl_direction, AGENT_KL_BASELINE_LIVE);
	assert_int_equal(c.sample_size_aware, 1);
	assert_true(c.fdr == 0.01);
	assert_int_equal(c.psi.enabled, 1);
	assert_true(c.psi.threshold == 0.1);
	assert_int_equal(c.psi.dry_run, 1);
	assert_int_equal(c.js.enabled, 1);
	assert_true(c.js.threshold == 1.0);
	assert_int_equal(c.js.dry_run, 0);
	assert_int_equal(c.latency.enabled, 0);
	assert_true(c.latency.threshold == 1.5);
	assert_int_equal(c.latency.dry_run, 1);
	assert_int_equal(c.accuracy.enabled, 0);
	assert_true(c.accuracy.threshold == 0.1);
	assert_int_equal(c.accuracy.dry_run, 1);
	assert_int_equal(c.accuracy_mode, AGENT_ACC_RELATIVE);
	assert_true(c.accuracy_threshold == -2.5);
	assert_int_equal(c.error_rate.enabled, 1);
	assert_true(c.error_rate.threshold == 0.2);
	assert_int_equal(c.error_rate.dry_run, 1);
	assert_int_equal(c.max_message, 2048);
	assert_int_equal(c.max_features, 10);
	assert_int_equal(c.max_feature_name, 64);
	assert_int_equal(c.max_models, 8);
	assert_int_equal(c.max_categories, 65536);
	assert_int_equal(c.log_format, AGENT_LOG_JSON);
	assert_int_equal(c.log_level, 7);
	/* Kafka values are strings: numbers as written, booleans as true/false */
	assert_int_equal(c.kafka_n, 4);
	assert_string_equal(kafka(&c, "security.protocol"), "SASL_SSL");
	assert_string_equal(kafka(&c, "linger.ms"), "5");
	assert_string_equal(kafka(&c, "enable.idempotence"), "true");
	assert_string_equal(kafka(&c, "batch.size"), "1e3");
	if (agent_config_validate(&c, err, sizeof err))
		fail_msg("%s", err);
	agent_config_free(&c);
}

static void test_file_small_forms(void **state)
{
	struct agent_config c;

	(void)state;
	agent_config_defaults(&c);
	/* log levels: a number, a name in any case, an alias; null unsets a nullable string */
	assert_int_equal(load(&c, "{\"log\": {\"level\": 3}, \"labels\": \"kafka:l\"}"), 0);
	assert_int_equal(c.log_level, 3);
	assert_string_equal(c.labels, "kafka:l");
	assert_int_equal(load(&c, "{\"log\": {\"level\": \"WARNING\"}, \"labels\": null}"), 0);
	assert_int_equal(c.log_level, 4);
	assert_null(c.labels);
	assert_int_equal(load(&c, "{\"log\": {\"level\": \"warn\"}, \"labels\": \"\"}"), 0);
	assert_int_equal(c.log_level, 4);
	assert_null(c.labels);
	assert_int_equal(load(&c, "{\"log\": {\"level\": \"emerg\"}}"), 0);
	assert_int_equal(c.log_level, 0);
	/* empty objects, a BOM, CRLF line ends, escapes and a surrogate pair */
	assert_int_equal(load(&c, "\xef\xbb\xbf{}"), 0);
	assert_int_equal(load(&c, "{\"rules\": {}, \"kafka\": {}}\r\n"), 0);
	assert_int_equal(load(&c, "{\"group\": \"\\u00e9\\ud83d\\ude00\\\"\\\\\\/x\"}"), 0);
	assert_string_equal(c.group, "\xc3\xa9\xf0\x9f\x98\x80\"\\/x");
	/* arrays are parsed (and refused as values) */
	expect_error("{\"group\": []}", "t.json:1:11: group: expected a string, got an array");
	expect_error("{\"rules\": {\"alpha\": \"x\"}}",
		     "t.json:1:21: rules.alpha: expected a number, got a string");
	expect_error("{\"rules\": {\"alpha\": {}}}",
		     "t.json:1:21: rules.alpha: expected a number, got an object");
	expect_error("{\"group\": true}", "t.json:1:11: group: expected a string, got a boolean");
	expect_error("{\"group\": [1, [2, {\"a\": [3]}], \"x\"]}",
		     "t.json:1:11: group: expected a string, got an array");
	/* the document name is used in messages; NULL gives a placeholder */
	err[0] = '\0';
	assert_int_equal(agent_config_load_string(&c, NULL, "{\"x\":1}", 7, err, sizeof err), -1);
	assert_string_equal(err, "<config>:1:2: unknown key \"x\"");
	/* a NULL/empty buffer is an empty document; err may be NULL */
	assert_int_equal(agent_config_load_string(&c, "e", NULL, 0, err, sizeof err), -1);
	assert_string_equal(err, "e:1:1: empty document: expected a JSON object");
	assert_int_equal(agent_config_load_string(&c, "e", "[", 1, NULL, 0), -1);
	agent_config_free(&c);
}

/* ---- the file: errors at their exact position ---- */

static void test_file_errors_semantic(void **state)
{
	(void)state;
	expect_error("{\n  \"window\": 60,\n  \"windw\": 5\n}",
		     "t.json:3:3: unknown key \"windw\" (did you mean \"window\"?)");
	expect_error("{\n\t\"window\": \"60\"\n}",
		     "t.json:2:12: window: expected a number of seconds, got a string");
	expect_error("{\n  \"rules\": {\n    \"kl\": {\n      \"threshold\": -0.5\n    }\n  }\n}",
		     "t.json:4:20: rules.kl.threshold: must be >= 0, got -0.5");
	expect_error("{\"rules\": {\"kl\": {\"treshold\": 1}}}",
		     "t.json:1:19: unknown key \"treshold\" in \"rules.kl\" (did you mean "
		     "\"rules.kl.threshold\"?)");
	expect_error("{\"rule\": {}}",
		     "t.json:1:2: unknown key \"rule\" (did you mean \"rules\"?)");
	expect_error("{\"zzzzzzzz\": 1}", "t.json:1:2: unknown key \"zzzzzzzz\"");
	expect_error("{\"\": 1}", "t.json:1:2: unknown key \"\"");
	expect_error("{\"rules.kl.threshold\": 0.3}",
		     "t.json:1:2: unknown key \"rules.kl.threshold\" (dotted names are written as "
		     "nested objects)");
	expect_error("{\n  \"group\": \"a\",\n  \"window\": 30,\n  \"group\": \"b\"\n}",
		     "t.json:4:3: duplicate key \"group\" (first at 2:3)");
	expect_error("{\"kafka\": {\"acks\": \"all\",\n \"acks\": 1}}",
		     "t.json:2:2: duplicate key \"acks\" (first at 1:12)");
	expect_error("{\"rules\": 5}", "t.json:1:11: rules: expected an object, got a number");
	expect_error("{\"log\": {\"format\": \"xml\"}}",
		     "t.json:1:20: log.format: expected \"text\" or \"json\", got \"xml\"");
	expect_error("{\"baseline\": 1}",
		     "t.json:1:14: baseline: expected \"last_good\" or \"self\", got a number");
	expect_error("{\"log\": {\"level\": 8}}",
		     "t.json:1:19: log.level: expected a syslog level (emerg, alert, crit, err, "
		     "warning, notice, info, debug) or 0..7, got 8");
	expect_error("{\"log\": {\"level\": \"verbose\"}}",
		     "t.json:1:19: log.level: expected a syslog level (emerg, alert, crit, err, "
		     "warning, notice, info, debug) or 0..7, got a string");
	expect_error("{\"breach_windows\": 2.5}",
		     "t.json:1:20: breach_windows: expected a non-negative integer, got 2.5");
	expect_error("{\"breach_windows\": -1}",
		     "t.json:1:20: breach_windows: expected a non-negative integer, got -1");
	expect_error("{\"breach_windows\": 0}",
		     "t.json:1:20: breach_windows: must be in [1, 1000], got 0");
	expect_error("{\"dry_run\": \"yes\"}",
		     "t.json:1:13: dry_run: expected true or false, got a string");
	expect_error("{\"dry_run\": 1}", "t.json:1:13: dry_run: expected true or false, got 1");
	expect_error("{\"source\": null}", "t.json:1:12: source: expected a string, got null");
	expect_error("{\"source\": \"\"}", "t.json:1:12: source: must not be empty");
	expect_error("{\"source\": \"http://x\"}",
		     "t.json:1:12: source: expected file:PATH, file:- or kafka:TOPIC[,TOPIC...] "
		     "(topics: letters, digits, '.', '_', '-')");
	expect_error("{\"source\": \"kafka:a,,b\"}",
		     "t.json:1:12: source: expected file:PATH, file:- or kafka:TOPIC[,TOPIC...] "
		     "(topics: letters, digits, '.', '_', '-')");
	expect_error("{\"events\": \"kafka:a,b\"}",
		     "t.json:1:12: events: expected file:PATH, file:- or kafka:TOPIC");
	expect_error("{\"labels\": \"file:x\"}", "t.json:1:12: labels: expected kafka:TOPIC");
	expect_error("{\"group\": \"a\\nb\"}",
		     "t.json:1:11: group: must be UTF-8 text without control characters");
	expect_error("{\"metrics_listen\": \"localhost\"}",
		     "t.json:1:20: metrics_listen: expected HOST:PORT or [IPV6]:PORT, PORT in "
		     "0..65535");
	expect_error("{\"metrics_listen\": \"h:65536\"}",
		     "t.json:1:20: metrics_listen: expected HOST:PORT or [IPV6]:PORT, PORT in "
		     "0..65535");
	expect_error("{\"metrics_listen\": \"::1:80\"}",
		     "t.json:1:20: metrics_listen: expected HOST:PORT or [IPV6]:PORT, PORT in "
		     "0..65535");
	expect_error(
	    "{\"agent_id\": \"a b\"}",
	    "t.json:1:14: agent_id: expected 1 to 253 letters, digits, '.', '_', '~' or '-'");
	expect_error(
	    "{\"kafka\": {\"linger.ms\": null}}",
	    "t.json:1:25: kafka.linger.ms: expected a string, number or boolean, got null");
	expect_error(
	    "{\"kafka\": [\"a\"]}",
	    "t.json:1:11: kafka: expected an object of librdkafka properties, got an array");
	expect_error(
	    "{\"kafka\": {\"a b\": 1}}",
	    "t.json:1:12: kafka: invalid property name \"a b\" (letters, digits, '.', '_', "
	    "'-')");
	expect_error("{\"rules\": {\"kafka\": {}}}",
		     "t.json:1:12: unknown key \"kafka\" in \"rules\"");
}

static void test_file_errors_syntax(void **state)
{
	char deep[512];
	int k;

	(void)state;
	expect_error("{\n  \"window\": 60\n  \"grace\": 5\n}", "t.json:3:3: expected ',' or '}'");
	expect_error("{\"window\": 60,}", "t.json:1:15: trailing comma before '}'");
	expect_error("{\"window\": [1,]}", "t.json:1:15: expected a value, got ']'");
	expect_error("{\"window\" 60}", "t.json:1:11: expected ':' after the key");
	expect_error("{window: 60}", "t.json:1:2: expected a key (a double-quoted string)");
	expect_error("{\"window\": 60",
		     "t.json:1:14: unexpected end of input: expected ',' or '}'");
	expect_error("{\"window\": ", "t.json:1:12: unexpected end of input: expected a value");
	expect_error("{\"window\": [1",
		     "t.json:1:14: unexpected end of input: expected ',' or ']'");
	expect_error("{\"window\": [1 2]}", "t.json:1:15: expected ',' or ']'");
	expect_error("{\n", "t.json:2:1: unexpected end of input in an object");
	expect_error("{\"group\": \"abc", "t.json:1:11: unterminated string");
	expect_error("{\"group\": \"abc\\", "t.json:1:11: unterminated string");
	expect_error("{\"group\": \"a\\qb\"}", "t.json:1:13: invalid escape sequence in a string");
	expect_error("{\"group\": \"a\\u12g4\"}", "t.json:1:13: invalid \\u escape in a string");
	expect_error("{\"group\": \"\\ud800\"}",
		     "t.json:1:12: invalid \\u escape in a string: unpaired surrogate");
	expect_error("{\"group\": \"\\udc00\\ud800\"}",
		     "t.json:1:12: invalid \\u escape in a string: unpaired surrogate");
	expect_error("{\"group\": \"\\u0000\"}", "t.json:1:12: \\u0000 is not allowed in a string");
	expect_error("{\"group\": \"a\xff\"}", "t.json:1:13: invalid UTF-8 in a string");
	expect_error("{\"group\": \"a\xc0\xaf\"}", "t.json:1:13: invalid UTF-8 in a string");
	expect_error("{\"group\": \"a\xed\xa0\x80\"}", "t.json:1:13: invalid UTF-8 in a string");
	expect_error("{\"group\": \"a\xe2\x82\"}", "t.json:1:13: invalid UTF-8 in a string");
	expect_error("{\"group\": \"a\tb\"}",
		     "t.json:1:13: control character in a string (write it as an escape)");
	expect_error("{\"window\": 01}", "t.json:1:12: invalid number");
	expect_error("{\"window\": 1.}", "t.json:1:12: invalid number");
	expect_error("{\"window\": -}", "t.json:1:12: invalid number");
	expect_error("{\"window\": 1e}", "t.json:1:12: invalid number");
	expect_error("{\"window\": 1x}", "t.json:1:12: invalid number");
	expect_error("{\"window\": .5}", "t.json:1:12: expected a value, got '.'");
	expect_error("{\"window\": +5}", "t.json:1:12: expected a value, got '+'");
	expect_error("{\"dry_run\": tru}",
		     "t.json:1:13: invalid literal (strings need double quotes)");
	expect_error("{\"dry_run\": True}",
		     "t.json:1:13: invalid literal (strings need double quotes)");
	expect_error("{\"dry_run\": nullx}",
		     "t.json:1:13: invalid literal (strings need double quotes)");
	expect_error("{\"window\": 60} x", "t.json:1:16: unexpected data after the JSON object");
	expect_error("{} {}", "t.json:1:4: unexpected data after the JSON object");
	expect_error_n("{\"window\": 60}\0", 15,
		       "t.json:1:15: unexpected data after the JSON object");
	expect_error_n("{\"window\"\0: 60}", 15, "t.json:1:10: expected ':' after the key");
	expect_error("", "t.json:1:1: empty document: expected a JSON object");
	expect_error("  \n ", "t.json:2:2: empty document: expected a JSON object");
	expect_error("[1]", "t.json:1:1: the configuration must be a JSON object");
	expect_error("\"x\"", "t.json:1:1: the configuration must be a JSON object");
	expect_error("{\"window\": \x01}", "t.json:1:12: expected a value");
	/* nesting: the object is level 1, so the 32nd '[' opens level 33 */
	k = snprintf(deep, sizeof deep, "{\"x\": ");
	for (int d = 0; d < 40; d++)
		deep[k++] = '[';
	deep[k] = '\0';
	expect_error(deep, "t.json:1:38: nesting deeper than 32 levels");
	k = snprintf(deep, sizeof deep, "{");
	for (int d = 0; d < 40; d++)
		k += snprintf(deep + k, sizeof deep - (size_t)k, "\"a\":{");
	expect_error(deep, "t.json:1:161: nesting deeper than 32 levels");
	/* columns count characters, not bytes; CRLF ends a line */
	expect_error("{\"group\": \"\xc3\xa9\xc3\xa9\xe2\x82\xac\", \"windw\": 5}",
		     "t.json:1:18: unknown key \"windw\" (did you mean \"window\"?)");
	expect_error("{\r\n  \"windw\": 1\r\n}",
		     "t.json:2:3: unknown key \"windw\" (did you mean \"window\"?)");
	/* a syntax error is found before a semantic one earlier in the document */
	expect_error("{\"windw\": 1, \"grace\": }", "t.json:1:23: expected a value, got '}'");
}

static void test_file_size_limit(void **state)
{
	size_t n = 1024 * 1024 + 1;
	char *big = malloc(n + 1);

	(void)state;
	assert_non_null(big);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	big[n] = '\0';
	expect_error_n(big, n, "t.json:1:1: larger than 1048576 bytes (1 MiB)");
	/* exactly 1 MiB is accepted */
	{
		struct agent_config c;

		agent_config_defaults(&c);
		big[n - 2] = '}';
		assert_int_equal(agent_config_load_string(&c, "t", big, n - 1, err, sizeof err), 0);
		agent_config_free(&c);
	}
	free(big);
}

static void test_load_file(void **state)
{
	struct agent_config c;
	const char doc[] = "{\n  \"window\": 120,\n  \"grace\": \"x\"\n}\n";
	char *path = temp_file(doc, sizeof doc - 1), want[512];
	char *good = temp_file("{\"window\": 120}", 15);

	(void)state;
	agent_config_defaults(&c);
	assert_int_equal(agent_config_load_file(&c, path, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s:3:12: grace: expected a number of seconds, got a string",
		 path);
	assert_string_equal(err, want);
	assert_true(c.window_s == 60.0); /* unchanged */
	assert_int_equal(agent_config_load_file(&c, good, err, sizeof err), 0);
	assert_true(c.window_s == 120.0);
	assert_int_equal(agent_config_load_file(&c, "/nonexistent/driftd.json", err, sizeof err),
			 -1);
	assert_string_equal(err,
			    "/nonexistent/driftd.json: cannot open: No such file or directory");
	assert_int_equal(agent_config_load_file(&c, "/", err, sizeof err), -1);
	assert_string_equal(err, "/: cannot read: Is a directory");
	unlink(path);
	unlink(good);
	free(path);
	free(good);
	{
		size_t n = 1024 * 1024 + 10;
		char *big = malloc(n);

		assert_non_null(big);
		memset(big, ' ', n);
		big[0] = '{';
		big[n - 1] = '}';
		path = temp_file(big, n);
		assert_int_equal(agent_config_load_file(&c, path, err, sizeof err), -1);
		snprintf(want, sizeof want, "%s: larger than 1048576 bytes (1 MiB)", path);
		assert_string_equal(err, want);
		unlink(path);
		free(path);
		free(big);
	}
	agent_config_free(&c);
}

/* ---- environment ---- */

static void test_env(void **state)
{
	struct agent_config c;
	char *before, *after;

	(void)state;
	agent_config_defaults(&c);
	assert_int_equal(load(&c, "{\"labels\": \"kafka:l\"}"), 0);
	if (env(&c, "PATH=/bin", "DRIFTD_WINDOW=45", "DRIFTD_DRY_RUN=yes",
		"DRIFTD_LABELS=", "DRIFTD_HIST_KERNEL=ref", "DRIFTD_NO_EQUALS_SIGN",
		"DRIFTD_RULES_KL_THRESHOLD=0.3", "DRIFTD_RULES_KL_DIRECTION=baseline_live",
		"DRIFTD_LOG_LEVEL=err", "DRIFTD_LIMITS_MAX_MODELS=10", "DRIFTD_MIN_SAMPLES=0",
		"DRIFTD_DEAD_LETTERS=kafka:d", "DRIFTD_RULES_PSI_ENABLED=ON", NULL))
		fail_msg("%s", err);
	assert_true(c.window_s == 45.0);
	assert_int_equal(c.dry_run, 1);
	assert_null(c.labels);
	assert_true(c.kl.threshold == 0.3);
	assert_int_equal(c.kl_direction, AGENT_KL_BASELINE_LIVE);
	assert_int_equal(c.log_level, 3);
	assert_int_equal(c.max_models, 10);
	assert_int_equal(c.min_samples, 0);
	assert_string_equal(c.dead_letters, "kafka:d");
	assert_int_equal(c.psi.enabled, 1);
	assert_int_equal(agent_config_load_env(&c, NULL, err, sizeof err), 0);

	/* errors leave the configuration unchanged, even after good variables */
	before = dump_str(&c);
	assert_int_equal(env(&c, "DRIFTD_GRACE=1", "DRIFTD_WINDOWS=5", NULL), -1);
	assert_string_equal(err, "environment: unknown variable DRIFTD_WINDOWS (did you mean "
				 "\"DRIFTD_WINDOW\"?)");
	after = dump_str(&c);
	assert_string_equal(before, after);
	free(after);
	assert_int_equal(env(&c, "DRIFTD_TOTALLY_UNRELATED=1", NULL), -1);
	assert_string_equal(err, "environment: unknown variable DRIFTD_TOTALLY_UNRELATED");
	assert_int_equal(env(&c, "DRIFTD_WINDOW=abc", NULL), -1);
	assert_string_equal(err, "DRIFTD_WINDOW: expected a number of seconds, got \"abc\"");
	assert_int_equal(env(&c, "DRIFTD_WINDOW=nan", NULL), -1);
	assert_string_equal(err, "DRIFTD_WINDOW: expected a number of seconds, got \"nan\"");
	assert_int_equal(env(&c, "DRIFTD_WINDOW=inf", NULL), -1);
	assert_string_equal(err, "DRIFTD_WINDOW: expected a number of seconds, got \"inf\"");
	assert_int_equal(env(&c, "DRIFTD_WINDOW=0x10", NULL), -1);
	assert_string_equal(err, "DRIFTD_WINDOW: expected a number of seconds, got \"0x10\"");
	assert_int_equal(env(&c, "DRIFTD_WINDOW= 5", NULL), -1);
	assert_string_equal(err, "DRIFTD_WINDOW: expected a number of seconds, got \" 5\"");
	assert_int_equal(env(&c, "DRIFTD_WINDOW=1e999", NULL), -1);
	assert_string_equal(err, "DRIFTD_WINDOW: must be in (0, 604800], got 1e999");
	assert_int_equal(env(&c, "DRIFTD_BREACH_WINDOWS=-1", NULL), -1);
	assert_string_equal(err, "DRIFTD_BREACH_WINDOWS: expected a non-negative integer, got "
				 "\"-1\"");
	assert_int_equal(env(&c, "DRIFTD_BREACH_WINDOWS=99999999999999999999999", NULL), -1);
	assert_string_equal(err, "DRIFTD_BREACH_WINDOWS: must be in [1, 1000], got "
				 "99999999999999999999999");
	assert_int_equal(env(&c, "DRIFTD_SOURCE=", NULL), -1);
	assert_string_equal(err, "DRIFTD_SOURCE: must not be empty");
	assert_int_equal(env(&c, "DRIFTD_GROUP=\xff", NULL), -1);
	assert_string_equal(err, "DRIFTD_GROUP: must be UTF-8 text without control characters");
	assert_int_equal(env(&c, "DRIFTD_GROUP=a\tb", NULL), -1);
	assert_string_equal(err, "DRIFTD_GROUP: must be UTF-8 text without control characters");
	assert_int_equal(env(&c, "DRIFTD_DRY_RUN=maybe", NULL), -1);
	assert_string_equal(err, "DRIFTD_DRY_RUN: expected true or false, got \"maybe\"");
	assert_int_equal(env(&c, "DRIFTD_BASELINE=best", NULL), -1);
	assert_string_equal(err, "DRIFTD_BASELINE: expected \"last_good\" or \"self\", got "
				 "\"best\"");
	assert_int_equal(env(&c, "DRIFTD_LOG_LEVEL=8", NULL), -1);
	assert_string_equal(err, "DRIFTD_LOG_LEVEL: expected a syslog level (emerg, alert, crit, "
				 "err, warning, notice, info, debug) or 0..7, got \"8\"");
	after = dump_str(&c);
	assert_string_equal(before, after);
	free(before);
	free(after);
	agent_config_free(&c);
}

/* ---- flags ---- */

static void test_args(void **state)
{
	struct agent_config c;
	int i;

	(void)state;
	agent_config_defaults(&c);
	if (args(&c, &i, "--window", "30", "--grace=2", "--dry-run", "--no-rules.kl.enabled",
		 "--rules.psi.enabled", "--log-level", "debug", "--log-format=json",
		 "--dead-letters", "kafka:dlq", "--metrics-listen=0.0.0.0:1", "--labels=kafka:l",
		 "--labels=", "--kafka.client.id=me", "--kafka.linger.ms", "7",
		 "--rules.accuracy.class_threshold=-1e-3", "--agent-id", "a.b", "demo", "--window",
		 "1", NULL))
		fail_msg("%s", err);
	assert_int_equal(i, 20); /* at "demo" */
	assert_true(c.window_s == 30.0);
	assert_true(c.grace_s == 2.0);
	assert_int_equal(c.dry_run, 1);
	assert_int_equal(c.kl.enabled, 0);
	assert_int_equal(c.psi.enabled, 1);
	assert_int_equal(c.log_level, 7);
	assert_int_equal(c.log_format, AGENT_LOG_JSON);
	assert_string_equal(c.dead_letters, "kafka:dlq");
	assert_string_equal(c.metrics_listen, "0.0.0.0:1");
	assert_null(c.labels);
	assert_string_equal(kafka(&c, "client.id"), "me");
	assert_string_equal(kafka(&c, "linger.ms"), "7");
	assert_true(c.accuracy_threshold == -1e-3);
	assert_string_equal(c.agent_id, "a.b");

	/* bool forms; the dotted name works for options with a short spelling too */
	assert_int_equal(args(&c, &i, "--dry-run=false", NULL), 0);
	assert_int_equal(c.dry_run, 0);
	assert_int_equal(args(&c, &i, "--dry_run", NULL), 0);
	assert_int_equal(c.dry_run, 1);
	assert_int_equal(args(&c, &i, "--no-dry-run", NULL), 0);
	assert_int_equal(c.dry_run, 0);
	assert_int_equal(args(&c, &i, "--rules.kl.enabled=1", NULL), 0);
	assert_int_equal(c.kl.enabled, 1);
	/* a bare boolean does not take the next argument */
	assert_int_equal(args(&c, &i, "--dry-run", "false", NULL), 0);
	assert_int_equal(c.dry_run, 1);
	assert_int_equal(i, 1);
	/* log levels by number and alias */
	assert_int_equal(args(&c, &i, "--log-level", "3", NULL), 0);
	assert_int_equal(c.log_level, 3);
	assert_int_equal(args(&c, &i, "--log-level=CRITICAL", NULL), 0);
	assert_int_equal(c.log_level, 2);
	/* "--" is consumed and ends the flags; "-c" and "-" are not flags of this parser */
	assert_int_equal(args(&c, &i, "--window=5", "--", "--grace", NULL), 0);
	assert_int_equal(i, 2);
	assert_true(c.window_s == 5.0);
	assert_int_equal(args(&c, &i, "-c", "f.json", NULL), 0);
	assert_int_equal(i, 0);
	/* --config (the caller's, like -c) ends the flags too */
	assert_int_equal(args(&c, &i, "--grace=1", "--config", "f.json", NULL), 0);
	assert_int_equal(i, 1);
	assert_int_equal(args(&c, &i, "--config=f.json", "--grace=2", NULL), 0);
	assert_int_equal(i, 0);
	assert_true(c.grace_s == 1.0);
	assert_int_equal(args(&c, &i, "-", NULL), 0);
	assert_int_equal(i, 0);
	assert_int_equal(args(&c, &i, NULL), 0);
	assert_int_equal(i, 0);
	/* a value may start with "--" when it follows its flag */
	assert_int_equal(args(&c, &i, "--group", "--x", NULL), 0);
	assert_string_equal(c.group, "--x");
	assert_int_equal(i, 2);
	agent_config_free(&c);
}

static void test_args_errors(void **state)
{
	struct agent_config c;
	char *before, *after;
	int i;

	(void)state;
	agent_config_defaults(&c);
	before = dump_str(&c);
	assert_int_equal(args(&c, &i, "--window", "30", "--windw", "5", NULL), -1);
	assert_string_equal(err, "unknown option --windw (did you mean \"--window\"?)");
	assert_int_equal(i, 2);
	assert_int_equal(args(&c, &i, "--dead_leters=kafka:x", NULL), -1);
	assert_string_equal(err, "unknown option --dead_leters (did you mean \"--dead_letters\"?)");
	assert_int_equal(args(&c, &i, "--no-window", NULL), -1);
	assert_string_equal(err, "unknown option --no-window");
	assert_int_equal(args(&c, &i, "--no-dry-run=1", NULL), -1);
	assert_string_equal(err, "--no-dry-run takes no value");
	assert_int_equal(args(&c, &i, "--grace=1", "--window", NULL), -1);
	assert_string_equal(err, "--window: missing value");
	assert_int_equal(i, 1);
	assert_int_equal(args(&c, &i, "--window", "x", NULL), -1);
	assert_string_equal(err, "--window: expected a number of seconds, got \"x\"");
	assert_int_equal(i, 1);
	assert_int_equal(args(&c, &i, "--window=-5", NULL), -1);
	assert_string_equal(err, "--window: must be in (0, 604800], got -5");
	assert_int_equal(args(&c, &i, "--log-format", "xml", NULL), -1);
	assert_string_equal(err, "--log-format: expected \"text\" or \"json\", got \"xml\"");
	assert_int_equal(args(&c, &i, "--kafka.", NULL), -1);
	assert_string_equal(err, "unknown option --kafka.");
	assert_int_equal(args(&c, &i, "--kafka", NULL), -1);
	assert_string_equal(err, "unknown option --kafka");
	assert_int_equal(args(&c, &i, "--kafka.a b=1", NULL), -1);
	assert_string_equal(err, "--kafka.a b: invalid Kafka property name");
	assert_int_equal(args(&c, &i, "--kafka.client.id=\xc3", NULL), -1);
	assert_string_equal(err, "--kafka.client.id: must be UTF-8 text");
	assert_int_equal(args(&c, &i, "--kafka.linger.ms", NULL), -1);
	assert_string_equal(err, "--kafka.linger.ms: missing value");
	assert_int_equal(args(&c, &i, "--source", "", NULL), -1);
	assert_string_equal(err, "--source: must not be empty");
	after = dump_str(&c);
	assert_string_equal(before, after);
	free(before);
	free(after);
	agent_config_free(&c);
}

/* Every flag spelling of SPEC.md "Interfaces" exists. */
static void test_spec_flags(void **state)
{
	struct agent_config c;
	int i;

	(void)state;
	agent_config_defaults(&c);
	if (args(&c, &i, "--source", "kafka:in1,in2", "--brokers", "h1:9092,h2:9092", "--group",
		 "g", "--labels", "kafka:labels", "--events", "kafka:out", "--dead-letters",
		 "kafka:dlq", "--store", "redis://:pw@h:6379/1", "--metrics-listen", "127.0.0.1:1",
		 "--window", "15", "--dry-run", "--log-format", "json", "--log-level", "warning",
		 NULL))
		fail_msg("%s", err);
	assert_int_equal(i, 23);
	assert_string_equal(c.source, "kafka:in1,in2");
	assert_string_equal(c.brokers, "h1:9092,h2:9092");
	assert_string_equal(c.group, "g");
	assert_string_equal(c.labels, "kafka:labels");
	assert_string_equal(c.events, "kafka:out");
	assert_string_equal(c.dead_letters, "kafka:dlq");
	assert_string_equal(c.store, "redis://:pw@h:6379/1");
	assert_string_equal(c.metrics_listen, "127.0.0.1:1");
	assert_true(c.window_s == 15.0);
	assert_int_equal(c.dry_run, 1);
	assert_int_equal(c.log_format, AGENT_LOG_JSON);
	assert_int_equal(c.log_level, 4);
	assert_int_equal(agent_config_validate(&c, err, sizeof err), 0);
	assert_int_equal(args(&c, &i, "--store", "unix:/run/redis.sock", "--source", "file:-",
			      "--events", "file:/tmp/ev.jsonl", NULL),
			 0);
	assert_int_equal(args(&c, &i, "--store", "dir:/var/lib/driftd", NULL), 0);
	/* every store spec the store takes (doc/store.md), the socket URL form included */
	assert_int_equal(args(&c, &i, "--store", "redis+unix:///run/redis.sock", NULL), 0);
	assert_string_equal(c.store, "redis+unix:///run/redis.sock");
	assert_int_equal(agent_config_validate(&c, err, sizeof err), 0);
	/* an empty --metrics-listen serves no HTTP at all (doc/http.md): unset, still valid */
	assert_non_null(c.metrics_listen);
	assert_int_equal(args(&c, &i, "--metrics-listen", "", NULL), 0);
	assert_null(c.metrics_listen);
	assert_int_equal(agent_config_validate(&c, err, sizeof err), 0);
	agent_config_free(&c);
}

/* ---- precedence: defaults < file < environment < flags ---- */

static void test_precedence(void **state)
{
	struct agent_config c;
	int i;

	(void)state;
	agent_config_defaults(&c);
	assert_int_equal(load(&c, "{\"window\": 30, \"grace\": 3, \"group\": \"g-file\", "
				  "\"kafka\": {\"linger.ms\": 1, \"acks\": \"all\"}}"),
			 0);
	assert_int_equal(env(&c, "DRIFTD_WINDOW=40", "DRIFTD_GROUP=g-env", NULL), 0);
	assert_int_equal(args(&c, &i, "--window", "50", "--kafka.linger.ms=9", NULL), 0);
	assert_true(c.window_s == 50.0);       /* flag over env over file */
	assert_string_equal(c.group, "g-env"); /* env over file */
	assert_true(c.grace_s == 3.0);	       /* file over default */
	assert_true(c.cooldown_s == 600.0);    /* default */
	assert_string_equal(kafka(&c, "linger.ms"), "9");
	assert_string_equal(kafka(&c, "acks"), "all");
	assert_int_equal(c.kafka_n, 2);
	/* a second file applies over the first */
	assert_int_equal(load(&c, "{\"grace\": 4}"), 0);
	assert_true(c.grace_s == 4.0);
	assert_true(c.window_s == 50.0);
	agent_config_free(&c);
}

/* ---- bounds ---- */

static void test_bounds(void **state)
{
	static const struct {
		const char *json;
		int ok;
	} cases[] = {
		{ "{\"window\": 0}", 0 },
		{ "{\"window\": 1e-9}", 1 },
		{ "{\"window\": 604800}", 1 },
		{ "{\"window\": 604800.5}", 0 },
		{ "{\"grace\": 0}", 1 },
		{ "{\"grace\": -1}", 0 },
		{ "{\"rules\": {\"kl\": {\"fdr\": 0}}}", 0 },
		{ "{\"rules\": {\"kl\": {\"fdr\": 1}}}", 0 },
		{ "{\"rules\": {\"kl\": {\"fdr\": 0.999}}}", 1 },
		{ "{\"rules\": {\"alpha\": -0.1}}", 0 },
		{ "{\"rules\": {\"alpha\": 0}}", 1 },
		{ "{\"rules\": {\"kl\": {\"threshold\": 0}}}", 1 },
		{ "{\"rules\": {\"kl\": {\"threshold\": 1e308}}}", 1 },
		{ "{\"rules\": {\"kl\": {\"threshold\": 1e309}}}", 0 },
		{ "{\"rules\": {\"js\": {\"threshold\": 1.5}}}", 0 },
		{ "{\"rules\": {\"accuracy\": {\"threshold\": 1}}}", 1 },
		{ "{\"rules\": {\"accuracy\": {\"class_threshold\": -1e308}}}", 1 },
		{ "{\"rules\": {\"accuracy\": {\"class_threshold\": -1e999}}}", 0 },
		{ "{\"breach_windows\": 1000}", 1 },
		{ "{\"breach_windows\": 1001}", 0 },
		{ "{\"sliding_windows\": 0}", 0 },
		{ "{\"min_samples\": 0}", 1 },
		{ "{\"min_samples\": 1000000000001}", 0 },
		{ "{\"min_samples\": 18446744073709551616}", 0 },
		{ "{\"limits\": {\"max_categories\": 65537}}", 0 },
		{ "{\"limits\": {\"max_message\": 1023}}", 0 },
		{ "{\"limits\": {\"max_models\": 0}}", 0 },
		{ "{\"replay_speed\": -0.5}", 0 },
		{ "{\"cooldown\": 2592001}", 0 },
		{ "{\"log\": {\"level\": 7}}", 1 },
		{ "{\"log\": {\"level\": 7.0}}", 0 },
	};

	(void)state;
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		struct agent_config c;
		int rc;

		agent_config_defaults(&c);
		rc = load(&c, cases[k].json);
		if ((rc == 0) != cases[k].ok)
			fail_msg("%s: got %d (%s)", cases[k].json, rc, err);
		agent_config_free(&c);
	}
	expect_error("{\"rules\": {\"kl\": {\"fdr\": 0}}}",
		     "t.json:1:26: rules.kl.fdr: must be in (0, 1), got 0");
	expect_error("{\"rules\": {\"kl\": {\"threshold\": 1e309}}}",
		     "t.json:1:32: rules.kl.threshold: must be >= 0, got 1e309");
	expect_error("{\"rules\": {\"accuracy\": {\"class_threshold\": -1e999}}}",
		     "t.json:1:44: rules.accuracy.class_threshold: must be a finite number, got "
		     "-1e999");
	expect_error("{\"window\": 0}", "t.json:1:12: window: must be in (0, 604800], got 0");
	expect_error("{\"limits\": {\"max_categories\": 65537}}",
		     "t.json:1:31: limits.max_categories: must be in [1, 65536], got 65537");
}

/* ---- secrets ---- */

static void test_secrets_masked(void **state)
{
	static const struct {
		const char *store, *shown;
	} stores[] = {
		{ "redis://:" SECRET "@h:6379/0", "redis://:***@h:6379/0" },
		{ "redis://user:" SECRET "@h", "redis://user:***@h" },
		{ "redis://:" SECRET "@h", "redis://:***@h" },
		{ "redis://:hun@ter2:x@h/1", "redis://:***@h/1" },
		{ "redis://h:6379", "redis://h:6379" },
		{ "dir:/var/x@y", "dir:/var/x@y" },
		{ "unix:/run/redis.sock", "unix:/run/redis.sock" },
	};
	struct agent_config c;
	char *d, want[256];

	(void)state;
	for (size_t k = 0; k < sizeof stores / sizeof stores[0]; k++) {
		int i;

		agent_config_defaults(&c);
		assert_int_equal(args(&c, &i, "--store", stores[k].store, NULL), 0);
		assert_string_equal(c.store, stores[k].store);
		d = dump_str(&c);
		snprintf(want, sizeof want, "\"store\": \"%s\"", stores[k].shown);
		if (!strstr(d, want))
			fail_msg("%s not in\n%s", want, d);
		assert_no_secret(d);
		assert_null(strstr(d, "hun@ter2"));
		free(d);
		agent_config_free(&c);
	}
	agent_config_defaults(&c);
	assert_int_equal(load(&c, "{\"kafka\": {\"sasl.password\": \"" SECRET "\",\n"
				  "\"ssl.keystore.password\": \"" SECRET "\",\n"
				  "\"sasl.oauthbearer.client.secret\": \"" SECRET "\",\n"
				  "\"SSL.KEY.PASSWORD\": \"" SECRET "\",\n"
				  "\"ssl.key.pem\": \"" SECRET "\",\n"
				  "\"sasl.oauthbearer.config\": \"clientSecret=" SECRET "\",\n"
				  "\"sasl.username\": \"bob\"}}"),
			 0);
	assert_string_equal(kafka(&c, "sasl.password"), SECRET);
	d = dump_str(&c);
	assert_no_secret(d);
	assert_non_null(strstr(d, "\"sasl.password\": \"***\""));
	assert_non_null(strstr(d, "\"sasl.username\": \"bob\""));
	free(d);
	agent_config_free(&c);

	/* the secrets also come from the environment, masked alike; a later flag wins */
	agent_config_defaults(&c);
	assert_int_equal(env(&c, "DRIFTD_KAFKA_SASL_PASSWORD=" SECRET,
			     "DRIFTD_KAFKA_SSL_KEY_PASSWORD=k" SECRET, NULL),
			 0);
	assert_string_equal(kafka(&c, "sasl.password"), SECRET);
	assert_string_equal(kafka(&c, "ssl.key.password"), "k" SECRET);
	d = dump_str(&c);
	assert_no_secret(d);
	assert_non_null(strstr(d, "\"ssl.key.password\": \"***\""));
	free(d);
	{
		int i;

		assert_int_equal(args(&c, &i, "--kafka.sasl.password=other", NULL), 0);
		assert_string_equal(kafka(&c, "sasl.password"), "other");
	}
	agent_config_free(&c);
}

static void test_secrets_not_in_errors(void **state)
{
	struct agent_config c;
	int i;

	(void)state;
	agent_config_defaults(&c);
	/* file: unquoted, bad escape, control character, bad UTF-8, a wrong type, a bad store */
	assert_int_equal(load(&c, "{\"kafka\": {\"sasl.password\": " SECRET "}}"), -1);
	assert_no_secret(err);
	assert_int_equal(load(&c, "{\"kafka\": {\"sasl.password\": \"" SECRET "\\q\"}}"), -1);
	assert_no_secret(err);
	assert_int_equal(load(&c, "{\"kafka\": {\"sasl.password\": \"" SECRET "\x01\"}}"), -1);
	assert_no_secret(err);
	assert_int_equal(load(&c, "{\"kafka\": {\"sasl.password\": \"" SECRET "\xff\"}}"), -1);
	assert_no_secret(err);
	assert_int_equal(load(&c, "{\"kafka\": {\"sasl.password\": \"" SECRET "\"}, \"x\": 1}"),
			 -1);
	assert_no_secret(err);
	assert_int_equal(load(&c, "{\"store\": \"" SECRET "\"}"), -1);
	assert_no_secret(err);
	assert_int_equal(load(&c, "{\"store\": \"redis://:" SECRET "\x01@h\"}"), -1);
	assert_no_secret(err);
	assert_int_equal(load(&c, "{\"store\": \"" SECRET "\", \"store\": 1}"), -1);
	assert_no_secret(err);
	/* environment and flags */
	assert_int_equal(env(&c, "DRIFTD_STORE=" SECRET, NULL), -1);
	assert_no_secret(err);
	assert_int_equal(env(&c, "DRIFTD_KAFKA_SASL_USERNAME=" SECRET, NULL), -1);
	assert_string_equal(err, "environment: unknown variable DRIFTD_KAFKA_SASL_USERNAME (Kafka "
				 "properties come from the file or --kafka.PROP=VALUE)");
	assert_int_equal(env(&c, "DRIFTD_KAFKA_SASL_PASSWORD=@/nonexistent/" SECRET, NULL), -1);
	assert_non_null(strstr(err, "DRIFTD_KAFKA_SASL_PASSWORD"));
	assert_int_equal(env(&c, "DRIFTD_STORE_PASSWORD=" SECRET, NULL), -1);
	assert_no_secret(err);
	assert_int_equal(args(&c, &i, "--store=" SECRET, NULL), -1);
	assert_no_secret(err);
	assert_int_equal(args(&c, &i, "--store", "ftp://" SECRET, NULL), -1);
	assert_no_secret(err);
	/* a password without the ':' is refused by the one endpoint parser, the spec unquoted */
	assert_int_equal(args(&c, &i, "--store", "redis://" SECRET "@h", NULL), -1);
	assert_string_equal(err, "--store: redis: the part before '@' must be [USER]:PASSWORD (a "
				 "password alone is written :PASSWORD@)");
	assert_int_equal(args(&c, &i, "--sasl.password=" SECRET, NULL), -1);
	assert_string_equal(err, "unknown option --sasl.password");
	assert_int_equal(args(&c, &i, "--sasl.password", SECRET, NULL), -1);
	assert_no_secret(err);
	/* validate */
	free(c.store);
	c.store = strdup(SECRET);
	assert_int_equal(agent_config_validate(&c, err, sizeof err), -1);
	assert_string_equal(err,
			    "store: expected dir:PATH, redis://[:PASSWORD@]HOST[:PORT][/DB] or "
			    "unix:PATH");
	agent_config_free(&c);
}

static void test_at_file(void **state)
{
	struct agent_config c;
	char *pw = temp_file("s3cr3t\n", 7), *url = temp_file("redis://:pw@h:1/0\r\n", 19);
	char *nul = temp_file("a\0b", 3), *big, *empty, json[512], arg[300], want[512];
	int i;

	(void)state;
	agent_config_defaults(&c);
	snprintf(json, sizeof json,
		 "{\"store\": \"@%s\", \"kafka\": {\"sasl.password\": \"@%s\", \"client.id\": "
		 "\"@x\", \"ssl.key.password\": \"@@lit\"}, \"group\": \"@g\"}",
		 url, pw);
	if (load(&c, json))
		fail_msg("%s", err);
	assert_string_equal(c.store, "redis://:pw@h:1/0");
	assert_string_equal(kafka(&c, "sasl.password"), "s3cr3t");
	assert_string_equal(kafka(&c, "client.id"), "@x");	    /* not a secret: literal */
	assert_string_equal(kafka(&c, "ssl.key.password"), "@lit"); /* "@@" escapes */
	assert_string_equal(c.group, "@g");
	/* environment and flags */
	snprintf(arg, sizeof arg, "DRIFTD_STORE=@%s", url);
	assert_int_equal(env(&c, "DRIFTD_STORE=dir:x", NULL), 0);
	assert_int_equal(env(&c, arg, NULL), 0);
	assert_string_equal(c.store, "redis://:pw@h:1/0");
	snprintf(arg, sizeof arg, "--kafka.sasl.password=@%s", pw);
	assert_int_equal(args(&c, &i, "--kafka.sasl.password=x", arg, NULL), 0);
	assert_string_equal(kafka(&c, "sasl.password"), "s3cr3t");
	/* errors: missing, not a regular file, a NUL byte, too large, "@" alone */
	expect_error(
	    "{\"store\": \"@/nonexistent/x\"}",
	    "t.json:1:11: store: cannot open secret file \"/nonexistent/x\": No such file or "
	    "directory");
	expect_error("{\"store\": \"@/tmp\"}",
		     "t.json:1:11: store: secret file \"/tmp\" is not a regular file");
	expect_error("{\"store\": \"@\"}",
		     "t.json:1:11: store: \"@\" must be followed by a file name");
	empty = temp_file("\n", 1);
	snprintf(json, sizeof json, "{\"store\": \"@%s\"}", empty);
	expect_error(json, "t.json:1:11: store: must not be empty");
	unlink(empty);
	free(empty);
	snprintf(json, sizeof json, "{\"kafka\": {\"sasl.password\": \"@%s\"}}", nul);
	snprintf(want, sizeof want,
		 "t.json:1:29: kafka.sasl.password: secret file \"%s\" contains a NUL byte", nul);
	expect_error(json, want);
	big = malloc(65537);
	assert_non_null(big);
	memset(big, 'x', 65537);
	unlink(nul);
	free(nul);
	nul = temp_file(big, 65537);
	snprintf(json, sizeof json, "{\"kafka\": {\"sasl.password\": \"@%s\"}}", nul);
	snprintf(want, sizeof want,
		 "t.json:1:29: kafka.sasl.password: secret file \"%s\" is larger than 65536 bytes",
		 nul);
	expect_error(json, want);
	free(big);
	unlink(pw);
	unlink(url);
	unlink(nul);
	free(pw);
	free(url);
	free(nul);
	agent_config_free(&c);
}

/* ---- Kafka pass-through ---- */

static void test_kafka(void **state)
{
	struct agent_config c;
	char *doc, *d;
	size_t cap = 1100 * 16, k = 0;
	int i;

	(void)state;
	agent_config_defaults(&c);
	assert_int_equal(
	    load(&c, "{\"kafka\": {\"b.prop\": \"x\", \"a.prop\": 1.5, \"c\": false}}"), 0);
	/* values may hold any text, control characters included; the dump escapes them */
	assert_int_equal(load(&c, "{\"kafka\": {\"e\": \"\\t\\r\\n\\u0001\\u007f\"}}"), 0);
	assert_string_equal(kafka(&c, "e"), "\t\r\n\x01\x7f");
	d = dump_str(&c);
	assert_non_null(strstr(d, "\"e\": \"\\t\\r\\n\\u0001\x7f\""));
	free(d);
	assert_int_equal(args(&c, &i, "--kafka.b.prop", "y", "--kafka.d=", "--kafka.e=", NULL), 0);
	assert_int_equal(c.kafka_n, 5);
	assert_string_equal(kafka(&c, "b.prop"), "y");
	assert_string_equal(kafka(&c, "a.prop"), "1.5");
	assert_string_equal(kafka(&c, "c"), "false");
	assert_string_equal(kafka(&c, "d"), "");
	/* the dump lists them sorted by name */
	d = dump_str(&c);
	assert_non_null(
	    strstr(d, "\"kafka\": {\n    \"a.prop\": \"1.5\",\n    \"b.prop\": \"y\",\n"
		      "    \"c\": \"false\",\n    \"d\": \"\",\n    \"e\": \"\"\n  }\n}\n"));
	free(d);
	agent_config_free(&c);

	/* at most 4096 keys in one object */
	doc = malloc(4100 * 16);
	assert_non_null(doc);
	k = (size_t)snprintf(doc, 4100 * 16, "{\"kafka\": {\n");
	for (int p = 0; p < 4097; p++)
		k += (size_t)snprintf(doc + k, 4100 * 16 - k, "\"k%04d\": 1%s\n", p,
				      p < 4096 ? "," : "");
	snprintf(doc + k, 4100 * 16 - k, "}}");
	expect_error(doc, "t.json:4098:1: more than 4096 keys in one object");
	free(doc);
	k = 0;

	/* at most 1024 properties */
	doc = malloc(cap);
	assert_non_null(doc);
	k += (size_t)snprintf(doc + k, cap - k, "{\"kafka\": {\n");
	for (int p = 0; p < 1025; p++)
		k += (size_t)snprintf(doc + k, cap - k, "\"p%04d\": 1%s\n", p, p < 1024 ? "," : "");
	snprintf(doc + k, cap - k, "}}");
	expect_error(doc, "t.json:1026:10: kafka.p1024: more than 1024 properties");
	free(doc);
}

/* ---- validate ---- */

static void expect_invalid(struct agent_config *c, const char *want)
{
	err[0] = '\0';
	assert_int_equal(agent_config_validate(c, err, sizeof err), -1);
	assert_string_equal(err, want);
}

static void test_validate(void **state)
{
	struct agent_config c;
	int i;

	(void)state;
	agent_config_defaults(&c);
	assert_int_equal(args(&c, &i, "--source", "kafka:in", NULL), 0);
	expect_invalid(&c, "source: kafka:in needs Kafka brokers (brokers, --brokers or "
			   "DRIFTD_BROKERS)");
	assert_int_equal(args(&c, &i, "--brokers", "h:9092", NULL), 0);
	assert_int_equal(agent_config_validate(&c, err, sizeof err), 0);
	assert_int_equal(args(&c, &i, "--brokers=", "--kafka.bootstrap.servers=h:9092", NULL), 0);
	assert_int_equal(agent_config_validate(&c, err, sizeof err), 0);
	assert_int_equal(args(&c, &i, "--brokers=h:1", NULL), 0);
	expect_invalid(&c, "brokers: set either brokers or kafka.bootstrap.servers, not both");
	agent_config_free(&c);

	agent_config_defaults(&c);
	assert_int_equal(args(&c, &i, "--events", "kafka:ev", NULL), 0);
	expect_invalid(&c, "events: kafka:ev needs Kafka brokers (brokers, --brokers or "
			   "DRIFTD_BROKERS)");
	assert_int_equal(args(&c, &i, "--events", "file:-", "--labels", "kafka:l", NULL), 0);
	expect_invalid(&c, "labels: kafka:l needs Kafka brokers (brokers, --brokers or "
			   "DRIFTD_BROKERS)");
	assert_int_equal(args(&c, &i, "--labels=", "--dead-letters", "kafka:d", NULL), 0);
	expect_invalid(&c, "dead_letters: kafka:d needs Kafka brokers (brokers, --brokers or "
			   "DRIFTD_BROKERS)");
	assert_int_equal(args(&c, &i, "--kafka.metadata.broker.list=h:1", NULL), 0);
	assert_int_equal(agent_config_validate(&c, err, sizeof err), 0);
	agent_config_free(&c);

	agent_config_defaults(&c);
	assert_int_equal(args(&c, &i, "--grace", "60", NULL), 0);
	expect_invalid(&c, "grace: must be shorter than window (60 >= 60)");
	assert_int_equal(args(&c, &i, "--window", "60.5", NULL), 0);
	assert_int_equal(agent_config_validate(&c, err, sizeof err), 0);
	assert_int_equal(
	    args(&c, &i, "--brokers=b:1", "--source=kafka:a,b", "--events=kafka:b", NULL), 0);
	expect_invalid(&c, "events: the rollback topic must not be a source topic");
	assert_int_equal(args(&c, &i, "--events=kafka:ev", "--labels=kafka:a", NULL), 0);
	expect_invalid(&c, "labels: the labels topic must not be a source topic");
	assert_int_equal(args(&c, &i, "--labels=kafka:l", "--dead-letters=kafka:ev", NULL), 0);
	expect_invalid(&c, "dead_letters: the dead-letter topic must differ from the source and "
			   "events topics");
	assert_int_equal(args(&c, &i, "--dead-letters=kafka:dlq", NULL), 0);
	assert_int_equal(agent_config_validate(&c, err, sizeof err), 0);
	assert_int_equal(args(&c, &i, "--kafka.group.id=x", NULL), 0);
	expect_invalid(&c, "kafka.group.id: set the consumer group with group (--group)");
	agent_config_free(&c);

	/* values set by code are checked like loaded ones */
	agent_config_defaults(&c);
	c.window_s = -1;
	expect_invalid(&c, "window: must be in (0, 604800], got -1");
	c.window_s = 60;
	c.fdr = NAN;
	expect_invalid(&c, "rules.kl.fdr: must be in (0, 1), got nan");
	c.fdr = 0.05;
	c.log_level = 9;
	expect_invalid(&c, "log.level: must be in [0, 7], got 9");
	c.log_level = 6;
	c.baseline = (enum agent_baseline_ref)5;
	expect_invalid(&c, "baseline: invalid value 5");
	c.baseline = AGENT_BASELINE_SELF;
	c.max_models = 0;
	expect_invalid(&c, "limits.max_models: must be in [1, 65536], got 0");
	c.max_models = 64;
	free(c.source);
	c.source = NULL;
	expect_invalid(&c, "source: must be set");
	c.source = strdup("");
	expect_invalid(&c, "source: must not be empty");
	free(c.source);
	c.source = strdup("file:-");
	assert_int_equal(agent_config_validate(&c, err, sizeof err), 0);
	agent_config_free(&c);
}

/* ---- dump ---- */

static void count_leaf(const char *path, const json_t *v, void *ctx)
{
	(void)path;
	(void)v;
	(*(size_t *)ctx)++;
}

static void test_dump(void **state)
{
	struct agent_config c, back;
	json_t *j;
	char *d1, *d2;
	size_t nleaves = 0;

	(void)state;
	agent_config_defaults(&c);
	j = parse_dump(&c);
	assert_string_equal(json_string_value(json_object_get(j, "source")), "file:-");
	assert_true(json_is_null(json_object_get(j, "brokers")));
	assert_true(json_real_value(json_object_get(j, "window")) == 60.0 ||
		    json_integer_value(json_object_get(j, "window")) == 60);
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(json_object_get(j, "rules"), "kl"), "direction")),
			    "live_baseline");
	assert_true(json_number_value(json_object_get(
			json_object_get(json_object_get(j, "rules"), "kl"), "threshold")) == 0.2);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "log"), "level")),
			    "info");
	assert_int_equal(json_object_size(json_object_get(j, "kafka")), 0);
	leaves(j, "", count_leaf, &nleaves);
	assert_int_equal(nleaves, 68); /* 67 options and the kafka object */
	json_decref(j);
	agent_config_free(&c);

	/* every type round-trips: load(dump(c)) dumps the same */
	agent_config_defaults(&c);
	assert_int_equal(load(&c, every_type), 0);
	assert_int_equal(load(&c,
			      "{\"group\": \"q\\\"\\\\\\n\\u0001\\u00e9\", "
			      "\"rules\": {\"accuracy\": {\"class_threshold\": 0.1234567890123}}, "
			      "\"kafka\": {\"ssl.ca.pem\": \"-----BEGIN\\nX\\n\"}}"),
			 -1); /* control characters are refused ... */
	assert_int_equal(load(&c,
			      "{\"group\": \"q\\\"\\\\/\\u00e9\", "
			      "\"rules\": {\"accuracy\": {\"class_threshold\": 0.1234567890123}}, "
			      "\"kafka\": {\"ssl.ca.pem\": \"-----BEGIN\\nX\\n\"}}"),
			 0); /* ... except in Kafka values */
	d1 = dump_str(&c);
	j = parse_dump(&c);
	assert_string_equal(json_string_value(json_object_get(j, "group")), "q\"\\/\xc3\xa9");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(j, "kafka"), "ssl.ca.pem")),
	    "-----BEGIN\nX\n");
	json_decref(j);
	agent_config_defaults(&back);
	if (agent_config_load_string(&back, "dump", d1, strlen(d1), err, sizeof err))
		fail_msg("%s\n%s", err, d1);
	d2 = dump_str(&back);
	assert_string_equal(d1, d2);
	assert_true(back.accuracy_threshold == 0.1234567890123);
	free(d1);
	free(d2);
	agent_config_free(&back);
	agent_config_free(&c);
}

/* ---- documentation ---- */

struct doc_ctx {
	const char *doc;
	size_t n;
};

static void check_doc_leaf(const char *path, const json_t *v, void *ctx)
{
	struct doc_ctx *dc = ctx;
	char want[300], envname[300];
	size_t k = 0;

	(void)v;
	if (!strcmp(path, "kafka"))
		return;
	snprintf(want, sizeof want, "| `%s` |", path);
	if (!strstr(dc->doc, want))
		fail_msg("%s is not documented", path);
	k = (size_t)snprintf(envname, sizeof envname, "`DRIFTD_");
	for (const char *p = path; *p; p++)
		envname[k++] = *p == '.' ? '_' : (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	envname[k++] = '`';
	envname[k] = '\0';
	if (!strstr(dc->doc, envname))
		fail_msg("%s is not documented", envname);
	snprintf(want, sizeof want, "`--%s`", path);
	if (!strstr(dc->doc, want))
		fail_msg("%s is not documented", want);
	dc->n++;
}

static void test_write_doc(void **state)
{
	static const char *const spec_flags[] = {
		"`--source`",		"`--brokers`",	    "`--group`",      "`--labels`",
		"`--events`",		"`--dead-letters`", "`--store`",      "`--metrics-listen`",
		"`--window`",		"`--dry-run`",	    "`--log-format`", "`--log-level`",
		"`--kafka.PROP=VALUE`", "`@FILE`",
	};
	struct agent_config c;
	struct doc_ctx dc;
	char *doc = doc_str(), *again = doc_str();
	json_t *j;

	(void)state;
	assert_string_equal(doc, again); /* deterministic */
	assert_true(!strncmp(doc, "<!-- Generated from agent/config.c", 34));
	agent_config_defaults(&c);
	j = parse_dump(&c);
	dc.doc = doc;
	dc.n = 0;
	leaves(j, "", check_doc_leaf, &dc);
	assert_int_equal(dc.n, 67);
	for (size_t k = 0; k < sizeof spec_flags / sizeof spec_flags[0]; k++)
		if (!strstr(doc, spec_flags[k]))
			fail_msg("%s is not documented", spec_flags[k]);
	json_decref(j);
	agent_config_free(&c);
	free(doc);
	free(again);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_file_every_type),
		cmocka_unit_test(test_file_small_forms),
		cmocka_unit_test(test_file_errors_semantic),
		cmocka_unit_test(test_file_errors_syntax),
		cmocka_unit_test(test_file_size_limit),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_args_errors),
		cmocka_unit_test(test_spec_flags),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_secrets_masked),
		cmocka_unit_test(test_secrets_not_in_errors),
		cmocka_unit_test(test_at_file),
		cmocka_unit_test(test_kafka),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_write_doc),
	};

	return TU_RUN(tests);
}

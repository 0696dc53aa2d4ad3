/*
 * fuzz_config.c -- fuzz target of the configuration: the strict JSON reader (agent/jsonpos.c),
 * the file, flag and environment loaders (agent/config_load.c, config_value.c), the checks
 * (config_check.c) and the dump (config_doc.c).
 *
 * Every input is used three times: (a) as a configuration document for agent_config_load_string,
 * (b) split at newlines into arguments for agent_config_load_args, (c) split at newlines into
 * "NAME=VALUE" entries for agent_config_load_env. Invariants: a failed load leaves the
 * configuration exactly as it was (its dump is unchanged) and says why (for a document:
 * "fuzz:LINE:COL: message"); a successful one dumps JSON that loads back into the defaults and
 * dumps identically (the dump is a fixed point, secrets masked included); validate answers 0, or
 * -1 with a message. The seeds are valid documents, argument lists and environments.
 */
#include "fuzz.h"
#include "agent/config.h"

#include <string.h>

#define MAX_DOC	 (1024 * 1024)
#define MAX_ARGS 64

static char *dump_str(const struct agent_config *c, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	FUZZ_CHECK(f != NULL);
	agent_config_dump(c, f);
	FUZZ_CHECK(fclose(f) == 0);
	FUZZ_CHECK(buf != NULL);
	return buf;
}

/* The dump of the defaults, computed once. */
static const char *defaults_dump(void)
{
	static char *d;
	struct agent_config c;
	size_t len;

	if (!d) {
		agent_config_defaults(&c);
		d = dump_str(&c, &len);
		agent_config_free(&c);
	}
	return d;
}

/* "NAME:LINE:COL: message" with LINE, COL >= 1. */
static int positioned(const char *err, const char *name)
{
	size_t n = strlen(name);
	const char *p = err + n;

	if (strncmp(err, name, n) || *p++ != ':')
		return 0;
	for (int k = 0; k < 2; k++) {
		if (*p < '1' || *p > '9')
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
		if (*p++ != ':')
			return 0;
	}
	return p[0] == ' ' && p[1] != '\0';
}

/* After a load: on failure c is still the defaults; on success the dump is a fixed point. */
static void check(struct agent_config *c, int rc, const char *err)
{
	size_t len;
	char *d = dump_str(c, &len);
	char verr[512];

	if (rc) {
		FUZZ_CHECK(rc == -1);
		FUZZ_CHECK(err[0] != '\0');
		FUZZ_CHECK(strcmp(d, defaults_dump()) == 0);
	} else if (len <= MAX_DOC) {
		struct agent_config back;
		char berr[512] = "";
		size_t len2;
		char *d2;

		agent_config_defaults(&back);
		if (agent_config_load_string(&back, "dump", d, len, berr, sizeof berr)) {
			fprintf(stderr, "the dump does not load back: %s\n%s\n", berr, d);
			FUZZ_CHECK(0);
		}
		d2 = dump_str(&back, &len2);
		FUZZ_CHECK(len2 == len && memcmp(d, d2, len) == 0);
		free(d2);
		agent_config_free(&back);
	}
	verr[0] = '\0';
	rc = agent_config_validate(c, verr, sizeof verr);
	FUZZ_CHECK(rc == 0 || (rc == -1 && verr[0] != '\0'));
	free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_config c;
	char err[512];
	char *copy, *argv[MAX_ARGS + 1];
	int argc = 0, i = 0, rc;

	/* (a) a document */
	agent_config_defaults(&c);
	err[0] = '\0';
	rc = agent_config_load_string(&c, "fuzz", (const char *)data, size, err, sizeof err);
	if (rc)
		FUZZ_CHECK(positioned(err, "fuzz"));
	check(&c, rc, err);
	agent_config_free(&c);

	/* (b) arguments, (c) environment: the input split at newlines (NULs end an entry early) */
	copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (char *s = copy; argc < MAX_ARGS && s <= copy + size;) {
		char *nl = memchr(s, '\n', (size_t)(copy + size - s));

		argv[argc++] = s;
		if (!nl)
			break;
		*nl = '\0';
		s = nl + 1;
	}
	argv[argc] = NULL;

	agent_config_defaults(&c);
	err[0] = '\0';
	rc = agent_config_load_args(&c, argc, argv, &i, err, sizeof err);
	FUZZ_CHECK(i >= 0 && i <= argc);
	check(&c, rc, err);
	agent_config_free(&c);

	agent_config_defaults(&c);
	err[0] = '\0';
	rc = agent_config_load_env(&c, argv, err, sizeof err);
	check(&c, rc, err);
	agent_config_free(&c);

	free(copy);
	return 0;
}

size_t fuzz_seed(uint8_t *buf, size_t cap, unsigned i)
{
	static const char *const seeds[] = {
		"{\n"
		"  \"source\": \"kafka:inference-logs,more\",\n"
		"  \"brokers\": \"k1:9092,k2:9092\",\n"
		"  \"group\": \"driftd-a\",\n"
		"  \"labels\": \"kafka:labels\",\n"
		"  \"events\": \"kafka:model-rollbacks\",\n"
		"  \"dead_letters\": null,\n"
		"  \"store\": \"redis://:secret@redis:6379/0\",\n"
		"  \"metrics_listen\": \"[::1]:9640\",\n"
		"  \"agent_id\": \"pod-1\",\n"
		"  \"replay_speed\": 10,\n"
		"  \"window\": 30.5, \"grace\": 2, \"sliding_windows\": 3, \"min_samples\": 50,\n"
		"  \"breach_windows\": 1, \"cooldown\": 0, \"dry_run\": true, \"baseline\": "
		"\"self\",\n"
		"  \"rules\": {\"alpha\": 0.5, \"monitor_prediction\": false,\n"
		"    \"kl\": {\"enabled\": true, \"threshold\": 0.2, \"dry_run\": false,\n"
		"            \"direction\": \"baseline_live\", \"sample_size_aware\": true, "
		"\"fdr\": "
		"0.1},\n"
		"    \"psi\": {\"enabled\": true, \"threshold\": 0.25, \"dry_run\": true},\n"
		"    \"js\": {\"enabled\": false, \"threshold\": 0.1, \"dry_run\": false},\n"
		"    \"latency\": {\"enabled\": true, \"threshold\": 1.15, \"dry_run\": false},\n"
		"    \"accuracy\": {\"enabled\": true, \"threshold\": 0.05, \"dry_run\": false,\n"
		"                 \"mode\": \"relative\", \"class_threshold\": 0.5},\n"
		"    \"error_rate\": {\"enabled\": true, \"threshold\": 0.05, \"dry_run\": "
		"true}},\n"
		"  \"limits\": {\"max_message\": 65536, \"max_features\": 100, "
		"\"max_feature_name\": 64,\n"
		"             \"max_models\": 16, \"max_categories\": 512},\n"
		"  \"log\": {\"format\": \"json\", \"level\": \"debug\"},\n"
		"  \"kafka\": {\"security.protocol\": \"SASL_SSL\", \"sasl.password\": \"pw\",\n"
		"            \"linger.ms\": 5, \"enable.idempotence\": true}\n"
		"}\n",
		"{\"window\": 60}",
		"{\"rules\": {\"kl\": {\"threshold\": 1e-3}}, \"log\": {\"level\": 3},"
		" \"group\": \"\\u00e9\\ud83d\\ude00\\\"\", \"labels\": \"\"}",
		"\xef\xbb\xbf{\r\n\t\"source\": \"file:/tmp/in.jsonl\",\r\n\t\"events\": "
		"\"file:-\",\r\n"
		"\t\"kafka\": {}, \"rules\": {}, \"limits\": {}\r\n}\r\n",
		"--source\nkafka:a,b\n--brokers=h:9092\n--dry-run\n--no-rules.kl.enabled\n"
		"--kafka.linger.ms=5\n--kafka.sasl.password\nx\n--log-level\ndebug\n--window=15\n"
		"--labels=\n--\nrest",
		"DRIFTD_WINDOW=30\nDRIFTD_LOG_LEVEL=err\nDRIFTD_STORE=redis://u:pw@h:6379/1\n"
		"DRIFTD_HIST_KERNEL=ref\nHOME=/root\nDRIFTD_RULES_PSI_ENABLED=on\n"
		"DRIFTD_LIMITS_MAX_MODELS=8\nDRIFTD_DEAD_LETTERS=kafka:dlq",
	};
	size_t len;

	if (i >= sizeof seeds / sizeof seeds[0])
		return 0;
	len = strlen(seeds[i]);
	if (len > cap)
		len = cap;
	memcpy(buf, seeds[i], len);
	return len;
}

/*
 * driftd.c -- main of the driftd agent: little more than argument dispatch.
 *
 *   driftd [-c FILE] [flags]          run (see agent_run)
 *   driftd check-config [-c FILE] [flags]   validate and print the effective configuration
 *   driftd config-doc                 print doc/configuration.md (generated from the option table)
 *   driftd demo [options]             the embedded default (demo.h)
 *   driftd generate [options]         write generated records as JSONL (generate.h)
 *   driftd mock-kafka [options]       librdkafka's mock cluster as a process (mockkafka.h)
 *   driftd --version | --help
 */
#ifdef HAVE_CONFIG_H
#include "build.h"
#endif
#include "agent/about.h"
#include "agent/config.h"
#include "agent/demo.h"
#include "agent/generate.h"
#include "agent/log.h"
#include "agent/mockkafka.h"
#include "agent/run.h"
#include "stats/stats.h"

#include <stdio.h>
#include <string.h>

extern char **environ;

/* defaults < -c FILE < DRIFTD_* < flags; 0 or 2 (usage/config error, message printed) */
static int configure(struct agent_config *c, int argc, char **argv, int first)
{
	char err[1024];
	const char *file = NULL;
	int i = first;

	agent_config_defaults(c);
	/* -c FILE / --config FILE first, wherever it is */
	for (int j = first; j < argc; j++) {
		if ((!strcmp(argv[j], "-c") || !strcmp(argv[j], "--config")) && j + 1 < argc)
			file = argv[j + 1];
		else if (!strncmp(argv[j], "--config=", 9))
			file = argv[j] + 9;
	}
	if (file && agent_config_load_file(c, file, err, sizeof err) < 0)
		goto bad;
	if (agent_config_load_env(c, environ, err, sizeof err) < 0)
		goto bad;
	while (i < argc) {
		if (!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) {
			i += 2;
			continue;
		}
		if (!strncmp(argv[i], "--config=", 9)) {
			i++;
			continue;
		}
		if (agent_config_load_args(c, argc, argv, &i, err, sizeof err) < 0)
			goto bad;
		if (i < argc && strcmp(argv[i], "-c") != 0 && strcmp(argv[i], "--config") != 0 &&
		    strncmp(argv[i], "--config=", 9) != 0) {
			snprintf(err, sizeof err, "unexpected argument '%s'", argv[i]);
			goto bad;
		}
	}
	if (agent_config_validate(c, err, sizeof err) < 0)
		goto bad;
	return 0;
bad:
	fprintf(stderr, "driftd: %s\n", err);
	return 2;
}

int main(int argc, char **argv)
{
	struct agent_config c;
	enum stats_status st = stats_init();
	int rc;

	if (st != STATS_OK)
		fprintf(stderr, "driftd: DRIFTD_HIST_KERNEL: %s; using the best supported kernel\n",
			stats_strerror(st));
	if (argc >= 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
		agent_about_version(stdout);
		return 0;
	}
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		agent_about_usage(stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "demo"))
		return agent_demo_main(argc - 1, argv + 1, stdout, stderr);
	if (argc >= 2 && !strcmp(argv[1], "mock-kafka"))
		return agent_mockkafka_main(argc - 1, argv + 1, stdout, stderr);
	if (argc >= 2 && !strcmp(argv[1], "generate"))
		return agent_generate_main(argc - 1, argv + 1, stdout, stderr);
	if (argc >= 2 && !strcmp(argv[1], "config-doc")) {
		agent_config_write_doc(stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "check-config")) {
		rc = configure(&c, argc, argv, 2);
		if (rc == 0) {
			agent_config_dump(&c, stdout);
			fprintf(stderr, "driftd: configuration is valid\n");
		}
		agent_config_free(&c);
		return rc;
	}
	rc = configure(&c, argc, argv, 1);
	if (rc != 0) {
		agent_config_free(&c);
		return rc;
	}
	agent_log_setup(stderr, c.log_format == AGENT_LOG_JSON, c.log_level);
	agent_log_facilities(c.log_facilities);
	rc = agent_run(&c);
	agent_config_free(&c);
	return rc;
}

/*
 * mockkafka.c -- `driftd mock-kafka` (see mockkafka.h): its options (getopt_long, cmdline.h), the
 * cluster and its topics, then serving until a signal.
 */
#include "agent/mockkafka.h"
#include "agent/cmdline.h"
#include "connectors/kafka.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

enum { OPT_BROKERS = 256, OPT_TOPIC };

static const struct option options[] = {
	{ "brokers", required_argument, NULL, OPT_BROKERS },
	{ "topic", required_argument, NULL, OPT_TOPIC },
	{ NULL, 0, NULL, 0 },
};

/* Parses argv: 0 with *brokers and the --topic values in topics[0..*ntopics) (topics has argc
 * slots), or -1 on a usage error. */
static int parse(int argc, char **argv, long *brokers, const char **topics, size_t *ntopics)
{
	int r, at;

	agent_cmdline_reset();
	while ((r = agent_cmdline_next(argc, argv, "+:", options, &at)) != -1) {
		char *end;

		if (r == OPT_TOPIC) {
			topics[(*ntopics)++] = optarg; /* created once the cluster runs */
			continue;
		}
		if (r != OPT_BROKERS)
			return -1;
		*brokers = strtol(optarg, &end, 10);
		if (*end || *brokers < 1 || *brokers > 16)
			return -1;
	}
	return optind < argc ? -1 : 0;
}

/* Creates the topic NAME[:PARTITIONS] of spec: 0, 1 (cluster error) or 2 (bad spec), with a
 * message on err. */
static int create_topic(struct conn_kafka_mock *m, const char *spec, FILE *err)
{
	char name[256], *colon, errbuf[512];
	long parts = 1;

	snprintf(name, sizeof name, "%s", spec);
	if ((colon = strrchr(name, ':')) != NULL) {
		char *end;

		*colon = '\0';
		parts = strtol(colon + 1, &end, 10);
		if (*end || parts < 1 || parts > 1024) {
			fprintf(err, "driftd mock-kafka: bad partitions in --topic %s\n", spec);
			return 2;
		}
	}
	if (!*name || conn_kafka_mock_topic(m, name, (int)parts, errbuf, sizeof errbuf) < 0) {
		fprintf(err, "driftd mock-kafka: %s\n", *name ? errbuf : "empty topic name");
		return 1;
	}
	return 0;
}

int agent_mockkafka_main(int argc, char **argv, FILE *out, FILE *err)
{
	struct conn_kafka_mock *m;
	struct sigaction sa;
	const char **topics = calloc((size_t)argc + 1, sizeof *topics);
	size_t ntopics = 0;
	char errbuf[512];
	long brokers = 1;
	int rc = 0;

	if (!topics) {
		fprintf(err, "driftd mock-kafka: out of memory\n");
		return 1;
	}
	if (parse(argc, argv, &brokers, topics, &ntopics) < 0) {
		free(topics);
		fprintf(err,
			"usage: driftd mock-kafka [--brokers N] [--topic NAME[:PARTITIONS]]...\n");
		return 2;
	}
	m = conn_kafka_mock_new((int)brokers, errbuf, sizeof errbuf);
	if (!m) {
		free(topics);
		fprintf(err, "driftd mock-kafka: %s\n", errbuf);
		return 1;
	}
	for (size_t i = 0; i < ntopics && rc == 0; i++)
		rc = create_topic(m, topics[i], err);
	free(topics);
	if (rc != 0)
		goto out;
	fprintf(out, "bootstrap=%s\n", conn_kafka_mock_bootstraps(m));
	fflush(out);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!stop)
		pause();
out:
	conn_kafka_mock_free(m);
	return rc;
}

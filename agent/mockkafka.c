/*
 * mockkafka.c -- `driftd mock-kafka` (see mockkafka.h).
 */
#include "agent/mockkafka.h"
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

int agent_mockkafka_main(int argc, char **argv, FILE *out, FILE *err)
{
	struct conn_kafka_mock *m;
	struct sigaction sa;
	char errbuf[512];
	long brokers = 1;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--brokers") && i + 1 < argc) {
			char *end;

			brokers = strtol(argv[++i], &end, 10);
			if (*end || brokers < 1 || brokers > 16)
				goto usage;
		} else if (!strcmp(argv[i], "--topic") && i + 1 < argc) {
			i++; /* created below, once the cluster runs */
		} else {
			goto usage;
		}
	}
	m = conn_kafka_mock_new((int)brokers, errbuf, sizeof errbuf);
	if (!m) {
		fprintf(err, "driftd mock-kafka: %s\n", errbuf);
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		char name[256], *colon;
		long parts = 1;

		if (strcmp(argv[i], "--topic") != 0)
			continue;
		snprintf(name, sizeof name, "%s", argv[++i]);
		if ((colon = strrchr(name, ':')) != NULL) {
			char *end;

			*colon = '\0';
			parts = strtol(colon + 1, &end, 10);
			if (*end || parts < 1 || parts > 1024) {
				fprintf(err, "driftd mock-kafka: bad partitions in --topic %s\n",
					argv[i]);
				rc = 2;
				goto out;
			}
		}
		if (!*name ||
		    conn_kafka_mock_topic(m, name, (int)parts, errbuf, sizeof errbuf) < 0) {
			fprintf(err, "driftd mock-kafka: %s\n",
				*name ? errbuf : "empty topic name");
			rc = 1;
			goto out;
		}
	}
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
usage:
	fprintf(err, "usage: driftd mock-kafka [--brokers N] [--topic NAME[:PARTITIONS]]...\n");
	return 2;
}

/*
 * mockkafka.c -- `driftd mock-kafka` (see mockkafka.h): its options (getopt_long, cmdline.h), the
 * cluster and its topics, then serving until a signal, with the fault-injection commands of
 * --control.
 */
#include "agent/mockkafka.h"
#include "agent/cmdline.h"
#include "connectors/kafka.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

enum { OPT_BROKERS = 256, OPT_TOPIC, OPT_CONTROL };

static const struct option options[] = {
	{ "brokers", required_argument, NULL, OPT_BROKERS },
	{ "topic", required_argument, NULL, OPT_TOPIC },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ NULL, 0, NULL, 0 },
};

#define USAGE                                                                                      \
	"usage: driftd mock-kafka [--brokers N] [--topic NAME[:PARTITIONS]]... [--control FIFO]\n"

/* Parses argv: 0 with *brokers, the --topic values in topics[0..*ntopics) (topics has argc
 * slots) and *control, or -1 on a usage error. */
static int parse(int argc, char **argv, long *brokers, const char **topics, size_t *ntopics,
		 const char **control)
{
	int r, at;

	agent_cmdline_reset();
	while ((r = agent_cmdline_next(argc, argv, "+:", options, &at)) != -1) {
		char *end;

		if (r == OPT_TOPIC) {
			topics[(*ntopics)++] = optarg; /* created once the cluster runs */
			continue;
		}
		if (r == OPT_CONTROL) {
			*control = optarg;
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

/* ---- --control: fault injection ---- */

/* Kafka API keys by name (the ones a fault is worth injecting into). */
static const struct {
	const char *name;
	int key;
} apis[] = {
	{ "produce", 0 },	   { "fetch", 1 },	  { "listoffsets", 2 },
	{ "metadata", 3 },	   { "offsetcommit", 8 }, { "offsetfetch", 9 },
	{ "findcoordinator", 10 }, { "joingroup", 11 },	  { "heartbeat", 12 },
	{ "leavegroup", 13 },	   { "syncgroup", 14 },	  { "initproducerid", 22 },
};

static int api_key(const char *name)
{
	char *end;
	long v = strtol(name, &end, 10);

	if (*name && !*end)
		return v >= 0 && v <= 100 ? (int)v : -1;
	for (size_t i = 0; i < sizeof apis / sizeof apis[0]; i++)
		if (!strcmp(apis[i].name, name))
			return apis[i].key;
	return -1;
}

/* A broker id, or -1 for "all"; -2 when it is neither. */
static int broker_id(const char *s)
{
	char *end;
	long v;

	if (!strcmp(s, "all"))
		return -1;
	v = strtol(s, &end, 10);
	return *s && !*end && v >= 1 && v <= 16 ? (int)v : -2;
}

/* Runs one command line (see mockkafka.h): 0, or -1 with a message in errbuf. */
static int run_command(struct conn_kafka_mock *m, char *line, char *errbuf, size_t errlen)
{
	char *w[7], *save = NULL;
	int n = 0, id;

	for (char *t = strtok_r(line, " \t", &save); t && n < 7; t = strtok_r(NULL, " \t", &save))
		w[n++] = t;
	if (n == 3 && !strcmp(w[0], "broker") && (!strcmp(w[1], "down") || !strcmp(w[1], "up"))) {
		if ((id = broker_id(w[2])) == -2)
			goto usage;
		return conn_kafka_mock_broker_up(m, id, !strcmp(w[1], "up"), errbuf, errlen);
	}
	if (n == 4 && !strcmp(w[0], "broker") && !strcmp(w[1], "rtt")) {
		char *end;
		long ms = strtol(w[3], &end, 10);

		if ((id = broker_id(w[2])) == -2 || !*w[3] || *end || ms < 0 || ms > 600000)
			goto usage;
		return conn_kafka_mock_broker_rtt(m, id, (int)ms, errbuf, errlen);
	}
	if (n == 6 && !strcmp(w[0], "broker") && !strcmp(w[1], "errors")) {
		int api = api_key(w[3]), code = conn_kafka_error_code(w[5]);
		char *end;
		long cnt = strtol(w[4], &end, 10);

		if ((id = broker_id(w[2])) < 1 || api < 0 || !*w[4] || *end || cnt < 1 ||
		    cnt > 100000 || code < 0)
			goto usage;
		return conn_kafka_mock_broker_errors(m, id, api, (int)cnt, code, errbuf, errlen);
	}
	if (n == 4 && !strcmp(w[0], "leader")) {
		char *end;
		long part = strtol(w[2], &end, 10);

		if (!*w[2] || *end || part < 0 || part > 1023 || (id = broker_id(w[3])) < 1)
			goto usage;
		return conn_kafka_mock_leader(m, w[1], (int)part, id, errbuf, errlen);
	}
	if (n == 4 && !strcmp(w[0], "errors")) {
		int api = api_key(w[1]), code = conn_kafka_error_code(w[3]);
		char *end;
		long cnt = strtol(w[2], &end, 10);

		if (api < 0 || !*w[2] || *end || cnt < 1 || cnt > 100000 || code < 0) {
			snprintf(errbuf, errlen, "errors API N ERROR: unknown API, count or error");
			return -1;
		}
		return conn_kafka_mock_request_errors(m, api, (int)cnt, code, errbuf, errlen);
	}
usage:
	snprintf(errbuf, errlen,
		 "commands: broker down|up ID|all; broker rtt ID|all MS; errors API N ERROR; "
		 "broker errors ID API N ERROR; leader TOPIC PARTITION ID");
	return -1;
}

/* Reads what is in the control FIFO and runs each complete line, answering on out. */
static void serve_control(struct conn_kafka_mock *m, int fd, char *buf, size_t *len, size_t cap,
			  FILE *out)
{
	ssize_t r = read(fd, buf + *len, cap - 1 - *len);
	char *nl;

	if (r <= 0)
		return;
	*len += (size_t)r;
	buf[*len] = '\0';
	while ((nl = memchr(buf, '\n', *len)) != NULL) {
		char line[512], errbuf[512];
		size_t n = (size_t)(nl - buf);

		snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1),
			 buf);
		memmove(buf, nl + 1, *len - n - 1);
		*len -= n + 1;
		fprintf(out, "control: %s: ", line);
		if (run_command(m, line, errbuf, sizeof errbuf) == 0)
			fprintf(out, "ok\n");
		else
			fprintf(out, "error: %s\n", errbuf);
		fflush(out);
	}
	if (*len == cap - 1) /* a line too long: dropped */
		*len = 0;
}

/* Opens (creating it) the control FIFO for reading, kept open for writing too so that it never
 * reads end-of-file between writers: the descriptor, or -1 with a message on err. */
static int open_control(const char *path, FILE *err)
{
	int fd;

	if (mkfifo(path, 0600) < 0 && errno != EEXIST) {
		fprintf(err, "driftd mock-kafka: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		fprintf(err, "driftd mock-kafka: %s: %s\n", path, strerror(errno));
	return fd;
}

int agent_mockkafka_main(int argc, char **argv, FILE *out, FILE *err)
{
	struct conn_kafka_mock *m;
	struct sigaction sa;
	const char **topics = calloc((size_t)argc + 1, sizeof *topics);
	const char *control = NULL;
	size_t ntopics = 0, clen = 0;
	char errbuf[512], cbuf[1024];
	long brokers = 1;
	int rc = 0, cfd = -1;

	if (!topics) {
		fprintf(err, "driftd mock-kafka: out of memory\n");
		return 1;
	}
	if (parse(argc, argv, &brokers, topics, &ntopics, &control) < 0) {
		free(topics);
		fprintf(err, USAGE);
		return 2;
	}
	if (control && (cfd = open_control(control, err)) < 0) {
		free(topics);
		return 1;
	}
	m = conn_kafka_mock_new((int)brokers, errbuf, sizeof errbuf);
	if (!m) {
		free(topics);
		if (cfd >= 0)
			close(cfd);
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
	while (!stop) {
		struct pollfd p = { .fd = cfd, .events = POLLIN };

		if (cfd < 0)
			pause();
		else if (poll(&p, 1, 1000) > 0)
			serve_control(m, cfd, cbuf, &clen, sizeof cbuf, out);
	}
out:
	if (cfd >= 0)
		close(cfd);
	conn_kafka_mock_free(m);
	return rc;
}

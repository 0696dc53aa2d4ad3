/*
 * bench_http.c -- `make bench`: scraping a 10,000-series /metrics from the HTTP server
 * (connectors/http.h) on loopback, one JSON object per line.
 *
 * A Prometheus text page of 10,000 gauge series (driftd_feature_kl etc. with model, version,
 * feature labels, about 1 MB) is published, then fetched 300 times over one kept-alive
 * connection, like a scraper, by a client thread of this process. Reported per scrape:
 *   - wall time from the request sent to the last body byte received (median, p99): what a
 *     scraper on the same host sees, client included;
 *   - server CPU time: this process's CPU time minus the client thread's, over the scrapes;
 *   - the time conn_http_publish takes for the page (median of 300 publishes, while nobody
 *     scrapes): what the agent loop pays per refresh; the lock inside covers a pointer swap.
 * The target: a scrape of 10,000 series takes <= 10 ms of server time.
 */
#include "benchutil.h"
#include "connectors/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SERIES	 10000
#define SCRAPES	 300
#define PUBLISHS 300

static double cpu_process(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
	       (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

static double cpu_thread(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_http: %s\n", what);
	exit(1);
}

/* The page: HELP/TYPE per family, then the series (5 families x 2,000 features). */
static char *make_page(size_t *len)
{
	static const char *const fam[] = { "driftd_feature_kl", "driftd_feature_psi",
					   "driftd_feature_js", "driftd_feature_kl_threshold",
					   "driftd_window_samples" };
	size_t cap = 2u << 20, n = 0;
	char *b = malloc(cap);

	if (!b)
		die("out of memory");
	for (int f = 0; f < 5; f++) {
		n += (size_t)snprintf(b + n, cap - n, "# HELP %s A score.\n# TYPE %s gauge\n",
				      fam[f], fam[f]);
		for (int i = 0; i < SERIES / 5; i++)
			n += (size_t)snprintf(b + n, cap - n,
					      "%s{model=\"fraud-detector\",version=\"v2.4.%d\","
					      "feature=\"feature_%05d\"} %.10g\n",
					      fam[f], i % 3, i, (double)i * 1.2345e-4);
	}
	*len = n;
	return b;
}

/* Reads one response (Content-Length) into buf; returns the body length. */
static size_t read_response(int fd, char *buf, size_t cap)
{
	size_t n = 0, want = 0;
	char *sep = NULL;

	for (;;) {
		ssize_t got = recv(fd, buf + n, cap - 1 - n, 0);

		if (got <= 0)
			die("connection closed");
		n += (size_t)got;
		buf[n] = '\0';
		if (!sep && (sep = strstr(buf, "\r\n\r\n")) != NULL) {
			const char *cl = strstr(buf, "Content-Length:");

			if (!cl || cl > sep || strncmp(buf, "HTTP/1.1 200", 12))
				die("unexpected response");
			want = (size_t)(sep + 4 - buf) + strtoul(cl + 15, NULL, 10);
			if (want >= cap)
				die("response too large");
		}
		if (sep && n >= want)
			return want - (size_t)(sep + 4 - buf);
	}
}

int main(void)
{
	struct conn_http_conf c;
	struct conn_http *h;
	struct sockaddr_in a;
	char err[256], *buf;
	static const char req[] = "GET /metrics HTTP/1.1\r\nHost: bench\r\nAccept: "
				  "text/plain;version=0.0.4\r\n\r\n";
	double wall[SCRAPES], pub[PUBLISHS], cpu0, tcpu0, cpu1, tcpu1;
	size_t len, got = 0;
	char *page = make_page(&len);
	int fd;

	conn_http_conf_default(&c);
	c.listen = "127.0.0.1:0";
	h = conn_http_new(&c, err, sizeof err);
	if (!h || conn_http_route_get(h, "/metrics", CONN_HTTP_NEGOTIATE) || conn_http_start(h))
		die(h ? conn_http_error(h) : err);

	for (int i = 0; i < PUBLISHS; i++) {
		double t0 = now();

		if (conn_http_publish(h, "/metrics", CONN_HTTP_TEXT, 200, CONN_HTTP_CT_PROMETHEUS,
				      page, len))
			die("publish failed");
		pub[i] = now() - t0;
	}

	buf = malloc(len + 4096);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)conn_http_port(h));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (!buf || fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a))
		die("cannot connect");
	/* one scrape to warm up */
	if (send(fd, req, sizeof req - 1, 0) != (ssize_t)(sizeof req - 1))
		die("send");
	read_response(fd, buf, len + 4096);

	cpu0 = cpu_process();
	tcpu0 = cpu_thread();
	for (int i = 0; i < SCRAPES; i++) {
		double t0 = now();

		if (send(fd, req, sizeof req - 1, 0) != (ssize_t)(sizeof req - 1))
			die("send");
		got = read_response(fd, buf, len + 4096);
		wall[i] = now() - t0;
		if (got != len)
			die("short body");
	}
	tcpu1 = cpu_thread();
	cpu1 = cpu_process();
	close(fd);
	conn_http_free(h);

	{
		double server_cpu = ((cpu1 - cpu0) - (tcpu1 - tcpu0)) / SCRAPES;
		double w50, w99, p50;

		qsort(wall, SCRAPES, sizeof *wall, cmp_double);
		w50 = wall[SCRAPES / 2];
		w99 = wall[SCRAPES * 99 / 100];
		p50 = median(pub, PUBLISHS);
		printf("{\"bench\":\"http_scrape\",\"series\":%d,\"body_bytes\":%zu,\"scrapes\":%d,"
		       "\"wall_ms_median\":%.3f,\"wall_ms_p99\":%.3f,\"server_cpu_ms_per_scrape\":"
		       "%.3f,\"publish_ms_median\":%.3f}\n",
		       SERIES, len, SCRAPES, 1e3 * w50, 1e3 * w99, 1e3 * server_cpu, 1e3 * p50);
	}
	free(buf);
	free(page);
	return 0;
}

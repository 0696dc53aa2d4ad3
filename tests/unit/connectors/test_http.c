/*
 * test_http.c -- the HTTP server (connectors/http.h) against a client made of plain POSIX
 * sockets: binding (port 0, IPv6, errors), GET /metrics in both formats by Accept, HEAD, 404,
 * 405 with Allow, 503 before anything is published, POST to a handler (status, reply, the body
 * NUL-terminated), 413 for a declared or a chunked body over the limit, 401 without or with a
 * wrong bearer token (never echoed, never logged), a client dribbling a byte a second cut off
 * at the deadline while others are served promptly, a response in flight kept alive across
 * publishes, publishing from one thread while two clients fetch in a loop, the counters.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strcasestr */
#endif
#include "connectors/http.h"
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* ---- a minimal client ---- */

struct resp {
	int status;	 /* 0: no response (closed or reset) */
	char head[4096]; /* status line and headers */
	char *body;	 /* malloc'd, NUL-terminated */
	size_t len;
};

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A connected socket; rcvbuf > 0 sets a small receive buffer first (a slow reader). */
static int dial_buf(unsigned port, int rcvbuf)
{
	struct sockaddr_in a;
	struct timeval tv = { 5, 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	return fd;
}

static int dial(unsigned port)
{
	return dial_buf(port, 0);
}

/* 0, or -1 when the peer is gone. */
static int send_all(int fd, const char *b, size_t n)
{
	while (n) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);

		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads a whole response up to EOF (requests say Connection: close). */
static void read_resp(int fd, struct resp *r)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap + 1), *sep;
	ssize_t got;

	assert_non_null(buf);
	while ((got = recv(fd, buf + n, cap - n, 0)) > 0) {
		n += (size_t)got;
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
			assert_non_null(buf);
		}
	}
	buf[n] = '\0';
	memset(r, 0, sizeof *r);
	sep = strstr(buf, "\r\n\r\n");
	if (n < 12 || !sep || sscanf(buf, "HTTP/1.%*d %d", &r->status) != 1) {
		r->status = 0;
		r->body = buf;
		return;
	}
	snprintf(r->head, sizeof r->head, "%.*s\r\n", (int)(sep - buf), buf);
	r->len = n - (size_t)(sep + 4 - buf);
	r->body = malloc(r->len + 1);
	assert_non_null(r->body);
	memcpy(r->body, sep + 4, r->len);
	r->body[r->len] = '\0';
	free(buf);
}

/* Reads one response on a kept-alive connection (by its Content-Length). */
static void read_one(int fd, struct resp *r)
{
	char buf[8192];
	size_t n = 0, want = 0;
	char *sep = NULL;

	memset(r, 0, sizeof *r);
	while (!sep || n < want) {
		ssize_t got = recv(fd, buf + n, sizeof buf - 1 - n, 0);

		if (got <= 0)
			return; /* status 0 */
		n += (size_t)got;
		buf[n] = '\0';
		if (!sep && (sep = strstr(buf, "\r\n\r\n")) != NULL) {
			const char *cl = strcasestr(buf, "\r\nContent-Length:");

			assert_non_null(cl);
			want = (size_t)(sep + 4 - buf) + strtoul(cl + 17, NULL, 10);
			assert_true(want < sizeof buf);
		}
	}
	assert_int_equal(sscanf(buf, "HTTP/1.%*d %d", &r->status), 1);
	r->len = want - (size_t)(sep + 4 - buf);
	r->body = strndup(sep + 4, r->len);
}

/* One request on a fresh connection; extra: more header lines ("Name: v\r\n"...). */
static void request(unsigned port, const char *method, const char *path, const char *extra,
		    const char *body, struct resp *r)
{
	size_t cap = strlen(path) + (extra ? strlen(extra) : 0) + 256;
	char *req = malloc(cap);
	int fd = dial(port);
	int n;

	assert_non_null(req);
	n = snprintf(req, cap, "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s", method, path,
		     extra ? extra : "");
	if (body)
		n += snprintf(req + n, cap - (size_t)n, "Content-Length: %zu\r\n", strlen(body));
	n += snprintf(req + n, cap - (size_t)n, "\r\n");
	assert_true((size_t)n < cap);
	assert_int_equal(send_all(fd, req, (size_t)n), 0);
	free(req);
	if (body)
		assert_int_equal(send_all(fd, body, strlen(body)), 0);
	read_resp(fd, r);
	close(fd);
}

/* The value of header name in r (case-insensitive name), "" when absent. */
static const char *header(const struct resp *r, const char *name, char *out, size_t cap)
{
	const char *p = r->head;
	size_t nl = strlen(name);

	out[0] = '\0';
	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (!strncasecmp(p, name, nl) && p[nl] == ':') {
			const char *v = p + nl + 1, *e = strstr(v, "\r\n");

			while (*v == ' ')
				v++;
			snprintf(out, cap, "%.*s", (int)(e - v), v);
			return out;
		}
	}
	return out;
}

/* ---- a server ---- */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char logged[16384];

static void log_fn(void *arg, int level, const char *msg)
{
	(void)arg;
	(void)level;
	pthread_mutex_lock(&log_lock);
	if (strlen(logged) + strlen(msg) + 2 < sizeof logged) {
		strcat(logged, msg);
		strcat(logged, "\n");
	}
	pthread_mutex_unlock(&log_lock);
}

static atomic_int post_calls;

/* Replies with the body's length and whether it is NUL-terminated; status from the body. */
static int echo_post(void *arg, const char *body, size_t len, char *reply, size_t cap)
{
	int status = 202;

	(void)arg;
	atomic_fetch_add(&post_calls, 1);
	if (len && sscanf(body, "status=%d", &status) != 1)
		status = 202;
	snprintf(reply, cap, "got %zu bytes, nul=%d\n", len, body[len] == '\0');
	return status;
}

static const char TOKEN[] = "s3cr3t-t0ken";

static struct conn_http *server(unsigned timeout_s, size_t max_body, unsigned threads)
{
	struct conn_http_conf c;
	struct conn_http *h;
	char err[256];

	conn_http_conf_default(&c);
	c.listen = "127.0.0.1:0";
	c.timeout_s = timeout_s;
	c.max_body = max_body;
	c.threads = threads;
	c.log = log_fn;
	h = conn_http_new(&c, err, sizeof err);
	if (!h)
		fail_msg("conn_http_new: %s", err);
	assert_int_equal(conn_http_route_get(h, "/metrics", CONN_HTTP_NEGOTIATE), 0);
	assert_int_equal(conn_http_route_get(h, "/healthz", 0), 0);
	assert_int_equal(conn_http_route_get(h, "/readyz", 0), 0);
	assert_int_equal(conn_http_route_post(h, "/alertmanager", NULL, 0, echo_post, NULL), 0);
	assert_int_equal(conn_http_route_post(h, "/secure", TOKEN, 0, echo_post, NULL), 0);
	assert_int_equal(conn_http_start(h), 0);
	return h;
}

static void publish_metrics(struct conn_http *h, const char *text, const char *om)
{
	assert_int_equal(conn_http_publish(h, "/metrics", CONN_HTTP_TEXT, 200,
					   CONN_HTTP_CT_PROMETHEUS, text, strlen(text)),
			 0);
	assert_int_equal(conn_http_publish(h, "/metrics", CONN_HTTP_OPENMETRICS, 200,
					   CONN_HTTP_CT_OPENMETRICS, om, strlen(om)),
			 0);
}

/* ---- tests ---- */

static void test_bind(void **state)
{
	struct conn_http_conf c;
	struct conn_http *h, *h2;
	char err[256];
	static const char *const bad[] = { "127.0.0.1",	   "127.0.0.1:",   "127.0.0.1:65536",
					   "127.0.0.1:-1", "::1:80",	   "[::1]80",
					   "[]:80",	   "256.1.1.1:80", "127.0.0.1:8x" };
	int v6;

	(void)state;
	conn_http_conf_default(&c);
	assert_string_equal(c.listen, "127.0.0.1:9640");
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		c.listen = bad[i];
		err[0] = '\0';
		assert_null(conn_http_new(&c, err, sizeof err));
		assert_non_null(strstr(err, bad[i]));
	}
	c.listen = "127.0.0.1:0";
	h = conn_http_new(&c, err, sizeof err);
	assert_non_null(h);
	assert_true(conn_http_port(h) > 0);
	/* the same port again: a clear bind error */
	{
		char spec[64];

		snprintf(spec, sizeof spec, "127.0.0.1:%u", conn_http_port(h));
		c.listen = spec;
		assert_null(conn_http_new(&c, err, sizeof err));
		assert_non_null(strstr(err, "in use"));
	}
	conn_http_free(h); /* never started */
	c.listen = ":0";   /* every IPv4 interface */
	h = conn_http_new(&c, err, sizeof err);
	assert_non_null(h);
	assert_true(conn_http_port(h) > 0);
	conn_http_free(h);

	/* limits out of range */
	conn_http_conf_default(&c);
	c.listen = "127.0.0.1:0";
	c.threads = 0;
	assert_null(conn_http_new(&c, err, sizeof err));
	c.threads = 1;
	c.conn_memory = 100;
	assert_null(conn_http_new(&c, err, sizeof err));

	/* IPv6 literal, when the machine has IPv6 loopback */
	v6 = socket(AF_INET6, SOCK_STREAM, 0);
	if (v6 >= 0) {
		struct sockaddr_in6 a;

		memset(&a, 0, sizeof a);
		a.sin6_family = AF_INET6;
		a.sin6_addr = in6addr_loopback;
		if (bind(v6, (struct sockaddr *)&a, sizeof a) == 0) {
			conn_http_conf_default(&c);
			c.listen = "[::1]:0";
			h2 = conn_http_new(&c, err, sizeof err);
			if (!h2)
				fail_msg("[::1]:0: %s", err);
			assert_true(conn_http_port(h2) > 0);
			assert_int_equal(conn_http_route_get(h2, "/healthz", 0), 0);
			assert_int_equal(conn_http_start(h2), 0);
			conn_http_free(h2);
		}
		close(v6);
	}

	/* route errors */
	conn_http_conf_default(&c);
	c.listen = "127.0.0.1:0";
	h = conn_http_new(&c, err, sizeof err);
	assert_non_null(h);
	assert_int_equal(conn_http_route_get(h, "/a", 0), 0);
	assert_int_equal(conn_http_route_get(h, "/a", 0), -1);
	assert_non_null(strstr(conn_http_error(h), "declared twice"));
	assert_int_equal(conn_http_route_get(h, "nope", 0), -1);
	assert_int_equal(conn_http_publish(h, "/a", CONN_HTTP_OPENMETRICS, 200, "x", "y", 1), -1);
	assert_int_equal(conn_http_publish(h, "/a", CONN_HTTP_TEXT, 42, "x", "y", 1), -1);
	assert_int_equal(conn_http_publish(h, "/b", CONN_HTTP_TEXT, 200, "x", "y", 1), -1);
	assert_int_equal(conn_http_publish(h, "/a", CONN_HTTP_TEXT, 200, "x", "y", 1), 0);
	assert_int_equal(conn_http_start(h), 0);
	assert_int_equal(conn_http_route_get(h, "/late", 0), -1);
	conn_http_free(h);
	conn_http_free(NULL);
}

static void test_prefers_openmetrics(void **state)
{
	static const struct {
		const char *accept;
		int om;
	} cases[] = {
		{ NULL, 0 },
		{ "", 0 },
		{ "*/*", 0 },
		{ "text/plain", 0 },
		/* Prometheus 2.42 */
		{ "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
		  "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
		  1 },
		/* older Prometheus, and scrape_protocols without OpenMetrics */
		{ "text/plain;version=0.0.4;q=1,*/*;q=0.1", 0 },
		{ "application/openmetrics-text", 1 },
		{ "Application/OpenMetrics-Text; Version=\"1.0.0\"", 1 },
		{ "application/openmetrics-text; version=0.0.1", 1 },
		{ "application/openmetrics-text;version=2.0.0", 0 }, /* not a version we serve */
		{ "application/openmetrics-text;q=0", 0 },
		{ "application/openmetrics-text;q=0.5, text/plain", 0 },
		{ "application/openmetrics-text;q=0.5, text/plain;q=0.4", 1 },
		{ "application/openmetrics-text;q=0.5, text/*;q=0.4", 1 },
		{ "application/openmetrics-text;q=0.5, */*;q=0.6", 0 },
		{ "application/*", 1 }, /* text/plain is not acceptable at all */
		{ "application/*;q=1, text/plain;q=0.9", 1 },
		/* the most specific range decides: text/plain;version=0.0.4 (q=0.1) over text/any
		 */
		{ "text/*;q=1, text/plain;version=0.0.4;q=0.1, application/openmetrics-text;q=0.5",
		  1 },
		{ "application/openmetrics-text;q=1.5", 0 }, /* malformed q: range ignored */
		{ "application/openmetrics-text;q=abc, text/plain;q=0.1", 0 },
		{ "application/openmetrics-text;q=0.001", 1 },
		{ "application/openmetrics-text;q=0.0001", 0 },
		{ "text/plain;q=0.2,application/openmetrics-text;version=1.0.0;q=0.3;ext=\"a,b\"",
		  1 },
		{ ",,, ; ,application/openmetrics-text", 1 },
		{ "garbage", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		if (conn_http_prefers_openmetrics(cases[i].accept) != cases[i].om)
			fail_msg("Accept: %s: want %d",
				 cases[i].accept ? cases[i].accept : "(none)", cases[i].om);
}

static const char PROM_ACCEPT[] =
    "Accept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
    "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n";

static void test_get(void **state)
{
	struct conn_http *h = server(5, 1024, 1);
	unsigned port = conn_http_port(h);
	struct conn_http_route_stats rs;
	struct resp r;
	char v[256];

	(void)state;
	/* nothing published yet */
	request(port, "GET", "/metrics", NULL, NULL, &r);
	assert_int_equal(r.status, 503);
	free(r.body);

	publish_metrics(h, "# TYPE up gauge\nup 1\n", "# TYPE up gauge\nup 1\n# EOF\n");
	request(port, "GET", "/metrics", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(header(&r, "Content-Type", v, sizeof v), CONN_HTTP_CT_PROMETHEUS);
	assert_string_equal(header(&r, "Vary", v, sizeof v), "Accept");
	assert_string_equal(r.body, "# TYPE up gauge\nup 1\n");
	free(r.body);

	request(port, "GET", "/metrics", PROM_ACCEPT, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(header(&r, "Content-Type", v, sizeof v), CONN_HTTP_CT_OPENMETRICS);
	assert_string_equal(r.body, "# TYPE up gauge\nup 1\n# EOF\n");
	free(r.body);

	request(port, "GET", "/metrics?x=1", "Accept: text/plain;version=0.0.4\r\n", NULL, &r);
	assert_string_equal(header(&r, "Content-Type", v, sizeof v), CONN_HTTP_CT_PROMETHEUS);
	free(r.body);

	/* HEAD: the headers of GET, no body */
	request(port, "HEAD", "/metrics", PROM_ACCEPT, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(header(&r, "Content-Type", v, sizeof v), CONN_HTTP_CT_OPENMETRICS);
	assert_string_equal(header(&r, "Content-Length", v, sizeof v), "27");
	assert_int_equal(r.len, 0);
	free(r.body);

	/* status codes are published too; a route without negotiation has no Vary */
	assert_int_equal(conn_http_publish(h, "/readyz", CONN_HTTP_TEXT, 503, "application/json",
					   "{\"ready\":false,\"why\":[\"redis\"]}", 31),
			 0);
	request(port, "GET", "/readyz", NULL, NULL, &r);
	assert_int_equal(r.status, 503);
	assert_string_equal(header(&r, "Content-Type", v, sizeof v), "application/json");
	assert_string_equal(header(&r, "Vary", v, sizeof v), "");
	assert_string_equal(r.body, "{\"ready\":false,\"why\":[\"redis\"]}");
	free(r.body);
	assert_int_equal(conn_http_publish(h, "/readyz", CONN_HTTP_TEXT, 200, "application/json",
					   "{\"ready\":true}", 14),
			 0);
	request(port, "GET", "/readyz", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	free(r.body);

	/* only one variant published: served to everyone; an empty body is fine */
	assert_int_equal(conn_http_publish(h, "/healthz", CONN_HTTP_TEXT, 200, "text/plain", "", 0),
			 0);
	request(port, "GET", "/healthz", PROM_ACCEPT, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.len, 0);
	free(r.body);

	assert_int_equal(conn_http_route_stats(h, "/metrics", &rs), 0);
	assert_int_equal(rs.requests, 5);
	assert_int_equal(rs.errors, 1); /* the 503 */
	assert_int_equal(conn_http_route_stats(h, "/readyz", &rs), 0);
	assert_int_equal(rs.requests, 2);
	assert_int_equal(rs.errors, 1);
	assert_int_equal(conn_http_route_stats(h, "/nope", &rs), -1);
	conn_http_free(h);
}

static void test_404_405(void **state)
{
	struct conn_http *h = server(5, 1024, 1);
	unsigned port = conn_http_port(h);
	struct conn_http_stats st;
	struct conn_http_route_stats rs;
	struct resp r;
	char v[256];

	(void)state;
	publish_metrics(h, "a\n", "a\n# EOF\n");
	request(port, "GET", "/nope", NULL, NULL, &r);
	assert_int_equal(r.status, 404);
	free(r.body);
	request(port, "GET", "/metrics/", NULL, NULL, &r);
	assert_int_equal(r.status, 404);
	free(r.body);
	request(port, "POST", "/metrics", NULL, "x", &r);
	assert_int_equal(r.status, 405);
	assert_string_equal(header(&r, "Allow", v, sizeof v), "GET, HEAD");
	free(r.body);
	request(port, "DELETE", "/healthz", NULL, NULL, &r);
	assert_int_equal(r.status, 405);
	free(r.body);
	request(port, "GET", "/alertmanager", NULL, NULL, &r);
	assert_int_equal(r.status, 405);
	assert_string_equal(header(&r, "Allow", v, sizeof v), "POST");
	free(r.body);
	conn_http_stats(h, &st);
	assert_int_equal(st.not_found, 2);
	assert_int_equal(conn_http_route_stats(h, "/alertmanager", &rs), 0);
	assert_int_equal(rs.requests, 1);
	assert_int_equal(rs.errors, 1);
	conn_http_free(h);
}

static void test_post(void **state)
{
	struct conn_http *h = server(5, 1024, 1);
	unsigned port = conn_http_port(h);
	struct conn_http_route_stats rs;
	struct resp r;
	char v[256];
	int fd;

	(void)state;
	atomic_store(&post_calls, 0);
	request(port, "POST", "/alertmanager", "Content-Type: application/json\r\n",
		"{\"version\":\"4\"}", &r);
	assert_int_equal(r.status, 202);
	assert_string_equal(r.body, "got 15 bytes, nul=1\n");
	assert_string_equal(header(&r, "Content-Type", v, sizeof v), "text/plain; charset=utf-8");
	free(r.body);
	/* the handler's status, and an invalid one becomes 500 */
	request(port, "POST", "/alertmanager", NULL, "status=400", &r);
	assert_int_equal(r.status, 400);
	free(r.body);
	request(port, "POST", "/alertmanager", NULL, "status=999", &r);
	assert_int_equal(r.status, 500);
	free(r.body);
	/* an empty body */
	request(port, "POST", "/alertmanager", NULL, "", &r);
	assert_int_equal(r.status, 202);
	assert_string_equal(r.body, "got 0 bytes, nul=1\n");
	free(r.body);
	/* exactly the limit */
	{
		char *big = malloc(1025);

		memset(big, 'x', 1024);
		big[1024] = '\0';
		request(port, "POST", "/alertmanager", NULL, big, &r);
		assert_int_equal(r.status, 202);
		assert_string_equal(r.body, "got 1024 bytes, nul=1\n");
		free(r.body);
		free(big);
	}
	/* a chunked body within the limit */
	fd = dial(port);
	{
		static const char req[] = "POST /alertmanager HTTP/1.1\r\nHost: x\r\nConnection: "
					  "close\r\nTransfer-Encoding: chunked\r\n\r\n"
					  "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";

		assert_int_equal(send_all(fd, req, sizeof req - 1), 0);
		read_resp(fd, &r);
		close(fd);
		assert_int_equal(r.status, 202);
		assert_string_equal(r.body, "got 11 bytes, nul=1\n");
		free(r.body);
	}
	assert_int_equal(atomic_load(&post_calls), 6);
	assert_int_equal(conn_http_route_stats(h, "/alertmanager", &rs), 0);
	assert_int_equal(rs.requests, 6);
	assert_int_equal(rs.errors, 2);
	conn_http_free(h);
}

static void test_too_large(void **state)
{
	struct conn_http *h = server(5, 1024, 1);
	unsigned port = conn_http_port(h);
	struct resp r;
	int fd, gone = 0;
	char chunk[8192 + 16];

	(void)state;
	atomic_store(&post_calls, 0);
	/* declared: answered before any body byte is sent (no 100 Continue) */
	fd = dial(port);
	{
		static const char req[] = "POST /alertmanager HTTP/1.1\r\nHost: x\r\nExpect: "
					  "100-continue\r\nContent-Length: 1073741824\r\n\r\n";

		assert_int_equal(send_all(fd, req, sizeof req - 1), 0);
		read_resp(fd, &r);
		close(fd);
		assert_int_equal(r.status, 413);
		assert_null(strstr(r.head, "100 Continue"));
		free(r.body);
	}
	request(port, "POST", "/alertmanager", "Content-Length: 1025\r\n", NULL, &r);
	assert_int_equal(r.status, 413);
	free(r.body);

	/* chunked: 4 MiB against a 1 KiB limit: read and dropped, then 413 */
	fd = dial(port);
	{
		static const char req[] = "POST /alertmanager HTTP/1.1\r\nHost: x\r\nConnection: "
					  "close\r\nTransfer-Encoding: chunked\r\n\r\n";

		assert_int_equal(send_all(fd, req, sizeof req - 1), 0);
	}
	snprintf(chunk, sizeof chunk, "2000\r\n");
	memset(chunk + 6, 'z', 8192);
	memcpy(chunk + 6 + 8192, "\r\n", 2);
	for (int i = 0; i < 512 && !gone; i++)
		gone = send_all(fd, chunk, 6 + 8192 + 2) < 0;
	assert_false(gone);
	assert_int_equal(send_all(fd, "0\r\n\r\n", 5), 0);
	read_resp(fd, &r);
	close(fd);
	assert_int_equal(r.status, 413);
	free(r.body);
	assert_int_equal(atomic_load(&post_calls), 0);

	/* and the server is fine */
	request(port, "POST", "/alertmanager", NULL, "ok", &r);
	assert_int_equal(r.status, 202);
	free(r.body);
	conn_http_free(h);
}

static void test_auth(void **state)
{
	struct conn_http *h = server(5, 1024, 1);
	unsigned port = conn_http_port(h);
	struct resp r;
	char v[256], hdr[128];
	static const char *const bad[] = {
		NULL,
		"Authorization: Bearer wrong\r\n",
		"Authorization: Bearer s3cr3t-t0ke\r\n",
		"Authorization: Bearer s3cr3t-t0ken2\r\n",
		"Authorization: Basic czNjcjN0LXQwa2Vu\r\n",
		"Authorization: Bearers3cr3t-t0ken\r\n",
		"Authorization: s3cr3t-t0ken\r\n",
	};

	(void)state;
	atomic_store(&post_calls, 0);
	logged[0] = '\0';
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		request(port, "POST", "/secure", bad[i], "x", &r);
		assert_int_equal(r.status, 401);
		assert_string_equal(header(&r, "WWW-Authenticate", v, sizeof v),
				    "Bearer realm=\"driftd\"");
		assert_null(strstr(r.head, TOKEN));
		assert_null(strstr(r.body, TOKEN));
		free(r.body);
	}
	assert_int_equal(atomic_load(&post_calls), 0);
	snprintf(hdr, sizeof hdr, "Authorization: Bearer %s\r\n", TOKEN);
	request(port, "POST", "/secure", hdr, "x", &r);
	assert_int_equal(r.status, 202);
	free(r.body);
	snprintf(hdr, sizeof hdr, "Authorization: bearer   %s \r\n", TOKEN);
	request(port, "POST", "/secure", hdr, "x", &r);
	assert_int_equal(r.status, 202);
	free(r.body);
	/* a route without a token ignores the header */
	request(port, "POST", "/alertmanager", "Authorization: Bearer whatever\r\n", "x", &r);
	assert_int_equal(r.status, 202);
	free(r.body);
	assert_int_equal(atomic_load(&post_calls), 3);
	conn_http_free(h);
	pthread_mutex_lock(&log_lock);
	assert_null(strstr(logged, TOKEN));
	pthread_mutex_unlock(&log_lock);
}

/* A client sending one byte a second is cut off after timeout_s (2 s) however steadily it
 * sends; meanwhile other clients are answered promptly. */
struct dribbler {
	unsigned port;
	double cut_after; /* seconds until the server hung up; < 0 never */
};

static void *dribble(void *arg)
{
	struct dribbler *d = arg;
	static const char req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\nUser-Agent: slowloris\r\n"
				  "X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
	int fd = dial(d->port);
	double t0 = mono();

	d->cut_after = -1;
	for (size_t i = 0; i < sizeof req - 1 && mono() - t0 < 6; i++) {
		char c;
		ssize_t n;

		if (send(fd, req + i, 1, MSG_NOSIGNAL) != 1)
			break;
		/* wait a second, noticing a hang-up at once */
		{
			struct timeval tv = { 1, 0 };
			fd_set rf;

			FD_ZERO(&rf);
			FD_SET(fd, &rf);
			if (select(fd + 1, &rf, NULL, NULL, &tv) > 0) {
				n = recv(fd, &c, 1, 0);
				if (n <= 0)
					break;
			}
		}
	}
	d->cut_after = mono() - t0;
	close(fd);
	return NULL;
}

static void test_slow_client(void **state)
{
	struct conn_http *h = server(2, 1024, 1);
	struct dribbler d = { conn_http_port(h), 0 };
	struct conn_http_stats st;
	pthread_t t;
	double worst = 0, t0;
	int n = 0;

	(void)state;
	logged[0] = '\0';
	publish_metrics(h, "up 1\n", "up 1\n# EOF\n");
	assert_int_equal(pthread_create(&t, NULL, dribble, &d), 0);
	t0 = mono();
	while (mono() - t0 < 2.6) {
		struct resp r;
		double s = mono();

		request(d.port, "GET", "/metrics", NULL, NULL, &r);
		assert_int_equal(r.status, 200);
		free(r.body);
		if (mono() - s > worst)
			worst = mono() - s;
		n++;
		usleep(50000);
	}
	pthread_join(t, NULL);
	if (!(d.cut_after >= 1.9 && d.cut_after < 3.5))
		fail_msg("the slow client was cut after %.2f s (want about 2)", d.cut_after);
	if (worst > 0.5)
		fail_msg("a prompt client waited %.3f s", worst);
	assert_true(n >= 20);
	conn_http_stats(h, &st);
	assert_int_equal(st.cut, 1);
	conn_http_free(h);
	pthread_mutex_lock(&log_lock);
	assert_non_null(strstr(logged, "cut: request not done within 2 s"));
	pthread_mutex_unlock(&log_lock);
}

static int count_fds(void)
{
	char path[64];
	int n = 0;

	for (int fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		n += access(path, F_OK) == 0;
	}
	return n;
}

/* Request headers beyond conn_memory are refused by libmicrohttpd; beyond max_connections, a
 * connection is not served until another closes; no descriptor outlives the server. */
static void test_limits(void **state)
{
	struct conn_http_conf c;
	struct conn_http *h;
	char err[256], *big;
	struct resp r;
	int fds = count_fds(), idle[2], third;

	(void)state;
	conn_http_conf_default(&c);
	c.listen = "127.0.0.1:0";
	c.max_connections = 2;
	c.conn_memory = 8192;
	c.log = log_fn;
	h = conn_http_new(&c, err, sizeof err);
	assert_non_null(h);
	assert_int_equal(conn_http_route_get(h, "/healthz", 0), 0);
	assert_int_equal(conn_http_start(h), 0);
	assert_int_equal(
	    conn_http_publish(h, "/healthz", CONN_HTTP_TEXT, 200, "text/plain", "ok\n", 3), 0);

	big = malloc(16384 + 32);
	snprintf(big, 32, "X-Big: ");
	memset(big + 7, 'b', 16384);
	strcpy(big + 7 + 16384, "\r\n");
	request(conn_http_port(h), "GET", "/healthz", big, NULL, &r);
	assert_int_equal(r.status, 431);
	free(r.body);
	free(big);

	idle[0] = dial(conn_http_port(h));
	idle[1] = dial(conn_http_port(h));
	assert_int_equal(send_all(idle[0], "GET", 3), 0);
	assert_int_equal(send_all(idle[1], "GET", 3), 0);
	usleep(100000);
	third = dial(conn_http_port(h));
	{
		static const char req[] =
		    "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
		struct timeval tv = { 0, 300000 };
		char buf[64];
		ssize_t n;

		send_all(third, req, sizeof req - 1);
		setsockopt(third, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		n = recv(third, buf, sizeof buf, MSG_PEEK);
		assert_true(n < 0 && errno == EAGAIN); /* waits in the backlog */
		close(idle[0]);
		close(idle[1]);
		tv.tv_sec = 5;
		setsockopt(third, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		read_resp(third, &r); /* served once a slot is free */
		assert_int_equal(r.status, 200);
		free(r.body);
		close(third);
	}
	request(conn_http_port(h), "GET", "/healthz", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	free(r.body);
	conn_http_free(h);
	assert_int_equal(count_fds(), fds);
}

/* A kept-alive connection busy with requests is never cut by the deadline (each request
 * gets its own); left idle it is closed after timeout_s. */
static void test_keepalive(void **state)
{
	struct conn_http *h = server(1, 1024, 1);
	struct conn_http_stats st;
	struct resp r;
	int fd = dial(conn_http_port(h));
	static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
	double t0;
	char c;

	(void)state;
	assert_int_equal(
	    conn_http_publish(h, "/healthz", CONN_HTTP_TEXT, 200, "text/plain", "ok\n", 3), 0);
	for (int i = 0; i < 6; i++) { /* 1.8 s on one connection, a request every 0.3 s */
		assert_int_equal(send_all(fd, req, sizeof req - 1), 0);
		read_one(fd, &r);
		assert_int_equal(r.status, 200);
		assert_string_equal(r.body, "ok\n");
		free(r.body);
		usleep(300000);
	}
	conn_http_stats(h, &st);
	assert_int_equal(st.cut, 0);
	t0 = mono();
	assert_true(recv(fd, &c, 1, 0) <= 0); /* idle: the server hangs up */
	assert_true(mono() - t0 < 1.5);
	close(fd);
	conn_http_free(h);
}

/* A large response being read slowly keeps its snapshot while newer ones are published. */
static void test_inflight(void **state)
{
	struct conn_http *h = server(5, 1024, 1);
	size_t big = 4 << 20;
	char *a = malloc(big), *b = malloc(big);
	struct resp r;
	int fd;

	(void)state;
	memset(a, 'a', big);
	memset(b, 'b', big);
	assert_int_equal(
	    conn_http_publish(h, "/healthz", CONN_HTTP_TEXT, 200, "text/plain", a, big), 0);
	fd = dial_buf(conn_http_port(h), 4096);
	assert_int_equal(
	    send_all(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 53), 0);
	{
		char peek[1024];
		assert_true(recv(fd, peek, sizeof peek, MSG_PEEK) > 0);
	}
	for (int i = 0; i < 10; i++) /* the old snapshot loses the route's reference */
		assert_int_equal(conn_http_publish(h, "/healthz", CONN_HTTP_TEXT, 200, "text/plain",
						   i % 2 ? a : b, i % 2 ? 1 : big),
				 0);
	read_resp(fd, &r);
	close(fd);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.len, big);
	assert_memory_equal(r.body, a, big);
	free(r.body);
	request(conn_http_port(h), "GET", "/healthz", NULL, NULL, &r);
	assert_int_equal(r.len, 1);
	free(r.body);
	conn_http_free(h);
	free(a);
	free(b);
}

/* One thread publishes both variants of /metrics, bodies of many sizes made of one repeated
 * letter; two clients fetch in a loop: every body must be whole and of one letter, with the
 * Content-Type of its variant. */
struct fetcher {
	unsigned port;
	int om;
	atomic_int *stop;
	int fetched, bad;
};

static void *fetch_loop(void *arg)
{
	struct fetcher *f = arg;

	while (!atomic_load(f->stop)) {
		struct resp r;
		char v[256];

		request(f->port, "GET", "/metrics", f->om ? PROM_ACCEPT : NULL, NULL, &r);
		header(&r, "Content-Type", v, sizeof v);
		if (r.status != 200 || r.len == 0 ||
		    strcmp(v, f->om ? CONN_HTTP_CT_OPENMETRICS : CONN_HTTP_CT_PROMETHEUS) ||
		    (f->om ? r.body[0] < 'n' : r.body[0] >= 'n'))
			f->bad++;
		for (size_t i = 1; i < r.len; i++)
			if (r.body[i] != r.body[0]) {
				f->bad++;
				break;
			}
		f->fetched++;
		free(r.body);
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	struct conn_http *h = server(5, 1024, 2);
	atomic_int stop = 0;
	struct fetcher f[2] = { { conn_http_port(h), 0, &stop, 0, 0 },
				{ conn_http_port(h), 1, &stop, 0, 0 } };
	pthread_t t[2];
	char *buf = malloc(300000);
	double t0;
	int published = 0;

	(void)state;
	publish_metrics(h, "a", "n");
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, fetch_loop, &f[i]), 0);
	t0 = mono();
	while (mono() - t0 < 1.0) {
		size_t len = 1 + (size_t)(published * 7919) % 300000;
		int om = published & 1;

		memset(buf, (om ? 'n' : 'a') + published % 13, len);
		assert_int_equal(
		    conn_http_publish(h, "/metrics", om ? CONN_HTTP_OPENMETRICS : CONN_HTTP_TEXT,
				      200, om ? CONN_HTTP_CT_OPENMETRICS : CONN_HTTP_CT_PROMETHEUS,
				      buf, len),
		    0);
		published++;
		usleep(200);
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	free(buf);
	assert_int_equal(f[0].bad + f[1].bad, 0);
	assert_true(f[0].fetched > 10 && f[1].fetched > 10);
	assert_true(published > 100);
	conn_http_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bind),	  cmocka_unit_test(test_prefers_openmetrics),
		cmocka_unit_test(test_get),	  cmocka_unit_test(test_404_405),
		cmocka_unit_test(test_post),	  cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_auth),	  cmocka_unit_test(test_slow_client),
		cmocka_unit_test(test_keepalive), cmocka_unit_test(test_limits),
		cmocka_unit_test(test_inflight),  cmocka_unit_test(test_concurrent),
	};

	return TU_RUN(tests);
}
